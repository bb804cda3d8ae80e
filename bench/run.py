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
        cflags = subprocess.run(["pkg-config", "--cflags", "--libs", "libcurl"],
                                capture_output=True, text=True, check=True).stdout.split()
        subprocess.run(["gcc", "-O2", "-o", out, src, *cflags], check=True)
    return out


def curl_loop(binary, url, body_len, calls):
    out = subprocess.run([binary, url, str(body_len), str(calls)], capture_output=True, text=True,
                         check=True)
    return float(out.stdout) * 1e-6


def per_call(client, body, calls):
    invoke = client.invoke_endpoint
    t = time.perf_counter()
    for _ in range(calls):
        invoke(EndpointName="bench", Body=body, ContentType="application/json")["Body"].read()
    return (time.perf_counter() - t) / calls


def fresh_interpreter(code):
    """Seconds reported by `code` run in a new interpreter (it prints one float)."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
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
        imp.append((fresh_interpreter(IMPORT_CODE.format(mod="sagemaker_rt_c")),
                    fresh_interpreter(IMPORT_CODE.format(mod="boto3"))))
        cli.append((fresh_interpreter(CLIENT_CODE.format(mod="sagemaker_rt_c")),
                    fresh_interpreter(CLIENT_CODE.format(mod="boto3"))))
    rows.append(("import", statistics.median(a for a, _ in imp), "boto3",
                 statistics.median(b for _, b in imp), 1 / median_ratio(imp)))
    rows.append(("first client", statistics.median(a for a, _ in cli), "boto3",
                 statistics.median(b for _, b in cli), 1 / median_ratio(cli)))

    binary = build_curl_loop()
    body = json.dumps({"inputs": [[0.5] * 16]}).encode()
    with Nginx() as nginx:
        ours = sagemaker_rt_c.client("sagemaker-runtime", endpoint_url=nginx.url, **CREDS)
        theirs = boto3.client("sagemaker-runtime", endpoint_url=nginx.url, **CREDS)
        per_call(ours, body, 500)
        per_call(theirs, body, 50)
        vs_curl, vs_boto = [], []
        url = nginx.url + "/endpoints/bench/invocations"
        for _ in range(rounds):
            c = curl_loop(binary, url, len(body), calls)
            o = per_call(ours, body, calls)
            b = per_call(theirs, body, boto_calls)
            vs_curl.append((o, c))
            vs_boto.append((o, b))
    rows.append(("invoke_endpoint (small body)", statistics.median(o for o, _ in vs_curl),
                 "bare libcurl loop", statistics.median(c for _, c in vs_curl),
                 median_ratio(vs_curl)))
    rows.append(("invoke_endpoint (small body)", statistics.median(o for o, _ in vs_boto),
                 "boto3", statistics.median(b for _, b in vs_boto), 1 / median_ratio(vs_boto)))

    lines = [
        f"Machine: {os.uname().sysname} {os.uname().release}, {os.cpu_count()} CPUs; "
        f"Python {sys.version.split()[0]}; {rounds} rounds, medians.",
        "",
        "| workload | sagemaker_rt_c | peer | peer time | ratio |",
        "|---|---|---|---|---|",
    ]
    for name, ours_t, peer, peer_t, ratio in rows:
        kind = "x the peer's time" if peer == "bare libcurl loop" else "x faster"
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
