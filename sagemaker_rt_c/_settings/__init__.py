"""Client settings: what ``boto3.client('sagemaker-runtime', ...)`` would be made with.

``resolve_client_settings`` reproduces, for SageMaker Runtime, what botocore 1.44 computes
while creating a client (``botocore/session.py`` ``create_client``, ``botocore/client.py``
``ClientCreator``, ``botocore/args.py`` ``ClientArgsCreator``, the endpoint rule set of
``sagemaker-runtime/2017-05-13``, ``botocore/endpoint.py`` and ``botocore/httpsession.py``): the
same values, the same precedence, the same exceptions with the same messages, raised in the
same order. The result is a ``ClientSettings``: the C client needs nothing else. The
credential chain's STS and SSO clients are resolved from the same parts
(``sagemaker_rt_c.credentials._nested``).

This module is botocore's ``args.py`` (the client's arguments, validated in botocore's order);
the parts botocore keeps elsewhere are modules of this package, named after botocore's:

``configloader``    the shared config and credentials files (botocore.configloader)
``configprovider``  where each setting comes from (instance value, environment, profile,
                    default) and the defaults mode (botocore.configprovider)
``regions``         the endpoint: partitions, the endpoint rule set, configured endpoints,
                    URL validation (botocore.regions, endpoint_provider, utils)
``useragent``       the User-Agent header (botocore.useragent)
``proxies``         the proxy for a URL, from the environment (urllib.request, botocore.utils)
``retries``         the retry mode and attempts (botocore.args' retry config)

Deliberate differences from botocore (each module lists its own):

* Only ``sagemaker-runtime`` (and its alias ``runtime.sagemaker``) exists: any other name,
  even one botocore knows, raises ``UnknownServiceError`` listing ``sagemaker-runtime``.
* A ``signature_version`` botocore knows other than ``v4`` (``s3v4``, ``v2``, ``v4-query``
  ...) raises ``UnsupportedSignatureVersionError`` here; botocore signs with it.

Speed. Nothing here imports ``re``, ``urllib``, ``platform``, ``dataclasses`` or ``logging`` on
the common paths (known region, no custom endpoint); they are imported lazily for unknown
region names, custom endpoint URLs and rare warnings. The User-Agent prefix and the endpoint
URL per (region, fips, dualstack, ssl) are cached per process.
"""

import os

from .. import _log
from .._about import (
    _API_VERSION,
    _ENDPOINT_PREFIX,
    _SERVICE_ALIASES,
    _SERVICE_NAME,
    _SIGNING_NAME,
)
from ..config import UNSIGNED, Config, _redact_url, is_unsigned
from .configprovider import _defaults_mode, _ensure_boolean
from .proxies import _proxy_url, _split_scheme_netloc
from .regions import (
    _check_legacy_variant,
    _configured_endpoint_url,
    _endpoint_url,
    _legacy_partition,
    _sts_regional_endpoints,
    _validate_endpoint_url,
    _validate_region_name,
    _variant_flag,
)
from .retries import _mode_and_max_attempts, _retry_config
from .useragent import _check_user_agent_parts, _user_agent

__all__ = ["ClientSettings", "resolve_client_settings"]

_VALID_CHECKSUM_CONFIG = ("when_supported", "when_required")
_VALID_ACCOUNT_ID_ENDPOINT_MODES = ("preferred", "disabled", "required")
_USERAGENT_APPID_MAXLEN = 50
# botocore.auth.AUTH_TYPE_MAPS (1.44.8, without awscrt) but "v4": signature versions botocore
# knows and this package does not implement. Others are unknown to botocore too: its calls
# raise UnknownSignatureVersionError (the client does the same, _client._call_error).
_OTHER_BOTOCORE_SIGNERS = frozenset(
    (
        "bearer", "s3", "s3-presign-post", "s3-query", "s3v4", "s3v4-presign-post",
        "s3v4-query", "v2", "v3", "v3https", "v4-query", "v4-s3express",
        "v4-s3express-presign-post", "v4-s3express-query",
    )
)  # fmt: skip


def _check_timeout(value, name):
    """urllib3's Timeout validation: the ValueError botocore wraps in HTTPClientError (it builds
    one from connect/read at construction; credential fetchers at each request)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("Timeout cannot be a boolean value. It must be an int, float or None.")
    invalid = f"Timeout value {name} was {value}, but it must be an int, float or None."
    try:
        float(value)
        non_positive = value <= 0
    except (TypeError, ValueError):
        raise ValueError(invalid) from None
    if non_positive:
        raise ValueError(
            f"Attempted to set {name} timeout to {value}, but the timeout cannot be set to a "
            "value less than or equal to 0."
        )
    return float(value)


def _validate_verify(verify):
    """botocore 1.44's EndpointCreator._validate_verify_value: a CA bundle value (verify=,
    AWS_CA_BUNDLE, ca_bundle, REQUESTS_CA_BUNDLE) that is empty or blank is an error."""
    if isinstance(verify, str) and not verify.strip():
        from .. import exceptions

        raise exceptions.InvalidConfigError(
            error_msg=(
                "Invalid CA bundle: the configured value (ca_bundle, AWS_CA_BUNDLE, "
                "REQUESTS_CA_BUNDLE, or verify) resolved to an empty or whitespace-only "
                "string. Provide a valid path to a CA bundle file."
            )
        )


def _normalize_verify(verify):
    if verify is True:
        return True
    if isinstance(verify, str):
        return verify or False
    if not verify:
        return False
    if hasattr(verify, "__fspath__"):
        return os.fspath(verify)
    return True


def _warn(logger, message, *args):
    _log.warning(logger, message, *args)


def _mask_url(url):
    if url is None:
        return None
    return _redact_url(url)


class ClientSettings:
    """Everything a SageMaker Runtime client needs, resolved as botocore would.

    ``endpoint_url`` is the full URL requests go to (no trailing path), ``verify`` is True (the
    default CA store), False, or a CA bundle path; ``max_attempts`` counts every attempt,
    including the first; ``connect_timeout`` / ``read_timeout`` are seconds (None: no timeout,
    only when the caller configured None); ``proxy_url`` is None for a direct connection;
    ``config`` is the effective ``Config`` (what ``client.meta.config`` is in botocore);
    ``partition`` is botocore's ``client.meta.partition`` (e.g. 'aws', 'aws-cn').
    """

    __slots__ = (
        "service_name",
        "region_name",
        "endpoint_url",
        "signing_region",
        "signing_name",
        "credentials",
        "verify",
        "config",
        "retry_mode",
        "max_attempts",
        "connect_timeout",
        "read_timeout",
        "max_pool_connections",
        "proxy_url",
        "proxies_config",
        "tcp_keepalive",
        "parameter_validation",
        "user_agent",
        "client_cert",
        "partition",
    )

    def __init__(
        self,
        service_name,
        region_name,
        endpoint_url,
        signing_region,
        signing_name,
        credentials,
        verify,
        config,
        retry_mode,
        max_attempts,
        connect_timeout,
        read_timeout,
        max_pool_connections,
        proxy_url,
        proxies_config,
        tcp_keepalive,
        parameter_validation,
        user_agent,
        client_cert,
        partition,
    ):
        self.service_name = service_name
        self.region_name = region_name
        self.endpoint_url = endpoint_url
        self.signing_region = signing_region
        self.signing_name = signing_name
        self.credentials = credentials
        self.verify = verify
        self.config = config
        self.retry_mode = retry_mode
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_pool_connections = max_pool_connections
        self.proxy_url = proxy_url
        self.proxies_config = proxies_config
        self.tcp_keepalive = tcp_keepalive
        self.parameter_validation = parameter_validation
        self.user_agent = user_agent
        self.client_cert = client_cert
        self.partition = partition

    def __repr__(self):
        fields = []
        for name in self.__slots__:
            value = getattr(self, name)
            if name == "proxy_url":
                value = _mask_url(value)
            elif name == "config":
                value = "<Config>"
                fields.append(f"{name}={value}")
                continue
            fields.append(f"{name}={value!r}")
        return f"ClientSettings({', '.join(fields)})"


# --- the resolution -----------------------------------------------------------------------------


def _s3_config(view, client_config, smart_defaults):
    """botocore's compute_s3_config: the profile's s3 section with its overrides, then
    Config.s3 on top (a copy: botocore mutates the session's parsed config here)."""
    s3 = view.s3_section(smart_defaults)
    if client_config is not None and client_config.s3 is not None:
        if s3 is None:
            s3 = client_config.s3
        else:
            s3 = dict(s3)
            s3.update(client_config.s3)
    return s3


def _validate_min_compression_size(min_size):
    base = f'Invalid value "{min_size}" for request_min_compression_size_bytes.'
    try:
        min_size = int(min_size)
    except (ValueError, TypeError):
        from .. import exceptions

        raise exceptions.InvalidConfigError(
            error_msg=f"{base} Value must be an integer. Received {type(min_size)} instead."
        ) from None
    if not 1 <= min_size <= 1048576:
        from .. import exceptions

        raise exceptions.InvalidConfigError(
            error_msg=f"{base} Value must be between 1 and 1048576."
        )
    return min_size


def _checksum_config(view, kwargs, key):
    value = kwargs.get(key)
    if value is None:
        value = view.get(key)
    if isinstance(value, str):
        value = value.lower()
    if value not in _VALID_CHECKSUM_CONFIG:
        from .. import exceptions

        raise exceptions.InvalidChecksumConfigError(
            config_key=key, config_value=value, valid_options=_VALID_CHECKSUM_CONFIG
        )
    kwargs[key] = value


def _config_kwargs(
    view,
    client_config,
    region_name,
    signature_version,
    preliminary_ua,
    fips,
    dualstack,
    retry_mode_default,
    connect_timeout_default,
):
    """ClientArgsCreator.compute_client_args' config_kwargs, validated in botocore's order."""
    kwargs = {
        "region_name": region_name,
        "signature_version": signature_version,
        "user_agent": preliminary_ua,
    }
    if dualstack:
        kwargs["use_dualstack_endpoint"] = True
    if fips:
        kwargs["use_fips_endpoint"] = True
    cc = client_config
    if cc is not None:
        retries = cc.retries
        kwargs.update(
            connect_timeout=cc.connect_timeout,
            read_timeout=cc.read_timeout,
            max_pool_connections=cc.max_pool_connections,
            proxies=cc.proxies,
            proxies_config=cc.proxies_config,
            # A copy: botocore rewrites the caller's dict in place.
            retries=dict(retries) if retries is not None else None,
            client_cert=cc.client_cert,
            inject_host_prefix=cc.inject_host_prefix,
            tcp_keepalive=cc.tcp_keepalive,
            user_agent_extra=cc.user_agent_extra,
            user_agent_appid=cc.user_agent_appid,
            request_min_compression_size_bytes=cc.request_min_compression_size_bytes,
            disable_request_compression=cc.disable_request_compression,
            client_context_params=cc.client_context_params,
            sigv4a_signing_region_set=cc.sigv4a_signing_region_set,
            request_checksum_calculation=cc.request_checksum_calculation,
            response_checksum_validation=cc.response_checksum_validation,
            account_id_endpoint_mode=cc.account_id_endpoint_mode,
            auth_scheme_preference=cc.auth_scheme_preference,
            s3_disable_express_session_auth=(
                cc.s3.get("disable_s3_express_session_auth") if cc.s3 is not None else None
            ),
        )

    kwargs["retries"] = _retry_config(view, kwargs.get("retries"), retry_mode_default)

    if kwargs.get("connect_timeout") is None and connect_timeout_default:
        kwargs["connect_timeout"] = connect_timeout_default

    appid = kwargs.get("user_agent_appid")
    if appid is None:
        appid = view.get("user_agent_appid")
    if appid is not None and len(appid) > _USERAGENT_APPID_MAXLEN:
        _warn(
            "sagemaker_rt_c.args",
            "The configured value for user_agent_appid exceeds the maximum length of %d "
            "characters.",
            _USERAGENT_APPID_MAXLEN,
        )
    kwargs["user_agent_appid"] = appid

    min_size = kwargs.get("request_min_compression_size_bytes")
    if min_size is None:
        min_size = view.get("request_min_compression_size_bytes")
    kwargs["request_min_compression_size_bytes"] = _validate_min_compression_size(min_size)
    disabled = kwargs.get("disable_request_compression")
    if disabled is None:
        disabled = view.get("disable_request_compression")
    else:
        disabled = _ensure_boolean(disabled)
    kwargs["disable_request_compression"] = disabled

    if kwargs.get("sigv4a_signing_region_set") is None:
        kwargs["sigv4a_signing_region_set"] = view.get("sigv4a_signing_region_set")

    _checksum_config(view, kwargs, "request_checksum_calculation")
    _checksum_config(view, kwargs, "response_checksum_validation")

    if is_unsigned(signature_version):
        kwargs["account_id_endpoint_mode"] = "disabled"
    else:
        mode = kwargs.get("account_id_endpoint_mode")
        if mode is None:
            mode = view.get("account_id_endpoint_mode")
        if isinstance(mode, str):
            mode = mode.lower()
        if mode not in _VALID_ACCOUNT_ID_ENDPOINT_MODES:
            from .. import exceptions

            raise exceptions.InvalidConfigError(
                error_msg=(
                    f"The configured value '{mode}' for 'account_id_endpoint_mode' is invalid. "
                    f"Valid values are: {_VALID_ACCOUNT_ID_ENDPOINT_MODES}."
                )
            )
        kwargs["account_id_endpoint_mode"] = mode

    if cc is None or cc._inject_host_prefix == "UNSET":
        disable = view.get("disable_host_prefix_injection")
        kwargs["inject_host_prefix"] = True if disable is None else not disable

    if cc is not None and cc.auth_scheme_preference:
        pref = cc.auth_scheme_preference
    else:
        pref = view.get("auth_scheme_preference")
    if pref is not None:
        if not isinstance(pref, str):
            from .. import exceptions

            raise exceptions.InvalidConfigError(
                error_msg=(
                    "auth_scheme_preference must be a comma-delimited string. "
                    f"Received {type(pref)} instead: {pref}."
                )
            )
        pref = ",".join(
            item.replace(" ", "").replace("\t", "") for item in pref.split(",") if item.strip()
        )
    kwargs["auth_scheme_preference"] = pref

    express = kwargs.get("s3_disable_express_session_auth")
    if express is None:
        express = view.get("s3_disable_express_session_auth")
    if express is not None and not isinstance(express, bool):
        if not (isinstance(express, str) and express.lower() in ("true", "false")):
            from .. import exceptions

            raise exceptions.InvalidConfigError(
                error_msg=(
                    f'Invalid value "{express}" for s3_disable_express_session_auth. '
                    "Value must be a boolean"
                )
            )
    kwargs["s3_disable_express_session_auth"] = _ensure_boolean(express)
    return kwargs


def _check_credentials_argument(credentials, aws_access_key_id, aws_secret_access_key):
    if credentials is not None:
        if aws_access_key_id is not None or aws_secret_access_key is not None:
            raise ValueError(
                "credentials cannot be combined with aws_access_key_id or aws_secret_access_key"
            )
        if not callable(getattr(credentials, "get_frozen_credentials", None)):
            raise TypeError(
                "credentials must have a get_frozen_credentials() method (a Credentials or "
                f"RefreshableCredentials object), not {type(credentials).__name__}"
            )


def resolve_client_settings(
    service_name,
    *,
    session,
    region_name=None,
    api_version=None,
    use_ssl=True,
    verify=None,
    endpoint_url=None,
    aws_access_key_id=None,
    aws_secret_access_key=None,
    aws_session_token=None,
    config=None,
    aws_account_id=None,
    credentials=None,
):
    """Resolve every client setting as ``boto3.Session.client`` would, raising its errors.

    ``session`` is the ``sagemaker_rt_c.session.Session`` making the client
    (``sagemaker_rt_c.session._resolve_client_settings`` makes a new one when there is none).
    Credentials are looked up now, as botocore does; None means none were found (the client
    raises NoCredentialsError when called). ``credentials`` (beyond botocore) is a credentials
    object to use instead: ours or botocore's, or anything with ``get_frozen_credentials()``.
    """
    _check_credentials_argument(credentials, aws_access_key_id, aws_secret_access_key)
    view = session._config_view()

    default_config = session._default_client_config()
    if default_config is not None:
        config = default_config if config is None else default_config.merge(config)

    # botocore.session.Session.create_client
    if region_name is None:
        if config is not None and config.region_name is not None:
            region_name = config.region_name
        else:
            region_name = view.get("region")
    _validate_region_name(region_name)
    # botocore remembers it here: the credential chain's STS client uses this region.
    session._last_client_region_used = region_name
    bc = session._botocore_session
    if bc is not None and hasattr(bc, "_last_client_region_used"):
        bc._last_client_region_used = region_name

    if verify is None:
        verify = view.get("ca_bundle")
    if api_version is None:
        api_version = view.get("api_versions").get(service_name, None)

    if config is not None and is_unsigned(config.signature_version):
        credentials = None
    elif credentials is None:
        credentials = session._client_credentials(
            aws_access_key_id, aws_secret_access_key, aws_session_token, aws_account_id
        )

    retry_mode_default, connect_timeout_default = _defaults_mode(view, config, region_name, session)

    # botocore.client.ClientCreator.create_client
    name = _SERVICE_ALIASES.get(service_name, service_name)
    if name != _SERVICE_NAME:
        from .. import exceptions

        raise exceptions.UnknownServiceError(service_name=name, known_service_names=_SERVICE_NAME)
    if api_version is not None and api_version != _API_VERSION:
        from .. import exceptions

        raise exceptions.DataNotFoundError(
            data_path=os.path.join(_SERVICE_NAME, api_version, "service-2")
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

    # botocore.args.ClientArgsCreator.compute_client_args
    scoped = view.scoped()
    parameter_validation = True
    if config is not None and not config.parameter_validation:
        parameter_validation = False
    elif scoped:
        raw = scoped.get("parameter_validation")
        if raw is not None:
            parameter_validation = _ensure_boolean(raw)

    s3_config = _s3_config(view, config, retry_mode_default is not None)
    configured_url = endpoint_url
    if configured_url is None:
        configured_url = _configured_endpoint_url(view, config)

    dualstack = bool(_variant_flag(view, config, "use_dualstack_endpoint"))
    fips = bool(_variant_flag(view, config, "use_fips_endpoint"))
    if region_name is None:
        from .. import exceptions

        raise exceptions.NoRegionError()
    if fips or dualstack:
        _check_legacy_variant(region_name, fips, dualstack)

    signature_version = None
    if config is not None:
        signature_version = config.signature_version
    if signature_version is None:
        service_section = scoped.get(_ENDPOINT_PREFIX)
        if isinstance(service_section, dict):
            signature_version = service_section.get("signature_version") or None
    if signature_version is None:
        signature_version = "v4"
    elif is_unsigned(signature_version):
        signature_version = UNSIGNED

    exec_env = session._exec_env
    preliminary_ua = _user_agent(exec_env, config)
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
    kwargs["s3"] = s3_config
    effective = Config(**kwargs)

    # botocore.endpoint.EndpointCreator / httpsession.URLLib3Session
    if configured_url is not None:
        _validate_endpoint_url(configured_url)
        url = configured_url
        scheme, netloc = _split_scheme_netloc(url)
    else:
        url = _endpoint_url(region_name, fips, dualstack, use_ssl)
        scheme = "https" if use_ssl else "http"
        netloc = url[len(scheme) + 3 :]
    if verify is None:
        verify = os.environ.get("REQUESTS_CA_BUNDLE", True)
    proxy_url = _proxy_url(scheme, netloc, effective.proxies)
    _validate_verify(verify)
    connect_timeout = _check_timeout(effective.connect_timeout, "connect")
    read_timeout = _check_timeout(effective.read_timeout, "read")
    # botocore's rule-set builtins read sts_regional_endpoints for every client it makes.
    _sts_regional_endpoints(view)

    keepalive = config and config.tcp_keepalive
    if keepalive is None:
        keepalive = view.get("tcp_keepalive")

    supplied_ua = config.user_agent if config is not None else None
    effective._supplied_user_agent = supplied_ua
    user_agent = _user_agent(exec_env, effective)

    retry_mode, max_attempts = _mode_and_max_attempts(effective.retries)

    if (
        isinstance(signature_version, str)
        and signature_version != "v4"
        and signature_version in _OTHER_BOTOCORE_SIGNERS
    ):
        # botocore would sign another way (SigV2, SigV3, S3's SigV4, query auth, a bearer
        # token): not implemented, and nothing SageMaker Runtime accepts but SigV4.
        from .. import exceptions

        raise exceptions.UnsupportedSignatureVersionError(signature_version=signature_version)
    if config is not None:
        _check_user_agent_parts(config)

    return ClientSettings(
        _SERVICE_NAME,
        region_name,
        url,
        region_name,
        _SIGNING_NAME,
        credentials,
        _normalize_verify(verify),
        effective,
        retry_mode,
        max_attempts,
        connect_timeout,
        read_timeout,
        effective.max_pool_connections,
        proxy_url,
        effective.proxies_config or {},
        bool(keepalive),
        parameter_validation,
        user_agent,
        effective.client_cert,
        _legacy_partition(region_name, dualstack)[0],
    )
