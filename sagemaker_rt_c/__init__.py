"""sagemaker_rt_c: a C-backed drop-in replacement for boto3's ``sagemaker-runtime`` client.

    import sagemaker_rt_c
    rt = sagemaker_rt_c.client("sagemaker-runtime", region_name="us-east-1")
    out = rt.invoke_endpoint(EndpointName="my-endpoint", Body=b'{"x": 1}',
                             ContentType="application/json")
    print(out["Body"].read())

Importing this package is cheap (about 3 ms, 40x less than boto3): it loads what creating
a client needs, and starts loading libcurl and OpenSSL in a background thread. What only
some calls need (exceptions, which import botocore's for compatibility; presigning;
sagemaker_rt_c.auth; ``logging``, which this package never imports before its user does)
loads on first use.
"""

from . import _log
from ._about import __version__
from ._client import SageMakerRuntime  # (starts the background library load)
from .config import Config
from .session import Session, _default_session

__all__ = [
    "client",
    "from_boto3",
    "set_stream_logger",
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
    from ._interop import from_boto3 as _from_boto3  # lazy: for migrations only

    return _from_boto3(session_or_client, **overrides)


def set_stream_logger(name="sagemaker_rt_c", level=10, format_string=None):
    """Add a stream handler for the given name and level to the logging module, as
    ``boto3.set_stream_logger`` does. By default, this logs all of this package's messages
    (``sagemaker_rt_c.*``: the requests, responses, retry decisions and where the
    credentials came from) to ``stderr``.

        >>> import logging, sagemaker_rt_c
        >>> sagemaker_rt_c.set_stream_logger('sagemaker_rt_c.retries', logging.INFO)

    ``level`` defaults to ``logging.DEBUG`` (10); ``format_string`` to boto3's
    ``"%(asctime)s %(name)s [%(levelname)s] %(message)s"``. ``''`` logs everything.

    Unlike botocore's wire trace, no record holds a credential, a token, the Authorization
    header, a signature or a request body (README "Debug logging"); response bodies of
    errors are logged, as botocore logs them.
    """
    import logging

    _log.set_up(logging)
    if format_string is None:
        format_string = "%(asctime)s %(name)s [%(levelname)s] %(message)s"

    logger = logging.getLogger(name)
    logger.setLevel(level)
    handler = logging.StreamHandler()
    handler.setLevel(level)
    formatter = logging.Formatter(format_string)
    handler.setFormatter(formatter)
    logger.addHandler(handler)


def __getattr__(name):
    # Lazy: exceptions imports botocore's classes to subclass them; auth is for few users;
    # local (the local endpoint) is for tests and notebooks; NullHandler (logging's,
    # re-exported as boto3 does) would import logging.
    if name in ("exceptions", "auth", "local"):
        import importlib

        return importlib.import_module("." + name, __name__)
    if name == "NullHandler":
        import logging

        _log.set_up(logging)
        return logging.NullHandler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + ["exceptions", "auth", "local", "NullHandler"])
