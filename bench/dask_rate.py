"""Rows per second of sagemaker_rt_c.dask.invoke_endpoint on a local Dask cluster (1 and 2
worker processes), against invoke_endpoint_batch in one process on the same rows.

    .venv/bin/python bench/dask_rate.py [--rows 40000] [--rounds 5] [--latency-ms 0 5]
                                        [--partitions-per-worker 4] [--max-concurrency 32]

Starts ``python -m sagemaker_rt_c.local serve`` (the built-in models, in its own process, as
bench/local_endpoint_rate.py does) once per latency (``--latency-ms``: a model service time
added to every call; 0 is the bare ``sentiment`` model, where the endpoint's one process is
the limit), and for each: a LocalCluster per worker count (processes, one thread each, a
nanny each), started and warmed up (one small compute: imports, the worker's client) before
anything is timed. The same rows (the demo's 10,000 reviews, repeated) go through

- ``batch``: ``client.invoke_endpoint_batch(rows, max_concurrency=C)`` in this process,
  every result read (the response dicts, bodies in memory);
- ``dask xN``: ``invoke_endpoint(dd.from_pandas(frame, npartitions=N x P), ...).compute()``
  with N workers: the rows shipped to the workers in the graph, each partition one batch of
  C calls at a time, the result frame gathered back here.

Rounds alternate the contenders; medians are reported, and for the ratio the median of each
round's own ratio (loopback on a small VM swings from minute to minute). The endpoint, the
workers and this process share the machine's cores (2 on the development machine).
"""

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

REVIEWS = os.path.join(ROOT, "sagemaker_rt_c", "cli", "reviews.jsonl.gz")


def bodies(n):
    texts = []
    with gzip.open(REVIEWS, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                texts.append(json.dumps({"text": json.loads(line)["text"]}))
            except (ValueError, KeyError, TypeError):
                pass  # the demo's broken records (on purpose)
    return [texts[i % len(texts)] for i in range(n)]


def serve(latency_ms):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "sagemaker_rt_c.local", "serve", "--quiet"]
    if latency_ms:
        cmd += ["--latency-ms", str(latency_ms)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    return proc, proc.stdout.readline().strip()


def run_batch(client, rows, concurrency):
    requests = (
        {"EndpointName": "sentiment", "Body": b, "ContentType": "application/json"} for b in rows
    )
    t0 = time.perf_counter()
    errors = 0
    n = 0
    for result in client.invoke_endpoint_batch(requests, max_concurrency=concurrency):
        n += 1
        errors += isinstance(result, BaseException)
    took = time.perf_counter() - t0
    assert n == len(rows) and errors == 0, (n, errors)
    return took


def run_dask(frame, npartitions, client, concurrency):
    import dask.dataframe as dd

    import sagemaker_rt_c.dask as smrt_dask

    t0 = time.perf_counter()
    ddf = dd.from_pandas(frame, npartitions=npartitions)
    out = smrt_dask.invoke_endpoint(
        ddf,
        "sentiment",
        body="body",
        client=client,
        max_concurrency=concurrency,
        ContentType="application/json",
    ).compute()
    took = time.perf_counter() - t0
    assert len(out) == len(frame) and out["Error"].isna().all(), out["Error"].value_counts()
    return took


def start_cluster(workers):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        processes=True, n_workers=workers, threads_per_worker=1, dashboard_address=":0"
    )
    return cluster, Client(cluster)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=40000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 5.0])
    ap.add_argument("--partitions-per-worker", type=int, default=4)
    ap.add_argument("--max-concurrency", type=int, default=32)
    args = ap.parse_args()

    import pandas as pd

    import sagemaker_rt_c

    rows = bodies(args.rows)
    frame = pd.DataFrame({"body": rows})
    conc = args.max_concurrency
    print(
        f"{args.rows} rows, max_concurrency {conc} per batch, {args.rounds} rounds, "
        f"{os.cpu_count()} CPUs, {args.partitions_per_worker} partitions per worker"
    )
    for latency in args.latency_ms:
        server, url = serve(latency)
        try:
            rt = sagemaker_rt_c.client(
                "sagemaker-runtime",
                region_name="us-east-1",
                endpoint_url=url,
                aws_access_key_id="AKIDEXAMPLE",
                aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            )
            run_batch(rt, rows[:2000], conc)  # warm-up
            times = {"batch": []}
            clusters = {}
            first = {}
            for workers in (1, 2):
                t0 = time.perf_counter()
                cluster, dclient = start_cluster(workers)
                started = time.perf_counter() - t0
                clusters[workers] = (cluster, dclient)
                with dclient.as_current():  # warm-up: the workers' imports, their client
                    first[workers] = (started, run_dask(frame.iloc[:2000], workers, rt, conc))
                times[f"dask x{workers}"] = []
            try:
                for _ in range(args.rounds):
                    times["batch"].append(run_batch(rt, rows, conc))
                    for workers, (_, dclient) in clusters.items():
                        with dclient.as_current():
                            took = run_dask(frame, workers * args.partitions_per_worker, rt, conc)
                        times[f"dask x{workers}"].append(took)
            finally:
                for cluster, dclient in clusters.values():
                    dclient.close()
                    cluster.close()
        finally:
            server.terminate()
            server.wait(10)
        label = f"{latency:g} ms model latency" if latency else "no added latency"
        print(f"\nsentiment, {label}:")
        for name, samples in times.items():
            med = statistics.median(samples)
            spread = f"{min(samples):.2f}-{max(samples):.2f} s"
            ratio = ""
            if name != "batch":
                # Each round's own ratio (the same minute's conditions), then their median.
                ratios = [t / b for t, b in zip(samples, times["batch"], strict=True)]
                ratio = (
                    f"  {statistics.median(ratios):.2f}x the batch's time "
                    f"(rounds {min(ratios):.2f}-{max(ratios):.2f}x)"
                )
            print(f"  {name:8s} {args.rows / med:9,.0f} rows/s  ({med:.2f} s; {spread}){ratio}")
        for workers, (started, warm) in first.items():
            print(
                f"  (dask x{workers}: cluster started in {started:.2f} s, first compute of 2,000 "
                f"rows {warm:.2f} s: not counted above)"
            )


if __name__ == "__main__":
    main()
