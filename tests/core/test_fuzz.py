"""The C parsers under libFuzzer with ASan and UBSan: a short run on every test run
(`make fuzz` runs longer). Also replays the corpus, regressions included."""

import os
import shutil
import subprocess

import pytest
from conftest import ROOT

# libFuzzer: a clang build and a timed run (about 20 s).
pytestmark = pytest.mark.slow

SOURCES = ["fuzz/fuzz_parsers.c", "csrc/headers.c", "csrc/h1.c", "csrc/sigv4.c", "csrc/dyn.c"]
SOURCES += ["csrc/eventstream.c"]


def clean_env():
    # Under `make test-asan` the interpreter runs with gcc's ASan preloaded; clang's fuzzer
    # brings its own runtime and must not inherit that.
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
        env.pop(k, None)
    return env


def build(tmp_path):
    clang = shutil.which("clang")
    assert clang, "clang is needed for the fuzz test: `make test` installs it (Debian's clang)"
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "openssl"], capture_output=True, text=True, check=True
    ).stdout.split()
    exe = tmp_path / "fuzz_parsers"
    subprocess.run(
        [
            clang,
            "-g",
            "-O1",
            "-DSMRT_DIRECT_LINK",
            "-fsanitize=fuzzer,address,undefined",
            "-fno-sanitize-recover=undefined",
            *[os.path.join(ROOT, s) for s in SOURCES],
            *flags,
            "-o",
            str(exe),
        ],
        check=True,
        env=clean_env(),
    )
    return exe


def test_fuzz_parsers(tmp_path):
    exe = build(tmp_path)
    corpus = tmp_path / "corpus"
    shutil.copytree(os.path.join(ROOT, "fuzz", "corpus"), corpus)
    run = subprocess.run(
        [
            str(exe),
            "-max_total_time=15",
            "-timeout=5",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Done" in run.stderr
