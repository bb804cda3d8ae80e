"""sagemaker_rt_c.config.Config against botocore.config.Config as the oracle."""

import copy
import pickle
import random

import botocore
import botocore.config
import pytest

from sagemaker_rt_c.config import UNSIGNED, Config, is_unsigned

pytestmark = pytest.mark.differential

OPTIONS = list(botocore.config.Config.OPTION_DEFAULTS)


def attrs(cfg):
    """Every option as the caller sees it, plus botocore's private bookkeeping."""
    out = {k: getattr(cfg, k) for k in OPTIONS}
    out["_user_provided_options"] = dict(cfg._user_provided_options)
    out["_inject_host_prefix"] = cfg._inject_host_prefix
    return out


def outcome(factory):
    try:
        return ("ok", attrs(factory()))
    except Exception as e:  # noqa: BLE001 - the exception itself is what we compare
        return ("error", type(e).__name__, str(e))


def same(build):
    """build(cls) must behave identically for botocore's Config and ours."""
    theirs = outcome(lambda: build(botocore.config.Config))
    ours = outcome(lambda: build(Config))
    assert ours == theirs
    return ours


def test_option_names_and_order_match_botocore():
    assert list(Config.OPTION_DEFAULTS) == OPTIONS
    assert Config.OPTION_DEFAULTS == dict(botocore.config.Config.OPTION_DEFAULTS)
    assert Config.NON_LEGACY_OPTION_DEFAULTS == botocore.config.Config.NON_LEGACY_OPTION_DEFAULTS


def test_defaults():
    result = same(lambda cls: cls())
    assert result[1]["connect_timeout"] == 60
    assert result[1]["inject_host_prefix"] is True
    assert result[1]["_inject_host_prefix"] == "UNSET"
    assert vars(Config()) == vars(botocore.config.Config())


@pytest.mark.parametrize("name", OPTIONS)
def test_each_keyword(name):
    value = {"retries": {"mode": "standard"}, "s3": {"addressing_style": "path"}}.get(
        name, f"value-{name}"
    )
    if name == "defaults_mode":
        value = "standard"
    result = same(lambda cls: cls(**{name: value}))
    assert result[0] == "ok"


def test_positional_arguments_follow_botocore_order():
    args = [f"v{i}" for i in range(len(OPTIONS))]
    args[OPTIONS.index("retries")] = None
    args[OPTIONS.index("s3")] = None
    for n in range(len(OPTIONS) + 1):
        same(lambda cls, n=n: cls(*args[:n]))


@pytest.mark.parametrize(
    "args,kwargs",
    [
        (tuple(range(len(OPTIONS) + 1)), {}),
        (("us-east-1",), {"region_name": "us-west-2"}),
        (("us-east-1", "v4"), {"signature_version": "s3v4"}),
        ((), {"bogus": 1}),
        ((), {"region": "us-east-1"}),
    ],
)
def test_argument_errors(args, kwargs):
    result = same(lambda cls: cls(*args, **kwargs))
    assert result[0] == "error" and result[1] == "TypeError"


RETRY_KEYS = ["max_attempts", "total_max_attempts", "mode", "bogus", "Mode"]
RETRY_VALUES = [-2, -1, 0, 1, 2, 5, 10, "legacy", "standard", "adaptive", "ADAPTIVE", "", None]


def test_retries_validation_random():
    rng = random.Random(1234)
    seen = set()
    for _ in range(600):
        retries = {}
        for key in rng.sample(RETRY_KEYS, rng.randint(0, 3)):
            if key in ("max_attempts", "total_max_attempts"):
                retries[key] = rng.choice([-2, -1, 0, 1, 2, 5, 10])
            else:
                retries[key] = rng.choice(RETRY_VALUES[6:])
        result = same(lambda cls, r=retries: cls(retries=dict(r)))
        seen.add(result[0] if result[0] == "ok" else result[1])
    # The generator must reach every outcome, or this test proves little.
    assert seen >= {
        "ok",
        "InvalidRetryConfigurationError",
        "InvalidMaxRetryAttemptsError",
        "InvalidRetryModeError",
    }


@pytest.mark.parametrize(
    "retries",
    [
        {"max_attempts": 0},
        {"total_max_attempts": 0},
        {"max_attempts": -1},
        {"mode": "fast"},
        {"retry_mode": "standard"},
        {"mode": "standard", "total_max_attempts": 1, "max_attempts": 7},
    ],
)
def test_retries_validation_messages(retries):
    same(lambda cls: cls(retries=dict(retries)))


@pytest.mark.parametrize("style", ["virtual", "auto", "path", None, "bogus", "Path"])
def test_s3_addressing_style_validation(style):
    same(lambda cls: cls(s3={"addressing_style": style}))


def test_inject_host_prefix_semantics():
    for kwargs in ({}, {"inject_host_prefix": False}, {"inject_host_prefix": True}):
        same(lambda cls, kw=kwargs: cls(**kw))
    for cls in (botocore.config.Config, Config):
        cfg = cls()
        cfg.inject_host_prefix = False
        assert cfg.inject_host_prefix is False and cfg._inject_host_prefix is False


def test_defaults_mode_changes_connect_timeout_default():
    for mode in ("legacy", "standard", "in-region", "auto", None):
        same(lambda cls, m=mode: cls(defaults_mode=m))
        same(lambda cls, m=mode: cls(defaults_mode=m, connect_timeout=5))


def random_options(rng):
    pool = {
        "region_name": ["us-east-1", "eu-west-1", None],
        "signature_version": ["v4", "s3v4", None],
        "user_agent": ["agent/1.0", None],
        "user_agent_extra": ["extra/2", None],
        "user_agent_appid": ["app1", None],
        "connect_timeout": [1, 2.5, 60, None],
        "read_timeout": [3, 70.5, None],
        "parameter_validation": [True, False],
        "max_pool_connections": [1, 10, 50],
        "proxies": [{"https": "proxy:3128"}, None],
        "proxies_config": [{"proxy_use_forwarding_for_https": True}, None],
        "retries": [{"mode": "standard"}, {"max_attempts": 2}, {"total_max_attempts": 4}, None],
        "client_cert": ["/c.pem", ("/c.pem", "/k.pem"), None],
        "inject_host_prefix": [True, False],
        "use_dualstack_endpoint": [True, False, None],
        "use_fips_endpoint": [True, False, None],
        "ignore_configured_endpoint_urls": [True, False],
        "defaults_mode": ["legacy", "standard", "mobile"],
        "tcp_keepalive": [True, False],
        "request_min_compression_size_bytes": [1, 100],
        "disable_request_compression": [True, False],
        "sigv4a_signing_region_set": ["*", "us-east-1"],
        "request_checksum_calculation": ["when_supported", "when_required"],
        "response_checksum_validation": ["when_supported", "when_required"],
        "account_id_endpoint_mode": ["preferred", "disabled"],
        "auth_scheme_preference": ["sigv4", "sigv4a,sigv4"],
    }
    names = rng.sample(sorted(pool), rng.randint(0, 8))
    return {n: copy.deepcopy(rng.choice(pool[n])) for n in names}


def test_merge_random():
    rng = random.Random(99)
    for _ in range(300):
        a, b = random_options(rng), random_options(rng)
        theirs = botocore.config.Config(**a).merge(botocore.config.Config(**b))
        ours = Config(**a).merge(Config(**b))
        assert type(ours) is Config
        assert attrs(ours) == attrs(theirs)
        # Mixed: our Config merges a botocore one, and the other way round.
        assert attrs(Config(**a).merge(botocore.config.Config(**b))) == attrs(theirs)
        assert attrs(botocore.config.Config(**a).merge(Config(**b))) == attrs(theirs)


def test_merge_does_not_modify_inputs():
    a = Config(region_name="us-east-1", retries={"mode": "standard"})
    b = Config(read_timeout=5)
    merged = a.merge(b)
    assert a._user_provided_options == {"region_name": "us-east-1", "retries": {"mode": "standard"}}
    assert b._user_provided_options == {"read_timeout": 5}
    assert merged.region_name == "us-east-1" and merged.read_timeout == 5


def test_equality_is_identity_as_in_botocore():
    for cls in (botocore.config.Config, Config):
        a, b = cls(region_name="x"), cls(region_name="x")
        assert a == a
        assert a != b
        assert len({a, b}) == 2


def test_repr_lists_options_and_hides_proxy_passwords():
    cfg = Config(
        region_name="us-east-1",
        proxies={"https": "http://user:s3cr3t@proxy:8080/", "http": "proxy:3128"},
        retries={"mode": "standard"},
    )
    text = repr(cfg)
    assert text.startswith("Config(")
    assert "region_name='us-east-1'" in text and "'mode': 'standard'" in text
    assert "s3cr3t" not in text
    assert "user:***@proxy:8080" in text and "proxy:3128" in text
    assert repr(Config()) == "Config()"
    # The object itself keeps the real value.
    assert cfg.proxies["https"] == "http://user:s3cr3t@proxy:8080/"


def test_copy_and_pickle():
    cfg = Config(region_name="us-east-1", retries={"mode": "adaptive"}, inject_host_prefix=False)
    for clone in (copy.copy(cfg), copy.deepcopy(cfg), pickle.loads(pickle.dumps(cfg))):
        assert attrs(clone) == attrs(cfg)
    assert copy.deepcopy(cfg).retries is not cfg.retries


def test_unsigned_sentinel():
    assert copy.copy(UNSIGNED) is UNSIGNED
    assert copy.deepcopy(UNSIGNED) is UNSIGNED
    assert pickle.loads(pickle.dumps(UNSIGNED)) is UNSIGNED
    assert is_unsigned(UNSIGNED) and is_unsigned(botocore.UNSIGNED)
    assert not is_unsigned("v4") and not is_unsigned(None)
    assert Config(signature_version=UNSIGNED).signature_version is UNSIGNED


def test_attributes_are_mutable_like_botocore():
    cfg = Config()
    cfg.user_agent_extra = "Resource"
    cfg.custom_attribute = 1
    assert cfg.user_agent_extra == "Resource" and cfg.custom_attribute == 1
    # merge() uses what the caller passed, not later attribute changes (botocore too).
    theirs = botocore.config.Config()
    theirs.user_agent_extra = "Resource"
    assert attrs(cfg.merge(Config())) == attrs(theirs.merge(botocore.config.Config()))
