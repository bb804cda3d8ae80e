"""TLS and proxy settings as botocore 1.44 (httpsession.py, over urllib3 2) applies them, and
TLS failures in botocore's words.

``transport_kwargs`` turns the resolved settings into the C client's transport keywords:
which certificates each TLS connection trusts and presents, and whether requests for https
URLs are forwarded to an https proxy (``proxy_use_forwarding_for_https``) instead of
tunnelled. ``ssl_error`` builds the exception for a failed TLS set-up from what the C core
reports (csrc/tls.h): the same class and message botocore raises.

``urllib.parse`` and ``ipaddress`` (with ``re``, ``enum``, ``functools`` ... beneath them) are
imported by the functions that need them: only proxies and TLS failures do, and importing them
costs more than the rest of the package.
"""

__all__ = ["transport_kwargs", "ssl_error"]


class _Detail(Exception):
    """The error text inside a botocore exception's message (its ``error`` kwarg)."""


def _client_cert_files(cert):
    # URLLib3Session.__init__: a str is the certificate (its key inside), a tuple is
    # (certificate, key); anything else (a list too) is no client certificate at all.
    if isinstance(cert, str):
        return cert, None
    if isinstance(cert, tuple):
        cert_file, key_file = cert
        return cert_file, key_file
    return None, None


def _proxy_authorization(proxy_url):
    # ProxyConfiguration.proxy_headers_for: Basic credentials from the URL's user and
    # password, both present and non-empty (UnicodeEncodeError for non-ASCII, as botocore).
    import base64
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(proxy_url)
    try:
        username, password = unquote(parts.username), unquote(parts.password)
    except (AttributeError, TypeError):
        return None
    if not (username and password):
        return None
    raw = f"{username}:{password}".encode("ascii")
    return "Basic " + base64.b64encode(raw).strip().decode()


def _is_ip(host):
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:
        return False
    return True


def _proxy_ssl_context_error(proxy_url, proxies_config):
    """What botocore's _setup_proxy_ssl_context raises for this proxy, or None: when
    proxy_ca_bundle or proxy_client_cert is set, it loads them for every request until they
    load (InvalidProxiesConfigError, which its send() wraps in HTTPClientError)."""
    import ssl

    from .. import exceptions as exc

    ca_bundle = proxies_config.get("proxy_ca_bundle")
    cert = proxies_config.get("proxy_client_cert")
    if ca_bundle is None and cert is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        from .http import _check_location  # lazy: the credential providers' HTTP

        _check_location(proxy_url)
        if ca_bundle is not None:
            context.load_verify_locations(cafile=ca_bundle)
        if isinstance(cert, tuple):
            context.load_cert_chain(cert[0], keyfile=cert[1])
        elif isinstance(cert, str):
            context.load_cert_chain(cert)
    except (OSError, ValueError) as e:
        # OSError covers ssl.SSLError; ValueError, urllib3's LocationParseError.
        return exc.HTTPClientError(error=exc.InvalidProxiesConfigError(error=e))
    except Exception as e:  # noqa: BLE001 - botocore's send() wraps whatever else it is
        return exc.HTTPClientError(error=e)
    return None


def transport_kwargs(settings, endpoint_scheme):
    """(the C client's TLS and proxy keywords, the exception every call raises or None)."""
    verify = settings.verify
    cert_file, key_file = _client_cert_files(settings.client_cert)
    kw = dict(
        verify=verify is not False,
        ca_bundle=verify if isinstance(verify, str) else None,
        client_cert=cert_file,
        client_key=key_file,
    )
    proxy_url = settings.proxy_url
    if not proxy_url:
        return kw, None
    from urllib.parse import urlsplit

    proxies_config = settings.proxies_config or {}
    call_error = _proxy_ssl_context_error(proxy_url, proxies_config)
    proxy_https = urlsplit(proxy_url).scheme == "https"
    ca_bundle = proxies_config.get("proxy_ca_bundle")
    proxy_cert = proxies_config.get("proxy_client_cert")
    if ca_bundle is not None or proxy_cert is not None:
        # botocore's proxy SSLContext: always verifying, trusting proxy_ca_bundle and nothing
        # else (not even the default store when only a client certificate is given).
        proxy_verify = True
        proxy_ca = ca_bundle if isinstance(ca_bundle, str) else _EMPTY_CA
        proxy_cert_file, proxy_key_file = _client_cert_files(proxy_cert)
    else:
        # urllib3 then takes the request's policy (botocore's _setup_ssl_cert): verified
        # against `verify` for an https URL, not at all for an http one.
        proxy_verify = endpoint_scheme == "https" and verify is not False
        proxy_ca = verify if proxy_verify and isinstance(verify, str) else None
        proxy_cert_file = proxy_key_file = None
    forwarding = (
        proxy_https
        and endpoint_scheme == "https"
        and bool(proxies_config.get("proxy_use_forwarding_for_https"))
    )
    if forwarding:
        # The TLS connection is the proxy's; the client's own certificate goes nowhere
        # (urllib3's _connect_tls_proxy sends none).
        parts = urlsplit(proxy_url)
        netloc = parts.netloc.rpartition("@")[2]
        try:
            authorization = _proxy_authorization(proxy_url)
        except UnicodeEncodeError as e:
            from .. import exceptions as exc

            call_error = call_error or exc.HTTPClientError(error=e)
            authorization = None
        kw.update(
            verify=proxy_verify,
            ca_bundle=proxy_ca,
            client_cert=proxy_cert_file,
            client_key=proxy_key_file,
            proxy_forwarding=f"{parts.scheme}://{netloc}",
            proxy_authorization=authorization,
        )
        return kw, call_error
    kw.update(
        proxy=proxy_url,
        proxy_verify=proxy_verify,
        proxy_ca_bundle=proxy_ca,
        proxy_client_cert=proxy_cert_file,
        proxy_client_key=proxy_key_file,
    )
    return kw, call_error


# A CA "bundle" naming no certificate: libcurl then refuses the proxy, as the empty SSLContext
# botocore makes for a proxy_client_cert without proxy_ca_bundle refuses every proxy.
_EMPTY_CA = "/dev/null"


# ---- TLS failures in botocore's words -------------------------------------------------------

_SSL_SITE = None


def _ssl_site():
    """The "(_ssl.c:NNNN)" Python's ssl module puts after a handshake failure: the line of
    its C source that raised, which changes between Python builds. Learnt once from a
    handshake that fails in memory (the same line raises every handshake error)."""
    global _SSL_SITE
    if _SSL_SITE is None:
        import re
        import ssl

        site = ""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            incoming.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")  # not TLS: the handshake fails
            try:
                tls.do_handshake()
            except ssl.SSLError as e:
                found = re.search(r" \([^()]*:\d+\)$", str(e))
                site = found.group(0) if found else ""
        _SSL_SITE = site
    return _SSL_SITE


def _url_hostname(url):
    # The host urllib3 checks the certificate against: lower-cased, no brackets, an IPv6
    # zone dropped, no trailing dot.
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if "%" in host and _is_ip(host):
        host = host.partition("%")[0]
    return host.rstrip(".")


def _hostname_message(url, what, names):
    # urllib3's match_hostname.
    if what == "wildcards":
        return "too many wildcards in certificate DNS name: " + repr(names[0])
    host = _url_hostname(url)
    if len(names) > 1:
        return "hostname %r doesn't match either of %s" % (host, ", ".join(map(repr, names)))
    if len(names) == 1:
        return f"hostname {host!r} doesn't match {names[0]!r}"
    return "no appropriate subjectAltName fields were found"


def _load_failure(url, settings):
    """The exception urllib3's ssl_wrap_socket raises loading this client's CA bundle and
    client certificate (in its order), as botocore passes it on; None if they load."""
    import ssl

    from .. import exceptions as exc

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    verify = settings.verify
    if isinstance(verify, str):
        try:
            context.load_verify_locations(verify)
        except OSError as e:
            return exc.SSLError(endpoint_url=url, error=e)
    cert_file, key_file = _client_cert_files(settings.client_cert)
    try:
        if key_file:
            with open(key_file) as f:
                if any("ENCRYPTED" in line for line in f):
                    return exc.SSLError(
                        endpoint_url=url,
                        error=_Detail("Client private key is encrypted, password is required"),
                    )
        if cert_file:
            context.load_cert_chain(cert_file, key_file)
    except ssl.SSLError as e:
        return exc.SSLError(endpoint_url=url, error=e)
    except OSError as e:
        # Not an SSL error: urllib3 makes it a ProtocolError ("Connection aborted.").
        return exc.ConnectionClosedError(endpoint_url=url, error=e)
    except Exception as e:  # noqa: BLE001 - a key file that is not text: botocore's catch-all
        return exc.HTTPClientError(error=e)
    return None


def ssl_error(url, message, tls, settings):
    """botocore's exception for a TLS set-up that failed, from the C core's report."""
    from .. import exceptions as exc

    what, detail = tls if tls else (None, None)
    if what == "verify":
        text = f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {message}"
        return exc.SSLError(endpoint_url=url, error=_Detail(text + _ssl_site()))
    if what in ("hostname", "wildcards"):
        return exc.SSLError(endpoint_url=url, error=_Detail(_hostname_message(url, what, detail)))
    if what in ("ca_file", "client_cert"):
        failure = _load_failure(url, settings)
        if failure is not None:
            return failure
    return exc.SSLError(endpoint_url=url, error=_Detail(message))
