"""botocore.eventstream's exceptions and limits, for ``_core.EventStreamDecoder``.

The classes have botocore 1.44.8's names, hierarchy and messages (``botocore/eventstream.py``),
without importing botocore. The decoder (``csrc/eventstream.h``) applies the limits in C; they
are here for the messages and for tests.
"""

# byte length of the prelude (total_length + header_length + prelude_crc)
_PRELUDE_LENGTH = 12
_MAX_HEADERS_LENGTH = 128 * 1024  # 128 Kb
_MAX_PAYLOAD_LENGTH = 24 * 1024 * 1024  # 24 Mb


class ParserError(Exception):
    """Base binary flow encoding parsing exception."""


class DuplicateHeader(ParserError):
    """Duplicate header found in the event."""

    def __init__(self, header):
        message = f'Duplicate header present: "{header}"'
        super().__init__(message)


class InvalidHeadersLength(ParserError):
    """Headers length is longer than the maximum."""

    def __init__(self, length):
        message = f"Header length of {length} exceeded the maximum of {_MAX_HEADERS_LENGTH}"
        super().__init__(message)


class InvalidPayloadLength(ParserError):
    """Payload length is longer than the maximum."""

    def __init__(self, length):
        message = f"Payload length of {length} exceeded the maximum of {_MAX_PAYLOAD_LENGTH}"
        super().__init__(message)


class ChecksumMismatch(ParserError):
    """Calculated checksum did not match the expected checksum."""

    def __init__(self, expected, calculated):
        message = f"Checksum mismatch: expected 0x{expected:08x}, calculated 0x{calculated:08x}"
        super().__init__(message)


class NoInitialResponseError(ParserError):
    """An event of type initial-response was not received.

    This exception is raised when the event stream produced no events or
    the first event in the stream was not of the initial-response type.
    """

    def __init__(self):
        message = "First event was not of the initial-response type"
        super().__init__(message)


def _headers_overrun(headers_length, total_length):
    # Not botocore's: botocore reads the headers of such a message from the bytes after it,
    # which depend on how the stream was split into chunks.
    return ParserError(
        f"Header length of {headers_length} runs past the end of the message"
        f" (total length {total_length})"
    )
