"""Verify the AWS Signature Version 4 of a received request, as the AWS front end does.

    verifier = Verifier([("AKIDEXAMPLE", "secret")])
    err = verifier.check("POST", "/endpoints/ep/invocations?x=1", headers, body)
    if err is not None:
        status, code, message = err      # 403, "InvalidSignatureException", "The request ..."

The signature is recomputed with the package's one signer (``_core.sigv4``, the code that
signs the client's requests) from what arrived: the method, the path and query as sent, the
headers named in SignedHeaders (or X-Amz-SignedHeaders), the SHA-256 of the body (or the
signed X-Amz-Content-Sha256, which must match the body) and the date, region and service of
the credential scope; the two signatures are compared in constant time. Requests signed in
the header (Authorization) and presigned URLs (X-Amz-* query parameters) are both checked.

The errors and their messages are those of AWS's JSON services:

- no Authorization and no X-Amz-Signature: ``MissingAuthenticationTokenException``;
- a component missing: ``IncompleteSignatureException``;
- an unknown access key, or a session token other than the configured one:
  ``UnrecognizedClientException`` (``The security token included in the request is invalid.``);
- a scope for another service, region or terminator, a date more than 5 minutes away from
  the clock (``Signature expired`` / ``Signature not yet current``), an expired presigned URL,
  and a signature that does not match: ``InvalidSignatureException``.

All are HTTP 403.
"""

import calendar
import hmac
import time
from urllib.parse import unquote

from .. import _core

__all__ = ["Verifier"]

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

MISSING = "MissingAuthenticationTokenException"
INCOMPLETE = "IncompleteSignatureException"
INVALID = "InvalidSignatureException"
UNRECOGNIZED = "UnrecognizedClientException"

_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your"
    " AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_BAD_TOKEN = "The security token included in the request is invalid."

# Headers the signer adds itself from its arguments (header mode), never passed to it as headers.
_SIGNER_OWN = frozenset(["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"])
_QUERY_AUTH = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
_QUERY_AUTH_ALL = frozenset(_QUERY_AUTH + ("X-Amz-Security-Token",))
_MAX_EXPIRES = 604800  # a week, as every SigV4 service


def _normalize_credentials(credentials):
    """{access_key: (secret_key, session_token or None)} from one credential set or several:
    (access_key, secret_key[, token]) tuples, or objects with access_key / secret_key / token
    (botocore's and this package's credentials, frozen or not)."""
    if credentials is None:
        return {}
    if isinstance(credentials, dict):
        credentials = [credentials]
    elif isinstance(credentials, tuple) and credentials and isinstance(credentials[0], str):
        credentials = [credentials]
    elif hasattr(credentials, "access_key") or hasattr(credentials, "get_frozen_credentials"):
        credentials = [credentials]
    out = {}
    for c in credentials:
        if hasattr(c, "get_frozen_credentials"):
            c = c.get_frozen_credentials()
        if isinstance(c, dict):
            ak = c.get("aws_access_key_id") or c.get("access_key")
            sk = c.get("aws_secret_access_key") or c.get("secret_key")
            tok = c.get("aws_session_token") or c.get("token")
        elif isinstance(c, (tuple, list)):
            if len(c) not in (2, 3):
                raise ValueError("credentials: (access_key, secret_key[, session_token])")
            ak, sk = c[0], c[1]
            tok = c[2] if len(c) == 3 else None
        else:
            ak, sk, tok = c.access_key, c.secret_key, getattr(c, "token", None)
        if not ak or not sk:
            raise ValueError("credentials need an access key and a secret key")
        out[ak] = (sk, tok or None)
    return out


def _split_query(query):
    """[(raw key, raw value)] of a query string, in order (no decoding)."""
    if not query:
        return []
    out = []
    for part in query.split("&"):
        if part:
            k, _, v = part.partition("=")
            out.append((k, v))
    return out


def _amz_to_epoch(amz):
    """Seconds since the epoch of YYYYMMDDTHHMMSSZ, or None if it is not that."""
    if len(amz) != 16 or amz[8] != "T" or amz[15] != "Z":
        return None
    digits = amz[:8] + amz[9:15]
    if not digits.isdigit() or not digits.isascii():
        return None
    try:
        return calendar.timegm(
            (
                int(amz[0:4]),
                int(amz[4:6]),
                int(amz[6:8]),
                int(amz[9:11]),
                int(amz[11:13]),
                int(amz[13:15]),
                0,
                0,
                0,
            )
        )
    except (ValueError, OverflowError):
        return None


def _iso(epoch):
    return _core.amz_date(int(epoch))


class Verifier:
    """Checks SigV4 signatures against one or more credential sets.

    credentials: (access_key, secret_key[, session_token]), a credentials object, or a list of
    them. A set with a session token accepts only requests that carry that token; one without
    accepts only requests without a token. service: the signing name (``sagemaker``).
    region: the only region accepted in the credential scope (None: any, the local endpoint
    has none of its own). skew: seconds of clock difference allowed (AWS: 5 minutes).
    """

    def __init__(self, credentials, *, service="sagemaker", region=None, skew=300, clock=None):
        self.keys = _normalize_credentials(credentials)
        if not self.keys:
            raise ValueError("a Verifier needs at least one credential set")
        self.service = service
        self.region = region
        self.skew = skew
        self.clock = clock or time.time

    # --- the entry point --------------------------------------------------------------------

    def check(self, method, target, headers, body, hmap=None):
        """None if the request is correctly signed, else (status, code, message).

        method: the request method; target: the request target as received (path and query,
        still percent-encoded); headers: the received (name, value) pairs in order; body: its
        bytes; hmap: optionally the same headers as {lower-case name: value}."""
        try:
            self._check(method, target, headers, body, hmap)
        except _Reject as e:
            return e.args
        return None

    def _check(self, method, target, headers, body, hmap):
        if hmap is None:
            hmap = {}
            for k, v in headers:
                kl = k.lower()
                hmap[kl] = hmap[kl] + "," + v if kl in hmap else v
        path, _, query = target.partition("?")
        auth = hmap.get("authorization")
        if auth is None:
            params = _split_query(query)
            if any(
                k in ("X-Amz-Signature", "X-Amz-Algorithm", "X-Amz-Credential") for k, _ in params
            ):
                return self._check_query(method, path, params, headers, body)
            raise _Reject(403, MISSING, "Missing Authentication Token")
        return self._check_header(method, path, query, headers, hmap, body, auth)

    # --- Authorization header ---------------------------------------------------------------

    def _check_header(self, method, path, query, headers, hmap, body, auth):
        scheme, _, rest = auth.strip().partition(" ")
        parts = {}
        for item in rest.split(","):
            k, sep, v = item.strip().partition("=")
            if sep:
                parts[k.strip()] = v.strip()
        date = hmap.get("x-amz-date")
        problems = []
        for name in ("Credential", "Signature", "SignedHeaders"):
            if not parts.get(name):
                problems.append(f"Authorization header requires '{name}' parameter.")
        if date is None:
            problems.append(
                "Authorization header requires existence of either a 'X-Amz-Date' or a"
                " 'Date' header."
            )
        if scheme != ALGORITHM and not problems:
            problems.append(f"Unsupported Authorization Type: '{scheme}'.")
        if problems:
            raise _Reject(403, INCOMPLETE, " ".join(problems) + f" Authorization={auth}")
        access_key, region = self._check_scope_and_time(parts["Credential"], date, None)
        entry = self.keys.get(access_key)
        token = hmap.get("x-amz-security-token")
        if entry is None or (entry[1] or None) != (token or None):
            raise _Reject(403, UNRECOGNIZED, _BAD_TOKEN)
        secret, _ = entry
        signed = parts["SignedHeaders"].split(";")
        if "host" not in signed and ":authority" not in signed:
            raise _Reject(
                403,
                INVALID,
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            )
        flags = _core.NORMALIZE_PATH | _core.ENCODE_PATH
        if "x-amz-content-sha256" in signed:
            payload_hash = hmap.get("x-amz-content-sha256", "")
            if payload_hash != UNSIGNED_PAYLOAD and payload_hash != _sha256(body):
                raise _Reject(
                    403,
                    INVALID,
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                )
            flags |= _core.CONTENT_SHA256
        else:
            payload_hash = _sha256(body)
        if token and "x-amz-security-token" not in signed:
            flags |= _core.TOKEN_UNSIGNED
        wanted = set(signed) - _SIGNER_OWN
        to_sign = [(k, v) for k, v in headers if k.lower() in wanted]
        try:
            _, canonical, sts, signature, _ = _core.sigv4(
                False,
                method,
                path or "/",
                query or None,
                to_sign,
                payload_hash,
                date,
                region,
                self.service,
                access_key,
                secret,
                token or None,
                flags,
            )
        except ValueError as e:
            raise _Reject(403, INCOMPLETE, f"{e}. Authorization={auth}") from None
        if not hmac.compare_digest(signature.encode(), parts["Signature"].encode()):
            raise _Reject(403, INVALID, _mismatch_message(canonical, sts))
        return None

    # --- presigned URLs ---------------------------------------------------------------------

    def _check_query(self, method, path, params, headers, body):
        given = {}
        for k, v in params:
            if k in _QUERY_AUTH_ALL:
                given[k] = unquote(v)
        missing = [k for k in _QUERY_AUTH if not given.get(k)]
        if missing:
            raise _Reject(
                403,
                INCOMPLETE,
                " ".join(f"AWS query-string parameters must include '{k}'." for k in missing)
                + " Re-examine the query-string parameters.",
            )
        if given["X-Amz-Algorithm"] != ALGORITHM:
            raise _Reject(403, INCOMPLETE, f"Unsupported algorithm: '{given['X-Amz-Algorithm']}'.")
        expires_text = given["X-Amz-Expires"]
        if not expires_text.isdigit():
            raise _Reject(403, INCOMPLETE, "X-Amz-Expires should be a number")
        expires = int(expires_text)
        if expires > _MAX_EXPIRES:
            raise _Reject(
                403,
                INVALID,
                f"X-Amz-Expires must be less than a week (in seconds) that is {_MAX_EXPIRES}",
            )
        date = given["X-Amz-Date"]
        access_key, region = self._check_scope_and_time(given["X-Amz-Credential"], date, expires)
        token = given.get("X-Amz-Security-Token")
        entry = self.keys.get(access_key)
        if entry is None or (entry[1] or None) != (token or None):
            raise _Reject(403, UNRECOGNIZED, _BAD_TOKEN)
        secret, _ = entry
        signed = given["X-Amz-SignedHeaders"].split(";")
        if "host" not in signed and ":authority" not in signed:
            raise _Reject(
                403,
                INVALID,
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            )
        wanted = set(signed)
        to_sign = [(k, v) for k, v in headers if k.lower() in wanted]
        own = "&".join(f"{k}={v}" for k, v in params if k not in _QUERY_AUTH_ALL)
        # The signer adds the X-Amz-* parameters itself; a token may have been left unsigned.
        # The payload: botocore signs the empty body's hash (a presigned URL is made before
        # its body is known), S3-style signers UNSIGNED-PAYLOAD; the body's own hash also
        # passes. So the signature covers the method, path, query and signed headers.
        hashes = [EMPTY_SHA256, UNSIGNED_PAYLOAD]
        if body:
            hashes.insert(0, _sha256(body))
        token_flags = [0, _core.TOKEN_UNSIGNED] if token else [0]
        canonical = sts = ""
        for payload_hash in hashes:
            for extra in token_flags:
                try:
                    _, c, s, signature, _ = _core.sigv4(
                        True,
                        method,
                        path or "/",
                        own or None,
                        to_sign,
                        payload_hash,
                        date,
                        region,
                        self.service,
                        access_key,
                        secret,
                        token or None,
                        _core.NORMALIZE_PATH | _core.ENCODE_PATH | extra,
                        expires_text,
                    )
                except ValueError as e:
                    raise _Reject(403, INCOMPLETE, str(e)) from None
                if hmac.compare_digest(signature.encode(), given["X-Amz-Signature"].encode()):
                    return None
                if not canonical:
                    canonical, sts = c, s
        raise _Reject(403, INVALID, _mismatch_message(canonical, sts))

    # --- shared ------------------------------------------------------------------------------

    def _check_scope_and_time(self, credential, date, expires):
        """(access_key, region); raises _Reject."""
        scope = credential.split("/")
        if len(scope) != 5:
            raise _Reject(
                403,
                INCOMPLETE,
                f"Credential should be scoped to a valid region. Credential={credential}",
            )
        access_key, scope_date, region, service, terminator = scope
        if terminator != "aws4_request":
            raise _Reject(
                403,
                INVALID,
                f"Credential should be scoped with a valid terminator: 'aws4_request',"
                f" not '{terminator}'.",
            )
        if service != self.service:
            raise _Reject(
                403,
                INVALID,
                f"Credential should be scoped to correct service: '{self.service}'. ",
            )
        if not region or (self.region is not None and region != self.region):
            raise _Reject(
                403, INVALID, f"Credential should be scoped to a valid region, not '{region}'. "
            )
        signed_at = _amz_to_epoch(date)
        if signed_at is None:
            raise _Reject(
                403,
                INCOMPLETE,
                f"Date must be in ISO-8601 'basic format'. Got '{date}'."
                " See http://en.wikipedia.org/wiki/ISO_8601",
            )
        if scope_date != date[:8]:
            raise _Reject(
                403,
                INVALID,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date"
                f" from HTTP: '{scope_date}' != '{date[:8]}', from '{date}'.",
            )
        now = self.clock()
        if expires is None:
            if signed_at < now - self.skew:
                raise _Reject(
                    403,
                    INVALID,
                    f"Signature expired: {date} is now earlier than {_iso(now - self.skew)}"
                    f" ({_iso(now)} - {self.skew // 60} min.)",
                )
        elif signed_at + expires < now:
            raise _Reject(
                403,
                INVALID,
                f"Signature expired: {date} is now earlier than {_iso(now - expires)}"
                f" ({_iso(now)} - {expires} sec.)",
            )
        if signed_at > now + self.skew:
            raise _Reject(
                403,
                INVALID,
                f"Signature not yet current: {date} is still later than"
                f" {_iso(now + self.skew)} ({_iso(now)} + {self.skew // 60} min.)",
            )
        return access_key, region


class _Reject(Exception):
    """(status, code, message)"""


def _sha256(body):
    return _core.sha256_hex(body) if body else EMPTY_SHA256


def _mismatch_message(canonical, sts):
    return (
        f"{_MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'"
        f"\n\nThe String-to-Sign should have been\n'{sts}'\n"
    )
