"""sagemaker_rt_c.auth: the one-call C path against the general path and botocore's signer."""

import hashlib
import random

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from sagemaker_rt_c import auth

AK, SK = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NAMES = ["Content-Type", "X-Amz-Meta-A", "x-custom", "User-Agent", "Expect", "X-Multi"]


def random_request(rng):
    scheme = rng.choice(["https", "http"])
    host = rng.choice(["Example.COM", "h.example", "[::1]", "127.0.0.1"])
    port = rng.choice(["", ":443", ":80", ":8443"])
    path = "/" + "/".join(
        rng.choice(["a", "b c", "..", ".", "", "%41", "é", "x~y"]) for _ in range(rng.randint(0, 4))
    )
    query = ""
    if rng.random() < 0.5:
        query = "?" + "&".join(
            f"{rng.choice(['a', 'B', 'c%20d', 'x'])}={rng.choice(['1', '', 'v%2F', 'z'])}"
            for _ in range(rng.randint(1, 3))
        )
    headers = [
        (rng.choice(NAMES), rng.choice(["v", "  a   b ", "text/csv", "x,y"]))
        for _ in range(rng.randint(0, 5))
    ]
    if rng.random() < 0.2:
        headers.append(("Host", "given.example"))
    body = rng.choice(
        [b"", b"{}", "str é", None, bytearray(b"ba"), memoryview(b"mv"), b"x" * 70000]
    )
    token = rng.choice([None, "TOKEN+/=="])
    return f"{scheme}://{host}{port}{path}{query}", headers, body, token


def payload_of(body):
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    return bytes(body)


@pytest.mark.parametrize("seed", range(200))
def test_fast_path_equals_general_path(seed):
    rng = random.Random(seed)
    url, headers, body, token = random_request(rng)
    method = rng.choice(["GET", "POST", "put"])
    kw = dict(access_key=AK, secret_key=SK, session_token=token, region="us-east-1",
              service="sagemaker", timestamp="20261127T101010Z")  # fmt: skip
    fast = auth.sign_request(method, url, headers, body, **kw)
    general = auth.sign_request(
        method, url, headers, body,
        payload_hash=hashlib.sha256(payload_of(body)).hexdigest(), **kw,
    )  # fmt: skip
    assert fast.headers == general.headers
    assert fast.canonical_request == general.canonical_request
    assert fast.string_to_sign == general.string_to_sign
    assert fast.signature == general.signature
    assert fast.authorization == general.authorization


@pytest.mark.differential
@pytest.mark.parametrize("seed", range(60))
def test_fast_path_agrees_with_botocore(seed):
    rng = random.Random(1000 + seed)
    url, headers, body, token = random_request(rng)
    # botocore takes the query as already encoded and does not re-encode it: keep to
    # queries both read the same way.
    url = url.split("?")[0]
    signed = auth.sign_request(
        "POST", url, headers, body, access_key=AK, secret_key=SK, session_token=token,
        region="us-east-1", service="sagemaker", timestamp="20261127T101010Z",
    )  # fmt: skip
    request = AWSRequest(method="POST", url=url, data=payload_of(body))
    for k, v in headers:
        request.headers[k] = v  # botocore's HTTPHeaders keeps repeated names
    request.context["timestamp"] = "20261127T101010Z"
    signer = SigV4Auth(Credentials(AK, SK, token), "sagemaker", "us-east-1")
    signer._modify_request_before_signing(request)  # adds X-Amz-Date and the token, as add_auth
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    assert signed.canonical_request == canonical
    assert signed.signature == expected


def test_bad_inputs_are_clear_errors():
    kw = dict(access_key=AK, secret_key=SK, region="r", service="s", timestamp="20261127T101010Z")
    with pytest.raises(ValueError, match="no scheme"):
        auth.sign_request("GET", "example.com/x", [], b"", **kw)
    with pytest.raises(TypeError, match="pairs"):
        auth.sign_request("GET", "https://h/", [("a",)], b"", **kw)
    with pytest.raises(TypeError):
        auth.sign_request("GET", "https://h/", [], 5, **kw)


def _expected_signature(secret, date8, region, service, string_to_sign):
    import hmac

    def mac(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = mac(mac(mac(mac(("AWS4" + secret).encode(), date8), region), service), "aws4_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def test_signing_key_cache_follows_secret_date_region_and_service():
    """The entry points share one signer and its one-entry key cache (keyed by the scope and a
    digest of the secret): whatever was signed before, each signature is made with the key
    of its own secret, date, region and service, in header and query mode alike."""
    url = "https://h.example/endpoints/ep/invocations"
    cases = [
        ("SK-one", "20261127T101010Z", "us-east-1", "sagemaker"),
        ("SK-two", "20261127T101010Z", "us-east-1", "sagemaker"),
        ("SK-one", "20261127T101010Z", "us-east-1", "sagemaker"),
        ("SK-one", "20261128T000000Z", "us-east-1", "sagemaker"),
        ("SK-one", "20261128T000000Z", "eu-west-1", "sagemaker"),
        ("SK-one", "20261128T000000Z", "eu-west-1", "other"),
        ("SK-one", "20261128T000000Z", "eu-west-1", "other"),
    ]
    for secret, date, region, service in cases * 2:
        kw = dict(access_key=AK, secret_key=secret, region=region, service=service, timestamp=date)
        for out in (
            auth.sign_request("POST", url, [], b"{}", **kw),
            auth.sign_request("POST", url, [], b"{}", sign_body=True, **kw),
            auth.presign_url("GET", url, [], **kw),
        ):
            assert out.signature == _expected_signature(
                secret, date[:8], region, service, out.string_to_sign
            )
