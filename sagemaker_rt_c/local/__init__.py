"""A local SageMaker Runtime endpoint: the service's HTTP protocol on loopback, for tests,
notebooks and demos. Any client reaches it with ``endpoint_url``: this package's, boto3's,
anyone's.

    from sagemaker_rt_c.local import LocalEndpoint

    def echo(body, request):
        return {"got": body.decode(), "content_type": request.content_type}

    with LocalEndpoint({"echo": echo, "sentiment": "sagemaker_rt_c.local.models:sentiment",
                        "ctr": "http://127.0.0.1:8080"}) as ep:
        rt = sagemaker_rt_c.client("sagemaker-runtime", endpoint_url=ep.url, ...)  # or ep.client()
        rt.invoke_endpoint(EndpointName="echo", Body=b"hi", ContentType="text/plain")

Command line: ``python -m sagemaker_rt_c.local serve --endpoint NAME=module:function
--endpoint NAME=http://host:port [--port P] [--max-concurrency N] [--s3-dir D]
[--credentials-from-env]``.

**Endpoints.** Each name maps to a Python handler (a callable, or ``"module:function"``) or
to a model container's URL (``http://host:port``): requests are forwarded to its
``/invocations`` with their Content-Type, Accept and X-Amzn-SageMaker-* headers, and its
``/ping`` is checked at start (the SageMaker container contract). While a container's
``/ping`` does not answer 200 (checked again at most once a second), its endpoint answers
what SageMaker answers for an endpoint that is not in service: ValidationError ``Endpoint
NAME of account ACCOUNT not found.`` (the reason is logged on ``sagemaker_rt_c.local``).

**The handler contract.** ``handler(body)`` or ``handler(body, request)`` (two positional
parameters: the second is a ``Request``: ``content_type``, ``accept``,
``custom_attributes``, ``inference_id``, ``target_model``, ``session_id``, ``operation``,
``endpoint_name``, ``headers``). ``body`` is the request's bytes. It returns:

- ``bytes`` (Content-Type: the request's Accept when it names one type, else
  application/octet-stream), ``str`` (UTF-8; Accept, else text/plain; charset=utf-8);
- any other JSON-able value (dict, list, number, bool): JSON, application/json;
  ``None``: an empty body;
- ``(body, content_type)``;
- ``Response(body, content_type, status=200, custom_attributes=None, headers=None)``: a
  status of 300 or more is the model's failure (ModelError, below); ``custom_attributes``
  goes back as X-Amzn-SageMaker-Custom-Attributes; ``headers`` adds response headers (e.g.
  ``X-Amzn-SageMaker-New-Session-Id``);
- a generator, iterator or async generator: a stream. ``invoke_endpoint_with_response_stream``
  sends each part as a PayloadPart event (bytes as they are, str in UTF-8, other values as a
  JSON line); ``invoke_endpoint`` and async invocations get the parts joined. A non-stream
  result on the stream operation is one PayloadPart.

A handler runs in a thread pool (``threads``, 32 by default), so it may block; an ``async
def`` handler (or async generator) runs on the event loop. ``@inline`` marks a cheap
handler that never blocks: it is called on the event loop itself, the fastest path (the
built-in models are inline). ``raise ServiceError(code, message, status)`` answers with any
service error (e.g. ``ModelNotReadyException``, 429).

**Errors, as SageMaker shapes them** (JSON body, ``x-amzn-ErrorType``; what boto3 users see):

- unknown endpoint: 400 ``ValidationError`` ``Endpoint NAME of account 123456789012 not
  found.``;
- the handler raises or returns a status >= 300, or the container answers one:
  424 ``ModelError`` with ``OriginalStatusCode`` (500 for an exception), ``OriginalMessage``
  (the body, or ``Type: message`` of the exception), ``LogStreamArn`` and SageMaker's
  message ``Received server error (500) from primary with message "..."``; a container
  that cannot be reached: the same with 502; one that does not answer within
  ``invocation_timeout`` (60 s): ModelError ``Your invocation timed out ...``;
- a generator that raises after its first part: a ``ModelStreamError`` exception event
  (``ErrorCode`` ``StreamBroken``) ends the stream;
- a request body over 6 MiB: 413 with no error type (boto3: ``ClientError``, code
  ``"413"``, ``HTTP content length exceeded 6291456 bytes.``);
- more than ``max_concurrency`` requests in flight: 429 ``ThrottlingException``
  ``Rate exceeded`` (clients retry it as throttling). In flight: from the end of a
  request's arrival to the end of its response; an inline handler finishes before the next
  request is read, so give it ``latency`` (``--latency-ms``, a service time spent on the
  event loop) to model a busy endpoint. Async invocations are queued, never throttled,
  and run at most ``max_concurrency`` (else 32) at a time;
- with ``credentials``: SigV4 is verified (header and presigned-URL signatures, the scope's
  service ``sagemaker``, 5 minutes of clock skew, presigned expiry); failures are 403
  ``InvalidSignatureException`` / ``IncompleteSignatureException`` /
  ``UnrecognizedClientException`` / ``MissingAuthenticationTokenException`` with AWS's
  messages (sagemaker_rt_c/local/sigv4check.py).

**Async invocations** read ``InputLocation`` ``s3://bucket/key`` from
``<s3_dir>/bucket/key`` (or take the inline ``Body``), answer 202 with ``InferenceId``,
``OutputLocation`` and ``FailureLocation`` at once, then write the result to
``<s3_dir>/sagemaker-local/async-output/[S3OutputPathExtension/](Filename or
InferenceId.out)`` or the error (its JSON body) to
``.../async-failures/[...]/InferenceId-error.out`` (``ep.s3_path(uri)`` maps a URI to its
file). Without ``s3_dir``, a temporary directory removed by ``stop()``.
"""

from ._api import Request, Response, ServiceError, inline
from .server import LocalEndpoint

__all__ = ["LocalEndpoint", "Request", "Response", "ServiceError", "inline", "main", "serve"]


def serve(endpoints=None, **kwargs):
    """Start a LocalEndpoint and return it (``stop()`` it, or use ``with``)."""
    return LocalEndpoint(endpoints, **kwargs).start()


def main(argv=None):
    """The command line (``python -m sagemaker_rt_c.local``); returns the exit status."""
    from .__main__ import main as _main

    return _main(argv)
