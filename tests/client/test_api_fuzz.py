"""Differential fuzz of the Python API: boto3 1.44.8 against sagemaker_rt_c, same inputs.

Three searches, each through a fresh boto3 session and a fresh sagemaker_rt_c session against
one local scripted server (answering 200):

* test_client_options_match_boto3: ``client()`` keyword arguments (region_name,
  endpoint_url, verify, use_ssl, credentials), a ``Config`` (region_name, timeouts,
  max_pool_connections, retries, user_agent, user_agent_extra, user_agent_appid,
  parameter_validation, signature_version, FIPS / dual-stack, defaults_mode ...; botocore's
  Config class or ours) and environment variables (AWS_DEFAULT_REGION, AWS_CA_BUNDLE,
  REQUESTS_CA_BUNDLE, AWS_RETRY_MODE, AWS_MAX_ATTEMPTS, AWS_ENDPOINT_URL), then an ordinary
  call and presigned URL;
* test_invoke_parameters_match_boto3: invoke_endpoint parameters (every member, odd types,
  boundary lengths, unicode, lone surrogates, control characters, every kind of Body, large
  ones too, unknown names), called and presigned, on an ordinary client (validating or not,
  signing or not);
* test_presigned_urls_match_boto3: generate_presigned_url arguments (method, Params,
  ExpiresIn, HttpMethod), with odd endpoint URLs too.

Compared: making the client (the exception class and message when either raises); a call
(the exception class and message when either raises, else the requests the server read:
request line, headers in order, body -- User-Agent, amz-sdk-invocation-id and
amz-sdk-request excepted, which differ by design -- and the response dicts; botocore's clock
is set to the second we signed in, so its Authorization, its own signer's signature, must
equal ours byte for byte: tests/apidiff.py); a presigned URL (same second) or the exception.

The README's deliberate differences are expected outcomes here, not skips: header values that
are not printable ASCII (ParamValidationError naming the parameter); parameter_validation=False
still reporting what can't be serialised; credentials that are not printable ASCII; a
User-Agent option with a control character; a signature version botocore knows and we don't
implement; a region ending in a line feed; a Body that is a buffer (sent as boto3 sends its
bytes).

CI runs a fixed, derandomized set (SMRT_FUZZ_EXAMPLES examples per search, default 150: about
ten seconds in all). A longer search:
``SMRT_FUZZ_EXAMPLES=5000 SMRT_FUZZ_RANDOM=1 pytest tests/client/test_api_fuzz.py``
(SMRT_FUZZ_RANDOM=1 draws new examples each run instead of the fixed ones).
"""

import array
import contextlib
import os
import re
import string

import boto3
import botocore
import botocore.auth
import botocore.config
import botocore.session
import botocore.validate
import pytest
from apidiff import invoke_both, materialise, outcome, presign_both
from botocore.loaders import create_loader
from conftest import ACCESS_KEY, INVOKE_HEADER_PARAMS, SECRET_KEY
from fuzzing import fuzz_settings
from hypothesis import event, given
from hypothesis import strategies as st
from servers import Reply, ScriptedServer

import sagemaker_rt_c
from sagemaker_rt_c.config import UNSIGNED

pytestmark = [pytest.mark.differential, pytest.mark.slow]

FUZZ = fuzz_settings(150)

PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
CONTROL = "\x00\x01\t\n\r\x0b\x1f\x7f"
UNICODE = "é€☃\u2028\U0001f600"


def some(*strategies):
    return st.one_of(*strategies)


def text(alphabet, max_size):
    return st.text(alphabet=alphabet, max_size=max_size)


# --- the client ------------------------------------------------------------------------------


def weighted(common, rare, odds=4):
    """``common`` about ``odds`` times as often as ``rare`` (one_of would pick evenly)."""
    return st.sampled_from([True] * odds + [False]).flatmap(lambda c: common if c else rare)


def maybe(draw, odds=2):
    """True about once in ``odds`` draws."""
    return draw(st.sampled_from([True] + [False] * (odds - 1)))


REGIONS = weighted(
    st.sampled_from(
        ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "me-west-1", "aws-global"]
    ),
    some(
        st.sampled_from(
            ["fips-us-east-1", "us-east-1-fips", "US-EAST-1", "", "-x", "a" * 64, "1", "xx-foo-9"]
        ),
        st.sampled_from(["us-east-1\n", "eu-west-1\n", "\n"]),
        st.sampled_from(["us-east-1\r", "us-\x0beast-1", "us-east-1 ", "é"]),
        text(string.ascii_lowercase + string.digits + "-" + CONTROL + " é", 12),
    ),
)
SAFE_URL_CHARS = "abz09-._~/"
URL_CHARS = "ab/%2fAZ09-._~!$&'()*+,;=:@ \"<>[]{}|\\^`#?" + UNICODE + "\x00\x7f\x01"


@st.composite
def odd_endpoint_urls(draw):
    """A URL for the scripted server (``{P}``: its port), in the shapes botocore accepts or
    refuses: schemes, user info, hosts, ports, paths, queries, fragments, leading blanks.
    Mostly one part is odd at a time (the others as usual), sometimes all of them."""
    parts = {
        "lead": ("", st.sampled_from([" ", "\t", "  "])),
        "scheme": ("http://", st.sampled_from(["HTTP://", "//", "gopher://", "ftp://", "file://"])),
        "userinfo": ("", st.sampled_from(["u@", "u:p@", "a@b@", "@", "%41:%42@"])),
        "host": ("127.0.0.1", st.sampled_from(["localhost", "LOCALHOST", "[::ffff:127.0.0.1]"])),
        "port": (":{P}", st.sampled_from([":0{P}", ":1", ":99999", ":abc", ":{P}:", ": {P}"])),
        "path": ("", text(URL_CHARS, 10).map(lambda s: "/" + s)),
        "query": ("", text(URL_CHARS + "==&&", 10).map(lambda s: "?" + s)),
        "fragment": ("", text(URL_CHARS, 5).map(lambda s: "#" + s)),
    }
    odd = draw(st.sampled_from([*parts, *parts, "all"]))
    url = ""
    for name, (usual, unusual) in parts.items():
        url += draw(unusual) if odd in (name, "all") else usual
    return url


# The server's URL, or with a path urllib3 encodes on the wire.
ORDINARY_ENDPOINTS = weighted(
    st.just("http://127.0.0.1:{P}"),
    text(URL_CHARS.replace("#", "").replace("?", ""), 8).map(lambda p: "http://127.0.0.1:{P}/" + p),
    odds=2,
)
ENDPOINTS = weighted(
    text(SAFE_URL_CHARS, 8).map(lambda p: "http://127.0.0.1:{P}" + (p and "/" + p)),
    odd_endpoint_urls(),
    odds=2,
)
TIMEOUTS = weighted(st.sampled_from([None, 1, 5, 60, 2.5]), st.sampled_from([0, -1, True, "5"]))
UA_TEXT = weighted(text(PRINTABLE, 20), text(PRINTABLE + CONTROL + UNICODE, 8))
CONFIG_VALUES = {
    "region_name": REGIONS,
    "connect_timeout": TIMEOUTS,
    "read_timeout": TIMEOUTS,
    "max_pool_connections": weighted(
        st.sampled_from([1, 10, None]), st.sampled_from([0, -1, 2.5, "3", True])
    ),
    "retries": st.fixed_dictionaries(
        {},
        optional={
            "mode": weighted(
                st.sampled_from(["legacy", "standard", "adaptive"]),
                st.sampled_from(["bogus", None]),
            ),
            "max_attempts": weighted(
                st.sampled_from([0, 1, 3]), st.sampled_from([-1, "2", None, True])
            ),
            "total_max_attempts": weighted(
                st.sampled_from([1, 2, 5]), st.sampled_from([0, -1, None])
            ),
        },
    ),
    "user_agent_extra": UA_TEXT,
    "user_agent": UA_TEXT,
    "user_agent_appid": UA_TEXT,
    "parameter_validation": weighted(st.booleans(), st.sampled_from([None, 0, "false"])),
    "signature_version": weighted(
        st.sampled_from(["v4", "UNSIGNED"]),
        st.sampled_from(["s3v4", "bogus", None, "v4-query", "V4", "v2"]),
    ),
    "tcp_keepalive": st.booleans(),
    "use_fips_endpoint": st.booleans(),
    "use_dualstack_endpoint": st.booleans(),
    "inject_host_prefix": st.booleans(),
    "defaults_mode": st.sampled_from(["legacy", "standard", "in-region", "auto", "bogus"]),
    "ignore_configured_endpoint_urls": st.booleans(),
}


@st.composite
def configs(draw):
    names = draw(st.lists(st.sampled_from(sorted(CONFIG_VALUES)), max_size=4, unique=True))
    return {name: draw(CONFIG_VALUES[name]) for name in names}


ENV_VALUES = {
    "AWS_DEFAULT_REGION": REGIONS.filter(lambda r: "\x00" not in r),
    "AWS_CA_BUNDLE": st.sampled_from(["", " ", "/no/such/ca.pem"]),
    "REQUESTS_CA_BUNDLE": st.sampled_from(["", "\t", "/no/such/ca.pem"]),
    "AWS_RETRY_MODE": st.sampled_from(["legacy", "standard", "adaptive", "bogus"]),
    "AWS_MAX_ATTEMPTS": st.sampled_from(["1", "3", "0", "x"]),
    "AWS_ENDPOINT_URL": ENDPOINTS.filter(lambda u: "\x00" not in u),
}


@st.composite
def environments(draw):
    if not maybe(draw, 4):
        return {}
    names = draw(st.lists(st.sampled_from(sorted(ENV_VALUES)), min_size=1, max_size=2, unique=True))
    return {name: draw(ENV_VALUES[name]) for name in names}


@st.composite
def clients(draw):
    kwargs = {}
    if not maybe(draw, 8):
        kwargs["region_name"] = draw(REGIONS)
    if not maybe(draw, 8):
        kwargs["endpoint_url"] = draw(ENDPOINTS)
    if maybe(draw, 6):
        kwargs["verify"] = draw(st.sampled_from([None, True, False, "", " ", "/no/such/ca.pem"]))
    if maybe(draw, 6):
        kwargs["use_ssl"] = draw(st.booleans())
    credentials = draw(st.sampled_from(range(10)))
    if credentials >= 2:
        kwargs["aws_access_key_id"] = ACCESS_KEY
        kwargs["aws_secret_access_key"] = SECRET_KEY
    elif credentials == 1:
        kwargs["aws_access_key_id"] = draw(
            st.sampled_from([None, "", "AK\n", "AKé", " AK", "AK\x00"])
        )
        kwargs["aws_secret_access_key"] = draw(st.sampled_from([None, "", "sé\n", SECRET_KEY]))
    if maybe(draw, 4):
        kwargs["aws_session_token"] = draw(
            st.sampled_from(["", "FQoGZXIvYXdzE//token+==", "tok\n", "tö", "t\x7f", None])
        )
    if maybe(draw, 2):
        kwargs["config"] = draw(configs())
    return kwargs


@st.composite
def ordinary_clients(draw, odd_endpoints=False):
    """A client that works (signing or not, validating or not), and, with ``odd_endpoints``,
    any endpoint URL."""
    kwargs = {
        "region_name": "us-east-1",
        "endpoint_url": draw(ENDPOINTS if odd_endpoints else ORDINARY_ENDPOINTS),
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
    }
    if maybe(draw, 3):
        kwargs["aws_session_token"] = draw(st.sampled_from(["", "FQoGZXIvYXdzE//token+=="]))
    config = {}
    if maybe(draw, 3):
        config["parameter_validation"] = False
    if maybe(draw, 5):
        config["signature_version"] = "UNSIGNED"
    if config:
        kwargs["config"] = config
    return kwargs


# --- the calls -------------------------------------------------------------------------------

HEADER_VALUES = weighted(
    text(PRINTABLE, 40),
    some(
        text(PRINTABLE + CONTROL + UNICODE, 12),
        st.sampled_from(["", " ", " x ", "a\r\nX-Injected: 1", "NEW_SESSION", "\ud800"]),
        st.sampled_from([63, 64, 65, 256, 257, 1024, 1025]).map(lambda n: "x" * n),
        st.sampled_from([5, None, b"x", 1.5, True, ["a"]]),
    ),
    odds=6,
)
ENDPOINT_NAMES = weighted(
    text(string.ascii_letters + string.digits + "-", 20),
    some(
        st.sampled_from(["", ".", "..", "a/../b", "%", "%41", "a" * 63, "a" * 64, "\ud800"]),
        text(string.ascii_letters + string.digits + "-._~ /%+?#" + UNICODE + CONTROL, 20),
        st.sampled_from([5, None, b"ep"]),
    ),
    odds=3,
)
BODIES = weighted(
    some(
        st.binary(max_size=300),
        st.binary(max_size=100).map(bytearray),
        text(PRINTABLE + UNICODE + "\n", 50),
        st.binary(max_size=100).map(lambda b: ("file", b)),
        st.sampled_from([b"", "", b"{}", '{"a": 1, "b": "x y"}', b'{"n": [1, 2]}', "[1]", "x"]),
        st.sampled_from(["\udcff", b"x" * 70000, ("file", b"y" * 70000), "é" * 40000]),
        st.binary(max_size=50).map(lambda b: ("buffer", b)),
    ),
    st.sampled_from([None, 5, 1.5, [b"a"], {"a": 1}]),
    odds=8,
)


@st.composite
def invoke_params(draw):
    params = {}
    if not maybe(draw, 20):
        params["EndpointName"] = draw(ENDPOINT_NAMES)
    if not maybe(draw, 20):
        params["Body"] = draw(BODIES)
    for name in INVOKE_HEADER_PARAMS:
        if maybe(draw, 4):
            params[name] = draw(HEADER_VALUES)
    if maybe(draw, 20):
        params[draw(st.sampled_from(["Bogus", "endpointName", "body"]))] = 1
    return params


ORDINARY_PARAMS = st.fixed_dictionaries(
    {
        "EndpointName": text(string.ascii_letters + string.digits + "-", 20),
        "Body": st.sampled_from([b"", "", b'{"a": 1}', '{"k": "v w", "n": [1]}']),
    },
    optional={name: text(PRINTABLE, 10).map(lambda v: "x" + v) for name in INVOKE_HEADER_PARAMS},
)
PRESIGN = st.fixed_dictionaries(
    {
        "ClientMethod": st.sampled_from(["invoke_endpoint"] * 8 + ["invoke_endpoint_nope"]),
        "Params": weighted(ORDINARY_PARAMS, some(invoke_params(), st.none()), odds=2),
    },
    optional={
        "ExpiresIn": st.sampled_from([None, 0, -1, 1, 3600, 604800, 1.5, "60", True, 10**20]),
        "HttpMethod": st.sampled_from([None, "GET", "PUT", "post", "X Y"]),
    },
)


# --- running both ----------------------------------------------------------------------------

_LOADER = []


def boto3_session():
    if not _LOADER:
        _LOADER.append(create_loader())
    bs = botocore.session.Session()
    bs.register_component("data_loader", _LOADER[0])
    return boto3.Session(botocore_session=bs)


@contextlib.contextmanager
def environment(values):
    saved = {k: os.environ.get(k) for k in values}
    try:
        os.environ.update(values)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def port_in(value, port):
    if isinstance(value, str):
        return value.replace("{P}", str(port))
    if isinstance(value, dict):
        return {k: port_in(v, port) for k, v in value.items()}
    return value


def make_config(kwargs, cls, unsigned):
    kwargs = dict(kwargs)
    if kwargs.get("signature_version") == "UNSIGNED":
        kwargs["signature_version"] = unsigned
    return cls(**kwargs)


def create_both(client_kwargs, ours_takes_botocore_config):
    kwargs = dict(client_kwargs)
    config = kwargs.pop("config", None)

    def theirs():
        cfg = None
        if config is not None:
            cfg = make_config(config, botocore.config.Config, botocore.UNSIGNED)
        return boto3_session().client("sagemaker-runtime", config=cfg, **kwargs)

    def ours():
        cfg = None
        if config is not None:
            if ours_takes_botocore_config:
                cfg = make_config(config, botocore.config.Config, botocore.UNSIGNED)
            else:
                cfg = make_config(config, sagemaker_rt_c.Config, UNSIGNED)
        return sagemaker_rt_c.Session().client("sagemaker-runtime", config=cfg, **kwargs)

    return outcome(ours), outcome(theirs)


# --- deliberate differences ------------------------------------------------------------------

_CONTROL_NAMES = {0x00: "NUL", 0x09: "tab", 0x0A: "line feed", 0x0D: "carriage return", 0x7F: "DEL"}


def unsafe_header_line(name, value):
    """Our line for a header value that is not printable ASCII (README), or None."""
    for index, char in enumerate(value):
        point = ord(char)
        if 0x20 <= point < 0x7F:
            continue
        if point > 0x7F:
            what = "non-ASCII character"
        else:
            what = _CONTROL_NAMES.get(point, "control character")
        return (
            f"Invalid header value for parameter {name}: contains {what} (U+{point:04X}) "
            f"at index {index}; header values must be printable ASCII"
        )
    return None


def expected_header_refusal(params):
    """Our ParamValidationError lines for header values that are not printable ASCII."""
    if not isinstance(params, dict):
        return []
    lines = []
    for name in INVOKE_HEADER_PARAMS:
        value = params.get(name)
        if isinstance(value, str):
            line = unsafe_header_line(name, value)
            if line:
                lines.append(line)
    return lines


OTHER_SIGNERS = set(botocore.auth.AUTH_TYPE_MAPS) - {"v4"}
CREDENTIALS_REFUSED = (
    "the access key and session token must be printable ASCII (they are sent in headers)"
)


def unsafe_credentials(client_kwargs):
    """Explicit credentials whose access key or token is not printable ASCII."""
    key = client_kwargs.get("aws_access_key_id")
    if key is None or client_kwargs.get("aws_secret_access_key") is None:
        return False
    if (client_kwargs.get("config") or {}).get("signature_version") == "UNSIGNED":
        return False  # not used
    token = client_kwargs.get("aws_session_token")
    return any(v is not None and unsafe_header_line("", v) for v in (key, token))


def unsafe_user_agent(config):
    """Our InvalidConfigError message for a Config user_agent / user_agent_extra with a control
    character (README), or None."""
    for name in ("user_agent", "user_agent_extra"):
        value = config.get(name)
        if not isinstance(value, str):
            continue
        for index, char in enumerate(value):
            point = ord(char)
            if point < 0x20 or point == 0x7F:
                what = _CONTROL_NAMES.get(point, "control character")
                return (
                    f"Invalid {name} in Config: contains {what} (U+{point:04X}) at index "
                    f"{index}; the User-Agent header can't carry control characters"
                )
    return None


def resolved_region(client_kwargs, env):
    config = client_kwargs.get("config") or {}
    for value in (client_kwargs.get("region_name"), config.get("region_name")):
        if value is not None:
            return value
    return env.get("AWS_DEFAULT_REGION")


def botocore_accepts_region(region):
    return re.match(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$", region) is not None


def buffers_as_bytes(params):
    """boto3's view of our beyond-boto3 buffer bodies: their bytes."""
    if not isinstance(params, dict):
        return params
    out = dict(params)
    body = out.get("Body")
    if isinstance(body, tuple) and body[0] == "buffer":
        out["Body"] = body[1]
    return out


def with_buffers(params):
    """Our call's parameters: a ("buffer", bytes) Body becomes an array of those bytes."""
    if not isinstance(params, dict):
        return params
    out = dict(params)
    body = out.get("Body")
    if isinstance(body, tuple) and body[0] == "buffer":
        out["Body"] = array.array("B", body[1])
    return out


# --- the test --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_server():
    with ScriptedServer(Reply(200, [("Content-Type", "text/plain")], b"ok")) as server:
        yield server


def made_clients(client_kwargs, env, ours_takes_botocore_config):
    """Both clients, or None when the outcome of making them has been checked and is all."""
    ours, theirs = create_both(client_kwargs, ours_takes_botocore_config)
    event(f"client: {theirs[0] if theirs[0] == 'ok' else theirs[1]}")
    region = resolved_region(client_kwargs, env)
    if isinstance(region, str) and region.endswith("\n") and botocore_accepts_region(region):
        # README: refused at construction, naming the region (unless boto3 fails first,
        # making the Config).
        refused = (
            "error",
            "InvalidRegionError",
            f"Provided region_name '{region}' doesn't match a supported format.",
        )
        assert ours == refused or (ours == theirs and theirs[0] == "error")
        return None
    config = client_kwargs.get("config") or {}
    version = config.get("signature_version")
    if theirs[0] == "ok" and version in OTHER_SIGNERS:
        # README: signature versions botocore knows but we don't implement.
        message = f"Signature version(s) are not supported: {version}"
        assert ours == ("error", "UnsupportedSignatureVersionError", message)
        return None
    refused = unsafe_user_agent(config)
    if theirs[0] == "ok" and refused:
        # README: a User-Agent part with a control character.
        assert ours == ("error", "InvalidConfigError", refused)
        return None
    if theirs[0] == "ok" and unsafe_credentials(client_kwargs):
        # README: credentials sent in headers must be printable ASCII.
        assert ours == ("error", "ValueError", CREDENTIALS_REFUSED)
        return None
    if ours[0] == "error" or theirs[0] == "error":
        assert ours == theirs
        return None
    return ours[1], theirs[1]


def reaches_server(their_client):
    url = their_client._endpoint.host.lower()
    return "127.0.0.1" in url or "localhost" in url


VALID_PARAMS = {"EndpointName": "ep", "Body": b'{"x": 1}', "ContentType": "application/json"}


@FUZZ
@given(client_kwargs=clients(), env=environments(), ours_takes_botocore_config=st.booleans())
def test_client_options_match_boto3(fuzz_server, client_kwargs, env, ours_takes_botocore_config):
    """Odd client() arguments, Config values and environment; an ordinary call."""
    client_kwargs = port_in(client_kwargs, fuzz_server.port)
    env = port_in(env, fuzz_server.port)
    with environment(env):
        made = made_clients(client_kwargs, env, ours_takes_botocore_config)
        if made is None:
            return
        if reaches_server(made[1]):
            check_invoke(fuzz_server, *made, VALID_PARAMS)
        check_presign(*made, {"ClientMethod": "invoke_endpoint", "Params": VALID_PARAMS})


@FUZZ
@given(client_kwargs=ordinary_clients(), params=invoke_params())
def test_invoke_parameters_match_boto3(fuzz_server, client_kwargs, params):
    """Odd invoke_endpoint parameters (and presigning them) on an ordinary client."""
    made = made_clients(port_in(client_kwargs, fuzz_server.port), {}, False)
    check_invoke(fuzz_server, *made, params)
    check_presign(*made, {"ClientMethod": "invoke_endpoint", "Params": params})


@FUZZ
@given(client_kwargs=ordinary_clients(odd_endpoints=True), presign=PRESIGN)
def test_presigned_urls_match_boto3(fuzz_server, client_kwargs, presign):
    """Odd generate_presigned_url arguments, on an ordinary client or one with an odd
    endpoint URL."""
    made = made_clients(port_in(client_kwargs, fuzz_server.port), {}, False)
    if made is not None:
        check_presign(*made, presign)


def botocore_report(their_client, params):
    """botocore's ParamValidator report lines for ``params`` (empty: valid)."""
    shape = their_client.meta.service_model.operation_model("InvokeEndpoint").input_shape
    report = botocore.validate.ParamValidator().validate(params, shape)
    return report.generate_report().split("\n") if report.has_errors() else []


def expected_refusal(their_client, params, theirs):
    """Our ParamValidationError message where the README says we differ, or None.

    Header values that are not printable ASCII are refused (always), after botocore's own
    lines. With parameter_validation=False, a parameter set that can't be serialised as the
    model says (anything but a value under a model minimum) gets botocore's whole report, as
    with validation on; boto3 sends what its serializer makes of it or fails in it."""
    if params is None:
        params = {}
    params = materialise(buffers_as_bytes(params))
    refused = expected_header_refusal(params)
    if isinstance(their_client._serializer, botocore.validate.ParamValidationDecorator):
        if not refused:
            return None
        if theirs[:2] == ("error", "ParamValidationError"):
            return theirs[2] + "\n" + "\n".join(refused)
        return "Parameter validation failed:\n" + "\n".join(refused)
    report = botocore_report(their_client, params)
    unsendable = [line for line in report if not line.startswith("Invalid length for ")]
    if not (unsendable or refused):
        return None
    return "Parameter validation failed:\n" + "\n".join(report + refused)


def check_invoke(server, ours_client, their_client, params):
    event("invoked")
    (o, o_reqs), (t, t_reqs) = invoke_both(
        server,
        ours_client,
        their_client,
        params,
        ours_params=with_buffers(params),
        their_params=buffers_as_bytes(params),
    )
    refused = expected_refusal(their_client, params, t)
    if refused is not None:
        assert o == ("error", "ParamValidationError", refused)
        assert not o_reqs
        return
    assert o == t
    assert o_reqs == t_reqs


def check_presign(ours_client, their_client, presign):
    presign = dict(presign, Params=buffers_as_bytes(presign["Params"]))
    p_ours, p_theirs = presign_both(ours_client, their_client, **presign)
    if presign["ClientMethod"] == "invoke_endpoint":
        refused = expected_refusal(their_client, presign["Params"], p_theirs)
        if refused is not None:
            assert p_ours == ("error", "ParamValidationError", refused)
            return
    assert p_ours == p_theirs
