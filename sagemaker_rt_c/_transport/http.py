"""One HTTP request over ``http.client``, for the credential providers' few calls.

The instance metadata service and the container credentials endpoint are called once per
refresh (minutes or hours apart), with retries of their fetchers' own, so this module trades
the C core's connection pool for simplicity: one connection per request, closed afterwards.
(STS, the SSO portal and SSO OIDC are called through the C call engine: ``credentials/_nested``.
``_check_location`` and ``_request_target`` serve it too.)
Failures become botocore's exceptions, chosen as botocore's ``URLLib3Session`` chooses them:

=====================================================  =========================
connect timeout                                        ConnectTimeoutError
connection refused, unreachable, DNS failure           EndpointConnectionError
TLS failure (handshake, certificate)                   SSLError
proxy unreachable or refusing the tunnel               ProxyConnectionError
read timeout (waiting for or reading the response)     ReadTimeoutError
connection reset or closed before a full response      ConnectionClosedError
=====================================================  =========================

Proxies are spoken to in plain HTTP: plain requests go through them in absolute form
(urllib3's: path dot segments removed, then encoded), HTTPS requests through a CONNECT tunnel
(TLS end to end); ``user:password@`` in the proxy URL (both non-empty, ASCII) becomes a
Proxy-Authorization header; a proxy URL without a port means 80 (443 for ``https://``), as
in urllib3. Unlike botocore, an ``https://`` proxy URL is not reached over TLS. Nothing here
logs or puts a header value in a message.

What urllib3 refuses before a request leaves, botocore reports as ``HTTPClientError``, and so
does this module, in urllib3's order and with its messages:

* a URL urllib3's ``parse_url`` rejects (a port above 65535 or not a number, a host with
  spaces or control characters): its ``LocationParseError`` (``Failed to parse: ...``), the
  ``error`` of the HTTPClientError, as botocore's IMDS fetcher expects;
* a timeout of 0 or below, or not a number (urllib3's ``Timeout`` messages; connect first);
* a header value http.client refuses (CR or LF not followed by a space or tab: ``Invalid
  header value``, with the value replaced by the header's name, where botocore's message
  holds the value, often a token; a character outside Latin-1: the codec's message). For a
  plain-HTTP URL this happens before connecting, as in urllib3; over TLS after.

The request target is botocore's (``urlparse``: path and query, ``;params`` of the last
segment dropped) percent-encoded as urllib3 encodes it (``%`` escapes kept and upper-cased,
every other byte outside its allowed set escaped as UTF-8): an IMDS role name ``a b`` is
asked for as ``a%20b``.
"""

from .._settings import _check_timeout
from .._settings.proxies import _mask_proxy_url
from .._settings.regions import _HEX_PAT, _IPV4_PAT, _IPV6_VARIATIONS, _LS32_PAT
from .urls import encode_invalid_chars

__all__ = ["Response", "send", "LocationParseError"]


class Response:
    """A complete response: ``status``, ``headers`` (lower-case names), ``body`` (bytes)."""

    __slots__ = ("status", "reason", "headers", "body", "url")

    def __init__(self, status, reason, headers, body, url):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.url = url

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return f"<Response [{self.status}] {self.url}>"


class _Detail(Exception):
    """The low-level reason behind a transport exception (its ``error`` kwarg)."""


class LocationParseError(ValueError):
    """urllib3's exception for a URL it cannot parse (same message)."""

    def __init__(self, location):
        super().__init__(f"Failed to parse: {location}")
        self.location = location


# urllib3 2.x (util/url.py): what parse_url accepts as a URL and as "host[:port]".
_URI_PAT = r"^(?:([a-zA-Z][a-zA-Z0-9+.-]*):)?(?://([^\\/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$"
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-~"
_PATH_CHARS = frozenset(_UNRESERVED + "!$&'()*+,;=" + ":" + "@/")
_QUERY_CHARS = _PATH_CHARS | {"?"}
_regexes = {}


def _regex(name):
    compiled = _regexes.get(name)
    if compiled is None:
        import re

        if name == "uri":
            compiled = re.compile(_URI_PAT, re.UNICODE | re.DOTALL)
        elif name == "host_port":
            # The same IPv6 patterns as botocore's endpoint check (both copy urllib3's).
            subs = {"hex": _HEX_PAT, "ls32": _LS32_PAT}
            ipv6 = "(?:" + "|".join(v % subs for v in _IPV6_VARIATIONS) + ")"
            zone = "(?:%25|%)(?:[" + _UNRESERVED.replace("-", "\\-") + "]|%[a-fA-F0-9]{2})+"
            addrz = r"\[" + ipv6 + "(?:" + zone + r")?\]"
            reg_name = r"(?:[^\[\]%:/?#]|%[a-fA-F0-9]{2})*"
            pattern = f"^({reg_name}|{_IPV4_PAT}|{addrz})(?::0*?(|0|[1-9][0-9]{{0,4}}))?$"
            compiled = re.compile(pattern, re.UNICODE | re.DOTALL)
        else:  # "invalid_host_char"
            compiled = re.compile(r"[\x00-\x20\x7f]")
        _regexes[name] = compiled
    return compiled


def _check_location(url):
    """Raise urllib3's LocationParseError where its ``parse_url(url)`` would."""
    scheme_less = url[:1] != "/" and not _has_scheme(url)
    authority = _regex("uri").match("//" + url if scheme_less else url).group(2)
    if not authority:
        return
    host_port = authority.rpartition("@")[2]
    match = _regex("host_port").fullmatch(host_port)
    if match is None:
        bad = _regex("invalid_host_char").search(host_port)
        if bad:
            raise LocationParseError(
                f"Host {host_port!r} contains invalid character {bad.group()!r}"
            )
        raise LocationParseError(f"{host_port!r} is not a valid host or port")
    host, port = match.groups()
    if port and not 0 <= int(port) <= 65535:
        raise LocationParseError("//" + url if scheme_less else url)
    if host:
        bad = _regex("invalid_host_char").search(host)
        if bad:
            raise LocationParseError(f"Host {host!r} contains invalid character {bad.group()!r}")


def _has_scheme(url):
    # urllib3's _SCHEME_RE: r"^(?:[a-zA-Z][a-zA-Z0-9+-]*:|/)"
    head, sep, _ = url.partition(":")
    if not sep or not head or not head[0].isascii() or not head[0].isalpha():
        return False
    return all(c.isascii() and (c.isalnum() or c in "+-") for c in head)


def _encode_invalid_chars(component, allowed):
    """urllib3's _encode_invalid_chars (one implementation, shared with the client's URLs)."""
    return encode_invalid_chars(component, allowed)[0]


def _remove_dot_segments(path):
    # urllib3's _remove_path_dot_segments (RFC 3986 5.2.4).
    output = []
    for segment in path.split("/"):
        if segment == ".":
            continue
        if segment != "..":
            output.append(segment)
        elif output:
            output.pop()
    if path.startswith("/") and (not output or output[0]):
        output.insert(0, "")
    if path.endswith(("/.", "/..")):
        output.append("")
    return "/".join(output)


def _request_target(url):
    """What botocore's URLLib3Session and urllib3 put on the request line for ``url``."""
    from urllib.parse import urlparse

    parts = urlparse(url)
    path = parts.path or "/"
    target = _encode_invalid_chars(path, _PATH_CHARS)
    if parts.query:
        target += "?" + _encode_invalid_chars(parts.query, _QUERY_CHARS)
    return target


def _absolute_target(url):
    """The absolute form urllib3 sends to an HTTP proxy (``parse_url(url)`` normalized)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = f"{parts.scheme.lower()}://{parts.netloc}"
    if parts.path:
        target += _encode_invalid_chars(_remove_dot_segments(parts.path), _PATH_CHARS)
    if parts.query:
        target += "?" + _encode_invalid_chars(parts.query, _QUERY_CHARS)
    return target


def _put_request(conn, method, target, headers, header_names, body):
    """Request line and headers into http.client's buffer; what it refuses becomes
    botocore's HTTPClientError (never with a header's value in the message)."""
    from .. import exceptions as exc

    try:
        conn.putrequest(
            method,
            target,
            skip_host="host" in header_names,
            skip_accept_encoding=True,
        )
        if "accept-encoding" not in header_names:
            # What urllib3 sends for botocore: no compressed answers.
            conn.putheader("Accept-Encoding", "identity")
        for name, value in headers:
            try:
                conn.putheader(name, value)
            except ValueError as e:
                if not isinstance(e, UnicodeError) and str(e).startswith("Invalid header value"):
                    # http.client's message holds the value: a token, often.
                    raise ValueError(f"Invalid header value for {name} (value not shown)") from None
                raise
        if "content-length" not in header_names:
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            elif method in ("PUT", "POST", "PATCH"):
                # IMDS's token PUT has no body; servers may insist on the length.
                conn.putheader("Content-Length", "0")
    except ValueError as e:
        raise exc.HTTPClientError(error=e) from None


def _ssl_context(verify, client_cert):
    import ssl

    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str):
        import os

        if os.path.isdir(verify):
            context = ssl.create_default_context(capath=verify)
        else:
            context = ssl.create_default_context(cafile=verify)
    else:
        context = ssl.create_default_context()
    if client_cert:
        if isinstance(client_cert, (tuple, list)):
            context.load_cert_chain(client_cert[0], client_cert[1])
        else:
            context.load_cert_chain(client_cert)
    return context


def _proxy_parts(proxy_url):
    """(host, port, headers) of a proxy, as botocore and urllib3 make them: a
    Proxy-Authorization header when the URL has a non-empty user and password (ASCII only:
    else UnicodeEncodeError, as botocore's), the scheme's port (80, 443) when none is given.
    A URL urllib3 cannot parse raises its LocationParseError, the password masked."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(proxy_url)
    try:
        username, password = unquote(parts.username), unquote(parts.password)
    except (AttributeError, TypeError):
        username = password = None
    headers = {}
    if username and password:
        import base64

        raw = f"{username}:{password}".encode("ascii")
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(raw).strip().decode()
    try:
        _check_location(proxy_url)
    except LocationParseError:
        raise LocationParseError(_mask_proxy_url(proxy_url)) from None
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), headers


def send(
    method,
    url,
    headers=(),
    body=None,
    *,
    connect_timeout,
    read_timeout,
    verify=True,
    proxy_url=None,
    client_cert=None,
):
    """Send one request and read the whole response; raises botocore's transport errors.

    ``headers``: (name, value) pairs sent as given (http.client adds Host, and
    Content-Length for a body, unless present); ``verify``: True, False or a CA bundle path.
    """
    import http.client
    import socket
    import ssl
    from urllib.parse import urlsplit

    from .. import exceptions as exc

    # botocore's and urllib3's order: the proxy's headers and URL, the URL, the timeouts,
    # then (in conn.request) the request's headers.
    try:
        if proxy_url:
            proxy_host, proxy_port, proxy_headers = _proxy_parts(proxy_url)
        _check_location(url)
        _check_timeout(connect_timeout, "connect")  # urllib3's Timeout validation
        _check_timeout(read_timeout, "read")
    except ValueError as e:
        raise exc.HTTPClientError(error=e) from None
    parts = urlsplit(url)
    scheme = parts.scheme
    host = parts.hostname
    port = parts.port
    target = _request_target(url)
    header_names = {name.lower() for name, _ in headers}

    context = _ssl_context(verify, client_cert) if scheme == "https" else None
    if proxy_url:
        if scheme == "https":
            conn = http.client.HTTPSConnection(
                proxy_host, proxy_port, timeout=connect_timeout, context=context
            )
            conn.set_tunnel(host, port, headers=proxy_headers)
        else:
            conn = http.client.HTTPConnection(proxy_host, proxy_port, timeout=connect_timeout)
            target = _absolute_target(url)
            headers = list(headers) + list(proxy_headers.items())
    elif scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=connect_timeout, context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=connect_timeout)

    try:
        if scheme != "https":
            # urllib3 writes a plain request's headers before it connects (over TLS, after).
            _put_request(conn, method, target, headers, header_names, body)
        try:
            conn.connect()
        except ssl.SSLError as e:
            raise exc.SSLError(endpoint_url=url, error=_Detail(str(e))) from None
        except (socket.timeout, TimeoutError) as e:
            if proxy_url:
                raise exc.ProxyConnectionError(
                    proxy_url=_mask_proxy_url(proxy_url), error=_Detail(str(e))
                ) from None
            raise exc.ConnectTimeoutError(endpoint_url=url, error=_Detail(str(e))) from None
        except OSError as e:
            if proxy_url:
                raise exc.ProxyConnectionError(
                    proxy_url=_mask_proxy_url(proxy_url), error=_Detail(str(e))
                ) from None
            raise exc.EndpointConnectionError(endpoint_url=url, error=_Detail(str(e))) from None
        conn.sock.settimeout(read_timeout)
        if scheme == "https":
            _put_request(conn, method, target, headers, header_names, body)
        try:
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read()
        except (socket.timeout, TimeoutError) as e:
            raise exc.ReadTimeoutError(endpoint_url=url, error=_Detail(str(e))) from None
        except (http.client.HTTPException, OSError) as e:
            raise exc.ConnectionClosedError(endpoint_url=url, error=_Detail(str(e))) from None
        response_headers = {}
        for name, value in response.getheaders():
            response_headers[name.lower()] = value
        return Response(response.status, response.reason, response_headers, data, url)
    finally:
        conn.close()
