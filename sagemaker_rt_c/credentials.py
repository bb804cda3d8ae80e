"""Credentials, the shared config/credentials file reader, and the credential provider chain.

``Credentials`` and ``ReadOnlyCredentials`` mirror botocore's. Neither ``repr`` shows the secret
key or the session token (botocore's namedtuple shows both).

The chain (``create_credential_resolver``) follows botocore's order, with the providers this
package implements so far::

    env                       AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
                              AWS_SECURITY_TOKEN or AWS_SESSION_TOKEN / AWS_ACCOUNT_ID
    shared-credentials-file   [profile] in AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials)
    config-file               [profile x] / [default] in AWS_CONFIG_FILE (~/.aws/config)

botocore also tries, and a later version of this module will add at the same places in
``_chain_providers``: assume-role (after env), assume-role-with-web-identity and SSO (before
shared-credentials-file), login and custom-process (between shared-credentials-file and
config-file), then ec2-credentials-file, boto-config, container-role and iam-role (IMDS).
A profile given to the Session (``Session(profile_name=...)``) drops the env provider, as in
botocore; AWS_PROFILE does not.

The file reader is a faithful re-implementation of ``botocore.configloader`` (which uses
``configparser.RawConfigParser``) that imports neither ``configparser`` nor ``shlex`` for
ordinary files: same section and option syntax (``=`` or ``:``, first one wins), full-line
``#``/``;`` comments only, lower-cased option names, case-sensitive section names, the
``[DEFAULT]`` section's values inherited by every section, indented continuation lines, nested
``key = value`` sub-sections (``s3 =`` / ``services``), ``[profile x]`` vs ``[x]`` naming,
and botocore's errors (``ConfigParseError`` for anything configparser rejects, including
duplicate sections or options; its ``error`` is a message, not configparser's exception).
Parsed files are cached per process, keyed by path and ``stat`` (mtime, size, inode, ctime),
so a changed file is read again.
"""

import os
import sys
import time

__all__ = [
    "Credentials",
    "ReadOnlyCredentials",
    "CredentialProvider",
    "EnvProvider",
    "SharedCredentialProvider",
    "ConfigProvider",
    "CredentialResolver",
    "create_credential_resolver",
    "raw_config_parse",
    "load_config",
    "build_profile_map",
]


def _mask(value):
    if value is None:
        return None
    text = str(value)
    return "****" + text[-4:] if len(text) > 8 else "****"


class ReadOnlyCredentials(tuple):
    """``(access_key, secret_key, token, account_id)``, as botocore's namedtuple."""

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
    ``'shared-credentials-file'``, ``'config-file'``).
    """

    def __init__(self, access_key, secret_key, token=None, method=None, account_id=None):
        self.access_key = access_key
        self.secret_key = secret_key
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


# --- shared config / credentials files (botocore.configloader) -----------------------------

_FILE_CACHE = {}
_COMMENT_PREFIXES = ("#", ";")
_GREEDY_SECTION_HEADER = sys.version_info >= (3, 10)
_RACY_NS = 2_000_000_000


class _ConfigNotFound(Exception):
    """The file does not exist (botocore's ConfigNotFound, never seen by users)."""


def _parse_error(path, message):
    from . import exceptions

    return exceptions.ConfigParseError(path=path, error=message)


def _section_header(value):
    # configparser's SECTCRE with .match: since Python 3.10 r"\[(?P<header>.+)\]" (the last
    # "]" closes it), before r"\[(?P<header>[^]]+)\]" (the first one does).
    if value[0] != "[":
        return None
    end = value.rfind("]") if _GREEDY_SECTION_HEADER else value.find("]")
    return value[1:end] if end >= 2 else None


def _delimiter_index(value):
    # configparser's OPTCRE: the option ends at the first "=" or ":".
    eq = value.find("=")
    colon = value.find(":")
    if eq == -1:
        return colon
    if colon == -1:
        return eq
    return min(eq, colon)


def _parse_nested(config_value, path):
    parsed = {}
    for line in config_value.splitlines():
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise _parse_error(path, f"not enough values to unpack in line {line!r}")
        parsed[key.strip()] = value.strip()
    return parsed


def _parse_ini(text, path):
    """configparser.RawConfigParser(strict=True) semantics, then botocore's nested values."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    sections = {}
    defaults = {}
    seen_options = set()
    cursect = None
    sectname = None
    optname = None
    indent_level = 0
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith(_COMMENT_PREFIXES):
            continue
        if not stripped:
            if cursect is not None and optname:
                cursect[optname].append("")
            continue
        cur_indent = len(line) - len(line.lstrip())
        if cursect is not None and optname and cur_indent > indent_level:
            cursect[optname].append(stripped)
            continue
        indent_level = cur_indent
        header = _section_header(stripped)
        if header is not None:
            if header in sections:
                raise _parse_error(path, f"section {header!r} already exists (line {lineno})")
            if header == "DEFAULT":
                cursect = defaults
            else:
                cursect = sections[header] = {}
            sectname = header
            optname = None
            continue
        if cursect is None:
            raise _parse_error(path, f"file contains no section headers (line {lineno})")
        i = _delimiter_index(stripped)
        name = stripped[:i].rstrip() if i > 0 else ""
        if not name:
            raise _parse_error(path, f"source contains parsing errors (line {lineno})")
        optname = name.lower()
        if (sectname, optname) in seen_options:
            raise _parse_error(path, f"option {optname!r} already exists (line {lineno})")
        seen_options.add((sectname, optname))
        cursect[optname] = [stripped[i + 1 :].strip()]

    joined_defaults = {k: "\n".join(v).rstrip() for k, v in defaults.items()}
    config = {}
    for section, options in sections.items():
        values = {k: "\n".join(v).rstrip() for k, v in options.items()}
        for k, v in joined_defaults.items():
            values.setdefault(k, v)
        for k, v in values.items():
            if v.startswith("\n"):
                values[k] = _parse_nested(v, path)
        config[section] = values
    return config


def _expand(path):
    return os.path.expanduser(os.path.expandvars(path))


def _stat_key(path):
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if (st.st_mode & 0o170000) != 0o100000:  # not a regular file: os.path.isfile() is False
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev, st.st_ctime_ns)


def _load(path):
    """(raw sections, profile map) for an expanded path, from the per-process cache."""
    key = _stat_key(path)
    if key is None:
        _FILE_CACHE.pop(path, None)
        raise _ConfigNotFound(path)
    cached = _FILE_CACHE.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        with open(path) as fp:
            text = fp.read()
    except UnicodeDecodeError as e:
        raise _parse_error(path, str(e)) from None
    except OSError:
        # configparser skips files it cannot open or read.
        text = ""
    raw = _parse_ini(text, path)
    entry = [raw, None]
    # A file changed within the file system's timestamp granularity could change again
    # without a new stat key: cache only files that have been still for a while.
    if time.time_ns() - key[0] > _RACY_NS:
        _FILE_CACHE[path] = (key, entry)
    else:
        _FILE_CACHE.pop(path, None)
    return entry


def raw_config_parse(config_filename):
    """Every section of an INI file, as botocore's ``raw_config_parse`` (do not mutate).

    Returns None when the file does not exist (botocore raises ConfigNotFound).
    """
    if config_filename is None:
        return {}
    try:
        return _load(_expand(config_filename))[0]
    except _ConfigNotFound:
        return None


def load_config(config_filename):
    """botocore's ``load_config``: the profile map of a config file, None if it is missing."""
    if config_filename is None:
        return build_profile_map({})
    try:
        entry = _load(_expand(config_filename))
    except _ConfigNotFound:
        return None
    if entry[1] is None:
        entry[1] = build_profile_map(entry[0])
    return entry[1]


def _split_section_name(key):
    # shlex.split(key) as botocore does; plain names need no shlex (and no re).
    if '"' in key or "'" in key or "\\" in key:
        import shlex

        try:
            return shlex.split(key)
        except ValueError:
            return None
    for ch in "\t\r\n":
        key = key.replace(ch, " ")
    return [part for part in key.split(" ") if part]


def build_profile_map(parsed_ini_config):
    """botocore's ``build_profile_map``; the section dicts are shared with the input."""
    profiles = {}
    sso_sessions = {}
    services = {}
    final_config = {}
    for key, values in parsed_ini_config.items():
        if key.startswith("profile"):
            target = profiles
        elif key.startswith("sso-session"):
            target = sso_sessions
        elif key.startswith("services"):
            target = services
        elif key == "default":
            profiles[key] = values
            continue
        else:
            final_config[key] = values
            continue
        parts = _split_section_name(key)
        if parts is not None and len(parts) == 2:
            target[parts[1]] = values
    final_config["profiles"] = profiles
    final_config["sso_sessions"] = sso_sessions
    final_config["services"] = services
    return final_config


# --- providers --------------------------------------------------------------------------------


class CredentialProvider:
    """A source of credentials: ``load()`` returns ``Credentials`` or None."""

    METHOD = None
    CANONICAL_NAME = None

    def load(self):
        return True

    def _extract_creds_from_mapping(self, mapping, *key_names):
        found = []
        for key_name in key_names:
            try:
                found.append(mapping[key_name])
            except KeyError:
                from . import exceptions

                raise exceptions.PartialCredentialsError(
                    provider=self.METHOD, cred_var=key_name
                ) from None
        return found


class EnvProvider(CredentialProvider):
    """AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SECURITY_TOKEN or AWS_SESSION_TOKEN.

    AWS_CREDENTIAL_EXPIRATION is not honoured yet (botocore re-reads the variables when it
    passes); refreshable credentials come with the rest of the chain.
    """

    METHOD = "env"
    CANONICAL_NAME = "Environment"
    ACCESS_KEY = "AWS_ACCESS_KEY_ID"
    SECRET_KEY = "AWS_SECRET_ACCESS_KEY"
    TOKENS = ("AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN")
    ACCOUNT_ID = "AWS_ACCOUNT_ID"

    def __init__(self, environ=None):
        self.environ = os.environ if environ is None else environ

    def load(self):
        environ = self.environ
        access_key = environ.get(self.ACCESS_KEY, "")
        if not access_key:
            return None
        secret_key = environ.get(self.SECRET_KEY, "")
        if not secret_key:
            from . import exceptions

            raise exceptions.PartialCredentialsError(provider=self.METHOD, cred_var=self.SECRET_KEY)
        token = None
        for name in self.TOKENS:
            value = environ.get(name, "")
            if value:
                token = value
                break
        account_id = environ.get(self.ACCOUNT_ID, "") or None
        return Credentials(access_key, secret_key, token, method=self.METHOD, account_id=account_id)


_FILE_TOKENS = ("aws_security_token", "aws_session_token")


def _profile_credentials(provider, config):
    access_key, secret_key = provider._extract_creds_from_mapping(
        config, "aws_access_key_id", "aws_secret_access_key"
    )
    token = None
    for name in _FILE_TOKENS:
        if name in config:
            token = config[name]
            break
    return Credentials(
        access_key,
        secret_key,
        token,
        method=provider.METHOD,
        account_id=config.get("aws_account_id"),
    )


class SharedCredentialProvider(CredentialProvider):
    """The profile's section of the shared credentials file (section names as written)."""

    METHOD = "shared-credentials-file"
    CANONICAL_NAME = "SharedCredentials"

    def __init__(self, creds_filename, profile_name=None):
        self._creds_filename = creds_filename
        self._profile_name = "default" if profile_name is None else profile_name

    def load(self):
        available = raw_config_parse(self._creds_filename)
        if not available or self._profile_name not in available:
            return None
        config = available[self._profile_name]
        if "aws_access_key_id" in config:
            return _profile_credentials(self, config)
        return None


class ConfigProvider(CredentialProvider):
    """The profile's section of the config file (``[profile x]`` or ``[default]``)."""

    METHOD = "config-file"
    CANONICAL_NAME = "SharedConfig"

    def __init__(self, config_filename, profile_name):
        self._config_filename = config_filename
        self._profile_name = profile_name

    def load(self):
        full_config = load_config(self._config_filename)
        if full_config is None:
            return None
        profiles = full_config["profiles"]
        if self._profile_name in profiles:
            profile_config = profiles[self._profile_name]
            if "aws_access_key_id" in profile_config:
                return _profile_credentials(self, profile_config)
        return None


class CredentialResolver:
    """Tries each provider in order; the first ``Credentials`` found wins (else None)."""

    def __init__(self, providers):
        self.providers = providers

    def _offset(self, name):
        try:
            return [p.METHOD for p in self.providers].index(name)
        except ValueError:
            from . import exceptions

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
            creds = provider.load()
            if creds is not None:
                return creds
        return None


def _chain_providers(session, profile_name):
    # botocore's order; see the module docstring for where the other providers go.
    return [
        EnvProvider(),
        SharedCredentialProvider(
            session._get_config_variable("credentials_file"), profile_name=profile_name
        ),
        ConfigProvider(session._get_config_variable("config_file"), profile_name=profile_name),
    ]


def create_credential_resolver(session):
    """The default chain for a ``sagemaker_rt_c.session.Session``, as botocore builds it."""
    profile_name = session._get_config_variable("profile") or "default"
    providers = _chain_providers(session, profile_name)
    if session._instance_vars.get("profile") is not None:
        # An explicit Session profile skips the environment, as in botocore.
        providers = [p for p in providers if p.METHOD != "env"]
    return CredentialResolver(providers)
