"""sagemaker_rt_c.aio under load, on asyncio's loop and on uvloop: a thousand concurrent calls on
one client (each result, or error, in its own future); the loop never blocked for 50 ms while
64 calls run (a ticker sleeping 1 ms measures it, issue 12); credential refreshes off the loop
thread, never blocking it. The endpoint is the package's local endpoint in a child process
(tests/aio/echo_handlers.py), so that its Python never competes with this process's."""

import asyncio
import contextlib
import datetime
import gc
import os
import sys
import threading
import time

import pytest
from conftest import ACCESS_KEY, SECRET_KEY

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aio_util import (  # noqa: E402
    LOOP_FACTORIES,
    ChildEndpoint,
    Ticker,
    aio_client,
    run,
)

from sagemaker_rt_c.config import Config  # noqa: E402
from sagemaker_rt_c.credentials import RefreshableCredentials  # noqa: E402

BLOCK_BOUND = 0.05  # the longest the loop may be kept from a 1 ms ticker (issue 12)


@pytest.fixture(params=list(LOOP_FACTORIES))
def loop_factory(request):
    return LOOP_FACTORIES[request.param]


@pytest.fixture(scope="module")
def endpoint():
    with ChildEndpoint() as ep:
        yield ep


@pytest.fixture(scope="module")
def slow_endpoint():
    """20 ms of model latency on every call (spent on the endpoint's loop, not a thread)."""
    with ChildEndpoint(latency_ms=20, endpoints=("echo", "flaky")) as ep:
        yield ep


@contextlib.contextmanager
def frozen_heap():
    """The test process's heap (pytest, hypothesis, boto3 ...: ~100,000 objects) left out of
    the garbage collector's full collections while the loop is measured, as services freeze
    theirs after start-up (gc.freeze): a full collection of it alone takes tens of ms here,
    whoever allocates."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def thread_count():
    return len(os.listdir("/proc/self/task"))


def body_of(i):
    return (f"fail:{i}" if i % 10 == 3 else f"id:{i}").encode()


async def outcome(c, i):
    try:
        r = await c.invoke_endpoint(EndpointName="echo", Body=body_of(i))
    except c.exceptions.ModelError as e:
        return ("ModelError", e.response["OriginalMessage"])
    return ("ok", await r["Body"].read(), r["ContentType"])


def expected(i):
    if i % 10 == 3:
        return ("ModelError", f"fail:{i}")
    return ("ok", f"id:{i}".encode(), "application/octet-stream")


@pytest.mark.parametrize("pool", [None, 64])
def test_a_thousand_concurrent_calls(endpoint, loop_factory, pool):
    """1,000 calls gathered at once on one client (its default pool of 10, and 64): every
    result in its own future, the model's errors too (every tenth call fails by its body)."""
    kw = {"config": Config(max_pool_connections=pool)} if pool else {}
    most = 0

    async def go():
        nonlocal most
        before = thread_count()
        async with aio_client(endpoint.url, **kw) as c:
            calls = asyncio.gather(*(outcome(c, i) for i in range(1000)))
            while not calls.done():
                most = max(most, thread_count() - before)
                await asyncio.sleep(0.001)
            return await calls

    got = run(go(), loop_factory)
    assert got == [expected(i) for i in range(1000)]
    # No thread per call in flight: the engine's one I/O thread and the loop's executor
    # (create_client ran in it), whatever the pool.
    assert 0 < most <= 2, most


@pytest.mark.parametrize("size", [16, 64 << 10])
def test_the_loop_never_blocks_while_64_calls_run(slow_endpoint, loop_factory, size):
    """64 calls in flight at a time (20 ms each, bodies of `size` bytes both ways, a tenth of
    them the model's errors), 8 rounds: a ticker sleeping 1 ms never waits 50 ms."""
    pad = b"." * size

    async def one(c, i):
        body = body_of(i) + pad
        try:
            r = await c.invoke_endpoint(EndpointName="echo", Body=body)
        except c.exceptions.ModelError:
            return i % 10 == 3
        return await r["Body"].read() == body

    async def go():
        async with aio_client(slow_endpoint.url, config=Config(max_pool_connections=64)) as c:
            await asyncio.gather(*(one(c, i) for i in range(64)))  # connections made
            async with Ticker() as t:
                results = []
                for k in range(8):
                    results += await asyncio.gather(*(one(c, k * 64 + i) for i in range(64)))
            return results, t

    with frozen_heap():
        results, ticker = run(go(), loop_factory)
    assert all(results) and len(results) == 512
    assert ticker.ticks > 100
    assert ticker.max_gap < BLOCK_BOUND, ticker.max_gap


# --- credentials ------------------------------------------------------------------------------


class SlowRefresh:
    """A refresh function that takes 0.3 s (an STS call, say), recording the threads it ran in;
    each refresh gives a new access key and credentials good for `lifetime` (a list: one per
    refresh, the last one for the rest)."""

    def __init__(self, lifetime):
        self.lifetimes = lifetime if isinstance(lifetime, list) else [lifetime]
        self.threads = []

    def __call__(self):
        self.threads.append(threading.get_ident())
        time.sleep(0.3)
        lifetime = self.lifetimes[min(len(self.threads), len(self.lifetimes)) - 1]
        expiry = datetime.datetime.now(datetime.timezone.utc) + lifetime
        return {
            "access_key": f"AKIDREFRESH{len(self.threads)}",
            "secret_key": SECRET_KEY,
            "token": "token",
            "expiry_time": expiry.isoformat(),
        }


def refreshable(refresh, expires_in):
    expiry = datetime.datetime.now(datetime.timezone.utc) + expires_in
    return RefreshableCredentials(
        ACCESS_KEY, SECRET_KEY, "token", expiry, refresh, method="test-refresh"
    )


def keys_signed_with(server, start):
    out = []
    for r in server.requests[start:]:
        auth = r.header("Authorization")
        out.append(auth.split("Credential=")[1].split("/")[0])
    return out


def run_calls_with(creds, server, loop_factory, rounds, calls=16):
    """`rounds` rounds of `calls` concurrent calls with a ticker; (loop thread, ticker)."""

    async def go():
        async with aio_client(server.url, credentials=creds) as c:
            loop_thread = threading.get_ident()
            async with Ticker() as t:
                for _ in range(rounds):
                    got = await asyncio.gather(
                        *(c.invoke_endpoint(EndpointName="ep", Body=b"x") for _ in range(calls))
                    )
                    assert [g["ResponseMetadata"]["HTTPStatusCode"] for g in got] == [200] * calls
            return loop_thread, t

    with frozen_heap():
        return run(go(), loop_factory)


def test_a_refresh_runs_off_the_loop_and_never_blocks_it(server, loop_factory):
    """Credentials expired at the first call: 16 concurrent calls wait for one refresh (0.3 s),
    which runs in another thread while the loop ticks on; all are signed with its key."""
    refresh = SlowRefresh(datetime.timedelta(hours=1))
    creds = refreshable(refresh, datetime.timedelta(minutes=-1))
    loop_thread, ticker = run_calls_with(creds, server, loop_factory, rounds=2)
    assert len(refresh.threads) == 1
    assert loop_thread not in refresh.threads
    assert ticker.max_gap < BLOCK_BOUND, ticker.max_gap
    assert keys_signed_with(server, 0) == ["AKIDREFRESH1"] * 32


@pytest.mark.parametrize(
    "lifetime",
    [datetime.timedelta(minutes=14), datetime.timedelta(minutes=5)],
    ids=["advisory", "mandatory"],
)
def test_short_lived_credentials_refresh_off_the_loop(server, loop_factory, lifetime):
    """Credentials that are always within the refresh window (STS's shortest, 15 minutes, are
    in the advisory window from the start; a 5-minute lifetime in the mandatory one): botocore
    refreshes them at every call; here too, and never on the loop thread."""
    refresh = SlowRefresh(lifetime)
    creds = refreshable(refresh, datetime.timedelta(minutes=-1))
    loop_thread, ticker = run_calls_with(creds, server, loop_factory, rounds=3, calls=4)
    assert refresh.threads
    assert loop_thread not in refresh.threads
    assert ticker.max_gap < BLOCK_BOUND, ticker.max_gap


def test_an_advisory_refresh_keeps_the_calls_going(server, loop_factory):
    """Credentials in botocore's advisory window (14 minutes left, after a first refresh):
    as in the sync client, one refresh runs (off the loop) while the calls go on, signed with
    the still-valid credentials; the calls after it are signed with the new ones."""
    refresh = SlowRefresh([datetime.timedelta(minutes=14), datetime.timedelta(hours=1)])
    creds = refreshable(refresh, datetime.timedelta(minutes=-1))  # expired: the first call waits

    async def go():
        async with aio_client(server.url, credentials=creds) as c:
            loop_thread = threading.get_ident()
            await c.invoke_endpoint(EndpointName="ep", Body=b"x")
            assert keys_signed_with(server, 0) == ["AKIDREFRESH1"]
            await asyncio.gather(
                *(c.invoke_endpoint(EndpointName="ep", Body=b"x") for _ in range(8))
            )
            advisory = keys_signed_with(server, 1)
            deadline = time.monotonic() + 5
            while keys_signed_with(server, len(server.requests) - 1) != ["AKIDREFRESH2"]:
                assert time.monotonic() < deadline, keys_signed_with(server, 0)
                await asyncio.sleep(0.05)
                await c.invoke_endpoint(EndpointName="ep", Body=b"x")
            return loop_thread, advisory

    loop_thread, advisory = run(go(), loop_factory)
    assert advisory == ["AKIDREFRESH1"] * 8  # none waited for the second refresh
    assert len(refresh.threads) == 2 and loop_thread not in refresh.threads


def test_presigning_refreshes_off_the_loop(server, loop_factory):
    """generate_presigned_url with credentials due for a refresh: the refresh runs off the
    loop thread too, and the URL is signed with the refreshed key."""
    refresh = SlowRefresh(datetime.timedelta(hours=1))
    creds = refreshable(refresh, datetime.timedelta(minutes=-1))

    async def go():
        async with aio_client(server.url, credentials=creds) as c:
            async with Ticker() as t:
                url = await c.generate_presigned_url(
                    "invoke_endpoint", Params={"EndpointName": "ep", "Body": b""}
                )
            return threading.get_ident(), url, t

    with frozen_heap():
        loop_thread, url, ticker = run(go(), loop_factory)
    assert "X-Amz-Credential=AKIDREFRESH1" in url
    assert refresh.threads and loop_thread not in refresh.threads
    assert ticker.max_gap < BLOCK_BOUND, ticker.max_gap


def test_retries_never_block_the_loop(slow_endpoint, loop_factory):
    """The same bound with retries: a tenth of the calls answered 503 first, retried after a
    backoff on the loop's timers, their error responses classified on the loop."""
    nonce = os.urandom(4).hex()

    async def go():
        async with aio_client(slow_endpoint.url, config=Config(max_pool_connections=64)) as c:

            async def one(i):
                body = f"{nonce}:{i}".encode()
                r = await c.invoke_endpoint(EndpointName="flaky", Body=body)
                ok = await r["Body"].read() == body
                return ok, r["ResponseMetadata"]["RetryAttempts"]

            await asyncio.gather(*(one(i) for i in range(1, 640, 10)))  # connections made
            async with Ticker() as t:
                got = await asyncio.gather(*(one(i) for i in range(192)))
            return got, t

    with frozen_heap():
        got, ticker = run(go(), loop_factory)
    assert got == [(True, int(i % 10 == 0)) for i in range(192)]
    assert ticker.max_gap < BLOCK_BOUND, ticker.max_gap
