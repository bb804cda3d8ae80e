"""Type stubs for the C core (sagemaker_rt_c._core)."""

from typing import IO, Any, Callable, Sequence, TypedDict, Union

from typing_extensions import Buffer, NotRequired, Required

from .response import EventStream, StreamingBody

NORMALIZE_PATH: int
ENCODE_PATH: int
RAW_QUERY: int
CONTENT_SHA256: int
TOKEN_UNSIGNED: int

class ResponseMetadata(TypedDict, total=False):
    RequestId: str
    HostId: str
    HTTPStatusCode: Required[int]
    HTTPHeaders: Required[dict[str, str]]
    RetryAttempts: Required[int]
    MaxAttemptsReached: bool

class ProtocolError(Exception): ...
class ReadTimeout(Exception): ...

class RawStream:
    def __init__(self, data: bytes, content_length: int = ...) -> None: ...
    def read(self, amt: int | None = None) -> bytes: ...
    def readinto(self, b: Buffer, /) -> int: ...
    def readline(self, size: int | None = ..., /) -> bytes: ...
    def readlines(self, hint: int = ..., /) -> list[bytes]: ...
    def tell(self) -> int: ...
    def close(self) -> None: ...
    def readable(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    def __enter__(self) -> RawStream: ...
    def __exit__(self, *exc: object) -> None: ...
    def __iter__(self) -> RawStream: ...
    def __next__(self) -> bytes: ...

# An event-stream header value as botocore's EventStreamBuffer gives it: bool; int (byte, short,
# integer, long, timestamp in milliseconds); bytes (byte array, uuid); str.
EventHeaderValue = Union[bool, int, bytes, str]

class EventStreamDecoder:
    """botocore's EventStreamBuffer in C (csrc/eventstream.h): messages as (headers, payload)."""

    def __init__(self) -> None: ...
    def feed(self, data: Buffer, /) -> None: ...
    def next_message(self) -> tuple[dict[str, EventHeaderValue], bytes] | None: ...
    def __iter__(self) -> EventStreamDecoder: ...
    def __next__(self) -> tuple[dict[str, EventHeaderValue], bytes]: ...
    @property
    def pending(self) -> int: ...
    @staticmethod
    def _crc32(data: Buffer, crc: int = 0, portable: bool = False, /) -> int: ...

class InvokeEndpointOutput(TypedDict):
    ResponseMetadata: ResponseMetadata
    ContentType: NotRequired[str]
    InvokedProductionVariant: NotRequired[str]
    CustomAttributes: NotRequired[str]
    NewSessionId: NotRequired[str]
    ClosedSessionId: NotRequired[str]
    Body: StreamingBody

class InvokeEndpointAsyncOutput(TypedDict):
    ResponseMetadata: ResponseMetadata
    InferenceId: NotRequired[str]
    OutputLocation: NotRequired[str]
    FailureLocation: NotRequired[str]

class InvokeEndpointWithResponseStreamOutput(TypedDict):
    ResponseMetadata: ResponseMetadata
    Body: EventStream
    ContentType: NotRequired[str]
    InvokedProductionVariant: NotRequired[str]
    CustomAttributes: NotRequired[str]

class EventReader:
    def __iter__(self) -> EventReader: ...
    def __next__(self) -> dict[str, Any]: ...
    def close(self) -> None: ...

BodyType = Union[bytes, bytearray, str, IO[bytes], IO[str], Buffer]

class Client:
    def invoke_endpoint(
        self,
        *,
        EndpointName: str,
        Body: BodyType,
        ContentType: str = ...,
        Accept: str = ...,
        CustomAttributes: str = ...,
        TargetModel: str = ...,
        TargetVariant: str = ...,
        TargetContainerHostname: str = ...,
        InferenceId: str = ...,
        EnableExplanations: str = ...,
        InferenceComponentName: str = ...,
        SessionId: str = ...,
        PrefixAwareId: str = ...,
    ) -> InvokeEndpointOutput: ...
    def invoke_endpoint_with_response_stream(
        self,
        *,
        EndpointName: str,
        Body: BodyType,
        ContentType: str = ...,
        Accept: str = ...,
        CustomAttributes: str = ...,
        TargetVariant: str = ...,
        TargetContainerHostname: str = ...,
        InferenceId: str = ...,
        InferenceComponentName: str = ...,
        SessionId: str = ...,
        PrefixAwareId: str = ...,
    ) -> InvokeEndpointWithResponseStreamOutput: ...
    def invoke_endpoint_async(
        self,
        *,
        EndpointName: str,
        ContentType: str = ...,
        Accept: str = ...,
        CustomAttributes: str = ...,
        InferenceId: str = ...,
        InputLocation: str = ...,
        S3OutputPathExtension: str = ...,
        Filename: str = ...,
        RequestTTLSeconds: int = ...,
        InvocationTimeoutSeconds: int = ...,
        Body: BodyType = ...,
    ) -> InvokeEndpointAsyncOutput: ...
    def _set_credentials(
        self,
        access_key: str | None = ...,
        secret_key: str | None = ...,
        token: str | None = ...,
        refresh_at: float = ...,
        /,
    ) -> None: ...
    def _presign(
        self, params: dict[str, Any], expires: int, http_method: str | None, /
    ) -> str | None: ...
    def _close_connections(self) -> None: ...
    def __init__(self, settings: Any, /) -> None: ...

class Batch:
    """client.invoke_endpoint_batch's results, in input order (csrc/batch.c)."""

    def __new__(
        cls, client: Client, requests: Any, max_concurrency: int, adaptive: bool
    ) -> Batch: ...
    def __iter__(self) -> Batch: ...
    def __next__(self) -> dict[str, Any] | Exception: ...
    def close(self) -> None: ...
    def __enter__(self) -> Batch: ...
    def __exit__(self, *exc: object) -> bool: ...
    @property
    def done(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def throttled(self) -> int: ...
    @property
    def concurrency(self) -> int: ...
    @property
    def in_flight(self) -> int: ...
    @property
    def elapsed(self) -> float: ...
    @property
    def last_latency(self) -> float | None: ...

_ParseError = Callable[[int, dict[str, str], bytes], tuple[Any, float | None, dict[str, Any]]]

class NestedClient:
    """Not exported: made by nested_client (csrc/nested.c)."""

    def call(
        self,
        owner: Any,
        operation: str,
        method: str,
        url: str,
        path: str,
        query: str | None,
        target: str | None,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        credentials: tuple[str, str, str | None] | None,
        modeled: Any,
        parse_error: _ParseError,
        refuse: str | None = ...,
        report: Callable[..., object] | None = ...,
    ) -> tuple[int, dict[str, str], bytes, int, bool]: ...
    def _close_connections(self) -> None: ...

def nested_client(settings: Any, service_name: str | None = ..., /) -> NestedClient: ...
def _install(body_class: type, hooks: Any, /) -> None: ...
def sha256_hex(data: Buffer, /) -> str: ...
def sigv4(
    query_mode: bool,
    method: str,
    path: str,
    query: str | None,
    headers: Sequence[tuple[str, str]],
    payload_hash: str,
    amz_date: str,
    region: str,
    service: str,
    access_key: str,
    secret_key: str,
    session_token: str | None,
    flags: int,
    expires: str | list[str] | None = ...,
    /,
) -> tuple[str, str, str, str, str]: ...
def uri_encode(s: str, keep_slash: bool = ..., /) -> str: ...
def amz_date(unix_seconds: int, /) -> str: ...
def versions() -> dict[str, str]: ...
def _operations() -> dict[str, Any]: ...
def wait_loaded() -> None: ...
