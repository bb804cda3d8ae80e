"""An asyncio client with aiobotocore's shape, on the C engine.

    from sagemaker_rt_c.aio import get_session

    session = get_session()
    async with session.create_client("sagemaker-runtime", region_name="us-east-1") as client:
        resp = await client.invoke_endpoint(EndpointName="ep", Body=b"...")
        body = await resp["Body"].read()

``create_client`` takes the keyword arguments of ``sagemaker_rt_c.client``. Calls run on the
C engine: one I/O thread drives every call in flight over non-blocking connections (at most
``max_pool_connections`` at a time, aiobotocore's connector limit: calls beyond it queue);
completions reach the event loop through an eventfd it
watches, so nothing blocks the loop. Retry backoffs are the loop's timers; credential loads
and refreshes run in the loop's default executor. ``task.cancel()`` on a call aborts its
transfer (the connection is discarded). ``invoke_endpoint_with_response_stream``'s Body is
an ``AioEventStream``: ``async for event in resp["Body"]`` as events arrive (the I/O thread
waits for each network read; the loop decodes), ``iter_payloads()``, ``iter_lines()``.
"""

from .client import (
    AioEventStream,
    AioSageMakerRuntime,
    AioSession,
    AioStreamingBody,
    get_session,
)

__all__ = ["AioEventStream", "AioSageMakerRuntime", "AioSession", "AioStreamingBody", "get_session"]
