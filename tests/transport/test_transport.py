"""TLS verification and proxies, both clients side by side."""

import pytest
from conftest import make_boto3, make_ours
from servers import Reply, ScriptedServer
from test_threads import EchoServer, tls_context  # noqa: F401  (a fixture)

import sagemaker_rt_c

pytestmark = pytest.mark.differential


def outcome(fn):
    try:
        out = fn()
        return ("ok", out["Body"].read())
    except Exception as e:
        return ("error", type(e).__name__, str(e))


@pytest.fixture
def tls_server(tls_context):  # noqa: F811
    ctx, ca = tls_context
    return EchoServer(tls=ctx), ca


def config(flavour, **kw):
    if flavour == "boto3":
        from botocore.config import Config

        return Config(**kw)
    return sagemaker_rt_c.Config(**kw)


@pytest.mark.parametrize("flavour", ["boto3", "ours"])
def test_tls_verified_by_default(tls_server, flavour):
    server, _ = tls_server
    make = make_boto3 if flavour == "boto3" else make_ours
    client = make(
        endpoint_url=server.url, config=config(flavour, retries={"total_max_attempts": 1})
    )
    result = outcome(lambda: client.invoke_endpoint(EndpointName="ep", Body=b"x"))
    assert result[:2] == ("error", "SSLError"), result
    assert result[2].startswith(f"SSL validation failed for {server.url}/endpoints/ep/invocations")
    assert server.requests == []


@pytest.mark.parametrize("flavour", ["boto3", "ours"])
@pytest.mark.parametrize("how", ["verify-false", "verify-path", "AWS_CA_BUNDLE"])
def test_tls_trusted(tls_server, flavour, how, monkeypatch):
    server, ca = tls_server
    make = make_boto3 if flavour == "boto3" else make_ours
    kw = {}
    if how == "verify-false":
        kw["verify"] = False
    elif how == "verify-path":
        kw["verify"] = ca
    else:
        monkeypatch.setenv("AWS_CA_BUNDLE", ca)
    client = make(endpoint_url=server.url, **kw)
    assert outcome(lambda: client.invoke_endpoint(EndpointName="ep", Body=b"hello")) == (
        "ok",
        b"hello",
    )


@pytest.fixture
def proxy():
    """A forward proxy that answers itself: it records the absolute-form request."""
    with ScriptedServer(default=Reply(200, [("Content-Type", "text/plain")], b"via proxy")) as s:
        yield s


def request_line(req):
    return req.raw.split(b"\r\n", 1)[0].decode()


@pytest.mark.parametrize("source", ["config", "env"])
def test_http_proxy_same_as_boto3(proxy, source, monkeypatch):
    target = "http://endpoint.example:8080"
    kw = {}
    if source == "env":
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
    seen = []
    for make, flavour in ((make_boto3, "boto3"), (make_ours, "ours")):
        if source == "config":
            kw["config"] = config(flavour, proxies={"http": proxy.url})
        client = make(endpoint_url=target, **kw)
        assert outcome(lambda c=client: c.invoke_endpoint(EndpointName="ep", Body=b"b")) == (
            "ok",
            b"via proxy",
        )
        req = proxy.last
        seen.append((request_line(req), req.header("Host"), req.body))
    assert seen[0] == seen[1]
    assert seen[1][0] == f"POST {target}/endpoints/ep/invocations HTTP/1.1"


def test_no_proxy_bypasses(proxy, server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    for make in (make_boto3, make_ours):
        make(endpoint_url=server.url).invoke_endpoint(EndpointName="ep", Body=b"b")
    assert proxy.requests == []
    assert len(server.requests) == 2


def test_proxy_refusing_connections_is_a_proxy_error(server):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    s.close()
    results = []
    for make, flavour in ((make_boto3, "boto3"), (make_ours, "ours")):
        cfg = config(flavour, proxies={"http": dead}, retries={"total_max_attempts": 1})
        client = make(endpoint_url="http://endpoint.example:8080", config=cfg)
        results.append(outcome(lambda c=client: c.invoke_endpoint(EndpointName="e", Body=b"")))
    assert results[0][:2] == results[1][:2] == ("error", "ProxyConnectionError")
    assert results[1][2].startswith(f'Failed to connect to proxy URL: "{dead}"')
