"""Start and stop a keep-alive nginx on loopback (Debian's nginx-light): plain HTTP on a free
port and, with tls=True, HTTPS on a second one, with a CA and a server certificate for
127.0.0.1 and localhost made at start-up (nothing secret is ever written outside the server's
temporary directory, which stop() removes)."""

import datetime
import ipaddress
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
        include {dir}/location.conf;
    }}
{tls_server}}}
"""

LOCATION = """
location / {
    default_type application/json;
    add_header x-Amzn-Invoked-Production-Variant AllTraffic;
    add_header x-amzn-RequestId 7d4b0c4e-9f5a-4f6e-8e2b-3c1d2a0b9e8f;
    return 200 '{"predictions": [0.25, 0.75]}';
}
"""

# nginx 1.22 (Debian 12) still offers TLS 1.0-1.2 only by default (1.23.4 added 1.3): SageMaker
# and every current client negotiate 1.3, so the protocols are named.
TLS_SERVER = """
    server {{
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {dir}/server.pem;
        ssl_certificate_key {dir}/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        include {dir}/location.conf;
    }}
"""


def _find(binary):
    for path in (shutil.which(binary), f"/usr/sbin/{binary}", f"/usr/bin/{binary}"):
        if path and os.path.exists(path):
            return path
    return None


def ensure_tool(binary, package):
    """The path of `binary`, apt-get installing Debian's `package` first when it is missing
    (as root, or through sudo)."""
    path = _find(binary)
    if path:
        return path
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    install = sudo + ["apt-get", "install", "-y", "-q", package]
    subprocess.run(install, check=False, capture_output=True)
    if not _find(binary):
        subprocess.run(sudo + ["apt-get", "update", "-q"], check=True, capture_output=True)
        subprocess.run(install, check=True, capture_output=True)
    return _find(binary)


def ensure_nginx():
    return ensure_tool("nginx", "nginx-light")


def make_certificates(directory):
    """A CA and a server certificate signed by it for 127.0.0.1 and localhost (ECDSA P-256,
    valid for a day), written to directory as ca.pem, server.pem and server.key (0600)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sagemaker_rt_c bench CA")])
    usage = dict.fromkeys(
        (
            "digital_signature content_commitment key_encipherment data_encipherment "
            "key_agreement encipher_only decipher_only"
        ).split(),
        False,
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(key_cert_sign=True, crl_sign=True, **usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    with open(os.path.join(directory, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(os.path.join(directory, "server.pem"), "wb") as f:
        f.write(server.public_bytes(pem))
    fd = os.open(os.path.join(directory, "server.key"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nginx:
    """url: the plain HTTP server; with tls=True also tls_url, the same server over HTTPS, and
    ca_file, the CA bundle that verifies it."""

    def __init__(self, tls=False):
        self.binary = ensure_nginx()
        self.dir = tempfile.mkdtemp(prefix="smrt-nginx-")
        self.port = free_port()
        self.tls_port = self.tls_url = self.ca_file = None
        tls_server = ""
        if tls:
            make_certificates(self.dir)
            while self.tls_port in (None, self.port):  # a port just released may come back
                self.tls_port = free_port()
            self.tls_url = f"https://127.0.0.1:{self.tls_port}"
            self.ca_file = os.path.join(self.dir, "ca.pem")
            tls_server = TLS_SERVER.format(dir=self.dir, tls_port=self.tls_port)
        with open(os.path.join(self.dir, "location.conf"), "w") as f:
            f.write(LOCATION)
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(CONF.format(dir=self.dir, port=self.port, tls_server=tls_server))
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "-c", os.path.join(self.dir, "nginx.conf"), "-p", self.dir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        ports = [p for p in (self.port, self.tls_port) if p]
        for _ in range(200):
            try:
                for p in ports:
                    socket.create_connection(("127.0.0.1", p), timeout=0.1).close()
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
