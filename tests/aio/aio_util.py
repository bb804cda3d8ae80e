"""Helpers of the asyncio client's tests (tests/aio): running a coroutine on a chosen event loop
(the default asyncio loop or uvloop), the client against a URL, a ticker that measures how long
the loop is kept from running, descriptor and connection counts, a local endpoint in a child
process, and comparable outcomes of a call for the differential tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

from conftest import ACCESS_KEY, ROOT, SECRET_KEY

from sagemaker_rt_c.aio import get_session

HERE = os.path.dirname(os.path.abspath(__file__))


def _uvloop_factory():
    import uvloop

    return uvloop.new_event_loop()


# The event loops the core tests run on, by name: asyncio's own and uvloop (a test extra:
# installed, never skipped).
LOOP_FACTORIES = {"asyncio": None, "uvloop": _uvloop_factory}


def run(coro, loop_factory=None):
    """Run `coro` to its end on a new loop of `loop_factory` (None: asyncio's default), closed
    afterwards with its default executor, as asyncio.run does."""
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(coro)


def aio_client(url, **kw):
    """create_client's context for the scripted server or a local endpoint at `url` (the test
    keys unless `credentials` is given)."""
    args = dict(region_name="us-east-1", endpoint_url=url)
    if "credentials" not in kw:
        args.update(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    args.update(kw)
    return get_session().create_client("sagemaker-runtime", **args)


class Ticker:
    """``async with Ticker() as t``: a task sleeping 1 ms at a time, recording the longest gap
    between two of its wake-ups (``t.max_gap``, seconds) while the block runs."""

    def __init__(self):
        self.max_gap = 0.0
        self.ticks = 0
        self._task = None

    async def _run(self):
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.001)
            now = time.monotonic()
            self.max_gap = max(self.max_gap, now - last)
            self.ticks += 1
            last = now

    async def __aenter__(self):
        self._task = asyncio.ensure_future(self._run())
        await asyncio.sleep(0)  # started
        return self

    async def __aexit__(self, *exc):
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        return False


def fd_count():
    return len(os.listdir("/proc/self/fd"))


async def _touch_loop():
    await asyncio.get_running_loop().run_in_executor(None, int)


def baseline_fds(loop_factory=None):
    """This process's descriptor count, once a loop of `loop_factory` has run (libuv keeps a
    pipe of its own from its first loop on: once per process, not per loop)."""
    run(_touch_loop(), loop_factory)
    return fd_count()


def settle(predicate, timeout=5.0):
    """Wait (sync) until predicate() is true, at most `timeout` seconds; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


async def asettle(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.01)


def fds_back_to(baseline, timeout=5.0):
    """Wait until this process has at most `baseline` descriptors open again; the count."""
    settle(lambda: fd_count() <= baseline, timeout)
    return fd_count()


def open_connections_to(port):
    """Established TCP connections whose remote end is `port` on loopback: the client's side
    of its connections to a server of this process (the server's side is not counted)."""
    count = 0
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[2].split(":")[1], 16) == port and fields[3] == "01":
                count += 1
    return count


class ChildEndpoint:
    """``python -m sagemaker_rt_c.local serve`` in a child process with the handlers of
    tests/aio/echo_handlers.py: the server's Python never competes with the client's for
    this process's GIL (what the loop-blocking and leak tests measure is the client)."""

    def __init__(self, latency_ms=0.0, endpoints=("echo",)):
        handlers = os.path.join(HERE, "echo_handlers.py")
        cmd = [sys.executable, "-m", "sagemaker_rt_c.local", "serve", "--quiet"]
        for name in endpoints:
            cmd += ["--endpoint", f"{name}={handlers}:{name.replace('-', '_')}"]
        cmd += ["--latency-ms", str(latency_ms)]
        env = dict(os.environ, PYTHONPATH=ROOT)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.close()
            raise RuntimeError(f"the local endpoint did not start: {self.url!r}")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def sync_outcome(r):
    """What a sync client's (ours or boto3's) result or exception says, comparably."""
    if isinstance(r, dict):
        return _ok_outcome(r, r["Body"].read())
    return _error_outcome(r)


async def aio_outcome(r):
    """The same for the asyncio client (its Body read with ``await``)."""
    if isinstance(r, dict):
        return _ok_outcome(r, await r["Body"].read())
    return _error_outcome(r)


def _ok_outcome(r, body):
    meta = r["ResponseMetadata"]
    rest = {k: v for k, v in r.items() if k not in ("ResponseMetadata", "Body")}
    return (
        "ok",
        body,
        rest,
        meta["HTTPStatusCode"],
        meta["RetryAttempts"],
        meta.get("MaxAttemptsReached"),
        # the server's headers (a Date differs between calls only by the second)
        {k: v for k, v in meta["HTTPHeaders"].items() if k != "date"},
    )


def _error_outcome(e):
    resp = getattr(e, "response", None)
    if resp is None:
        return (type(e).__name__, str(e))
    meta = resp["ResponseMetadata"]
    return (
        type(e).__name__,
        str(e),
        getattr(e, "operation_name", None),
        resp["Error"],
        {k: v for k, v in resp.items() if k not in ("ResponseMetadata", "Error")},
        meta["HTTPStatusCode"],
        meta["RetryAttempts"],
        meta.get("MaxAttemptsReached"),
    )
