"""The credential chain's STS, SSO and SSO OIDC calls run on the C call engine.

``credentials/_nested.py`` builds each request and hands it to its client's C core
(``_core.nested_client``, csrc/nested.c), which runs it as a raw request of the engine
(csrc/engine.c) with the one retry implementation (csrc/retry.c, STS's IDPCommunicationError
rule included). What shows it:

* ``_nested`` holds no retry loop, backoff or retry rules, and never uses the Python transport
  or signer;
* retries against botocore 1.44.8 on the same scripted answers: the outcome, the number of
  requests, each ``amz-sdk-request`` header (``ttl`` from a ``Date`` header too), one
  ``amz-sdk-invocation-id`` per call, the backoff delays for the same jitter, the standard
  mode's retry quota over many calls of one client, service rules per service, and bodies
  that break (read within the attempt, as botocore reads a non-streaming output);
* the request headers are botocore's (no Content-Length on the SSO portal's GET);
* a nested client keeps its connection between attempts and calls;
* Ctrl-C ends an STS call within 0.2 s, in its backoff or waiting for the answer, and the
  same client works afterwards;
* each attempt is logged from what the C side reports.
"""

import ast
import functools
import inspect
import json
import logging
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
import types

import botocore.endpoint
import botocore.session
import pytest
from botocore.retries import bucket, standard
from credfakes import FakeSSO, FakeSTS, sts_error
from servers import Close, Delay, Partial, Reply, Reset, Script, Stall

import sagemaker_rt_c
from sagemaker_rt_c import _core
from sagemaker_rt_c.config import UNSIGNED, Config
from sagemaker_rt_c.credentials import _nested
from sagemaker_rt_c.credentials._providers import create_nested_client
from sagemaker_rt_c.session import Session

ROLE = "arn:aws:iam::123456789012:role/nested-engine"
KEYS = dict(aws_access_key_id="AKIDSOURCE", aws_secret_access_key="sourcesecret")
JITTER = 0.5  # every jitter draw, on both sides
OK = None  # the fake's normal answer

_LOADER = []


def botocore_client(service, **kwargs):
    """botocore's client (one model loader for the module: quick to make)."""
    from botocore.loaders import create_loader

    if not _LOADER:
        _LOADER.append(create_loader())
    session = botocore.session.Session()
    session.register_component("data_loader", _LOADER[0])
    if "config" in kwargs:
        from botocore.config import Config as BotoConfig

        config = kwargs.pop("config")
        kwargs["config"] = BotoConfig(
            signature_version=botocore.UNSIGNED if config.get("unsigned") else None,
            read_timeout=config.get("read_timeout", 60),
        )
    return session.create_client(service, **kwargs)


def our_client(service, **kwargs):
    if "config" in kwargs:
        config = kwargs.pop("config")
        kwargs["config"] = Config(
            signature_version=UNSIGNED if config.get("unsigned") else None,
            read_timeout=config.get("read_timeout", 60),
        )
    return create_nested_client(Session(), service, **kwargs)


class _TimeShim:
    def __init__(self, **overrides):
        self.__dict__.update(overrides)

    def __getattr__(self, name):
        return getattr(time, name)


@pytest.fixture
def sleeps(monkeypatch):
    """The same jitter on both sides, and their sleeps recorded instead of slept: botocore's
    (random.random for legacy, ExponentialBackoff's bound source for standard and adaptive,
    Endpoint's time.sleep, the adaptive bucket's clock and waits) and ours (_nested's hooks,
    which the C core reads when it backs off)."""
    recorded = {"botocore": [], "ours": []}
    now = [1000.0]

    def jitter():
        return JITTER

    def botocore_sleep(seconds):
        recorded["botocore"].append(seconds)
        now[0] += seconds + 1e-9

    monkeypatch.setattr(random, "random", jitter)
    init = standard.ExponentialBackoff.__init__
    names = init.__code__.co_varnames[1 : init.__code__.co_argcount]
    defaults = list(init.__defaults__)
    defaults[names.index("random") - (len(names) - len(defaults))] = jitter
    monkeypatch.setattr(init, "__defaults__", tuple(defaults))
    monkeypatch.setattr(botocore.endpoint, "time", _TimeShim(sleep=botocore_sleep))

    class _Condition(threading.Condition):
        def wait(self, timeout=None):
            botocore_sleep(timeout)
            return False

    monkeypatch.setattr(bucket, "time", _TimeShim(time=lambda: now[0]))
    monkeypatch.setattr(
        bucket, "threading", types.SimpleNamespace(Lock=threading.Lock, Condition=_Condition)
    )
    monkeypatch.setattr(_nested, "_random", jitter)
    monkeypatch.setattr(_nested, "_sleep", recorded["ours"].append)
    return recorded


def _outcome(call, url):
    try:
        result = call()
    except Exception as e:  # noqa: BLE001 - compared with botocore's
        metadata = (getattr(e, "response", None) or {}).get("ResponseMetadata", {})
        flags = {k: metadata[k] for k in ("RetryAttempts", "MaxAttemptsReached") if k in metadata}
        if metadata.get("RetryQuotaReached"):
            flags["RetryQuotaReached"] = True
        # botocore's ResponseParserError repeats the body; ours leaves it out (secrets).
        message = str(e).replace(url, "<url>").split(":\nb'")[0].rstrip(".")
        return ("error", type(e).__name__, message, flags)
    metadata = result.get("ResponseMetadata", {})
    return ("ok", metadata.get("RetryAttempts"), metadata.get("MaxAttemptsReached"))


def run_sts(which, operation, script, mode, attempts, monkeypatch, config=None):
    """One call of `operation` against a FakeSTS answering `script`: (outcome, the
    amz-sdk-request header of each request, how many invocation ids they carried)."""
    with FakeSTS() as sts:
        sts.fail(*script)
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        monkeypatch.setenv("AWS_RETRY_MODE", mode)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", str(attempts))
        make = botocore_client if which == "botocore" else our_client
        config = dict(config or {})
        if operation == "AssumeRoleWithWebIdentity":
            config["unsigned"] = True  # botocore sends it unsigned whatever the client's keys
            client = make("sts", region_name="eu-west-1", config=config)
            params = dict(RoleArn=ROLE, RoleSessionName="nested", WebIdentityToken="web-token")
            call = lambda: client.assume_role_with_web_identity(**params)  # noqa: E731
        else:
            client = make("sts", region_name="eu-west-1", config=config, **KEYS)
            call = lambda: client.assume_role(RoleArn=ROLE, RoleSessionName="nested")  # noqa: E731
        outcome = _outcome(call, sts.url)
        headers = [c.header("amz-sdk-request") for c in sts.calls]
        ids = {c.header("amz-sdk-invocation-id") for c in sts.calls}
        return outcome, headers, len(ids)


def sts_reply(status, code, headers=()):
    reply = sts_error(code, f"{code} happened", status)
    reply.headers = reply.headers + list(headers)
    return reply


HTML_500 = Reply(500, [("Content-Type", "text/html")], b"<html><body>oops</body></html>")
IDP_400 = sts_reply(400, "IDPCommunicationError")

SCRIPTS = {
    "500-always": [HTML_500] * 6,
    "503-then-ok": [sts_reply(503, "ServiceUnavailable"), OK],
    "throttling-then-ok": [sts_reply(400, "Throttling"), OK],
    "throttling-always": [sts_reply(400, "Throttling")] * 6,
    "idp-400-then-ok": [IDP_400, OK],
    "idp-400-always": [IDP_400] * 6,
    # standard mode's special rule takes any status, legacy's _retry.json policy only 400
    "idp-403-then-ok": [sts_reply(403, "IDPCommunicationError"), OK],
    # a throttle by status for AssumeRole (not in its model); modeled by web identity
    "idp-429-then-ok": [sts_reply(429, "IDPCommunicationError"), OK],
    "retry-after-then-ok": [sts_reply(500, "InternalError", [("x-amz-retry-after", "1500")]), OK],
    "closed-then-ok": [Close(), OK],
    "reset-always": [Reset()] * 6,
    "denied": [sts_reply(403, "AccessDenied")],
}


@pytest.mark.differential
@pytest.mark.parametrize("mode", ["legacy", "standard", "adaptive"])
@pytest.mark.parametrize("operation", ["AssumeRole", "AssumeRoleWithWebIdentity"])
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_sts_retries_match_botocore(monkeypatch, sleeps, name, operation, mode):
    script = SCRIPTS[name]
    theirs = run_sts("botocore", operation, script, mode, 3, monkeypatch)
    ours = run_sts("ours", operation, script, mode, 3, monkeypatch)
    assert ours == theirs
    assert ours[2] == 1  # one invocation id for all of a call's attempts
    if mode != "adaptive":
        # The backoff delays, for the same jitter (adaptive: the limiter's waits depend on
        # the clock's phase, docs/retries.md §12).
        assert sleeps["ours"] == pytest.approx(sleeps["botocore"])


@pytest.mark.differential
def test_sts_retries_with_five_attempts_match_botocore(monkeypatch, sleeps):
    for mode in ("legacy", "standard"):
        for script in (SCRIPTS["500-always"], SCRIPTS["throttling-always"]):
            theirs = run_sts("botocore", "AssumeRole", script, mode, 5, monkeypatch)
            ours = run_sts("ours", "AssumeRole", script, mode, 5, monkeypatch)
            assert ours == theirs and len(ours[1]) == 5
    assert sleeps["ours"] == pytest.approx(sleeps["botocore"])


@pytest.mark.differential
def test_ttl_from_the_date_header_as_botocore(monkeypatch, sleeps):
    # botocore: ttl = Date + read_timeout, on the retry that follows a dated response.
    dated = Reply(500, [("Date", "Mon, 01 Jan 2024 00:00:00 GMT")], b"")
    theirs = run_sts("botocore", "AssumeRole", [dated, OK], "standard", 3, monkeypatch)
    ours = run_sts("ours", "AssumeRole", [dated, OK], "standard", 3, monkeypatch)
    assert ours == theirs
    assert ours[1] == ["attempt=1; max=3", "ttl=20240101T000100Z; attempt=2; max=3"]


BODY_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 500\r\n\r\n"
    b"<AssumeRoleResponse><AssumeRoleResult>"
)


@pytest.mark.differential
@pytest.mark.parametrize(
    "name, first",
    [
        # cut short by a clean close: parsed from what arrived (enforce_content_length=False)
        ("short-200", Partial(500, b"<AssumeRoleResponse><AssumeRoleResult>")),
        ("short-500", Partial(500, b"<ErrorResponse>", status=500)),
        # reset or stalled inside the body: the attempt's transport error, retried
        ("reset-inside-200", Script([BODY_HEAD], reset=True)),
        ("stall-inside-200", Stall(BODY_HEAD, 1.5)),
    ],
)
def test_broken_bodies_are_read_within_the_attempt_as_botocore(monkeypatch, sleeps, name, first):
    config = {"read_timeout": 0.3}
    theirs = run_sts("botocore", "AssumeRole", [first, OK], "standard", 3, monkeypatch, config)
    ours = run_sts("ours", "AssumeRole", [first, OK], "standard", 3, monkeypatch, config)
    assert ours == theirs


@pytest.mark.differential
def test_standard_retry_quota_is_the_clients_own(monkeypatch, sleeps):
    """One client, 500s only: the retry quota (500, 14 a retry) drains over its calls as
    botocore's does, then RetryQuotaReached; a new client starts full."""
    outcomes = {}
    for which in ("botocore", "ours"):
        with FakeSTS() as sts:
            sts.fail(*[HTML_500] * 200)
            monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
            monkeypatch.setenv("AWS_RETRY_MODE", "standard")
            make = botocore_client if which == "botocore" else our_client
            client = make("sts", region_name="eu-west-1", **KEYS)
            fresh = make("sts", region_name="eu-west-1", **KEYS)
            seen = []
            for c in [client] * 20 + [fresh]:
                call = functools.partial(c.assume_role, RoleArn=ROLE, RoleSessionName="quota")
                seen.append(_outcome(call, sts.url))
            outcomes[which] = (seen, len(sts.calls))
    assert outcomes["ours"] == outcomes["botocore"]
    seen, requests = outcomes["ours"]
    assert seen[17][3] == {"RetryAttempts": 1, "RetryQuotaReached": True}
    assert seen[18][3] == {"RetryAttempts": 0, "RetryQuotaReached": True}
    assert seen[20][3] == {"RetryAttempts": 2, "MaxAttemptsReached": True}
    assert requests == 17 * 3 + 2 + 1 + 1 + 3


def run_sso(which, script, mode, monkeypatch):
    with FakeSSO(valid_tokens={"access-valid"}) as sso:
        sso.fail(*script)
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", sso.url)
        monkeypatch.setenv("AWS_RETRY_MODE", mode)
        make = botocore_client if which == "botocore" else our_client
        client = make("sso", region_name="us-east-1", config={"unsigned": True})
        outcome = _outcome(
            lambda: client.get_role_credentials(
                roleName="r", accountId="123456789012", accessToken="access-valid"
            ),
            sso.url,
        )
        return outcome, [c.header("amz-sdk-request") for c in sso.calls]


def sso_error(status, code):
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
    return Reply(status, headers, json.dumps({"message": f"{code} happened"}).encode())


@pytest.mark.differential
@pytest.mark.parametrize("mode", ["legacy", "standard"])
@pytest.mark.parametrize(
    "script",
    [
        # STS's rule is STS's alone
        [sso_error(400, "IDPCommunicationError"), OK],
        # modeled by GetRoleCredentials: not a throttle by its status in standard mode
        [sso_error(429, "TooManyRequestsException"), OK],
        [sso_error(500, "InternalServerError"), OK],
        [Close(), Close(), Close()],
    ],
    ids=["idp", "modeled-429", "500", "closed"],
)
def test_sso_retries_match_botocore(monkeypatch, sleeps, script, mode):
    theirs = run_sso("botocore", script, mode, monkeypatch)
    ours = run_sso("ours", script, mode, monkeypatch)
    assert ours == theirs
    assert sleeps["ours"] == pytest.approx(sleeps["botocore"])


@pytest.mark.differential
def test_request_headers_are_botocores(monkeypatch):
    """The same header names on the wire as botocore's (SigV4 ones for STS, the bearer token
    for the portal), and no Content-Length on the portal's GET."""

    def names(req):
        return sorted(n.lower() for n in req.header_names())

    with FakeSTS() as sts, FakeSSO(valid_tokens={"t"}, refresh_tokens={"r": ("a", "b")}) as sso:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", sso.url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_OIDC", sso.url)
        for make in (botocore_client, our_client):
            make("sts", region_name="eu-west-1", aws_session_token="tok", **KEYS).assume_role(
                RoleArn=ROLE, RoleSessionName="headers"
            )
            make("sso", region_name="us-east-1", config={"unsigned": True}).get_role_credentials(
                roleName="r", accountId="1", accessToken="t"
            )
            make("sso-oidc", region_name="us-east-1", config={"unsigned": True}).create_token(
                clientId="c", clientSecret="s", grantType="refresh_token", refreshToken="r"
            )
        theirs_sts, ours_sts = sts.calls
        assert names(ours_sts) == names(theirs_sts)
        assert "x-amz-security-token" in names(ours_sts)
        theirs_get, theirs_post, ours_get, ours_post = sso.calls
        assert names(ours_get) == names(theirs_get) and "content-length" not in names(ours_get)
        assert names(ours_post) == names(theirs_post)
        assert ours_get.path == theirs_get.path and ours_post.body == theirs_post.body


def test_a_nested_client_keeps_its_connection(monkeypatch, sleeps):
    """Attempts and calls of one nested client share a kept-alive connection (its own pool),
    until it closes its connections."""
    with FakeSTS() as sts:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        client = our_client("sts", region_name="eu-west-1", **KEYS)
        sts.fail(sts_reply(400, "Throttling"))
        for _ in range(3):
            client.assume_role(RoleArn=ROLE, RoleSessionName="reuse")
        assert len(sts.calls) == 4
        assert len({c.conn_id for c in sts.calls}) == 1
        client._engine._close_connections()
        client.assume_role(RoleArn=ROLE, RoleSessionName="reuse")
        assert sts.calls[-1].conn_id != sts.calls[0].conn_id
        # Another client: another pool.
        our_client("sts", region_name="eu-west-1", **KEYS).assume_role(
            RoleArn=ROLE, RoleSessionName="reuse"
        )
        assert len({c.conn_id for c in sts.calls}) == 3


def test_nested_has_no_retry_loop_of_its_own():
    """The retry policy lives in csrc/retry.c only: _nested has no retry rules, backoff,
    jitter or loop, and its clients' calls go through the C core's NestedClient."""
    for name in (
        "_backoff",
        "_retryable",
        "_throttled",
        "_LEGACY_THROTTLES",
        "_STANDARD_THROTTLES",
        "_STANDARD_TRANSIENT_CODES",
    ):
        assert not hasattr(_nested, name), name
    tree = ast.parse(inspect.getsource(_nested))
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.While, ast.AsyncFor))]
    imported = {
        alias.name
        for n in ast.walk(tree)
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for alias in n.names
    }
    assert not imported & {"random", "time", "sign_request", "send"}
    call = ast.parse(textwrap.dedent(inspect.getsource(_nested.NestedClient._call)))
    assert not [n for n in ast.walk(call) if isinstance(n, (ast.For, ast.While))]
    client = _nested.NestedClient(_nested.resolve(Session(), "sts", region_name="eu-west-1"))
    client._engine, _ = _nested._engine(client._settings)
    assert type(client._engine).__name__ == "NestedClient"
    assert type(client._engine).__module__ == "sagemaker_rt_c._core"
    assert hasattr(type(client._engine), "call")


def test_no_python_transport_or_signer(monkeypatch):
    from sagemaker_rt_c import auth
    from sagemaker_rt_c._transport import http as _http

    def refuse(*args, **kwargs):
        raise AssertionError("the Python transport or signer was used")

    monkeypatch.setattr(_http, "send", refuse)
    monkeypatch.setattr(auth, "sign_request", refuse)
    monkeypatch.setattr(_core, "sign_request", refuse)
    with FakeSTS() as sts:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        result = our_client("sts", region_name="eu-west-1", **KEYS).assume_role(
            RoleArn=ROLE, RoleSessionName="c-only"
        )
        assert result["Credentials"]["AccessKeyId"].startswith("ASIA")
        assert "/eu-west-1/sts/aws4_request" in sts.calls[0].header("authorization")


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append((record.name, record.getMessage()))


def test_each_attempt_is_logged_from_the_cores_report(monkeypatch, sleeps):
    handler = _Records()
    top = logging.getLogger("sagemaker_rt_c")
    old_level = top.level
    top.addHandler(handler)
    top.setLevel(logging.DEBUG)
    try:
        with FakeSTS() as sts:
            sts.fail(IDP_400, Close())
            monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
            our_client("sts", region_name="eu-west-1", **KEYS).assume_role(
                RoleArn=ROLE, RoleSessionName="logged"
            )
            url = sts.url
    finally:
        top.removeHandler(handler)
        top.setLevel(old_level)
    lines = [(name, text.replace(url, "<url>")) for name, text in handler.lines]
    endpoint, decisions = "sagemaker_rt_c.endpoint", "sagemaker_rt_c.retries.standard"
    assert lines == [
        (
            endpoint,
            "Making request for OperationModel(name=AssumeRole) with params: "
            "{'method': 'POST', 'url': '<url>/', 'body': <124 bytes, not logged>}",
        ),
        (
            endpoint,
            "Response received (attempt 1 of 3): HTTP 400, error code: IDPCommunicationError",
        ),
        (decisions, "Retryable: error code IDPCommunicationError is retried for STS."),
        (decisions, "Retry needed, retrying request after delay of: 0.025"),
        (endpoint, "Response received to retry, sleeping for 0.025 seconds"),
        (
            endpoint,
            "No response (attempt 2 of 3): ConnectionClosedError: Connection was closed before "
            'we received a valid response from endpoint URL: "<url>/".',
        ),
        (decisions, "Retryable: ConnectionClosedError is a transient error."),
        (decisions, "Retry needed, retrying request after delay of: 0.05"),
        (endpoint, "Response received to retry, sleeping for 0.05 seconds"),
        (endpoint, "Response received (attempt 3 of 3): HTTP 200"),
        (decisions, "Max attempts of 3 reached."),
        (decisions, "Not retrying request."),
    ]


def test_a_refused_header_fails_every_attempt_unsent(monkeypatch, sleeps):
    """A bearer token with a line break: urllib3 refuses it before sending, botocore retries
    that HTTPClientError (standard: 3 attempts), and nothing reaches the portal."""
    handler = _Records()
    logger = logging.getLogger("sagemaker_rt_c.endpoint")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        with FakeSSO() as sso:
            monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", sso.url)
            client = our_client("sso", region_name="us-east-1", config={"unsigned": True})
            with pytest.raises(sagemaker_rt_c.exceptions.HTTPClientError) as info:
                client.get_role_credentials(roleName="r", accountId="1", accessToken="a\nb")
            assert sso.calls == []
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert "x-amz-sso_bearer_token (value not shown)" in str(info.value)
    assert "a\nb" not in str(info.value)
    unsent = [t for _, t in handler.lines if t.startswith("No response (attempt ")]
    assert [t.split(":")[0] for t in unsent] == [
        f"No response (attempt {n} of 3)" for n in (1, 2, 3)
    ]
    assert len(sleeps["ours"]) == 2


# --- Ctrl-C -----------------------------------------------------------------------------------

CHILD = (
    r"""
import json, os, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
from sagemaker_rt_c.credentials._providers import create_nested_client
from sagemaker_rt_c.session import Session

def say(**kw):
    print(json.dumps(kw), flush=True)

client = create_nested_client(
    Session(), "sts", region_name="eu-west-1",
    aws_access_key_id="AKIDSOURCE", aws_secret_access_key="sourcesecret",
)
call = lambda: client.assume_role(RoleArn=%r, RoleSessionName="ctrl-c")
say(event="calling")
try:
    call()
except BaseException as e:
    say(event="caught", type=type(e).__name__, at=time.monotonic())
else:
    say(event="caught", type=None, at=time.monotonic())
sys.stdin.readline()
t0 = time.monotonic()
try:
    key = call()["Credentials"]["AccessKeyId"]
    say(event="after", key=key, seconds=time.monotonic() - t0)
except BaseException as e:
    say(event="after", error=repr(e))
"""
    % ROLE
)


def _child_env(sts_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    root = os.path.dirname(os.path.dirname(os.path.abspath(sagemaker_rt_c.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    env.update(
        AWS_ENDPOINT_URL_STS=sts_url,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_RETRY_MODE="standard",
        AWS_MAX_ATTEMPTS="3",
    )
    return env


def _readline(proc, timeout):
    import select

    deadline = time.monotonic() + timeout
    buf = b""
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        # poll, not select: late in a long run the pipe's descriptor can be past FD_SETSIZE.
        poller = select.poll()
        poller.register(proc.stdout, select.POLLIN)
        if left <= 0 or not poller.poll(left * 1000):
            raise AssertionError(f"child silent for {timeout}s; got {buf!r}")
        ch = os.read(proc.stdout.fileno(), 1)
        if not ch:
            raise AssertionError(f"child ended early; got {buf!r}: {proc.stderr.read()!r}")
        buf += ch
    return json.loads(buf)


@pytest.mark.parametrize(
    "first",
    [
        # standard mode: x-amz-retry-after 8 s makes the backoff ~5 s (t + 5, capped)
        pytest.param(
            sts_reply(503, "ServiceUnavailable", [("x-amz-retry-after", "8000")]), id="backoff"
        ),
        pytest.param(Delay(8, Reply(200)), id="waiting-for-the-answer"),
    ],
)
def test_ctrl_c_ends_an_sts_call(first):
    with FakeSTS() as sts:
        sts.fail(first)
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_env(sts.url),
        )
        try:
            assert _readline(proc, 30)["event"] == "calling"
            time.sleep(0.7)
            sent = time.monotonic()
            os.kill(proc.pid, signal.SIGINT)
            caught = _readline(proc, 20)
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
            after = _readline(proc, 30)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for f in (proc.stdin, proc.stdout, proc.stderr):
                f.close()
        assert caught["type"] == "KeyboardInterrupt", caught
        assert caught["at"] - sent <= 0.2, f"KeyboardInterrupt {caught['at'] - sent:.3f}s after"
        # The same client works at once; the interrupted backoff never sent its retry.
        assert after.get("key", "").startswith("ASIA"), after
        assert after["seconds"] < 2
        assert len(sts.calls) == 2
