"""Dask is optional: ``import sagemaker_rt_c`` (and making, pickling and unpickling a client)
never imports it; ``import sagemaker_rt_c.dask`` without it says which extra to install."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAVY = ("dask", "distributed", "pandas", "numpy", "cloudpickle", "pyarrow")


def run(code):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = ROOT
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    return proc


@pytest.mark.slow
def test_the_package_and_its_clients_never_import_dask():
    proc = run(
        "import pickle, sys\n"
        "import sagemaker_rt_c\n"
        "rt = sagemaker_rt_c.client('sagemaker-runtime', region_name='us-east-1',\n"
        "                           aws_access_key_id='AKIDEXAMPLE', aws_secret_access_key='x')\n"
        "data = pickle.dumps(rt)\n"
        "sagemaker_rt_c._pickling.clear()  # as another process would\n"
        "assert pickle.loads(data) is not rt\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.slow
@pytest.mark.parametrize("missing", ["dask", "pandas"])
def test_without_dask_the_error_names_the_extra(missing):
    # A None in sys.modules makes the import fail as if the package were not installed.
    proc = run(
        f"import sys; sys.modules[{missing!r}] = None\n"
        "import sagemaker_rt_c\n"
        "try:\n"
        "    import sagemaker_rt_c.dask\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'sagemaker_rt_c[dask]'" in proc.stdout
    assert f"missing: {missing}" in proc.stdout
