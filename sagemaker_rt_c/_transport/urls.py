"""URL pieces as botocore sees them, without urllib's normalisation (paths are kept as given),
and an endpoint URL as botocore signs it and urllib3 sends it (``EndpointURL``)."""


def split_url(url):
    """(scheme, netloc, path, query) of an http(s) URL; the fragment is dropped."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"url {url!r} has no scheme")
    rest = rest.partition("#")[0]
    cut = len(rest)
    for ch in "/?":
        i = rest.find(ch)
        if 0 <= i < cut:
            cut = i
    netloc, tail = rest[:cut], rest[cut:]
    path, _, query = tail.partition("?")
    return scheme.lower(), netloc, path, query


_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_header(scheme, netloc):
    """The Host value botocore signs: lower-case host, the port unless it is the default."""
    netloc = netloc.rpartition("@")[2]
    if netloc.startswith("["):
        end = netloc.find("]")
        host = netloc[: end + 1]
        port = netloc[end + 2 :] if end + 1 < len(netloc) else ""
    else:
        host, _, port = netloc.partition(":")
    host = host.lower()
    if port.isascii() and port.isdigit():
        # botocore formats urlsplit's port, an int: "0080" is port 80.
        if int(port) == _DEFAULT_PORTS.get(scheme):
            return host
        port = str(int(port))
    if port:
        return f"{host}:{port}"
    return host


# --- an endpoint URL, for InvokeEndpoint ------------------------------------------------------
#
# botocore joins the endpoint URL and the operation's path with urlsplit / urlunsplit
# (botocore.utils._urljoin), signs that URL (SigV4Auth: urlsplit's path and query, the Host
# from urlsplit's hostname and port), names it in its errors, and hands urllib3 the path and
# query (HTTPConnectionPool.urlopen percent-encodes what may not appear in a request target)
# and a connection for urllib3's own parse of the URL (scheme, host, port; http.client writes
# the Host header from those).

# urllib3.util.url's character classes.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-~")
_PATH_CHARS = _UNRESERVED | frozenset("!$&'()*+,;=") | frozenset(":@/")
_QUERY_CHARS = _PATH_CHARS | frozenset("?")
_HEX = frozenset("0123456789abcdefABCDEF")
_PLAIN_HOST = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")


def _percent_escapes(text):
    """(text with its %XX escapes upper-cased, how many there are): urllib3's _PERCENT_RE."""
    out = []
    count = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "%" and i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
            out.append("%" + text[i + 1 : i + 3].upper())
            count += 1
            i += 3
            continue
        out.append(ch)
        i += 1
    return "".join(out), count


def encode_invalid_chars(component, allowed):
    """urllib3.util.url._encode_invalid_chars: percent-encode the bytes of ``component`` not
    in ``allowed``, upper-casing existing escapes; every '%' is encoded too unless each one
    starts an escape. Returns (encoded, every '%' started an escape)."""
    component, escapes = _percent_escapes(component)
    data = component.encode("utf-8", "surrogatepass")
    keep_percent = escapes == data.count(b"%")
    out = bytearray()
    for byte in data:
        if (keep_percent and byte == 0x25) or (byte < 128 and chr(byte) in allowed):
            out.append(byte)
        else:
            out += b"%%%02X" % byte
    return out.decode(), keep_percent


class EndpointURL:
    """An endpoint URL as botocore and urllib3 use it for ``/endpoints/{name}/invocations``.

    ``url_prefix`` + ``/endpoints/<label>/invocations`` (+ ``?query``, ``#fragment``) is
    botocore's request URL (signed, named in errors, the base of a presigned URL);
    ``base_path`` and ``query`` are what is signed, ``sign_host`` the signed Host.
    ``wire_prefix`` (scheme://host[:port] + the encoded base path), ``wire_query`` and
    ``wire_host`` are what goes on the wire; with ``label_escape`` each '%' of the label is
    sent as %25 (urllib3 does so when the base path has a '%' that starts no escape).
    ``call_error`` is None or (kind, detail): a request can't be sent (boto3 fails each call;
    ``port``: urlsplit's ValueError, ``scheme``: a scheme urllib3 does not support).
    ``plain``: the wire and botocore's views are the same text (the common case).
    """

    __slots__ = (
        "url_prefix",
        "base_path",
        "query",
        "fragment",
        "sign_host",
        "wire_prefix",
        "wire_query",
        "wire_host",
        "label_escape",
        "call_error",
        "plain",
    )

    def __init__(self, url):
        scheme, sep, rest = url.partition("://")
        if sep and scheme in ("http", "https") and rest and set(rest) <= _PLAIN_HOST:
            # A rule-set URL (or one like it): nothing to split or encode.
            self.url_prefix = self.wire_prefix = url
            self.base_path = ""
            self.query = self.fragment = self.wire_query = self.call_error = None
            self.sign_host = self.wire_host = rest
            self.label_escape = False
            self.plain = True
            return
        self._parse(url)

    def _parse(self, url):
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        scheme, netloc, path, query, fragment = parts
        base = path[:-1] if path.endswith("/") else path
        self.url_prefix = (f"{scheme}:" if scheme else "") + f"//{netloc}{base}"
        self.base_path = base
        self.query = query or None
        self.fragment = fragment or None

        # What botocore signs: urlsplit's lower-case hostname, its port (an int) unless the
        # scheme's default, IPv6 addresses in brackets (botocore.auth._host_from_url).
        hostname = parts.hostname or ""
        self.call_error = None
        try:
            port = parts.port
        except ValueError as e:
            port = None
            self.call_error = ("port", str(e))
        ipv6 = ":" in hostname
        host = f"[{hostname}]" if ipv6 else hostname
        if port is not None and port != _DEFAULT_PORTS.get(scheme):
            self.sign_host = f"{host}:{port}"
        else:
            self.sign_host = host

        # What urllib3 sends: the target percent-encoded, to scheme://host:port (no user info;
        # no scheme means http), with http.client's Host (trailing dots dropped, the port
        # unless the connection's default).
        wire_scheme = scheme or "http"
        if self.call_error is None and wire_scheme not in _DEFAULT_PORTS:
            self.call_error = ("scheme", wire_scheme)
        wire_base, self.wire_query = base, self.query
        self.label_escape = False
        if base and not (set(base) <= _PATH_CHARS and "%" not in base):
            wire_base, keep_percent = encode_invalid_chars(base, _PATH_CHARS)
            self.label_escape = not keep_percent
        if self.query and not (set(self.query) <= _QUERY_CHARS and "%" not in self.query):
            self.wire_query = encode_invalid_chars(self.query, _QUERY_CHARS)[0]
        host_port = netloc.rpartition("@")[2]
        if host_port.startswith("["):
            wire_hostname = host_port[: host_port.find("]") + 1]
        else:
            wire_hostname = host_port.partition(":")[0]
        wire_port = "" if port is None else f":{port}"
        self.wire_prefix = f"{wire_scheme}://{wire_hostname}{wire_port}{wire_base}"
        wire_host = hostname.rstrip(".")
        if ipv6:
            # urllib3 writes an IPv6 zone as %<zone> (RFC 6874's %25 undone).
            address, pct, zone = wire_host.partition("%")
            if zone.startswith("25") and zone != "25":
                zone = zone[2:]
            wire_host = f"[{address}{pct}{zone}]"
        if port is not None and port != _DEFAULT_PORTS.get(wire_scheme):
            wire_host = f"{wire_host}:{port}"
        self.wire_host = wire_host
        self.plain = (
            self.wire_prefix == self.url_prefix
            and self.wire_query == self.query
            and self.wire_host == self.sign_host
            and not self.label_escape
            and self.fragment is None
            and self.call_error is None
        )

    def request_url(self, label):
        """botocore's request URL for an encoded EndpointName."""
        url = f"{self.url_prefix}/endpoints/{label}/invocations"
        if self.query:
            url += "?" + self.query
        if self.fragment:
            url += "#" + self.fragment
        return url

    def request_url_from_wire(self, wire_url):
        """botocore's request URL for the URL our transport was given (for error messages)."""
        if self.plain:
            return wire_url
        head = self.wire_prefix + "/endpoints/"
        if not wire_url.startswith(head):
            return wire_url
        label = wire_url[len(head) :].partition("?")[0]
        if label.endswith("/invocations"):
            label = label[: -len("/invocations")]
        if self.label_escape:
            label = label.replace("%25", "%")
        return self.request_url(label)
