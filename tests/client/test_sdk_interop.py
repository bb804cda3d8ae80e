"""Our client injected where users inject a boto3 client: the SageMaker Python SDK v2
(``sagemaker.Session(sagemaker_runtime_client=...)``: ``Predictor.predict`` with its
serializers and deserializers, ``predict_stream`` with its ``ByteIterator`` / ``LineIterator``,
``AsyncPredictor.predict_async``) and LangChain's ``SagemakerEndpoint(client=...)`` and
``ChatSagemakerEndpoint(client=...)`` (langchain-aws: ``invoke`` and ``stream``).

Each scenario runs the same SDK code twice on the same scripted loopback server, with our
client and with boto3's, and compares what the SDK returned (or raised) and the requests on
the wire (ours first; boto3 then signs at the same second, so even the Authorization header
must match: apidiff.wire leaves out only User-Agent and botocore's invocation headers, and
``unordered`` the header order). The User-Agent tells the two apart on the server, so each
test also checks that the requests came from the client it injected.

Keeping the SDKs off the network (they are imported by the ``sdk`` fixture, never at
collection, so that all of this is in place first):

- ``import sagemaker`` makes a default ``sagemaker.Session`` (sagemaker/jumpstart/
  constants.py), whose six boto3 clients each resolve credentials through botocore's chain:
  with none in the environment that chain ends at the EC2 instance metadata service
  (169.254.169.254; ``test_why_the_environment_is_set`` shows it). Dummy keys in the
  environment stop the chain at its first provider, and AWS_EC2_METADATA_DISABLED backs
  that up.
- The SDK loads its "SDK defaults" config at import and in every ``Session()``: from
  /etc/xdg/sagemaker and ~/.config/sagemaker, or from SAGEMAKER_ADMIN_CONFIG_OVERRIDE /
  SAGEMAKER_USER_CONFIG_OVERRIDE, which may name an ``s3://`` location (fetched with an S3
  client). Both point at an empty local file of ours. (The SDK's telemetry, an HTTP GET to
  S3, is sent only by decorated functions such as ``Estimator.fit`` and
  ``JumpStartModel.deploy``: none is on the paths tested, and the guard below would refuse
  it.) SAGEMAKER_SUPPRESS_V2_WARNING silences its v2 deprecation notice.
- LangSmith tracing (langchain-core) sends runs to its API only when LANGSMITH_TRACING /
  LANGCHAIN_TRACING_V2 is set: both are removed.
- A guard refuses, and records, every name lookup and connection that Python code makes to
  anything but loopback, from the import on; each test asserts that none was tried. (Ours
  connects through libcurl, not Python's sockets, and only to the loopback endpoint_url.)

``import langchain_aws`` replaces ``boto3.client`` and ``boto3.Session.client`` (adding a
User-Agent suffix to every client made after it); the fixture puts boto3's own back, so the
tests that run after this module in the same process see boto3 as it is.
"""

import importlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import types

import boto3
import numpy as np
import pytest
from apidiff import botocore_clock, outcome, wire
from conftest import ACCESS_KEY, ROOT, SECRET_KEY, TESTS, make_boto3, make_ours
from servers import Reply, Script
from test_response_stream import END, chunk, event, exception_event, stream

pytestmark = pytest.mark.differential

# --------------------------------------------------------------------------- the guard


class NetworkGuard:
    """Refuses name lookups and connections by Python code to anything but loopback, and
    records them (with where they came from)."""

    def __init__(self):
        self.attempts = []
        self._saved = None

    @staticmethod
    def _loopback(host):
        if host is None:
            return True
        host = host.decode() if isinstance(host, bytes) else str(host)
        return host in ("localhost", "::1") or host.startswith("127.")

    def install(self):
        real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
        real_getaddrinfo = socket.getaddrinfo
        guard = self

        def check(what, host):
            if not guard._loopback(host):
                import traceback

                guard.attempts.append((what, host, "".join(traceback.format_stack(limit=8))))
                raise OSError(f"test_sdk_interop: no network: {what} {host}")

        def connect(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                check("connect", address[0])
            return real_connect(sock, address)

        def connect_ex(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                check("connect", address[0])
            return real_connect_ex(sock, address)

        def getaddrinfo(host, *args, **kwargs):
            check("getaddrinfo", host)
            return real_getaddrinfo(host, *args, **kwargs)

        self._saved = (real_connect, real_connect_ex, real_getaddrinfo)
        socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
        socket.getaddrinfo = getaddrinfo

    def uninstall(self):
        socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = self._saved


GUARD_SOURCE = """
import socket, sys
tried = []
real = socket.getaddrinfo
def getaddrinfo(host, *a, **k):
    if host is not None and not (str(host).startswith("127.") or host in ("localhost", "::1")):
        tried.append(host)
        raise OSError("no network")
    return real(host, *a, **k)
socket.getaddrinfo = getaddrinfo
real_connect = socket.socket.connect
def connect(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not str(address[0]).startswith("127."):
        tried.append(address[0])
        raise OSError("no network")
    return real_connect(sock, address)
socket.socket.connect = connect
"""

# An empty "SDK defaults" file, as on a machine with none: the SDK validates a non-empty one
# with jsonschema at every look-up (about 0.15 s each, several per Session and call).
SDK_CONFIG = "# test_sdk_interop: no SDK defaults\n"


def _sdk_environment(tmp_dir):
    """The variables the SDKs are imported and run under (see the module docstring)."""
    config = os.path.join(tmp_dir, "sagemaker-config.yaml")
    with open(config, "w") as f:
        f.write(SDK_CONFIG)
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.path.join(tmp_dir, "no-such-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp_dir, "no-such-credentials"),
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": config,
        "SAGEMAKER_USER_CONFIG_OVERRIDE": config,
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }


_UNSET = ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")


@pytest.fixture(scope="module")
def sdk(tmp_path_factory):
    """sagemaker and langchain_aws, imported with the network guarded and the environment
    above; yields the modules and the guard."""
    mp = pytest.MonkeyPatch()
    for name in list(os.environ):
        if name.startswith("AWS_") or name in _UNSET:
            mp.delenv(name)
    for name, value in _sdk_environment(str(tmp_path_factory.mktemp("sdk"))).items():
        mp.setenv(name, value)
    guard = NetworkGuard()
    guard.install()
    boto3_client, session_client = boto3.client, boto3.session.Session.client
    try:
        import sagemaker
        import sagemaker.deserializers
        import sagemaker.iterators
        import sagemaker.predictor
        import sagemaker.predictor_async
        import sagemaker.serializers

        # After sagemaker, whose import makes boto3 clients (see above).
        langchain_aws = importlib.import_module("langchain_aws")
        llms = importlib.import_module("langchain_aws.llms.sagemaker_endpoint")
        chats = importlib.import_module("langchain_aws.chat_models.sagemaker_endpoint")
    finally:
        boto3.client, boto3.session.Session.client = boto3_client, session_client
    assert guard.attempts == [], guard.attempts
    try:
        yield types.SimpleNamespace(
            sagemaker=sagemaker,
            langchain_aws=langchain_aws,
            SagemakerEndpoint=llms.SagemakerEndpoint,
            LLMContentHandler=llms.LLMContentHandler,
            ChatSagemakerEndpoint=chats.ChatSagemakerEndpoint,
            ChatModelContentHandler=chats.ChatModelContentHandler,
            guard=guard,
            boto_session=boto3.Session(
                region_name="us-east-1",
                aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY,
            ),
        )
    finally:
        guard.uninstall()
        mp.undo()


@pytest.fixture(autouse=True)
def no_network(sdk):
    sdk.guard.attempts.clear()
    yield
    assert [a[:2] for a in sdk.guard.attempts] == [], sdk.guard.attempts[0][2]
    # Nothing here put langchain_aws's wrappers back on boto3.
    assert boto3.client.__module__ == "boto3"


@pytest.mark.slow
def test_sdk_versions_as_pinned(sdk):
    """The SDKs tested are the ones pyproject.toml's test extras pin."""
    import re
    from importlib.metadata import version

    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        pins = dict(re.findall(r'^\s*"([A-Za-z0-9_.-]+)==([^"]+)",', f.read(), re.M))
    for name in ("sagemaker", "langchain-aws", "langchain-core"):
        assert version(name) == pins[name], name
    assert sdk.sagemaker.__version__ == pins["sagemaker"]
    assert pins["sagemaker"].startswith("2.")


def _run(code, env):
    return subprocess.run(
        [sys.executable, "-c", GUARD_SOURCE + code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=TESTS,
    )


def _base_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    for name in _UNSET:
        env.pop(name, None)
    env["HOME"] = str(tmp_path)  # no ~/.aws, no ~/.config/sagemaker
    env["PYTHONPATH"] = os.pathsep.join([ROOT, TESTS])
    return env


@pytest.mark.slow
def test_why_the_environment_is_set(tmp_path):
    """Without credentials in the environment, ``import sagemaker`` looks for them down to
    the instance metadata service (refused here by the guard, in a child process)."""
    result = _run("import sagemaker\nprint(sorted(set(tried)))", _base_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "169.254.169.254" in result.stdout


@pytest.mark.slow
def test_import_and_session_stay_off_the_network(tmp_path, server):
    """With the environment the fixture sets: import, Session, predict and LangChain's
    SagemakerEndpoint make no lookup or connection but to the loopback server."""
    env = _base_env(tmp_path)
    env.update(_sdk_environment(str(tmp_path)))
    code = f"""
import sagemaker, sagemaker.predictor, langchain_aws, sagemaker_rt_c
rt = sagemaker_rt_c.client("sagemaker-runtime", endpoint_url="{server.url}")
session = sagemaker.Session(sagemaker_runtime_client=rt)
assert session.sagemaker_runtime_client is rt
print(sagemaker.predictor.Predictor("ep", sagemaker_session=session).predict(b"x"))
from langchain_aws import SagemakerEndpoint
from langchain_aws.llms.sagemaker_endpoint import LLMContentHandler
class Handler(LLMContentHandler):
    def transform_input(self, prompt, model_kwargs):
        return prompt.encode()
    def transform_output(self, output):
        return output.read().decode()
print(SagemakerEndpoint(endpoint_name="ep", client=rt, content_handler=Handler()).invoke("x"))
print("tried", tried)
"""
    server.queue(
        Reply(200, [("Content-Type", "application/octet-stream")], b"pong"),
        Reply(200, [("Content-Type", "text/plain")], b"pong too"),
    )
    result = _run(code, env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")[-4:]
    assert lines == ["b'pong'", "pong too", "tried []", ""], result.stdout
    assert len(server.requests) == 2
    assert all(r.header("user-agent").startswith("sagemaker_rt_c/") for r in server.requests)


# --------------------------------------------------------------------------- helpers


def sm_session(sdk, runtime_client):
    """A sagemaker.Session using ``runtime_client``; its other clients (sagemaker, S3 ...)
    are boto3's, from one boto3 session kept for the module (it caches the service models
    that every Session's six clients load)."""
    return sdk.sagemaker.Session(
        boto_session=sdk.boto_session, sagemaker_runtime_client=runtime_client
    )


def run_both(server, use, steps=None):
    """``use(client)`` with our client, then with boto3's (signing at the second ours
    signed in); each run is (outcome, requests as apidiff.wire shows them, User-Agents).
    ``steps``: a callable giving the server's actions for one run, queued before each."""
    runs = {}
    date = None
    for name, make in (("ours", make_ours), ("boto3", make_boto3)):
        client = make(endpoint_url=server.url)
        if name == "ours":
            client._sleep = lambda seconds: None
        if steps is not None:
            server.queue(*steps())
        start = len(server.requests)
        with botocore_clock(date):
            got = outcome(lambda client=client: use(client))
        sent = server.requests[start:]
        if name == "ours" and sent:
            date = sent[0].header("X-Amz-Date")
        runs[name] = (
            got,
            [unordered(wire(r)) for r in sent],
            [r.header("user-agent") for r in sent],
        )
    ours, theirs = runs["ours"], runs["boto3"]
    assert ours[2] and all(ua.startswith("sagemaker_rt_c/") for ua in ours[2]), ours[2]
    assert theirs[2] and all(ua.startswith("Boto3/") for ua in theirs[2]), theirs[2]
    return ours[:2], theirs[:2]


def unordered(request):
    """apidiff.wire's view with the headers sorted: the SDKs pass the arguments they were
    given (``initial_args``) before their own, and botocore writes header parameters in the
    caller's keyword order, ours in the model's (docs/NOTES.md: the signature is the same, its
    canonical headers being sorted)."""
    line, headers, body = request
    return line, sorted(headers), body


def comparable(value):
    """What the SDK returned, as plain data (arrays, data frames and streams opened up)."""
    import pandas

    if isinstance(value, np.ndarray):
        return ("ndarray", str(value.dtype), value.shape, value.tolist())
    if isinstance(value, pandas.DataFrame):
        return ("DataFrame", {k: str(v) for k, v in value.dtypes.items()}, value.to_dict("split"))
    if isinstance(value, tuple) and len(value) == 2 and hasattr(value[0], "read"):
        body, content_type = value  # StreamDeserializer: the Body itself, for the caller
        try:
            return ("stream", body.read(), content_type)
        finally:
            body.close()
    return value


def chunked_reply(content_type, body, pieces=3):
    """The body in ``pieces`` chunks with pauses between them: the client returns at the
    head and the deserializer reads the rest from the connection."""
    steps = [
        b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nx-amzn-RequestId: r-1\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" % content_type.encode()
    ]
    size = max(1, -(-len(body) // pieces))
    for i in range(0, len(body), size):
        steps += [0.02, chunk(body[i : i + size])]
    return Script(steps + [END], keep=True)


def _npy(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


# --------------------------------------------------------------------------- Predictor.predict

# name: (serializer, data, deserializer, response content type, response body, expected);
# (de)serializers as (class name in sagemaker.serializers / .deserializers, keyword arguments).
PREDICT_CASES = {
    "json": (
        ("JSONSerializer", {}),
        {"inputs": [1, 2.5, "é"], "parameters": {"top_k": 3}},
        ("JSONDeserializer", {}),
        "application/json",
        json.dumps({"outputs": [0.25, 0.75], "label": "café ☃"}).encode(),
        {"outputs": [0.25, 0.75], "label": "café ☃"},
    ),
    "csv": (
        ("CSVSerializer", {}),
        [[1, 2.5], [3, 4]],
        ("CSVDeserializer", {}),
        "text/csv",
        "1,0.5\r\n2,é\r\n".encode(),
        [["1", "0.5"], ["2", "é"]],
    ),
    "numpy-npy": (
        ("NumpySerializer", {}),
        np.arange(6, dtype=np.float32).reshape(2, 3),
        ("NumpyDeserializer", {}),
        "application/x-npy",
        _npy(np.array([[1.5, 2.5], [3.5, 4.5]])),
        ("ndarray", "float64", (2, 2), [[1.5, 2.5], [3.5, 4.5]]),
    ),
    "numpy-json": (
        ("NumpySerializer", {"content_type": "application/json"}),
        np.array([1, 2, 3]),
        ("NumpyDeserializer", {"accept": "application/json"}),
        "application/json",
        b"[[1, 2], [3, 4]]",
        ("ndarray", "int64", (2, 2), [[1, 2], [3, 4]]),
    ),
    "numpy-csv": (
        ("CSVSerializer", {}),
        np.array([[1.0, 2.0]]),
        ("NumpyDeserializer", {"accept": "text/csv"}),
        "text/csv",
        b"1.5,2.5\n3,4.5\n",
        ("ndarray", "float64", (2, 2), [[1.5, 2.5], [3.0, 4.5]]),
    ),
    "pandas-csv": (
        ("CSVSerializer", {}),
        [1, 2, 3],
        ("PandasDeserializer", {}),
        "text/csv",
        b"a,b\n1,x\n2,y\n",
        None,
    ),
    "pandas-json": (
        ("JSONSerializer", {}),
        {"x": 1},
        ("PandasDeserializer", {}),
        "application/json",
        b'{"a": {"0": 1, "1": 2}, "b": {"0": "x", "1": "y"}}',
        None,
    ),
    "jsonlines": (
        ("JSONLinesSerializer", {}),
        [{"a": 1}, {"b": [2]}],
        ("JSONLinesDeserializer", {}),
        "application/jsonlines",
        b'{"a": 1}\n{"b": [2, 3]}\n',
        [{"a": 1}, {"b": [2, 3]}],
    ),
    "bytes": (
        ("IdentitySerializer", {}),
        b"\x00\x01raw\xff",
        ("BytesDeserializer", {}),
        "application/octet-stream",
        bytes(range(256)) * 40,
        bytes(range(256)) * 40,
    ),
    "string": (
        ("StringSerializer", {}),
        "héllo",
        ("StringDeserializer", {}),
        "text/plain; charset=utf-8",
        "wörld ✓".encode(),
        "wörld ✓",
    ),
    "stream": (
        ("IdentitySerializer", {"content_type": "application/json"}),
        b"{}",
        ("StreamDeserializer", {}),
        "application/x-custom",
        b"streamed " * 1000,
        ("stream", b"streamed " * 1000, "application/x-custom"),
    ),
}


def _make(sdk, module, spec):
    """A serializer or deserializer from the table: (class name, keyword arguments)."""
    name, kwargs = spec
    return getattr(getattr(sdk.sagemaker, module), name)(**kwargs)


@pytest.mark.parametrize("delivery", ["whole", "chunked"])
@pytest.mark.parametrize("name", list(PREDICT_CASES))
def test_predict_as_with_boto3(sdk, server, name, delivery):
    serializer, data, deserializer, content_type, body, expected = PREDICT_CASES[name]

    def use(client):
        predictor = sdk.sagemaker.predictor.Predictor(
            "my-endpoint",
            sagemaker_session=sm_session(sdk, client),
            serializer=_make(sdk, "serializers", serializer),
            deserializer=_make(sdk, "deserializers", deserializer),
        )
        return comparable(predictor.predict(data))

    def steps():
        if delivery == "whole":
            return [Reply(200, [("Content-Type", content_type)], body)]
        return [chunked_reply(content_type, body)]

    ours, theirs = run_both(server, use, steps)
    assert ours == theirs
    assert ours[0][0] == "ok", ours[0]
    if expected is not None:
        assert ours[0][1] == expected
    ((request_line, headers, _),) = ours[1]
    assert request_line == "POST /endpoints/my-endpoint/invocations HTTP/1.1"


def test_predict_request_options(sdk, server):
    """The SDK's request arguments (initial_args, target model / variant, inference id,
    custom attributes, inference component) reach the wire as boto3 sends them."""

    def use(client):
        predictor = sdk.sagemaker.predictor.Predictor(
            "ep",
            sagemaker_session=sm_session(sdk, client),
            serializer=sdk.sagemaker.serializers.JSONSerializer(),
            deserializer=sdk.sagemaker.deserializers.JSONDeserializer(),
            component_name="ic-1",
        )
        return predictor.predict(
            {"q": 1},
            initial_args={"Accept": "application/json", "EnableExplanations": "`true`"},
            target_model="model-a.tar.gz",
            target_variant="v2",
            inference_id="inf-7",
            custom_attributes="trace=1",
        )

    server.default = Reply(200, [("Content-Type", "application/json")], b'{"ok": true}')
    ours, theirs = run_both(server, use)
    assert ours == theirs
    assert ours[0] == ("ok", {"ok": True})
    headers = dict((k.lower(), v) for k, v in ours[1][0][1])
    assert headers["x-amzn-sagemaker-inference-component"] == "ic-1"
    assert headers["x-amzn-sagemaker-target-model"] == "model-a.tar.gz"


def test_session_keeps_the_injected_client(sdk, server):
    ours = make_ours(endpoint_url=server.url)
    session = sm_session(sdk, ours)
    predictor = sdk.sagemaker.predictor.Predictor("ep", sagemaker_session=session)
    assert session.sagemaker_runtime_client is ours
    assert predictor.sagemaker_session.sagemaker_runtime_client is ours
    assert type(ours).__module__.startswith("sagemaker_rt_c")
    server.queue(Reply(200, [("Content-Type", "application/octet-stream")], b"raw"))
    assert predictor.predict(b"in") == b"raw"
    assert server.last.header("user-agent").startswith("sagemaker_rt_c/")
    assert server.last.body == b"in"


ERRORS = {
    "model-error": Reply(
        424,
        [
            ("Content-Type", "application/json"),
            ("x-amzn-RequestId", "r-9"),
            (
                "x-amzn-ErrorType",
                "ModelError:http://internal.amazon.com/coral/com.amazon.sagemaker/",
            ),
        ],
        json.dumps(
            {
                "ErrorCode": "ModelError",
                "Message": 'Received client error (400) from primary with message "bad"',
                "OriginalStatusCode": 400,
                "OriginalMessage": "bad",
                "LogStreamArn": "arn:aws:logs:us-east-1:1:log-group:/aws/sagemaker/Endpoints/ep",
            }
        ).encode(),
    ),
    "validation": Reply(
        400,
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ValidationError:http://")],
        b'{"message": "Endpoint ep of account 1 not found."}',
    ),
}


def describe_error(use):
    """(class name, message, the response's Error, ClientError?) of what ``use`` raised."""
    import botocore.exceptions

    try:
        use()
    except Exception as e:  # noqa: BLE001 - compared between clients
        response = getattr(e, "response", None) or {}
        return (
            type(e).__name__,
            str(e),
            response.get("Error"),
            isinstance(e, botocore.exceptions.ClientError),
        )
    return None


@pytest.mark.parametrize("name", list(ERRORS))
def test_predict_errors_as_with_boto3(sdk, server, name):
    def use(client):
        predictor = sdk.sagemaker.predictor.Predictor(
            "ep", sagemaker_session=sm_session(sdk, client)
        )
        got = describe_error(lambda: predictor.predict(b"x"))
        # The client's own exception class catches it, as users write it.
        modeled = getattr(client.exceptions, got[0], None)
        if modeled is not None:
            with pytest.raises(modeled):
                predictor.predict(b"x")
        return got

    server.default = ERRORS[name]
    ours, theirs = run_both(server, use)
    assert ours == theirs
    assert ours[0][1][0] == {"model-error": "ModelError", "validation": "ValidationError"}[name]
    assert ours[0][1][3] is True


# --------------------------------------------------------------------------- predict_stream

# Lines split across events and events across chunks, as a token server sends them.
STREAM_LINES = [b'{"token": "Hel"}', b'{"token": "lo, "}', b'{"token": "w\xc3\xb6rld"}', b"{}"]
STREAM_EVENTS = [
    event(b'{"token": "Hel"}\n{"tok'),
    event(b'en": "lo, "}\n'),
    event(b""),
    event(b'{"token": "w\xc3\xb6rld"}\n{}\n'),
]
STREAM_STEPS = [STREAM_EVENTS[0], 0.02, STREAM_EVENTS[1][:9], 0.02, STREAM_EVENTS[1][9:]]
STREAM_STEPS += [b"".join(STREAM_EVENTS[2:])]


def _predictor(sdk, client, **kw):
    return sdk.sagemaker.predictor.Predictor("llm", sagemaker_session=sm_session(sdk, client), **kw)


@pytest.mark.parametrize("iterator", ["ByteIterator", "LineIterator"])
def test_predict_stream_as_with_boto3(sdk, server, iterator):
    def use(client):
        predictor = _predictor(sdk, client, serializer=sdk.sagemaker.serializers.JSONSerializer())
        it = predictor.predict_stream(
            {"inputs": "Hi", "stream": True},
            iterator=getattr(sdk.sagemaker.iterators, iterator),
            custom_attributes="c=1",
        )
        return list(it)

    ours, theirs = run_both(server, use, lambda: [Script(stream(*STREAM_STEPS))])
    assert ours == theirs
    status, got = ours[0]
    assert status == "ok", ours[0]
    if iterator == "LineIterator":
        assert got == STREAM_LINES
    else:
        assert got == [
            b'{"token": "Hel"}\n{"tok',
            b'en": "lo, "}\n',
            b"",
            b'{"token": "w\xc3\xb6rld"}\n{}\n',
        ]
    assert ours[1][0][0] == "POST /endpoints/llm/invocations-response-stream HTTP/1.1"


def test_predict_stream_error_event_as_with_boto3(sdk, server):
    """A ModelStreamError event mid-stream: the lines before it, then botocore's
    EventStreamError out of the SDK's iterator, for both."""
    steps = stream(
        event(b"line 1\nline"),
        event(b" 2\n"),
        exception_event("ModelStreamError", b'{"Message": "model broke", "ErrorCode": "424"}'),
        event(b"never\n"),
    )

    def use(client):
        it = _predictor(sdk, client).predict_stream(
            b"x", iterator=sdk.sagemaker.iterators.LineIterator
        )
        lines = []
        error = describe_error(lambda: lines.extend(it))
        return lines, error

    ours, theirs = run_both(server, use, lambda: [Script(steps)])
    assert ours == theirs
    lines, (name, message, error, is_client_error) = ours[0][1]
    assert lines == [b"line 1", b"line 2"]
    assert (name, error) == (
        "EventStreamError",
        {"Code": "ModelStreamError", "Message": "model broke"},
    )
    assert is_client_error


# --------------------------------------------------------------------------- predict_async


def test_predict_async_as_with_boto3(sdk, server):
    reply = Reply(
        202,
        [
            ("Content-Type", "application/json"),
            ("X-Amzn-SageMaker-OutputLocation", "s3://out/ep/inf-3.out"),
            ("X-Amzn-SageMaker-FailureLocation", "s3://out/ep/inf-3.err"),
        ],
        b'{"InferenceId": "inf-3"}',
    )

    def use(client):
        predictor = _predictor(sdk, client, serializer=sdk.sagemaker.serializers.JSONSerializer())
        async_predictor = sdk.sagemaker.predictor_async.AsyncPredictor(predictor)
        response = async_predictor.predict_async(
            input_path="s3://in/request.json",
            inference_id="inf-3",
            initial_args={"RequestTTLSeconds": 600},
        )
        return response.output_path, response.failure_path

    server.default = reply
    ours, theirs = run_both(server, use)
    assert ours == theirs
    assert ours[0] == ("ok", ("s3://out/ep/inf-3.out", "s3://out/ep/inf-3.err"))
    headers = dict((k.lower(), v) for k, v in ours[1][0][1])
    assert headers["x-amzn-sagemaker-inputlocation"] == "s3://in/request.json"
    assert ours[1][0][0] == "POST /endpoints/llm/async-invocations HTTP/1.1"


# --------------------------------------------------------------------------- LangChain


def content_handler(sdk):
    """A minimal ContentHandler, as langchain-aws's docs write one (a TGI-style model)."""

    class ContentHandler(sdk.LLMContentHandler):
        content_type = "application/json"
        accepts = "application/json"

        def transform_input(self, prompt, model_kwargs):
            return json.dumps({"inputs": prompt, "parameters": model_kwargs}).encode("utf-8")

        def transform_output(self, output):
            if isinstance(output, bytes):  # a line of the response stream
                return json.loads(output.decode("utf-8"))["token"]["text"]
            response_json = json.loads(output.read().decode("utf-8"))
            return response_json[0]["generated_text"]

    return ContentHandler()


def llm(sdk, client, **kw):
    model = sdk.SagemakerEndpoint(
        endpoint_name="llm-ep",
        client=client,
        content_handler=content_handler(sdk),
        model_kwargs={"max_new_tokens": 16},
        **kw,
    )
    assert model.client is client
    return model


def test_langchain_invoke_as_with_boto3(sdk, server):
    server.default = Reply(
        200,
        [("Content-Type", "application/json")],
        json.dumps([{"generated_text": "Bonjour, le monde. Fin"}]).encode(),
    )
    ours, theirs = run_both(server, lambda c: llm(sdk, c).invoke("Say hello"))
    assert ours == theirs
    assert ours[0] == ("ok", "Bonjour, le monde. Fin")
    request_line, headers, body = ours[1][0]
    assert request_line == "POST /endpoints/llm-ep/invocations HTTP/1.1"
    assert json.loads(body) == {"inputs": "Say hello", "parameters": {"max_new_tokens": 16}}
    # stop words are LangChain's, cut from the text
    ours, theirs = run_both(server, lambda c: llm(sdk, c).invoke("Say hello", stop=[r"\."]))
    assert ours == theirs
    assert ours[0] == ("ok", "Bonjour, le monde")


TOKENS = ["Bon", "jour", ", ", "le ", "monde ✓"]
TOKEN_LINES = b"".join(
    json.dumps({"token": {"text": t}}, ensure_ascii=False).encode() + b"\n" for t in TOKENS
)
# The payloads of the events: cut at places that are not line ends.
_CUTS = [0, 5, 31, 32, 60, 90, len(TOKEN_LINES)]
TOKEN_PAYLOADS = [TOKEN_LINES[a:b] for a, b in zip(_CUTS, _CUTS[1:], strict=False)]


def token_events():
    return [event(p) for p in TOKEN_PAYLOADS]


@pytest.mark.parametrize("how", ["stream", "invoke-streaming"])
def test_langchain_streaming_as_with_boto3(sdk, server, how):
    def use(client):
        if how == "stream":
            return [chunk for chunk in llm(sdk, client).stream("Say hello")]
        # streaming=True: invoke() goes through the response stream, each token reaching the
        # callbacks as it arrives.
        from langchain_core.callbacks import BaseCallbackHandler

        tokens = []

        class Collect(BaseCallbackHandler):
            def on_llm_new_token(self, token, **kwargs):
                tokens.append(token)

        text = llm(sdk, client, streaming=True).invoke(
            "Say hello", config={"callbacks": [Collect()]}
        )
        return text, tokens

    ours, theirs = run_both(server, use, lambda: [Script(stream(*token_events()))])
    assert ours == theirs
    expected = TOKENS if how == "stream" else ("".join(TOKENS), TOKENS)
    assert ours[0] == ("ok", expected)
    request_line, headers, body = ours[1][0]
    assert request_line == "POST /endpoints/llm-ep/invocations-response-stream HTTP/1.1"
    assert ("Content-Type", "application/json") in headers


@pytest.mark.parametrize("where", ["invoke", "stream"])
def test_langchain_errors_as_with_boto3(sdk, server, where):
    import logging

    logging.getLogger("langchain_aws").disabled = True  # it logs the traceback it re-raises
    try:
        if where == "invoke":
            server.default = ERRORS["model-error"]
            ours, theirs = run_both(
                server, lambda c: describe_error(lambda: llm(sdk, c).invoke("hi"))
            )
            assert ours[0][1][0] == "ModelError"
        else:
            steps = stream(
                *token_events()[:2],
                exception_event("ModelStreamError", b'{"Message": "broke", "ErrorCode": "424"}'),
            )
            ours, theirs = run_both(
                server,
                lambda c: describe_error(lambda: list(llm(sdk, c).stream("hi"))),
                lambda: [Script(steps)],
            )
            assert ours[0][1][0] == "EventStreamError"
    finally:
        logging.getLogger("langchain_aws").disabled = False
    assert ours == theirs


def chat_model(sdk, client):
    """langchain-aws's ChatSagemakerEndpoint with a minimal chat content handler (an
    OpenAI-style messages API: a JSON answer, or JSON lines of deltas when streaming)."""
    from langchain_core.messages import AIMessage

    class ChatHandler(sdk.ChatModelContentHandler):
        content_type = "application/json"
        accepts = "application/json"

        def transform_input(self, messages, model_kwargs):
            return json.dumps({"messages": messages, **model_kwargs}).encode("utf-8")

        def transform_output(self, output):
            if isinstance(output, bytes):  # a line of the response stream
                return AIMessage(content=json.loads(output)["token"]["text"])
            answer = json.loads(output.read().decode("utf-8"))
            return AIMessage(content=answer["choices"][0]["message"]["content"])

    model = sdk.ChatSagemakerEndpoint(
        endpoint_name="chat-ep",
        client=client,
        content_handler=ChatHandler(),
        model_kwargs={"temperature": 0},
    )
    assert model.client is client
    return model


MESSAGES = [("system", "Be brief."), ("human", "Say hello in French.")]


def test_langchain_chat_invoke_as_with_boto3(sdk, server):
    answer = {"choices": [{"message": {"role": "assistant", "content": "Bonjour ✓"}}]}
    server.default = Reply(200, [("Content-Type", "application/json")], json.dumps(answer).encode())
    ours, theirs = run_both(server, lambda c: chat_model(sdk, c).invoke(MESSAGES).content)
    assert ours == theirs
    assert ours[0] == ("ok", "Bonjour ✓")
    request_line, headers, body = ours[1][0]
    assert request_line == "POST /endpoints/chat-ep/invocations HTTP/1.1"
    assert json.loads(body) == {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello in French."},
        ],
        "temperature": 0,
    }


def test_langchain_chat_stream_as_with_boto3(sdk, server):
    def use(client):
        return [chunk.content for chunk in chat_model(sdk, client).stream(MESSAGES)]

    ours, theirs = run_both(server, use, lambda: [Script(stream(*token_events()))])
    assert ours == theirs
    assert ours[0] == ("ok", [*TOKENS, ""])  # langchain-core ends with an empty last chunk
    assert ours[1][0][0] == "POST /endpoints/chat-ep/invocations-response-stream HTTP/1.1"


# --------------------------------------------------------------------------- as events arrive


@pytest.mark.parametrize("consumer", ["ByteIterator", "LineIterator", "langchain"])
@pytest.mark.parametrize("make", [make_ours, make_boto3], ids=["ours", "boto3"])
def test_streams_reach_the_caller_as_events_arrive(sdk, server, consumer, make):
    """The server holds back the rest of the stream until the caller has had the first
    token through the SDK's iterator: nothing on the way buffers the stream."""
    first_seen = threading.Event()
    events = token_events()
    server.queue(Script(stream(events[0], events[1], first_seen, *events[2:])))
    client = make(endpoint_url=server.url)
    if consumer == "langchain":
        it = iter(llm(sdk, client).stream("hi"))
        first = "Bon"
    else:
        it = _predictor(sdk, client).predict_stream(
            b"x", iterator=getattr(sdk.sagemaker.iterators, consumer)
        )
        first = TOKEN_LINES.split(b"\n")[0] if consumer == "LineIterator" else TOKEN_PAYLOADS[0]
    t0 = time.monotonic()
    assert next(it) == first
    assert time.monotonic() - t0 < 5  # well before the server's 10 s give-up
    assert not first_seen.is_set()
    first_seen.set()
    rest = list(it)
    assert rest  # and the rest followed


# --------------------------------------------------------------------------- against moto


@pytest.fixture(scope="module")
def moto_url(sdk):
    from moto.server import ThreadedMotoServer

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.mark.slow
def test_async_predict_round_trip_on_moto(sdk, moto_url, monkeypatch):
    """AsyncPredictor.predict end to end on moto: our client submits the async inference,
    moto writes its result to its S3, and the SDK's S3 client (boto3, at moto through
    AWS_ENDPOINT_URL_S3) waits for it and the SDK deserializes it."""
    import urllib.request

    results = {"results": [{"data": json.dumps({"answer": 42, "who": "é"})}]}
    request = urllib.request.Request(
        moto_url + "/moto-api/static/sagemaker/async-endpoint-results",
        data=json.dumps(results).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_url)
    ours = make_ours(endpoint_url=moto_url)
    predictor = _predictor(
        sdk,
        ours,
        serializer=sdk.sagemaker.serializers.JSONSerializer(),
        deserializer=sdk.sagemaker.deserializers.JSONDeserializer(),
    )
    async_predictor = sdk.sagemaker.predictor_async.AsyncPredictor(predictor)
    from sagemaker.async_inference import WaiterConfig

    result = async_predictor.predict(
        input_path="s3://inputs/req-1.json", waiter_config=WaiterConfig(max_attempts=1, delay=1)
    )
    assert result == {"answer": 42, "who": "é"}
    assert async_predictor.sagemaker_session.sagemaker_runtime_client is ours
