"""resolve_client_settings, Session and the shared-file reader, with boto3/botocore as the oracle.

Every comparison runs boto3 and sagemaker_rt_c under the same environment and the same
config/credentials files (conftest clears AWS_* and points the files at nothing), then
compares what the two would use: region, request URL, signing, credentials, retries,
timeouts, proxy, TLS verification, keep-alive, validation, User-Agent and the effective
``client.meta.config`` -- or the exception class and message when construction fails.
"""

import copy
import os
import random
import socket
import string

import boto3
import botocore
import botocore.config
import botocore.configloader
import botocore.exceptions
import botocore.session
import botocore.validate
import pytest
from botocore.loaders import create_loader

from sagemaker_rt_c import __version__
from sagemaker_rt_c import credentials as our_credentials
from sagemaker_rt_c import exceptions as our_exceptions
from sagemaker_rt_c._settings import ClientSettings, configloader
from sagemaker_rt_c._settings.regions import _LEGACY_PARTITIONS, _RULESET_PARTITIONS
from sagemaker_rt_c.config import Config
from sagemaker_rt_c.session import Session
from sagemaker_rt_c.session import _resolve_client_settings as resolve_client_settings

pytestmark = pytest.mark.differential

BOTO_UA_PREFIX = f"Boto3/{boto3.__version__} md/Botocore#{botocore.__version__} "
BOTO_SESSION_EXTRA = f" Botocore/{botocore.__version__}"
OUR_UA_PREFIX = f"sagemaker_rt_c/{__version__} "
KEYS = dict(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="wJalrXUtnFEMIEXAMPLEKEY")

CONFIG_ATTRS = [
    "region_name",
    "signature_version",
    "user_agent_extra",
    "user_agent_appid",
    "connect_timeout",
    "read_timeout",
    "parameter_validation",
    "max_pool_connections",
    "proxies",
    "proxies_config",
    "s3",
    "s3_disable_express_session_auth",
    "retries",
    "client_cert",
    "inject_host_prefix",
    "_inject_host_prefix",
    "endpoint_discovery_enabled",
    "use_dualstack_endpoint",
    "use_fips_endpoint",
    "ignore_configured_endpoint_urls",
    "defaults_mode",
    "tcp_keepalive",
    "request_min_compression_size_bytes",
    "disable_request_compression",
    "client_context_params",
    "sigv4a_signing_region_set",
    "request_checksum_calculation",
    "response_checksum_validation",
    "account_id_endpoint_mode",
    "auth_scheme_preference",
    "_supplied_user_agent",
]

_LOADER = []


@pytest.fixture(autouse=True)
def no_boto2_config(monkeypatch, tmp_path):
    # botocore's chain also reads ~/.boto and /etc/boto.cfg; keep this machine's out.
    monkeypatch.setenv("BOTO_CONFIG", str(tmp_path / "no-such-boto-config"))
    for name in ("REQUESTS_CA_BUNDLE", "REQUEST_METHOD", "BOTOCORE_TCP_KEEPALIVE"):
        monkeypatch.delenv(name, raising=False)


def boto3_session(**kwargs):
    """A fresh boto3 Session that shares one model loader (creating clients is then fast)."""
    if not _LOADER:
        _LOADER.append(create_loader())
    bs = botocore.session.Session()
    bs.register_component("data_loader", _LOADER[0])
    session = boto3.Session(botocore_session=bs, **kwargs)
    # boto3 reads data_path while setting up its loader: do what that lookup does.
    bs.get_config_variable("data_path")
    return session


def ua_core(value, ours):
    """The User-Agent without the SDK name/version, feature ids and boto3's session extra."""
    if ours:
        return value[len(OUR_UA_PREFIX) :] if value.startswith(OUR_UA_PREFIX) else value
    if value.startswith(BOTO_UA_PREFIX):
        value = value[len(BOTO_UA_PREFIX) :]
    value = value.replace(BOTO_SESSION_EXTRA, "", 1)
    return " ".join(part for part in value.split(" ") if not part.startswith("m/"))


def normalize_verify(verify):
    if verify is True:
        return True
    if isinstance(verify, str) and verify:
        return verify
    return False if not verify else verify


def describe_boto3(client):
    op = client.meta.service_model.operation_model("InvokeEndpoint")
    url = client._ruleset_resolver.construct_endpoint(op, {"EndpointName": "x"}, {}).url
    hs = client._endpoint.http_session
    creds = client._request_signer._credentials
    cfg = client.meta.config
    retries = cfg.retries
    mode = retries["mode"]
    cert = (hs._cert_file, hs._key_file)
    return {
        "region_name": client.meta.region_name,
        "endpoint_url": url,
        "signing_region": client._request_signer._region_name,
        "signing_name": client._request_signer._signing_name,
        "credentials": None
        if creds is None
        else (creds.access_key, creds.secret_key, creds.token, creds.method),
        "verify": normalize_verify(hs._verify),
        "retry_mode": mode,
        "max_attempts": retries.get("total_max_attempts", 5 if mode == "legacy" else 3),
        "connect_timeout": hs._timeout.connect_timeout,
        "read_timeout": hs._timeout.read_timeout,
        "max_pool_connections": hs._max_pool_connections,
        # An empty proxy means a direct connection in botocore too.
        "proxy_url": hs._proxy_config.proxy_url_for(url) or None,
        "proxies_config": hs._proxy_config.settings,
        "tcp_keepalive": (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1) in hs._socket_options,
        "parameter_validation": isinstance(
            client._serializer, botocore.validate.ParamValidationDecorator
        ),
        "client_cert": cert,
        "user_agent": ua_core(client._user_agent_creator.to_string(), False),
        "config_user_agent": ua_core(cfg.user_agent, False),
        "config": {a: getattr(cfg, a, "<missing>") for a in CONFIG_ATTRS},
        "config_options": sorted(cfg._user_provided_options),
        "partition": client.meta.partition,
    }


def describe_ours(s):
    assert isinstance(s, ClientSettings)
    creds = s.credentials
    cert = s.client_cert
    cert = cert if isinstance(cert, tuple) else (cert, None)
    cfg = s.config
    return {
        "region_name": s.region_name,
        "endpoint_url": s.endpoint_url,
        "signing_region": s.signing_region,
        "signing_name": s.signing_name,
        "credentials": None
        if creds is None
        else (creds.access_key, creds.secret_key, creds.token, creds.method),
        "verify": s.verify,
        "retry_mode": s.retry_mode,
        "max_attempts": s.max_attempts,
        "connect_timeout": s.connect_timeout,
        "read_timeout": s.read_timeout,
        "max_pool_connections": s.max_pool_connections,
        "proxy_url": s.proxy_url,
        "proxies_config": s.proxies_config,
        "tcp_keepalive": s.tcp_keepalive,
        "parameter_validation": s.parameter_validation,
        "client_cert": cert,
        "user_agent": ua_core(s.user_agent, True),
        "config_user_agent": ua_core(cfg.user_agent, True),
        "config": {a: getattr(cfg, a, "<missing>") for a in CONFIG_ATTRS},
        "config_options": sorted(cfg._user_provided_options),
        "partition": s.partition,
    }


def error_of(e):
    text = str(e)
    if isinstance(e, botocore.exceptions.UnknownServiceError) or type(e).__name__ == (
        "UnknownServiceError"
    ):
        # We know one service; botocore lists all of its own.
        text = text.split(" Valid service names are:")[0]
    return ("error", type(e).__name__, text)


def run_boto3(
    service="sagemaker-runtime", session_kwargs=None, config=None, botocore_config=None, **kwargs
):
    try:
        session = boto3_session(**(session_kwargs or {}))
        if config is not None:
            # botocore rewrites Config.retries in place: give each side its own copy.
            kwargs["config"] = botocore.config.Config(**copy.deepcopy(config))
        return ("ok", describe_boto3(session.client(service, **kwargs)))
    except Exception as e:  # noqa: BLE001 - the exception itself is what we compare
        return error_of(e)


def run_ours(
    service="sagemaker-runtime", session_kwargs=None, config=None, botocore_config=False, **kwargs
):
    try:
        session = Session(**(session_kwargs or {}))
        if config is not None:
            cls = botocore.config.Config if botocore_config else Config
            kwargs["config"] = cls(**copy.deepcopy(config))
        return ("ok", describe_ours(resolve_client_settings(service, session=session, **kwargs)))
    except Exception as e:  # noqa: BLE001 - the exception itself is what we compare
        return error_of(e)


def compare(**kwargs):
    theirs = run_boto3(**kwargs)
    ours = run_ours(**kwargs)
    if theirs[0] == "ok" and ours[0] == "ok":
        diff = {k: (ours[1][k], theirs[1][k]) for k in theirs[1] if ours[1][k] != theirs[1][k]}
        assert not diff, f"ours vs boto3 differ for {kwargs}: {diff}"
    else:
        assert ours == theirs, f"for {kwargs}"
    return theirs


# --- regions and endpoints ----------------------------------------------------------------


def all_known_regions():
    names = set()
    for entry in _RULESET_PARTITIONS:
        names.update(entry[2])
    for entry in _LEGACY_PARTITIONS:
        names.update(entry[2])
        names.update(name for name, _ in entry[4])
    return sorted(names)


def random_regions(rng, count):
    prefixes = [
        "us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx", "cn", "us-gov", "us-iso",
        "us-isob", "eu-isoe", "us-isof", "eusc-de", "eusc-fr", "xx", "aws", "local",
    ]  # fmt: skip
    out = []
    for _ in range(count):
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(1, 9)))
        digits = str(rng.randint(0, 99))
        shape = rng.randint(0, 5)
        if shape == 0:
            out.append(word)
        elif shape == 1:
            out.append(f"{word}-{digits}")
        else:
            out.append(f"{rng.choice(prefixes)}-{word}-{digits}")
    return out


ODD_REGIONS = [
    "",
    "US-EAST-1",
    "us_east_1",
    "us east 1",
    "-us-east-1",
    "us-east-1-",
    "123",
    "1a",
    "a" * 63,
    "a" * 64,
    "fips-us-east-1",
    "us-east-1-fips",
    "fips-us-gov-west-1",
    "us-gov-west-1-fips",
    "fips-cn-north-1",
    "fips-fips-us-east-1",
    "us-fips-east-1",
    "fips",
    "aws-global",
    "aws-iso-global",
    "us-isob-east-1",
    "us-iso-west-1",
    "eu-isoe-west-1",
    "us-isof-south-1",
    "eusc-de-east-1",
    "us-gov-east-1",
]


def test_partition_tables_match_botocore_data():
    import json

    data = os.path.join(os.path.dirname(botocore.__file__), "data")
    with open(os.path.join(data, "partitions.json")) as f:
        partitions = json.load(f)["partitions"]
    assert [p["id"] for p in partitions] == [e[0] for e in _RULESET_PARTITIONS]
    for i, p in enumerate(partitions):
        e = _RULESET_PARTITIONS[i]
        o = p["outputs"]
        assert e[1:] == (
            p["regionRegex"],
            tuple(p["regions"]),
            o["dnsSuffix"],
            o["dualStackDnsSuffix"],
            o["supportsFIPS"],
            o["supportsDualStack"],
        )
    with open(os.path.join(data, "endpoints.json")) as f:
        legacy = json.load(f)["partitions"]
    assert [p["partition"] for p in legacy] == [e[0] for e in _LEGACY_PARTITIONS]
    for i, p in enumerate(legacy):
        e = _LEGACY_PARTITIONS[i]
        assert e[1] == p["regionRegex"] and e[2] == tuple(p["regions"])
        endpoints = p["services"].get("runtime.sagemaker", {"endpoints": {}})["endpoints"]
        assert [name for name, _ in e[4]] == list(endpoints)


def test_explicit_region_index_agrees_with_ordered_regex_scan():
    import re

    from sagemaker_rt_c._settings import regions

    for region in all_known_regions():
        expected = next(
            (e for e in _RULESET_PARTITIONS if region in e[2] or re.match(e[1], region)),
            _RULESET_PARTITIONS[0],
        )
        assert regions._ruleset_partition(region) is expected
        for dualstack in (False, True):
            candidates = [
                e
                for e in _LEGACY_PARTITIONS
                if not (dualstack and e[0] in ("aws-iso", "aws-iso-b"))
                and (region in dict(e[4]) or region in e[2] or re.match(e[1], region))
            ]
            expected = candidates[0] if candidates else _LEGACY_PARTITIONS[0]
            assert regions._legacy_partition(region, dualstack) is expected


@pytest.mark.slow
@pytest.mark.parametrize("fips", [False, True])
@pytest.mark.parametrize("dualstack", [False, True])
def test_endpoint_for_every_region(fips, dualstack):
    rng = random.Random(7 + 2 * fips + dualstack)
    regions = all_known_regions() + ODD_REGIONS + random_regions(rng, 60)
    outcomes = set()
    for region in regions:
        result = compare(
            region_name=region,
            config={"use_fips_endpoint": fips, "use_dualstack_endpoint": dualstack},
            **KEYS,
        )
        outcomes.add(result[0] if result[0] == "ok" else result[1])
    assert "ok" in outcomes and "InvalidRegionError" in outcomes


@pytest.mark.parametrize("use_ssl", [False, True])
def test_endpoint_scheme_and_variants_from_env_and_file(use_ssl, monkeypatch, tmp_path):
    rng = random.Random(11 + use_ssl)
    regions = all_known_regions() + random_regions(rng, 20)
    config_file = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    for i, region in enumerate(regions):
        fips, dualstack = rng.choice([True, False, None]), rng.choice([True, False, None])
        lines = ["[default]"]
        if rng.random() < 0.5:
            lines.append(f"use_fips_endpoint = {rng.choice(['true', 'True', 'false', 'yes'])}")
        if rng.random() < 0.5:
            lines.append(f"use_dualstack_endpoint = {rng.choice(['true', 'false'])}")
        config_file.write_text("\n".join(lines) + "\n")
        for name, value in (
            ("AWS_USE_FIPS_ENDPOINT", fips),
            ("AWS_USE_DUALSTACK_ENDPOINT", dualstack),
        ):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, str(value).lower() if i % 2 else str(value))
        compare(region_name=region, use_ssl=use_ssl, **KEYS)


def test_fips_pseudo_regions_merge_into_config():
    for region in ["fips-us-east-1", "us-west-2-fips", "fips-us-gov-west-1", "fips-cn-north-1"]:
        for config in (None, {"use_fips_endpoint": False}, {"retries": {"mode": "standard"}}):
            result = compare(region_name=region, config=config, **KEYS)
            assert result[0] == "ok" and result[1]["config"]["use_fips_endpoint"] is True


CONTROL_CHARACTERS = [chr(c) for c in range(0x20)] + ["\x7f", "\x85", "\u2028"]


def region_sources(region, monkeypatch, tmp_path):
    """compare() keyword arguments giving ``region`` through each of botocore's sources."""
    config_file = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    config_file.write_text("[default]\n")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    yield dict(region_name=region, **KEYS)
    yield dict(config={"region_name": region}, **KEYS)
    yield dict(session_kwargs={"region_name": region}, **KEYS)
    if "\x00" not in region:  # an environment value can't hold NUL
        monkeypatch.setenv("AWS_DEFAULT_REGION", region)
        yield dict(**KEYS)
        monkeypatch.delenv("AWS_DEFAULT_REGION")
    if "\n" not in region and "\r" not in region and region == region.strip():
        config_file.write_text(f"[default]\nregion = {region}\n")
        yield dict(**KEYS)


@pytest.mark.parametrize("char", CONTROL_CHARACTERS)
def test_control_characters_in_region_as_boto3(char, monkeypatch, tmp_path):
    """botocore refuses a region with a control character (InvalidRegionError) wherever it
    comes from, except a line feed at the very end (below)."""
    for region in (f"us-east-1{char}", f"{char}us-east-1", f"us-{char}east-1"):
        if region == "us-east-1\n":
            continue
        for kwargs in region_sources(region, monkeypatch, tmp_path):
            for endpoint_url in (None, "http://127.0.0.1:1")[: 2 if "region_name" in kwargs else 1]:
                result = compare(endpoint_url=endpoint_url, **kwargs)
                assert result[:2] == ("error", "InvalidRegionError"), (region, kwargs)


def test_region_ending_in_line_feed_is_refused(monkeypatch, tmp_path):
    """Deliberate difference: botocore's check (a regex ending in ``$``) lets "us-east-1\\n"
    through. boto3 then fails at construction without a custom endpoint ("Invalid endpoint",
    the line feed is in the host name) and, with one, at each call (http.client refuses the
    line feed signed into the Authorization header). We refuse the region at construction,
    naming it."""
    from servers import ScriptedServer

    region = "us-east-1\n"
    with ScriptedServer() as server:
        for kwargs in region_sources(region, monkeypatch, tmp_path):
            theirs = run_boto3(**kwargs)
            assert theirs[:2] == ("error", "ValueError")
            assert theirs[2].startswith("Invalid endpoint: https://runtime.sagemaker.us-east-1\n")
            ours = run_ours(**kwargs)
            assert ours == (
                "error",
                "InvalidRegionError",
                "Provided region_name 'us-east-1\n' doesn't match a supported format.",
            )
            assert run_ours(endpoint_url=server.url, **kwargs) == ours
            session = boto3_session(**kwargs.pop("session_kwargs", {}))
            config = kwargs.pop("config", None)
            client = session.client(
                "sagemaker-runtime",
                endpoint_url=server.url,
                config=botocore.config.Config(**config) if config else None,
                **kwargs,
            )
            with pytest.raises(botocore.exceptions.HTTPClientError, match="Invalid header"):
                client.invoke_endpoint(EndpointName="ep", Body=b"")
        assert server.requests == []


def test_no_region():
    for kwargs in ({}, {"endpoint_url": "http://localhost:8080"}, {"config": {"retries": {}}}):
        result = compare(**kwargs, **KEYS)
        assert result[:2] == ("error", "NoRegionError")


def test_dualstack_variant_errors_at_construction():
    for region in ["us-isof-east-1", "eu-isoe-west-1", "us-isof-xyz-3"]:
        for endpoint_url in (None, "https://example.com"):
            kwargs = {"endpoint_url": endpoint_url} if endpoint_url else {}
            result = compare(
                region_name=region, config={"use_dualstack_endpoint": True}, **kwargs, **KEYS
            )
            assert result[:2] == ("error", "EndpointVariantError")


# --- custom endpoints ---------------------------------------------------------------------


ENDPOINTS = [
    "http://localhost:8080",
    "https://example.com/",
    "https://example.com/base/path",
    "HTTP://UPPER.example.com:443",
    "http://127.0.0.1:5000",
    "http://[::1]:8080",
    "https://[fe80::1%25eth0]:443",
    "http://user:pw@host.example:81",
    "localhost:8080",
    "not a url",
    "http://bad_host_name",
    "http://-bad.example.com",
    "https://example.com\n",
    "ftp://example.com",
    "",
]


@pytest.mark.parametrize("endpoint_url", ENDPOINTS)
def test_endpoint_url_argument(endpoint_url):
    for config in (None, {"use_fips_endpoint": True}, {"use_dualstack_endpoint": True}):
        compare(region_name="us-east-1", endpoint_url=endpoint_url, config=config, **KEYS)
        compare(region_name="eu-west-1", endpoint_url=endpoint_url, use_ssl=False, **KEYS)


def write(path, text):
    path.write_text(text)
    return str(path)


@pytest.mark.slow
def test_configured_endpoint_sources(monkeypatch, tmp_path):
    rng = random.Random(5)
    config_file = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    outcomes = set()
    for _ in range(150):
        lines = []
        profile = rng.choice([None, "dev"])
        section_name = rng.choice(["svc", "missing"])
        body = []
        if rng.random() < 0.5:
            body.append(f"endpoint_url = {rng.choice(ENDPOINTS[:5])}")
        if rng.random() < 0.5:
            body.append(f"services = {section_name}")
        if rng.random() < 0.3:
            body.append(f"ignore_configured_endpoint_urls = {rng.choice(['true', 'false'])}")
        lines.append("[profile dev]" if profile else "[default]")
        lines.extend(body)
        lines.append("[services svc]")
        lines.append("sagemaker_runtime =")
        lines.append(f"  endpoint_url = {rng.choice(ENDPOINTS[:3])}")
        lines.append("s3 =")
        lines.append("  endpoint_url = http://s3.local")
        write(config_file, "\n".join(lines) + "\n")
        env = {
            "AWS_ENDPOINT_URL": rng.choice([None, "", "http://global.local:1"]),
            "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": rng.choice([None, "", "http://svc.local:2"]),
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": rng.choice([None, "true", "false", "TRUE"]),
            "AWS_PROFILE": profile,
        }
        for name, value in env.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        # botocore tests the Config value for truth, whatever its type.
        ignore = rng.choice([True, False, "yes", "", 0])
        config = rng.choice([None, {"ignore_configured_endpoint_urls": ignore}])
        kwargs = {"endpoint_url": "http://arg.local:3"} if rng.random() < 0.2 else {}
        service = rng.choice(["sagemaker-runtime", "runtime.sagemaker"])
        result = compare(service=service, region_name="us-west-2", config=config, **kwargs, **KEYS)
        outcomes.add(result[1]["endpoint_url"] if result[0] == "ok" else result[1])
    assert {"http://svc.local:2", "http://global.local:1", "InvalidConfigError"} <= outcomes
    assert "https://runtime.sagemaker.us-west-2.amazonaws.com" in outcomes


# --- region, credentials and profiles from every source ---------------------------------------


def random_profile_body(rng, with_keys):
    body = {}
    if rng.random() < 0.5:
        body["region"] = rng.choice(["eu-west-1", "ap-south-1", "cn-north-1", "bad region"])
    if with_keys and rng.random() < 0.6:
        body["aws_access_key_id"] = rng.choice(["AKIDFILE1", "AKIDFILE2"])
        if rng.random() < 0.9:
            body["aws_secret_access_key"] = "filesecret"
        if rng.random() < 0.4:
            body[rng.choice(["aws_session_token", "aws_security_token"])] = "filetoken"
    return body


def render(sections):
    out = []
    for name, body in sections.items():
        out.append(f"[{name}]")
        out.extend(f"{k} = {v}" for k, v in body.items())
        out.append("")
    return "\n".join(out)


@pytest.mark.slow
def test_region_credentials_and_profiles_random(monkeypatch, tmp_path):
    rng = random.Random(2024)
    config_file, creds_file = tmp_path / "config", tmp_path / "credentials"
    seen = set()
    for i in range(250):
        config_sections = {}
        if rng.random() < 0.7:
            config_sections["default"] = random_profile_body(rng, True)
        if rng.random() < 0.7:
            config_sections["profile dev"] = random_profile_body(rng, True)
        if rng.random() < 0.2:
            config_sections["dev"] = random_profile_body(rng, True)
        creds_sections = {}
        for name in ("default", "dev", "profile dev"):
            if rng.random() < 0.4:
                creds_sections[name] = random_profile_body(rng, True)
        cfg_path = str(config_file) if rng.random() < 0.9 else str(tmp_path / "absent")
        write(config_file, render(config_sections))
        write(creds_file, render(creds_sections))
        monkeypatch.setenv("AWS_CONFIG_FILE", cfg_path)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds_file))
        env = {
            "AWS_DEFAULT_REGION": rng.choice([None, None, "us-west-1", ""]),
            "AWS_REGION": rng.choice([None, "sa-east-1"]),
            "AWS_PROFILE": rng.choice([None, None, "dev", "nope"]),
            "AWS_DEFAULT_PROFILE": rng.choice([None, None, None, "dev"]),
            "AWS_ACCESS_KEY_ID": rng.choice([None, None, "AKIDENV", ""]),
            "AWS_SECRET_ACCESS_KEY": rng.choice([None, "envsecret", "envsecret", ""]),
            "AWS_SESSION_TOKEN": rng.choice([None, "envtoken"]),
            "AWS_SECURITY_TOKEN": rng.choice([None, None, "envsectoken"]),
        }
        for name, value in env.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        session_kwargs = {}
        if rng.random() < 0.3:
            session_kwargs["profile_name"] = rng.choice(["dev", "default", "nope"])
        if rng.random() < 0.2:
            session_kwargs["region_name"] = rng.choice(["us-east-2", "mx-central-1"])
        if rng.random() < 0.15:
            session_kwargs.update(aws_access_key_id="AKIDSESSION", aws_secret_access_key="ss")
        kwargs = {}
        choice = rng.random()
        if choice < 0.2:
            kwargs.update(KEYS)
        elif choice < 0.25:
            kwargs["aws_access_key_id"] = "AKIDONLY"
        elif choice < 0.3:
            kwargs["aws_secret_access_key"] = "secretonly"
        if rng.random() < 0.1:
            kwargs["aws_session_token"] = "argtoken"
        if rng.random() < 0.3:
            kwargs["region_name"] = rng.choice(["eu-central-1", "us-gov-west-1", "bad region"])
        config = None
        if rng.random() < 0.3:
            config = {"region_name": rng.choice(["ap-northeast-1", None])}
        result = compare(
            session_kwargs=session_kwargs,
            config=config,
            botocore_config=bool(i % 2),
            **kwargs,
        )
        seen.add(
            (result[1]["credentials"] or (None, None, None, None))[3]
            if result[0] == "ok"
            else result[1]
        )
    assert seen >= {
        "explicit",
        "env",
        "shared-credentials-file",
        "config-file",
        None,
        "ProfileNotFound",
        "PartialCredentialsError",
        "NoRegionError",
        "InvalidRegionError",
    }


@pytest.mark.parametrize("source", ["env", "credentials", "config"])
@pytest.mark.parametrize(
    "tokens", [("session",), ("security",), ("session", "security"), ("security", "session")]
)
def test_session_token_names_and_precedence(source, tokens, monkeypatch, tmp_path):
    values = {"session": "TOKEN-FROM-SESSION-NAME", "security": "TOKEN-FROM-SECURITY-NAME"}
    if source == "env":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
        for kind in tokens:
            monkeypatch.setenv(f"AWS_{kind.upper()}_TOKEN", values[kind])
    else:
        lines = [
            "[default]",
            "aws_access_key_id = AKIDFILE",
            "aws_secret_access_key = filesecret",
        ]
        lines += [f"aws_{kind}_token = {values[kind]}" for kind in tokens]
        path = tmp_path / source
        write(path, "\n".join(lines) + "\n")
        env = "AWS_SHARED_CREDENTIALS_FILE" if source == "credentials" else "AWS_CONFIG_FILE"
        monkeypatch.setenv(env, str(path))
    expected = values["security"] if "security" in tokens else values["session"]
    result = compare(region_name="us-east-1")
    assert result[0] == "ok" and result[1]["credentials"][2] == expected


def test_session_level_errors_match_boto3(monkeypatch, tmp_path):
    config_file = tmp_path / "config"
    write(config_file, "[profile dev]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    cases = [
        {"profile_name": "nope"},
        {"profile_name": "dev"},
        {"aws_account_id": "123456789012"},
        {"aws_account_id": "123456789012", "aws_access_key_id": "A"},
        {"aws_access_key_id": "A"},
        {"aws_session_token": "T"},
    ]
    for kwargs in cases:
        try:
            theirs = ("ok", boto3.Session(**kwargs).region_name)
        except Exception as e:  # noqa: BLE001
            theirs = error_of(e)
        try:
            ours = ("ok", Session(**kwargs).region_name)
        except Exception as e:  # noqa: BLE001
            ours = error_of(e)
        assert ours == theirs, kwargs
    monkeypatch.setenv("AWS_PROFILE", "nope")
    with pytest.raises(botocore.exceptions.ProfileNotFound) as theirs:
        boto3.Session()
    with pytest.raises(Exception) as ours:
        Session()
    assert error_of(ours.value) == error_of(theirs.value)


def test_session_properties(monkeypatch, tmp_path):
    config_file, creds_file = tmp_path / "config", tmp_path / "credentials"
    write(config_file, "[default]\nregion = eu-west-3\n[profile a]\nregion = us-east-2\n[b]\n")
    write(creds_file, "[c]\naws_access_key_id = X\naws_secret_access_key = Y\n[a]\nregion=x\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds_file))
    for kwargs in ({}, {"profile_name": "a"}, {"profile_name": "c", "region_name": "us-west-1"}):
        theirs, ours = boto3.Session(**kwargs), Session(**kwargs)
        assert ours.profile_name == theirs.profile_name
        assert ours.region_name == theirs.region_name
        assert repr(ours) == repr(theirs)
        assert ours.available_profiles == theirs.available_profiles
        tc, oc = theirs.get_credentials(), ours.get_credentials()
        assert (oc and (oc.access_key, oc.secret_key, oc.token, oc.method)) == (
            tc and (tc.access_key, tc.secret_key, tc.token, tc.method)
        )
        assert ours.get_available_partitions() == theirs.get_available_partitions()
        # botocore knows every service; for ours only sagemaker-runtime exists.
        assert ours.get_available_regions("s3") == []
        for service in ("sagemaker-runtime", "runtime.sagemaker", "nope"):
            for partition in ours.get_available_partitions() + ["nope"]:
                for non_regional in (False, True):
                    assert ours.get_available_regions(
                        service, partition, non_regional
                    ) == theirs.get_available_regions(service, partition, non_regional)
        for region in all_known_regions() + ["xx-yy-1", "nowhere"]:
            try:
                expected = theirs.get_partition_for_region(region)
            except botocore.exceptions.UnknownRegionError as e:
                with pytest.raises(botocore.exceptions.UnknownRegionError) as got:
                    ours.get_partition_for_region(region)
                assert str(got.value) == str(e)
            else:
                assert ours.get_partition_for_region(region) == expected
    assert Session().get_available_services() == ["sagemaker-runtime"]


def test_botocore_session_argument(monkeypatch, tmp_path):
    config_file = tmp_path / "config"
    write(
        config_file,
        "[profile dev]\nregion = ap-south-2\nretry_mode = adaptive\n"
        "aws_access_key_id = AKIDDEV\naws_secret_access_key = devsecret\n",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    for session_kwargs in (
        {"profile_name": "dev"},
        {"profile_name": "dev", "region_name": "us-east-2"},
    ):
        expected = []
        for make in (boto3.Session, Session):
            # A new one each time: botocore rewrites its retries dict in place.
            default_config = botocore.config.Config(
                read_timeout=9, retries={"total_max_attempts": 2}
            )
            bs = botocore.session.Session()
            bs.set_default_client_config(default_config)
            session = make(botocore_session=bs, **session_kwargs)
            if make is Session:
                got = describe_ours(
                    resolve_client_settings(
                        "sagemaker-runtime", config=Config(connect_timeout=4), session=session
                    )
                )
            else:
                got = describe_boto3(
                    session.client(
                        "sagemaker-runtime", config=botocore.config.Config(connect_timeout=4)
                    )
                )
            expected.append(got)
            assert session.profile_name == "dev"
        theirs, ours = expected
        assert {k: v for k, v in ours.items() if ours[k] != theirs[k]} == {}
        assert ours["credentials"][:2] == ("AKIDDEV", "devsecret")
        assert ours["read_timeout"] == 9 and ours["connect_timeout"] == 4


def test_data_path_skips_the_profile_check_as_in_boto3(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_PROFILE", "nope")
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    boto3.Session()
    session = Session()
    with pytest.raises(Exception) as e:
        resolve_client_settings("sagemaker-runtime", region_name="us-east-1", session=session)
    assert error_of(e.value) == run_boto3(region_name="us-east-1")


def test_default_session_is_created_once(monkeypatch):
    from sagemaker_rt_c import session as session_module

    monkeypatch.setattr(session_module, "_DEFAULT_SESSION", None)
    first = session_module._default_session()
    assert isinstance(first, Session) and session_module._default_session() is first
    session_module.setup_default_session(region_name="eu-west-1")
    assert session_module._default_session() is not first
    assert session_module._default_session().region_name == "eu-west-1"


def test_session_caches_credentials_like_botocore(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFIRST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "first")
    theirs, ours = boto3_session(), Session()
    assert ours.get_credentials().access_key == theirs.get_credentials().access_key
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSECOND")
    assert ours.get_credentials().access_key == theirs.get_credentials().access_key == "AKIDFIRST"
    s = resolve_client_settings("sagemaker-runtime", region_name="us-east-1", session=ours)
    assert s.credentials.access_key == "AKIDFIRST"
    assert Session().get_credentials().access_key == "AKIDSECOND"


def test_explicit_or_env_credentials_read_no_file(monkeypatch, tmp_path):
    config_file, creds_file = tmp_path / "config", tmp_path / "credentials"
    write(config_file, "[default]\nregion = eu-west-1\n")
    write(creds_file, "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds_file))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
    session = Session()  # reads the profile (as boto3.Session does), once
    opened = []
    real_load = configloader._load

    def spy(path):
        opened.append(path)
        return real_load(path)

    monkeypatch.setattr(configloader, "_load", spy)
    s = resolve_client_settings("sagemaker-runtime", session=session, **KEYS)
    assert s.credentials.method == "explicit" and s.region_name == "eu-west-1"
    s = resolve_client_settings("sagemaker-runtime", session=session)
    assert (s.credentials.access_key, s.credentials.method) == ("AKIDENV", "env")
    assert opened == []
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    creds = Session().get_credentials()
    assert (creds.access_key, creds.method) == ("AKIDFILE", "shared-credentials-file")
    assert str(creds_file) in opened


def test_no_credentials_is_none_not_an_error():
    result = compare(region_name="us-east-1")
    assert result[0] == "ok" and result[1]["credentials"] is None


def test_unsigned_config_drops_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
    theirs = boto3_session().client(
        "sagemaker-runtime",
        region_name="us-east-1",
        config=botocore.config.Config(signature_version=botocore.UNSIGNED),
        **KEYS,
    )
    for cfg in (Config(signature_version=botocore.UNSIGNED), Config(signature_version="v4")):
        s = resolve_client_settings(
            "sagemaker-runtime", region_name="us-east-1", config=cfg, session=Session(), **KEYS
        )
        if cfg.signature_version == "v4":
            assert s.credentials.access_key == KEYS["aws_access_key_id"]
            continue
        assert s.credentials is None and theirs._request_signer._credentials is None
        assert s.config.account_id_endpoint_mode == theirs.meta.config.account_id_endpoint_mode


# --- services, api versions, session-level errors through Session.client ------------------------


def run_ours_client(service, **kwargs):
    try:
        Session().client(service, **kwargs)
    except Exception as e:  # noqa: BLE001
        return error_of(e)
    raise AssertionError("expected an error before the client is created")


@pytest.mark.parametrize("service", ["SageMaker-Runtime", "", "runtime", "sagemaker_runtime"])
def test_service_unknown_to_both(service):
    for kwargs in ({"region_name": "us-east-1"}, {}, {"region_name": "bad region"}, KEYS):
        result = compare(service=service, **kwargs)
        assert result[0] == "error"
        assert run_ours_client(service, **kwargs) == result


@pytest.mark.parametrize("service", ["sagemaker", "s3", "sts"])
def test_other_botocore_services_are_unknown_here(service):
    """Deliberate difference: boto3 builds these clients; we only know sagemaker-runtime."""
    for kwargs in ({"region_name": "us-east-1"}, {}, KEYS):
        ours = run_ours_client(service, **kwargs)
        assert ours == ("error", "UnknownServiceError", f"Unknown service: '{service}'.")
        with pytest.raises(Exception) as e:
            Session().client(service, **kwargs)
        assert str(e.value).endswith("Valid service names are: sagemaker-runtime")
    # What botocore checks before the service name fails the same way here.
    for kwargs in (
        {"region_name": "bad region"},
        {"region_name": "us-east-1", "aws_access_key_id": "A"},
    ):
        assert run_ours_client(service, **kwargs) == run_boto3(service, **kwargs)


def test_errors_through_session_client():
    assert run_ours_client("sagemaker-runtime") == run_boto3()
    assert run_ours_client("sagemaker-runtime", region_name="no such") == run_boto3(
        region_name="no such"
    )
    assert run_ours_client(
        "sagemaker-runtime", region_name="us-east-1", aws_access_key_id="A"
    ) == run_boto3(region_name="us-east-1", aws_access_key_id="A")
    assert run_ours_client("runtime.sagemaker", region_name="us-east-1", api_version="1") == (
        run_boto3("runtime.sagemaker", region_name="us-east-1", api_version="1")
    )


@pytest.mark.parametrize("api_version", [None, "2017-05-13", "2020-01-01", "latest"])
def test_api_version(api_version, monkeypatch, tmp_path):
    compare(region_name="us-east-1", api_version=api_version, **KEYS)
    config_file = tmp_path / "config"
    write(
        config_file,
        f"[default]\napi_versions =\n  sagemaker-runtime = {api_version or '2017-05-13'}\n",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    compare(region_name="us-east-1", **KEYS)
    compare(service="runtime.sagemaker", region_name="us-east-1", **KEYS)


# --- retries, timeouts, defaults modes and the rest of Config ------------------------------


@pytest.mark.slow
def test_retries_random(monkeypatch, tmp_path):
    rng = random.Random(77)
    config_file = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    seen = set()
    for i in range(300):
        body = []
        if rng.random() < 0.3:
            body.append(f"retry_mode = {rng.choice(['standard', 'adaptive', 'legacy', 'bad'])}")
        if rng.random() < 0.3:
            body.append(f"max_attempts = {rng.choice(['1', '4', '0', 'x'])}")
        if rng.random() < 0.2:
            body.append(f"defaults_mode = {rng.choice(['standard', 'legacy', 'mobile'])}")
        write(config_file, "[default]\n" + "\n".join(body) + "\n")
        for name, values in (
            ("AWS_RETRY_MODE", [None, None, "standard", "adaptive", "legacy", "Standard"]),
            ("AWS_MAX_ATTEMPTS", [None, None, "2", "7", "0", "-1", "two"]),
            ("AWS_DEFAULTS_MODE", [None, None, "standard", "in-region", "AUTO", "bad"]),
            ("AWS_EXECUTION_ENV", [None, "AWS_Lambda_python3.11"]),
            ("AWS_REGION", [None, "us-east-1"]),
        ):
            value = rng.choice(values)
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        config = {}
        if rng.random() < 0.5:
            retries = {}
            for key in rng.sample(
                ["max_attempts", "total_max_attempts", "mode"], rng.randint(0, 2)
            ):
                retries[key] = (
                    rng.choice(["legacy", "standard", "adaptive"])
                    if key == "mode"
                    else rng.randint(0, 6)
                )
            config["retries"] = retries
        if rng.random() < 0.2:
            config["defaults_mode"] = rng.choice(["standard", "cross-region", "legacy", "nope"])
        if rng.random() < 0.2:
            config["connect_timeout"] = rng.choice([1, 2.5, 60])
        result = compare(
            region_name="us-east-1", config=config or None, botocore_config=bool(i % 3), **KEYS
        )
        seen.add(
            (result[1]["retry_mode"], result[1]["max_attempts"]) if result[0] == "ok" else result[1]
        )
    assert {("legacy", 5), ("standard", 3), ("adaptive", 3), ("legacy", 1)} <= seen
    assert {"InvalidRetryModeError", "InvalidDefaultsMode", "ValueError"} <= seen


@pytest.mark.parametrize(
    "config",
    [
        {"connect_timeout": 5, "read_timeout": 7.5},
        {"connect_timeout": None},
        {"read_timeout": 0},
        {"connect_timeout": -1},
        {"connect_timeout": True},
        {"read_timeout": "10"},
        {"max_pool_connections": 50},
        {"parameter_validation": False},
        {"tcp_keepalive": True},
        {"tcp_keepalive": False},
        {"client_cert": "/tmp/cert.pem"},
        {"client_cert": ("/tmp/cert.pem", "/tmp/key.pem")},
        {"proxies_config": {"proxy_ca_bundle": "/tmp/ca.pem"}},
        {"user_agent": "MyAgent/1.0"},
        {"user_agent": "MyAgent/1.0", "user_agent_extra": "extra/2"},
        {"user_agent_extra": "extra/2 more"},
        {"user_agent_appid": "my app#1!"},
        {"user_agent_appid": "x" * 60},
        {"signature_version": "v4"},
        {"signature_version": "bogus"},  # each call fails (tests/settings/test_client_config.py)
        {"inject_host_prefix": False},
        {"request_min_compression_size_bytes": 0},
        {"request_min_compression_size_bytes": "12"},
        {"disable_request_compression": "true"},
        {"request_checksum_calculation": "WHEN_REQUIRED"},
        {"response_checksum_validation": "always"},
        {"account_id_endpoint_mode": "Required"},
        {"account_id_endpoint_mode": "sometimes"},
        {"auth_scheme_preference": " sigv4a , sigv4 ,, "},
        {"auth_scheme_preference": 5},
        {"sigv4a_signing_region_set": "*"},
        {"s3": {"disable_s3_express_session_auth": "maybe"}},
        {"s3": {"disable_s3_express_session_auth": "TRUE", "addressing_style": "path"}},
        {"client_context_params": {"x": 1}},
        {"endpoint_discovery_enabled": True},
        {"defaults_mode": "mobile"},
        {"defaults_mode": "auto"},
        {"region_name": "eu-north-1", "use_fips_endpoint": True},
    ],
)
def test_config_options(config):
    for botocore_config in (False, True):
        compare(region_name="us-east-1", config=config, botocore_config=botocore_config, **KEYS)


@pytest.mark.slow
def test_config_values_from_environment_and_file(monkeypatch, tmp_path):
    rng = random.Random(31)
    config_file = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    settings = {
        "tcp_keepalive": ["true", "false", "TRUE"],
        "parameter_validation": ["false", "true", "no"],
        "sdk_ua_app_id": ["fileapp", "a b"],
        "request_min_compression_size_bytes": ["100", "0", "x"],
        "disable_request_compression": ["true", "false"],
        "request_checksum_calculation": ["when_required", "never"],
        "account_id_endpoint_mode": ["disabled", "bogus"],
        "disable_host_prefix_injection": ["true", "false"],
        "auth_scheme_preference": ["sigv4,sigv4a"],
        "s3_disable_express_session_auth": ["true", "nah"],
        "sigv4a_signing_region_set": ["us-*"],
        "ca_bundle": ["/tmp/file-ca.pem"],
    }
    env = {
        "BOTOCORE_TCP_KEEPALIVE": ["true", "false"],
        "AWS_SDK_UA_APP_ID": ["envapp"],
        "AWS_REQUEST_MIN_COMPRESSION_SIZE_BYTES": ["2048", "2000000"],
        "AWS_DISABLE_REQUEST_COMPRESSION": ["true"],
        "AWS_RESPONSE_CHECKSUM_VALIDATION": ["when_required", "WHEN_SUPPORTED", "nope"],
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": ["required"],
        "AWS_DISABLE_HOST_PREFIX_INJECTION": ["TRUE"],
        "AWS_AUTH_SCHEME_PREFERENCE": ["sigv4a"],
        "AWS_S3_DISABLE_EXPRESS_SESSION_AUTH": ["false"],
        "AWS_S3_USE_ARN_REGION": ["true"],
        "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT": ["regional"],
        "AWS_CA_BUNDLE": ["/tmp/env-ca.pem"],
        "REQUESTS_CA_BUNDLE": ["/tmp/requests-ca.pem"],
        "AWS_EXECUTION_ENV": ["AWS_ECS_FARGATE", "exec env/1"],
    }
    for i in range(200):
        lines = ["[default]"]
        for key in rng.sample(sorted(settings), rng.randint(0, 5)):
            lines.append(f"{key} = {rng.choice(settings[key])}")
        if rng.random() < 0.3:
            lines.append("s3 =\n  addressing_style = virtual\n  use_arn_region = false")
        if rng.random() < 0.2:
            # (s3v4 is refused: tests/settings/test_client_config.py)
            lines.append("runtime.sagemaker =\n  signature_version = v4")
        write(config_file, "\n".join(lines) + "\n")
        for name, values in env.items():
            if rng.random() < 0.25:
                monkeypatch.setenv(name, rng.choice(values))
            else:
                monkeypatch.delenv(name, raising=False)
        config = rng.choice([None, {}, {"tcp_keepalive": False}, {"parameter_validation": True}])
        verify = rng.choice([None, None, False, True, "/tmp/arg-ca.pem"])
        compare(
            region_name="us-east-1",
            verify=verify,
            config=config,
            botocore_config=bool(i % 2),
            **KEYS,
        )


# --- proxies ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_proxies_random(monkeypatch):
    rng = random.Random(404)
    names = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"]
    names += ["Https_Proxy", "ALL_PROXY", "REQUEST_METHOD"]
    values = {
        "proxy": ["", "proxy.local:3128", "http://u:p@proxy.local:3128", "https://sp:8443",
                  "//bare:1"],
        "no": ["", "*", "amazonaws.com", ".amazonaws.com", "localhost,127.0.0.1",
               "example.com:8080", " US-EAST-1.amazonaws.com , other", "sagemaker"],
    }  # fmt: skip
    seen = set()
    for i in range(300):
        for name in names:
            if rng.random() < 0.35:
                if name == "REQUEST_METHOD":
                    value = "GET"
                else:
                    value = rng.choice(values["no" if name.lower() == "no_proxy" else "proxy"])
                monkeypatch.setenv(name, value)
            else:
                monkeypatch.delenv(name, raising=False)
        kwargs = {}
        if rng.random() < 0.4:
            kwargs["endpoint_url"] = rng.choice(ENDPOINTS[:8])
        if rng.random() < 0.2:
            kwargs["use_ssl"] = False
        config = None
        if rng.random() < 0.25:
            config = {
                "proxies": rng.choice(
                    [{}, {"https": "cfg:1"}, {"http": "http://cfg:2"}, {"https": ""}]
                )
            }
        result = compare(
            region_name=rng.choice(["us-east-1", "cn-north-1"]),
            config=config,
            botocore_config=bool(i % 2),
            **kwargs,
            **KEYS,
        )
        seen.add(result[1]["proxy_url"] if result[0] == "ok" else result[1])
    assert None in seen and "http://proxy.local:3128" in seen and "https://sp:8443" in seen


def test_proxy_environment_lookup_matches_urllib(monkeypatch):
    import urllib.request

    from sagemaker_rt_c._settings import proxies

    rng = random.Random(4242)
    names = ["http_proxy", "HTTP_PROXY", "Https_Proxy", "no_proxy", "NO_PROXY", "ftp_proxy"]
    hosts = ["runtime.sagemaker.us-east-1.amazonaws.com", "Example.COM:8080", "localhost",
             "[::1]:443", "10.0.0.1:", "u:p@host.example:81", "amazonaws.com"]  # fmt: skip
    no_values = ["*", "", "amazonaws.com", ".example.com", "localhost , 10.0.0.1", "host:81",
                 "[::1]", "EXAMPLE.com:8080", "*.amazonaws.com"]  # fmt: skip
    for _ in range(400):
        for name in names + ["REQUEST_METHOD"]:
            if rng.random() < 0.4:
                if name.lower() == "no_proxy":
                    value = rng.choice(no_values)
                else:
                    value = rng.choice(["", "p:1", "http://p:2"])
                monkeypatch.setenv(name, value)
            else:
                monkeypatch.delenv(name, raising=False)
        expected = urllib.request.getproxies_environment()
        assert proxies._getproxies_environment() == expected
        for host in hosts:
            assert proxies._proxy_bypass_environment(host, expected) == bool(
                urllib.request.proxy_bypass_environment(host, expected)
            ), (host, expected)


CA_BUNDLE_VALUES = ["", " ", "\t \n", "\u3000", "/no/such/ca.pem", " /padded.pem "]


@pytest.mark.parametrize("value", CA_BUNDLE_VALUES)
def test_ca_bundle_values_from_every_source(value, monkeypatch, tmp_path):
    """botocore 1.44 raises InvalidConfigError at construction when the CA bundle it resolves
    (verify=, AWS_CA_BUNDLE, ca_bundle in the profile, REQUESTS_CA_BUNDLE) is empty or blank."""
    config_file = tmp_path / "config"
    outcomes = []
    for source in ("verify", "AWS_CA_BUNDLE", "ca_bundle", "REQUESTS_CA_BUNDLE"):
        for name in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
        config_file.write_text("[default]\n")
        kwargs = dict(region_name="us-east-1", **KEYS)
        if source == "verify":
            kwargs["verify"] = value
        elif source == "ca_bundle":
            if value != value.strip():
                continue  # the config file strips values
            config_file.write_text(f"[default]\nca_bundle = {value}\n")
        else:
            monkeypatch.setenv(source, value)
        outcomes.append(compare(**kwargs)[:2])
        if source != "verify":
            # An explicit verify wins over the environment and the file, as in botocore.
            assert compare(verify=False, **kwargs)[0] == "ok"
    if value.strip():
        assert all(o == ("ok", outcomes[0][1]) for o in outcomes)
    else:
        assert set(outcomes) == {("error", "InvalidConfigError")}


def test_blank_ca_bundle_message():
    with pytest.raises(our_exceptions.InvalidConfigError) as info:
        resolve_client_settings("sagemaker-runtime", region_name="us-east-1", verify=" ", **KEYS)
    assert "Invalid CA bundle" in str(info.value) and "AWS_CA_BUNDLE" in str(info.value)
    assert isinstance(info.value, botocore.exceptions.InvalidConfigError)


# --- User-Agent -------------------------------------------------------------------------------


def test_user_agent_format():
    s = resolve_client_settings(
        "sagemaker-runtime",
        region_name="us-east-1",
        config=Config(user_agent_appid="my app", user_agent_extra="extra/1"),
        session=Session(),
        **KEYS,
    )
    sysname, _, release, _, machine = os.uname()
    import platform

    assert s.user_agent == (
        f"sagemaker_rt_c/{__version__} ua/2.1 os/{sysname.lower()}#{release} "
        f"md/arch#{machine.lower()} lang/python#{platform.python_version()} "
        f"md/pyimpl#{platform.python_implementation()} cfg/retry-mode#standard app/my-app extra/1"
    )
    s = resolve_client_settings(
        "sagemaker-runtime",
        region_name="us-east-1",
        config=Config(user_agent="Custom/1", user_agent_extra="x"),
        session=Session(),
        **KEYS,
    )
    assert s.user_agent == "Custom/1 x"


def test_reusing_meta_config_as_config():
    theirs = boto3_session().client("sagemaker-runtime", region_name="us-east-1", **KEYS)
    ours = resolve_client_settings(
        "sagemaker-runtime", region_name="us-east-1", session=Session(), **KEYS
    )
    again_theirs = describe_boto3(
        boto3_session().client("sagemaker-runtime", config=theirs.meta.config, **KEYS)
    )
    again_ours = describe_ours(
        resolve_client_settings("sagemaker-runtime", config=ours.config, session=Session(), **KEYS)
    )
    for key in ("region_name", "endpoint_url", "retry_mode", "max_attempts", "connect_timeout"):
        assert again_ours[key] == again_theirs[key]


def test_callers_retries_dict_is_not_modified():
    """Deliberate difference: botocore rewrites Config.retries in place."""
    retries = {"max_attempts": 3}
    cfg = Config(retries=retries)
    s = resolve_client_settings(
        "sagemaker-runtime", region_name="us-east-1", config=cfg, session=Session(), **KEYS
    )
    assert s.max_attempts == 4 and s.config.retries == {"total_max_attempts": 4, "mode": "standard"}
    assert cfg.retries == {"max_attempts": 3}


def test_reprs_hide_secrets(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxyuser:proxypass@proxy.local:3128")
    s = resolve_client_settings(
        "sagemaker-runtime",
        region_name="us-east-1",
        aws_session_token="SESSIONTOKENVALUE",
        session=Session(),
        **KEYS,
    )
    assert s.proxy_url == "http://proxyuser:proxypass@proxy.local:3128"
    for text in (repr(s), repr(s.credentials), repr(s.credentials.get_frozen_credentials())):
        assert KEYS["aws_secret_access_key"] not in text
        assert "SESSIONTOKENVALUE" not in text
        assert "proxypass" not in text
    frozen = s.credentials.get_frozen_credentials()
    assert frozen == (
        KEYS["aws_access_key_id"],
        KEYS["aws_secret_access_key"],
        "SESSIONTOKENVALUE",
        None,
    )
    assert (
        frozen.secret_key == KEYS["aws_secret_access_key"] and frozen.token == "SESSIONTOKENVALUE"
    )
    assert frozen._replace(token=None).token is None


def test_settings_fields():
    assert ClientSettings.__slots__ == (
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
    s = resolve_client_settings(
        "runtime.sagemaker", region_name="us-east-1", session=Session(), **KEYS
    )
    assert s.service_name == "sagemaker-runtime" and s.signing_name == "sagemaker"
    assert type(s.config) is Config


# --- the shared-file reader against botocore.configloader --------------------------------------


def random_ini(rng):
    keys = ["region", "Region", "output", "aws_access_key_id", "s3", "a.b", "x y", "k"]
    section_names = ["default", "DEFAULT", "profile dev", "profile 'q x'", 'profile "d"',
                     "profile", "profiledev x", "services svc", "sso-session s", "other",
                     "profile a b", "profile  spaced ", "profile 'bad", "Default"]  # fmt: skip
    lines = []
    for _ in range(rng.randint(0, 6)):
        kind = rng.random()
        indent = " " * rng.choice([0, 0, 0, 1, 2, 4]) if rng.random() < 0.3 else ""
        if kind < 0.2:
            lines.append(f"{indent}[{rng.choice(section_names)}]{rng.choice(['', ' ', ' ;c'])}")
        elif kind < 0.3:
            lines.append(rng.choice(["# comment", "; comment", "  # indented", ""]))
        elif kind < 0.4:
            lines.append(f"{indent}{rng.choice(keys)} =")
            for _ in range(rng.randint(0, 3)):
                lines.append(
                    rng.choice(["  a = 1", "    b=2=3", "  c", "", "  # not a comment?", "\tt = x"])
                )
        elif kind < 0.45:
            lines.append(rng.choice(["novalue", "= value", "[", "[]", "[a]b]"]))
        else:
            sep = rng.choice([" = ", "=", " : ", ":", " =", "= "])
            value = rng.choice(["v", "a=b", "a:b", "  spaced  ", "", "x ; y", "x # y", "ünï"])
            lines.append(f"{indent}{rng.choice(keys)}{sep}{value}")
    # Headers up front often, so most files parse.
    if rng.random() < 0.8:
        lines.insert(0, f"[{rng.choice(section_names)}]")
    ending = rng.choice(["\n", "\r\n", "\r"])
    return ending.join(lines) + rng.choice(["", ending])


def test_ini_reader_matches_botocore_configloader(tmp_path):
    rng = random.Random(8080)
    path = tmp_path / "ini"
    outcomes = set()
    for i in range(1500):
        text = random_ini(rng)
        path.write_bytes(text.encode("utf-8"))
        os.utime(path, ns=(i, i))  # a new stat key each round
        try:
            theirs = ("ok", botocore.configloader.raw_config_parse(str(path)))
            theirs_map = botocore.configloader.build_profile_map(theirs[1])
        except botocore.exceptions.ConfigParseError as e:
            theirs, theirs_map = ("error", str(e)), None
        try:
            ours = ("ok", our_credentials.raw_config_parse(str(path)))
            ours_map = our_credentials.load_config(str(path))
        except Exception as e:  # noqa: BLE001
            assert type(e).__name__ == "ConfigParseError"
            ours, ours_map = ("error", str(e)), None
        assert ours == theirs, repr(text)
        assert ours_map == theirs_map, repr(text)
        outcomes.add(ours[0])
    assert outcomes == {"ok", "error"}


def test_ini_reader_edge_cases(tmp_path):
    path = tmp_path / "ini"
    cases = [
        "[default]\nregion = us-east-1\n",
        "[DEFAULT]\nregion = x\n[profile a]\noutput = json\n[b]\nregion = y\n",
        "[default]\ns3 =\n  addressing_style = path\n\n  signature_version = s3v4\n",
        "[default]\ns3 =\n  broken\n",
        "region = us-east-1\n",
        "[default]\n[default]\n",
        "[default]\na = 1\nA = 2\n",
        "\ufeff[default]\na = 1\n",
        "[default]\nkey: value : more\nother = a = b\n",
        "  [default]\n  a = 1\n    continued\n  b = 2\n",
        "[profile 'with space']\nregion = eu-west-1\n",
        '[profile "unterminated]\nregion = x\n',
        "[services dev]\nsagemaker_runtime =\n  endpoint_url = http://x\n",
        "",
        "# only a comment\n",
    ]
    for i, text in enumerate(cases):
        path.write_text(text)
        os.utime(path, ns=(10**9 + i, 10**9 + i))
        try:
            theirs = botocore.configloader.load_config(str(path))
        except botocore.exceptions.ConfigParseError as e:
            with pytest.raises(Exception) as ours:
                our_credentials.load_config(str(path))
            assert error_of(ours.value) == error_of(e)
        else:
            assert our_credentials.load_config(str(path)) == theirs, repr(text)
    assert our_credentials.load_config(str(tmp_path / "missing")) is None
    path.write_bytes(b"[default]\nregion = \xff\xfe\n")
    os.utime(path, ns=(5, 5))
    with pytest.raises(botocore.exceptions.ConfigParseError):
        botocore.configloader.raw_config_parse(str(path))
    with pytest.raises(Exception) as ours:
        our_credentials.raw_config_parse(str(path))
    assert type(ours.value).__name__ == "ConfigParseError"


def test_file_cache_sees_changes(tmp_path):
    path = tmp_path / "config"
    path.write_text("[default]\nregion = a\n")
    assert our_credentials.load_config(str(path))["profiles"]["default"]["region"] == "a"
    path.write_text("[default]\nregion = bb\n")
    assert our_credentials.load_config(str(path))["profiles"]["default"]["region"] == "bb"
    # Same size, same second: still seen (a just-written file is never cached).
    path.write_text("[default]\nregion = cc\n")
    assert our_credentials.load_config(str(path))["profiles"]["default"]["region"] == "cc"
    # A file that has been still for a while is parsed once.
    os.utime(path, ns=(10**9, 10**9))
    first = our_credentials.load_config(str(path))
    assert our_credentials.load_config(str(path)) is first
    path.unlink()
    assert our_credentials.load_config(str(path)) is None
