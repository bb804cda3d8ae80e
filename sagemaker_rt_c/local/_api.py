"""The handler API of the local endpoint: what handlers receive and may return or raise.

Re-exported by ``sagemaker_rt_c.local``; the contract is in its docstring.
"""

__all__ = ["Request", "Response", "ServiceError", "inline"]


class Request:
    """What a handler's second parameter receives: the invocation's parameters.

    ``operation`` is ``"InvokeEndpoint"``, ``"InvokeEndpointWithResponseStream"`` or
    ``"InvokeEndpointAsync"``; ``content_type`` and ``accept`` are the request's (for the
    stream and async operations, from their X-Amzn-SageMaker-* headers), None when not sent;
    ``headers`` maps lower-case header names to values."""

    __slots__ = ("endpoint_name", "operation", "body", "content_type", "accept", "headers")

    def __init__(self, endpoint_name, operation, body, content_type, accept, headers):
        self.endpoint_name = endpoint_name
        self.operation = operation
        self.body = body
        self.content_type = content_type
        self.accept = accept
        self.headers = headers

    @property
    def custom_attributes(self):
        return self.headers.get("x-amzn-sagemaker-custom-attributes")

    @property
    def inference_id(self):
        return self.headers.get("x-amzn-sagemaker-inference-id")

    @property
    def target_model(self):
        return self.headers.get("x-amzn-sagemaker-target-model")

    @property
    def target_variant(self):
        return self.headers.get("x-amzn-sagemaker-target-variant")

    @property
    def session_id(self):
        return self.headers.get("x-amzn-sagemaker-session-id")

    @property
    def streaming(self):
        return self.operation == "InvokeEndpointWithResponseStream"

    def __repr__(self):
        return (
            f"<Request {self.operation} {self.endpoint_name!r} {len(self.body)} bytes"
            f" content_type={self.content_type!r} accept={self.accept!r}>"
        )


class Response:
    """A handler's full answer. ``body``: bytes, str, a JSON-able object, or an iterator /
    generator / async generator of parts (streamed as PayloadPart events). A ``status`` of
    300 or more is a model failure: the client gets a ModelError (424) whose
    OriginalStatusCode is that status and OriginalMessage the body, as when a container
    answers so. ``custom_attributes`` becomes X-Amzn-SageMaker-Custom-Attributes;
    ``headers`` are more response headers ((name, value) pairs or a dict)."""

    __slots__ = ("body", "content_type", "status", "custom_attributes", "headers")

    def __init__(self, body=b"", content_type=None, *, status=200, custom_attributes=None,
                 headers=None):  # fmt: skip
        self.body = body
        self.content_type = content_type
        self.status = status
        self.custom_attributes = custom_attributes
        self.headers = list(headers.items()) if isinstance(headers, dict) else headers

    def __repr__(self):
        return f"<Response {self.status} {self.content_type!r}>"


class ServiceError(Exception):
    """Raise in a handler to answer with a service error of your choice, e.g.
    ``ServiceError("ModelNotReadyException", "Model is loading", status=429)``: the JSON
    body ``{"message": message, **fields}`` with ``x-amzn-ErrorType: code``."""

    def __init__(self, code, message, status=400, **fields):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields


def inline(fn):
    """Mark a handler as cheap and non-blocking: it is called on the event loop itself, with
    no thread hand-off (several times the throughput for small pure-Python models). Only for
    handlers that return in well under a millisecond and never block."""
    fn._smrt_local_inline = True
    return fn
