"""Low-level AWS Signature Version 4: sign a request, or presign a URL, with the C signer.

    from sagemaker_rt_c import auth
    signed = auth.sign_request(
        "POST", "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/ep/invocations",
        headers=[("Content-Type", "application/json")], body=b"{}",
        access_key="AKID...", secret_key="...", region="us-east-1", service="sagemaker")
    signed.headers        # the headers to send, Authorization and X-Amz-Date included

    url = auth.presign_url("GET", "https://example.amazonaws.com/path?x=1",
                           access_key=..., secret_key=..., region=..., service=..., expires=300).url

Paths are signed the way every service but S3 wants (dot segments removed, encoded again);
pass ``normalize_path=False`` for S3's rule (neither), or set ``encode_path`` on its own.
Query strings are decoded and re-encoded canonically unless ``raw_query=True`` (botocore's
way: the query is already encoded).
"""

import time as _time

from . import _core
from ._transport.urls import host_header
from ._transport.urls import split_url as _split_url

__all__ = ["sign_request", "presign_url", "SignedRequest", "PresignedURL", "UNSIGNED_PAYLOAD"]

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# botocore.auth.SIGNED_HEADERS_BLACKLIST, plus the SDK headers botocore adds after signing.
UNSIGNED_HEADERS = frozenset(
    [
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
    ]
)


class SignedRequest:
    """The result of :func:`sign_request`."""

    __slots__ = ("headers", "canonical_request", "string_to_sign", "signature", "authorization")

    def __init__(self, headers, canonical_request, string_to_sign, signature, authorization):
        self.headers = headers
        self.canonical_request = canonical_request
        self.string_to_sign = string_to_sign
        self.signature = signature
        self.authorization = authorization

    def __repr__(self):
        return f"<SignedRequest signature={self.signature[:8]}...>"


class PresignedURL:
    """The result of :func:`presign_url`."""

    __slots__ = ("url", "canonical_request", "string_to_sign", "signature")

    def __init__(self, url, canonical_request, string_to_sign, signature):
        self.url = url
        self.canonical_request = canonical_request
        self.string_to_sign = string_to_sign
        self.signature = signature

    def __repr__(self):
        return "<PresignedURL>"


def amz_date(timestamp=None):
    """YYYYMMDDTHHMMSSZ for a timestamp: None (now), seconds since the epoch, a datetime
    (naive means UTC), or a string already in that form or ISO 8601 with a Z."""
    if timestamp is None:
        return _core.amz_date(int(_time.time()))
    if isinstance(timestamp, (int, float)):
        return _core.amz_date(int(timestamp))
    if isinstance(timestamp, str):
        s = timestamp
        if len(s) == 16 and s[8] == "T" and s.endswith("Z"):
            return s
        if len(s) == 20 and s[4] == "-" and s[10] == "T" and s.endswith("Z"):
            return s[0:4] + s[5:7] + s[8:10] + "T" + s[11:13] + s[14:16] + s[17:19] + "Z"
        raise ValueError(
            f"timestamp {timestamp!r}: expected YYYYMMDDTHHMMSSZ or YYYY-MM-DDTHH:MM:SSZ"
        )
    # datetime
    if timestamp.tzinfo is not None:
        import datetime as _dt

        timestamp = timestamp.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return timestamp.strftime("%Y%m%dT%H%M%SZ")


def _flags(normalize_path, raw_query, encode_path=None):
    if encode_path is None:
        encode_path = normalize_path
    flags = _core.ENCODE_PATH if encode_path else 0
    if normalize_path:
        flags |= _core.NORMALIZE_PATH
    if raw_query:
        flags |= _core.RAW_QUERY
    return flags


def _payload_hash(body):
    if body is None or body == b"" or body == "":
        return EMPTY_SHA256
    if isinstance(body, str):
        body = body.encode("utf-8")
    return _core.sha256_hex(body)


def sign_request(
    method,
    url,
    headers=(),
    body=b"",
    *,
    access_key,
    secret_key,
    session_token=None,
    region,
    service,
    timestamp=None,
    normalize_path=True,
    encode_path=None,
    raw_query=False,
    sign_body=False,
    omit_session_token=False,
    payload_hash=None,
):
    """Sign a request with an Authorization header (SigV4).

    headers: (name, value) pairs, all signed except botocore's unsigned set (User-Agent ...);
    a Host header is derived from the URL when absent. sign_body adds X-Amz-Content-Sha256.
    omit_session_token adds X-Amz-Security-Token after signing, unsigned. payload_hash
    overrides the body's SHA-256 (e.g. UNSIGNED_PAYLOAD). Returns a SignedRequest whose
    ``headers`` are the given ones plus X-Amz-Date, X-Amz-Security-Token,
    X-Amz-Content-Sha256 (as asked) and Authorization. An empty session_token is no token,
    as in botocore's header signer.
    """
    session_token = session_token or None
    date = amz_date(timestamp)
    if (
        not (sign_body or omit_session_token or raw_query)
        and payload_hash is None
        and (normalize_path and encode_path is not False)
    ):
        # The usual options: all of it in one C call.
        return SignedRequest(
            *_core.sign_request(
                method.upper(),
                url,
                headers,
                body,
                access_key,
                secret_key,
                session_token,
                region,
                service,
                date,
            )
        )
    scheme, netloc, path, query = _split_url(url)
    out_headers = list(headers)
    if not any(k.lower() == "host" for k, _ in out_headers):
        out_headers.insert(0, ("Host", host_header(scheme, netloc)))
    phash = payload_hash if payload_hash is not None else _payload_hash(body)
    to_sign = [(k, v) for k, v in out_headers if k.lower() not in UNSIGNED_HEADERS]
    flags = _flags(normalize_path, raw_query, encode_path)
    if sign_body:
        flags |= _core.CONTENT_SHA256
    if omit_session_token:
        flags |= _core.TOKEN_UNSIGNED
    # The signer signs X-Amz-Date, X-Amz-Content-Sha256 (sign_body) and the token itself.
    authorization, canonical, sts, signature, _ = _core.sigv4(
        False,
        method.upper(),
        path,
        query or None,
        to_sign,
        phash,
        date,
        region,
        service,
        access_key,
        secret_key,
        session_token,
        flags,
    )
    out_headers.append(("X-Amz-Date", date))
    if sign_body:
        out_headers.append(("X-Amz-Content-Sha256", phash))
    if session_token is not None:
        out_headers.append(("X-Amz-Security-Token", session_token))
    out_headers.append(("Authorization", authorization))
    return SignedRequest(out_headers, canonical, sts, signature, authorization)


def presign_url(
    method,
    url,
    headers=(),
    *,
    access_key,
    secret_key,
    session_token=None,
    region,
    service,
    timestamp=None,
    expires=3600,
    normalize_path=True,
    encode_path=None,
    raw_query=False,
    payload_hash=UNSIGNED_PAYLOAD,
    omit_session_token=False,
):
    """Presign a URL (SigV4 in the query string).

    The auth parameters (X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders and,
    with a session token, -Security-Token) follow the URL's own query; X-Amz-Signature comes
    last. headers: (name, value) pairs the request will carry, all signed (Host is added
    from the URL). Returns a PresignedURL. An empty session_token is sent empty, as botocore's
    query signer sends it.
    """
    if isinstance(expires, bool) or not isinstance(expires, int) or expires <= 0:
        raise ValueError(f"expires must be a positive int, not {expires!r}")
    scheme, netloc, path, query = _split_url(url)
    date = amz_date(timestamp)
    hdrs = list(headers)
    if not any(k.lower() == "host" for k, _ in hdrs):
        hdrs.insert(0, ("Host", host_header(scheme, netloc)))
    to_sign = [(k, v) for k, v in hdrs if k.lower() not in UNSIGNED_HEADERS]
    flags = _flags(normalize_path, raw_query, encode_path)
    if omit_session_token:
        flags |= _core.TOKEN_UNSIGNED
    # The signer puts the X-Amz-* parameters after the URL's own, X-Amz-Signature last.
    full_query, canonical, sts, signature, _ = _core.sigv4(
        True,
        method.upper(),
        path,
        query or None,
        to_sign,
        payload_hash,
        date,
        region,
        service,
        access_key,
        secret_key,
        session_token,
        flags,
        str(expires),
    )
    base = url.partition("#")[0].partition("?")[0]
    return PresignedURL(f"{base}?{full_query}", canonical, sts, signature)
