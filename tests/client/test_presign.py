"""generate_presigned_url: the same URL as boto3 for the same inputs in the same second."""

import io
import json
import random
import time

import pytest
from conftest import INVOKE_HEADER_MIN, make_boto3, make_ours

pytestmark = pytest.mark.differential

PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))


def same_second(fn_a, fn_b):
    """Run both within one wall-clock second (retry when a second boundary intervenes)."""
    for _ in range(20):
        start = int(time.time())
        a_out, a_err = _run(fn_a)
        b_out, b_err = _run(fn_b)
        if int(time.time()) == start:
            return (a_out, a_err), (b_out, b_err)
    raise AssertionError("could not run both in one second")


def _run(fn):
    try:
        return fn(), None
    except Exception as e:  # compared by type and message
        return None, e


def random_params(rng):
    params = {"EndpointName": "".join(rng.choice("ab-1._~ /é") for _ in range(rng.randint(1, 12)))}
    choice = rng.random()
    if choice < 0.3:
        params["Body"] = b""
    elif choice < 0.7:
        obj = {
            "".join(rng.choice("kxy") for _ in range(3)): rng.choice(
                [1, 2.5, "s t", True, None, [1, 2], {"n": 1}, "é/&="]
            )
            for _ in range(rng.randint(1, 4))
        }
        body = json.dumps(obj)
        params["Body"] = body if rng.random() < 0.5 else body.encode()
    else:
        params["Body"] = "{}"
    for name, minimum in INVOKE_HEADER_MIN.items():
        if rng.random() < 0.4:
            params[name] = "x" * minimum + "".join(
                rng.choice(PRINTABLE) for _ in range(rng.randint(0, 15))
            )
    return params


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("token", [None, "", "TOKEN/with+chars=="])
def test_presigned_url_matches_boto3(seed, token):
    rng = random.Random(seed)
    params = random_params(rng)
    expires = rng.choice([1, 60, 3600, 604800])
    method = rng.choice([None, "GET", "PUT"])
    endpoint = rng.choice(
        [
            None,
            "https://example.com",
            "http://127.0.0.1:8080/base/",
            "https://h.example/p?x=1&y=a+b",
        ]
    )
    kw = dict(aws_session_token=token)
    if endpoint:
        kw["endpoint_url"] = endpoint
    theirs, ours = same_second(
        lambda: make_boto3(**kw).generate_presigned_url(
            "invoke_endpoint", Params=dict(params), ExpiresIn=expires, HttpMethod=method
        ),
        lambda: make_ours(**kw).generate_presigned_url(
            "invoke_endpoint", Params=dict(params), ExpiresIn=expires, HttpMethod=method
        ),
    )
    assert theirs[1] is None, theirs[1]
    assert ours[1] is None, ours[1]
    assert ours[0] == theirs[0]


@pytest.mark.parametrize(
    "method,params",
    [
        ("invoke_endpoint_nope", {}),
        ("invoke_endpoint", {"EndpointName": "ep", "Body": b"not json"}),
        ("invoke_endpoint", {"EndpointName": "ep"}),
        ("invoke_endpoint", {"EndpointName": "ep", "Body": b"{}", "Bogus": 1}),
        ("invoke_endpoint", {"EndpointName": "ep", "Body": 5}),
        ("invoke_endpoint", {"EndpointName": "ep", "Body": b"[1, 2]"}),
    ],
)
def test_presign_errors_match_boto3(method, params):
    theirs, ours = same_second(
        lambda: make_boto3().generate_presigned_url(method, Params=params),
        lambda: make_ours().generate_presigned_url(method, Params=params),
    )
    assert theirs[0] is None and ours[0] is None
    assert type(ours[1]).__name__ == type(theirs[1]).__name__
    assert str(ours[1]) == str(theirs[1])


def test_presign_file_body_is_read_as_botocore_does():
    """A file-like Body: botocore hands the file object to dict.update (a ValueError/TypeError)."""
    theirs, ours = same_second(
        lambda: make_boto3().generate_presigned_url(
            "invoke_endpoint", Params={"EndpointName": "e", "Body": io.BytesIO(b"{}")}
        ),
        lambda: make_ours().generate_presigned_url(
            "invoke_endpoint", Params={"EndpointName": "e", "Body": io.BytesIO(b"{}")}
        ),
    )
    assert (type(ours[1]), str(ours[1])) == (type(theirs[1]), str(theirs[1]))


def test_presign_without_credentials_fails_as_boto3(monkeypatch):
    import boto3

    import sagemaker_rt_c

    b = boto3.client("sagemaker-runtime", region_name="us-east-1")
    o = sagemaker_rt_c.client("sagemaker-runtime", region_name="us-east-1")
    p = {"EndpointName": "e", "Body": b""}
    theirs, ours = same_second(
        lambda: b.generate_presigned_url("invoke_endpoint", Params=p),
        lambda: o.generate_presigned_url("invoke_endpoint", Params=p),
    )
    assert type(ours[1]).__name__ == type(theirs[1]).__name__ == "NoCredentialsError"
    assert str(ours[1]) == str(theirs[1])


def test_common_case_is_presigned_in_c():
    """The C fast path takes the common case (and the tests above prove it equals boto3's);
    it hands anything else back to the Python path (None)."""
    o = make_ours()
    assert o._presign({"EndpointName": "ep", "Body": b""}, 60, None).startswith("https://")
    assert o._presign({"EndpointName": "ep", "Body": b"{}"}, 60, None) is None  # JSON body
    assert o._presign({"EndpointName": "ep"}, 60, None) is None  # invalid: Python raises
    assert o._presign({"EndpointName": "ep", "Body": io.BytesIO(b"")}, 60, None) is None
    assert o._presign({"EndpointName": "ep", "Body": b""}, 60, "get") is None


class _Str(str):
    pass


@pytest.mark.parametrize(
    "expires",
    [None, 0, -1, 1, 3600, 604800, 604801, 10**30, 2**63, 1.5, 3600.0, float("nan"),
     True, False, "3600", "abc", "", " 60", "é", b"60", [1, 2], [], [b"6", [0]], {},
     _Str("60")],
)  # fmt: skip
def test_odd_expires_in_as_boto3(expires):
    """botocore puts str(ExpiresIn) into the URL whatever it is (no check), and None means
    its default, 3600."""
    from apidiff import presign_both

    params = {"EndpointName": "ep", "Body": b""}
    ours, theirs = presign_both(
        make_ours(), make_boto3(), "invoke_endpoint", Params=params, ExpiresIn=expires
    )
    assert ours == theirs
    if expires is None:
        assert "X-Amz-Expires=3600&" in ours[1]


@pytest.mark.parametrize(
    "body",
    [bytearray(b'{"a": 1}'), bytearray(b"\x00"), bytearray(b""), b'{"a": 1}', '{"a": "é"}',
     b'{"a": []}', b'{"a": [], "b": [1, "x y"]}'],
)  # fmt: skip
def test_presign_body_kinds_as_boto3(body):
    """botocore parses a bytes or str Body as JSON and hands anything else (a bytearray) to
    dict.update as it is."""
    from apidiff import presign_both

    params = {"EndpointName": "ep", "Body": body}
    ours, theirs = presign_both(make_ours(), make_boto3(), "invoke_endpoint", Params=params)
    assert ours == theirs


@pytest.mark.parametrize(
    "params",
    [
        {"EndpointName": "ep", "Body": b"", "TargetModel": "", "InferenceId": ""},
        {"EndpointName": "ep", "Body": b"", "Bogus": 1},
        {"Body": b""},
        {"EndpointName": 5, "Body": b""},
        {"EndpointName": "ep", "Body": b"", "Accept": 7, "TargetModel": ""},
        {"EndpointName": "ep", "Body": b"", "Accept": "a\nb"},
    ],
)
def test_presign_without_validation_as_invoke(server, params):
    """parameter_validation=False skips the minimum lengths only (boto3 presigns those too);
    what can't be serialised as the model says gets botocore's whole report, as a call does
    (README)."""
    import botocore.config
    from apidiff import presign_both

    import sagemaker_rt_c

    ours = make_ours(
        endpoint_url=server.url, config=sagemaker_rt_c.Config(parameter_validation=False)
    )
    theirs = make_boto3(
        endpoint_url=server.url, config=botocore.config.Config(parameter_validation=False)
    )
    presigned, boto3_presigned = presign_both(ours, theirs, "invoke_endpoint", Params=params)
    try:
        ours.invoke_endpoint(**params)
        called = None
    except Exception as e:  # noqa: BLE001 - compared below
        called = ("error", type(e).__name__, str(e))
    lengths_only = params.get("TargetModel") == "" and "Accept" not in params
    if lengths_only:
        assert presigned == boto3_presigned
        assert called is None
    else:
        assert presigned[:2] == ("error", "ParamValidationError")
        assert presigned == called
        assert "Invalid length for parameter TargetModel" in presigned[2] or (
            "TargetModel" not in params
        )
