"""The local endpoint (sagemaker_rt_c.local), driven by boto3 and by sagemaker_rt_c: the three
operations, streaming, handler results, the errors users see (ValidationError, ModelError,
ModelStreamError, the 6 MiB limit, ThrottlingException), async invocations through the local
S3 directory, model containers (/invocations, /ping), SigV4 verification (good, bad, expired,
presigned, the published test vectors), the HTTP/1.1 parser, and the command line."""

import hashlib
import http.client
import http.server
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

import sagemaker_rt_c
from sagemaker_rt_c import auth
from sagemaker_rt_c.local import LocalEndpoint, Response, ServiceError, inline
from sagemaker_rt_c.local.sigv4check import Verifier

AK = "AKIDEXAMPLE"  # AWS's documentation example keys: never real
SK = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
MIB6 = 6 * 1024 * 1024
HERE = os.path.dirname(os.path.abspath(__file__))
CONFORMANCE = next(
    (
        os.path.join(d, "conformance", "sigv4", "aws-c-auth-v4")
        for d in (HERE, os.path.dirname(HERE))
        if os.path.isdir(os.path.join(d, "conformance", "sigv4", "aws-c-auth-v4"))
    ),
    os.path.join(HERE, "conformance", "sigv4", "aws-c-auth-v4"),
)


def no_retries():
    import botocore.config

    return botocore.config.Config(retries={"total_max_attempts": 1})


def make(kind, url, **kw):
    args = dict(
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id=AK,
        aws_secret_access_key=SK,
    )
    args.update(kw)
    if kind == "boto3":
        import boto3

        return boto3.client("sagemaker-runtime", **args)
    return sagemaker_rt_c.client("sagemaker-runtime", **args)


@pytest.fixture(params=["boto3", "ours"])
def kind(request):
    return request.param


# --- handlers ------------------------------------------------------------------------------


def echo(body, request):
    return Response(
        body,
        request.content_type or "application/octet-stream",
        custom_attributes=request.custom_attributes,
    )


def describe(body, request):
    return {
        "body": body.decode(),
        "content_type": request.content_type,
        "accept": request.accept,
        "operation": request.operation,
        "endpoint": request.endpoint_name,
        "inference_id": request.inference_id,
    }


def body_only(body):
    return body[::-1]


def boom(body):
    raise ValueError("the model broke")


def bad_input(body):
    return Response(b"input rejected", "text/plain", status=400)


def not_ready(body):
    raise ServiceError("ModelNotReadyException", "Model is still loading", status=429)


def tokens(body, request):
    for word in body.decode().split():
        yield word + " "


def tokens_then_fail(body):
    yield "one "
    yield "two "
    raise RuntimeError("out of memory")


def fail_before_stream(body):
    raise KeyError("missing")
    yield b""  # a generator  # noqa: B901


async def async_upper(body):
    return body.upper()


async def async_tokens(body):
    for b in body:
        yield bytes([b])


@inline
def fast(body):
    return {"n": len(body)}


def returns(value):
    def handler(body):
        return value

    return handler


GATE = threading.Event()


def gated(body):
    GATE.wait(10)
    return b"released"


HANDLERS = {
    "echo": echo,
    "describe": describe,
    "reverse": body_only,
    "boom": boom,
    "bad-input": bad_input,
    "not-ready": not_ready,
    "tokens": tokens,
    "tokens-fail": tokens_then_fail,
    "fail-first": fail_before_stream,
    "async-upper": async_upper,
    "async-tokens": async_tokens,
    "fast": fast,
    "gated": gated,
    "dict": returns({"a": [1, 2]}),
    "text": returns("héllo"),
    "tuple": returns((b"a,b", "text/csv")),
    "none": returns(None),
    "sentiment": "sagemaker_rt_c.local.models:sentiment",
    "sentiment-stream": "sagemaker_rt_c.local.models:sentiment_stream",
    "stats": "sagemaker_rt_c.local.models:stats",
}


@pytest.fixture(scope="module")
def ep(tmp_path_factory):
    with LocalEndpoint(HANDLERS, s3_dir=tmp_path_factory.mktemp("s3")) as e:
        yield e


@pytest.fixture(scope="module")
def signed_ep():
    with LocalEndpoint({"echo": echo, "tokens": tokens}, credentials=(AK, SK)) as e:
        yield e


# --- invoke_endpoint -----------------------------------------------------------------------


def test_invoke_endpoint_response(ep, kind):
    c = make(kind, ep.url)
    out = c.invoke_endpoint(
        EndpointName="echo",
        Body=b'{"x": 1}',
        ContentType="application/json",
        Accept="application/json",
        CustomAttributes="trace=1",
    )
    assert out["Body"].read() == b'{"x": 1}'
    assert out["ContentType"] == "application/json"
    assert out["InvokedProductionVariant"] == "AllTraffic"
    assert out["CustomAttributes"] == "trace=1"
    meta = out["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 200
    assert len(meta["RequestId"]) == 36 and meta["RequestId"].count("-") == 4
    assert meta["HTTPHeaders"]["x-amzn-requestid"] == meta["RequestId"]


def test_the_handler_sees_the_request(ep, kind):
    c = make(kind, ep.url)
    out = c.invoke_endpoint(
        EndpointName="describe",
        Body="hé",
        ContentType="text/plain",
        Accept="application/json",
        InferenceId="inf-1",
    )
    assert json.loads(out["Body"].read()) == {
        "body": "hé",
        "content_type": "text/plain",
        "accept": "application/json",
        "operation": "InvokeEndpoint",
        "endpoint": "describe",
        "inference_id": "inf-1",
    }
    assert out["ContentType"] == "application/json"
    assert c.invoke_endpoint(EndpointName="reverse", Body=b"abc")["Body"].read() == b"cba"


@pytest.mark.parametrize(
    "name, accept, body, content_type",
    [
        ("dict", None, b'{"a":[1,2]}', "application/json"),
        ("text", None, "héllo".encode(), "text/plain; charset=utf-8"),
        ("text", "application/x-text", "héllo".encode(), "application/x-text"),
        ("tuple", None, b"a,b", "text/csv"),
        ("none", None, b"", "application/octet-stream"),
        ("reverse", "application/foo", b"cba", "application/foo"),
        ("reverse", "*/*", b"cba", "application/octet-stream"),
        ("tokens", None, b"a b ", "text/plain; charset=utf-8"),
        ("async-upper", None, b"ABC", "application/octet-stream"),
        ("async-tokens", None, b"abc", "application/octet-stream"),
        ("fast", None, b'{"n":3}', "application/json"),
    ],
)
def test_handler_results(ep, name, accept, body, content_type):
    c = make("ours", ep.url)
    kw = {"Accept": accept} if accept else {}
    out = c.invoke_endpoint(EndpointName=name, Body=b"abc" if name != "tokens" else "a b", **kw)
    assert out["Body"].read() == body
    assert out["ContentType"] == content_type


def test_builtin_models(ep, kind):
    c = make(kind, ep.url)

    def call(name, body, ct="application/json"):
        return json.loads(
            c.invoke_endpoint(EndpointName=name, Body=body, ContentType=ct)["Body"].read()
        )

    good = call("sentiment", json.dumps({"text": "I really love it, works great"}))
    assert good["label"] == "POSITIVE" and good["score"] > 0.9
    bad = call("sentiment", json.dumps({"text": "terrible, it crashes and is not good"}))
    assert bad["label"] == "NEGATIVE" and bad["score"] > 0.9
    batch = call("sentiment", json.dumps({"instances": ["great", "awful"]}))
    assert [r["label"] for r in batch] == ["POSITIVE", "NEGATIVE"]
    assert [r["label"] for r in call("sentiment", "so good\nbroken", "text/csv")] == [
        "POSITIVE",
        "NEGATIVE",
    ]
    data = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
    st = call("stats", json.dumps(data))
    assert st["count"] == 8 and st["min"] == 1.0 and st["max"] == 9.0
    assert st["mean"] == pytest.approx(statistics.mean(data))
    assert st["std"] == pytest.approx(statistics.stdev(data))
    assert st["p50"] == pytest.approx(statistics.median(data))
    assert call("stats", "1,2\n3", "text/csv")["mean"] == 2.0
    with pytest.raises(c.exceptions.ModelError) as e:
        call("stats", "[]")
    assert e.value.response["OriginalStatusCode"] == 400
    resp = c.invoke_endpoint_with_response_stream(
        EndpointName="sentiment-stream", Body=json.dumps({"text": "not bad at all"})
    )
    lines = [
        json.loads(line)
        for ev in resp["Body"]
        for line in ev["PayloadPart"]["Bytes"].decode().splitlines()
    ]
    assert [x["token"] for x in lines[:-1]] == ["not", "bad", "at", "all"]
    assert lines[-1]["label"] == "POSITIVE"
    assert resp["ContentType"] == "application/jsonlines"


# --- errors --------------------------------------------------------------------------------


def test_unknown_endpoint_is_a_validation_error(ep, kind):
    c = make(kind, ep.url)
    with pytest.raises(c.exceptions.ValidationError) as e:
        c.invoke_endpoint(EndpointName="no-such-model", Body=b"x")
    assert str(e.value) == (
        "An error occurred (ValidationError) when calling the InvokeEndpoint operation: "
        "Endpoint no-such-model of account 123456789012 not found."
    )
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    for call in (c.invoke_endpoint_with_response_stream, c.invoke_endpoint_async):
        with pytest.raises(c.exceptions.ValidationError):
            call(EndpointName="no-such-model", Body=b"x")


def test_a_raising_handler_is_a_model_error(ep, kind):
    c = make(kind, ep.url)
    with pytest.raises(c.exceptions.ModelError) as e:
        c.invoke_endpoint(EndpointName="boom", Body=b"x")
    r = e.value.response
    assert r["Error"]["Code"] == "ModelError"
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert r["OriginalStatusCode"] == 500
    assert r["OriginalMessage"] == "ValueError: the model broke"
    assert r["LogStreamArn"] == (
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/boom"
    )
    assert r["Error"]["Message"].startswith(
        'Received server error (500) from primary with message "ValueError: the model broke".'
    )
    with pytest.raises(c.exceptions.ModelError) as e:
        c.invoke_endpoint(EndpointName="bad-input", Body=b"x")
    assert e.value.response["OriginalStatusCode"] == 400
    assert e.value.response["OriginalMessage"] == "input rejected"
    assert "Received client error (400)" in str(e.value)


def test_service_errors_from_a_handler(ep, kind):
    c = make(kind, ep.url, config=no_retries())
    with pytest.raises(c.exceptions.ModelNotReadyException) as e:
        c.invoke_endpoint(EndpointName="not-ready", Body=b"x")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert e.value.response["Error"]["Message"] == "Model is still loading"


def test_the_6_mib_payload_limit(ep, kind):
    c = make(kind, ep.url)
    assert len(c.invoke_endpoint(EndpointName="echo", Body=b"a" * MIB6)["Body"].read()) == MIB6
    for call in (c.invoke_endpoint, c.invoke_endpoint_with_response_stream):
        with pytest.raises(c.exceptions.ClientError) as e:
            call(EndpointName="echo", Body=b"a" * (MIB6 + 1))
        assert str(e.value).endswith(
            f"(413) when calling the {e.value.operation_name} operation:"
            " HTTP content length exceeded 6291456 bytes."
        )
        assert e.value.response["Error"]["Code"] == "413"
    # The connection is still usable.
    assert c.invoke_endpoint(EndpointName="echo", Body=b"ok")["Body"].read() == b"ok"


# --- streaming -----------------------------------------------------------------------------


def test_a_generator_streams_payload_parts(ep, kind):
    c = make(kind, ep.url)
    out = c.invoke_endpoint_with_response_stream(
        EndpointName="tokens", Body=b"the quick brown fox", CustomAttributes="a=1"
    )
    assert out["ContentType"] == "text/plain; charset=utf-8"
    assert out["InvokedProductionVariant"] == "AllTraffic"
    assert out["ResponseMetadata"]["HTTPHeaders"]["content-type"] == (
        "application/vnd.amazon.eventstream"
    )
    events = list(out["Body"])
    assert events == [
        {"PayloadPart": {"Bytes": w}} for w in (b"the ", b"quick ", b"brown ", b"fox ")
    ]
    # A plain handler on the stream operation: one part.
    out = c.invoke_endpoint_with_response_stream(EndpointName="echo", Body=b"whole")
    assert list(out["Body"]) == [{"PayloadPart": {"Bytes": b"whole"}}]
    out = c.invoke_endpoint_with_response_stream(EndpointName="async-tokens", Body=b"ab")
    assert [e["PayloadPart"]["Bytes"] for e in out["Body"]] == [b"a", b"b"]


def test_a_generator_failing_mid_stream_sends_model_stream_error(ep, kind):
    c = make(kind, ep.url)
    out = c.invoke_endpoint_with_response_stream(EndpointName="tokens-fail", Body=b"x")
    got = []
    with pytest.raises(c.exceptions.ClientError) as e:
        for ev in out["Body"]:
            got.append(ev["PayloadPart"]["Bytes"])
    assert got == [b"one ", b"two "]
    assert e.value.response["Error"] == {
        "Code": "ModelStreamError",
        "Message": "RuntimeError: out of memory",
    }
    # Failing before the first part: a plain ModelError.
    with pytest.raises(c.exceptions.ModelError) as e:
        c.invoke_endpoint_with_response_stream(EndpointName="fail-first", Body=b"x")
    assert e.value.response["OriginalMessage"] == "KeyError: 'missing'"


SLOW_CLOSED = threading.Event()


def slow_tokens(body):
    try:
        for i in range(500):
            time.sleep(0.01)
            yield f"{i} "
    finally:
        SLOW_CLOSED.set()


def test_a_client_leaving_mid_stream_stops_the_generator(kind):
    SLOW_CLOSED.clear()
    with LocalEndpoint({"slow": slow_tokens, "echo": echo}) as e:
        c = make(kind, e.url)
        out = c.invoke_endpoint_with_response_stream(EndpointName="slow", Body=b"x")
        events = iter(out["Body"])
        assert next(events) == {"PayloadPart": {"Bytes": b"0 "}}
        next(events)
        out["Body"].close()
        assert SLOW_CLOSED.wait(5)
        assert c.invoke_endpoint(EndpointName="echo", Body=b"still")["Body"].read() == b"still"
        # Stopping with a stream in flight is prompt too.
        SLOW_CLOSED.clear()
        out = c.invoke_endpoint_with_response_stream(EndpointName="slow", Body=b"x")
        next(iter(out["Body"]))
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 3
    assert SLOW_CLOSED.wait(5)


# --- asynchronous inference ---------------------------------------------------------------------


def wait_for(path, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)
    return path.read_bytes()


def test_async_reads_and_writes_the_local_s3_directory(ep, kind):
    c = make(kind, ep.url)
    src = ep.s3_dir / "inputs" / "batch" / "doc.txt"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(b"from s3")
    out = c.invoke_endpoint_async(
        EndpointName="reverse",
        InputLocation="s3://inputs/batch/doc.txt",
        ContentType="text/plain",
        InferenceId=f"inf-{kind}",
    )
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert out["InferenceId"] == f"inf-{kind}"
    assert out["OutputLocation"] == f"s3://sagemaker-local/async-output/inf-{kind}.out"
    assert out["FailureLocation"] == f"s3://sagemaker-local/async-failures/inf-{kind}-error.out"
    assert wait_for(ep.s3_path(out["OutputLocation"])) == b"3s morf"
    assert ep.s3_path(out["OutputLocation"]) == ep.s3_dir / "sagemaker-local" / "async-output" / (
        f"inf-{kind}.out"
    )
    # The inline Body, an output path extension and a file name.
    out = c.invoke_endpoint_async(
        EndpointName="describe",
        Body=b"inline",
        ContentType="text/plain",
        S3OutputPathExtension="run-7",
        Filename="result.json",
    )
    assert out["OutputLocation"] == "s3://sagemaker-local/async-output/run-7/result.json"
    result = json.loads(wait_for(ep.s3_path(out["OutputLocation"])))
    assert result["body"] == "inline" and result["operation"] == "InvokeEndpointAsync"
    assert result["content_type"] == "text/plain"


def test_async_failures_go_to_the_failure_location(ep, kind):
    c = make(kind, ep.url)
    out = c.invoke_endpoint_async(EndpointName="boom", Body=b"x")
    failure = json.loads(wait_for(ep.s3_path(out["FailureLocation"])))
    assert failure["ErrorCode"] == "SERVER_ERROR_FROM_MODEL"
    assert failure["OriginalMessage"] == "ValueError: the model broke"
    assert not ep.s3_path(out["OutputLocation"]).exists()
    out = c.invoke_endpoint_async(EndpointName="echo", InputLocation="s3://inputs/missing")
    failure = json.loads(wait_for(ep.s3_path(out["FailureLocation"])))
    assert failure["ErrorCode"] == "ValidationError"
    assert "Could not read the input" in failure["message"]
    for location in ("not-s3://x/y", "s3://bucket-only", "s3://b/../../etc/passwd"):
        with pytest.raises(c.exceptions.ValidationError):
            c.invoke_endpoint_async(EndpointName="echo", InputLocation=location)
    with pytest.raises(c.exceptions.ValidationError):
        c.invoke_endpoint_async(EndpointName="echo")


# --- throttling ----------------------------------------------------------------------------


def test_more_than_max_concurrency_in_flight_is_throttled(kind):
    GATE.clear()
    with LocalEndpoint({"gated": gated, "echo": echo}, max_concurrency=2) as e:
        c = make(kind, e.url, config=no_retries())
        results = []
        threads = [
            threading.Thread(
                target=lambda: results.append(
                    c.invoke_endpoint(EndpointName="gated", Body=b"x")["Body"].read()
                )
            )
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 5
        while e.stats()["in_flight"] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        with pytest.raises(c.exceptions.ClientError) as err:
            c.invoke_endpoint(EndpointName="echo", Body=b"x")
        assert err.value.response["Error"] == {
            "Code": "ThrottlingException",
            "Message": "Rate exceeded",
        }
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        GATE.set()
        for t in threads:
            t.join(5)
        assert results == [b"released", b"released"]
        assert c.invoke_endpoint(EndpointName="echo", Body=b"y")["Body"].read() == b"y"
        assert e.stats()["max_in_flight"] == 2


def test_throttling_under_load_keeps_the_limit():
    with LocalEndpoint({"fast": fast}, max_concurrency=4, latency=0.005) as e:
        c = make("ours", e.url, config=no_retries())
        counts = {"ok": 0, "throttled": 0}
        lock = threading.Lock()

        def run():
            for _ in range(25):
                try:
                    c.invoke_endpoint(EndpointName="fast", Body=b"x")["Body"].read()
                    key = "ok"
                except c.exceptions.ClientError as err:
                    assert err.response["Error"]["Code"] == "ThrottlingException"
                    key = "throttled"
                with lock:
                    counts[key] += 1

        threads = [threading.Thread(target=run) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert counts["ok"] + counts["throttled"] == 300
        assert counts["ok"] > 0 and counts["throttled"] > 0
        assert e.stats()["max_in_flight"] == 4


# --- model containers ------------------------------------------------------------------------


class FakeContainer(http.server.ThreadingHTTPServer):
    """A model container: GET /ping answers ping_status; POST /invocations echoes what it got
    as JSON, answers 400 to a body starting with "fail", and streams (chunked) "stream"."""

    daemon_threads = True
    ping_status = 200
    broken = False  # drop connections without answering

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ContainerHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self):
        self.shutdown()
        self.server_close()


class ContainerHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        status = self.server.ping_status if self.path == "/ping" else 404
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        assert self.path == "/invocations"
        if self.server.broken:
            self.close_connection = True
            return
        if body.startswith(b"fail"):
            out = b"container says no"
            self.send_response(400)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        if body == b"stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"alpha ", b"beta ", b"gamma"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
                time.sleep(0.01)
            self.wfile.write(b"0\r\n\r\n")
            return
        out = json.dumps(
            {
                "body": body.decode(),
                "content_type": self.headers.get("Content-Type"),
                "accept": self.headers.get("Accept"),
                "custom": self.headers.get("X-Amzn-SageMaker-Custom-Attributes"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Amzn-SageMaker-Custom-Attributes", "from-container")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


@pytest.fixture(scope="module")
def container():
    c = FakeContainer()
    yield c
    c.stop()


def test_a_container_endpoint_forwards_to_invocations(container, kind):
    with LocalEndpoint({"ctr": container.url}) as e:
        c = make(kind, e.url)
        out = c.invoke_endpoint(
            EndpointName="ctr",
            Body=b"payload",
            ContentType="text/csv",
            Accept="application/json",
            CustomAttributes="c=1",
        )
        assert json.loads(out["Body"].read()) == {
            "body": "payload",
            "content_type": "text/csv",
            "accept": "application/json",
            "custom": "c=1",
        }
        assert out["ContentType"] == "application/json"
        assert out["CustomAttributes"] == "from-container"
        with pytest.raises(c.exceptions.ModelError) as err:
            c.invoke_endpoint(EndpointName="ctr", Body=b"fail please")
        assert err.value.response["OriginalStatusCode"] == 400
        assert err.value.response["OriginalMessage"] == "container says no"
        out = c.invoke_endpoint_with_response_stream(
            EndpointName="ctr", Body=b"stream", Accept="text/event-stream"
        )
        assert b"".join(ev["PayloadPart"]["Bytes"] for ev in out["Body"]) == b"alpha beta gamma"
        assert out["ContentType"] == "text/event-stream"
        out = c.invoke_endpoint_async(EndpointName="ctr", Body=b"async", ContentType="text/x")
        assert json.loads(wait_for(e.s3_path(out["OutputLocation"])))["body"] == "async"


def test_a_container_failing_ping_is_not_in_service(container, kind):
    container.ping_status = 500
    try:
        with LocalEndpoint({"ctr": container.url}, ping_timeout=0.2, ping_interval=0) as e:
            c = make(kind, e.url)
            with pytest.raises(c.exceptions.ValidationError) as err:
                c.invoke_endpoint(EndpointName="ctr", Body=b"x")
            assert "Endpoint ctr of account 123456789012 not found." in str(err.value)
            container.ping_status = 200  # healthy now: checked again on the next call
            out = c.invoke_endpoint(EndpointName="ctr", Body=b"x")
            assert json.loads(out["Body"].read())["body"] == "x"
    finally:
        container.ping_status = 200


def test_a_container_that_goes_away_is_a_model_error():
    ctr = FakeContainer()
    with LocalEndpoint({"ctr": ctr.url}) as e:
        c = make("ours", e.url)
        assert c.invoke_endpoint(EndpointName="ctr", Body=b"x")["Body"].read()
        ctr.broken = True  # the kept-alive connection is dropped, and nothing listens
        ctr.stop()
        with pytest.raises(c.exceptions.ModelError) as err:
            c.invoke_endpoint(EndpointName="ctr", Body=b"x")
        assert err.value.response["OriginalStatusCode"] == 502
    # Nothing listening at all: never in service.
    with LocalEndpoint({"ctr": ctr.url}, ping_timeout=0.1) as e:
        with pytest.raises(e.client().exceptions.ValidationError):
            e.client().invoke_endpoint(EndpointName="ctr", Body=b"x")


# --- SigV4 ---------------------------------------------------------------------------------


def test_signed_requests_pass(signed_ep, kind):
    c = make(kind, signed_ep.url, region_name="eu-west-1")
    assert c.invoke_endpoint(EndpointName="echo", Body=b"ok")["Body"].read() == b"ok"
    out = c.invoke_endpoint_with_response_stream(EndpointName="tokens", Body=b"a b")
    assert [e["PayloadPart"]["Bytes"] for e in out["Body"]] == [b"a ", b"b "]
    assert c.invoke_endpoint_async(EndpointName="echo", Body=b"x")["InferenceId"]
    # Unknown endpoints are checked after the signature, as AWS does.
    with pytest.raises(c.exceptions.ValidationError):
        c.invoke_endpoint(EndpointName="nope", Body=b"x")


@pytest.mark.parametrize(
    "override, code, message",
    [
        (
            {"aws_secret_access_key": "wrong"},
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        ),
        (
            {"aws_access_key_id": "AKIDUNKNOWN"},
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        (
            {"aws_session_token": "unexpected"},
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
    ],
)
def test_bad_signatures_are_rejected(signed_ep, kind, override, code, message):
    c = make(kind, signed_ep.url, **override)
    with pytest.raises(c.exceptions.ClientError) as err:
        c.invoke_endpoint(EndpointName="echo", Body=b"x")
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["Error"]["Message"].startswith(message)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert str(err.value).startswith(
        f"An error occurred ({code}) when calling the InvokeEndpoint operation: {message}"
    )


def test_unsigned_requests_are_rejected(signed_ep, kind):
    import botocore
    import botocore.config

    config = botocore.config.Config(
        signature_version=botocore.UNSIGNED, retries={"total_max_attempts": 1}
    )
    c = make(kind, signed_ep.url, config=config)
    with pytest.raises(c.exceptions.ClientError) as err:
        c.invoke_endpoint(EndpointName="echo", Body=b"x")
    assert err.value.response["Error"] == {
        "Code": "MissingAuthenticationTokenException",
        "Message": "Missing Authentication Token",
    }


def test_session_tokens():
    with LocalEndpoint({"echo": echo}, credentials=[(AK, SK, "tok"), ("AKIDSECOND", SK)]) as e:
        for kind_ in ("boto3", "ours"):
            assert (
                make(kind_, e.url, aws_session_token="tok")
                .invoke_endpoint(EndpointName="echo", Body=b"x")["Body"]
                .read()
                == b"x"
            )
            assert (
                make(kind_, e.url, aws_access_key_id="AKIDSECOND")
                .invoke_endpoint(EndpointName="echo", Body=b"x")["Body"]
                .read()
                == b"x"
            )
            for token in (None, "other"):
                c = make(kind_, e.url, aws_session_token=token)
                with pytest.raises(c.exceptions.ClientError) as err:
                    c.invoke_endpoint(EndpointName="echo", Body=b"x")
                assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"


def raw_post(url, path, headers, body):
    host, port = url[len("http://") :].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers:
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, resp.getheader("x-amzn-ErrorType"), resp.read()
    finally:
        conn.close()


def signed(url, path, body, timestamp=None, **kw):
    return auth.sign_request(
        "POST",
        url + path,
        headers=[("Content-Type", "application/octet-stream")],
        body=body,
        access_key=kw.pop("access_key", AK),
        secret_key=SK,
        region="us-east-1",
        service=kw.pop("service", "sagemaker"),
        timestamp=timestamp,
        **kw,
    ).headers


def test_clock_skew_and_tampering(signed_ep):
    url, path = signed_ep.url, "/endpoints/echo/invocations"
    now = int(time.time())
    assert raw_post(url, path, signed(url, path, b"x", now - 240), b"x")[0] == 200
    assert raw_post(url, path, signed(url, path, b"x", now + 240), b"x")[0] == 200
    status, code, body = raw_post(url, path, signed(url, path, b"x", now - 400), b"x")
    assert (status, code) == (403, "InvalidSignatureException")
    assert json.loads(body)["message"].startswith("Signature expired: ")
    status, code, body = raw_post(url, path, signed(url, path, b"x", now + 400), b"x")
    assert (status, code) == (403, "InvalidSignatureException")
    assert json.loads(body)["message"].startswith("Signature not yet current: ")
    # The body, a signed header or the path changed after signing.
    assert raw_post(url, path, signed(url, path, b"x"), b"y")[:2] == (
        403,
        "InvalidSignatureException",
    )
    hdrs = [(k, "text/plain" if k == "Content-Type" else v) for k, v in signed(url, path, b"x")]
    assert raw_post(url, path, hdrs, b"x")[:2] == (403, "InvalidSignatureException")
    other = "/endpoints/tokens/invocations"
    assert raw_post(url, other, signed(url, path, b"x"), b"x")[:2] == (
        403,
        "InvalidSignatureException",
    )
    # An unsigned header may change (User-Agent); a signed x-amz-content-sha256 must match.
    hdrs = signed(url, path, b"x") + [("User-Agent", "anything")]
    assert raw_post(url, path, hdrs, b"x")[0] == 200
    hdrs = signed(url, path, b"x", sign_body=True)
    assert raw_post(url, path, hdrs, b"x")[0] == 200
    status, code, body = raw_post(url, path, hdrs, b"z")
    assert (status, code) == (403, "InvalidSignatureException")
    # Another service's scope; a missing part.
    status, code, body = raw_post(url, path, signed(url, path, b"x", service="s3"), b"x")
    assert json.loads(body)["message"].startswith("Credential should be scoped to correct service")
    hdrs = [(k, v) for k, v in signed(url, path, b"x") if k != "X-Amz-Date"]
    status, code, body = raw_post(url, path, hdrs, b"x")
    assert (status, code) == (403, "IncompleteSignatureException")


def test_presigned_urls(signed_ep, kind):
    c = make(kind, signed_ep.url)

    def post(url, body=b"data", content_type="application/octet-stream"):
        req = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())["message"]

    for params in ({"Body": b""}, {"Body": b'{"k": "v w"}', "ContentType": "application/json"}):
        url = c.generate_presigned_url(
            "invoke_endpoint", Params={"EndpointName": "echo", **params}, ExpiresIn=60
        )
        # Content-Type, when given, is a signed header: the request must send the same.
        content_type = params.get("ContentType", "application/octet-stream")
        assert post(url, content_type=content_type) == (200, b"data")
        status, message = post(
            url.replace("X-Amz-Expires=60", "X-Amz-Expires=61"), content_type=content_type
        )
        assert status == 403 and message.startswith("The request signature we calculated")
        if "ContentType" in params:
            status, message = post(url, content_type="text/plain")
            assert status == 403 and message.startswith("The request signature we calculated")
    old = auth.presign_url(
        "POST",
        signed_ep.url + "/endpoints/echo/invocations",
        access_key=AK,
        secret_key=SK,
        region="us-east-1",
        service="sagemaker",
        timestamp=int(time.time()) - 120,
        expires=60,
    ).url
    status, message = post(old)
    assert status == 403 and message.startswith("Signature expired: ")


def conformance_cases():
    out = []
    for name in sorted(os.listdir(CONFORMANCE)):
        ctx_path = os.path.join(CONFORMANCE, name, "context.json")
        if os.path.exists(ctx_path):
            with open(ctx_path) as f:
                ctx = json.load(f)
            if ctx.get("normalize", True) and not ctx.get("omit_session_token"):
                out.append(name)
    assert len(out) >= 20, CONFORMANCE
    return out


def parse_signed(text):
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    method, _, rest = lines[0].partition(" ")
    target = rest[: rest.rindex(" HTTP/1.1")]
    headers = []
    for line in lines[1:]:
        if line and line[0] in " \t" and headers:
            headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
        elif line:
            k, _, v = line.partition(":")
            headers.append((k, v))
    return method, target, headers, body.encode()


@pytest.mark.parametrize("mode", ["header", "query"])
@pytest.mark.parametrize("case", conformance_cases())
def test_the_verifier_accepts_the_published_test_vectors(case, mode):
    """aws-c-auth's SigV4 suite (tests/conformance): each signed request verifies, and fails
    with one byte of its signature changed."""
    d = os.path.join(CONFORMANCE, case)
    with open(os.path.join(d, "context.json")) as f:
        ctx = json.load(f)
    with open(os.path.join(d, f"{mode}-signed-request.txt"), encoding="utf-8") as f:
        method, target, headers, body = parse_signed(f.read())
    if ctx.get("sign_body") and mode == "header":
        assert ("x-amz-content-sha256", hashlib.sha256(body).hexdigest()) in [
            (k.lower(), v) for k, v in headers
        ]
    creds = ctx["credentials"]
    ts = time.mktime(time.strptime(ctx["timestamp"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    v = Verifier(
        (creds["access_key_id"], creds["secret_access_key"], creds.get("token")),
        service=ctx["service"],
        clock=lambda: ts + 30,
    )
    assert v.check(method, target, headers, body) is None
    sig_hex = "0123456789abcdef"

    def flip(s):
        i = s.rindex("Signature=") + len("Signature=")
        return s[:i] + sig_hex[(sig_hex.index(s[i]) + 1) % 16] + s[i + 1 :]

    if mode == "header":
        bad = [(k, flip(v) if k.lower() == "authorization" else v) for k, v in headers]
        err = v.check(method, target, bad, body)
    else:
        err = v.check(method, flip(target), headers, body)
    assert err[:2] == (403, "InvalidSignatureException")


def test_the_verifier_region_and_expiry_rules():
    v = Verifier((AK, SK), region="us-east-1")
    hdrs = auth.sign_request(
        "POST",
        "http://h/endpoints/e/invocations",
        body=b"",
        access_key=AK,
        secret_key=SK,
        region="eu-west-1",
        service="sagemaker",
    ).headers
    err = v.check("POST", "/endpoints/e/invocations", hdrs, b"")
    assert err == (
        403,
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'eu-west-1'. ",
    )
    url = auth.presign_url(
        "POST", "http://h/x", access_key=AK, secret_key=SK, region="us-east-1", service="sagemaker",
        expires=604801,
    ).url  # fmt: skip
    err = v.check("POST", url[len("http://h") :], [("Host", "h")], b"")
    assert err[1] == "InvalidSignatureException" and "less than a week" in err[2]
    assert v.check("POST", "/x?X-Amz-Signature=ab", [("Host", "h")], b"")[1] == (
        "IncompleteSignatureException"
    )
    assert Verifier((AK, SK)).check("POST", "/", [("Authorization", "Basic x")], b"")[1] == (
        "IncompleteSignatureException"
    )


# --- the HTTP/1.1 server -------------------------------------------------------------------


def raw(url, data, read_until=b"", timeout=5):
    host, port = url[len("http://") :].split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        got = b""
        while read_until not in got or not read_until:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


def test_pipelining_chunked_bodies_and_expect_continue(ep):
    req = (
        b"POST /endpoints/reverse/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        b"POST /endpoints/reverse/invocations HTTP/1.1\r\nHost: x\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\nde\r\n1;ext=1\r\nf\r\n0\r\n\r\n"
        b"POST /endpoints/reverse/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        b"Connection: close\r\n\r\ngh"
    )
    got = raw(ep.url, req)
    assert got.count(b"HTTP/1.1 200 OK") == 3
    bodies = [part.split(b"\r\n\r\n", 1)[1][:3] for part in got.split(b"HTTP/1.1 200 OK")[1:]]
    assert bodies == [b"cba", b"fed", b"hg"]
    assert b"Connection: close" in got
    host, port = ep.url[len("http://") :].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(
            b"POST /endpoints/reverse/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b"yz")
        assert s.recv(65536).endswith(b"zy")


def test_malformed_requests(ep):
    assert raw(ep.url, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    got = raw(
        ep.url, b"GET /endpoints/echo/invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert got.startswith(b"HTTP/1.1 404 ") and b"UnknownOperationException" in got
    got = raw(ep.url, b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
    assert got.startswith(b"HTTP/1.1 400 ")
    got = raw(ep.url, b"POST /x HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n")
    assert got.startswith(b"HTTP/1.1 413 ")
    assert raw(ep.url, b"GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n").startswith(
        b"HTTP/1.1 200 OK"
    )


# --- the Python API and the command line ---------------------------------------------------------


def test_start_stop_and_the_api():
    e = LocalEndpoint({"echo": echo})
    assert not e.running and "stopped" in repr(e)
    e.start()
    try:
        assert e.client().invoke_endpoint(EndpointName="echo", Body=b"1")["Body"].read() == b"1"
        e.add_endpoint("rev", body_only)
        assert e.client().invoke_endpoint(EndpointName="rev", Body=b"12")["Body"].read() == b"21"
        e.remove_endpoint("rev")
        assert sorted(e.endpoints) == ["echo"]
        s3 = e.s3_dir
        assert s3.is_dir()
    finally:
        e.stop()
    assert not s3.exists()  # the temporary S3 directory is removed
    e.stop()  # idempotent
    with pytest.raises(ValueError):
        LocalEndpoint({"x": "no-colon"})
    with pytest.raises(ImportError):
        LocalEndpoint({"x": "no_such_module_xyz:f"})
    with pytest.raises(ValueError):
        LocalEndpoint({"x": echo}, max_concurrency=0)


def test_importing_the_package_does_not_import_local():
    code = (
        "import sys, sagemaker_rt_c; assert 'sagemaker_rt_c.local' not in sys.modules; "
        "print(sagemaker_rt_c.local.LocalEndpoint.__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(sagemaker_rt_c.__file__))),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "LocalEndpoint"


def cli(*args, env=None, **kw):
    root = os.path.dirname(os.path.dirname(sagemaker_rt_c.__file__))
    full_env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, HERE]))
    full_env.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "sagemaker_rt_c.local", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        **kw,
    )


def test_the_command_line_serves_until_sigint(tmp_path):
    p = cli(
        "serve",
        "--endpoint",
        "echo=test_local_endpoint:echo",
        "--endpoint",
        "sentiment=sagemaker_rt_c.local.models:sentiment",
        "--max-concurrency",
        "8",
        "--s3-dir",
        str(tmp_path),
        "--credentials-from-env",
        env={"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SK},
    )
    try:
        url = p.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), p.stderr.read()
        c = make("ours", url)
        assert c.invoke_endpoint(EndpointName="echo", Body=b"cli")["Body"].read() == b"cli"
        out = c.invoke_endpoint(EndpointName="sentiment", Body=b'{"text": "great"}')
        assert json.loads(out["Body"].read())["label"] == "POSITIVE"
        with pytest.raises(c.exceptions.ClientError):
            make("ours", url, aws_secret_access_key="bad").invoke_endpoint(
                EndpointName="echo", Body=b"x"
            )
        out = c.invoke_endpoint_async(EndpointName="echo", Body=b"to s3")
        assert wait_for(tmp_path / out["OutputLocation"][len("s3://") :]) == b"to s3"
        p.send_signal(signal.SIGINT)
        assert p.wait(10) == 0
        assert "stopped" in p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_the_command_line_defaults_and_errors():
    p = cli("serve", "--port", "0")
    try:
        url = p.stdout.readline().strip()
        out = make("ours", url).invoke_endpoint(EndpointName="stats", Body=b"[1, 2, 3]")
        assert json.loads(out["Body"].read())["mean"] == 2.0
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    for args, status, text in [
        (["serve", "--help"], 0, "--max-concurrency"),
        (["serve", "--endpoint", "nameonly"], 2, "expected NAME=module:function"),
        (["serve", "--endpoint", "x=no_such_module_xyz:f"], 1, "ModuleNotFoundError"),
        (["serve", "--credentials-from-env"], 2, "AWS_ACCESS_KEY_ID"),
    ]:
        p = cli(*args)
        out, err = p.communicate(timeout=30)
        assert p.returncode == status, (args, out, err)
        assert text in out + err
