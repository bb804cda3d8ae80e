"""The default credential chain against botocore's, and what it costs when it is not needed.

Differential tests: for each environment (variables, ~/.aws files, the SSO cache, fake STS /
IMDS / container / SSO services on loopback) boto3 and sagemaker_rt_c each run in a fresh
interpreter (tests/cred_runner.py), send InvokeEndpoint to a capture server, and must send
the same access key, session token and signing region, hold the same secret (compared by
hash), account id and provider method, or fail with the same exception and message. Every
case also states what it expects, so two identical failures cannot pass for a success.

Cost tests: importing the package, and making a client from explicit keys or environment
variables, open no file, start no process and make no connection (audit hooks in a fresh
interpreter), and import none of the chain's other modules.
"""

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import botocore.credentials
import botocore.session
import pytest
from conftest import ROOT, TESTS
from credfakes import (
    FakeContainer,
    FakeIMDS,
    FakeSSO,
    FakeSTS,
    Reply,
    iso,
    refused_url,
    sso_cache_file,
    sts_error,
    utc_in,
    write,
    write_sso_token,
)

from sagemaker_rt_c import credentials as our_credentials
from sagemaker_rt_c.session import Session

RUNNER = os.path.join(TESTS, "cred_runner.py")
ROLE = "arn:aws:iam::123456789012:role/chain-role"
ROLE2 = "arn:aws:iam::123456789012:role/second-role"


@pytest.fixture(scope="module")
def sts():
    with FakeSTS() as fake:
        yield fake


@pytest.fixture(scope="module")
def container():
    with FakeContainer(auth="Bearer pod-identity-token") as fake:
        yield fake


@pytest.fixture(scope="module")
def sso():
    refresh = {"refresh-1": ("access-refreshed", "refresh-2")}
    with FakeSSO(valid_tokens={"access-valid"}, refresh_tokens=refresh) as fake:
        yield fake


def child_env(home, extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k.lower() not in ("http_proxy", "https_proxy", "no_proxy")
    }
    env.update(
        HOME=str(home),
        PYTHONPATH=ROOT,
        BOTO_CONFIG=os.path.join(str(home), "no-boto-config"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value.replace("{HOME}", str(home))
    return env


def run_side(which, home, env, opts):
    proc = subprocess.run(
        [sys.executable, RUNNER, which, json.dumps(opts)],
        env=child_env(home, env),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_both(tmp_path, setup, env=None, opts=None):
    """setup(home) writes the files into each side's own HOME (a side may rewrite them)."""
    homes = {}
    for which in ("boto3", "ours"):
        home = tmp_path / which
        home.mkdir()
        setup(home)
        homes[which] = home
    with ThreadPoolExecutor(2) as pool:
        futures = {
            which: pool.submit(run_side, which, homes[which], env or {}, opts or {})
            for which in homes
        }
        results = {which: f.result() for which, f in futures.items()}
    return results["boto3"], results["ours"], homes


def expect_same(tmp_path, setup, env=None, opts=None, method=None, error=None):
    theirs, ours, homes = run_both(tmp_path, setup, env, opts)
    assert ours == theirs
    if method is not None:
        assert theirs["ok"], theirs
        assert theirs["method"] == method
    if error is not None:
        assert not theirs["ok"] and theirs["error"][0] == error, theirs
    return theirs, homes


def nothing(home):
    pass


def aws_files(config=None, credentials=None):
    def setup(home):
        if config is not None:
            write(home / ".aws" / "config", textwrap.dedent(config))
        if credentials is not None:
            write(home / ".aws" / "credentials", textwrap.dedent(credentials))

    return setup


ENV_KEYS = {
    "AWS_ACCESS_KEY_ID": "AKIDENVEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "envsecret",
    "AWS_SESSION_TOKEN": "envtoken",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


# --- static sources -------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.differential
def test_env(tmp_path):
    result, _ = expect_same(tmp_path, nothing, ENV_KEYS, method="env")
    assert result["access_key"] == "AKIDENVEXAMPLE" and result["token"] == "envtoken"


@pytest.mark.slow
@pytest.mark.differential
def test_env_with_expiration_is_refreshable_from_env(tmp_path):
    env = dict(ENV_KEYS, AWS_CREDENTIAL_EXPIRATION=iso(utc_in(7200)), AWS_ACCOUNT_ID="1234")
    result, _ = expect_same(tmp_path, nothing, env, method="env")
    assert result["account_id"] == "1234"


@pytest.mark.slow
@pytest.mark.differential
def test_env_partial(tmp_path):
    env = {"AWS_ACCESS_KEY_ID": "AKIDONLY", "AWS_DEFAULT_REGION": "eu-west-1"}
    expect_same(tmp_path, nothing, env, error="PartialCredentialsError")


@pytest.mark.slow
@pytest.mark.differential
def test_shared_credentials_file(tmp_path):
    setup = aws_files(
        config="""
            [default]
            region = ap-south-1
            """,
        credentials="""
            [default]
            aws_access_key_id = AKIDFILE
            aws_secret_access_key = filesecret
            aws_session_token = filetoken
            """,
    )
    result, _ = expect_same(tmp_path, setup, method="shared-credentials-file")
    assert result["scope_region"] == "ap-south-1"


@pytest.mark.slow
@pytest.mark.differential
def test_config_file_profile(tmp_path):
    setup = aws_files(
        config="""
            [profile dev]
            region = us-west-2
            aws_access_key_id = AKIDCONFIG
            aws_secret_access_key = configsecret
            aws_account_id = 111122223333
            """
    )
    expect_same(tmp_path, setup, {"AWS_PROFILE": "dev"}, method="config-file")


@pytest.mark.slow
@pytest.mark.differential
def test_ec2_credentials_file(tmp_path):
    def setup(home):
        write(home / "ec2creds", "AWSAccessKeyId=AKIDEC2FILE\nAWSSecretKey=ec2secret\n")

    env = {"AWS_CREDENTIAL_FILE": "{HOME}/ec2creds", "AWS_DEFAULT_REGION": "us-east-1"}
    expect_same(tmp_path, setup, env, method="ec2-credentials-file")


@pytest.mark.slow
@pytest.mark.differential
def test_boto2_config(tmp_path):
    def setup(home):
        write(
            home / "boto.cfg",
            "[Credentials]\naws_access_key_id = AKIDBOTO\naws_secret_access_key = botosecret\n",
        )

    env = {"BOTO_CONFIG": "{HOME}/boto.cfg", "AWS_DEFAULT_REGION": "us-east-1"}
    expect_same(tmp_path, setup, env, method="boto-config")


@pytest.mark.slow
@pytest.mark.differential
def test_no_credentials_anywhere(tmp_path):
    expect_same(tmp_path, nothing, {"AWS_DEFAULT_REGION": "us-east-1"}, error="NoCredentialsError")


@pytest.mark.slow
@pytest.mark.differential
def test_missing_profile(tmp_path):
    expect_same(tmp_path, nothing, {"AWS_PROFILE": "nope"}, error="ProfileNotFound")


# --- assume role ----------------------------------------------------------------------------------


def role_config(sts_url, body):
    return aws_files(
        config=f"""
            [profile base]
            aws_access_key_id = AKIDBASE
            aws_secret_access_key = basesecret

            {textwrap.dedent(body)}
            """
    )


@pytest.mark.slow
@pytest.mark.differential
def test_assume_role_source_profile(tmp_path, sts):
    setup = role_config(
        sts.url,
        f"""
        [profile role]
        role_arn = {ROLE}
        source_profile = base
        role_session_name = chain-session
        external_id = external-1
        duration_seconds = 1800
        region = eu-central-1
        """,
    )
    before = len(sts.calls)
    env = {"AWS_PROFILE": "role", "AWS_ENDPOINT_URL_STS": sts.url}
    result, _ = expect_same(tmp_path, setup, env, method="assume-role")
    assert result["account_id"] == "123456789012"
    calls = sts.calls[before:]
    assert len(calls) == 2
    params = [FakeSTS.params(c) for c in calls]
    assert params[0] == params[1]
    assert list(params[0]) == [
        "Action",
        "Version",
        "RoleSessionName",
        "ExternalId",
        "DurationSeconds",
        "RoleArn",
    ]
    assert params[0]["DurationSeconds"] == "1800"
    for call in calls:
        auth = call.header("authorization")
        assert "Credential=AKIDBASE/" in auth and "/eu-central-1/sts/aws4_request" in auth


@pytest.mark.slow
@pytest.mark.differential
def test_assume_role_chain_of_roles(tmp_path, sts):
    setup = role_config(
        sts.url,
        f"""
        [profile first]
        role_arn = {ROLE}
        source_profile = base

        [profile second]
        role_arn = {ROLE2}
        source_profile = first
        region = us-west-2
        """,
    )
    before = len(sts.calls)
    env = {"AWS_PROFILE": "second", "AWS_ENDPOINT_URL_STS": sts.url}
    expect_same(tmp_path, setup, env, method="assume-role")
    # Each side: first role signed with the static keys, second with the first role's keys.
    signers = [FakeSTS.signer(c) for c in sts.calls[before:]]
    assert signers.count("AKIDBASE") == 2
    assert len({s for s in signers if s != "AKIDBASE"}) == 1


@pytest.mark.slow
@pytest.mark.differential
def test_assume_role_credential_source_environment(tmp_path, sts):
    setup = aws_files(
        config=f"""
            [profile role]
            role_arn = {ROLE}
            credential_source = Environment
            region = eu-west-2
            """
    )
    env = dict(ENV_KEYS, AWS_ENDPOINT_URL_STS=sts.url)
    opts = {"session_kwargs": {"profile_name": "role"}}
    expect_same(tmp_path, setup, env, opts, method="assume-role")


@pytest.mark.slow
@pytest.mark.differential
def test_assume_role_credential_source_imds(tmp_path, sts):
    with FakeIMDS() as imds:
        setup = aws_files(
            config=f"""
                [profile role]
                role_arn = {ROLE}
                credential_source = Ec2InstanceMetadata
                region = eu-west-2
                """
        )
        env = {
            "AWS_PROFILE": "role",
            "AWS_ENDPOINT_URL_STS": sts.url,
            "AWS_EC2_METADATA_DISABLED": None,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url,
        }
        expect_same(tmp_path, setup, env, method="assume-role")
        assert any(c.method == "PUT" for c in imds.calls)


@pytest.mark.slow
@pytest.mark.differential
def test_assume_role_credential_source_container(tmp_path, sts, container):
    setup = aws_files(
        config=f"""
            [profile role]
            role_arn = {ROLE}
            credential_source = EcsContainer
            region = eu-west-2
            """
    )
    env = {
        "AWS_PROFILE": "role",
        "AWS_ENDPOINT_URL_STS": sts.url,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + "/v1/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer pod-identity-token",
    }
    expect_same(tmp_path, setup, env, method="assume-role")


@pytest.mark.slow
@pytest.mark.differential
def test_assume_role_access_denied(tmp_path):
    with FakeSTS() as sts:
        sts.fail(*[sts_error("AccessDenied", "User: arn:aws:iam::1:user/x is not authorized")] * 2)
        setup = role_config(
            sts.url,
            f"""
            [profile role]
            role_arn = {ROLE}
            source_profile = base
            region = eu-west-1
            """,
        )
        env = {"AWS_PROFILE": "role", "AWS_ENDPOINT_URL_STS": sts.url}
        result, _ = expect_same(tmp_path, setup, env, error="ClientError")
        assert result["error"][1] == (
            "An error occurred (AccessDenied) when calling the AssumeRole operation: "
            "User: arn:aws:iam::1:user/x is not authorized"
        )


@pytest.mark.slow
@pytest.mark.differential
def test_assume_role_source_profile_missing(tmp_path):
    setup = aws_files(
        config=f"""
            [profile role]
            role_arn = {ROLE}
            source_profile = ghost
            region = eu-west-1
            """
    )
    expect_same(tmp_path, setup, {"AWS_PROFILE": "role"}, error="InvalidConfigError")


# --- web identity ---------------------------------------------------------------------------------


def token_file(home):
    write(home / "eks-token", "eyJhbGciOiJSUzI1NiJ9.web-identity-token.sig")


@pytest.mark.slow
@pytest.mark.differential
@pytest.mark.parametrize("session_name", ["eks-session", None])
def test_web_identity_from_env(tmp_path, sts, session_name):
    env = {
        "AWS_WEB_IDENTITY_TOKEN_FILE": "{HOME}/eks-token",
        "AWS_ROLE_ARN": ROLE,
        "AWS_ROLE_SESSION_NAME": session_name,
        "AWS_DEFAULT_REGION": "us-east-2",
        "AWS_ENDPOINT_URL_STS": sts.url,
    }
    before = len(sts.calls)
    expect_same(tmp_path, token_file, env, method="assume-role-with-web-identity")
    for call in sts.calls[before:]:
        assert call.header("authorization") is None
        assert FakeSTS.params(call)["WebIdentityToken"].startswith("eyJ")


@pytest.mark.slow
@pytest.mark.differential
def test_web_identity_from_profile(tmp_path, sts):
    def setup(home):
        token_file(home)
        write(
            home / ".aws" / "config",
            f"[profile irsa]\nweb_identity_token_file = {home}/eks-token\n"
            f"role_arn = {ROLE}\nregion = ap-northeast-1\n",
        )

    env = {"AWS_PROFILE": "irsa", "AWS_ENDPOINT_URL_STS": sts.url}
    expect_same(tmp_path, setup, env, method="assume-role-with-web-identity")


@pytest.mark.slow
@pytest.mark.differential
def test_web_identity_without_role_arn(tmp_path):
    env = {"AWS_WEB_IDENTITY_TOKEN_FILE": "{HOME}/eks-token", "AWS_DEFAULT_REGION": "us-east-1"}
    expect_same(tmp_path, token_file, env, error="InvalidConfigError")


# --- SSO ------------------------------------------------------------------------------------------

SSO_CONFIG = """
[profile sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Inference
region = us-west-2

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = eu-west-1
sso_account_id = 210987654321
sso_role_name = Legacy
region = eu-west-1
"""


def sso_env(sso):
    return {"AWS_ENDPOINT_URL_SSO": sso.url, "AWS_ENDPOINT_URL_SSO_OIDC": sso.url}


@pytest.mark.slow
@pytest.mark.differential
def test_sso_session(tmp_path, sso):
    def setup(home):
        write(home / ".aws" / "config", SSO_CONFIG)
        write_sso_token(home, "corp", "access-valid", iso(utc_in(3600)))

    env = dict(sso_env(sso), AWS_PROFILE="sso")
    result, _ = expect_same(tmp_path, setup, env, method="sso")
    assert result["account_id"] == "123456789012"


@pytest.mark.slow
@pytest.mark.differential
def test_sso_session_token_refreshed_and_cache_rewritten(tmp_path, sso):
    # One set of timestamps for both sides: the rewritten cache files are compared.
    expires, registration_expires = iso(utc_in(300)), iso(utc_in(86400))

    def setup(home):
        write(home / ".aws" / "config", SSO_CONFIG)
        write_sso_token(
            home,
            "corp",
            "access-old",
            expires,
            refreshToken="refresh-1",
            clientId="client-1",
            clientSecret="client-secret-1",
            registrationExpiresAt=registration_expires,
            region="us-east-1",
            startUrl="https://corp.awsapps.com/start",
        )

    env = dict(sso_env(sso), AWS_PROFILE="sso")
    _, homes = expect_same(tmp_path, setup, env, method="sso")
    caches = []
    for home in homes.values():
        with open(sso_cache_file(home, "corp")) as f:
            cache = json.load(f)
        assert cache.pop("expiresAt").endswith("Z")
        caches.append(cache)
        assert oct(os.stat(sso_cache_file(home, "corp")).st_mode & 0o777) == "0o600"
    assert caches[0] == caches[1]
    assert caches[0]["accessToken"] == "access-refreshed"
    assert caches[0]["refreshToken"] == "refresh-2"


@pytest.mark.slow
@pytest.mark.differential
def test_sso_session_expired_and_not_refreshable(tmp_path, sso):
    def setup(home):
        write(home / ".aws" / "config", SSO_CONFIG)
        write_sso_token(home, "corp", "access-valid", iso(utc_in(-60)))

    env = dict(sso_env(sso), AWS_PROFILE="sso")
    expect_same(tmp_path, setup, env, error="TokenRetrievalError")


@pytest.mark.slow
@pytest.mark.differential
def test_sso_legacy(tmp_path, sso):
    def setup(home):
        write(home / ".aws" / "config", SSO_CONFIG)
        write_sso_token(home, "https://legacy.awsapps.com/start", "access-valid", iso(utc_in(600)))

    env = dict(sso_env(sso), AWS_PROFILE="legacy")
    expect_same(tmp_path, setup, env, method="sso")


@pytest.mark.slow
@pytest.mark.differential
def test_sso_legacy_expired(tmp_path, sso):
    def setup(home):
        write(home / ".aws" / "config", SSO_CONFIG)
        write_sso_token(home, "https://legacy.awsapps.com/start", "access-valid", iso(utc_in(-5)))

    env = dict(sso_env(sso), AWS_PROFILE="legacy")
    expect_same(tmp_path, setup, env, error="UnauthorizedSSOTokenError")


@pytest.mark.slow
@pytest.mark.differential
def test_sso_token_refused_by_portal(tmp_path, sso):
    def setup(home):
        write(home / ".aws" / "config", SSO_CONFIG)
        write_sso_token(home, "corp", "access-revoked", iso(utc_in(3600)))

    env = dict(sso_env(sso), AWS_PROFILE="sso")
    expect_same(tmp_path, setup, env, error="UnauthorizedSSOTokenError")


@pytest.mark.slow
@pytest.mark.differential
def test_sso_not_logged_in(tmp_path, sso):
    env = dict(sso_env(sso), AWS_PROFILE="sso")
    expect_same(tmp_path, aws_files(config=SSO_CONFIG), env, error="SSOTokenLoadError")


# --- credential_process ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.differential
def test_credential_process(tmp_path):
    script = (
        "import json; print(json.dumps({'Version': 1, 'AccessKeyId': 'AKIDPROCESS', "
        "'SecretAccessKey': 'processsecret', 'SessionToken': 'processtoken', "
        f"'Expiration': '{iso(utc_in(3600))}', 'AccountId': '999988887777'}}))"
    )

    def setup(home):
        write(home / "creds.py", script)
        write(
            home / ".aws" / "config",
            f"[profile proc]\ncredential_process = {sys.executable} {home}/creds.py\n"
            "region = sa-east-1\n",
        )

    result, _ = expect_same(tmp_path, setup, {"AWS_PROFILE": "proc"}, method="custom-process")
    assert result["account_id"] == "999988887777"


# --- container and instance metadata --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.differential
def test_container_relative_uri(tmp_path, container):
    env = {
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/task-role",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer pod-identity-token",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    opts = {"container_ip": f"127.0.0.1:{container.port}"}
    result, _ = expect_same(tmp_path, nothing, env, opts, method="container-role")
    assert result["account_id"] == "210987654321"


@pytest.mark.slow
@pytest.mark.differential
@pytest.mark.parametrize("via_file", [False, True])
def test_container_full_uri_pod_identity(tmp_path, container, via_file):
    def setup(home):
        write(home / "pod-token", "Bearer pod-identity-token")

    env = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + "/v1/credentials",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    if via_file:
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = "{HOME}/pod-token"
    else:
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer pod-identity-token"
    expect_same(tmp_path, setup, env, method="container-role")


@pytest.mark.slow
@pytest.mark.differential
def test_container_host_not_allowed(tmp_path):
    env = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.169.254/creds",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    expect_same(tmp_path, nothing, env, error="ValueError")


@pytest.mark.slow
@pytest.mark.differential
@pytest.mark.parametrize("token_status", [200, 404])
def test_instance_metadata(tmp_path, token_status):
    with FakeIMDS() as imds:
        imds.token_status = token_status
        env = {
            "AWS_EC2_METADATA_DISABLED": None,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url,
            "AWS_DEFAULT_REGION": "eu-west-3",
        }
        expect_same(tmp_path, nothing, env, method="iam-role")
        tokens = {c.header("x-aws-ec2-metadata-token") for c in imds.calls if c.method == "GET"}
        assert tokens == ({FakeIMDS.TOKEN} if token_status == 200 else {None})


@pytest.mark.slow
@pytest.mark.differential
def test_instance_metadata_does_not_give_the_client_a_region(tmp_path):
    # botocore asks IMDS for the region only for defaults_mode "auto": without a configured
    # region both fail the same way even though the metadata service knows one.
    with FakeIMDS() as imds:
        env = {
            "AWS_EC2_METADATA_DISABLED": None,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url,
        }
        expect_same(tmp_path, nothing, env, error="NoRegionError")


@pytest.mark.slow
@pytest.mark.differential
def test_instance_metadata_unreachable_means_no_credentials(tmp_path):
    env = {
        "AWS_EC2_METADATA_DISABLED": None,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": refused_url(),
        "AWS_DEFAULT_REGION": "eu-west-3",
    }
    expect_same(tmp_path, nothing, env, error="NoCredentialsError")


# --- the chain's structure, in process ------------------------------------------------------------


def botocore_methods(profile_name=None):
    session = botocore.session.Session(profile=profile_name)
    resolver = botocore.credentials.create_credential_resolver(session)
    return [p.METHOD for p in resolver.providers]


def our_methods(profile_name=None):
    session = Session(profile_name=profile_name)
    resolver = our_credentials.create_credential_resolver(session)
    return [p.METHOD for p in resolver.providers]


@pytest.mark.differential
def test_provider_order_matches_botocore(monkeypatch, tmp_path):
    write(tmp_path / "config", "[profile p]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    assert our_methods() == botocore_methods()
    assert our_methods("p") == botocore_methods("p")
    assert "env" not in our_methods("p")


def test_resolver_editing_like_botocore():
    resolver = our_credentials.create_credential_resolver(Session())

    class Custom(our_credentials.CredentialProvider):
        METHOD = "custom"

        def load(self):
            return our_credentials.Credentials("AKIDCUSTOM", "s", method=self.METHOD)

    resolver.insert_before("env", Custom())
    assert resolver.load_credentials().access_key == "AKIDCUSTOM"
    assert resolver.get_provider("custom").METHOD == "custom"
    resolver.remove("custom")
    with pytest.raises(Exception) as info:
        resolver.get_provider("custom")
    assert type(info.value).__name__ == "UnknownCredentialError"


def test_lazy_names_resolve():
    assert our_credentials.AssumeRoleProvider.METHOD == "assume-role"
    assert our_credentials.InstanceMetadataProvider.CANONICAL_NAME == "Ec2InstanceMetadata"
    assert "ContainerProvider" in dir(our_credentials)
    with pytest.raises(AttributeError):
        our_credentials.NoSuchProvider  # noqa: B018


@pytest.mark.differential
@pytest.mark.parametrize(
    "env",
    [
        {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv5"},
        {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://bad host/"},
        {"AWS_METADATA_SERVICE_TIMEOUT": "soon"},
        # Several at once: the first botocore reads wins.
        {
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://bad host/",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv5",
            "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "many",
        },
        {
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://bad host/",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv5",
        },
    ],
)
def test_invalid_imds_settings_fail_like_botocore_even_with_env_keys(monkeypatch, env):
    for name, value in dict(ENV_KEYS, **env).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(Exception) as theirs:
        botocore.session.Session().get_credentials()
    with pytest.raises(Exception) as ours:
        Session().get_credentials()
    assert type(ours.value).__name__ == type(theirs.value).__name__
    assert str(ours.value) == str(theirs.value)


# --- no cost where not needed ---------------------------------------------------------------------

AUDIT = r"""
import json, os, sys
EVENTS = []
WATCH = ("open", "socket.", "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
         "os.fork", "os.spawn")
def hook(event, args):
    if event.startswith(WATCH):
        EVENTS.append([event, str(args[0]) if args else ""])
mode = sys.argv[1]
if mode == "import":
    sys.addaudithook(hook)
import sagemaker_rt_c
before = set(sys.modules)
if mode != "import":
    sys.addaudithook(hook)
    kwargs = {"region_name": "us-east-1"}
    if mode == "explicit":
        kwargs.update(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
    client = sagemaker_rt_c.client("sagemaker-runtime", **kwargs)
    assert client._settings.credentials.access_key == "AKIDEXAMPLE"
new = sorted(m for m in set(sys.modules) - before if m.startswith("sagemaker_rt_c"))
print(json.dumps({"events": EVENTS, "new_modules": new}))
"""


@pytest.mark.parametrize("mode", ["import", "explicit", "env"])
def test_import_and_key_clients_touch_nothing(tmp_path, mode):
    env = child_env(tmp_path, {})
    env.pop("AWS_EC2_METADATA_DISABLED")
    # The chain's triggers are all set: none may be acted on.
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "missing-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "missing-credentials"),
        AWS_WEB_IDENTITY_TOKEN_FILE=str(tmp_path / "token"),
        AWS_ROLE_ARN=ROLE,
        AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:9/creds",
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(tmp_path / "pod-token"),
        AWS_CREDENTIAL_FILE=str(tmp_path / "ec2creds"),
        BOTO_CONFIG=str(tmp_path / "boto.cfg"),
        AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:9/",
    )
    if mode == "env":
        env.update(AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret")
    proc = subprocess.run(
        [sys.executable, "-c", AUDIT, mode], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    events = result["events"]
    if mode == "import":
        # Only the package's own modules (and what they import) are opened.
        assert all(e[0] == "open" and e[1].endswith((".py", ".pyc", ".so")) for e in events), events
        assert not any(".aws" in e[1] or str(tmp_path) in e[1] for e in events)
    else:
        assert events == []
        assert result["new_modules"] == []


def test_chain_modules_stay_unimported_with_env_keys(monkeypatch):
    code = textwrap.dedent(
        """
        import sys, sagemaker_rt_c
        s = sagemaker_rt_c.Session()
        assert s.get_credentials().method == "env"
        heavy = [m for m in sys.modules if m.split(".")[-1] in (
            "_providers", "_refreshable", "_sts", "_sso", "_imds", "_container", "_process",
            "_http", "_nested", "json", "datetime", "subprocess", "http.client", "xml.etree",
            "botocore") or m == "sagemaker_rt_c._transport.http"]
        print(heavy)
        """
    )
    env = child_env("/nonexistent-home", ENV_KEYS)
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_reprs_hide_secrets(tmp_path):
    from sagemaker_rt_c.credentials import (
        DeferredRefreshableCredentials,
        RefreshableCredentials,
    )

    creds = RefreshableCredentials(
        "AKIDREPREXAMPLE", "topsecretvalue", "tokenvalue123", utc_in(3600), dict, "test"
    )
    texts = [repr(creds), repr(creds.get_frozen_credentials()), str(creds)]
    deferred = DeferredRefreshableCredentials(dict, "test")
    texts.append(repr(deferred))
    for text in texts:
        assert "topsecretvalue" not in text and "tokenvalue123" not in text
        assert "AKIDREPREXAMPLE" not in text
    assert "EXAMPLE"[-4:] in texts[0]


def test_unused_fake_reply_type():
    # Reply is re-exported for the failure queues of these fakes.
    assert Reply(200).status == 200


WRITES = r"""
import json, os, sys
WRITTEN = []
def hook(event, args):
    if event == "open":
        path, mode, flags = args
        if isinstance(path, int):
            return  # os.fdopen of a descriptor whose opening was already seen
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        ):
            WRITTEN.append(str(path))
import sagemaker_rt_c
sys.addaudithook(hook)
methods = []
for profile in sys.argv[1:]:
    creds = sagemaker_rt_c.Session(profile_name=profile).get_credentials()
    creds.get_frozen_credentials()
    methods.append(creds.method)
print(json.dumps({"written": WRITTEN, "methods": methods}))
"""


def test_only_the_sso_token_refresh_writes_a_file(tmp_path, sts, sso):
    home = tmp_path / "home"
    write(home / "eks-token", "eyJ.token.sig")
    write(
        home / "creds.py", 'print(\'{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "S"}\')'
    )
    write(
        home / ".aws" / "config",
        SSO_CONFIG
        + f"""
[profile static]
aws_access_key_id = AKIDSTATIC
aws_secret_access_key = s

[profile role]
role_arn = {ROLE}
source_profile = static

[profile irsa]
web_identity_token_file = {home}/eks-token
role_arn = {ROLE}

[profile proc]
credential_process = {sys.executable} {home}/creds.py
""",
    )
    write_sso_token(
        home,
        "corp",
        "access-old",
        iso(utc_in(300)),
        refreshToken="refresh-1",
        clientId="client-1",
        clientSecret="client-secret-1",
        registrationExpiresAt=iso(utc_in(86400)),
    )
    env = child_env(
        home, dict(sso_env(sso), AWS_ENDPOINT_URL_STS=sts.url, AWS_DEFAULT_REGION="us-east-1")
    )
    profiles = ["static", "role", "irsa", "proc", "sso"]
    proc = subprocess.run(
        [sys.executable, "-c", WRITES, *profiles],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["methods"] == [
        "config-file",
        "assume-role",
        "assume-role-with-web-identity",
        "custom-process",
        "sso",
    ]
    cache_dir = os.path.join(str(home), ".aws", "sso", "cache")
    assert len(result["written"]) == 1
    assert os.path.dirname(result["written"][0]) == cache_dir
