"""``sagemaker-rt-c demo`` (``make demo``): the command line end to end, with no AWS account.

Starts a local endpoint serving the built-in sentiment model (``sagemaker-rt-c serve`` in a
subprocess), makes one call (``invoke``), runs ``batch`` over the 10,000 product reviews
shipped with the package (``reviews.jsonl.gz``, made by tools/gen_reviews.py), shows a few
results, then runs the same batch again, kills it with SIGKILL mid-run, reruns it, and checks
that the resumed output is the first run's: every index 0..n-1 exactly once, the same rows.
Every step is a real ``sagemaker-rt-c`` process; their commands are printed.
"""

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

from . import _common

HELP = "a local endpoint, a 10,000-record batch, a kill -9 and a resume (no AWS account)"

_DESCRIPTION = """\
Show the command line end to end on this machine, without an AWS account: a local endpoint
with a sentiment model (serve), one call (invoke), a batch of the 10,000 product reviews
shipped with the package, then the same batch killed with SIGKILL mid-run and resumed,
checked against the first run. About 10 seconds."""

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reviews.jsonl.gz")
MODEL = "sagemaker_rt_c.local.models:sentiment"
# The local endpoint checks no signature: any keys do; never the user's own.
_DEMO_ENV = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def add_parser(commands):
    parser = commands.add_parser(
        "demo",
        help=HELP,
        description=_DESCRIPTION,
        epilog="exit status: 0 when every step did what it says, 1 otherwise.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--workdir",
        metavar="DIR",
        help="keep the outputs in DIR (default: a temporary directory, removed at the end)",
    )
    parser.add_argument(
        "--kill-at",
        type=float,
        default=0.4,
        metavar="FRACTION",
        help="kill the second batch once this fraction of the rows is written (default 0.4)",
    )
    return parser


class DemoFailed(_common.CliError):
    def report(self, prog):
        print(f"demo: FAILED: {self}", file=sys.stderr)


def run(args):
    if not 0.0 < args.kill_at < 1.0:
        raise _common.UsageError("--kill-at: expected a fraction between 0 and 1")
    started = time.monotonic()
    if args.workdir:
        os.makedirs(args.workdir, exist_ok=True)
        return _Demo(args.workdir, args.kill_at).run(started, keep=True)
    with tempfile.TemporaryDirectory(prefix="sagemaker-rt-c-demo-") as work:
        return _Demo(work, args.kill_at).run(started, keep=False)


def _say(text=""):
    print(text, flush=True)


class _Demo:
    def __init__(self, work, kill_at):
        self.work = work
        self.kill_at = kill_at
        self.env = _child_env()
        self.url = None

    def cli(self, *args):
        return [sys.executable, "-m", "sagemaker_rt_c", *args]

    def show(self, *args):
        _say("  $ sagemaker-rt-c " + " ".join(shlex.quote(a) for a in args))

    def run(self, started, keep):
        _say("sagemaker-rt-c demo: the command line against a local endpoint (no AWS account).")
        _say()
        serve_args = ["serve", "--endpoint", f"sentiment={MODEL}", "--latency-ms", "1", "--quiet"]
        _say(f"1. A local endpoint: a bag-of-words sentiment model ({MODEL}),")
        _say("   with 1 ms of service time added to each call, as a small real model would take.")
        self.show(*serve_args)
        server = subprocess.Popen(
            self.cli(*serve_args), stdout=subprocess.PIPE, env=self.env, text=True
        )
        try:
            self.url = _first_line(server, 20.0)
            _say(f"  listening on {self.url}")
            _say()
            self.invoke()
            first = self.batch()
            self.crash_and_resume(first)
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        where = (
            f"outputs kept in {self.work}" if keep else "outputs removed (--workdir DIR keeps them)"
        )
        _say(f"demo: OK in {time.monotonic() - started:.1f} s; {where}.")
        return _common.EXIT_OK

    def client_args(self):
        return ["--endpoint-url", self.url, "--region", "us-east-1"]

    def invoke(self):
        body = json.dumps({"text": "Not bad at all, I really love the battery life"})
        args = ["invoke", "sentiment", "--body", body, *self.client_args()]
        _say("2. One call (InvokeEndpoint); the response body goes to stdout:")
        self.show(*args)
        done = subprocess.run(self.cli(*args), env=self.env, capture_output=True, timeout=60)
        if done.returncode != 0:
            raise DemoFailed(f"invoke exited with {done.returncode}: {done.stderr.decode()}")
        _say("  " + done.stdout.decode())
        _say()

    def batch_args(self, output):
        return ["batch", "sentiment", DATA, "-o", output, *self.client_args()]

    def batch(self):
        output = os.path.join(self.work, "results.jsonl")
        args = self.batch_args(output)
        _say("3. A batch: the 10,000 product reviews shipped with the package, 4 of them broken")
        _say("   on purpose (2 lines that are not JSON, 2 records the model rejects).")
        self.show(*args)
        done = subprocess.run(self.cli(*args), env=self.env, timeout=300)
        rows = _load(output)
        failed = [r for r in rows if "Error" in r]
        if done.returncode != 1 or len(rows) != 10_000 or len(failed) != 4:
            raise DemoFailed(
                f"batch exited with {done.returncode}, {len(rows)} rows, {len(failed)} errors"
                " (expected 1: some records failed, 10000 rows, 4 errors)"
            )
        _say(
            f"  exit status {done.returncode}: some records failed (the 4 planted);"
            " every row is written."
        )
        _say("  The first rows of results.jsonl, with their reviews:")
        texts = _texts()
        for row in rows[:5]:
            out = json.loads(row["Body"])
            verdict = f"{out['label']:<8} {out['score']:.2f}"
            _say(f"    {row['index']:>4}  {verdict}  {texts[row['index']]}")
        _say("  The failed ones:")
        for row in failed:
            _say(f"    {row['index']:>4}  {row['Error']}: {_short(row['Message'], 120)}")
        _say()
        return rows

    def crash_and_resume(self, first):
        output = os.path.join(self.work, "crashed.jsonl")
        args = self.batch_args(output)
        n = len(first)
        # 2 calls at a time (the default is 32): a few seconds, time enough to kill it.
        slow = [*args, "--max-concurrency", "2", "--no-progress"]
        _say("4. Crash and resume: the same batch into another file, 2 calls at a time so that")
        at = f"{self.kill_at:.0%}"
        _say(f"   it takes a few seconds, killed with SIGKILL once {at} of the rows are written;")
        _say("   then the same command again (at the default 32 calls at a time).")
        self.show(*slow)
        proc = subprocess.Popen(self.cli(*slow), env=self.env, stderr=subprocess.DEVNULL)
        try:
            rows = _wait_rows(output, int(n * self.kill_at), proc, 120.0)
            proc.send_signal(signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if proc.returncode != -signal.SIGKILL:
            raise DemoFailed(
                f"the batch ended (exit status {proc.returncode}) before it could be killed"
            )
        with open(output, "rb") as f:
            data = f.read()
        rows = data.count(b"\n")
        partial = len(data) - (data.rfind(b"\n") + 1)
        tail = f", and {partial} bytes of an incomplete row" if partial else ""
        _say(f"  killed (SIGKILL) with {rows} complete rows written{tail}.")
        self.show(*args)
        done = subprocess.run(self.cli(*args), env=self.env, timeout=300)
        resumed = _load(output)
        indexes = [r["index"] for r in resumed]
        if indexes != list(range(n)):
            seen = set(indexes)
            raise DemoFailed(
                f"{len(resumed)} rows after resuming; missing {len(set(range(n)) - seen)},"
                f" repeated {len(indexes) - len(seen)}"
            )
        if _without_latency(resumed) != _without_latency(first):
            raise DemoFailed("the resumed output differs from the first run's")
        _say(
            f"  exit status {done.returncode}. Checked: {len(resumed)} rows, indexes 0..{n - 1}"
            " each exactly once, identical to step 3's rows (latency_ms aside):"
            " nothing lost, nothing repeated."
        )
        _say()


def _child_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(_DEMO_ENV)
    # The children import this very package, installed or not.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def _first_line(proc, timeout):
    """The first line of a child's stdout (serve prints its URL there), or DemoFailed."""
    import selectors

    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if sel.select(0.1):
                line = proc.stdout.readline().strip()
                if line:
                    return line
            if proc.poll() is not None:
                break
    raise DemoFailed(f"the local endpoint did not start (exit status {proc.poll()})")


def _wait_rows(path, rows, proc, timeout):
    """Wait until ``path`` holds ``rows`` lines (checked every 2 ms); the count seen."""
    deadline = time.monotonic() + timeout
    seen = 0
    offset = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        seen += chunk.count(b"\n")
        offset += len(chunk)
        if seen >= rows:
            return seen
        time.sleep(0.002)
    return seen


def _load(path):
    with open(path, "rb") as f:
        return [json.loads(line) for line in f]


def _without_latency(rows):
    return [{k: v for k, v in r.items() if k != "latency_ms"} for r in rows]


def _texts():
    """The reviews' texts by record number (the broken ones as they are)."""
    import gzip

    texts = []
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        for line in f:
            try:
                texts.append(_short(json.loads(line).get("text", ""), 70))
            except ValueError:
                texts.append(_short(line.strip(), 70))
    return texts


def _short(text, width):
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."
