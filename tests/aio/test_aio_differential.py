"""sagemaker_rt_c.aio against the sync client (sagemaker_rt_c.client) and boto3 on the same
inputs: the scripted server of the batch tests (successes, ModelError, ValidationError, a
retried 500, a reset connection, 500s until the retries run out) called in sequence and all at
once; parameters drawn by hypothesis (the request bytes on the wire and the outcome); the
validation errors raised at ``await``; the exception classes; invoke_endpoint_async's dict; the
Body's methods; timeouts; presigning and the other methods of aiobotocore's client."""

import asyncio
import os
import sys

import pytest
from apidiff import botocore_clock, materialise, no_boto3_backoff, wire
from conftest import TESTS, make_boto3, make_ours
from fuzzing import fuzz_settings
from hypothesis import given
from servers import Delay, Reply, ScriptedServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TESTS, "client"))  # the batch suite's server, the fuzz's params
from aio_util import (  # noqa: E402
    LOOP_FACTORIES,
    aio_client,
    aio_outcome,
    run,
    sync_outcome,
)
from test_api_fuzz import invoke_params, with_buffers  # noqa: E402
from test_batch import Router, requests  # noqa: E402

import sagemaker_rt_c  # noqa: E402
from sagemaker_rt_c.config import Config  # noqa: E402

CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"})
N = 60  # requests per scenario: every kind of the Router several times (seeded)


def sequential(client, reqs):
    out = []
    for r in reqs:
        try:
            out.append(sync_outcome(client.invoke_endpoint(**r)))
        except Exception as e:  # noqa: BLE001 - the outcome compared
            out.append(sync_outcome(e))
    return out


async def aio_call(c, method, params):
    try:
        return await aio_outcome(await getattr(c, method)(**params))
    except Exception as e:  # noqa: BLE001 - the outcome compared
        return await aio_outcome(e)


async def aio_sequential(url, reqs, **kw):
    async with aio_client(url, **kw) as c:
        return [await aio_call(c, "invoke_endpoint", r) for r in reqs]


async def aio_gathered(url, reqs, **kw):
    async with aio_client(url, **kw) as c:
        return await asyncio.gather(*(aio_call(c, "invoke_endpoint", r) for r in reqs))


def on_fresh_router(fn):
    """fn(url) against a new scripted server answering by body (tests/client/test_batch.py's
    Router): each client sees every retry and reset request for the first time."""
    with ScriptedServer(default=Router()) as s:
        return fn(s.url)


@pytest.fixture(params=list(LOOP_FACTORIES))
def loop_factory(request):
    return LOOP_FACTORIES[request.param]


def test_the_router_scenarios_as_the_sync_client(loop_factory):
    reqs = requests("d", N)
    want = on_fresh_router(lambda url: sequential(make_ours(endpoint_url=url, config=CONFIG), reqs))
    kinds = {w[0] for w in want}
    assert {"ok", "ModelError", "ValidationError", "InternalFailure"} <= kinds, kinds
    assert any(w[0] == "ok" and w[4] == 1 for w in want)  # retried, then a success
    assert any(w[0] == "InternalFailure" and w[7] for w in want)  # MaxAttemptsReached

    got = on_fresh_router(lambda url: run(aio_sequential(url, reqs, config=CONFIG), loop_factory))
    assert got == want
    # All at once on one client (more than its pool): each call's own outcome.
    got = on_fresh_router(lambda url: run(aio_gathered(url, reqs, config=CONFIG), loop_factory))
    assert got == want


@pytest.mark.differential
def test_the_router_scenarios_as_boto3():
    reqs = requests("b", N)
    with no_boto3_backoff():
        want = on_fresh_router(
            lambda url: sequential(make_boto3(endpoint_url=url, config=CONFIG), reqs)
        )
    got = on_fresh_router(lambda url: run(aio_sequential(url, reqs, config=CONFIG)))
    assert got == want


# --- parameters: the same request bytes and outcome as the sync client ------------------------

FUZZ = fuzz_settings(100)
BY_SECOND = {"x-amz-date", "authorization"}  # the signing second: compared when it is the same


@pytest.fixture(scope="module")
def fuzz_server():
    with ScriptedServer(Reply(200, [("Content-Type", "text/plain")], b"ok")) as server:
        yield server


def described(server, start, result):
    reqs = [wire(r) for r in server.requests[start:]]
    return result, reqs


def same_second(a, b):
    def date(reqs):
        return [v for _, hs, _ in reqs for n, v in hs if n.lower() == "x-amz-date"]

    return date(a) == date(b)


def without_signing_second(reqs):
    return [
        (line, [(n, v) for n, v in hs if n.lower() not in BY_SECOND], b) for line, hs, b in reqs
    ]


@FUZZ
@given(params=invoke_params())
def test_parameters_as_the_sync_client(fuzz_server, params):
    """Odd invoke_endpoint parameters (every member, odd types and lengths, every kind of
    Body: file objects and buffers too): what reaches the server and the outcome (response or
    exception) are the sync client's."""
    server = fuzz_server
    sync = make_ours(endpoint_url=server.url)
    start = len(server.requests)
    try:
        want = sync_outcome(sync.invoke_endpoint(**materialise(with_buffers(params))))
    except Exception as e:  # noqa: BLE001 - the outcome compared
        want = sync_outcome(e)
    want = described(server, start, want)

    async def call():
        async with aio_client(server.url) as c:
            return await aio_call(c, "invoke_endpoint", materialise(with_buffers(params)))

    start = len(server.requests)
    got = described(server, start, run(call()))
    if not same_second(got[1], want[1]):
        got = got[0], without_signing_second(got[1])
        want = want[0], without_signing_second(want[1])
    assert got == want


# --- validation, exceptions, the other operations ---------------------------------------------


BAD_PARAMS = [
    {},  # EndpointName missing
    {"EndpointName": "ep"},  # Body missing
    {"EndpointName": "ep", "Body": 5},
    {"EndpointName": "ep", "Body": b"x", "Bogus": 1},
    {"EndpointName": "ep", "Body": b"x", "ContentType": 7},
    {"EndpointName": "ep", "Body": b"x", "InferenceId": ""},  # below its minimum length
]


@pytest.mark.differential
@pytest.mark.parametrize("params", BAD_PARAMS, ids=range(len(BAD_PARAMS)))
def test_validation_errors_raised_at_await(server, params):
    sync_e = boto_e = None
    try:
        make_ours(endpoint_url=server.url).invoke_endpoint(**params)
    except Exception as e:  # noqa: BLE001 - compared
        sync_e = e
    try:
        make_boto3(endpoint_url=server.url).invoke_endpoint(**params)
    except Exception as e:  # noqa: BLE001 - compared
        boto_e = e
    assert type(sync_e).__name__ == type(boto_e).__name__ == "ParamValidationError"
    assert str(sync_e) == str(boto_e)

    async def go():
        async with aio_client(server.url) as c:
            coro = c.invoke_endpoint(**params)  # nothing raised yet: a coroutine
            with pytest.raises(Exception) as info:
                await coro
            ok = await c.invoke_endpoint(EndpointName="ep", Body=b"after")  # still works
            return info.value, ok

    n = len(server.requests)
    err, ok = run(go())
    assert type(err) is type(sync_e)
    assert str(err) == str(sync_e)
    assert isinstance(err, sagemaker_rt_c.exceptions.ParamValidationError)
    assert ok["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(server.requests) == n + 1  # nothing sent for the bad call


MODEL_ERROR_REPLY = Reply(
    424,
    [("x-amzn-ErrorType", "ModelError:http://internal.amazon.com/")],
    b'{"ErrorCode": "CLIENT_ERROR_FROM_MODEL", "OriginalStatusCode": 400, '
    b'"OriginalMessage": "bad", "message": "Received client error (400)"}',
)
VALIDATION_REPLY = Reply(
    400,
    [("x-amzn-ErrorType", "ValidationError:http://internal/")],
    b'{"message": "Endpoint ep of account 123456789012 not found."}',
)


@pytest.mark.differential
def test_exception_classes_catchable(server):
    import botocore.exceptions

    async def go():
        async with aio_client(server.url) as c:
            server.queue(MODEL_ERROR_REPLY)
            try:
                await c.invoke_endpoint(EndpointName="ep", Body=b"x")
            except c.exceptions.ModelError as e:
                model = e
            server.queue(VALIDATION_REPLY)
            try:
                await c.invoke_endpoint(EndpointName="ep", Body=b"x")
            except c.exceptions.ValidationError as e:
                validation = e
            return c.exceptions, model, validation

    excs, model, validation = run(go())
    assert excs.ModelError is make_ours().exceptions.ModelError
    assert isinstance(model, sagemaker_rt_c.exceptions.ModelError)
    assert isinstance(model, botocore.exceptions.ClientError)
    assert isinstance(validation, sagemaker_rt_c.exceptions.ValidationError)
    assert model.response["OriginalStatusCode"] == 400
    assert model.response["Error"]["Code"] == "ModelError"
    assert validation.response["Error"] == {
        "Code": "ValidationError",
        "Message": "Endpoint ep of account 123456789012 not found.",
    }


ACCEPTED = Reply(
    202,
    [
        ("Content-Type", "application/json"),
        ("X-Amzn-SageMaker-OutputLocation", "s3://bucket/out/abc.out"),
        ("X-Amzn-SageMaker-FailureLocation", "s3://bucket/fail/abc.out"),
        ("x-amzn-RequestId", "req-1"),
    ],
    b'{"InferenceId": "abc-123"}',
)
ASYNC_PARAMS = [
    dict(EndpointName="ep", InputLocation="s3://in/x"),
    dict(EndpointName="ep", Body=b'{"a": 1}', ContentType="application/json", Filename="f"),
    dict(EndpointName="ep", InputLocation="s3://in/x", RequestTTLSeconds=59),  # below the min
    dict(InputLocation="s3://in/x"),  # EndpointName missing
]


@pytest.mark.differential
@pytest.mark.parametrize("params", ASYNC_PARAMS, ids=range(len(ASYNC_PARAMS)))
def test_invoke_endpoint_async_as_sync_and_boto3(server, params):
    server.default = ACCEPTED

    def sync_call(client):
        start = len(server.requests)
        try:
            out = client.invoke_endpoint_async(**params)
        except Exception as e:  # noqa: BLE001 - compared
            return sync_outcome(e), start
        assert "Body" not in out
        return ("ok", {k: v for k, v in out.items()}), start

    def reqs(start):
        return without_signing_second([wire(r) for r in server.requests[start:]])

    want, s = sync_call(make_ours(endpoint_url=server.url))
    want_reqs = reqs(s)
    with no_boto3_backoff():
        theirs, s = sync_call(make_boto3(endpoint_url=server.url))
    theirs_reqs = reqs(s)

    async def go():
        async with aio_client(server.url) as c:
            try:
                out = await c.invoke_endpoint_async(**params)
            except Exception as e:  # noqa: BLE001 - compared
                return await aio_outcome(e)
            return ("ok", dict(out))

    s = len(server.requests)
    got = run(go())
    got_reqs = reqs(s)
    assert got == want
    assert got_reqs == want_reqs
    if got[0] == "ok":
        assert got[1]["InferenceId"] == "abc-123"
        assert got[1]["ResponseMetadata"]["HTTPStatusCode"] == 202
    # boto3: the same outcome and the same request (but its User-Agent and invocation id).
    assert theirs == want
    assert [(line, b) for line, _, b in theirs_reqs] == [(line, b) for line, _, b in got_reqs]


LINES_BODY = b"first line\nsecond\r\nthird\r\n\nlast without end" + b"x" * 3000


@pytest.mark.parametrize("size", [0, 1, 4096, 1 << 20])
def test_body_methods_as_the_sync_client(server, size):
    body = (LINES_BODY * (size // len(LINES_BODY) + 1))[:size]
    reply = Reply(200, [("Content-Type", "text/csv")], body)
    sync = make_ours(endpoint_url=server.url)
    want = {}
    for how in ("read", "read7", "chunks", "lines", "lines_keep"):
        server.queue(reply)
        b = sync.invoke_endpoint(EndpointName="ep", Body=b"x")["Body"]
        if how == "read":
            want[how] = b.read()
        elif how == "read7":
            want[how] = list(iter(lambda b=b: b.read(7000), b""))
        elif how == "chunks":
            want[how] = list(b.iter_chunks(1000))
        elif how == "lines":
            want[how] = list(b.iter_lines())
        else:
            want[how] = list(b.iter_lines(keepends=True))

    async def go():
        got = {}
        async with aio_client(server.url) as c:
            for how in want:
                server.queue(reply)
                resp = await c.invoke_endpoint(EndpointName="ep", Body=b"x")
                assert resp["ContentType"] == "text/csv"
                b = resp["Body"]
                if how == "read":
                    got[how] = await b.read()
                    assert await b.read() == b""
                elif how == "read7":
                    got[how] = []
                    while chunk := await b.read(7000):
                        got[how].append(chunk)
                elif how == "chunks":
                    got[how] = [c async for c in b.iter_chunks(1000)]
                elif how == "lines":
                    got[how] = [line async for line in b.iter_lines()]
                else:
                    got[how] = [line async for line in b.iter_lines(keepends=True)]
            async with (await c.invoke_endpoint(EndpointName="ep", Body=b"x"))["Body"] as b:
                pass
        return got

    assert run(go()) == want
    assert want["read"] == body


@pytest.mark.differential
def test_read_timeout_as_sync_and_boto3(server):
    """A response slower than read_timeout: ReadTimeoutError, retried as botocore retries it
    (max_attempts=2: two retries, three attempts)."""
    config = Config(read_timeout=0.3, retries={"max_attempts": 2, "mode": "standard"})
    slow = Delay(1.0, Reply(200, [], b"late"))

    def sync_call(client):
        server.queue(slow, slow, slow)
        with pytest.raises(Exception) as info:
            client.invoke_endpoint(EndpointName="ep", Body=b"x")
        return sync_outcome(info.value)

    want = sync_call(make_ours(endpoint_url=server.url, config=config))
    with no_boto3_backoff():
        theirs = sync_call(make_boto3(endpoint_url=server.url, config=config))
    assert want[0] == theirs[0] == "ReadTimeoutError"
    assert want == theirs

    async def go():
        async with aio_client(server.url, config=config) as c:
            server.queue(slow, slow, slow)
            return await aio_call(c, "invoke_endpoint", dict(EndpointName="ep", Body=b"x"))

    assert run(go()) == want


@pytest.mark.differential
def test_presign_meta_and_the_rest_as_the_sync_client(server):
    sync = make_ours(endpoint_url=server.url)
    boto = make_boto3(endpoint_url=server.url)
    params = {"EndpointName": "ep", "Body": b"", "ContentType": "text/plain"}

    async def go():
        async with aio_client(server.url) as c:
            url = await c.generate_presigned_url("invoke_endpoint", Params=params, ExpiresIn=60)
            with botocore_clock(url.split("X-Amz-Date=")[1][:16]):
                theirs = boto.generate_presigned_url("invoke_endpoint", Params=params, ExpiresIn=60)
            return url, theirs, c.meta, c.can_paginate("invoke_endpoint"), c.waiter_names, c

    url, theirs, meta, pageable, waiters, c = run(go())
    assert url == theirs
    assert (meta.region_name, meta.endpoint_url) == (sync.meta.region_name, sync.meta.endpoint_url)
    assert pageable is False and waiters == []
    with pytest.raises(Exception) as ours_e:
        c.get_paginator("invoke_endpoint")
    with pytest.raises(Exception) as sync_e:
        sync.get_paginator("invoke_endpoint")
    assert (type(ours_e.value), str(ours_e.value)) == (type(sync_e.value), str(sync_e.value))


def test_no_credentials_as_the_sync_client(server):
    """No credentials anywhere (the test environment has none): NoCredentialsError at await,
    nothing sent, as the sync client raises it."""
    from sagemaker_rt_c.aio import get_session

    with pytest.raises(Exception) as sync_e:
        sagemaker_rt_c.client(
            "sagemaker-runtime", region_name="us-east-1", endpoint_url=server.url
        ).invoke_endpoint(EndpointName="ep", Body=b"x")

    async def go():
        ctx = get_session().create_client(
            "sagemaker-runtime", region_name="us-east-1", endpoint_url=server.url
        )
        async with ctx as c:
            with pytest.raises(Exception) as info:
                await c.invoke_endpoint(EndpointName="ep", Body=b"x")
            return info.value

    err = run(go())
    assert type(err).__name__ == type(sync_e.value).__name__ == "NoCredentialsError"
    assert str(err) == str(sync_e.value)
    assert server.requests == []
