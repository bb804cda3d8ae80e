"""Requests per second through the local endpoint (sagemaker_rt_c.local), our client and boto3.

    .venv/bin/python bench/local_endpoint_rate.py [--threads 32] [--seconds 3] [--no-boto3]

Starts ``python -m sagemaker_rt_c.local serve`` (the built-in models, in its own process, as
``make demo`` runs it), then calls its ``sentiment`` model from N threads sharing one client
for a few seconds, with this package's client and with boto3 (``max_pool_connections=N``
each). The endpoint and the clients share this machine's cores.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BODY = json.dumps({"text": "I really love how fast this is, not bad at all"}).encode()


def make_client(kind, url, threads):
    kw = dict(
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    )
    if kind == "boto3":
        import boto3
        import botocore.config

        config = botocore.config.Config(max_pool_connections=threads)
        return boto3.client("sagemaker-runtime", config=config, **kw)
    import sagemaker_rt_c

    config = sagemaker_rt_c.Config(max_pool_connections=threads)
    return sagemaker_rt_c.client("sagemaker-runtime", config=config, **kw)


def rate(client, endpoint, threads, seconds):
    counts = [0] * threads
    errors = [0] * threads
    stop = time.monotonic() + seconds

    def run(i):
        while time.monotonic() < stop:
            try:
                client.invoke_endpoint(
                    EndpointName=endpoint, Body=BODY, ContentType="application/json"
                )["Body"].read()
                counts[i] += 1
            except Exception:  # noqa: BLE001 - counted
                errors[i] += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    t0 = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts) / (time.monotonic() - t0), sum(errors)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--no-boto3", action="store_true")
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    server = subprocess.Popen(
        [sys.executable, "-m", "sagemaker_rt_c.local", "serve", "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = server.stdout.readline().strip()
        print(f"local endpoint {url}, {args.threads} threads, {args.seconds:g} s each")
        kinds = ["sagemaker_rt_c"] + ([] if args.no_boto3 else ["boto3"])
        for kind in kinds:
            client = make_client(kind, url, args.threads)
            client.invoke_endpoint(EndpointName="sentiment", Body=BODY)  # warm up
            per_s, errors = rate(client, "sentiment", args.threads, args.seconds)
            print(f"  {kind:15s} {per_s:9.0f} calls/s  ({errors} errors)")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
