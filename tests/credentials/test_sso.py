"""SSO (IAM Identity Center) credentials against botocore, in process.

Each scenario writes a config and an `aws sso login` token cache into a fresh home for each
side, points botocore's and our SSO portal / OIDC clients at the same kind of fake service,
and compares the outcome (credentials or exception), the requests sent (GetRoleCredentials
query and bearer token, CreateToken body) and the token cache file afterwards (a refresh
rewrites it; nothing else may).
"""

import datetime
import json
import os

import botocore.credentials
import botocore.session
import botocore.tokens
import pytest
from credfakes import FakeSSO, Reply, iso, sso_cache_file, utc_in, write, write_sso_token

from sagemaker_rt_c.credentials import _nested
from sagemaker_rt_c.session import Session

pytestmark = pytest.mark.differential

CONFIG = """
[profile sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Inference
region = us-west-2

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1

[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = eu-west-1
sso_account_id = 210987654321
sso_role_name = Legacy

[profile incomplete]
sso_session = corp
sso_role_name = Inference

[profile ghost-session]
sso_session = nowhere
sso_account_id = 1
sso_role_name = r

[profile inconsistent]
sso_session = corp
sso_start_url = https://other.awsapps.com/start
sso_account_id = 1
sso_role_name = r

[profile legacy-incomplete]
sso_start_url = https://legacy.awsapps.com/start
sso_account_id = 1
"""

REFRESHABLE = dict(
    refreshToken="refresh-1",
    clientId="client-1",
    clientSecret="client-secret-1",
    registrationExpiresAt=iso(utc_in(86400)),
    region="us-east-1",
    startUrl="https://corp.awsapps.com/start",
)
LEGACY = "https://legacy.awsapps.com/start"


def token(key, access, expires_in, **extra):
    def setup(home, now):
        expires = iso(now + datetime.timedelta(seconds=expires_in))
        write_sso_token(home, key, access, expires, **extra)

    return setup


def raw_token(key, expires_at):
    def setup(home, now):
        write_sso_token(home, key, "access-valid", expires_at)

    return setup


def portal(expiration):
    body = {
        "roleCredentials": {
            "accessKeyId": "ASIAODD",
            "secretAccessKey": "odd-secret",
            "sessionToken": "odd-token",
            "expiration": expiration,
        }
    }
    return Reply(200, [("Content-Type", "application/json")], json.dumps(body).encode())


def raw_cache(key, text):
    def setup(home, now):
        write(sso_cache_file(home, key), text)

    return setup


SCENARIOS = {
    "session-valid": ("sso", [token("corp", "access-valid", 3600)], []),
    "session-refreshed": ("sso", [token("corp", "access-old", 300, **REFRESHABLE)], []),
    "session-refresh-refused-keeps-token": (
        "sso",
        [token("corp", "access-valid", 600, **dict(REFRESHABLE, refreshToken="bad"))],
        [],
    ),
    "session-expired-refresh-refused": (
        "sso",
        [token("corp", "access-valid", -10, **dict(REFRESHABLE, refreshToken="bad"))],
        [],
    ),
    "session-registration-expired": (
        "sso",
        [
            token(
                "corp",
                "access-valid",
                300,
                **dict(REFRESHABLE, registrationExpiresAt=iso(utc_in(-1))),
            )
        ],
        [],
    ),
    "session-expired-no-refresh-data": ("sso", [token("corp", "access-valid", -10)], []),
    "session-not-logged-in": ("sso", [], []),
    "session-cache-not-json": ("sso", [raw_cache("corp", "{broken")], []),
    "session-cache-without-token": ("sso", [raw_cache("corp", '{"expiresAt": "x"}')], []),
    "session-token-revoked": ("sso", [token("corp", "access-revoked", 3600)], []),
    "portal-500": ("sso", [token("corp", "access-valid", 3600)], [Reply(500)] * 5),
    "portal-403-unmodeled": (
        "sso",
        [token("corp", "access-valid", 3600)],
        [
            Reply(
                403,
                [("x-amzn-ErrorType", "ForbiddenException")],
                b'{"message":"No access"}',
            )
        ],
    ),
    "portal-404-role-not-found": (
        "sso",
        [token("corp", "access-valid", 3600)],
        [
            Reply(
                404,
                [("x-amzn-ErrorType", "ResourceNotFoundException")],
                b'{"message":"No role Inference in account 123456789012"}',
            )
        ],
    ),
    "portal-malformed-json": (
        "sso",
        [token("corp", "access-valid", 3600)],
        [Reply(200, [("Content-Type", "application/json")], b'{"roleCredentials": {')],
    ),
    "portal-429-then-ok": (
        "sso",
        [token("corp", "access-valid", 3600)],
        [Reply(429, [("x-amzn-ErrorType", "TooManyRequestsException")], b'{"message":"slow"}')],
    ),
    # botocore's clients send text header values as UTF-8: this token reaches the portal.
    "session-token-not-latin-1": ("sso", [token("corp", "acc\u00e9s-\u2603", 3600)], []),
    "session-token-folded-line": ("sso", [token("corp", "access\r\n valid", 3600)], []),
    # Expiry dates: dateutil's errors (ParserError, a ValueError), naive dates, numbers.
    "session-expiry-unparseable": ("sso", [raw_token("corp", "soon")], []),
    "session-expiry-empty": ("sso", [raw_token("corp", "")], []),
    "session-expiry-impossible": ("sso", [raw_token("corp", "2031-02-30T00:00:00Z")], []),
    "session-expiry-naive": ("sso", [raw_token("corp", "2031-01-01T00:00:00")], []),
    "session-expiry-a-number": ("sso", [raw_token("corp", 1924992000)], []),
    "session-registration-expiry-unparseable": (
        "sso",
        [token("corp", "access-old", 300, **dict(REFRESHABLE, registrationExpiresAt="x"))],
        [],
    ),
    "legacy-expiry-unparseable": ("legacy", [raw_token(LEGACY, "soon")], []),
    "legacy-expiry-lone-year": ("legacy", [raw_token(LEGACY, "2031")], []),
    # The portal's expiration is a long: botocore's parser applies int() to it.
    "portal-expiration-text": ("sso", [token("corp", "access-valid", 3600)], [portal("abc")]),
    "portal-expiration-numeric-text": (
        "sso",
        [token("corp", "access-valid", 3600)],
        [portal("4102444800000")],
    ),
    "portal-expiration-float": (
        "sso",
        [token("corp", "access-valid", 3600)],
        [portal(4102444800000.75)],
    ),
    "portal-expiration-list": ("sso", [token("corp", "access-valid", 3600)], [portal([1])]),
    "portal-credentials-not-an-object": (
        "sso",
        [token("corp", "access-valid", 3600)],
        [Reply(200, [("Content-Type", "application/json")], b'{"roleCredentials": [1]}')],
    ),
    "oidc-expires-in-text": (
        "sso",
        [token("corp", "access-old", 300, **REFRESHABLE)],
        [
            Reply(
                200,
                [("Content-Type", "application/json")],
                b'{"accessToken": "a", "expiresIn": "x"}',
            )
        ],
    ),
    "legacy-valid": ("legacy", [token(LEGACY, "access-valid", 600)], []),
    "legacy-expired": ("legacy", [token(LEGACY, "access-valid", -1)], []),
    "legacy-UTC-suffix": ("legacy", [raw_cache(LEGACY, "")], []),
    "incomplete": ("incomplete", [], []),
    "ghost-session": ("ghost-session", [], []),
    "inconsistent": ("inconsistent", [], []),
    "legacy-incomplete": ("legacy-incomplete", [], []),
}


def legacy_utc_suffix(home, now):
    # Older CLIs wrote "...UTC" instead of "Z".
    expires = (now + datetime.timedelta(seconds=600)).strftime("%Y-%m-%dT%H:%M:%SUTC")
    write_sso_token(home, LEGACY, "access-valid", expires)


SCENARIOS["legacy-UTC-suffix"] = ("legacy", [legacy_utc_suffix], [])


def run(which, name, tmp_path, monkeypatch, now=None):
    """``now``: the time the cached tokens' expiries count from (the same for both sides)."""
    profile, setups, failures = SCENARIOS[name]
    home = tmp_path / which
    write(home / ".aws" / "config", CONFIG)
    for setup in setups:
        setup(home, utc_in(0) if now is None else now)
    cache_dir = os.path.join(str(home), ".aws", "sso", "cache")
    refresh = {"refresh-1": ("access-refreshed", "refresh-2")}
    with FakeSSO(valid_tokens={"access-valid"}, refresh_tokens=refresh) as sso:
        sso.fail(*failures)
        with monkeypatch.context() as m:
            m.setenv("HOME", str(home))
            m.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
            m.setenv("AWS_ENDPOINT_URL_SSO", sso.url)
            m.setenv("AWS_ENDPOINT_URL_SSO_OIDC", sso.url)
            m.setattr(botocore.credentials.SSOProvider, "_SSO_TOKEN_CACHE_DIR", cache_dir)
            m.setattr(botocore.tokens.SSOTokenProvider, "_SSO_TOKEN_CACHE_DIR", cache_dir)
            m.setattr("time.sleep", lambda s: None)
            m.setattr(_nested, "_sleep", lambda s: None)
            if which == "botocore":
                session = botocore.session.Session(profile=profile)
            else:
                session = Session(profile_name=profile)
            try:
                creds = session.get_credentials()
                frozen = creds.get_frozen_credentials()
                result = ("ok", creds.method, tuple(frozen), creds._expiry_time > utc_in(0))
            except Exception as e:
                result = ("error", type(e).__name__, str(e).replace(sso.url, "<url>"))
        calls = []
        for c in sso.calls:
            body = json.loads(c.body) if c.body else None
            calls.append(
                (
                    c.method,
                    c.path,
                    c.header("x-amz-sso_bearer_token"),
                    body,
                    c.header("authorization"),
                )
            )
    cache = {}
    if os.path.isdir(cache_dir):
        for entry in sorted(os.listdir(cache_dir)):
            with open(os.path.join(cache_dir, entry)) as f:
                text = f.read()
            try:
                data = json.loads(text)
                if isinstance(data, dict) and data.get("accessToken") == "access-refreshed":
                    # The new expiry is "now + expiresIn": the two sides ran apart.
                    data["expiresAt"] = data["expiresAt"][:13]
                cache[entry] = data
            except ValueError:
                cache[entry] = text
    return result, calls, cache


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenarios_match_botocore(tmp_path, monkeypatch, name):
    now = utc_in(0)
    theirs = run("botocore", name, tmp_path, monkeypatch, now)
    ours = run("ours", name, tmp_path, monkeypatch, now)
    assert ours == theirs


def test_bearer_token_with_a_line_break_is_an_http_client_error(tmp_path, monkeypatch):
    # http.client refuses it in a header: HTTPClientError, as in botocore, whose message
    # shows the token; ours names the header instead.
    SCENARIOS["session-token-line-break"] = ("sso", [token("corp", "access\nvalid", 3600)], [])
    now = utc_in(0)
    try:
        theirs = run("botocore", "session-token-line-break", tmp_path, monkeypatch, now)
        ours = run("ours", "session-token-line-break", tmp_path, monkeypatch, now)
    finally:
        del SCENARIOS["session-token-line-break"]
    assert ours[1:] == theirs[1:] and ours[1] == []
    assert theirs[0] == (
        "error",
        "HTTPClientError",
        "An HTTP Client raised an unhandled exception: Invalid header value b'access\\nvalid'",
    )
    assert ours[0] == (
        "error",
        "HTTPClientError",
        "An HTTP Client raised an unhandled exception: Invalid header value for "
        "x-amz-sso_bearer_token (value not shown)",
    )


def test_scenarios_do_what_they_say(tmp_path, monkeypatch):
    results = {
        name: run("ours", name, tmp_path / name, monkeypatch)
        for name in ("session-valid", "session-refreshed", "legacy-valid", "portal-429-then-ok")
    }
    for name, (result, calls, _) in results.items():
        assert result[:2] == ("ok", "sso"), name
        # Unsigned: the bearer token is the credential.
        assert all(c[4] is None for c in calls)
    result, calls, cache = results["session-refreshed"]
    assert calls[0][:2] == ("POST", "/token")
    assert calls[0][3] == {
        "grantType": "refresh_token",
        "clientId": "client-1",
        "clientSecret": "client-secret-1",
        "refreshToken": "refresh-1",
    }
    assert calls[1][:3] == (
        "GET",
        "/federation/credentials?role_name=Inference&account_id=123456789012",
        "access-refreshed",
    )
    (entry,) = cache.values()
    assert entry["accessToken"] == "access-refreshed" and entry["refreshToken"] == "refresh-2"
    assert results["legacy-valid"][0][2][3] == "210987654321"


def test_only_a_refresh_writes_the_cache(tmp_path, monkeypatch):
    home = tmp_path / "ours"
    run("ours", "session-valid", tmp_path, monkeypatch)
    path = sso_cache_file(home, "corp")
    before = os.stat(path).st_mtime_ns
    listing = os.listdir(os.path.dirname(path))
    run("ours", "session-valid", tmp_path / "again", monkeypatch)
    assert os.stat(path).st_mtime_ns == before and os.listdir(os.path.dirname(path)) == listing


def test_token_repr_hides_the_token():
    from sagemaker_rt_c.credentials._sso import FrozenAuthToken

    text = repr(FrozenAuthToken("secret-bearer-token", utc_in(60)))
    assert "secret-bearer-token" not in text and "FrozenAuthToken" in text
