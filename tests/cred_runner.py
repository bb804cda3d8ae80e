"""Run by the differential credential tests in a fresh interpreter, once for boto3 and once
for sagemaker_rt_c, under the same environment and files.

    python cred_runner.py {boto3|ours} '{"session_kwargs": {...}, "client_kwargs": {...},
                                         "container_ip": "host:port"}'

It makes a Session and a sagemaker-runtime client (``session_kwargs`` / ``client_kwargs``;
``container_ip`` replaces 169.254.170.2 for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI), sends
InvokeEndpoint to a capture server of its own on loopback and prints one JSON line: the
access key and region of the request's Authorization scope, the X-Amz-Security-Token it
carried, a SHA-256 of the secret key (never the secret), the account id and provider method
of the credentials object, the client's region; or the exception's class name and message.
"""

import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer


def main():
    which = sys.argv[1]
    opts = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    captured = {}

    class Capture(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            captured["auth"] = self.headers.get("Authorization")
            captured["token"] = self.headers.get("X-Amz-Security-Token")
            body = b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kwargs = dict(opts.get("client_kwargs", {}))
    kwargs.setdefault("endpoint_url", f"http://127.0.0.1:{server.server_port}")
    try:
        if which == "boto3":
            import boto3
            import botocore.utils

            if opts.get("container_ip"):
                botocore.utils.ContainerMetadataFetcher.IP_ADDRESS = opts["container_ip"]
            session = boto3.Session(**opts.get("session_kwargs", {}))
            client = session.client("sagemaker-runtime", **kwargs)

            def credentials():
                return client._request_signer._credentials

        else:
            import sagemaker_rt_c

            if opts.get("container_ip"):
                from sagemaker_rt_c.credentials import _container

                _container.ContainerMetadataFetcher.IP_ADDRESS = opts["container_ip"]
            session = sagemaker_rt_c.Session(**opts.get("session_kwargs", {}))
            client = session.client("sagemaker-runtime", **kwargs)

            def credentials():
                return client._settings.credentials

        client.invoke_endpoint(EndpointName="ep", Body=b"{}", ContentType="application/json")
        scope = captured["auth"].split("Credential=", 1)[1].split(",", 1)[0].split("/")
        creds = credentials()
        frozen = creds.get_frozen_credentials()
        out = {
            "ok": True,
            "access_key": scope[0],
            "scope_region": scope[2],
            "token": captured["token"],
            "secret_sha256": hashlib.sha256(frozen.secret_key.encode()).hexdigest(),
            "account_id": frozen.account_id,
            "method": creds.method,
            "region": client.meta.region_name,
        }
    except Exception as e:
        out = {"ok": False, "error": [type(e).__name__, str(e)]}
    server.shutdown()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
