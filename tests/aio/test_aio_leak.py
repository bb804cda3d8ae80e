"""No leak over 100,000 calls of sagemaker_rt_c.aio (issue 12): a fresh process (leak_child.py)
makes 5,000 calls to warm up, then 100,000 more, 64 at a time, against the local endpoint's
inline path in another process; its RSS may grow by less than 10 MiB over the 100,000 and its
descriptors stay as they were (and go back when the client closes)."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aio_util import HERE, ChildEndpoint  # noqa: E402

MIB = 1 << 20


@pytest.mark.slow
@pytest.mark.perf
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_no_leak_over_100k_calls(loop):
    with ChildEndpoint() as ep:
        cmd = [sys.executable, os.path.join(HERE, "leak_child.py"), ep.url, "5000", "100000", loop]
        out = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=300,
            env=dict(os.environ, PYTHONPATH=ROOT),
        )
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["bad"] == 0
    growth = r["rss_end"] - r["rss_warm"]
    assert growth < 10 * MIB, f"{growth / MIB:.1f} MiB over 100,000 calls"
    assert r["fds_end"] == r["fds_warm"], r
    assert r["fds_closed"] < r["fds_warm"], r  # the client's connections and eventfd closed
