"""The proxy for a URL, from the environment, as botocore's ``URLLib3Session`` picks it.

``urllib.request``'s environment lookup (``<scheme>_proxy`` in any case, lowercase wins;
NO_PROXY), re-implemented so that ``urllib`` is not imported, and botocore's mask for a
proxy URL in messages (``_mask_proxy_url``).

Deliberate difference from botocore: proxies come from the environment only (botocore also
reads macOS / Windows system proxy settings when no proxy variable is set).
"""

import os

# --- proxies (urllib.request's environment lookup, re-implemented) ---------------------------


def _environ_proxy_items():
    """Every (name, value) whose name ends in "_proxy" in any case, in environment order."""
    environ = os.environ
    data = getattr(environ, "_data", None)
    decodekey = getattr(environ, "decodekey", None)
    decodevalue = getattr(environ, "decodevalue", None)
    if isinstance(data, dict) and decodekey is not None and decodevalue is not None:
        # Filtering os.environ's raw store first skips decoding every other variable.
        return [
            (decodekey(k), decodevalue(v))
            for k, v in data.items()
            if k[-6:].lower() in (b"_proxy", "_proxy")
        ]
    return [(k, v) for k, v in environ.items() if k[-6:].lower() == "_proxy"]


def _getproxies_environment():
    """urllib.request.getproxies_environment: <scheme>_proxy variables, lowercase wins."""
    environ = os.environ
    proxies = {}
    items = _environ_proxy_items()
    for name, value in items:
        name = name.lower()
        if value and name[-6:] == "_proxy":
            proxies[name[:-6]] = value
    if "REQUEST_METHOD" in environ:
        # CGI: HTTP_PROXY may come from a "Proxy:" request header (CVE-2016-1000110).
        proxies.pop("http", None)
    for name, value in items:
        if name[-6:] == "_proxy":
            name = name.lower()
            if value:
                proxies[name[:-6]] = value
            else:
                proxies.pop(name[:-6], None)
    return proxies


def _splitport(host):
    i = host.rfind(":")
    if i != -1:
        port = host[i + 1 :]
        if all(c in "0123456789" for c in port):
            return host[:i], port or None
    return host, None


def _proxy_bypass_environment(host, proxies):
    """urllib.request.proxy_bypass_environment (NO_PROXY: DNS suffixes or '*')."""
    no_proxy = proxies.get("no")
    if no_proxy is None:
        return False
    if no_proxy == "*":
        return True
    host = host.lower()
    hostonly, _ = _splitport(host)
    for name in no_proxy.split(","):
        name = name.strip()
        if name:
            name = name.lstrip(".").lower()
            if hostonly == name or host == name:
                return True
            name = "." + name
            if hostonly.endswith(name) or host.endswith(name):
                return True
    return False


def _fix_proxy_url(proxy_url):
    if proxy_url.startswith("http:") or proxy_url.startswith("https:"):
        return proxy_url
    if proxy_url.startswith("//"):
        return "http:" + proxy_url
    return "http://" + proxy_url


def _split_scheme_netloc(url):
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _proxy_url(scheme, netloc, proxies):
    """The proxy botocore's URLLib3Session uses for a URL (None: direct)."""
    if proxies is None:
        proxies = _getproxies_environment()
        if proxies and _proxy_bypass_environment(netloc, proxies):
            return None
    proxy = proxies.get(scheme)
    if proxy:
        return _fix_proxy_url(proxy)
    return None


def _mask_proxy_url(proxy_url):
    """botocore.utils.mask_proxy_url: hide the user and password of a proxy URL."""
    scheme, sep, rest = proxy_url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return proxy_url
    creds, _, host = rest.partition("@")
    masked = "***:***" if ":" in creds else "***"
    return f"{scheme}://{masked}@{host}"
