"""STS: requests signed by our signer, endpoints, responses and errors, against botocore.

* moto's server (the real STS implementation the issue names) answers AssumeRole and
  AssumeRoleWithWebIdentity made through the credential chain.
* A verifying fake checks every request's SigV4 signature with botocore's own signer and the
  secret key of the signing key pair, so a request our C signer signed wrongly fails.
* The endpoint and signing region are compared with botocore's STS, SSO and SSO OIDC clients
  for regions of every partition, FIPS, dual-stack, sts_regional_endpoints, custom endpoints.
* Errors and retries: the same scripted answers are given to botocore's STS client and ours;
  the exception class, message and number of requests must match.
"""

import datetime
import os
import time

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.session
import pytest
from credfakes import FakeSTS, iso, refused_url, sts_error, utc_in, write
from servers import Close, Delay, Reply, ScriptedServer

from sagemaker_rt_c import exceptions
from sagemaker_rt_c.config import Config
from sagemaker_rt_c.credentials import _nested
from sagemaker_rt_c.credentials._providers import create_nested_client
from sagemaker_rt_c.session import Session

ROLE = "arn:aws:iam::123456789012:role/sts-role"
SECRETS = {"AKIDSOURCE": "sourcesecret", "AKIDTOKEN": "tokensecret"}


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def write_role_config(tmp_path, monkeypatch, extra=""):
    write(
        tmp_path / "config",
        "[profile base]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = sourcesecret\n"
        f"\n[profile role]\nrole_arn = {ROLE}\nsource_profile = base\nregion = eu-west-1\n" + extra,
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))


# --- moto -----------------------------------------------------------------------------------------


def test_assume_role_against_moto(tmp_path, monkeypatch, moto_url):
    write_role_config(tmp_path, monkeypatch, "duration_seconds = 900\n")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_url)
    creds = Session(profile_name="role").get_credentials()
    assert creds.method == "assume-role"
    frozen = creds.get_frozen_credentials()
    assert frozen.access_key.startswith("ASIA") and len(frozen.secret_key) >= 20
    assert frozen.token and frozen.account_id == "123456789012"
    remaining = (creds._expiry_time - datetime.datetime.now(datetime.timezone.utc)).seconds
    assert 800 < remaining <= 900 and creds._expiry_time.tzinfo is not None


def test_web_identity_against_moto(tmp_path, monkeypatch, moto_url):
    write(tmp_path / "token", "eyJhbGciOiJSUzI1NiJ9.moto-token.sig")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("AWS_ROLE_ARN", ROLE)
    monkeypatch.setenv("AWS_ROLE_SESSION_NAME", "moto-session")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_url)
    creds = Session().get_credentials()
    assert creds.method == "assume-role-with-web-identity"
    frozen = creds.get_frozen_credentials()
    assert frozen.access_key.startswith("ASIA") and frozen.token
    assert frozen.account_id == "123456789012"


# --- signatures -----------------------------------------------------------------------------------


class VerifyingSTS(FakeSTS):
    """Checks each signed request with botocore's SigV4 and the signing key's secret."""

    def __init__(self):
        super().__init__()
        self.verified = []

    def handle(self, req):
        auth = req.header("authorization")
        if auth is not None:
            scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
            signed = auth.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
            headers = {name: req.header(name) for name in signed}
            request = botocore.awsrequest.AWSRequest(
                method=req.method,
                url=f"http://{req.header('host')}{req.path}",
                data=req.body,
                headers=headers,
            )
            request.context["timestamp"] = req.header("x-amz-date")
            creds = botocore.credentials.Credentials(
                scope[0], SECRETS[scope[0]], req.header("x-amz-security-token")
            )
            signer = botocore.auth.SigV4Auth(creds, scope[3], scope[2])
            canonical = signer.canonical_request(request)
            expected = signer.signature(signer.string_to_sign(request, canonical), request)
            if f"Signature={expected}" not in auth:
                return sts_error("SignatureDoesNotMatch", "signature mismatch", 403)
            self.verified.append((scope[2], tuple(signed)))
        return super().handle(req)


@pytest.mark.parametrize("token", [None, "source-session-token"])
def test_assume_role_signature_verified_with_botocore(tmp_path, monkeypatch, token):
    extra = f"aws_session_token = {token}\n" if token else ""
    write(
        tmp_path / "config",
        f"[profile base]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = sourcesecret\n"
        f"{extra}\n[profile role]\nrole_arn = {ROLE}\nsource_profile = base\n"
        "external_id = ext/with+chars=\nrole_session_name = name.with@chars\n",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    with VerifyingSTS() as sts:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url + "/some/path")
        session = Session(profile_name="role")
        session._last_client_region_used = "ap-southeast-2"
        frozen = session.get_credentials().get_frozen_credentials()
        assert frozen.access_key.startswith("ASIA")
        assert sts.calls[0].path == "/some/path"
        region, signed = sts.verified[0]
        assert region == "ap-southeast-2"
        expected = {"content-type", "host", "x-amz-date"}
        if token:
            expected.add("x-amz-security-token")
        assert set(signed) == expected


@pytest.mark.differential
def test_sts_region_is_the_first_clients_region_as_in_botocore(tmp_path, monkeypatch):
    import boto3

    write_role_config(tmp_path, monkeypatch)
    with FakeSTS() as sts:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        keys = dict(endpoint_url="http://127.0.0.1:9")
        boto = boto3.Session(profile_name="role").client(
            "sagemaker-runtime", region_name="ca-central-1", **keys
        )
        boto._request_signer._credentials.get_frozen_credentials()
        ours = Session(profile_name="role").client(
            "sagemaker-runtime", region_name="ca-central-1", **keys
        )
        ours._settings.credentials.get_frozen_credentials()
        scopes = [c.header("authorization").split("/")[2] for c in sts.calls]
        assert scopes == ["ca-central-1", "ca-central-1"]


# --- endpoints ------------------------------------------------------------------------------------

REGIONS = [
    None,
    "us-east-1",
    "us-west-2",
    "eu-central-2",
    "aws-global",
    "cn-north-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "eu-isoe-west-1",
    "us-east-1-fips",
    "fips-us-west-2",
    "xx-yy-1",
]
ENVS = [
    {},
    {"AWS_STS_REGIONAL_ENDPOINTS": "legacy"},
    {"AWS_USE_FIPS_ENDPOINT": "true"},
    {"AWS_USE_DUALSTACK_ENDPOINT": "true"},
    {"AWS_USE_FIPS_ENDPOINT": "true", "AWS_USE_DUALSTACK_ENDPOINT": "true"},
    {"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9/base"},
    {"AWS_ENDPOINT_URL": "https://everything.example"},
    {"AWS_ENDPOINT_URL_SSO": "https://sso.example", "AWS_ENDPOINT_URL_SSO_OIDC": "http://o:1"},
    {"AWS_STS_REGIONAL_ENDPOINTS": "sometimes"},
]


class _Stop(Exception):
    pass


_LOADER = []


def botocore_session():
    """A botocore session sharing one model loader (clients are then quick to make)."""
    from botocore.loaders import create_loader

    if not _LOADER:
        _LOADER.append(create_loader())
    session = botocore.session.Session()
    session.register_component("data_loader", _LOADER[0])
    return session


def botocore_endpoint(service, region):
    session = botocore_session()
    if service == "sts":
        kwargs = dict(aws_access_key_id="AKID", aws_secret_access_key="s")
    else:
        from botocore import UNSIGNED
        from botocore.config import Config as BotoConfig

        kwargs = dict(config=BotoConfig(signature_version=UNSIGNED))
    try:
        client = session.create_client(service, region_name=region, **kwargs)
    except Exception as e:
        return ("error", type(e).__name__, str(e))
    seen = {}

    def before_send(request, **kw):
        seen["url"] = request.url
        auth = request.headers.get("Authorization")
        if isinstance(auth, bytes):
            auth = auth.decode()
        seen["region"] = auth.split("/")[2] if auth else None
        raise _Stop()

    client.meta.events.register("before-send", before_send)
    try:
        if service == "sts":
            client.assume_role(RoleArn=ROLE, RoleSessionName="ss")
        elif service == "sso":
            client.get_role_credentials(roleName="r", accountId="1", accessToken="t")
        else:
            client.create_token(clientId="c", clientSecret="s", grantType="g")
    except _Stop:
        pass
    except Exception as e:
        return ("error", type(e).__name__, str(e))
    url = seen["url"].split("?")[0]
    for path in ("/federation/credentials", "/token"):
        if service != "sts" and url.endswith(path):
            url = url[: -len(path)]
    return (url.rstrip("/"), seen["region"], client.meta.region_name)


def our_endpoint(service, region):
    kwargs = {}
    if service == "sts":
        kwargs = dict(aws_access_key_id="AKID", aws_secret_access_key="s")
    else:
        from sagemaker_rt_c.config import UNSIGNED

        kwargs = dict(config=Config(signature_version=UNSIGNED))
    try:
        settings = _nested.resolve(Session(), service, region_name=region, **kwargs)
    except Exception as e:
        return ("error", type(e).__name__, str(e))
    if settings.endpoint_url is None:
        return ("error", "NoRegionError", "You must specify a region.")
    signing = settings.signing_region if service == "sts" else None
    return (settings.endpoint_url.rstrip("/"), signing, settings.region_name)


@pytest.mark.differential
@pytest.mark.parametrize("env", ENVS, ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items()))
def test_endpoints_match_botocore(monkeypatch, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for service in ("sts", "sso", "sso-oidc"):
        for region in REGIONS:
            if service != "sts" and region is None:
                continue
            theirs = botocore_endpoint(service, region)
            ours = our_endpoint(service, region)
            assert ours == theirs, (service, region)


@pytest.mark.differential
@pytest.mark.parametrize(
    "name,value",
    [("AWS_CA_BUNDLE", ""), ("AWS_CA_BUNDLE", " \t"), ("REQUESTS_CA_BUNDLE", ""), ("X", "")],
)
def test_blank_ca_bundle_fails_as_botocore(monkeypatch, name, value):
    """botocore 1.44 refuses an empty or blank CA bundle when it makes any client, the STS
    and SSO clients of the credential chain included."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.setenv(name, value)
    for service in ("sts", "sso", "sso-oidc"):
        theirs = botocore_endpoint(service, "us-east-1")
        assert our_endpoint(service, "us-east-1") == theirs
        assert (theirs[1] == "InvalidConfigError") == (name != "X")


@pytest.mark.differential
def test_endpoint_from_profile_services_section(tmp_path, monkeypatch):
    write(
        tmp_path / "config",
        "[default]\nservices = local\n\n[services local]\nsts =\n"
        "  endpoint_url = http://127.0.0.1:4566\nsso_oidc =\n  endpoint_url = http://o:2\n",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    assert our_endpoint("sts", "eu-west-1") == botocore_endpoint("sts", "eu-west-1")
    assert our_endpoint("sso-oidc", "eu-west-1") == botocore_endpoint("sso-oidc", "eu-west-1")
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert our_endpoint("sts", "eu-west-1") == botocore_endpoint("sts", "eu-west-1")


# --- errors and retries, the same answers to both -------------------------------------------------

THROTTLE = sts_error("Throttling", "Rate exceeded", 400)
HTML_500 = Reply(500, [("Content-Type", "text/html")], b"<html><body>oops</body></html>")
IDP = sts_error("IDPCommunicationError", "IdP unreachable", 400)
EXPIRED = sts_error("ExpiredTokenException", "The security token included is expired", 400)
DENIED = sts_error("AccessDenied", "not authorized to perform: sts:AssumeRole", 403)
OK = None  # the fake's normal answer

SCRIPTS = {
    "access-denied": [DENIED],
    "modeled-expired-token": [EXPIRED],
    "throttled-then-ok": [THROTTLE, OK],
    "html-500-always": [HTML_500] * 6,
    "idp-then-ok": [IDP, OK],
    "closed-then-ok": [Close(), OK],
    "closed-always": [Close()] * 6,
    "403-throttling": [sts_error("ThrottlingException", "slow down", 403), OK],
    "503-xml-then-ok": [sts_error("ServiceUnavailable", "busy", 503), OK],
    "not-xml-403": [Reply(403, [], b"Forbidden by proxy")],
    "empty-500": [Reply(500, [], b""), OK],
    "429-unmodeled-then-ok": [sts_error("SomethingElse", "busy", 429), OK],
    # modeled by AssumeRoleWithWebIdentity, not by AssumeRole: a throttle here
    "429-other-operations-code-then-ok": [sts_error("IDPRejectedClaim", "busy", 429), OK],
    # new in botocore 1.44.8's STS model, modeled by AssumeRole: not retried
    "429-invalid-context-assertion": [sts_error("InvalidContextAssertion", "bad", 429), OK],
    "509-then-ok": [sts_error("BandwidthLimitExceeded", "busy", 509), OK],
    "request-timeout-then-ok": [sts_error("RequestTimeout", "slow", 400), OK],
}


def run_script(script, mode, attempts, which, monkeypatch):
    with FakeSTS() as sts:
        sts.fail(*script)
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        monkeypatch.setenv("AWS_RETRY_MODE", mode)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", str(attempts))
        keys = dict(aws_access_key_id="AKIDSOURCE", aws_secret_access_key="sourcesecret")
        if which == "botocore":
            client = botocore_session().create_client("sts", region_name="eu-west-1", **keys)
        else:
            client = create_nested_client(Session(), "sts", region_name="eu-west-1", **keys)
        try:
            result = client.assume_role(RoleArn=ROLE, RoleSessionName="retry-test")
            outcome = ("ok", result["Credentials"]["AccessKeyId"])
        except Exception as e:
            outcome = ("error", type(e).__name__, str(e).replace(sts.url, "<url>"))
        return outcome, len(sts.calls)


@pytest.mark.differential
@pytest.mark.parametrize("mode", ["legacy", "standard"])
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_errors_and_retries_match_botocore(monkeypatch, name, mode):
    # No backoff on either side (the scripts hold no Delay that needs time.sleep): botocore
    # sleeps with time.sleep, our nested clients (on the C engine) through _nested._sleep.
    from sagemaker_rt_c.credentials import _nested

    sleeps = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    monkeypatch.setattr(_nested, "_sleep", sleeps.append)
    script = SCRIPTS[name]
    theirs = run_script(script, mode, 3, "botocore", monkeypatch)
    ours = run_script(script, mode, 3, "ours", monkeypatch)
    if name == "not-xml-403":
        # botocore's ResponseParserError message repeats the body; ours leaves it out.
        assert theirs[0][1] == ours[0][1] == "ResponseParserError"
        assert ours[0][2].startswith("Unable to parse response (")
        assert theirs[1] == ours[1]
        return
    assert ours == theirs


@pytest.mark.differential
def test_modeled_error_class_and_catchability(monkeypatch):
    import botocore.exceptions

    (outcome, _) = run_script([EXPIRED], "legacy", 1, "ours", monkeypatch)
    assert outcome[1] == "ExpiredTokenException"
    with FakeSTS() as sts:
        sts.fail(EXPIRED)
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        client = create_nested_client(
            Session(),
            "sts",
            region_name="eu-west-1",
            aws_access_key_id="A",
            aws_secret_access_key="s",
        )
        with pytest.raises(client.exceptions.ExpiredTokenException) as info:
            client.assume_role(RoleArn=ROLE, RoleSessionName="catch")
    assert isinstance(info.value, exceptions.ClientError)
    assert isinstance(info.value, botocore.exceptions.ClientError)
    assert info.value.response["Error"] == {
        "Type": "Sender",
        "Code": "ExpiredTokenException",
        "Message": "The security token included is expired",
    }
    assert info.value.response["ResponseMetadata"]["RequestId"] == "req-err"


@pytest.mark.differential
@pytest.mark.parametrize(
    "params",
    [
        {"RoleArn": ROLE, "RoleSessionName": "x"},
        {"RoleArn": "arn:short", "RoleSessionName": "ok-name", "DurationSeconds": 60},
        {"RoleSessionName": "ok-name", "DurationSeconds": "3600", "ExternalId": 5},
        {"RoleArn": ROLE, "RoleSessionName": "ok", "Bogus": 1},
    ],
)
def test_parameter_validation_matches_botocore(params):
    boto = botocore_session().create_client(
        "sts", region_name="us-east-1", aws_access_key_id="A", aws_secret_access_key="s"
    )
    ours = create_nested_client(
        Session(), "sts", region_name="us-east-1", aws_access_key_id="A", aws_secret_access_key="s"
    )
    with pytest.raises(Exception) as theirs:
        boto.assume_role(**params)
    with pytest.raises(Exception) as mine:
        ours.assume_role(**params)
    assert type(mine.value).__name__ == type(theirs.value).__name__ == "ParamValidationError"
    assert str(mine.value) == str(theirs.value)


def test_transport_errors():
    session = Session()
    keys = dict(aws_access_key_id="A", aws_secret_access_key="s", region_name="eu-west-1")
    url = refused_url()
    os.environ["AWS_ENDPOINT_URL_STS"] = url
    os.environ["AWS_MAX_ATTEMPTS"] = "1"
    try:
        client = create_nested_client(session, "sts", **keys)
        with pytest.raises(exceptions.EndpointConnectionError) as info:
            client.assume_role(RoleArn=ROLE, RoleSessionName="ss")
        assert str(info.value) == f'Could not connect to the endpoint URL: "{url}/"'
        with ScriptedServer(default=Delay(2.0, Reply(200))) as slow:
            os.environ["AWS_ENDPOINT_URL_STS"] = slow.url
            client = create_nested_client(session, "sts", config=Config(read_timeout=0.3), **keys)
            with pytest.raises(exceptions.ReadTimeoutError) as info:
                client.assume_role(RoleArn=ROLE, RoleSessionName="ss")
            assert str(info.value) == f'Read timeout on endpoint URL: "{slow.url}/"'
    finally:
        del os.environ["AWS_ENDPOINT_URL_STS"], os.environ["AWS_MAX_ATTEMPTS"]


def test_truncated_success_body_never_reaches_the_message(monkeypatch):
    body = (
        b"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIALEAK</AccessKeyId>"
        b"<SecretAccessKey>leakedsecretvalue</SecretAccessKey><Sess"
    )
    with FakeSTS() as sts:
        sts.fail(Reply(200, [("Content-Type", "text/xml")], body))
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        client = create_nested_client(
            Session(),
            "sts",
            region_name="eu-west-1",
            aws_access_key_id="A",
            aws_secret_access_key="s",
        )
        with pytest.raises(_nested.ResponseParserError) as info:
            client.assume_role(RoleArn=ROLE, RoleSessionName="ss")
    assert "leakedsecretvalue" not in str(info.value) and "ASIALEAK" not in str(info.value)
    assert info.value.__context__ is None or "leaked" not in repr(info.value.__context__)


def test_web_identity_token_file_read_at_each_refresh(tmp_path, monkeypatch):
    with FakeSTS(expires_in=600) as sts:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(tmp_path / "token"))
        monkeypatch.setenv("AWS_ROLE_ARN", ROLE)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        write(tmp_path / "token", "first-token")
        creds = Session().get_credentials()
        first = creds.get_frozen_credentials()
        write(tmp_path / "token", "second-token")
        # Less than the mandatory window left: the next use refreshes, with the new token.
        second = creds.get_frozen_credentials()
        tokens = [FakeSTS.params(c)["WebIdentityToken"] for c in sts.calls]
        assert tokens == ["first-token", "second-token"]
        assert first.access_key != second.access_key
        assert all(c.header("authorization") is None for c in sts.calls)


def test_assume_role_cache_shared_by_the_session(tmp_path, monkeypatch):
    write_role_config(tmp_path, monkeypatch)
    with FakeSTS() as sts:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        session = Session(profile_name="role")
        creds = session.get_credentials()
        creds.get_frozen_credentials()
        creds.get_frozen_credentials()
        assert len(sts.calls) == 1
        assert creds._expiry_time > utc_in(3000)


def test_mfa_serial_prompts_once_then_refuses_to_refresh(tmp_path, monkeypatch):
    from sagemaker_rt_c.credentials import _providers

    write_role_config(tmp_path, monkeypatch, "mfa_serial = arn:aws:iam::123456789012:mfa/me\n")
    with FakeSTS(expires_in=300) as sts:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        prompts = []
        monkeypatch.setattr(
            _providers.AssumeRoleCredentialFetcher,
            "_assume_role_kwargs",
            lambda self: dict(self._assume_kwargs, TokenCode=prompts.append(1) or "123456"),
        )
        creds = Session(profile_name="role").get_credentials()
        creds.get_frozen_credentials()
        assert FakeSTS.params(sts.calls[0])["SerialNumber"].endswith(":mfa/me")
        with pytest.raises(exceptions.RefreshWithMFAUnsupportedError):
            creds.get_frozen_credentials()
        assert prompts == [1]


def test_expiration_from_moto_style_fractional_seconds(monkeypatch):
    body = (
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
        "<Credentials><AccessKeyId>ASIAFRAC</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
        "<SessionToken>t</SessionToken><Expiration>2031-01-02T03:04:05.678901Z</Expiration>"
        "</Credentials></AssumeRoleResult></AssumeRoleResponse>"
    ).encode()
    with FakeSTS() as sts:
        sts.fail(Reply(200, [], body))
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        client = create_nested_client(
            Session(),
            "sts",
            region_name="eu-west-1",
            aws_access_key_id="A",
            aws_secret_access_key="s",
        )
        result = client.assume_role(RoleArn=ROLE, RoleSessionName="frac")
    expiration = result["Credentials"]["Expiration"]
    assert expiration == datetime.datetime(2031, 1, 2, 3, 4, 5, 678901, datetime.timezone.utc)
    assert iso(expiration) == "2031-01-02T03:04:05Z"


def assume_role_body(expiration_element, access_key="<AccessKeyId>ASIAODD</AccessKeyId>"):
    return (
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
        f"<Credentials>{access_key}<SecretAccessKey>s</SecretAccessKey>"
        f"<SessionToken>t</SessionToken>{expiration_element}</Credentials>"
        "</AssumeRoleResult></AssumeRoleResponse>"
    ).encode()


@pytest.mark.differential
@pytest.mark.parametrize(
    "expiration, access_key",
    [
        ("<Expiration>soon</Expiration>", None),
        ("<Expiration></Expiration>", None),
        ("<Expiration>2031-02-30T00:00:00Z</Expiration>", None),
        ("<Expiration>4102444800</Expiration>", None),  # epoch seconds: 2100
        ("<Expiration>1700000000</Expiration>", None),  # epoch seconds, in the past
        ("<Expiration>2031</Expiration>", None),  # a number: epoch seconds, not the year
        ("<Expiration>inf</Expiration>", None),
        ("<Expiration>1e30</Expiration>", None),
        ("<Expiration>Tue, 01 Jan 2030 00:00:00 GMT</Expiration>", None),
        ("<Expiration>2031-01-01T00:00:00</Expiration>", None),  # no zone: naive
        ("", None),
        ("<Expiration>2031-01-01T00:00:00Z</Expiration>", "<AccessKeyId></AccessKeyId>"),
    ],
)
def test_odd_expiration_through_the_chain_matches_botocore(
    tmp_path, monkeypatch, expiration, access_key
):
    # botocore reads STS's Expiration with botocore.utils.parse_timestamp (epoch seconds
    # first, then dateutil; errors as 'Invalid timestamp "..."'), an empty element as "".
    write_role_config(tmp_path, monkeypatch)
    monkeypatch.setattr(time, "sleep", lambda s: None)
    body = assume_role_body(expiration, *([access_key] if access_key else []))
    outcomes = []
    for which in ("botocore", "ours"):
        with FakeSTS() as sts:
            sts.fail(Reply(200, [("Content-Type", "text/xml")], body))
            monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
            session = (
                botocore.session.Session(profile="role")
                if which == "botocore"
                else Session(profile_name="role")
            )
            try:
                creds = session.get_credentials()
                frozen = creds.get_frozen_credentials()
                outcomes.append(("ok", tuple(frozen), creds._expiry_time.timestamp()))
            except Exception as e:
                outcomes.append(("error", type(e).__name__, str(e)))
    assert outcomes[1] == outcomes[0]


@pytest.mark.differential
def test_bad_sts_regional_endpoints_fails_every_client_like_botocore(monkeypatch):
    import boto3

    import sagemaker_rt_c

    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "nearest")
    keys = dict(region_name="us-east-1", aws_access_key_id="A", aws_secret_access_key="s")
    with pytest.raises(Exception) as theirs:
        boto3.client("sagemaker-runtime", **keys)
    with pytest.raises(Exception) as ours:
        sagemaker_rt_c.client("sagemaker-runtime", **keys)
    assert type(ours.value).__name__ == type(theirs.value).__name__
    assert str(ours.value) == str(theirs.value)
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
    sagemaker_rt_c.client("sagemaker-runtime", **keys)


@pytest.mark.differential
def test_sts_through_an_http_proxy_like_botocore(monkeypatch):
    # The fake answers as the proxy: it sees the absolute-form request botocore sends too.
    with FakeSTS() as sts:
        proxy = sts.url.replace("http://", "http://user:p%40ss@")
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://sts.internal.example:8080/base")
        keys = dict(region_name="eu-west-1", aws_access_key_id="A", aws_secret_access_key="s")
        botocore_session().create_client("sts", **keys).assume_role(
            RoleArn=ROLE, RoleSessionName="via-proxy"
        )
        create_nested_client(Session(), "sts", **keys).assume_role(
            RoleArn=ROLE, RoleSessionName="via-proxy"
        )
        seen = [(c.path, c.header("proxy-authorization"), c.header("host")) for c in sts.calls]
        assert seen[0] == seen[1]
        assert seen[1] == (
            "http://sts.internal.example:8080/base",
            "Basic dXNlcjpwQHNz",
            "sts.internal.example:8080",
        )
