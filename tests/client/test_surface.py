"""The rest of boto3's client surface, compared with boto3 itself."""

import pickle

import pytest
from conftest import make_boto3, make_ours
from servers import Reply

import sagemaker_rt_c


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:
        return ("error", type(e).__name__, str(e))


@pytest.mark.differential
@pytest.mark.parametrize("op", ["invoke_endpoint", "InvokeEndpoint", "nope", ""])
def test_can_paginate_and_get_paginator(op):
    b, o = make_boto3(), make_ours()
    assert outcome(lambda: o.can_paginate(op)) == outcome(lambda: b.can_paginate(op))
    assert outcome(lambda: o.get_paginator(op)) == outcome(lambda: b.get_paginator(op))


@pytest.mark.differential
@pytest.mark.parametrize("name", ["endpoint_in_service", "x", ""])
def test_get_waiter(name):
    b, o = make_boto3(), make_ours()
    assert outcome(lambda: o.get_waiter(name)) == outcome(lambda: b.get_waiter(name))
    assert o.waiter_names == b.waiter_names == []


@pytest.mark.differential
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"region_name": "eu-west-1"},
        {"region_name": "cn-north-1"},
        {"region_name": "us-gov-west-1"},
        {"endpoint_url": "http://localhost:8080"},
    ],
)
def test_meta(kw):
    b, o = make_boto3(**kw), make_ours(**kw)
    assert o.meta.region_name == b.meta.region_name
    assert o.meta.endpoint_url == b.meta.endpoint_url
    assert o.meta.partition == b.meta.partition
    # Ours lists the operations it implements (README: the streaming and async operations
    # come with later issues); each one maps as boto3 maps it.
    for py_name, op in o.meta.method_to_api_mapping.items():
        assert b.meta.method_to_api_mapping[py_name] == op
    assert o.meta.config.retries == b.meta.config.retries
    assert o.meta.config.connect_timeout == b.meta.config.connect_timeout
    assert o.meta.config.read_timeout == b.meta.config.read_timeout


@pytest.mark.differential
def test_exceptions_attribute():
    b, o = make_boto3(), make_ours()
    names = [
        "InternalDependencyException",
        "InternalFailure",
        "InternalStreamFailure",
        "ModelError",
        "ModelNotReadyException",
        "ModelStreamError",
        "ServiceUnavailable",
        "ValidationError",
    ]
    for name in names:
        ours = getattr(o.exceptions, name)
        assert issubclass(ours, o.exceptions.ClientError)
        assert issubclass(ours, sagemaker_rt_c.exceptions.ClientError)
        assert ours is getattr(make_ours().exceptions, name)  # one class per process
        assert ours is getattr(sagemaker_rt_c.exceptions, name)
        assert o.exceptions.from_code(name) is ours
        assert b.exceptions.from_code(name).__name__ == name
    assert o.exceptions.from_code("Throttling") is sagemaker_rt_c.exceptions.ClientError
    assert outcome(lambda: o.exceptions.Nope)[1] == outcome(lambda: b.exceptions.Nope)[1]


@pytest.mark.differential
def test_unknown_service_fails_as_boto3():
    import boto3

    for name in ("s3", "sagemaker", "nope"):
        theirs = outcome(lambda n=name: boto3.client(n, region_name="us-east-1"))
        ours = outcome(lambda n=name: sagemaker_rt_c.client(n, region_name="us-east-1"))
        # boto3 knows every AWS service; we know sagemaker-runtime only, and say so.
        assert ours == (
            "error",
            "UnknownServiceError",
            f"Unknown service: '{name}'. Valid service names are: sagemaker-runtime",
        )
        if theirs[0] == "error":
            assert theirs[2].startswith(f"Unknown service: '{name}'. Valid service names are: ")


@pytest.mark.differential
def test_positional_arguments_rejected_as_boto3():
    b, o = make_boto3(), make_ours()
    assert outcome(lambda: o.invoke_endpoint("ep", b"x")) == outcome(
        lambda: b.invoke_endpoint("ep", b"x")
    )


@pytest.mark.differential
def test_no_credentials_at_call_time(server):
    b = make_boto3(endpoint_url=server.url, aws_access_key_id=None, aws_secret_access_key=None)
    o = make_ours(endpoint_url=server.url, aws_access_key_id=None, aws_secret_access_key=None)
    theirs = outcome(lambda: b.invoke_endpoint(EndpointName="e", Body=b""))
    ours = outcome(lambda: o.invoke_endpoint(EndpointName="e", Body=b""))
    assert ours == theirs == ("error", "NoCredentialsError", "Unable to locate credentials")
    assert server.requests == []


@pytest.mark.differential
def test_no_region_at_construction():
    import boto3

    theirs = outcome(lambda: boto3.client("sagemaker-runtime"))
    ours = outcome(lambda: sagemaker_rt_c.client("sagemaker-runtime"))
    assert ours == theirs


@pytest.mark.differential
def test_client_error_is_caught_as_botocore_client_error(server):
    import botocore.exceptions

    server.queue(Reply(400, [("x-amzn-ErrorType", "ValidationError")], b'{"message":"bad"}'))
    o = make_ours(endpoint_url=server.url)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        o.invoke_endpoint(EndpointName="e", Body=b"")
    assert isinstance(info.value, o.exceptions.ValidationError)
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value)


def test_repr_hides_secrets():
    o = make_ours(aws_session_token="SESSIONTOKEN")
    from conftest import SECRET_KEY

    for text in (repr(o), repr(o.meta), repr(o.meta.config), repr(o._credentials)):
        assert SECRET_KEY not in text
        assert "SESSIONTOKEN" not in text


def test_close_then_call_again(server):
    o = make_ours(endpoint_url=server.url)
    o.invoke_endpoint(EndpointName="e", Body=b"1")
    o.close()
    assert (
        o.invoke_endpoint(EndpointName="e", Body=b"2")["ResponseMetadata"]["HTTPStatusCode"] == 200
    )
    assert server.connections_accepted == 2


def test_help_shows_real_parameters():
    o = make_ours()
    import inspect

    sig = inspect.signature(type(o).invoke_endpoint)
    assert "EndpointName" in sig.parameters and "SessionId" in sig.parameters
    assert "generate_presigned_url" in dir(o)


def test_the_call_path_runs_no_python_code(server):
    """A successful invoke_endpoint, and dropping its response, run no Python frame: no
    per-call Python machinery (the profiler sees C calls only)."""
    import sys

    client = make_ours(endpoint_url=server.url)
    client.invoke_endpoint(EndpointName="e", Body=b"warm")
    frames = []

    def profile(frame, event, arg):
        if event == "call":
            frames.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        response = client.invoke_endpoint(EndpointName="e", Body=b"x", ContentType="text/csv")
        del response
    finally:
        sys.setprofile(None)
    assert frames == []
