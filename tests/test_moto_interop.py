"""Interop with moto's server mode: sagemaker_rt_c and boto3 against the same moto server.

moto routes a request by the SigV4 credential scope's service (``sagemaker``) plus a path
ending in ``invocations``, and answers ``InvokeEndpoint`` from a queue of results set through
``POST /moto-api/static/sagemaker/endpoint-results``. moto remembers the result it gave for a
request (keyed by the body, the ``Accept`` header and the ``X-Amzn-SageMaker-*`` headers), so
the second client asking the same thing gets the same result from the cache: both clients see
the same response, and ours only gets it if moto keyed its request exactly as boto3's.

With moto's IAM simulation switched on (``/moto-api/reset-auth``), moto also recomputes the
SigV4 signature of each request with botocore's signer and refuses a mismatch.
"""

import base64
import json
import random
import socket
import urllib.request

import botocore.config
import pytest
from conftest import ACCESS_KEY, SECRET_KEY, make_boto3, make_ours

import sagemaker_rt_c

ACCOUNT = "123456789012"  # moto's default account
ONE_ATTEMPT = {"retries": {"total_max_attempts": 1}}


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def moto_server():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _post(url, data=b"", content_type="application/json"):
    req = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": content_type}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, resp.read()


@pytest.fixture
def moto(moto_server):
    """The moto URL, with every backend reset (queued and cached results, IAM)."""
    status, _ = _post(moto_server + "/moto-api/reset")
    assert status == 200
    yield moto_server
    _set_auth(moto_server, "inf")  # never leave IAM checks on for the next test


def _set_auth(url, count):
    status, body = _post(url + "/moto-api/reset-auth", count.encode(), "text/plain")
    assert status == 200, body


def queue_results(url, results, region="us-east-1"):
    payload = {"account_id": ACCOUNT, "region": region, "results": results}
    status, _ = _post(
        url + "/moto-api/static/sagemaker/endpoint-results", json.dumps(payload).encode()
    )
    assert status == 201


def _config(make, **kw):
    cls = botocore.config.Config if make is make_boto3 else sagemaker_rt_c.Config
    return cls(**kw)


def client(make, url, **kw):
    kw.setdefault("config", _config(make, **ONE_ATTEMPT))
    return make(endpoint_url=url, **kw)


VOLATILE_HEADERS = {"date", "x-amzn-requestid"}


def normalise(resp):
    """A response or error dict without what differs per request (date, request id)."""
    out = {k: v for k, v in resp.items() if k != "Body"}
    md = dict(out["ResponseMetadata"])
    md.pop("RequestId", None)
    md["HTTPHeaders"] = {k: v for k, v in md["HTTPHeaders"].items() if k not in VOLATILE_HEADERS}
    out["ResponseMetadata"] = md
    return out


def outcome(c, **params):
    """('ok', response minus Body, body bytes) or ('error', class, str, response)."""
    try:
        resp = c.invoke_endpoint(**params)
    except Exception as e:  # noqa: BLE001 - compared by class, message and response
        response = getattr(e, "response", None)
        return ("error", type(e).__name__, str(e), response and normalise(response))
    return ("ok", normalise(resp), resp["Body"].read())


def backend(region="us-east-1"):
    from moto.sagemakerruntime.models import sagemakerruntime_backends

    return sagemakerruntime_backends[ACCOUNT][region]


def seen_requests(region="us-east-1"):
    """What moto keyed each InvokeEndpoint by (decoded), with the result it gave."""
    out = []
    for per_endpoint in backend(region).results.values():
        for key, result in per_endpoint.items():
            out.append((json.loads(base64.b64decode(key)), result))
    return out


# --------------------------------------------------------------------------- results


def random_result(rng):
    result = {
        "Body": rng.choice(
            [
                json.dumps({"score": rng.random(), "label": rng.choice(["a", "b"])}),
                "plain text é☃ " * rng.randint(1, 50),
                "",
                "line1\nline2\r\n",
            ]
        )
    }
    for key, values in (
        ("ContentType", ["application/json", "text/csv; charset=utf-8", "x/y"]),
        ("InvokedProductionVariant", ["AllTraffic", "variant-2"]),
        ("CustomAttributes", ["a=1", "trace=xyz; k=v"]),
    ):
        if rng.random() < 0.7:
            result[key] = rng.choice(values)
    return result


def random_params(rng, i):
    params = {
        "EndpointName": rng.choice(["ep", "my-endpoint-1", "X"]),
        "Body": f"request {i} {rng.random()} é".encode() * rng.randint(1, 3),
    }
    for key, values in (
        ("ContentType", ["application/json", "text/csv"]),
        ("Accept", ["application/json", "*/*"]),
        ("CustomAttributes", ["c=1", "c=2; d"]),
        ("TargetVariant", ["v1"]),
        ("InferenceId", ["inf-1"]),
    ):
        if rng.random() < 0.4:
            params[key] = rng.choice(values)
    return params


@pytest.mark.parametrize("seed", range(8))
def test_queued_results_same_for_both(moto, seed):
    rng = random.Random(seed)
    results = [random_result(rng) for _ in range(rng.randint(1, 4))]
    queue_results(moto, results)
    boto, ours = client(make_boto3, moto), client(make_ours, moto)
    for i, result in enumerate(results):
        params = random_params(rng, i)
        # Whoever asks first takes the next queued result; the other one gets moto's cache.
        order = (boto, ours) if (seed + i) % 2 else (ours, boto)
        first, second = (outcome(c, **params) for c in order)
        assert first[0] == "ok", first
        assert second == first
        _, resp, body = first
        assert body == result["Body"].encode()
        # moto sends the Python repr of a missing ContentType: the header "None".
        assert resp["ContentType"] == result.get("ContentType", "None")
        for key in ("InvokedProductionVariant", "CustomAttributes"):
            assert resp.get(key) == result.get(key), key
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    # Exactly one cached entry per request: moto keyed ours exactly as boto3's.
    assert len(seen_requests()) == len(results)


def test_default_result_when_nothing_is_queued(moto):
    boto, ours = client(make_boto3, moto), client(make_ours, moto)
    theirs = outcome(boto, EndpointName="ep", Body=b"a")
    mine = outcome(ours, EndpointName="ep", Body=b"b")  # a different request: not cached
    assert mine == theirs
    assert theirs[2] == b"body"
    assert theirs[1]["ContentType"] == "content_type"


def test_moto_parsed_our_request(moto):
    """moto routed our request to sagemaker-runtime in the credential scope's region and read
    the body and headers we sent."""
    queue_results(moto, [{"Body": "for eu-west-1"}], region="eu-west-1")
    ours = client(make_ours, moto, region_name="eu-west-1")
    body = "données 123".encode()
    got = outcome(
        ours, EndpointName="ep", Body=body, CustomAttributes="k=v", Accept="application/json"
    )
    assert got[0] == "ok", got
    assert got[2] == b"for eu-west-1"
    ((key, result),) = seen_requests("eu-west-1")
    assert key["Body"] == body.decode()
    assert key["Accept"] == "application/json"
    assert {k.lower(): v for k, v in key.items()}["x-amzn-sagemaker-custom-attributes"] == "k=v"
    assert result[0] == "for eu-west-1"
    assert seen_requests("us-east-1") == []


# --------------------------------------------------------------------------- errors


ERRORS = {
    # Werkzeug's 404 page: the decoded path ("a/b") has one segment too many.
    "404-unroutable-name": ({}, {"EndpointName": "a/b", "Body": b"x"}),
    # A region moto has no backend for: a 500 HTML page.
    "500-unknown-region": ({"region_name": "xx-fake-1"}, {"EndpointName": "ep", "Body": b"x"}),
    # moto cannot JSON-encode a body that is not UTF-8: a 500 too.
    "500-binary-body": ({}, {"EndpointName": "ep", "Body": b"\xff\xfe\x00"}),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_same_for_both(moto, name):
    client_kw, params = ERRORS[name]
    theirs = outcome(client(make_boto3, moto, **client_kw), **params)
    mine = outcome(client(make_ours, moto, **client_kw), **params)
    assert theirs[0] == "error", theirs
    assert theirs[1] == "ClientError"
    assert theirs[3]["Error"]["Code"] == name[:3]
    assert mine == theirs


# --------------------------------------------------------------------------- signatures


def _iam_setup(url):
    """A user allowed to invoke endpoints, one that is not, and a role to assume."""
    import boto3

    kw = dict(
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    iam, sts = boto3.client("iam", **kw), boto3.client("sts", **kw)
    allow = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": "*"}
            ],
        }
    )
    iam.create_user(UserName="allowed")
    iam.put_user_policy(UserName="allowed", PolicyName="invoke", PolicyDocument=allow)
    allowed = iam.create_access_key(UserName="allowed")["AccessKey"]
    iam.create_user(UserName="denied")
    denied = iam.create_access_key(UserName="denied")["AccessKey"]
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    iam.create_role(RoleName="invoker", AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName="invoker", PolicyName="invoke", PolicyDocument=allow)
    temp = sts.assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/invoker", RoleSessionName="session"
    )["Credentials"]
    return allowed, denied, temp


def test_moto_verifies_our_signatures(moto):
    allowed, denied, temp = _iam_setup(moto)
    cases = {
        "allowed": (allowed["AccessKeyId"], allowed["SecretAccessKey"], None),
        "temporary": (temp["AccessKeyId"], temp["SecretAccessKey"], temp["SessionToken"]),
        "wrong-secret": (allowed["AccessKeyId"], "not-the-secret", None),
        "unknown-key": ("AKIAIOSFODNN7EXAMPLE", "whatever", None),
        "bogus-token": (temp["AccessKeyId"], temp["SecretAccessKey"], "bogus"),
        "not-permitted": (denied["AccessKeyId"], denied["SecretAccessKey"], None),
    }
    queue_results(moto, [{"Body": "signed ok", "ContentType": "text/plain"}])
    _set_auth(moto, "0")  # from now on moto checks every request's signature and policy
    codes = {}
    for name, (key, secret, token) in cases.items():
        got = []
        for make in (make_boto3, make_ours):
            c = client(
                make,
                moto,
                aws_access_key_id=key,
                aws_secret_access_key=secret,
                aws_session_token=token,
            )
            got.append(outcome(c, EndpointName="ep", Body=b"signed body", ContentType="a/b"))
        assert got[1] == got[0], name
        if got[0][0] == "ok":
            codes[name] = got[0][2]
        else:
            codes[name] = got[0][3]["ResponseMetadata"]["HTTPStatusCode"]
            assert got[0][1] == "ClientError"
    assert codes == {
        "allowed": b"signed ok",
        "temporary": b"signed ok",
        "wrong-secret": 403,
        "unknown-key": 403,
        "bogus-token": 403,
        "not-permitted": 403,
    }
