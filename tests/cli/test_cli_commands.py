"""The ``sagemaker-rt-c`` command line: help, exit codes, ``invoke``, ``presign`` and
``serve`` (``batch``: test_cli_batch.py, test_cli_resume.py; ``demo``: test_cli_demo.py)."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from clitools import REGION, cli, cli_env, echo, picky, run_cli, set_credentials
from conftest import ACCESS_KEY, ROOT, SECRET_KEY, TESTS

from sagemaker_rt_c.cli import main
from sagemaker_rt_c.local import LocalEndpoint, Response

COMMANDS = ["invoke", "batch", "presign", "serve", "demo"]


def stream(body, request):
    """Three parts, one at a time."""
    for part in (b"one ", b"two ", b"three"):
        yield part


def failing(body):
    raise RuntimeError("the model fell over")


def meta(body, request):
    return Response(b"ok", "text/plain", custom_attributes="c=1")


@pytest.fixture(scope="module")
def endpoint():
    handlers = {"echo": echo, "picky": picky, "stream": stream, "failing": failing, "meta": meta}
    with LocalEndpoint(handlers) as ep:
        yield ep


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    set_credentials(monkeypatch)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- help, version, usage ----------------------------------------------------------------


def test_top_level_help_lists_commands_and_exit_codes():
    done = run_cli("--help")
    assert done.returncode == 0
    text = done.stdout.decode()
    assert text.startswith("usage: sagemaker-rt-c")
    for name in COMMANDS:
        assert re.search(rf"^    {name} +\S", text, re.M), name
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "130 "):
        assert re.search(rf"^  {code}", text, re.M), code


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command, capsys):
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: sagemaker-rt-c {command}")
    assert "exit status" in text
    expected = {
        "invoke": ["--body", "--content-type", "--accept", "--custom-attributes",
                   "--target-model", "--target-variant", "--inference-component", "--stream",
                   "--endpoint-url", "--region", "--profile"],
        "batch": ["-o OUTPUT", "--format", "--max-concurrency N|auto", "--no-progress",
                  "--overwrite", "--csv-header", "output rows", "resume:", "--endpoint-url"],
        "presign": ["--expires-in", "--operation", "--body", "--content-type", "--region"],
        "serve": ["--endpoint NAME=TARGET", "--port", "--max-concurrency", "--latency-ms"],
        "demo": ["--workdir"],
    }[command]  # fmt: skip
    for option in expected:
        assert option in text, option


def test_python_dash_m_and_version():
    done = run_cli("--version")
    assert done.returncode == 0
    from sagemaker_rt_c import __version__

    assert done.stdout.decode().strip() == f"sagemaker-rt-c {__version__}"


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: COMMAND"),
        (["fly"], "invalid choice: 'fly'"),
        (["invoke"], "the following arguments are required: ENDPOINT, --body/-b"),
        (["invoke", "ep", "--body", "x", "--nope"], "unrecognized arguments: --nope"),
        (["presign", "ep", "--expires-in", "0"], "expected at least 1 second"),
        (["serve", "--endpoint", "noequals"], "expected NAME=module:function"),
        (["demo", "--kill-at", "1.5"], "--kill-at: expected a fraction between 0 and 1"),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_import_sagemaker_rt_c_does_not_load_the_cli():
    code = (
        "import sys, sagemaker_rt_c; sagemaker_rt_c.client; "
        "print(sorted(m for m in sys.modules if m.startswith(('sagemaker_rt_c.cli', "
        "'sagemaker_rt_c.local', 'argparse'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], env=cli_env(), capture_output=True)
    assert done.stdout.decode().strip() == "[]", done.stderr.decode()


def test_invoke_does_not_load_the_local_endpoint():
    code = (
        "import sys; from sagemaker_rt_c.cli import build_parser, _command; "
        "build_parser(_command(['invoke', 'x', '--body', 'y'])); "
        "print('sagemaker_rt_c.local' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], env=cli_env(), capture_output=True)
    assert done.stdout.decode().strip() == "False", done.stderr.decode()


def test_packaging_declares_the_script_and_the_data():
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        text = f.read()
    scripts = re.search(r"^\[project\.scripts\]\n(.*?)\n\n", text, re.M | re.S).group(1)
    assert scripts.strip() == 'sagemaker-rt-c = "sagemaker_rt_c.cli:main"'
    assert '"sagemaker_rt_c.cli",' in text
    assert re.search(r'^"sagemaker_rt_c\.cli" = \["reviews\.jsonl\.gz"\]$', text, re.M)
    assert os.path.getsize(os.path.join(ROOT, "sagemaker_rt_c", "cli", "reviews.jsonl.gz")) > 0


# --- invoke ------------------------------------------------------------------------------


def invoke(endpoint, *args):
    return main(["invoke", *args, "--endpoint-url", endpoint.url])


def test_invoke_writes_the_body_raw(endpoint, tmp_path, capsysbinary):
    payload = bytes(range(256)) * 3
    (tmp_path / "req.bin").write_bytes(payload)
    rc = invoke(endpoint, "echo", "--body", f"@{tmp_path / 'req.bin'}",
                "--content-type", "application/x-bytes")  # fmt: skip
    assert rc == 0
    out, err = capsysbinary.readouterr()
    assert out == payload and err == b""


def test_invoke_text_and_stdin_bodies(endpoint, capsysbinary, monkeypatch):
    assert invoke(endpoint, "picky", "--body", '{"n": 21}', "--accept", "application/json") == 0
    out = json.loads(capsysbinary.readouterr().out)
    assert out == {"double": 42, "ct": None, "accept": "application/json"}

    import io

    stdin = io.TextIOWrapper(io.BytesIO('{"n": 5}'.encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert invoke(endpoint, "picky", "--body", "-", "--content-type", "application/json") == 0
    assert json.loads(capsysbinary.readouterr().out)["double"] == 10


def test_invoke_verbose_prints_metadata_to_stderr(endpoint, capsysbinary):
    assert invoke(endpoint, "meta", "--body", "x", "-v") == 0
    out, err = capsysbinary.readouterr()
    assert out == b"ok"
    err = err.decode()
    assert "HTTPStatusCode: 200" in err and "RequestId: " in err
    assert "ContentType: text/plain" in err and "CustomAttributes: c=1" in err
    assert "InvokedProductionVariant: AllTraffic" in err


def test_invoke_stream_writes_each_part(endpoint, capsysbinary):
    assert invoke(endpoint, "stream", "--body", "x", "--stream") == 0
    assert capsysbinary.readouterr().out == b"one two three"


def test_invoke_model_error_exit_1(endpoint, capsysbinary):
    assert invoke(endpoint, "failing", "--body", "x") == 1
    out, err = capsysbinary.readouterr()
    assert out == b""
    assert err.decode().startswith(
        "Error: ModelError: Received server error (500) from primary with message"
        ' "RuntimeError: the model fell over".'
    )


@pytest.mark.parametrize(
    "args, env, code, message",
    [
        (["nope"], {}, 3, "Error: ValidationError: Endpoint nope of account 123456789012 not"),
        (["echo"], {"AWS_ACCESS_KEY_ID": None}, 3, "Error: NoCredentialsError: Unable to locate"),
        (["echo"], {"AWS_DEFAULT_REGION": None}, 3, "Error: NoRegionError: You must specify"),
        (["echo", "--profile", "ghost"], {}, 3, "Error: ProfileNotFound: The config profile"),
        (["echo", "--custom-attributes", "a\nb"], {}, 2, "ParamValidationError: Parameter"),
        (["echo", "--body", "@/no/such/file"], {}, 2, "--body: cannot read '/no/such/file'"),
        (["echo", "--stream", "--target-model", "m"], {}, 2, "--target-model: not a parameter"),
    ],
)  # fmt: skip
def test_invoke_errors_and_exit_codes(endpoint, monkeypatch, capsysbinary, args, env, code,
                                      message):  # fmt: skip
    for k in env:
        monkeypatch.delenv(k)
    if "--body" not in args:
        args = [*args, "--body", "x"]
    assert invoke(endpoint, *args) == code
    out, err = capsysbinary.readouterr()
    assert out == b""
    assert message in err.decode() and b"Traceback" not in err


def test_invoke_unreachable_exit_4(capsysbinary):
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["invoke", "echo", "--body", "x", "--endpoint-url", url]) == 4
    err = capsysbinary.readouterr().err.decode()
    assert err.startswith("Error: EndpointConnectionError: Could not connect to the endpoint URL")


def test_invoke_hides_user_info_of_urls(capsysbinary):
    url = f"http://user:s3cret@127.0.0.1:{free_port()}"
    assert main(["invoke", "echo", "--body", "x", "--endpoint-url", url]) == 4
    err = capsysbinary.readouterr().err.decode()
    assert "s3cret" not in err and "://***@127.0.0.1" in err


def test_invoke_in_a_child_process(endpoint):
    done = run_cli("invoke", "picky", "--body", '{"n": 2}', "--endpoint-url", endpoint.url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["double"] == 4
    done = run_cli("invoke", "failing", "--body", "x", "--endpoint-url", endpoint.url)
    assert done.returncode == 1 and done.stderr.startswith(b"Error: ModelError: ")


# --- presign -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_endpoint():
    with LocalEndpoint({"echo": echo}, credentials=(ACCESS_KEY, SECRET_KEY)) as ep:
        yield ep


def post(url, data=b"", headers=None):
    req = urllib.request.Request(url, data=data, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_presign_url_is_accepted_by_a_verifying_endpoint(signed_endpoint, capsys):
    ep = signed_endpoint
    assert main(["presign", "echo", "--expires-in", "60", "--endpoint-url", ep.url]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith(f"{ep.url}/endpoints/echo/invocations?X-Amz-Algorithm=AWS4-HMAC-SHA256")
    assert f"X-Amz-Credential={ACCESS_KEY}%2F" in url and "X-Amz-Expires=60&" in url
    assert SECRET_KEY not in url
    assert post(url) == (200, b"")
    forged = re.sub(r"X-Amz-Signature=[0-9a-f]{4}", "X-Amz-Signature=0000", url)
    status, body = post(forged)
    assert status == 403 and b"signature we calculated does not match" in body


def test_presign_signs_the_content_type(signed_endpoint, capsys):
    args = ["presign", "echo", "--content-type", "text/plain", "--endpoint-url",
            signed_endpoint.url]  # fmt: skip
    assert main(args) == 0
    url = capsys.readouterr().out.strip()
    assert "X-Amz-SignedHeaders=content-type%3Bhost" in url
    assert post(url, headers={"Content-Type": "text/plain"})[0] == 200
    assert post(url, headers={"Content-Type": "application/json"})[0] == 403


def test_presign_async_operation(capsys):
    args = ["presign", "ep", "--operation", "invoke_endpoint_async", "--input-location",
            "s3://bucket/in.json", "--region", REGION]  # fmt: skip
    assert main(args) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith(
        f"https://runtime.sagemaker.{REGION}.amazonaws.com/endpoints/ep/async-invocations?"
    )
    assert "X-Amz-SignedHeaders=host%3Bx-amzn-sagemaker-inputlocation" in url


def test_presign_errors(monkeypatch, capsys):
    args = ["presign", "ep", "--operation", "invoke_endpoint_async", "--target-model", "m"]
    assert main(args) == 2
    assert 'Unknown parameter in input: "TargetModel"' in capsys.readouterr().err
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    assert main(["presign", "ep"]) == 3
    assert "Error: NoCredentialsError" in capsys.readouterr().err


# --- serve -------------------------------------------------------------------------------


def test_serve_parses_as_the_local_endpoint_command():
    from sagemaker_rt_c.cli import build_parser
    from sagemaker_rt_c.local.__main__ import build_parser as local_parser

    argv = ["serve", "--endpoint", "a=m:f", "-e", "b=http://h:1", "--port", "8765",
            "--max-concurrency", "3", "--s3-dir", "d", "--credentials-from-env", "--region",
            "eu-west-1", "--latency-ms", "2.5", "--threads", "4", "-q"]  # fmt: skip
    ours = vars(build_parser("serve").parse_args(argv))
    theirs = vars(local_parser().parse_args(argv))
    for private in ("_run", "_parser"):
        ours.pop(private)
    assert ours == theirs


def test_serve_runs_until_sigterm(tmp_path):
    env = cli_env(PYTHONPATH=os.pathsep.join([ROOT, TESTS]))
    proc = subprocess.Popen(
        cli("serve", "--endpoint", "echo=clitools:echo", "--s3-dir", str(tmp_path)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = proc.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:")
        done = run_cli("invoke", "echo", "--body", "hello", "--endpoint-url", url)
        assert done.returncode == 0 and done.stdout == b"hello"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert b"local endpoint on " + url.encode() in err and b"stopped" in err


def test_serve_cannot_start_exit_1():
    done = run_cli("serve", "--endpoint", "x=no_such_module_here:f")
    assert done.returncode == 1
    assert b"serve: " in done.stderr and b"no_such_module_here" in done.stderr


def test_rejected_credentials_exit_3(signed_endpoint, tmp_path, monkeypatch, capsysbinary):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    assert invoke(signed_endpoint, "echo", "--body", "x") == 3
    err = capsysbinary.readouterr().err.decode()
    assert err.startswith("Error: InvalidSignatureException: The request signature we calculated")
    assert "not-the-secret" not in err
    src = tmp_path / "in.txt"
    src.write_text("a\nb\nc\n")
    out = tmp_path / "out.jsonl"
    args = ["batch", "echo", str(src), "-o", str(out), "--endpoint-url", signed_endpoint.url]
    assert main(args) == 3
    err = capsysbinary.readouterr().err.decode()
    assert "Error: InvalidSignatureException" in err and "stopped at record 0" in err
    assert out.read_bytes() == b""
