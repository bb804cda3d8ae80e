"""The endpoint of a client: partitions, the endpoint rule set, custom endpoints, validation.

The URL is the one botocore sends requests to, from the endpoint rule set (partition data
embedded below, generated from botocore's ``partitions.json`` and ``endpoints.json``): a custom
endpoint (argument, AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME, AWS_ENDPOINT_URL, the profile's
``services`` section, the profile's ``endpoint_url``, unless ignore_configured_endpoint_urls)
is used verbatim and turns FIPS / dual-stack off, as in botocore. botocore validates the
endpoint-variant request against its legacy ``endpoints.json`` data at construction; that check
(``EndpointVariantError``) is reproduced too.

Deliberate differences from botocore:

* A region name ending in a line feed is refused (``InvalidRegionError``); botocore's
  check lets it through (``_validate_region_name``).
* ``endpoint_url`` is the URL requests go to. botocore's ``client.meta.endpoint_url`` shows
  its legacy ``endpoints.json`` URL instead, which differs only for the ``aws-*-global``
  pseudo regions of the other partitions and for dual-stack in aws-iso / aws-iso-b.
* An error of the endpoint rule set itself (none is reachable with today's partition data)
  is raised here, at construction; botocore raises it when an operation is called.
"""

import os

from .._about import _ENDPOINT_ENV_VAR, _ENDPOINT_PREFIX, _SERVICES_KEY

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
        from .. import exceptions

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
    from .. import exceptions

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
    from .. import exceptions

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


# --- configured endpoints and variants -------------------------------------------------------


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
            from .. import exceptions

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


def _sts_regional_endpoints(view):
    """The validated sts_regional_endpoints setting ('regional' when unset or empty)."""
    value = view.get("sts_regional_endpoints") or "regional"
    if value not in ("legacy", "regional"):
        from .. import exceptions

        raise exceptions.InvalidSTSRegionalEndpointsConfigError(sts_regional_endpoints_config=value)
    return value
