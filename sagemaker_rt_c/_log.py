"""Debug logging as botocore logs, under ``sagemaker_rt_c.*`` loggers (README "Debug logging").

The loggers mirror botocore's modules: ``sagemaker_rt_c.endpoint`` (the request, each
response, the sleep before a retry), ``.httpsession`` (the exchange, in urllib3's words),
``.parsers`` (response headers and bodies), ``.auth`` (canonical request and string to sign),
``.retries.standard`` (standard and adaptive retry decisions), ``.retryhandler`` (legacy),
``.credentials`` (which provider found the credentials), ``.tokens`` (SSO tokens), ``.args``
and ``.client`` (client creation warnings).

Never in a record: access keys, secret keys, session tokens and SSO bearer tokens, the
Authorization header, signatures, presigned URLs, the user info of an endpoint URL, request
bodies (their size only) and credential services' responses.

``logging`` is never imported here: until something imports it nobody can have configured a
handler, and importing it costs more than importing this package. The first use after it is
imported gives the ``sagemaker_rt_c`` logger a ``NullHandler``, as boto3 and botocore give
theirs at import.

invoke_endpoint's C core calls the ``_log_*`` hooks (re-exported by ``_client``, the module it
calls hooks on) only while a call-path logger is enabled for DEBUG (csrc/log.c).
"""

import sys

from . import _core
from ._transport.urls import split_url

DEBUG = 10
INFO = 20
WARNING = 30

TOP = "sagemaker_rt_c"
ENDPOINT = "sagemaker_rt_c.endpoint"
HTTP = "sagemaker_rt_c.httpsession"
PARSERS = "sagemaker_rt_c.parsers"
AUTH = "sagemaker_rt_c.auth"
STANDARD = "sagemaker_rt_c.retries.standard"
LEGACY = "sagemaker_rt_c.retryhandler"
CREDENTIALS = "sagemaker_rt_c.credentials"
TOKENS = "sagemaker_rt_c.tokens"

# What the C call path writes to: it calls the hooks only while one of these logs DEBUG.
_CALL_PATH = (ENDPOINT, HTTP, PARSERS, AUTH, STANDARD, LEGACY)

# csrc/binding.h SMRT_LOG_KEY: where _log_refresh leaves its answer for the C core. Interned,
# as the C core's copy is: its lookup then matches by identity, without comparing the text.
_KEY = sys.intern("sagemaker_rt_c: call path logs")

_loggers = {}
_null_handler_added = False
_modules = sys.modules


def _logging():
    """The logging module if something imported it, else None."""
    if "logging" not in sys.modules:
        return None
    import logging  # already imported: this waits for an import in progress, nothing more

    return logging


def set_up(logging):
    """Give the ``sagemaker_rt_c`` logger boto3's NullHandler, once."""
    global _null_handler_added
    if _null_handler_added:
        return
    with logging._lock if hasattr(logging, "_lock") else _NoLock():
        if not _null_handler_added:
            logging.getLogger(TOP).addHandler(logging.NullHandler())
            _null_handler_added = True


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def logger(name):
    """The logger ``name``, or None while ``logging`` is not imported."""
    lg = _loggers.get(name)
    if lg is None:
        if "logging" not in _modules:
            return None
        logging = _logging()
        set_up(logging)
        lg = _loggers.setdefault(name, logging.getLogger(name))
    return lg


def _enabled(name, level):
    lg = logger(name)
    return lg if lg is not None and lg.isEnabledFor(level) else None


# stacklevel=2: the record names the caller of these helpers, as if it had logged itself.
def debug(name, msg, *args, **kwargs):
    lg = _enabled(name, DEBUG)
    if lg is not None:
        lg.debug(msg, *args, stacklevel=2, **kwargs)


def info(name, msg, *args, **kwargs):
    lg = _enabled(name, INFO)
    if lg is not None:
        lg.info(msg, *args, stacklevel=2, **kwargs)


def warning(name, msg, *args, **kwargs):
    lg = _enabled(name, WARNING)
    if lg is not None:
        lg.warning(msg, *args, stacklevel=2, **kwargs)


# ---- retry decisions, worded as botocore words them (C core and _nested) --------------------

# Why an attempt is retryable (csrc/retry.c smrt_retry_reason's tokens, "idp" its STS rule's),
# for standard and adaptive modes: botocore says only that a retry is needed, ours says why.
_STANDARD_REASONS = {
    "exception": "{exc} is a transient error",
    "transient status": "HTTP {status} is a transient error",
    "transient code": "error code {code} is a transient error",
    "throttling code": "error code {code} is a throttling error",
    "throttling status": "HTTP 429 with an error code {operation} does not model ({code}) is a "
    "throttling error",
    "idp": "error code {code} is retried for STS",
}


def retry_decision(
    mode,
    attempt,
    max_attempts,
    reason,
    retried,
    delay,
    *,
    operation="InvokeEndpoint",
    status=None,
    code=None,
    exc=None,
    scrub=str,
    quota=True,
    refused=None,
):
    """Log what botocore's retry handler logs for an attempt's outcome (``reason`` None:
    not retryable, or a success), then, when ``retried``, the sleep. ``refused``: why a
    retryable outcome is not retried although attempts remain, when it is not the quota."""
    if mode == "legacy":
        lg = _enabled(LEGACY, DEBUG)
        if lg is not None:
            # botocore.retryhandler: the matching checker, MaxAttemptsDecorator, RetryHandler.
            if reason is not None and refused is None:
                if reason == "exception":
                    lg.debug("retry needed, retryable exception caught: %s", scrub(str(exc)))
                elif reason == "status and code":
                    lg.debug(
                        "retry needed: matching HTTP status and error code seen: %s, %s",
                        status,
                        code,
                    )
                else:
                    lg.debug("retry needed: retryable HTTP status code received: %s", status)
                if retried:
                    lg.debug("Retry needed, action of: %s", delay)
                else:
                    lg.debug("Reached the maximum number of retry attempts: %s", attempt)
            elif refused is not None:
                lg.debug("Not retrying: %s.", refused)
            if not retried:
                lg.debug("No retry needed.")
    else:
        lg = _enabled(STANDARD, DEBUG)
        if lg is not None:
            # botocore.retries.standard: MaxAttemptsChecker first, then the retryable checks,
            # then the quota (RetryHandler.needs_retry).
            if attempt >= max_attempts:
                lg.debug("Max attempts of %s reached.", max_attempts)
            elif reason is not None:
                why = _STANDARD_REASONS.get(reason, reason).format(
                    exc=type(exc).__name__, status=status, code=code, operation=operation
                )
                lg.debug("Retryable: %s.", why)
                if retried:
                    lg.debug("Retry needed, retrying request after delay of: %s", delay)
                elif refused is not None:
                    lg.debug("Not retrying: %s.", refused)
                elif quota:
                    lg.debug("Retry needed but retry quota reached, not retrying request.")
            if not retried:
                lg.debug("Not retrying request.")
    if retried:
        debug(ENDPOINT, "Response received to retry, sleeping for %s seconds", delay)


def response_summary(attempt, max_attempts, status, request_id, code=None):
    parts = [f"HTTP {status}"]
    if request_id:
        parts.append(f"RequestId: {request_id}")
    if code is not None:
        parts.append(f"error code: {code}")
    debug(
        ENDPOINT,
        "Response received (attempt %s of %s): %s",
        attempt,
        max_attempts,
        ", ".join(parts),
    )


def no_response(attempt, max_attempts, exc, scrub=str):
    debug(
        ENDPOINT,
        "No response (attempt %s of %s): %s: %s",
        attempt,
        max_attempts,
        type(exc).__name__,
        scrub(str(exc)),
    )


class _Size:
    """A request body in a logged request dict: its size, never its bytes."""

    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n

    def __repr__(self):
        return f"<{self.n} bytes, not logged>"


def request_made(operation, request):
    """botocore.endpoint's first line of a call (``request`` holds no secret)."""
    debug(
        ENDPOINT,
        "Making request for %s with params: %s",
        f"OperationModel(name={operation})",
        request,
    )


def body_size(n):
    return _Size(n)


# ---- hooks of the C core (csrc/log.c) ---------------------------------------------------------


def _log_refresh():
    """(the dict csrc/log.c watches, whether calls log): called when logging was just imported
    or a level changed since the last answer. ``disabled`` loggers count as enabled (setting
    it empties no cache): the hooks then find them disabled and log nothing."""
    logging = _logging()
    if logging is None:
        return None, False
    top = logger(TOP)
    cache = getattr(top, "_cache", None)
    if not isinstance(cache, dict):
        return None, True
    # Under logging's lock, which setLevel's cache clearing takes: a level changed while we
    # look empties the dict after our answer is in it, never before.
    with logging._lock if hasattr(logging, "_lock") else _NoLock():
        on = top.manager.disable < DEBUG and any(
            logger(name).getEffectiveLevel() <= DEBUG for name in _CALL_PATH
        )
        cache[_KEY] = on
    return cache, on


def _log_request(client, params, body_len):
    if _enabled(ENDPOINT, DEBUG) is None:
        return
    from ._protocol.operations import (
        OPERATIONS,  # lazy: the generated tables, loaded when a call logs
    )

    # The request as botocore's serializer makes it, from the operation's model: the URI
    # label percent-encoded into the request URI, header members in the model's order.
    operation = OPERATIONS["InvokeEndpoint"]
    path = operation["request_uri"]
    label = ""
    headers = {}
    for member in operation["members"]:
        name = member["name"]
        if member["location"] == "uri":
            label = _core.uri_encode(params[name], False)
            path = path.replace("{" + member["wire_name"] + "}", label)
        elif member["location"] == "header" and name in params:
            headers[member["wire_name"]] = params[name]
    headers["User-Agent"] = client._settings.user_agent
    request = {
        "url_path": path,
        "query_string": {},
        "method": operation["http_method"],
        "headers": headers,
        "body": _Size(body_len),
        "url": _Scrubber(client)(client._endpoint.request_url(label)),
    }
    request_made("InvokeEndpoint", request)


def _log_attempt(
    client,
    attempt,
    kind,
    status,
    headers,
    body,
    code,
    url,
    message,
    canonical,
    retried,
    delay,
    reason,
):
    settings = client._settings
    max_attempts = int(settings.max_attempts)
    scrub = _Scrubber(client)
    _log_signing(client, canonical)
    exc = None
    if kind == "ok":
        fields = _log_exchange(url, status, headers, body, scrub)
        response_summary(attempt, max_attempts, status, _request_id(fields), code)
    else:
        exc = client._transport_error(kind, url, message)
        no_response(attempt, max_attempts, exc, scrub)
    refused = None
    if kind == "read_timeout" and not _retries_read_timeouts(client) and attempt < max_attempts:
        refused = "retry_on_read_timeout is False"
    retry_decision(
        settings.retry_mode,
        attempt,
        max_attempts,
        reason,
        retried,
        delay,
        status=status if kind == "ok" else None,
        code=code,
        exc=exc,
        scrub=scrub,
        refused=refused,
    )


def _log_response(client, result, headers, url, canonical):
    settings = client._settings
    metadata = result["ResponseMetadata"]
    attempt = metadata["RetryAttempts"] + 1
    status = metadata["HTTPStatusCode"]
    _log_signing(client, canonical)
    _log_exchange(url, status, headers, result["Body"], _Scrubber(client))
    response_summary(attempt, int(settings.max_attempts), status, metadata.get("RequestId"))
    retry_decision(settings.retry_mode, attempt, int(settings.max_attempts), None, False, 0.0)


def _retries_read_timeouts(client):
    retries = getattr(client._settings.config, "retries", None) or {}
    return retries.get("retry_on_read_timeout", True)


def _log_signing(client, canonical):
    """botocore.auth's lines for SigV4, without the signature (botocore logs it) and with the
    session token's canonical header redacted."""
    lg = _enabled(AUTH, DEBUG)
    if lg is None or canonical is None or client._unsigned:
        return
    import hashlib

    lines = canonical.decode("utf-8", "replace").split("\n")
    amz_date = next((ln[11:] for ln in lines if ln.startswith("x-amz-date:")), "")
    shown = "\n".join(
        "x-amz-security-token:<redacted>" if ln.startswith("x-amz-security-token:") else ln
        for ln in lines
    )
    settings = client._settings
    scope = f"{amz_date[:8]}/{settings.signing_region}/{settings.signing_name}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical).hexdigest()]
    )
    lg.debug("Calculating signature using v4 auth.")
    lg.debug("CanonicalRequest:\n%s", shown)
    lg.debug("StringToSign:\n%s", string_to_sign)


def _log_exchange(url, status, raw_headers, body, scrub):
    """urllib3's request line and botocore.parsers' headers and body; returns the headers."""
    version, fields = _parse_headers(raw_headers)
    lg = _enabled(HTTP, DEBUG)
    if lg is not None:
        scheme, netloc, path, query = split_url(url)
        host, port = _host_port(scheme, netloc)
        lowered = {k.lower(): v for k, v in fields.items()}
        length = None
        if "chunked" not in lowered.get("transfer-encoding", "").lower():
            try:
                length = int(lowered.get("content-length"))
            except (TypeError, ValueError):
                length = None
        target = path + ("?" + query if query else "")
        lg.debug(
            '%s://%s:%s "%s %s %s" %s %s',
            scheme,
            scrub(host),
            port,
            "POST",
            target,
            version,
            status,
            length,
        )
    lg = _enabled(PARSERS, DEBUG)
    if lg is not None:
        lg.debug("Response headers: %r", fields)
        lg.debug("Response body:\n%r", body)
    return fields


def _parse_headers(raw):
    """(HTTP version, fields) of a response head (status line, then header lines), the fields
    as urllib3's HTTPHeaderDict shows them: names as sent, repeated names joined with ', ',
    folded lines joined with a space."""
    fields = {}
    version = "HTTP/1.1"
    if not raw:
        return version, fields
    names = {}
    last = None
    for line in raw.decode("latin-1").split("\r\n"):
        if not line:
            continue
        if line.startswith("HTTP/") and last is None and not fields:
            version = line.partition(" ")[0]
            continue
        if line[0] in " \t":
            if last is not None:
                fields[last] += " " + line.strip()
            continue
        name, _, value = line.partition(":")
        value = value.strip()
        key = names.setdefault(name.lower(), name)
        fields[key] = fields[key] + ", " + value if key in fields else value
        last = key
    return version, fields


def _request_id(fields):
    lowered = {k.lower(): v for k, v in fields.items()}
    return lowered.get("x-amzn-requestid") or lowered.get("x-amz-request-id")


def _host_port(scheme, netloc):
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        end = hostport.find("]")
        host, port = hostport[: end + 1], hostport[end + 2 :]
    else:
        host, _, port = hostport.partition(":")
    if not port:
        port = {"http": 80, "https": 443}.get(scheme, "")
    return host, port


class _Scrubber:
    """Hides the user info of the client's endpoint URL (``https://user:pass@host``) in text:
    botocore names that URL in its messages, password included."""

    def __init__(self, client):
        prefix = client._endpoint.url_prefix
        netloc = prefix.partition("//")[2].partition("/")[0]
        self.userinfo = netloc.rpartition("@")[0]

    def __call__(self, text):
        if self.userinfo:
            return text.replace(self.userinfo + "@", "***@")
        return text


# Imported after logging: its NullHandler now, as boto3's import adds it.
if "logging" in sys.modules:
    set_up(_logging())
