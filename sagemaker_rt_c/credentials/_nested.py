"""The service clients the credential chain uses (STS, SSO, SSO OIDC), and their settings.

botocore makes these as ordinary clients of the same session (``create_nested_client``), so
they follow the session's configuration: region, ``AWS_ENDPOINT_URL_<SERVICE>`` /
``AWS_ENDPOINT_URL`` / the profile's ``services`` section / ``endpoint_url`` (unless
``ignore_configured_endpoint_urls``), FIPS and dual-stack, ``sts_regional_endpoints``,
``ca_bundle``, proxies, defaults mode, retry mode and attempts. ``resolve`` computes the same,
with ``_settings``' parts. ``NestedClient._call`` builds one operation's request and runs it
through the C core's call engine (``_core.nested_client``, csrc/nested.c): the same transport,
signing and retry policy (csrc/retry.c: botocore's modes, quota and adaptive rate limiter,
STS's IDPCommunicationError rule, ``amz-sdk-*`` headers) as the sagemaker-runtime client, each
nested client with its own connection pool and retry state, as botocore's.

Deliberate differences, none visible to a caller that succeeds: the User-Agent is this
package's; endpoint rule set errors (a partition without FIPS ...) are raised when the client
is made, not when it is called.
"""

import os

from .. import _core, _log
from .._client import CoreSettings, _retry_after_seconds
from .._settings import (
    _check_timeout,
    _config_kwargs,
    _normalize_verify,
    _validate_verify,
    _warn,
    configprovider,
    proxies,
    regions,
    retries,
    useragent,
)
from ..config import UNSIGNED, Config, is_unsigned

__all__ = ["NestedClient", "ResponseParserError", "resolve", "validate_params", "error_class"]

# Per service: endpoint prefix, signing name, AWS_ENDPOINT_URL_<suffix>, services-section key.
_SERVICES = {
    "sts": ("sts", "sts", "STS", "sts"),
    "sso": ("portal.sso", "awsssoportal", "SSO", "sso"),
    "sso-oidc": ("oidc", "sso-oauth", "SSO_OIDC", "sso_oidc"),
}

# botocore.args.LEGACY_GLOBAL_STS_REGIONS
_LEGACY_GLOBAL_STS_REGIONS = frozenset(
    [
        "ap-northeast-1",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "aws-global",
        "ca-central-1",
        "eu-central-1",
        "eu-north-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    ]
)

# endpoints.json, botocore 1.43.11: the variant tag sets of each partition's defaults. For
# sts, portal.sso and oidc no service or endpoint defines a variant beyond these, so they
# decide botocore's construction-time EndpointVariantError.
_PARTITION_VARIANTS = {
    "aws": (("dualstack",), ("dualstack", "fips"), ("fips",)),
    "aws-cn": (("dualstack",), ("dualstack", "fips"), ("fips",)),
    "aws-us-gov": (("dualstack",), ("dualstack", "fips"), ("fips",)),
    "aws-iso": (("fips",),),
    "aws-iso-b": (("fips",),),
    "aws-iso-e": (("fips",),),
    "aws-iso-f": (("fips",),),
    "aws-eusc": (("dualstack",), ("dualstack", "fips"), ("fips",)),
}


class ResponseParserError(Exception):
    """A response that is not what the operation returns (botocore.parsers' class)."""


class NestedSettings:
    """What one nested client needs; ``endpoint_url`` None means NoRegionError when called."""

    __slots__ = (
        "service_name",
        "region_name",
        "endpoint_url",
        "signing_region",
        "signing_name",
        "credentials",
        "verify",
        "connect_timeout",
        "read_timeout",
        "proxy_url",
        "proxies_config",
        "client_cert",
        "retry_mode",
        "max_attempts",
        "user_agent",
    )

    def __init__(self, **kwargs):
        for name in self.__slots__:
            setattr(self, name, kwargs[name])

    def __repr__(self):
        return (
            f"NestedSettings(service_name={self.service_name!r}, "
            f"region_name={self.region_name!r}, endpoint_url={self.endpoint_url!r})"
        )


def _standard_url(prefix, region, fips, dualstack):
    """The endpoint rule set shared by sts, sso and sso-oidc for a set region."""
    name, _, _, dns, dualstack_dns, supports_fips, supports_dualstack = regions._ruleset_partition(
        region
    )
    if fips and dualstack:
        if supports_fips and supports_dualstack:
            return f"https://{prefix}-fips.{region}.{dualstack_dns}"
        raise regions._endpoint_error(
            "FIPS and DualStack are enabled, but this partition does not support one or both"
        )
    if fips:
        if not supports_fips:
            raise regions._endpoint_error(
                "FIPS is enabled but this partition does not support FIPS"
            )
        if name == "aws-us-gov":
            return f"https://{prefix}.{region}.amazonaws.com"
        return f"https://{prefix}-fips.{region}.{dns}"
    if dualstack:
        if not supports_dualstack:
            raise regions._endpoint_error(
                "DualStack is enabled but this partition does not support DualStack"
            )
        return f"https://{prefix}.{region}.{dualstack_dns}"
    return f"https://{prefix}.{region}.{dns}"


def _check_variant(prefix, region, fips, dualstack):
    """botocore's legacy EndpointResolver refuses a FIPS / dual-stack variant its partition
    does not define (EndpointVariantError), whatever the rule set would say."""
    tags = []
    if dualstack:
        tags.append("dualstack")
    if fips:
        tags.append("fips")
    partition = regions._legacy_partition(region, dualstack)[0]
    if tuple(tags) in _PARTITION_VARIANTS.get(partition, ()):
        return
    from .. import exceptions

    raise exceptions.EndpointVariantError(
        tags=tags, error_msg=f"Endpoint does not exist for {prefix} in region {region}"
    )


def resolve(
    session,
    service_name,
    region_name=None,
    config=None,
    aws_access_key_id=None,
    aws_secret_access_key=None,
    aws_session_token=None,
):
    """botocore's ``session.create_client(service_name, ...)`` for sts / sso / sso-oidc."""
    prefix, signing_name, env_suffix, services_key = _SERVICES[service_name]
    view = session._config_view()
    default_config = session._default_client_config()
    if default_config is not None:
        config = default_config if config is None else default_config.merge(config)
    if region_name is None:
        if config is not None and config.region_name is not None:
            region_name = config.region_name
        else:
            region_name = view.get("region")
    regions._validate_region_name(region_name)
    verify = view.get("ca_bundle")

    if config is not None and is_unsigned(config.signature_version):
        credentials = None
    else:
        credentials = session._client_credentials(
            aws_access_key_id, aws_secret_access_key, aws_session_token
        )

    retry_mode_default, connect_timeout_default = configprovider._defaults_mode(
        view, config, region_name, session
    )

    if region_name is not None:
        normalized = region_name.replace("fips-", "").replace("-fips", "")
        if normalized != region_name:
            fips_config = Config(use_fips_endpoint=True)
            config = config.merge(fips_config) if config is not None else fips_config
            _warn(
                "sagemaker_rt_c.client",
                "transforming region from %s to %s and setting use_fips_endpoint to true. "
                "client should not be configured with a fips psuedo region.",
                region_name,
                normalized,
            )
            region_name = normalized

    configured_url = regions._configured_endpoint_url(
        view, config, "AWS_ENDPOINT_URL_" + env_suffix, services_key
    )
    dualstack = bool(regions._variant_flag(view, config, "use_dualstack_endpoint"))
    fips = bool(regions._variant_flag(view, config, "use_fips_endpoint"))
    regional = regions._sts_regional_endpoints(view)
    use_global = service_name == "sts" and regional == "legacy"
    region_missing = region_name is None
    if region_missing:
        if service_name != "sts":
            from .. import exceptions

            raise exceptions.NoRegionError()
        # endpoints.json: sts has a global partition endpoint, signed for us-east-1.
        region_name = "aws-global"

    if fips or dualstack:
        _check_variant(prefix, region_name, fips, dualstack)

    signature_version = None if config is None else config.signature_version
    signature_version = UNSIGNED if is_unsigned(signature_version) else "v4"
    preliminary_ua = useragent._user_agent(session._exec_env, config)
    kwargs = _config_kwargs(
        view,
        config,
        region_name,
        signature_version,
        preliminary_ua,
        fips,
        dualstack,
        retry_mode_default,
        connect_timeout_default,
    )
    effective = Config(**kwargs)

    signing_region = region_name
    if configured_url is not None:
        regions._validate_endpoint_url(configured_url)
        # A custom endpoint without a region fails when called (NoRegionError), as botocore.
        url = None if region_missing else configured_url
    elif service_name == "sts" and region_name == "aws-global":
        # The global endpoint (its FIPS / dual-stack names keep "aws-global"), signed for
        # us-east-1 as endpoints.json scopes it.
        if fips or dualstack:
            url = _standard_url(prefix, region_name, fips, dualstack)
        else:
            url = "https://sts.amazonaws.com"
        signing_region = "us-east-1"
    elif use_global and not fips and not dualstack and region_name in _LEGACY_GLOBAL_STS_REGIONS:
        url = "https://sts.amazonaws.com"
        signing_region = "us-east-1"
    else:
        url = _standard_url(prefix, region_name, fips, dualstack)

    if verify is None:
        verify = os.environ.get("REQUESTS_CA_BUNDLE", True)
    _validate_verify(verify)
    verify = _normalize_verify(verify)
    scheme, netloc = proxies._split_scheme_netloc(url or "https://")
    retry_mode, max_attempts = retries._mode_and_max_attempts(effective.retries)
    effective._supplied_user_agent = config.user_agent if config is not None else None
    return NestedSettings(
        service_name=service_name,
        region_name=region_name,
        endpoint_url=url,
        signing_region=signing_region,
        signing_name=signing_name,
        credentials=credentials,
        verify=verify,
        connect_timeout=_check_timeout(effective.connect_timeout, "connect"),
        read_timeout=_check_timeout(effective.read_timeout, "read"),
        proxy_url=proxies._proxy_url(scheme, netloc, effective.proxies),
        proxies_config=effective.proxies_config,
        client_cert=effective.client_cert,
        retry_mode=retry_mode,
        max_attempts=max_attempts,
        user_agent=useragent._user_agent(session._exec_env, effective),
    )


# The modeled errors of each service: error code -> class name (botocore's errorfactory).
_MODELED_ERRORS = {
    "sts": {
        "MalformedPolicyDocument": "MalformedPolicyDocumentException",
        "PackedPolicyTooLarge": "PackedPolicyTooLargeException",
        "RegionDisabledException": "RegionDisabledException",
        "ExpiredTokenException": "ExpiredTokenException",
        "InvalidContextAssertion": "InvalidContextAssertionException",
        "IDPRejectedClaim": "IDPRejectedClaimException",
        "InvalidIdentityToken": "InvalidIdentityTokenException",
        "IDPCommunicationError": "IDPCommunicationErrorException",
        "InvalidAuthorizationMessageException": "InvalidAuthorizationMessageException",
        "ExpiredTradeInTokenException": "ExpiredTradeInTokenException",
        "InsufficientSessionLifetime": "InsufficientSessionLifetimeException",
        "InvalidSubjectCredentials": "InvalidSubjectCredentialsException",
        "JWTPayloadSizeExceededException": "JWTPayloadSizeExceededException",
        "OutboundWebIdentityFederationDisabledException": (
            "OutboundWebIdentityFederationDisabledException"
        ),
        "SessionDurationEscalationException": "SessionDurationEscalationException",
    },
    "sso": {
        name: name
        for name in (
            "InvalidRequestException",
            "ResourceNotFoundException",
            "TooManyRequestsException",
            "UnauthorizedException",
        )
    },
    "sso-oidc": {
        name: name
        for name in (
            "AccessDeniedException",
            "AuthorizationPendingException",
            "ExpiredTokenException",
            "InternalServerException",
            "InvalidClientException",
            "InvalidClientMetadataException",
            "InvalidGrantException",
            "InvalidRedirectUriException",
            "InvalidRequestException",
            "InvalidRequestRegionException",
            "InvalidScopeException",
            "SlowDownException",
            "UnauthorizedClientException",
            "UnsupportedGrantTypeException",
        )
    },
}
_ERROR_CLASSES = {}


def error_class(service_name, code):
    """The class botocore's client for the service raises for an error code."""
    from .. import exceptions

    name = _MODELED_ERRORS[service_name].get(code) if isinstance(code, str) else None
    if name is None:
        return exceptions.ClientError
    key = (service_name, name)
    cls = _ERROR_CLASSES.get(key)
    if cls is None:
        cls = _ERROR_CLASSES.setdefault(
            key, type(name, (exceptions.ClientError,), {"__module__": __name__})
        )
    return cls


class _Exceptions:
    """``client.exceptions`` of a nested client: its modeled classes by name."""

    def __init__(self, service_name):
        self._service_name = service_name

    def __getattr__(self, name):
        from .. import exceptions

        if name == "ClientError":
            return exceptions.ClientError
        for code, class_name in _MODELED_ERRORS[self._service_name].items():
            if class_name == name:
                return error_class(self._service_name, code)
        raise AttributeError(name)


# The error codes each operation we call models (botocore 1.44.8's models): a 429 with any
# other code counts as throttling.
_OPERATION_ERRORS = {
    ("sts", "AssumeRole"): frozenset(
        [
            "MalformedPolicyDocument",
            "PackedPolicyTooLarge",
            "RegionDisabledException",
            "ExpiredTokenException",
            "InvalidContextAssertion",
        ]
    ),
    ("sts", "AssumeRoleWithWebIdentity"): frozenset(
        [
            "MalformedPolicyDocument",
            "PackedPolicyTooLarge",
            "IDPRejectedClaim",
            "IDPCommunicationError",
            "InvalidIdentityToken",
            "ExpiredTokenException",
            "RegionDisabledException",
        ]
    ),
    ("sts", "GetCallerIdentity"): frozenset(),
    ("sso", "GetRoleCredentials"): frozenset(
        [
            "InvalidRequestException",
            "UnauthorizedException",
            "TooManyRequestsException",
            "ResourceNotFoundException",
        ]
    ),
    ("sso-oidc", "CreateToken"): frozenset(
        [
            "InvalidRequestException",
            "InvalidClientException",
            "InvalidGrantException",
            "UnauthorizedClientException",
            "UnsupportedGrantTypeException",
            "InvalidScopeException",
            "AuthorizationPendingException",
            "SlowDownException",
            "AccessDeniedException",
            "ExpiredTokenException",
            "InternalServerException",
        ]
    ),
}


# http.client's test of a header value it refuses (putheader: a CR or LF that does not start
# a folded line); botocore reports it as HTTPClientError, retried as such.
_ILLEGAL_HEADER_VALUE = None


def _refused_header(headers):
    """The reason urllib3 would refuse to send these (name, value) pairs, or None."""
    global _ILLEGAL_HEADER_VALUE
    for name, value in headers:
        data = value.encode("utf-8")  # botocore sends text values as UTF-8
        if b"\r" not in data and b"\n" not in data:
            continue
        if _ILLEGAL_HEADER_VALUE is None:
            import re

            _ILLEGAL_HEADER_VALUE = re.compile(rb"\n(?![ \t])|\r(?![ \t\n])")
        if _ILLEGAL_HEADER_VALUE.search(data):
            # http.client's message holds the value: a token, often.
            return f"Invalid header value for {name} (value not shown)"
    return None


def _log_outcome(
    mode,
    attempt,
    max_attempts,
    operation,
    status,
    headers,
    code=None,
    exception=None,
    reason=None,
    retried=False,
    delay=0.0,
):
    # Status, request id and the retry decision: never headers or bodies (credentials).
    if status is not None:
        request_id = headers.get("x-amzn-requestid") or headers.get("x-amz-request-id")
        _log.response_summary(attempt, max_attempts, status, request_id, code)
    else:
        _log.no_response(attempt, max_attempts, exception)
    _log.retry_decision(
        mode,
        attempt,
        max_attempts,
        reason,
        retried,
        delay,
        operation=operation,
        status=status,
        code=code,
        exc=exception,
    )


# Test hooks, read by the C core when it backs off (csrc/nested.c): a callable returning the
# jitter in [0, 1), and one called with each delay instead of sleeping. None: the core draws
# its own jitter and sleeps in slices that let Ctrl-C through.
_random = None
_sleep = None


class Response:
    """A response below 300 (or an error response, for the parsers): ``status``, ``headers``
    (lower-case names, as botocore shows them), ``body`` (bytes), and how many retries it took."""

    __slots__ = ("status", "headers", "body", "retry_attempts", "max_attempts_reached")

    def __init__(self, status, headers, body, retry_attempts=0, max_attempts_reached=False):
        self.status = status
        self.headers = headers
        self.body = body
        self.retry_attempts = retry_attempts
        self.max_attempts_reached = max_attempts_reached


def response_metadata(response):
    """botocore's ResponseMetadata of a rest-json response below 300: the request id from the
    headers (BaseRestParser), the status, the headers and the retries it took."""
    headers = response.headers
    metadata = {}
    if "x-amzn-requestid" in headers:
        metadata["RequestId"] = headers["x-amzn-requestid"]
    elif "x-amz-request-id" in headers:
        metadata["RequestId"] = headers["x-amz-request-id"]
        metadata["HostId"] = headers.get("x-amz-id-2", "")
    metadata["HTTPStatusCode"] = response.status
    metadata["HTTPHeaders"] = headers
    metadata["RetryAttempts"] = response.retry_attempts
    if response.max_attempts_reached:
        metadata["MaxAttemptsReached"] = True
    return metadata


def _engine(settings):
    """(the C core of a nested client, the reason every request fails unsent or None):
    _core.nested_client (csrc/nested.c) with its own pool and retry state, made from the
    settings as the sagemaker-runtime client's core is (``_client.CoreSettings``), its URL
    prefix the endpoint's origin (each request carries its whole path)."""
    from .._transport.tls import transport_kwargs
    from .._transport.urls import EndpointURL

    endpoint = EndpointURL(settings.endpoint_url)
    head, sep, rest = endpoint.wire_prefix.partition("://")
    origin = head + sep + rest.partition("/")[0]  # scheme://host[:port]
    transport, call_error = transport_kwargs(settings, head)
    core = _core.nested_client(
        CoreSettings(
            url_prefix=origin,
            base_path="",
            host=endpoint.sign_host,
            wire_host=None if endpoint.wire_host == endpoint.sign_host else endpoint.wire_host,
            region=settings.signing_region,
            service=settings.signing_name,
            user_agent=settings.user_agent,
            connect_timeout=float(settings.connect_timeout or 0),
            read_timeout=float(settings.read_timeout or 0),
            retry_mode=settings.retry_mode,
            max_attempts=int(settings.max_attempts),
            **transport,
        ),
        settings.service_name,
    )
    # A proxy SSL context botocore fails to make: every request fails (HTTPClientError).
    return core, None if call_error is None else str(call_error.kwargs["error"])


class NestedClient:
    """One service's calls with the session's settings; subclasses define the operations.

    The owner of each call of its C core: what the core asks on the slow paths
    (``_transport_error``, ``_client_error``) and the test hooks (``_sleep``, ``_random``)."""

    def __init__(self, settings):
        self._settings = settings
        self._engine = None
        self._refuse = None
        self.exceptions = _Exceptions(settings.service_name)

    @property
    def region_name(self):
        return self._settings.region_name

    def __repr__(self):
        return f"<{type(self).__name__} {self._settings.endpoint_url}>"

    @property
    def _sleep(self):
        return _sleep

    @property
    def _random(self):
        return _random

    def _transport_error(self, kind, url, message, tls=None):
        from .._client import _transport_error
        from .._transport.tls import ssl_error

        if kind == "ssl":
            return ssl_error(url, message, tls, self._settings)
        return _transport_error(kind, url, message, self._settings.proxy_url)

    def _client_error(self, parsed, operation_name):
        code = parsed.get("Error", {}).get("Code")
        return error_class(self._settings.service_name, code)(parsed, operation_name)

    def _call(self, operation_name, build_request, parse_error):
        """Run one operation through the call engine. ``build_request(url)`` -> (method, url,
        headers, body); ``parse_error(response)`` -> botocore's error dict. Returns the
        Response (below 300); raises botocore's exceptions."""
        from .. import exceptions as exc
        from .._transport import (
            http as _http,  # lazy: only when a call is made (urllib3's URL check)
        )
        from .._transport.urls import split_url

        settings = self._settings
        if settings.endpoint_url is None:
            raise exc.NoRegionError()
        if self._engine is None:
            # Its pool and retry state (quota, rate limiter): this client's.
            self._engine, self._refuse = _engine(settings)
        method, url, headers, body = build_request(settings.endpoint_url)
        # No headers (an SSO bearer token is one) and no body (tokens, secrets).
        request = {"method": method, "url": url, "body": _log.body_size(len(body or b""))}
        _log.request_made(operation_name, request)
        credentials = settings.credentials
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            credentials = (frozen.access_key, frozen.secret_key, frozen.token)
        # What botocore's send refuses before anything leaves, in its order (the proxy, the URL,
        # then the header values): every attempt fails (HTTPClientError, retried as such).
        refuse = self._refuse
        if refuse is None:
            try:
                _http._check_location(url)
            except ValueError as e:
                refuse = str(e)
        if refuse is None:
            refuse = _refused_header([("User-Agent", settings.user_agent)] + list(headers))
        if refuse is None and credentials is not None:
            refuse = _refused_header(
                [("X-Amz-Security-Token", credentials[2] or ""), ("Authorization", credentials[0])]
            )
        _, _, path, query = split_url(url)
        target = _http._request_target(url)
        if target == (path or "/") + ("?" + query if query else ""):
            target = None
        mode = settings.retry_mode
        max_attempts = settings.max_attempts
        service = settings.service_name

        def parse(status, headers, body):
            parsed = parse_error(Response(status, headers, body))
            code = parsed.get("Error", {}).get("Code")
            return code, _retry_after_seconds(headers.get("x-amz-retry-after")), parsed

        def report(attempt, status, headers, code, exception, reason, retried, delay):
            _log_outcome(
                mode,
                attempt,
                max_attempts,
                operation_name,
                status,
                headers,
                code,
                exception,
                reason,
                retried,
                delay,
            )

        status, headers, body, retries, max_reached = self._engine.call(
            self,
            operation_name,
            method,
            url,
            path,
            query or None,
            target,
            headers,
            body,
            credentials,
            _OPERATION_ERRORS.get((service, operation_name), _MODELED_ERRORS[service]),
            parse,
            refuse,
            report,
        )
        return Response(status, headers, body, retries, max_reached)


def validate_params(params, members, required):
    """botocore's ParamValidator for flat inputs: members are (name, "string" | "integer",
    min) in model order; a "list" member is refused (the chain never sends one)."""
    from .. import exceptions

    lines = []
    for name in required:
        if name not in params:
            lines.append(f'Missing required parameter in input: "{name}"')
    known = {name: (kind, minimum) for name, kind, minimum in members}
    for name in params:
        if name not in known:
            lines.append(
                f'Unknown parameter in input: "{name}", must be one of: '
                + ", ".join(m[0] for m in members)
            )
    for name, value in params.items():
        if name not in known:
            continue
        kind, minimum = known[name]
        if kind == "string":
            if not isinstance(value, str):
                lines.append(
                    f"Invalid type for parameter {name}, value: {value}, type: {type(value)}, "
                    "valid types: <class 'str'>"
                )
            elif minimum is not None and len(value) < minimum:
                lines.append(
                    f"Invalid length for parameter {name}, value: {len(value)}, "
                    f"valid min length: {minimum}"
                )
        elif kind == "integer":
            if not isinstance(value, int):
                lines.append(
                    f"Invalid type for parameter {name}, value: {value}, type: {type(value)}, "
                    "valid types: <class 'int'>"
                )
            elif minimum is not None and value < minimum:
                lines.append(
                    f"Invalid value for parameter {name}, value: {value}, "
                    f"valid min value: {minimum}"
                )
        else:
            raise TypeError(f"{name} is not supported by this client")
    if lines:
        raise exceptions.ParamValidationError(report="\n".join(lines))
