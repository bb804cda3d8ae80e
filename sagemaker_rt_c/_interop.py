"""``from_boto3``: this package's client, made from a boto3 / botocore session or client.

For a session (``boto3.Session`` or ``botocore.session.Session``) the client is made by a
``sagemaker_rt_c.Session(botocore_session=...)``: every setting (region, profile, endpoint
variables, retries ...), the session's default client config and its credentials come from
botocore, so whatever botocore's chain found (and refreshes) signs our requests.

For a client (any boto3 / botocore client) the client's own resolved state is copied: its
region, its credentials object (kept, not copied: a ``RefreshableCredentials`` keeps
refreshing itself), its custom endpoint when it is a sagemaker-runtime client given one, its
certificate verification, and the options of its ``client.meta.config`` that a
sagemaker-runtime client uses (timeouts, pool size, proxies, retries, User-Agent additions,
client certificate, parameter validation, FIPS / dual-stack, unsigned).

botocore is never imported here: the objects are recognised by their attributes.
"""

from .config import UNSIGNED, Config, is_unsigned
from .credentials import Credentials
from .session import Session

__all__ = ["from_boto3"]

# Options of a botocore client's effective config that carry over as they are.
_CONFIG_OPTIONS = (
    "connect_timeout",
    "read_timeout",
    "max_pool_connections",
    "proxies",
    "proxies_config",
    "tcp_keepalive",
    "client_cert",
    "parameter_validation",
    "user_agent_extra",
    "user_agent_appid",
    "use_fips_endpoint",
    "use_dualstack_endpoint",
)


def _is_client(obj):
    meta = getattr(obj, "meta", None)
    return meta is not None and hasattr(meta, "region_name") and hasattr(obj, "_request_signer")


def _botocore_session_of(obj):
    """The botocore session behind a boto3 Session, the object itself for a botocore
    Session, else None."""
    inner = getattr(obj, "_session", None)
    if inner is not None and hasattr(inner, "get_scoped_config") and hasattr(obj, "client"):
        return inner
    if hasattr(obj, "get_scoped_config") and hasattr(obj, "create_client"):
        return obj
    return None


def _config_from_client(client):
    cfg = client.meta.config
    options = {}
    for name in _CONFIG_OPTIONS:
        value = getattr(cfg, name, None)
        if value is not None:
            options[name] = value
    retries = getattr(cfg, "retries", None) or {}
    converted = {k: v for k, v in retries.items() if k in ("mode", "total_max_attempts")}
    if converted:
        options["retries"] = converted
    supplied = getattr(cfg, "_supplied_user_agent", None)
    if supplied is not None:
        options["user_agent"] = supplied
    if is_unsigned(getattr(cfg, "signature_version", None)):
        options["signature_version"] = UNSIGNED
    return Config(**options)


def _client_kwargs(client):
    config = _config_from_client(client)
    kwargs = {"region_name": client.meta.region_name, "config": config}
    credentials = getattr(client._request_signer, "_credentials", None)
    if credentials is None and config.signature_version is None:
        # The boto3 client found none: ours must not look for any either (its calls raise
        # NoCredentialsError, as the boto3 client's do).
        credentials = Credentials(None, None)
    if credentials is not None:
        kwargs["credentials"] = credentials
    service = getattr(client.meta, "service_model", None)
    service_name = getattr(service, "service_name", None)
    if service_name in ("sagemaker-runtime", "runtime.sagemaker", None):
        builtins = getattr(getattr(client, "_ruleset_resolver", None), "_builtins", None)
        if isinstance(builtins, dict):
            custom = builtins.get("SDK::Endpoint")
        else:
            custom = client.meta.endpoint_url
        if custom:
            kwargs["endpoint_url"] = custom
    http_session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    verify = getattr(http_session, "_verify", None)
    if verify is not None:
        kwargs["verify"] = verify
    return kwargs


def from_boto3(session_or_client, **overrides):
    """A ``sagemaker-runtime`` client of this package made from boto3's objects.

    ``session_or_client``: a ``boto3.Session``, a ``botocore.session.Session``, or a boto3 /
    botocore client (of any service). ``overrides``: ``Session.client`` keywords
    (``region_name``, ``endpoint_url``, ``config``, ``credentials``, ``verify``,
    ``aws_access_key_id`` ...) that replace what was taken over; an override ``config`` is
    merged on top of the converted one.
    """
    if _is_client(session_or_client):
        kwargs = _client_kwargs(session_or_client)
        config = overrides.pop("config", None)
        if config is not None:
            kwargs["config"] = kwargs["config"].merge(config)
        if "aws_access_key_id" in overrides or "aws_secret_access_key" in overrides:
            kwargs.pop("credentials", None)
        kwargs.update(overrides)
        return Session().client("sagemaker-runtime", **kwargs)
    botocore_session = _botocore_session_of(session_or_client)
    if botocore_session is None:
        raise TypeError(
            "from_boto3() takes a boto3 Session, a botocore Session or a boto3 client, not "
            f"{type(session_or_client).__name__}"
        )
    return Session(botocore_session=botocore_session).client("sagemaker-runtime", **overrides)
