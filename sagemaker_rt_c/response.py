"""The response body type, as botocore.response.StreamingBody behaves."""

from ._core import StreamingBodyBase

__all__ = ["StreamingBody"]


class StreamingBody(StreamingBodyBase):
    """The ``Body`` of an invocation response.

    The C core has already received the whole body; ``read(amt=None)``, ``readinto``,
    ``tell``, ``close`` and iteration (1 KiB chunks) behave as botocore's StreamingBody,
    including raising ``ResponseStreamingError`` at the point where a transfer was cut short.
    """

    __slots__ = ()
    _DEFAULT_CHUNK_SIZE = 1024

    def __iter__(self):
        """Yield 1 KiB chunks."""
        return self.iter_chunks(self._DEFAULT_CHUNK_SIZE)

    def iter_chunks(self, chunk_size=_DEFAULT_CHUNK_SIZE):
        """Yield chunks of ``chunk_size`` bytes until the body is exhausted."""
        while True:
            chunk = self.read(chunk_size)
            if chunk == b"":
                break
            yield chunk

    def iter_lines(self, chunk_size=_DEFAULT_CHUNK_SIZE, keepends=False):
        """Yield the body's lines (botocore's algorithm, chunk by chunk)."""
        pending = b""
        for chunk in self.iter_chunks(chunk_size):
            lines = (pending + chunk).splitlines(True)
            for line in lines[:-1]:
                yield line.splitlines(keepends)[0]
            pending = lines[-1]
        if pending:
            yield pending.splitlines(keepends)[0]

    def readlines(self):
        """All remaining lines, line endings kept."""
        return self.read().splitlines(True)

    def set_socket_timeout(self, timeout):
        """Accepted for compatibility: the body is already in memory, reads never block."""

    next = StreamingBodyBase.__next__

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__qualname__} object at {id(self):#x}>"
