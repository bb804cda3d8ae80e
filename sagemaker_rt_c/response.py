"""The response ``Body``: botocore's StreamingBody, over the C core's RawStream.

botocore's StreamingBody wraps urllib3's HTTPResponse; ours wraps ``_core.RawStream``, which
reads a body the C core has already received the way urllib3 reads one from the socket
(including where and how a transfer that broke off fails). The methods below follow
botocore.response.StreamingBody line for line, so code written against boto3's body (an
``io.IOBase``: ``read``, ``iter_lines``, ``iter_chunks``, ``io.TextIOWrapper(body)``,
``with body as f``) behaves the same. The C core fills the three slots directly rather than
calling ``__init__``, and removes io.IOBase's finalizer (botocore's ``__del__`` keeps it from
closing the stream; here no Python code runs when a body is collected).
"""

from io import IOBase

from ._core import ProtocolError as _ProtocolError
from ._core import ReadTimeout as _ReadTimeout

__all__ = ["StreamingBody"]


class StreamingBody(IOBase):
    """Wrapper of an HTTP response body, as botocore.response.StreamingBody."""

    __slots__ = ("_raw_stream", "_content_length", "_amount_read")
    _DEFAULT_CHUNK_SIZE = 1024

    def __init__(self, raw_stream, content_length):
        self._raw_stream = raw_stream
        self._content_length = content_length
        self._amount_read = 0

    def set_socket_timeout(self, timeout):
        """Accepted for compatibility: the body is already received, reads never block."""

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
