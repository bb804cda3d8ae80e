"""Concurrency of sagemaker_rt_c: one client shared by many threads, the GIL during network
waits, the connection pool's bounds, and clients inherited across fork().

The pool (csrc/http.h) never blocks a borrower: a thread that finds no idle connection opens a
new one, and a connection given back is kept only while fewer than ``max_pool_connections``
are idle; otherwise it is closed (urllib3's behaviour with ``block=False``, which botocore
uses). Hence the bounds checked here:

* with T threads and ``max_pool_connections >= T`` no connection is ever discarded, and one is
  only opened when all existing ones are busy, so at most T are ever opened;
* with ``max_pool_connections < T`` connections churn (opened and discarded under contention:
  the "transient extras"), but once the calls are over at most ``max_pool_connections`` stay
  open.
"""

import gc
import json
import os
import select
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest
from conftest import make_ours
from servers import Delay, Reply

from sagemaker_rt_c import Config


class EchoServer:
    """HTTP/1.1 keep-alive server echoing each request: the body back, and headers naming the
    path, the connection and the request's custom attributes. Tracks connections.

    ``delay`` (seconds) is slept before each reply; ``tls`` is an ``ssl.SSLContext``."""

    def __init__(self, delay=0.0, tls=None):
        self.delay = delay
        self.tls = tls
        self.lock = threading.Lock()
        self.accepted = 0
        self.open = set()
        self.requests = []  # (conn_id, path, body)
        self.errors = []
        self._socks = []
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(512)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                cid = self.accepted
                self.open.add(cid)
                self._socks.append(conn)
            threading.Thread(target=self._serve, args=(conn, cid), daemon=True).start()

    def _serve(self, conn, cid):
        try:
            if self.tls:
                conn = self.tls.wrap_socket(conn, server_side=True)
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "0"))
                while len(buf) < n:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                body, buf = buf[:n], buf[n:]
                with self.lock:
                    self.requests.append((cid, path, body))
                if self.delay:
                    time.sleep(self.delay)
                attrs = headers.get("x-amzn-sagemaker-custom-attributes", "")
                conn.sendall(
                    (
                        f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n"
                        f"X-Echo-Path: {path}\r\nX-Echo-Conn: {cid}\r\n"
                        f"X-Amzn-SageMaker-Custom-Attributes: {attrs}\r\n\r\n"
                    ).encode("latin-1")
                    + body
                )
        except (OSError, ValueError, IndexError) as e:
            if not isinstance(e, (ConnectionResetError, ssl.SSLEOFError)):
                self.errors.append(repr(e))
        finally:
            with self.lock:
                self.open.discard(cid)
            try:
                conn.close()
            except OSError:
                pass

    def wait_open_at_most(self, n, timeout=3.0):
        """Wait until at most ``n`` connections are open (closes reach us asynchronously)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.open) <= n:
                    return len(self.open)
            time.sleep(0.01)
        with self.lock:
            return len(self.open)

    def close(self):
        self._sock.close()
        for s in self._socks:
            try:
                s.close()
            except OSError:
                pass


@pytest.fixture
def echo():
    servers = []

    def start(**kw):
        servers.append(EchoServer(**kw))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def run_threads(n, target):
    """Run ``target(i)`` in ``n`` threads started together; the exceptions they raised."""
    barrier = threading.Barrier(n)
    errors = []

    def run(i):
        try:
            barrier.wait()
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            errors.append(f"thread {i}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return errors


def checked_call(client, tag):
    """One call whose body, endpoint name and custom attributes all carry ``tag``."""
    body = f"payload-{tag}-".encode() * (1 + len(tag) % 7)
    resp = client.invoke_endpoint(EndpointName=f"ep-{tag}", Body=body, CustomAttributes=tag)
    got = resp["Body"].read()
    assert got == body, (tag, got[:60])
    headers = resp["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-echo-path"] == f"/endpoints/ep-{tag}/invocations", tag
    assert resp["CustomAttributes"] == tag
    return int(headers["x-echo-conn"])


# --------------------------------------------------------------------------- shared client


@pytest.mark.parametrize("pool", [32, 10, 4])
def test_one_client_32_threads_50_calls_each(echo, pool):
    server = echo()
    client = make_ours(endpoint_url=server.url, config=Config(max_pool_connections=pool))
    threads, calls = 32, 50
    used = [set() for _ in range(threads)]

    def work(i):
        for j in range(calls):
            used[i].add(checked_call(client, f"{i}.{j}"))

    errors = run_threads(threads, work)
    assert errors == []
    assert server.errors == []
    assert len(server.requests) == threads * calls
    # Each thread mostly reuses connections: far fewer than one per call.
    assert sum(len(u) for u in used) < threads * calls
    if pool >= threads:
        # Nothing is ever discarded: a connection is opened only when all are busy.
        assert server.accepted <= threads
    # Whatever churn there was, only max_pool_connections stay open, idle, afterwards.
    assert server.wait_open_at_most(pool) <= pool
    assert server.accepted >= 1


@pytest.mark.slow
def test_idle_connections_are_bounded_by_max_pool_connections(echo):
    """16 calls in flight at once need 16 connections; 4 stay idle afterwards, and the next
    burst of 4 reuses exactly those."""
    server = echo(delay=0.3)  # keeps all 16 calls in flight together
    client = make_ours(endpoint_url=server.url, config=Config(max_pool_connections=4))
    conns = [None] * 16
    assert run_threads(16, lambda i: conns.__setitem__(i, checked_call(client, f"a{i}"))) == []
    assert server.accepted == 16
    assert server.wait_open_at_most(4) == 4
    with server.lock:
        idle = set(server.open)

    conns = [None] * 4
    assert run_threads(4, lambda i: conns.__setitem__(i, checked_call(client, f"b{i}"))) == []
    assert server.accepted == 16  # nothing new opened
    assert set(conns) == idle

    client.close()  # closes the idle connections, as botocore's client.close() does
    assert server.wait_open_at_most(0) == 0
    assert checked_call(client, "after-close") == 17  # and later calls open a new one


def test_default_pool_keeps_ten_idle(echo):
    server = echo(delay=0.3)
    client = make_ours(endpoint_url=server.url)
    assert run_threads(14, lambda i: checked_call(client, f"d{i}")) == []
    assert server.accepted == 14
    assert server.wait_open_at_most(10) == 10


def test_close_while_other_threads_call(echo):
    """client.close() drops idle connections only: calls in flight on other threads finish,
    and later calls open new connections."""
    server = echo()
    client = make_ours(endpoint_url=server.url, config=Config(max_pool_connections=4))
    stop = threading.Event()

    def closer():
        while not stop.is_set():
            client.close()
            time.sleep(0.001)

    t = threading.Thread(target=closer)
    t.start()
    try:
        errors = run_threads(8, lambda i: [checked_call(client, f"{i}.{j}") for j in range(40)])
    finally:
        stop.set()
        t.join(5)
    assert errors == []
    assert len(server.requests) == 8 * 40
    assert server.errors == []


# --------------------------------------------------------------------------- the GIL


def _count_for(seconds):
    n = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        n += 1
    return n


def _in_background(fn):
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - reported by the test
            out["error"] = e

    t = threading.Thread(target=run)
    t.start()
    return t, out


@pytest.mark.slow
def test_gil_is_released_while_waiting_for_the_response(server):
    """While one thread waits 1 s for a delayed response, another Python thread keeps
    running at (nearly) full speed. Were the GIL held, the counting could only start after
    the call returned."""
    server.queue(Delay(1.0, Reply(200, [], b"slow")))
    client = make_ours(endpoint_url=server.url, config=Config(retries={"total_max_attempts": 1}))
    baseline = _count_for(0.2)

    t, out = _in_background(lambda: client.invoke_endpoint(EndpointName="ep", Body=b"x"))
    deadline = time.monotonic() + 5
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.005)
    assert server.requests, "the request never arrived"
    counted = _count_for(0.4)
    still_waiting = t.is_alive()
    t.join(5)
    assert still_waiting, "the call returned before the count ended: no overlap to measure"
    assert "error" not in out, out.get("error")
    assert out["value"]["Body"].read() == b"slow"
    # 0.4 s of counting against 0.2 s of baseline: expect ~2x; demand a third of that.
    assert counted > baseline * 2 / 3


def test_gil_is_released_while_connecting(full_backlog):
    """Same, during a connect that times out (0.5 s)."""
    url = full_backlog
    client = make_ours(
        endpoint_url=url, config=Config(connect_timeout=0.5, retries={"total_max_attempts": 1})
    )
    baseline = _count_for(0.1)
    t, out = _in_background(lambda: client.invoke_endpoint(EndpointName="ep", Body=b"x"))
    time.sleep(0.05)
    counted = _count_for(0.2)
    still_waiting = t.is_alive()
    t.join(5)
    assert still_waiting
    assert type(out.get("error")).__name__ == "ConnectTimeoutError"
    assert counted > baseline * 2 / 3


@pytest.fixture
def full_backlog():
    """A listener with a full accept queue: connecting to it hangs until the timeout."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    filler = socket.create_connection(srv.getsockname())
    yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    filler.close()
    srv.close()


# --------------------------------------------------------------------------- fork


def _fork_and_run(child):
    """Fork; the child runs ``child()`` and reports its JSON-able result (or error) through a
    pipe, then exits at once. Returns the child's report."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            os.close(r)
            report = {"ok": child()}
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            report = {"error": f"{type(e).__name__}: {e}"}
            code = 1
        try:
            os.write(w, json.dumps(report).encode())
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    deadline = time.monotonic() + 20
    # poll, not select: after a long run the pipe's descriptor can be past FD_SETSIZE.
    poller = select.poll()
    poller.register(r, select.POLLIN)
    while time.monotonic() < deadline:
        ready = poller.poll(100)
        if ready:
            data = os.read(r, 65536)
            if not data:
                break
            chunks.append(data)
    os.close(r)
    for _ in range(200):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise AssertionError("the child hung")
    assert chunks, f"the child reported nothing (status {status})"
    return json.loads(b"".join(chunks))


def test_fork_child_opens_its_own_connection(echo):
    server = echo()
    client = make_ours(endpoint_url=server.url)
    parent_conn = {checked_call(client, f"parent{i}") for i in range(3)}
    assert len(parent_conn) == 1

    def child():
        conns = [checked_call(client, f"child{i}") for i in range(3)]
        return conns

    report = _fork_and_run(child)
    assert "error" not in report, report
    child_conns = set(report["ok"])
    assert len(child_conns) == 1, "the child reuses its own new connection"
    assert child_conns.isdisjoint(parent_conn), "the child used the parent's connection"
    assert server.accepted == 2
    with server.lock:
        by_child = [cid for cid, path, _ in server.requests if "child" in path]
    assert set(by_child) == child_conns

    # The parent's connection is intact: same connection, right answers.
    assert {checked_call(client, f"again{i}") for i in range(3)} == parent_conn
    assert server.accepted == 2


def test_fork_child_closing_the_client_leaves_the_parent_alone(echo):
    """The child closes and destroys the inherited client (pool teardown runs there); the
    parent's idle connection must survive it."""
    server = echo()
    client = make_ours(endpoint_url=server.url)
    (parent_conn,) = {checked_call(client, f"p{i}") for i in range(2)}

    def child():
        nonlocal client
        conn = checked_call(client, "child")
        client.close()
        client = None
        gc.collect()
        return conn

    report = _fork_and_run(child)
    assert "error" not in report, report
    assert report["ok"] != parent_conn
    time.sleep(0.1)  # a stray close by the child would have reached the server by now
    with server.lock:
        assert parent_conn in server.open
    assert checked_call(client, "parent-after") == parent_conn


@pytest.fixture(scope="module")
def tls_context(tmp_path_factory):
    """A server TLS context with a self-signed certificate for 127.0.0.1 (openssl CLI)."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert),
            "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx, str(cert)


def test_fork_with_tls_parent_connection_survives(echo, tls_context):
    """Over TLS a child touching the inherited connection (a request, or a close_notify when
    tearing the client down) would corrupt the parent's session: the parent's next request on
    that connection would fail."""
    ctx, ca = tls_context
    server = echo(tls=ctx)
    client = make_ours(endpoint_url=server.url, verify=ca)
    (parent_conn,) = {checked_call(client, f"p{i}") for i in range(2)}

    def child():
        nonlocal client
        conns = [checked_call(client, f"child{i}") for i in range(2)]
        client.close()
        client = None
        gc.collect()
        return conns

    report = _fork_and_run(child)
    assert "error" not in report, report
    assert parent_conn not in report["ok"]
    time.sleep(0.1)
    assert checked_call(client, "parent-after") == parent_conn
    assert server.errors == []


def test_multiprocessing_fork_workers_share_nothing(echo):
    """Pool workers forked from a parent that has a live connection each open their own."""
    import multiprocessing

    server = echo()
    global _MP_CLIENT
    _MP_CLIENT = make_ours(endpoint_url=server.url)
    parent_conn = checked_call(_MP_CLIENT, "parent")
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        conns = pool.map(_mp_call, [f"w{i}" for i in range(6)], chunksize=1)
    assert parent_conn not in conns
    assert 1 <= len(set(conns)) <= 2  # one connection per worker process, reused
    assert checked_call(_MP_CLIENT, "parent-after") == parent_conn


_MP_CLIENT = None


def _mp_call(tag):
    return checked_call(_MP_CLIENT, tag)
