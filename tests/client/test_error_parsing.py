"""sagemaker_rt_c._protocol.errors against botocore's own parser, used as the oracle.

Each (status, headers, body) goes through botocore's RestJSONParser + the modeled-error merge of
Endpoint._add_modeled_error_fields, and through ours; the dicts must be equal. Where botocore
raises, ours is compared with the same botocore pipeline on inputs sanitised by the rules listed
at the top of sagemaker_rt_c/_protocol/errors.py (so those rules, not ad-hoc results, are what is
tested).
"""

import json
import random

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.config import Config
from botocore.endpoint import Endpoint
from botocore.eventstream import EventStream
from botocore.exceptions import ClientError as BotoClientError
from botocore.parsers import RestJSONParser, create_parser

from sagemaker_rt_c import exceptions as ours
from sagemaker_rt_c._protocol import errors as _errors

pytestmark = pytest.mark.differential

MODEL = botocore.session.get_session().get_service_model("sagemaker-runtime")
OPERATIONS = ("InvokeEndpoint", "InvokeEndpointAsync", "InvokeEndpointWithResponseStream")
_DROP = object()


class _SanitisingParser(RestJSONParser):
    """botocore's parser with the documented replacements for the inputs it crashes on."""

    def _parse_body_as_json(self, body_contents):
        if not body_contents:
            return {}
        text = body_contents.decode("utf-8", "replace")
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            return {"message": text}
        if not isinstance(parsed, dict):
            return {"message": text}
        type_code = parsed.get("__type")
        if type_code is not None and not isinstance(type_code, str):
            keeps = isinstance(type_code, (list, dict))
            if not keeps or ":" in type_code or "#" in type_code:
                parsed = {k: v for k, v in parsed.items() if k != "__type"}
        return parsed

    def _handle_integer(self, shape, value):
        try:
            return int(value)
        except (ValueError, TypeError, OverflowError):
            return _DROP


def _response_dict(status, headers, body, operation):
    return {
        "headers": HeadersDict(headers),
        "status_code": status,
        "body": body,
        "context": {"operation_name": operation},
    }


def botocore_parse(status, headers, body, operation="InvokeEndpoint"):
    op_model = MODEL.operation_model(operation)
    parser = create_parser("rest-json")
    response_dict = _response_dict(status, headers, body, operation)
    parsed = parser.parse(response_dict, op_model.output_shape)
    Endpoint._add_modeled_error_fields(None, response_dict, parsed, op_model, parser)
    return parsed


def sanitised_parse(status, headers, body, operation="InvokeEndpoint"):
    op_model = MODEL.operation_model(operation)
    parser = _SanitisingParser()
    body = body.decode("utf-8", "replace").encode("utf-8")
    response_dict = _response_dict(status, headers, body, operation)
    parsed = parser.parse(response_dict, op_model.output_shape)
    error = parsed.get("Error")
    if error is not None and isinstance(error.get("Code"), (list, dict)):
        error["Code"] = str(status)
    Endpoint._add_modeled_error_fields(None, response_dict, parsed, op_model, parser)
    return {k: v for k, v in parsed.items() if v is not _DROP}


def canon(value):
    """A form where equality also checks types (True != 1) and NaN equals NaN."""
    if isinstance(value, dict):
        return {"dict": {k: canon(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"list": [canon(v) for v in value]}
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def assert_same(ours_parsed, theirs, status, body, operation):
    if status == 300 and operation == "InvokeEndpointWithResponseStream":
        # Deliberate: raw bytes where botocore puts an unreadable EventStream.
        assert isinstance(theirs.pop("Body"), EventStream)
        assert ours_parsed.pop("Body") == body
    assert canon(ours_parsed) == canon(theirs)


# ---------------------------------------------------------------- random cases

CODES = [
    "ModelError",
    "ValidationError",
    "InternalFailure",
    "ServiceUnavailable",
    "ModelNotReadyException",
    "InternalDependencyException",
    "ModelStreamError",
    "InternalStreamFailure",
    "ThrottlingException",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "",
]
TEXTS = ["", "boom", "Received server error (500) from primary", "ünïcode ✓", " ", "null", "1"]


def rand_code(rng):
    base = rng.choice(CODES)
    form = rng.randrange(7)
    if form == 0:
        return base
    if form == 1:
        return base + ":http://internal.amazon.com/coral/com.amazon.coral.service/"
    if form == 2:
        return "com.amazonaws.sagemaker#" + base
    if form == 3:
        return "aws.protocols#" + base + ":extra:more"
    if form == 4:
        return base + "#tail"
    if form == 5:
        return rng.choice([":", "#", ":#", "#:", "a#b#c", " ModelError ", "ModelError\t"])
    return base.lower()


def rand_value(rng, depth=0):
    kind = rng.randrange(14 if depth < 2 else 10)
    if kind == 0:
        return rand_code(rng)
    if kind == 1:
        return rng.choice(TEXTS)
    if kind == 2:
        return rng.choice([0, 1, 200, 424, 500, -3, 10**30])
    if kind == 3:
        return rng.choice([1.5, 424.0, -0.0, 1e300, float("inf"), float("nan")])
    if kind == 4:
        return rng.choice([True, False])
    if kind == 5:
        return None
    if kind == 6:
        return rng.choice(["424", " 12 ", "abc", "1e3", "0x10", "1_000", "", "-7"])
    if kind in (7, 8, 9):
        return rng.choice(TEXTS) + rand_code(rng)
    if kind in (10, 11):
        return [rand_value(rng, depth + 1) for _ in range(rng.randrange(3))] + rng.choice(
            [[], [":"], ["#"], ["ModelError"]]
        )
    return {rng.choice([":", "#", "k", "ModelError"]): rand_value(rng, depth + 1)}


BODY_KEYS = [
    "message",
    "Message",
    "code",
    "Code",
    "__type",
    "OriginalStatusCode",
    "OriginalMessage",
    "LogStreamArn",
    "ErrorCode",
    "Error",
    "ResponseMetadata",
    "extra",
    "InferenceId",
    "OutputLocation",
    "X-Amzn-SageMaker-OutputLocation",
    "X-Amzn-SageMaker-FailureLocation",
]


def rand_json_object(rng):
    obj = {}
    for key in rng.sample(BODY_KEYS, rng.randrange(len(BODY_KEYS) + 1)):
        if key in ("code", "Code", "__type") and rng.random() < 0.6:
            obj[key] = rand_code(rng)
        elif key in ("message", "Message", "OriginalMessage") and rng.random() < 0.5:
            obj[key] = rng.choice(TEXTS)
        elif key == "OriginalStatusCode" and rng.random() < 0.5:
            obj[key] = rng.choice([200, 400, 500, "503", 424.9, True])
        else:
            obj[key] = rand_value(rng)
    return obj


def rand_body(rng):
    kind = rng.randrange(13)
    if kind == 0:
        return b""
    if kind == 1:
        return rng.choice([b"  ", b"\n\r\t ", b"\x0b\x0c"])
    if kind == 2:
        page = b"<html><body><b>Http/1.1 Service Unavailable</b></body></html>"
        return rng.choice([b"", b"  \n"]) + page
    if kind == 3:
        return rng.choice([b"<HTML>x</HTML>", b"<!DOCTYPE html><html></html>", b"<html"])
    if kind == 4:
        return rng.choice(TEXTS).encode() + rng.choice([b"", b" not json", b"{", b"}"])
    if kind in (5, 6, 7, 8):
        return json.dumps(rand_json_object(rng), ensure_ascii=rng.random() < 0.5).encode()
    if kind == 9:
        return json.dumps(rand_value(rng)).encode()
    if kind == 10:
        obj = json.dumps(rand_json_object(rng)).encode()
        return rng.choice([b"\xff", b"\xc3(", b"\xed\xa0\x80", obj[:-1] + b'"\xfe"}'])
    if kind == 11:
        return b"\xef\xbb\xbf" + json.dumps(rand_json_object(rng)).encode()
    return json.dumps(rand_json_object(rng)).encode()[: rng.randrange(1, 30)]


def rand_headers(rng):
    headers = {}
    if rng.random() < 0.7:
        headers["x-amzn-requestid"] = "%08x-0000-4000-8000-%012x" % (
            rng.getrandbits(32),
            rng.getrandbits(48),
        )
    if rng.random() < 0.5:
        headers["x-amzn-errortype"] = rand_code(rng)
    if rng.random() < 0.5:
        headers["content-type"] = rng.choice(["application/json", "text/html", "text/plain"])
    if rng.random() < 0.15:
        headers["x-amzn-query-error"] = rng.choice(
            ["AWS.Foo;Sender", "Bar;Receiver", ";Sender", "bad", "a;b;c", ""]
        )
    if rng.random() < 0.2:
        headers["x-amz-request-id"] = "REQ123"
        if rng.random() < 0.5:
            headers["x-amz-id-2"] = "host/id"
    for name in (
        "x-amzn-invoked-production-variant",
        "x-amzn-sagemaker-custom-attributes",
        "x-amzn-sagemaker-content-type",
        "x-amzn-sagemaker-outputlocation",
        "x-amzn-sagemaker-failurelocation",
        "x-amzn-sagemaker-new-session-id",
    ):
        if rng.random() < 0.1:
            headers[name] = "v-" + name
    return headers


def rand_status(rng):
    if rng.random() < 0.5:
        return rng.choice([300, 301, 302, 400, 403, 404, 413, 424, 429, 500, 502, 503, 504, 530])
    return rng.randrange(300, 600)


def rand_case(rng):
    return rand_status(rng), rand_headers(rng), rand_body(rng), rng.choice(OPERATIONS)


@pytest.mark.parametrize("seed", range(12))
def test_random_cases_match_botocore(seed):
    rng = random.Random(1000 + seed)
    exact = crashed = 0
    for _ in range(400):
        status, headers, body, operation = rand_case(rng)
        mine = _errors.parse_error_response(status, dict(headers), body, operation_name=operation)
        try:
            theirs = botocore_parse(status, dict(headers), body, operation)
        except Exception:
            crashed += 1
            theirs = sanitised_parse(status, dict(headers), body, operation)
        else:
            exact += 1
        assert_same(mine, theirs, status, body, operation), (status, headers, body, operation)
    # The generator must exercise both botocore's results and its crashes.
    assert exact > 250 and crashed > 10


def test_random_cases_error_code_picks_botocores_class():
    rng = random.Random(7)
    client = _stubbed_client()
    checked = 0
    for _ in range(250):
        status, headers, body, operation = rand_case(rng)
        try:
            theirs = botocore_parse(status, dict(headers), body, operation)
        except Exception:
            continue
        mine = _errors.parse_error_response(status, headers, body, operation_name=operation)
        code = theirs.get("Error", {}).get("Code")
        expected = client.exceptions.from_code(code).__name__
        assert ours.error_class_for_code(_errors.error_code(mine)).__name__ == expected
        checked += 1
    assert checked > 150


# ------------------------------------------------ the whole botocore client, end to end


class _Raw:
    def __init__(self, body):
        self._body = body

    def stream(self, **kwargs):
        yield self._body


def _stubbed_client():
    session = botocore.session.get_session()
    return session.create_client(
        "sagemaker-runtime",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=Config(retries={"total_max_attempts": 1}),
    )


def _call_botocore(client, operation, status, headers, body):
    def reply(request, **kwargs):
        return AWSResponse(request.url, status, headers, _Raw(body))

    client.meta.events.register("before-send", reply, unique_id="scripted-reply")
    try:
        if operation == "InvokeEndpoint":
            client.invoke_endpoint(EndpointName="ep", Body=b"{}")
        elif operation == "InvokeEndpointAsync":
            client.invoke_endpoint_async(EndpointName="ep", InputLocation="s3://b/k")
        else:
            client.invoke_endpoint_with_response_stream(EndpointName="ep", Body=b"{}")
    except BotoClientError as e:
        return e
    finally:
        client.meta.events.unregister("before-send", unique_id="scripted-reply")
    raise AssertionError("botocore did not raise")


def test_full_botocore_client_agrees():
    """What botocore's client raises: same response dict (less retry keys) and class name."""
    rng = random.Random(99)
    client = _stubbed_client()
    compared = 0
    for _ in range(300):
        status, headers, body, operation = rand_case(rng)
        try:
            botocore_parse(status, dict(headers), body, operation)
        except Exception:
            continue
        exc = _call_botocore(client, operation, status, headers, body)
        theirs = exc.response
        retry = {"RetryAttempts": theirs["ResponseMetadata"].pop("RetryAttempts")}
        if "MaxAttemptsReached" in theirs["ResponseMetadata"]:
            retry["MaxAttemptsReached"] = theirs["ResponseMetadata"].pop("MaxAttemptsReached")
        mine = _errors.parse_error_response(status, headers, body, operation_name=operation)
        assert_same(mine, theirs, status, body, operation)
        cls = ours.error_class_for_code(_errors.error_code(mine))
        assert cls.__name__ == type(exc).__name__
        # The caller adds the retry keys; then the message is botocore's too.
        mine.setdefault("ResponseMetadata", {}).update(retry)
        assert str(cls(mine, operation)) == str(exc)
        compared += 1
    assert compared > 200


# ------------------------------------------------------------------ targeted cases

RID = {"x-amzn-requestid": "11111111-2222-3333-4444-555555555555"}


def _meta(status, headers, request_id=True):
    meta = {}
    if request_id and "x-amzn-requestid" in headers:
        meta["RequestId"] = headers["x-amzn-requestid"]
    meta["HTTPStatusCode"] = status
    meta["HTTPHeaders"] = headers
    return meta


def test_model_error_fields_are_merged():
    headers = dict(RID, **{"x-amzn-errortype": "ModelError:http://internal.amazon.com/"})
    body = json.dumps(
        {
            "ErrorCode": "CLIENT_ERROR_FROM_MODEL",
            "LogStreamArn": "arn:aws:logs:us-east-1:123:log-group:/aws/sagemaker/Endpoints/ep",
            "Message": 'Received client error (400) from primary with message "bad".',
            "OriginalMessage": "bad",
            "OriginalStatusCode": 400,
        }
    ).encode()
    got = _errors.parse_error_response(424, headers, body)
    assert got == {
        "Error": {"Code": "ModelError", "Message": got["Message"]},
        "ResponseMetadata": _meta(424, headers),
        "Message": 'Received client error (400) from primary with message "bad".',
        "OriginalStatusCode": 400,
        "OriginalMessage": "bad",
        "LogStreamArn": "arn:aws:logs:us-east-1:123:log-group:/aws/sagemaker/Endpoints/ep",
    }
    assert got == botocore_parse(424, headers, body)
    assert _errors.error_code(got) == "ModelError"


@pytest.mark.parametrize(
    "header, code",
    [
        ("ValidationError:http://internal.amazon.com/coral/", "ValidationError"),
        ("com.amazonaws.sagemaker#ModelNotReadyException", "ModelNotReadyException"),
        ("ns#InternalFailure:http://x", "InternalFailure"),
        ("a#b#ServiceUnavailable", "ServiceUnavailable"),
        ("", ""),
    ],
)
def test_error_type_header_forms(header, code):
    headers = {"x-amzn-errortype": header}
    body = b'{"message": "m", "code": "Other"}'
    got = _errors.parse_error_response(400, headers, body)
    assert got["Error"] == {"Message": "m", "Code": code}
    assert got == botocore_parse(400, headers, body)


@pytest.mark.parametrize(
    "body, code, message",
    [
        (
            b'{"__type": "aws#ThrottlingException", "message": "slow"}',
            "ThrottlingException",
            "slow",
        ),
        (b'{"code": "ValidationError", "Message": "M"}', "ValidationError", "M"),
        (b'{"Code": "X:y", "message": "a", "Message": "b"}', "X", "a"),
        (b'{"code": 5}', 5, ""),
        (b'{"__type": null}', "", ""),
        (b'{"message": null}', "400", None),
        (b"not json", "400", "not json"),
        (b"", "400", ""),
    ],
)
def test_body_code_and_message(body, code, message):
    got = _errors.parse_error_response(400, dict(RID), body)
    assert got["Error"] == {"Message": message, "Code": code}
    assert canon(got) == canon(botocore_parse(400, dict(RID), body))


@pytest.mark.parametrize(
    "status, body",
    [
        (500, b""),
        (503, b"<html><body><b>Http/1.1 Service Unavailable</b></body></html>"),
        (502, b"  \r\n<html>bad gateway</html>"),
        (530, b"   "),
        (599, b""),
    ],
)
def test_generic_5xx_pages(status, body):
    headers = dict(RID, **{"x-amzn-errortype": "ModelError"})
    got = _errors.parse_error_response(status, headers, body)
    import http.client

    assert got == {
        "Error": {"Code": str(status), "Message": http.client.responses.get(status, "")},
        # botocore's generic path does not record the request id.
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers},
    }
    assert got == botocore_parse(status, headers, body)


def test_html_below_500_is_a_message():
    body = b"<html><body>Forbidden</body></html>"
    got = _errors.parse_error_response(403, {}, body)
    assert got["Error"] == {"Message": body.decode(), "Code": "403"}
    assert got == botocore_parse(403, {}, body)


def test_query_error_header():
    headers = {"x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender"}
    body = b'{"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "gone"}'
    got = _errors.parse_error_response(400, headers, body)
    assert got["Error"] == {
        "Message": "gone",
        "Code": "AWS.SimpleQueueService.NonExistentQueue",
        "QueryErrorCode": "QueueDoesNotExist",
        "Type": "Sender",
    }
    assert got == botocore_parse(400, headers, body)


def test_status_300_is_parsed_as_output():
    headers = dict(RID, **{"content-type": "text/plain", "x-amz-request-id": "R"})
    got = _errors.parse_error_response(300, headers, b"moved", operation_name="InvokeEndpoint")
    assert got == {
        "ResponseMetadata": _meta(300, headers),
        "ContentType": "text/plain",
        "Body": "moved",
    }
    assert got == botocore_parse(300, headers, b"moved")
    assert _errors.error_code(got) == ""
    assert str(ours.ClientError(got, "InvokeEndpoint")) == (
        "An error occurred (Unknown) when calling the InvokeEndpoint operation: Unknown"
    )


def test_status_300_async_body_members_override_headers():
    headers = {"x-amzn-sagemaker-outputlocation": "s3://h/out", "x-amz-request-id": "R"}
    body = (
        b'{"InferenceId": "abc", "OutputLocation": "s3://b/ignored",'
        b' "X-Amzn-SageMaker-OutputLocation": "s3://b/out"}'
    )
    got = _errors.parse_error_response(300, headers, body, operation_name="InvokeEndpointAsync")
    assert got["OutputLocation"] == "s3://b/out" and got["InferenceId"] == "abc"
    assert got["ResponseMetadata"]["HostId"] == ""
    assert got == botocore_parse(300, headers, body, "InvokeEndpointAsync")


def test_status_300_unknown_operation():
    with pytest.raises(ValueError, match="NoSuchOp"):
        _errors.parse_error_response(300, {}, b"", operation_name="NoSuchOp")


# Each input on which botocore 1.43 raises: botocore's failure, then our documented result.


def _assert_botocore_crashes(status, headers, body, operation="InvokeEndpoint"):
    with pytest.raises(Exception) as info:
        botocore_parse(status, headers, body, operation)
    assert not isinstance(info.value, AssertionError)


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"4.5", b"true", b"null", b"[]"])
@pytest.mark.parametrize("headers", [{}, {"x-amzn-errortype": "ns#ModelError:x"}])
def test_json_that_is_not_an_object(body, headers):
    _assert_botocore_crashes(400, dict(headers), body)
    got = _errors.parse_error_response(400, dict(headers), body)
    code = "ModelError" if headers else "400"
    assert got == {
        "Error": {"Message": body.decode(), "Code": code},
        "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": headers},
    }


@pytest.mark.parametrize("body", [b"\xff\xfe", b'{"message": "caf\xe9"}', b"\xed\xa0\x80"])
def test_invalid_utf8(body):
    _assert_botocore_crashes(400, {}, body)
    got = _errors.parse_error_response(400, {}, body)
    text = body.decode("utf-8", "replace")
    expected_message = json.loads(text)["message"] if text.startswith("{") else text
    assert got["Error"] == {"Message": expected_message, "Code": "400"}
    assert "\ufffd" in got["Error"]["Message"]


def test_invalid_utf8_on_status_300():
    _assert_botocore_crashes(300, {}, b"\xff")
    got = _errors.parse_error_response(300, {}, b"\xff")
    assert got["Body"] == "\ufffd"


def test_json_nested_too_deeply():
    body = b"[" * 100000 + b"]" * 100000
    _assert_botocore_crashes(400, {}, body)
    got = _errors.parse_error_response(400, {}, body)
    assert got["Error"] == {"Message": body.decode(), "Code": "400"}


@pytest.mark.parametrize(
    "type_value", [5, 1.5, True, False, [":", "x"], ["#"], {":": 1}, {"x#": 1, "#": 2}]
)
def test_unusable_type_field_is_ignored(type_value):
    body = json.dumps({"__type": type_value, "message": "m"}).encode()
    _assert_botocore_crashes(400, {}, body)
    got = _errors.parse_error_response(400, {}, body)
    assert got["Error"] == {"Message": "m", "Code": "400"}
    # With a header the same body is fine for botocore too.
    headers = {"x-amzn-errortype": "ModelError"}
    _assert_botocore_crashes(400, dict(headers), body)
    got = _errors.parse_error_response(400, dict(headers), body)
    assert got["Error"]["Code"] == "ModelError"


@pytest.mark.parametrize(
    "body",
    [
        b'{"__type": ["x"], "message": "m"}',
        b'{"__type": {"k": 1}, "message": "m"}',
        b'{"code": ["ModelError"], "message": "m"}',
        b'{"Code": {"a": 1}, "message": "m"}',
    ],
)
def test_unhashable_code_becomes_the_status(body):
    _assert_botocore_crashes(400, {}, body)
    got = _errors.parse_error_response(400, {}, body)
    assert got["Error"] == {"Message": "m", "Code": "400"}
    assert _errors.error_code(got) == "400"


def test_list_type_is_kept_when_header_overrides():
    # botocore copes here (the header replaces the list), so we must match it exactly.
    headers = {"x-amzn-errortype": "ValidationError", "x-amzn-query-error": "Q;Sender"}
    body = b'{"__type": ["x"], "message": "m"}'
    got = _errors.parse_error_response(400, headers, body)
    assert got["Error"]["QueryErrorCode"] == ["x"]
    assert got == botocore_parse(400, headers, body)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("abc", None),
        ([1], None),
        ({"a": 1}, None),
        (float("inf"), None),
        ("0x10", None),
        ("503", 503),
        (" 12 ", 12),
        (400.9, 400),
        (True, 1),
    ],
)
def test_original_status_code(value, expected):
    body = json.dumps({"OriginalStatusCode": value, "Message": "m"}).encode()
    headers = {"x-amzn-errortype": "ModelError"}
    got = _errors.parse_error_response(424, dict(headers), body)
    if expected is None:
        _assert_botocore_crashes(424, dict(headers), body)
        assert "OriginalStatusCode" not in got
        assert got["Message"] == "m"
    else:
        assert got["OriginalStatusCode"] == expected
        assert type(got["OriginalStatusCode"]) is int
        assert got == botocore_parse(424, dict(headers), body)


def test_stream_operation_on_status_300_keeps_bytes():
    headers = {"x-amzn-sagemaker-content-type": "application/json"}
    got = _errors.parse_error_response(
        300, headers, b"\x00\x01", operation_name="InvokeEndpointWithResponseStream"
    )
    assert got["Body"] == b"\x00\x01"
    assert got["ContentType"] == "application/json"


def test_body_types_accepted():
    body = b'{"message": "m"}'
    for value in (bytearray(body), memoryview(body)):
        assert _errors.parse_error_response(400, {}, value) == botocore_parse(400, {}, body)
    assert _errors.parse_error_response(500, {}, None)["Error"]["Code"] == "500"


def test_headers_dict_is_used_as_given():
    headers = {"x-amzn-requestid": "r"}
    got = _errors.parse_error_response(400, headers, b"{}")
    assert got["ResponseMetadata"]["HTTPHeaders"] is headers
    assert got["ResponseMetadata"]["RequestId"] == "r"


@pytest.mark.parametrize(
    "parsed, code",
    [
        ({"Error": {"Code": "ModelError"}}, "ModelError"),
        ({"Error": {"Code": 5}}, ""),
        ({"Error": {}}, ""),
        ({}, ""),
    ],
)
def test_error_code(parsed, code):
    assert _errors.error_code(parsed) == code
