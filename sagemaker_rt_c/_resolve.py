"""Client settings resolution: what ``boto3.client('sagemaker-runtime', ...)`` would use.

``resolve_client_settings`` reproduces, for SageMaker Runtime, what botocore 1.44 computes
while creating a client (``botocore/session.py`` ``create_client``, ``botocore/client.py``
``ClientCreator``, ``botocore/args.py`` ``ClientArgsCreator``, the endpoint rule set of
``sagemaker-runtime/2017-05-13``, ``botocore/endpoint.py`` and ``botocore/httpsession.py``):
the same values, the same precedence, the same exceptions with the same messages, raised in
the same order. The result is a ``ClientSettings``: the C client needs nothing else.

Endpoint. The URL is the one botocore sends requests to, from the endpoint rule set (partition
data embedded below, generated from botocore's ``partitions.json`` and ``endpoints.json``): a
custom endpoint (argument, AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME, AWS_ENDPOINT_URL, the profile's
``services`` section, the profile's ``endpoint_url``, unless ignore_configured_endpoint_urls)
is used verbatim and turns FIPS / dual-stack off, as in botocore. botocore validates the
endpoint-variant request against its legacy ``endpoints.json`` data at construction; that check
(``EndpointVariantError``) is reproduced too.

User-Agent. ``ClientSettings.user_agent`` is the header value, built like botocore's
``useragent.py`` with this package as the SDK::

    sagemaker_rt_c/<version> ua/2.1 os/<os>#<release> md/arch#<machine>
        lang/python#<python version> md/pyimpl#<implementation>
        [exec-env/<AWS_EXECUTION_ENV>] cfg/retry-mode#<mode> [app/<app id>] [<user_agent_extra>]

(one line, single spaces). ``<os>`` is linux / macos / windows / ... (or ``other`` followed by
``md/<system>#<release>``); every component is sanitised as botocore does (characters outside
``A-Za-z0-9!$%&'*+-.^_`|~,`` and, in values, ``#``, become ``-``). The app id comes from
``Config(user_agent_appid=...)``, AWS_SDK_UA_APP_ID or ``sdk_ua_app_id`` in the profile.
``Config(user_agent='X')`` replaces all of it, as in botocore: the header is then ``X``
followed by `` <user_agent_extra>`` when set. botocore's per-request ``m/<feature ids>``
component is not produced.

Deliberate differences from botocore:

* Only ``sagemaker-runtime`` (and its alias ``runtime.sagemaker``) exists: any other name,
  even one botocore knows, raises ``UnknownServiceError`` listing ``sagemaker-runtime``.
* A region name ending in a line feed is refused (``InvalidRegionError``); botocore's
  check lets it through (``_validate_region_name``).
* A ``signature_version`` botocore knows other than ``v4`` (``s3v4``, ``v2``, ``v4-query``
  ...) raises ``UnsupportedSignatureVersionError`` here; botocore signs with it.
* ``Config.user_agent`` / ``user_agent_extra`` with a control character raise
  ``InvalidConfigError`` here; boto3 fails every call (CR, LF) or sends them raw.
* ``Config.retries`` of the caller is copied, not rewritten in place as botocore does (which
  makes a reused Config keep the first client's retry mode).
* ``endpoint_url`` is the URL requests go to. botocore's ``client.meta.endpoint_url`` shows
  its legacy ``endpoints.json`` URL instead, which differs only for the ``aws-*-global``
  pseudo regions of the other partitions and for dual-stack in aws-iso / aws-iso-b.
* An error of the endpoint rule set itself (none is reachable with today's partition data)
  is raised here, at construction; botocore raises it when an operation is called.
* Proxies come from the environment only (botocore also reads macOS / Windows system proxy
  settings when no proxy variable is set).
* The User-Agent names this package, not Boto3/Botocore, and has no ``m/`` feature ids.

Speed. Nothing here imports ``re``, ``urllib``, ``platform``, ``dataclasses`` or ``logging`` on
the common paths (known region, no custom endpoint); they are imported lazily for unknown
region names, custom endpoint URLs and rare warnings. The User-Agent prefix and the endpoint
URL per (region, fips, dualstack, ssl) are cached per process.
"""

import os
import sys

from . import __version__
from .config import UNSIGNED, Config, is_unsigned

__all__ = ["ClientSettings", "resolve_client_settings"]

_SERVICE_NAME = "sagemaker-runtime"
_SERVICE_ALIASES = {"runtime.sagemaker": "sagemaker-runtime"}
_API_VERSION = "2017-05-13"
_ENDPOINT_PREFIX = "runtime.sagemaker"
_SIGNING_NAME = "sagemaker"
_ENDPOINT_ENV_VAR = "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"
_SERVICES_KEY = "sagemaker_runtime"

# botocore.args / botocore.configprovider constants.
_DEFAULT_MAX_ATTEMPTS = {"legacy": 5, "standard": 3, "adaptive": 3}
_DEFAULTS_MODES = ("legacy", "auto", "standard", "in-region", "cross-region", "mobile")
# sdk-default-configuration.json: connectTimeoutInMillis per defaults mode.
_MODE_CONNECT_TIMEOUT = {"standard": 3.1, "in-region": 1.1, "cross-region": 3.1, "mobile": 30.0}
_VALID_CHECKSUM_CONFIG = ("when_supported", "when_required")
_VALID_ACCOUNT_ID_ENDPOINT_MODES = ("preferred", "disabled", "required")
_USERAGENT_APPID_MAXLEN = 50
# botocore.auth.AUTH_TYPE_MAPS (1.44.8, without awscrt) but "v4": signature versions botocore
# knows and this package does not implement. Others are unknown to botocore too: its calls
# raise UnknownSignatureVersionError (the client does the same, _client._call_error).
_OTHER_BOTOCORE_SIGNERS = frozenset(
    (
        "bearer", "s3", "s3-presign-post", "s3-query", "s3v4", "s3v4-presign-post",
        "s3v4-query", "v2", "v3", "v3https", "v4-query", "v4-s3express",
        "v4-s3express-presign-post", "v4-s3express-query",
    )
)  # fmt: skip
_UNSUPPORTED_DUALSTACK_LEGACY = ("aws-iso", "aws-iso-b")

# Generated from botocore 1.44.8 data/partitions.json (rule set partitions) and
# data/endpoints.json (runtime.sagemaker, for construction-time checks and regions):
#   ruleset: (name, regionRegex, regions, dnsSuffix, dualStackDnsSuffix, supportsFIPS,
#             supportsDualStack)
#   legacy:  (name, regionRegex, regions, variant tag sets of the defaults,
#             ((endpoint name, endpoint variant tag sets), ...))
_RULESET_PARTITIONS = (
    (
        "aws",
        "^(us|eu|ap|sa|ca|me|af|il|mx)\\-\\w+\\-\\d+$",
        (
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "aws-global",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "me-west-1",
            "mx-central-1",
            "sa-east-1",
            "sa-west-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ),
        "amazonaws.com",
        "api.aws",
        True,
        True,
    ),
    (
        "aws-cn",
        "^cn\\-\\w+\\-\\d+$",
        ("aws-cn-global", "cn-north-1", "cn-northwest-1"),
        "amazonaws.com.cn",
        "api.amazonwebservices.com.cn",
        True,
        True,
    ),
    (
        "aws-eusc",
        "^eusc\\-(de)\\-\\w+\\-\\d+$",
        ("eusc-de-east-1",),
        "amazonaws.eu",
        "api.amazonwebservices.eu",
        True,
        True,
    ),
    (
        "aws-iso",
        "^us\\-iso\\-\\w+\\-\\d+$",
        ("aws-iso-global", "us-iso-east-1", "us-iso-west-1"),
        "c2s.ic.gov",
        "api.aws.ic.gov",
        True,
        True,
    ),
    (
        "aws-iso-b",
        "^us\\-isob\\-\\w+\\-\\d+$",
        ("aws-iso-b-global", "us-isob-east-1", "us-isob-west-1"),
        "sc2s.sgov.gov",
        "api.aws.scloud",
        True,
        True,
    ),
    (
        "aws-iso-e",
        "^eu\\-isoe\\-\\w+\\-\\d+$",
        ("aws-iso-e-global", "eu-isoe-west-1"),
        "cloud.adc-e.uk",
        "api.cloud-aws.adc-e.uk",
        True,
        True,
    ),
    (
        "aws-iso-f",
        "^us\\-isof\\-\\w+\\-\\d+$",
        ("aws-iso-f-global", "us-isof-east-1", "us-isof-south-1"),
        "csp.hci.ic.gov",
        "api.aws.hci.ic.gov",
        True,
        True,
    ),
    (
        "aws-us-gov",
        "^us\\-gov\\-\\w+\\-\\d+$",
        ("aws-us-gov-global", "us-gov-east-1", "us-gov-west-1"),
        "amazonaws.com",
        "api.aws",
        True,
        True,
    ),
)
_LEGACY_PARTITIONS = (
    (
        "aws",
        "^(us|eu|ap|sa|ca|me|af|il|mx)\\-\\w+\\-\\d+$",
        (
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ),
        (("dualstack",), ("dualstack", "fips"), ("fips",)),
        (
            ("af-south-1", ()),
            ("ap-east-1", ()),
            ("ap-east-2", ()),
            ("ap-northeast-1", ()),
            ("ap-northeast-2", ()),
            ("ap-northeast-3", ()),
            ("ap-south-1", ()),
            ("ap-south-2", ()),
            ("ap-southeast-1", ()),
            ("ap-southeast-2", ()),
            ("ap-southeast-3", ()),
            ("ap-southeast-4", ()),
            ("ap-southeast-5", ()),
            ("ap-southeast-6", ()),
            ("ap-southeast-7", ()),
            ("ca-central-1", ()),
            ("ca-west-1", ()),
            ("eu-central-1", ()),
            ("eu-central-2", ()),
            ("eu-north-1", ()),
            ("eu-south-1", ()),
            ("eu-south-2", ()),
            ("eu-west-1", ()),
            ("eu-west-2", ()),
            ("eu-west-3", ()),
            ("il-central-1", ()),
            ("me-central-1", ()),
            ("me-south-1", ()),
            ("mx-central-1", ()),
            ("sa-east-1", ()),
            ("us-east-1", (("fips",),)),
            ("us-east-1-fips", ()),
            ("us-east-2", (("fips",),)),
            ("us-east-2-fips", ()),
            ("us-west-1", (("fips",),)),
            ("us-west-1-fips", ()),
            ("us-west-2", (("fips",),)),
            ("us-west-2-fips", ()),
        ),
    ),
    (
        "aws-cn",
        "^cn\\-\\w+\\-\\d+$",
        ("cn-north-1", "cn-northwest-1"),
        (("dualstack",), ("dualstack", "fips"), ("fips",)),
        (("cn-north-1", ()), ("cn-northwest-1", ())),
    ),
    (
        "aws-us-gov",
        "^us\\-gov\\-\\w+\\-\\d+$",
        ("us-gov-east-1", "us-gov-west-1"),
        (("dualstack",), ("dualstack", "fips"), ("fips",)),
        (("us-gov-east-1", ()), ("us-gov-west-1", (("fips",),)), ("us-gov-west-1-fips", ())),
    ),
    (
        "aws-iso",
        "^us\\-iso\\-\\w+\\-\\d+$",
        ("us-iso-east-1", "us-iso-west-1"),
        (("fips",),),
        (("us-iso-east-1", ()),),
    ),
    (
        "aws-iso-b",
        "^us\\-isob\\-\\w+\\-\\d+$",
        ("us-isob-east-1", "us-isob-west-1"),
        (("fips",),),
        (("us-isob-east-1", ()),),
    ),
    (
        "aws-iso-e",
        "^eu\\-isoe\\-\\w+\\-\\d+$",
        ("eu-isoe-west-1",),
        (("fips",),),
        (("eu-isoe-west-1", ()),),
    ),
    (
        "aws-iso-f",
        "^us\\-isof\\-\\w+\\-\\d+$",
        ("us-isof-east-1", "us-isof-south-1"),
        (("fips",),),
        (("us-isof-east-1", ()), ("us-isof-south-1", ())),
    ),
    (
        "aws-eusc",
        "^eusc\\-(de)\\-\\w+\\-\\d+$",
        ("eusc-de-east-1",),
        (("dualstack",), ("dualstack", "fips"), ("fips",)),
        (("eusc-de-east-1", ()),),
    ),
)


def _index_regions(partitions, with_endpoints):
    # Explicitly listed names, first partition wins: the same answer as botocore's ordered
    # "listed or regex" scan for these names (checked by the tests).
    index = {}
    for entry in partitions:
        names = list(entry[2])
        if with_endpoints:
            names.extend(name for name, _ in entry[4])
        for name in names:
            index.setdefault(name, entry)
    return index


_RULESET_BY_REGION = _index_regions(_RULESET_PARTITIONS, False)
_LEGACY_BY_REGION = _index_regions(_LEGACY_PARTITIONS, True)
_LEGACY_ENDPOINT_TAGS = {
    (entry[0], name): tags for entry in _LEGACY_PARTITIONS for name, tags in entry[4]
}
_KNOWN_REGIONS = frozenset(_RULESET_BY_REGION) | frozenset(_LEGACY_BY_REGION)

_regex_cache = {}


def _regex(pattern):
    compiled = _regex_cache.get(pattern)
    if compiled is None:
        import re

        compiled = _regex_cache[pattern] = re.compile(pattern)
    return compiled


_VALID_HOST_LABEL = r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$"


def _validate_region_name(region_name):
    """botocore.utils.validate_region_name, and a region ending in a line feed refused too.

    botocore's pattern ends in ``$``, which also matches before a final line feed: it accepts
    "us-east-1\n", and the line feed then goes into the Authorization header (boto3 fails
    at every call with a custom endpoint_url, and at construction otherwise: the line feed
    is in the host name, ``Invalid endpoint``).
    We refuse it here with botocore's InvalidRegionError, as botocore refuses every other
    control character.
    """
    if region_name is None or region_name in _KNOWN_REGIONS:
        return
    if region_name.endswith("\n") or not _regex(_VALID_HOST_LABEL).match(region_name):
        from . import exceptions

        raise exceptions.InvalidRegionError(region_name=region_name)


def _ruleset_partition(region):
    """The rule set's ``aws.partition``: listed or regex match, in order; else ``aws``."""
    entry = _RULESET_BY_REGION.get(region)
    if entry is not None:
        return entry
    for entry in _RULESET_PARTITIONS:
        if region in entry[2] or _regex(entry[1]).match(region):
            return entry
    return _RULESET_PARTITIONS[0]


def _endpoint_error(msg):
    from . import exceptions

    return exceptions.EndpointResolutionError(msg=msg)


def _ruleset_url(region, fips, dualstack):
    """The sagemaker-runtime endpoint rule set, for a set Region and no custom endpoint."""
    name, _, _, dns, dualstack_dns, supports_fips, supports_dualstack = _ruleset_partition(region)
    if fips and dualstack:
        if supports_fips and supports_dualstack:
            return f"https://runtime.sagemaker-fips.{region}.{dualstack_dns}"
        raise _endpoint_error(
            "FIPS and DualStack are enabled, but this partition does not support one or both"
        )
    if fips:
        if not supports_fips:
            raise _endpoint_error("FIPS is enabled but this partition does not support FIPS")
        if name == "aws":
            return f"https://runtime-fips.sagemaker.{region}.amazonaws.com"
        if name == "aws-us-gov":
            return f"https://runtime.sagemaker.{region}.amazonaws.com"
        return f"https://runtime.sagemaker-fips.{region}.{dns}"
    if dualstack:
        if not supports_dualstack:
            raise _endpoint_error(
                "DualStack is enabled but this partition does not support DualStack"
            )
        return f"https://runtime.sagemaker.{region}.{dualstack_dns}"
    return f"https://runtime.sagemaker.{region}.{dns}"


def _legacy_partition(region, dualstack):
    """botocore's EndpointResolver partition choice for runtime.sagemaker (endpoints.json)."""
    entry = _LEGACY_BY_REGION.get(region)
    if entry is not None and not (dualstack and entry[0] in _UNSUPPORTED_DUALSTACK_LEGACY):
        return entry
    for entry in _LEGACY_PARTITIONS:
        if dualstack and entry[0] in _UNSUPPORTED_DUALSTACK_LEGACY:
            continue
        if (
            (entry[0], region) in _LEGACY_ENDPOINT_TAGS
            or region in entry[2]
            or _regex(entry[1]).match(region)
        ):
            return entry
    # No partition claims the region: botocore retries with the "aws" partition forced.
    return _LEGACY_PARTITIONS[0]


def _check_legacy_variant(region, fips, dualstack):
    """botocore raises EndpointVariantError at construction when endpoints.json has no
    variant for the requested tags, even when the rule set (used for requests) has one."""
    tags = []
    if dualstack:
        tags.append("dualstack")
    if fips:
        tags.append("fips")
    key = tuple(tags)  # already sorted: "dualstack" < "fips"
    entry = _legacy_partition(region, dualstack)
    if key in entry[3] or key in _LEGACY_ENDPOINT_TAGS.get((entry[0], region), ()):
        return
    from . import exceptions

    raise exceptions.EndpointVariantError(
        tags=tags, error_msg=f"Endpoint does not exist for {_ENDPOINT_PREFIX} in region {region}"
    )


_URL_CACHE = {}


def _endpoint_url(region, fips, dualstack, use_ssl):
    key = (region, fips, dualstack, use_ssl)
    url = _URL_CACHE.get(key)
    if url is not None:
        return url
    url = _ruleset_url(region, fips, dualstack)
    if not use_ssl:
        url = "http://" + url[8:]
    # Names from the partition lists always give valid URLs; others are checked as botocore's
    # EndpointCreator does.
    if region not in _KNOWN_REGIONS:
        _validate_endpoint_url(url)
    if len(_URL_CACHE) < 512:
        _URL_CACHE[key] = url
    return url


# --- endpoint URL validation (botocore.utils) ------------------------------------------------

_UNSAFE_URL_CHARS = frozenset("\t\r\n")
_HOSTNAME = r"^((?!-)[A-Z\d-]{1,63}(?<!-)\.)*((?!-)[A-Z\d-]{1,63}(?<!-))$"
_IPV4_PAT = r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}"
_HEX_PAT = "[0-9A-Fa-f]{1,4}"
_LS32_PAT = "(?:{hex}:{hex}|{ipv4})".format(hex=_HEX_PAT, ipv4=_IPV4_PAT)
_IPV6_VARIATIONS = (
    "(?:%(hex)s:){6}%(ls32)s",
    "::(?:%(hex)s:){5}%(ls32)s",
    "(?:%(hex)s)?::(?:%(hex)s:){4}%(ls32)s",
    "(?:(?:%(hex)s:)?%(hex)s)?::(?:%(hex)s:){3}%(ls32)s",
    "(?:(?:%(hex)s:){0,2}%(hex)s)?::(?:%(hex)s:){2}%(ls32)s",
    "(?:(?:%(hex)s:){0,3}%(hex)s)?::%(hex)s:%(ls32)s",
    "(?:(?:%(hex)s:){0,4}%(hex)s)?::%(ls32)s",
    "(?:(?:%(hex)s:){0,5}%(hex)s)?::%(hex)s",
    "(?:(?:%(hex)s:){0,6}%(hex)s)?::",
)
_UNRESERVED_PAT = r"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._!\-~"


def _ipv6_addrz_pattern():
    subs = {"hex": _HEX_PAT, "ls32": _LS32_PAT}
    ipv6 = "(?:" + "|".join(x % subs for x in _IPV6_VARIATIONS) + ")"
    zone_id = "(?:%25|%)(?:[" + _UNRESERVED_PAT + "]|%[a-fA-F0-9]{2})+"
    return r"^\[" + ipv6 + r"(?:" + zone_id + r")?\]$"


def _valid_endpoint_url(url):
    """botocore's is_valid_endpoint_url(url) or is_valid_ipv6_endpoint_url(url)."""
    if _UNSAFE_URL_CHARS.intersection(url):
        return False
    from urllib.parse import urlparse, urlsplit

    hostname = urlsplit(url).hostname
    if hostname is not None and len(hostname) <= 255:
        if hostname[-1] == ".":
            hostname = hostname[:-1]
        import re

        if re.match(_HOSTNAME, hostname, re.IGNORECASE):
            return True
    return _regex(_ipv6_addrz_pattern()).match(f"[{urlparse(url).hostname}]") is not None


def _validate_endpoint_url(url):
    if not _valid_endpoint_url(url):
        raise ValueError(f"Invalid endpoint: {url}")


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


# --- User-Agent (botocore.useragent) ----------------------------------------------------------

_UA_ALLOWED = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$%&'*+-.^_`|~,"
)
_UA_OS_NAMES = ("windows", "linux", "macos", "android", "ios", "watchos", "tvos", "other")


def _ua_clean(raw, allow_hash):
    return "".join(c if c in _UA_ALLOWED or (allow_hash and c == "#") else "-" for c in raw)


def _ua_component(prefix, name, value=None):
    text = f"{_ua_clean(prefix, True)}/{_ua_clean(name, False)}"
    if value is None or value == "":
        return text
    return f"{text}#{_ua_clean(value, True)}"


def _platform():
    """(system, release, machine) as platform.system/release/machine, without ``platform``."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        u = uname()
        return u.sysname, u.release, u.machine
    import platform

    return platform.system(), platform.release(), platform.machine()


def _python_implementation():
    name = sys.implementation.name
    return {"cpython": "CPython", "pypy": "PyPy", "ironpython": "IronPython"}.get(
        name, name.capitalize()
    )


_UA_PREFIX = {}


def _ua_prefix(exec_env):
    """Everything before cfg/: fixed per process, except AWS_EXECUTION_ENV (per session)."""
    prefix = _UA_PREFIX.get(exec_env)
    if prefix is not None:
        return prefix
    system, release, machine = _platform()
    parts = [_ua_component("sagemaker_rt_c", __version__), "ua/2.1"]
    if system is None:
        parts.append(_ua_component("os", "other"))
    else:
        family = system.lower()
        if family == "darwin":
            family = "macos"
        if family in _UA_OS_NAMES:
            parts.append(_ua_component("os", family, release))
        else:
            parts.append(_ua_component("os", "other"))
            parts.append(_ua_component("md", system, release))
    if machine:
        parts.append(_ua_component("md", "arch", machine.lower()))
    parts.append(_ua_component("lang", "python", sys.version.split()[0]))
    parts.append(_ua_component("md", "pyimpl", _python_implementation()))
    if exec_env:
        parts.append(_ua_component("exec-env", exec_env))
    prefix = _UA_PREFIX[exec_env] = " ".join(p for p in parts if p)
    return prefix


def _user_agent(exec_env, client_config):
    """botocore's UserAgentString(...).with_client_config(client_config).to_string()."""
    if client_config is None:
        return _ua_prefix(exec_env)
    if hasattr(client_config, "_supplied_user_agent"):
        override = client_config._supplied_user_agent
    else:
        override = client_config.user_agent
    extra = client_config.user_agent_extra
    if override is not None:
        return f"{override} {extra}" if extra else override
    parts = [_ua_prefix(exec_env)]
    retries = client_config.retries
    if retries:
        parts.append(_ua_component("cfg", "retry-mode", retries.get("mode")))
    appid = client_config.user_agent_appid
    if appid:
        parts.append("app/" + _ua_clean(appid, True))
    if extra:
        parts.append(extra)
    return " ".join(parts)


# --- small helpers ------------------------------------------------------------------------------


def _ensure_boolean(val):
    if isinstance(val, bool):
        return val
    if isinstance(val, str):
        return val.lower() == "true"
    return False


def _check_timeout(value, name):
    """urllib3's Timeout validation: the ValueError botocore wraps in HTTPClientError (it builds
    one from connect/read at construction; credential fetchers at each request)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("Timeout cannot be a boolean value. It must be an int, float or None.")
    invalid = f"Timeout value {name} was {value}, but it must be an int, float or None."
    try:
        float(value)
        non_positive = value <= 0
    except (TypeError, ValueError):
        raise ValueError(invalid) from None
    if non_positive:
        raise ValueError(
            f"Attempted to set {name} timeout to {value}, but the timeout cannot be set to a "
            "value less than or equal to 0."
        )
    return float(value)


def _check_user_agent_parts(config):
    """Config.user_agent and user_agent_extra go into the User-Agent header as they are (botocore
    does not clean them as it does user_agent_appid): a control character there would end the
    header or the request early (boto3: "Invalid header value" at every call for CR and LF;
    NUL and others sent raw). Refused when the client is made, naming the option."""
    for name in ("user_agent", "user_agent_extra"):
        value = getattr(config, name, None)
        if not isinstance(value, str) or value.isprintable():
            continue
        for index, char in enumerate(value):
            point = ord(char)
            if point < 0x20 or point == 0x7F:
                from . import exceptions
                from ._validate import describe_control

                raise exceptions.InvalidConfigError(
                    error_msg=(
                        f"Invalid {name} in Config: contains {describe_control(point)} "
                        f"(U+{point:04X}) at index {index}; the User-Agent header can't carry "
                        "control characters"
                    )
                )


def _validate_verify(verify):
    """botocore 1.44's EndpointCreator._validate_verify_value: a CA bundle value (verify=,
    AWS_CA_BUNDLE, ca_bundle, REQUESTS_CA_BUNDLE) that is empty or blank is an error."""
    if isinstance(verify, str) and not verify.strip():
        from . import exceptions

        raise exceptions.InvalidConfigError(
            error_msg=(
                "Invalid CA bundle: the configured value (ca_bundle, AWS_CA_BUNDLE, "
                "REQUESTS_CA_BUNDLE, or verify) resolved to an empty or whitespace-only "
                "string. Provide a valid path to a CA bundle file."
            )
        )


def _normalize_verify(verify):
    if verify is True:
        return True
    if isinstance(verify, str):
        return verify or False
    if not verify:
        return False
    if hasattr(verify, "__fspath__"):
        return os.fspath(verify)
    return True


def _warn(logger, message, *args):
    from . import _log

    _log.warning(logger, message, *args)


def _mask_url(url):
    if url is None:
        return None
    from .config import _redact_url

    return _redact_url(url)


class ClientSettings:
    """Everything a SageMaker Runtime client needs, resolved as botocore would.

    ``endpoint_url`` is the full URL requests go to (no trailing path), ``verify`` is True (the
    default CA store), False, or a CA bundle path; ``max_attempts`` counts every attempt,
    including the first; ``connect_timeout`` / ``read_timeout`` are seconds (None: no timeout,
    only when the caller configured None); ``proxy_url`` is None for a direct connection;
    ``config`` is the effective ``Config`` (what ``client.meta.config`` is in botocore);
    ``partition`` is botocore's ``client.meta.partition`` (e.g. 'aws', 'aws-cn').
    """

    __slots__ = (
        "service_name",
        "region_name",
        "endpoint_url",
        "signing_region",
        "signing_name",
        "credentials",
        "verify",
        "config",
        "retry_mode",
        "max_attempts",
        "connect_timeout",
        "read_timeout",
        "max_pool_connections",
        "proxy_url",
        "proxies_config",
        "tcp_keepalive",
        "parameter_validation",
        "user_agent",
        "client_cert",
        "partition",
    )

    def __init__(
        self,
        service_name,
        region_name,
        endpoint_url,
        signing_region,
        signing_name,
        credentials,
        verify,
        config,
        retry_mode,
        max_attempts,
        connect_timeout,
        read_timeout,
        max_pool_connections,
        proxy_url,
        proxies_config,
        tcp_keepalive,
        parameter_validation,
        user_agent,
        client_cert,
        partition,
    ):
        self.service_name = service_name
        self.region_name = region_name
        self.endpoint_url = endpoint_url
        self.signing_region = signing_region
        self.signing_name = signing_name
        self.credentials = credentials
        self.verify = verify
        self.config = config
        self.retry_mode = retry_mode
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_pool_connections = max_pool_connections
        self.proxy_url = proxy_url
        self.proxies_config = proxies_config
        self.tcp_keepalive = tcp_keepalive
        self.parameter_validation = parameter_validation
        self.user_agent = user_agent
        self.client_cert = client_cert
        self.partition = partition

    def __repr__(self):
        fields = []
        for name in self.__slots__:
            value = getattr(self, name)
            if name == "proxy_url":
                value = _mask_url(value)
            elif name == "config":
                value = "<Config>"
                fields.append(f"{name}={value}")
                continue
            fields.append(f"{name}={value!r}")
        return f"ClientSettings({', '.join(fields)})"


# --- the resolution -----------------------------------------------------------------------------


def _s3_config(view, client_config, smart_defaults):
    """botocore's compute_s3_config: the profile's s3 section with its overrides, then
    Config.s3 on top (a copy: botocore mutates the session's parsed config here)."""
    s3 = view.s3_section(smart_defaults)
    if client_config is not None and client_config.s3 is not None:
        if s3 is None:
            s3 = client_config.s3
        else:
            s3 = dict(s3)
            s3.update(client_config.s3)
    return s3


def _configured_endpoint_url(
    view, client_config, env_var=_ENDPOINT_ENV_VAR, services_key=_SERVICES_KEY
):
    """botocore's ConfiguredEndpointProvider, honouring ignore_configured_endpoint_urls.

    ``env_var`` / ``services_key``: the service's AWS_ENDPOINT_URL_<ID> variable and key in
    a ``services`` section (the defaults are sagemaker-runtime's)."""
    if client_config is not None and client_config.ignore_configured_endpoint_urls is not None:
        ignore = client_config.ignore_configured_endpoint_urls
    else:
        ignore = view.get("ignore_configured_endpoint_urls")
    if ignore:
        return None
    environ = os.environ
    url = environ.get(env_var)
    if url:
        return url
    url = environ.get("AWS_ENDPOINT_URL")
    if url:
        return url
    scoped = view.scoped()
    if "services" in scoped:
        section_name = scoped["services"]
        services = view.full().get("services", {}).get(section_name)
        if not services:
            from . import exceptions

            raise exceptions.InvalidConfigError(
                error_msg=(
                    "The profile is configured to use the services section but the "
                    f'"{section_name}" services configuration does not exist.'
                )
            )
        url = services.get(services_key, {}).get("endpoint_url")
        if url:
            return url
    url = scoped.get("endpoint_url")
    return url or None


def _variant_flag(view, client_config, name):
    # ClientEndpointBridge._resolve_endpoint_variant_config_var
    if client_config is not None:
        value = getattr(client_config, name)
        if value is not None:
            return value
    return view.get(name)


def _resolve_auto_mode(region_name, session):
    """SmartDefaultsConfigStoreFactory.resolve_auto_mode: the environment's region on AWS
    compute, else the instance metadata region (asked once per session)."""
    current_region = None
    if os.environ.get("AWS_EXECUTION_ENV"):
        default_region = os.environ.get("AWS_DEFAULT_REGION")
        current_region = os.environ.get("AWS_REGION", default_region)
    if not current_region and session is not None:
        current_region = session._instance_metadata_region()
    if current_region:
        return "in-region" if region_name == current_region else "cross-region"
    return "standard"


def _sts_regional_endpoints(view):
    """The validated sts_regional_endpoints setting ('regional' when unset or empty)."""
    value = view.get("sts_regional_endpoints") or "regional"
    if value not in ("legacy", "regional"):
        from . import exceptions

        raise exceptions.InvalidSTSRegionalEndpointsConfigError(sts_regional_endpoints_config=value)
    return value


def _defaults_mode(view, config, region_name, session):
    """(retry mode default, connect timeout default) of the defaults mode in force (botocore's
    Session._resolve_defaults_mode and SmartDefaultsConfigStoreFactory)."""
    mode = view.get("defaults_mode")
    if config is not None and config.defaults_mode:
        mode = config.defaults_mode
    defaults_mode = mode.lower()
    if defaults_mode not in _DEFAULTS_MODES:
        from . import exceptions

        raise exceptions.InvalidDefaultsMode(mode=mode, valid_modes=", ".join(_DEFAULTS_MODES))
    if defaults_mode == "legacy":
        return None, None
    if defaults_mode == "auto":
        defaults_mode = _resolve_auto_mode(region_name, session)
    return "standard", _MODE_CONNECT_TIMEOUT.get(defaults_mode)


def _validate_min_compression_size(min_size):
    base = f'Invalid value "{min_size}" for request_min_compression_size_bytes.'
    try:
        min_size = int(min_size)
    except (ValueError, TypeError):
        from . import exceptions

        raise exceptions.InvalidConfigError(
            error_msg=f"{base} Value must be an integer. Received {type(min_size)} instead."
        ) from None
    if not 1 <= min_size <= 1048576:
        from . import exceptions

        raise exceptions.InvalidConfigError(
            error_msg=f"{base} Value must be between 1 and 1048576."
        )
    return min_size


def _checksum_config(view, kwargs, key):
    value = kwargs.get(key)
    if value is None:
        value = view.get(key)
    if isinstance(value, str):
        value = value.lower()
    if value not in _VALID_CHECKSUM_CONFIG:
        from . import exceptions

        raise exceptions.InvalidChecksumConfigError(
            config_key=key, config_value=value, valid_options=_VALID_CHECKSUM_CONFIG
        )
    kwargs[key] = value


def _config_kwargs(
    view,
    client_config,
    region_name,
    signature_version,
    preliminary_ua,
    fips,
    dualstack,
    retry_mode_default,
    connect_timeout_default,
):
    """ClientArgsCreator.compute_client_args' config_kwargs, validated in botocore's order."""
    kwargs = {
        "region_name": region_name,
        "signature_version": signature_version,
        "user_agent": preliminary_ua,
    }
    if dualstack:
        kwargs["use_dualstack_endpoint"] = True
    if fips:
        kwargs["use_fips_endpoint"] = True
    cc = client_config
    if cc is not None:
        retries = cc.retries
        kwargs.update(
            connect_timeout=cc.connect_timeout,
            read_timeout=cc.read_timeout,
            max_pool_connections=cc.max_pool_connections,
            proxies=cc.proxies,
            proxies_config=cc.proxies_config,
            # A copy: botocore rewrites the caller's dict in place.
            retries=dict(retries) if retries is not None else None,
            client_cert=cc.client_cert,
            inject_host_prefix=cc.inject_host_prefix,
            tcp_keepalive=cc.tcp_keepalive,
            user_agent_extra=cc.user_agent_extra,
            user_agent_appid=cc.user_agent_appid,
            request_min_compression_size_bytes=cc.request_min_compression_size_bytes,
            disable_request_compression=cc.disable_request_compression,
            client_context_params=cc.client_context_params,
            sigv4a_signing_region_set=cc.sigv4a_signing_region_set,
            request_checksum_calculation=cc.request_checksum_calculation,
            response_checksum_validation=cc.response_checksum_validation,
            account_id_endpoint_mode=cc.account_id_endpoint_mode,
            auth_scheme_preference=cc.auth_scheme_preference,
            s3_disable_express_session_auth=(
                cc.s3.get("disable_s3_express_session_auth") if cc.s3 is not None else None
            ),
        )

    # Retries: total_max_attempts wins, max_attempts counts retries, else the environment.
    retries = kwargs.get("retries")
    if retries is not None and "total_max_attempts" in retries:
        retries.pop("max_attempts", None)
    elif retries is not None and "max_attempts" in retries:
        retries["total_max_attempts"] = retries.pop("max_attempts") + 1
    else:
        max_attempts = view.get("max_attempts")
        if max_attempts is not None:
            if retries is None:
                retries = kwargs["retries"] = {}
            retries["total_max_attempts"] = max_attempts
    if retries is None:
        retries = kwargs["retries"] = {}
    if "mode" not in retries:
        if retry_mode_default is None:
            mode = view.get("retry_mode")
        else:
            mode = view.get("retry_mode", retry_mode_default)
        retries["mode"] = "standard" if mode is None else mode

    if kwargs.get("connect_timeout") is None and connect_timeout_default:
        kwargs["connect_timeout"] = connect_timeout_default

    appid = kwargs.get("user_agent_appid")
    if appid is None:
        appid = view.get("user_agent_appid")
    if appid is not None and len(appid) > _USERAGENT_APPID_MAXLEN:
        _warn(
            "sagemaker_rt_c.args",
            "The configured value for user_agent_appid exceeds the maximum length of %d "
            "characters.",
            _USERAGENT_APPID_MAXLEN,
        )
    kwargs["user_agent_appid"] = appid

    min_size = kwargs.get("request_min_compression_size_bytes")
    if min_size is None:
        min_size = view.get("request_min_compression_size_bytes")
    kwargs["request_min_compression_size_bytes"] = _validate_min_compression_size(min_size)
    disabled = kwargs.get("disable_request_compression")
    if disabled is None:
        disabled = view.get("disable_request_compression")
    else:
        disabled = _ensure_boolean(disabled)
    kwargs["disable_request_compression"] = disabled

    if kwargs.get("sigv4a_signing_region_set") is None:
        kwargs["sigv4a_signing_region_set"] = view.get("sigv4a_signing_region_set")

    _checksum_config(view, kwargs, "request_checksum_calculation")
    _checksum_config(view, kwargs, "response_checksum_validation")

    if is_unsigned(signature_version):
        kwargs["account_id_endpoint_mode"] = "disabled"
    else:
        mode = kwargs.get("account_id_endpoint_mode")
        if mode is None:
            mode = view.get("account_id_endpoint_mode")
        if isinstance(mode, str):
            mode = mode.lower()
        if mode not in _VALID_ACCOUNT_ID_ENDPOINT_MODES:
            from . import exceptions

            raise exceptions.InvalidConfigError(
                error_msg=(
                    f"The configured value '{mode}' for 'account_id_endpoint_mode' is invalid. "
                    f"Valid values are: {_VALID_ACCOUNT_ID_ENDPOINT_MODES}."
                )
            )
        kwargs["account_id_endpoint_mode"] = mode

    if cc is None or cc._inject_host_prefix == "UNSET":
        disable = view.get("disable_host_prefix_injection")
        kwargs["inject_host_prefix"] = True if disable is None else not disable

    if cc is not None and cc.auth_scheme_preference:
        pref = cc.auth_scheme_preference
    else:
        pref = view.get("auth_scheme_preference")
    if pref is not None:
        if not isinstance(pref, str):
            from . import exceptions

            raise exceptions.InvalidConfigError(
                error_msg=(
                    "auth_scheme_preference must be a comma-delimited string. "
                    f"Received {type(pref)} instead: {pref}."
                )
            )
        pref = ",".join(
            item.replace(" ", "").replace("\t", "") for item in pref.split(",") if item.strip()
        )
    kwargs["auth_scheme_preference"] = pref

    express = kwargs.get("s3_disable_express_session_auth")
    if express is None:
        express = view.get("s3_disable_express_session_auth")
    if express is not None and not isinstance(express, bool):
        if not (isinstance(express, str) and express.lower() in ("true", "false")):
            from . import exceptions

            raise exceptions.InvalidConfigError(
                error_msg=(
                    f'Invalid value "{express}" for s3_disable_express_session_auth. '
                    "Value must be a boolean"
                )
            )
    kwargs["s3_disable_express_session_auth"] = _ensure_boolean(express)
    return kwargs


def _client_credentials(session, access_key, secret_key, token, account_id=None):
    """botocore's choice for a client: explicit keys (both or neither), else the session's."""
    if access_key is not None and secret_key is not None:
        from .credentials import Credentials

        return Credentials(access_key, secret_key, token, account_id=account_id)
    if access_key is not None or secret_key is not None:
        from . import exceptions

        raise exceptions.PartialCredentialsError(
            provider="explicit",
            cred_var="aws_secret_access_key" if access_key is not None else "aws_access_key_id",
        )
    return session.get_credentials()


def resolve_client_settings(
    service_name,
    *,
    region_name=None,
    api_version=None,
    use_ssl=True,
    verify=None,
    endpoint_url=None,
    aws_access_key_id=None,
    aws_secret_access_key=None,
    aws_session_token=None,
    config=None,
    session=None,
    aws_account_id=None,
    credentials=None,
):
    """Resolve every client setting as ``boto3.Session.client`` would, raising its errors.

    ``session`` is a ``sagemaker_rt_c.session.Session`` (a new default one when None: nothing
    is shared with the process-wide default session). Credentials are looked up now, as
    botocore does; None means none were found (the client raises NoCredentialsError when
    called). ``credentials`` (beyond botocore) is a credentials object to use instead: ours or
    botocore's, or anything with ``get_frozen_credentials()``.
    """
    if credentials is not None:
        if aws_access_key_id is not None or aws_secret_access_key is not None:
            raise ValueError(
                "credentials cannot be combined with aws_access_key_id or aws_secret_access_key"
            )
        if not callable(getattr(credentials, "get_frozen_credentials", None)):
            raise TypeError(
                "credentials must have a get_frozen_credentials() method (a Credentials or "
                f"RefreshableCredentials object), not {type(credentials).__name__}"
            )
    if session is None:
        from .session import Session

        session = Session()
    view = session._config_view()

    default_config = session._default_client_config()
    if default_config is not None:
        config = default_config if config is None else default_config.merge(config)

    # botocore.session.Session.create_client
    if region_name is None:
        if config is not None and config.region_name is not None:
            region_name = config.region_name
        else:
            region_name = view.get("region")
    _validate_region_name(region_name)
    # botocore remembers it here: the credential chain's STS client uses this region.
    session._last_client_region_used = region_name
    bc = session._botocore_session
    if bc is not None and hasattr(bc, "_last_client_region_used"):
        bc._last_client_region_used = region_name

    if verify is None:
        verify = view.get("ca_bundle")
    if api_version is None:
        api_version = view.get("api_versions").get(service_name, None)

    if config is not None and is_unsigned(config.signature_version):
        credentials = None
    elif credentials is None:
        credentials = _client_credentials(
            session, aws_access_key_id, aws_secret_access_key, aws_session_token, aws_account_id
        )

    retry_mode_default, connect_timeout_default = _defaults_mode(view, config, region_name, session)

    # botocore.client.ClientCreator.create_client
    name = _SERVICE_ALIASES.get(service_name, service_name)
    if name != _SERVICE_NAME:
        from . import exceptions

        raise exceptions.UnknownServiceError(service_name=name, known_service_names=_SERVICE_NAME)
    if api_version is not None and api_version != _API_VERSION:
        from . import exceptions

        raise exceptions.DataNotFoundError(
            data_path=os.path.join(_SERVICE_NAME, api_version, "service-2")
        )

    if region_name is not None:
        normalized = region_name.replace("fips-", "").replace("-fips", "")
        if normalized != region_name:
            fips_config = Config(use_fips_endpoint=True)
            config = config.merge(fips_config) if config is not None else fips_config
            _warn(
                "sagemaker_rt_c.client",
                "transforming region from %s to %s and setting use_fips_endpoint to true. "
                "client should not be configured with a fips psuedo region.",
                region_name,
                normalized,
            )
            region_name = normalized

    # botocore.args.ClientArgsCreator.compute_client_args
    scoped = view.scoped()
    parameter_validation = True
    if config is not None and not config.parameter_validation:
        parameter_validation = False
    elif scoped:
        raw = scoped.get("parameter_validation")
        if raw is not None:
            parameter_validation = _ensure_boolean(raw)

    s3_config = _s3_config(view, config, retry_mode_default is not None)
    configured_url = endpoint_url
    if configured_url is None:
        configured_url = _configured_endpoint_url(view, config)

    dualstack = bool(_variant_flag(view, config, "use_dualstack_endpoint"))
    fips = bool(_variant_flag(view, config, "use_fips_endpoint"))
    if region_name is None:
        from . import exceptions

        raise exceptions.NoRegionError()
    if fips or dualstack:
        _check_legacy_variant(region_name, fips, dualstack)

    signature_version = None
    if config is not None:
        signature_version = config.signature_version
    if signature_version is None:
        service_section = scoped.get(_ENDPOINT_PREFIX)
        if isinstance(service_section, dict):
            signature_version = service_section.get("signature_version") or None
    if signature_version is None:
        signature_version = "v4"
    elif is_unsigned(signature_version):
        signature_version = UNSIGNED

    exec_env = session._exec_env
    preliminary_ua = _user_agent(exec_env, config)
    kwargs = _config_kwargs(
        view,
        config,
        region_name,
        signature_version,
        preliminary_ua,
        fips,
        dualstack,
        retry_mode_default,
        connect_timeout_default,
    )
    kwargs["s3"] = s3_config
    effective = Config(**kwargs)

    # botocore.endpoint.EndpointCreator / httpsession.URLLib3Session
    if configured_url is not None:
        _validate_endpoint_url(configured_url)
        url = configured_url
        scheme, netloc = _split_scheme_netloc(url)
    else:
        url = _endpoint_url(region_name, fips, dualstack, use_ssl)
        scheme = "https" if use_ssl else "http"
        netloc = url[len(scheme) + 3 :]
    if verify is None:
        verify = os.environ.get("REQUESTS_CA_BUNDLE", True)
    proxy_url = _proxy_url(scheme, netloc, effective.proxies)
    _validate_verify(verify)
    connect_timeout = _check_timeout(effective.connect_timeout, "connect")
    read_timeout = _check_timeout(effective.read_timeout, "read")
    # botocore's rule-set builtins read sts_regional_endpoints for every client it makes.
    _sts_regional_endpoints(view)

    keepalive = config and config.tcp_keepalive
    if keepalive is None:
        keepalive = view.get("tcp_keepalive")

    supplied_ua = config.user_agent if config is not None else None
    effective._supplied_user_agent = supplied_ua
    user_agent = _user_agent(exec_env, effective)

    retries = effective.retries
    retry_mode = retries["mode"]
    max_attempts = retries.get("total_max_attempts")
    if max_attempts is None:
        max_attempts = _DEFAULT_MAX_ATTEMPTS[retry_mode]

    if (
        isinstance(signature_version, str)
        and signature_version != "v4"
        and signature_version in _OTHER_BOTOCORE_SIGNERS
    ):
        # botocore would sign another way (SigV2, SigV3, S3's SigV4, query auth, a bearer
        # token): not implemented, and nothing SageMaker Runtime accepts but SigV4.
        from . import exceptions

        raise exceptions.UnsupportedSignatureVersionError(signature_version=signature_version)
    if config is not None:
        _check_user_agent_parts(config)

    return ClientSettings(
        _SERVICE_NAME,
        region_name,
        url,
        region_name,
        _SIGNING_NAME,
        credentials,
        _normalize_verify(verify),
        effective,
        retry_mode,
        max_attempts,
        connect_timeout,
        read_timeout,
        effective.max_pool_connections,
        proxy_url,
        effective.proxies_config or {},
        bool(keepalive),
        parameter_validation,
        user_agent,
        effective.client_cert,
        _legacy_partition(region_name, dualstack)[0],
    )
