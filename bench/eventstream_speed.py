"""Event-stream decoding speed: sagemaker_rt_c._core.EventStreamDecoder against botocore's
EventStreamBuffer on the same bytes (standalone; not part of bench/run.py yet).

Two streams of InvokeEndpointWithResponseStream-like PayloadPart events (the three string
headers SageMaker sends): 64 KiB payloads, reported in GB/s of payload, and 40-byte payloads
(a token each, as LLM streaming sends), reported in events/s. Each is fed in 64 KiB chunks
(what botocore's EventStream reads from urllib3 at a time), in 16 KiB chunks, and, for the C
decoder only, whole (botocore's buffer copies what is left after every message: quadratic).

    python bench/eventstream_speed.py [--quick]
"""

import argparse
import os
import struct
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from sagemaker_rt_c._core import EventStreamDecoder  # noqa: E402

HEADERS = [
    (":event-type", "PayloadPart"),
    (":content-type", "application/octet-stream"),
    (":message-type", "event"),
]


def event(payload):
    block = b""
    for name, value in HEADERS:
        n, v = name.encode(), value.encode()
        block += bytes([len(n)]) + n + b"\x07" + struct.pack("!H", len(v)) + v
    prelude = struct.pack("!II", 16 + len(block) + len(payload), len(block))
    body = prelude + struct.pack("!I", zlib.crc32(prelude)) + block + payload
    return body + struct.pack("!I", zlib.crc32(body))


def chunked(data, size):
    if size is None:
        return [data]
    return [data[i : i + size] for i in range(0, len(data), size)]


def run_ours(chunks):
    d = EventStreamDecoder()
    n = 0
    for c in chunks:
        d.feed(c)
        for _ in d:
            n += 1
    return n


def run_botocore(chunks):
    from botocore.eventstream import EventStreamBuffer

    b = EventStreamBuffer()
    n = 0
    for c in chunks:
        b.add_data(c)
        for m in b:
            m.headers, m.payload  # noqa: B018 (what a consumer reads)
            n += 1
    return n


def best(fn, chunks, events, min_time):
    """Best seconds per run over runs filling min_time (at least three)."""
    assert fn(chunks) == events
    times = []
    start = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < min_time:
        t = time.perf_counter()
        fn(chunks)
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs")
    args = ap.parse_args()
    min_time = 0.3 if args.quick else 1.5
    try:
        import botocore

        have_botocore = True
        print(f"botocore {botocore.__version__}")
    except ImportError:
        have_botocore = False
        print("botocore is not installed: the C decoder only")

    big = event(bytes(range(256)) * 256)  # 64 KiB payload
    small = event(b'{"token": {"text": " the", "id": 279}}  ')[:]
    assert len(small) - len(event(b"")) == 40
    cases = [
        ("64 KiB payload events", big, 1024, 65536),
        ("40-byte payload events", small, 100_000, 40),
    ]
    for title, one, count, payload in cases:
        data = one * count
        print(f"\n{title}: {count} events, {len(one)} bytes each, {len(data) / 1e6:.1f} MB")
        for label, size in (("64 KiB chunks", 65536), ("16 KiB chunks", 16384), ("whole", None)):
            chunks = chunked(data, size)
            row = []
            impls = [("sagemaker_rt_c", run_ours)]
            if have_botocore and size is not None:
                impls.append(("botocore", run_botocore))
            secs = {}
            for name, fn in impls:
                secs[name] = s = best(fn, chunks, count, min_time)
                if payload >= 65536:
                    row.append(f"{name} {count * payload / s / 1e9:6.2f} GB/s")
                else:
                    row.append(f"{name} {count / s / 1e6:6.2f} M events/s")
            if "botocore" in secs:
                row.append(f"x{secs['botocore'] / secs['sagemaker_rt_c']:.1f}")
            print(f"  {label:14} " + "   ".join(row))


if __name__ == "__main__":
    main()
