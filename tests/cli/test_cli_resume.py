"""``sagemaker-rt-c batch`` killed with SIGKILL at random moments, then rerun until it
finishes: the output is an uninterrupted run's, row for row (latency aside), with no record
lost or repeated; after every kill what is on disk is a prefix of the rows (and at most part
of the next one)."""

import json
import os
import random
import signal
import subprocess
import time

import pytest
from clitools import cli, cli_env, load_rows, picky, run_cli, wait_for_lines, without_latency

from sagemaker_rt_c.local import LocalEndpoint

RECORDS = 3000


def make_input(path):
    with open(path, "w") as f:
        for n in range(RECORDS):
            if n in (500, 2222):
                f.write('{"n": %d,,}\n' % n)  # not JSON: an InvalidInput row
            elif n % 61 == 5:
                f.write(json.dumps({"n": n, "fail": True}) + "\n")  # ModelError
            else:
                f.write(json.dumps({"n": n}) + "\n")
            if n % 250 == 0:
                f.write("\n")  # blank lines are not records
    return str(path)


def on_disk(path):
    """(complete rows, bytes of an incomplete last line); asserts the rows are 0..k-1."""
    if not os.path.exists(path):
        return 0, 0
    with open(path, "rb") as f:
        data = f.read()
    end = data.rfind(b"\n") + 1
    rows = [json.loads(line) for line in data[:end].splitlines()]
    assert [r["index"] for r in rows] == list(range(len(rows)))
    return len(rows), len(data) - end


@pytest.mark.slow
def test_kill_9_at_random_moments_then_resume(tmp_path):
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    src = make_input(tmp_path / "in.jsonl")
    ref, out = str(tmp_path / "ref.jsonl"), str(tmp_path / "out.jsonl")
    # 3 ms a call, at most 8 at a time: ~2,700 records/s, so no run finishes in 0.3 s.
    with LocalEndpoint({"picky": picky}, latency=0.003) as ep:
        base = ["batch", "picky", src, "--endpoint-url", ep.url, "--no-progress"]
        done = run_cli(*base, "-o", ref, "--max-concurrency", "8")
        assert done.returncode == 1, done.stderr.decode()
        history = []
        mid_run = 0
        for attempt in range(6):
            concurrency = str(rng.choice([1, 2, 4, 8]))
            before, _ = on_disk(out)
            proc = subprocess.Popen(
                cli(*base, "-o", out, "--max-concurrency", concurrency),
                env=cli_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if attempt == 0:
                delay = rng.uniform(0.0, 0.3)  # from the start: maybe before any row
            else:
                wait_for_lines(out, before + 1, proc)  # it is writing rows: then at random
                delay = rng.uniform(0.0, 0.25)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            rc = proc.wait()
            rows, partial = on_disk(out)
            history.append((concurrency, round(delay, 3), rc, rows, partial))
            if rc == -signal.SIGKILL and before < rows < RECORDS:
                mid_run += 1
        why = f"seed {seed}: (concurrency, delay, exit status, rows, partial bytes) {history}"
        assert mid_run >= 2, why
        final = run_cli(*base, "-o", out)
    assert final.returncode == 1, why + final.stderr.decode()
    rows = load_rows(out)
    assert [r["index"] for r in rows] == list(range(RECORDS)), why
    assert without_latency(rows) == without_latency(load_rows(ref)), why
    codes = [r.get("Error") for r in rows]
    assert codes.count("InvalidInput") == 2 and codes.count("ModelError") == 50, why
