"""The service clients the credential chain uses (STS, SSO, SSO OIDC), settings and retries.

botocore makes these as ordinary clients of the same session (``create_nested_client``), so
they follow the session's configuration: region, ``AWS_ENDPOINT_URL_<SERVICE>`` /
``AWS_ENDPOINT_URL`` / the profile's ``services`` section / ``endpoint_url`` (unless
``ignore_configured_endpoint_urls``), FIPS and dual-stack, ``sts_regional_endpoints``,
``ca_bundle``, proxies, defaults mode, retry mode and attempts. ``resolve`` computes the same,
with ``_resolve``'s helpers; ``NestedClient.call`` sends one operation with botocore's retry
decisions (legacy, standard; adaptive retries as standard does, without its rate limiter) and
``amz-sdk-*`` headers.

Deliberate differences, none visible to a caller that succeeds: no retry quota (standard
mode's 500-unit bucket never empties over a handful of credential calls) and no adaptive
rate limiter; no ``ttl`` in ``amz-sdk-request`` on retries; the User-Agent is this package's;
endpoint rule set errors (a partition without FIPS ...) are raised when the client is made,
not when it is called.
"""

import os
import random
import time

from . import _log, _resolve
from .config import UNSIGNED, Config, is_unsigned

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

# Error codes botocore retries (docs/retries.md sections 3 and 4).
_LEGACY_THROTTLES = frozenset(
    [
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
    ]
)
_STANDARD_TRANSIENT_CODES = frozenset(
    ["RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"]
)
_STANDARD_THROTTLES = frozenset(
    [
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    ]
)


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
    name, _, _, dns, dualstack_dns, supports_fips, supports_dualstack = _resolve._ruleset_partition(
        region
    )
    if fips and dualstack:
        if supports_fips and supports_dualstack:
            return f"https://{prefix}-fips.{region}.{dualstack_dns}"
        raise _resolve._endpoint_error(
            "FIPS and DualStack are enabled, but this partition does not support one or both"
        )
    if fips:
        if not supports_fips:
            raise _resolve._endpoint_error(
                "FIPS is enabled but this partition does not support FIPS"
            )
        if name == "aws-us-gov":
            return f"https://{prefix}.{region}.amazonaws.com"
        return f"https://{prefix}-fips.{region}.{dns}"
    if dualstack:
        if not supports_dualstack:
            raise _resolve._endpoint_error(
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
    partition = _resolve._legacy_partition(region, dualstack)[0]
    if tuple(tags) in _PARTITION_VARIANTS.get(partition, ()):
        return
    from . import exceptions

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
    _resolve._validate_region_name(region_name)
    verify = view.get("ca_bundle")

    if config is not None and is_unsigned(config.signature_version):
        credentials = None
    else:
        credentials = _resolve._client_credentials(
            session, aws_access_key_id, aws_secret_access_key, aws_session_token
        )

    retry_mode_default, connect_timeout_default = _resolve._defaults_mode(
        view, config, region_name, session
    )

    if region_name is not None:
        normalized = region_name.replace("fips-", "").replace("-fips", "")
        if normalized != region_name:
            fips_config = Config(use_fips_endpoint=True)
            config = config.merge(fips_config) if config is not None else fips_config
            _resolve._warn(
                "sagemaker_rt_c.client",
                "transforming region from %s to %s and setting use_fips_endpoint to true. "
                "client should not be configured with a fips psuedo region.",
                region_name,
                normalized,
            )
            region_name = normalized

    configured_url = _resolve._configured_endpoint_url(
        view, config, "AWS_ENDPOINT_URL_" + env_suffix, services_key
    )
    dualstack = bool(_resolve._variant_flag(view, config, "use_dualstack_endpoint"))
    fips = bool(_resolve._variant_flag(view, config, "use_fips_endpoint"))
    regional = _resolve._sts_regional_endpoints(view)
    use_global = service_name == "sts" and regional == "legacy"
    region_missing = region_name is None
    if region_missing:
        if service_name != "sts":
            from . import exceptions

            raise exceptions.NoRegionError()
        # endpoints.json: sts has a global partition endpoint, signed for us-east-1.
        region_name = "aws-global"

    if fips or dualstack:
        _check_variant(prefix, region_name, fips, dualstack)

    signature_version = None if config is None else config.signature_version
    signature_version = UNSIGNED if is_unsigned(signature_version) else "v4"
    preliminary_ua = _resolve._user_agent(session._exec_env, config)
    kwargs = _resolve._config_kwargs(
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
        _resolve._validate_endpoint_url(configured_url)
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
    _resolve._validate_verify(verify)
    verify = _resolve._normalize_verify(verify)
    scheme, netloc = _resolve._split_scheme_netloc(url or "https://")
    retries = effective.retries
    retry_mode = retries["mode"]
    max_attempts = retries.get("total_max_attempts")
    if max_attempts is None:
        max_attempts = _resolve._DEFAULT_MAX_ATTEMPTS[retry_mode]
    effective._supplied_user_agent = config.user_agent if config is not None else None
    return NestedSettings(
        service_name=service_name,
        region_name=region_name,
        endpoint_url=url,
        signing_region=signing_region,
        signing_name=signing_name,
        credentials=credentials,
        verify=verify,
        connect_timeout=_resolve._check_timeout(effective.connect_timeout, "connect"),
        read_timeout=_resolve._check_timeout(effective.read_timeout, "read"),
        proxy_url=_resolve._proxy_url(scheme, netloc, effective.proxies),
        client_cert=effective.client_cert,
        retry_mode=retry_mode,
        max_attempts=max_attempts,
        user_agent=_resolve._user_agent(session._exec_env, effective),
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
    from . import exceptions

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
        from . import exceptions

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


def _throttled(mode, service_name, operation_name, status, code):
    """botocore 1.44 ThrottlingErrorDetector: a throttling code, or a 429 the operation's model
    doesn't cover (standard and adaptive modes)."""
    if mode == "legacy" or status is None:
        return False
    modeled = _OPERATION_ERRORS.get((service_name, operation_name), _MODELED_ERRORS[service_name])
    return code in _STANDARD_THROTTLES or (status == 429 and code not in modeled)


def _retryable(mode, service_name, operation_name, status, code, exception):
    """Which of botocore's rules retries this outcome, named as csrc/retry.c's
    smrt_retry_reason names them (plus "idp": STS's IDPCommunicationError in standard mode),
    for the logs; None when none does."""
    from . import exceptions as exc

    if exception is not None:
        if mode == "legacy":
            retried = (exc.ConnectionError, exc.ConnectionClosedError, exc.ReadTimeoutError)
        else:
            retried = (exc.ConnectionError, exc.HTTPClientError)
        return "exception" if isinstance(exception, retried) else None
    if mode == "legacy":
        if status in (429, 500, 502, 503, 504, 509):
            return "status"
        if status == 400 and (
            code in _LEGACY_THROTTLES or (service_name == "sts" and code == "IDPCommunicationError")
        ):
            return "status and code"
        return None
    if status in (500, 502, 503, 504):
        return "transient status"
    if code in _STANDARD_TRANSIENT_CODES:
        return "transient code"
    if _throttled(mode, service_name, operation_name, status, code):
        return "throttling code" if code in _STANDARD_THROTTLES else "throttling status"
    if service_name == "sts" and code == "IDPCommunicationError":
        return "idp"
    return None


def _backoff(mode, service_name, operation_name, attempt, status, code, response):
    """The delay before attempt + 1 (docs/retries.md sections 3.3 and 4.4)."""
    if mode == "legacy":
        return _random() * 2 ** (attempt - 1)
    scale = 1 if _throttled(mode, service_name, operation_name, status, code) else 0.05
    delay = _random() * min(scale * 2 ** (attempt - 1), 20)
    if response is not None:
        from ._client import _retry_after_seconds

        retry_after = _retry_after_seconds(response.headers.get("x-amz-retry-after"))
        if retry_after is not None:
            delay = max(delay, min(retry_after, delay + 5))
    return delay


def _log_outcome(
    mode,
    attempt,
    max_attempts,
    operation,
    response,
    exception=None,
    code=None,
    reason=None,
    retried=False,
    delay=0.0,
):
    # Status, request id and the retry decision: never headers or bodies (credentials).
    if response is not None:
        headers = response.headers
        request_id = headers.get("x-amzn-requestid") or headers.get("x-amz-request-id")
        _log.response_summary(attempt, max_attempts, response.status, request_id, code)
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
        status=response.status if response is not None else None,
        code=code,
        exc=exception,
        quota=False,
    )


def _sleep(seconds):
    time.sleep(seconds)


def _random():
    return random.random()


class NestedClient:
    """One service's calls with the session's settings; subclasses define the operations."""

    def __init__(self, settings):
        self._settings = settings
        self.exceptions = _Exceptions(settings.service_name)

    @property
    def region_name(self):
        return self._settings.region_name

    def __repr__(self):
        return f"<{type(self).__name__} {self._settings.endpoint_url}>"

    def _call(self, operation_name, build_request, parse_error):
        """Send with retries. ``build_request(url)`` -> (method, url, headers, body);
        ``parse_error(response)`` -> botocore's error dict. Returns the 2xx Response."""
        import uuid

        from . import _http
        from . import exceptions as exc

        settings = self._settings
        if settings.endpoint_url is None:
            raise exc.NoRegionError()
        invocation_id = str(uuid.uuid4())
        mode = settings.retry_mode
        max_attempts = settings.max_attempts
        attempt = 0
        while True:
            attempt += 1
            method, url, headers, body = build_request(settings.endpoint_url)
            if attempt == 1:
                # No headers (an SSO bearer token is one) and no body (tokens, secrets).
                request = {"method": method, "url": url, "body": _log.body_size(len(body or b""))}
                _log.request_made(operation_name, request)
            # botocore 1.44 seeds `max` from the first attempt on, except in legacy mode.
            request_header = (
                "attempt=1"
                if attempt == 1 and mode == "legacy"
                else f"attempt={attempt}; max={max_attempts}"
            )
            headers = [
                ("User-Agent", settings.user_agent),
                ("amz-sdk-invocation-id", invocation_id),
                ("amz-sdk-request", request_header),
            ] + headers
            headers = self._sign(method, url, headers, body)
            # botocore's Endpoint sends text header values as UTF-8 (an SSO bearer token
            # outside Latin-1 is sent, not refused); CR/LF are refused as HTTPClientError.
            headers = [(k, v.encode("utf-8") if isinstance(v, str) else v) for k, v in headers]
            response = exception = parsed = None
            try:
                response = _http.send(
                    method,
                    url,
                    headers,
                    body,
                    connect_timeout=settings.connect_timeout,
                    read_timeout=settings.read_timeout,
                    verify=settings.verify,
                    proxy_url=settings.proxy_url,
                    client_cert=settings.client_cert,
                )
            except (exc.ConnectionError, exc.HTTPClientError) as e:
                exception = e
            if response is not None and response.status < 300:
                _log_outcome(mode, attempt, max_attempts, operation_name, response)
                return response
            status = code = None
            if response is not None:
                parsed = parse_error(response)
                status = response.status
                code = parsed.get("Error", {}).get("Code")
            service = settings.service_name
            retryable = _retryable(mode, service, operation_name, status, code, exception)
            retried = attempt < max_attempts and retryable is not None
            delay = 0.0
            if retried:
                delay = _backoff(mode, service, operation_name, attempt, status, code, response)
            _log_outcome(
                mode,
                attempt,
                max_attempts,
                operation_name,
                response,
                exception,
                code,
                retryable,
                retried,
                delay,
            )
            if retried:
                _sleep(delay)
                continue
            if exception is not None:
                raise exception
            metadata = parsed.setdefault("ResponseMetadata", {})
            metadata["RetryAttempts"] = attempt - 1
            if attempt >= max_attempts and (retryable or mode != "legacy"):
                metadata["MaxAttemptsReached"] = True
            raise error_class(settings.service_name, code)(parsed, operation_name)

    def _sign(self, method, url, headers, body):
        settings = self._settings
        credentials = settings.credentials
        if credentials is None:
            return headers
        from .auth import sign_request

        frozen = credentials.get_frozen_credentials()
        return sign_request(
            method,
            url,
            headers,
            body or b"",
            access_key=frozen.access_key,
            secret_key=frozen.secret_key,
            session_token=frozen.token,
            region=settings.signing_region,
            service=settings.signing_name,
        ).headers


def validate_params(params, members, required):
    """botocore's ParamValidator for flat inputs: members are (name, "string" | "integer",
    min) in model order; a "list" member is refused (the chain never sends one)."""
    from . import exceptions

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
