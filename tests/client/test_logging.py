"""Debug logging (README "Debug logging"): boto3's set_stream_logger, botocore 1.44.8's log
lines for the same calls on the same scripted server, no secret in any record, and nothing
paid (no Python frame, no hook) while logging is off."""

import contextlib
import hashlib
import hmac
import inspect
import io
import json
import logging
import os
import re
import subprocess
import sys
import textwrap

import pytest
from conftest import ACCESS_KEY, ROOT, SECRET_KEY, TESTS, make_boto3, make_ours
from credfakes import FakeIMDS, FakeSTS, write
from servers import Reply, Reset
from test_retries import Timing, err, ok

import sagemaker_rt_c
from sagemaker_rt_c import _log

TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKENVALUE"
BODY = b'{"inputs": [1, 2]}'


class Records(logging.Handler):
    """Every record that reaches the root logger."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def under(self, prefix):
        return [r for r in self.records if r.name == prefix or r.name.startswith(prefix + ".")]

    def messages(self, prefix):
        return [(r.name, r.levelname, r.getMessage()) for r in self.under(prefix)]

    def text(self):
        """Everything a handler could show: formatted records (tracebacks included) and the
        raw arguments."""
        fmt = logging.Formatter("%(name)s %(levelname)s %(message)s")
        return "\n".join(f"{fmt.format(r)} {r.args!r} {r.msg!r}" for r in self.records)


@contextlib.contextmanager
def logged(*names, level=logging.DEBUG):
    """Capture records with the loggers `names` set to `level`, restored afterwards."""
    handler = Records()
    root = logging.getLogger()
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in names]
    root.addHandler(handler)
    for lg, _ in saved:
        lg.setLevel(level)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for lg, old in saved:
            lg.setLevel(old)


@pytest.fixture(autouse=True)
def restore_logging():
    """Tests here change levels and add handlers: put them back."""
    names = ["", "sagemaker_rt_c", *_log._CALL_PATH, "sagemaker_rt_c.credentials"]
    saved = {n: (logging.getLogger(n).level, list(logging.getLogger(n).handlers)) for n in names}
    yield
    logging.disable(logging.NOTSET)
    for n, (level, handlers) in saved.items():
        lg = logging.getLogger(n)
        lg.setLevel(level)
        lg.handlers[:] = handlers


# --------------------------------------------------------------------------- set_stream_logger


@pytest.mark.differential
def test_set_stream_logger_signature_is_boto3s():
    import boto3

    ours = inspect.signature(sagemaker_rt_c.set_stream_logger).parameters
    theirs = inspect.signature(boto3.set_stream_logger).parameters
    assert list(ours) == list(theirs) == ["name", "level", "format_string"]
    assert ours["name"].default == "sagemaker_rt_c" and theirs["name"].default == "boto3"
    assert ours["level"].default == theirs["level"].default == logging.DEBUG
    assert ours["format_string"].default is theirs["format_string"].default is None
    assert "boto3.set_stream_logger" in sagemaker_rt_c.set_stream_logger.__doc__


def _stamp_free(text):
    return re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", "<time> ", text, flags=re.M)


@pytest.mark.differential
@pytest.mark.parametrize(
    "args",
    [(), (logging.INFO,), (logging.DEBUG, "%(levelname)s|%(name)s|%(message)s"), (logging.ERROR,)],
)
def test_set_stream_logger_output_is_boto3s(capsys, args):
    """Same logger level, handler (a StreamHandler on stderr, at the level), formatter and
    output, for the default format and a given one."""
    import boto3

    boto3.set_stream_logger("smrt-test.theirs", *args)
    sagemaker_rt_c.set_stream_logger("smrt-test.ours", *args)
    outputs = []
    for name in ("smrt-test.theirs", "smrt-test.ours"):
        lg = logging.getLogger(name)
        (handler,) = lg.handlers
        assert type(handler) is logging.StreamHandler
        assert handler.stream is sys.stderr  # as the handler found it: pytest's capture
        for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR):
            lg.log(level, "call %s took %d ms", "ep", 12)
        outputs.append(capsys.readouterr())
        assert (lg.level, handler.level) == (args[0] if args else logging.DEBUG,) * 2
        lg.removeHandler(handler)
        lg.setLevel(logging.NOTSET)
    theirs, ours = outputs
    assert theirs.out == ours.out == ""
    assert theirs.err  # something was written
    assert _stamp_free(ours.err) == _stamp_free(theirs.err).replace(
        "smrt-test.theirs", "smrt-test.ours"
    )


def test_set_stream_logger_default_shows_a_call(server, capsys):
    client = make_ours(endpoint_url=server.url)
    sagemaker_rt_c.set_stream_logger()
    client.invoke_endpoint(EndpointName="ep", Body=BODY)
    err_text = capsys.readouterr().err
    lines = _stamp_free(err_text).splitlines()
    assert "<time> sagemaker_rt_c.endpoint [DEBUG] Making request for " in lines[0]
    assert any(
        ln.startswith("<time> sagemaker_rt_c.httpsession [DEBUG] http://127.0.0.1:")
        and ln.endswith('"POST /endpoints/ep/invocations HTTP/1.1" 200 2')
        for ln in lines
    ), err_text
    assert lines[-1] == "<time> sagemaker_rt_c.retries.standard [DEBUG] Not retrying request."


@pytest.mark.differential
def test_null_handler_as_boto3():
    import boto3

    assert sagemaker_rt_c.NullHandler is logging.NullHandler is boto3.NullHandler
    assert "NullHandler" in dir(sagemaker_rt_c)
    handlers = logging.getLogger("sagemaker_rt_c").handlers
    assert [type(h) for h in handlers if isinstance(h, logging.NullHandler)] == [
        logging.NullHandler
    ]


def _child(code, **env):
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    run_env.update(PYTHONPATH=os.pathsep.join([ROOT, TESTS]), AWS_CONFIG_FILE=os.devnull)
    run_env.update(AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    run_env.update(env)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


# A warning both libraries log when a client is made with a FIPS pseudo-region.
FIPS_CLIENT = """
    client("sagemaker-runtime", region_name="fips-us-east-1", aws_access_key_id="AKIDEXAMPLE",
           aws_secret_access_key="x")
"""


@pytest.mark.differential
@pytest.mark.parametrize("library", ["boto3", "sagemaker_rt_c"])
@pytest.mark.parametrize("order", ["logging first", "logging later"])
def test_unconfigured_warnings_stay_silent_as_boto3s(library, order):
    """With no logging configured, logging's last-resort handler would print WARNING records
    to stderr: botocore's NullHandler and ours keep them quiet, whichever came first."""
    top = "botocore" if library == "boto3" else "sagemaker_rt_c"  # the warning's library
    imports = f"import logging, {library}" if order == "logging first" else f"import {library}"
    script = f"""
        {imports}
        import logging
        {{without}}
        from {library} import client
        {FIPS_CLIENT.strip()}
        print([type(h).__name__ for h in logging.getLogger({top!r}).handlers])
        """
    proc = _child(script.format(without=""), BOTO_DISABLE_CRT="true")
    assert proc.stderr == ""
    assert proc.stdout.strip() == "['NullHandler']"
    # The same warning without the NullHandler reaches stderr: the check above can fail.
    without = f"logging.getLogger({top!r}).handlers.clear()"
    if library == "sagemaker_rt_c":
        without += "; import sagemaker_rt_c._log as L; L._null_handler_added = True"
    proc = _child(script.format(without=without), BOTO_DISABLE_CRT="true")
    assert "fips psuedo region" in proc.stderr


def test_the_package_never_imports_logging():
    """import, a client, a call with retries, credentials from the environment: `logging`
    stays unimported (importing it costs more than importing the package)."""
    proc = _child(
        """
        import sys
        from servers import Reply, ScriptedServer
        assert "logging" not in sys.modules
        import sagemaker_rt_c
        with ScriptedServer() as server:
            server.queue(Reply(500, [], b"{}"))
            client = sagemaker_rt_c.client("sagemaker-runtime", region_name="us-east-1",
                                           endpoint_url=server.url)
            client._sleep = lambda s: None
            out = client.invoke_endpoint(EndpointName="ep", Body=b"x")
            print(out["ResponseMetadata"]["RetryAttempts"], "logging" in sys.modules)
        """,
        AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY="x",
    )
    assert proc.stdout.split() == ["1", "False"]


# --------------------------------------------------------------------------- botocore's lines

BOTOCORE_TO_OURS = {
    "botocore.endpoint": "sagemaker_rt_c.endpoint",
    "botocore.retries.standard": "sagemaker_rt_c.retries.standard",
    "botocore.retryhandler": "sagemaker_rt_c.retryhandler",
    "botocore.parsers": "sagemaker_rt_c.parsers",
    "botocore.auth": "sagemaker_rt_c.auth",
    "urllib3.connectionpool": "sagemaker_rt_c.httpsession",
    "botocore.credentials": "sagemaker_rt_c.credentials",
}
# Ours only (README): the attempt's outcome in one line, and why it is retryable.
OURS_ONLY = (
    "Response received (attempt ",
    "No response (attempt ",
    "Retryable: ",
    "Not retrying: ",
)


def mirrored(records, flavour):
    """(logger, level, message) of the records botocore and ours both write, botocore's
    loggers named as ours, what legitimately differs (dates, hashes, object addresses, the
    User-Agent, the token botocore shows and we redact) made equal; a response's headers and
    body said once (botocore parses an error response twice and logs it twice)."""
    out = []
    said = set()  # parsers' lines since the last line of another logger
    for r in records:
        msg = r.getMessage()
        if flavour == "boto3":
            name = BOTOCORE_TO_OURS.get(r.name)
            if name is None:
                continue
            if r.name == "botocore.endpoint" and not msg.startswith(
                ("Making request for", "Response received to retry")
            ):
                continue  # "Sending http request: <AWSPreparedRequest ... Authorization ...>"
            if r.name == "urllib3.connectionpool" and '"POST ' not in msg:
                continue  # "Starting new HTTP connection (1): ..."
            if r.name == "botocore.auth" and msg.startswith("Signature:"):
                continue
        else:
            name = r.name
            if not name.startswith("sagemaker_rt_c.") or msg.startswith(OURS_ONLY):
                continue
        if msg.startswith("Making request for"):
            operation, request = r.args
            headers = {k: v for k, v in request["headers"].items() if k != "User-Agent"}
            fields = {k: request[k] for k in ("url_path", "query_string", "method", "url")}
            msg = f"Making request for {operation} {fields} {headers}"
        msg = re.sub(r"<[\w.]+\.StreamingBody object at 0x[0-9a-f]+>", "<StreamingBody>", msg)
        msg = re.sub(r"\d{8}T\d{6}Z", "<amz-date>", msg)
        msg = re.sub(r"\n\d{8}/", "\n<day>/", msg)
        msg = re.sub(r"x-amz-security-token:.*", "x-amz-security-token:<redacted>", msg)
        if msg.startswith("StringToSign:"):
            msg = msg.rsplit("\n", 1)[0] + "\n<hash of the canonical request>"
        line = (name, r.levelname, msg)
        if name != "sagemaker_rt_c.parsers":
            said.clear()
        elif line in said:
            continue
        said.add(line)
        out.append(line)
    return out


def run_call(flavour, monkeypatch, server, actions, retries, **kw):
    """One invoke_endpoint of a fresh client of `flavour` against `actions`, jitter 0.5, no
    real sleep; returns the records logged during the call."""
    timing = Timing(flavour, monkeypatch)
    timing.values = [0.5]
    if flavour == "boto3":
        from botocore.config import Config

        make = make_boto3
    else:
        from sagemaker_rt_c import Config

        make = make_ours
    client = timing.attach(
        make(endpoint_url=server.url, config=Config(retries=dict(retries)), **kw)
    )
    server.clear()
    server.queue(*actions)
    with logged("botocore", "urllib3", "sagemaker_rt_c") as h:
        try:
            client.invoke_endpoint(EndpointName="ep", Body=BODY, ContentType="application/json")[
                "Body"
            ].read()
        except Exception:  # noqa: BLE001 - only the records matter here
            pass
    return h.records


STANDARD = {"mode": "standard"}
LEGACY = {"mode": "legacy"}
SCENARIOS = {
    "success": ([ok()], STANDARD),
    "500 then success": ([err(500, "InternalFailure"), ok()], STANDARD),
    "500 until the last attempt": ([err(500, "InternalFailure")] * 3, STANDARD),
    "not retryable": ([err(400, "ValidationError")], STANDARD),
    "throttling code": ([err(400, "ThrottlingException"), ok()], STANDARD),
    "429 the model does not cover": ([err(429, "Busy"), ok()], STANDARD),
    "transient code": ([err(400, "RequestTimeout"), ok()], STANDARD),
    "x-amz-retry-after": (
        [err(503, "ServiceUnavailable", headers=[("x-amz-retry-after", "1500")]), ok()],
        STANDARD,
    ),
    "reset then success": ([Reset(), ok()], STANDARD),
    "adaptive": ([err(502, "BadGateway"), ok()], {"mode": "adaptive"}),
    "legacy 500 then success": ([err(500, "InternalFailure"), ok()], LEGACY),
    "legacy until the last attempt": ([err(503)] * 2, dict(LEGACY, max_attempts=1)),
    "legacy throttling": ([err(400, "Throttling"), ok()], LEGACY),
    "legacy reset": ([Reset(), ok()], LEGACY),
    "legacy not retryable": ([err(400, "ValidationError")], LEGACY),
}


@pytest.mark.differential
@pytest.mark.parametrize("token", [None, TOKEN], ids=["keys", "session token"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_call_lines_are_botocores(server, monkeypatch, scenario, token):
    actions, retries = SCENARIOS[scenario]
    theirs = run_call("boto3", monkeypatch, server, actions, retries, aws_session_token=token)
    ours = run_call("ours", monkeypatch, server, actions, retries, aws_session_token=token)
    expected = mirrored(theirs, "boto3")
    assert expected, "botocore logged nothing: the comparison would be empty"
    assert mirrored(ours, "ours") == expected


def test_ours_only_lines(server, monkeypatch):
    """The lines botocore lacks: each attempt's outcome with its request id and error code,
    and the reason a retry is needed."""
    actions = [err(500, "InternalFailure"), Reset(), ok()]
    records = run_call("ours", monkeypatch, server, actions, STANDARD)
    lines = [(r.name, r.getMessage()) for r in records if r.getMessage().startswith(OURS_ONLY)]
    url = f"{server.url}/endpoints/ep/invocations"
    assert lines == [
        (
            "sagemaker_rt_c.endpoint",
            "Response received (attempt 1 of 3): HTTP 500, RequestId: req-1, error code: "
            "InternalFailure",
        ),
        ("sagemaker_rt_c.retries.standard", "Retryable: HTTP 500 is a transient error."),
        (
            "sagemaker_rt_c.endpoint",
            "No response (attempt 2 of 3): ConnectionClosedError: Connection was closed before "
            f'we received a valid response from endpoint URL: "{url}".',
        ),
        (
            "sagemaker_rt_c.retries.standard",
            "Retryable: ConnectionClosedError is a transient error.",
        ),
        (
            "sagemaker_rt_c.endpoint",
            "Response received (attempt 3 of 3): HTTP 200, RequestId: req-2",
        ),
    ]


@pytest.mark.slow
def test_read_timeout_opt_out_says_why(server, monkeypatch):
    from servers import Delay

    timing = Timing("ours", monkeypatch)
    client = timing.attach(
        make_ours(
            endpoint_url=server.url,
            config=sagemaker_rt_c.Config(
                read_timeout=1, retries={"mode": "standard", "retry_on_read_timeout": False}
            ),
        )
    )
    server.queue(Delay(3.0, ok()))
    with logged("sagemaker_rt_c") as h, pytest.raises(sagemaker_rt_c.exceptions.ReadTimeoutError):
        client.invoke_endpoint(EndpointName="ep", Body=b"x")
    assert [m for _, _, m in h.messages("sagemaker_rt_c.retries")] == [
        "Retryable: ReadTimeoutError is a transient error.",
        "Not retrying: retry_on_read_timeout is False.",
        "Not retrying request.",
    ]


def _signature(secret, string_to_sign, date, region="us-east-1", service="sagemaker"):
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def test_logged_canonical_request_is_the_signed_one(server, monkeypatch):
    """With the token put back, the logged canonical request hashes to the logged string to
    sign, and that string signed with the secret key gives the signature the server got."""
    records = run_call("ours", monkeypatch, server, [ok()], STANDARD, aws_session_token=TOKEN)
    messages = [r.getMessage() for r in records if r.name == "sagemaker_rt_c.auth"]
    assert messages[0] == "Calculating signature using v4 auth."
    canonical = messages[1].split("\n", 1)[1]
    string_to_sign = messages[2].split("\n", 1)[1]
    assert "x-amz-security-token:<redacted>\n" in canonical
    real = canonical.replace("x-amz-security-token:<redacted>", "x-amz-security-token:" + TOKEN)
    assert string_to_sign.rsplit("\n", 1)[1] == hashlib.sha256(real.encode()).hexdigest()
    date = string_to_sign.split("\n")[1][:8]
    sent = server.last.header("Authorization").rsplit("Signature=", 1)[1]
    assert _signature(SECRET_KEY, string_to_sign, date) == sent


# --------------------------------------------------------------------------- credentials


def _credential_setup(tmp_path, monkeypatch, source, imds):
    if source == "instance metadata":
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url)
        monkeypatch.delenv("AWS_EC2_METADATA_DISABLED", raising=False)
        return {}
    if source == "env":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENVEXAMPLE")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecretvalue")
        monkeypatch.setenv("AWS_SESSION_TOKEN", "envtokenvalue")
        return {}
    creds = tmp_path / "credentials"
    config = tmp_path / "config"
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    keys = "aws_access_key_id = AKIDFILEEXAMPLE\naws_secret_access_key = filesecretvalue\n"
    if source == "shared credentials file":
        write(creds, "[default]\n" + keys)
        return {}
    if source == "config file":
        write(config, "[default]\n" + keys)
        return {}
    # An explicit profile: botocore skips the environment, and says so.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENVEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecretvalue")
    write(creds, "[dev]\n" + keys)
    return {"profile_name": "dev"}


@pytest.mark.differential
@pytest.mark.parametrize(
    "source",
    ["env", "shared credentials file", "config file", "explicit profile", "instance metadata"],
)
def test_credential_lines_are_botocores(tmp_path, monkeypatch, source):
    import boto3

    with FakeIMDS() as imds:
        kw = _credential_setup(tmp_path, monkeypatch, source, imds)
        with logged("botocore.credentials", "sagemaker_rt_c.credentials") as h:
            theirs = boto3.Session(**kw).get_credentials()
            ours = sagemaker_rt_c.Session(**kw).get_credentials()
    assert ours.method == theirs.method
    expected = [
        ("sagemaker_rt_c.credentials", level, msg)
        for _, level, msg in h.messages("botocore.credentials")
    ]
    assert any(level == "INFO" for _, level, _ in expected) or source == "explicit profile"
    assert h.messages("sagemaker_rt_c.credentials") == expected


@pytest.mark.differential
def test_refresh_lines_are_botocores(tmp_path, monkeypatch):
    """Web identity credentials within the mandatory window: each use refreshes, and says so."""
    import boto3

    with FakeSTS(expires_in=300) as sts:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(tmp_path / "token"))
        monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        write(tmp_path / "token", "web-identity-token")
        got = {}
        for flavour, session in (("boto3", boto3.Session), ("ours", sagemaker_rt_c.Session)):
            with logged("botocore.credentials", "sagemaker_rt_c.credentials") as h:
                creds = session().get_credentials()
                creds.get_frozen_credentials()
                creds.get_frozen_credentials()
            prefix = "botocore.credentials" if flavour == "boto3" else "sagemaker_rt_c.credentials"
            got[flavour] = [
                (level, re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\S*", "<time>", msg))
                for _, level, msg in h.messages(prefix)
            ]
    assert ("DEBUG", "Credentials need to be refreshed.") in got["boto3"]
    assert ("DEBUG", "Retrieved credentials will expire at: <time>") in got["boto3"]
    assert got["ours"] == got["boto3"]


# --------------------------------------------------------------------------- never a secret


class RecordingSTS(FakeSTS):
    """FakeSTS that keeps its answers (their keys, secrets and tokens must never be logged)."""

    def __init__(self, **kw):
        self.answered = []
        super().__init__(**kw)

    def handle(self, req):
        reply = super().handle(req)
        self.answered.append(reply.body.decode())
        return reply


def _secrets_in(xml_bodies):
    found = set()
    for body in xml_bodies:
        for tag in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
            found.update(re.findall(f"<{tag}>([^<]+)</{tag}>", body))
    return found


def test_no_secret_in_any_record(server, tmp_path, monkeypatch):
    """Everything logged at any level by every logger, while calls run with a session token,
    retries (HTTP errors, a reset), legacy mode, presigning (the C and the Python path),
    credentials from the environment and from STS with a retried STS call and a refresh at
    every call: no key, secret, token, signature or presigned URL shows."""
    secrets = {ACCESS_KEY, SECRET_KEY, TOKEN, "web-identity-token", "envsecretvalue"}
    secrets.add("envtokenvalue")
    shown = []
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENVEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecretvalue")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "envtokenvalue")
    with logged("", "sagemaker_rt_c") as h, RecordingSTS(expires_in=300, unique=True) as sts:
        monkeypatch.setattr("sagemaker_rt_c.credentials._nested._sleep", lambda s: None)
        # A session token; a 500, a reset, then success; legacy mode's lines too.
        for mode in ("standard", "legacy"):
            client = make_ours(
                endpoint_url=server.url,
                aws_session_token=TOKEN,
                config=sagemaker_rt_c.Config(retries={"mode": mode}),
            )
            client._sleep = lambda s: None
            server.queue(err(500, "InternalFailure"), Reset(), ok())
            client.invoke_endpoint(EndpointName="ep", Body=b"secret payload", ContentType="a/b")
            # Presigned URLs: the C path (empty Body) and the Python path (a JSON Body).
            for body in (b"", json.dumps({"k": "v"})):
                url = client.generate_presigned_url(
                    "invoke_endpoint", Params={"EndpointName": "ep", "Body": body}
                )
                shown.append(url)
                secrets.add(url)
                secrets.add(url.rsplit("X-Amz-Signature=", 1)[1])
        # The environment's keys, through the chain.
        env_client = sagemaker_rt_c.Session().client(
            "sagemaker-runtime", region_name="us-east-1", endpoint_url=server.url
        )
        env_client.invoke_endpoint(EndpointName="ep", Body=b"x")
        # STS: a 500 retried, then credentials that need refreshing at every call.
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name)
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(tmp_path / "token"))
        monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r")
        write(tmp_path / "token", "web-identity-token")
        sts.fail(Reply(500, [("x-amzn-RequestId", "sts-1")], b"<oops/>"))
        sts_client = sagemaker_rt_c.Session().client(
            "sagemaker-runtime", region_name="us-east-1", endpoint_url=server.url
        )
        for _ in range(3):
            sts_client.invoke_endpoint(EndpointName="ep", Body=b"x")
    secrets |= _secrets_in(sts.answered)
    assert len(_secrets_in(sts.answered)) >= 9  # three STS answers: keys, secrets, tokens
    for req in server.requests:
        auth = req.header("Authorization")
        secrets.add(auth)
        secrets.add(auth.rsplit("Signature=", 1)[1])
        secrets.add(auth.split("Credential=", 1)[1].split("/", 1)[0])
    text = h.text()
    messages = [r.getMessage() for r in h.records]
    # The capture saw what it is meant to check (else "nothing leaked" would mean nothing).
    for expected in (
        "CanonicalRequest:",
        "Found credentials in environment variables.",
        "Credentials need to be refreshed.",
        "Retry needed, retrying request after delay of",
        "Retry needed, action of",
        "Making request for OperationModel(name=AssumeRoleWithWebIdentity)",
        "Response received (attempt 1 of 3): HTTP 500, RequestId: sts-1",
    ):
        assert any(m.startswith(expected) for m in messages), expected
    assert "secret payload" not in text
    for secret in secrets:
        assert secret not in text, f"a secret is in the logs: {secret[:12]}..."


def test_endpoint_url_user_info_is_hidden(monkeypatch):
    """botocore names the endpoint URL, password included, in its messages; ours hides it."""
    timing = Timing("ours", monkeypatch)
    client = timing.attach(make_ours(endpoint_url="http://user:hunter2@127.0.0.1:9"))
    with (
        logged("sagemaker_rt_c") as h,
        pytest.raises(sagemaker_rt_c.exceptions.EndpointConnectionError),
    ):
        client.invoke_endpoint(EndpointName="ep", Body=b"x")
    text = h.text()
    assert "No response (attempt 3 of 3): EndpointConnectionError" in text
    assert "***@127.0.0.1:9" in text
    assert "hunter2" not in text


# --------------------------------------------------------------------------- free when off


def python_frames_of_a_call(client):
    frames = []

    def profile(frame, event, arg):
        if event == "call":
            frames.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        client.invoke_endpoint(EndpointName="ep", Body=b"x", ContentType="text/csv")
    finally:
        sys.setprofile(None)
    return frames


HOOKS = {"_log_request", "_log_attempt", "_log_response"}


def test_off_runs_no_python_and_asks_logging_once_per_change(server):
    """While no call-path logger logs DEBUG a call runs no Python frame: no hook, no
    isEnabledFor. A level change costs the next call one _log_refresh, then nothing again;
    logging's cache answers stay right whatever else asks logging meanwhile."""
    client = make_ours(endpoint_url=server.url)
    client.invoke_endpoint(EndpointName="ep", Body=b"warm")
    assert python_frames_of_a_call(client) == []  # unconfigured: root at WARNING

    top = logging.getLogger("sagemaker_rt_c")
    top.setLevel(logging.WARNING)
    top.addHandler(logging.StreamHandler(io.StringIO()))  # configured, at WARNING
    frames = python_frames_of_a_call(client)
    assert frames[0] == "_log_refresh" and not HOOKS & set(frames)
    assert python_frames_of_a_call(client) == []

    top.setLevel(logging.DEBUG)
    logging.getLogger().isEnabledFor(logging.DEBUG)  # another asker fills logging's cache
    logging.getLogger("sagemaker_rt_c.endpoint").isEnabledFor(logging.DEBUG)
    with logged() as h:
        frames = python_frames_of_a_call(client)
    assert {"_log_request", "_log_response"} <= set(frames)
    assert h.messages("sagemaker_rt_c.endpoint")

    logging.disable(logging.CRITICAL)
    frames = python_frames_of_a_call(client)
    assert frames[0] == "_log_refresh" and not HOOKS & set(frames)
    assert python_frames_of_a_call(client) == []
    logging.disable(logging.NOTSET)
    assert HOOKS & set(python_frames_of_a_call(client))

    top.setLevel(logging.NOTSET)
    python_frames_of_a_call(client)
    assert python_frames_of_a_call(client) == []


def test_one_call_path_logger_alone(server, monkeypatch):
    """Only the retry decisions asked for: only they are written."""
    timing = Timing("ours", monkeypatch)
    client = timing.attach(make_ours(endpoint_url=server.url))
    server.queue(err(500, "InternalFailure"), ok())
    with logged("sagemaker_rt_c.retries.standard") as h:
        client.invoke_endpoint(EndpointName="ep", Body=b"x")
    assert {r.name for r in h.under("sagemaker_rt_c")} == {"sagemaker_rt_c.retries.standard"}
    assert [m for _, _, m in h.messages("sagemaker_rt_c")] == [
        "Retryable: HTTP 500 is a transient error.",
        "Retry needed, retrying request after delay of: 0.0",
        "Not retrying request.",
    ]


def test_a_disabled_logger_writes_nothing(server):
    """logging.config's disable_existing_loggers sets `disabled`, which empties no cache: the
    C core may still call the hooks, and they write nothing."""
    client = make_ours(endpoint_url=server.url)
    with logged("sagemaker_rt_c") as h:
        for name in _log._CALL_PATH:
            logging.getLogger(name).disabled = True
        try:
            client.invoke_endpoint(EndpointName="ep", Body=b"x")
        finally:
            for name in _log._CALL_PATH:
                logging.getLogger(name).disabled = False
    assert h.under("sagemaker_rt_c") == []


def test_watches_the_cache_logging_keeps():
    """What csrc/log.c relies on: each logger has a `_cache` dict that setLevel and
    logging.disable empty (CPython 3.7 on); and the key it looks for is _log's."""
    top = logging.getLogger("sagemaker_rt_c")
    _log._log_refresh()
    assert isinstance(top._cache, dict) and _log._KEY in top._cache
    logging.getLogger("unrelated.logger").setLevel(logging.INFO)
    assert _log._KEY not in top._cache
    _log._log_refresh()
    logging.disable(logging.NOTSET)
    assert _log._KEY not in top._cache
    header = open(os.path.join(ROOT, "csrc", "binding.h")).read()
    assert f'#define SMRT_LOG_KEY "{_log._KEY}"' in header
