"""Regression tests for defects found in review of the call engine, the streaming transport,
the live RawStream and the EventReader (one test, or a few, per defect; the commit that fixed
each names it)."""

import sys
import time

import pytest
from conftest import make_ours
from servers import Script, ScriptedServer


def head(length=None, status=200, extra=()):
    lines = [f"HTTP/1.1 {status} OK", "Content-Type: application/octet-stream"]
    lines += [f"{k}: {v}" for k, v in extra]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def invoke(client, **kw):
    kw.setdefault("Body", b"{}")
    return client.invoke_endpoint(EndpointName="ep", **kw)


def proxied_client(proxy_url, **config):
    from sagemaker_rt_c.config import Config

    return make_ours(
        endpoint_url="http://sagemaker.invalid",
        config=Config(proxies={"http": proxy_url}, **config),
    )


# ---- the proxy path's read timeout counts from each read, not from the last byte ----------


@pytest.mark.parametrize("proxied", [False, True], ids=["direct", "proxy"])
def test_time_between_reads_is_not_a_read_timeout(proxied):
    # The caller takes 2 s over the first part; the rest comes 0.5 s after it reads again:
    # within read_timeout=1 (urllib3's timeout is per recv). The proxy path used to count
    # from the last byte received and fail at once.
    with ScriptedServer() as s:
        s.queue(Script([head(10) + b"01234", 2.5, b"56789"]))
        cfg = {"read_timeout": 1, "retries": {"max_attempts": 1}}
        if proxied:
            client = proxied_client(s.url, **cfg)
        else:
            from sagemaker_rt_c.config import Config

            client = make_ours(endpoint_url=s.url, config=Config(**cfg))
        body = invoke(client)["Body"]
        assert body.read(5) == b"01234"
        time.sleep(2.0)
        assert body.read(5) == b"56789"


def test_a_proxied_body_that_stalls_still_times_out():
    from sagemaker_rt_c.exceptions import ReadTimeoutError

    with ScriptedServer() as s:
        s.queue(Script([head(10) + b"01234", 4.0]))
        body = invoke(proxied_client(s.url, read_timeout=1, retries={"max_attempts": 1}))["Body"]
        assert body.read(5) == b"01234"
        t0 = time.monotonic()
        with pytest.raises(ReadTimeoutError):
            body.read(5)
        assert 0.8 < time.monotonic() - t0 < 2.5


# ---- a response whose upload broke after it arrived whole is not a live body -------------

EARLY_ANSWER = """
import socket, struct, sys, threading, time
sys.path[:0] = [{package!r}, {tests!r}]
from conftest import make_ours
from sagemaker_rt_c.config import Config

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(4)

def serve():
    while True:
        c, _ = srv.accept()
        buf = b""
        while b"\\r\\n\\r\\n" not in buf:
            buf += c.recv(65536)
        # The whole answer at once, the large request body unread; then a reset.
        c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\nabcde")
        time.sleep(0.3)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()

threading.Thread(target=serve, daemon=True).start()
proxy = "http://127.0.0.1:%d" % srv.getsockname()[1]
client = make_ours(
    endpoint_url="http://sagemaker.invalid",
    config=Config(proxies={{"http": proxy}}, retries={{"max_attempts": 1}}),
)
resp = client.invoke_endpoint(EndpointName="ep", Body=b"x" * (6 << 20))
body = resp["Body"]
print(body.readlines(), body._raw_stream.closed)
"""


def test_a_response_whose_upload_broke_after_it_came_whole_reads_to_its_end():
    # Through a proxy (libcurl's transfer) the server answers 200 in full before reading the
    # 6 MiB request, then resets: the upload fails after the response is complete, and the
    # response stands (as urllib3's). It used to become a live body over the closed
    # connection, whose readline() then waited forever for a b"\n" that could not come.
    import os
    import subprocess

    import sagemaker_rt_c

    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/, the helpers
    package = os.path.dirname(os.path.dirname(sagemaker_rt_c.__file__))  # this build (ASan too)
    out = subprocess.run(
        [sys.executable, "-c", EARLY_ANSWER.format(tests=tests, package=package)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "[b'abcde'] True"


# ---- read() of a live body does not allocate what the Content-Length claims ----------------


def test_a_huge_content_length_is_not_allocated_ahead():
    # A server claiming 10^18 bytes used to make read() ask for them at once: MemoryError.
    # The buffer now grows as the bytes come; the body broke off, and read() says so.
    from sagemaker_rt_c.exceptions import ResponseStreamingError

    with ScriptedServer() as s:
        s.queue(Script([head(10**18) + b"01234", 0.3, b"56789"]))
        body = invoke(make_ours(endpoint_url=s.url))["Body"]
        expect = r"IncompleteRead\(10 bytes read, 999999999999999990 more"
        with pytest.raises(ResponseStreamingError, match=expect):
            body.read()


def test_read_of_a_live_body_larger_than_the_read_ahead():
    # Past the 64 MiB read-ahead the buffer grows: every byte lands where it belongs.
    size = (64 << 20) + 300_001
    data = bytes(range(251)) * (size // 251) + b"z" * (size % 251)
    with ScriptedServer() as s:
        s.queue(Script([head(size) + data[:1000], 0.2, data[1000:]]))
        body = invoke(make_ours(endpoint_url=s.url))["Body"]
        got = body.read()
        assert len(got) == size
        assert got == data


# ---- response headers: a repeated name then a folded line ---------------------------------


def test_a_folded_line_after_a_repeated_header_joins_it_as_boto3():
    # headers_dict kept a borrowed pointer to the last name; for a repeated name the dict
    # keeps its first key object and ours was freed: the folded line then looked up freed
    # memory (ASan: heap-use-after-free; here: the fold lost, or a crash).
    from conftest import make_boto3

    hd = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Foo-Bar: a\r\nX-Foo-Bar: b\r\n"
        b" folded\r\nX-Other-Name: 1\r\nX-Other-Name: 2\r\n\tmore\r\nContent-Length: 2\r\n\r\nok"
    )
    got = {}
    with ScriptedServer() as s:
        for name, make in (("boto3", make_boto3), ("ours", make_ours)):
            seen = []
            for _ in range(20):
                s.queue(Script([hd]))
                r = invoke(make(endpoint_url=s.url))
                h = r["ResponseMetadata"]["HTTPHeaders"]
                seen.append((h.get("x-foo-bar"), h.get("x-other-name"), r["Body"].read()))
            got[name] = seen
    assert got["ours"] == got["boto3"]
    assert got["ours"][0][0] == "a, b folded"


# ---- a large upload over TLS 1.3 is not cut by the server's session ticket -----------------


@pytest.fixture
def tls_origin(tmp_path):
    """A TLS 1.3 origin on a raw socket running `handler(conn, head, rest)` per connection;
    yields (url, ca_file, set_handler)."""
    import os
    import socket
    import ssl
    import threading

    import trustme

    ca = trustme.CA()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(ctx)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ca_file = os.path.join(tmp_path, "ca.pem")
    with open(ca_file, "wb") as f:
        f.write(ca.cert_pem.bytes())
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    state = {}

    def serve():
        while True:
            try:
                raw, _ = srv.accept()
            except OSError:
                return
            try:
                conn = ctx.wrap_socket(raw, server_side=True)
                buf = b""
                while b"\r\n\r\n" not in buf:
                    buf += conn.recv(65536)
                head, _, rest = buf.partition(b"\r\n\r\n")
                state["handler"](conn, head, rest)
                conn.close()
            except OSError:
                pass

    threading.Thread(target=serve, daemon=True).start()
    yield f"https://localhost:{srv.getsockname()[1]}", ca_file, state
    srv.close()


def _content_length(head):
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def test_a_large_upload_over_tls13_to_a_slow_reader_is_sent_whole(tls_origin):
    # TLS 1.3 servers send a NewSessionTicket after the handshake: unread, it made the socket
    # readable, and direct_send took that for an early answer the first time the send buffer
    # stayed full (a server slower to read than we send): it stopped the upload at a few MiB
    # and waited for an answer the server never sent (ReadTimeoutError). boto3 sends it all.
    import time

    from sagemaker_rt_c.config import Config

    url, ca_file, state = tls_origin

    def slow_reader(conn, head, rest):
        want = _content_length(head)
        time.sleep(0.5)  # meanwhile the client's send buffer fills
        got = len(rest)
        while got < want:
            chunk = conn.recv(1 << 20)
            if not chunk:
                break
            got += len(chunk)
        body = str(got).encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    state["handler"] = slow_reader
    client = make_ours(
        endpoint_url=url,
        verify=ca_file,
        config=Config(read_timeout=5, retries={"total_max_attempts": 1}),
    )
    size = 16 << 20
    assert invoke(client, Body=b"x" * size)["Body"].read() == str(size).encode()


def test_an_early_answer_over_tls_is_still_seen(tls_origin):
    # The server answers at once, reads nothing and keeps the connection open: the answer is
    # taken as soon as the send buffer stays full (its first byte read while probing).
    import time

    from sagemaker_rt_c.config import Config

    url, ca_file, state = tls_origin

    def early(conn, head, rest):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly")
        time.sleep(3)

    state["handler"] = early
    client = make_ours(
        endpoint_url=url,
        verify=ca_file,
        config=Config(read_timeout=10, retries={"total_max_attempts": 1}),
    )
    t0 = time.monotonic()
    assert invoke(client, Body=b"z" * (16 << 20))["Body"].read() == b"early"
    assert time.monotonic() - t0 < 2.5


# ---- a forked child's later reads of the parent's live body do not end it cleanly ----------


def test_a_forked_child_never_takes_the_parents_chunked_body_for_whole():
    # The child's first read of a live body raises (the connection is the parent's); a read
    # after that found what had arrived and then b"", as if the body had ended: a chunked body
    # (no Content-Length for StreamingBody to check) read silently short. It is a break.
    import os

    from sagemaker_rt_c.exceptions import ResponseStreamingError

    def chunk(data):
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    with ScriptedServer() as s:
        hd = head(extra=[("Transfer-Encoding", "chunked")])
        s.queue(Script([hd + chunk(b"0123456789"), 1.0, chunk(b"abcdefghij") + b"0\r\n\r\n"]))
        body = invoke(make_ours(endpoint_url=s.url))["Body"]
        assert body.read(5) == b"01234"
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                try:
                    body.read()
                except RuntimeError as e:
                    code = 4 if "parent process" in str(e) else 5
                body.read()
                code = 6  # read on as if whole
            except ResponseStreamingError as e:
                code = 0 if code == 4 and "IncompleteRead" in str(e) else 7
            except BaseException:  # noqa: BLE001
                code = 8
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0
        assert body.read() == b"56789abcdefghij"


# ---- a JSON output whose body breaks is a transport error, as botocore reads it whole ------

ASYNC_BODY = b'{"InferenceId": "abc", "Outpu'


def _async_head(status, framing):
    return b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%s\r\n" % (status, framing)


ASYNC_BREAKS = {
    # A Content-Length body cut short by a clean close: botocore 1.44 parses what came.
    "length-cut": lambda status: Script(
        [_async_head(status, b"Content-Length: 99\r\n") + ASYNC_BODY]
    ),
    # A chunked body that ends without its last chunk, and a reset mid-body: retried, then
    # ConnectionClosedError. Ours parsed the fragment as the response ({}: InferenceId lost).
    "chunked-cut": lambda status: Script(
        [
            _async_head(status, b"Transfer-Encoding: chunked\r\n")
            + b"%x\r\n%s\r\n" % (len(ASYNC_BODY), ASYNC_BODY)
        ]
    ),
    "reset": lambda status: Script(
        [_async_head(status, b"Content-Length: 99\r\n") + ASYNC_BODY, 0.2], reset=True
    ),
}


@pytest.mark.parametrize("status", [202, 500])
@pytest.mark.parametrize("name", list(ASYNC_BREAKS))
def test_a_broken_json_output_is_what_boto3_makes_of_it(name, status):
    from botocore.config import Config as BotoConfig
    from conftest import make_boto3

    from sagemaker_rt_c.config import Config

    got = {}
    with ScriptedServer() as s:
        for flavour, make, config in (
            ("boto3", make_boto3, BotoConfig),
            ("ours", make_ours, Config),
        ):
            s.clear()
            for _ in range(3):
                s.queue(ASYNC_BREAKS[name](status))
            before = len(s.requests)
            client = make(endpoint_url=s.url, config=config(retries={"total_max_attempts": 2}))
            try:
                out = client.invoke_endpoint_async(EndpointName="ep", InputLocation="s3://b/in")
                out.pop("ResponseMetadata")
                got[flavour] = ("ok", out)
            except Exception as e:  # noqa: BLE001 - compared between clients
                got[flavour] = (type(e).__name__, str(e))
            got[flavour] += (len(s.requests) - before,)
    assert got["ours"] == got["boto3"]
