"""The asyncio client (see sagemaker_rt_c.aio)."""

from __future__ import annotations

import asyncio
import time

from .. import _core
from .._protocol.operations import OPERATIONS
from ..response import LineSplitter

_OP_INDEX = {spec["python_name"]: i for i, spec in enumerate(OPERATIONS.values())}
_RESULT, _ERROR, _BACKOFF, _CANCELLED = 0, 1, 2, 3


class AioStreamingBody:
    """A response's Body, read already: aiobotocore's StreamingBody methods, awaitable."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes):
        self._data = data
        self._pos = 0

    async def read(self, amt: int | None = None) -> bytes:
        data = self._data
        if amt is None or amt < 0:
            chunk, self._pos = data[self._pos :], len(data)
        else:
            chunk = data[self._pos : self._pos + amt]
            self._pos += len(chunk)
        return chunk

    async def iter_chunks(self, chunk_size: int = 1024):
        while True:
            chunk = await self.read(chunk_size)
            if not chunk:
                return
            yield chunk

    async def iter_lines(self, chunk_size: int = 1024, keepends: bool = False):
        pending = b""
        async for chunk in self.iter_chunks(chunk_size):
            lines = (pending + chunk).splitlines(True)
            for line in lines[:-1]:
                yield line if keepends else line.splitlines()[0]
            pending = lines[-1] if lines else b""
        if pending:
            yield pending if keepends else pending.splitlines()[0]

    @property
    def content_length(self) -> int:
        return len(self._data)

    def close(self) -> None:
        self._pos = len(self._data)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return f"<AioStreamingBody: {len(self._data)} bytes>"


class AioEventStream:
    """A streaming response's Body: ``async for event in body`` yields botocore's events
    (``{'PayloadPart': {'Bytes': ...}}``) as they arrive; ``iter_payloads()`` and
    ``iter_lines()`` as the sync client's EventStream has them, async."""

    __slots__ = ("_client", "_stream", "_reader")

    def __init__(self, client, stream):
        self._client = client
        self._stream = stream  # the sync EventStream: its reader decodes, C does the bytes
        self._reader = stream._events

    def __aiter__(self):
        return self

    async def __anext__(self):
        reader = self._reader
        while True:
            event = reader._next_nowait()
            if event is False:  # the next bytes have not arrived: a worker waits for them
                await self._client._read_more(reader._raw)
                continue
            if event is None:
                raise StopAsyncIteration
            return event

    async def iter_payloads(self):
        """The bytes of each ``PayloadPart``, as they arrive."""
        async for event in self:
            part = event.get("PayloadPart")
            if part is not None:
                yield part["Bytes"]

    async def iter_lines(self, keepends=False):
        """Complete lines across parts, as the sync EventStream's iter_lines()."""
        lines = LineSplitter(keepends)
        async for payload in self.iter_payloads():
            for line in lines.feed(payload):
                yield line
        for line in lines.end():
            yield line

    def close(self):
        """End the stream: the transfer stops and its connection closes."""
        self._stream.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.close()
        return False


def _no_refresh():
    """The C core's refresh hook, as the aio client's own sync client has it: the hook runs in
    submit(), on the loop thread; this client refreshes in the executor (_credentials_ready)."""


class AioSageMakerRuntime:
    """aiobotocore's client shape over a sync client's settings, validation, exceptions and
    presigning: the calls run on an _core.AsyncEngine bound to the loop of the first call."""

    def __init__(self, sync_client, threads: int):
        self._sync = sync_client
        self._refresh = sync_client._refresh_credentials
        sync_client._refresh_credentials = _no_refresh
        self._loaded = False  # the first load (or refresh) done: the engine has credentials
        self._threads = threads
        self._engine = None
        self._loop = None
        self._futures: dict[int, asyncio.Future] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._refreshing = None
        self.meta = sync_client.meta
        self.exceptions = sync_client.exceptions

    def __repr__(self):
        return f"<sagemaker_rt_c.aio.AioSageMakerRuntime object at {id(self):#x}>"

    # -- aiobotocore's client surface ---------------------------------------------------------
    async def invoke_endpoint(self, **kwargs):
        return await self._call("invoke_endpoint", kwargs)

    async def invoke_endpoint_async(self, **kwargs):
        return await self._call("invoke_endpoint_async", kwargs)

    async def invoke_endpoint_with_response_stream(self, **kwargs):
        return await self._call("invoke_endpoint_with_response_stream", kwargs)

    def can_paginate(self, operation_name):
        return self._sync.can_paginate(operation_name)

    def get_paginator(self, operation_name):
        return self._sync.get_paginator(operation_name)

    def get_waiter(self, waiter_name):
        return self._sync.get_waiter(waiter_name)

    @property
    def waiter_names(self):
        return self._sync.waiter_names

    async def generate_presigned_url(
        self, ClientMethod, Params=None, ExpiresIn=3600, HttpMethod=None
    ):
        args = (ClientMethod, Params, ExpiresIn, HttpMethod)
        if callable(getattr(self._sync._credentials, "refresh_needed", None)):
            # Presigning reads get_frozen_credentials(), which may refresh (STS, SSO, IMDS, a
            # credential process): in the executor, never on the loop.
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, self._sync.generate_presigned_url, *args)
        return self._sync.generate_presigned_url(*args)

    async def close(self):
        """Stop every call still running (their awaits raise CancelledError) and close the
        connections."""
        engine, self._engine = self._engine, None
        if engine is not None:
            try:
                self._loop.remove_reader(engine.fileno())
            except (RuntimeError, ValueError):
                pass  # the loop is closed already
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()
            engine.close()
        futures, self._futures = self._futures, {}
        for fut in futures.values():
            if not fut.done():
                fut.cancel()
        self._sync.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()
        return False

    # -- the call path ------------------------------------------------------------------------
    def _bind(self, loop):
        if self._engine is None:
            self._engine = _core.AsyncEngine(self._sync, self._threads)
            self._loop = loop
            loop.add_reader(self._engine.fileno(), self._on_ready)
        elif loop is not self._loop:
            raise RuntimeError(
                "this sagemaker_rt_c.aio client is bound to another event loop: make one client "
                "per loop"
            )
        return self._engine

    async def _credentials_ready(self, loop):
        # A load or refresh may call STS, SSO, IMDS or a credential process: never on the loop.
        # As botocore's windows: in the advisory one (15 min) one refresh runs and the calls go
        # on with the current credentials; before the first load, or in the mandatory window
        # (10 min), they wait for it.
        due = self._sync._refresh_at
        if due > 0 and time.time() >= due:
            refreshing = self._refreshing
            if refreshing is None:
                refreshing = self._refreshing = loop.run_in_executor(None, self._refresh)
                refreshing.add_done_callback(self._refreshed)
            if self._must_wait():
                await asyncio.shield(refreshing)

    def _refreshed(self, fut):
        if self._refreshing is fut:
            self._refreshing = None
        if not fut.cancelled() and fut.exception() is None:
            self._loaded = True

    def _must_wait(self):
        if not self._loaded:
            return True
        creds = self._sync._credentials
        mandatory = getattr(creds, "_mandatory_refresh_timeout", 600)
        return creds.refresh_needed(mandatory)

    async def _call(self, name, params):
        loop = asyncio.get_running_loop()
        engine = self._bind(loop)
        if self._sync._refresh_at > 0:
            await self._credentials_ready(loop)
        token = engine.submit(_OP_INDEX[name], params)
        fut = loop.create_future()
        self._futures[token] = fut
        try:
            return await fut
        except asyncio.CancelledError:
            self._abandon(token)
            raise

    async def _read_more(self, raw):
        loop = asyncio.get_running_loop()
        token = self._bind(loop).read_stream(raw)
        if token is None:
            return
        fut = loop.create_future()
        self._futures[token] = fut
        try:
            await fut
        except asyncio.CancelledError:
            self._abandon(token)
            raise

    def _abandon(self, token):
        self._futures.pop(token, None)
        timer = self._timers.pop(token, None)
        if timer is not None:
            timer.cancel()
        if self._engine is not None:
            self._engine.cancel(token)

    def _resume(self, token):
        self._timers.pop(token, None)
        if self._engine is not None:
            self._engine.resume(token)

    def _on_ready(self):
        engine = self._engine
        if engine is None:
            return
        futures = self._futures
        for token, kind, value in engine.take():
            if kind == _BACKOFF:
                if token in futures:
                    self._timers[token] = self._loop.call_later(value, self._resume, token)
                else:
                    engine.cancel(token)
                continue
            fut = futures.pop(token, None)
            if fut is None or fut.done():
                continue
            if kind == _RESULT:
                if value is not None:  # a response (None: a stream's read is done)
                    body = value.get("Body")
                    if isinstance(body, bytes):
                        value["Body"] = AioStreamingBody(body)
                    elif body is not None and hasattr(body, "_events"):
                        value["Body"] = AioEventStream(self, body)
                fut.set_result(value)
            elif kind == _ERROR:
                fut.set_exception(value)
            else:
                fut.cancel()


class _ClientContext:
    """What create_client returns: ``async with`` it, or await it, for the client. The client
    is built in the loop's default executor: resolving credentials may ask IMDS, a container
    endpoint, SSO or a credential process, never on the loop."""

    def __init__(self, make):
        self._make = make
        self._client = None

    async def _build(self):
        return await asyncio.get_running_loop().run_in_executor(None, self._make)

    async def __aenter__(self):
        self._client = await self._build()
        return self._client

    async def __aexit__(self, *exc):
        await self._client.close()
        return False

    def __await__(self):
        return self._build().__await__()


class AioSession:
    """aiobotocore's session shape: ``create_client`` takes sagemaker_rt_c.client's keyword
    arguments."""

    def __init__(self, *args, **kwargs):
        from ..session import Session

        self._session = Session(*args, **kwargs)

    def create_client(self, service_name, **kwargs):
        def make():
            sync = self._session.client(service_name, **kwargs)
            config = kwargs.get("config")
            pool = getattr(config, "max_pool_connections", None) or 10
            return AioSageMakerRuntime(sync, int(pool))

        return _ClientContext(make)

    def get_credentials(self):
        return self._session.get_credentials()


def get_session(env_vars=None):
    """A session, as aiobotocore.session.get_session()."""
    return AioSession()
