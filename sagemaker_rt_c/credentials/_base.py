"""What the rest of the credentials package builds on, loaded with it.

``Credentials`` and its ``ReadOnlyCredentials`` snapshot, the provider interface
(``CredentialProvider``), the resolver trying providers in order (``CredentialResolver``), and
the instance metadata settings botocore validates when it builds the chain (``_imds_config``),
so that a bad value fails even when the environment holds the credentials.
"""

from .. import _log
from .._settings.regions import _valid_endpoint_url

# These classes were defined in sagemaker_rt_c.credentials, where users import them: their
# repr, pickles and tracebacks keep saying so.
_PUBLIC_MODULE = "sagemaker_rt_c.credentials"

# botocore's refresh windows: from 15 minutes before expiry one thread refreshes while the
# others keep using the current credentials; from 10 minutes before, every caller waits.
_DEFAULT_ADVISORY_REFRESH_TIMEOUT = 15 * 60
_DEFAULT_MANDATORY_REFRESH_TIMEOUT = 10 * 60


def _mask(value):
    if value is None:
        return None
    text = str(value)
    return "****" + text[-4:] if len(text) > 8 else "****"


def _ensure_unicode(value):
    # botocore.compat.ensure_unicode: keys given as bytes become str.
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value


class ReadOnlyCredentials(tuple):
    """``(access_key, secret_key, token, account_id)``, as botocore's namedtuple."""

    __module__ = _PUBLIC_MODULE

    __slots__ = ()
    _fields = ("access_key", "secret_key", "token", "account_id")

    def __new__(cls, access_key, secret_key, token, account_id=None):
        return tuple.__new__(cls, (access_key, secret_key, token, account_id))

    @property
    def access_key(self):
        return self[0]

    @property
    def secret_key(self):
        return self[1]

    @property
    def token(self):
        return self[2]

    @property
    def account_id(self):
        return self[3]

    def _asdict(self):
        return {name: self[i] for i, name in enumerate(self._fields)}

    def _replace(self, **kwargs):
        values = self._asdict()
        for key in kwargs:
            if key not in values:
                raise ValueError(f"Got unexpected field names: {[key]!r}")
        values.update(kwargs)
        return ReadOnlyCredentials(**values)

    def __getnewargs__(self):
        return tuple(self)

    def __repr__(self):
        return (
            f"ReadOnlyCredentials(access_key={_mask(self[0])!r}, secret_key=<hidden>, "
            f"token={'<hidden>' if self[2] is not None else None}, account_id={self[3]!r})"
        )


class Credentials:
    """Holds the credentials used to sign requests, as ``botocore.credentials.Credentials``.

    ``method`` says where they were found (``'explicit'``, ``'env'``,
    ``'shared-credentials-file'``, ``'config-file'`` ...).
    """

    __module__ = _PUBLIC_MODULE

    def __init__(self, access_key, secret_key, token=None, method=None, account_id=None):
        self.access_key = _ensure_unicode(access_key)
        self.secret_key = _ensure_unicode(secret_key)
        self.token = token
        self.method = "explicit" if method is None else method
        self.account_id = account_id

    def get_frozen_credentials(self):
        return ReadOnlyCredentials(self.access_key, self.secret_key, self.token, self.account_id)

    def get_deferred_property(self, property_name):
        def get_property():
            return getattr(self, property_name, None)

        return get_property

    def __repr__(self):
        token = "<hidden>" if self.token is not None else None
        return (
            f"Credentials(access_key={_mask(self.access_key)!r}, secret_key=<hidden>, "
            f"token={token}, method={self.method!r})"
        )


# --- providers --------------------------------------------------------------------------------


class CredentialProvider:
    """A source of credentials: ``load()`` returns ``Credentials`` or None."""

    __module__ = _PUBLIC_MODULE

    METHOD = None
    CANONICAL_NAME = None

    def __init__(self, session=None):
        self.session = session

    def load(self):
        return True

    def _extract_creds_from_mapping(self, mapping, *key_names):
        found = []
        for key_name in key_names:
            try:
                found.append(mapping[key_name])
            except KeyError:
                from .. import exceptions

                raise exceptions.PartialCredentialsError(
                    provider=self.METHOD, cred_var=key_name
                ) from None
        return found


class CredentialResolver:
    """Tries each provider in order; the first ``Credentials`` found wins (else None)."""

    __module__ = _PUBLIC_MODULE

    def __init__(self, providers):
        self.providers = providers

    def _offset(self, name):
        try:
            return [p.METHOD for p in self.providers].index(name)
        except ValueError:
            from .. import exceptions

            raise exceptions.UnknownCredentialError(name=name) from None

    def insert_before(self, name, credential_provider):
        self.providers.insert(self._offset(name), credential_provider)

    def insert_after(self, name, credential_provider):
        self.providers.insert(self._offset(name) + 1, credential_provider)

    def remove(self, name):
        methods = [p.METHOD for p in self.providers]
        if name in methods:
            self.providers.pop(methods.index(name))

    def get_provider(self, name):
        return self.providers[self._offset(name)]

    def load_credentials(self):
        for provider in self.providers:
            _log.debug(_log.CREDENTIALS, "Looking for credentials via: %s", provider.METHOD)
            creds = provider.load()
            if creds is not None:
                return creds
        return None


def _imds_config(session):
    """The instance metadata settings botocore reads when it builds the chain, validated in
    its order (so a bad value fails even when the environment holds the credentials)."""
    get = session._get_config_variable
    timeout = get("metadata_service_timeout")
    num_attempts = get("metadata_service_num_attempts")
    endpoint = get("ec2_metadata_service_endpoint")
    mode = get("ec2_metadata_service_endpoint_mode")
    if mode is not None:
        lowered = mode.lower()
        if lowered not in ("ipv4", "ipv6"):
            from .. import exceptions

            raise exceptions.InvalidIMDSEndpointModeError(mode=mode, valid_modes=("ipv4", "ipv6"))
        mode = lowered
    elif get("imds_use_ipv6"):
        mode = "ipv6"
    else:
        mode = "ipv4"
    v1_disabled = get("ec2_metadata_v1_disabled")
    if endpoint:
        if not _valid_endpoint_url(endpoint):
            from .. import exceptions

            raise exceptions.InvalidIMDSEndpointError(endpoint=endpoint)
    return {
        "timeout": timeout,
        "num_attempts": num_attempts,
        "ec2_metadata_service_endpoint": endpoint,
        "ec2_metadata_service_endpoint_mode": mode,
        "ec2_credential_refresh_window": _DEFAULT_ADVISORY_REFRESH_TIMEOUT,
        "ec2_metadata_v1_disabled": v1_disabled,
    }
