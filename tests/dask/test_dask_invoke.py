"""sagemaker_rt_c.dask.invoke_endpoint on a real cluster (distributed.LocalCluster, two worker
processes) against a local endpoint in this process: the rows equal one process's
invoke_endpoint_batch, errors are values, nothing is computed to build the graph, a worker
killed mid-run changes nothing in the result, the workers find their own credentials."""

import json
import os
import pickle
import signal
import time

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import remote_tasks

import sagemaker_rt_c
import sagemaker_rt_c.dask as smrt_dask
from sagemaker_rt_c.local import LocalEndpoint, Response

GOOD_AK = "AKIDDASKWORKER000001"  # made up for these tests
GOOD_SK = "daskWorkerSecret/ONLY+ON+THE+WORKERS/0001"
WRONG_SK = "driverSecret/REFUSED+BY+THE+ENDPOINT/0001"
COLUMNS = list(smrt_dask.RESULT_COLUMNS)
DTYPES = smrt_dask.RESULT_DTYPES


def cells(series):
    """The column's values, None for the missing ones (<NA>)."""
    return [None if v is pd.NA else v for v in series.tolist()]


def shout(body):
    """Deterministic; a model error for bodies that start with "fail"."""
    text = body.decode()
    if text.startswith("fail"):
        raise ValueError(f"refused {text}")
    return {"upper": text.upper(), "n": len(body)}


def echo(body, request):
    return Response(body, request.content_type or "application/octet-stream")


def clean_env(client):
    """No AWS settings of this machine on the workers."""
    client.run(remote_tasks.clean_aws_env)


def start_cluster():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, dashboard_address=":0"
    )
    client = Client(cluster)
    clean_env(client)
    return cluster, client


@pytest.fixture(scope="module")
def cluster():
    cluster, client = start_cluster()
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def endpoint():
    with LocalEndpoint({"shout": shout, "echo": echo}, region="us-east-1") as ep:
        yield ep


def rows(n):
    """Bodies of every kind: str, bytes, model errors, a missing one."""
    bodies = []
    for i in range(n):
        if i % 97 == 5:
            bodies.append(f"fail {i}")
        elif i % 211 == 7:
            bodies.append(None)
        elif i % 2:
            bodies.append(f"review number {i}".encode())
        else:
            bodies.append(f"review number {i}")
    index = pd.Index([f"id{i:05d}" for i in range(n)], name="id")
    return pd.DataFrame(
        {"text": pd.Series(bodies, index=index, dtype=object), "k": np.arange(n)}, index=index
    )


def expected(client, frame, endpoint, **kw):
    """The same rows through one invoke_endpoint_batch in this process."""
    texts = frame["text"].tolist()
    valid = [i for i, b in enumerate(texts) if not pd.isna(b)]
    results = list(
        client.invoke_endpoint_batch(
            [dict(kw, EndpointName=endpoint, Body=texts[i]) for i in valid]
        )
    )
    cols = {c: [None] * len(frame) for c in COLUMNS}
    for i, text in enumerate(texts):
        if pd.isna(text):
            cols["Error"][i] = "InvalidInput"
            cols["ErrorMessage"][i] = f"the body is missing ({text!r})"
    for i, r in zip(valid, results, strict=True):
        if isinstance(r, Exception):
            cols["Error"][i] = r.response["Error"]["Code"]
            cols["ErrorMessage"][i] = r.response["Error"]["Message"]
        else:
            cols["Body"][i] = r["Body"]
            cols["ContentType"][i] = r["ContentType"]
            cols["InvokedProductionVariant"][i] = r["InvokedProductionVariant"]
    return frame.assign(
        **{c: pd.Series(v, index=frame.index, dtype=DTYPES[c]) for c, v in cols.items()}
    )


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside Dask's Parquet writer
@pytest.mark.slow  # a cluster
def test_rows_equal_one_process_batch(cluster, endpoint, tmp_path):
    frame = rows(3000)
    rt = endpoint.client()
    ddf = dd.from_pandas(frame, npartitions=6)
    before = sum(endpoint.stats()["responses"].values())
    lazy = smrt_dask.invoke_endpoint(
        ddf, "shout", body="text", client=rt, max_concurrency=8, ContentType="text/plain"
    )
    # meta declared: building the graph computed nothing.
    assert sum(endpoint.stats()["responses"].values()) == before
    assert list(lazy.columns) == ["text", "k"] + COLUMNS
    assert {c: lazy.dtypes[c] for c in COLUMNS} == {
        "Body": pd.ArrowDtype(pa.large_binary()),
        "ContentType": pd.ArrowDtype(pa.large_string()),
        "InvokedProductionVariant": pd.ArrowDtype(pa.large_string()),
        "Error": pd.ArrowDtype(pa.large_string()),
        "ErrorMessage": pd.ArrowDtype(pa.large_string()),
    }
    assert lazy.npartitions == 6 and lazy.divisions == ddf.divisions

    got = lazy.compute()
    # (From ddf: Dask gives the index its own string dtype.)
    want = expected(rt, ddf.compute(), "shout", ContentType="text/plain")
    pd.testing.assert_frame_equal(got, want)
    assert got["Error"].value_counts().to_dict() == {"ModelError": 31, "InvalidInput": 15}
    assert json.loads(got["Body"].iloc[0]) == {"upper": "REVIEW NUMBER 0", "n": 15}
    assert got["Error"].iloc[0] is pd.NA and got["ErrorMessage"].iloc[0] is pd.NA
    assert got.iloc[0].to_dict()["Error"] is None
    # The same requests again, the same rows, when computed again: into Parquet this time
    # (no schema needed).
    lazy.to_parquet(tmp_path / "scored")
    again = dd.read_parquet(tmp_path / "scored").compute()
    pd.testing.assert_frame_equal(again[COLUMNS], got[COLUMNS], check_dtype=False)


@pytest.mark.slow  # a cluster
def test_body_values(cluster, endpoint):
    values = [
        b"raw \xff bytes",
        "caf\u00e9",
        bytearray(b"ba"),
        {"text": "x", "n": np.int64(3)},
        [1.5, 2],
        np.arange(3),
        np.float32(2.5),
        7,
        None,
        float("nan"),
        pd.NA,
        object(),
        [float("nan")],
    ]
    frame = pd.DataFrame({"b": pd.Series(values, dtype=object)})
    # Dask's from_pandas makes object columns strings (str() of each value) unless told not
    # to; a binary Parquet column stays bytes.
    with dask.config.set({"dataframe.convert-string": False}):
        got = smrt_dask.invoke_endpoint(
            dd.from_pandas(frame, npartitions=2), "echo", body="b", client=endpoint.client()
        ).compute()
    sent = [
        b"raw \xff bytes",
        "caf\u00e9".encode(),
        b"ba",
        b'{"text":"x","n":3}',
        b"[1.5,2]",
        b"[0,1,2]",
        b"2.5",
        b"7",
    ]
    assert cells(got["Body"]) == sent + [None] * 5
    assert cells(got["Error"]) == [None] * 8 + ["InvalidInput"] * 5
    messages = cells(got["ErrorMessage"])[8:]
    assert messages[:3] == [
        "the body is missing (None)",
        "the body is missing (nan)",
        "the body is missing (<NA>)",
    ]
    assert messages[3].startswith("the body cannot be sent as JSON: Object of type object")
    assert messages[4].startswith("the body cannot be sent as JSON: Out of range float")


@pytest.mark.slow  # a cluster
def test_the_default_client_is_made_on_the_workers(cluster, endpoint):
    worker_env = {
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "x" * 40,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": endpoint.url,
    }
    cluster.run(remote_tasks.set_env, worker_env)
    try:
        frame = pd.DataFrame({"body": [f"row {i}" for i in range(40)]})
        got = smrt_dask.invoke_endpoint(
            dd.from_pandas(frame, npartitions=4), "echo", ContentType="text/plain"
        ).compute()
    finally:
        clean_env(cluster)
    assert cells(got["Error"]) == [None] * 40
    assert cells(got["Body"]) == [f"row {i}".encode() for i in range(40)]
    assert set(got["ContentType"]) == {"text/plain"}


@pytest.mark.slow  # a cluster
def test_the_workers_find_their_own_credentials(cluster, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", GOOD_AK)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", WRONG_SK)  # this process's: refused
    monkeypatch.setattr("sagemaker_rt_c.session._DEFAULT_SESSION", None)  # finds them now
    with LocalEndpoint({"echo": echo}, credentials=(GOOD_AK, GOOD_SK), region="eu-west-1") as ep:
        rt = sagemaker_rt_c.client(
            "sagemaker-runtime", region_name="eu-west-1", endpoint_url=ep.url
        )
        with pytest.raises(rt.exceptions.ClientError, match="signature we calculated"):
            rt.invoke_endpoint(EndpointName="echo", Body=b"x")
        assert WRONG_SK.encode() not in pickle.dumps(rt)

        cluster.run(
            remote_tasks.set_env, {"AWS_ACCESS_KEY_ID": GOOD_AK, "AWS_SECRET_ACCESS_KEY": GOOD_SK}
        )
        try:
            frame = pd.DataFrame({"body": [f"signed {i}" for i in range(30)]})
            got = smrt_dask.invoke_endpoint(
                dd.from_pandas(frame, npartitions=3), "echo", client=rt
            ).compute()
        finally:
            clean_env(cluster)
    assert cells(got["Error"]) == [None] * 30, got["ErrorMessage"].dropna().tolist()[:1]
    assert cells(got["Body"]) == [f"signed {i}".encode() for i in range(30)]


@pytest.mark.slow  # a cluster
def test_a_worker_killed_mid_run_changes_nothing():
    # 4 ms per call, 4 at a time per partition, two workers: about 2 s of calls.
    n = 4000
    with LocalEndpoint({"shout": shout}, latency=0.004) as ep:
        rt = ep.client()
        ddf = dd.from_pandas(rows(n), npartitions=16)
        frame = ddf.compute()
        cluster, client = start_cluster()
        try:
            lazy = smrt_dask.invoke_endpoint(
                ddf, "shout", body="text", client=rt,
                max_concurrency=4,
            )  # fmt: skip
            pids = sorted(client.run(os.getpid).values())
            future = client.compute(lazy)
            deadline = time.monotonic() + 30
            while sum(ep.stats()["responses"].values()) < n // 4:
                assert time.monotonic() < deadline and not future.done()
                time.sleep(0.01)
            os.kill(pids[0], signal.SIGKILL)
            got = future.result(timeout=60)
            answered = sum(ep.stats()["responses"].values())
        finally:
            client.close()
            cluster.close()
        want = expected(rt, frame, "shout")
    pd.testing.assert_frame_equal(got, want)
    # The killed worker's partitions were sent again (some requests answered twice).
    assert answered > n - frame["text"].isna().sum()


def test_arguments_are_checked_before_anything_runs(endpoint):
    from sagemaker_rt_c.credentials import Credentials

    ddf = dd.from_pandas(pd.DataFrame({"body": ["a"], "Error": [1]}), npartitions=1)
    rt = endpoint.client()
    before = endpoint.stats()["responses"]
    with pytest.raises(TypeError, match="dask DataFrame"):
        smrt_dask.invoke_endpoint(pd.DataFrame({"body": ["a"]}), "echo")
    with pytest.raises(KeyError, match="'nope'"):
        smrt_dask.invoke_endpoint(ddf, "echo", body="nope")
    with pytest.raises(ValueError, match=r"already has column\(s\) \['Error'\]"):
        smrt_dask.invoke_endpoint(ddf, "echo")
    ok = ddf[["body"]]
    with pytest.raises(TypeError, match="ContentTyp"):
        smrt_dask.invoke_endpoint(ok, "echo", ContentTyp="text/plain")
    with pytest.raises(TypeError, match="Body"):
        smrt_dask.invoke_endpoint(ok, "echo", Body=b"x")
    with pytest.raises(ValueError, match="max_concurrency"):
        smrt_dask.invoke_endpoint(ok, "echo", max_concurrency=0)
    with pytest.raises(TypeError, match="sagemaker_rt_c client"):
        smrt_dask.invoke_endpoint(ok, "echo", client=object())
    unpicklable = sagemaker_rt_c.client(
        "sagemaker-runtime", region_name="us-east-1", credentials=Credentials("a", "b")
    )
    with pytest.raises(TypeError, match="credentials="):
        smrt_dask.invoke_endpoint(ok, "echo", client=unpicklable)
    smrt_dask.invoke_endpoint(ok, "echo", client=rt)  # and this is fine, lazily
    assert endpoint.stats()["responses"] == before  # nothing above reached the endpoint
