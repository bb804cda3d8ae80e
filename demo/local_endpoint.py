"""A local HTTP endpoint speaking the SageMaker Runtime protocol, for demonstrations and tests.

    server = LocalEndpoint({"sentiment": sentiment_model}).start()
    client = sagemaker_rt_c.client("sagemaker-runtime", endpoint_url=server.url, ...)

A model is a callable (body: bytes, content_type: str | None) -> (body: bytes, content_type).
A model that raises becomes a 424 ModelError, as SageMaker reports a container's failure;
an unknown endpoint name becomes a 400 ValidationError. No signature is checked.
"""

import json
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as SageMaker
    # Buffer the response and send it in one piece when the handler is done: headers and
    # body written separately meet Nagle's algorithm and the client's delayed ACK (40 ms).
    wbufsize = 1 << 16

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):  # quiet
        pass

    def _reply(self, status, body, headers):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status, code, message, **extra):
        body = json.dumps({"message": message, **extra}).encode()
        self._reply(
            status, body, [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
        )

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        parts = self.path.split("?")[0].split("/")
        if len(parts) != 4 or parts[1] != "endpoints" or parts[3] != "invocations":
            return self._error(404, "UnknownOperationException", "Unknown operation")
        name = unquote(parts[2])
        model = self.server.models.get(name)
        if model is None:
            return self._error(
                400, "ValidationError", f"Endpoint {name} of account 123456789012 not found."
            )
        try:
            out, content_type = model(body, self.headers.get("Content-Type"))
        except Exception as e:  # the container failed: SageMaker's ModelError
            return self._error(
                424,
                "ModelError",
                f'Received client error (400) from primary with message "{e}".',
                OriginalStatusCode=400,
                OriginalMessage=str(e),
                LogStreamArn=f"arn:aws:logs:local:123456789012:log-group:/aws/sagemaker/Endpoints/{name}",
            )
        headers = [
            ("Content-Type", content_type),
            ("x-Amzn-Invoked-Production-Variant", "AllTraffic"),
        ]
        attrs = self.headers.get("X-Amzn-SageMaker-Custom-Attributes")
        if attrs is not None:
            headers.append(("X-Amzn-SageMaker-Custom-Attributes", attrs))
        self._reply(200, out, headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client closing its keep-alive connection is not an error worth a traceback.
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class LocalEndpoint:
    def __init__(self, models, host="127.0.0.1", port=0):
        self._server = _Server((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.models = dict(models)
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
