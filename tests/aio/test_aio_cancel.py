"""Cancelling a call of sagemaker_rt_c.aio at each stage: waiting for a slow response, asleep in
a retry's backoff, queued behind the worker limit (max_pool_connections). Each by
``task.cancel()``, ``asyncio.wait_for(..., timeout)`` and ``asyncio.timeout()``, on asyncio's
loop and on uvloop: the await raises at once (under 0.2 s, issue 12), the transfer stops (the
connection is discarded; a backoff's retry is never sent; a queued call never reaches the
server), the client keeps working, and no descriptor is left open once it is closed."""

import asyncio
import os
import sys
import threading
import time

import pytest
from servers import Delay, Reply, Script, ScriptedServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aio_util import (  # noqa: E402
    LOOP_FACTORIES,
    aio_client,
    asettle,
    baseline_fds,
    fds_back_to,
    open_connections_to,
    run,
)

from sagemaker_rt_c.config import Config  # noqa: E402

AT_ONCE = 0.2  # seconds from the cancellation to the exception (issue 12)
TIMEOUT = 0.25  # wait_for's and asyncio.timeout()'s: the call is at its stage well before


@pytest.fixture(params=list(LOOP_FACTORIES))
def loop_factory(request):
    return LOOP_FACTORIES[request.param]


def echo_router(delay=0.0):
    def route(req):
        reply = Reply(200, [("Content-Type", "text/plain")], b"r:" + req.body)
        return Delay(delay, reply) if delay else reply

    return route


@pytest.fixture
def server():
    s = ScriptedServer(default=echo_router())
    yield s
    s.close()


async def cancelled_after(call, how, ready):
    """Run the coroutine `call` until `ready()` (awaited) says it reached its stage, then cancel
    it `how`; seconds from the cancellation to the exception."""
    if how == "cancel":
        task = asyncio.ensure_future(call)
        await ready()
        assert not task.done()
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - t0
    ready_task = asyncio.ensure_future(ready())
    t0 = time.monotonic()
    if how == "wait_for":
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(call, TIMEOUT)
    else:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(TIMEOUT):
                await call
    late = time.monotonic() - t0 - TIMEOUT
    assert ready_task.done() and ready_task.exception() is None  # the stage was reached first
    return late


HOWS = ["cancel", "wait_for", "timeout"]


def requests_seen(server, n):
    async def ready():
        assert await asettle(lambda: len(server.requests) >= n, 2.0), len(server.requests)
        await asyncio.sleep(0.05)  # well into the stage

    return ready


@pytest.mark.parametrize("how", HOWS)
def test_waiting_for_a_slow_response(server, loop_factory, how):
    """The response takes its time: the call is cancelled while a worker waits for it."""
    release = threading.Event()  # the slow response, sent only at the end of the test
    baseline = baseline_fds(loop_factory)

    async def go():
        async with aio_client(server.url, config=Config(max_pool_connections=1)) as c:
            warm = await c.invoke_endpoint(EndpointName="ep", Body=b"warm")
            assert await warm["Body"].read() == b"r:warm"
            assert open_connections_to(server.port) == 1
            server.queue(Script([release, Reply(200, [], b"slow").encode()], keep=True))
            n = len(server.requests)
            call = c.invoke_endpoint(EndpointName="ep", Body=b"slow")
            late = await cancelled_after(call, how, requests_seen(server, n + 1))
            assert late < AT_ONCE, late
            # The transfer is aborted: its connection (the only one) is closed.
            assert await asettle(lambda: open_connections_to(server.port) == 0, 2.0)
            # The client works on, its one worker free (not waiting for the slow response).
            after = await asyncio.wait_for(c.invoke_endpoint(EndpointName="ep", Body=b"a"), 5)
            assert await after["Body"].read() == b"r:a"
            assert not release.is_set()
            assert open_connections_to(server.port) == 1

    try:
        run(go(), loop_factory)
    finally:
        release.set()
    assert fds_back_to(baseline) == baseline


@pytest.mark.parametrize("how", HOWS)
def test_in_a_retry_backoff(server, loop_factory, how):
    """A 503 asking for a 0.6 s wait (x-amz-retry-after, standard mode: the delay is raised
    to it): the call is cancelled while its backoff runs (a timer of the loop); the retry is
    never sent."""
    baseline = baseline_fds(loop_factory)

    async def go():
        async with aio_client(server.url) as c:
            await c.invoke_endpoint(EndpointName="ep", Body=b"warm")
            server.queue(Reply(503, [("x-amz-retry-after", "600")], b""))
            n = len(server.requests)
            t_sent = time.monotonic()
            call = c.invoke_endpoint(EndpointName="ep", Body=b"retried")
            late = await cancelled_after(call, how, requests_seen(server, n + 1))
            assert late < AT_ONCE, late
            assert len(server.requests) == n + 1
            # The 503 was read whole: its connection went back to the pool, and is reused.
            after = await c.invoke_endpoint(EndpointName="ep", Body=b"after")
            assert await after["Body"].read() == b"r:after"
            assert open_connections_to(server.port) == 1
            # Past the time the retry was due: it never came.
            await asyncio.sleep(max(0.0, t_sent + 0.9 - time.monotonic()))
            assert [r.body for r in server.requests[n:]] == [b"retried", b"after"]

    run(go(), loop_factory)
    assert fds_back_to(baseline) == baseline


def test_backoff_retry_semantics(server, loop_factory):
    """Not cancelled, the same 503 is retried after the delay asked for (the loop runs
    meanwhile), as the sync client retries it: RetryAttempts 1."""
    from conftest import make_ours

    server.queue(Reply(503, [("x-amz-retry-after", "300")], b""))
    sync = make_ours(endpoint_url=server.url).invoke_endpoint(EndpointName="ep", Body=b"s")
    assert sync["ResponseMetadata"]["RetryAttempts"] == 1

    async def go():
        async with aio_client(server.url) as c:
            server.queue(Reply(503, [("x-amz-retry-after", "300")], b""))
            ticks = 0

            async def tick():
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.01)
                    ticks += 1

            ticker = asyncio.ensure_future(tick())
            t0 = time.monotonic()
            resp = await c.invoke_endpoint(EndpointName="ep", Body=b"a")
            waited = time.monotonic() - t0
            ticker.cancel()
            return resp, waited, ticks

    resp, waited, ticks = run(go(), loop_factory)
    assert resp["ResponseMetadata"]["RetryAttempts"] == 1
    assert waited >= 0.3  # x-amz-retry-after: 300 ms at least
    assert ticks >= 10  # the loop ran during the backoff


@pytest.mark.parametrize("how", HOWS)
def test_queued_behind_the_worker_limit(loop_factory, how):
    """max_pool_connections=2 and 5 slow calls: the fourth, queued, is cancelled; it is never
    sent, and the others end with their own results."""
    baseline = baseline_fds(loop_factory)
    with ScriptedServer(default=echo_router(delay=0.4)) as server:

        async def go():
            async with aio_client(server.url, config=Config(max_pool_connections=2)) as c:

                async def call(i):
                    r = await c.invoke_endpoint(EndpointName="ep", Body=f"q{i}".encode())
                    return await r["Body"].read()

                tasks = [asyncio.ensure_future(call(i)) for i in range(5) if i != 3]
                await asyncio.sleep(0)
                late = await cancelled_after(call(3), how, requests_seen(server, 2))
                assert late < AT_ONCE, late
                got = await asyncio.gather(*tasks)
                assert got == [b"r:q0", b"r:q1", b"r:q2", b"r:q4"]
                assert sorted(r.body for r in server.requests) == [b"q0", b"q1", b"q2", b"q4"]
                again = await c.invoke_endpoint(EndpointName="ep", Body=b"again")
                assert await again["Body"].read() == b"r:again"

        run(go(), loop_factory)
    assert fds_back_to(baseline) == baseline


@pytest.mark.parametrize("loop", list(LOOP_FACTORIES))
def test_many_cancelled_at_random_points(loop):
    """200 calls on a slow-ish server, cancelled at random moments (before, during, after
    their transfers and backoffs): every await ends, the client works on, nothing is left."""
    import random

    rnd = random.Random(7)

    seen = set()

    def route(req):
        k = int(req.body) % 4
        if k == 0 and req.body not in seen:  # retried once, then answered
            seen.add(req.body)
            return Reply(503, [("x-amz-retry-after", "50")], b"")
        return Delay(rnd.random() * 0.03, Reply(200, [], b"r:" + req.body))

    baseline = baseline_fds(LOOP_FACTORIES[loop])
    with ScriptedServer(default=route) as server:

        async def go():
            async with aio_client(server.url, config=Config(max_pool_connections=8)) as c:

                async def call(i):
                    r = await c.invoke_endpoint(EndpointName="ep", Body=str(i).encode())
                    return await r["Body"].read()

                tasks = [asyncio.ensure_future(call(i)) for i in range(200)]
                for t in tasks:
                    if rnd.random() < 0.5:
                        asyncio.get_running_loop().call_later(rnd.random() * 0.3, t.cancel)
                results = await asyncio.gather(*tasks, return_exceptions=True)
                for i, r in enumerate(results):
                    assert isinstance(r, asyncio.CancelledError) or r == f"r:{i}".encode(), (i, r)
                assert sum(isinstance(r, bytes) for r in results) >= 50
                final = await asyncio.gather(*(call(i) for i in range(1, 200, 4)))
                assert final == [f"r:{i}".encode() for i in range(1, 200, 4)]

        run(go(), LOOP_FACTORIES[loop])
    assert fds_back_to(baseline) == baseline


@pytest.mark.parametrize("how", HOWS)
def test_waiting_for_a_credential_refresh(server, loop_factory, how):
    """Credentials expired: the call waits for their refresh (0.5 s, in the executor) and is
    cancelled meanwhile; the refresh itself goes on, once, and the next call is signed with
    its key."""
    import datetime

    from sagemaker_rt_c.credentials import RefreshableCredentials

    started = threading.Event()
    refreshes = []

    def refresh():
        refreshes.append(1)
        started.set()
        time.sleep(0.5)
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        return {
            "access_key": "AKIDREFRESHED",
            "secret_key": "secret",
            "token": "token",
            "expiry_time": expiry.isoformat(),
        }

    expired = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    creds = RefreshableCredentials("AKIDOLD", "secret", "token", expired, refresh, "test")

    async def ready():
        assert await asettle(started.is_set, 2.0)
        await asyncio.sleep(0.05)

    async def go():
        async with aio_client(server.url, credentials=creds) as c:
            call = c.invoke_endpoint(EndpointName="ep", Body=b"x")
            late = await cancelled_after(call, how, ready)
            assert late < AT_ONCE, late
            assert server.requests == []
            r = await c.invoke_endpoint(EndpointName="ep", Body=b"after")
            assert await r["Body"].read() == b"r:after"

    run(go(), loop_factory)
    assert refreshes == [1]
    assert "Credential=AKIDREFRESHED/" in server.requests[0].header("Authorization")
