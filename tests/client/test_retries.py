"""Retry behaviour, boto3 against sagemaker_rt_c (docs/retries.md is the specification).

Every test runs once per client through ``make_client``; both must meet the same expectations,
which were derived from botocore 1.44.8 and checked against it. Nothing here really sleeps:

* boto3: the jitter draws are patched (``random.random`` for legacy mode, the default argument
  ``ExponentialBackoff`` bound at import time for standard/adaptive), ``time.sleep`` in
  ``botocore.endpoint`` is recorded, and the adaptive token bucket runs on a virtual clock
  whose condition-variable waits are recorded instead of waited.
* sagemaker_rt_c: the private hooks ``client._random`` (a callable returning a float in
  [0, 1), used for every jitter draw) and ``client._sleep`` (called with every delay, backoff
  or rate-limiter wait, instead of sleeping).

Timeout scenarios use ``read_timeout=1``; the server stalls for 3 s so that a timeout
resolution of about a second still times out.
"""

import io
import json
import re
import socket
import threading
import time
import types

import pytest
from servers import Close, Delay, Partial, Reply, Reset

pytestmark = pytest.mark.differential

ENDPOINT_PATH = "/endpoints/ep/invocations"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MODELED = {
    "InternalFailure",
    "ServiceUnavailable",
    "ValidationError",
    "ModelError",
    "InternalDependencyException",
    "ModelNotReadyException",
}
RETRY_KEYS = ("RetryAttempts", "MaxAttemptsReached", "RetryQuotaReached")
STALL = 3.0  # server delay for read-timeout scenarios (read_timeout=1)
ADAPTIVE_MAX_WAIT = 2.0  # one token at the bucket's minimum fill rate (0.5/s)


# --------------------------------------------------------------------------- helpers


def err(status, code=None, message="boom", headers=()):
    """A rest-json error reply; without ``code`` botocore falls back to the status as code."""
    hdrs = [("Content-Type", "application/json"), ("x-amzn-RequestId", "req-1")]
    if code is not None:
        hdrs.append(("x-amzn-ErrorType", code))
    hdrs.extend(headers)
    return Reply(status, hdrs, json.dumps({"message": message}).encode())


def ok(body=b'{"prediction": 1}'):
    return Reply(200, [("Content-Type", "application/json"), ("x-amzn-RequestId", "req-2")], body)


def invoke(client, **kw):
    kw.setdefault("EndpointName", "ep")
    kw.setdefault("Body", b"x")
    return client.invoke_endpoint(**kw)


def retry_md(metadata):
    """The retry-related keys of ResponseMetadata, absent keys left out."""
    return {k: metadata[k] for k in RETRY_KEYS if k in metadata}


def call(client, **kw):
    """(response, None) or (None, exception)."""
    try:
        return invoke(client, **kw), None
    except Exception as e:  # noqa: BLE001 - both clients' exceptions are compared by name
        return None, e


def expect_success(client, retry_metadata, **kw):
    resp, e = call(client, **kw)
    assert e is None, f"unexpected {type(e).__name__}: {e}"
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert retry_md(resp["ResponseMetadata"]) == retry_metadata
    resp["Body"].read()
    return resp


def expect_client_error(client, code, status, message, retry_metadata, **kw):
    resp, e = call(client, **kw)
    assert resp is None, "expected a ClientError, got a response"
    assert type(e).__name__ == (code if code in MODELED else "ClientError")
    assert str(e) == message
    assert e.response["Error"]["Code"] == code
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert retry_md(e.response["ResponseMetadata"]) == retry_metadata
    return e


def expect_exception(client, name, message=None, **kw):
    resp, e = call(client, **kw)
    assert resp is None, f"expected {name}, got a response"
    assert type(e).__name__ == name, f"{type(e).__name__}: {e}"
    assert not hasattr(e, "response") or not isinstance(e.response, dict)
    if message is not None:
        assert str(e) == message
    return e


def error_message(code, suffix="", message="boom"):
    return (
        f"An error occurred ({code}) when calling the InvokeEndpoint operation{suffix}: {message}"
    )


def reached(n):
    return f" (reached max retries: {n})"


def sdk_request_values(attempts, max_attempts, ttls=None, mode="standard"):
    """amz-sdk-request per attempt: attempt 1 never carries ``ttl``, and carries ``max`` except
    in legacy mode (botocore 1.44 seeds it in standard and adaptive modes)."""
    out = []
    for i in range(1, attempts + 1):
        if i == 1:
            out.append("attempt=1" if mode == "legacy" else f"attempt=1; max={max_attempts}")
            continue
        ttl = ttls[i - 1] if ttls else None
        prefix = f"ttl={ttl}; " if ttl else ""
        out.append(f"{prefix}attempt={i}; max={max_attempts}")
    return out


def check_wire(server, attempts, max_attempts, body=b"x", ttls=None, mode="standard"):
    """The server saw ``attempts`` requests of one call: headers, invocation id, body."""
    reqs = server.requests
    assert len(reqs) == attempts
    assert [r.header("amz-sdk-request") for r in reqs] == sdk_request_values(
        attempts, max_attempts, ttls, mode
    )
    ids = {r.header("amz-sdk-invocation-id") for r in reqs}
    assert len(ids) == 1
    assert UUID4.match(ids.pop())
    for r in reqs:
        assert r.method == "POST"
        assert r.path == ENDPOINT_PATH
        assert r.body == body
        assert r.header("Content-Length") == str(len(body))


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def flavour(make_client):
    return "boto3" if make_client.__name__ == "make_boto3" else "ours"


@pytest.fixture
def config(flavour):
    """Config(**kw) of the client under test: botocore's for boto3, ours for ours."""
    if flavour == "boto3":
        from botocore.config import Config
    else:
        from sagemaker_rt_c import Config
    return Config


class _TimeShim:
    """Stands in for the ``time`` module inside one botocore module."""

    def __init__(self, **overrides):
        self.__dict__.update(overrides)

    def __getattr__(self, name):
        return getattr(time, name)


class Timing:
    """Jitter draws and sleeps of the client under test.

    ``values`` are returned by the jitter source in turn (cycling); ``delays`` records every
    sleep in order: backoff sleeps and adaptive rate-limiter waits alike.
    """

    def __init__(self, flavour, monkeypatch):
        self.flavour = flavour
        self.values = [0.0]
        self.draws = 0
        self.delays = []
        self.now = 1000.0  # boto3's virtual wall clock for the adaptive limiter
        if flavour == "boto3":
            self._patch_botocore(monkeypatch)

    def random(self):
        v = self.values[self.draws % len(self.values)]
        self.draws += 1
        return v

    def sleep(self, seconds):
        assert len(self.delays) < 5000, "runaway sleeping"
        self.delays.append(seconds)
        # 1 ns more, so a float remainder can't make a token-bucket wait loop forever.
        self.now += seconds + 1e-9

    def attach(self, client):
        """Install the hooks on ``client`` (ours; boto3 is patched at fixture set-up)."""
        if self.flavour == "ours":
            client._random = self.random
            client._sleep = self.sleep
        return client

    def _patch_botocore(self, monkeypatch):
        import random

        import botocore.endpoint
        from botocore.retries import bucket, standard

        timing = self
        # legacy: retryhandler.delay_exponential calls random.random() at each retry.
        monkeypatch.setattr(random, "random", self.random)
        # standard/adaptive: ExponentialBackoff(random=random.random) was bound at import.
        init = standard.ExponentialBackoff.__init__
        names = init.__code__.co_varnames[1 : init.__code__.co_argcount]
        defaults = list(init.__defaults__)
        defaults[names.index("random") - (len(names) - len(defaults))] = self.random
        monkeypatch.setattr(init, "__defaults__", tuple(defaults))
        # Endpoint._needs_retry: time.sleep(delay).
        monkeypatch.setattr(botocore.endpoint, "time", _TimeShim(sleep=self.sleep))

        # adaptive: Clock.current_time() is time.time(); TokenBucket waits on a Condition.
        class _Condition(threading.Condition):
            def wait(self, timeout=None):
                timing.sleep(timeout)
                return False

        monkeypatch.setattr(bucket, "time", _TimeShim(time=lambda: timing.now))
        monkeypatch.setattr(
            bucket,
            "threading",
            types.SimpleNamespace(Lock=threading.Lock, Condition=_Condition),
        )


@pytest.fixture
def timing(flavour, monkeypatch):
    """Set up before the client is made: boto3 binds its jitter source at construction."""
    return Timing(flavour, monkeypatch)


@pytest.fixture
def no_backoff(timing):
    """``no_backoff(client)``: every jitter draw is 0 and no sleep really happens."""
    timing.values = [0.0]
    return timing.attach


# --------------------------------------------------------------------------- sanity


def test_boto3_is_the_release_these_expectations_follow():
    """botocore 1.44 made 1.43's opt-in retry behaviour (AWS_NEW_RETRIES_2026) the only one."""
    import botocore
    from botocore import configprovider

    assert botocore.__version__ == "1.44.8"
    assert configprovider.NEW_RETRIES_ENABLED is True


# --------------------------------------------------------------------------- mode and attempts


@pytest.mark.parametrize("switch", [None, "false", "true"])
def test_default_is_standard_with_three_attempts(
    make_client, server, no_backoff, monkeypatch, switch
):
    """AWS_NEW_RETRIES_2026 no longer changes anything: standard is the default either way."""
    if switch is not None:
        monkeypatch.setenv("AWS_NEW_RETRIES_2026", switch)
    client = no_backoff(make_client(endpoint_url=server.url))
    server.queue(*[err(500, "InternalFailure")] * 3)
    expect_client_error(
        client,
        "InternalFailure",
        500,
        error_message("InternalFailure", reached(2)),
        {"RetryAttempts": 2, "MaxAttemptsReached": True},
    )
    check_wire(server, 3, 3)


RESOLUTION = [
    # (environment, Config retries, behaviour family, total attempts); adaptive retries as standard
    ({}, None, "standard", 3),
    ({}, {"mode": "legacy"}, "legacy", 5),
    ({}, {"mode": "standard"}, "standard", 3),
    ({}, {"mode": "adaptive"}, "standard", 3),
    ({"AWS_RETRY_MODE": "standard"}, None, "standard", 3),
    ({"AWS_RETRY_MODE": "adaptive"}, None, "standard", 3),
    ({"AWS_RETRY_MODE": "standard"}, {"mode": "legacy"}, "legacy", 5),
    ({"AWS_MAX_ATTEMPTS": "2"}, None, "standard", 2),
    ({"AWS_RETRY_MODE": "legacy", "AWS_MAX_ATTEMPTS": "2"}, None, "legacy", 2),
    ({"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "4"}, None, "standard", 4),
    ({"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "4"}, {"mode": "legacy"}, "legacy", 4),
    ({"AWS_MAX_ATTEMPTS": "4"}, {"max_attempts": 1}, "standard", 2),
    ({"AWS_MAX_ATTEMPTS": "4"}, {"mode": "standard", "total_max_attempts": 2}, "standard", 2),
    ({}, {"max_attempts": 0}, "standard", 1),
    ({}, {"mode": "legacy", "max_attempts": 0}, "legacy", 1),
    ({}, {"mode": "standard", "max_attempts": 0}, "standard", 1),
    ({}, {"mode": "standard", "total_max_attempts": 1}, "standard", 1),
    ({}, {"max_attempts": 5, "total_max_attempts": 2}, "standard", 2),
    ({}, {"mode": "standard", "max_attempts": 4}, "standard", 5),
    ({"AWS_DEFAULTS_MODE": "standard"}, None, "standard", 3),
    ({"AWS_DEFAULTS_MODE": "standard", "AWS_RETRY_MODE": "legacy"}, None, "legacy", 5),
    ({"AWS_DEFAULTS_MODE": "legacy"}, None, "standard", 3),
]


@pytest.mark.parametrize("env,retries,family,total", RESOLUTION)
def test_mode_and_max_attempts_resolution(
    make_client, server, no_backoff, config, monkeypatch, env, retries, family, total
):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    cfg = config(retries=retries) if retries is not None else None
    client = no_backoff(make_client(endpoint_url=server.url, config=cfg))

    # Success on the last allowed attempt: standard flags MaxAttemptsReached, legacy doesn't.
    server.queue(*[err(500, "InternalFailure")] * (total - 1))
    md = {"RetryAttempts": total - 1}
    if family == "standard":
        md["MaxAttemptsReached"] = True
    expect_success(client, md)
    check_wire(server, total, total, mode=family)

    # Exhaustion: exactly ``total`` requests.
    server.clear()
    server.queue(*[err(500, "InternalFailure")] * (total + 1))
    expect_client_error(
        client,
        "InternalFailure",
        500,
        error_message("InternalFailure", reached(total - 1)),
        {"RetryAttempts": total - 1, "MaxAttemptsReached": True},
    )
    check_wire(server, total, total, mode=family)


INVALID_ENV = [
    (
        {"AWS_RETRY_MODE": "bogus"},
        "InvalidRetryModeError",
        'Invalid value provided to "mode": "bogus" must be one of: '
        "('legacy', 'standard', 'adaptive')",
    ),
    (
        {"AWS_RETRY_MODE": "Standard"},
        "InvalidRetryModeError",
        'Invalid value provided to "mode": "Standard" must be one of: '
        "('legacy', 'standard', 'adaptive')",
    ),
    (
        {"AWS_MAX_ATTEMPTS": "0"},
        "InvalidMaxRetryAttemptsError",
        'Value provided to "max_attempts": 0 must be an integer greater than or equal to 1.',
    ),
    (
        {"AWS_MAX_ATTEMPTS": "-3"},
        "InvalidMaxRetryAttemptsError",
        'Value provided to "max_attempts": -3 must be an integer greater than or equal to 1.',
    ),
    ({"AWS_MAX_ATTEMPTS": "abc"}, "ValueError", "invalid literal for int() with base 10: 'abc'"),
]


@pytest.mark.parametrize("env,name,message", INVALID_ENV)
def test_invalid_environment_fails_client_creation(
    make_client, server, monkeypatch, env, name, message
):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(Exception) as info:
        make_client(endpoint_url=server.url)
    assert type(info.value).__name__ == name
    assert str(info.value) == message
    assert server.requests == []


INVALID_CONFIG = [
    (
        {"mode": "bogus"},
        "InvalidRetryModeError",
        'Invalid value provided to "mode": "bogus" must be one of: '
        "('legacy', 'standard', 'adaptive')",
    ),
    (
        {"max_attempts": -1},
        "InvalidMaxRetryAttemptsError",
        'Value provided to "max_attempts": -1 must be an integer greater than or equal to 0.',
    ),
    (
        {"total_max_attempts": 0},
        "InvalidMaxRetryAttemptsError",
        'Value provided to "max_attempts": 0 must be an integer greater than or equal to 1.',
    ),
    (
        {"foo": 1},
        "InvalidRetryConfigurationError",
        'Cannot provide retry configuration for "foo". Valid retry configuration options are: '
        "('max_attempts', 'mode', 'total_max_attempts')",
    ),
]


@pytest.mark.parametrize("retries,name,message", INVALID_CONFIG)
def test_invalid_retry_config(make_client, config, retries, name, message):
    with pytest.raises(Exception) as info:
        config(retries=retries)
    assert type(info.value).__name__ == name
    assert str(info.value) == message


# --------------------------------------------------------------------------- what is retried

# (status, error code or None, retried in legacy, retried in standard/adaptive)
RETRYABILITY = [
    (500, "InternalFailure", True, True),
    (502, None, True, True),
    (503, "ServiceUnavailable", True, True),
    (504, None, True, True),
    (500, "ValidationError", True, True),  # the status decides, whatever the code
    (509, None, True, False),
    (429, "ModelNotReadyException", True, False),
    (429, None, True, True),  # 1.44: a 429 no modeled error covers is throttling
    (429, "SomethingElse", True, True),
    (429, "ThrottlingException", True, True),
    (400, "ThrottlingException", True, True),
    (403, "ThrottlingException", False, True),  # legacy pairs each code with status 400
    (400, "Throttling", True, True),
    (400, "ThrottledException", True, True),
    (400, "RequestThrottledException", True, True),
    (400, "ProvisionedThroughputExceededException", True, True),
    (400, "TooManyRequestsException", False, True),
    (400, "SlowDown", False, True),
    (400, "RequestLimitExceeded", False, True),
    (400, "LimitExceededException", False, True),
    (400, "PriorRequestNotComplete", False, True),
    (400, "RequestTimeout", False, True),
    (408, "RequestTimeoutException", False, True),
    (400, "ValidationError", False, False),
    (424, "ModelError", False, False),
    (530, "InternalDependencyException", False, False),
    (501, None, False, False),
    (408, None, False, False),
    (404, None, False, False),
]


@pytest.mark.parametrize("mode", ["legacy", "standard", "adaptive"])
@pytest.mark.parametrize("status,code,legacy,standard", RETRYABILITY)
def test_which_errors_are_retried(
    make_client, server, no_backoff, config, mode, status, code, legacy, standard
):
    client = no_backoff(make_client(endpoint_url=server.url, config=config(retries={"mode": mode})))
    server.queue(err(status, code), ok())
    retried = legacy if mode == "legacy" else standard
    max_attempts = 5 if mode == "legacy" else 3
    if retried:
        expect_success(client, {"RetryAttempts": 1})
        check_wire(server, 2, max_attempts, mode=mode)
    else:
        shown = code if code is not None else str(status)
        expect_client_error(client, shown, status, error_message(shown), {"RetryAttempts": 0})
        check_wire(server, 1, max_attempts, mode=mode)


@pytest.mark.parametrize("mode,max_attempts", [("legacy", 5), ("standard", 3), ("adaptive", 3)])
@pytest.mark.parametrize("failure", ["reset", "close"])
def test_connection_failure_then_success(
    make_client, server, no_backoff, config, mode, max_attempts, failure
):
    client = no_backoff(make_client(endpoint_url=server.url, config=config(retries={"mode": mode})))
    server.queue(Reset() if failure == "reset" else Close(), ok())
    expect_success(client, {"RetryAttempts": 1})
    check_wire(server, 2, max_attempts, mode=mode)


@pytest.mark.parametrize("mode,max_attempts", [("legacy", 5), ("standard", 3), ("adaptive", 3)])
@pytest.mark.parametrize("failure", ["reset", "close"])
def test_connection_failure_exhaustion(
    make_client, server, no_backoff, config, mode, max_attempts, failure
):
    client = no_backoff(make_client(endpoint_url=server.url, config=config(retries={"mode": mode})))
    server.queue(*[Reset() if failure == "reset" else Close()] * max_attempts)
    expect_exception(
        client,
        "ConnectionClosedError",
        "Connection was closed before we received a valid response from endpoint URL: "
        f'"{server.url}{ENDPOINT_PATH}".',
    )
    check_wire(server, max_attempts, max_attempts, mode=mode)


@pytest.mark.slow
@pytest.mark.parametrize("mode,max_attempts", [("legacy", 5), ("standard", 3)])
def test_read_timeout_then_success_resends_the_inference(
    make_client, server, no_backoff, config, mode, max_attempts
):
    body = b'{"instances": [[1, 2, 3]]}'
    client = no_backoff(
        make_client(endpoint_url=server.url, config=config(retries={"mode": mode}, read_timeout=1))
    )
    server.queue(Delay(STALL, ok()), ok())
    expect_success(client, {"RetryAttempts": 1}, Body=body, ContentType="application/json")
    check_wire(server, 2, max_attempts, body=body, mode=mode)
    assert server.requests[0].header("Content-Type") == "application/json"
    assert server.requests[1].header("Content-Type") == "application/json"


@pytest.mark.slow
def test_read_timeout_exhaustion(make_client, server, no_backoff, config):
    cfg = config(retries={"mode": "standard", "total_max_attempts": 2}, read_timeout=1)
    client = no_backoff(make_client(endpoint_url=server.url, config=cfg))
    server.queue(Delay(STALL, ok()), Delay(STALL, ok()))
    expect_exception(
        client, "ReadTimeoutError", f'Read timeout on endpoint URL: "{server.url}{ENDPOINT_PATH}"'
    )
    check_wire(server, 2, 2)


@pytest.mark.parametrize(
    "mode,delays", [("legacy", [0.5, 1.0, 2.0, 4.0]), ("standard", [0.025, 0.05])]
)
def test_connection_refused_is_retried(make_client, timing, config, mode, delays):
    timing.values = [0.5]
    url = f"http://127.0.0.1:{closed_port()}"
    client = timing.attach(make_client(endpoint_url=url, config=config(retries={"mode": mode})))
    expect_exception(
        client,
        "EndpointConnectionError",
        f'Could not connect to the endpoint URL: "{url}{ENDPOINT_PATH}"',
    )
    assert timing.delays == delays


@pytest.mark.parametrize("mode", ["legacy", "standard"])
def test_truncated_error_body_is_parsed_and_retried(make_client, server, no_backoff, config, mode):
    # botocore 1.44 reads with enforce_content_length=False: an error body cut short by a clean
    # close is parsed from what arrived (here not JSON: the status is the code, the text the
    # message) and retried by the usual rules.
    client = no_backoff(make_client(endpoint_url=server.url, config=config(retries={"mode": mode})))
    server.queue(Partial(100, b'{"message"', status=500), ok())
    expect_success(client, {"RetryAttempts": 1})
    assert len(server.requests) == 2
    server.clear()
    server.queue(Partial(100, b"too lar", status=413))
    expect_client_error(
        client, "413", 413, error_message("413", message="too lar"), {"RetryAttempts": 0}
    )


@pytest.mark.parametrize("mode", ["legacy", "standard"])
def test_truncated_success_body_is_not_retried(make_client, server, no_backoff, config, mode):
    client = no_backoff(make_client(endpoint_url=server.url, config=config(retries={"mode": mode})))
    server.queue(Partial(100, b"0123456789"), ok())
    resp, e = call(client)
    assert e is None
    assert retry_md(resp["ResponseMetadata"]) == {"RetryAttempts": 0}
    with pytest.raises(Exception) as info:
        resp["Body"].read()
    assert type(info.value).__name__ == "ResponseStreamingError"
    assert len(server.requests) == 1


# --------------------------------------------------------------------------- what the caller sees


@pytest.mark.parametrize(
    "mode,max_attempts,md",
    [
        ("legacy", 5, {"RetryAttempts": 4, "MaxAttemptsReached": True}),
        ("standard", 3, {"RetryAttempts": 2, "MaxAttemptsReached": True}),
        ("adaptive", 3, {"RetryAttempts": 2, "MaxAttemptsReached": True}),
    ],
)
@pytest.mark.parametrize(
    "status,code",
    [(500, "InternalFailure"), (503, "ServiceUnavailable"), (400, "ThrottlingException")],
)
def test_exhaustion(make_client, server, no_backoff, config, mode, max_attempts, md, status, code):
    client = no_backoff(make_client(endpoint_url=server.url, config=config(retries={"mode": mode})))
    server.queue(*[err(status, code)] * max_attempts)
    n = md["RetryAttempts"]
    expect_client_error(client, code, status, error_message(code, reached(n)), md)
    check_wire(server, max_attempts, max_attempts, mode=mode)


@pytest.mark.parametrize(
    "mode,md",
    [
        ("legacy", {"RetryAttempts": 2}),
        ("standard", {"RetryAttempts": 2, "MaxAttemptsReached": True}),
        ("adaptive", {"RetryAttempts": 2, "MaxAttemptsReached": True}),
    ],
)
def test_success_on_the_last_attempt(make_client, server, no_backoff, config, mode, md):
    cfg = config(retries={"mode": mode, "total_max_attempts": 3})
    client = no_backoff(make_client(endpoint_url=server.url, config=cfg))
    server.queue(err(500, "InternalFailure"), err(502), ok())
    expect_success(client, md)
    check_wire(server, 3, 3, mode=mode)


@pytest.mark.parametrize(
    "mode,suffix,md",
    [
        ("legacy", "", {"RetryAttempts": 1}),
        ("standard", reached(1), {"RetryAttempts": 1, "MaxAttemptsReached": True}),
    ],
)
def test_non_retryable_error_on_the_last_attempt(
    make_client, server, no_backoff, config, mode, suffix, md
):
    cfg = config(retries={"mode": mode, "total_max_attempts": 2})
    client = no_backoff(make_client(endpoint_url=server.url, config=cfg))
    server.queue(err(500, "InternalFailure"), err(400, "ValidationError"))
    expect_client_error(
        client, "ValidationError", 400, error_message("ValidationError", suffix), md
    )
    check_wire(server, 2, 2, mode=mode)


def test_invocation_id_is_per_call(make_client, server, no_backoff):
    client = no_backoff(make_client(endpoint_url=server.url))
    server.queue(err(500, "InternalFailure"), ok(), err(503, "ServiceUnavailable"), ok())
    expect_success(client, {"RetryAttempts": 1})
    expect_success(client, {"RetryAttempts": 1})
    ids = [r.header("amz-sdk-invocation-id") for r in server.requests]
    assert ids[0] == ids[1]
    assert ids[2] == ids[3]
    assert ids[0] != ids[2]
    assert all(UUID4.match(i) for i in ids)
    assert [r.header("amz-sdk-request") for r in server.requests] == [
        "attempt=1; max=3",
        "attempt=2; max=3",
        "attempt=1; max=3",
        "attempt=2; max=3",
    ]


@pytest.mark.parametrize("mode,max_attempts", [("legacy", 4), ("standard", 4)])
def test_ttl_from_the_date_header(make_client, server, no_backoff, config, mode, max_attempts):
    """ttl = response Date + read_timeout, kept until a later response carries a Date."""
    cfg = config(retries={"mode": mode, "total_max_attempts": max_attempts}, read_timeout=7)
    client = no_backoff(make_client(endpoint_url=server.url, config=cfg))
    server.queue(
        err(500, "InternalFailure", headers=[("Date", "Mon, 01 Jan 2024 00:00:00 GMT")]),
        err(500, "InternalFailure"),
        err(503, "ServiceUnavailable", headers=[("Date", "Sun, 30 Jun 2024 23:59:58 GMT")]),
        ok(),
    )
    md = {"RetryAttempts": 3}
    if mode == "standard":
        md["MaxAttemptsReached"] = True
    expect_success(client, md)
    check_wire(
        server,
        4,
        max_attempts,
        ttls=[None, "20240101T000007Z", "20240101T000007Z", "20240701T000005Z"],
        mode=mode,
    )


@pytest.mark.slow
def test_ttl_is_taken_after_the_backoff_sleep(make_client, server, config):
    """botocore reads both clocks of the ttl after sleeping (endpoint.py _set_ttl): a real
    1.5 s x-amz-retry-after wait does not move the ttl."""
    cfg = config(retries={"mode": "standard", "total_max_attempts": 2}, read_timeout=7)
    client = make_client(endpoint_url=server.url, config=cfg)
    server.queue(
        err(
            500,
            "InternalFailure",
            headers=[("Date", "Mon, 01 Jan 2024 00:00:00 GMT"), ("x-amz-retry-after", "1500")],
        ),
        ok(),
    )
    expect_success(client, {"RetryAttempts": 1, "MaxAttemptsReached": True})
    check_wire(server, 2, 2, ttls=[None, "20240101T000007Z"])


@pytest.mark.parametrize("mode", ["legacy", "standard"])
def test_retry_resends_the_same_request(make_client, server, no_backoff, config, mode):
    body = bytes(range(256)) * 4
    client = no_backoff(make_client(endpoint_url=server.url, config=config(retries={"mode": mode})))
    server.queue(err(500, "InternalFailure"), ok())
    expect_success(
        client,
        {"RetryAttempts": 1},
        Body=body,
        ContentType="application/octet-stream",
        Accept="application/json",
        CustomAttributes="c=1",
        TargetVariant="v1",
    )
    first, second = server.requests
    assert first.body == second.body == body
    varying = {"amz-sdk-request", "x-amz-date", "authorization"}
    assert [(k, v) for k, v in first.headers if k.lower() not in varying] == [
        (k, v) for k, v in second.headers if k.lower() not in varying
    ]
    first_header = "attempt=1" if mode == "legacy" else "attempt=1; max=3"
    assert first.header("amz-sdk-request") == first_header
    assert second.header("amz-sdk-invocation-id") == first.header("amz-sdk-invocation-id")


def test_seekable_body_is_rewound_to_zero(make_client, server, no_backoff, config):
    """botocore rewinds a file-like Body with seek(0), not to where it started; ours re-sends
    what the first attempt sent."""
    client = no_backoff(
        make_client(endpoint_url=server.url, config=config(retries={"mode": "standard"}))
    )
    stream = io.BytesIO(b"hello world")
    stream.seek(6)
    server.queue(err(500, "InternalFailure"), ok())
    expect_success(client, {"RetryAttempts": 1}, Body=stream)
    if make_client.__name__ == "make_boto3":
        assert [r.body for r in server.requests] == [b"world", b"hello world"]
        assert [r.header("Content-Length") for r in server.requests] == ["5", "11"]
    else:
        # Deliberate difference (README): a retry re-sends the very bytes of the first attempt.
        assert [r.body for r in server.requests] == [b"world", b"world"]
        assert [r.header("Content-Length") for r in server.requests] == ["5", "5"]


# --------------------------------------------------------------------------- backoff


# random() = 0.5; every error response carries x-amz-retry-after: 3000 (3 s).
LEGACY_AT_HALF = [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]  # no cap, retry-after ignored
# standard/adaptive: t = 0.5 * min(scale * 2**i, 20), scale 1 for throttling, else 0.05; a
# retry-after raises the delay to min(retry_after, t + 5), never lowers it.
THROTTLE_AT_HALF = [3.0, 3.0, 3.0, 4.0, 8.0, 10.0, 10.0]
BACKOFF_AT_HALF = {
    ("legacy", "500"): LEGACY_AT_HALF,
    ("legacy", "throttle"): LEGACY_AT_HALF,
    ("legacy", "429"): LEGACY_AT_HALF,
    ("legacy", "reset"): LEGACY_AT_HALF,
    ("standard", "500"): [3.0] * 7,
    ("standard", "throttle"): THROTTLE_AT_HALF,
    ("standard", "429"): THROTTLE_AT_HALF,  # a 429 no modeled error covers throttles
    ("standard", "reset"): [0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6],  # no response, no retry-after
    ("adaptive", "500"): [3.0] * 7,  # throttles: see the adaptive tests
    ("adaptive", "reset"): [0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6],
}


@pytest.mark.parametrize("mode,failure", list(BACKOFF_AT_HALF))
def test_backoff_delays_at_half(make_client, server, timing, config, mode, failure):
    """random() = 0.5: the delay sequence, x-amz-retry-after honoured except in legacy mode."""
    timing.values = [0.5]
    cfg = config(retries={"mode": mode, "total_max_attempts": 8})
    client = timing.attach(make_client(endpoint_url=server.url, config=cfg))
    after = [("x-amz-retry-after", "3000")]
    fail = {
        "500": err(500, "InternalFailure", headers=after),
        "throttle": err(400, "ThrottlingException", headers=after),
        "429": err(429, None, headers=after),
        "reset": Reset(),
    }[failure]
    server.queue(*[fail] * 7, ok())
    md = {"RetryAttempts": 7}
    if mode != "legacy":
        md["MaxAttemptsReached"] = True
    expect_success(client, md)
    check_wire(server, 8, 8, mode=mode)
    assert timing.delays == pytest.approx(BACKOFF_AT_HALF[mode, failure])
    assert timing.draws == 7


# x-amz-retry-after as botocore 1.44 reads it: int() of the value, in milliseconds; negative or
# unreadable values are ignored. random() = 0.5 and a 500 give t = 0.025.
RETRY_AFTER = [
    ("3000", 3.0),
    ("30000", 5.025),  # at most t + 5
    ("0", 0.025),  # never below t
    ("-100", 0.025),
    ("abc", 0.025),
    ("1.5", 0.025),
    ("", 0.025),
    ("+250", 0.25),
    ("1_000", 1.0),
    ("9" * 400, 0.025),  # OverflowError in the division: ignored
    ("0100", 0.1),
]


@pytest.mark.parametrize("value,delay", RETRY_AFTER)
def test_retry_after_values(make_client, server, timing, config, value, delay):
    timing.values = [0.5]
    client = timing.attach(make_client(endpoint_url=server.url, config=config()))
    server.queue(err(500, "InternalFailure", headers=[("x-amz-retry-after", value)]), ok())
    expect_success(client, {"RetryAttempts": 1})
    assert timing.delays == pytest.approx([delay])


@pytest.mark.parametrize(
    "mode,delays",
    [("legacy", [0.9, 0.2, 2.4, 7.2]), ("standard", [0.045, 0.01, 0.12, 0.36])],
)
def test_one_jitter_draw_per_retry(make_client, server, timing, config, mode, delays):
    timing.values = [0.9, 0.1, 0.6]
    cfg = config(retries={"mode": mode, "total_max_attempts": 5})
    client = timing.attach(make_client(endpoint_url=server.url, config=cfg))
    server.queue(*[err(503, "ServiceUnavailable")] * 5)
    expect_client_error(
        client,
        "ServiceUnavailable",
        503,
        error_message("ServiceUnavailable", reached(4)),
        {"RetryAttempts": 4, "MaxAttemptsReached": True},
    )
    assert timing.delays == pytest.approx(delays)
    assert timing.draws == 4


def test_no_sleep_without_retry(make_client, server, timing, config):
    timing.values = [0.5]
    cfg = config(retries={"mode": "standard"})
    client = timing.attach(make_client(endpoint_url=server.url, config=cfg))
    server.queue(ok(), err(400, "ValidationError"))
    expect_success(client, {"RetryAttempts": 0})
    expect_client_error(
        client, "ValidationError", 400, error_message("ValidationError"), {"RetryAttempts": 0}
    )
    assert timing.delays == []
    assert timing.draws == 0


# --------------------------------------------------------------------------- retry quota


def _exhaust_quota(client, server):
    """500 forever with 200 attempts allowed: the quota (500, 14 a retry) stops it at 35, with
    10 left."""
    server.queue(*[err(500, "InternalFailure")] * 36)
    expect_client_error(
        client,
        "InternalFailure",
        500,
        error_message("InternalFailure"),
        {"RetryAttempts": 35, "RetryQuotaReached": True},
    )
    check_wire(server, 36, 200)
    server.clear()


@pytest.mark.parametrize("mode", ["standard", "adaptive"])
def test_quota_exhausted_within_one_call(make_client, server, no_backoff, config, mode):
    cfg = config(retries={"mode": mode, "total_max_attempts": 200})
    client = no_backoff(make_client(endpoint_url=server.url, config=cfg))
    _exhaust_quota(client, server)


@pytest.mark.parametrize("mode", ["standard", "adaptive"])
def test_quota_exhausted_over_many_calls(make_client, server, no_backoff, config, mode):
    client = no_backoff(make_client(endpoint_url=server.url, config=config(retries={"mode": mode})))
    server.queue(*[err(500, "InternalFailure")] * 53)
    for _ in range(17):  # 2 retries a call, 14 each: 500 -> 24
        expect_client_error(
            client,
            "InternalFailure",
            500,
            error_message("InternalFailure", reached(2)),
            {"RetryAttempts": 2, "MaxAttemptsReached": True},
        )
    assert len(server.requests) == 51
    server.requests.clear()
    # 24 pays for one more retry (-> 10), not two: no max-retries suffix.
    expect_client_error(
        client,
        "InternalFailure",
        500,
        error_message("InternalFailure"),
        {"RetryAttempts": 1, "RetryQuotaReached": True},
    )
    assert len(server.requests) == 2
    server.clear()
    # 10 left: the retryable error comes back at once.
    server.queue(err(500, "InternalFailure"))
    expect_client_error(
        client,
        "InternalFailure",
        500,
        error_message("InternalFailure"),
        {"RetryAttempts": 0, "RetryQuotaReached": True},
    )
    assert len(server.requests) == 1

    # Each success without retry refunds 1 (capped at 500): four of them make 14.
    for _ in range(4):
        expect_success(client, {"RetryAttempts": 0})
    server.clear()
    server.queue(err(500, "InternalFailure"))
    expect_success(client, {"RetryAttempts": 1})  # 14 -> 0, success refunds the 14 -> 14
    server.queue(err(500, "InternalFailure"), err(500, "InternalFailure"))
    expect_client_error(  # 14 -> 0, then nothing left for the second retry
        client,
        "InternalFailure",
        500,
        error_message("InternalFailure"),
        {"RetryAttempts": 1, "RetryQuotaReached": True},
    )
    server.queue(err(503, "ServiceUnavailable"))
    expect_client_error(  # an error is not a success: nothing was refunded
        client,
        "ServiceUnavailable",
        503,
        error_message("ServiceUnavailable"),
        {"RetryAttempts": 0, "RetryQuotaReached": True},
    )
    # Connection errors hit the same empty quota: raised after one attempt.
    server.clear()
    server.queue(Reset())
    expect_exception(client, "ConnectionClosedError")
    assert len(server.requests) == 1


def test_throttling_retries_cost_five(make_client, server, no_backoff, config):
    cfg = config(retries={"mode": "standard", "total_max_attempts": 200})
    client = no_backoff(make_client(endpoint_url=server.url, config=cfg))
    _exhaust_quota(client, server)  # 10 left
    server.queue(err(500, "InternalFailure"))
    expect_client_error(  # a 500 needs 14
        client,
        "InternalFailure",
        500,
        error_message("InternalFailure"),
        {"RetryAttempts": 0, "RetryQuotaReached": True},
    )
    server.clear()
    # Two throttling retries (5 each) fit in 10; the third does not.
    server.queue(err(400, "ThrottlingException"), err(429), err(400, "ThrottlingException"))
    expect_client_error(
        client,
        "ThrottlingException",
        400,
        error_message("ThrottlingException"),
        {"RetryAttempts": 2, "RetryQuotaReached": True},
    )
    assert len(server.requests) == 3


def test_refund_is_the_last_retry_cost_only(make_client, server, no_backoff, config):
    cfg = config(retries={"mode": "standard", "total_max_attempts": 200})
    client = no_backoff(make_client(endpoint_url=server.url, config=cfg))
    server.queue(*[err(500, "InternalFailure")] * 34)
    expect_success(client, {"RetryAttempts": 34})  # 34 retries: 500 -> 24, refund 14 -> 38
    server.clear()
    server.queue(*[err(500, "InternalFailure")] * 10)
    expect_client_error(  # 38 pays for 2 retries, not 3
        client,
        "InternalFailure",
        500,
        error_message("InternalFailure"),
        {"RetryAttempts": 2, "RetryQuotaReached": True},
    )
    assert len(server.requests) == 3


@pytest.mark.slow
def test_timeout_retry_costs_as_much_as_any_other(make_client, server, no_backoff, config):
    """botocore 1.43 charged 10 for a timeout retry; 1.44 charges 14, as for any non-throttling
    error."""
    cfg = config(retries={"mode": "standard", "total_max_attempts": 200}, read_timeout=1)
    client = no_backoff(make_client(endpoint_url=server.url, config=cfg))
    _exhaust_quota(client, server)
    for _ in range(3):
        expect_success(client, {"RetryAttempts": 0})  # quota 13
    server.clear()
    server.queue(Delay(STALL, ok()), ok())
    expect_exception(  # a timeout retry needs 14
        client, "ReadTimeoutError", f'Read timeout on endpoint URL: "{server.url}{ENDPOINT_PATH}"'
    )
    assert len(server.requests) == 1
    server.clear()
    expect_success(client, {"RetryAttempts": 0})  # quota 14
    server.clear()
    server.queue(Delay(STALL, ok()), ok())
    expect_success(client, {"RetryAttempts": 1})
    assert len(server.requests) == 2


def test_quota_is_per_client(make_client, server, no_backoff, config):
    cfg = config(retries={"mode": "standard", "total_max_attempts": 200})
    first = no_backoff(make_client(endpoint_url=server.url, config=cfg))
    _exhaust_quota(first, server)
    second = no_backoff(make_client(endpoint_url=server.url, config=cfg))
    server.queue(err(500, "InternalFailure"), ok())
    expect_success(second, {"RetryAttempts": 1})


def test_legacy_has_no_quota(make_client, server, no_backoff, config):
    cfg = config(retries={"mode": "legacy", "total_max_attempts": 120})
    client = no_backoff(make_client(endpoint_url=server.url, config=cfg))
    server.queue(*[err(500, "InternalFailure")] * 120)
    expect_client_error(
        client,
        "InternalFailure",
        500,
        error_message("InternalFailure", reached(119)),
        {"RetryAttempts": 119, "MaxAttemptsReached": True},
    )
    check_wire(server, 120, 120, mode="legacy")


# --------------------------------------------------------------------------- adaptive


def test_adaptive_without_throttling_never_waits(make_client, server, timing, config):
    timing.values = [0.5]
    cfg = config(retries={"mode": "adaptive"})
    client = timing.attach(make_client(endpoint_url=server.url, config=cfg))
    server.queue(err(500, "InternalFailure"), err(503, "ServiceUnavailable"))
    expect_success(client, {"RetryAttempts": 2, "MaxAttemptsReached": True})
    server.queue(err(429, "ModelNotReadyException"))  # 429, but not a throttling code
    expect_client_error(
        client,
        "ModelNotReadyException",
        429,
        error_message("ModelNotReadyException"),
        {"RetryAttempts": 0},
    )
    for _ in range(5):
        expect_success(client, {"RetryAttempts": 0})
    assert timing.delays == pytest.approx([0.025, 0.05])


def test_adaptive_throttle_turns_on_the_rate_limiter(make_client, server, timing, config):
    timing.values = [0.5]
    cfg = config(retries={"mode": "adaptive"})
    client = timing.attach(make_client(endpoint_url=server.url, config=cfg))
    server.queue(err(429, "ThrottlingException"), ok())
    expect_success(client, {"RetryAttempts": 1})
    check_wire(server, 2, 3, mode="adaptive")
    # The backoff first, then the token bucket's wait before the retry is sent.
    # (boto3 on a frozen clock: exactly [0.5, 1.5].)
    assert timing.delays[0] == 0.5
    assert 0 < sum(timing.delays[1:]) <= ADAPTIVE_MAX_WAIT
    # From now on every send, first attempts included, takes a token.
    del timing.delays[:]
    expect_success(client, {"RetryAttempts": 0})
    assert 0 < sum(timing.delays) <= ADAPTIVE_MAX_WAIT


@pytest.mark.slow
def test_adaptive_bucket_fills_from_client_creation(make_client, server, timing, config, flavour):
    """The token bucket's clock starts when the client is made (TokenBucket.__init__ refills):
    a client idle for 2 s has a full bucket when its first call is throttled."""
    timing.values = [0.5]
    client = timing.attach(
        make_client(endpoint_url=server.url, config=config(retries={"mode": "adaptive"}))
    )
    if flavour == "boto3":
        timing.now += 2.0  # boto3's bucket runs on the virtual clock
    else:
        time.sleep(2.0)
    server.queue(err(429, "ThrottlingException"), ok())
    expect_success(client, {"RetryAttempts": 1})
    assert timing.delays == [0.5]


def test_adaptive_throttle_on_the_last_attempt_still_counts(make_client, server, timing, config):
    timing.values = [0.5]
    cfg = config(retries={"mode": "adaptive", "total_max_attempts": 1})
    client = timing.attach(make_client(endpoint_url=server.url, config=cfg))
    server.queue(err(400, "ThrottlingException"))
    expect_client_error(
        client,
        "ThrottlingException",
        400,
        error_message("ThrottlingException", reached(0)),
        {"RetryAttempts": 0, "MaxAttemptsReached": True},
    )
    assert timing.delays == []
    expect_success(client, {"RetryAttempts": 0, "MaxAttemptsReached": True})
    # boto3 on a frozen clock: one token at 0.5 tokens/s from an empty bucket, 2.0 s.
    assert 0 < sum(timing.delays) <= ADAPTIVE_MAX_WAIT
    assert len(server.requests) == 2


# --------------------------------------------------------------------------- ours only


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["legacy", "standard", "adaptive"])
def test_retry_on_read_timeout_false_never_resends(server, mode):
    """Beyond boto3 (docs/retries.md 11.2): a read timeout is not retried; the rest is."""
    from conftest import make_ours

    import sagemaker_rt_c

    cfg = sagemaker_rt_c.Config(
        read_timeout=1, retries={"mode": mode, "retry_on_read_timeout": False}
    )
    client = make_ours(endpoint_url=server.url, config=cfg)
    client._sleep = lambda s: None
    server.queue(Delay(3, ok()), ok())
    with pytest.raises(Exception) as info:
        client.invoke_endpoint(EndpointName="ep", Body=b"x")
    assert type(info.value).__name__ == "ReadTimeoutError"
    assert len(server.requests) == 1
    # Other failures are still retried.
    server.clear()
    server.queue(err(500, "InternalFailure"), ok())
    resp = client.invoke_endpoint(EndpointName="ep", Body=b"x")
    assert resp["ResponseMetadata"]["RetryAttempts"] == 1
    assert len(server.requests) == 2


@pytest.mark.slow
def test_retry_on_read_timeout_default_resends(server):
    from conftest import make_ours

    import sagemaker_rt_c

    client = make_ours(endpoint_url=server.url, config=sagemaker_rt_c.Config(read_timeout=1))
    client._sleep = lambda s: None
    server.queue(Delay(3, ok()), ok())
    resp = client.invoke_endpoint(EndpointName="ep", Body=b"x")
    assert resp["ResponseMetadata"]["RetryAttempts"] == 1
    assert len(server.requests) == 2


def test_retry_on_read_timeout_must_be_a_bool():
    import sagemaker_rt_c

    with pytest.raises(TypeError, match="retry_on_read_timeout"):
        sagemaker_rt_c.Config(retries={"retry_on_read_timeout": "no"})
