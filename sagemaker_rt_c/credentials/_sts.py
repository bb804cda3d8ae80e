"""AssumeRole and AssumeRoleWithWebIdentity, as botocore's STS client sends and parses them.

The request is botocore's query-protocol POST (``Action``, ``Version``, then the parameters in
the order given, percent-encoded with botocore's safe set), validated as botocore validates it
(required members, types, ``min``), and signed with this package's SigV4 signer, except
AssumeRoleWithWebIdentity, which botocore sends unsigned. The endpoint, signing region,
retries and errors follow the session's settings (``_nested``). The XML response is parsed
with ``xml.etree``: the result has botocore's shape (``Credentials`` with ``Expiration`` as an
aware datetime, ``AssumedRoleUser``, ``ResponseMetadata``).

Unlike botocore, a response that is not valid XML raises ``ResponseParserError`` without the
body in its message (it may hold credentials).
"""

from ._nested import NestedClient, ResponseParserError
from ._nested import validate_params as _validate
from ._refreshable import _parse_api_timestamp

__all__ = ["STSClient", "ResponseParserError"]

_API_VERSION = "2011-06-15"
_SAFE = "-._~"

# Input members we validate: (name, kind, min), in the model's member order.
_ASSUME_ROLE = (
    ("RoleArn", "string", 20),
    ("RoleSessionName", "string", 2),
    ("PolicyArns", "list", None),
    ("Policy", "string", 1),
    ("DurationSeconds", "integer", 900),
    ("Tags", "list", None),
    ("TransitiveTagKeys", "list", None),
    ("ExternalId", "string", 2),
    ("SerialNumber", "string", 9),
    ("TokenCode", "string", 6),
    ("SourceIdentity", "string", 2),
    ("ProvidedContexts", "list", 1),
    ("MinimumSessionTokenSize", "integer", 0),
)
_ASSUME_ROLE_REQUIRED = ("RoleArn", "RoleSessionName")
_WEB_IDENTITY = (
    ("RoleArn", "string", 20),
    ("RoleSessionName", "string", 2),
    ("WebIdentityToken", "string", 4),
    ("ProviderId", "string", 4),
    ("PolicyArns", "list", None),
    ("Policy", "string", 1),
    ("DurationSeconds", "integer", 900),
    ("MinimumSessionTokenSize", "integer", 0),
)
_WEB_IDENTITY_REQUIRED = ("RoleArn", "RoleSessionName", "WebIdentityToken")


def _encode(value):
    from urllib.parse import quote

    if isinstance(value, bool):
        value = "true" if value else "false"
    return quote(str(value).encode("utf-8"), safe=_SAFE)


def _query_body(action, params):
    pairs = [("Action", action), ("Version", _API_VERSION)] + list(params.items())
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs).encode("utf-8")


def _strip(tag):
    return tag.rsplit("}", 1)[-1]


def _to_dict(element):
    """An element's children as {tag: text or nested dict} (repeated tags: the first)."""
    out = {}
    for child in element:
        key = _strip(child.tag)
        if key in out:
            continue
        out[key] = _to_dict(child) if len(child) else child.text
    return out


def _parse_xml(body):
    from xml.etree import ElementTree

    try:
        parser = ElementTree.XMLParser(target=ElementTree.TreeBuilder(), encoding="utf-8")
        parser.feed(body)
        return parser.close()
    except ElementTree.ParseError as e:
        raise ResponseParserError(
            f"Unable to parse response ({e}), invalid XML received. Further retries may succeed."
        ) from None


def _parse_error(response):
    """QueryParser's error dict (``Error``, ``ResponseMetadata``) for an error response."""
    from .._protocol.errors import _reason_phrase  # lazy: only error responses

    body = response.body.strip()
    if response.status >= 500 and (not body or body.startswith(b"<html>")):
        parsed = {
            "Error": {"Code": str(response.status), "Message": _reason_phrase(response.status)},
            "ResponseMetadata": {},
        }
    else:
        parsed = _to_dict(_parse_xml(response.body))
        if isinstance(parsed.get("Errors"), dict):
            parsed.update(parsed.pop("Errors"))
        if "RequestId" in parsed:
            parsed["ResponseMetadata"] = {"RequestId": parsed.pop("RequestId")}
    metadata = parsed.setdefault("ResponseMetadata", {})
    metadata["HTTPStatusCode"] = response.status
    metadata["HTTPHeaders"] = response.headers
    return parsed


def _parse_result(response, wrapper):
    root = _parse_xml(response.body)
    result = None
    metadata = {}
    for child in root:
        tag = _strip(child.tag)
        if tag == wrapper and result is None:
            result = _to_dict(child)
        elif tag == "ResponseMetadata":
            metadata = _to_dict(child)
    if result is None:
        raise ResponseParserError(
            f"Unable to parse response (no {wrapper} element), invalid XML received."
        )
    creds = result.get("Credentials")
    if isinstance(creds, dict):
        for name in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"):
            # botocore reads an empty element of a modeled string or timestamp as "".
            if name in creds and not isinstance(creds[name], str):
                creds[name] = ""
        if "Expiration" in creds:
            # botocore's parse_timestamp: epoch seconds or dateutil; errors as botocore's.
            creds["Expiration"] = _parse_api_timestamp(creds["Expiration"])
    if result.get("PackedPolicySize") is not None:
        result["PackedPolicySize"] = int(result["PackedPolicySize"])
    metadata["HTTPStatusCode"] = response.status
    metadata["HTTPHeaders"] = response.headers
    metadata["RetryAttempts"] = response.retry_attempts
    if response.max_attempts_reached:
        metadata["MaxAttemptsReached"] = True
    result["ResponseMetadata"] = metadata
    return result


def _root_url(url):
    # botocore's _urljoin for requestUri "/": an endpoint without a path gets "/".
    scheme, sep, rest = url.partition("://")
    if "/" not in rest.split("?", 1)[0]:
        host, qmark, query = rest.partition("?")
        return f"{scheme}{sep}{host}/{qmark}{query}"
    return url


class STSClient(NestedClient):
    """The two STS operations the credential chain needs, with botocore's names."""

    def _operation(self, action, params):
        body = _query_body(action, params)

        def build(url):
            headers = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]
            return "POST", _root_url(url), headers, body

        response = self._call(action, build, _parse_error)
        return _parse_result(response, action + "Result")

    def assume_role(self, **params):
        _validate(params, _ASSUME_ROLE, _ASSUME_ROLE_REQUIRED)
        return self._operation("AssumeRole", params)

    def assume_role_with_web_identity(self, **params):
        _validate(params, _WEB_IDENTITY, _WEB_IDENTITY_REQUIRED)
        return self._operation("AssumeRoleWithWebIdentity", params)
