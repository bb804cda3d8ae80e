"""Child of test_aio_leak.py: ``leak_child.py URL WARMUP TOTAL LOOP`` makes WARMUP then TOTAL
calls on one sagemaker_rt_c.aio client (64 at a time, gathered; a tenth of them the model's
errors), checks each result, and prints one JSON line: the RSS and descriptor counts after
the warm-up and at the end."""

import asyncio
import gc
import json
import os
import sys

from sagemaker_rt_c.aio import get_session
from sagemaker_rt_c.config import Config


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def fds():
    return len(os.listdir("/proc/self/fd"))


async def main(url, warmup, total):
    session = get_session()
    kw = dict(
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=Config(max_pool_connections=16),
    )
    out = {}
    async with session.create_client("sagemaker-runtime", **kw) as c:

        async def one(i):
            body = (f"fail:{i}" if i % 10 == 3 else f"id:{i}").encode()
            try:
                r = await c.invoke_endpoint(EndpointName="echo", Body=body)
            except c.exceptions.ModelError as e:
                return e.response["OriginalMessage"] == body.decode()
            return await r["Body"].read() == body

        async def calls(start, n):
            bad = 0
            for k in range(start, start + n, 64):
                got = await asyncio.gather(*(one(i) for i in range(k, min(k + 64, start + n))))
                bad += got.count(False)
            return bad

        bad = await calls(0, warmup)
        gc.collect()
        out["rss_warm"], out["fds_warm"] = rss(), fds()
        bad += await calls(warmup, total)
        gc.collect()
        out["rss_end"], out["fds_end"] = rss(), fds()
        out["bad"] = bad
    out["fds_closed"] = fds()
    return out


if __name__ == "__main__":
    url, warmup, total, loop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    factory = None
    if loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        result = runner.run(main(url, warmup, total))
    print(json.dumps(result))
