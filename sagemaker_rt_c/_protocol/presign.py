"""generate_presigned_url, following botocore's client and SigV4QueryAuth step by step.

botocore's quirk is kept on purpose (a user migrating gets the same URL): a JSON object
Body is parsed and its keys are moved into the query string; a body that is not JSON
raises json.JSONDecodeError, as in botocore.
"""

import time

from .. import _core
from .._about import _PY_TO_OP_NAME

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _percent_encode(value):
    # botocore.utils.percent_encode: non-strings go through str(), then UTF-8.
    if not isinstance(value, (bytes, str)):
        value = str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    return _core.uri_encode(value, False)


def _expires_values(value):
    # X-Amz-Expires as _percent_encode_sequence reads a value (the signer percent-encodes
    # each): a list repeats the parameter, once per item.
    def text(v):
        if isinstance(v, bytes):
            return v.decode("utf-8", "surrogateescape")
        return v if isinstance(v, str) else str(v)

    if isinstance(value, list):
        return [text(v) for v in value]
    return text(value)


def _percent_encode_sequence(pairs):
    out = []
    for key, value in pairs:
        if isinstance(value, list):
            for element in value:
                out.append(f"{_percent_encode(key)}={_percent_encode(element)}")
        else:
            out.append(f"{_percent_encode(key)}={_percent_encode(value)}")
    return "&".join(out)


def _body_as_dict(data):
    # botocore.auth._get_body_as_dict
    import json

    if isinstance(data, bytes):
        data = json.loads(data.decode("utf-8"))
    elif isinstance(data, str):
        data = json.loads(data)
    return data


def generate_presigned_url(client, client_method, params, expires_in, http_method):
    from .. import exceptions

    if params is None:
        params = {}
    try:
        operation_name = _PY_TO_OP_NAME[client_method]
    except KeyError:
        raise exceptions.UnknownClientMethodError(method_name=client_method) from None
    settings = client._settings
    from .validate import validate

    # Without parameter_validation, only what can't be serialised (and unsafe header values).
    validate(operation_name, params, lengths=bool(settings.parameter_validation))

    # Serialise as botocore's rest-json serializer does, from the operation's model
    # (_operations.py): URI labels percent-encoded into the request URI, header members in the
    # model's order, the payload member as the body.
    from .operations import OPERATIONS

    operation = OPERATIONS[operation_name]
    method = operation["http_method"] if http_method is None else http_method
    path = operation["request_uri"]
    headers = []
    for member in operation["members"]:
        name = member["name"]
        if member["location"] == "uri":
            path = path.replace("{" + member["wire_name"] + "}", _percent_encode(params.get(name)))
        elif member["location"] == "header" and name in params:
            value = params[name]
            if member["type"] in ("integer", "long"):
                value = str(value)  # botocore's rest serializer: str() of the int
            headers.append((member["wire_name"], value))
    body = params.get(operation["payload"], b"")
    if isinstance(body, str):
        body = body.encode("utf-8")  # botocore's serializer (a lone surrogate fails here)

    endpoint = client._endpoint
    endpoint_query = endpoint.query
    fragment = f"#{endpoint.fragment}" if endpoint.fragment else ""
    path = endpoint.base_path + path
    prefix = endpoint.url_prefix[: len(endpoint.url_prefix) - len(endpoint.base_path)]
    if client._unsigned:
        # botocore's UNSIGNED "signer" leaves the request as it is: the plain URL.
        query = f"?{endpoint_query}" if endpoint_query else ""
        return f"{prefix}{path}{query}{fragment}"

    error = client._call_error_info
    if error is not None and error[0] == "signature":
        # botocore's signer for presigning is the version + "-query"; it knows none here.
        version = error[1]
        if not version.endswith("-query"):
            version += "-query"
        raise exceptions.UnsupportedSignatureVersionError(signature_version=version)
    creds = client._credentials
    frozen = creds.get_frozen_credentials() if creds is not None else None
    if frozen is None or frozen.access_key is None:
        raise exceptions.NoCredentialsError()

    date = _core.amz_date(int(time.time()))
    region = settings.signing_region
    service = settings.signing_name
    to_sign = [(k.lower(), v) for k, v in headers if k.lower() != "user-agent"]
    names = {k for k, _ in to_sign}
    if "host" not in names:
        if endpoint.call_error is not None and endpoint.call_error[0] == "port":
            # botocore's signer reads urlsplit(url).port for the Host header.
            raise ValueError(endpoint.call_error[1])
        to_sign.append(("host", endpoint.sign_host))

    query_dict = {}
    if endpoint_query:
        from urllib.parse import parse_qs

        query_dict = {k: v[0] for k, v in parse_qs(endpoint_query, keep_blank_values=True).items()}
    if body:
        if not isinstance(body, (bytes, bytearray, str)) and not hasattr(body, "read"):
            body = bytes(memoryview(body))  # our buffer bodies: as their bytes
        # botocore: bytes and str are parsed as JSON; anything else (a bytearray, a file)
        # goes to dict.update as it is.
        query_dict.update(_body_as_dict(body))
    # The operation's parameters, then (the signer adds them) X-Amz-Algorithm, -Credential,
    # -Date, -Expires, -SignedHeaders, -Security-Token (botocore's query signer: even an empty
    # one) and -Signature. A dict whose values encode to nothing still leaves its '&'.
    operation_params = _percent_encode_sequence(query_dict.items()) if query_dict else None
    query, _canonical, _sts, _signature, _signed = _core.sigv4(
        True,
        method.upper(),
        path,
        operation_params,
        to_sign,
        EMPTY_SHA256,
        date,
        region,
        service,
        frozen.access_key,
        frozen.secret_key,
        frozen.token,
        _core.NORMALIZE_PATH | _core.ENCODE_PATH | _core.RAW_QUERY,
        _expires_values(expires_in),
    )
    # botocore appends the signature to its URL, after a fragment if there is one.
    signed, sep, signature = query.rpartition("&X-Amz-Signature=")
    return f"{prefix}{path}?{signed}{fragment}{sep}{signature}"
