"""aiobotocore's side of the aio_* workloads, run by its own interpreter: no aiobotocore release
accepts the botocore this project pins (aiobotocore 3.10.0, the newest, requires botocore
>=1.43.115,<1.43.118; the pin is 1.44.8), so it lives in a virtual environment of its own,
made by bench/context.py (`aiobotocore_python`) under bench/.venv-aiobotocore.

    aiobotocore_peer.py ENDPOINT_URL BODY_BYTES CONCURRENCY CALLS [CA_FILE]  -> calls per second

What an aiobotocore user writes: one client (AioConfig(max_pool_connections=CONCURRENCY)),
CONCURRENCY tasks each awaiting invoke_endpoint and reading its Body, on asyncio's default
loop. Each task first makes two calls (connections opened, not timed), then CALLS calls in all
are timed, from a common start to the last one's end (the process's start excluded, as the
bare libcurl loops time themselves)."""

import asyncio
import sys
import time

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

CREDS = dict(
    region_name="us-east-1",
    aws_access_key_id="AKIDEXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
)


async def main(url, body_len, concurrency, calls, ca_file):
    body = b"x" * body_len
    kw = dict(CREDS, endpoint_url=url, config=AioConfig(max_pool_connections=concurrency))
    if ca_file:
        kw["verify"] = ca_file
    async with get_session().create_client("sagemaker-runtime", **kw) as client:

        async def call():
            resp = await client.invoke_endpoint(
                EndpointName="bench", Body=body, ContentType="application/json"
            )
            await resp["Body"].read()

        async def warm():
            for _ in range(2):
                await call()

        await asyncio.gather(*(warm() for _ in range(concurrency)))
        per_task, extra = divmod(calls, concurrency)

        async def work(n):
            for _ in range(n):
                await call()

        t0 = time.perf_counter()
        await asyncio.gather(*(work(per_task + (i < extra)) for i in range(concurrency)))
        return calls / (time.perf_counter() - t0)


if __name__ == "__main__":
    url, body_len, concurrency, calls = sys.argv[1], *map(int, sys.argv[2:5])
    ca = sys.argv[5] if len(sys.argv) > 5 else None
    print(asyncio.run(main(url, body_len, concurrency, calls, ca)))
