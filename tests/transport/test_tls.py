"""TLS as users meet it, boto3 (botocore 1.44.8, the specification) and ours against the same
local TLS servers and proxies: trusted and untrusted certificates, host names that do not
match, expired ones, CA bundles and directories, client certificates, https proxies (client
certificates, forwarding). Each differential test asserts both clients' outcome (exception
class and message, or the answer) and that they are equal.

Certificates are made at run time (trustme, and cryptography for names trustme refuses); no
private key is kept in the repository.
"""

import datetime
import ipaddress
import os
import shutil
import ssl
import subprocess

import pytest
import trustme
from conftest import make_boto3, make_ours
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from servers import Reply, ScriptedServer

import sagemaker_rt_c

pytestmark = pytest.mark.differential

BODY = b"from origin"


def outcome(client):
    try:
        out = client.invoke_endpoint(EndpointName="ep", Body=b"x")
        return ("ok", out["Body"].read())
    except Exception as e:  # noqa: BLE001 - the outcome is what is compared
        return (type(e).__name__, str(e))


def config(flavour, **kw):
    kw.setdefault("retries", {"total_max_attempts": 1})
    if flavour == "boto3":
        from botocore.config import Config

        return Config(**kw)
    return sagemaker_rt_c.Config(**kw)


def both(endpoint_url, cfg=None, **kw):
    """[boto3's outcome, ours] for one call each, made alike."""
    results = []
    for flavour, make in (("boto3", make_boto3), ("ours", make_ours)):
        client = make(endpoint_url=endpoint_url, config=config(flavour, **(cfg or {})), **kw)
        results.append(outcome(client))
    return results


def server_context(cert_pem, key_pem, client_ca=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_pem, key_pem)
    if client_ca is not None:
        client_ca.configure_trust(ctx)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class PKI:
    """A CA trusted through files, certificates issued by it, written under `root`."""

    def __init__(self, root):
        self.root = root
        self.ca = trustme.CA()
        self.ca_file = self.write("ca.pem", self.ca.cert_pem.bytes())
        self._ca_key = serialization.load_pem_private_key(self.ca.private_key_pem.bytes(), None)
        self._ca_cert = x509.load_pem_x509_certificate(self.ca.cert_pem.bytes())
        self._n = 0

    def write(self, name, data):
        path = os.path.join(self.root, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def leaf(self, dns=(), ips=(), cn=None, not_before=None, not_after=None):
        """(certificate PEM path, key PEM path) for a server certificate with these names."""
        now = datetime.datetime.now(datetime.timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else [])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - datetime.timedelta(hours=1))
            .not_valid_after(not_after or now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        names = [x509.DNSName(d) for d in dns]
        names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self._ca_key, hashes.SHA256())
        self._n += 1
        cert_path = self.write(f"leaf{self._n}.pem", cert.public_bytes(serialization.Encoding.PEM))
        key_path = self.write(
            f"leaf{self._n}.key",
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        return cert_path, key_path

    def server(self, client_ca=None, **names):
        cert, key = self.leaf(**names)
        return ScriptedServer(
            default=Reply(200, [], BODY), tls=server_context(cert, key, client_ca=client_ca)
        )


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture(scope="module")
def origin(pki):
    """An https server for 127.0.0.1 and localhost."""
    with pki.server(dns=["localhost"], ips=["127.0.0.1"]) as s:
        yield s


# ---- trusted ----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["verify-false", "verify-file", "AWS_CA_BUNDLE", "ca_bundle"])
def test_trusted(pki, origin, how, monkeypatch, tmp_path):
    kw = {}
    if how == "verify-false":
        kw["verify"] = False
    elif how == "verify-file":
        kw["verify"] = pki.ca_file
    elif how == "AWS_CA_BUNDLE":
        monkeypatch.setenv("AWS_CA_BUNDLE", pki.ca_file)
    else:
        config_file = tmp_path / "config"
        config_file.write_text(f"[default]\nca_bundle = {pki.ca_file}\n")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
        # The default sessions have read their config file already: new ones.
        monkeypatch.setattr("boto3.DEFAULT_SESSION", None)
        monkeypatch.setattr("sagemaker_rt_c.session._DEFAULT_SESSION", None)
    assert both(origin.url, **kw) == [("ok", BODY)] * 2


def test_verify_false_trusts_anything(pki):
    with pki.server(dns=["elsewhere.example"]) as s:  # nor the host, nor the CA
        assert both(s.url, verify=False) == [("ok", BODY)] * 2


# ---- certificates that do not verify ------------------------------------------------------------


def _verify_failed(url, reason):
    return (
        "SSLError",
        f"SSL validation failed for {url}/endpoints/ep/invocations [SSL: CERTIFICATE_VERIFY_FAILED]"
        f" certificate verify failed: {reason} {_ssl_site()}",
    )


def _ssl_site():
    # What Python puts after any handshake failure: "(_ssl.c:NNNN)", this build's line.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="x")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    incoming.write(b"not TLS\r\n\r\n")
    with pytest.raises(ssl.SSLError) as info:
        tls.do_handshake()
    return str(info.value).rsplit(" ", 1)[1]


def test_untrusted_ca(origin):
    # The default store knows nothing of the test CA.
    expected = _verify_failed(origin.url, "unable to get local issuer certificate")
    assert both(origin.url) == [expected] * 2


def test_self_signed(pki):
    # The CA's own certificate (self-signed) served as the server's.
    ctx = server_context(pki.ca_file, pki.write("ca.key", pki.ca.private_key_pem.bytes()))
    with ScriptedServer(default=Reply(200, [], BODY), tls=ctx) as s:
        expected = _verify_failed(s.url, "self-signed certificate")
        assert both(s.url) == [expected] * 2


@pytest.mark.parametrize("when", ["expired", "not yet valid"])
def test_validity_period(pki, when):
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)
    if when == "expired":
        period = dict(not_before=now - 10 * day, not_after=now - day)
        reason = "certificate has expired"
    else:
        period = dict(not_before=now + day, not_after=now + 10 * day)
        reason = "certificate is not yet valid"
    with pki.server(ips=["127.0.0.1"], **period) as s:
        assert both(s.url, verify=pki.ca_file) == [_verify_failed(s.url, reason)] * 2


# ---- host names (urllib3's match_hostname) ------------------------------------------------------


def _mismatch(url, detail):
    return ("SSLError", f"SSL validation failed for {url}/endpoints/ep/invocations {detail}")


# "~" stands for urllib3's "hostname '<host>' doesn't match".
@pytest.mark.parametrize(
    "host, names, detail",
    [
        ("127.0.0.1", dict(dns=["other.example"]), "~ 'other.example'"),
        ("localhost", dict(dns=["other.example"]), "~ 'other.example'"),
        (
            "localhost",
            dict(dns=["a.example", "b.example"], ips=["10.0.0.1", "::1"]),
            "~ either of 'a.example', 'b.example', '10.0.0.1', '0:0:0:0:0:0:0:1'",
        ),
        # IP addresses match iPAddress names only, never a common name.
        ("127.0.0.1", dict(cn="127.0.0.1"), "no appropriate subjectAltName fields were found"),
        ("127.0.0.1", dict(dns=["127.0.0.1"]), "~ '127.0.0.1'"),
        # A common name counts only when the certificate has no DNS or IP name.
        ("localhost", dict(cn="other.example"), "~ 'other.example'"),
        ("localhost", dict(cn="localhost", dns=["x.example"]), "~ 'x.example'"),
        ("localhost", dict(dns=["**"]), "too many wildcards in certificate DNS name: '**'"),
        # No wildcard inside an A-label: the '*' is literal.
        ("localhost", dict(dns=["xn--*"]), "~ 'xn--*'"),
        ("localhost", dict(dns=["*.localhost"]), "~ '*.localhost'"),
        ("LocalHost", dict(dns=["other.example"]), "~ 'other.example'"),
    ],
)
def test_host_mismatch(pki, host, names, detail):
    detail = detail.replace("~", f"hostname {host.lower()!r} doesn't match")
    with pki.server(**names) as s:
        url = f"https://{host}:{s.port}"
        results = both(url, verify=pki.ca_file)
        assert results[1] == _mismatch(url, detail)  # the URL as given, the host lower-cased
        assert results[0] == results[1]
        assert s.requests == []


@pytest.mark.parametrize(
    "host, names",
    [
        ("localhost", dict(cn="localhost")),  # no name at all: the common name
        ("LOCALHOST", dict(dns=["LocalHost"])),
        ("localhost", dict(dns=["*"])),  # a lone '*' matches one whole label
        ("localhost", dict(dns=["local*"])),  # partial wildcards too (libcurl refuses them)
        ("localhost", dict(dns=["*host"])),
        ("localhost", dict(dns=["a.example", "localhost"], ips=["10.0.0.1"])),
        ("127.0.0.1", dict(dns=["localhost"], ips=["::1", "127.0.0.1"])),
    ],
)
def test_host_match(pki, host, names):
    with pki.server(**names) as s:
        assert both(f"https://{host}:{s.port}", verify=pki.ca_file) == [("ok", BODY)] * 2


def test_chain_error_comes_before_the_name(pki):
    # Expired and for another name: OpenSSL's verdict first, as in botocore's handshake.
    now = datetime.datetime.now(datetime.timezone.utc)
    period = dict(
        not_before=now - datetime.timedelta(days=9), not_after=now - datetime.timedelta(days=1)
    )
    with pki.server(dns=["other.example"], **period) as s:
        expected = _verify_failed(s.url, "certificate has expired")
        assert both(s.url, verify=pki.ca_file) == [expected] * 2


# ---- CA bundles and directories -----------------------------------------------------------------


def _hashed_directory(pki, path):
    """A c_rehash/`openssl rehash` directory holding the CA (`<subject hash>.0` links)."""
    os.makedirs(path)
    shutil.copy(pki.ca_file, os.path.join(path, "ca.pem"))
    subprocess.run(["openssl", "rehash", path], check=True, capture_output=True)
    hashed = [n for n in os.listdir(path) if n.endswith(".0")]
    assert len(hashed) == 1, os.listdir(path)
    return path


def _handshake_with_capath(capath, port):
    import socket

    ctx = ssl.create_default_context(capath=capath)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost"):
            pass


@pytest.mark.parametrize("kind", ["hashed", "plain", "missing"])
def test_ca_directory_is_refused_as_botocore_does(pki, origin, kind, tmp_path):
    # botocore hands verify= to urllib3 as a CA *file* (ca_certs): a directory, even one
    # made by c_rehash, fails every call with SSLError; so does ours.
    path = str(tmp_path / "cadir")
    if kind == "hashed":
        _hashed_directory(pki, path)
        _handshake_with_capath(path, origin.port)  # a good CA directory for Python's ssl
        detail = "[Errno 21] Is a directory"
    elif kind == "plain":
        os.makedirs(path)
        shutil.copy(pki.ca_file, path)
        detail = "[Errno 21] Is a directory"
    else:
        detail = "[Errno 2] No such file or directory"
    expected = (
        "SSLError",
        f"SSL validation failed for {origin.url}/endpoints/ep/invocations {detail}",
    )
    assert both(origin.url, verify=path) == [expected] * 2


def test_ca_file_not_pem(pki, origin):
    path = pki.write("not-a-ca.pem", b"hello\n")
    expected = _mismatch(
        origin.url, "[X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found (_ssl.c:"
    )
    results = both(origin.url, verify=path)
    assert results[1][1].startswith(expected[1]), results
    assert results[0] == results[1]


def test_ca_error_needs_a_connection_first(pki):
    # Loading the CA comes after the TCP connection, in botocore as here.
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    url = f"https://127.0.0.1:{s.getsockname()[1]}"
    s.close()
    results = both(url, verify="/no/such/ca.pem")
    assert results[0][0] == results[1][0] == "EndpointConnectionError"


# ---- client certificates ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def client_files(pki):
    leaf = pki.ca.issue_cert("client@example.test")
    return dict(
        both=pki.write("client-both.pem", leaf.private_key_and_cert_chain_pem.bytes()),
        cert=pki.write("client-cert.pem", leaf.cert_chain_pems[0].bytes()),
        key=pki.write("client-key.pem", leaf.private_key_pem.bytes()),
        other_key=pki.write("other-key.pem", pki.ca.issue_cert("x.test").private_key_pem.bytes()),
        garbage=pki.write("garbage.pem", b"hello\n"),
    )


@pytest.fixture(scope="module")
def mtls_origin(pki):
    """An https server that requires a client certificate from the test CA."""
    with pki.server(client_ca=pki.ca, ips=["127.0.0.1"]) as s:
        yield s


@pytest.mark.parametrize("form", ["one file", "tuple"])
def test_client_certificate(pki, mtls_origin, client_files, form):
    cert = (
        client_files["both"] if form == "one file" else (client_files["cert"], client_files["key"])
    )
    assert (
        both(mtls_origin.url, cfg=dict(client_cert=cert), verify=pki.ca_file) == [("ok", BODY)] * 2
    )
    assert mtls_origin.peer_certs[-1] is not None  # the server saw a certificate


@pytest.mark.parametrize(
    "which, expected",
    [
        ("missing cert", ("ConnectionClosedError", None)),
        ("missing key", ("ConnectionClosedError", None)),
        ("garbage cert", ("SSLError", "[SSL] PEM lib (_ssl.c:")),
        ("cert without key", ("SSLError", "[SSL] PEM lib (_ssl.c:")),
        (
            "mismatched key",
            ("SSLError", "[X509: KEY_VALUES_MISMATCH] key values mismatch (_ssl.c:"),
        ),
    ],
)
def test_client_certificate_unusable(pki, mtls_origin, client_files, which, expected):
    f = client_files
    cert = {
        "missing cert": "/no/such/cert.pem",
        "missing key": (f["cert"], "/no/such/key.pem"),
        "garbage cert": f["garbage"],
        "cert without key": f["cert"],
        "mismatched key": (f["cert"], f["other_key"]),
    }[which]
    results = both(mtls_origin.url, cfg=dict(client_cert=cert), verify=pki.ca_file)
    assert results[0] == results[1]
    name, message = results[1]
    assert name == expected[0]
    url = f"{mtls_origin.url}/endpoints/ep/invocations"
    if expected[1] is None:
        closed = "Connection was closed before we received a valid response from endpoint URL"
        assert message == f'{closed}: "{url}".'
    else:
        assert message.startswith(f"SSL validation failed for {url} {expected[1]}"), message


# ---- https proxies ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def proxy_pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("proxy-pki")))


def _proxy(pki, client_ca=None):
    cert, key = pki.leaf(dns=["localhost"])
    return ScriptedServer(
        default=Reply(200, [], b"from proxy"),
        tls=server_context(cert, key, client_ca=client_ca),
        relay_connect=True,
    )


@pytest.fixture
def https_proxy(proxy_pki):
    with _proxy(proxy_pki) as p:
        yield p


@pytest.fixture
def mtls_proxy(proxy_pki):
    """An https proxy that requires a client certificate (CERT_REQUIRED)."""
    with _proxy(proxy_pki, client_ca=proxy_pki.ca) as p:
        yield p


def _through(proxy, endpoint_url, proxies_config, **kw):
    """Both clients' outcome and what the proxy saw of each: (request line, Host,
    Proxy-Authorization)."""
    seen = []
    results = []
    scheme = endpoint_url.partition(":")[0]
    for flavour, make in (("boto3", make_boto3), ("ours", make_ours)):
        proxy.clear()
        cfg = config(flavour, proxies={scheme: proxy.proxy_url}, proxies_config=proxies_config)
        results.append(outcome(make(endpoint_url=endpoint_url, config=cfg, **kw)))
        seen.append(
            [
                (
                    r.raw.split(b"\r\n", 1)[0].decode(),
                    r.header("Host"),
                    r.header("Proxy-Authorization"),
                )
                for r in proxy.requests
            ]
        )
    return results, seen


@pytest.fixture(scope="module")
def proxy_client(proxy_pki):
    leaf = proxy_pki.ca.issue_cert("proxy-client@example.test")
    return dict(
        both=proxy_pki.write("pc-both.pem", leaf.private_key_and_cert_chain_pem.bytes()),
        cert=proxy_pki.write("pc-cert.pem", leaf.cert_chain_pems[0].bytes()),
        key=proxy_pki.write("pc-key.pem", leaf.private_key_pem.bytes()),
    )


@pytest.mark.parametrize("form", ["one file", "tuple"])
@pytest.mark.parametrize("dest", ["http", "https"])
def test_proxy_client_certificate(proxy_pki, pki, mtls_proxy, origin, proxy_client, form, dest):
    mtls_proxy.proxy_url = f"https://localhost:{mtls_proxy.port}"
    cert = (
        proxy_client["both"] if form == "one file" else (proxy_client["cert"], proxy_client["key"])
    )
    pc = {"proxy_ca_bundle": proxy_pki.ca_file, "proxy_client_cert": cert}
    if dest == "http":
        results, seen = _through(mtls_proxy, "http://dest.example:81", pc)
        assert results == [("ok", b"from proxy")] * 2
        assert (
            seen[0]
            == seen[1]
            == [
                (
                    "POST http://dest.example:81/endpoints/ep/invocations HTTP/1.1",
                    "dest.example:81",
                    None,
                )
            ]
        )
    else:
        results, seen = _through(mtls_proxy, origin.url, pc, verify=pki.ca_file)
        assert results == [("ok", BODY)] * 2
        assert [s[0][0] for s in seen] == [
            f"CONNECT 127.0.0.1:{origin.port} HTTP/1.0",
            f"CONNECT 127.0.0.1:{origin.port} HTTP/1.1",
        ]
    assert len(mtls_proxy.tls_errors) == 0


@pytest.mark.parametrize("which", ["missing", "not PEM", "missing key", "CA missing"])
def test_proxy_client_certificate_unusable(proxy_pki, mtls_proxy, proxy_client, which):
    # botocore loads them for each request before connecting: HTTPClientError wrapping
    # InvalidProxiesConfigError, every call (nothing reaches the proxy).
    mtls_proxy.proxy_url = f"https://localhost:{mtls_proxy.port}"
    pc = {"proxy_ca_bundle": proxy_pki.ca_file}
    if which == "missing":
        pc["proxy_client_cert"] = "/no/such/cert.pem"
    elif which == "not PEM":
        pc["proxy_client_cert"] = proxy_pki.ca_file  # a certificate, no key
    elif which == "missing key":
        pc["proxy_client_cert"] = (proxy_client["cert"], "/no/such/key.pem")
    else:
        pc.update(proxy_ca_bundle="/no/such/ca.pem", proxy_client_cert=proxy_client["both"])
    results, seen = _through(mtls_proxy, "http://dest.example:81", pc)
    expected = (
        "HTTPClientError",
        "An HTTP Client raised an unhandled exception: Invalid configuration value(s) provided for "
        "proxies_config.",
    )
    assert results == [expected] * 2
    assert seen == [[], []] and mtls_proxy.tls_errors == []


def test_proxy_client_certificate_without_proxy_ca_bundle(mtls_proxy, proxy_client):
    # botocore's proxy SSLContext then trusts no CA at all: the proxy never verifies.
    mtls_proxy.proxy_url = f"https://localhost:{mtls_proxy.port}"
    results, _ = _through(
        mtls_proxy, "http://dest.example:81", {"proxy_client_cert": proxy_client["both"]}
    )
    assert (
        results
        == [("ProxyConnectionError", f'Failed to connect to proxy URL: "{mtls_proxy.proxy_url}"')]
        * 2
    )


def test_proxy_name_mismatch_is_a_proxy_error(proxy_pki, https_proxy):
    https_proxy.proxy_url = f"https://127.0.0.1:{https_proxy.port}"  # its certificate: localhost
    results, seen = _through(
        https_proxy, "http://dest.example:81", {"proxy_ca_bundle": proxy_pki.ca_file}
    )
    assert (
        results
        == [("ProxyConnectionError", f'Failed to connect to proxy URL: "{https_proxy.proxy_url}"')]
        * 2
    )
    assert seen == [[], []]


@pytest.mark.parametrize("dest", ["http", "https-verify-false"])
def test_https_proxy_unverified_as_in_botocore(pki, https_proxy, origin, dest):
    # Without proxies_config, urllib3 gives the proxy the request's policy: no verification
    # for an http URL, none with verify=False.
    https_proxy.proxy_url = f"https://u:p%40ss@localhost:{https_proxy.port}"
    if dest == "http":
        results, seen = _through(https_proxy, "http://dest.example:81", {})
        assert results == [("ok", b"from proxy")] * 2
        assert seen[0] == seen[1]
        assert seen[1][0][2] == "Basic dTpwQHNz"
    else:
        results, _ = _through(https_proxy, origin.url, {}, verify=False)
        assert results == [("ok", BODY)] * 2


def test_https_proxy_verified_against_verify(pki, proxy_pki, https_proxy, origin):
    # ... and for an https URL, the proxy is checked against verify= (here the origin's CA):
    # it fails before any tunnel, a ProxyConnectionError.
    https_proxy.proxy_url = f"https://localhost:{https_proxy.port}"
    results, seen = _through(https_proxy, origin.url, {}, verify=pki.ca_file)
    assert (
        results
        == [("ProxyConnectionError", f'Failed to connect to proxy URL: "{https_proxy.proxy_url}"')]
        * 2
    )
    assert seen == [[], []]


@pytest.mark.parametrize("trust", ["proxy_ca_bundle", "verify"])
@pytest.mark.parametrize("auth", [True, False])
def test_forwarding_for_https(pki, proxy_pki, https_proxy, origin, trust, auth):
    # With proxy_use_forwarding_for_https an https proxy gets the request itself, over TLS,
    # in absolute form (no CONNECT) and answers it.
    userinfo = "user:secret@" if auth else ""
    https_proxy.proxy_url = f"https://{userinfo}localhost:{https_proxy.port}"
    pc = {"proxy_use_forwarding_for_https": True}
    kw = {}
    if trust == "proxy_ca_bundle":
        pc["proxy_ca_bundle"] = proxy_pki.ca_file
    else:
        kw["verify"] = proxy_pki.ca_file  # then the proxy is checked against verify=
    origin.clear()
    results, seen = _through(https_proxy, origin.url, pc, **kw)
    assert results == [("ok", b"from proxy")] * 2
    line = f"POST {origin.url}/endpoints/ep/invocations HTTP/1.1"
    expected_auth = "Basic dXNlcjpzZWNyZXQ=" if auth else None
    assert seen[0] == seen[1] == [(line, f"127.0.0.1:{origin.port}", expected_auth)]
    assert origin.requests == []


def test_forwarding_with_an_http_proxy_tunnels(pki, origin):
    # urllib3: forwarding is for https proxies; an http proxy still gets CONNECT.
    with ScriptedServer(relay_connect=True) as proxy:
        proxy.proxy_url = proxy.url
        results, seen = _through(
            proxy, origin.url, {"proxy_use_forwarding_for_https": True}, verify=pki.ca_file
        )
    assert results == [("ok", BODY)] * 2
    assert [s[0][0].split(" ")[0] for s in seen] == ["CONNECT", "CONNECT"]


def test_forwarding_proxy_name_mismatch(proxy_pki, https_proxy, origin):
    https_proxy.proxy_url = f"https://127.0.0.1:{https_proxy.port}"
    pc = {"proxy_use_forwarding_for_https": True}
    results, seen = _through(https_proxy, origin.url, pc, verify=proxy_pki.ca_file)
    assert (
        results
        == [("ProxyConnectionError", f'Failed to connect to proxy URL: "{https_proxy.proxy_url}"')]
        * 2
    )
    assert seen == [[], []]
