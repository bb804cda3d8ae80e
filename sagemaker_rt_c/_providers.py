"""The credential providers of botocore's chain beyond the environment and the shared files.

Each class mirrors botocore 1.43's class of the same name in ``botocore/credentials.py``:
same constructor, same ``METHOD`` / ``CANONICAL_NAME``, same decisions, same exceptions and
messages, same refresh behaviour (assume-role, web identity and SSO return
``DeferredRefreshableCredentials`` that call STS / the SSO portal on first use, and again
15 minutes before expiry; the container and IMDS providers return ``RefreshableCredentials``).
The network and process work is in ``_sts``, ``_sso``, ``_imds``, ``_container`` and
``_process``, imported when first needed.

Deliberate differences from botocore:

* ``credential_process`` runs with a time limit (``ProcessProvider.TIMEOUT``, 60 s) and every
  failure (exit status, time limit, output that is not the JSON the spec asks for) raises
  ``CredentialRetrievalError`` naming the profile, never the output (botocore waits forever
  and lets ``json``'s error, holding the output, escape). See ``_process``.
* ``login_session`` profiles (``aws login``) are not implemented: their refresh signs DPoP
  proofs with botocore's optional CRT dependency. Such a profile raises
  ``MissingDependencyException`` (botocore raises it too when ``botocore[crt]`` is missing),
  with a message pointing to ``sagemaker_rt_c.from_boto3``, which keeps botocore's
  credentials.
* STS and SSO portal calls are made by this package (``_nested``), not by botocore clients:
  same endpoints, signing, retries and errors; no botocore event hooks.
"""

import os

from . import _log
from .credentials import (
    ConfigProvider,
    CredentialProvider,
    CredentialResolver,
    Credentials,
    DeferredRefreshableCredentials,
    RefreshableCredentials,
    SharedCredentialProvider,
    _local_now,
    _parse_if_needed,
    _parse_timestamp,
    raw_config_parse,
)

__all__ = [
    "AssumeRoleProvider",
    "AssumeRoleWithWebIdentityProvider",
    "SSOProvider",
    "LoginProvider",
    "ProcessProvider",
    "OriginalEC2Provider",
    "BotoProvider",
    "ContainerProvider",
    "InstanceMetadataProvider",
    "CanonicalNameCredentialSourcer",
    "ProfileProviderBuilder",
    "CachedCredentialFetcher",
    "AssumeRoleCredentialFetcher",
    "AssumeRoleWithWebIdentityCredentialFetcher",
    "SSOCredentialFetcher",
    "FileWebIdentityTokenLoader",
    "create_nested_client",
    "default_providers",
]


def _exceptions():
    from . import exceptions

    return exceptions


def create_nested_client(session, service_name, **kwargs):
    """An STS, SSO or SSO OIDC client of the session, as botocore's ``create_nested_client``."""
    from ._nested import resolve

    settings = resolve(session, service_name, **kwargs)
    if service_name == "sts":
        from ._sts import STSClient

        return STSClient(settings)
    from ._sso import OIDCClient, SSOClient

    return SSOClient(settings) if service_name == "sso" else OIDCClient(settings)


def _get_client_creator(session, region_name):
    def client_creator(service_name, **kwargs):
        create_client_kwargs = {"region_name": region_name}
        create_client_kwargs.update(**kwargs)
        return create_nested_client(session, service_name, **create_client_kwargs)

    return client_creator


def _serialize_if_needed(value):
    # botocore's _serialize_if_needed(value, iso=True): cached responses hold datetimes.
    from datetime import datetime

    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _is_arn(value):
    # botocore.utils.ArnParser.is_arn
    return isinstance(value, str) and value.startswith("arn:") and len(value.split(":", 5)) == 6


def create_mfa_serial_refresher(actual_refresh):
    class _Refresher:
        def __init__(self, refresh):
            self._refresh = refresh
            self._has_been_called = False

        def __call__(self):
            if self._has_been_called:
                # The MFA code was for the first call; there is no one to ask again.
                raise _exceptions().RefreshWithMFAUnsupportedError()
            self._has_been_called = True
            return self._refresh()

    return _Refresher(actual_refresh)


# --- fetchers with a cache ---------------------------------------------------------------------


class CachedCredentialFetcher:
    DEFAULT_EXPIRY_WINDOW_SECONDS = 60 * 15

    def __init__(self, cache=None, expiry_window_seconds=None):
        if cache is None:
            cache = {}
        self._cache = cache
        self._cache_key = self._create_cache_key()
        if expiry_window_seconds is None:
            expiry_window_seconds = self.DEFAULT_EXPIRY_WINDOW_SECONDS
        self._expiry_window_seconds = expiry_window_seconds
        self.feature_ids = set()

    # Abstract, as in botocore's CachedCredentialFetcher: the STS fetchers define these.
    def _create_cache_key(self):
        raise NotImplementedError("_create_cache_key()")

    def _make_file_safe(self, filename):
        filename = filename.replace(":", "_").replace(os.sep, "_")
        return filename.replace("/", "_")

    def _get_credentials(self):
        raise NotImplementedError("_get_credentials()")

    def fetch_credentials(self):
        return self._get_cached_credentials()

    def _get_cached_credentials(self):
        response = self._load_from_cache()
        if response is None:
            response = self._get_credentials()
            self._write_to_cache(response)
        else:
            _log.debug(_log.CREDENTIALS, "Credentials for role retrieved from cache.")
        creds = response["Credentials"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": _serialize_if_needed(creds["Expiration"]),
            "account_id": creds.get("AccountId"),
        }

    def _load_from_cache(self):
        from copy import deepcopy

        if self._cache_key in self._cache:
            creds = deepcopy(self._cache[self._cache_key])
            if not self._is_expired(creds):
                return creds
            _log.debug(_log.CREDENTIALS, "Credentials were found in cache, but they are expired.")
        return None

    def _write_to_cache(self, response):
        from copy import deepcopy

        self._cache[self._cache_key] = deepcopy(response)

    def _is_expired(self, credentials):
        end_time = _parse_if_needed(credentials["Credentials"]["Expiration"])
        seconds = (end_time - _local_now()).total_seconds()
        return seconds < self._expiry_window_seconds


class BaseAssumeRoleCredentialFetcher(CachedCredentialFetcher):
    def __init__(
        self, client_creator, role_arn, extra_args=None, cache=None, expiry_window_seconds=None
    ):
        from copy import deepcopy

        self._client_creator = client_creator
        self._role_arn = role_arn
        self._assume_kwargs = {} if extra_args is None else deepcopy(extra_args)
        self._assume_kwargs["RoleArn"] = self._role_arn
        self._role_session_name = self._assume_kwargs.get("RoleSessionName")
        self._using_default_session_name = False
        if not self._role_session_name:
            self._generate_assume_role_name()
        super().__init__(cache, expiry_window_seconds)

    def _generate_assume_role_name(self):
        import time

        # botocore's name: IAM policies and CloudTrail queries may rely on it.
        self._role_session_name = f"botocore-session-{int(time.time())}"
        self._assume_kwargs["RoleSessionName"] = self._role_session_name
        self._using_default_session_name = True

    def _create_cache_key(self):
        import hashlib
        import json
        from copy import deepcopy

        args = deepcopy(self._assume_kwargs)
        if self._using_default_session_name:
            del args["RoleSessionName"]
        if "Policy" in args:
            args["Policy"] = json.loads(args["Policy"])
        args = json.dumps(args, sort_keys=True)
        return self._make_file_safe(hashlib.sha1(args.encode("utf-8")).hexdigest())

    def _add_account_id_to_response(self, response):
        role_arn = response.get("AssumedRoleUser", {}).get("Arn")
        if _is_arn(role_arn):
            response["Credentials"]["AccountId"] = role_arn.split(":", 5)[4]


class AssumeRoleCredentialFetcher(BaseAssumeRoleCredentialFetcher):
    def __init__(
        self,
        client_creator,
        source_credentials,
        role_arn,
        extra_args=None,
        mfa_prompter=None,
        cache=None,
        expiry_window_seconds=None,
    ):
        self._source_credentials = source_credentials
        self._mfa_prompter = mfa_prompter
        if self._mfa_prompter is None:
            import getpass

            self._mfa_prompter = getpass.getpass
        super().__init__(
            client_creator,
            role_arn,
            extra_args=extra_args,
            cache=cache,
            expiry_window_seconds=expiry_window_seconds,
        )

    def _get_credentials(self):
        kwargs = self._assume_role_kwargs()
        client = self._create_client()
        response = client.assume_role(**kwargs)
        self._add_account_id_to_response(response)
        return response

    def _assume_role_kwargs(self):
        from copy import deepcopy

        assume_role_kwargs = deepcopy(self._assume_kwargs)
        mfa_serial = assume_role_kwargs.get("SerialNumber")
        if mfa_serial is not None:
            prompt = f"Enter MFA code for {mfa_serial}: "
            assume_role_kwargs["TokenCode"] = self._mfa_prompter(prompt)
        return assume_role_kwargs

    def _create_client(self):
        frozen_credentials = self._source_credentials.get_frozen_credentials()
        return self._client_creator(
            "sts",
            aws_access_key_id=frozen_credentials.access_key,
            aws_secret_access_key=frozen_credentials.secret_key,
            aws_session_token=frozen_credentials.token,
        )


class AssumeRoleWithWebIdentityCredentialFetcher(BaseAssumeRoleCredentialFetcher):
    def __init__(
        self,
        client_creator,
        web_identity_token_loader,
        role_arn,
        extra_args=None,
        cache=None,
        expiry_window_seconds=None,
    ):
        self._web_identity_token_loader = web_identity_token_loader
        super().__init__(
            client_creator,
            role_arn,
            extra_args=extra_args,
            cache=cache,
            expiry_window_seconds=expiry_window_seconds,
        )

    def _get_credentials(self):
        from .config import UNSIGNED, Config

        kwargs = self._assume_role_kwargs()
        # The web identity token is the only credential: botocore sends this call unsigned.
        client = self._client_creator("sts", config=Config(signature_version=UNSIGNED))
        response = client.assume_role_with_web_identity(**kwargs)
        self._add_account_id_to_response(response)
        return response

    def _assume_role_kwargs(self):
        from copy import deepcopy

        assume_role_kwargs = deepcopy(self._assume_kwargs)
        assume_role_kwargs["WebIdentityToken"] = self._web_identity_token_loader()
        return assume_role_kwargs


class FileWebIdentityTokenLoader:
    """Reads the token file on every call: EKS rotates it in place."""

    def __init__(self, web_identity_token_path, _open=open):
        self._web_identity_token_path = web_identity_token_path
        self._open = _open

    def __call__(self):
        with self._open(self._web_identity_token_path) as token_file:
            return token_file.read()


class SSOCredentialFetcher(CachedCredentialFetcher):
    _UTC_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

    def __init__(
        self,
        start_url,
        sso_region,
        role_name,
        account_id,
        client_creator,
        token_loader=None,
        cache=None,
        expiry_window_seconds=None,
        token_provider=None,
        sso_session_name=None,
        time_fetcher=_local_now,
    ):
        self._client_creator = client_creator
        self._sso_region = sso_region
        self._role_name = role_name
        self._account_id = account_id
        self._start_url = start_url
        self._token_loader = token_loader
        self._token_provider = token_provider
        self._sso_session_name = sso_session_name
        self._time_fetcher = time_fetcher
        super().__init__(cache, expiry_window_seconds)

    def _create_cache_key(self):
        import hashlib
        import json

        args = {"roleName": self._role_name, "accountId": self._account_id}
        if self._sso_session_name:
            args["sessionName"] = self._sso_session_name
        else:
            args["startUrl"] = self._start_url
        args = json.dumps(args, sort_keys=True, separators=(",", ":"))
        return self._make_file_safe(hashlib.sha1(args.encode("utf-8")).hexdigest())

    def _parse_timestamp(self, timestamp_ms):
        from datetime import datetime, timezone

        timestamp = datetime.fromtimestamp(timestamp_ms / 1000.0, timezone.utc)
        return timestamp.strftime(self._UTC_DATE_FORMAT)

    def _get_credentials(self):
        from .config import UNSIGNED, Config

        config = Config(signature_version=UNSIGNED, region_name=self._sso_region)
        client = self._client_creator("sso", config=config)
        if self._token_provider:
            initial_token_data = self._token_provider.load_token()
            token = initial_token_data.get_frozen_token().token
        else:
            token_dict = self._token_loader(self._start_url)
            token = token_dict["accessToken"]
            # A legacy token past its expiry: no call to GetRoleCredentials.
            expiration = _parse_timestamp(token_dict["expiresAt"])
            if (expiration - self._time_fetcher()).total_seconds() <= 0:
                raise _exceptions().UnauthorizedSSOTokenError()
        kwargs = {"roleName": self._role_name, "accountId": self._account_id, "accessToken": token}
        try:
            response = client.get_role_credentials(**kwargs)
        except client.exceptions.UnauthorizedException:
            raise _exceptions().UnauthorizedSSOTokenError() from None
        credentials = response["roleCredentials"]
        return {
            "ProviderType": "sso",
            "Credentials": {
                "AccessKeyId": credentials["accessKeyId"],
                "SecretAccessKey": credentials["secretAccessKey"],
                "SessionToken": credentials["sessionToken"],
                "Expiration": self._parse_timestamp(credentials["expiration"]),
                "AccountId": self._account_id,
            },
        }


# --- providers ---------------------------------------------------------------------------------


class ProcessProvider(CredentialProvider):
    """``credential_process``: a command printing credentials as JSON (``Version`` 1).

    ``TIMEOUT`` (seconds) bounds each run; see ``_process``.
    """

    METHOD = "custom-process"
    TIMEOUT = 60

    def __init__(self, profile_name, load_config, popen=None, timeout=None):
        self._profile_name = profile_name
        self._load_config = load_config
        self._loaded_config = None
        self._popen = popen
        self._timeout = self.TIMEOUT if timeout is None else timeout

    def load(self):
        credential_process = self._credential_process
        if credential_process is None:
            return None
        creds_dict = self._retrieve_credentials_using(credential_process)
        if creds_dict.get("expiry_time") is not None:
            return RefreshableCredentials.create_from_metadata(
                creds_dict,
                lambda: self._retrieve_credentials_using(credential_process),
                self.METHOD,
            )
        return Credentials(
            access_key=creds_dict["access_key"],
            secret_key=creds_dict["secret_key"],
            token=creds_dict.get("token"),
            method=self.METHOD,
            account_id=creds_dict.get("account_id"),
        )

    def _retrieve_credentials_using(self, credential_process):
        from ._process import run_credential_process

        parsed = run_credential_process(
            credential_process, self._profile_name, self.METHOD, self._timeout, self._popen
        )
        return {
            "access_key": parsed["AccessKeyId"],
            "secret_key": parsed["SecretAccessKey"],
            "token": parsed.get("SessionToken"),
            "expiry_time": parsed.get("Expiration"),
            "account_id": parsed.get("AccountId") or self.profile_config.get("aws_account_id"),
        }

    @property
    def _credential_process(self):
        return self.profile_config.get("credential_process")

    @property
    def profile_config(self):
        if self._loaded_config is None:
            self._loaded_config = self._load_config()
        return self._loaded_config.get("profiles", {}).get(self._profile_name, {})


class InstanceMetadataProvider(CredentialProvider):
    METHOD = "iam-role"
    CANONICAL_NAME = "Ec2InstanceMetadata"

    def __init__(self, iam_role_fetcher):
        self._role_fetcher = iam_role_fetcher

    def load(self):
        fetcher = self._role_fetcher
        metadata = fetcher.retrieve_iam_role_credentials()
        if not metadata:
            return None
        _log.info(_log.CREDENTIALS, "Found credentials from IAM Role: %s", metadata["role_name"])
        return RefreshableCredentials.create_from_metadata(
            metadata,
            method=self.METHOD,
            refresh_using=fetcher.retrieve_iam_role_credentials,
        )


class OriginalEC2Provider(CredentialProvider):
    METHOD = "ec2-credentials-file"
    CANONICAL_NAME = "Ec2Config"

    CRED_FILE_ENV = "AWS_CREDENTIAL_FILE"
    ACCESS_KEY = "AWSAccessKeyId"
    SECRET_KEY = "AWSSecretKey"

    def __init__(self, environ=None, parser=None):
        self._environ = os.environ if environ is None else environ
        self._parser = _parse_key_val_file if parser is None else parser

    def load(self):
        if "AWS_CREDENTIAL_FILE" not in self._environ:
            return None
        full_path = os.path.expanduser(self._environ["AWS_CREDENTIAL_FILE"])
        creds = self._parser(full_path)
        if self.ACCESS_KEY in creds:
            _log.info(_log.CREDENTIALS, "Found credentials in AWS_CREDENTIAL_FILE.")
            # The EC2 tools' file has no session token.
            return Credentials(creds[self.ACCESS_KEY], creds[self.SECRET_KEY], method=self.METHOD)
        return None


def _parse_key_val_file(filename):
    # botocore.utils.parse_key_val_file: "key = value" lines, the rest ignored.
    try:
        with open(filename) as f:
            contents = f.read()
    except OSError:
        raise _exceptions().ConfigNotFound(path=filename) from None
    final = {}
    for line in contents.splitlines():
        if "=" not in line:
            continue
        key, val = line.split("=", 1)
        final[key.strip()] = val.strip()
    return final


class BotoProvider(CredentialProvider):
    METHOD = "boto-config"
    CANONICAL_NAME = "Boto2Config"

    BOTO_CONFIG_ENV = "BOTO_CONFIG"
    DEFAULT_CONFIG_FILENAMES = ["/etc/boto.cfg", "~/.boto"]

    def __init__(self, environ=None, ini_parser=None):
        self._environ = os.environ if environ is None else environ
        self._ini_parser = raw_config_parse if ini_parser is None else ini_parser

    def load(self):
        if self.BOTO_CONFIG_ENV in self._environ:
            potential_locations = [self._environ[self.BOTO_CONFIG_ENV]]
        else:
            potential_locations = self.DEFAULT_CONFIG_FILENAMES
        for filename in potential_locations:
            config = self._ini_parser(filename)
            if config is None:
                continue
            if "Credentials" in config:
                credentials = config["Credentials"]
                if "aws_access_key_id" in credentials:
                    _log.info(
                        _log.CREDENTIALS, "Found credentials in boto config file: %s", filename
                    )
                    access_key, secret_key = self._extract_creds_from_mapping(
                        credentials, "aws_access_key_id", "aws_secret_access_key"
                    )
                    return Credentials(access_key, secret_key, method=self.METHOD)
        return None


class AssumeRoleProvider(CredentialProvider):
    METHOD = "assume-role"
    CANONICAL_NAME = None
    ROLE_CONFIG_VAR = "role_arn"
    WEB_IDENTITY_TOKE_FILE_VAR = "web_identity_token_file"
    EXPIRY_WINDOW_SECONDS = 60 * 15

    def __init__(
        self,
        load_config,
        client_creator,
        cache,
        profile_name,
        prompter=None,
        credential_sourcer=None,
        profile_provider_builder=None,
    ):
        self.cache = cache
        self._load_config = load_config
        self._client_creator = client_creator
        self._profile_name = profile_name
        self._prompter = prompter
        self._loaded_config = {}
        self._credential_sourcer = credential_sourcer
        self._profile_provider_builder = profile_provider_builder
        self._visited_profiles = [self._profile_name]

    def load(self):
        self._loaded_config = self._load_config()
        profiles = self._loaded_config.get("profiles", {})
        profile = profiles.get(self._profile_name, {})
        if self._has_assume_role_config_vars(profile):
            return self._load_creds_via_assume_role(self._profile_name)
        return None

    def _has_assume_role_config_vars(self, profile):
        # A profile with a web identity token file belongs to the web identity provider.
        return self.ROLE_CONFIG_VAR in profile and self.WEB_IDENTITY_TOKE_FILE_VAR not in profile

    def _load_creds_via_assume_role(self, profile_name):
        role_config = self._get_role_config(profile_name)
        source_credentials = self._resolve_source_credentials(role_config, profile_name)

        extra_args = {}
        role_session_name = role_config.get("role_session_name")
        if role_session_name is not None:
            extra_args["RoleSessionName"] = role_session_name
        external_id = role_config.get("external_id")
        if external_id is not None:
            extra_args["ExternalId"] = external_id
        mfa_serial = role_config.get("mfa_serial")
        if mfa_serial is not None:
            extra_args["SerialNumber"] = mfa_serial
        duration_seconds = role_config.get("duration_seconds")
        if duration_seconds is not None:
            extra_args["DurationSeconds"] = duration_seconds

        fetcher = AssumeRoleCredentialFetcher(
            client_creator=self._client_creator,
            source_credentials=source_credentials,
            role_arn=role_config["role_arn"],
            extra_args=extra_args,
            mfa_prompter=self._prompter,
            cache=self.cache,
        )
        refresher = fetcher.fetch_credentials
        if mfa_serial is not None:
            refresher = create_mfa_serial_refresher(refresher)
        # Nothing is called until the credentials are first used.
        return DeferredRefreshableCredentials(
            method=self.METHOD, refresh_using=refresher, time_fetcher=_local_now
        )

    def _get_role_config(self, profile_name):
        profiles = self._loaded_config.get("profiles", {})
        profile = profiles[profile_name]
        source_profile = profile.get("source_profile")
        credential_source = profile.get("credential_source")
        duration_seconds = profile.get("duration_seconds")
        role_config = {
            "role_arn": profile["role_arn"],
            "external_id": profile.get("external_id"),
            "mfa_serial": profile.get("mfa_serial"),
            "role_session_name": profile.get("role_session_name"),
            "source_profile": source_profile,
            "credential_source": credential_source,
        }
        if duration_seconds is not None:
            try:
                role_config["duration_seconds"] = int(duration_seconds)
            except ValueError:
                pass
        exceptions = _exceptions()
        if credential_source is not None and source_profile is not None:
            raise exceptions.InvalidConfigError(
                error_msg=(
                    f'The profile "{profile_name}" contains both source_profile and '
                    "credential_source."
                )
            )
        elif credential_source is None and source_profile is None:
            raise exceptions.PartialCredentialsError(
                provider=self.METHOD, cred_var="source_profile or credential_source"
            )
        elif credential_source is not None:
            self._validate_credential_source(profile_name, credential_source)
        else:
            self._validate_source_profile(profile_name, source_profile)
        return role_config

    def _validate_credential_source(self, parent_profile, credential_source):
        exceptions = _exceptions()
        if self._credential_sourcer is None:
            raise exceptions.InvalidConfigError(
                error_msg=(
                    f'The credential_source "{credential_source}" is specified in profile '
                    f'"{parent_profile}", but no source provider was configured.'
                )
            )
        if not self._credential_sourcer.is_supported(credential_source):
            raise exceptions.InvalidConfigError(
                error_msg=(
                    f'The credential source "{credential_source}" referenced in profile '
                    f'"{parent_profile}" is not valid.'
                )
            )

    def _source_profile_has_credentials(self, profile):
        return self._has_static_credentials(profile) or self._has_assume_role_config_vars(profile)

    def _validate_source_profile(self, parent_profile_name, source_profile_name):
        exceptions = _exceptions()
        profiles = self._loaded_config.get("profiles", {})
        if source_profile_name not in profiles:
            raise exceptions.InvalidConfigError(
                error_msg=(
                    f'The source_profile "{source_profile_name}" referenced in the profile '
                    f'"{parent_profile_name}" does not exist.'
                )
            )
        source_profile = profiles[source_profile_name]
        if source_profile_name not in self._visited_profiles:
            return
        # A profile may name itself as its source, to use its own static keys; any other
        # repeat is a loop.
        if source_profile_name != parent_profile_name or not self._has_static_credentials(
            source_profile
        ):
            raise exceptions.InfiniteLoopConfigError(
                source_profile=source_profile_name, visited_profiles=self._visited_profiles
            )

    def _has_static_credentials(self, profile):
        return any(key in profile for key in ("aws_secret_access_key", "aws_access_key_id"))

    def _resolve_source_credentials(self, role_config, profile_name):
        credential_source = role_config.get("credential_source")
        if credential_source is not None:
            return self._resolve_credentials_from_source(credential_source, profile_name)
        source_profile = role_config["source_profile"]
        self._visited_profiles.append(source_profile)
        return self._resolve_credentials_from_profile(source_profile)

    def _resolve_credentials_from_profile(self, profile_name):
        profiles = self._loaded_config.get("profiles", {})
        profile = profiles[profile_name]
        if self._has_static_credentials(profile) and not self._profile_provider_builder:
            return self._resolve_static_credentials_from_profile(profile)
        elif self._has_static_credentials(profile) or not self._has_assume_role_config_vars(
            profile
        ):
            profile_providers = self._profile_provider_builder.providers(
                profile_name=profile_name, disable_env_vars=True
            )
            credentials = CredentialResolver(profile_providers).load_credentials()
            if credentials is None:
                raise _exceptions().InvalidConfigError(
                    error_msg=f'The source profile "{profile_name}" must have credentials.'
                )
            return credentials
        return self._load_creds_via_assume_role(profile_name)

    def _resolve_static_credentials_from_profile(self, profile):
        try:
            return Credentials(
                access_key=profile["aws_access_key_id"],
                secret_key=profile["aws_secret_access_key"],
                token=profile.get("aws_session_token"),
            )
        except KeyError as e:
            raise _exceptions().PartialCredentialsError(
                provider=self.METHOD, cred_var=str(e)
            ) from None

    def _resolve_credentials_from_source(self, credential_source, profile_name):
        credentials = self._credential_sourcer.source_credentials(credential_source)
        if credentials is None:
            raise _exceptions().CredentialRetrievalError(
                provider=credential_source,
                error_msg=(
                    "No credentials found in credential_source referenced "
                    f"in profile {profile_name}"
                ),
            )
        return credentials


class AssumeRoleWithWebIdentityProvider(CredentialProvider):
    METHOD = "assume-role-with-web-identity"
    CANONICAL_NAME = None
    _CONFIG_TO_ENV_VAR = {
        "web_identity_token_file": "AWS_WEB_IDENTITY_TOKEN_FILE",
        "role_session_name": "AWS_ROLE_SESSION_NAME",
        "role_arn": "AWS_ROLE_ARN",
    }

    def __init__(
        self,
        load_config,
        client_creator,
        profile_name,
        cache=None,
        disable_env_vars=False,
        token_loader_cls=None,
    ):
        self.cache = cache
        self._load_config = load_config
        self._client_creator = client_creator
        self._profile_name = profile_name
        self._profile_config = None
        self._disable_env_vars = disable_env_vars
        if token_loader_cls is None:
            token_loader_cls = FileWebIdentityTokenLoader
        self._token_loader_cls = token_loader_cls

    def load(self):
        return self._assume_role_with_web_identity()

    def _get_profile_config(self, key):
        if self._profile_config is None:
            profiles = self._load_config().get("profiles", {})
            self._profile_config = profiles.get(self._profile_name, {})
        return self._profile_config.get(key)

    def _get_env_config(self, key):
        if self._disable_env_vars:
            return None
        env_key = self._CONFIG_TO_ENV_VAR.get(key)
        if env_key and env_key in os.environ:
            return os.environ[env_key]
        return None

    def _get_config(self, key):
        env_value = self._get_env_config(key)
        if env_value is not None:
            return env_value
        return self._get_profile_config(key)

    def _assume_role_with_web_identity(self):
        token_path = self._get_config("web_identity_token_file")
        if not token_path:
            return None
        token_loader = self._token_loader_cls(token_path)
        role_arn = self._get_config("role_arn")
        if not role_arn:
            # botocore's message, missing space included.
            raise _exceptions().InvalidConfigError(
                error_msg=(
                    "The provided profile or the current environment is configured to assume "
                    "role with web identity but has no role ARN configured. Ensure that the "
                    "profile has the role_arnconfiguration set or the AWS_ROLE_ARN env var is "
                    "set."
                )
            )
        extra_args = {}
        role_session_name = self._get_config("role_session_name")
        if role_session_name is not None:
            extra_args["RoleSessionName"] = role_session_name
        fetcher = AssumeRoleWithWebIdentityCredentialFetcher(
            client_creator=self._client_creator,
            web_identity_token_loader=token_loader,
            role_arn=role_arn,
            extra_args=extra_args,
            cache=self.cache,
        )
        return DeferredRefreshableCredentials(
            method=self.METHOD, refresh_using=fetcher.fetch_credentials
        )


class CanonicalNameCredentialSourcer:
    """credential_source: the provider with that canonical name (case-insensitive)."""

    def __init__(self, providers):
        self._providers = providers

    def is_supported(self, source_name):
        return source_name in [p.CANONICAL_NAME for p in self._providers]

    def source_credentials(self, source_name):
        source = self._get_provider(source_name)
        if isinstance(source, CredentialResolver):
            return source.load_credentials()
        return source.load()

    def _get_provider(self, canonical_name):
        provider = self._get_provider_by_canonical_name(canonical_name)
        if canonical_name.lower() in ["sharedconfig", "sharedcredentials"]:
            assume_role_provider = self._get_provider_by_method("assume-role")
            if assume_role_provider is not None:
                if provider is None:
                    return assume_role_provider
                return CredentialResolver([assume_role_provider, provider])
        if provider is None:
            raise _exceptions().UnknownCredentialError(name=canonical_name)
        return provider

    def _get_provider_by_canonical_name(self, canonical_name):
        for provider in self._providers:
            name = provider.CANONICAL_NAME
            if name and name.lower() == canonical_name.lower():
                return provider
        return None

    def _get_provider_by_method(self, method):
        for provider in self._providers:
            if provider.METHOD == method:
                return provider
        return None


class ContainerProvider(CredentialProvider):
    """ECS, SageMaker Studio, EKS Pod Identity: the container credentials endpoint."""

    METHOD = "container-role"
    CANONICAL_NAME = "EcsContainer"
    ENV_VAR = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
    ENV_VAR_FULL = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
    ENV_VAR_AUTH_TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
    ENV_VAR_AUTH_TOKEN_FILE = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"

    def __init__(self, environ=None, fetcher=None):
        self._environ = os.environ if environ is None else environ
        self._fetcher = fetcher

    def _get_fetcher(self):
        if self._fetcher is None:
            from ._container import ContainerMetadataFetcher

            self._fetcher = ContainerMetadataFetcher()
        return self._fetcher

    def load(self):
        if self.ENV_VAR in self._environ or self.ENV_VAR_FULL in self._environ:
            return self._retrieve_or_fail()
        return None

    def _retrieve_or_fail(self):
        if self._provided_relative_uri():
            full_uri = self._get_fetcher().full_url(self._environ[self.ENV_VAR])
        else:
            full_uri = self._environ[self.ENV_VAR_FULL]
        fetcher = self._create_fetcher(full_uri)
        creds = fetcher()
        return RefreshableCredentials(
            access_key=creds["access_key"],
            secret_key=creds["secret_key"],
            token=creds["token"],
            method=self.METHOD,
            expiry_time=_parse_if_needed(creds["expiry_time"]),
            refresh_using=fetcher,
            account_id=creds.get("account_id"),
        )

    def _build_headers(self):
        auth_token = None
        if self.ENV_VAR_AUTH_TOKEN_FILE in self._environ:
            # Read on every fetch: EKS Pod Identity rotates the file.
            with open(self._environ[self.ENV_VAR_AUTH_TOKEN_FILE]) as token_file:
                auth_token = token_file.read()
        elif self.ENV_VAR_AUTH_TOKEN in self._environ:
            auth_token = self._environ[self.ENV_VAR_AUTH_TOKEN]
        if auth_token is not None:
            self._validate_auth_token(auth_token)
            return {"Authorization": auth_token}
        return None

    def _validate_auth_token(self, auth_token):
        if "\r" in auth_token or "\n" in auth_token:
            raise ValueError("Auth token value is not a legal header value")

    def _create_fetcher(self, full_uri, *args, **kwargs):
        def fetch_creds():
            exceptions = _exceptions()
            try:
                headers = self._build_headers()
                response = self._get_fetcher().retrieve_full_uri(full_uri, headers=headers)
            except exceptions.MetadataRetrievalError as e:
                raise exceptions.CredentialRetrievalError(
                    provider=self.METHOD, error_msg=str(e)
                ) from None
            return {
                "access_key": response["AccessKeyId"],
                "secret_key": response["SecretAccessKey"],
                "token": response["Token"],
                "expiry_time": response["Expiration"],
                "account_id": response.get("AccountId"),
            }

        return fetch_creds

    def _provided_relative_uri(self):
        return self.ENV_VAR in self._environ


class SSOProvider(CredentialProvider):
    """A profile with ``sso_session`` (or the legacy ``sso_start_url``) and a role/account:
    the token ``aws sso login`` cached, exchanged at the SSO portal for role credentials."""

    METHOD = "sso"

    _PROFILE_REQUIRED_CONFIG_VARS = ("sso_role_name", "sso_account_id")
    _SSO_REQUIRED_CONFIG_VARS = ("sso_start_url", "sso_region")
    _ALL_REQUIRED_CONFIG_VARS = _PROFILE_REQUIRED_CONFIG_VARS + _SSO_REQUIRED_CONFIG_VARS

    def __init__(
        self,
        load_config,
        client_creator,
        profile_name,
        cache=None,
        token_cache=None,
        token_provider=None,
    ):
        self._token_cache = token_cache
        self._token_provider = token_provider
        self.cache = {} if cache is None else cache
        self._load_config = load_config
        self._client_creator = client_creator
        self._profile_name = profile_name

    def _load_sso_config(self):
        loaded_config = self._load_config()
        profiles = loaded_config.get("profiles", {})
        profile_name = self._profile_name
        profile_config = profiles.get(self._profile_name, {})
        sso_sessions = loaded_config.get("sso_sessions", {})
        if all(c not in profile_config for c in self._PROFILE_REQUIRED_CONFIG_VARS):
            return None
        resolved_config, extra_reqs = self._resolve_sso_session_reference(
            profile_config, sso_sessions
        )
        config = {}
        missing_config_vars = []
        for config_var in self._ALL_REQUIRED_CONFIG_VARS + extra_reqs:
            if config_var in resolved_config:
                config[config_var] = resolved_config[config_var]
            else:
                missing_config_vars.append(config_var)
        if missing_config_vars:
            missing = ", ".join(missing_config_vars)
            raise _exceptions().InvalidConfigError(
                error_msg=(
                    f'The profile "{profile_name}" is configured to use SSO but is missing '
                    f"required configuration: {missing}"
                )
            )
        return config

    def _resolve_sso_session_reference(self, profile_config, sso_sessions):
        sso_session_name = profile_config.get("sso_session")
        if sso_session_name is None:
            return profile_config, ()
        if sso_session_name not in sso_sessions:
            raise _exceptions().InvalidConfigError(
                error_msg=f'The specified sso-session does not exist: "{sso_session_name}"'
            )
        config = dict(profile_config)
        for config_var, val in sso_sessions[sso_session_name].items():
            if config.get(config_var, val) != val:
                raise _exceptions().InvalidConfigError(
                    error_msg=(
                        f"The value for {config_var} is inconsistent between profile "
                        f"({config[config_var]}) and sso-session ({val})."
                    )
                )
            config[config_var] = val
        return config, ("sso_session",)

    def load(self):
        sso_config = self._load_sso_config()
        if not sso_config:
            return None
        from ._sso import SSOTokenLoader, default_token_cache

        if self._token_cache is None:
            self._token_cache = default_token_cache()
        fetcher_kwargs = {
            "start_url": sso_config["sso_start_url"],
            "sso_region": sso_config["sso_region"],
            "role_name": sso_config["sso_role_name"],
            "account_id": sso_config["sso_account_id"],
            "client_creator": self._client_creator,
            "token_loader": SSOTokenLoader(cache=self._token_cache),
            "cache": self.cache,
        }
        if "sso_session" in sso_config:
            fetcher_kwargs["sso_session_name"] = sso_config["sso_session"]
            fetcher_kwargs["token_provider"] = self._token_provider
        sso_fetcher = SSOCredentialFetcher(**fetcher_kwargs)
        return DeferredRefreshableCredentials(
            method=self.METHOD, refresh_using=sso_fetcher.fetch_credentials
        )


class LoginProvider(CredentialProvider):
    """``login_session`` profiles (``aws login``): not implemented (see the module docstring)."""

    METHOD = "login"

    def __init__(self, load_config, client_creator, profile_name, token_cache=None):
        super().__init__()
        self._load_config = load_config
        self._client_creator = client_creator
        self._profile_name = profile_name

    def load(self):
        profiles = self._load_config().get("profiles", {})
        if "login_session" not in profiles.get(self._profile_name, {}):
            return None
        raise _exceptions().MissingDependencyException(
            msg=(
                f'The profile "{self._profile_name}" uses login_session (aws login), which '
                "sagemaker_rt_c does not implement. Create the client with "
                "sagemaker_rt_c.from_boto3(boto3.Session(profile_name=...)) to use botocore's "
                "credentials."
            )
        )


class ProfileProviderBuilder:
    """The providers that read the profile, in order; shared by the default chain and the
    source-profile chains of assume-role."""

    def __init__(
        self, session, cache=None, region_name=None, sso_token_cache=None, login_token_cache=None
    ):
        self._session = session
        self._cache = cache
        self._region_name = region_name
        self._sso_token_cache = sso_token_cache
        self._login_token_cache = login_token_cache

    def _full_config(self):
        return self._session._full_config()

    def providers(self, profile_name, disable_env_vars=False):
        return [
            self._create_web_identity_provider(profile_name, disable_env_vars),
            self._create_sso_provider(profile_name),
            self._create_shared_credential_provider(profile_name),
            self._create_login_provider(profile_name),
            self._create_process_provider(profile_name),
            self._create_config_provider(profile_name),
        ]

    def _create_process_provider(self, profile_name):
        return ProcessProvider(profile_name=profile_name, load_config=self._full_config)

    def _create_shared_credential_provider(self, profile_name):
        return SharedCredentialProvider(
            profile_name=profile_name,
            creds_filename=self._session._get_config_variable("credentials_file"),
        )

    def _create_config_provider(self, profile_name):
        return ConfigProvider(
            profile_name=profile_name,
            config_filename=self._session._get_config_variable("config_file"),
        )

    def _create_web_identity_provider(self, profile_name, disable_env_vars):
        return AssumeRoleWithWebIdentityProvider(
            load_config=self._full_config,
            client_creator=_get_client_creator(self._session, self._region_name),
            cache=self._cache,
            profile_name=profile_name,
            disable_env_vars=disable_env_vars,
        )

    def _create_sso_provider(self, profile_name):
        from ._sso import SSOTokenProvider

        return SSOProvider(
            load_config=self._full_config,
            client_creator=_get_client_creator(self._session, None),
            profile_name=profile_name,
            cache=self._cache,
            token_cache=self._sso_token_cache,
            token_provider=SSOTokenProvider(
                self._session, cache=self._sso_token_cache, profile_name=profile_name
            ),
        )

    def _create_login_provider(self, profile_name):
        return LoginProvider(
            load_config=self._full_config,
            client_creator=_get_client_creator(self._session, None),
            profile_name=profile_name,
            token_cache=self._login_token_cache,
        )


def default_providers(
    session, profile_name, env_provider, imds_config, cache, region_name, disable_env_vars
):
    """botocore's ``create_credential_resolver`` provider list (``env_provider`` first,
    dropped when ``disable_env_vars``: the assume-role sourcer still uses it)."""
    from ._imds import InstanceMetadataFetcher
    from ._resolve import _user_agent

    container_provider = ContainerProvider()
    config = dict(imds_config)
    instance_metadata_provider = InstanceMetadataProvider(
        iam_role_fetcher=InstanceMetadataFetcher(
            timeout=config.pop("timeout"),
            num_attempts=config.pop("num_attempts"),
            user_agent=_user_agent(session._exec_env, None),
            config=config,
        )
    )
    profile_provider_builder = ProfileProviderBuilder(session, cache=cache, region_name=region_name)
    assume_role_provider = AssumeRoleProvider(
        load_config=session._full_config,
        client_creator=_get_client_creator(session, region_name),
        cache=cache,
        profile_name=profile_name,
        credential_sourcer=CanonicalNameCredentialSourcer(
            [env_provider, container_provider, instance_metadata_provider]
        ),
        profile_provider_builder=profile_provider_builder,
    )
    providers = [env_provider, assume_role_provider]
    providers += profile_provider_builder.providers(
        profile_name=profile_name, disable_env_vars=disable_env_vars
    )
    providers += [OriginalEC2Provider(), BotoProvider(), container_provider]
    providers.append(instance_metadata_provider)
    if disable_env_vars:
        providers.remove(env_provider)
    return providers
