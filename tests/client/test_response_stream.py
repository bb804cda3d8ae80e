"""invoke_endpoint_with_response_stream against boto3 1.44.8 on the same scripted server: the
request (every member of the model), the response dict, and the events of its EventStream,
delivered as they arrive; exception events, corrupt and truncated frames and broken
connections raise what botocore raises (where botocore ends silently, ours raises: README);
close(), with and dropping the stream free its connection; iter_payloads and iter_lines."""

import binascii
import gc
import random
import struct
import threading
import time

import pytest
from apidiff import invoke_both, presign_both
from conftest import make_boto3, make_ours
from servers import Reply, Script, ScriptedServer

STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/vnd.amazon.eventstream\r\n"
    b"X-Amzn-SageMaker-Content-Type: application/jsonlines\r\n"
    b"x-Amzn-Invoked-Production-Variant: AllTraffic\r\n"
    b"x-amzn-RequestId: req-1\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
END = b"0\r\n\r\n"


def header(name, value, kind=7):
    n = name.encode()
    if kind == 7:
        v = value.encode()
        return bytes([len(n)]) + n + bytes([7]) + struct.pack(">H", len(v)) + v
    if kind == 4:
        return bytes([len(n)]) + n + bytes([4]) + struct.pack(">i", value)
    raise ValueError(kind)


def message(headers, payload, corrupt=None):
    hb = b"".join(headers)
    total = 12 + len(hb) + len(payload) + 4
    prelude = struct.pack(">II", total, len(hb))
    prelude += struct.pack(">I", binascii.crc32(prelude) ^ (1 if corrupt == "prelude" else 0))
    m = prelude + hb + payload
    return m + struct.pack(">I", binascii.crc32(m) ^ (1 if corrupt == "message" else 0))


def event(payload, event_type="PayloadPart", corrupt=None):
    return message(
        [
            header(":event-type", event_type),
            header(":content-type", "application/octet-stream"),
            header(":message-type", "event"),
        ],
        payload,
        corrupt,
    )


def exception_event(kind, body):
    return message(
        [
            header(":exception-type", kind),
            header(":content-type", "application/json"),
            header(":message-type", "exception"),
        ],
        body,
    )


def error_event(code, text):
    return message(
        [
            header(":error-code", code),
            header(":error-message", text),
            header(":message-type", "error"),
        ],
        b"",
    )


def chunk(data):
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def stream(*steps, end=True):
    """A chunked response: bytes steps are each one chunk; numbers are pauses."""
    out = [STREAM_HEAD]
    for s in steps:
        out.append(s if isinstance(s, (int, float, threading.Event)) else chunk(s))
    if end:
        out.append(END)
    return out


def call(client, **kw):
    return client.invoke_endpoint_with_response_stream(EndpointName="ep", Body=b"{}", **kw)


def drain(resp):
    """The events, then how the iteration ended: ("end",) or (class name, message, response)."""
    events = []
    try:
        for ev in resp["Body"]:
            events.append(ev)
    except Exception as e:  # noqa: BLE001 - compared between clients
        return events, (type(e).__name__, str(e), getattr(e, "response", None))
    return events, ("end",)


def both(server, steps, **kw):
    got = {}
    for name, make in (("boto3", make_boto3), ("ours", make_ours)):
        server.queue(Script(list(steps)))
        resp = call(make(endpoint_url=server.url, **kw))
        meta = dict(resp["ResponseMetadata"])
        meta.pop("HTTPHeaders")
        head = {k: v for k, v in resp.items() if k not in ("Body", "ResponseMetadata")}
        got[name] = (meta, head, drain(resp))
    return got


SCENARIOS = {
    "one-event": [event(b"hello")],
    "many-events-one-chunk": [b"".join(event(b"tok%d " % i) for i in range(50))],
    "events-with-pauses": [event(b"a"), 0.2, event(b"b"), 0.1, event(b"c")],
    "event-split-across-chunks": [event(b"abcdef")[:7], 0.1, event(b"abcdef")[7:]],
    "empty-payloads": [event(b""), event(b"")],
    "large-event": [event(b"x" * 200_000)],
    "no-events": [],
    "unknown-event-type": [event(b"?", event_type="Mystery"), event(b"after")],
    "model-stream-error": [
        event(b"part"),
        exception_event("ModelStreamError", b'{"Message": "model broke", "ErrorCode": "424"}'),
        event(b"never"),
    ],
    "internal-stream-failure": [exception_event("InternalStreamFailure", b'{"Message": "oops"}')],
    "exception-lower-case-message": [exception_event("ModelStreamError", b'{"message": "low"}')],
    "exception-not-json": [exception_event("InternalStreamFailure", b"not json")],
    "unknown-exception": [exception_event("Unheard", b'{"Message": "x"}')],
    "error-event": [error_event("ThrottlingException", "slow down")],
    "prelude-crc": [event(b"ok"), event(b"bad", corrupt="prelude")],
    "message-crc": [event(b"ok"), event(b"bad", corrupt="message")],
    "headers-too-long": [struct.pack(">II", 200_000, 131_073) + b"\0" * 8],
}


@pytest.mark.differential
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_events_and_errors_as_boto3(server, name):
    got = both(server, stream(*SCENARIOS[name]))
    ours, theirs = got["ours"], got["boto3"]
    if name == "headers-too-long":
        # The prelude's CRC is wrong here as well: both raise ChecksumMismatch.
        assert ours[2][1][0] == theirs[2][1][0] == "ChecksumMismatch"
    assert ours == theirs


def test_the_response_dict(server):
    server.queue(Script(stream(event(b"x"))))
    resp = call(make_ours(endpoint_url=server.url), CustomAttributes="c")
    assert resp["ContentType"] == "application/jsonlines"
    assert resp["InvokedProductionVariant"] == "AllTraffic"
    assert resp["ResponseMetadata"]["RequestId"] == "req-1"
    assert server.last.path == "/endpoints/ep/invocations-response-stream"
    assert list(resp["Body"]) == [{"PayloadPart": {"Bytes": b"x"}}]


def test_events_reach_the_caller_before_the_next_is_sent(server):
    """The server sends the second event only once the client has received the first."""
    got_first = threading.Event()
    server.queue(Script(stream(event(b"one"), got_first, event(b"two"))))
    body = call(make_ours(endpoint_url=server.url))["Body"]
    events = iter(body)
    t0 = time.monotonic()
    assert next(events) == {"PayloadPart": {"Bytes": b"one"}}
    assert time.monotonic() - t0 < 5  # not the server's 10 s give-up
    got_first.set()
    assert next(events) == {"PayloadPart": {"Bytes": b"two"}}
    assert list(events) == []


@pytest.mark.differential
@pytest.mark.parametrize("how", ["reset", "close"])
def test_a_connection_lost_mid_stream_raises(server, how):
    # boto3 lets urllib3's ProtocolError escape; ours raises botocore's ResponseStreamingError
    # with urllib3's words. Either way: never a silent end.
    steps = stream(event(b"one"), 0.1, end=False)
    for make in (make_boto3, make_ours):
        server.queue(Script(list(steps), reset=how == "reset"))
        events, end = drain(call(make(endpoint_url=server.url)))
        assert events == [{"PayloadPart": {"Bytes": b"one"}}]
        assert end[0] != "end"
        if make is make_ours:
            assert end[0] == "ResponseStreamingError"
            assert "Connection broken" in end[1]


def test_a_stream_that_ends_inside_an_event_raises(server):
    # botocore ends the iteration silently here (its buffer keeps the partial event); ours
    # raises (README: deliberate).
    server.queue(Script(stream(event(b"one"), event(b"two")[:10])))
    events, end = drain(call(make_ours(endpoint_url=server.url)))
    assert events == [{"PayloadPart": {"Bytes": b"one"}}]
    assert end[:2] == (
        "ResponseStreamingError",
        "An error occurred while reading from response stream: "
        "the response stream ended before its last event was complete",
    )


def test_a_content_length_stream_cut_short_raises(server):
    body = event(b"one")
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\n"
        b"Content-Length: %d\r\n\r\n" % (len(body) * 2)
    )
    server.queue(Script([head + body, 0.1]))
    events, end = drain(call(make_ours(endpoint_url=server.url)))
    assert events == [{"PayloadPart": {"Bytes": b"one"}}]
    assert end[0] == "ResponseStreamingError"


def open_connections_to(port):
    count = 0
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[2].split(":")[1], 16) == port and fields[3] == "01":
                count += 1
    return count


@pytest.mark.slow
@pytest.mark.parametrize("how", ["close", "with", "dropped", "after-one-event"])
def test_leaving_a_stream_frees_its_connection(server, how):
    client = make_ours(endpoint_url=server.url)
    for _ in range(10):
        server.queue(Script(stream(event(b"one"), 30.0)))
        resp = call(client)
        body = resp["Body"]
        if how == "close":
            body.close()
        elif how == "with":
            with body:
                pass
        elif how == "after-one-event":
            assert next(iter(body)) == {"PayloadPart": {"Bytes": b"one"}}
            body.close()
            assert list(body) == []
        del resp, body
        gc.collect()
    time.sleep(0.1)
    assert open_connections_to(server.port) == 0
    server.queue(Reply(200, [], b"{}"))
    assert client.invoke_endpoint(EndpointName="ep", Body=b"")["Body"].read() == b"{}"


def test_a_stream_read_to_its_end_gives_its_connection_back(server):
    client = make_ours(endpoint_url=server.url)
    for _ in range(3):
        server.queue(Script(stream(event(b"a"), 0.05, event(b"b")), keep=True))
        assert len(list(call(client)["Body"])) == 2
    assert server.connections_accepted == 1


def test_through_a_proxy_events_stream_too():
    with ScriptedServer() as proxy:
        from sagemaker_rt_c.config import Config

        client = make_ours(
            endpoint_url="http://sagemaker.invalid", config=Config(proxies={"http": proxy.url})
        )
        got_first = threading.Event()
        proxy.queue(Script(stream(event(b"one"), got_first, event(b"two")), keep=True))
        events = iter(call(client)["Body"])
        assert next(events) == {"PayloadPart": {"Bytes": b"one"}}
        got_first.set()
        assert list(events) == [{"PayloadPart": {"Bytes": b"two"}}]


LINES = [
    ([b"hello\nwor", b"ld\n"], [b"hello", b"world"]),
    ([b"a\r", b"\nb"], [b"a", b"b"]),
    ([b"no newline at all"], [b"no newline at all"]),
    ([b"x\n", b"", b"\n", b"y"], [b"x", b"", b"y"]),
    ([b"", b""], []),
    ([b'{"token": "Hel"}\n{"tok', b'en": "lo"}\n'], [b'{"token": "Hel"}', b'{"token": "lo"}']),
]


@pytest.mark.parametrize("parts,lines", LINES)
def test_iter_lines_across_parts(server, parts, lines):
    server.queue(Script(stream(*[event(p) for p in parts])))
    body = call(make_ours(endpoint_url=server.url))["Body"]
    assert list(body.iter_lines()) == lines


def test_iter_lines_keepends_and_iter_payloads(server):
    parts = [b"a\r\nb", b"c\n", b"d"]
    server.queue(Script(stream(*[event(p) for p in parts])))
    assert list(call(make_ours(endpoint_url=server.url))["Body"].iter_lines(keepends=True)) == [
        b"a\r\n",
        b"bc\n",
        b"d",
    ]
    server.queue(Script(stream(*[event(p) for p in parts])))
    assert list(call(make_ours(endpoint_url=server.url))["Body"].iter_payloads()) == parts


def test_iter_lines_ends_when_the_stream_ends(server):
    # A last line without a newline, then the stream's end: yielded, no wait for more.
    server.queue(Script(stream(event(b"last line"), 0.2)))
    body = call(make_ours(endpoint_url=server.url))["Body"]
    t0 = time.monotonic()
    assert list(body.iter_lines()) == [b"last line"]
    assert time.monotonic() - t0 < 5


STRINGS = [
    "ContentType",
    "Accept",
    "CustomAttributes",
    "TargetVariant",
    "TargetContainerHostname",
    "InferenceId",
    "InferenceComponentName",
    "SessionId",
    "PrefixAwareId",
]


def random_params(rng):
    params = {"EndpointName": rng.choice(["ep", "a" * 63, "ep.x", "é"]), "Body": b"{}"}
    for name in STRINGS:
        if rng.random() < 0.3:
            params[name] = rng.choice(["x", "application/json", "", "a b", "NEW_SESSION"])
    if rng.random() < 0.3:
        params["Body"] = rng.choice([b"", "text", bytearray(b"ba"), b"x" * 5000])
    if rng.random() < 0.1:
        params[rng.choice(["TargetModel", "Bogus", "EnableExplanations"])] = "x"
    if rng.random() < 0.1:
        params[rng.choice(STRINGS)] = rng.choice([5, None, b"bytes"])
    if rng.random() < 0.05:
        del params[rng.choice(["EndpointName", "Body"])]
    return params


@pytest.mark.differential
@pytest.mark.parametrize("seed", range(40))
def test_same_request_and_validation_as_boto3(server, seed):
    server.default = Reply(200, [("Content-Type", "application/vnd.amazon.eventstream")], b"")
    ours, theirs = invoke_both(
        server,
        make_ours(endpoint_url=server.url),
        make_boto3(endpoint_url=server.url),
        random_params(random.Random(seed)),
        method="invoke_endpoint_with_response_stream",
    )
    # The Body (an EventStream) is compared by its events elsewhere.
    for outcome in (ours[0], theirs[0]):
        if outcome[0] == "ok":
            outcome[1]["Body"] = None
    assert ours == theirs


@pytest.mark.differential
@pytest.mark.parametrize(
    "reply",
    [
        Reply(400, [("x-amzn-ErrorType", "ValidationError")], b'{"message": "bad"}'),
        Reply(
            424,
            [("x-amzn-ErrorType", "ModelError")],
            b'{"Message": "m", "OriginalStatusCode": 500}',
        ),
        Reply(500, [], b""),
    ],
    ids=["400", "model-error", "500"],
)
def test_error_responses_as_boto3(server, reply):
    server.default = reply
    ours, theirs = invoke_both(
        server,
        make_ours(endpoint_url=server.url),
        make_boto3(endpoint_url=server.url),
        {"EndpointName": "ep", "Body": b"{}"},
        method="invoke_endpoint_with_response_stream",
    )
    assert ours == theirs


@pytest.mark.differential
def test_presigned_url_as_boto3():
    url = "https://runtime.sagemaker.us-east-1.amazonaws.com"
    ours, theirs = presign_both(
        make_ours(endpoint_url=url),
        make_boto3(endpoint_url=url),
        "invoke_endpoint_with_response_stream",
        Params={"EndpointName": "ep", "Body": b"", "Accept": "application/json"},
        ExpiresIn=60,
    )
    assert ours == theirs
    assert ours[0] == "ok"


@pytest.mark.slow
def test_other_threads_run_while_a_stream_waits(server):
    server.queue(Script(stream(event(b"one"), 1.0, event(b"two"))))
    body = call(make_ours(endpoint_url=server.url))["Body"]
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    t = threading.Thread(target=tick)
    t.start()
    try:
        assert len(list(body)) == 2
    finally:
        stop.set()
        t.join()
    assert len(ticks) > 30  # the GIL was free while the stream waited


@pytest.mark.slow
def test_a_stream_read_in_another_thread_is_refused(server):
    server.queue(Script(stream(event(b"one"), 1.0, event(b"two"))))
    body = call(make_ours(endpoint_url=server.url))["Body"]
    events = iter(body)
    got = {}
    t = threading.Thread(target=lambda: got.setdefault("a", list(events)))
    t.start()
    time.sleep(0.3)
    with pytest.raises(RuntimeError, match="another thread"):
        next(events)
    t.join(5)
    assert [e["PayloadPart"]["Bytes"] for e in got["a"]] == [b"one", b"two"]
