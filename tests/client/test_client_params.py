"""Parameters through the whole client: botocore's validation messages from the C fast path,
our refusals of unsafe header values, and bodies of every kind (buffers sent in place)."""

import array
import io
import random
import tracemalloc

import numpy
import pytest
from conftest import INVOKE_HEADER_PARAMS, make_boto3, make_ours

import sagemaker_rt_c

HEADER_PARAMS = INVOKE_HEADER_PARAMS


def outcome(fn):
    try:
        fn()
        return ("ok",)
    except Exception as e:
        return (type(e).__name__, str(e))


def random_invalid(rng):
    """Parameters botocore's validator rejects (types, missing, unknown, min length)."""
    params = {}
    if rng.random() < 0.8:
        params["EndpointName"] = rng.choice(["ep", 5, None, b"ep", ["ep"]])
    if rng.random() < 0.8:
        params["Body"] = rng.choice([b"x", "x", 3, 1.5, None, {"a": 1}, ["b"], True])
    for name in rng.sample(HEADER_PARAMS, rng.randint(0, 4)):
        params[name] = rng.choice(["", "ok", 7, None, b"v", ["v"], 2.5, False])
    if rng.random() < 0.3:
        params[rng.choice(["Bogus", "endpointName", "body", "X"])] = "v"
    return params


@pytest.mark.differential
@pytest.mark.parametrize("seed", range(120))
def test_invalid_parameters_fail_as_boto3(server, seed):
    params = random_invalid(random.Random(seed))
    theirs = outcome(lambda: make_boto3(endpoint_url=server.url).invoke_endpoint(**params))
    server.clear()
    ours = outcome(lambda: make_ours(endpoint_url=server.url).invoke_endpoint(**params))
    if theirs == ("ok",):
        assert ours == ("ok",)
    else:
        assert ours == theirs
        assert server.requests == []


UNSAFE = {
    "carriage return": "a\rb",
    "line feed": "a\nX-Injected: 1",
    "NUL": "a\x00b",
    "tab": "a\tb",
    "DEL": "a\x7fb",
    "non-ASCII": "caf\u00e9",
}


@pytest.mark.parametrize("param", HEADER_PARAMS)
@pytest.mark.parametrize("what", list(UNSAFE))
@pytest.mark.parametrize("validation", [True, False])
def test_unsafe_header_values_refused(server, param, what, validation):
    client = make_ours(
        endpoint_url=server.url,
        config=sagemaker_rt_c.Config(parameter_validation=validation),
    )
    with pytest.raises(sagemaker_rt_c.exceptions.ParamValidationError) as info:
        client.invoke_endpoint(EndpointName="ep", Body=b"x", **{param: UNSAFE[what]})
    assert param in str(info.value)
    assert server.requests == []


def test_positional_only_and_non_str_names(server):
    client = make_ours(endpoint_url=server.url)
    params = {"EndpointName": "ep", "Body": b"x"}
    # **kwargs built at run time (non-interned names) take the same path.
    name = "".join(["Content", "Type"])
    client.invoke_endpoint(**params, **{name: "text/csv"})
    assert server.last.header("Content-Type") == "text/csv"


BUFFERS = {
    "bytearray": lambda d: bytearray(d),
    "memoryview": lambda d: memoryview(d),
    "array": lambda d: array.array("B", d),
    "numpy-uint8": lambda d: numpy.frombuffer(d, dtype=numpy.uint8).copy(),
    "numpy-float32": lambda d: numpy.frombuffer(d, dtype=numpy.float32).copy(),
    "numpy-2d": lambda d: numpy.frombuffer(d, dtype=numpy.uint8).reshape(16, -1).copy(),
    "bytes-file": lambda d: io.BytesIO(d),
    "str-file": lambda d: io.StringIO(d.hex()),
}


@pytest.mark.parametrize("kind", list(BUFFERS))
def test_bodies_of_every_kind(server, kind):
    data = bytes(range(256)) * 4
    body = BUFFERS[kind](data)
    make_ours(endpoint_url=server.url).invoke_endpoint(EndpointName="ep", Body=body)
    expected = data.hex().encode() if kind == "str-file" else data
    assert server.last.body == expected
    assert server.last.header("Content-Length") == str(len(expected))


def test_non_contiguous_buffer_is_explained(server):
    body = numpy.arange(64, dtype=numpy.uint8).reshape(8, 8)[:, ::2]
    with pytest.raises(sagemaker_rt_c.exceptions.ParamValidationError) as info:
        make_ours(endpoint_url=server.url).invoke_endpoint(EndpointName="ep", Body=body)
    assert "Body" in str(info.value) and "contiguous" in str(info.value)
    assert server.requests == []


SINK_SERVER = r"""
import hashlib, socket, sys
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
while True:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            sys.exit(0)
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    n = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0]
            .split(b":")[1])
    h = hashlib.sha256(rest)
    got = len(rest)
    while got < n:
        chunk = conn.recv(1 << 20)
        h.update(chunk)
        got += len(chunk)
    digest = h.hexdigest().encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n" + digest)
"""


def test_large_buffer_body_is_not_copied():
    """A 6 MiB NumPy body is hashed and sent in place: Python allocates no copy of it.
    (The server runs in another process so that only the client's allocations are traced.)"""
    import hashlib
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", SINK_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        body = numpy.random.default_rng(0).integers(0, 255, 6 << 20, dtype=numpy.uint8)
        client = make_ours(endpoint_url=f"http://127.0.0.1:{port}")
        client.invoke_endpoint(EndpointName="ep", Body=b"warm")["Body"].read()
        tracemalloc.start()
        out = client.invoke_endpoint(EndpointName="ep", Body=body)["Body"].read()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 256 << 10, peak
        assert out.decode() == hashlib.sha256(body.tobytes()).hexdigest()
    finally:
        proc.kill()
        proc.wait()


def test_file_body_that_fails_to_read(server):
    class Broken:
        def read(self):
            raise OSError("disk on fire")

    with pytest.raises(OSError, match="disk on fire"):
        make_ours(endpoint_url=server.url).invoke_endpoint(EndpointName="ep", Body=Broken())
    assert server.requests == []


def test_file_body_returning_something_odd(server):
    class Odd:
        def read(self):
            return 42

    with pytest.raises(TypeError, match="read\\(\\) method of parameter Body returned int"):
        make_ours(endpoint_url=server.url).invoke_endpoint(EndpointName="ep", Body=Odd())
    assert server.requests == []


@pytest.mark.parametrize("body", [5, None, 1.5, {"a": 1}])
def test_unsendable_body_without_validation(server, body):
    """parameter_validation=False: botocore would fail somewhere in serialisation; ours says
    clearly which parameter is wrong and sends nothing."""
    client = make_ours(
        endpoint_url=server.url, config=sagemaker_rt_c.Config(parameter_validation=False)
    )
    with pytest.raises(sagemaker_rt_c.exceptions.ParamValidationError, match="Body"):
        client.invoke_endpoint(EndpointName="ep", Body=body)
    assert server.requests == []


@pytest.mark.differential
@pytest.mark.parametrize("validation", [True, False])
@pytest.mark.parametrize(
    "params",
    [
        {"EndpointName": "\ud800", "Body": b""},
        {"EndpointName": "ep", "Body": "\udcff"},
        {"EndpointName": "\ud800", "Body": "\udcff", "TargetModel": ""},
        {"EndpointName": "ep", "Body": "\udcff", "Bogus": 1},
    ],
)
def test_lone_surrogates_fail_as_boto3(server, params, validation):
    """botocore's validator accepts a str with a lone surrogate; its serializer then fails
    encoding it (UnicodeEncodeError), calls and presigning alike."""
    import botocore.config
    from apidiff import invoke_both, presign_both

    ours = make_ours(
        endpoint_url=server.url, config=sagemaker_rt_c.Config(parameter_validation=validation)
    )
    theirs = make_boto3(
        endpoint_url=server.url, config=botocore.config.Config(parameter_validation=validation)
    )
    (o, o_reqs), (t, _) = invoke_both(server, ours, theirs, params)
    p_ours, p_theirs = presign_both(ours, theirs, "invoke_endpoint", Params=params)
    assert o[0] == "error" and not o_reqs
    if "Bogus" in params and not validation:
        # README: what can't be serialised is still reported (boto3: KeyError 'Bogus').
        assert t[:2] == ("error", "KeyError")
        assert o[:2] == p_ours[:2] == ("error", "ParamValidationError")
        return
    assert o == t
    assert p_ours == p_theirs
