"""The HTTP/1.1 side of the local endpoint: an asyncio protocol with a small keep-alive parser.

One ``_Conn`` per TCP connection. It parses requests (Content-Length or chunked bodies,
``Expect: 100-continue``, pipelining), hands each complete one to ``server.dispatch`` and
writes the reply. A request that ``dispatch`` answers at once (the fast path: an inline
handler) costs one ``transport.write``; one it answers later marks the connection busy, and
the next request on it is parsed when the reply is done (replies stay in order).
"""

import asyncio
import itertools
import time
import uuid
from email.utils import formatdate

MAX_HEAD = 64 * 1024  # request line and headers
MAX_BODY = 64 * 1024 * 1024  # read (and refused with 413) up to this; beyond, refused and closed
PAUSE_READING_AT = 8 * 1024 * 1024  # buffered while busy

_REASONS = {
    100: "Continue",
    200: "OK",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    413: "Request Entity Too Large",
    424: "Failed Dependency",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def status_line(status):
    return f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"


_date = [0, ""]


def http_date():
    """The Date header's value, remade once a second."""
    now = int(time.time())
    if now != _date[0]:
        _date[0] = now
        _date[1] = formatdate(now, usegmt=True)
    return _date[1]


# Request ids that look like SageMaker's (UUIDs), without a system call per request: a random
# prefix per process and a counter.
_ID_PREFIX = str(uuid.uuid4())[:24]
_ids = itertools.count(1)


def request_id():
    return f"{_ID_PREFIX}{next(_ids) & 0xFFFFFFFFFFFF:012x}"


class Request:
    """One parsed HTTP request (internal: handlers see ``local.Request``). ``hmap``: the
    headers by lower-case name (repeated ones joined with ","); ``headers``: the (name,
    value) pairs as received, in order."""

    __slots__ = ("method", "target", "path", "query", "pairs", "hmap", "body", "keep_alive")

    def __init__(self, method, target, pairs, hmap, body, keep_alive):
        self.method = method
        self.target = target
        path, _, query = target.partition("?")
        self.path = path
        self.query = query
        self.pairs = pairs
        self.hmap = hmap
        self.body = body
        self.keep_alive = keep_alive

    @property
    def headers(self):
        return [(k, v.strip(" \t")) for k, _, v in self.pairs]


def _merge(pairs):
    """The header map the slow way: repeated headers joined, malformed lines refused."""
    hmap = {}
    for k, sep, v in pairs:
        if not sep or not k or k[-1] in " \t":
            raise BadRequest("bad header line")
        v = v.strip(" \t")
        kl = k.lower()
        if kl in hmap:
            if kl == "content-length" or kl == "host":
                raise BadRequest(f"duplicate {k}")
            hmap[kl] = hmap[kl] + "," + v
        else:
            hmap[kl] = v
    return hmap


class BadRequest(Exception):
    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def _dechunk(buf, start):
    """(body, end) of a chunked body starting at buf[start], or None if incomplete."""
    out = []
    total = 0
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            if len(buf) - pos > 1024:
                raise BadRequest("chunk size line too long")
            return None
        size_text = buf[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadRequest("bad chunk size") from None
        if size < 0:
            raise BadRequest("bad chunk size")
        pos = eol + 2
        if size == 0:
            # trailers, up to an empty line
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                if eol == pos:
                    return b"".join(out), eol + 2
                pos = eol + 2
        if len(buf) < pos + size + 2:
            return None
        out.append(buf[pos : pos + size])
        if buf[pos + size : pos + size + 2] != b"\r\n":
            raise BadRequest("bad chunk terminator")
        pos += size + 2
        total += size
        if total > MAX_BODY:
            raise BadRequest("body too large", 413)


class Conn(asyncio.Protocol):
    """One client connection."""

    def __init__(self, server):
        self.server = server
        self.transport = None
        self.parts = []  # received bytes not yet parsed
        self.nbuf = 0
        self.need = 1  # parse again once this many bytes are buffered
        self.busy = False  # a request is being answered
        self.lost = False
        self.continued = False  # 100 Continue sent for the request being received
        self.read_paused = False
        self.write_paused = False
        self.drain_waiter = None

    # --- asyncio callbacks ------------------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        self.server.conns.add(self)

    def connection_lost(self, exc):
        self.lost = True
        self.server.conns.discard(self)
        w = self.drain_waiter
        if w is not None and not w.done():
            w.set_result(None)

    def pause_writing(self):
        self.write_paused = True

    def resume_writing(self):
        self.write_paused = False
        w = self.drain_waiter
        if w is not None and not w.done():
            w.set_result(None)

    def data_received(self, data):
        self.parts.append(data)
        self.nbuf += len(data)
        if self.busy:
            if self.nbuf > PAUSE_READING_AT and not self.read_paused:
                self.read_paused = True
                self.transport.pause_reading()
            return
        if self.nbuf >= self.need:
            self.parse()

    def eof_received(self):
        return False  # close

    # --- writing ----------------------------------------------------------------------------

    async def drain(self):
        while self.write_paused and not self.lost:
            self.drain_waiter = self.server.loop.create_future()
            await self.drain_waiter
            self.drain_waiter = None

    def write(self, data):
        if not self.lost:
            self.transport.write(data)

    def reply(self, status, headers, body, keep_alive=True):
        """Write a whole response: headers is a str of header lines (each ending in CRLF)."""
        if self.lost:
            return
        head = (
            f"{status_line(status)}{headers}Date: {http_date()}\r\n"
            f"Content-Length: {len(body)}\r\n"
            + ("" if keep_alive else "Connection: close\r\n")
            + "\r\n"
        ).encode("latin-1", "replace")
        if len(body) < 65536:
            self.transport.write(head + body)
        else:
            self.transport.write(head)
            self.transport.write(body)
        if not keep_alive:
            self.close()

    def done(self):
        """The reply to a deferred request is written: parse what came meanwhile."""
        self.busy = False
        if self.lost:
            return
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        if self.nbuf >= self.need:
            self.parse()

    def close(self):
        """Close after what is written (nothing more is written or parsed)."""
        if self.transport is not None and not self.lost:
            self.lost = True
            self.transport.close()

    # --- parsing ----------------------------------------------------------------------------

    def parse(self):
        while not self.busy and not self.lost and self.nbuf:
            buf = self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)
            try:
                rq = self._parse_one(buf)
            except BadRequest as e:
                self.parts = []
                self.nbuf = 0
                self.server.bad_request(self, e)
                return
            if rq is None:
                self.parts = [buf]
                return
            self.continued = False
            self.need = 1
            self.server.dispatch(self, rq)

    def _parse_one(self, buf):
        """A complete request from the front of buf (consumed), or None (need set)."""
        i = buf.find(b"\r\n\r\n")
        if i < 0:
            if len(buf) > MAX_HEAD:
                raise BadRequest("request head too large")
            self.need = len(buf) + 1
            return None
        if i > MAX_HEAD:
            raise BadRequest("request head too large")
        lines = buf[:i].decode("latin-1").split("\r\n")
        request_line = lines[0].split(" ")
        if len(request_line) != 3 or not request_line[2].startswith("HTTP/1."):
            raise BadRequest("bad request line")
        method, target, version = request_line
        pairs = [line.partition(":") for line in lines[1:]]
        hmap = {k.lower(): v.strip(" \t") for k, _, v in pairs}
        if len(hmap) != len(pairs) or not all(p[1] for p in pairs):
            hmap = _merge(pairs)
        start = i + 4
        te = hmap.get("transfer-encoding")
        if te is not None:
            if "content-length" in hmap or te.lower() != "chunked":
                raise BadRequest("unsupported transfer encoding")
            self._continue(hmap)
            got = _dechunk(buf, start)
            if got is None:
                self.need = len(buf) + 1
                return None
            body, end = got
        else:
            cl = hmap.get("content-length", "0")
            if not cl.isdigit() or not cl.isascii():
                raise BadRequest("bad Content-Length")
            n = int(cl)
            if n > MAX_BODY:
                raise BadRequest("body too large", 413)
            end = start + n
            if len(buf) < end:
                self._continue(hmap)
                self.need = end
                return None
            body = buf[start:end]
        rest = buf[end:]
        self.parts = [rest] if rest else []
        self.nbuf = len(rest)
        conn_hdr = hmap.get("connection", "").lower()
        if version == "HTTP/1.1":
            keep_alive = "close" not in conn_hdr
        else:
            keep_alive = "keep-alive" in conn_hdr
        return Request(method, target, pairs, hmap, body, keep_alive)

    def _continue(self, hmap):
        if not self.continued and hmap.get("expect", "").lower() == "100-continue":
            self.continued = True
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
