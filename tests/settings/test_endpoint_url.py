"""Custom endpoint URLs against boto3 1.44.8: what goes on the wire (request line, Host,
signature), what fails and when (construction, each call), the URLs in error messages and
presigned URLs.

botocore joins the endpoint URL and the operation's path with urlsplit/urlunsplit, signs that
URL, and urllib3 percent-encodes the request target it is handed (a space, non-ASCII, control
characters, and every '%' when one of them starts no escape); it sends to the URL's host and
port without the user info, and supports http and https only.
"""

import itertools

import botocore
import pytest
from apidiff import invoke_both, outcome, presign_both
from botocore.config import Config as BotoConfig
from conftest import ACCESS_KEY, SECRET_KEY
from servers import Reply

import sagemaker_rt_c
from sagemaker_rt_c.config import UNSIGNED

pytestmark = pytest.mark.differential

PATHS = [
    "",
    "/",
    "/base",
    "/base/",
    "/base//",
    "//",
    "/a b",
    "/é☃",
    "/a%20b",
    "/a%2fb",
    "/%zz",
    "/100%",
    "/%2f%zz",
    "/[x]",
    '/a"b<>`{}|\\^',
    "/\x00\x01\x1f\x7f",
    "/~!$&'()*+,;=:@",
    "/a/../b",
    "/./",
    "/%2E%2E/",
    "/a;b",
]
QUERIES = [
    "",
    "?",
    "?x=1",
    "?y=a b",
    "?a=%zz",
    "?a=1&a=2&b",
    "?é=☃",
    "?a=%41%2f",
    "?q#frag",
    "#a b",
]
NAMES = ["ep", "e p", "é/%..", "."]


def clients(url, unsigned=False, **kw):
    if unsigned:
        ours_cfg = sagemaker_rt_c.Config(signature_version=UNSIGNED)
        their_cfg = BotoConfig(signature_version=botocore.UNSIGNED)
    else:
        ours_cfg = their_cfg = None
    args = dict(
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        **kw,
    )
    import boto3

    ours = outcome(lambda: sagemaker_rt_c.client("sagemaker-runtime", config=ours_cfg, **args))
    theirs = outcome(lambda: boto3.client("sagemaker-runtime", config=their_cfg, **args))
    return ours, theirs


def check(server, url, names=NAMES, unsigned=False):
    """Construction, a call per name and a presigned URL per name: the same as boto3."""
    ours, theirs = clients(url, unsigned)
    if ours[0] == "error" or theirs[0] == "error":
        assert ours == theirs, url
        return []
    seen = []
    for name in names:
        params = {"EndpointName": name, "Body": b"{}", "ContentType": "application/json"}
        (o, o_reqs), (t, t_reqs) = invoke_both(server, ours[1], theirs[1], params)
        assert o == t, (url, name)
        assert o_reqs == t_reqs, (url, name)
        seen.extend(o_reqs)
        p_ours, p_theirs = presign_both(
            ours[1], theirs[1], "invoke_endpoint", Params={"EndpointName": name, "Body": b""}
        )
        assert p_ours == p_theirs, (url, name)
    return seen


@pytest.fixture
def ok_server(server):
    server.default = Reply(200, [("Content-Type", "text/plain")], b"ok")
    return server


@pytest.mark.parametrize("path", PATHS)
def test_paths_go_out_as_urllib3_encodes_them(ok_server, path):
    for query in QUERIES:
        check(ok_server, ok_server.url + path + query)


def test_encoding_really_happens(ok_server):
    """The wire differs from botocore's URL where urllib3 encodes (guards the check above)."""
    sent = check(ok_server, ok_server.url + "/a b/%zz?y=a b", names=["e p"])
    assert sent and all(
        line == "POST /a%20b/%25zz/endpoints/e%2520p/invocations?y=a%20b HTTP/1.1"
        for line, _, _ in sent
    ), sent
    sent = check(ok_server, ok_server.url + "/é%2f?x", names=["ep"])
    assert sent[0][0] == "POST /%C3%A9%2F/endpoints/ep/invocations?x HTTP/1.1"


@pytest.mark.parametrize(
    "netloc",
    [
        "u@{H}",
        "u:p@{H}",
        "a@b@{H}",
        "@{H}",
        "localhost:{P}",
        "LOCALHOST:{P}",
        "127.0.0.1:0{P}",
        "[::ffff:127.0.0.1]:{P}",
        "[::FFFF:127.0.0.1]:{P}",
        "127.0.0.1:1",
        "127.0.0.1:99999",
        "127.0.0.1:65536",
        "127.0.0.1:-1",
        "127.0.0.1:abc",
        "127.0.0.1:+80",
        "127.0.0.1:{P}:",
        "127.0.0.1: 1",
        "127.0.0.1:١٢",
        "[::1",
        "::1:{P}",
        "u:p@:{P}",
    ],
)
@pytest.mark.parametrize("unsigned", [False, True])
def test_hosts_ports_and_user_info(ok_server, netloc, unsigned):
    netloc = netloc.replace("{H}", f"127.0.0.1:{ok_server.port}")
    netloc = netloc.replace("{P}", str(ok_server.port))
    for tail in ("", "/a b?q=1#f"):
        check(ok_server, f"http://{netloc}{tail}", names=["e p"], unsigned=unsigned)


@pytest.mark.parametrize(
    "prefix", ["gopher://", "ftp://", "file://", "ws://", "httpx://", "GOPHER://", "Http://", "//"]
)
@pytest.mark.parametrize("unsigned", [False, True])
def test_schemes(ok_server, prefix, unsigned):
    """boto3 builds the client, then each call fails in urllib3 (HTTPClientError: "Not
    supported URL scheme ..."); presigning works. No scheme at all means http."""
    url = f"{prefix}127.0.0.1:{ok_server.port}/p"
    before = len(ok_server.requests)
    check(ok_server, url, names=["e p"], unsigned=unsigned)
    sent = len(ok_server.requests) - before
    assert sent == (2 if prefix in ("Http://", "//") else 0)


def test_unsupported_scheme_error_names_the_scheme(ok_server):
    ours, _ = clients(f"gopher://127.0.0.1:{ok_server.port}")
    with pytest.raises(sagemaker_rt_c.exceptions.HTTPClientError) as info:
        ours[1].invoke_endpoint(EndpointName="ep", Body=b"")
    assert str(info.value) == (
        "An HTTP Client raised an unhandled exception: Not supported URL scheme gopher"
    )
    # Parameters are checked first, as in botocore.
    with pytest.raises(sagemaker_rt_c.exceptions.ParamValidationError):
        ours[1].invoke_endpoint(EndpointName="ep")


def test_connection_errors_name_botocores_url(server):
    """The transport's URL is encoded; the error names the URL botocore would."""
    for path, name in itertools.product(["/a b", "/%zz", "/é#frag", "?x=a b#f"], ["e p", "ep"]):
        url = f"http://127.0.0.1:1{path}"
        ours, theirs = clients(url)
        params = {"EndpointName": name, "Body": b""}
        (o, _), (t, _) = invoke_both(server, ours[1], theirs[1], params)
        assert o[:2] == ("error", "EndpointConnectionError")
        assert o == t
