"""Refreshable credentials, and the expiry times they read as botocore reads them.

``RefreshableCredentials`` and ``DeferredRefreshableCredentials`` mirror botocore's classes
(same constructors, attributes, refresh windows and locking). Expiry times are parsed as
``dateutil.parser.parse`` parses them (``_parse_timestamp``; dateutil itself only for unusual
forms, and only when it is installed) and STS's as botocore's response parser does
(``_parse_api_timestamp``).
"""

import _thread

from .. import _log
from ._base import (
    _DEFAULT_ADVISORY_REFRESH_TIMEOUT,
    _DEFAULT_MANDATORY_REFRESH_TIMEOUT,
    _PUBLIC_MODULE,
    Credentials,
    ReadOnlyCredentials,
    _ensure_unicode,
    _mask,
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

    __module__ = _PUBLIC_MODULE

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

    __module__ = _PUBLIC_MODULE

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
            from .. import exceptions

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

    __module__ = _PUBLIC_MODULE

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
