"""Same request on the wire as boto3: random parameters from a seed into both clients, the
bytes compared, and our signature reproduced by botocore's own signer."""

import io
import random
import re

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from conftest import (
    ACCESS_KEY,
    INVOKE_HEADER_MIN,
    INVOKE_HEADER_PARAMS,
    SECRET_KEY,
    make_boto3,
    make_ours,
)
from servers import Reply

pytestmark = pytest.mark.differential

HEADER_PARAMS = INVOKE_HEADER_PARAMS
MIN_ONE = {name for name, minimum in INVOKE_HEADER_MIN.items() if minimum}
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
NAME_CHARS = "abcXYZ019-_.~ /%+é☃"


def random_params(rng):
    name_kind = rng.random()
    if name_kind < 0.1:
        name = rng.choice(["", ".", "..", "a/../b", "./x"])
    else:
        name = "".join(rng.choice(NAME_CHARS) for _ in range(rng.randint(1, 20)))
    payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
    kind = rng.choice(["bytes", "bytearray", "str", "file", "empty"])
    if kind == "bytes":
        body = payload
    elif kind == "bytearray":
        body = bytearray(payload)
    elif kind == "str":
        body = "".join(rng.choice('abc é☃\n{}":,') for _ in range(rng.randint(0, 50)))
    elif kind == "file":
        body = ("file", payload)
    else:
        body = b""
    params = {"EndpointName": name, "Body": body}
    for p in HEADER_PARAMS:
        if rng.random() < 0.4:
            n = rng.randint(1 if p in MIN_ONE else 0, 30)
            value = "".join(rng.choice(PRINTABLE) for _ in range(n))
            if p in MIN_ONE and not value.strip():
                value = "x" + value
            params[p] = value
    return params


def materialise(params):
    """A fresh copy (file bodies are consumed by a call)."""
    out = dict(params)
    if isinstance(out["Body"], tuple):
        out["Body"] = io.BytesIO(out["Body"][1])
    return out


def raw_headers(req):
    """(name, value) in wire order; values without the optional whitespace around them,
    which is not part of a field value (RFC 9110 5.5): libcurl cannot send a blank value
    with trailing blanks as http.client does."""
    head = req.raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return [(k, v.strip(" \t")) for k, v in (line.split(":", 1) for line in head)]


VOLATILE = {"user-agent", "x-amz-date", "authorization", "amz-sdk-invocation-id"}


def botocore_signature(req, token):
    """botocore's SigV4 signature for the request we sent, at the time we signed it."""
    auth_header = req.header("Authorization")
    signed = re.search(r"SignedHeaders=([^,]+)", auth_header).group(1).split(";")
    headers = {k: v for k, v in req.headers if k.lower() in signed}
    aws_req = AWSRequest(
        method=req.method,
        url="http://" + req.header("Host") + req.path,
        data=req.body,
        headers=headers,
    )
    aws_req.context["timestamp"] = req.header("X-Amz-Date")
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, token), "sagemaker", "us-east-1")
    canonical = signer.canonical_request(aws_req)
    return signer.signature(signer.string_to_sign(aws_req, canonical), aws_req)


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("token", [None, "", "FQoGZXIvYXdzE//session+token=="])
def test_same_request_as_boto3(server, seed, token):
    rng = random.Random(seed)
    params = random_params(rng)
    server.default = Reply(200, [("Content-Type", "text/plain")], b"ok")
    kw = dict(endpoint_url=server.url, aws_session_token=token)
    make_boto3(**kw).invoke_endpoint(**materialise(params))
    theirs = server.last
    make_ours(**kw).invoke_endpoint(**materialise(params))
    ours = server.last

    assert ours.method == theirs.method == "POST"
    assert ours.path == theirs.path
    assert ours.body == theirs.body
    their_headers = [(k, v) for k, v in raw_headers(theirs) if k.lower() not in VOLATILE]
    our_headers = [(k, v) for k, v in raw_headers(ours) if k.lower() not in VOLATILE]
    assert our_headers == their_headers
    for name in VOLATILE:
        assert ours.header(name) is not None
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        ours.header("amz-sdk-invocation-id"),
    )
    # The Authorization headers agree on everything but the signature (time differs) ...
    strip_sig = re.compile(r", Signature=[0-9a-f]{64}$")
    their_auth = strip_sig.sub("", theirs.header("Authorization"))
    our_auth = strip_sig.sub("", ours.header("Authorization"))
    assert our_auth.replace(ours.header("X-Amz-Date")[:8], "D") == their_auth.replace(
        theirs.header("X-Amz-Date")[:8], "D"
    )
    # ... and botocore's signer, given our timestamp, computes our signature.
    our_sig = ours.header("Authorization").rsplit("Signature=", 1)[1]
    assert botocore_signature(ours, token) == our_sig


def test_signature_changes_with_every_signed_part(server):
    """A mutation test of the check above: botocore must disagree when any input differs."""
    make_ours(endpoint_url=server.url).invoke_endpoint(EndpointName="ep", Body=b"abc")
    req = server.last
    good = req.header("Authorization").rsplit("Signature=", 1)[1]
    assert botocore_signature(req, None) == good
    req.body = b"abd"
    assert botocore_signature(req, None) != good


def test_unsigned_requests_as_boto3(server):
    """Config(signature_version=UNSIGNED): no credentials needed, no signature sent."""
    import botocore
    from botocore.config import Config as BotoConfig

    import sagemaker_rt_c

    server.default = Reply(200, [], b"ok")
    theirs_client = make_boto3(
        endpoint_url=server.url,
        aws_access_key_id=None,
        aws_secret_access_key=None,
        config=BotoConfig(signature_version=botocore.UNSIGNED),
    )
    theirs_client.invoke_endpoint(EndpointName="ep", Body=b"x", ContentType="text/csv")
    theirs = server.last
    ours_client = make_ours(
        endpoint_url=server.url,
        aws_access_key_id=None,
        aws_secret_access_key=None,
        config=sagemaker_rt_c.Config(signature_version=sagemaker_rt_c.config.UNSIGNED),
    )
    ours_client.invoke_endpoint(EndpointName="ep", Body=b"x", ContentType="text/csv")
    ours = server.last
    their_headers = [(k, v) for k, v in raw_headers(theirs) if k.lower() not in VOLATILE]
    our_headers = [(k, v) for k, v in raw_headers(ours) if k.lower() not in VOLATILE]
    assert our_headers == their_headers
    assert ours.header("Authorization") is None and ours.header("X-Amz-Date") is None
    params = {"EndpointName": "ep", "Body": b""}
    assert ours_client.generate_presigned_url(
        "invoke_endpoint", Params=params
    ) == theirs_client.generate_presigned_url("invoke_endpoint", Params=params)
