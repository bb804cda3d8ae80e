"""The container credentials provider (ECS, SageMaker Studio, EKS Pod Identity) vs botocore.

Each scenario builds botocore's ``ContainerProvider`` and ours over the same environment,
each with a fresh fake endpoint (sleeps between attempts and the 2 s timeout shortened the
same way on both sides), and compares the outcome and the requests made (path and
Authorization header). Covered: the relative URI (ECS, SageMaker Studio), the full URI with
a token or a token file (EKS Pod Identity), botocore's allowed hosts, 401 / 404 / 500, a
timeout, a closed connection, malformed JSON, missing keys, expired credentials, an illegal
token.
"""

import datetime
import json

import botocore.credentials
import botocore.utils
import pytest
from credfakes import FakeContainer, Reply, iso, utc_in, write
from servers import Close, Delay

from sagemaker_rt_c.credentials import _container, _providers

pytestmark = pytest.mark.differential

TOKEN = "Bearer pod-identity-token"


class QuickBotocoreFetcher(botocore.utils.ContainerMetadataFetcher):
    # botocore reads TIMEOUT_SECONDS when the fetcher is made: a subclass sets it.
    TIMEOUT_SECONDS = 0.5


class QuickFetcher(_container.ContainerMetadataFetcher):
    TIMEOUT_SECONDS = 0.5


def build(which, env, port):
    if which == "botocore":
        fetcher = QuickBotocoreFetcher(sleep=lambda s: None)
        provider_cls = botocore.credentials.ContainerProvider
    else:
        fetcher = QuickFetcher(sleep=lambda s: None)
        provider_cls = _providers.ContainerProvider
    fetcher.IP_ADDRESS = f"127.0.0.1:{port}"
    return provider_cls(environ=env, fetcher=fetcher)


def outcome(provider):
    try:
        creds = provider.load()
        if creds is None:
            return None
        frozen = creds.get_frozen_credentials()
    except Exception as e:
        return ("error", type(e).__name__, str(e))
    return ("ok", creds.method, tuple(frozen), creds._expiry_time.tzinfo is not None)


def run(which, env_fn, actions, tmp_path, **fake_kwargs):
    with FakeContainer(auth=TOKEN, **fake_kwargs) as fake:
        fake.fail(*actions)
        env = env_fn(fake, tmp_path)
        result = outcome(build(which, env, fake.port))
        calls = [(c.path, c.header("authorization")) for c in fake.calls]
        return result, calls, str(fake.port)


def relative(fake, tmp_path):
    return {
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": TOKEN,
    }


def relative_no_token(fake, tmp_path):
    return {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"}


def full_uri(fake, tmp_path):
    return {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url + "/v1/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": TOKEN,
    }


def full_uri_token_file(fake, tmp_path):
    write(tmp_path / "token", TOKEN)
    return {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url + "/v1/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(tmp_path / "token"),
        # The file wins over the variable, as in botocore.
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer ignored",
    }


def full_uri_missing_token_file(fake, tmp_path):
    return {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url + "/v1/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(tmp_path / "missing"),
    }


def uri_with_host(host):
    def env(fake, tmp_path):
        return {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://{host}:{fake.port}/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": TOKEN,
        }

    return env


def token_with_newline(fake, tmp_path):
    return {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url + "/v1/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": TOKEN + "\r\nX-Injected: 1",
    }


def nothing_set(fake, tmp_path):
    return {}


def token_not_latin1(fake, tmp_path):
    return {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url + "/v1/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer \u2603",
    }


def localhost_uri(port_text, path="/creds"):
    def env(fake, tmp_path):
        return {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": (
                f"http://localhost:{port_text.format(port=fake.port)}{path}"
            ),
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": TOKEN,
        }

    return env


def json_reply(obj, status=200):
    return Reply(status, [("Content-Type", "application/json")], json.dumps(obj).encode())


SCENARIOS = {
    "relative-uri": (relative, []),
    "relative-uri-without-token-refused": (relative_no_token, []),
    "full-uri-token": (full_uri, []),
    "full-uri-token-file": (full_uri_token_file, []),
    "full-uri-token-file-missing": (full_uri_missing_token_file, []),
    "localhost-allowed": (uri_with_host("localhost"), []),
    "loopback-127.0.0.2-allowed": (uri_with_host("127.0.0.2"), []),
    "host-not-allowed": (uri_with_host("169.254.169.254"), []),
    "host-name-not-allowed": (uri_with_host("example.com"), []),
    "token-with-newline": (token_with_newline, []),
    "not-set": (nothing_set, []),
    # What urllib3 refuses before sending: HTTPClientError at once, no retries.
    "token-not-latin-1": (token_not_latin1, []),
    "port-out-of-range": (localhost_uri("99999"), []),
    "port-not-a-number": (localhost_uri("8o"), []),
    "path-needing-escapes": (localhost_uri("{port}", "/v1/cr\u00e9ds ?id=a b&x=%zz"), []),
    "401-then-ok": (full_uri, [Reply(401, [], b'{"message":"expired"}')]),
    "404-always": (full_uri, [Reply(404, [], b"not found")] * 3),
    "500-twice-then-ok": (full_uri, [Reply(500, [], b"oops")] * 2),
    "timeout-then-ok": (full_uri, [Delay(1.0, Reply(200))]),
    "closed-always": (full_uri, [Close()] * 3),
    "malformed-json-always": (full_uri, [Reply(200, [], b"{nope")] * 3),
    "missing-token-key": (
        full_uri,
        [json_reply({"AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": iso(utc_in(900))})],
    ),
    "expiry-unparseable": (
        full_uri,
        [json_reply({"AccessKeyId": "A", "SecretAccessKey": "S", "Token": "T", "Expiration": "x"})],
    ),
    "expiry-a-number": (
        full_uri,
        [
            json_reply(
                {"AccessKeyId": "A", "SecretAccessKey": "S", "Token": "T", "Expiration": 1924992000}
            )
        ],
    ),
    "expired-credentials": (
        full_uri,
        [
            json_reply({"AccessKeyId": "A", "SecretAccessKey": "S", "Token": "T", "Expiration": e})
            for e in (iso(utc_in(-60)), iso(utc_in(-60)))
        ],
    ),
}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n == "timeout-then-ok" else n for n in SCENARIOS],
)
def test_scenarios_match_botocore(tmp_path, name):
    env_fn, actions = SCENARIOS[name]
    theirs = run("botocore", env_fn, actions, tmp_path)
    ours = run("ours", env_fn, actions, tmp_path)
    (t_result, t_calls, t_port), (o_result, o_calls, o_port) = theirs, ours
    if t_result is not None and t_result[0] == "error":
        t_result = t_result[:2] + (t_result[2].replace(t_port, "<port>"),)
        o_result = o_result[:2] + (o_result[2].replace(o_port, "<port>"),)
    assert (o_result, o_calls) == (t_result, t_calls)


def test_error_answer_holding_credentials_is_not_shown(tmp_path):
    # botocore puts a non-200 answer's body in its message; ours too, unless the body is a
    # credentials document (its secret would be in the exception).
    leaked = {"AccessKeyId": "A", "SecretAccessKey": "leaked-secret", "Token": "leaked-token"}
    answers = [json_reply(leaked, status=403)] * 3
    theirs = run("botocore", full_uri, answers, tmp_path)
    ours = run("ours", full_uri, answers, tmp_path)
    assert ours[1] == theirs[1] and len(ours[1]) == 3
    assert "leaked-secret" in theirs[0][2]
    assert ours[0] == (
        "error",
        "CredentialRetrievalError",
        "Error when retrieving credentials from container-role: Error retrieving metadata: "
        "Received non 200 response 403 from container metadata: "
        "<not shown: the body holds credential fields>",
    )


@pytest.mark.parametrize("timeout", [0, -1, 0.0, True])
def test_unusable_timeout_is_an_http_client_error(tmp_path, timeout):
    # urllib3 validates the timeout before anything is sent: HTTPClientError, no retries.
    outcomes = []
    for fetcher_cls, provider_cls in (
        (botocore.utils.ContainerMetadataFetcher, botocore.credentials.ContainerProvider),
        (_container.ContainerMetadataFetcher, _providers.ContainerProvider),
    ):
        fetcher_cls = type("Fetcher", (fetcher_cls,), {"TIMEOUT_SECONDS": timeout})
        with FakeContainer(auth=TOKEN) as fake:
            env = full_uri(fake, tmp_path)
            provider = provider_cls(environ=env, fetcher=fetcher_cls(sleep=lambda s: None))
            outcomes.append((outcome(provider), len(fake.calls)))
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][0][:2] == ("error", "HTTPClientError") and outcomes[1][1] == 0


def test_scenarios_succeed_and_fail_where_expected(tmp_path):
    ok = run("ours", *SCENARIOS["relative-uri"], tmp_path)
    assert ok[0][:2] == ("ok", "container-role") and ok[0][3] is True
    assert ok[1] == [("/v2/credentials/abc", TOKEN)]
    failed = run("ours", *SCENARIOS["404-always"], tmp_path)
    assert failed[0][1] == "CredentialRetrievalError" and len(failed[1]) == 3
    assert "Received non 200 response 404 from container metadata: not found" in failed[0][2]
    escaped = run("ours", *SCENARIOS["path-needing-escapes"], tmp_path)
    assert escaped[0][:2] == ("ok", "container-role")
    assert escaped[1][0][0] == "/v1/cr%C3%A9ds%20?id=a%20b&x=%25zz"
    for name in ("token-not-latin-1", "port-out-of-range"):
        result, calls, _ = run("ours", *SCENARIOS[name], tmp_path)
        assert result[:2] == ("error", "HTTPClientError") and calls == [], name


def test_token_file_is_read_again_for_each_refresh(tmp_path):
    with FakeContainer(auth=None, expires_in=300) as fake:
        write(tmp_path / "token", "Bearer first")
        env = {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url + "/v1/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(tmp_path / "token"),
        }
        creds = build("ours", env, fake.port).load()
        write(tmp_path / "token", "Bearer second")
        # 5 minutes left: inside the mandatory window, the next use refreshes.
        creds.get_frozen_credentials()
        assert [c.header("authorization") for c in fake.calls] == ["Bearer first", "Bearer second"]


def test_allowed_hosts_match_botocore():
    hosts = [
        "http://169.254.170.2/x",
        "http://169.254.170.23/x",
        "http://[fd00:ec2::23]/x",
        "http://localhost/x",
        "http://127.0.0.1:9/x",
        "http://127.1.2.3/x",
        "http://[::1]/x",
        "https://anything.example/x",
        "http://169.254.170.3/x",
        "http://10.0.0.1/x",
        "http://localhost.example/x",
    ]
    theirs = botocore.utils.ContainerMetadataFetcher()
    ours = _container.ContainerMetadataFetcher()
    for url in hosts:
        outcomes = []
        for fetcher in (theirs, ours):
            try:
                fetcher._validate_allowed_url(url)
                outcomes.append("allowed")
            except ValueError as e:
                outcomes.append(str(e))
        assert outcomes[0] == outcomes[1], url


def test_expiry_is_aware_and_refresh_window_applies(tmp_path):
    with FakeContainer(auth=None, expires_in=1200) as fake:
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url + "/creds"}
        creds = build("ours", env, fake.port).load()
        assert creds._expiry_time.tzinfo is not None
        assert not creds.refresh_needed() and creds.refresh_needed(1800)
        creds._time_fetcher = lambda: (
            datetime.datetime.now(datetime.timezone.utc) + (datetime.timedelta(minutes=6))
        )
        creds.get_frozen_credentials()
        assert len(fake.calls) == 2
