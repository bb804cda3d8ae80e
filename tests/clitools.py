"""Helpers of the command line's tests (tests/cli): running ``sagemaker-rt-c`` in a child
process or in this one, the handlers the local endpoint serves them, reading output rows."""

import json
import os
import subprocess
import sys
import threading
import time

from conftest import ACCESS_KEY, ROOT, SECRET_KEY

from sagemaker_rt_c.local import Response, ServiceError, inline

REGION = "us-east-1"


def cli_env(**extra):
    """The environment of a child ``sagemaker-rt-c``: this checkout, example keys, no AWS
    files or instance metadata from this machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=ROOT,
    )
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def cli(*args):
    return [sys.executable, "-m", "sagemaker_rt_c", *args]


def run_cli(*args, env=None, input=None, timeout=60):
    """Run ``sagemaker-rt-c ARGS`` in a child; the CompletedProcess (bytes out, bytes err)."""
    return subprocess.run(
        cli(*args),
        env=env or cli_env(),
        input=input,
        capture_output=True,
        timeout=timeout,
        cwd=ROOT,
    )


def set_credentials(monkeypatch):
    """Example keys and region in this process's environment (for main(argv) in-process)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


def load_rows(path):
    with open(path, "rb") as f:
        return [json.loads(line) for line in f]


def without_latency(rows):
    return [{k: v for k, v in r.items() if k != "latency_ms"} for r in rows]


def wait_for_lines(path, n, proc=None, timeout=30.0):
    """Wait until ``path`` has at least ``n`` newlines (or ``proc`` ended); the count."""
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                count = f.read().count(b"\n")
        except FileNotFoundError:
            count = 0
        if count >= n or (proc is not None and proc.poll() is not None):
            return count
        time.sleep(0.005)
    return count


# --- handlers for the local endpoint ----------------------------------------------------------


@inline
def echo(body, request):
    """The body back, as bytes with the request's Content-Type (or octet-stream)."""
    return Response(body, request.content_type or "application/octet-stream")


@inline
def picky(body, request):
    """JSON in, JSON out: {"n": n} -> {"double": 2n}; a record with "fail" in it is the
    model's failure (ModelError), one with "throttle" a ThrottlingException the client
    retries and then gives up on."""
    data = json.loads(body)
    if "fail" in data:
        raise ValueError(f"cannot score record {data.get('n')}")
    if "throttle" in data:
        raise ServiceError("ThrottlingException", "Rate exceeded", 400)
    return {"double": 2 * data["n"], "ct": request.content_type, "accept": request.accept}


@inline
def binary(body, request):
    """Bytes that are not UTF-8."""
    return Response(b"\xff\xfe" + body, "application/x-binary")


class Gate:
    """A handler that waits, per call, until released (for Ctrl-C mid-run)."""

    def __init__(self):
        self.event = threading.Event()

    async def __call__(self, body, request):
        import asyncio

        while not self.event.is_set():
            await asyncio.sleep(0.005)
        return body
