"""The published SigV4 test suites (tests/conformance/sigv4, copied with their licences)
through sagemaker_rt_c.auth."""

import json
import os

import pytest
from conftest import CONFORMANCE

from sagemaker_rt_c import auth

AWS_C_AUTH = os.path.join(CONFORMANCE, "sigv4", "aws-c-auth-v4")
BOTOCORE = os.path.join(CONFORMANCE, "sigv4", "botocore-aws4_testsuite")


def parse_request(text):
    """request.txt / .req: request line, headers (with folded continuations), body."""
    head, sep, body = text.partition("\n\n")
    lines = head.split("\n")
    request_line = lines[0]
    method, _, rest = request_line.partition(" ")
    target = rest[: rest.rindex(" HTTP/1.1")]
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
            continue
        name, _, value = line.partition(":")
        headers.append((name, value))
    return method, target, headers, body.encode() if sep else b""


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def aws_c_auth_cases():
    names = sorted(d for d in os.listdir(AWS_C_AUTH) if os.path.isdir(os.path.join(AWS_C_AUTH, d)))
    assert len(names) == 38, names
    return names


def host_of(headers):
    return next(v for k, v in headers if k.lower() == "host").strip()


@pytest.mark.parametrize("case", aws_c_auth_cases())
@pytest.mark.parametrize("mode", ["header", "query"])
def test_aws_c_auth(case, mode):
    d = os.path.join(AWS_C_AUTH, case)
    ctx = json.loads(read(os.path.join(d, "context.json")))
    method, target, headers, body = parse_request(read(os.path.join(d, "request.txt")))
    creds = ctx["credentials"]
    url = "https://" + host_of(headers) + target
    kwargs = dict(
        access_key=creds["access_key_id"],
        secret_key=creds["secret_access_key"],
        session_token=creds.get("token"),
        region=ctx["region"],
        service=ctx["service"],
        timestamp=ctx["timestamp"],
        normalize_path=ctx["normalize"],
        omit_session_token=ctx.get("omit_session_token", False),
    )
    if not ctx["normalize"]:
        # aws-c-auth still URI-encodes the path (README): only normalisation is off.
        kwargs["encode_path"] = True
    phash = auth.EMPTY_SHA256
    if ctx["sign_body"]:
        import hashlib

        phash = hashlib.sha256(body).hexdigest()
    if mode == "header":
        out = auth.sign_request(
            method, url, headers, body, sign_body=ctx["sign_body"], payload_hash=phash, **kwargs
        )
    else:
        out = auth.presign_url(
            method,
            url,
            headers,
            expires=ctx["expiration_in_seconds"],
            payload_hash=phash,
            **kwargs,
        )
    assert out.canonical_request == read(os.path.join(d, f"{mode}-canonical-request.txt"))
    assert out.string_to_sign == read(os.path.join(d, f"{mode}-string-to-sign.txt"))
    assert out.signature == read(os.path.join(d, f"{mode}-signature.txt")).strip()
    if mode == "query":
        expected = read(os.path.join(d, "query-signed-request.txt")).split("\n")[0]
        exp_target = expected.split(" ", 1)[1].rsplit(" HTTP/1.1", 1)[0]
        exp_query = set(exp_target.partition("?")[2].split("&"))
        got_query = set(out.url.partition("?")[2].split("&"))
        assert got_query == exp_query
    else:
        expected = parse_request(read(os.path.join(d, "header-signed-request.txt")))[2]
        assert sorted((k.lower(), v) for k, v in out.headers) == sorted(
            (k.lower(), v) for k, v in expected
        )


def botocore_cases():
    cases = []
    for root, _dirs, files in os.walk(BOTOCORE):
        for f in files:
            if f.endswith(".req"):
                cases.append(os.path.relpath(os.path.join(root, f[:-4]), BOTOCORE))
    assert len(cases) == 34, cases
    return sorted(cases)


@pytest.mark.parametrize("case", botocore_cases())
def test_botocore_suite(case):
    base = os.path.join(BOTOCORE, case)
    method, target, headers, body = parse_request(read(base + ".req"))
    creq = read(base + ".creq")
    token = None
    for line in creq.split("\n"):
        if line.startswith("x-amz-security-token:"):
            token = line.split(":", 1)[1]
    # X-Amz-Date is already in these requests: sign with it, do not add another.
    date = next(v for k, v in headers if k.lower() == "x-amz-date")
    # The signer adds X-Amz-Date and X-Amz-Security-Token itself.
    headers = [
        (k, v) for k, v in headers if k.lower() not in ("x-amz-date", "x-amz-security-token")
    ]
    import hashlib

    out = auth.sign_request(
        method,
        "https://" + host_of(headers) + target,
        headers,
        body,
        access_key="AKIDEXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token=token,
        region="us-east-1",
        service="service",
        timestamp=date,
        payload_hash=hashlib.sha256(body).hexdigest(),
    )
    assert out.canonical_request == creq
    assert out.string_to_sign == read(base + ".sts")
    assert out.authorization == read(base + ".authz").strip()
