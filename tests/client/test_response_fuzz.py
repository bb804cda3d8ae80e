"""Differential fuzz of what a server can answer: boto3 1.44.8 against sagemaker_rt_c.

hypothesis generates a response (status, headers, body, how it is delivered: whole, cut short by a
clean close, chunked, or no reply at all) and a way to read the body (read(), read(n) in a
loop, iter_lines, iter_chunks, readlines). The scripted server gives both clients the same
bytes; the outcomes must be equal: the response dict without Body, then what reading the body
gives, or the exception (class, message, and ``response`` for a ClientError).

CI runs a fixed, derandomized set (SMRT_FUZZ_EXAMPLES, default 120, a few seconds). A longer
search: ``SMRT_FUZZ_EXAMPLES=5000 SMRT_FUZZ_RANDOM=1 pytest tests/client/test_response_fuzz.py``
(SMRT_FUZZ_RANDOM=1 draws new examples each run instead of the fixed ones).
"""

import json

import botocore.config
import botocore.exceptions
import pytest
from conftest import make_boto3, make_ours
from fuzzing import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from servers import Close, Reply
from test_responses import ChunkedReply

import sagemaker_rt_c

pytestmark = pytest.mark.differential

FUZZ = fuzz_settings(120)


class CutReply(Reply):
    """Headers promising the whole body (Content-Length), then ``keep`` bytes of it and a
    clean close."""

    def __init__(self, status, headers, body, keep):
        super().__init__(status, list(headers), body, close=True)
        self.keep = keep

    def encode(self):
        whole = super().encode()
        return whole[: len(whole) - len(self.body) + self.keep]


HEADER_NAMES = [
    "x-amzn-ErrorType",
    "X-Amzn-ErrorType",
    "Content-Type",
    "X-Amzn-Invoked-Production-Variant",
    "X-Amzn-SageMaker-Custom-Attributes",
    "X-Amzn-SageMaker-New-Session-Id",
    "X-Amzn-SageMaker-Closed-Session-Id",
    "x-amzn-RequestId",
    "x-amz-request-id",
    "x-amz-id-2",
    "Date",
    "X-Other",
]
# Header values as servers send them: printable ASCII, with the separators parsers care about.
VALUE = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=0, max_size=24
).map(str.strip)
ERROR_CODES = st.sampled_from(
    [
        "ValidationError",
        "ModelError",
        "InternalFailure",
        "ServiceUnavailable",
        "ModelNotReadyException",
        "InternalDependencyException",
        "ThrottlingException",
        "Unknown",
        "aws.protocols#ValidationError",
        "ModelError:http://internal.amazon.com/coral/com.amazon.sagemaker/",
        "",
    ]
)
JSON_VALUE = st.one_of(
    st.none(), st.integers(-5, 600), st.text(max_size=12), st.lists(st.integers(), max_size=2)
)
JSON_KEYS = st.sampled_from(
    [
        "message",
        "Message",
        "code",
        "Code",
        "__type",
        "OriginalStatusCode",
        "OriginalMessage",
        "LogStreamArn",
        "other",
    ]
)


@st.composite
def bodies(draw):
    kind = draw(st.sampled_from(["json", "json-coded", "text", "binary", "empty"]))
    if kind == "json":
        return json.dumps(draw(st.dictionaries(JSON_KEYS, JSON_VALUE, max_size=4))).encode()
    if kind == "json-coded":
        obj = {"message": draw(st.text(max_size=20))}
        obj[draw(st.sampled_from(["code", "Code", "__type"]))] = draw(ERROR_CODES)
        return json.dumps(obj).encode()
    if kind == "text":
        return draw(st.text(max_size=60)).encode()
    if kind == "binary":
        return draw(st.binary(max_size=80))
    return b""


@st.composite
def responses(draw):
    status = draw(
        st.sampled_from([200, 200, 200, 201, 202, 204, 400, 403, 404, 413, 424, 429, 500, 503])
    )
    headers = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(HEADER_NAMES))
        value = draw(ERROR_CODES) if name.lower() == "x-amzn-errortype" else draw(VALUE)
        headers.append((name, value))
    body = draw(bodies())
    if status == 204:
        body = b""
    delivery = draw(st.sampled_from(["whole", "whole", "cut", "chunked", "no-reply"]))
    if delivery == "cut" and len(body) > 1:
        return CutReply(status, headers, body, draw(st.integers(0, len(body) - 1)))
    if delivery == "chunked" and status != 204:
        return ChunkedReply(status, headers, body, chunk=draw(st.integers(1, 16)))
    if delivery == "no-reply":
        return Close()
    return Reply(status, headers, body)


READS = {
    "read": lambda b: [b.read()],
    "read(7)": lambda b: [b.read(7) for _ in range(20)],
    "iter_lines": lambda b: list(b.iter_lines()),
    "iter_chunks(5)": lambda b: list(b.iter_chunks(5)),
    "readlines": lambda b: b.readlines(),
}


def _exception_view(e):
    view = {"class": type(e).__name__, "str": str(e)}
    if isinstance(e, botocore.exceptions.ClientError):
        view["response"] = e.response
        view["operation"] = e.operation_name
    return view


def _outcome(client, read):
    try:
        resp = client.invoke_endpoint(EndpointName="ep", Body=b"x")
    except Exception as e:  # noqa: BLE001 - compared by class and message
        return {"call": _exception_view(e)}
    body = resp.pop("Body")
    out = {"response": resp}
    items = []
    try:
        items.extend(READS[read](body))
    except Exception as e:  # noqa: BLE001
        items.append(_exception_view(e))
    out["body"] = items
    return out


def _normalise(outcome, url):
    # The one deliberate difference that reaches these outcomes (README): a connection that
    # breaks is named by its URL in both, but only botocore's message carries the port of its
    # own pool's connection; nothing here differs by design, so the views compare whole.
    return json.loads(json.dumps(outcome, default=repr).replace(url, "URL"))


@pytest.mark.slow
def test_any_response_reads_as_boto3_reads_it(server):
    one = {"retries": {"total_max_attempts": 1}}
    clients = (
        make_boto3(endpoint_url=server.url, config=botocore.config.Config(**one)),
        make_ours(endpoint_url=server.url, config=sagemaker_rt_c.Config(**one)),
    )

    @FUZZ
    @given(reply=responses(), read=st.sampled_from(sorted(READS)))
    def check(reply, read):
        outcomes = []
        for client in clients:
            server.clear()
            server.queue(reply)
            outcomes.append(_normalise(_outcome(client, read), server.url))
        if not _deliberate(*outcomes):
            assert outcomes[0] == outcomes[1]

    check()


def _deliberate(boto, ours):
    """README's deliberate difference: where botocore's error parser crashes on a malformed
    error body (not UTF-8: UnicodeDecodeError; JSON that is not an object: AttributeError; a
    code that is not a string: TypeError; a modeled integer member that is not one: ValueError),
    ours parses it as a ClientError for the status, which
    the retry rules then treat as any other."""
    crash = boto.get("call", {}).get("class")
    if crash not in ("UnicodeDecodeError", "AttributeError", "TypeError", "ValueError"):
        return False
    return ours.get("call", {}).get("class") in (None, "ClientError") or ours["call"]["class"] in (
        "InternalFailure",
        "ServiceUnavailable",
        "ValidationError",
        "ModelError",
        "ModelNotReadyException",
        "InternalDependencyException",
    )


@pytest.mark.parametrize("attempts", [2, 3])
def test_any_failure_then_success_retries_as_boto3(server, attempts):
    """The same generated response first, then a 200: retried or not, and what the caller
    gets, as boto3 1.44.8 decides (standard mode, no real sleeping)."""
    cfg = {"retries": {"mode": "standard", "total_max_attempts": attempts}}
    boto = make_boto3(endpoint_url=server.url, config=botocore.config.Config(**cfg))
    ours = make_ours(endpoint_url=server.url, config=sagemaker_rt_c.Config(**cfg))
    ours._sleep = lambda s: None
    ok = Reply(200, [("Content-Type", "application/json")], b'{"ok": 1}')

    import unittest.mock

    @FUZZ
    @given(reply=responses())
    def check(reply):
        outcomes = []
        for client in (boto, ours):
            server.clear()
            server.queue(reply, ok)
            with unittest.mock.patch("botocore.endpoint.time.sleep"):
                out = _outcome(client, "read")
            out["requests"] = len(server.requests)
            outcomes.append(_normalise(out, server.url))
        if not _deliberate(*outcomes):
            assert outcomes[0] == outcomes[1]

    check()
