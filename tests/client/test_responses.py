"""Response parsing, boto3 against sagemaker_rt_c: the same HTTP responses, served by the scripted
server to both clients, must give the same results.

* Successes (status 200): random headers and bodies from a seed; the response dicts must be
  equal except ``Body``, and the same reading script run on both ``Body`` objects must give the
  same trace (bytes, ``tell()``, exceptions).
* Errors (status 300-599): random error responses with retries disabled; the exception class,
  ``str(e)``, ``e.response``, ``e.operation_name`` and ``client.exceptions`` membership must
  match, and ``except botocore.exceptions.ClientError`` must catch ours.
* ``StreamingBody`` behaviour beyond plain reading (after ``close()``, ``readlines``, the
  ``io.IOBase`` surface, the context manager) is pinned to what botocore's StreamingBody does,
  one behaviour per test.
"""

import codecs
import csv
import hashlib
import io
import json
import random

import botocore.config
import botocore.exceptions
import pytest
from conftest import make_boto3, make_ours
from servers import Reply

import sagemaker_rt_c

pytestmark = pytest.mark.differential

MODELED = (
    "InternalFailure",
    "ServiceUnavailable",
    "ValidationError",
    "ModelError",
    "InternalDependencyException",
    "ModelNotReadyException",
)
TCHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~"
# Legal field-value characters: visible ASCII, space/tab inside, obs-text (latin-1).
VCHARS = "".join(chr(c) for c in range(0x21, 0x7F))
OBS_TEXT = "".join(chr(c) for c in range(0x80, 0x100))


class ChunkedReply(Reply):
    """A reply with ``Transfer-Encoding: chunked`` (no Content-Length)."""

    def __init__(self, status=200, headers=(), body=b"", chunk=1000):
        super().__init__(status, list(headers), body)
        self.chunk = chunk

    def encode(self):
        lines = [f"HTTP/1.1 {self.status} OK"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        lines.append("Transfer-Encoding: chunked")
        out = [("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")]
        for i in range(0, len(self.body), self.chunk):
            part = self.body[i : i + self.chunk]
            out.append(b"%x\r\n%s\r\n" % (len(part), part))
        out.append(b"0\r\n\r\n")
        return b"".join(out)


# --------------------------------------------------------------------------- helpers


def mixcase(name, rng):
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)


def odd_value(rng, max_len=40):
    """A legal but unusual header value."""
    kind = rng.random()
    if kind < 0.1:
        return ""
    alphabet = VCHARS + "  \t" + (OBS_TEXT if kind < 0.3 else "")
    value = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, max_len)))
    value = value.strip(" \t")  # the ends are OWS, not part of the value (added below)
    if rng.random() < 0.2:
        value = " " * rng.randint(1, 3) + value  # leading OWS: dropped by both parsers
    if rng.random() < 0.1:
        value += " \t"  # trailing OWS: http.client keeps it, so must we
    return value


def random_body(rng):
    kind = rng.choice(["empty", "binary", "text", "json", "large", "binary", "text"])
    if kind == "empty":
        return b""
    if kind == "binary":
        return rng.randbytes(rng.randint(1, 5000))
    if kind == "text":
        seps = ["\n", "\r\n", "\r", "\n\n", "\x0b", "\x1c", "\u2028"]
        words = ["a", "héllo", "", "{}", "x" * 30, "☃", "tab\there"]
        parts = []
        for _ in range(rng.randint(1, 200)):
            parts.append(rng.choice(words) + rng.choice(seps))
        text = "".join(parts)
        if rng.random() < 0.5:
            text = text.rstrip("\r\n")
        return text.encode("utf-8")
    if kind == "json":
        predictions = [rng.random() for _ in range(rng.randint(0, 50))]
        return json.dumps({"predictions": predictions}).encode()
    return rng.randbytes((1 << 20) + rng.randint(-5000, 5000))


def random_success(rng):
    headers = []
    members = [
        "Content-Type",
        "x-Amzn-Invoked-Production-Variant",
        "X-Amzn-SageMaker-Custom-Attributes",
        "X-Amzn-SageMaker-New-Session-Id",
        "X-Amzn-SageMaker-Closed-Session-Id",
    ]
    for name in members:
        if rng.random() < 0.6:
            headers.append((mixcase(name, rng) if rng.random() < 0.4 else name, odd_value(rng)))
    ids = rng.choice(["amzn", "amz", "amz-no-host", "none"])
    if ids == "amzn":
        headers.append((rng.choice(["x-amzn-RequestId", "X-AMZN-REQUESTID"]), odd_value(rng)))
    elif ids.startswith("amz"):
        headers.append(("x-amz-request-id", odd_value(rng)))
        if ids == "amz":
            headers.append(("x-amz-id-2", odd_value(rng, 80)))
    for _ in range(rng.randint(0, 4)):
        name = "".join(rng.choice(TCHARS) for _ in range(rng.randint(1, 20)))
        if name.lower() in ("content-length", "transfer-encoding", "connection"):
            continue
        headers.append((name, odd_value(rng)))
    # Repeated headers, member or not: both clients join them with ", ".
    for _ in range(rng.randint(0, 2)):
        if headers:
            name, _ = rng.choice(headers)
            headers.insert(rng.randrange(len(headers) + 1), (mixcase(name, rng), odd_value(rng)))
    if rng.random() < 0.3:
        headers.append(("Date", "Mon, 01 Jan 2024 00:00:00 GMT"))
    if rng.random() < 0.1:
        # Neither client decodes content codings: the bytes are handed over as sent.
        headers.append(("Content-Encoding", rng.choice(["gzip", "deflate", "br"])))
    rng.shuffle(headers)
    body = random_body(rng)
    if rng.random() < 0.25:
        return ChunkedReply(200, headers, body, chunk=rng.choice([1, 100, 4096, 1 << 16]))
    return Reply(200, headers, body)


def summ(value):
    """A short, comparable stand-in for large results."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value)
        if len(value) <= 80:
            return value
        return ("bytes", len(value), hashlib.sha256(value).hexdigest()[:16])
    if isinstance(value, list):
        if sum(len(x) for x in value) <= 200:
            return value
        return ("list", len(value), hashlib.sha256(repr(value).encode()).hexdigest()[:16])
    return value


def random_script(rng, size):
    """Reading operations for one Body; chunk sizes kept sensible for large bodies."""
    small = size < 20000
    kind = rng.choice(["read", "amts", "chunks", "lines", "iterate", "readinto", "with", "mixed"])
    if kind == "read":
        return [("read", None), ("read", None)]
    if kind == "amts":
        amts = [0, 1, 7, 512, 4096, 65536, size // 3 + 1, size + 10]
        return [("read", rng.choice(amts)) for _ in range(rng.randint(1, 12))] + [("read", None)]
    if kind == "chunks":
        return [("iter_chunks", rng.choice([1, 5, 1024, 70000] if small else [1024, 70000]))]
    if kind == "lines":
        n = rng.choice([1, 2, 64, 1024, 5000] if small else [1024, 5000])
        return [("iter_lines", (n, rng.random() < 0.5))]
    if kind == "iterate":
        return [("next", None)] * rng.randint(0, 3) + [("list", None)]
    if kind == "readinto":
        return [("readinto", rng.choice([0, 1, 10, 4096, 1 << 17])) for _ in range(20)]
    if kind == "with":
        return [("with", rng.choice([0, 3, 1000, size + 1])), ("tell", None)]
    ops = ["read", "next", "readinto", "tell"]
    script = []
    for _ in range(rng.randint(1, 15)):
        op = rng.choice(ops)
        script.append((op, rng.choice([0, 1, 100, 3000]) if op in ("read", "readinto") else None))
    return script


def run_script(body, script):
    """Run ``script`` on ``body``; the trace of results, tell() after each step, then close."""
    trace = []
    for op, arg in script:
        try:
            if op == "read":
                out = body.read() if arg is None else body.read(arg)
            elif op == "iter_chunks":
                out = list(body.iter_chunks(arg))
            elif op == "iter_lines":
                out = list(body.iter_lines(arg[0], keepends=arg[1]))
            elif op == "next":
                out = next(body, "END")
            elif op == "list":
                out = list(body)
            elif op == "readinto":
                buf = bytearray(arg)
                n = body.readinto(buf)
                out = (n, summ(buf[:n]))
            elif op == "with":
                # Only what both context managers' targets share: read(amt).
                with body as f:
                    out = f.read(arg)
            else:
                out = None
            trace.append((op, arg, summ(out), body.tell()))
        except Exception as e:  # noqa: BLE001 - compared by type and message
            trace.append((op, arg, "raised", type(e).__name__, str(e)))
            break
    body.close()
    return trace


def response_minus_body(resp):
    return {k: v for k, v in resp.items() if k != "Body"}


def both(server, reply, fn, **kw):
    """``fn(response)`` for boto3 and for ours, each served ``reply``."""
    out = []
    for make in (make_boto3, make_ours):
        server.queue(reply)
        client = make(endpoint_url=server.url, **kw)
        resp = client.invoke_endpoint(EndpointName="ep", Body=b"x")
        out.append(fn(resp))
    return out


# --------------------------------------------------------------------------- successes


@pytest.mark.parametrize("seed", range(60))
def test_random_success_responses(server, seed):
    rng = random.Random(seed)
    reply = random_success(rng)
    script = random_script(rng, len(reply.body))

    def observe(resp):
        return response_minus_body(resp), run_script(resp["Body"], script)

    (theirs, their_trace), (ours, our_trace) = both(server, reply, observe)
    assert ours == theirs
    assert our_trace == their_trace
    # Not vacuous: the trace read the body or at least looked at it.
    assert their_trace and their_trace[0][2] != "raised"


@pytest.mark.parametrize("size", [0, 1, 1023, 1024, 1025, (1 << 20) + 7])
def test_whole_body_every_way(server, size):
    """read(), iteration, iter_chunks and iter_lines reassemble the exact bytes for both."""
    data = random.Random(size).randbytes(size)
    reply = Reply(200, [("Content-Type", "application/octet-stream")], data)
    ways = {
        "read": lambda b: b.read(),
        "iterate": lambda b: b"".join(b),
        "chunks": lambda b: b"".join(b.iter_chunks(4096)),
        "lines": lambda b: b"".join(b.iter_lines(keepends=True)),
    }
    for name, way in ways.items():
        theirs, ours = both(server, reply, lambda r, way=way: (way(r["Body"]), r["Body"].tell()))
        assert theirs == (data, size), name
        assert ours == theirs, name


def test_repeated_and_member_headers(server):
    """A fixed case of what the random test covers: joins, case, request ids."""
    reply = Reply(
        200,
        [
            ("content-TYPE", "text/csv"),
            ("X-Amzn-SageMaker-Custom-Attributes", "a=1"),
            ("x-amzn-sagemaker-custom-attributes", "b=2"),
            ("x-amz-request-id", "rid"),
            ("X-Amz-Id-2", "host/id=="),
            ("X-Weird", "\tvalue with\ttab and é "),
        ],
        b"a,b\n1,2\n",
    )
    theirs, ours = both(server, reply, response_minus_body)
    assert ours == theirs
    assert theirs["CustomAttributes"] == "a=1, b=2"
    assert theirs["ResponseMetadata"]["RequestId"] == "rid"
    assert theirs["ResponseMetadata"]["HostId"] == "host/id=="


# ---- StreamingBody semantics, pinned to botocore's StreamingBody (one behaviour per test) ----

LINES = b"one\ntwo\r\nthree\rfour\x0bfive\x0csix\x1cseven\x85eight\xe2\x80\xa8nine"


def body_of(make, server, data=LINES, headers=()):
    server.queue(Reply(200, list(headers), data))
    return make(endpoint_url=server.url).invoke_endpoint(EndpointName="ep", Body=b"x")["Body"]


def outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except Exception as e:  # noqa: BLE001 - compared by type and message
        return ("raised", type(e).__name__, str(e))


def test_readlines_splits_on_newline_only(server):
    """botocore: ``readlines()`` is io.IOBase's, lines end at b'\\n' only (\\r, \\x0b, \\x1c
    and \\x85 are data). bytes.splitlines() would cut CSV/JSON-lines bodies apart."""
    expected = io.BytesIO(LINES).readlines()
    assert body_of(make_boto3, server).readlines() == expected
    assert body_of(make_ours, server).readlines() == expected


def test_readline(server):
    """botocore's body is an io.IOBase: readline() exists and reads up to b'\\n'."""
    for make in (make_boto3, make_ours):
        body = body_of(make, server)
        assert outcome(lambda b=body: [b.readline(), b.readline(5), b.tell()]) == (
            "ok",
            [b"one\n", b"two\r\n", 9],
        ), make.__name__


def test_is_an_io_base(server):
    """isinstance(Body, io.IOBase), and the io.IOBase queries botocore's body answers."""
    expected = {
        "isinstance": ("ok", True),
        "seekable": ("ok", False),
        "writable": ("ok", False),
        "isatty": ("ok", False),
        "fileno": ("raised", "UnsupportedOperation", "fileno"),
        "seek": ("raised", "UnsupportedOperation", "seek"),
    }
    for make in (make_boto3, make_ours):
        body = body_of(make, server)
        got = {
            "isinstance": outcome(isinstance, body, io.IOBase),
            "seekable": outcome(lambda b=body: b.seekable()),
            "writable": outcome(lambda b=body: b.writable()),
            "isatty": outcome(lambda b=body: b.isatty()),
            "fileno": outcome(lambda b=body: b.fileno()),
            "seek": outcome(lambda b=body: b.seek(0)),
        }
        assert got == expected, make.__name__


@pytest.mark.parametrize(
    "wrap",
    [
        lambda b: io.TextIOWrapper(b, encoding="utf-8").read(),
        lambda b: list(csv.reader(io.TextIOWrapper(b, encoding="utf-8", newline=""))),
        lambda b: io.BufferedReader(b).read(),
        lambda b: codecs.getreader("utf-8")(b).read(),
    ],
    ids=["TextIOWrapper", "csv", "BufferedReader", "codecs"],
)
def test_standard_library_wrappers(server, wrap):
    """Common ways to consume a body as text work on botocore's (an io.IOBase)."""
    data = 'a,b\r\n1,é\r\n2,"x\ny"\r\n'.encode()
    theirs = outcome(wrap, body_of(make_boto3, server, data))
    assert theirs[0] == "ok"
    assert outcome(wrap, body_of(make_ours, server, data)) == theirs


def test_context_manager_target_iterates_lines(server):
    """botocore's ``__enter__`` returns the urllib3 response, which iterates by *lines* (an
    io.IOBase), not 1 KiB chunks: ``with Body as f: for line in f`` yields lines."""
    data = b"x" * 1500 + b"\nshort\nlast"
    for make in (make_boto3, make_ours):
        body = body_of(make, server, data)
        with body as f:
            got = list(f)
        assert got == [b"x" * 1500 + b"\n", b"short\n", b"last"], make.__name__


def test_read_inside_context_manager_then_exit(server):
    for make in (make_boto3, make_ours):
        body = body_of(make, server)
        with body as f:
            first = f.read(4)
            rest = f.read()
        assert (first, rest, body.tell()) == (LINES[:4], LINES[4:], len(LINES)), make.__name__


_BROKEN = (
    "raised",
    "ResponseStreamingError",
    "An error occurred while reading from response stream: ('Connection broken: "
    f"IncompleteRead(3 bytes read, {len(LINES) - 3} more expected)', "
    f"IncompleteRead(3 bytes read, {len(LINES) - 3} more expected))",
)
_SHORT = ("raised", "IncompleteReadError", f"3 read, but total bytes expected is {len(LINES)}.")
CLOSE_CASES = {
    # How botocore's body behaves after close() with part of the body unread: the closed
    # urllib3 stream returns b"" (botocore 1.44 reads with enforce_content_length=False), and
    # botocore's content-length check fails.
    "read": (lambda b: b.read(), _SHORT),
    "read_amt": (lambda b: b.read(5), _SHORT),
    "next": (lambda b: next(b), _SHORT),
    "iter_lines": (lambda b: list(b.iter_lines()), _SHORT),
    "readinto": (lambda b: b.readinto(bytearray(8)), _SHORT),
    "tell": (lambda b: b.tell(), ("ok", 3)),
    "closed": (lambda b: b.closed, ("ok", False)),  # botocore never sets IOBase's flag
    "readable": (lambda b: b.readable(), ("ok", True)),
    "close_again": (lambda b: b.close(), ("ok", None)),
}


@pytest.mark.parametrize("case", list(CLOSE_CASES))
def test_after_close_with_unread_data(server, case):
    fn, expected = CLOSE_CASES[case]
    for make in (make_boto3, make_ours):
        body = body_of(make, server)
        assert body.read(3) == b"one"
        body.close()
        assert outcome(fn, body) == expected, make.__name__


def test_after_close_when_fully_read(server):
    """Everything read, then closed: reads return b'' without error in both."""
    for make in (make_boto3, make_ours):
        body = body_of(make, server)
        assert body.read() == LINES
        body.close()
        got = [outcome(body.read), outcome(body.read, 10), outcome(list, body), body.tell()]
        assert got == [("ok", b""), ("ok", b""), ("ok", []), len(LINES)], make.__name__


def test_read_argument_types(server):
    """read(amt=...) keyword, read(-1) reads all, a float is refused (TypeError) by both."""
    for make in (make_boto3, make_ours):
        body = body_of(make, server)
        assert body.read(amt=3) == b"one"
        assert body.read(-1) == LINES[3:]
        body = body_of(make, server)
        with pytest.raises(TypeError):
            body.read(2.0)


# --------------------------------------------------------------------------- errors

ERROR_CODES = list(MODELED) + [
    "ThrottlingException",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "SomethingNew",
    "",
]


def code_form(rng, code):
    return rng.choice(
        [
            code,
            f"{code}:http://internal.amazon.com/coral/com.amazon.sagemaker/",
            f"com.amazon.sagemaker#{code}",
            f"aws.protocols#{code}:http://x",
        ]
    )


def random_text(rng, n=30):
    return "".join(rng.choice("abc XYZ é☃\"'\\/<>{}:#\n") for _ in range(rng.randint(0, n)))


def random_error(rng):
    status = rng.choice(
        [300, 301, 302, 304, 307, 400, 403, 404, 408, 413, 415, 424, 429]
        + [500, 501, 502, 503, 504, 599, rng.randint(300, 599)]
    )
    headers = []
    if rng.random() < 0.5:
        headers.append(("Content-Type", rng.choice(["application/json", "text/html", "x/y"])))
    if rng.random() < 0.4:
        name = mixcase("x-amzn-ErrorType", rng) if rng.random() < 0.3 else "x-amzn-ErrorType"
        headers.append((name, code_form(rng, rng.choice(ERROR_CODES))))
    ids = rng.random()
    if ids < 0.4:
        headers.append(("x-amzn-RequestId", odd_value(rng)))
    elif ids < 0.6:
        headers.append(("x-amz-request-id", odd_value(rng)))
        headers.append(("x-amz-id-2", odd_value(rng)))
    if rng.random() < 0.15:
        headers.append(("x-amzn-query-error", rng.choice(["QCode;Sender", "bad", ";x"])))
    if status in (301, 302, 307):
        headers.append(("Location", "http://127.0.0.1:1/elsewhere"))
    if status != 300 and rng.random() < 0.3:
        headers.append(
            ("X-Amzn-SageMaker-Custom-Attributes", odd_value(rng))
        )  # output headers: only parsed on 300
    kind = rng.choice(["json", "json", "json", "modelerror", "html", "empty", "text", "badjson"])
    if kind == "json":
        doc = {}
        for key in ("__type", "code", "Code", "message", "Message"):
            if rng.random() < 0.4:
                doc[key] = (
                    code_form(rng, rng.choice(ERROR_CODES))
                    if key in ("__type", "code", "Code")
                    else random_text(rng)
                )
        if rng.random() < 0.2:
            doc["extra"] = {"nested": [1, 2, None]}
        body = json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode()
    elif kind == "modelerror":
        doc = {"Message": random_text(rng)}
        if rng.random() < 0.5:
            doc["__type"] = code_form(rng, "ModelError")
        else:
            headers.append(("x-amzn-ErrorType", code_form(rng, "ModelError")))
        for key in ("OriginalStatusCode", "OriginalMessage", "LogStreamArn"):
            if rng.random() < 0.7:
                doc[key] = (
                    rng.choice([500, "503", 0, "42"])
                    if key == "OriginalStatusCode"
                    else random_text(rng)
                )
        body = json.dumps(doc).encode()
    elif kind == "html":
        body = rng.choice(
            [
                b"<html><body><h1>502 Bad Gateway</h1></body></html>",
                b"  \n<html>\r\n<head><title>503</title></head></html>\n",
                b"<!DOCTYPE html><html><body>oops</body></html>",
            ]
        )
    elif kind == "empty":
        body = rng.choice([b"", b"   ", b"\r\n"])
    elif kind == "text":
        body = random_text(rng, 80).encode()
    else:
        body = rng.choice([b'{"message": "cut', b"{'message': 1}", b'{"a":1}{"b":2}', b"{"])
    if status == 304:
        body = b""  # a 304 has no body, whatever Content-Length says
    return Reply(status, headers, body)


def catch(client):
    """The ClientError ``client`` raises, caught as botocore's."""
    try:
        client.invoke_endpoint(EndpointName="ep", Body=b"x")
    except botocore.exceptions.ClientError as e:
        return e
    raise AssertionError("no ClientError raised")


def error_view(client, e):
    name = type(e).__name__
    view = {
        "class": name,
        "str": str(e),
        "response": e.response,
        "operation": e.operation_name,
    }
    if name != "ClientError":
        view["client.exceptions"] = isinstance(e, getattr(client.exceptions, name))
    return view


def error_both(server, reply):
    views = []
    for make, config in ((make_boto3, botocore.config.Config), (make_ours, sagemaker_rt_c.Config)):
        server.queue(reply)
        client = make(endpoint_url=server.url, config=config(retries={"total_max_attempts": 1}))
        views.append(error_view(client, catch(client)))
    return views


@pytest.mark.parametrize("seed", range(100))
def test_random_error_responses(server, seed):
    rng = random.Random(1000 + seed)
    reply = random_error(rng)
    theirs, ours = error_both(server, reply)
    assert ours == theirs
    assert len(server.requests) == 2  # one attempt each: no retry, no redirect followed
    assert theirs.get("client.exceptions", True) is True


@pytest.mark.parametrize(
    "reply,name,code",
    [
        (
            Reply(
                424,
                [],
                json.dumps(
                    {
                        "__type": "com.amazonaws.sagemaker#ModelError",
                        "Message": "Received server error",
                        "OriginalStatusCode": 500,
                        "OriginalMessage": "boom",
                        "LogStreamArn": "arn:aws:logs:us-east-1:1:log-group:/aws/sagemaker/ep",
                    }
                ).encode(),
            ),
            "ModelError",
            "ModelError",
        ),
        (
            Reply(
                400,
                [("x-amzn-ErrorType", "ValidationError:http://internal.amazon.com/")],
                b'{"message":"Endpoint ep not found."}',
            ),
            "ValidationError",
            "ValidationError",
        ),
        (Reply(502, [], b"<html><body>Bad Gateway</body></html>"), "ClientError", "502"),
        (Reply(503, [], b""), "ClientError", "503"),
        (Reply(500, [], b"upstream connect error"), "ClientError", "500"),
        (
            Reply(429, [], b'{"code":"ModelNotReadyException","Message":"warming"}'),
            "ModelNotReadyException",
            "ModelNotReadyException",
        ),
    ],
    ids=["model-error", "validation", "html-502", "empty-503", "text-500", "not-ready"],
)
def test_known_error_shapes(server, reply, name, code):
    theirs, ours = error_both(server, reply)
    assert ours == theirs
    assert theirs["class"] == name
    assert theirs["response"]["Error"]["Code"] == code


@pytest.mark.parametrize("body", [b"[1, 2]", b'["a", {"message": "m"}]', b"null", b'"str"'])
def test_json_error_body_that_is_not_an_object(server, body):
    """botocore 1.43 crashes (AttributeError) on these; ours parses the body as a non-JSON
    message, as documented (rule 2 at the top of sagemaker_rt_c/_protocol/errors.py)."""
    reply = Reply(500, [("x-amzn-RequestId", "r")], body)
    server.queue(reply)
    boto = make_boto3(
        endpoint_url=server.url,
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(AttributeError):
        boto.invoke_endpoint(EndpointName="ep", Body=b"x")
    server.queue(reply)
    ours = make_ours(
        endpoint_url=server.url, config=sagemaker_rt_c.Config(retries={"total_max_attempts": 1})
    )
    e = catch(ours)
    assert type(e).__name__ == "ClientError"
    assert e.response["Error"] == {"Code": "500", "Message": body.decode()}
    assert e.response["ResponseMetadata"]["RequestId"] == "r"
