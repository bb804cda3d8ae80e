"""Interop with boto3: ``credentials=`` and ``sagemaker_rt_c.from_boto3``.

Requests go to a loopback server; the tests read the access key and token each was signed
with. botocore's credential objects are used as they are (a botocore RefreshableCredentials
keeps refreshing through our client), and nothing imports botocore unless the caller passed
one of its objects.
"""

import subprocess
import sys
import time

import boto3
import botocore.credentials
import botocore.session
import pytest
from botocore import UNSIGNED as BOTO_UNSIGNED
from botocore.config import Config as BotoConfig
from conftest import ROOT
from credfakes import FakeSTS, iso, utc_in, write
from servers import ScriptedServer

import sagemaker_rt_c
from sagemaker_rt_c import credentials as ours
from sagemaker_rt_c import exceptions


@pytest.fixture
def server():
    with ScriptedServer() as s:
        yield s


def signed_by(request):
    auth = request.header("authorization")
    return None if auth is None else auth.split("Credential=", 1)[1].split("/", 1)[0]


def invoke(client):
    client.invoke_endpoint(EndpointName="ep", Body=b"{}", ContentType="application/json")


def scope_region(request):
    return request.header("authorization").split("Credential=", 1)[1].split("/")[2]


# --- credentials= ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ours", "botocore"])
def test_static_credentials_objects(server, kind):
    module = ours if kind == "ours" else botocore.credentials
    creds = module.Credentials("AKIDOBJECT", "objsecret", "objtoken")
    client = sagemaker_rt_c.client(
        "sagemaker-runtime", region_name="eu-west-1", endpoint_url=server.url, credentials=creds
    )
    invoke(client)
    assert signed_by(server.last) == "AKIDOBJECT"
    assert server.last.header("x-amz-security-token") == "objtoken"


@pytest.mark.slow
def test_botocore_refreshable_credentials_keep_refreshing(server):
    generations = []

    def refresh():
        generations.append(1)
        return {
            "access_key": f"AKIDBOTO{len(generations)}",
            "secret_key": "s",
            "token": "t",
            "expiry_time": iso(utc_in(3600)),
        }

    creds = botocore.credentials.RefreshableCredentials(
        "AKIDBOTO0", "s", "t", utc_in(900 + 1.5), refresh, "botocore-test"
    )
    session = sagemaker_rt_c.Session()
    client = session.client(
        "sagemaker-runtime", region_name="us-east-1", endpoint_url=server.url, credentials=creds
    )
    invoke(client)
    time.sleep(1.7)
    invoke(client)
    invoke(client)
    assert [signed_by(r) for r in server.requests] == ["AKIDBOTO0", "AKIDBOTO1", "AKIDBOTO1"]
    assert client._settings.credentials is creds


def test_credentials_argument_errors(server):
    creds = ours.Credentials("AKID", "s")
    with pytest.raises(ValueError, match="cannot be combined"):
        sagemaker_rt_c.client(
            "sagemaker-runtime",
            region_name="us-east-1",
            credentials=creds,
            aws_access_key_id="AKID",
            aws_secret_access_key="s",
        )
    with pytest.raises(TypeError, match="get_frozen_credentials"):
        sagemaker_rt_c.client("sagemaker-runtime", region_name="us-east-1", credentials=("a", "b"))


def test_unsigned_config_ignores_credentials():
    from sagemaker_rt_c.config import UNSIGNED, Config

    client = sagemaker_rt_c.client(
        "sagemaker-runtime",
        region_name="us-east-1",
        credentials=ours.Credentials("AKID", "s"),
        config=Config(signature_version=UNSIGNED),
    )
    assert client._settings.credentials is None


def test_credentials_objects_never_import_botocore(tmp_path):
    code = """
        import sys, sagemaker_rt_c
        from sagemaker_rt_c.credentials import RefreshableCredentials
        import datetime
        exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        creds = RefreshableCredentials("AKID", "s", None, exp, dict, "test")
        client = sagemaker_rt_c.client("sagemaker-runtime", region_name="us-east-1",
                                       credentials=creds, endpoint_url="http://127.0.0.1:9")
        client._refresh_credentials()
        print([m for m in sys.modules if m.split(".")[0] in ("botocore", "boto3", "dateutil")])
    """
    import os
    import textwrap

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = ROOT
    env["AWS_CONFIG_FILE"] = str(tmp_path / "none")
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# --- from_boto3 ----------------------------------------------------------------------------------


def test_from_boto3_session_with_keys(server):
    session = boto3.Session(
        aws_access_key_id="AKIDBOTOSESSION",
        aws_secret_access_key="s",
        aws_session_token="sessiontoken",
        region_name="ap-southeast-2",
    )
    client = sagemaker_rt_c.from_boto3(session, endpoint_url=server.url)
    invoke(client)
    assert signed_by(server.last) == "AKIDBOTOSESSION"
    assert scope_region(server.last) == "ap-southeast-2"
    assert client.meta.region_name == "ap-southeast-2"
    assert client._settings.credentials is session._session.get_credentials()


def test_from_boto3_session_uses_botocores_chain(tmp_path, monkeypatch, server):
    write(
        tmp_path / "config",
        "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n\n"
        "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n"
        "region = sa-east-1\n",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    with FakeSTS() as sts:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        session = boto3.Session(profile_name="role")
        client = sagemaker_rt_c.from_boto3(session, endpoint_url=server.url)
        creds = client._settings.credentials
        assert type(creds).__module__ == "botocore.credentials"
        invoke(client)
        assert signed_by(server.last).startswith("ASIA")
        assert scope_region(server.last) == "sa-east-1"
        # botocore made the STS call (its User-Agent), for the client's region.
        assert sts.calls[0].header("user-agent").startswith("Boto3/")
        assert "/sa-east-1/sts/" in sts.calls[0].header("authorization")


def test_from_botocore_session(server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENVBOTO")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    bc = botocore.session.Session()
    bc.set_config_variable("region", "eu-north-1")
    client = sagemaker_rt_c.from_boto3(bc, endpoint_url=server.url)
    invoke(client)
    assert signed_by(server.last) == "AKIDENVBOTO"
    assert client.meta.region_name == "eu-north-1"


def test_from_boto3_client_copies_region_endpoint_credentials_config(server):
    boto_client = boto3.client(
        "sagemaker-runtime",
        region_name="us-west-2",
        endpoint_url=server.url,
        aws_access_key_id="AKIDBOTOCLIENT",
        aws_secret_access_key="s",
        verify=False,
        config=BotoConfig(
            retries={"mode": "standard", "total_max_attempts": 4},
            read_timeout=7,
            connect_timeout=3,
            max_pool_connections=3,
            user_agent_extra="migrating/1",
            user_agent_appid="my-app",
        ),
    )
    client = sagemaker_rt_c.from_boto3(boto_client)
    settings = client._settings
    assert settings.credentials is boto_client._request_signer._credentials
    assert client.meta.region_name == "us-west-2"
    assert client.meta.endpoint_url == server.url
    assert (settings.retry_mode, settings.max_attempts) == ("standard", 4)
    assert (settings.connect_timeout, settings.read_timeout) == (3, 7)
    assert settings.max_pool_connections == 3 and settings.verify is False
    assert settings.user_agent.endswith("app/my-app migrating/1")
    invoke(client)
    assert signed_by(server.last) == "AKIDBOTOCLIENT"


def test_from_boto3_client_without_custom_endpoint_and_other_services():
    runtime = boto3.client(
        "sagemaker-runtime",
        region_name="eu-west-1",
        aws_access_key_id="A",
        aws_secret_access_key="s",
        config=BotoConfig(use_fips_endpoint=True),
    )
    client = sagemaker_rt_c.from_boto3(runtime)
    assert client.meta.endpoint_url == "https://runtime-fips.sagemaker.eu-west-1.amazonaws.com"
    s3 = boto3.client(
        "s3", region_name="ca-central-1", aws_access_key_id="AKIDS3", aws_secret_access_key="s"
    )
    client = sagemaker_rt_c.from_boto3(s3)
    assert client.meta.endpoint_url == "https://runtime.sagemaker.ca-central-1.amazonaws.com"
    assert client._settings.credentials.access_key == "AKIDS3"


def test_from_boto3_overrides_and_unsigned(server):
    from sagemaker_rt_c.config import Config

    unsigned = boto3.client(
        "sagemaker-runtime",
        region_name="eu-west-1",
        endpoint_url=server.url,
        config=BotoConfig(signature_version=BOTO_UNSIGNED, read_timeout=9),
    )
    client = sagemaker_rt_c.from_boto3(
        unsigned, region_name="eu-west-2", config=Config(connect_timeout=2)
    )
    assert client.meta.region_name == "eu-west-2"
    assert (client._settings.connect_timeout, client._settings.read_timeout) == (2, 9)
    assert client._settings.credentials is None
    keyed = sagemaker_rt_c.from_boto3(
        boto3.client(
            "sagemaker-runtime",
            region_name="eu-west-1",
            endpoint_url=server.url,
            aws_access_key_id="AKIDOLD",
            aws_secret_access_key="s",
        ),
        aws_access_key_id="AKIDNEW",
        aws_secret_access_key="s2",
    )
    invoke(keyed)
    assert signed_by(server.last) == "AKIDNEW"


def test_from_boto3_client_without_credentials_stays_without(monkeypatch, server):
    boto_client = boto3.client(
        "sagemaker-runtime", region_name="eu-west-1", endpoint_url=server.url
    )
    assert boto_client._request_signer._credentials is None
    # Credentials appear after the boto3 client was made: neither client uses them.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLATE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    client = sagemaker_rt_c.from_boto3(boto_client)
    for c in (boto_client, client):
        with pytest.raises(Exception) as info:
            invoke(c)
        assert type(info.value).__name__ == "NoCredentialsError"
    assert server.requests == []


def test_from_boto3_rejects_other_objects():
    with pytest.raises(TypeError, match="boto3 Session"):
        sagemaker_rt_c.from_boto3(object())


def test_login_profile_points_to_from_boto3(tmp_path, monkeypatch):
    # `aws login` profiles need botocore's CRT extra; without it botocore raises the same
    # class (the tests run botocore without CRT). Our message says how to use botocore's.
    write(tmp_path / "config", "[profile login]\nlogin_session = me\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    with pytest.raises(Exception) as theirs:
        botocore.session.Session(profile="login").get_credentials()
    with pytest.raises(exceptions.MissingDependencyException) as info:
        sagemaker_rt_c.Session(profile_name="login").get_credentials()
    assert type(theirs.value).__name__ == "MissingDependencyException"
    assert 'The profile "login" uses login_session' in str(info.value)
    assert "sagemaker_rt_c.from_boto3(boto3.Session(profile_name=...))" in str(info.value)
