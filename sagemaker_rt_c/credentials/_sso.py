"""IAM Identity Center (SSO): the token cache ``aws sso login`` writes, its refresh, the portal.

Mirrors botocore 1.43: ``JSONFileCache`` and ``SSOTokenLoader`` (``botocore/utils.py``),
``SSOTokenProvider`` and ``DeferredRefreshableToken`` (``botocore/tokens.py``), and the two
calls the chain makes, SSO portal ``GetRoleCredentials`` and SSO OIDC ``CreateToken``, both
unsigned, through ``_nested`` (endpoints, retries, errors as the session's botocore clients).

The token of an ``sso_session`` profile lives in ``~/.aws/sso/cache/<sha1(session name)>.json``
(legacy ``sso_start_url`` profiles: ``<sha1(start url)>.json``). An ``sso_session`` token with
less than 15 minutes left is refreshed with its refresh token (CreateToken) and the cache file
is rewritten, atomically (a temporary file in the same directory, fsync, rename), as botocore
does; that is the only file the credential chain ever writes. A legacy token past its expiry
raises ``UnauthorizedSSOTokenError`` without calling the portal.
"""

import os

from .. import _log
from ..config import UNSIGNED, Config
from ._nested import _MODELED_ERRORS, NestedClient, resolve, response_metadata, validate_params
from ._refreshable import _parse_timestamp

__all__ = [
    "JSONFileCache",
    "SSOTokenLoader",
    "SSOTokenProvider",
    "DeferredRefreshableToken",
    "FrozenAuthToken",
    "SSOClient",
    "OIDCClient",
    "default_token_cache",
]


def _utc_now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def _token_cache_dir():
    return os.path.expanduser(os.path.join("~", ".aws", "sso", "cache"))


def _serialize_utc_timestamp(obj):
    from datetime import datetime

    if isinstance(obj, datetime):
        return obj.strftime("%Y-%m-%dT%H:%M:%SZ")
    return obj


def _sso_json_dumps(obj):
    import json

    return json.dumps(obj, default=_serialize_utc_timestamp)


class JSONFileCache:
    """A directory of JSON files used as a dict (botocore's class, same file format)."""

    def __init__(self, working_dir, dumps_func=None):
        self._working_dir = working_dir
        self._dumps = self._default_dumps if dumps_func is None else dumps_func

    def _default_dumps(self, obj):
        import json

        return json.dumps(obj, default=self._serialize_if_needed)

    def __contains__(self, cache_key):
        return os.path.isfile(self._convert_cache_key(cache_key))

    def __getitem__(self, cache_key):
        import json

        try:
            with open(self._convert_cache_key(cache_key)) as f:
                return json.load(f)
        except (OSError, ValueError):
            raise KeyError(cache_key) from None

    def __delitem__(self, cache_key):
        try:
            os.unlink(self._convert_cache_key(cache_key))
        except FileNotFoundError:
            raise KeyError(cache_key) from None

    def __setitem__(self, cache_key, value):
        import tempfile

        full_key = self._convert_cache_key(cache_key)
        try:
            file_content = self._dumps(value)
        except (TypeError, ValueError):
            raise ValueError("Value cannot be cached, must be JSON serializable") from None
        if not os.path.isdir(self._working_dir):
            os.makedirs(self._working_dir, exist_ok=True)
        # mkstemp: mode 0600, in the same directory so the rename is atomic.
        temp_fd, temp_path = tempfile.mkstemp(dir=self._working_dir, suffix=".tmp")
        with os.fdopen(temp_fd, "w") as f:
            f.write(file_content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp_path, full_key)

    def _convert_cache_key(self, cache_key):
        return os.path.join(self._working_dir, cache_key + ".json")

    def _serialize_if_needed(self, value, iso=False):
        from datetime import datetime

        if isinstance(value, datetime):
            if iso:
                return value.isoformat()
            return value.strftime("%Y-%m-%dT%H:%M:%S%Z")
        return value

    def __repr__(self):
        return f"JSONFileCache({self._working_dir!r})"


def default_token_cache(dumps_func=None):
    return JSONFileCache(_token_cache_dir(), dumps_func=dumps_func)


class SSOTokenLoader:
    def __init__(self, cache=None):
        self._cache = {} if cache is None else cache

    def _generate_cache_key(self, start_url, session_name):
        import hashlib

        input_str = start_url if session_name is None else session_name
        return hashlib.sha1(input_str.encode("utf-8")).hexdigest()

    def save_token(self, start_url, token, session_name=None):
        self._cache[self._generate_cache_key(start_url, session_name)] = token

    def __call__(self, start_url, session_name=None):
        from ..exceptions import SSOTokenLoadError

        cache_key = self._generate_cache_key(start_url, session_name)
        if cache_key not in self._cache:
            name = start_url if session_name is None else session_name
            raise SSOTokenLoadError(error_msg=f"Token for {name} does not exist")
        token = self._cache[cache_key]
        if "accessToken" not in token or "expiresAt" not in token:
            raise SSOTokenLoadError(error_msg=f"Token for {start_url} is invalid")
        return token


class FrozenAuthToken(tuple):
    """``(token, expiration)``, as botocore's NamedTuple; the repr hides the token."""

    __slots__ = ()

    def __new__(cls, token, expiration=None):
        return tuple.__new__(cls, (token, expiration))

    @property
    def token(self):
        return self[0]

    @property
    def expiration(self):
        return self[1]

    def __repr__(self):
        return f"FrozenAuthToken(token=<hidden>, expiration={self[1]!r})"


class DeferredRefreshableToken:
    """A bearer token refreshed 15 minutes before it expires (10: everyone waits), at most
    once a minute."""

    _advisory_refresh_timeout = 15 * 60
    _mandatory_refresh_timeout = 10 * 60
    _attempt_timeout = 60

    def __init__(self, method, refresh_using, time_fetcher=_utc_now):
        import _thread

        self._time_fetcher = time_fetcher
        self._refresh_using = refresh_using
        self.method = method
        self._refresh_lock = _thread.allocate_lock()
        self._frozen_token = None
        self._next_refresh = None

    def get_frozen_token(self):
        self._refresh()
        return self._frozen_token

    def _refresh(self):
        refresh_type = self._should_refresh()
        if not refresh_type:
            return
        block_for_refresh = refresh_type == "mandatory"
        if self._refresh_lock.acquire(block_for_refresh):
            try:
                self._protected_refresh()
            finally:
                self._refresh_lock.release()

    def _protected_refresh(self):
        from datetime import timedelta

        refresh_type = self._should_refresh()
        if not refresh_type:
            return
        try:
            now = self._time_fetcher()
            self._next_refresh = now + timedelta(seconds=self._attempt_timeout)
            self._frozen_token = self._refresh_using()
        except Exception:
            _log.warning(
                _log.TOKENS,
                "Refreshing token failed during the %s refresh period.",
                refresh_type,
                exc_info=True,
            )
            if refresh_type == "mandatory":
                raise
        if self._is_expired():
            from ..exceptions import TokenRetrievalError

            raise TokenRetrievalError(
                provider=self.method, error_msg="Token has expired and refresh failed"
            )

    def _is_expired(self):
        if self._frozen_token is None:
            return False
        expiration = self._frozen_token.expiration
        return (expiration - self._time_fetcher()).total_seconds() <= 0

    def _should_refresh(self):
        if self._frozen_token is None:
            return "mandatory"
        expiration = self._frozen_token.expiration
        if expiration is None:
            return None
        now = self._time_fetcher()
        if now < self._next_refresh:
            return None
        remaining = (expiration - now).total_seconds()
        if remaining < self._mandatory_refresh_timeout:
            return "mandatory"
        if remaining < self._advisory_refresh_timeout:
            return "advisory"
        return None


class SSOTokenProvider:
    """The cached token of the profile's ``sso_session``, refreshed when it nears expiry."""

    METHOD = "sso"
    _REFRESH_WINDOW = 15 * 60
    _SSO_CONFIG_VARS = ["sso_start_url", "sso_region"]
    _GRANT_TYPE = "refresh_token"

    def __init__(self, session, cache=None, time_fetcher=_utc_now, profile_name=None):
        self._session = session
        if cache is None:
            cache = default_token_cache(dumps_func=_sso_json_dumps)
        self._now = time_fetcher
        self._cache = cache
        self._token_loader = SSOTokenLoader(cache=self._cache)
        self._profile_name = (
            profile_name or self._session._get_config_variable("profile") or "default"
        )
        self._sso_config_cache = ()
        self._client_cache = None

    def _load_sso_config(self):
        from ..exceptions import InvalidConfigError

        loaded_config = self._session._full_config()
        profiles = loaded_config.get("profiles", {})
        sso_sessions = loaded_config.get("sso_sessions", {})
        profile_config = profiles.get(self._profile_name, {})
        if "sso_session" not in profile_config:
            return None
        sso_session_name = profile_config["sso_session"]
        sso_config = sso_sessions.get(sso_session_name, None)
        if not sso_config:
            raise InvalidConfigError(
                error_msg=(
                    f'The profile "{self._profile_name}" is configured to use the SSO token '
                    f'provider but the "{sso_session_name}" sso_session configuration does '
                    "not exist."
                )
            )
        missing_configs = [var for var in self._SSO_CONFIG_VARS if var not in sso_config]
        if missing_configs:
            raise InvalidConfigError(
                error_msg=(
                    f'The profile "{self._profile_name}" is configured to use the SSO token '
                    f"provider but is missing the following configuration: {missing_configs}."
                )
            )
        return {
            "session_name": sso_session_name,
            "sso_region": sso_config["sso_region"],
            "sso_start_url": sso_config["sso_start_url"],
        }

    @property
    def _sso_config(self):
        if self._sso_config_cache == ():
            self._sso_config_cache = self._load_sso_config()
        return self._sso_config_cache

    @property
    def _client(self):
        if self._client_cache is None:
            config = Config(region_name=self._sso_config["sso_region"], signature_version=UNSIGNED)
            self._client_cache = OIDCClient(resolve(self._session, "sso-oidc", config=config))
        return self._client_cache

    def _attempt_create_token(self, token):
        from datetime import timedelta

        response = self._client.create_token(
            grantType=self._GRANT_TYPE,
            clientId=token["clientId"],
            clientSecret=token["clientSecret"],
            refreshToken=token["refreshToken"],
        )
        new_token = {
            "startUrl": self._sso_config["sso_start_url"],
            "region": self._sso_config["sso_region"],
            "accessToken": response["accessToken"],
            "expiresAt": self._now() + timedelta(seconds=response["expiresIn"]),
            "clientId": token["clientId"],
            "clientSecret": token["clientSecret"],
            "registrationExpiresAt": token["registrationExpiresAt"],
        }
        if "refreshToken" in response:
            new_token["refreshToken"] = response["refreshToken"]
        return new_token

    def _refresh_access_token(self, token):
        from ..exceptions import ClientError

        keys = ("refreshToken", "clientId", "clientSecret", "registrationExpiresAt")
        if any(k not in token for k in keys):
            return None
        expiry = _parse_timestamp(token["registrationExpiresAt"])
        if (expiry - self._now()).total_seconds() <= 0:
            return None
        try:
            return self._attempt_create_token(token)
        except ClientError:
            # botocore keeps the cached token when the refresh is refused.
            _log.warning(_log.TOKENS, "SSO token refresh attempt failed", exc_info=True)
            return None

    def _refresher(self):
        start_url = self._sso_config["sso_start_url"]
        session_name = self._sso_config["session_name"]
        token_dict = self._token_loader(start_url, session_name=session_name)
        expiration = _parse_timestamp(token_dict["expiresAt"])
        if (expiration - self._now()).total_seconds() < self._REFRESH_WINDOW:
            new_token_dict = self._refresh_access_token(token_dict)
            if new_token_dict is not None:
                token_dict = new_token_dict
                expiration = token_dict["expiresAt"]
                self._token_loader.save_token(start_url, token_dict, session_name=session_name)
        return FrozenAuthToken(token_dict["accessToken"], expiration=expiration)

    def load_token(self, **kwargs):
        if self._sso_config is None:
            return None
        return DeferredRefreshableToken(self.METHOD, self._refresher, time_fetcher=self._now)


# --- the two services ---------------------------------------------------------------------------

_GET_ROLE_CREDENTIALS = (
    ("roleName", "string", None),
    ("accountId", "string", None),
    ("accessToken", "string", None),
)
_CREATE_TOKEN = (
    ("clientId", "string", None),
    ("clientSecret", "string", None),
    ("grantType", "string", None),
    ("deviceCode", "string", None),
    ("code", "string", None),
    ("refreshToken", "string", None),
    ("redirectUri", "string", None),
    ("codeVerifier", "string", None),
)
# Modeled error members botocore copies into the error response.
_ERROR_MEMBERS = {
    "sso": ("message",),
    "sso-oidc": ("error", "reason", "error_description"),
}


def _rest_json_error(service_name):
    def parse(response):
        import json

        from .._protocol.errors import parse_error_response  # lazy: only error responses

        parsed = parse_error_response(response.status, response.headers, response.body)
        code = parsed.get("Error", {}).get("Code")
        if isinstance(code, str) and code in _MODELED_ERRORS[service_name]:
            try:
                values = json.loads(response.body.decode("utf-8"))
            except ValueError:
                values = {}
            if isinstance(values, dict):
                for member in _ERROR_MEMBERS[service_name]:
                    if values.get(member) is not None:
                        parsed[member] = values[member]
        return parsed

    return parse


def _json_body(response):
    """botocore's BaseJSONParser._parse_body_as_json: a body that is not JSON parses as
    ``{"message": <text>}`` (so the operation's members are simply missing)."""
    import json

    if not response.body:
        return {}
    text = response.body.decode("utf-8")
    try:
        return json.loads(text)
    except ValueError:
        return {"message": text}


def _join(url, path):
    # botocore's _urljoin: the endpoint's own path, then the operation's.
    scheme, sep, rest = url.partition("://")
    host, slash, base = rest.partition("/")
    base = ("/" + base).rstrip("/") if slash else ""
    return f"{scheme}{sep}{host}{base}{path}"


class SSOClient(NestedClient):
    """The SSO portal's GetRoleCredentials (unsigned; the bearer token is a header)."""

    def get_role_credentials(self, **params):
        from urllib.parse import quote

        validate_params(params, _GET_ROLE_CREDENTIALS, ("roleName", "accountId", "accessToken"))
        query = "&".join(
            f"{name}={quote(params[key].encode('utf-8'), safe='-._~')}"
            for key, name in (("roleName", "role_name"), ("accountId", "account_id"))
        )

        def build(url):
            headers = [("x-amz-sso_bearer_token", params["accessToken"])]
            return "GET", _join(url, "/federation/credentials") + "?" + query, headers, None

        response = self._call("GetRoleCredentials", build, _rest_json_error("sso"))
        # botocore's RestJSONParser on the output shape: members present and not null, the
        # strings as they are, ``expiration`` (a long) through int() (so "abc" raises
        # ValueError, [1] TypeError); a member that is not an object fails on .get.
        body = _json_body(response)
        result = {}
        creds = body.get("roleCredentials")
        if creds is not None:
            parsed = {}
            for name in ("accessKeyId", "secretAccessKey", "sessionToken", "expiration"):
                value = creds.get(name)
                if value is not None:
                    parsed[name] = int(value) if name == "expiration" else value
            result["roleCredentials"] = parsed
        result["ResponseMetadata"] = response_metadata(response)
        return result


class OIDCClient(NestedClient):
    """SSO OIDC's CreateToken (unsigned), used to refresh an sso_session token."""

    def create_token(self, **params):
        import json

        validate_params(params, _CREATE_TOKEN, ("clientId", "clientSecret", "grantType"))
        body = json.dumps(params).encode("utf-8")

        def build(url):
            return "POST", _join(url, "/token"), [("Content-Type", "application/json")], body

        response = self._call("CreateToken", build, _rest_json_error("sso-oidc"))
        # botocore's RestJSONParser: ``expiresIn`` (an integer) through int().
        body = _json_body(response)
        result = {}
        for name in ("accessToken", "tokenType", "expiresIn", "refreshToken", "idToken"):
            value = body.get(name)
            if value is not None:
                result[name] = int(value) if name == "expiresIn" else value
        result["ResponseMetadata"] = response_metadata(response)
        return result
