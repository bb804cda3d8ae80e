"""Handlers of the local endpoint the asyncio client's tests run in a child process
(aio_util.ChildEndpoint): ``python -m sagemaker_rt_c.local serve --endpoint
echo=tests/aio/echo_handlers.py:echo``."""

from sagemaker_rt_c.local import Response, ServiceError, inline


@inline
def echo(body):
    """The request's bytes back; a body starting with ``fail`` is the model's failure (424
    ModelError, the body in its message): errors reach the right call too."""
    if body.startswith(b"fail"):
        return Response(body, "text/plain", status=400)
    return body


_seen = set()


@inline
def flaky(body):
    """The request's bytes back; a body ending in ``0`` is answered 503 ServiceUnavailable the
    first time it is seen (the client retries it after a backoff)."""
    if body.endswith(b"0") and body not in _seen:
        _seen.add(body)
        raise ServiceError("ServiceUnavailable", "Try again", 503)
    return body
