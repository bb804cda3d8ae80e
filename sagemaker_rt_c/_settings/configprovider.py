"""Where each setting comes from, as ``botocore.configprovider`` decides it.

A setting comes from the Session's own value (``region_name=``, ``profile_name=``), then the
environment, then the profile in the shared config file (merged with the same-named section of
the shared credentials file), then botocore's default (``_VARS``, ``_chain``). A Session with
``botocore_session=`` asks that session instead (``_ConfigView``). The defaults mode
(``defaults_mode``: legacy, standard, in-region, cross-region, mobile, auto) gives the retry
mode and connect timeout defaults (``_defaults_mode``), as botocore's
``SmartDefaultsConfigStoreFactory`` does.
"""

import os


def _ensure_boolean(val):
    if isinstance(val, bool):
        return val
    if isinstance(val, str):
        return val.lower() == "true"
    return False


# botocore.configprovider.BOTOCORE_DEFAUT_SESSION_VARIABLES (the entries a SageMaker Runtime
# client reads): logical name -> (config file keys, environment variables, default, conversion).
# A config key given as (section, key) reads a nested sub-section.
_VARS = {
    "profile": ((), ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"), None, None),
    "region": (("region",), ("AWS_DEFAULT_REGION",), None, None),
    "data_path": (("data_path",), ("AWS_DATA_PATH",), None, None),
    "config_file": ((), ("AWS_CONFIG_FILE",), "~/.aws/config", None),
    "ca_bundle": (("ca_bundle",), ("AWS_CA_BUNDLE",), None, None),
    "api_versions": (("api_versions",), (), {}, None),
    "credentials_file": ((), ("AWS_SHARED_CREDENTIALS_FILE",), "~/.aws/credentials", None),
    "use_dualstack_endpoint": (
        ("use_dualstack_endpoint",),
        ("AWS_USE_DUALSTACK_ENDPOINT",),
        None,
        _ensure_boolean,
    ),
    "use_fips_endpoint": (
        ("use_fips_endpoint",),
        ("AWS_USE_FIPS_ENDPOINT",),
        None,
        _ensure_boolean,
    ),
    "ignore_configured_endpoint_urls": (
        ("ignore_configured_endpoint_urls",),
        ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",),
        None,
        _ensure_boolean,
    ),
    "retry_mode": (("retry_mode",), ("AWS_RETRY_MODE",), "standard", None),
    "defaults_mode": (("defaults_mode",), ("AWS_DEFAULTS_MODE",), "legacy", None),
    "max_attempts": (("max_attempts",), ("AWS_MAX_ATTEMPTS",), None, int),
    "user_agent_appid": (("sdk_ua_app_id",), ("AWS_SDK_UA_APP_ID",), None, None),
    "request_min_compression_size_bytes": (
        ("request_min_compression_size_bytes",),
        ("AWS_REQUEST_MIN_COMPRESSION_SIZE_BYTES",),
        10240,
        None,
    ),
    "disable_request_compression": (
        ("disable_request_compression",),
        ("AWS_DISABLE_REQUEST_COMPRESSION",),
        False,
        _ensure_boolean,
    ),
    "sigv4a_signing_region_set": (
        ("sigv4a_signing_region_set",),
        ("AWS_SIGV4A_SIGNING_REGION_SET",),
        None,
        None,
    ),
    "request_checksum_calculation": (
        ("request_checksum_calculation",),
        ("AWS_REQUEST_CHECKSUM_CALCULATION",),
        "when_supported",
        None,
    ),
    "response_checksum_validation": (
        ("response_checksum_validation",),
        ("AWS_RESPONSE_CHECKSUM_VALIDATION",),
        "when_supported",
        None,
    ),
    "account_id_endpoint_mode": (
        ("account_id_endpoint_mode",),
        ("AWS_ACCOUNT_ID_ENDPOINT_MODE",),
        "preferred",
        None,
    ),
    "disable_host_prefix_injection": (
        ("disable_host_prefix_injection",),
        ("AWS_DISABLE_HOST_PREFIX_INJECTION",),
        None,
        _ensure_boolean,
    ),
    "auth_scheme_preference": (
        ("auth_scheme_preference",),
        ("AWS_AUTH_SCHEME_PREFERENCE",),
        None,
        None,
    ),
    "tcp_keepalive": (("tcp_keepalive",), ("BOTOCORE_TCP_KEEPALIVE",), None, _ensure_boolean),
    # The credential chain's settings: instance metadata, STS endpoints.
    "metadata_service_timeout": (
        ("metadata_service_timeout",),
        ("AWS_METADATA_SERVICE_TIMEOUT",),
        1,
        int,
    ),
    "metadata_service_num_attempts": (
        ("metadata_service_num_attempts",),
        ("AWS_METADATA_SERVICE_NUM_ATTEMPTS",),
        1,
        int,
    ),
    "ec2_metadata_service_endpoint": (
        ("ec2_metadata_service_endpoint",),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT",),
        None,
        None,
    ),
    "ec2_metadata_service_endpoint_mode": (
        ("ec2_metadata_service_endpoint_mode",),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",),
        None,
        None,
    ),
    "ec2_metadata_v1_disabled": (
        ("ec2_metadata_v1_disabled",),
        ("AWS_EC2_METADATA_V1_DISABLED",),
        False,
        _ensure_boolean,
    ),
    "imds_use_ipv6": (("imds_use_ipv6",), ("AWS_IMDS_USE_IPV6",), False, _ensure_boolean),
    "sts_regional_endpoints": (
        ("sts_regional_endpoints",),
        ("AWS_STS_REGIONAL_ENDPOINTS",),
        "regional",
        None,
    ),
    "s3_disable_express_session_auth": (
        ("s3_disable_express_session_auth",),
        ("AWS_S3_DISABLE_EXPRESS_SESSION_AUTH",),
        None,
        None,
    ),
}

# botocore.configprovider.DEFAULT_S3_CONFIG_VARS: overrides of the profile's "s3" section.
_S3_VARS = {
    "addressing_style": ((("s3", "addressing_style"),), (), None, None),
    "use_accelerate_endpoint": ((("s3", "use_accelerate_endpoint"),), (), None, _ensure_boolean),
    "use_dualstack_endpoint": ((("s3", "use_dualstack_endpoint"),), (), None, _ensure_boolean),
    "payload_signing_enabled": ((("s3", "payload_signing_enabled"),), (), None, _ensure_boolean),
    "use_arn_region": (
        ("s3_use_arn_region", ("s3", "use_arn_region")),
        ("AWS_S3_USE_ARN_REGION",),
        None,
        _ensure_boolean,
    ),
    "us_east_1_regional_endpoint": (
        ("s3_us_east_1_regional_endpoint", ("s3", "us_east_1_regional_endpoint")),
        ("AWS_S3_US_EAST_1_REGIONAL_ENDPOINT",),
        None,
        None,
    ),
    "s3_disable_multiregion_access_points": (
        (("s3", "s3_disable_multiregion_access_points"),),
        ("AWS_S3_DISABLE_MULTIREGION_ACCESS_POINTS",),
        None,
        _ensure_boolean,
    ),
}

_MISSING = object()


def _chain(spec, instance_vars, name, scoped_fn, default=_MISSING):
    """botocore's ChainProvider: instance variable, environment, profile, default."""
    config_keys, env_names, spec_default, conversion = spec
    value = instance_vars.get(name)
    if value is None:
        environ = os.environ
        for env_name in env_names:
            value = environ.get(env_name)
            if value is not None:
                break
        if value is None and config_keys:
            scoped = scoped_fn()
            for key in config_keys:
                if isinstance(key, tuple):
                    section = scoped.get(key[0])
                    value = section.get(key[1]) if isinstance(section, dict) else None
                else:
                    value = scoped.get(key)
                if value is not None:
                    break
        if value is None:
            value = spec_default if default is _MISSING else default
    if value is not None and conversion is not None:
        value = conversion(value)
    return value


class _ConfigView:
    """One client creation's view of a Session's settings; the profile is looked up once."""

    __slots__ = ("_session", "_scoped")

    def __init__(self, session):
        self._session = session
        self._scoped = None

    def scoped(self):
        scoped = self._scoped
        if scoped is None:
            scoped = self._scoped = self._session._scoped_config()
        return scoped

    def full(self):
        return self._session._full_config()

    def get(self, name, default=_MISSING):
        session = self._session
        bc = session._botocore_session
        if bc is not None:
            if default is _MISSING:
                return bc.get_config_variable(name)
            value = bc.get_config_variable(name, methods=("instance", "env", "config"))
            return default if value is None else value
        spec = _VARS.get(name)
        if spec is None:
            return None
        return _chain(spec, session._instance_vars, name, self.scoped, default)

    def s3_section(self, smart_defaults=False):
        """botocore's SectionConfigProvider('s3', ...) value (a new dict when overridden).

        ``smart_defaults``: a defaults mode other than legacy is in force, which makes
        us_east_1_regional_endpoint default to 'regional'.
        """
        bc = self._session._botocore_session
        if bc is not None:
            section = bc.get_component("config_store").get_config_variable("s3")
            if smart_defaults and (section is None or "us_east_1_regional_endpoint" not in section):
                section = dict(section or {})
                section["us_east_1_regional_endpoint"] = "regional"
            return section
        section = self.scoped().get("s3")
        if section and not isinstance(section, dict):
            return None
        instance_vars = self._session._instance_vars
        copied = False
        for name, spec in _S3_VARS.items():
            if smart_defaults and name == "us_east_1_regional_endpoint":
                value = _chain(spec, instance_vars, name, self.scoped, "regional")
            else:
                value = _chain(spec, instance_vars, name, self.scoped)
            if value is not None:
                if section is None:
                    section = {}
                    copied = True
                elif not copied:
                    section = dict(section)
                    copied = True
                section[name] = value
        return section


# --- the defaults mode (botocore.configprovider.SmartDefaultsConfigStoreFactory) --------------

_DEFAULTS_MODES = ("legacy", "auto", "standard", "in-region", "cross-region", "mobile")
# sdk-default-configuration.json: connectTimeoutInMillis per defaults mode.
_MODE_CONNECT_TIMEOUT = {"standard": 3.1, "in-region": 1.1, "cross-region": 3.1, "mobile": 30.0}


def _resolve_auto_mode(region_name, session):
    """SmartDefaultsConfigStoreFactory.resolve_auto_mode: the environment's region on AWS
    compute, else the instance metadata region (asked once per session)."""
    current_region = None
    if os.environ.get("AWS_EXECUTION_ENV"):
        default_region = os.environ.get("AWS_DEFAULT_REGION")
        current_region = os.environ.get("AWS_REGION", default_region)
    if not current_region and session is not None:
        current_region = session._instance_metadata_region()
    if current_region:
        return "in-region" if region_name == current_region else "cross-region"
    return "standard"


def _defaults_mode(view, config, region_name, session):
    """(retry mode default, connect timeout default) of the defaults mode in force (botocore's
    Session._resolve_defaults_mode and SmartDefaultsConfigStoreFactory)."""
    mode = view.get("defaults_mode")
    if config is not None and config.defaults_mode:
        mode = config.defaults_mode
    defaults_mode = mode.lower()
    if defaults_mode not in _DEFAULTS_MODES:
        from .. import exceptions

        raise exceptions.InvalidDefaultsMode(mode=mode, valid_modes=", ".join(_DEFAULTS_MODES))
    if defaults_mode == "legacy":
        return None, None
    if defaults_mode == "auto":
        defaults_mode = _resolve_auto_mode(region_name, session)
    return "standard", _MODE_CONNECT_TIMEOUT.get(defaults_mode)
