"""``sagemaker-rt-c batch``: input formats, output rows, errors, exit codes, resume and its
refusals. In this process (``main(argv)``) against a LocalEndpoint; the interruption tests
run the command in a child (test_cli_resume.py for kill -9)."""

import base64
import gzip
import json
import os
import signal
import subprocess
import time

import pytest
from clitools import (
    binary,
    cli,
    cli_env,
    echo,
    load_rows,
    picky,
    run_cli,
    set_credentials,
    wait_for_lines,
    without_latency,
)

from sagemaker_rt_c.cli import main
from sagemaker_rt_c.local import LocalEndpoint, ServiceError, inline

CALLS = {"n": 0}


@inline
def counted(body, request):
    CALLS["n"] += 1
    return picky(body, request)


@inline
def rejects(body, request):
    data = json.loads(body)
    if data.get("bad"):
        raise ServiceError("ValidationError", f"record {data['n']} is not acceptable", 400)
    return {"ok": data["n"]}


@pytest.fixture(scope="module")
def endpoint():
    handlers = {
        "picky": picky,
        "echo": echo,
        "binary": binary,
        "counted": counted,
        "rejects": rejects,
    }
    with LocalEndpoint(handlers) as ep:
        yield ep


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    set_credentials(monkeypatch)


def batch(endpoint, *args):
    return main(["batch", *args, "--endpoint-url", endpoint.url])


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return str(path)


# --- rows: order, bodies, errors ---------------------------------------------------------


def test_rows_in_input_order_with_errors_in_place(endpoint, tmp_path, capsys):
    lines = []
    expected = []  # per record: ("ok", n) | ("ModelError", n) | ("InvalidInput", line number)
    for n in range(300):
        if n == 40:
            lines.append("")  # a blank line: not a record
        if n == 100:
            lines.append('{"n": 100, oops')
            expected.append(("InvalidInput", len(lines)))
            continue
        if n % 23 == 7:
            lines.append(json.dumps({"n": n, "fail": True}))
            expected.append(("ModelError", n))
        else:
            lines.append(json.dumps({"n": n}))
            expected.append(("ok", n))
    src = write_jsonl(tmp_path / "in.jsonl", lines)
    out = str(tmp_path / "out.jsonl")

    assert batch(endpoint, "picky", src, "-o", out, "--max-concurrency", "16") == 1
    rows = load_rows(out)
    assert [r["index"] for r in rows] == list(range(len(expected)))
    for row, (kind, n) in zip(rows, expected, strict=True):
        if kind == "ok":
            assert json.loads(row["Body"])["double"] == 2 * n
            assert row["ContentType"] == "application/json"
            assert isinstance(row["latency_ms"], float) and row["latency_ms"] >= 0
            assert "Error" not in row
        elif kind == "ModelError":
            assert row["Error"] == "ModelError"
            assert f"cannot score record {n}" in row["Message"]
            assert "Body" not in row
        else:
            assert row["Error"] == "InvalidInput"
            assert row["Message"].startswith(f"line {n}: not valid JSON")
            assert row["latency_ms"] is None
    err = capsys.readouterr().err
    n_model = sum(k == "ModelError" for k, _ in expected)
    assert f"InvalidInput (record {expected.index(('InvalidInput', 102))}): line 102" in err
    assert f"{len(expected)} rows (complete): {len(expected) - n_model - 1} succeeded" in err
    assert f"failed (ModelError: {n_model}, InvalidInput: 1)" in err
    assert "records/s" in err and "p50" in err and "p90" in err and "p99" in err
    meta = json.load(open(out + ".meta.json"))
    assert meta["complete"] is True and meta["records"] == len(expected)
    assert meta["errors"] == {"InvalidInput": 1, "ModelError": n_model}


def test_all_succeeded_exit_0(endpoint, tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"n": n} for n in range(50)])
    out = str(tmp_path / "out.jsonl")
    assert batch(endpoint, "picky", src, "-o", out) == 0
    assert len(load_rows(out)) == 50
    assert "50 succeeded, 0 failed" in capsys.readouterr().err


def test_service_error_code_and_message(endpoint, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"n": 0}, {"n": 1, "bad": True}, {"n": 2}])
    out = str(tmp_path / "out.jsonl")
    assert batch(endpoint, "rejects", src, "-o", out) == 1
    rows = load_rows(out)
    assert rows[1] == {
        "index": 1,
        "Error": "ValidationError",
        "Message": "record 1 is not acceptable",
        "latency_ms": rows[1]["latency_ms"],
    }
    assert [json.loads(rows[i]["Body"]) for i in (0, 2)] == [{"ok": 0}, {"ok": 2}]


def test_body_not_utf8_is_base64(endpoint, tmp_path):
    src = str(tmp_path / "in.txt")
    with open(src, "wb") as f:
        f.write(b"abc\nd\xc3\xa9f\n")
    out = str(tmp_path / "out.jsonl")
    assert batch(endpoint, "binary", src, "-o", out) == 0
    rows = load_rows(out)
    assert [base64.b64decode(r["BodyBase64"]) for r in rows] == [
        b"\xff\xfeabc",
        b"\xff\xfed\xc3\xa9f",
    ]
    assert rows[0]["ContentType"] == "application/x-binary" and "Body" not in rows[0]


def test_request_options_reach_the_endpoint(endpoint, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"n": 1}])
    out = str(tmp_path / "out.jsonl")
    rc = batch(endpoint, "picky", src, "-o", out, "--content-type", "application/x-json",
               "--accept", "application/json")  # fmt: skip
    assert rc == 0
    body = json.loads(load_rows(out)[0]["Body"])
    assert body == {"double": 2, "ct": "application/x-json", "accept": "application/json"}


# --- formats -----------------------------------------------------------------------------


def test_jsonl_record_sent_as_it_is(endpoint, tmp_path):
    raw = ['{"b": 1,   "a": [1, 2]}', '  "just a string"  ', "\ufeff7"]
    src = str(tmp_path / "in.ndjson")
    with open(src, "wb") as f:
        f.write(b"\xef\xbb\xbf" + "\r\n".join(raw[:2]).encode() + b"\r\n\r\n[]\n")
    out = str(tmp_path / "out.jsonl")
    assert batch(endpoint, "echo", src, "-o", out) == 0
    rows = load_rows(out)
    assert [r["Body"] for r in rows] == ['{"b": 1,   "a": [1, 2]}', '"just a string"', "[]"]
    assert {r["ContentType"] for r in rows} == {"application/json"}


def test_csv_rows_header_quotes_and_bad_rows(endpoint, tmp_path, capsys):
    text = (
        "id,text\n"  # the header (--csv-header): not sent
        "1,plain\n"
        '2,"quoted, with comma"\n'
        '3,"spans\nlines"\n'
        '4,"bad"quote\n'  # strict csv: an error on line 6
        "\n"
        '5,"never closed\n'  # line 8: unterminated; parsing resumes on line 9
        "6,after\n"
        "7,last"  # no final newline
    )
    src = str(tmp_path / "in.csv")
    with open(src, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    out = str(tmp_path / "out.jsonl")
    assert batch(endpoint, "echo", src, "-o", out, "--csv-header") == 1
    rows = load_rows(out)
    assert [r.get("Body") for r in rows] == [
        "1,plain",
        '2,"quoted, with comma"',
        '3,"spans\nlines"',
        None,
        None,
        "6,after",
        "7,last",
    ]
    assert rows[0]["ContentType"] == "text/csv"
    assert rows[3]["Error"] == "InvalidInput"
    assert rows[3]["Message"].startswith("line 6: not a valid CSV row:")
    assert rows[4]["Message"] == (
        "line 8: not a valid CSV row: unterminated quoted field (a quote opened on this line"
        " is never closed)"
    )
    err = capsys.readouterr().err
    assert "line 6: not a valid CSV row" in err and "line 8" in err


def test_csv_without_header_option_sends_every_row(endpoint, tmp_path):
    src = str(tmp_path / "in.csv")
    with open(src, "w") as f:
        f.write("a,b\n1,2\n")
    out = str(tmp_path / "out.jsonl")
    assert batch(endpoint, "echo", src, "-o", out) == 0
    assert [r["Body"] for r in load_rows(out)] == ["a,b", "1,2"]


def test_lines_format(endpoint, tmp_path):
    src = str(tmp_path / "in.txt")
    with open(src, "wb") as f:
        f.write(b"first line\r\n\r\n   \n  second, with spaces  \nno newline")
    out = str(tmp_path / "out.jsonl")
    assert batch(endpoint, "echo", src, "-o", out) == 0
    rows = load_rows(out)
    assert [r["Body"] for r in rows] == ["first line", "  second, with spaces  ", "no newline"]
    assert rows[0]["ContentType"] == "text/plain"


def test_gzip_input_and_format_override(endpoint, tmp_path):
    records = [{"n": n} for n in range(20)]
    plain = write_jsonl(tmp_path / "in.jsonl", records)
    packed = str(tmp_path / "in.jsonl.gz")
    with open(plain, "rb") as f, gzip.open(packed, "wb") as g:
        g.write(f.read())
    odd = str(tmp_path / "records.data")  # no known extension: --format
    with open(plain, "rb") as f, open(odd, "wb") as g:
        g.write(f.read())
    outs = [str(tmp_path / f"out{i}.jsonl") for i in range(3)]
    assert batch(endpoint, "picky", plain, "-o", outs[0]) == 0
    assert batch(endpoint, "picky", packed, "-o", outs[1]) == 0
    assert batch(endpoint, "picky", odd, "-o", outs[2], "--format", "jsonl") == 0
    first = without_latency(load_rows(outs[0]))
    assert first == without_latency(load_rows(outs[1])) == without_latency(load_rows(outs[2]))


def test_truncated_gzip_is_reported(endpoint, tmp_path, capsys):
    packed = str(tmp_path / "in.jsonl.gz")
    with gzip.open(packed, "wb") as g:
        g.write(b"".join(b'{"n": %d}\n' % n for n in range(5000)))
    with open(packed, "rb") as f:
        data = f.read()
    with open(packed, "wb") as f:
        f.write(data[: len(data) // 2])
    out = str(tmp_path / "out.jsonl")
    assert batch(endpoint, "picky", packed, "-o", out) == 2
    err = capsys.readouterr().err
    assert f"Error: reading input {packed!r} after" in err
    rows = load_rows(out)
    assert 0 < len(rows) < 5000 and [r["index"] for r in rows] == list(range(len(rows)))


# --- usage errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.jsonl", "-o", "out.jsonl"], "input 'missing.jsonl': no such file"),
        (["in.dat", "-o", "out.jsonl"], "cannot tell the format of 'in.dat'"),
        (["in.jsonl", "-o", "out.jsonl", "--csv-header"], "--csv-header is for --format csv"),
        (["in.jsonl", "-o", "-"], "OUTPUT must be a file"),
        (["in.jsonl", "-o", "in.jsonl"], "INPUT and OUTPUT are the same file"),
        (["sub", "-o", "out.jsonl", "--format", "lines"], "input 'sub' is a directory"),
        (["in.jsonl", "-o", "sub"], "output 'sub' is a directory"),
        (["in.jsonl", "-o", "o", "--max-concurrency", "0"], "expected a whole number from 1"),
        (["in.jsonl", "-o", "o", "--max-concurrency", "1025"], "expected a whole number from"),
        (["in.jsonl", "-o", "o", "--max-concurrency", "fast"], "'fast': expected a whole"),
        (["in.jsonl", "-o", "o", "--format", "xml"], "invalid choice: 'xml'"),
        (["in.jsonl"], "the following arguments are required: -o/--output"),
        (["in.jsonl", "-o", "o", "--endpoint-url", "localhost:80"], "expected http://HOST"),
        (["in.jsonl", "-o", "o", "--progress", "--no-progress"], "not allowed with"),
    ],
)
def test_usage_errors(endpoint, tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "in.jsonl", [{"n": 1}])
    write_jsonl(tmp_path / "in.dat", [{"n": 1}])
    os.mkdir(tmp_path / "sub")
    assert main(["batch", "picky", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not os.path.exists(tmp_path / "out.jsonl")


def test_no_credentials_exit_3_before_any_output(endpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    src = write_jsonl(tmp_path / "in.jsonl", [{"n": 1}])
    out = tmp_path / "out.jsonl"
    assert batch(endpoint, "picky", src, "-o", str(out)) == 3
    assert "Error: NoCredentialsError: Unable to locate credentials" in capsys.readouterr().err
    assert not out.exists()


def test_no_region_exit_3(endpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    src = write_jsonl(tmp_path / "in.jsonl", [{"n": 1}])
    assert batch(endpoint, "picky", src, "-o", str(tmp_path / "o.jsonl")) == 3
    assert "Error: NoRegionError: You must specify a region. (give --region" in (
        capsys.readouterr().err
    )


def test_unknown_profile_exit_3(endpoint, tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"n": 1}])
    rc = batch(endpoint, "picky", src, "-o", str(tmp_path / "o.jsonl"), "--profile", "nope")
    assert rc == 3
    assert "Error: ProfileNotFound: The config profile (nope) could not be found" in (
        capsys.readouterr().err
    )


def test_unreachable_endpoint_stops_exit_4(tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = write_jsonl(tmp_path / "in.jsonl", [{"n": n} for n in range(10)])
    out = str(tmp_path / "out.jsonl")
    url = f"http://127.0.0.1:{port}"
    assert main(["batch", "picky", src, "-o", out, "--endpoint-url", url]) == 4
    err = capsys.readouterr().err
    assert "Error: EndpointConnectionError: Could not connect to the endpoint URL" in err
    assert "stopped at record 0 (not written)" in err and "rerun the same command" in err
    assert load_rows(out) == []


def test_endpoint_gone_mid_run_stops_and_resumes(endpoint, tmp_path, capsys):
    seen = {"n": 0}

    @inline
    def vanishing(body, request):
        seen["n"] += 1
        if seen["n"] == 120:
            endpoint.remove_endpoint("vanishing")  # the next calls: "not found"
        return picky(body, request)

    endpoint.add_endpoint("vanishing", vanishing)
    src = write_jsonl(tmp_path / "in.jsonl", [{"n": n} for n in range(400)])
    out = str(tmp_path / "out.jsonl")
    assert batch(endpoint, "vanishing", src, "-o", out, "--max-concurrency", "4") == 3
    err = capsys.readouterr().err
    assert "Error: ValidationError: Endpoint vanishing of account" in err
    rows = load_rows(out)
    assert 100 <= len(rows) <= 120 and all("Body" in r for r in rows)
    assert json.load(open(out + ".meta.json"))["complete"] is False

    endpoint.add_endpoint("vanishing", picky)
    assert batch(endpoint, "vanishing", src, "-o", out) == 0
    rows = load_rows(out)
    assert [json.loads(r["Body"])["double"] for r in rows] == [2 * n for n in range(400)]


# --- resume ------------------------------------------------------------------------------


def test_resume_cuts_a_partial_row_and_sends_only_the_rest(endpoint, tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"n": n} for n in range(200)])
    out = str(tmp_path / "out.jsonl")
    assert batch(endpoint, "counted", src, "-o", out) == 0
    full = load_rows(out)
    with open(out, "rb") as f:
        lines = f.readlines()
    with open(out, "wb") as f:  # what a kill -9 leaves: 73 rows and part of the next
        f.write(b"".join(lines[:73]) + lines[73][:11])
    capsys.readouterr()
    CALLS["n"] = 0
    assert batch(endpoint, "counted", src, "-o", out) == 0
    assert CALLS["n"] == 200 - 73
    err = capsys.readouterr().err
    assert "cut off an incomplete last row (11 bytes)" in err
    assert "resuming" in err and "73 of 200 rows already there" in err
    assert without_latency(load_rows(out)) == without_latency(full)
    # Done: a rerun sends nothing and changes nothing.
    before = open(out, "rb").read()
    CALLS["n"] = 0
    assert batch(endpoint, "counted", src, "-o", out) == 0
    assert CALLS["n"] == 0 and open(out, "rb").read() == before


def test_rerun_of_finished_job_keeps_its_exit_status(endpoint, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"n": 0}, {"n": 1, "fail": 1}])
    out = str(tmp_path / "out.jsonl")
    assert batch(endpoint, "picky", src, "-o", out) == 1
    assert batch(endpoint, "picky", src, "-o", out) == 1


def test_empty_output_or_only_job_file_starts_fresh(endpoint, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"n": n} for n in range(5)])
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"")  # e.g. killed right after creating it
    assert batch(endpoint, "picky", src, "-o", str(out)) == 0
    assert len(load_rows(out)) == 5
    out.unlink()  # the job file of that job stays: a missing output is a fresh start too
    assert batch(endpoint, "echo", src, "-o", str(out)) == 0
    assert load_rows(out)[0]["Body"] == '{"n": 0}'


def test_refuses_output_it_did_not_write(endpoint, tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"n": 1}])
    out = tmp_path / "precious.jsonl"
    out.write_text('{"mine": true}\n')
    assert batch(endpoint, "picky", src, "-o", str(out)) == 2
    err = capsys.readouterr().err
    assert "has no precious.jsonl.meta.json" in err and "--overwrite" in err
    assert out.read_text() == '{"mine": true}\n'
    assert batch(endpoint, "picky", src, "-o", str(out), "--overwrite") == 0
    assert load_rows(out)[0]["index"] == 0


@pytest.mark.parametrize("change", ["endpoint", "content-type", "input", "format"])
def test_refuses_to_resume_another_job(endpoint, tmp_path, capsys, change):
    records = [{"n": n} for n in range(30)]
    src = write_jsonl(tmp_path / "in.jsonl", records)
    out = str(tmp_path / "out.jsonl")
    assert batch(endpoint, "picky", src, "-o", out) == 0
    with open(out, "rb") as f:
        data = f.read()
    with open(out, "wb") as f:
        f.write(data[: len(data) // 2])  # an interrupted job
    args = ["picky", src, "-o", out]
    what = {
        "endpoint": "endpoint 'picky' there, 'echo' now",
        "content-type": "request",
        "input": "input_size",
        "format": "format",
    }[change]
    if change == "endpoint":
        args[0] = "echo"
    elif change == "content-type":
        args += ["--content-type", "text/plain"]
    elif change == "input":
        write_jsonl(tmp_path / "in.jsonl", records + [{"n": 30}])
    else:
        args += ["--format", "lines"]
    capsys.readouterr()
    assert batch(endpoint, *args) == 2
    err = capsys.readouterr().err
    assert "belongs to another job" in err and what in err and "--overwrite" in err
    with open(out, "rb") as f:
        assert f.read() == data[: len(data) // 2]  # untouched
    assert batch(endpoint, *args, "--restart") in (0, 1)
    assert len(load_rows(out)) == 30 + (change == "input")


def test_refuses_rows_changed_by_hand(endpoint, tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"n": n} for n in range(10)])
    out = str(tmp_path / "out.jsonl")
    assert batch(endpoint, "picky", src, "-o", out) == 0
    with open(out, "rb") as f:
        lines = f.readlines()
    lines[3] = b'{"index": 7, "Body": "x"}\n'
    with open(out, "wb") as f:
        f.write(b"".join(lines[:6]))
    capsys.readouterr()
    assert batch(endpoint, "picky", src, "-o", out) == 2
    assert f"output {out!r} line 4 is not row 3 of this job" in capsys.readouterr().err


# --- progress ----------------------------------------------------------------------------


@pytest.mark.slow
def test_progress_lines_bar_and_none(tmp_path):
    with LocalEndpoint({"picky": picky}, latency=0.002) as ep:
        src = write_jsonl(tmp_path / "in.jsonl", [{"n": n} for n in range(800)])
        base = ["batch", "picky", src, "--endpoint-url", ep.url, "--max-concurrency", "4"]
        lines = run_cli(*base, "-o", str(tmp_path / "a.jsonl"), "--progress-every", "0.05")
        bar = run_cli(*base, "-o", str(tmp_path / "b.jsonl"), "--progress")
        none = run_cli(*base, "-o", str(tmp_path / "c.jsonl"), "--no-progress")
    assert lines.returncode == bar.returncode == none.returncode == 0
    progress = [ln for ln in lines.stderr.decode().splitlines() if "/800 (" in ln]
    assert len(progress) >= 3, lines.stderr.decode()
    assert progress[0].startswith("batch: ") and "records/s, concurrency 4" in progress[0]
    assert "800/800" in bar.stderr.decode() and "rec/s" in bar.stderr.decode()
    err = none.stderr.decode()
    assert "/800 (" not in err and "rec/s" not in err
    assert "800 rows (complete): 800 succeeded" in err


# --- Ctrl-C ------------------------------------------------------------------------------


@pytest.mark.slow
def test_sigint_exits_130_promptly_and_resumes(tmp_path):
    records = [{"n": n, **({"fail": 1} if n % 97 == 3 else {})} for n in range(1500)]
    src = write_jsonl(tmp_path / "in.jsonl", records)
    ref, out = str(tmp_path / "ref.jsonl"), str(tmp_path / "out.jsonl")
    with LocalEndpoint({"picky": picky}, latency=0.002) as ep:
        args = ["batch", "picky", src, "--endpoint-url", ep.url, "--max-concurrency", "4"]
        assert run_cli(*args, "-o", ref).returncode == 1
        proc = subprocess.Popen(cli(*args, "-o", out), env=cli_env(), stderr=subprocess.PIPE)
        try:
            assert wait_for_lines(out, 300, proc) >= 300
            sent = time.monotonic()
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=10)
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 130, err.decode()
        assert took < 2.0
        assert b"interrupted" in err and b"rerun the same command to resume" in err
        assert b"Traceback" not in err
        partial = load_rows(out)
        assert 300 <= len(partial) < 1500
        again = run_cli(*args, "-o", out)
    assert again.returncode == 1
    assert without_latency(load_rows(out)) == without_latency(load_rows(ref))


def test_output_write_failure_is_reported_and_resumable(endpoint, tmp_path, monkeypatch, capsys):
    import errno

    from sagemaker_rt_c.cli import _output

    src = write_jsonl(tmp_path / "in.jsonl", [{"n": n} for n in range(100)])
    out = str(tmp_path / "out.jsonl")
    real_write = _output.Output.write

    def write(self, data, error_code=None):
        if self.rows == 40:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, data, error_code)

    monkeypatch.setattr(_output.Output, "write", write)
    assert batch(endpoint, "picky", src, "-o", out) == 2
    err = capsys.readouterr().err
    assert f"Error: cannot write output {out!r}: No space left on device; rerun" in err
    assert "Traceback" not in err and len(load_rows(out)) == 40
    monkeypatch.setattr(_output.Output, "write", real_write)
    assert batch(endpoint, "picky", src, "-o", out) == 0
    assert [r["index"] for r in load_rows(out)] == list(range(100))
