"""The instance metadata provider (and IMDS region for defaults mode "auto") against botocore.

Every scenario gives a fresh fake metadata service to botocore's chain and to ours, in this
process, with the same environment: the outcome (credentials and method, or the exception)
and the sequence of requests each made (method, path, whether the IMDSv2 token was sent)
must be the same. Failure modes: token refused (403/404/405) or broken (400), the token
request hanging, 401 for a wrong token, 500s and attempts, empty and malformed answers, an
error document instead of credentials, IMDSv1 disabled, the service disabled or unreachable,
expired credentials (botocore's expiry extension).
"""

import datetime
import json

import boto3
import botocore.session
import pytest
from credfakes import FakeIMDS, Reply, iso, refused_url, utc_in
from servers import Close, Delay

from sagemaker_rt_c.credentials import _imds
from sagemaker_rt_c.session import Session

UTC = datetime.timezone.utc


def summary(imds):
    return [
        (c.method, c.path, c.header("x-aws-ec2-metadata-token") is not None) for c in imds.calls
    ]


def outcome(get_credentials):
    try:
        creds = get_credentials()
    except Exception as e:
        return ("error", type(e).__name__, str(e))
    if creds is None:
        return None
    frozen = creds.get_frozen_credentials()
    return ("ok", creds.method, frozen.access_key, frozen.secret_key, frozen.token)


def run(which, setup, env, monkeypatch):
    with FakeIMDS() as imds, monkeypatch.context() as m:
        setup(imds)
        m.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url)
        m.delenv("AWS_EC2_METADATA_DISABLED", raising=False)
        for name, value in env.items():
            m.setenv(name, value)
        if which == "botocore":
            result = outcome(botocore.session.Session().get_credentials)
        else:
            result = outcome(Session().get_credentials)
        return result, summary(imds)


def no_change(imds):
    pass


def token_status(status):
    def setup(imds):
        imds.token_status = status

    return setup


def failures(*actions, **attrs):
    def setup(imds):
        imds.fail(*actions)
        for name, value in attrs.items():
            setattr(imds, name, value)

    return setup


SCENARIOS = {
    "v2": (no_change, {}),
    "token-404-falls-back-to-v1": (token_status(404), {}),
    "token-403-falls-back-to-v1": (token_status(403), {}),
    "token-405-falls-back-to-v1": (token_status(405), {}),
    "token-400-gives-up": (token_status(400), {}),
    "token-500-then-v1": (token_status(500), {}),
    # With two attempts a 404/403/405 stops at once; other statuses are tried again.
    "token-405-two-attempts": (token_status(405), {"AWS_METADATA_SERVICE_NUM_ATTEMPTS": "2"}),
    "token-403-two-attempts": (token_status(403), {"AWS_METADATA_SERVICE_NUM_ATTEMPTS": "2"}),
    "token-500-two-attempts": (token_status(500), {"AWS_METADATA_SERVICE_NUM_ATTEMPTS": "2"}),
    "v1-disabled-and-no-token": (token_status(404), {"AWS_EC2_METADATA_V1_DISABLED": "true"}),
    "v1-disabled-with-token": (no_change, {"AWS_EC2_METADATA_V1_DISABLED": "true"}),
    "token-refused-401": (failures(None, Reply(401)), {}),
    "role-500-once-one-attempt": (failures(None, Reply(500)), {}),
    "role-500-once-two-attempts": (
        failures(None, Reply(500)),
        {"AWS_METADATA_SERVICE_NUM_ATTEMPTS": "2"},
    ),
    "empty-role-name": (failures(None, Reply(200, [], b"")), {}),
    "malformed-json-then-ok": (
        failures(None, None, Reply(200, [], b"{not json")),
        {"AWS_METADATA_SERVICE_NUM_ATTEMPTS": "3"},
    ),
    "malformed-json-always": (failures(credentials_body=b'{"AccessKeyId": '), {}),
    "error-document": (
        failures(
            credentials_body=json.dumps(
                {"Code": "AssumeRoleUnauthorizedAccess", "Message": "EC2 cannot assume"}
            ).encode()
        ),
        {},
    ),
    "missing-expiration": (
        failures(
            credentials_body=json.dumps(
                {"AccessKeyId": "ASIAX", "SecretAccessKey": "s", "Token": "t"}
            ).encode()
        ),
        {},
    ),
    "connection-closed-on-credentials": (failures(None, None, Close()), {}),
    # dateutil's ParserError (botocore's strptime for the expiry extension gives up quietly).
    "expiry-unparseable": (
        failures(
            credentials_body=json.dumps(
                {"AccessKeyId": "ASIAX", "SecretAccessKey": "s", "Token": "t", "Expiration": "soon"}
            ).encode()
        ),
        {},
    ),
    "expiry-impossible": (
        failures(
            credentials_body=json.dumps(
                {
                    "AccessKeyId": "ASIAX",
                    "SecretAccessKey": "s",
                    "Token": "t",
                    "Expiration": "2031-02-30T00:00:00Z",
                }
            ).encode()
        ),
        {},
    ),
    "ipv6-mode-custom-endpoint-wins": (
        no_change,
        {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"},
    ),
    # urllib3 refuses a timeout of 0 or below before sending: HTTPClientError, not "no
    # credentials" (a socket timeout of 0 would make every connect fail at once).
    "timeout-0": (no_change, {"AWS_METADATA_SERVICE_TIMEOUT": "0"}),
    "timeout-negative": (no_change, {"AWS_METADATA_SERVICE_TIMEOUT": "-3"}),
    "timeout-not-a-number": (no_change, {"AWS_METADATA_SERVICE_TIMEOUT": "0.5"}),
    # The role name is percent-encoded into the credentials URL as urllib3 encodes it (a
    # "text/plain" answer without a charset is Latin-1 text, so "é" is encoded twice).
    "role-with-space": (failures(role="a b"), {}),
    "role-with-percent-escape": (failures(role="a%20b"), {}),
    "role-with-bad-percent": (failures(role="100%"), {}),
    "role-non-ascii": (failures(role="r\u00e9le"), {}),
    "role-with-nul-and-controls": (failures(role="a\x00b\x7fc"), {}),
    "role-with-semicolon": (failures(role="a;b"), {}),
    "role-with-query-and-fragment": (failures(role="a?x=1 2#frag"), {}),
    "role-with-tab-and-newline": (failures(role="a\tb\nc"), {}),
    "role-dot-dot": (failures(role=".."), {}),
    "endpoint-port-out-of-range": (
        no_change,
        {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:99999/"},
    ),
}


@pytest.mark.differential
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenarios_match_botocore(monkeypatch, name):
    setup, env = SCENARIOS[name]
    theirs = run("botocore", setup, env, monkeypatch)
    ours = run("ours", setup, env, monkeypatch)
    assert ours == theirs


def test_scenarios_cover_success_and_failure(monkeypatch):
    names = (
        "v2",
        "token-404-falls-back-to-v1",
        "token-400-gives-up",
        "error-document",
        "timeout-0",
        "role-with-space",
        "endpoint-port-out-of-range",
    )
    results = {name: run("ours", *SCENARIOS[name], monkeypatch) for name in names}
    assert results["v2"][0][:2] == ("ok", "iam-role")
    assert results["token-404-falls-back-to-v1"][0][:2] == ("ok", "iam-role")
    assert results["token-400-gives-up"][0] is None and results["error-document"][0] is None
    assert results["timeout-0"] == (
        (
            "error",
            "HTTPClientError",
            "An HTTP Client raised an unhandled exception: Attempted to set connect timeout to "
            "0, but the timeout cannot be set to a value less than or equal to 0.",
        ),
        [],
    )
    assert results["role-with-space"][0][:2] == ("ok", "iam-role")
    assert results["role-with-space"][1][-1][1].endswith("/security-credentials/a%20b")
    assert results["endpoint-port-out-of-range"][0][:2] == ("error", "InvalidIMDSEndpointError")


@pytest.mark.differential
@pytest.mark.parametrize("token", ["tok\nen", "tok\r\nX-Injected: 1", "tok\ren"])
def test_unusable_imds_token_is_an_http_client_error_without_the_token(monkeypatch, token):
    # A token http.client refuses in a header (CR or LF not followed by a space or tab):
    # botocore raises HTTPClientError, urllib3 refusing it before sending. Its message holds
    # the token; ours names the header instead.
    def odd_token(imds):
        imds.TOKEN = token

    theirs = run("botocore", odd_token, {}, monkeypatch)
    ours = run("ours", odd_token, {}, monkeypatch)
    assert ours[1] == theirs[1] == [("PUT", "/latest/api/token", False)]
    assert theirs[0] == (
        "error",
        "HTTPClientError",
        f"An HTTP Client raised an unhandled exception: Invalid header value {token.encode()!r}",
    )
    assert ours[0] == (
        "error",
        "HTTPClientError",
        "An HTTP Client raised an unhandled exception: Invalid header value for "
        "x-aws-ec2-metadata-token (value not shown)",
    )
    assert token.split("\r")[0].split("\n")[0] not in ours[0][2].replace("token", "")


@pytest.mark.differential
@pytest.mark.parametrize(
    "userinfo, role",
    [
        ("user:p%40ss@", "imds-role"),
        ("user:@", "imds-role"),  # no password: no Proxy-Authorization (botocore)
        (":pw@", "imds-role"),
        ("", "a b"),
        ("", "x/../y"),  # the absolute form has urllib3's dot segments removed
        ("us\u2603r:pw@", "imds-role"),  # not ASCII: HTTPClientError before sending
    ],
)
def test_through_an_http_proxy_like_botocore(monkeypatch, userinfo, role):
    # The fake answers as the proxy: absolute-form requests, as botocore sends them.
    def as_proxy(imds):
        imds.role = role

    results = []
    for which in ("botocore", "ours"):
        with FakeIMDS() as imds, monkeypatch.context() as m:
            as_proxy(imds)
            m.setenv("HTTP_PROXY", imds.url.replace("http://", "http://" + userinfo))
            m.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://imds.example/")
            m.delenv("AWS_EC2_METADATA_DISABLED", raising=False)
            session = botocore.session.Session() if which == "botocore" else Session()
            result = outcome(session.get_credentials)
            calls = [(c.method, c.path, c.header("proxy-authorization")) for c in imds.calls]
            results.append((result, calls))
    assert results[1] == results[0]
    if "\u2603" in userinfo:
        assert results[1][0][:2] == ("error", "HTTPClientError") and results[1][1] == []
    elif role != "x/../y":
        assert results[1][0][:2] == ("ok", "iam-role")


@pytest.mark.slow
@pytest.mark.differential
def test_token_request_hanging_falls_back_to_v1_after_the_timeout(monkeypatch):
    def hang(imds):
        imds.fail(Delay(2.5, Reply(200, [], FakeIMDS.TOKEN.encode())))

    import time

    t0 = time.monotonic()
    theirs = run("botocore", hang, {}, monkeypatch)
    t1 = time.monotonic()
    ours = run("ours", hang, {}, monkeypatch)
    t2 = time.monotonic()
    assert ours == theirs
    assert [s[2] for s in ours[1]] == [False, False, False]
    assert 0.9 < t2 - t1 < 2.4 and abs((t2 - t1) - (t1 - t0)) < 0.7


def test_disabled_or_unreachable(monkeypatch):
    with FakeIMDS() as imds:
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url)
        assert Session().get_credentials() is None
        assert imds.calls == []
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED", raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", refused_url())
    monkeypatch.setenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "2")
    assert Session().get_credentials() is None


@pytest.mark.differential
@pytest.mark.parametrize(
    "config",
    [
        {},
        {"ec2_metadata_service_endpoint_mode": "ipv6"},
        {
            "ec2_metadata_service_endpoint_mode": "ipv6",
            "ec2_metadata_service_endpoint": "http://x/",
        },
        {"ec2_metadata_service_endpoint": "http://[fd00:ec2::254]:8080/"},
    ],
)
def test_base_url_selection(config):
    from botocore.utils import InstanceMetadataFetcher

    assert (
        _imds.InstanceMetadataFetcher(config=config).get_base_url()
        == InstanceMetadataFetcher(config=config).get_base_url()
    )


@pytest.mark.differential
def test_invalid_endpoint_and_mode_errors_match(monkeypatch):
    for env in (
        {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://no spaces/"},
        {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "ipv7"},
    ):
        with monkeypatch.context() as m:
            for name, value in env.items():
                m.setenv(name, value)
            with pytest.raises(Exception) as theirs:
                botocore.session.Session().get_credentials()
            with pytest.raises(Exception) as ours:
                Session().get_credentials()
            assert (type(ours.value).__name__, str(ours.value)) == (
                type(theirs.value).__name__,
                str(theirs.value),
            )


@pytest.mark.differential
def test_expired_credentials_are_extended_as_botocore_does(monkeypatch):
    # The metadata service hands out credentials already past their expiry (it is stale):
    # botocore pushes the expiry 17-25 minutes out and uses them.
    def stale(imds):
        imds.expires_in = -120

    for which in ("botocore", "ours"):
        with FakeIMDS() as imds:
            stale(imds)
            monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url)
            monkeypatch.delenv("AWS_EC2_METADATA_DISABLED", raising=False)
            session = botocore.session.Session() if which == "botocore" else Session()
            creds = session.get_credentials()
            remaining = (creds._expiry_time - datetime.datetime.now(UTC)).total_seconds()
            assert 900 + 120 - 5 <= remaining <= 900 + 600 + 5, which
            assert creds.get_frozen_credentials().access_key.startswith("ASIAIMDS")
            assert len(imds.calls) == 3


def test_refresh_asks_the_metadata_service_again(monkeypatch):
    with FakeIMDS(expires_in=3600) as imds:
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url)
        monkeypatch.delenv("AWS_EC2_METADATA_DISABLED", raising=False)
        creds = Session().get_credentials()
        first = creds.get_frozen_credentials()
        imds.role = "rotated-role"
        later = datetime.datetime.now(UTC) + datetime.timedelta(minutes=50)
        creds._time_fetcher = lambda: later
        second = creds.get_frozen_credentials()
        assert first.access_key != second.access_key
        assert [c.method for c in imds.calls] == ["PUT", "GET", "GET"] * 2


# --- region for defaults mode "auto" --------------------------------------------------------------


@pytest.mark.differential
@pytest.mark.parametrize("client_region", ["eu-west-3", "us-east-1"])
def test_auto_defaults_mode_uses_the_instance_region(monkeypatch, client_region):
    with FakeIMDS(az="eu-west-3c") as imds:
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url)
        monkeypatch.delenv("AWS_EC2_METADATA_DISABLED", raising=False)
        monkeypatch.setenv("AWS_DEFAULTS_MODE", "auto")
        keys = dict(aws_access_key_id="AKID", aws_secret_access_key="s", region_name=client_region)
        boto = boto3.Session().client("sagemaker-runtime", **keys)
        ours_session = Session()
        ours = ours_session.client("sagemaker-runtime", **keys)
        expected = 1.1 if client_region == "eu-west-3" else 3.1
        assert boto.meta.config.connect_timeout == expected
        assert ours.meta.config.connect_timeout == expected
        asked = len(imds.calls)
        ours_session.client("sagemaker-runtime", **keys)
        assert len(imds.calls) == asked, "asked once per session"


def test_auto_defaults_mode_without_imds_is_standard(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULTS_MODE", "auto")
    keys = dict(aws_access_key_id="AKID", aws_secret_access_key="s", region_name="eu-west-3")
    assert Session().client("sagemaker-runtime", **keys).meta.config.connect_timeout == 3.1


@pytest.mark.differential
def test_region_fetcher_matches_botocore(monkeypatch):
    from botocore.utils import InstanceMetadataRegionFetcher

    with FakeIMDS(az="ap-southeast-2a") as imds:
        config = {"ec2_metadata_service_endpoint": imds.url}
        env = {}
        theirs = InstanceMetadataRegionFetcher(config=config, env=env).retrieve_region()
        ours = _imds.InstanceMetadataRegionFetcher(config=config, env=env).retrieve_region()
        assert ours == theirs == "ap-southeast-2"
        imds.token_status = 404
        imds.fail(None, Reply(500))
        theirs = InstanceMetadataRegionFetcher(config=config, env=env).retrieve_region()
        imds.fail(None, Reply(500))
        ours = _imds.InstanceMetadataRegionFetcher(config=config, env=env).retrieve_region()
        assert ours is theirs is None


def test_expiry_string_formats(monkeypatch):
    # botocore's strptime format; anything else is left alone (no extension), as in botocore.
    fetcher = _imds.InstanceMetadataFetcher(config={"ec2_credential_refresh_window": 900})
    creds = {"expiry_time": iso(utc_in(-10))}
    fetcher._evaluate_expiration(creds)
    assert creds["expiry_time"] > iso(utc_in(900))
    odd = {"expiry_time": "2020-01-01T00:00:00+00:00"}
    fetcher._evaluate_expiration(odd)
    assert odd == {"expiry_time": "2020-01-01T00:00:00+00:00"}
