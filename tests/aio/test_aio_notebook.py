"""Top-level ``await`` in Jupyter (issue 12): a notebook executed headlessly (nbclient, a fresh
ipykernel on this interpreter, as tests/local/test_notebook.py runs the quickstart) makes calls
with ``async with get_session().create_client(...)`` in a cell of the kernel's running loop."""

import json
import os
import sys

import nbclient
import nbformat
import pytest

import sagemaker_rt_c

pytestmark = pytest.mark.slow

KERNEL = "smrt-aio-test-python"

CELLS = [
    """
from sagemaker_rt_c.local import LocalEndpoint
ep = LocalEndpoint({"echo": lambda body: body}).start()
""",
    """
import asyncio
from sagemaker_rt_c.aio import get_session

kw = dict(region_name="us-east-1", endpoint_url=ep.url, aws_access_key_id="AKIDEXAMPLE",
          aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
async with get_session().create_client("sagemaker-runtime", **kw) as client:
    r = await client.invoke_endpoint(EndpointName="echo", Body=b"hello")
    body = await r["Body"].read()
    many = await asyncio.gather(
        *(client.invoke_endpoint(EndpointName="echo", Body=str(i).encode()) for i in range(100))
    )
    bodies = [await m["Body"].read() for m in many]
    try:
        await client.invoke_endpoint(EndpointName="nope", Body=b"x")
    except client.exceptions.ValidationError as e:
        error = str(e)
body
""",
    """
ep.stop()
import json as _json
import sagemaker_rt_c
print("PROBE" + _json.dumps({
    "body": body.decode(), "bodies": [b.decode() for b in bodies], "error": error,
    "loop_running": asyncio.get_event_loop().is_running(),
    "package": sagemaker_rt_c.__file__,
}))
""",
]


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    """A kernelspec of this interpreter and the environment the kernel starts in: the package
    importable from where these tests import it, Jupyter's and IPython's state in tmp_path."""
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


def test_top_level_await_in_a_notebook(kernel_env, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src.strip()) for src in CELLS]
    client = nbclient.NotebookClient(
        nb, kernel_name=KERNEL, timeout=60, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env=kernel_env)  # raises CellExecutionError on any cell's exception

    result = [o for o in nb.cells[1].outputs if o["output_type"] == "execute_result"]
    assert result[0]["data"]["text/plain"] == "b'hello'"
    text = "".join(o.get("text", "") for o in nb.cells[2].outputs if o["output_type"] == "stream")
    probe = json.loads(text.split("PROBE", 1)[1])
    assert os.path.realpath(probe["package"]) == os.path.realpath(sagemaker_rt_c.__file__)
    assert probe["body"] == "hello"
    assert probe["bodies"] == [str(i) for i in range(100)]
    assert "Endpoint nope of account" in probe["error"]
    assert probe["loop_running"]  # the cells ran on the kernel's own loop
