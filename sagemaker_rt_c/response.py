"""The response ``Body``: botocore's StreamingBody over the C core's RawStream, and
botocore's EventStream over the C core's EventReader.

botocore's StreamingBody wraps urllib3's HTTPResponse; ours wraps ``_core.RawStream``, which
reads a body from the connection the way urllib3 reads one from the socket (including where
and how a transfer that broke off fails). The methods below follow
botocore.response.StreamingBody line for line, so code written against boto3's body (an
``io.IOBase``: ``read``, ``iter_lines``, ``iter_chunks``, ``io.TextIOWrapper(body)``,
``with body as f``) behaves the same. The C core fills the three slots directly rather than
calling ``__init__``, and removes io.IOBase's finalizer (botocore's ``__del__`` keeps it from
closing the stream; here no Python code runs when a body is collected).
"""

from io import IOBase

from ._core import ProtocolError as _ProtocolError
from ._core import ReadTimeout as _ReadTimeout

__all__ = ["StreamingBody", "EventStream"]


class StreamingBody(IOBase):
    """Wrapper of an HTTP response body, as botocore.response.StreamingBody."""

    __slots__ = ("_raw_stream", "_content_length", "_amount_read")
    _DEFAULT_CHUNK_SIZE = 1024

    def __init__(self, raw_stream, content_length):
        self._raw_stream = raw_stream
        self._content_length = content_length
        self._amount_read = 0

    def set_socket_timeout(self, timeout):
        """Accepted for compatibility: reads wait at most the client's read_timeout."""

    def readable(self):
        try:
            return self._raw_stream.readable()
        except AttributeError:
            return False

    def read(self, amt=None):
        """Read at most amt bytes from the stream; all of it when amt is omitted."""
        try:
            chunk = self._raw_stream.read(amt)
        except (_ReadTimeout, _ProtocolError) as e:
            raise _translate(e)  # noqa: B904 (as botocore)
        self._amount_read += len(chunk)
        if amt is None or (not chunk and amt > 0):
            self._verify_content_length()
        return chunk

    def readinto(self, b):
        """Read into a writable buffer; return the number of bytes read."""
        try:
            amount_read = self._raw_stream.readinto(b)
        except (_ReadTimeout, _ProtocolError) as e:
            raise _translate(e)  # noqa: B904 (as botocore)
        self._amount_read += amount_read
        if amount_read == 0 and len(b) > 0:
            self._verify_content_length()
        return amount_read

    def readlines(self):
        # botocore lets urllib3's own exceptions escape here; ours are private, so a broken
        # stream raises what read() raises (README: deliberate).
        try:
            return self._raw_stream.readlines()
        except (_ReadTimeout, _ProtocolError) as e:
            raise _translate(e)  # noqa: B904

    def __iter__(self):
        """Yield 1 KiB chunks."""
        return self.iter_chunks(self._DEFAULT_CHUNK_SIZE)

    def __next__(self):
        """The next 1 KiB chunk."""
        current_chunk = self.read(self._DEFAULT_CHUNK_SIZE)
        if current_chunk:
            return current_chunk
        raise StopIteration()

    def __enter__(self):
        return self._raw_stream

    def __exit__(self, type, value, traceback):
        self._raw_stream.close()

    next = __next__

    def iter_lines(self, chunk_size=_DEFAULT_CHUNK_SIZE, keepends=False):
        """Yield the lines of the body, reading chunk_size bytes at a time."""
        pending = b""
        for chunk in self.iter_chunks(chunk_size):
            lines = (pending + chunk).splitlines(True)
            for line in lines[:-1]:
                yield line.splitlines(keepends)[0]
            pending = lines[-1]
        if pending:
            yield pending.splitlines(keepends)[0]

    def iter_chunks(self, chunk_size=_DEFAULT_CHUNK_SIZE):
        """Yield chunks of chunk_size bytes until the body is exhausted."""
        while True:
            current_chunk = self.read(chunk_size)
            if current_chunk == b"":
                break
            yield current_chunk

    def _verify_content_length(self):
        if self._content_length is not None and self._amount_read != int(self._content_length):
            from .exceptions import IncompleteReadError

            raise IncompleteReadError(
                actual_bytes=self._amount_read,
                expected_bytes=int(self._content_length),
            )

    def tell(self):
        return self._raw_stream.tell()

    def close(self):
        """Close the underlying response stream."""
        self._raw_stream.close()


def _translate(e):
    """botocore's exception for a RawStream error (StreamingBody.read's except clauses)."""
    if isinstance(e, _ReadTimeout):
        from .exceptions import ReadTimeoutError

        return ReadTimeoutError(endpoint_url=getattr(e, "url", None), error=e)
    from .exceptions import ResponseStreamingError

    return ResponseStreamingError(error=e)


class LineSplitter:
    """Lines across a stream's parts: ``feed(part)`` gives the lines it completes, ``end()``
    the last one when it has no newline (the sync and asyncio streams' iter_lines)."""

    __slots__ = ("_keepends", "_pending")

    def __init__(self, keepends=False):
        self._keepends = keepends
        self._pending = b""

    def feed(self, payload):
        if self._pending:
            payload = self._pending + payload
        out = []
        start = 0
        while True:
            end = payload.find(b"\n", start)
            if end < 0:
                break
            line = payload[start : end + 1]
            out.append(line if self._keepends else line.rstrip(b"\n").removesuffix(b"\r"))
            start = end + 1
        self._pending = payload[start:]
        return out

    def end(self):
        pending, self._pending = self._pending, b""
        return [pending] if pending else []


class EventStream:
    """The ``Body`` of invoke_endpoint_with_response_stream, as botocore.eventstream.EventStream.

    Iterating it yields each event as soon as it arrives, ``{'PayloadPart': {'Bytes': b'...'}}``
    (an exception event raises botocore's ``EventStreamError``: ``ModelStreamError``,
    ``InternalStreamFailure``; a corrupt stream botocore's parser errors; a connection lost
    mid-stream ``ResponseStreamingError``). ``close()`` (or leaving a ``with`` block) ends the
    transfer and frees the connection; so does dropping the stream unread.

    Beyond boto3: ``iter_payloads()`` yields the bytes of each part, ``iter_lines()`` the
    complete lines across parts (split at ``b"\\n"``; the last line is yielded even without a
    newline), so that printing tokens is one loop::

        for line in resp["Body"].iter_lines():
            print(line.decode())
    """

    __slots__ = ("_events", "_raw_stream", "__weakref__")

    def __init__(self, events, raw_stream):
        self._events = events
        self._raw_stream = raw_stream

    def __iter__(self):
        return self._events

    def iter_payloads(self):
        """The bytes of each ``PayloadPart``, as they arrive."""
        for event in self._events:
            part = event.get("PayloadPart")
            if part is not None:
                yield part["Bytes"]

    def iter_lines(self, keepends=False):
        """Complete lines across parts (``b"\\n"`` ends a line; with keepends=False the
        ``b"\\n"`` and a ``b"\\r"`` before it are dropped); a last line without a newline is
        yielded when the stream ends."""
        lines = LineSplitter(keepends)
        for payload in self.iter_payloads():
            yield from lines.feed(payload)
        yield from lines.end()

    def close(self):
        """End the stream: the transfer stops and its connection closes."""
        self._events.close()

    def __enter__(self):
        return self

    def __exit__(self, type, value, traceback):
        self.close()

    def get_initial_response(self):
        """As botocore: the first event, if it is an ``initial-response`` (sagemaker-runtime
        sends none); otherwise ``NoInitialResponseError``, that event consumed."""
        from ._protocol.eventstream import NoInitialResponseError

        try:
            next(self._events)
        except StopIteration:
            pass
        raise NoInitialResponseError()
