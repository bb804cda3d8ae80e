"""The sagemaker-runtime client: the C core's Client plus the rest of boto3's surface.

``invoke_endpoint`` is the C method itself (no Python frame on the call path). This module
also holds the hooks the C core calls on the slow paths (errors, validation failures).
"""

# operator.index itself, from the built-in module: operator.py would import more (at the
# first client, where nothing else may have imported it).
from _operator import index as _index

from . import _core, _log
from ._about import _PY_TO_OP_NAME
from ._settings.proxies import _mask_proxy_url
from ._transport.tls import ssl_error, transport_kwargs
from ._transport.urls import EndpointURL
from .config import is_unsigned
from .response import EventStream, StreamingBody

__all__ = ["SageMakerRuntime", "ClientMeta", "create_client"]


class ClientMeta:
    """``client.meta``: region_name, endpoint_url, config, partition, method_to_api_mapping."""

    __slots__ = ("region_name", "endpoint_url", "config", "partition", "service_name")

    def __init__(self, region_name, endpoint_url, config, partition, service_name):
        self.region_name = region_name
        self.endpoint_url = endpoint_url
        self.config = config
        self.partition = partition
        self.service_name = service_name

    @property
    def method_to_api_mapping(self):
        return dict(_PY_TO_OP_NAME)

    def __repr__(self):
        return f"ClientMeta(region_name={self.region_name!r}, endpoint_url={self.endpoint_url!r})"


_EXCEPTIONS = None


def _client_exceptions():
    global _EXCEPTIONS
    if _EXCEPTIONS is None:
        from .exceptions import ClientExceptions

        _EXCEPTIONS = ClientExceptions()
    return _EXCEPTIONS


class CoreSettings:
    """What the C core's Client is built from: one object, read once by csrc/client.c
    (``CFG_FIELDS``); every field has botocore's default."""

    __slots__ = (
        "url_prefix", "base_path", "url_query", "host", "region", "service", "user_agent",
        "connect_timeout", "read_timeout", "max_pool_connections", "tcp_keepalive", "verify",
        "ca_bundle", "proxy", "proxy_ca_bundle", "client_cert", "client_key", "retry_mode",
        "max_attempts", "retry_read_timeouts", "parameter_validation", "unsigned_requests",
        "wire_prefix", "wire_query", "wire_host", "wire_label_escape", "call_error",
        "proxy_verify", "proxy_client_cert", "proxy_client_key", "proxy_forwarding",
        "proxy_authorization",
    )  # fmt: skip

    _DEFAULTS = {
        "url_query": None, "connect_timeout": 60.0, "read_timeout": 60.0,
        "max_pool_connections": 10, "tcp_keepalive": False, "verify": True, "ca_bundle": None,
        "proxy": None, "proxy_ca_bundle": None, "client_cert": None, "client_key": None,
        "retry_mode": "standard", "max_attempts": 3, "retry_read_timeouts": True,
        "parameter_validation": True, "unsigned_requests": False, "wire_prefix": None,
        "wire_query": None, "wire_host": None, "wire_label_escape": False, "call_error": False,
        "proxy_verify": True, "proxy_client_cert": None, "proxy_client_key": None,
        "proxy_forwarding": None, "proxy_authorization": None,
    }  # fmt: skip

    def __init__(self, **fields):
        for name in self.__slots__:
            if name in fields:
                value = fields.pop(name)
            elif name in self._DEFAULTS:
                value = self._DEFAULTS[name]
            else:
                raise TypeError(f"CoreSettings() missing required field {name!r}")
            setattr(self, name, value)
        if fields:
            raise TypeError(f"CoreSettings() got unknown fields {sorted(fields)}")

    def __repr__(self):
        # proxy_authorization is a credential: never shown.
        return f"<CoreSettings for {self.url_prefix!r}>"


class SageMakerRuntime(_core.Client):
    """A low-level client for Amazon SageMaker Runtime, like boto3's.

    Unlike boto3's it pickles: what it was built from travels (explicit keys only, never the
    credentials this process found), and each receiving process makes one client per
    distinct pickle (README "Beyond one machine").
    """

    # Test hooks, read by the C core only when it is about to back off: a callable
    # returning a float in [0, 1) for the jitter, and one called instead of sleeping.
    _random = None
    _sleep = None
    # What the client was made from (session._ClientOrigin), set by Session.client: what a
    # pickle of it carries. None: made some other way, not picklable.
    _origin = None

    def __init__(self, settings):
        endpoint = self._endpoint = EndpointURL(settings.endpoint_url)
        max_pool, pool_error = _pool_size(settings.max_pool_connections)
        signature_version = getattr(settings.config, "signature_version", "v4")
        signer_error = None
        if signature_version not in (None, "v4") and not is_unsigned(signature_version):
            signer_error = ("signature", signature_version)  # unknown to botocore too
        scheme = settings.endpoint_url.partition(":")[0].lower()
        transport, proxy_error = transport_kwargs(settings, scheme)
        if proxy_error is not None:
            proxy_error = ("proxies_config", proxy_error)
        signed = not is_unsigned(getattr(settings.config, "signature_version", None))
        port_error = endpoint.call_error if (endpoint.call_error or ("",))[0] == "port" else None
        # What makes boto3 fail each call, in its order: the signature version (choosing a
        # signer), the port (signing; unsigned, urllib3 finds it later), the proxy's SSL
        # context, the scheme and the pool size (urllib3).
        self._call_error_info = (
            signer_error
            or (port_error if signed else None)
            or proxy_error
            or endpoint.call_error
            or pool_error
        )
        wire = {}
        if self._call_error_info is not None:
            wire["call_error"] = True
        if not endpoint.plain:
            wire.update(
                wire_prefix=endpoint.wire_prefix,
                wire_query=endpoint.wire_query,
                wire_host=endpoint.wire_host,
                wire_label_escape=endpoint.label_escape,
            )
        config = settings.config
        super().__init__(
            CoreSettings(
                url_prefix=endpoint.url_prefix,
                base_path=endpoint.base_path,
                url_query=endpoint.query,
                host=endpoint.sign_host,
                region=settings.signing_region,
                service=settings.signing_name,
                user_agent=settings.user_agent,
                connect_timeout=float(settings.connect_timeout or 0),
                read_timeout=float(settings.read_timeout or 0),
                max_pool_connections=max_pool,
                tcp_keepalive=bool(settings.tcp_keepalive),
                retry_mode=settings.retry_mode,
                max_attempts=int(settings.max_attempts),
                retry_read_timeouts=(getattr(config, "retries", None) or {}).get(
                    "retry_on_read_timeout", True
                ),
                parameter_validation=bool(settings.parameter_validation),
                unsigned_requests=is_unsigned(getattr(config, "signature_version", None)),
                **transport,
                **wire,
            )
        )
        self._unsigned = is_unsigned(getattr(config, "signature_version", None))
        # Whether generate_presigned_url may try C first: all fixed once the client is made.
        self._presign_in_c = self._call_error_info is None and endpoint.plain and not self._unsigned
        self._credentials = settings.credentials
        if self._unsigned:
            pass  # requests go out unsigned: no credentials are loaded or used
        elif _is_refreshable(self._credentials):
            # Loaded (or refreshed) at the first call, as botocore signs: building a client
            # never runs a provider (an STS call, a credential_process ...).
            self._set_credentials(None, None, None, _DUE_NOW)
        elif self._credentials is not None:
            frozen = self._credentials.get_frozen_credentials()
            self._set_credentials(frozen.access_key, frozen.secret_key, frozen.token)
        self._settings = settings
        _log.debug(
            _log.ENDPOINT,
            "Setting %s timeout as %s",
            "runtime.sagemaker",
            (settings.config.connect_timeout, settings.config.read_timeout),
        )
        self.meta = ClientMeta(
            settings.region_name,
            settings.endpoint_url,
            config,
            getattr(settings, "partition", "aws"),
            settings.service_name,
        )

    def __repr__(self):
        return f"<sagemaker_rt_c.SageMakerRuntime object at {id(self):#x}>"

    def __reduce__(self):
        # pickle, cloudpickle, copy: what the client was built from travels, never the
        # credentials this process found (sagemaker_rt_c/_pickling.py); the receiving process
        # makes one client per distinct pickle and reuses it.
        origin = self._origin
        if origin is None:
            from ._pickling import refuse_unknown_client  # lazy: pickling is for few users

            refuse_unknown_client()
        return origin.reduce()

    def _refresh_credentials(self):
        # Called by the C core (the refresh_credentials hook) once the advisory deadline has
        # passed. botocore's refreshable credentials decide: a mandatory refresh blocks, an
        # advisory one is tried by one thread at a time and, if it fails, the still-valid
        # credentials stay.
        creds = self._credentials
        frozen = creds.get_frozen_credentials()
        expiry = getattr(creds, "_expiry_time", None)
        refresh_at = 0.0
        if expiry is not None:
            # The object's own advisory window (botocore's default: 15 minutes).
            window = getattr(creds, "_advisory_refresh_timeout", _ADVISORY_REFRESH_SECONDS)
            refresh_at = max(expiry.timestamp() - window, _DUE_NOW)
        if frozen.access_key is None:
            self._set_credentials(None, None, None, refresh_at)
        else:
            self._set_credentials(frozen.access_key, frozen.secret_key, frozen.token, refresh_at)

    def _transport_error(self, kind, url, message, tls=None):
        # Called by the C core when a transfer fails (`tls`: why a TLS set-up failed, see
        # csrc/client.c tls_detail). botocore names its own request URL.
        url = self._endpoint.request_url_from_wire(url)
        if kind == "ssl":
            return ssl_error(url, message, tls, self._settings)
        return _transport_error(kind, url, message, self._settings.proxy_url)

    def _call_error(self, endpoint_name):
        # Called by the C core (after the parameters are checked) when no request can be
        # made, to raise what botocore raises where it fails: choosing the signer, signing
        # (after looking for credentials) or sending.
        from . import exceptions as exc

        kind, detail = self._call_error_info
        if kind == "signature":
            raise exc.UnknownSignatureVersionError(signature_version=detail)
        if not self._unsigned:
            creds = self._credentials
            frozen = creds.get_frozen_credentials() if creds is not None else None
            if frozen is None or frozen.access_key is None:
                raise exc.NoCredentialsError()
        if kind == "proxies_config":
            raise detail
        if kind == "pool":
            raise exc.HTTPClientError(error=_TransportDetail(detail))
        if kind == "port" and not self._unsigned:
            # botocore's signer reads urlsplit(url).port for the Host header.
            raise ValueError(detail)
        if kind == "port":
            # Unsigned: urllib3 parses the URL and fails.
            url = self._endpoint.request_url(_core.uri_encode(endpoint_name, False))
            detail = _urllib3_parse_failure(url)
        else:
            detail = f"Not supported URL scheme {detail}"
        raise exc.HTTPClientError(error=_TransportDetail(detail))

    @property
    def exceptions(self):
        """The modeled exception classes, as ``client.exceptions`` in boto3."""
        return _client_exceptions()

    @property
    def waiter_names(self):
        return []

    def can_paginate(self, operation_name):
        """No sagemaker-runtime operation is pageable (KeyError for an unknown name, as boto3)."""
        _PY_TO_OP_NAME[operation_name]
        return False

    def get_paginator(self, operation_name):
        from .exceptions import OperationNotPageableError

        if not self.can_paginate(operation_name):
            raise OperationNotPageableError(operation_name=operation_name)

    def get_waiter(self, waiter_name):
        raise ValueError(f"Waiter does not exist: {waiter_name}")

    def close(self):
        """Close idle connections (later calls open new ones), as botocore's client.close()."""
        self._close_connections()

    def invoke_endpoint_batch(self, requests, *, max_concurrency=32, progress=False):
        """invoke_endpoint for each of ``requests``, many at a time; results in input order.

        ``requests``: any iterable of invoke_endpoint keyword dicts, read lazily (at most
        4 x max_concurrency ahead of the result being waited for). Each result is the
        response dict with ``Body`` read into bytes, or, in place, the exception the call
        raised after the client's retries (a ClientError such as
        ``client.exceptions.ModelError``, a ParamValidationError ...): one failure never
        stops the batch. Calls run on worker threads in the C core with the GIL released,
        reusing connections; Ctrl-C cancels them all and raises KeyboardInterrupt.

        ``max_concurrency``: calls in flight (1 to 1024), or ``'auto'``: start at 8, grow
        while latency stays flat, cut on throttling (429, 503, ThrottlingException,
        ModelNotReadyException), up to 256. ``progress``: True for a tqdm bar (terminal
        or Jupyter), or a callable given a ``BatchProgress`` after each result.

        Returns an iterator with ``close()`` (also a context manager) and the counters
        ``done``, ``errors``, ``throttled``, ``concurrency``, ``in_flight``, ``elapsed``, and
        ``last_latency``: the seconds the result just yielded took, first send to response.
        """
        from ._batch import start

        return start(self, requests, max_concurrency, progress)

    def generate_presigned_url(self, ClientMethod, Params=None, ExpiresIn=3600, HttpMethod=None):
        """Generate a presigned URL for a client method, as boto3 does (same URL, same second).

        As in botocore, ``ExpiresIn`` goes into the URL as ``str()`` gives it (no check: the
        service refuses a URL whose X-Amz-Expires it can't use); None means 3600.
        """
        if ExpiresIn is None:
            ExpiresIn = 3600
        if (
            ClientMethod == "invoke_endpoint"
            and self._presign_in_c
            and type(ExpiresIn) is int
            and Params is not None
        ):
            # The common case in C (empty Body, valid parameters); None means "not here".
            url = self._presign(Params, ExpiresIn, HttpMethod)
            if url is not None:
                return url
        from ._protocol.presign import generate_presigned_url  # lazy: presigning is for few users

        return generate_presigned_url(self, ClientMethod, Params, ExpiresIn, HttpMethod)


# botocore's advisory refresh window (RefreshableCredentials._advisory_refresh_timeout).
_ADVISORY_REFRESH_SECONDS = 15 * 60
# A wall-clock time long past: "refresh before the next call".
_DUE_NOW = 1.0


def _pool_size(value):
    """(idle connections kept, None) or (10, ("pool", urllib3's error)) for
    max_pool_connections, which botocore hands urllib3 unchecked: urllib3 fills its pool's
    queue with range(maxsize) when the first request is made (a TypeError, unless an integer)
    and keeps any number of connections when maxsize <= 0."""
    try:
        size = _index(value)
    except TypeError as e:
        return 10, ("pool", str(e))
    return (size if size > 0 else 1 << 30), None


def _is_refreshable(creds):
    # Ours or botocore's RefreshableCredentials (duck-typed: botocore is not imported).
    return creds is not None and callable(getattr(creds, "refresh_needed", None))


def create_client(settings):
    return SageMakerRuntime(settings)


# ---- hooks called by the C core (slow paths only) -------------------------------------------


def _parse_error(status, headers, body):
    """(code, x-amz-retry-after in seconds or None, parsed response) for an HTTP error response."""
    from ._protocol.errors import error_code, parse_error_response  # lazy: only error responses

    parsed = parse_error_response(status, headers, body)
    return error_code(parsed), _retry_after_seconds(headers.get("x-amz-retry-after")), parsed


def _retry_after_seconds(value):
    # botocore 1.44 retries/standard.py ExponentialBackoff._get_retry_after_delay: integer
    # milliseconds as int() reads them; negative or unreadable values are ignored.
    if value is None:
        return None
    try:
        seconds = int(value) / 1000.0
    except (ValueError, OverflowError):
        return None
    return None if seconds < 0 else seconds


def _client_error(parsed, operation_name):
    from ._protocol.errors import error_code  # lazy: only error responses
    from .exceptions import error_class_for_code

    return error_class_for_code(error_code(parsed))(parsed, operation_name)


def _transport_error(kind, url, message, proxy_url=None):
    from . import exceptions as exc

    error = _TransportDetail(message)
    if kind == "connect":
        return exc.EndpointConnectionError(endpoint_url=url, error=error)
    if kind == "connect_timeout":
        return exc.ConnectTimeoutError(endpoint_url=url, error=error)
    if kind == "read_timeout":
        return exc.ReadTimeoutError(endpoint_url=url, error=error)
    if kind == "closed":
        return exc.ConnectionClosedError(endpoint_url=url, error=error)
    if kind == "partial":
        return exc.ResponseStreamingError(error=error)
    if kind == "ssl":
        return exc.SSLError(endpoint_url=url, error=error)
    if kind == "proxy":
        return exc.ProxyConnectionError(proxy_url=_mask_proxy_url(proxy_url or url), error=error)
    return exc.HTTPClientError(error=error)


def _urllib3_parse_failure(url):
    """urllib3's message for a URL whose port it can't parse (urllib3's own words when it is
    installed)."""
    try:
        from urllib3.util import parse_url
    except ImportError:
        return f"Failed to parse: {url}"
    try:
        parse_url(url)
    except Exception as e:  # noqa: BLE001 - its message is what we want
        return str(e)
    return f"Failed to parse: {url}"


class _TransportDetail(Exception):
    """The libcurl message behind a transport exception (its ``error`` kwarg)."""


def _validation_failed(operation_name, params, detail, validating=True):
    from . import exceptions as exc
    from ._protocol.validate import validate  # lazy: only parameters C refused

    # botocore's validator first (without parameter_validation: what can't be serialised).
    validate(operation_name, params, lengths=bool(validating))
    if "UTF-8" in detail:
        # A lone surrogate: botocore's serializer fails encoding it (the URI labels for the
        # URL, then a str payload), with Python's own UnicodeEncodeError.
        from ._protocol.operations import OPERATIONS

        operation = OPERATIONS[operation_name]
        labels = [m["name"] for m in operation["members"] if m["location"] == "uri"]
        for name in labels + [operation["payload"]]:
            value = params.get(name)
            if isinstance(value, str):
                value.encode("utf-8")
    # The C fast path refused something the Python validator accepts: say what C saw.
    raise exc.ParamValidationError(report=f"{detail} in the parameters of {operation_name}")


def _json_output(operation_name, body):
    """The output members a JSON response body carries, as botocore's rest-json parser reads
    them (by serialized name; a body that is not a JSON object carries none)."""
    from ._protocol.errors import _parse_body  # lazy: only JSON responses
    from ._protocol.operations import OPERATIONS

    values = _parse_body(body)
    out = {}
    for member in OPERATIONS[operation_name]["output_members"]:
        if member["location"] == "body":
            value = values.get(member["wire_name"])
            if value is not None:
                out[member["name"]] = value
    return out


def _event_message(operation_name, headers, payload):
    """An event-stream message the C reader does not make itself, parsed as botocore's
    EventStream._parse_event parses it (EventStreamJSONParser): the event dict, None when
    botocore yields nothing for it, or the EventStreamError of an exception or error event."""
    from ._protocol.operations import OPERATIONS

    shapes = {event["name"]: event for event in OPERATIONS[operation_name]["events"]}
    message_type = headers.get(":message-type")
    if message_type in ("error", "exception"):
        exception_type = headers.get(":exception-type")
        shape = shapes.get(exception_type)
        if shape is not None:
            body = _event_members(shape, payload)
            message = body.get("Message", body.get("message", ""))
            error = {"Code": exception_type, "Message": message}
        else:
            error = {
                "Code": headers.get(":error-code", ""),
                "Message": headers.get(":error-message", ""),
            }
        from .exceptions import EventStreamError

        return EventStreamError({"Error": error}, operation_name)
    event_type = headers.get(":event-type")
    shape = shapes.get(event_type)
    if shape is None:
        return None
    return {event_type: _event_members(shape, payload)}


def _event_members(shape, payload):
    # BaseEventStreamParser._parse_payload: the payload member (a blob as it is, a string
    # decoded, else JSON), or the shape's members read from a JSON body.
    for member in shape["members"]:
        if member["location"] == "payload":
            if member["type"] == "blob":
                return {member["name"]: payload}
            if member["type"] == "string":
                return {member["name"]: payload.decode("utf-8")}
    from ._protocol.errors import _parse_body

    values = _parse_body(payload)
    return {
        m["name"]: values[m["wire_name"]]
        for m in shape["members"]
        if m["location"] != "header" and m["wire_name"] in values
    }


def _stream_break(error):
    """The exception for an event stream whose body broke (`error` from the RawStream) or
    ended inside an event (None)."""
    from .response import _translate

    if error is not None:
        return _translate(error)
    from .exceptions import ResponseStreamingError

    return ResponseStreamingError(
        error="the response stream ended before its last event was complete"
    )


def _no_credentials():
    from .exceptions import NoCredentialsError

    return NoCredentialsError()


# The C core's logging hooks live with the rest of the logging (csrc/log.c calls them here).
from ._log import _log_attempt, _log_refresh, _log_request, _log_response  # noqa: E402,F401


class _Hooks:
    """The functions the C core calls on its slow paths, declared in one place (csrc/binding.h
    SMRT_HOOKS, resolved once by _core._install)."""

    __slots__ = ()

    validation_failed = staticmethod(_validation_failed)
    no_credentials = staticmethod(_no_credentials)
    parse_error = staticmethod(_parse_error)
    client_error = staticmethod(_client_error)
    json_output = staticmethod(_json_output)
    event_message = staticmethod(_event_message)
    stream_break = staticmethod(_stream_break)
    event_stream = EventStream
    log_refresh = staticmethod(_log_refresh)
    log_request = staticmethod(_log_request)
    log_attempt = staticmethod(_log_attempt)
    log_response = staticmethod(_log_response)

    @staticmethod
    def transport_error(client, kind, url, message, tls=None):
        return client._transport_error(kind, url, message, tls)

    @staticmethod
    def call_error(client, label):
        return client._call_error(label)

    @staticmethod
    def refresh_credentials(client):
        return client._refresh_credentials()


HOOKS = _Hooks()

_core._install(StreamingBody, HOOKS)
