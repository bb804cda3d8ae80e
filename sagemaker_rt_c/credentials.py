"""Credentials, refreshable credentials, the shared-file reader and the credential chain.

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
botocore; AWS_PROFILE does not. The providers after ``env`` live in ``_providers`` and their
network and process code in ``_sts``, ``_sso``, ``_imds``, ``_container`` and ``_process``:
none of them is imported, and nothing is read, run or connected to, while the environment (or
an explicit key pair) supplies the credentials. They are importable from here by name
(``sagemaker_rt_c.credentials.AssumeRoleProvider``).

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

import _thread
import os
import sys
import time

from . import _log

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


# --- time ---------------------------------------------------------------------------------------


def _local_now():
    """The current time, timezone-aware (botocore uses tzlocal(); the instant is the same)."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


class ParserError(ValueError):
    """``dateutil.parser.ParserError``'s stand-in when dateutil is not installed.

    A ValueError subclass with dateutil's name and message format (``args[0] % args[1:]``).
    With dateutil installed, dateutil's own class is raised instead (see ``_parse_timestamp``).
    """

    def __str__(self):
        try:
            return self.args[0] % self.args[1:]
        except (TypeError, IndexError):
            return super().__str__()

    def __repr__(self):
        args = ", ".join(f"'{arg}'" for arg in self.args)
        return f"{type(self).__name__}({args})"


def _fast_iso(text):
    """``YYYY-MM-DD[T ]HH:MM:SS[.ffffff][Z|+HH:MM|-HH:MM]`` (the timestamps AWS and its tools
    write) as a datetime, or None for anything else (and for impossible dates: the slow path
    then raises the parser's error). For these strings dateutil's ``parse`` gives the same
    instant (UTC for ``Z`` and zero offsets, naive without a zone)."""
    from datetime import datetime, timedelta, timezone

    n = len(text)
    if n < 19 or not text.isascii():
        return None
    if (
        text[4] != "-"
        or text[7] != "-"
        or text[10] not in "T "
        or text[13] != ":"
        or text[16] != ":"
    ):
        return None
    fields = (text[0:4], text[5:7], text[8:10], text[11:13], text[14:16], text[17:19])
    if not all(f.isdigit() for f in fields) or fields[0][0] == "0":
        return None
    i = 19
    micro = 0
    if i < n and text[i] == ".":
        j = i + 1
        while j < n and text[j].isdigit():
            j += 1
        fraction = text[i + 1 : j]
        if not 1 <= len(fraction) <= 6:
            return None
        micro = int(fraction.ljust(6, "0"))
        i = j
    zone = text[i:]
    if zone == "":
        tz = None
    elif zone == "Z":
        tz = timezone.utc
    elif (
        len(zone) == 6
        and zone[0] in "+-"
        and zone[3] == ":"
        and zone[1:3].isdigit()
        and zone[4:6].isdigit()
    ):
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            return None
        offset = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-offset if zone[0] == "-" else offset) if offset else timezone.utc
    else:
        return None
    try:
        return datetime(*(int(f) for f in fields), micro, tzinfo=tz)
    except ValueError:
        return None


def _parse_timestamp(value):
    """``dateutil.parser.parse(value)``, as botocore calls it for expiry times.

    The usual ISO 8601 forms are parsed here; anything else goes to dateutil when it is
    importable (imported then, never before), so values and errors are dateutil's: its
    ``ParserError`` (a ValueError) for a string it cannot read, TypeError for a non-string
    (a datetime too), OverflowError for absurd numbers. Without dateutil, ``_fallback_parse``
    reads the other common forms and raises this module's ``ParserError`` with dateutil's
    messages for the usual failures.
    """
    if isinstance(value, str):
        parsed = _fast_iso(value)
        if parsed is not None:
            return parsed
    return _slow_parse(value)


def _parse_if_needed(value):
    """botocore's ``_parse_if_needed``: a datetime as is, anything else parsed."""
    from datetime import datetime

    if isinstance(value, datetime):
        return value
    return _parse_timestamp(value)


def _slow_parse(value, gmt_is_utc=False):
    try:
        from dateutil.parser import parse
    except ImportError:
        return _fallback_parse(value)
    if gmt_is_utc:
        from dateutil.tz import tzutc

        return parse(value, tzinfos={"GMT": tzutc()})
    return parse(value)


def _fallback_parse(value):
    """Without dateutil: ISO 8601 (also with a ``UTC``/``GMT`` suffix, ``t`` or ``z``) and
    RFC 2822 dates; dateutil's messages for an empty string, an impossible date and the rest
    (it reads more forms than this, e.g. ``May 1 2030``, which raise ParserError here)."""
    from datetime import datetime, timezone

    if isinstance(value, (bytes, bytearray)):
        value = value.decode()
    if not isinstance(value, str):
        raise TypeError(f"Parser must be a string or character stream, not {type(value).__name__}")
    text = value.strip()
    if not any(c.isalnum() for c in text):
        raise ParserError("String does not contain a date: %s", value)
    body = text
    zone = None
    upper = body.upper()
    for suffix in ("UTC", "GMT", "Z"):
        if upper.endswith(suffix):
            body = body[: -len(suffix)].rstrip()
            zone = timezone.utc
            break
    if len(body) > 10 and body[10] in " tT":
        body = body[:10] + "T" + body[11:]
    strict = _fast_iso(body if zone is None else body + "Z")
    if strict is not None:
        return strict
    fields = (body[0:4], body[5:7], body[8:10], body[11:13], body[14:16], body[17:19])
    if (
        len(body) >= 19
        and body.isascii()
        and (body[4], body[7], body[10], body[13], body[16]) == ("-", "-", "T", ":", ":")
        and all(f.isdigit() for f in fields)
    ):
        # The shape of a date and time whose fields are out of range: dateutil's message
        # (datetime's, then ": <value>").
        try:
            datetime(*(int(f) for f in fields))
        except ValueError as e:
            raise ParserError(str(e) + ": %s", value) from None
    try:
        parsed = datetime.fromisoformat(body)
        if zone is not None:
            if parsed.tzinfo is not None:
                raise ValueError(text)
            parsed = parsed.replace(tzinfo=zone)
        return parsed
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ParserError("Unknown string format: %s", value) from None


def _parse_api_timestamp(value):
    """``botocore.utils.parse_timestamp``: how botocore's response parsers read a timestamp
    (STS's ``Expiration``). A number or numeric string is epoch seconds; anything else goes
    through ``dateutil.parser.parse`` (``GMT`` is UTC) and its errors become
    ``ValueError('Invalid timestamp "<value>": <reason>')``; epoch values out of the
    platform's range raise RuntimeError. Epoch results are in UTC (botocore: local time; the
    same instant).
    """
    from datetime import datetime, timedelta, timezone

    try:
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, timezone.utc)
        try:
            return datetime.fromtimestamp(float(value), timezone.utc)
        except (TypeError, ValueError):
            pass
        try:
            parsed = _fast_iso(value) if isinstance(value, str) else None
            return parsed if parsed is not None else _slow_parse(value, gmt_is_utc=True)
        except (TypeError, ValueError) as e:
            raise ValueError(f'Invalid timestamp "{value}": {e}') from None
    except (OSError, OverflowError):
        pass
    try:
        numeric = float(value)
    except (TypeError, ValueError):
        pass
    else:
        try:
            return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=numeric)
        except (OSError, OverflowError):
            pass
    raise RuntimeError(f'Unable to calculate correct timezone offset for "{value}"')


def _total_seconds(delta):
    return delta.total_seconds()


class RefreshableCredentials(Credentials):
    """Temporary credentials that refresh themselves, as botocore's class of the same name.

    ``refresh_using()`` returns a dict with ``access_key``, ``secret_key``, ``token``,
    ``expiry_time`` (a string ``dateutil.parser.parse`` reads, as in botocore; see
    ``_parse_timestamp``) and optionally ``account_id``.
    ``get_frozen_credentials()`` returns a consistent snapshot and refreshes first when needed:

    * less than ``advisory_timeout`` (15 min) left: one caller refreshes; the others keep
      using the current credentials meanwhile, and a failed refresh keeps them too (logged);
    * less than ``mandatory_timeout`` (10 min) left: every caller waits for the refresh, and
      its error is raised.

    ``_expiry_time`` is a timezone-aware datetime (``None``: never refreshed). As in botocore
    1.44, a refresh publishes the new frozen credentials and the new expiry together: one that
    fails part-way (an expiry that does not parse, a key that is not UTF-8) raises, and leaves
    both as they were.
    """

    _advisory_refresh_timeout = _DEFAULT_ADVISORY_REFRESH_TIMEOUT
    _mandatory_refresh_timeout = _DEFAULT_MANDATORY_REFRESH_TIMEOUT

    def __init__(
        self,
        access_key,
        secret_key,
        token,
        expiry_time,
        refresh_using,
        method,
        time_fetcher=_local_now,
        advisory_timeout=None,
        mandatory_timeout=None,
        account_id=None,
    ):
        self._refresh_using = refresh_using
        self._access_key = access_key
        self._secret_key = secret_key
        self._token = token
        self._account_id = account_id
        self._expiry_time = expiry_time
        self._staged_expiry_time = None
        self._time_fetcher = time_fetcher
        self._refresh_lock = _thread.allocate_lock()
        self.method = method
        self._frozen_credentials = ReadOnlyCredentials(access_key, secret_key, token, account_id)
        self._normalize()
        if advisory_timeout is not None:
            self._advisory_refresh_timeout = advisory_timeout
        if mandatory_timeout is not None:
            self._mandatory_refresh_timeout = mandatory_timeout

    def _normalize(self):
        self._access_key = _ensure_unicode(self._access_key)
        self._secret_key = _ensure_unicode(self._secret_key)

    @classmethod
    def create_from_metadata(
        cls, metadata, refresh_using, method, advisory_timeout=None, mandatory_timeout=None
    ):
        kwargs = {}
        if advisory_timeout is not None:
            kwargs["advisory_timeout"] = advisory_timeout
        if mandatory_timeout is not None:
            kwargs["mandatory_timeout"] = mandatory_timeout
        return cls(
            access_key=metadata["access_key"],
            secret_key=metadata["secret_key"],
            token=metadata["token"],
            expiry_time=cls._expiry_datetime(metadata["expiry_time"]),
            method=method,
            refresh_using=refresh_using,
            account_id=metadata.get("account_id"),
            **kwargs,
        )

    # The properties refresh first, as botocore's do; prefer get_frozen_credentials(), which
    # cannot mix the key of one generation with the secret of the next.
    @property
    def access_key(self):
        self._refresh()
        return self._access_key

    @access_key.setter
    def access_key(self, value):
        self._access_key = value

    @property
    def secret_key(self):
        self._refresh()
        return self._secret_key

    @secret_key.setter
    def secret_key(self, value):
        self._secret_key = value

    @property
    def token(self):
        self._refresh()
        return self._token

    @token.setter
    def token(self, value):
        self._token = value

    @property
    def account_id(self):
        self._refresh()
        return self._account_id

    @account_id.setter
    def account_id(self, value):
        self._account_id = value

    def _seconds_remaining(self):
        return _total_seconds(self._expiry_time - self._time_fetcher())

    def refresh_needed(self, refresh_in=None):
        """Whether fewer than ``refresh_in`` seconds (default: the advisory window) are left."""
        if self._expiry_time is None:
            return False
        if refresh_in is None:
            refresh_in = self._advisory_refresh_timeout
        if self._seconds_remaining() >= refresh_in:
            return False
        _log.debug(_log.CREDENTIALS, "Credentials need to be refreshed.")
        return True

    def _is_expired(self):
        return self.refresh_needed(refresh_in=0)

    def _refresh(self):
        if not self.refresh_needed(self._advisory_refresh_timeout):
            return
        # Advisory window: whoever gets the lock refreshes, the others go on with the current
        # credentials. Mandatory window: everyone waits for the lock.
        if self._refresh_lock.acquire(False):
            try:
                if not self.refresh_needed(self._advisory_refresh_timeout):
                    return
                is_mandatory = self.refresh_needed(self._mandatory_refresh_timeout)
                self._protected_refresh(is_mandatory=is_mandatory)
                return
            finally:
                self._refresh_lock.release()
        elif self.refresh_needed(self._mandatory_refresh_timeout):
            with self._refresh_lock:
                if not self.refresh_needed(self._mandatory_refresh_timeout):
                    return
                self._protected_refresh(is_mandatory=True)

    def _protected_refresh(self, is_mandatory):
        # The caller holds self._refresh_lock.
        try:
            metadata = self._refresh_using()
        except Exception:
            period_name = "mandatory" if is_mandatory else "advisory"
            _log.warning(
                _log.CREDENTIALS,
                "Refreshing temporary credentials failed during %s refresh period.",
                period_name,
                exc_info=True,
            )
            if is_mandatory:
                raise
            return
        # botocore 1.44: the new expiry is staged and published with the new frozen
        # credentials; a refresh that fails part-way (an expiry that does not parse ...)
        # leaves the frozen credentials and the expiry as they were, so the next use tries
        # again instead of trusting the old keys until the new expiry.
        try:
            self._set_from_data(metadata)
            self._publish_refresh()
        finally:
            self._staged_expiry_time = None
        if self._is_expired():
            msg = "Credentials were refreshed, but the refreshed credentials are still expired."
            _log.warning(_log.CREDENTIALS, msg)
            raise RuntimeError(msg)

    @staticmethod
    def _expiry_datetime(time_str):
        return _parse_timestamp(time_str)

    def _set_from_data(self, data):
        expected_keys = ["access_key", "secret_key", "token", "expiry_time"]
        if not data:
            missing_keys = expected_keys
        else:
            missing_keys = [k for k in expected_keys if k not in data]
        if missing_keys:
            from . import exceptions

            raise exceptions.CredentialRetrievalError(
                provider=self.method,
                error_msg="Credential refresh failed, response did not contain: "
                + ", ".join(missing_keys),
            )
        # botocore's order: the attributes (the unlocked properties read them), then the
        # staged expiry, then the key text.
        self.access_key = data["access_key"]
        self.secret_key = data["secret_key"]
        self.token = data["token"]
        self._staged_expiry_time = _parse_timestamp(data["expiry_time"])
        self.account_id = data.get("account_id")
        _log.debug(
            _log.CREDENTIALS, "Retrieved credentials will expire at: %s", self._staged_expiry_time
        )
        self._normalize()

    def _publish_refresh(self):
        self._frozen_credentials = ReadOnlyCredentials(
            self._access_key, self._secret_key, self._token, self._account_id
        )
        if self._staged_expiry_time is not None:
            self._expiry_time = self._staged_expiry_time

    def get_frozen_credentials(self):
        """A ``ReadOnlyCredentials`` snapshot, refreshed first if needed (use it, then drop it)."""
        self._refresh()
        return self._frozen_credentials

    def __repr__(self):
        # Reads the stored values: a repr must not trigger a refresh.
        token = "<hidden>" if self._token is not None else None
        return (
            f"{type(self).__name__}(access_key={_mask(self._access_key)!r}, "
            f"secret_key=<hidden>, token={token}, method={self.method!r}, "
            f"expiry_time={self._expiry_time!r})"
        )


class DeferredRefreshableCredentials(RefreshableCredentials):
    """Refreshable credentials with nothing in them until first used (then refreshed)."""

    def __init__(self, refresh_using, method, time_fetcher=_local_now):
        self._refresh_using = refresh_using
        self._access_key = None
        self._secret_key = None
        self._token = None
        self._account_id = None
        self._expiry_time = None
        self._staged_expiry_time = None
        self._time_fetcher = time_fetcher
        self._refresh_lock = _thread.allocate_lock()
        self.method = method
        self._frozen_credentials = None

    def refresh_needed(self, refresh_in=None):
        if self._frozen_credentials is None:
            return True
        return super().refresh_needed(refresh_in)


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
                from . import exceptions

                raise exceptions.PartialCredentialsError(
                    provider=self.METHOD, cred_var=key_name
                ) from None
        return found


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
            from . import exceptions

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
            _log.info(
                _log.CREDENTIALS,
                "Found credentials in shared credentials file: %s",
                self._creds_filename,
            )
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
                _log.info(
                    _log.CREDENTIALS, "Credentials found in config file: %s", self._config_filename
                )
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
            _log.debug(_log.CREDENTIALS, "Looking for credentials via: %s", provider.METHOD)
            creds = provider.load()
            if creds is not None:
                return creds
        return None


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
            from . import exceptions

            raise exceptions.InvalidIMDSEndpointModeError(mode=mode, valid_modes=("ipv4", "ipv6"))
        mode = lowered
    elif get("imds_use_ipv6"):
        mode = "ipv6"
    else:
        mode = "ipv4"
    v1_disabled = get("ec2_metadata_v1_disabled")
    if endpoint:
        from ._resolve import _valid_endpoint_url

        if not _valid_endpoint_url(endpoint):
            from . import exceptions

            raise exceptions.InvalidIMDSEndpointError(endpoint=endpoint)
    return {
        "timeout": timeout,
        "num_attempts": num_attempts,
        "ec2_metadata_service_endpoint": endpoint,
        "ec2_metadata_service_endpoint_mode": mode,
        "ec2_credential_refresh_window": _DEFAULT_ADVISORY_REFRESH_TIMEOUT,
        "ec2_metadata_v1_disabled": v1_disabled,
    }


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


_LAZY = (
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
)


def __getattr__(name):
    # The providers beyond env and the shared files load on first use.
    if name in _LAZY:
        from . import _providers

        return getattr(_providers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
