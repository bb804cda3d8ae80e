"""Scripted HTTP/1.1 servers on loopback, for tests of both boto3 and sagemaker_rt_c.

A test queues actions (``Reply``, ``Reset``, ``Close``, ``Delay``, ``Partial``, ``Stall``,
``Trickle``, ``Script``); each request
the server reads takes the next action, or ``default`` when the queue is empty. Every request
is recorded with its raw bytes, so a test can compare what two clients put on the wire.

``tls`` (an ``ssl.SSLContext``) makes it an HTTPS server; ``relay_connect`` makes it a proxy
that answers ``CONNECT host:port`` with 200 and then relays bytes to that address (other
requests, absolute-form ones included, still take the scripted actions).
"""

from __future__ import annotations

import collections
import socket
import struct
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    headers: list  # [(name, value)] in wire order, as sent
    body: bytes
    raw: bytes
    conn_id: int

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_names(self):
        return [k for k, _ in self.headers]


@dataclass
class Reply:
    status: int = 200
    headers: list = field(default_factory=list)
    body: bytes = b""
    reason: str | None = None
    close: bool = False  # send "Connection: close" and close after the reply

    def encode(self):
        import http.client

        reason = (
            self.reason
            if self.reason is not None
            else http.client.responses.get(self.status, "Unknown")
        )
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        names = {k.lower() for k, _ in self.headers}
        hdrs = list(self.headers)
        if "content-length" not in names:
            hdrs.append(("Content-Length", str(len(self.body))))
        if self.close:
            hdrs.append(("Connection", "close"))
        for k, v in hdrs:
            lines.append(f"{k}: {v}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + self.body


@dataclass
class Reset:
    """Read the request, then close the socket with a TCP RST."""


@dataclass
class Close:
    """Read the request, then close the socket without replying (an empty reply)."""


@dataclass
class Delay:
    seconds: float
    then: object = field(default_factory=Reply)


@dataclass
class Partial:
    """Promise ``declared`` bytes of body, send ``body``, then close."""

    declared: int
    body: bytes = b""
    status: int = 200


@dataclass
class Stall:
    """Send ``data`` (a head, part of a body), then hold the connection for ``seconds``."""

    data: bytes
    seconds: float


@dataclass
class Trickle:
    """Send ``head``, then one byte of body every ``interval`` seconds, ``count`` times."""

    head: bytes
    interval: float
    count: int


@dataclass
class Script:
    """Send each bytes step, sleep for each number step and wait (up to 10 s) for each
    ``threading.Event`` step, in order; then close the connection (``reset``: with a TCP
    RST), or keep serving it (``keep``)."""

    steps: list
    reset: bool = False
    keep: bool = False


class ScriptedServer:
    def __init__(self, default=None, tls=None, relay_connect=False):
        self.default = default if default is not None else Reply(200, [], b"{}")
        self.tls = tls
        self.relay_connect = relay_connect
        self.tls_errors = []  # handshakes that failed, as the ssl module words them
        self.peer_certs = []  # the client certificate of each TLS connection (or None)
        self.actions = collections.deque()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(256)
        self.port = self._sock.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._stop = False
        self._conn_seq = 0
        self._clients = set()
        self.connections_accepted = 0
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    # -- test API ---------------------------------------------------------------
    def queue(self, *actions):
        with self._lock:
            self.actions.extend(actions)
        return self

    def clear(self):
        with self._lock:
            self.actions.clear()
            self.requests.clear()

    @property
    def last(self) -> Request:
        return self.requests[-1]

    def close(self):
        self._stop = True
        try:
            self._sock.close()
        except OSError:
            pass
        for c in list(self._clients):
            try:
                c.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- server -----------------------------------------------------------------
    def _accept_loop(self):
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self._conn_seq += 1
                cid = self._conn_seq
                self.connections_accepted += 1
                self._clients.add(conn)
            threading.Thread(target=self._serve, args=(conn, cid), daemon=True).start()

    def _next_action(self):
        with self._lock:
            if self.actions:
                return self.actions.popleft()
            return self.default

    def _serve(self, conn, cid):
        buf = b""
        try:
            if self.tls is not None:
                import ssl

                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    with self._lock:
                        self.tls_errors.append(str(e))
                    return
                with self._lock:
                    self._clients.add(conn)
                    self.peer_certs.append(conn.getpeercert() or None)
            while not self._stop:
                req, buf = self._read_request(conn, buf, cid)
                if req is None:
                    return
                if self.relay_connect and req.method == "CONNECT":
                    with self._lock:
                        self.requests.append(req)
                    self._relay(conn, req.path, buf)
                    return
                action = self._next_action()
                with self._lock:
                    self.requests.append(req)
                if callable(action) and not isinstance(action, type):
                    action = action(req)
                while isinstance(action, Delay):
                    time.sleep(action.seconds)
                    action = action.then
                if isinstance(action, Reset):
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if isinstance(action, Close):
                    return
                if isinstance(action, Trickle):
                    conn.sendall(action.head)
                    for _ in range(action.count):
                        time.sleep(action.interval)
                        conn.sendall(b"x")
                    return
                if isinstance(action, Script):
                    for step in action.steps:
                        if isinstance(step, (int, float)):
                            time.sleep(step)
                        elif isinstance(step, threading.Event):
                            step.wait(10)
                        else:
                            conn.sendall(step)
                    if action.keep:
                        continue
                    if action.reset:
                        conn.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                    return
                if isinstance(action, Stall):
                    conn.sendall(action.data)
                    time.sleep(action.seconds)
                    return
                if isinstance(action, Partial):
                    head = (
                        f"HTTP/1.1 {action.status} OK\r\nContent-Length: {action.declared}\r\n\r\n"
                    ).encode()
                    conn.sendall(head + action.body)
                    return
                conn.sendall(action.encode())
                if action.close:
                    return
        except OSError:
            return
        finally:
            with self._lock:
                self._clients.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def _relay(self, conn, authority, pending):
        host, _, port = authority.rpartition(":")
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
        except OSError:
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        with self._lock:
            self._clients.add(upstream)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if pending:
            upstream.sendall(pending)

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        back = threading.Thread(target=pump, args=(upstream, conn), daemon=True)
        back.start()
        pump(conn, upstream)
        back.join(5)
        upstream.close()

    @staticmethod
    def _recv_more(conn, buf):
        data = conn.recv(65536)
        if not data:
            raise EOFError
        return buf + data

    def _read_request(self, conn, buf, cid):
        try:
            while b"\r\n\r\n" not in buf:
                buf = self._recv_more(conn, buf)
            head, _, rest = buf.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _version = lines[0].split(" ", 2)
            headers = []
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers.append((k, v.strip()))
            lower = {k.lower(): v for k, v in headers}
            if lower.get("transfer-encoding", "").lower() == "chunked":
                body = b""
                while True:
                    while b"\r\n" not in rest:
                        rest = self._recv_more(conn, rest)
                    size_line, _, rest = rest.partition(b"\r\n")
                    size = int(size_line.split(b";")[0], 16)
                    while len(rest) < size + 2:
                        rest = self._recv_more(conn, rest)
                    body += rest[:size]
                    rest = rest[size + 2 :]
                    if size == 0:
                        break
            else:
                n = int(lower.get("content-length", "0"))
                while len(rest) < n:
                    rest = self._recv_more(conn, rest)
                body, rest = rest[:n], rest[n:]
            raw = head + b"\r\n\r\n" + body
            return Request(method, target, headers, body, raw, cid), rest
        except (EOFError, OSError):
            return None, b""
