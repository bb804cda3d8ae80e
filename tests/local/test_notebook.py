"""examples/quickstart.ipynb, executed headlessly (nbclient + ipykernel) as a user would run it:
a fresh kernel on this interpreter importing the package from where these tests import it,
every cell in order, then the outputs and the kernel's variables checked. The committed file
has no outputs."""

import ast
import gzip
import json
import os
import re
import sys
from importlib import resources

import nbclient
import nbformat
import pytest

import sagemaker_rt_c

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK = os.path.join(ROOT, "examples", "quickstart.ipynb")
KERNEL = "smrt-test-python"

# Run after the notebook's last cell, in its kernel: what the test checks, as one JSON line.
PROBE = """
import json as _json
print("PROBE" + _json.dumps({
    "rows": len(df), "columns": sorted(df.columns), "labels": sorted(set(df["label"].dropna())),
    "errors": len(errors), "error_rows": [int(i) for i in errors.index],
    "error_codes": sorted(set(errors["error"])),
    "exceptions": sorted({type(r).__name__ for r in results if isinstance(r, Exception)}),
    "results": len(results), "lines": len(lines),
    "bodies_are_bytes": all(isinstance(r["Body"], bytes) for r in results if isinstance(r, dict)),
    "records_in_order": list(df["record"]) == lines,
    "tokens": tokens,
    "running": ep.running,
    "package": sagemaker_rt_c.__file__,
}))
"""


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    """A kernelspec of this interpreter (not whatever `python3` kernel the machine has
    installed) and the environment the kernel starts in: the package importable from the
    directory these tests import it from, IPython's and Jupyter's state in tmp_path."""
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "test", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(sagemaker_rt_c.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [package_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    return env


def sample_records():
    """The lines of the package's sample data set, read here as the notebook is told to."""
    data = resources.files("sagemaker_rt_c.cli") / "reviews.jsonl.gz"
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        return f.read().splitlines()


def is_review(line):
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and isinstance(record.get("text"), str)


def stream_text(cell, name):
    return "".join(
        o["text"] for o in cell.outputs if o["output_type"] == "stream" and o["name"] == name
    )


def cell_with(nb, snippet):
    found = [c for c in nb.cells if c.cell_type == "code" and snippet in c.source]
    assert len(found) == 1, snippet
    return found[0]


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for c in code:
        assert c.outputs == [] and c.execution_count is None, c.source[:60]


def test_quickstart_runs(kernel_env):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=60,
        store_widget_state=True,
        resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}},
    )
    client.execute(env=kernel_env)  # raises CellExecutionError on any cell's exception

    probe = json.loads(stream_text(nb.cells[-1], "stdout").split("PROBE", 1)[1])
    # The kernel ran the package these tests run.
    assert os.path.realpath(probe["package"]) == os.path.realpath(sagemaker_rt_c.__file__)

    # One record: the verdict as the cell's value.
    one = cell_with(nb, "rt.invoke_endpoint(\n")
    result = [o for o in one.outputs if o["output_type"] == "execute_result"]
    verdict = ast.literal_eval(result[0]["data"]["text/plain"])  # the cell's value, a dict
    assert verdict["label"] == "POSITIVE" and 0.5 <= verdict["score"] <= 1
    assert stream_text(one, "stdout").split() == ["200", "application/json"]

    # Streaming: every token of the text came through, one printed line each, then a verdict.
    assert probe["tokens"] == ["not", "bad", "at", "all", "really", "quite", "good"]
    printed = stream_text(cell_with(nb, "invoke_endpoint_with_response_stream"), "stdout")
    lines = printed.splitlines()
    assert len(lines) == len(probe["tokens"]) + 1
    assert re.fullmatch(r"verdict: (POSITIVE|NEGATIVE) \(0\.\d{3}\)", lines[-1])

    # The batch: the package's sample data, every record answered in order; the broken ones
    # (found here independently: not JSON, or no "text") failed in place as ModelError.
    records = sample_records()
    broken = [i for i, line in enumerate(records) if not is_review(line)]
    assert len(records) > 1000 and 0 < len(broken) < 10
    assert probe["lines"] == probe["results"] == probe["rows"] == len(records)
    assert probe["records_in_order"] and probe["bodies_are_bytes"]
    assert probe["errors"] == len(broken) and probe["error_rows"] == broken
    assert probe["error_codes"] == probe["exceptions"] == ["ModelError"]
    assert probe["columns"] == [
        "error",
        "label",
        "message",
        "positive",
        "record",
        "score",
        "tokens",
    ]
    assert probe["labels"] == ["NEGATIVE", "POSITIVE"]
    frame = cell_with(nb, "pd.DataFrame(")
    assert stream_text(frame, "stdout").strip() == f"{len(records)} rows, {len(broken)} errors"
    html = [o for o in frame.outputs if o["output_type"] == "execute_result"]
    assert "text/html" in html[0]["data"]  # df.head() rendered as a table
    shown = cell_with(nb, 'errors[["record", "error", "message"]]')
    text = [o for o in shown.outputs if o["output_type"] == "execute_result"][0]["data"]
    assert "the body is not valid JSON" in text["text/html"]
    assert text["text/plain"].count("ModelError") == len(broken)

    # The progress bar: tqdm's text bar on stderr (no ipywidgets) reaching the total, or its
    # widget, whose stored state ends at the total.
    batch = cell_with(nb, "progress=True")
    bar = stream_text(batch, "stderr")
    widgets = [
        o for o in batch.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    if widgets:
        state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
        bars = [m["state"] for m in state.values() if m["model_name"] == "FloatProgressModel"]
        assert any(b["value"] == b["max"] == len(records) for b in bars), bars
    else:
        assert f"{len(records)}/{len(records)}" in bar, bar

    # Stopped.
    assert probe["running"] is False
