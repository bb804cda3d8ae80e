"""What the tests of tests/dask run in other processes (a ProcessPoolExecutor's workers, a
Dask cluster's): importable there by this name (a spawned child gets the parent's sys.path)."""

import os
import pickle


def set_env(values):
    """An initializer: environment variables set in this process only (None: removed)."""
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def clean_aws_env():
    """No AWS settings of this machine (what tests/conftest.py's clean_aws_env does here)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    os.environ.update(
        AWS_CONFIG_FILE="/nonexistent/config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/credentials",
        AWS_EC2_METADATA_DISABLED="true",
    )


def call(client, endpoint, body):
    """One invoke_endpoint with an unpickled client: (body or error code, pid, id(client))."""
    try:
        out = client.invoke_endpoint(EndpointName=endpoint, Body=body)["Body"].read()
    except Exception as e:  # noqa: BLE001 - the test reads the code
        out = e.response["Error"]["Code"] if hasattr(e, "response") else type(e).__name__
    return out, os.getpid(), id(client)


def unpickle_twice(data):
    """(pid, whether two unpicklings of the same bytes gave one object)."""
    return os.getpid(), pickle.loads(data) is pickle.loads(data)
