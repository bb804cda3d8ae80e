"""URL pieces as botocore sees them, without urllib's normalisation (paths are kept as given)."""


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
    default = {"http": "80", "https": "443"}.get(scheme)
    if port and port != default:
        return f"{host}:{port}"
    return host
