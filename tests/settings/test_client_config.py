"""Config values that only show when a call is made, against boto3 1.44.8: signature_version,
max_pool_connections, user_agent and user_agent_extra (what goes on the wire, what fails and
when)."""

import botocore
import botocore.auth
import pytest
from apidiff import invoke_both, outcome, presign_both
from botocore.config import Config as BotoConfig
from conftest import ACCESS_KEY, SECRET_KEY
from servers import Reply

import sagemaker_rt_c

pytestmark = pytest.mark.differential

PARAMS = {"EndpointName": "ep", "Body": b"{}", "ContentType": "application/json"}


@pytest.fixture
def ok_server(server):
    server.default = Reply(200, [("Content-Type", "text/plain")], b"ok")
    return server


def clients(server, credentials=True, **config):
    import boto3

    keys = {}
    if credentials:
        keys = dict(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    args = dict(region_name="us-east-1", endpoint_url=server.url, **keys)
    ours = outcome(
        lambda: sagemaker_rt_c.client(
            "sagemaker-runtime", config=sagemaker_rt_c.Config(**config), **args
        )
    )
    theirs = outcome(lambda: boto3.client("sagemaker-runtime", config=BotoConfig(**config), **args))
    return ours, theirs


def same_calls(server, ours, theirs):
    (o, o_reqs), (t, t_reqs) = invoke_both(server, ours, theirs, PARAMS)
    assert o == t
    assert o_reqs == t_reqs
    p = {"EndpointName": "ep", "Body": b""}
    p_ours, p_theirs = presign_both(ours, theirs, "invoke_endpoint", Params=p)
    assert p_ours == p_theirs
    return o, p_ours


@pytest.mark.parametrize("version", ["bogus", "V4", "", "sigv4", "v4a", "hmac-v1"])
@pytest.mark.parametrize("credentials", [True, False])
def test_signature_versions_botocore_does_not_know(ok_server, version, credentials):
    """Made as in boto3; each call raises UnknownSignatureVersionError (before looking for
    credentials), presigning UnsupportedSignatureVersionError ("<version>-query")."""
    ours, theirs = clients(ok_server, credentials, signature_version=version)
    assert ours[0] == theirs[0] == "ok"
    call, presigned = same_calls(ok_server, ours[1], theirs[1])
    assert call[:2] == ("error", "UnknownSignatureVersionError")
    assert presigned[:2] == ("error", "UnsupportedSignatureVersionError")
    assert ok_server.requests == []


@pytest.mark.parametrize("version", sorted(set(botocore.auth.AUTH_TYPE_MAPS) - {"v4"}))
def test_other_signature_versions_are_refused(ok_server, version):
    """Deliberate difference (README): botocore signs with these (SigV2, SigV3, S3's SigV4,
    query auth, bearer tokens ...); we don't implement them and say so at construction."""
    ours, theirs = clients(ok_server, signature_version=version)
    assert theirs[0] == "ok"
    assert ours == (
        "error",
        "UnsupportedSignatureVersionError",
        f"Signature version(s) are not supported: {version}",
    )


def test_signature_version_from_the_profile(ok_server, tmp_path, monkeypatch):
    """The profile's runtime.sagemaker section counts as Config(signature_version=...)."""
    import boto3

    config_file = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    args = dict(region_name="us-east-1", endpoint_url=ok_server.url, aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY)  # fmt: skip
    for version, refused in (("s3v4", True), ("bogus", False), ("v4", False)):
        config_file.write_text(f"[default]\nruntime.sagemaker =\n  signature_version = {version}\n")
        ours = outcome(lambda: sagemaker_rt_c.Session().client("sagemaker-runtime", **args))
        theirs = outcome(lambda: boto3.Session().client("sagemaker-runtime", **args))
        assert theirs[0] == "ok"
        if refused:
            assert ours[:2] == ("error", "UnsupportedSignatureVersionError")
        else:
            call, _ = same_calls(ok_server, ours[1], theirs[1])
            assert call[0] == ("error" if version == "bogus" else "ok")


@pytest.mark.parametrize("size", [None, 2.5, "3", 0, -1, True, False, 1, 1000])
def test_max_pool_connections(ok_server, size):
    """botocore hands max_pool_connections to urllib3 unchecked: a non-integer fails each
    call (HTTPClientError), zero or less keeps any number of connections."""
    ours, theirs = clients(ok_server, max_pool_connections=size)
    assert ours[0] == theirs[0] == "ok"
    call, _ = same_calls(ok_server, ours[1], theirs[1])
    if isinstance(size, (float, str)) or size is None:
        assert call[:2] == ("error", "HTTPClientError")
        assert call[2].endswith("object cannot be interpreted as an integer")
    else:
        assert call[0] == "ok"


@pytest.mark.parametrize("name", ["user_agent", "user_agent_extra"])
@pytest.mark.parametrize(
    "value,what",
    [("a\nb", "line feed"), ("a\rb", "carriage return"), ("\x00", "NUL"), ("a\tb", "tab"),
     ("x\x7f", "DEL"), ("\x1b[0m", "control character")],
)  # fmt: skip
def test_user_agent_control_characters_are_refused(ok_server, name, value, what):
    """Deliberate difference (README): boto3 makes the client and then fails every call (CR,
    LF: "Invalid header value") or sends them raw; we refuse the Config value at once."""
    ours, theirs = clients(ok_server, **{name: value})
    assert theirs[0] == "ok"
    assert ours[:2] == ("error", "InvalidConfigError")
    assert f"Invalid {name} in Config: contains {what} (U+" in ours[2]


@pytest.mark.parametrize("name", ["user_agent", "user_agent_extra", "user_agent_appid"])
@pytest.mark.parametrize("value", ["plain", "café", "€ \u2028", "a b"])
def test_user_agent_values_as_boto3(ok_server, name, value):
    """Printable values, non-ASCII included, go out as boto3 sends them (UTF-8)."""
    ours, theirs = clients(ok_server, **{name: value})
    assert ours[0] == theirs[0] == "ok"
    ours[1].invoke_endpoint(**PARAMS)
    theirs[1].invoke_endpoint(**PARAMS)
    ours_ua, theirs_ua = (r.header("User-Agent") for r in ok_server.requests[-2:])
    if name == "user_agent":
        assert theirs_ua.startswith(ours_ua)  # boto3 adds its session's "Botocore/<v>"
    else:
        assert ours_ua.split(" cfg/")[1] == theirs_ua.split(" cfg/")[1].replace(
            f" Botocore/{botocore.__version__}", ""
        )
