"""client.invoke_endpoint_batch: results in input order, each what invoke_endpoint gives (or
raises) for the same request, on a scripted server that mixes successes, modeled errors,
retried errors, connection resets and errors that exhaust the retries; lazy input with a
bounded window; progress; bad arguments; nothing left behind (threads, connections)."""

import json
import os
import random
import threading
import time

import pytest
from conftest import make_boto3, make_ours
from servers import Delay, Reply, Reset, ScriptedServer

import sagemaker_rt_c
from sagemaker_rt_c.config import Config

MODEL_ERROR = json.dumps(
    {
        "ErrorCode": "CLIENT_ERROR_FROM_MODEL",
        "LogStreamArn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/e",
        "OriginalMessage": "bad input",
        "OriginalStatusCode": 400,
        "message": 'Received client error (400) from primary with message "bad input".',
    }
).encode()


class Router:
    """Answers by the request's body, ``kind:round:i``; a ``retry`` or ``reset`` request
    fails the first time its body is seen, then succeeds."""

    def __init__(self):
        self.seen = {}
        self.lock = threading.Lock()

    def __call__(self, req):
        body = req.body.decode()
        kind = body.split(":", 1)[0]
        with self.lock:
            n = self.seen[body] = self.seen.get(body, 0) + 1
        ok = Reply(200, [("Content-Type", "text/plain")], b"r:" + req.body)
        if kind == "ok":
            return Delay(random.random() * 0.004, ok)  # completions out of order
        if kind == "model":
            return Reply(
                424, [("x-amzn-ErrorType", "ModelError:http://internal.amazon.com/")], MODEL_ERROR
            )
        if kind == "validation":
            msg = b'{"message": "Endpoint e of account 123456789012 not found."}'
            return Reply(400, [("x-amzn-ErrorType", "ValidationError:http://internal/")], msg)
        if kind == "retry":
            if n == 1:
                return Reply(
                    500, [("x-amzn-ErrorType", "InternalFailure:x")], b'{"message": "boom"}'
                )
            return ok
        if kind == "reset":
            return Reset() if n == 1 else ok
        if kind == "fail":  # every attempt
            return Reply(500, [("x-amzn-ErrorType", "InternalFailure:x")], b'{"message": "down"}')
        raise AssertionError(body)


# A "fail" costs 28 of the client's retry quota of 500 and a retried success nothing in the
# end: the quota never runs out in these batches, so outcomes do not depend on timing.
KINDS = ["ok"] * 8 + ["model", "validation", "retry", "reset", "fail"]


def requests(round_, n, seed=1):
    rnd = random.Random(seed)
    return [
        dict(
            EndpointName="e",
            Body=f"{rnd.choice(KINDS)}:{round_}:{i}".encode(),
            ContentType="text/plain",
        )
        for i in range(n)
    ]


def outcome(r):
    """What a result says, comparable across clients and runs."""
    if isinstance(r, dict):
        meta = r["ResponseMetadata"]
        body = r["Body"] if isinstance(r["Body"], bytes) else r["Body"].read()
        return (
            "ok",
            body.split(b":")[0],
            body.split(b":")[-1],
            r["ContentType"],
            meta["RetryAttempts"],
        )
    resp = getattr(r, "response", None)
    if resp is None:
        return (type(r).__name__, str(r))
    meta = resp["ResponseMetadata"]
    return (
        type(r).__name__,
        str(r),
        resp["Error"],
        {k: v for k, v in resp.items() if k not in ("ResponseMetadata", "Error")},
        meta["RetryAttempts"],
        meta.get("MaxAttemptsReached"),
    )


@pytest.fixture
def server():
    s = ScriptedServer(default=Router())
    yield s
    s.close()


CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"})


def sequential(client, reqs):
    out = []
    for r in reqs:
        try:
            out.append(client.invoke_endpoint(**r))
        except Exception as e:  # noqa: BLE001 - the outcome compared
            out.append(e)
    return out


@pytest.mark.parametrize("concurrency", [1, 4, 32])
def test_results_in_order_as_invoke_endpoint_gives_them(server, concurrency):
    c = make_ours(endpoint_url=server.url, config=CONFIG)
    n = 130
    got = list(c.invoke_endpoint_batch(requests(f"b{concurrency}", n), max_concurrency=concurrency))
    # Another client: the retry quota is a client's, and the batch spent some of it.
    want = sequential(
        make_ours(endpoint_url=server.url, config=CONFIG), requests(f"s{concurrency}", n)
    )
    assert len(got) == n
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert outcome(g) == outcome(w), i
        if isinstance(g, dict):
            assert type(g["Body"]) is bytes  # read already
            assert g["Body"] == b"r:" + requests(f"b{concurrency}", n)[i]["Body"]
    kinds = {o[0] for o in map(outcome, got)}
    assert {"ok", "ModelError", "ValidationError", "InternalFailure"} <= kinds, kinds
    # The retried ones were retried once; the failing ones gave up after three attempts.
    retried = [
        outcome(g)
        for g, r in zip(got, requests("x", n), strict=True)
        if r["Body"].startswith(b"retry")
    ]
    assert retried and all(o[0] == "ok" and o[-1] == 1 for o in retried)
    failed = [
        outcome(g)
        for g, r in zip(got, requests("x", n), strict=True)
        if r["Body"].startswith(b"fail")
    ]
    assert failed and all(o[-2:] == (2, True) for o in failed)


@pytest.mark.differential
def test_results_match_boto3(server):
    """The same requests through boto3, one by one: the same classes, messages and fields."""
    ours = make_ours(endpoint_url=server.url, config=CONFIG)
    theirs = make_boto3(
        endpoint_url=server.url,
        config=__import__("botocore.config").config.Config(
            retries={"max_attempts": 2, "mode": "standard"}
        ),
    )
    n = 120
    got = list(ours.invoke_endpoint_batch(requests("o", n, seed=7), max_concurrency=16))
    want = sequential(theirs, requests("t", n, seed=7))
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert outcome(g) == outcome(w), i
    assert isinstance(got[0], dict) or isinstance(got[0], Exception)


def test_model_error_is_the_client_exception_class(server):
    c = make_ours(endpoint_url=server.url)
    (r,) = c.invoke_endpoint_batch([dict(EndpointName="e", Body=b"model:m:0")])
    assert isinstance(r, c.exceptions.ModelError)
    assert r.response["OriginalStatusCode"] == 400
    assert r.response["Error"]["Code"] == "ModelError"


def test_bad_requests_are_errors_in_place(server):
    c = make_ours(endpoint_url=server.url)
    reqs = [
        dict(EndpointName="e", Body=b"ok:p:0"),
        dict(Body=b"x"),  # no EndpointName
        "not a dict",
        {"EndpointName": "e", "Body": b"x", "Nope": 1},
        {1: 2},
        dict(EndpointName="e", Body=12),
        dict(EndpointName="e", Body=b"ok:p:6"),
    ]
    got = list(c.invoke_endpoint_batch(iter(reqs), max_concurrency=2))
    assert isinstance(got[0], dict) and got[0]["Body"] == b"r:ok:p:0"
    assert type(got[1]).__name__ == "ParamValidationError"
    assert 'Missing required parameter in input: "EndpointName"' in str(got[1])
    assert isinstance(got[2], TypeError) and "requests[2] must be a dict" in str(got[2])
    assert type(got[3]).__name__ == "ParamValidationError" and "Nope" in str(got[3])
    assert isinstance(got[4], TypeError) and "requests[4]" in str(got[4])
    assert type(got[5]).__name__ == "ParamValidationError" and "Body" in str(got[5])
    assert isinstance(got[6], dict) and got[6]["Body"] == b"r:ok:p:6"
    # The same exceptions invoke_endpoint raises.
    for bad, g in zip([reqs[1], reqs[3], reqs[5]], [got[1], got[3], got[5]], strict=True):
        with pytest.raises(type(g)) as e:
            c.invoke_endpoint(**bad)
        assert str(e.value) == str(g)


def test_no_credentials_in_place(server, monkeypatch):
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    c = sagemaker_rt_c.client("sagemaker-runtime", region_name="us-east-1", endpoint_url=server.url)
    got = list(c.invoke_endpoint_batch([dict(EndpointName="e", Body=b"ok:c:0")] * 3))
    assert [type(g).__name__ for g in got] == ["NoCredentialsError"] * 3


def test_input_read_lazily_within_the_window(server):
    c = make_ours(endpoint_url=server.url)
    pulled = []

    def gen():
        for i in range(10_000):
            pulled.append(i)
            yield dict(EndpointName="e", Body=f"ok:l:{i}".encode())

    batch = c.invoke_endpoint_batch(gen(), max_concurrency=4)
    assert pulled == []  # nothing before the first next()
    first = next(batch)
    assert first["Body"] == b"r:ok:l:0"
    assert len(pulled) <= 64  # 4 windows, at least 64 slots
    for _ in range(100):
        next(batch)
    assert len(pulled) <= 101 + 64
    batch.close()
    n = len(pulled)
    assert list(batch) == []  # closed: over
    assert len(pulled) == n


def test_an_input_that_raises_ends_after_the_results_before_it(server):
    c = make_ours(endpoint_url=server.url)

    def gen():
        for i in range(5):
            yield dict(EndpointName="e", Body=f"ok:g:{i}".encode())
        raise ValueError("bad record 5")

    batch = c.invoke_endpoint_batch(gen(), max_concurrency=3)
    got = [next(batch) for _ in range(5)]
    assert [g["Body"] for g in got] == [f"r:ok:g:{i}".encode() for i in range(5)]
    with pytest.raises(ValueError, match="bad record 5"):
        next(batch)
    assert list(batch) == []


def test_arguments_checked():
    c = make_ours(endpoint_url="http://127.0.0.1:9")
    for bad, exc, text in [
        (0, ValueError, "from 1 to 1024, not 0"),
        (5000, ValueError, "not 5000"),
        ("many", TypeError, "or 'auto', not 'many'"),
        (True, TypeError, "not True"),
        (2.5, TypeError, "not 2.5"),
    ]:
        with pytest.raises(exc, match=text):
            c.invoke_endpoint_batch([], max_concurrency=bad)
    with pytest.raises(TypeError, match="progress must be True, False or a callable"):
        c.invoke_endpoint_batch([], progress=5)
    with pytest.raises(TypeError, match="not iterable"):
        c.invoke_endpoint_batch(5)
    assert list(c.invoke_endpoint_batch([])) == []


def test_progress_callable_and_counters(server):
    c = make_ours(endpoint_url=server.url, config=CONFIG)
    events = []
    reqs = [
        dict(EndpointName="e", Body=f"{k}:pc:{i}".encode())
        for i, k in enumerate(["ok", "model"] * 10)
    ]
    with c.invoke_endpoint_batch(reqs, max_concurrency=4, progress=events.append) as batch:
        got = list(batch)
    assert len(got) == 20 and len(events) == 20
    assert [e.done for e in events] == list(range(1, 21))
    assert events[-1].errors == 10 and events[-1].total == 20
    assert all(e.concurrency == 4 and e.elapsed >= 0 for e in events)
    assert batch.done == 20 and batch.errors == 10


def test_progress_bar(server, capsys):
    pytest.importorskip("tqdm")  # a test extra: installed in CI
    c = make_ours(endpoint_url=server.url)
    reqs = [dict(EndpointName="e", Body=f"ok:pb:{i}".encode()) for i in range(50)]
    got = list(c.invoke_endpoint_batch(reqs, max_concurrency=4, progress=True))
    assert len(got) == 50
    err = capsys.readouterr().err
    assert "invoke_endpoint_batch" in err and "50/50" in err and "errors=0" in err


def test_throttling_with_fixed_concurrency_counts_throttles():
    from sagemaker_rt_c.local import LocalEndpoint, inline

    @inline
    def model(body):
        return body

    with LocalEndpoint({"m": model}, max_concurrency=2, latency=0.01) as ep:
        c = ep.client(config=Config(retries={"max_attempts": 10, "mode": "standard"}))
        reqs = [dict(EndpointName="m", Body=b"%d" % i) for i in range(40)]
        batch = c.invoke_endpoint_batch(reqs, max_concurrency=8)
        got = list(batch)
    assert [g["Body"] for g in got if isinstance(g, dict)] == [b"%d" % i for i in range(40)]
    assert batch.throttled > 0


def fds():
    return len(os.listdir("/proc/self/fd"))


def native_threads():
    """Threads that are not Python's (the server's are): the batch's workers among them."""
    return len(os.listdir("/proc/self/task")) - threading.active_count()


def test_nothing_left_behind(server):
    """Worker threads end with the batch; connections are reused, not multiplied."""
    c = make_ours(endpoint_url=server.url)
    list(c.invoke_endpoint_batch([dict(EndpointName="e", Body=b"ok:w:0")], max_concurrency=2))
    tasks0 = native_threads()
    fds0 = fds()
    for round_ in range(20):
        reqs = (dict(EndpointName="e", Body=f"ok:n{round_}:{i}".encode()) for i in range(50))
        got = list(c.invoke_endpoint_batch(reqs, max_concurrency=8))
        assert all(isinstance(g, dict) for g in got)
    # Abandoned half way: close() and the garbage collector stop the workers too.
    b = c.invoke_endpoint_batch(
        (dict(EndpointName="e", Body=f"ok:h:{i}".encode()) for i in range(500)), max_concurrency=8
    )
    next(b)
    b.close()
    b = c.invoke_endpoint_batch(
        (dict(EndpointName="e", Body=f"ok:h2:{i}".encode()) for i in range(500)), max_concurrency=8
    )
    next(b)
    del b
    deadline = time.monotonic() + 5
    while native_threads() > tasks0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert native_threads() <= tasks0
    # At most the 8 connections of a batch stay open (kept for reuse), whatever the rounds:
    # 4 descriptors each (the socket, libcurl's wake-up pair, the server's end: it runs in
    # this process).
    while fds() - fds0 > 4 * 8 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fds() - fds0 <= 4 * 8
    assert server.connections_accepted <= 2 + 8 * 3


def test_results_read_from_another_thread_are_refused(server):
    c = make_ours(endpoint_url=server.url)
    stall = threading.Event()

    def gen():
        yield dict(EndpointName="e", Body=b"ok:t:0")
        stall.wait(5)
        yield dict(EndpointName="e", Body=b"ok:t:1")

    batch = c.invoke_endpoint_batch(gen(), max_concurrency=1)
    errors = []
    t = threading.Thread(target=lambda: errors.append(next(batch)))
    t.start()
    time.sleep(0.2)
    with pytest.raises(RuntimeError, match="another thread"):
        next(batch)
    stall.set()
    t.join()
    assert errors[0]["Body"] == b"r:ok:t:0"
    assert next(batch)["Body"] == b"r:ok:t:1"


@pytest.mark.slow
def test_adaptive_concurrency_runs_at_the_endpoints_capacity():
    """Against a local endpoint that throttles above 4 requests in flight: 'auto' keeps the
    throttled responses a small fraction and loses nothing, where a fixed 32 floods the
    endpoint (most of its time goes to throttling backoffs)."""
    from sagemaker_rt_c.local import LocalEndpoint, inline

    @inline
    def model(body):
        return body

    n = 1200
    with LocalEndpoint({"m": model}, max_concurrency=4, latency=0.01) as ep:
        client = ep.client()
        runs = {}
        for mode in ("auto", 32):
            reqs = (dict(EndpointName="m", Body=b"%d" % i) for i in range(n))
            t0 = time.monotonic()
            batch = client.invoke_endpoint_batch(reqs, max_concurrency=mode)
            got = list(batch)
            runs[mode] = (time.monotonic() - t0, batch.throttled, batch.errors, batch.concurrency)
            ok = [g["Body"] for g in got if isinstance(g, dict)]
            assert len(got) == n
            assert ok == sorted(ok, key=int)  # in order
            # Every other result is the ThrottlingException of a call throttled three times.
            assert all(
                g.response["Error"]["Code"] == "ThrottlingException"
                for g in got
                if not isinstance(g, dict)
            )
    (t_auto, thr_auto, err_auto, _), (t_fixed, thr_fixed, _, _) = runs["auto"], runs[32]
    assert err_auto <= 0.01 * n, runs
    assert thr_auto <= 0.10 * n, runs
    assert thr_fixed >= 3 * max(thr_auto, 1), runs
    assert t_fixed >= 1.5 * t_auto, runs  # same run, same endpoint: a ratio


def test_last_latency_is_the_calls_own(server):
    """last_latency: first send to response of the result just yielded, not the time it
    waited in the batch behind a slower one; None for a request never sent."""
    c = make_ours(endpoint_url=server.url)
    server.default = lambda req: Delay(0.3 if req.body == b"slow" else 0.0, Reply(200, [], b"x"))
    reqs = [dict(EndpointName="e", Body=b"slow"), dict(EndpointName="e", Body=b"fast"), {}]
    batch = c.invoke_endpoint_batch(reqs, max_concurrency=4)
    next(batch)
    assert batch.last_latency >= 0.25
    next(batch)  # done long before the slow one was
    assert batch.last_latency < 0.2
    assert type(next(batch)).__name__ == "ParamValidationError"
    assert batch.last_latency is None
