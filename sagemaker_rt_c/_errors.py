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

# Members of the modeled error shapes, in model order: (name, is_integer).
_MODELED_MEMBERS = {
    "InternalDependencyException": (("Message", False),),
    "InternalFailure": (("Message", False),),
    "InternalStreamFailure": (("Message", False),),
    "ModelError": (
        ("Message", False),
        ("OriginalStatusCode", True),
        ("OriginalMessage", False),
        ("LogStreamArn", False),
    ),
    "ModelNotReadyException": (("Message", False),),
    "ModelStreamError": (("Message", False), ("ErrorCode", False)),
    "ServiceUnavailable": (("Message", False),),
    "ValidationError": (("Message", False),),
}

# Header members of each operation's output shape, for a status-300 (success-path) parse.
_OUTPUT_HEADERS = {
    "InvokeEndpoint": (
        ("ContentType", "content-type"),
        ("InvokedProductionVariant", "x-amzn-invoked-production-variant"),
        ("CustomAttributes", "x-amzn-sagemaker-custom-attributes"),
        ("NewSessionId", "x-amzn-sagemaker-new-session-id"),
        ("ClosedSessionId", "x-amzn-sagemaker-closed-session-id"),
    ),
    "InvokeEndpointWithResponseStream": (
        ("ContentType", "x-amzn-sagemaker-content-type"),
        ("InvokedProductionVariant", "x-amzn-invoked-production-variant"),
        ("CustomAttributes", "x-amzn-sagemaker-custom-attributes"),
    ),
    "InvokeEndpointAsync": (
        ("OutputLocation", "x-amzn-sagemaker-outputlocation"),
        ("FailureLocation", "x-amzn-sagemaker-failurelocation"),
    ),
}
# botocore reads every member of that output shape from a JSON body too, under its
# serialized name (for header members, the header name as the model spells it).
_ASYNC_BODY_MEMBERS = (
    ("InferenceId", "InferenceId"),
    ("OutputLocation", "X-Amzn-SageMaker-OutputLocation"),
    ("FailureLocation", "X-Amzn-SageMaker-FailureLocation"),
)


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
    try:
        header_members = _OUTPUT_HEADERS[operation_name]
    except KeyError:
        raise ValueError(f"unknown operation {operation_name!r}") from None
    for member, header in header_members:
        if header in headers:
            parsed[member] = headers[header]
    if operation_name == "InvokeEndpoint":
        parsed["Body"] = _body_text(body)
    elif operation_name == "InvokeEndpointWithResponseStream":
        parsed["Body"] = body
    else:
        values = _parse_body(body)
        for member, json_name in _ASYNC_BODY_MEMBERS:
            value = values.get(json_name)
            if value is not None:
                parsed[member] = value
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

    members = _MODELED_MEMBERS.get(error["Code"]) if isinstance(error["Code"], str) else None
    if members:
        for member, is_integer in members:
            value = values.get(member)
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
