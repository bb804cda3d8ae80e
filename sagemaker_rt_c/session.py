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

from . import _client, _settings
from ._settings.configloader import load_config, raw_config_parse
from ._settings.configprovider import _ConfigView
from ._settings.regions import _LEGACY_PARTITIONS, _regex
from .credentials import Credentials, create_credential_resolver

__all__ = ["Session", "setup_default_session"]


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
        # What a pickle of this Session (or of its clients) carries: the keys only when given
        # here (sagemaker_rt_c/_pickling.py).
        self._account_id = aws_account_id
        self._explicit_keys = None
        if aws_access_key_id or aws_secret_access_key or aws_session_token:
            self._explicit_keys = (aws_access_key_id, aws_secret_access_key, aws_session_token)

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

    def __reduce__(self):
        # The profile name given, the region resolved here and the keys given (if any): the
        # receiving process finds its own credentials (sagemaker_rt_c/_pickling.py).
        from . import _pickling  # lazy: pickling is for few users

        spec, keys = _pickling.session_spec(self)
        return _restore_session, (_pickling.dumps_spec(spec), keys)

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

    def _client_credentials(self, access_key, secret_key, token, account_id=None):
        """botocore's choice for a client: explicit keys (both or neither), else the session's."""
        if access_key is not None and secret_key is not None:
            return Credentials(access_key, secret_key, token, account_id=account_id)
        if access_key is not None or secret_key is not None:
            from . import exceptions

            raise exceptions.PartialCredentialsError(
                provider="explicit",
                cred_var="aws_secret_access_key" if access_key is not None else "aws_access_key_id",
            )
        return self.get_credentials()

    def _instance_metadata_region(self):
        """The region IMDS reports (None if it cannot be reached), asked once per session, as
        botocore's defaults mode ``auto`` does."""
        if self._imds_region is None:
            from .credentials._imds import region_from_session  # lazy: defaults mode auto

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
        return [entry[0] for entry in _LEGACY_PARTITIONS]

    def get_available_regions(self, service_name, partition_name="aws", allow_non_regional=False):
        """The region / endpoint names botocore lists for the service in a partition.

        Like botocore, an unknown service name (anything but 'sagemaker-runtime') gives [].
        """
        if service_name != "sagemaker-runtime":
            return []
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
        settings = _settings.resolve_client_settings(
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
        client = _client.create_client(settings)
        # What the client was built from, for pickling (region_name: as given; the spec
        # puts in the session's resolved region, _pickling.client_reduce).
        client._origin = _ClientOrigin(
            self,
            {
                "service_name": service_name,
                "region_name": region_name,
                "api_version": api_version,
                "use_ssl": use_ssl,
                "verify": verify,
                "endpoint_url": endpoint_url,
                "aws_access_key_id": aws_access_key_id,
                "aws_secret_access_key": aws_secret_access_key,
                "aws_session_token": aws_session_token,
                "config": config,
                "aws_account_id": aws_account_id,
                "credentials": credentials,
            },
        )
        return client


class _ClientOrigin:
    """The Session and ``client()`` arguments a client was made from: what its pickle carries
    (``SageMakerRuntime.__reduce__`` calls ``reduce``)."""

    __slots__ = ("session", "kwargs")

    def __init__(self, session, kwargs):
        self.session = session
        self.kwargs = kwargs

    def __repr__(self):
        return "<_ClientOrigin>"  # the kwargs may hold explicit keys: never shown

    def reduce(self):
        from . import _pickling  # lazy: pickling is for few users

        return _pickling.client_reduce(self.session, self.kwargs, _restore_client)


def _session_from_spec(spec, keys):
    from . import _pickling

    args = dict(_pickling.loads_spec(spec))
    if keys is not None:
        args.update(
            zip(
                ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"),
                keys,
                strict=True,
            )
        )
    return Session(**args)


def _restore_session(spec, keys):
    """Unpickling a Session: this process's Session for that pickle (one per distinct
    pickle, made on first use; a forked child makes its own)."""
    from . import _pickling

    return _pickling.cached(("session", spec, keys), lambda: _session_from_spec(spec, keys))


def _restore_client(spec, keys):
    """Unpickling a client: this process's client for that pickle (one per distinct pickle,
    made on first use with the credentials this process finds; a forked child makes its
    own)."""
    from . import _pickling

    def build():
        args = dict(_pickling.loads_spec(spec))
        session_keys, client_keys = keys if keys is not None else (None, None)
        session = _pickling.cached(
            ("session", _pickling.dumps_spec(args["session"]), session_keys),
            lambda: _session_from_spec(_pickling.dumps_spec(args["session"]), session_keys),
        )
        del args["session"]
        service_name = args.pop("service_name")
        args["config"] = _pickling.config_from_spec(args["config"])
        if client_keys is not None:
            names = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
            args.update(zip(names, client_keys, strict=True))
        return session.client(service_name, **args)

    return _pickling.cached(("client", spec, keys), build)


def _resolve_client_settings(service_name, *, session=None, **kwargs):
    """The ``ClientSettings`` a client of ``session`` would be made with, or of a new Session
    when it is None (nothing shared with the default session): ``_settings``'s function, which
    needs a session, with that default."""
    if session is None:
        _settings._check_credentials_argument(
            kwargs.get("credentials"),
            kwargs.get("aws_access_key_id"),
            kwargs.get("aws_secret_access_key"),
        )
        session = Session()
    return _settings.resolve_client_settings(service_name, session=session, **kwargs)


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
