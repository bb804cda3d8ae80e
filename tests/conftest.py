import os
import sys

import pytest

# The test files live in subdirectories by concern (client/, transport/, credentials/, settings/,
# core/, perf/); the shared helpers (servers, credfakes, apidiff, fuzzing, this conftest) and
# the child scripts stay here, importable by their bare names from every test file.
TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)  # the repository: PYTHONPATH for child interpreters
sys.path.insert(0, TESTS)

# boto3 without awscrt is the reference: with awscrt importable, botocore switches to CRT
# signers, which order presigned query parameters differently (README). The benchmarks
# install awscrt; keep it from changing what the differential tests compare against.
os.environ["BOTO_DISABLE_CRT"] = "true"

from servers import ScriptedServer  # noqa: E402

# AWS's documentation example keys: never real.
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def _invoke_headers():
    from sagemaker_rt_c._protocol.operations import OPERATIONS

    return [m for m in OPERATIONS["InvokeEndpoint"]["members"] if m["location"] == "header"]


# InvokeEndpoint's header parameters, in the model's order, and their minimum lengths (0 where
# the model has none): from the tables generated from botocore's model (_operations.py).
INVOKE_HEADER_PARAMS = [m["name"] for m in _invoke_headers()]
INVOKE_HEADER_MIN = {m["name"]: m["min"] or 0 for m in _invoke_headers()}

# Published test vectors, copied into the repository with their licences (conformance/README.md).
CONFORMANCE = os.path.join(TESTS, "conformance")


@pytest.fixture(autouse=True)
def clean_aws_env(monkeypatch, tmp_path):
    """Each test starts with no AWS settings from this machine: no env, no ~/.aws files."""
    for k in list(os.environ):
        if k.startswith("AWS_") or k.lower() in ("http_proxy", "https_proxy", "no_proxy"):
            monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-such-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-such-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield


@pytest.fixture
def server():
    with ScriptedServer() as s:
        yield s


def make_boto3(**kw):
    import boto3

    args = dict(
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    args.update(kw)
    return boto3.client("sagemaker-runtime", **args)


def make_ours(**kw):
    import sagemaker_rt_c

    args = dict(
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    args.update(kw)
    return sagemaker_rt_c.client("sagemaker-runtime", **args)


@pytest.fixture(params=["boto3", "ours"])
def make_client(request):
    """A client factory, once for boto3 and once for sagemaker_rt_c: same kwargs for both."""
    return make_boto3 if request.param == "boto3" else make_ours


def pytest_sessionstart(session):
    # `make test-asan` must really exercise the sanitizer build, not the in-place one.
    if os.environ.get("SMRT_EXPECT_ASAN") == "1":
        import sagemaker_rt_c._core as core

        assert "build-asan" in core.__file__, core.__file__
