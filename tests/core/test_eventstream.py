"""The event-stream decoder (csrc/eventstream.c through _core.EventStreamDecoder) against the
published vectors (conformance/eventstream/vectors.json) and, differentially, against
botocore's EventStreamBuffer: random well-formed streams of every header type split at random
bytes, random corruptions (with and without CRCs made valid again, to reach the header
parser), botocore's quirks on odd lengths, and the limits at their exact boundaries.

The one difference allowed: a header block that runs past the end of its message, which
botocore reads from the bytes after the message (so its result depends on how the stream was
split); the decoder raises ParserError there (sagemaker_rt_c/_protocol/eventstream.py)."""

import json
import os
import random
import struct
import subprocess
import sys
import zlib

import pytest
from botocore.eventstream import EventStreamBuffer
from conftest import CONFORMANCE

from sagemaker_rt_c._core import EventStreamDecoder
from sagemaker_rt_c._protocol import eventstream as _eventstream

VECTORS = json.load(open(os.path.join(CONFORMANCE, "eventstream", "vectors.json")))["vectors"]
MAX_HEADERS = 128 * 1024
MAX_PAYLOAD = 24 * 1024 * 1024
OVERRUN = "runs past the end of the message"

# ---- encoding ---------------------------------------------------------------------------------

INT_FORMATS = {2: "!b", 3: "!h", 4: "!i", 5: "!q", 8: "!q"}


def encode_header(name, type_id, value):
    """One header; `name` str or bytes, `value` as botocore decodes it (bytes for 6 and 9)."""
    name = name.encode() if isinstance(name, str) else name
    out = bytes([len(name)]) + name + bytes([type_id])
    if type_id in INT_FORMATS:
        out += struct.pack(INT_FORMATS[type_id], value)
    elif type_id in (6, 7):
        raw = value.encode() if isinstance(value, str) else value
        out += struct.pack("!H", len(raw)) + raw
    elif type_id == 9:
        out += value
    return out


def frame(header_block, payload=b"", total=None, headers_length=None, message_crc=None):
    """A message from raw parts; the lengths and the message CRC may be overridden (the
    prelude CRC is always right)."""
    hl = len(header_block) if headers_length is None else headers_length
    total = 16 + len(header_block) + len(payload) if total is None else total
    prelude = struct.pack("!II", total, hl)
    prelude += struct.pack("!I", zlib.crc32(prelude))
    body = prelude + header_block + payload
    crc = zlib.crc32(body) if message_crc is None else message_crc
    return body + struct.pack("!I", crc)


def message(headers, payload=b""):
    """headers: [(name, type_id, value)]."""
    return frame(b"".join(encode_header(*h) for h in headers), payload)


def with_crcs(raw):
    """`raw` (a prelude, then anything) with both CRCs made right for its declared lengths, where
    the message CRC lies outside the prelude and inside `raw`."""
    b = bytearray(raw)
    b[8:12] = struct.pack("!I", zlib.crc32(bytes(b[:8])))
    total = struct.unpack("!I", b[:4])[0]
    if 16 <= total <= len(b):
        b[total - 4 : total] = struct.pack("!I", zlib.crc32(bytes(b[: total - 4])))
    return bytes(b)


# ---- running both decoders --------------------------------------------------------------------


def typed(headers):
    """Headers with their value types, in order (True == 1, but bool is not int here)."""
    return [(k, type(v).__name__, v) for k, v in headers.items()]


def outcome(exc):
    return ("error", type(exc).__name__, str(exc))


def run_ours(chunks, as_type=bytes):
    d = EventStreamDecoder()
    out = []
    for c in chunks:
        d.feed(as_type(c))
        while True:
            try:
                m = d.next_message()
            except Exception as e:
                out.append(outcome(e))
                # An error is final: raised again, the same, whatever comes after.
                d.feed(b"\x00" * 20)
                with pytest.raises(type(e)) as again:
                    d.next_message()
                assert str(again.value) == str(e)
                return out
            if m is None:
                break
            out.append(("msg", typed(m[0]), m[1]))
    return out


def run_botocore(chunks):
    b = EventStreamBuffer()
    out = []
    for c in chunks:
        b.add_data(bytes(c))
        while True:
            try:
                m = b.next()
            except StopIteration:
                break
            except Exception as e:
                out.append(outcome(e))
                return out
            out.append(("msg", typed(m.headers), m.payload))
    return out


def split(rng, data, pieces=None):
    """`data` cut at random bytes (empty pieces included now and then)."""
    if pieces is None:
        pieces = rng.randrange(1, 12)
    cuts = sorted(rng.randrange(len(data) + 1) for _ in range(pieces - 1))
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def u32(data, off):
    return struct.unpack("!I", data[off : off + 4])[0]


def assert_overrun(data, messages):
    """The frame after `messages` frames has a header block that runs past its end, and is
    otherwise sound up to there (botocore would not have failed before reading its headers)."""
    off = 0
    for _ in range(messages):
        off += u32(data, off)
    total, hl, crc = u32(data, off), u32(data, off + 4), u32(data, off + 8)
    assert zlib.crc32(data[off : off + 8]) == crc
    assert hl > 0 and 12 + hl > total >= 4 and off + max(total, 12) <= len(data)
    assert hl <= MAX_HEADERS and total - hl - 16 <= MAX_PAYLOAD
    end = off + total - 4
    assert zlib.crc32(data[off + 8 : max(end, off + 8)], crc) == u32(data, end)


def assert_same(chunks, as_type=bytes):
    ours = run_ours(chunks, as_type)
    ref = run_botocore(chunks)
    if ours and ours[-1][0] == "error" and ours[-1][1] == "ParserError" and OVERRUN in ours[-1][2]:
        # botocore reads this message's headers from whatever follows it: only what came
        # before can be compared.
        assert_overrun(b"".join(bytes(c) for c in chunks), len(ours) - 1)
        assert ours[:-1] == ref[: len(ours) - 1]
        return ours
    assert ours == ref
    return ours


# ---- random messages --------------------------------------------------------------------------

NAMES = ["", "a", ":event-type", ":message-type", ":content-type", "x" * 255, "é", "日本"]
INT_RANGES = {2: 8, 3: 16, 4: 32, 5: 64, 8: 64}


def random_value(rng, type_id):
    if type_id in (0, 1):
        return type_id == 0
    if type_id in INT_RANGES:
        bits = INT_RANGES[type_id]
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        return rng.choice([lo, hi, 0, -1, 1, rng.randint(lo, hi)])
    if type_id == 6:
        return rng.randbytes(rng.choice([0, 1, 5, 300]))
    if type_id == 7:
        return rng.choice(["", "event", "application/json", "ü" * 10, "€𝄞" * rng.randrange(4)])
    return rng.randbytes(16)


def random_headers(rng, count=None, duplicates=False):
    if count is None:
        count = rng.randrange(0, 12)
    names = set()
    headers = []
    while len(headers) < count:
        name = rng.choice(NAMES) if rng.random() < 0.3 else f"h{rng.randrange(1 << 30)}"
        if name in names and not duplicates:
            continue
        names.add(name)
        type_id = rng.randrange(10)
        headers.append((name, type_id, random_value(rng, type_id)))
    return headers


def random_message(rng, duplicates=False):
    size = rng.choice([0, 0, 1, 40, 200, 1000, 70_000 if rng.random() < 0.05 else 3])
    return message(random_headers(rng, duplicates=duplicates), rng.randbytes(size))


def random_stream(rng, count=None, duplicates=False):
    count = rng.randrange(1, 6) if count is None else count
    return b"".join(random_message(rng, duplicates) for _ in range(count))


def expected_value(h):
    v = h["value"]
    if h["type_id"] in (6, 9):
        return bytes.fromhex(v)
    return v


# ---- the vectors ------------------------------------------------------------------------------

ERROR_CLASS = {
    "prelude_crc_mismatch": "ChecksumMismatch",
    "message_crc_mismatch": "ChecksumMismatch",
    "headers_length_too_large": "InvalidHeadersLength",
    "payload_length_too_large": "InvalidPayloadLength",
    "duplicate_header": "DuplicateHeader",
}


@pytest.mark.differential
@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector(v):
    raw = bytes.fromhex(v["hex"])
    d = EventStreamDecoder()
    if "error" in v:
        d.feed(raw)
        with pytest.raises(_eventstream.ParserError) as e:
            d.next_message()
        assert type(e.value).__name__ == ERROR_CLASS[v["error"]]
        if "upstream_exception" in v:
            assert type(e.value).__name__ == v["upstream_exception"]
        assert run_ours([raw]) == run_botocore([raw])
        return
    exp = v["expected"]
    assert exp["total_length"] == len(raw) == struct.unpack("!I", raw[:4])[0]
    assert EventStreamDecoder._crc32(raw[:8]) == int(exp["prelude_crc"], 16)
    assert EventStreamDecoder._crc32(raw[:-4]) == int(exp["message_crc"], 16)
    chunks = [bytes.fromhex(c) for c in v["chunks_hex"]] if "chunks_hex" in v else [raw]
    for i, piece in enumerate(chunks):
        d.feed(piece)
        if i < len(chunks) - 1:
            assert d.next_message() is None, "a message before the last chunk"
    headers, payload = d.next_message()
    assert d.next_message() is None
    assert d.pending == 0
    assert list(headers) == exp["header_order"]
    for name, h in exp["headers"].items():
        want = expected_value(h)
        assert headers[name] == want and type(headers[name]) is type(want), name
    assert payload == bytes.fromhex(exp["payload_hex"])
    assert run_ours(chunks) == run_botocore(chunks)


@pytest.mark.differential
def test_vectors_concatenated():
    """botocore's own test: its nine valid vectors, empty-message to error-event-message, in
    one buffer give the nine messages in order."""
    names = [v["name"] for v in VECTORS]
    first, last = names.index("botocore/empty-message"), names.index("botocore/error-event-message")
    picked = VECTORS[first : last + 1]
    assert len(picked) == 9
    data = b"".join(bytes.fromhex(v["hex"]) for v in picked)
    d = EventStreamDecoder()
    d.feed(data)
    got = list(d)
    assert [list(h) for h, _ in got] == [v["expected"]["header_order"] for v in picked]
    assert [p for _, p in got] == [bytes.fromhex(v["expected"]["payload_hex"]) for v in picked]
    assert run_ours([data]) == run_botocore([data])


def test_payload_length_vector_with_upstream_tail():
    v = next(v for v in VECTORS if v["name"] == "botocore/payload-length-too-large")
    tail = v["upstream_tail"]
    raw = bytes.fromhex(v["hex"])
    # The prelude alone decides; botocore's test appends 24 MiB + 1 more bytes.
    d = EventStreamDecoder()
    d.feed(raw[:11])
    assert d.next_message() is None
    d.feed(raw[11:])
    with pytest.raises(_eventstream.InvalidPayloadLength) as e:
        d.next_message()
    assert str(e.value) == "Payload length of 25165841 exceeded the maximum of 25165824"
    d.feed(
        bytes.fromhex(tail["fill_byte_hex"]) * tail["fill_count"] + bytes.fromhex(tail["then_hex"])
    )
    assert d.pending == 12  # after an error, what comes is dropped (botocore keeps it all)
    with pytest.raises(_eventstream.InvalidPayloadLength):
        d.next_message()
    assert d.pending == 12


# ---- differential: well-formed streams --------------------------------------------------------


@pytest.mark.differential
def test_every_header_type_each_split():
    """One stream with every header type, fed in two pieces at every byte."""
    rng = random.Random(1)
    data = message([(f"t{t}", t, random_value(rng, t)) for t in range(10)], b"payload") + message(
        [("7", 7, "x")], b""
    )
    want = run_botocore([data])
    assert len(want) == 2
    for cut in range(len(data) + 1):
        assert run_ours([data[:cut], data[cut:]]) == want, cut
    assert run_ours([data[i : i + 1] for i in range(len(data))]) == want


@pytest.mark.differential
def test_random_streams_random_splits():
    rng = random.Random(2)
    for _ in range(600):
        data = random_stream(rng)
        chunks = split(rng, data)
        got = assert_same(chunks, rng.choice([bytes, bytes, bytearray, memoryview]))
        assert all(kind == "msg" for kind, *_ in got)


@pytest.mark.differential
def test_many_headers_and_duplicates():
    """More headers than the decoder compares one by one (it hashes names past 16), with a
    duplicate at every position."""
    rng = random.Random(3)
    for count in (15, 16, 17, 18, 40, 64, 65, 200, 3000):
        headers = [(f"n{i}", 4, i) for i in range(count)]
        assert_same([message(headers)])
        for _ in range(4):
            j = rng.randrange(1, count + 1)
            dup = headers[:j] + [(headers[rng.randrange(j)][0], 7, "again")] + headers[j:]
            got = assert_same(split(rng, message(dup)))
            assert got[-1][:2] == ("error", "DuplicateHeader")


def test_iteration_and_pending():
    a, b = message([("a", 0, True)], b"1"), message([], b"2")
    d = EventStreamDecoder()
    d.feed(a + b[:5])
    assert [p for _, p in d] == [b"1"]
    assert d.pending == 5
    d.feed(b[5:])
    assert d.pending == len(b)
    assert next(d) == ({}, b"2")
    assert d.pending == 0
    with pytest.raises(StopIteration):
        next(d)


def test_fed_buffers_are_copied():
    """bytearray and other buffers are copied as botocore copies them; bytes are read in place
    and kept alive by the decoder."""
    data = message([("k", 7, "v")], b"payload")
    ba = bytearray(data)
    d = EventStreamDecoder()
    d.feed(ba[:10])
    d.feed(memoryview(ba)[10:])
    ba[:] = b"\x00" * len(ba)
    assert d.next_message() == ({"k": "v"}, b"payload")
    d = EventStreamDecoder()
    d.feed(bytes(data) + data[:7])
    assert d.next_message() == ({"k": "v"}, b"payload")
    assert d.next_message() is None
    with pytest.raises(TypeError):
        d.feed("text")
    with pytest.raises(TypeError):
        EventStreamDecoder(1)


# ---- differential: corruptions and botocore's quirks ------------------------------------------


def frames_of(data):
    """The frame offsets as botocore walks them, while preludes are readable."""
    offsets, off = [], 0
    while off + 12 <= len(data):
        offsets.append(off)
        total = struct.unpack("!I", data[off : off + 4])[0]
        if total == 0:
            break
        off += total
    return offsets


def corrupt(rng, data):
    b = bytearray(data)
    kind = rng.randrange(7)
    if kind == 0:
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 1:
        b[rng.randrange(len(b))] = rng.randrange(256)
    elif kind == 2:
        del b[rng.randrange(len(b)) :]
    elif kind == 3:
        i = rng.randrange(len(b) + 1)
        b[i:i] = rng.randbytes(rng.randrange(1, 5))
    elif kind == 4:
        i = rng.randrange(len(b))
        del b[i : i + rng.randrange(1, 5)]
    else:
        # Inside one frame, with its CRCs made right again: reaches the header parser.
        off = rng.choice(frames_of(bytes(b)) or [0])
        total, hl = struct.unpack("!II", b[off : off + 8])
        if kind == 5 and hl:
            i = off + 12 + rng.randrange(hl)
            b[i] = rng.choice([rng.randrange(256), b[i] ^ 1, 10, 0xFF, 0x80, 0])
        else:
            field = rng.choice([0, 4])
            value = struct.unpack("!I", b[off + field : off + field + 4])[0]
            value = rng.choice(
                [value + rng.randint(-20, 20), rng.randrange(64), rng.randrange(1 << 32)]
            )
            b[off + field : off + field + 4] = struct.pack("!I", value % (1 << 32))
        b[off:] = with_crcs(bytes(b[off:]))
    return bytes(b)


@pytest.mark.differential
def test_random_corruptions():
    rng = random.Random(4)
    seen = set()
    for _ in range(6000):
        # Names drawn with repeats now and then: botocore's DuplicateHeader.
        data = random_stream(rng, rng.randrange(1, 4), duplicates=rng.random() < 0.1)
        data = corrupt(rng, data) if rng.random() < 0.95 else data
        got = assert_same(split(rng, data, rng.randrange(1, 4)))
        if got and got[-1][0] == "error":
            seen.add(got[-1][1])
    # The corruptions reach every kind of failure botocore has.
    assert {
        "ChecksumMismatch",
        "InvalidHeadersLength",
        "InvalidPayloadLength",
        "DuplicateHeader",
        "KeyError",
        "error",  # struct.error
        "UnicodeDecodeError",
        "ParserError",  # ours: headers past the message
    } <= seen, seen


def block(*headers):
    return b"".join(encode_header(*h) for h in headers)


def short_frame(total, headers_length, fill=b""):
    """A prelude with these lengths, `fill`, zeros up to max(total, 12) bytes, both CRCs right
    (the message CRC where it lies past the prelude)."""
    raw = struct.pack("!II", total, headers_length) + b"\x00" * 4 + fill
    return with_crcs(raw + b"\x00" * (max(total, 12) - len(raw)))


QUIRKS = {
    # botocore keeps a value the header block cuts short ...
    "short string": frame(block(("a", 0, True)) + b"\x01s\x07\x00\x09abc"),
    "short bytes": frame(b"\x01s\x06\x00\x09ab"),
    "short uuid": frame(b"\x01u\x09abc"),
    "short utf-8 string": frame(b"\x01s\x07\x00\x09a\xc3"),
    # ... but fails on a missing fixed-size field, type byte or length.
    "short name": frame(b"\x05ab"),
    "no type": frame(b"\x02ab"),
    "short byte": frame(b"\x01b\x02"),
    "short int16": frame(b"\x01b\x03\x00"),
    "short int32": frame(b"\x01b\x04\x00\x00\x00"),
    "short int64": frame(b"\x01b\x05\x00"),
    "short timestamp": frame(b"\x01b\x08" + b"\x00" * 7),
    "short length": frame(b"\x01b\x06\x00"),
    "unknown type": frame(b"\x01b\x0a"),
    "type 255": frame(b"\x01b\xff"),
    "bad utf-8 name": frame(b"\x02\xff\xfe\x00"),
    "bad utf-8 value": frame(b"\x01v\x07\x00\x02\xc3\x28"),
    "bad utf-8 before duplicate": frame(block(("a", 0, True)) + b"\x01a\x07\x00\x01\xff"),
    "bad utf-8 before unknown type": frame(b"\x01\xff\x0b"),
    "empty name": frame(block(("", 4, 7))),
    "two empty names": frame(block(("", 4, 7), ("", 1, False))),
    # Lengths that leave no room for a payload: the header block takes in payload bytes, or the
    # message CRC.
    "headers into the payload": frame(b"", b"\x01a\x00\x00", headers_length=6),
    "headers into the CRC": frame(b"", b"", total=16, headers_length=4),
    "headers are the CRC": short_frame(16, 4) + message([], b"next"),
    # total_length under 16, under 12 (the next message starts inside this one), under 4.
    "total 12": short_frame(12, 0) + message([("n", 0, True)], b"next"),
    "total 13": short_frame(13, 0),
    "total 15": short_frame(15, 0) + message([]),
    "total 8": short_frame(8, 0) + message([], b"next"),
    "total 4": short_frame(4, 0),
    "total 3": short_frame(3, 0),
    "total 0": short_frame(0, 0),
    # The one difference: headers past the message (botocore would read the next one's bytes).
    "headers past the message": short_frame(16, 8) + message([("a", 0, True)]),
    "headers past a short message": short_frame(12, 1) + message([]),
    # ... only once the message CRC has passed.
    "bad CRC, headers past": short_frame(16, 8)[:12] + b"\x00\x00\x00\x00" + message([]),
}


@pytest.mark.differential
@pytest.mark.parametrize("name", list(QUIRKS))
def test_botocore_quirks(name):
    data = QUIRKS[name]
    want = assert_same([data])
    for cut in range(len(data) + 1):
        assert run_ours([data[:cut], data[cut:]]) == want, cut
    if name.startswith("headers past"):
        assert want[-1][:2] == ("error", "ParserError") and OVERRUN in want[-1][2]
    else:
        assert want == run_botocore([data])


def test_quirk_outcomes():
    """What the quirks give, spelled out (so that a botocore that changed would show)."""

    def ours(name):
        return run_ours([QUIRKS[name]])

    assert ours("short string") == [("msg", [("a", "bool", True), ("s", "str", "abc")], b"")]
    assert ours("short uuid") == [("msg", [("u", "bytes", b"abc")], b"")]
    assert ours("short name") == [("error", "error", "unpack requires a buffer of 1 bytes")]
    assert ours("short int64") == [("error", "error", "unpack requires a buffer of 8 bytes")]
    assert ours("short length") == [("error", "error", "unpack requires a buffer of 2 bytes")]
    assert ours("unknown type") == [("error", "KeyError", "10")]
    assert ours("bad utf-8 before unknown type")[0][1] == "UnicodeDecodeError"
    assert ours("bad utf-8 before duplicate")[0][1] == "UnicodeDecodeError"
    assert ours("total 0") == [("error", "error", "unpack requires a buffer of 4 bytes")]
    # A 12-byte message (its CRC is the prelude's), then the next one.
    assert ours("total 12") == [("msg", [], b""), ("msg", [("n", "bool", True)], b"next")]
    assert ours("headers past the message") == [
        (
            "error",
            "ParserError",
            "Header length of 8 runs past the end of the message (total length 16)",
        )
    ]


# ---- limits -----------------------------------------------------------------------------------


@pytest.mark.differential
def test_headers_length_limit():
    # Exactly 128 KiB of headers: two byte arrays.
    first = encode_header("a", 6, b"x" * 65535)
    rest = MAX_HEADERS - len(first) - len(encode_header("b", 6, b""))
    data = frame(first + encode_header("b", 6, b"y" * rest), b"p")
    assert struct.unpack("!I", data[4:8])[0] == MAX_HEADERS
    got = assert_same([data[:70000], data[70000:]])
    assert got[0][0] == "msg" and got[0][2] == b"p"
    # One more byte: refused from the prelude alone, before the rest arrives.
    over = with_crcs(struct.pack("!II", 16 + MAX_HEADERS + 1, MAX_HEADERS + 1))
    assert assert_same([over]) == [
        ("error", "InvalidHeadersLength", "Header length of 131073 exceeded the maximum of 131072")
    ]
    huge = with_crcs(struct.pack("!II", 0xFFFFFFFF, 0xFFFFFFFF) + b"\x00" * 4)
    assert assert_same([huge])[0][1] == "InvalidHeadersLength"


@pytest.mark.differential
def test_payload_length_limit():
    payload = bytes(range(256)) * (MAX_PAYLOAD // 256)
    data = message([("h", 4, 1)], payload)
    got = assert_same([data[:12], data[12 : 1 << 20], data[1 << 20 :]])
    assert len(got) == 1 and got[0][2] == payload
    hl = len(encode_header("h", 4, 1))
    over = with_crcs(struct.pack("!II", 16 + hl + MAX_PAYLOAD + 1, hl) + b"\x00" * 4)
    assert assert_same([over]) == [
        (
            "error",
            "InvalidPayloadLength",
            "Payload length of 25165825 exceeded the maximum of 25165824",
        )
    ]
    # The largest total_length the limits allow is decoded once it is all there.
    d = EventStreamDecoder()
    d.feed(data[:-1])
    assert d.next_message() is None and d.pending == len(data) - 1
    d.feed(data[-1:])
    assert d.next_message()[1] == payload


# ---- CRC-32 and the package boundary -----------------------------------------------------------


def test_crc32_matches_zlib():
    rng = random.Random(5)
    blob = rng.randbytes(70_000)
    for _ in range(2000):
        off = rng.randrange(64)
        n = rng.choice([rng.randrange(200), rng.randrange(70_000 - 64)])
        seed = rng.choice([0, rng.randrange(1 << 32)])
        want = zlib.crc32(blob[off : off + n], seed)
        assert EventStreamDecoder._crc32(blob[off : off + n], seed) == want
        assert EventStreamDecoder._crc32(blob[off : off + n], seed, True) == want


@pytest.mark.differential
def test_exceptions_mirror_botocore():
    import botocore.eventstream as be

    for name in (
        "ParserError",
        "DuplicateHeader",
        "InvalidHeadersLength",
        "InvalidPayloadLength",
        "ChecksumMismatch",
        "NoInitialResponseError",
    ):
        ours, theirs = getattr(_eventstream, name), getattr(be, name)
        assert [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__]
    for args, cls in (
        ((1, 2), "ChecksumMismatch"),
        (("h",), "DuplicateHeader"),
        ((5,), "InvalidHeadersLength"),
        ((6,), "InvalidPayloadLength"),
        ((), "NoInitialResponseError"),
    ):
        assert str(getattr(_eventstream, cls)(*args)) == str(getattr(be, cls)(*args))
    assert (_eventstream._MAX_HEADERS_LENGTH, _eventstream._MAX_PAYLOAD_LENGTH) == (
        be._MAX_HEADERS_LENGTH,
        be._MAX_PAYLOAD_LENGTH,
    )


def test_no_botocore_import():
    code = (
        "import sys\n"
        "from sagemaker_rt_c._core import EventStreamDecoder\n"
        "d = EventStreamDecoder()\n"
        "d.feed(bytes(16))\n"
        "try:\n"
        "    d.next_message()\n"
        "except Exception as e:\n"
        "    assert type(e).__name__ == 'ChecksumMismatch', e\n"
        "assert 'botocore' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_reentrant_use_is_refused(monkeypatch):
    """Python code that runs inside a call (here the import that fetches the exception classes,
    through builtins.__import__) cannot use the decoder whose buffer the call is reading."""
    import builtins

    d = EventStreamDecoder()
    refused = []
    real_import = builtins.__import__

    def hook(name, *args, **kwargs):
        if name == "sagemaker_rt_c._protocol.eventstream":
            for use in (lambda: d.feed(b"\x00" * 100), d.next_message):
                try:
                    use()
                except RuntimeError as e:
                    refused.append(str(e))
        return real_import(name, *args, **kwargs)

    bad = bytearray(message([("a", 7, "b")], b"p"))
    bad[-1] ^= 1
    d.feed(message([], b"ok") + bytes(bad))
    monkeypatch.setattr(builtins, "__import__", hook)
    assert d.next_message() == ({}, b"ok")
    with pytest.raises(_eventstream.ChecksumMismatch):
        d.next_message()
    monkeypatch.undo()
    assert refused == ["EventStreamDecoder is in use by another call"] * 2
    # And the decoder is as it was: the same error again, nothing fed.
    assert d.pending == len(bad)
    with pytest.raises(_eventstream.ChecksumMismatch):
        d.next_message()
