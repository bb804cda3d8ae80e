"""The asyncio client's transport: every call on one I/O thread over non-blocking connections
(runner.h's evented runner, http.h's non-blocking mode). Each phase a blocking transfer waits
in is exercised here through the event loop: connecting (refused, and TLS handshakes), sending
a body larger than the socket buffer, reading, a proxy's CONNECT tunnel (libcurl's own
transfer, driven by its socket callbacks), and the outcomes are the sync client's."""

from __future__ import annotations

import asyncio
import socket
import ssl

import pytest
import trustme
from aio_util import LOOP_FACTORIES, aio_client, aio_outcome, run, sync_outcome
from botocore.config import Config
from conftest import make_ours
from servers import Delay, Reply, ScriptedServer

BODY = b"from origin"


@pytest.fixture(params=list(LOOP_FACTORIES))
def loop_factory(request):
    return LOOP_FACTORIES[request.param]


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("aio-pki") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, str(path)


@pytest.fixture
def tls_origin(ca):
    authority, _ = ca
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    with ScriptedServer(default=Reply(200, [], BODY), tls=ctx) as s:
        yield s


async def call(c, **params):
    try:
        return await aio_outcome(await c.invoke_endpoint(EndpointName="ep", **params))
    except Exception as e:  # noqa: BLE001 - the outcome compared
        return await aio_outcome(e)


def sync_call(client, **params):
    try:
        return sync_outcome(client.invoke_endpoint(EndpointName="ep", **params))
    except Exception as e:  # noqa: BLE001
        return sync_outcome(e)


def test_connection_refused_as_the_sync_client(loop_factory):
    """A port nobody listens on: the non-blocking connect fails as the blocking one does
    (EndpointConnectionError, after botocore's retries)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{s.getsockname()[1]}"
    s.close()
    config = Config(retries={"max_attempts": 1, "mode": "standard"})
    want = sync_call(make_ours(endpoint_url=url, config=config), Body=b"x")
    assert want[0] == "EndpointConnectionError"

    async def go():
        async with aio_client(url, config=config) as c:
            return await asyncio.gather(*(call(c, Body=b"x") for _ in range(8)))

    assert run(go(), loop_factory) == [want] * 8


def test_tls_handshakes_on_the_loop(tls_origin, ca, loop_factory):
    """64 calls over TLS at once: 64 handshakes made by the one I/O thread (libcurl's
    non-blocking connect), then the same connections kept alive for the next rounds; a
    verification failure is the sync client's SSLError."""
    _, ca_file = ca
    config = Config(max_pool_connections=64)

    async def go():
        async with aio_client(tls_origin.url, config=config, verify=ca_file) as c:
            first = await asyncio.gather(*(call(c, Body=b"%d" % i) for i in range(64)))
            accepted = tls_origin.connections_accepted
            rest = await asyncio.gather(*(call(c, Body=b"%d" % i) for i in range(128)))
            return first + rest, accepted, tls_origin.connections_accepted

    results, accepted, after = run(go(), loop_factory)
    want = sync_call(make_ours(endpoint_url=tls_origin.url, verify=ca_file), Body=b"0")
    assert want[:2] == ("ok", BODY)
    assert results == [want] * 192
    assert accepted <= 64
    assert after == accepted  # the later rounds reused them

    bad = sync_call(make_ours(endpoint_url=tls_origin.url), Body=b"0")  # the system CAs
    assert bad[0] == "SSLError"

    async def untrusted():
        async with aio_client(tls_origin.url) as c:
            return await call(c, Body=b"0")

    assert run(untrusted(), loop_factory) == bad


def test_large_bodies_both_ways(loop_factory):
    """Bodies of 4 MiB, more than a socket buffer holds: the upload waits for the socket to
    drain (the loop never blocked) and the echoed answer arrives whole."""
    with ScriptedServer(default=lambda req: Reply(200, [], req.body)) as server:
        payloads = [bytes([65 + i]) * (4 << 20) for i in range(4)]

        async def go():
            async with aio_client(server.url) as c:
                return await asyncio.gather(*(call(c, Body=p) for p in payloads))

        got = run(go(), loop_factory)
    assert [g[1] for g in got] == payloads


def test_through_a_proxy_tunnel(tls_origin, ca, loop_factory):
    """An https endpoint through an http proxy: libcurl's CONNECT and TLS, in non-blocking
    mode (its sockets and timer reach the loop through its callbacks), as the sync client."""
    _, ca_file = ca
    with ScriptedServer(relay_connect=True) as proxy:
        config = Config(proxies={"https": proxy.url}, max_pool_connections=8)
        sync = make_ours(endpoint_url=tls_origin.url, config=config, verify=ca_file)
        want = sync_call(sync, Body=b"x")
        assert want[:2] == ("ok", BODY)
        proxy.clear()

        async def go():
            async with aio_client(tls_origin.url, config=config, verify=ca_file) as c:
                return await asyncio.gather(*(call(c, Body=b"x") for _ in range(16)))

        assert run(go(), loop_factory) == [want] * 16
        assert 1 <= len([r for r in proxy.requests if r.method == "CONNECT"]) <= 8


def test_a_slow_call_never_holds_up_the_others(loop_factory):
    """One call whose answer takes 1.5 s and 200 quick ones on the same client (pool 8): the
    quick ones all finish while the slow one waits, the one I/O thread serving all of them."""

    def answer(req):
        if req.body == b"slow":
            return Delay(1.5, Reply(200, [], b"slow"))
        return Reply(200, [], b"quick")

    with ScriptedServer(default=answer) as server:

        async def go():
            async with aio_client(server.url, config=Config(max_pool_connections=8)) as c:
                slow = asyncio.ensure_future(call(c, Body=b"slow"))
                await asyncio.sleep(0.05)
                quick = await asyncio.gather(*(call(c, Body=b"q") for _ in range(200)))
                return quick, slow.done(), await slow

        quick, slow_done_early, slow = run(go(), loop_factory)
    assert all(q[1] == b"quick" for q in quick)
    assert not slow_done_early
    assert slow[1] == b"slow"


def test_calls_cancelled_in_a_backoff_free_their_place(loop_factory):
    """max_pool_connections=2, and four calls cancelled (a timeout) while they wait out a
    retry's backoff on the loop's timer: each gives its place back, so the next call runs."""
    throttled = Reply(503, [("x-amz-retry-after", "8000")], b"{}")

    def answer(req):
        return throttled if req.body == b"busy" else Reply(200, [], b"fine")

    with ScriptedServer(default=answer) as server:

        async def go():
            async with aio_client(server.url, config=Config(max_pool_connections=2)) as c:
                for _ in range(4):
                    with pytest.raises(TimeoutError):
                        busy = c.invoke_endpoint(EndpointName="ep", Body=b"busy")
                        await asyncio.wait_for(busy, 0.3)
                return await asyncio.wait_for(call(c, Body=b"ok"), 5)

        assert run(go(), loop_factory)[1] == b"fine"
