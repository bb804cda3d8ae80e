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
