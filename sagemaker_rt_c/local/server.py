"""The local endpoint's server: SageMaker Runtime's three operations on loopback.

``LocalEndpoint`` (re-exported by ``sagemaker_rt_c.local``) runs an asyncio event loop in a
background thread. Requests are parsed by ``_http.Conn`` and answered by ``_Server.dispatch``:

- the payload limit (413), the signature (403, when credentials are configured), the route
  (404), the endpoint name (400 ValidationError), the concurrency limit (429);
- then the endpoint's handler: an *inline* Python handler is called right there on the loop
  (the fast path: one ``transport.write`` per request); any other handler runs in a thread
  pool (``async def`` handlers on the loop), a container is called over HTTP from the pool.

The handler contract, the error shapes and the async (S3) directory are described in the
package's docstring (``sagemaker_rt_c/local/__init__.py``).
"""

import asyncio
import binascii
import http.client
import importlib
import importlib.util
import inspect
import json
import logging
import os
import socket
import struct
import tempfile
import threading
import time
import types
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote, urlsplit

from . import _http
from ._api import Request, Response, ServiceError

log = logging.getLogger("sagemaker_rt_c.local")

MAX_PAYLOAD = 6 * 1024 * 1024  # SageMaker's request payload limit (6 MiB)
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
_STREAM_CT = "application/vnd.amazon.eventstream"
_OPS = {
    "invocations": "InvokeEndpoint",
    "invocations-response-stream": "InvokeEndpointWithResponseStream",
    "async-invocations": "InvokeEndpointAsync",
}
_TIMEOUT_MESSAGE = (
    "Your invocation timed out while waiting for a response from container primary. Review"
    " the latency metrics for each container in Amazon CloudWatch, resolve the issue, and try"
    " again."
)


# ----------------------------------------------------------------------------- internals


_NOT_CALLED = object()


class _ErrorReply(Exception):
    """An error response: status, x-amzn-ErrorType (None: none), JSON body."""

    def __init__(self, status, code, body):
        super().__init__(code)
        self.status = status
        self.code = code
        self.body = body


def _load_target(spec):
    """module:function (or path/to/file.py:function; attributes may be dotted)."""
    mod_name, sep, attr = spec.partition(":")
    if not sep or not mod_name or not attr:
        raise ValueError(f"handler {spec!r}: expected 'module:function'")
    if mod_name.endswith(".py") or os.sep in mod_name:
        path = os.path.abspath(mod_name)
        name = "_smrt_local_" + Path(path).stem
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise ValueError(f"handler {spec!r}: cannot load {path}")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(mod_name)
    obj = module
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _takes_request(fn):
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return True
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2


class _Python:
    """An endpoint served by a Python callable."""

    kind = "python"

    def __init__(self, target):
        fn = _load_target(target) if isinstance(target, str) else target
        if not callable(fn):
            raise TypeError(f"handler {target!r} is not callable")
        self.fn = fn
        self.description = target if isinstance(target, str) else _qualname(fn)
        self.on_loop = inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)
        self.inline = bool(getattr(fn, "_smrt_local_inline", False)) or self.on_loop
        self.wants_request = _takes_request(fn)

    def call(self, body, request):
        return self.fn(body, request) if self.wants_request else self.fn(body)


def _qualname(fn):
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"


class _Container:
    """An endpoint served by a model container: POST {url}/invocations, GET {url}/ping."""

    kind = "container"
    inline = False
    on_loop = False

    def __init__(self, url, timeout):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"container URL {url!r}: expected http://host:port")
        self.url = url.rstrip("/")
        self.description = self.url
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.base = parts.path.rstrip("/")
        self.timeout = timeout
        self.healthy = False
        self.checked = 0.0
        self.reason = "not checked yet"
        self._pool = []
        self._lock = threading.Lock()

    def _connect(self, timeout):
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=timeout)

    def ping(self, timeout=2.0):
        """GET /ping: healthy on 200 (the SageMaker container contract)."""
        self.checked = time.monotonic()
        conn = self._connect(timeout)
        try:
            conn.request("GET", self.base + "/ping")
            resp = conn.getresponse()
            resp.read()
            self.healthy = resp.status == 200
            self.reason = f"/ping answered {resp.status}"
        except (OSError, http.client.HTTPException) as e:
            self.healthy = False
            self.reason = f"/ping failed: {e or type(e).__name__}"
        finally:
            conn.close()
        return self.healthy

    def call(self, body, request):
        """Blocking (runs in the pool): the response, or a generator of its chunks when the
        request streams. A status other than 2xx raises the ModelError reply."""
        headers = {"Content-Type": request.content_type or "application/octet-stream"}
        if request.accept:
            headers["Accept"] = request.accept
        for name in (
            "x-amzn-sagemaker-custom-attributes",
            "x-amzn-sagemaker-target-model",
            "x-amzn-sagemaker-inference-id",
            "x-amzn-sagemaker-session-id",
            "x-amzn-sagemaker-enable-explanations",
        ):
            value = request.headers.get(name)
            if value is not None:
                headers[name] = value
        for attempt in (0, 1):
            conn = self._take()
            reused = getattr(conn, "_smrt_used", False)
            try:
                conn.request("POST", self.base + "/invocations", body=body, headers=headers)
                resp = conn.getresponse()
                break
            except TimeoutError:
                conn.close()
                raise _timeout_reply(request.endpoint_name) from None
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                if reused and attempt == 0:
                    continue  # a kept-alive connection the container closed meanwhile
                raise _ContainerFailure(f"{type(e).__name__}: {e}") from None
        conn._smrt_used = True
        content_type = resp.getheader("Content-Type")
        attrs = resp.getheader("X-Amzn-SageMaker-Custom-Attributes")
        if not 200 <= resp.status < 300:
            data = self._read_all(conn, resp)
            raise _ModelFailure(resp.status, data.decode("utf-8", "replace"))
        if request.streaming:
            return Response(self._chunks(conn, resp), content_type, custom_attributes=attrs)
        return Response(self._read_all(conn, resp), content_type, custom_attributes=attrs)

    def _read_all(self, conn, resp):
        try:
            data = resp.read()
        except TimeoutError:
            conn.close()
            raise _ContainerFailure("timed out reading the response") from None
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise _ContainerFailure(f"{type(e).__name__}: {e}") from None
        self._give(conn, resp)
        return data

    def _chunks(self, conn, resp):
        ok = False
        try:
            while True:
                data = resp.read1(65536)
                if not data:
                    ok = True
                    return
                yield data
        finally:
            if ok:
                self._give(conn, resp)
            else:
                conn.close()

    def _take(self):
        with self._lock:
            if self._pool:
                return self._pool.pop()
        return self._connect(self.timeout)

    def _give(self, conn, resp):
        if resp.will_close:
            conn.close()
            return
        with self._lock:
            if len(self._pool) < 64:
                self._pool.append(conn)
                return
        conn.close()

    def close(self):
        with self._lock:
            pool, self._pool = self._pool, []
        for c in pool:
            c.close()


class _ModelFailure(Exception):
    """The model answered with an error status (ModelError, OriginalStatusCode)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class _ContainerFailure(Exception):
    """The container could not be reached or broke the connection."""


def _timeout_reply(name):
    return _ErrorReply(424, "ModelError", {"Message": _TIMEOUT_MESSAGE})


def _json(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _concrete(accept):
    """Accept as a content type when it names exactly one, else None."""
    if accept and "*" not in accept and "," not in accept:
        return accept
    return None


def _is_stream(body):
    return (
        isinstance(body, types.GeneratorType)
        or inspect.isasyncgen(body)
        or hasattr(body, "__anext__")
        or (hasattr(body, "__next__") and not isinstance(body, (bytes, str, bytearray)))
    )


def _normalize(value, accept):
    """A Response whose body is bytes or a stream (iterator / async iterator)."""
    if isinstance(value, Response):
        resp = value
    elif isinstance(value, tuple) and len(value) == 2:
        resp = Response(value[0], value[1])
    else:
        resp = Response(value)
    body = resp.body
    if isinstance(body, bytes):
        default = _concrete(accept) or "application/octet-stream"
    elif isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
        default = _concrete(accept) or "application/octet-stream"
    elif isinstance(body, str):
        body = body.encode("utf-8")
        default = _concrete(accept) or "text/plain; charset=utf-8"
    elif body is None:
        body = b""
        default = _concrete(accept) or "application/octet-stream"
    elif _is_stream(body):
        default = None  # decided by the first part
    else:
        body = _json(body)
        default = "application/json"
    resp.body = body
    if resp.content_type is None:
        resp.content_type = default
    return resp


def _part_bytes(part):
    if isinstance(part, bytes):
        return part
    if isinstance(part, (bytearray, memoryview)):
        return bytes(part)
    if isinstance(part, str):
        return part.encode("utf-8")
    return _json(part) + b"\n"


def _stream_type(first, accept):
    c = _concrete(accept)
    if c:
        return c
    if isinstance(first, str):
        return "text/plain; charset=utf-8"
    if isinstance(first, (bytes, bytearray, memoryview)) or first is None:
        return "application/octet-stream"
    return "application/jsonlines"


def _collect_sync(resp):
    """Join a sync stream body (in whatever thread runs the handler)."""
    if not isinstance(resp.body, bytes) and not hasattr(resp.body, "__anext__"):
        parts = list(resp.body)
        if resp.content_type is None:
            resp.content_type = _stream_type(parts[0] if parts else None, None)
        resp.body = b"".join(_part_bytes(p) for p in parts)
    return resp


# --- event stream encoding (application/vnd.amazon.eventstream) -----------------------------


def _es_header(name, value):
    n = name.encode()
    v = value.encode()
    return bytes([len(n)]) + n + b"\x07" + struct.pack(">H", len(v)) + v


_PAYLOAD_HEADERS = (
    _es_header(":event-type", "PayloadPart")
    + _es_header(":content-type", "application/octet-stream")
    + _es_header(":message-type", "event")
)


def _es_message(headers, payload):
    total = 16 + len(headers) + len(payload)
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    msg = prelude + headers + payload
    return msg + struct.pack(">I", binascii.crc32(msg))


def _chunk(data):
    return b"%x\r\n%b\r\n" % (len(data), data)


def payload_part(data):
    """One PayloadPart event, as an HTTP chunk."""
    return _chunk(_es_message(_PAYLOAD_HEADERS, data))


def exception_event(kind, body):
    """An exception event (ModelStreamError, InternalStreamFailure), as an HTTP chunk."""
    headers = (
        _es_header(":exception-type", kind)
        + _es_header(":content-type", "application/json")
        + _es_header(":message-type", "exception")
    )
    return _chunk(_es_message(headers, _json(body)))


# ----------------------------------------------------------------------------- the server


class _Job:
    __slots__ = ("input_path", "output_path", "failure_path")

    def __init__(self, input_path, output_path, failure_path):
        self.input_path = input_path
        self.output_path = output_path
        self.failure_path = failure_path


class _Server:
    """Lives on the event loop's thread: all its methods but the constructor run there."""

    def __init__(self, endpoints, *, verifier, max_concurrency, s3_dir, account_id, region,
                 threads, latency, async_output, async_failure, ping_interval):  # fmt: skip
        self.endpoints = endpoints
        self.verifier = verifier
        self.max_concurrency = max_concurrency
        self.s3_dir = s3_dir
        self.account_id = account_id
        self.region = region
        self.latency = latency
        self.async_output = async_output.rstrip("/")
        self.async_failure = async_failure.rstrip("/")
        self.ping_interval = ping_interval
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="smrt-local")
        self.loop = None
        self.conns = set()
        self.tasks = set()
        self.in_flight = 0
        self.max_in_flight = 0
        self.counts = {}  # status -> responses
        self.async_sem = None

    # --- replies ------------------------------------------------------------------------

    def _count(self, status):
        self.counts[status] = self.counts.get(status, 0) + 1

    def error(self, conn, rq, err):
        self._count(err.status)
        hdrs = f"Content-Type: application/json\r\nx-amzn-RequestId: {_http.request_id()}\r\n"
        if err.code:
            hdrs += f"x-amzn-ErrorType: {err.code}\r\n"
        conn.reply(err.status, hdrs, _json(err.body), rq.keep_alive)

    def ok(self, conn, rq, resp, variant):
        self._count(200)
        hdrs = (
            f"Content-Type: {resp.content_type}\r\n"
            f"x-Amzn-Invoked-Production-Variant: {variant}\r\n"
            f"x-amzn-RequestId: {_http.request_id()}\r\n"
        )
        if resp.custom_attributes is not None:
            hdrs += f"X-Amzn-SageMaker-Custom-Attributes: {resp.custom_attributes}\r\n"
        if resp.headers:
            hdrs += "".join(f"{k}: {v}\r\n" for k, v in resp.headers)
        conn.reply(200, hdrs, resp.body, rq.keep_alive)

    def bad_request(self, conn, e):
        self._count(e.status)
        hdrs = f"Content-Type: application/json\r\nx-amzn-RequestId: {_http.request_id()}\r\n"
        conn.reply(e.status, hdrs, _json({"message": str(e)}), keep_alive=False)

    # --- errors as SageMaker shapes them ------------------------------------------------------

    def not_found(self, name):
        return _ErrorReply(
            400,
            "ValidationError",
            {"message": f"Endpoint {name} of account {self.account_id} not found."},
        )

    def model_error(self, name, status, original):
        kind = "client" if 400 <= status < 500 else "server"
        group = f"/aws/sagemaker/Endpoints/{name}"
        region = self.region
        message = (
            f'Received {kind} error ({status}) from primary with message "{original}". See'
            f" https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#logEventViewer:group={group} in account {self.account_id} for more information."
        )
        return _ErrorReply(
            424,
            "ModelError",
            {
                "ErrorCode": f"{kind.upper()}_ERROR_FROM_MODEL",
                "LogStreamArn": f"arn:aws:logs:{region}:{self.account_id}:log-group:{group}",
                "Message": message,
                "OriginalMessage": original,
                "OriginalStatusCode": status,
            },
        )

    def failure(self, name, ep, exc):
        """The reply for an exception out of a handler or a container call."""
        if isinstance(exc, _ErrorReply):
            return exc
        if isinstance(exc, ServiceError):
            return _ErrorReply(exc.status, exc.code, {"message": exc.message, **exc.fields})
        if isinstance(exc, _ModelFailure):
            return self.model_error(name, exc.status, exc.message)
        if isinstance(exc, _ContainerFailure):
            log.warning("endpoint %s: container %s: %s", name, ep.description, exc)
            return self.model_error(name, 502, f"the container failed: {exc}")
        log.warning("endpoint %s: handler %s raised", name, ep.description, exc_info=exc)
        return self.model_error(name, 500, f"{type(exc).__name__}: {exc}")

    # --- dispatch -----------------------------------------------------------------------------

    def dispatch(self, conn, rq):
        try:
            self._dispatch(conn, rq)
        except _ErrorReply as e:
            self.error(conn, rq, e)
        except Exception:  # noqa: BLE001 - a bug here must not take the connection down silently
            log.exception("local endpoint: %s %s", rq.method, rq.path)
            rq.keep_alive = False
            conn.busy = False
            self.error(conn, rq, _ErrorReply(500, "InternalFailure", {"message": "internal error"}))

    def _dispatch(self, conn, rq):
        if len(rq.body) > MAX_PAYLOAD:
            # What SageMaker's front end answers: no error type, so the code is the status.
            raise _ErrorReply(
                413, None, {"message": f"HTTP content length exceeded {MAX_PAYLOAD} bytes."}
            )
        path = rq.path
        if path == "/ping" and rq.method == "GET":
            self._count(200)
            conn.reply(200, "Content-Type: text/plain\r\n", b"", rq.keep_alive)
            return
        if self.verifier is not None:
            err = self.verifier.check(rq.method, rq.target, rq.headers, rq.body, rq.hmap)
            if err is not None:
                raise _ErrorReply(err[0], err[1], {"message": err[2]})
        op = None
        if path.startswith("/endpoints/") and rq.method == "POST":
            name, _, tail = path[11:].partition("/")
            op = _OPS.get(tail)
        if op is None:
            raise _ErrorReply(
                404, "UnknownOperationException", {"message": f"Unknown operation {path}"}
            )
        name = unquote(name)
        ep = self.endpoints.get(name)
        if ep is None:
            raise self.not_found(name)
        hmap = rq.hmap
        if op == "InvokeEndpointAsync":
            return self._accept_async(conn, rq, name, ep)
        limit = self.max_concurrency
        if limit is not None and self.in_flight >= limit:
            raise _ErrorReply(429, "ThrottlingException", {"message": "Rate exceeded"})
        variant = hmap.get("x-amzn-sagemaker-target-variant", "AllTraffic")
        if op == "InvokeEndpoint":
            request = Request(name, op, rq.body, hmap.get("content-type"), hmap.get("accept"), hmap)
        else:
            request = Request(
                name,
                op,
                rq.body,
                hmap.get("content-type"),
                hmap.get("x-amzn-sagemaker-accept"),
                hmap,
            )
        self.in_flight += 1
        if self.in_flight > self.max_in_flight:
            self.max_in_flight = self.in_flight
        value = _NOT_CALLED
        if ep.inline and not ep.on_loop and not self.latency and op == "InvokeEndpoint":
            # The fast path: called here, answered at once.
            deferred = False
            try:
                value = ep.call(rq.body, request)
                deferred = hasattr(value, "__await__") or hasattr(value, "__anext__")
                if not deferred:
                    resp = _normalize(value, request.accept)
                    if resp.status >= 300:
                        raise _ModelFailure(resp.status, _text(resp.body))
                    self.ok(conn, rq, _collect_sync(resp), variant)
            except Exception as e:  # noqa: BLE001 - the model's failure, returned as SageMaker does
                self.error(conn, rq, self.failure(name, ep, e))
            if not deferred:
                self.in_flight -= 1
                return
        conn.busy = True
        self._spawn(self._serve(conn, rq, name, ep, request, variant, value))

    def _spawn(self, coro):
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _call(self, ep, request, collect):
        """The handler's raw result (awaited when it is a coroutine)."""
        if self.latency:
            await asyncio.sleep(self.latency)
        if ep.kind == "container" and not ep.healthy:
            if time.monotonic() - ep.checked >= self.ping_interval:
                await self.loop.run_in_executor(self.pool, ep.ping)
            if not ep.healthy:
                log.warning(
                    "endpoint %s: container %s is not healthy (%s)",
                    request.endpoint_name,
                    ep.url,
                    ep.reason,
                )
                raise self.not_found(request.endpoint_name)
        if ep.inline:
            value = ep.call(request.body, request)
        else:
            value = await self.loop.run_in_executor(
                self.pool, _call_in_thread, ep, request, collect
            )
        if inspect.isawaitable(value):
            value = await value
        return value

    async def _serve(self, conn, rq, name, ep, request, variant, first):
        try:
            try:
                if first is _NOT_CALLED:
                    first = await self._call(ep, request, request.operation == "InvokeEndpoint")
                resp = _normalize(first, request.accept)
                if resp.status >= 300:
                    raise _ModelFailure(resp.status, _text(resp.body))
                if request.operation == "InvokeEndpoint":
                    resp = await self._collect(resp, ep)
                    self.ok(conn, rq, resp, variant)
                    return
            except Exception as e:  # noqa: BLE001
                self.error(conn, rq, self.failure(name, ep, e))
                return
            await self._stream(conn, rq, name, ep, resp, request, variant)
        except asyncio.CancelledError:
            conn.close()
            raise
        finally:
            self.in_flight -= 1
            conn.done()

    async def _collect(self, resp, ep):
        body = resp.body
        if isinstance(body, bytes):
            return resp
        parts = []
        async for part in self._parts(body, ep):
            parts.append(part)
        if resp.content_type is None:
            resp.content_type = _stream_type(parts[0] if parts else None, None)
        resp.body = b"".join(_part_bytes(p) for p in parts)
        return resp

    async def _parts(self, body, ep):
        """The parts of a stream body, however it produces them."""
        if isinstance(body, bytes):
            if body:
                yield body
        elif hasattr(body, "__anext__"):
            async for part in body:
                yield part
        elif ep.inline:
            for part in body:
                yield part
        else:
            async for part in self._pump(body):
                yield part

    async def _pump(self, it):
        """A blocking iterator, iterated in the pool (at most 64 parts ahead)."""
        loop = self.loop
        queue = asyncio.Queue()
        room = threading.Semaphore(64)
        stop = threading.Event()

        def post(item):
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: the endpoint stopped
                stop.set()

        def run():
            try:
                for part in it:
                    while not room.acquire(timeout=0.5):
                        if stop.is_set():
                            return
                    if stop.is_set():
                        return
                    post((0, part))
            except BaseException as e:  # noqa: BLE001 - handed to the loop
                post((2, e))
            else:
                post((1, None))
            finally:
                close = getattr(it, "close", None)
                if close is not None:
                    try:
                        close()
                    except Exception:  # noqa: BLE001
                        pass

        loop.run_in_executor(self.pool, run)
        try:
            while True:
                kind, item = await queue.get()
                if kind == 0:
                    room.release()
                    yield item
                elif kind == 1:
                    return
                else:
                    raise item
        finally:
            stop.set()

    async def _stream(self, conn, rq, name, ep, resp, request, variant):
        parts = self._parts(resp.body, ep)
        try:
            try:
                first = await parts.__anext__()
            except StopAsyncIteration:
                first = None
            except Exception as e:  # noqa: BLE001 - failed before any byte: a plain error
                self.error(conn, rq, self.failure(name, ep, e))
                return
            ct = resp.content_type or _stream_type(first, request.accept)
            hdrs = (
                f"{_http.status_line(200)}Content-Type: {_STREAM_CT}\r\n"
                f"X-Amzn-SageMaker-Content-Type: {ct}\r\n"
                f"x-Amzn-Invoked-Production-Variant: {variant}\r\n"
                f"x-amzn-RequestId: {_http.request_id()}\r\n"
            )
            if resp.custom_attributes is not None:
                hdrs += f"X-Amzn-SageMaker-Custom-Attributes: {resp.custom_attributes}\r\n"
            if resp.headers:
                hdrs += "".join(f"{k}: {v}\r\n" for k, v in resp.headers)
            hdrs += f"Date: {_http.http_date()}\r\nTransfer-Encoding: chunked\r\n"
            if not rq.keep_alive:
                hdrs += "Connection: close\r\n"
            self._count(200)
            out = [hdrs.encode("latin-1", "replace") + b"\r\n"]
            if first is not None:
                data = _part_bytes(first)
                if data:
                    out.append(payload_part(data))
            conn.write(b"".join(out))
            try:
                async for part in parts:
                    if conn.lost:
                        return
                    data = _part_bytes(part)
                    if data:
                        conn.write(payload_part(data))
                        if conn.write_paused:
                            await conn.drain()
            except Exception as e:  # noqa: BLE001 - mid-stream: an exception event
                log.warning("endpoint %s: stream of %s broke", name, ep.description, exc_info=e)
                conn.write(
                    exception_event(
                        "ModelStreamError",
                        {"Message": f"{type(e).__name__}: {e}", "ErrorCode": "StreamBroken"},
                    )
                )
            conn.write(b"0\r\n\r\n")
            if not rq.keep_alive:
                conn.close()
        finally:
            await parts.aclose()

    # --- asynchronous inference ---------------------------------------------------------------

    def s3_path(self, uri):
        """The local file standing for s3://bucket/key (ValueError if not one)."""
        if not uri.startswith("s3://"):
            raise ValueError(f"not an S3 URI: {uri!r}")
        bucket, _, key = uri[5:].partition("/")
        if not bucket or not key:
            raise ValueError(f"not an S3 object URI: {uri!r}")
        root = self.s3_dir.resolve()
        path = (root / bucket / key).resolve()
        if path != root and root not in path.parents:
            raise ValueError(f"S3 URI outside the local S3 directory: {uri!r}")
        return path

    def _accept_async(self, conn, rq, name, ep):
        hmap = rq.hmap
        location = hmap.get("x-amzn-sagemaker-inputlocation")
        input_path = None
        if location is not None:
            try:
                input_path = self.s3_path(location)
            except ValueError as e:
                raise _ErrorReply(400, "ValidationError", {"message": str(e)}) from None
        elif not rq.body:
            raise _ErrorReply(
                400,
                "ValidationError",
                {"message": "Either InputLocation or Body must be specified."},
            )
        inference_id = hmap.get("x-amzn-sagemaker-inference-id") or str(uuid.uuid4())
        ext = (hmap.get("x-amzn-sagemaker-s3outputpathextension") or "").strip("/")
        filename = hmap.get("x-amzn-sagemaker-filename") or f"{inference_id}.out"
        sub = f"{ext}/" if ext else ""
        output = f"{self.async_output}/{sub}{filename}"
        failure = f"{self.async_failure}/{sub}{inference_id}-error.out"
        try:
            job = _Job(input_path, self.s3_path(output), self.s3_path(failure))
        except ValueError as e:
            raise _ErrorReply(400, "ValidationError", {"message": str(e)}) from None
        request = Request(
            name,
            "InvokeEndpointAsync",
            rq.body,
            hmap.get("x-amzn-sagemaker-content-type"),
            hmap.get("x-amzn-sagemaker-accept"),
            hmap,
        )
        self._count(202)
        conn.reply(
            202,
            "Content-Type: application/json\r\n"
            f"X-Amzn-SageMaker-OutputLocation: {output}\r\n"
            f"X-Amzn-SageMaker-FailureLocation: {failure}\r\n"
            f"x-amzn-RequestId: {_http.request_id()}\r\n",
            _json({"InferenceId": inference_id}),
            rq.keep_alive,
        )
        self._spawn(self._run_async(name, ep, request, job))

    async def _run_async(self, name, ep, request, job):
        if self.async_sem is None:
            self.async_sem = asyncio.Semaphore(self.max_concurrency or 32)
        async with self.async_sem:
            try:
                if job.input_path is not None:
                    try:
                        request.body = await self.loop.run_in_executor(
                            self.pool, job.input_path.read_bytes
                        )
                    except OSError as e:
                        raise _ErrorReply(
                            400, "ValidationError", {"message": f"Could not read the input: {e}"}
                        ) from None
                resp = _normalize(await self._call(ep, request, True), request.accept)
                if resp.status >= 300:
                    raise _ModelFailure(resp.status, _text(resp.body))
                resp = await self._collect(resp, ep)
            except Exception as e:  # noqa: BLE001
                err = self.failure(name, ep, e)
            else:
                try:
                    await self.loop.run_in_executor(
                        self.pool, _write_atomic, job.output_path, resp.body
                    )
                except OSError:
                    log.exception("endpoint %s: could not write %s", name, job.output_path)
                return
            body = dict(err.body)
            if err.code:
                body.setdefault("ErrorCode", err.code)
            try:
                await self.loop.run_in_executor(self.pool, _write_atomic, job.failure_path,
                                                _json(body))  # fmt: skip
            except OSError:
                log.exception("endpoint %s: could not write %s", name, job.failure_path)

    # --- life cycle -----------------------------------------------------------------------

    async def shutdown(self, server):
        server.close()
        for conn in list(self.conns):
            conn.close()
        tasks = [t for t in self.tasks if not t.done()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)
        for ep in self.endpoints.values():
            if ep.kind == "container":
                ep.close()


def _text(body):
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return str(body)


def _call_in_thread(ep, request, collect):
    value = ep.call(request.body, request)
    if collect and not inspect.isawaitable(value):
        value = _collect_sync(_normalize(value, request.accept))
    return value


def _write_atomic(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- public class


def _make_endpoint(target, timeout):
    if isinstance(target, (_Python, _Container)):
        return target
    if isinstance(target, str) and target.startswith(("http://", "https://")):
        return _Container(target, timeout)
    return _Python(target)


class LocalEndpoint:
    """A SageMaker Runtime endpoint on loopback (the contract: ``sagemaker_rt_c.local``).

    endpoints: {name: handler} where a handler is a callable, ``"module:function"`` (or
    ``"path/to/file.py:function"``) or a container URL ``"http://host:port"``; None: the
    built-in models (``sentiment``, ``sentiment-stream``, ``stats``).
    host, port: where to listen (port 0: any free port; ``url`` says which).
    credentials: None (no signature checked), or (access_key, secret_key[, session_token]),
    a credentials object, or a list of them: SigV4 is then verified.
    region: the only region accepted in signatures (None: any); also the region in messages.
    max_concurrency: answer 429 ThrottlingException above this many requests in flight.
    s3_dir: the directory standing for S3 in async invocations (None: a temporary one).
    latency: seconds added to every invocation before the handler runs (on the event loop:
    a model's service time without a thread per request).
    threads: the pool that runs blocking handlers and container calls.
    account_id: the account in error messages and ARNs.
    invocation_timeout: seconds a container has to answer (then ModelError, as SageMaker).
    ping_timeout: how long ``start()`` waits for containers' /ping to answer 200;
    ping_interval: how often, at most, /ping is retried while a container is unhealthy.
    async_output, async_failure: the S3 prefixes of async results and failures.

    ``start()`` returns once the socket listens (serving runs on an asyncio loop in a daemon
    thread); ``stop()`` closes it; ``with LocalEndpoint(...) as ep:`` does both.
    """

    def __init__(self, endpoints=None, *, host="127.0.0.1", port=0, credentials=None,
                 region=None, max_concurrency=None, s3_dir=None, latency=0.0, threads=32,
                 account_id=DEFAULT_ACCOUNT, invocation_timeout=60.0, ping_timeout=5.0,
                 ping_interval=1.0, async_output="s3://sagemaker-local/async-output",
                 async_failure="s3://sagemaker-local/async-failures"):  # fmt: skip
        if endpoints is None:
            from .models import BUILT_IN

            endpoints = dict(BUILT_IN)
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.host = host
        self._port = port
        self.region = region
        self.invocation_timeout = invocation_timeout
        self.ping_timeout = ping_timeout
        self._endpoints = {n: _make_endpoint(t, invocation_timeout) for n, t in endpoints.items()}
        self.credentials = None
        verifier = None
        if credentials is not None:
            from .sigv4check import Verifier, _normalize_credentials

            verifier = Verifier(credentials, region=region)
            keys = _normalize_credentials(credentials)
            self.credentials = [(ak, sk, tok) for ak, (sk, tok) in keys.items()]
        self._tmp = None
        if s3_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="smrt-local-s3-")
            s3_dir = self._tmp.name
        self.s3_dir = Path(s3_dir)
        self._server = _Server(
            self._endpoints,
            verifier=verifier,
            max_concurrency=max_concurrency,
            s3_dir=self.s3_dir,
            account_id=account_id,
            region=region or DEFAULT_REGION,
            threads=threads,
            latency=latency,
            async_output=async_output,
            async_failure=async_failure,
            ping_interval=ping_interval,
        )
        self._loop = None
        self._thread = None
        self._aio_server = None

    # --- properties -------------------------------------------------------------------------

    @property
    def port(self):
        return self._port

    @property
    def url(self):
        """The endpoint_url for clients: http://127.0.0.1:PORT."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    endpoint_url = url

    @property
    def endpoints(self):
        """{name: description} of the served endpoints."""
        return {n: ep.description for n, ep in self._endpoints.items()}

    @property
    def max_concurrency(self):
        return self._server.max_concurrency

    @max_concurrency.setter
    def max_concurrency(self, value):
        self._server.max_concurrency = value

    @property
    def running(self):
        return self._thread is not None

    def stats(self):
        """Counters: requests answered by status, requests in flight and the most seen."""
        s = self._server
        return {
            "responses": dict(s.counts),
            "in_flight": s.in_flight,
            "max_in_flight": s.max_in_flight,
        }

    def add_endpoint(self, name, target):
        """Serve one more endpoint (a handler, 'module:function' or a container URL)."""
        ep = _make_endpoint(target, self.invocation_timeout)
        if ep.kind == "container" and self.running:
            ep.ping(self.ping_timeout)
        self._endpoints[name] = ep

    def remove_endpoint(self, name):
        self._endpoints.pop(name, None)

    def s3_path(self, uri):
        """The local file that stands for ``s3://bucket/key``."""
        return self._server.s3_path(uri)

    def client(self, **kwargs):
        """A sagemaker_rt_c client for this endpoint (its credentials, when it has any)."""
        import sagemaker_rt_c

        args = {"region_name": self.region or DEFAULT_REGION, "endpoint_url": self.url}
        if self.credentials:
            ak, sk, tok = self.credentials[0]
            args.update(aws_access_key_id=ak, aws_secret_access_key=sk, aws_session_token=tok)
        else:
            args.update(aws_access_key_id="local", aws_secret_access_key="local")
        args.update(kwargs)
        return sagemaker_rt_c.client("sagemaker-runtime", **args)

    # --- life cycle -----------------------------------------------------------------------

    def start(self):
        """Bind, start serving in a background thread, check the containers' /ping."""
        if self._thread is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._port))
            sock.listen(1024)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure = []

        def run():
            asyncio.set_event_loop(loop)
            try:
                self._server.loop = loop
                self._aio_server = loop.run_until_complete(
                    loop.create_server(lambda: _http.Conn(self._server), sock=sock)
                )
            except BaseException as e:  # noqa: BLE001 - reported to start()
                failure.append(e)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                try:
                    loop.run_until_complete(loop.shutdown_asyncgens())
                finally:
                    loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="smrt-local-endpoint", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread = None
            raise failure[0]
        self._check_containers()
        return self

    def _check_containers(self):
        containers = [(n, ep) for n, ep in self._endpoints.items() if ep.kind == "container"]
        deadline = time.monotonic() + self.ping_timeout
        pending = containers
        while pending:
            pending = [(n, ep) for n, ep in pending if not ep.ping(min(2.0, self.ping_timeout))]
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        for name, ep in pending:
            log.warning(
                "endpoint %s: container %s is not healthy (%s); invocations answer"
                " ValidationError until its /ping answers 200",
                name,
                ep.url,
                ep.reason,
            )

    def stop(self):
        """Stop serving: close the connections, cancel what runs, remove the temporary S3
        directory (one made because no s3_dir was given)."""
        thread, loop = self._thread, self._loop
        if thread is None:
            return
        self._thread = None
        try:
            fut = asyncio.run_coroutine_threadsafe(self._server.shutdown(self._aio_server), loop)
            fut.result(timeout=10)
        except Exception:  # noqa: BLE001 - stopping anyway
            log.exception("local endpoint: shutdown")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._server.pool.shutdown(wait=False, cancel_futures=True)
        if self._tmp is not None:
            self._tmp.cleanup()

    def serve_forever(self, on_ready=None):
        """Start (if needed), call ``on_ready(self)``, and block until Ctrl-C (SIGINT) or
        SIGTERM; then stop. In the main thread both signals are handled from before the
        start (so a signal right after on_ready stops cleanly), even when the process
        started with SIGINT ignored (a background job of a shell)."""
        import signal

        stop = threading.Event()
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, lambda *_: stop.set())
        try:
            self.start()
            if on_ready is not None:
                on_ready(self)
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        state = self.url if self.running else "stopped"
        return f"<LocalEndpoint {state} endpoints={sorted(self._endpoints)}>"
