"""``sagemaker-rt-c demo`` (``make demo``) and its data set."""

import gzip
import json
import os
import re
import subprocess
import sys

import pytest
from clitools import cli_env, load_rows, run_cli, without_latency
from conftest import ROOT

DATA = os.path.join(ROOT, "sagemaker_rt_c", "cli", "reviews.jsonl.gz")


def test_data_set_is_what_the_generator_makes():
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "gen_reviews.py"), "--check"],
        capture_output=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert len(lines) == 10_000
    broken = [i for i, line in enumerate(lines) if '"text"' not in line or not line.endswith("}")]
    assert broken == [1234, 4321, 7777, 9001]
    texts = [json.loads(line)["text"] for i, line in enumerate(lines) if i not in broken]
    assert len(set(texts)) > 5000 and max(map(len, texts)) < 200


@pytest.mark.slow
def test_demo_runs_and_its_claims_hold(tmp_path):
    work = tmp_path / "work"
    done = run_cli("demo", "--workdir", str(work), env=cli_env(AWS_ACCESS_KEY_ID=None),
                   timeout=120)  # fmt: skip
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, out + err
    assert "Traceback" not in err
    # Step 2: one call.
    assert re.search(r'^  \{"label":"POSITIVE","score":0\.\d+', out, re.M)
    # Step 3: the batch's own summary (stderr) and what the demo says of it (stdout).
    assert "10000 rows (complete): 9996 succeeded, 4 failed (InvalidInput: 2, ModelError: 2)" in err
    assert "exit status 1: some records failed (the 4 planted); every row is written." in out
    for index, code in ((1234, "InvalidInput"), (4321, "ModelError"), (7777, "InvalidInput"),
                        (9001, "ModelError")):  # fmt: skip
        assert re.search(rf"^ +{index}  {code}: ", out, re.M), index
    # Step 4: killed mid-run, resumed, checked.
    killed = re.search(r"killed \(SIGKILL\) with (\d+) complete rows written", out)
    assert killed and 0 < int(killed.group(1)) < 10_000, out
    assert f"resuming {work / 'crashed.jsonl'}: {killed.group(1)} of 10000 rows" in err
    assert (
        "Checked: 10000 rows, indexes 0..9999 each exactly once, identical to step 3's rows" in out
    )
    assert re.search(r"^demo: OK in \d+\.\d s; outputs kept in ", out, re.M)
    # ... and they are so.
    first, resumed = load_rows(work / "results.jsonl"), load_rows(work / "crashed.jsonl")
    assert [r["index"] for r in resumed] == list(range(10_000))
    assert without_latency(first) == without_latency(resumed)


def test_demo_directory_points_to_the_command():
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "demo", "demo.py"), "--help"], capture_output=True
    )
    assert done.returncode == 0
    assert done.stdout.decode().startswith("usage: sagemaker-rt-c demo")
