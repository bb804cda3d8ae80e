"""A response-stream server for the streaming workloads (bench/workloads.py stream_*), run in
its own process so that it never holds the measuring process's GIL. Prints its port, then
serves keep-alive HTTP/1.1 until killed. The endpoint name in the request path says what to
send, as an event stream (application/vnd.amazon.eventstream, one chunk per send):

    burst-N-SIZE     N PayloadPart events of SIZE bytes, all in one send
    paced-N-MICROS   N events, one every MICROS microseconds, each payload the sender's
                     time.monotonic_ns() (CLOCK_MONOTONIC: the same clock in every process)
"""

import binascii
import socket
import struct
import sys
import threading
import time


def header(name, value):
    n, v = name.encode(), value.encode()
    return bytes([len(n)]) + n + b"\x07" + struct.pack(">H", len(v)) + v


HEADERS = (
    header(":event-type", "PayloadPart")
    + header(":content-type", "application/octet-stream")
    + header(":message-type", "event")
)


def event(payload):
    total = 12 + len(HEADERS) + len(payload) + 4
    prelude = struct.pack(">II", total, len(HEADERS))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    m = prelude + HEADERS + payload
    return m + struct.pack(">I", binascii.crc32(m))


HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\n"
    b"X-Amzn-SageMaker-Content-Type: application/jsonlines\r\nTransfer-Encoding: chunked\r\n\r\n"
)
BURSTS = {}


def chunk(data):
    return b"%x\r\n" % len(data) + data + b"\r\n"


def serve(conn):
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head, _, rest = buf.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v)
            while len(rest) < length:
                rest += conn.recv(65536)
            buf = rest[length:]
            name = head.split(b" ")[1].split(b"/")[2].decode()
            mode, n, arg = name.split("-")
            n, arg = int(n), int(arg)
            if mode == "burst":
                key = (n, arg)
                if key not in BURSTS:
                    BURSTS[key] = HEAD + chunk(event(b"t" * arg) * n) + b"0\r\n\r\n"
                conn.sendall(BURSTS[key])
            else:
                conn.sendall(HEAD)
                for _ in range(n):
                    time.sleep(arg / 1e6)
                    conn.sendall(chunk(event(b"%d" % time.monotonic_ns())))
                conn.sendall(b"0\r\n\r\n")
    except OSError:
        return
    finally:
        conn.close()


def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    print(srv.getsockname()[1], flush=True)
    while True:
        conn, _ = srv.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
