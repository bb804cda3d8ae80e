"""sagemaker_rt_c: a C-backed drop-in replacement for boto3's ``sagemaker-runtime`` client.

    import sagemaker_rt_c
    rt = sagemaker_rt_c.client("sagemaker-runtime", region_name="us-east-1")
    out = rt.invoke_endpoint(EndpointName="my-endpoint", Body=b'{"x": 1}',
                             ContentType="application/json")
    print(out["Body"].read())

Importing this package is cheap (about 1 ms): it loads what creating a client needs, and
starts loading libcurl and OpenSSL in a background thread. What only some calls need
(exceptions, which import botocore's for compatibility; presigning; sagemaker_rt_c.auth)
loads on first use.
"""

__version__ = "0.1.0"

from . import _resolve  # noqa: E402,F401  (needed by every client)
from ._client import SageMakerRuntime  # noqa: E402  (starts the background library load)
from .config import Config  # noqa: E402
from .session import Session, _default_session  # noqa: E402

__all__ = [
    "client",
    "from_boto3",
    "Session",
    "Config",
    "SageMakerRuntime",
    "exceptions",
    "__version__",
]


def client(
    service_name,
    region_name=None,
    api_version=None,
    use_ssl=True,
    verify=None,
    endpoint_url=None,
    aws_access_key_id=None,
    aws_secret_access_key=None,
    aws_session_token=None,
    config=None,
    credentials=None,
):
    """Create a low-level client, as ``boto3.client`` does (only ``'sagemaker-runtime'``).

    ``credentials`` (beyond boto3): a credentials object to sign with instead of the default
    chain's: this package's ``Credentials`` / ``RefreshableCredentials`` or botocore's (any
    object with ``get_frozen_credentials()``; refreshable ones keep refreshing).
    """
    return _default_session().client(
        service_name,
        region_name=region_name,
        api_version=api_version,
        use_ssl=use_ssl,
        verify=verify,
        endpoint_url=endpoint_url,
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
        aws_session_token=aws_session_token,
        config=config,
        credentials=credentials,
    )


def from_boto3(session_or_client, **overrides):
    """A sagemaker-runtime client of this package made from a ``boto3.Session``, a
    ``botocore.session.Session`` or a boto3 client: same region, endpoint, credentials
    (the credentials object itself, so it keeps refreshing) and config. ``overrides`` are
    ``client()`` keywords that replace what was taken over."""
    from ._interop import from_boto3 as _from_boto3

    return _from_boto3(session_or_client, **overrides)


def __getattr__(name):
    # Lazy: exceptions imports botocore's classes to subclass them; auth is for few users.
    if name in ("exceptions", "auth"):
        import importlib

        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + ["exceptions", "auth"])
