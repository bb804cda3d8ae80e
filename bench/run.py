"""Benchmarks: sagemaker_rt_c against boto3 and a bare libcurl loop, in one run, interleaved.

    python bench/run.py --quick     # a couple of minutes
    python bench/run.py             # more rounds and calls

Every figure is a ratio against a peer measured in the same run on the same machine
(medians over rounds, the ratio taken round by round): absolute times on a shared machine
say little. Prints a Markdown table; --out writes it to a file as well.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from nginx_util import Nginx  # noqa: E402

CREDS = dict(
    region_name="us-east-1",
    aws_access_key_id="AKIDEXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
)


def build_curl_loop():
    out = os.path.join(tempfile.gettempdir(), "smrt_curl_loop")
    src = os.path.join(HERE, "curl_loop.c")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        cflags = subprocess.run(
            ["pkg-config", "--cflags", "--libs", "libcurl"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        subprocess.run(["gcc", "-O2", "-o", out, src, *cflags], check=True)
    return out


def curl_loop(binary, url, body_len, calls, header_file=None):
    cmd = [binary, url, str(body_len), str(calls)] + ([header_file] if header_file else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return float(out.stdout) * 1e-6


def same_request_headers(client, url, body):
    """The header lines our client sends for this call, captured once from the wire, for the
    floor loop to send verbatim (libcurl formats every header byte it sends: the floor must
    send the same bytes for the ratio to measure our work, not the request's size)."""
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    captured = {}

    def serve():
        conn, _ = srv.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        captured["head"] = data.split(b"\r\n\r\n")[0].decode("latin-1")
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        conn.close()

    t = threading.Thread(target=serve)
    t.start()
    import sagemaker_rt_c

    probe = sagemaker_rt_c.client(
        "sagemaker-runtime", endpoint_url=f"http://127.0.0.1:{srv.getsockname()[1]}", **CREDS
    )
    probe.invoke_endpoint(EndpointName="bench", Body=body, ContentType="application/json")
    t.join()
    srv.close()
    port = url.rsplit(":", 1)[1].split("/")[0]
    lines = []
    for line in captured["head"].split("\r\n")[1:]:
        name = line.split(":", 1)[0].lower()
        if name == "content-length":
            continue  # libcurl adds it
        if name == "host":
            line = f"Host: 127.0.0.1:{port}"
        lines.append(line)
    # Suppress libcurl's own defaults, as the client does.
    lines += ["Accept:"] if not any(x.lower().startswith("accept:") for x in lines) else []
    path = os.path.join(tempfile.gettempdir(), "smrt_bench_headers.txt")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def per_call(client, body, calls):
    invoke = client.invoke_endpoint
    t = time.perf_counter()
    for _ in range(calls):
        invoke(EndpointName="bench", Body=body, ContentType="application/json")["Body"].read()
    return (time.perf_counter() - t) / calls


def fresh_interpreter(code):
    """Seconds reported by `code` run in a new interpreter (it prints one float)."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


IMPORT_CODE = "import time; t=time.perf_counter(); import {mod}; print(time.perf_counter()-t)"
CLIENT_CODE = (
    "import time, {mod}; kw = dict(region_name='us-east-1', aws_access_key_id='a', "
    "aws_secret_access_key='b'); t=time.perf_counter(); {mod}.client('sagemaker-runtime', **kw); "
    "print(time.perf_counter()-t)"
)


def median_ratio(pairs):
    return statistics.median(a / b for a, b in pairs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    rounds = 5 if args.quick else 11
    calls = 5000 if args.quick else 20000
    boto_calls = 300 if args.quick else 1000

    import boto3

    import sagemaker_rt_c

    rows = []
    # Import and first client, fresh interpreters, interleaved.
    imp, cli = [], []
    for _ in range(rounds):
        imp.append(
            (
                fresh_interpreter(IMPORT_CODE.format(mod="sagemaker_rt_c")),
                fresh_interpreter(IMPORT_CODE.format(mod="boto3")),
            )
        )
        cli.append(
            (
                fresh_interpreter(CLIENT_CODE.format(mod="sagemaker_rt_c")),
                fresh_interpreter(CLIENT_CODE.format(mod="boto3")),
            )
        )
    rows.append(
        (
            "import",
            statistics.median(a for a, _ in imp),
            "boto3",
            statistics.median(b for _, b in imp),
            1 / median_ratio(imp),
        )
    )
    rows.append(
        (
            "first client",
            statistics.median(a for a, _ in cli),
            "boto3",
            statistics.median(b for _, b in cli),
            1 / median_ratio(cli),
        )
    )

    binary = build_curl_loop()
    body = json.dumps({"inputs": [[0.5] * 16]}).encode()
    with Nginx() as nginx:
        ours = sagemaker_rt_c.client("sagemaker-runtime", endpoint_url=nginx.url, **CREDS)
        theirs = boto3.client("sagemaker-runtime", endpoint_url=nginx.url, **CREDS)
        per_call(ours, body, 500)
        per_call(theirs, body, 50)
        vs_curl, vs_min, vs_boto = [], [], []
        url = nginx.url + "/endpoints/bench/invocations"
        headers = same_request_headers(ours, url, body)
        for _ in range(rounds):
            c = curl_loop(binary, url, len(body), calls, headers)
            m = curl_loop(binary, url, len(body), calls)
            o = per_call(ours, body, calls)
            b = per_call(theirs, body, boto_calls)
            vs_curl.append((o, c))
            vs_min.append((o, m))
            vs_boto.append((o, b))
    rows.append(
        (
            "invoke_endpoint (small body)",
            statistics.median(o for o, _ in vs_curl),
            "bare libcurl loop, same request bytes",
            statistics.median(c for _, c in vs_curl),
            median_ratio(vs_curl),
        )
    )
    rows.append(
        (
            "invoke_endpoint (small body)",
            statistics.median(o for o, _ in vs_min),
            "bare libcurl loop, minimal headers",
            statistics.median(m for _, m in vs_min),
            median_ratio(vs_min),
        )
    )
    rows.append(
        (
            "invoke_endpoint (small body)",
            statistics.median(o for o, _ in vs_boto),
            "boto3",
            statistics.median(b for _, b in vs_boto),
            1 / median_ratio(vs_boto),
        )
    )

    lines = [
        f"Machine: {os.uname().sysname} {os.uname().release}, {os.cpu_count()} CPUs; "
        f"Python {sys.version.split()[0]}; {rounds} rounds, medians.",
        "",
        "| workload | sagemaker_rt_c | peer | peer time | ratio |",
        "|---|---|---|---|---|",
    ]
    for name, ours_t, peer, peer_t, ratio in rows:
        kind = "x the peer's time" if peer.startswith("bare libcurl") else "x faster"
        lines.append(
            f"| {name} | {ours_t * 1e6:,.1f} µs | {peer} | {peer_t * 1e6:,.1f} µs | "
            f"{ratio:.2f} {kind} |"
        )
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
