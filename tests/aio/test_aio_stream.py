"""sagemaker_rt_c.aio: invoke_endpoint_with_response_stream. Events as they arrive (a worker
waits for each network read, the loop decodes), the same events and errors as the sync
client's on every scenario of the sync suite, lines across parts, cancelling a read, and a
stalled stream never blocking the loop."""

import asyncio
import os
import sys
import threading
import time

import pytest
from conftest import ACCESS_KEY, SECRET_KEY, TESTS, make_ours
from servers import Script

sys.path.insert(0, os.path.join(TESTS, "client"))  # the sync suite's scenarios
from test_response_stream import (  # noqa: E402
    SCENARIOS,
    drain,
    event,
    open_connections_to,
    stream,
)

from sagemaker_rt_c.aio import get_session


def aio_client(url, **kw):
    return get_session().create_client(
        "sagemaker-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        **kw,
    )


async def adrain(resp):
    events = []
    try:
        async for ev in resp["Body"]:
            events.append(ev)
    except Exception as e:  # noqa: BLE001 - compared with the sync client's
        return events, (type(e).__name__, str(e), getattr(e, "response", None))
    return events, ("end",)


def call_kw():
    return dict(EndpointName="ep", Body=b"{}")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_events_and_errors_as_the_sync_client(server, name):
    steps = stream(*SCENARIOS[name])
    server.queue(Script(list(steps)))
    sync = make_ours(endpoint_url=server.url).invoke_endpoint_with_response_stream(**call_kw())
    want = drain(sync)

    async def run():
        server.queue(Script(list(steps)))
        async with aio_client(server.url) as c:
            resp = await c.invoke_endpoint_with_response_stream(**call_kw())
            assert resp["ContentType"] == sync["ContentType"]
            return await adrain(resp)

    assert asyncio.run(run()) == want


def test_events_reach_the_caller_before_the_next_is_sent(server):
    got_first = threading.Event()
    server.queue(Script(stream(event(b"one"), got_first, event(b"two"))))

    async def run():
        async with aio_client(server.url) as c:
            body = (await c.invoke_endpoint_with_response_stream(**call_kw()))["Body"]
            it = body.__aiter__()
            t0 = time.monotonic()
            assert await it.__anext__() == {"PayloadPart": {"Bytes": b"one"}}
            assert time.monotonic() - t0 < 5  # not the server's 10 s give-up
            got_first.set()
            assert await it.__anext__() == {"PayloadPart": {"Bytes": b"two"}}
            assert [e async for e in it] == []

    asyncio.run(run())


def test_iter_lines_and_payloads(server):
    parts = [b"hel", b"lo\nwor", b"ld\r\n", b"", b"last"]

    async def run():
        async with aio_client(server.url) as c:
            server.queue(Script(stream(*[event(p) for p in parts])))
            resp = await c.invoke_endpoint_with_response_stream(**call_kw())
            lines = [line async for line in resp["Body"].iter_lines()]
            server.queue(Script(stream(*[event(p) for p in parts])))
            resp = await c.invoke_endpoint_with_response_stream(**call_kw())
            payloads = [p async for p in resp["Body"].iter_payloads()]
            return lines, payloads

    lines, payloads = asyncio.run(run())
    assert lines == [b"hello", b"world", b"last"]
    assert payloads == parts


def test_cancel_a_read_and_the_loop_never_blocks(server):
    """A stream stalls after its first event: a ticker runs on; cancelling the read raises
    CancelledError at once, its connection is discarded, the client works on."""

    async def run():
        async with aio_client(server.url) as c:
            await (await c.invoke_endpoint(EndpointName="ep", Body=b"warm"))["Body"].read()
            server.queue(Script(stream(event(b"first"), 8, end=False)))
            resp = await c.invoke_endpoint_with_response_stream(**call_kw())
            it = resp["Body"].__aiter__()
            assert await it.__anext__() == {"PayloadPart": {"Bytes": b"first"}}
            gaps = []

            async def ticker():
                last = time.monotonic()
                while True:
                    await asyncio.sleep(0.001)
                    now = time.monotonic()
                    gaps.append(now - last)
                    last = now

            tick = asyncio.ensure_future(ticker())
            read = asyncio.ensure_future(it.__anext__())
            await asyncio.sleep(0.3)
            assert not read.done()
            t0 = time.monotonic()
            read.cancel()
            with pytest.raises(asyncio.CancelledError):
                await read
            assert time.monotonic() - t0 < 0.2
            tick.cancel()
            assert max(gaps) < 0.05, max(gaps)
            # The stalled connection is closed (the server, asleep in its script, still holds
            # its end: only the client's side is counted); the same client goes on.
            deadline = time.monotonic() + 2  # the worker sees the cancel within 50 ms
            while open_connections_to(server.port) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            assert open_connections_to(server.port) == 0
            r = await c.invoke_endpoint(EndpointName="ep", Body=b"after")
            assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
            assert open_connections_to(server.port) == 1

    asyncio.run(run())
