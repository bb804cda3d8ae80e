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

pytestmark = pytest.mark.differential

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


# --------------------------------------------------------------------------- async inference
#
# moto answers InvokeEndpointAsync from a queue of its own (``/moto-api/static/sagemaker/
# async-endpoint-results``): each result is written to a new bucket of moto's S3, at
# ``response.json`` (or ``failure.json`` for a failure), and both locations come back in the
# X-Amzn-SageMaker-OutputLocation / -FailureLocation headers. moto remembers the locations it
# gave for an (endpoint, InputLocation), so the second client asking gets the same ones.


def queue_async_results(url, results, region="us-east-1"):
    payload = {"account_id": ACCOUNT, "region": region, "results": results}
    status, _ = _post(
        url + "/moto-api/static/sagemaker/async-endpoint-results", json.dumps(payload).encode()
    )
    assert status == 201


def outcome_async(c, **params):
    """('ok', response) or ('error', class, str, response), as ``outcome``."""
    try:
        resp = c.invoke_endpoint_async(**params)
    except Exception as e:  # noqa: BLE001 - compared by class, message and response
        response = getattr(e, "response", None)
        return ("error", type(e).__name__, str(e), response and normalise(response))
    return ("ok", normalise(resp))


def random_async_params(rng, i):
    params = {
        "EndpointName": rng.choice(["ep", "my-endpoint-1"]),
        "InputLocation": f"s3://inputs/{rng.random()}/request-{i}.json",
    }
    for key, values in (
        ("ContentType", ["application/json", "text/csv"]),
        ("Accept", ["application/json", "*/*"]),
        ("CustomAttributes", ["c=1"]),
        ("InferenceId", ["inf-1", "inf-2"]),
        ("RequestTTLSeconds", [60, 21600]),
        ("InvocationTimeoutSeconds", [1, 3600]),
    ):
        if rng.random() < 0.5:
            params[key] = rng.choice(values)
    return params


def s3_object(url, location):
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    bucket, key = location.removeprefix("s3://").split("/", 1)
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


@pytest.mark.parametrize("seed", range(6))
def test_async_results_same_for_both(moto, seed):
    rng = random.Random(seed)
    results = [
        {"data": json.dumps({"answer": rng.random()})}
        if rng.random() < 0.7
        else {"is_failure": True, "data": f"inference {i} failed"}
        for i in range(rng.randint(1, 4))
    ]
    queue_async_results(moto, results)
    boto, ours = client(make_boto3, moto), client(make_ours, moto)
    for i, result in enumerate(results):
        params = random_async_params(rng, i)
        order = (boto, ours) if (seed + i) % 2 else (ours, boto)
        first, second = (outcome_async(c, **params) for c in order)
        assert first[0] == "ok", first
        resp = first[1]
        if "InferenceId" not in params:  # moto makes one up for each request
            assert len(resp["InferenceId"]) == 36 and len(second[1]["InferenceId"]) == 36
            second[1]["InferenceId"] = resp["InferenceId"]
        assert second == first
        assert resp["InferenceId"] == params.get("InferenceId", resp["InferenceId"])
        # moto answers 200 (the service: 202) and writes the result where it says.
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
        failed = result.get("is_failure", False)
        written = s3_object(moto, resp["FailureLocation" if failed else "OutputLocation"])
        assert written == result["data"].encode()
        assert s3_object(moto, resp["OutputLocation" if failed else "FailureLocation"]) is None
    # One remembered answer per InputLocation: moto read ours as it read boto3's.
    remembered = [loc for per in backend().async_results.values() for loc in per]
    assert len(remembered) == len(results)


def test_async_inline_body_and_errors_same_for_both(moto):
    """Without InputLocation moto has nothing to key by (None); a name that is not one path
    segment is Werkzeug's 404; an unknown region moto's 500."""
    queue_async_results(moto, [{"data": "inline"}])
    cases = [
        ({}, {"EndpointName": "ep", "Body": b'{"x": 1}', "InferenceId": "i-1"}),
        ({}, {"EndpointName": "a/b", "InputLocation": "s3://in/x", "InferenceId": "i-2"}),
        ({"region_name": "xx-fake-1"}, {"EndpointName": "ep", "InputLocation": "s3://in/y"}),
    ]
    for client_kw, params in cases:
        theirs = outcome_async(client(make_boto3, moto, **client_kw), **params)
        mine = outcome_async(client(make_ours, moto, **client_kw), **params)
        assert mine == theirs, params
    assert outcome_async(client(make_ours, moto), **cases[0][1])[0] == "ok"


def _async_user(url):
    """A user allowed sagemaker:InvokeEndpointAsync (the other users of _iam_setup are not)."""
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    allow = {"Effect": "Allow", "Action": "sagemaker:InvokeEndpointAsync", "Resource": "*"}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [allow]})
    iam.create_user(UserName="async")
    iam.put_user_policy(UserName="async", PolicyName="invoke-async", PolicyDocument=policy)
    return iam.create_access_key(UserName="async")["AccessKey"]


def test_moto_verifies_our_async_signatures(moto):
    """moto checks InvokeEndpointAsync's signature and its own IAM action. A request without a
    body fails moto's signature check for both clients alike: moto 5.2.1 recomputes the
    signature over ``self._body or self._data`` (iam/access_control.py), its parsed parameters
    when the body is empty. So the signed cases carry a Body, and the bodiless one pins that
    boto3 is refused exactly as ours is."""
    allowed, _, _ = _iam_setup(moto)
    async_user = _async_user(moto)
    queue_async_results(moto, [{"data": "signed"}])
    _set_auth(moto, "0")
    signed = {"EndpointName": "ep", "InputLocation": "s3://in/a", "InferenceId": "i", "Body": b"x"}
    bodiless = {k: v for k, v in signed.items() if k != "Body"}
    cases = {
        "allowed": (async_user["AccessKeyId"], async_user["SecretAccessKey"], signed),
        "wrong-secret": (async_user["AccessKeyId"], "not-the-secret", signed),
        "invoke-only": (allowed["AccessKeyId"], allowed["SecretAccessKey"], signed),
        "bodiless": (async_user["AccessKeyId"], async_user["SecretAccessKey"], bodiless),
    }
    got = {}
    for name, (key, secret, params) in cases.items():
        outcomes = []
        for make in (make_boto3, make_ours):
            c = client(make, moto, aws_access_key_id=key, aws_secret_access_key=secret)
            outcomes.append(outcome_async(c, **params))
        assert outcomes[1] == outcomes[0], name
        first = outcomes[0]
        if first[0] == "ok":
            got[name] = "ok"
        else:  # moto's XML error body: botocore's JSON parser takes the status as the code
            assert first[3]["Error"]["Code"] == "403"
            got[name] = first[3]["Error"]["Message"].split("<Code>")[1].split("</Code>")[0]
    assert got == {
        "allowed": "ok",
        "wrong-secret": "SignatureDoesNotMatch",
        "invoke-only": "AccessDenied",
        "bodiless": "SignatureDoesNotMatch",
    }


def test_moto_has_no_response_stream(moto):
    """moto 5.2.1 does not implement InvokeEndpointWithResponseStream: its server routes a
    sagemaker request to sagemaker-runtime only when the path ends in "invocations", so
    ``/invocations-response-stream`` reaches the SageMaker API's URL map and gets Werkzeug's
    404 page. Both clients raise the same ClientError for it
    (tests/client/test_response_stream.py and tests/client/test_sdk_interop.py test the stream
    on scripted servers)."""
    got = []
    for make in (make_boto3, make_ours):
        c = client(make, moto)
        try:
            c.invoke_endpoint_with_response_stream(EndpointName="ep", Body=b"{}")
        except Exception as e:  # noqa: BLE001 - compared by class, message and response
            got.append((type(e).__name__, str(e), normalise(e.response)))
        else:
            got.append("no error")
    assert got[1] == got[0]
    assert got[0][0] == "ClientError"
    assert got[0][2]["Error"]["Code"] == "404"
