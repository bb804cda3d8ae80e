"""Start and stop a keep-alive nginx on a free loopback port (Debian's nginx-light)."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

CONF = """
worker_processes 1;
daemon off;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    client_body_buffer_size 8m;
    client_max_body_size 16m;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            default_type application/json;
            add_header x-Amzn-Invoked-Production-Variant AllTraffic;
            add_header x-amzn-RequestId 7d4b0c4e-9f5a-4f6e-8e2b-3c1d2a0b9e8f;
            return 200 '{{"predictions": [0.25, 0.75]}}';
        }}
    }}
}}
"""


def ensure_nginx():
    path = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if path:
        return path
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(
        sudo + ["apt-get", "install", "-y", "-q", "nginx-light"], check=False, capture_output=True
    )
    if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
        subprocess.run(sudo + ["apt-get", "update", "-q"], check=True, capture_output=True)
        subprocess.run(
            sudo + ["apt-get", "install", "-y", "-q", "nginx-light"],
            check=True,
            capture_output=True,
        )
    return shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nginx:
    def __init__(self):
        self.binary = ensure_nginx()
        self.dir = tempfile.mkdtemp(prefix="smrt-nginx-")
        self.port = free_port()
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(CONF.format(dir=self.dir, port=self.port))
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "-c", os.path.join(self.dir, "nginx.conf"), "-p", self.dir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(
            "nginx did not start: " + open(os.path.join(self.dir, "error.log")).read()
        )

    def worker_pids(self):
        """nginx's worker processes (the master's children)."""
        pid = self.proc.pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
