"""``Session``, a drop-in for ``boto3.Session`` limited to SageMaker Runtime clients.

A Session resolves configuration the way botocore's does: each setting comes from the
Session's own values (``region_name=``, ``profile_name=``), then the environment, then the
profile in the shared config file (merged with the same-named section of the shared
credentials file), then botocore's default. Like botocore, a Session parses the shared files
once (on first use) and keeps the credentials it found; environment variables are read again
for every client.

``botocore_session=`` is honoured: every setting, the profile and the credentials are then
taken from that ``botocore.session.Session`` (and its default client config is merged in), so
its full credential chain applies.

``_default_session()`` is the process-wide Session behind ``sagemaker_rt_c.client(...)``,
created on first use like boto3's ``DEFAULT_SESSION``; ``setup_default_session(**kwargs)``
replaces it, as ``boto3.setup_default_session`` does.

Unlike boto3's, a Session knows one service: ``get_available_regions`` answers [] for any
other name (as botocore does for names it does not know), and there is no resource layer
(``resource``, ``get_available_resources``, ``events``).
"""

import os

from .credentials import (
    Credentials,
    create_credential_resolver,
    load_config,
    raw_config_parse,
)

__all__ = ["Session", "setup_default_session"]


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


class Session:
    """A session stores configuration state and creates clients, as ``boto3.Session``.

    Only ``'sagemaker-runtime'`` clients (and its alias ``'runtime.sagemaker'``) exist.
    """

    def __init__(
        self,
        aws_access_key_id=None,
        aws_secret_access_key=None,
        aws_session_token=None,
        region_name=None,
        botocore_session=None,
        profile_name=None,
        aws_account_id=None,
    ):
        self._botocore_session = botocore_session
        self._instance_vars = {}
        self._full = None
        self._profile = None
        self._credentials = None
        self._resolver = None
        # As in botocore: the STS client of assume-role and web identity uses the region of
        # the client being created when the chain is first built.
        self._last_client_region_used = None
        # defaults_mode 'auto': the instance metadata region, looked up once per session.
        self._imds_region = None
        # botocore's User-Agent reads AWS_EXECUTION_ENV when the session is made.
        self._exec_env = os.environ.get("AWS_EXECUTION_ENV")

        if profile_name is not None:
            self._set_config_variable("profile", profile_name)
        if aws_access_key_id or aws_secret_access_key or aws_session_token or aws_account_id:
            if aws_account_id is not None and (
                aws_access_key_id is None or aws_secret_access_key is None
            ):
                from . import exceptions

                raise exceptions.NoCredentialsError()
            if botocore_session is not None:
                args = [aws_access_key_id, aws_secret_access_key, aws_session_token]
                if aws_account_id is not None:
                    args.append(aws_account_id)
                botocore_session.set_credentials(*args)
            else:
                self._credentials = Credentials(
                    aws_access_key_id,
                    aws_secret_access_key,
                    aws_session_token,
                    account_id=aws_account_id,
                )
        if region_name is not None:
            self._set_config_variable("region", region_name)
        # boto3 looks up data_path here, which loads the profile: a missing profile or a
        # malformed config file fails at Session creation, as in boto3.
        self._config_view().get("data_path")

    def _set_config_variable(self, name, value):
        if self._botocore_session is not None:
            self._botocore_session.set_config_variable(name, value)
        else:
            self._instance_vars[name] = value

    def __repr__(self):
        return f"{type(self).__name__}(region_name={self.region_name!r})"

    # --- configuration ----------------------------------------------------------------------

    def _config_view(self):
        return _ConfigView(self)

    def _get_config_variable(self, name):
        return self._config_view().get(name)

    def _full_config(self):
        """botocore's Session.full_config: the config file's profile map, with the credentials
        file's sections merged into same-named profiles (copies; the cache stays intact)."""
        if self._botocore_session is not None:
            return self._botocore_session.full_config
        full = self._full
        if full is None:
            loaded = load_config(self._get_config_variable("config_file"))
            if loaded is None:
                full = {"profiles": {}}
            else:
                full = dict(loaded)
                full["profiles"] = dict(loaded["profiles"])
            creds = raw_config_parse(self._get_config_variable("credentials_file"))
            if creds:
                profiles = full["profiles"]
                for name, values in creds.items():
                    if name in profiles:
                        merged = dict(profiles[name])
                        merged.update(values)
                        profiles[name] = merged
                    else:
                        profiles[name] = values
            self._full = full
        return full

    def _scoped_config(self):
        """The current profile's settings (botocore's get_scoped_config)."""
        if self._botocore_session is not None:
            return self._botocore_session.get_scoped_config()
        profile_name = self._get_config_variable("profile")
        profiles = self._full_config()["profiles"]
        if profile_name is None:
            return profiles.get("default", {})
        if profile_name not in profiles:
            from . import exceptions

            raise exceptions.ProfileNotFound(profile=profile_name)
        return profiles[profile_name]

    def _default_client_config(self):
        if self._botocore_session is not None:
            return self._botocore_session.get_default_client_config()
        return None

    @property
    def profile_name(self):
        """The **read-only** profile name."""
        if self._botocore_session is not None:
            return self._botocore_session.profile or "default"
        if self._profile is None:
            self._profile = self._get_config_variable("profile")
        return self._profile or "default"

    @property
    def region_name(self):
        """The **read-only** region name."""
        return self._get_config_variable("region")

    @property
    def available_profiles(self):
        """The profiles available to the session credentials."""
        return list(self._full_config()["profiles"])

    def get_credentials(self):
        """The session's ``Credentials`` (looked up once, then kept), or None."""
        if self._botocore_session is not None:
            return self._botocore_session.get_credentials()
        if self._credentials is None:
            if self._resolver is None:
                self._resolver = create_credential_resolver(
                    self, region_name=self._last_client_region_used
                )
            self._credentials = self._resolver.load_credentials()
        return self._credentials

    def _instance_metadata_region(self):
        """The region IMDS reports (None if it cannot be reached), asked once per session, as
        botocore's defaults mode ``auto`` does."""
        if self._imds_region is None:
            from ._imds import region_from_session

            try:
                self._imds_region = region_from_session(self)
            except Exception:
                # botocore ignores every error of this lookup.
                pass
        return self._imds_region

    # --- services, regions, partitions ------------------------------------------------------

    def get_available_services(self):
        """The services this package can create clients for."""
        return ["sagemaker-runtime"]

    def get_available_partitions(self):
        """The partition names (e.g., ["aws", "aws-cn"]), in botocore's order."""
        from ._resolve import _LEGACY_PARTITIONS

        return [entry[0] for entry in _LEGACY_PARTITIONS]

    def get_available_regions(self, service_name, partition_name="aws", allow_non_regional=False):
        """The region / endpoint names botocore lists for the service in a partition.

        Like botocore, an unknown service name (anything but 'sagemaker-runtime') gives [].
        """
        if service_name != "sagemaker-runtime":
            return []
        from ._resolve import _LEGACY_PARTITIONS

        for name, _, regions, _, endpoints in _LEGACY_PARTITIONS:
            if name == partition_name:
                return [
                    endpoint
                    for endpoint, _ in endpoints
                    if allow_non_regional or endpoint in regions
                ]
        return []

    def get_partition_for_region(self, region_name):
        """The partition name of a region (e.g., 'aws'); UnknownRegionError if none."""
        from ._resolve import _LEGACY_PARTITIONS, _regex

        for name, region_regex, regions, _, _ in _LEGACY_PARTITIONS:
            if region_name in regions or _regex(region_regex).match(region_name):
                return name
        from . import exceptions

        raise exceptions.UnknownRegionError(
            region_name=region_name, error_msg="No partition found for provided region_name."
        )

    # --- clients ----------------------------------------------------------------------------

    def client(
        self,
        service_name,
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
        """Create a low-level client by name, as ``boto3.Session.client``.

        ``credentials`` (beyond boto3): a credentials object to sign with, this package's or
        botocore's (``Credentials``, ``RefreshableCredentials`` or anything with
        ``get_frozen_credentials()``); refreshable ones keep refreshing. It replaces the
        session's credentials and cannot be combined with ``aws_access_key_id`` /
        ``aws_secret_access_key``.
        """
        from ._resolve import resolve_client_settings

        settings = resolve_client_settings(
            service_name,
            region_name=region_name,
            api_version=api_version,
            use_ssl=use_ssl,
            verify=verify,
            endpoint_url=endpoint_url,
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
            config=config,
            session=self,
            aws_account_id=aws_account_id,
            credentials=credentials,
        )
        from ._client import create_client

        return create_client(settings)


_DEFAULT_SESSION = None


def setup_default_session(**kwargs):
    """Replace the default session, as ``boto3.setup_default_session``."""
    global _DEFAULT_SESSION
    _DEFAULT_SESSION = Session(**kwargs)


def _default_session():
    """The process-wide Session used by ``sagemaker_rt_c.client``, made on first use."""
    if _DEFAULT_SESSION is None:
        setup_default_session()
    return _DEFAULT_SESSION
