"""Error responses of the sagemaker-runtime operations, parsed as botocore's client does.

``parse_error_response`` returns the dict botocore puts in ``ClientError.response``:
``RestJSONParser.parse`` of the response with the operation's output shape, plus the modeled
error's fields that ``Endpoint._add_modeled_error_fields`` merges in. The caller adds
``RetryAttempts`` / ``MaxAttemptsReached`` to ``ResponseMetadata``.

Where botocore 1.43 itself raises instead of returning a parse result, we return a dict:

1. Body not valid UTF-8 (botocore: UnicodeDecodeError): the body is decoded with
   ``errors="replace"`` and parsed as usual from there.
2. Body valid JSON but not an object (list, string, number, true/false, null; botocore:
   AttributeError): parsed as botocore parses a non-JSON body, i.e. as ``{"message": text}``:
   Message is the body text, Code the ``x-amzn-ErrorType`` code or else the status code.
3. Body JSON nested too deeply for ``json`` (botocore: RecursionError): as a non-JSON body.
4. ``__type`` a number or boolean, or a list/object holding ":" or "#" (botocore: TypeError /
   AttributeError): ``__type`` is ignored, as if absent.
5. The resulting error Code is a list or an object (botocore: TypeError, unhashable, when it
   looks the code up): Code is the status code as a string.
6. ModelError's ``OriginalStatusCode`` that ``int()`` rejects (e.g. "abc", a list, Infinity;
   botocore: ValueError / TypeError / OverflowError): the field is left out.
7. Status 300 with the response-stream operation: botocore wraps the body in an EventStream
   that cannot be read; ``Body`` is the raw bytes instead.
"""

_MODELED = None


def _modeled_members():
    """Error code -> ((field, JSON name, is_integer), ...) in model order, from the tables
    generated from botocore's model (_operations.py); made at the first error parsed."""
    global _MODELED
    if _MODELED is None:
        from .operations import ERRORS

        _MODELED = {
            error["code"]: tuple(
                (m["name"], m["wire_name"], m["type"] == "integer") for m in error["members"]
            )
            for error in ERRORS.values()
        }
    return _MODELED


def _body_text(body):
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("utf-8", "replace")


def _parse_body(body):
    # botocore's _parse_body_as_json, with its crashes turned into the non-JSON case.
    if not body:
        return {}
    import json

    text = _body_text(body)
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return {"message": text}
    if not isinstance(parsed, dict):
        return {"message": text}
    return parsed


def _is_generic(status_code, body):
    # botocore's _is_generic_error_response: a 5xx with an empty or HTML body.
    if status_code >= 500:
        stripped = body.strip()
        return stripped.startswith(b"<html>") or not stripped
    return False


def _reason_phrase(status_code):
    # http.client.responses without importing http.client (which pulls in email.*).
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""


def _split_code(code):
    if ":" in code:
        code = code.split(":", 1)[0]
    if "#" in code:
        code = code.rsplit("#", 1)[1]
    return code


def _type_code(body, status_code):
    # The code from "__type" (else the status), as BaseJSONParser._do_error_parse takes it.
    code = body.get("__type", str(status_code))
    if code is None:
        return None
    if isinstance(code, str):
        return _split_code(code)
    if isinstance(code, (list, dict)) and ":" not in code and "#" not in code:
        # botocore keeps it; it is replaced later only if it stays the final Code.
        return code
    return str(status_code)


def _finish(parsed, status_code, headers):
    metadata = parsed.get("ResponseMetadata", {})
    metadata["HTTPStatusCode"] = status_code
    metadata["HTTPHeaders"] = headers
    parsed["ResponseMetadata"] = metadata
    return parsed


def _parse_success_shape(status_code, headers, body, operation_name):
    # Status 300 takes botocore's success path (errors start at 301); the client still raises.
    metadata = {}
    if "x-amzn-requestid" in headers:
        metadata["RequestId"] = headers["x-amzn-requestid"]
    elif "x-amz-request-id" in headers:
        metadata["RequestId"] = headers["x-amz-request-id"]
        metadata["HostId"] = headers.get("x-amz-id-2", "")
    parsed = {"ResponseMetadata": metadata}
    from .operations import OPERATIONS

    try:
        operation = OPERATIONS[operation_name]
    except KeyError:
        raise ValueError(f"unknown operation {operation_name!r}") from None
    # The output shape's header members (headers keys are lower-case) ...
    for member in operation["output_members"]:
        header = member["wire_name"].lower()
        if member["location"] == "header" and header in headers:
            parsed[member["name"]] = headers[header]
    # ... and its body: a blob payload as text, an event stream's bytes as they are (botocore
    # wraps them in an EventStream that cannot be read), else every member of the output
    # shape read from a JSON body under its serialized name (header members too).
    mode = operation["response_body"]
    if mode == "blob":
        parsed[operation["output_payload"]] = _body_text(body)
    elif mode == "event_stream":
        parsed[operation["output_payload"]] = body
    else:
        values = _parse_body(body)
        for member in operation["output_members"]:
            value = values.get(member["wire_name"])
            if value is not None:
                parsed[member["name"]] = value
    return _finish(parsed, status_code, headers)


def parse_error_response(status_code, headers, body, *, operation_name="InvokeEndpoint"):
    """The ``ClientError.response`` dict botocore builds for an HTTP error response.

    ``headers`` maps lower-cased header names to values; it becomes ``HTTPHeaders``.
    ``operation_name`` matters only for status 300, which botocore parses as the operation's
    output shape.
    """
    if body is None:
        body = b""
    elif not isinstance(body, bytes):
        body = bytes(body)
    if status_code < 301:
        return _parse_success_shape(status_code, headers, body, operation_name)
    if _is_generic(status_code, body):
        parsed = {
            "Error": {"Code": str(status_code), "Message": _reason_phrase(status_code)},
            "ResponseMetadata": {},
        }
        return _finish(parsed, status_code, headers)

    values = _parse_body(body)
    error = {"Message": values.get("message", values.get("Message", "")), "Code": ""}
    parsed = {"Error": error, "ResponseMetadata": {}}
    code = _type_code(values, status_code)
    if code is not None:
        if "x-amzn-query-error" in headers:
            parts = headers["x-amzn-query-error"].split(";")
            if len(parts) == 2 and parts[0]:
                error["QueryErrorCode"] = code
                error["Type"] = parts[1]
                code = parts[0]
        error["Code"] = code
    if "x-amzn-requestid" in headers:
        parsed["ResponseMetadata"]["RequestId"] = headers["x-amzn-requestid"]

    # RestJSONParser._inject_error_code: the header wins over the body's code/Code.
    code = None
    if "x-amzn-errortype" in headers:
        code = headers["x-amzn-errortype"]
    elif "code" in values or "Code" in values:
        code = values.get("code", values.get("Code", ""))
    if code is not None:
        if isinstance(code, str):
            code = code.split(":", 1)[0].rsplit("#", 1)[-1]
        error["Code"] = code
    if isinstance(error["Code"], (list, dict)):
        error["Code"] = str(status_code)

    _finish(parsed, status_code, headers)

    members = _modeled_members().get(error["Code"]) if isinstance(error["Code"], str) else None
    if members:
        for member, json_name, is_integer in members:
            value = values.get(json_name)
            if value is None:
                continue
            if is_integer:
                try:
                    value = int(value)
                except (ValueError, TypeError, OverflowError):
                    continue
            parsed[member] = value
    return parsed


def error_code(parsed):
    """The error code that picks the exception class ('' when there is none or it's not a str)."""
    code = parsed.get("Error", {}).get("Code")
    return code if isinstance(code, str) else ""
