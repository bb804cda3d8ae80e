"""Ctrl-C (SIGINT, also Jupyter's interrupt) is seen within 0.2 s in every blocking wait of a
call, as boto3's pure-Python waits see it: DNS, connect, the TLS handshake, sending, waiting
for and reading the response, retry back-off, a credential refresh and waiting on another
thread's. Each case runs in a child process (tests/interrupt_child.py) that the test signals
as a user would; the child then makes a second call on the same client and reports the file
descriptors left once the client is closed (none: the interrupted connection was discarded).
"""

import datetime
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from conftest import TESTS
from servers import Delay, Reply, ScriptedServer, Stall, Trickle
from test_threads import tls_context  # noqa: F401  (a fixture)

# Each case runs a child interpreter and waits out real delays (about 14 s in all).
pytestmark = pytest.mark.slow

CHILD = os.path.join(TESTS, "interrupt_child.py")
LIMIT = 0.2  # seconds from the signal to the exception (the bound)


def _ready(f, events, timeout):
    """Wait up to ``timeout`` s for ``events`` on ``f``. poll(), not select(): a descriptor
    numbered past FD_SETSIZE (1024) works too, as it can late in a long run."""
    poller = select.poll()
    poller.register(f, events)
    return bool(poller.poll(timeout * 1000))


def _readline(proc, timeout):
    deadline = time.monotonic() + timeout
    buf = b""
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not _ready(proc.stdout, select.POLLIN, left):
            proc.kill()
            raise AssertionError(f"child silent for {timeout}s; got {buf!r}")
        ch = os.read(proc.stdout.fileno(), 1)
        if not ch:
            err = proc.stderr.read().decode(errors="replace")
            raise AssertionError(f"child ended early; got {buf!r}; stderr:\n{err}")
        buf += ch
    return json.loads(buf)


def run_child(spec, then=None, env=None, wait=0.5):
    """Start the child, interrupt it `wait` s after it starts its call, call `then` (make the
    server answer), and return (seconds from signal to exception, caught, after)."""
    proc = subprocess.Popen(
        [sys.executable, CHILD, json.dumps(spec)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert _readline(proc, 30)["event"] == "calling"
        time.sleep(wait)
        sent = time.monotonic()
        os.kill(proc.pid, signal.SIGINT)
        caught = _readline(proc, 20)
        if then is not None:
            then()
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        after = _readline(proc, 30)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        proc.stdin.close()
    return caught["at"] - sent, caught, after


def check(elapsed, caught, after):
    assert caught["type"] == "KeyboardInterrupt", caught
    assert elapsed <= LIMIT, f"KeyboardInterrupt {elapsed:.3f}s after SIGINT"
    assert after.get("status") == 200, after  # the same client works on the next call
    assert after["fds_left"] == 0, after  # nothing of either connection is left


def by_attribute(slow):
    """A server action: `slow` for the call the test interrupts, a quick 200 otherwise."""

    def action(req):
        attrs = req.header("X-Amzn-SageMaker-Custom-Attributes")
        if attrs == "slow":
            return slow
        if attrs == "other":
            return Delay(1.0, Reply(200, [], b"{}"))
        return Reply(200, [], b"{}")

    return action


@pytest.fixture
def scripted():
    servers = []

    def make(slow):
        s = ScriptedServer(default=by_attribute(slow))
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"


@pytest.mark.parametrize(
    "slow",
    [
        pytest.param(Delay(8, Reply(200, [], b"{}")), id="waiting-for-the-response"),
        pytest.param(Stall(HEAD + b"0123456789", 8), id="reading-the-body"),
        # Bytes keep coming (never a wait that comes back empty): asked by time.
        pytest.param(
            Trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 0.01, 900),
            id="reading-a-trickling-body",
        ),
        pytest.param(Reply(503, [("x-amz-retry-after", "8000")], b"{}"), id="retry-backoff"),
    ],
)
def test_interrupt_scripted_waits(scripted, slow):
    server = scripted(slow)
    check(*run_child({"url": server.url}))


def test_interrupt_iterating_a_response_stream(scripted):
    """Waiting for the next event of invoke_endpoint_with_response_stream."""
    from test_response_stream import STREAM_HEAD, chunk, event

    server = scripted(Stall(STREAM_HEAD + chunk(event(b"first")), 8))
    check(*run_child({"url": server.url, "stream": True}))


@pytest.mark.parametrize(
    "slow",
    [
        pytest.param(Delay(8, Reply(200, [], b"{}")), id="waiting-for-responses"),
        pytest.param(Reply(503, [("x-amz-retry-after", "8000")], b"{}"), id="retry-backoffs"),
    ],
)
def test_interrupt_a_batch(scripted, slow):
    """invoke_endpoint_batch: eight calls in flight on worker threads, more queued; Ctrl-C
    cancels them all, and their connections are discarded."""
    server = scripted(slow)
    check(*run_child({"url": server.url, "batch": 40}))


def test_interrupt_leaves_other_threads_alone(scripted):
    """A call in another thread of the same client finishes normally."""
    server = scripted(Delay(8, Reply(200, [], b"{}")))
    elapsed, caught, after = run_child({"url": server.url, "other_thread": True})
    check(elapsed, caught, after)
    assert after["other"].get("status") == 200, after
    assert after["other"]["seconds"] >= 0.9, after


class HoldingServer:
    """Accepts connections and holds them without reading (or, with `backlog`, does not even
    accept: the listen queue is full, so a connect waits) until `serve()`, after which new
    connections are served by a ScriptedServer's handler (over TLS with `tls`)."""

    def __init__(self, tls=None, backlog=False):
        self.tls = tls
        self.scripted = ScriptedServer()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # inherited
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.dummies = []
        self.serving = threading.Event()
        if backlog:
            self._fill_backlog()
        else:
            threading.Thread(target=self._accept, daemon=True).start()

    def _fill_backlog(self):
        for _ in range(64):
            d = socket.socket()
            d.setblocking(False)
            d.connect_ex(("127.0.0.1", self.port))
            self.dummies.append(d)
            if not _ready(d, select.POLLOUT, 0.3):
                return  # this one's SYN was dropped: the queue is full
        raise AssertionError("the listen queue never filled")

    def _accept(self):
        cid = 1000
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if not self.serving.is_set():
                self.held.append(conn)
                continue
            if self.tls is not None:
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (OSError, ValueError):
                    conn.close()  # a queued dummy connection
                    continue
            cid += 1
            threading.Thread(target=self.scripted._serve, args=(conn, cid), daemon=True).start()

    def serve(self):
        self.serving.set()
        for d in self.dummies:
            d.close()
        if self.dummies:
            threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.sock.close()
        for c in self.held + self.dummies:
            c.close()
        self.scripted.close()


def test_interrupt_while_sending():
    """The server reads nothing: the body fills the socket buffers and the send waits."""
    server = HoldingServer()
    try:
        spec = {
            "url": f"http://127.0.0.1:{server.port}",
            "slow_body_size": 16 << 20,
        }
        check(*run_child(spec, then=server.serve))
    finally:
        server.close()


def test_interrupt_while_connecting():
    """The listen queue is full: the SYN is dropped and connect waits (connect_timeout 60)."""
    server = HoldingServer(backlog=True)
    try:
        check(*run_child({"url": f"http://127.0.0.1:{server.port}"}, then=server.serve))
    finally:
        server.close()


def test_interrupt_waiting_on_a_proxy(scripted):
    """Through a proxy libcurl runs the transfer (the multi loop): the proxy never answers."""
    server = scripted(Reply(200, [], b"{}"))
    proxy = HoldingServer()
    try:
        spec = {
            "url": server.url,
            "config": {"proxies": {"http": f"http://127.0.0.1:{proxy.port}"}},
        }
        check(*run_child(spec, then=proxy.serve))
    finally:
        proxy.close()


def test_interrupt_during_the_tls_handshake(tls_context):  # noqa: F811
    """The server accepts but never answers the ClientHello."""
    ctx, ca = tls_context
    server = HoldingServer(tls=ctx)
    try:
        spec = {"url": f"https://127.0.0.1:{server.port}", "verify": ca}
        check(*run_child(spec, then=server.serve))
    finally:
        server.close()


SLOW_DNS = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

/* The first lookup of slow-dns.test takes 3 s (a slow resolver), then it is 127.0.0.1. */
static atomic_int calls;

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    *(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
    if (node && strcmp(node, "slow-dns.test") == 0) {
        if (atomic_fetch_add(&calls, 1) == 0) {
            sleep(3);
        }
        node = "127.0.0.1";
    }
    return real(node, service, hints, res);
}
"""


def test_interrupt_during_dns(tmp_path, scripted):
    """libcurl resolves in a thread; the call stops waiting for it (the lookup is abandoned)."""
    src = tmp_path / "slow_dns.c"
    src.write_text(SLOW_DNS)
    lib = tmp_path / "slow_dns.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src), "-ldl"], check=True)
    server = scripted(Reply(200, [], b"{}"))
    env = dict(os.environ)
    env["LD_PRELOAD"] = " ".join(filter(None, [env.get("LD_PRELOAD"), str(lib)]))
    spec = {"url": f"http://slow-dns.test:{server.port}"}
    check(*run_child(spec, env=env))


def _creds(seconds):
    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    body = {
        "AccessKeyId": "AKIDEXAMPLE",
        "SecretAccessKey": "S" * 40,
        "Token": "T" * 40,
        "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return Reply(200, [("Content-Type", "application/json")], json.dumps(body).encode())


@pytest.mark.parametrize("waiting_for_another_thread", [False, True], ids=["fetch", "lock"])
def test_interrupt_during_credential_refresh(scripted, waiting_for_another_thread):
    """Credentials inside botocore's mandatory refresh window (5 minutes left): the call
    refreshes first, and the refresh stalls; or another thread is refreshing and this call
    waits for it."""
    endpoint = scripted(Reply(200, [], b"{}"))
    creds = ScriptedServer(default=_creds(3600))
    stall = 3 if waiting_for_another_thread else 8
    creds.queue(_creds(300), Delay(stall, _creds(3600)))
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_"):
            del env[k]
    env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = f"{creds.url}/creds"
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    spec = {
        "url": endpoint.url,
        "container_credentials": True,
        "refreshing_thread": waiting_for_another_thread,
    }
    try:
        check(*run_child(spec, env=env))
    finally:
        creds.close()
