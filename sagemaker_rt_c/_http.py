"""One HTTP request over ``http.client``, for the credential providers' few calls.

STS, the SSO portal, SSO OIDC, the instance metadata service and the container credentials
endpoint are called once per refresh (minutes or hours apart), so this module trades the
C core's connection pool for simplicity: one connection per request, closed afterwards.
Failures become botocore's exceptions, chosen as botocore's ``URLLib3Session`` chooses them:

=====================================================  =========================
connect timeout                                        ConnectTimeoutError
connection refused, unreachable, DNS failure           EndpointConnectionError
TLS failure (handshake, certificate)                   SSLError
proxy unreachable or refusing the tunnel               ProxyConnectionError
read timeout (waiting for or reading the response)     ReadTimeoutError
connection reset or closed before a full response      ConnectionClosedError
=====================================================  =========================

Proxies are spoken to in plain HTTP: plain requests go through them in absolute form,
HTTPS requests through a CONNECT tunnel (TLS end to end); ``user:password@`` in the proxy URL
becomes a Proxy-Authorization header. Unlike botocore, an ``https://`` proxy URL is not
reached over TLS. Nothing here logs or puts a header value in a message.
"""

__all__ = ["Response", "send"]


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
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(proxy_url)
    headers = {}
    if parts.username is not None and parts.password is not None:
        import base64

        raw = f"{unquote(parts.username)}:{unquote(parts.password)}".encode("latin-1")
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
    return parts.hostname, parts.port or 8080, headers


def _mask_proxy(proxy_url):
    from ._client import _mask_proxy_url

    return _mask_proxy_url(proxy_url)


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

    from . import exceptions as exc

    parts = urlsplit(url)
    scheme = parts.scheme
    host = parts.hostname
    port = parts.port
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    header_names = {name.lower() for name, _ in headers}

    context = _ssl_context(verify, client_cert) if scheme == "https" else None
    if proxy_url:
        proxy_host, proxy_port, proxy_headers = _proxy_parts(proxy_url)
        if scheme == "https":
            conn = http.client.HTTPSConnection(
                proxy_host, proxy_port, timeout=connect_timeout, context=context
            )
            conn.set_tunnel(host, port, headers=proxy_headers)
        else:
            conn = http.client.HTTPConnection(proxy_host, proxy_port, timeout=connect_timeout)
            target = url
            headers = list(headers) + list(proxy_headers.items())
    elif scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=connect_timeout, context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=connect_timeout)

    try:
        try:
            conn.connect()
        except ssl.SSLError as e:
            raise exc.SSLError(endpoint_url=url, error=_Detail(str(e))) from None
        except (socket.timeout, TimeoutError) as e:
            if proxy_url:
                raise exc.ProxyConnectionError(
                    proxy_url=_mask_proxy(proxy_url), error=_Detail(str(e))
                ) from None
            raise exc.ConnectTimeoutError(endpoint_url=url, error=_Detail(str(e))) from None
        except OSError as e:
            if proxy_url:
                raise exc.ProxyConnectionError(
                    proxy_url=_mask_proxy(proxy_url), error=_Detail(str(e))
                ) from None
            raise exc.EndpointConnectionError(endpoint_url=url, error=_Detail(str(e))) from None
        conn.sock.settimeout(read_timeout)
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
                conn.putheader(name, value)
            if "content-length" not in header_names:
                if body is not None:
                    conn.putheader("Content-Length", str(len(body)))
                elif method in ("PUT", "POST", "PATCH"):
                    # IMDS's token PUT has no body; servers may insist on the length.
                    conn.putheader("Content-Length", "0")
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
