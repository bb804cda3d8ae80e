"""Fault injection, boto3 against sagemaker_rt_c: broken networks and broken servers.

Most tests run once per client (``make_client``) with the same expectations, which were
observed with botocore 1.43: the exception class and message, how many requests reached the
server (retries), and that nothing crashes or hangs (every scenario is bounded by a timeout).
The malformed-JSON test compares the two clients directly, botocore being the oracle.
Retry sleeps are patched out (botocore's ``time.sleep`` in ``botocore.endpoint``, our
``client._sleep`` hook) so that retried scenarios take no time.
"""

import json
import socket
import struct
import threading
import time

import pytest
from servers import Close, Delay, Partial, Reply, Reset

pytestmark = pytest.mark.differential

ENDPOINT_PATH = "/endpoints/ep/invocations"
ONE_ATTEMPT = {"retries": {"total_max_attempts": 1}}


# --------------------------------------------------------------------------- helpers


class RawReply(Reply):
    """Send these bytes as they are instead of an HTTP response, then close."""

    def __init__(self, data):
        super().__init__(close=True)
        self.data = data

    def encode(self):
        return self.data


class RawServer:
    """A loopback server that runs ``handler(conn)`` for each accepted connection."""

    def __init__(self, handler):
        self.handler = handler
        self.accepted = 0
        self._conns = []
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted += 1
            self._conns.append(conn)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn):
        try:
            self.handler(conn)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self):
        self._sock.close()
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass


@pytest.fixture
def raw_server():
    servers = []

    def start(handler):
        servers.append(RawServer(handler))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def read_head(conn):
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            raise OSError("client went away")
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def read_request(conn):
    head, rest = read_head(conn)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        data = conn.recv(1 << 20)
        if not data:
            raise OSError("client went away")
        rest += data
    return head, rest


def rst_close(conn):
    """Close with a TCP RST (SO_LINGER 0) instead of a FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class _TimeShim:
    def __init__(self, sleep):
        self.sleep = sleep

    def __getattr__(self, name):
        return getattr(time, name)


@pytest.fixture
def flavour(make_client):
    return "boto3" if make_client.__name__ == "make_boto3" else "ours"


@pytest.fixture
def client_for(make_client, flavour, monkeypatch):
    """``client_for(url, **config)``: a client of the flavour under test, retry sleeps off."""
    if flavour == "boto3":
        import botocore.endpoint
        from botocore.config import Config

        monkeypatch.setattr(botocore.endpoint, "time", _TimeShim(sleep=lambda s: None))
    else:
        from sagemaker_rt_c import Config

    def make(url, **config):
        client = make_client(endpoint_url=url, config=Config(**config))
        if flavour == "ours":
            client._sleep = lambda s: None
        return client

    return make


def call(client, body=b"x"):
    """(response, None, seconds) or (None, exception, seconds)."""
    t0 = time.monotonic()
    try:
        resp = client.invoke_endpoint(EndpointName="ep", Body=body)
        return resp, None, time.monotonic() - t0
    except Exception as e:  # noqa: BLE001 - compared by name and message
        return None, e, time.monotonic() - t0


def expect_raise(client, name, message=None, body=b"x"):
    resp, e, took = call(client, body)
    assert resp is None, f"expected {name}, got a response"
    assert type(e).__name__ == name, f"{type(e).__name__}: {e}"
    if message is not None:
        assert str(e) == message
    return e, took


def closed_message(url):
    return (
        "Connection was closed before we received a valid response from endpoint URL: "
        f'"{url}{ENDPOINT_PATH}".'
    )


# --------------------------------------------------------------------------- connecting


def test_connection_refused(client_for):
    url = f"http://127.0.0.1:{closed_port()}"
    e, took = expect_raise(
        client_for(url, **ONE_ATTEMPT),
        "EndpointConnectionError",
        f'Could not connect to the endpoint URL: "{url}{ENDPOINT_PATH}"',
    )
    assert e.kwargs["endpoint_url"] == url + ENDPOINT_PATH
    assert took < 5


def test_connection_refused_is_retried(client_for):
    """Refused connections are retried (legacy: 5 attempts) and end the same way."""
    url = f"http://127.0.0.1:{closed_port()}"
    expect_raise(
        client_for(url),
        "EndpointConnectionError",
        f'Could not connect to the endpoint URL: "{url}{ENDPOINT_PATH}"',
    )


@pytest.fixture
def full_backlog():
    """A listener whose accept queue is full: SYNs to it are dropped, so connect() times out.

    A non-routable address (10.255.255.1) does not work here: this sandbox's network answers
    every outbound connect at once. A full accept queue on loopback is portable and local.
    """
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    addr = srv.getsockname()
    filler = socket.create_connection(addr)  # takes the one queue slot; never accepted
    probe = socket.socket()
    probe.settimeout(0.3)
    try:
        with pytest.raises(TimeoutError):
            probe.connect(addr)  # precondition: a connect really does hang
    finally:
        probe.close()
    yield f"http://127.0.0.1:{addr[1]}"
    filler.close()
    srv.close()


def test_connect_timeout(client_for, full_backlog):
    url = full_backlog
    e, took = expect_raise(
        client_for(url, connect_timeout=0.5, **ONE_ATTEMPT),
        "ConnectTimeoutError",
        f'Connect timeout on endpoint URL: "{url}{ENDPOINT_PATH}"',
    )
    assert 0.4 < took < 3.0


# --------------------------------------------------------------------------- reading


@pytest.mark.slow
def test_read_timeout(client_for, server):
    server.queue(Delay(3.0, Reply(200, [], b"late")))
    e, took = expect_raise(
        client_for(server.url, read_timeout=1, **ONE_ATTEMPT),
        "ReadTimeoutError",
        f'Read timeout on endpoint URL: "{server.url}{ENDPOINT_PATH}"',
    )
    assert 0.9 < took < 2.5


@pytest.mark.slow
def test_late_response_is_not_taken_for_the_next_one(client_for, server):
    """After a read timeout the connection is dropped: the stalled reply, arriving later,
    must not be read as the answer to the next call."""
    server.queue(Delay(1.5, Reply(200, [], b"stale")), Reply(200, [], b"fresh"))
    client = client_for(server.url, read_timeout=1, **ONE_ATTEMPT)
    expect_raise(client, "ReadTimeoutError")
    time.sleep(0.8)  # the stale reply has been sent by now
    resp, e, _ = call(client, b"2")
    assert e is None, repr(e)
    assert resp["Body"].read() == b"fresh"
    assert [r.body for r in server.requests] == [b"x", b"2"]
    assert server.connections_accepted == 2


@pytest.mark.slow
def test_body_stalls_after_the_headers(client_for, raw_server, flavour):
    """Headers then a stall: the call returns, reading the body times out (not retried)."""

    def handler(conn):
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
        time.sleep(3)

    srv = raw_server(handler)
    resp, e, took = call(client_for(srv.url, read_timeout=1))
    assert e is None, repr(e)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(Exception) as info:
        resp["Body"].read()
    assert type(info.value).__name__ == "ReadTimeoutError"
    if flavour == "boto3":
        # botocore's StreamingBody has no URL at hand here (urllib3 does not set it).
        assert str(info.value) == 'Read timeout on endpoint URL: "None"'
    else:
        # Deliberate (README): ours names the URL.
        assert str(info.value) == f'Read timeout on endpoint URL: "{srv.url}{ENDPOINT_PATH}"'
    assert srv.accepted == 1


# --------------------------------------------------------------------------- resets, empty replies


def test_reset_after_the_request(client_for, server):
    server.queue(Reset())
    expect_raise(client_for(server.url, **ONE_ATTEMPT), "ConnectionClosedError")
    assert len(server.requests) == 1


def test_reset_is_retried(client_for, server):
    server.queue(Reset(), Reset(), Reply(200, [], b"ok"))
    resp, e, _ = call(client_for(server.url))
    assert e is None, repr(e)
    assert resp["ResponseMetadata"]["RetryAttempts"] == 2
    assert resp["Body"].read() == b"ok"
    assert len(server.requests) == 3


def test_reset_while_the_body_is_sent(client_for, raw_server):
    """The server resets the connection after reading the headers, mid-way through an 8 MiB
    body: ConnectionClosedError (retried: 5 attempts in legacy mode)."""

    def handler(conn):
        read_head(conn)
        conn.recv(1000)
        rst_close(conn)

    srv = raw_server(handler)
    expect_raise(
        client_for(srv.url),
        "ConnectionClosedError",
        closed_message(srv.url),
        body=b"z" * (8 << 20),
    )
    assert srv.accepted == 3  # standard: 3 attempts


def test_reset_in_the_middle_of_the_headers(client_for, raw_server):
    def handler(conn):
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Le")
        time.sleep(0.05)
        rst_close(conn)

    srv = raw_server(handler)
    expect_raise(
        client_for(srv.url, **ONE_ATTEMPT), "ConnectionClosedError", closed_message(srv.url)
    )


def test_reset_in_the_middle_of_a_200_body(client_for, raw_server):
    """botocore has returned the response once the headers are in: the reset surfaces when the
    body is read, as ResponseStreamingError, and the request is NOT sent again (retrying would
    run the inference again)."""

    def handler(conn):
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
        time.sleep(0.05)
        rst_close(conn)

    srv = raw_server(handler)
    resp, e, _ = call(client_for(srv.url))  # default retries: standard, 3 attempts
    assert e is None, f"{type(e).__name__}: {e}"
    assert srv.accepted == 1
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(Exception) as info:
        resp["Body"].read()
    assert type(info.value).__name__ == "ResponseStreamingError"
    reset = "ConnectionResetError(104, 'Connection reset by peer')"
    assert str(info.value) == (
        f'An error occurred while reading from response stream: ("Connection broken: {reset}", '
        f"{reset})"
    )


def test_reset_in_the_middle_of_an_error_body(client_for, flavour, raw_server):
    """An error body that breaks is not retried either. botocore lets urllib3's ProtocolError
    escape; ours raises ResponseStreamingError (the project's documented choice, as for a
    truncated error body in test_retries.py)."""

    def handler(conn):
        read_request(conn)
        conn.sendall(b'HTTP/1.1 500 Oops\r\nContent-Length: 100\r\n\r\n{"mess')
        time.sleep(0.05)
        rst_close(conn)

    srv = raw_server(handler)
    expected = "ProtocolError" if flavour == "boto3" else "ResponseStreamingError"
    e, _ = expect_raise(client_for(srv.url), expected)
    assert "Connection broken: ConnectionResetError(104, 'Connection reset by peer')" in str(e)
    assert srv.accepted == 1


def test_empty_reply(client_for, server):
    server.queue(*[Close()] * 3)
    expect_raise(client_for(server.url), "ConnectionClosedError", closed_message(server.url))
    assert len(server.requests) == 3  # standard: 3 attempts


# --------------------------------------------------------------------------- not HTTP

GARBAGE = {
    "text": b"garbage\r\n\r\n",
    "binary": bytes(range(256)) * 4,
    "ssh-banner": b"SSH-2.0-OpenSSH_9.6\r\n",
    "bad-status": b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n",
    "status-99": b"HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n",
    "status-1000": b"HTTP/1.1 1000 Odd\r\nContent-Length: 0\r\n\r\n",
    "http2-status-line": b"HTTP/2 200\r\nContent-Length: 2\r\n\r\nok",
}


@pytest.mark.parametrize("name", list(GARBAGE))
def test_garbage_instead_of_http(client_for, server, name):
    """http.client rejects the status line (BadStatusLine): botocore raises
    ConnectionClosedError, which standard mode retries (3 attempts)."""
    server.default = RawReply(GARBAGE[name])
    expect_raise(client_for(server.url), "ConnectionClosedError", closed_message(server.url))
    assert len(server.requests) == 3


@pytest.mark.slow
def test_garbage_without_a_line_end_waits_for_the_read_timeout(client_for, raw_server):
    """http.client waits for the end of the status line: a stalled partial line is a read
    timeout, not an immediate failure."""

    def handler(conn):
        read_request(conn)
        conn.sendall(b"\x00\x01\x02garbage")
        time.sleep(3)

    srv = raw_server(handler)
    e, took = expect_raise(
        client_for(srv.url, read_timeout=1, **ONE_ATTEMPT),
        "ReadTimeoutError",
        f'Read timeout on endpoint URL: "{srv.url}{ENDPOINT_PATH}"',
    )
    assert 0.9 < took < 2.5


# --------------------------------------------------------------------------- retries, errors


def test_5xx_then_success(client_for, server):
    server.queue(
        Reply(500, [("x-amzn-ErrorType", "InternalFailure")], b'{"message":"a"}'),
        Reply(502, [], b"<html><body>Bad Gateway</body></html>"),
        Reply(200, [("Content-Type", "text/plain")], b"finally"),
    )
    resp, e, _ = call(client_for(server.url))
    assert e is None, repr(e)
    assert resp["ResponseMetadata"]["RetryAttempts"] == 2
    # standard mode flags any response on the last allowed attempt
    assert resp["ResponseMetadata"]["MaxAttemptsReached"] is True
    assert resp["ContentType"] == "text/plain"
    assert resp["Body"].read() == b"finally"
    assert len(server.requests) == 3
    assert len({r.header("amz-sdk-invocation-id") for r in server.requests}) == 1


MALFORMED_JSON = [
    (400, b'{"message": "cut'),
    (400, b"{'message': 'single quotes'}"),
    (500, b'{"message": "a"} trailing'),
    (500, b'{"a":1}{"b":2}'),
    (424, b'\xef\xbb\xbf{"__type": "ModelError", "Message": "bom"}'),
    (400, b'{"message": "dup", "message": "second"}'),
    (400, b'{"message": 12345678901234567890123}'),
    (400, b'{"message": ["a", "list"], "code": "ValidationError"}'),
    (500, b"{"),
    (503, b"\n\n  \t"),
]


@pytest.mark.parametrize("status,body", MALFORMED_JSON)
def test_malformed_json_error_bodies(server, status, body):
    """Differential: botocore's parse (the message falls back to the body text)."""
    import botocore.config
    from conftest import make_boto3, make_ours

    import sagemaker_rt_c

    views = []
    for make, config in ((make_boto3, botocore.config.Config), (make_ours, sagemaker_rt_c.Config)):
        server.queue(Reply(status, [("Content-Type", "application/json")], body))
        _, e, _ = call(make(endpoint_url=server.url, config=config(**ONE_ATTEMPT)))
        assert e is not None, "expected an error"
        views.append((type(e).__name__, str(e), e.response))
    assert views[1] == views[0]
    assert len(server.requests) == 2


# --------------------------------------------------------------------------- truncated bodies


def test_truncated_200_body(client_for, server):
    """The call succeeds; reading past what arrived fails with IncompleteReadError (botocore 1.44
    reads with enforce_content_length=False, so its own length check fires); nothing is
    retried."""
    server.queue(Partial(100, b"abc"))
    resp, e, _ = call(client_for(server.url))
    assert e is None, repr(e)
    assert resp["ResponseMetadata"]["HTTPHeaders"]["content-length"] == "100"
    body = resp["Body"]
    assert body.read(2) == b"ab"
    assert body.read(1) == b"c"
    with pytest.raises(Exception) as info:
        body.read(5)
    assert type(info.value).__name__ == "IncompleteReadError"
    assert str(info.value) == "3 read, but total bytes expected is 100."
    assert len(server.requests) == 1


_CUT = ("IncompleteReadError", "5 read, but total bytes expected is 10.")
TRUNCATED_READS = {
    "iterate": (lambda b: iter(b), [b"ab\ncd", _CUT]),
    "iter_chunks": (lambda b: b.iter_chunks(2), [b"ab", b"\nc", b"d", _CUT]),
    "iter_lines": (lambda b: b.iter_lines(), [b"ab", _CUT]),
}


@pytest.mark.parametrize("how", list(TRUNCATED_READS))
def test_truncated_body_while_iterating(client_for, server, how):
    """What arrived is yielded first; the error comes where the data ends."""
    make_iter, expected = TRUNCATED_READS[how]
    server.queue(Partial(10, b"ab\ncd"))
    resp, e, _ = call(client_for(server.url))
    assert e is None, repr(e)
    got = []
    try:
        for item in make_iter(resp["Body"]):
            got.append(item)
    except Exception as exc:  # noqa: BLE001 - compared by name and message
        got.append((type(exc).__name__, str(exc)))
    assert got == expected
    assert resp["Body"].tell() == 5


def test_truncated_large_body_read_whole(client_for, server):
    data = bytes(range(256)) * 4096  # 1 MiB
    server.queue(Partial(len(data) + 1000, data))
    resp, e, _ = call(client_for(server.url))
    assert e is None, repr(e)
    with pytest.raises(Exception) as info:
        resp["Body"].read()
    assert type(info.value).__name__ == "ResponseStreamingError"
    assert "IncompleteRead(1048576 bytes read, 1000 more expected)" in str(info.value)


def test_truncated_chunked_body(client_for, raw_server, flavour):
    def handler(conn):
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nab")

    srv = raw_server(handler)
    resp, e, _ = call(client_for(srv.url))
    assert e is None, repr(e)
    with pytest.raises(Exception) as info:
        resp["Body"].read()
    assert type(info.value).__name__ == "ResponseStreamingError"
    # urllib3 counts whole chunks (5); libcurl also delivered the 2 bytes of the cut chunk.
    n = 5 if flavour == "boto3" else 7
    assert str(info.value) == (
        "An error occurred while reading from response stream: ('Connection broken: "
        f"IncompleteRead({n} bytes read)', IncompleteRead({n} bytes read))"
    )
    assert srv.accepted == 1


# --------------------------------------------------------------------------- huge headers


def _ok_with_headers(headers):
    return Reply(200, headers + [("Content-Type", "text/plain")], b"ok")


HUGE_OK = {
    # Inside http.client's limits (a line of at most 65536 bytes, fewer than 100 fields).
    "one-64k-value": [("X-Big", "a" * (65536 - 9))],
    "98-fields": [(f"X-H{i}", f"v{i}") for i in range(97)],
    "200k-total": [(f"X-H{i}", "b" * 2000) for i in range(90)],
    "name-255": [("X" + "n" * 254, "v")],
    "name-256": [("X" + "n" * 255, "v")],
    "name-257": [("X" + "n" * 256, "v")],
    "name-5000": [("X" + "n" * 4999, "v")],
    "custom-attributes-64k": [("X-Amzn-SageMaker-Custom-Attributes", "c" * 60000)],
}


@pytest.mark.parametrize("name", list(HUGE_OK))
def test_huge_headers_within_limits(client_for, server, name):
    headers = HUGE_OK[name]
    server.queue(_ok_with_headers(headers))
    resp, e, _ = call(client_for(server.url, **ONE_ATTEMPT))
    assert e is None, repr(e)
    got = resp["ResponseMetadata"]["HTTPHeaders"]
    for k, v in headers:
        assert got[k.lower()] == v
    assert len(got) == len(headers) + 2
    if name.startswith("custom"):
        assert resp["CustomAttributes"] == headers[0][1]
    assert resp["Body"].read() == b"ok"


HUGE_REFUSED = {
    # Beyond http.client's limits: botocore cannot read these responses.
    "line-over-64k": [("X-Big", "a" * (65536 - 8))],
    "100-fields": [(f"X-H{i}", f"v{i}") for i in range(98)],
    "1000-fields": [(f"X-H{i}", "v") for i in range(1000)],
}


@pytest.mark.parametrize("name", list(HUGE_REFUSED))
def test_huge_headers_beyond_http_client_limits(client_for, server, name):
    server.queue(_ok_with_headers(HUGE_REFUSED[name]))
    expect_raise(
        client_for(server.url, **ONE_ATTEMPT), "ConnectionClosedError", closed_message(server.url)
    )


def test_400k_of_headers_in_99_fields(client_for, server):
    """Each line and the field count within http.client's limits, 400 KiB in total: botocore
    reads it (libcurl's own total-size limit must not refuse it)."""
    headers = [(f"X-H{i}", "b" * 4500) for i in range(90)]
    server.queue(_ok_with_headers(headers))
    resp, e, _ = call(client_for(server.url, **ONE_ATTEMPT))
    assert e is None, f"{type(e).__name__}: {e}"
    assert resp["ResponseMetadata"]["HTTPHeaders"]["x-h89"] == "b" * 4500


# --------------------------------------------------------------------------- early answers


def _answer_early(status, then):
    body = json.dumps({"message": "too big"}).encode()

    def handler(conn):
        read_head(conn)  # the body is not read
        extra = b"Connection: close\r\n" if then != "keep" else b""
        conn.sendall(
            b"HTTP/1.1 %d Early\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s"
            % (status, len(body), extra, body)
        )
        if then == "drain":
            conn.settimeout(5)
            while conn.recv(1 << 20):
                pass
        elif then == "keep":
            time.sleep(2)
        # "close": closing with unread data sends a RST

    return handler


# "keep": the server holds the connection 2 s, and boto3 waits for it.
@pytest.mark.parametrize("then", ["close", "drain", pytest.param("keep", marks=pytest.mark.slow)])
@pytest.mark.parametrize("status", [413, 200])
def test_server_answers_before_reading_the_body(client_for, raw_server, status, then):
    """An 8 MiB request answered at once: the answer is delivered, not an I/O error."""
    srv = raw_server(_answer_early(status, then))
    resp, e, took = call(client_for(srv.url, read_timeout=5, **ONE_ATTEMPT), b"z" * (8 << 20))
    assert took < 10
    if status == 200:
        assert e is None, repr(e)
        assert resp["Body"].read() == b'{"message": "too big"}'
    else:
        assert type(e).__name__ == "ClientError", repr(e)
        assert (
            str(e) == "An error occurred (413) when calling the InvokeEndpoint operation "
            "(reached max retries: 0): too big"
        )
    assert srv.accepted == 1
