"""Memory a call leaves behind: nothing of a large response stays in the pooled connection."""

import os

import pytest
from servers import Reply

# RSS: meaningless under ASan.
pytestmark = pytest.mark.perf


def _rss_mib():
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_large_response_is_not_kept_by_the_pool(server):
    """A 64 MiB body, read and dropped: the connection goes back to the pool with its receive
    buffer freed (before, it kept the whole body: 64 MiB more RSS for the client's lifetime)."""
    from conftest import make_ours

    size = 64 << 20
    big = Reply(200, [("Content-Type", "application/octet-stream")], b"\xab" * size)
    server.default = Reply(200, [], b"{}")
    client = make_ours(endpoint_url=server.url)
    for _ in range(3):  # warm the pool
        client.invoke_endpoint(EndpointName="ep", Body=b"x")["Body"].read()
    before = _rss_mib()
    server.default = big  # made before measuring: the server's copy is not ours
    body = client.invoke_endpoint(EndpointName="ep", Body=b"x")["Body"].read()
    assert len(body) == size
    del body
    after = _rss_mib()
    assert after - before < 16, f"{after - before:.1f} MiB kept after the response was dropped"
    # the same connection still works
    server.default = Reply(200, [], b"{}")
    assert client.invoke_endpoint(EndpointName="ep", Body=b"x")["Body"].read() == b"{}"


BATCH_CHILD = r"""
import sys
import sagemaker_rt_c

def hwm_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

c = sagemaker_rt_c.client("sagemaker-runtime", region_name="us-east-1", endpoint_url=sys.argv[1],
                          aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="S" * 40)
n = int(sys.argv[2])

def requests(n):
    for i in range(n):
        yield {"EndpointName": "echo", "Body": b'{"record": %d, "pad": "%s"}' % (i, b"x" * 200),
               "ContentType": "application/json"}

# Warm up: the same path, workers and connections made, allocator arenas grown.
for r in c.invoke_endpoint_batch(requests(2000), max_concurrency=32):
    assert isinstance(r, dict), r
before = hwm_mib()
done = 0
for r in c.invoke_endpoint_batch(requests(n), max_concurrency=32):
    assert isinstance(r, dict), r
    done += 1
print(done, hwm_mib() - before)
"""


@pytest.mark.slow
def test_batch_memory_bounded_by_the_window(tmp_path):
    """invoke_endpoint_batch over a generator of 200,000 requests: the peak RSS grows by at
    most 20 MiB (the window, not the input, is held), in a fresh interpreter."""
    import subprocess
    import sys

    from conftest import ROOT

    from sagemaker_rt_c.local import LocalEndpoint, inline

    @inline
    def echo(body):
        return body

    with LocalEndpoint({"echo": echo}) as ep:
        out = subprocess.run(
            [sys.executable, "-c", BATCH_CHILD, ep.url, "200000"],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONPATH": ROOT},
        )
    assert out.returncode == 0, out.stderr
    done, growth = out.stdout.split()
    assert int(done) == 200_000
    assert float(growth) <= 20, f"peak RSS grew by {float(growth):.1f} MiB"
