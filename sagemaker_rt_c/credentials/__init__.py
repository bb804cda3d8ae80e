"""Credentials, refreshable credentials and the credential chain, as botocore's.

``Credentials``, ``ReadOnlyCredentials``, ``RefreshableCredentials`` and
``DeferredRefreshableCredentials`` mirror botocore's classes (same constructors, attributes,
windows and locking). Their ``repr`` never shows the secret key or the session token (botocore's
namedtuple shows both).

The chain (``create_credential_resolver``) is botocore 1.43's, in its order::

    env                            AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
                                   AWS_SECURITY_TOKEN or AWS_SESSION_TOKEN / AWS_ACCOUNT_ID /
                                   AWS_CREDENTIAL_EXPIRATION
    assume-role                    role_arn + source_profile or credential_source
    assume-role-with-web-identity  AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or the profile's
                                   web_identity_token_file + role_arn
    sso                            sso_session or sso_start_url (the `aws sso login` cache)
    shared-credentials-file        [profile] in AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials)
    login                          login_session (needs botocore[crt]; see _providers)
    custom-process                 credential_process
    config-file                    [profile x] / [default] in AWS_CONFIG_FILE (~/.aws/config)
    ec2-credentials-file           AWS_CREDENTIAL_FILE
    boto-config                    BOTO_CONFIG, /etc/boto.cfg, ~/.boto
    container-role                 AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI
    iam-role                       the EC2 instance metadata service (IMDSv2, then IMDSv1)

A profile given to the Session (``Session(profile_name=...)``) drops the env provider, as in
botocore; AWS_PROFILE does not.

One module per concern; only the first two load with the package:

``__init__``     this module: what users import, and the default chain
                 (``create_credential_resolver``, ``get_credentials``) with its first link,
                 the environment (``EnvProvider``)
``_base``        ``Credentials`` and its read-only snapshot, the provider interface, the
                 resolver, the instance metadata settings the chain checks when it is built
``_refreshable`` refreshable credentials and the expiry times they read
``_providers``   the other providers of the chain and their cached fetchers
``_sts``         AssumeRole and AssumeRoleWithWebIdentity (assume-role, web identity)
``_sso``         IAM Identity Center: the token cache, the token provider, the portal
``_imds``        the EC2 instance metadata service (role credentials, region)
``_container``   the container credentials endpoint (ECS, EKS Pod Identity)
``_process``     ``credential_process``
``_nested``      the STS / SSO / SSO OIDC clients those calls go through

None of the others is imported, and nothing is read, run or connected to, while the
environment (or an explicit key pair) supplies the credentials. Their names are importable
from here (``sagemaker_rt_c.credentials.AssumeRoleProvider``), loaded on first access.

The shared-file reader (``raw_config_parse``, ``load_config``, ``build_profile_map``, exported
here as before) is ``sagemaker_rt_c._settings.configloader``.
"""

import os

from .. import _log
from .._settings.configloader import build_profile_map, load_config, raw_config_parse
from ._base import (
    CredentialProvider,
    CredentialResolver,
    Credentials,
    ReadOnlyCredentials,
    _imds_config,
)

__all__ = [
    "Credentials",
    "ReadOnlyCredentials",
    "RefreshableCredentials",
    "DeferredRefreshableCredentials",
    "CredentialProvider",
    "EnvProvider",
    "SharedCredentialProvider",
    "ConfigProvider",
    "CredentialResolver",
    "create_credential_resolver",
    "get_credentials",
    "raw_config_parse",
    "load_config",
    "build_profile_map",
]


class EnvProvider(CredentialProvider):
    """AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SECURITY_TOKEN or AWS_SESSION_TOKEN /
    AWS_ACCOUNT_ID. With AWS_CREDENTIAL_EXPIRATION the credentials are refreshable: they are
    read from the environment again when they expire, as in botocore."""

    METHOD = "env"
    CANONICAL_NAME = "Environment"
    ACCESS_KEY = "AWS_ACCESS_KEY_ID"
    SECRET_KEY = "AWS_SECRET_ACCESS_KEY"
    TOKENS = ["AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"]
    EXPIRY_TIME = "AWS_CREDENTIAL_EXPIRATION"
    ACCOUNT_ID = "AWS_ACCOUNT_ID"

    def __init__(self, environ=None, mapping=None):
        self.environ = os.environ if environ is None else environ
        self._mapping = self._build_mapping(mapping)

    def _build_mapping(self, mapping):
        if mapping is None:
            return {
                "access_key": self.ACCESS_KEY,
                "secret_key": self.SECRET_KEY,
                "token": self.TOKENS,
                "expiry_time": self.EXPIRY_TIME,
                "account_id": self.ACCOUNT_ID,
            }
        token = mapping.get("token", self.TOKENS)
        if not isinstance(token, list):
            token = [token]
        return {
            "access_key": mapping.get("access_key", self.ACCESS_KEY),
            "secret_key": mapping.get("secret_key", self.SECRET_KEY),
            "token": token,
            "expiry_time": mapping.get("expiry_time", self.EXPIRY_TIME),
            "account_id": mapping.get("account_id", self.ACCOUNT_ID),
        }

    def load(self):
        if not self.environ.get(self._mapping["access_key"], ""):
            return None
        _log.info(_log.CREDENTIALS, "Found credentials in environment variables.")
        fetcher = self._create_credentials_fetcher()
        credentials = fetcher(require_expiry=False)
        expiry_time = credentials["expiry_time"]
        if expiry_time is not None:
            # Lazy: only credentials with an expiry need these (a module of their own).
            from ._refreshable import RefreshableCredentials, _parse_timestamp

            return RefreshableCredentials(
                credentials["access_key"],
                credentials["secret_key"],
                credentials["token"],
                _parse_timestamp(expiry_time),
                refresh_using=fetcher,
                method=self.METHOD,
                account_id=credentials["account_id"],
            )
        return Credentials(
            credentials["access_key"],
            credentials["secret_key"],
            credentials["token"],
            method=self.METHOD,
            account_id=credentials["account_id"],
        )

    def _create_credentials_fetcher(self):
        mapping = self._mapping
        method = self.METHOD
        environ = self.environ

        def missing(name):
            from .. import exceptions

            return exceptions.PartialCredentialsError(provider=method, cred_var=name)

        def fetch_credentials(require_expiry=True):
            access_key = environ.get(mapping["access_key"], "")
            if not access_key:
                raise missing(mapping["access_key"])
            secret_key = environ.get(mapping["secret_key"], "")
            if not secret_key:
                raise missing(mapping["secret_key"])
            token = None
            for name in mapping["token"]:
                value = environ.get(name, "")
                if value:
                    token = value
                    break
            expiry_time = environ.get(mapping["expiry_time"], "")
            if require_expiry and not expiry_time:
                raise missing(mapping["expiry_time"])
            return {
                "access_key": access_key,
                "secret_key": secret_key,
                "token": token,
                "expiry_time": expiry_time or None,
                "account_id": environ.get(mapping["account_id"], "") or None,
            }

        return fetch_credentials


class _DefaultChainResolver(CredentialResolver):
    """botocore's default chain, with every provider after ``env`` built on first need.

    While the environment supplies the credentials nothing else is imported or touched; the
    full provider list appears as soon as it is needed or looked at (``providers``).
    """

    def __init__(self, env_provider, build):
        self._env_provider = env_provider
        self._build = build
        self._providers = None

    @property
    def providers(self):
        if self._providers is None:
            self._providers = self._build()
        return self._providers

    @providers.setter
    def providers(self, value):
        self._providers = value

    def load_credentials(self):
        tried = None
        if self._providers is None and self._env_provider is not None:
            _log.debug(
                _log.CREDENTIALS, "Looking for credentials via: %s", self._env_provider.METHOD
            )
            creds = self._env_provider.load()
            if creds is not None:
                return creds
            tried = self._env_provider
        for provider in self.providers:
            if provider is tried:
                continue
            _log.debug(_log.CREDENTIALS, "Looking for credentials via: %s", provider.METHOD)
            creds = provider.load()
            if creds is not None:
                return creds
        return None


def create_credential_resolver(session, cache=None, region_name=None):
    """The default chain for a ``sagemaker_rt_c.session.Session``, as botocore builds it.

    ``region_name`` is the region of the STS client that assume-role and web identity use (the
    region of the first client the session made, as in botocore); ``cache`` (a dict by default)
    holds assumed-role and SSO credentials by request.
    """
    profile_name = session._get_config_variable("profile") or "default"
    imds_config = _imds_config(session)
    disable_env_vars = session._instance_vars.get("profile") is not None
    if disable_env_vars:
        _log.debug(
            _log.CREDENTIALS,
            "Skipping environment variable credential check because profile name was "
            "explicitly set.",
        )
    if cache is None:
        cache = {}
    env_provider = EnvProvider()

    def build():
        # Lazy: the providers after env load when the environment has no credentials.
        from . import _providers

        return _providers.default_providers(
            session,
            profile_name,
            env_provider,
            imds_config,
            cache,
            region_name,
            disable_env_vars,
        )

    # An explicit Session profile skips the environment, as in botocore.
    return _DefaultChainResolver(None if disable_env_vars else env_provider, build)


def get_credentials(session):
    """botocore's ``get_credentials(session)``: the default chain's credentials, or None."""
    return create_credential_resolver(session).load_credentials()


# The names of the modules that load on first use, importable from here: botocore's, and the
# private helpers the tests use.
_LAZY = {
    "RefreshableCredentials": "_refreshable",
    "DeferredRefreshableCredentials": "_refreshable",
    "ParserError": "_refreshable",
    "_parse_timestamp": "_refreshable",
    "_parse_if_needed": "_refreshable",
    "_parse_api_timestamp": "_refreshable",
    "_fast_iso": "_refreshable",
    "_local_now": "_refreshable",
    "SharedCredentialProvider": "_providers",
    "ConfigProvider": "_providers",
    "AssumeRoleProvider": "_providers",
    "AssumeRoleWithWebIdentityProvider": "_providers",
    "SSOProvider": "_providers",
    "LoginProvider": "_providers",
    "ProcessProvider": "_providers",
    "OriginalEC2Provider": "_providers",
    "BotoProvider": "_providers",
    "ContainerProvider": "_providers",
    "InstanceMetadataProvider": "_providers",
    "CanonicalNameCredentialSourcer": "_providers",
    "ProfileProviderBuilder": "_providers",
    "CachedCredentialFetcher": "_providers",
    "AssumeRoleCredentialFetcher": "_providers",
    "AssumeRoleWithWebIdentityCredentialFetcher": "_providers",
    "SSOCredentialFetcher": "_providers",
}


def __getattr__(name):
    # Lazy, to keep `import sagemaker_rt_c` cheap: these modules load on first use. None of
    # them imports this module (tests/test_import_graph.py).
    where = _LAZY.get(name)
    if where == "_refreshable":
        from . import _refreshable

        return getattr(_refreshable, name)
    if where == "_providers":
        from . import _providers

        return getattr(_providers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
