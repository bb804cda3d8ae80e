"""Pickling clients and Sessions: what travels, and one object per distinct pickle per process.

A pickled client carries what it was built from, never what its process found on its own:
the arguments given to ``client()`` / ``Session.client()`` (service name, region, API
version, use_ssl, verify, endpoint_url, the ``Config``'s options, aws_account_id), the
Session's profile name when one was given, and the region the sending process resolved
(argument, ``Config``, environment or profile: the receiver talks to the same region).
Credentials are found again by the receiving process's own chain (environment, container
credentials, instance role ...), so no secret travels, except keys given explicitly
(``aws_access_key_id`` / ``aws_secret_access_key`` / ``aws_session_token`` passed to
``client()`` or ``Session()``): those travel, and only those. What the receiver reads from
its own environment and files: credentials, the profile's other settings, configured
endpoints (``AWS_ENDPOINT_URL*``), proxies from ``HTTPS_PROXY``, CA bundles from
``AWS_CA_BUNDLE``, retry settings from ``AWS_RETRY_MODE`` ...

Refused (TypeError): a client made with ``credentials=`` (a credentials object: it would have
to travel), one of a Session made from a botocore session (``from_boto3``), and one made
without ``client()`` / ``Session.client()``.

The pickle is ``(restore, (spec, keys))``: ``spec`` the pickled secret-free description
(bytes, deterministic for the same arguments), ``keys`` None or the explicit keys. The
receiving process keeps one object per ``(spec, keys)`` (``cached``): every task of a worker
that unpickles the same client gets the same client, its connection pool and credentials.
A forked child starts with an empty cache (``os.register_at_fork``, and a pid check): it
never reuses its parent's objects.

Imported on first pickling or unpickling only; it imports nothing of the package but
``config`` (session.py holds the restore functions, so that nothing here imports it).
"""

import os
import pickle
import threading

from .config import UNSIGNED, Config, is_unsigned

__all__ = ["cached", "client_reduce", "session_spec", "config_from_spec"]

_SPEC_PROTOCOL = 4


class _Cache:
    __slots__ = ("pid", "lock", "objects")

    def __init__(self):
        self.pid = os.getpid()
        self.lock = threading.RLock()  # a client's build makes its session through it
        self.objects = {}


_CACHE = _Cache()


def _reset_after_fork():
    # A new lock too: another thread of the parent may have held the old one at fork time.
    global _CACHE
    _CACHE = _Cache()


os.register_at_fork(after_in_child=_reset_after_fork)


def cached(key, build):
    """The object this process made for ``key``, or ``build()``'s, made once and kept."""
    cache = _CACHE
    if cache.pid != os.getpid():  # forked by a path that ran no at-fork handler
        _reset_after_fork()
        cache = _CACHE
    obj = cache.objects.get(key)
    if obj is None:
        with cache.lock:
            obj = cache.objects.get(key)
            if obj is None:
                obj = build()
                cache.objects[key] = obj
    return obj


def clear():
    """Forget the objects made from pickles in this process (later unpickling makes new ones)."""
    _reset_after_fork()


def dumps_spec(spec):
    return pickle.dumps(spec, protocol=_SPEC_PROTOCOL)


def loads_spec(data):
    return pickle.loads(data)


def _refuse(what, why):
    raise TypeError(f"cannot pickle {what}: {why}")


def session_spec(session, what="this Session"):
    """(secret-free description, explicit keys or None) of a Session."""
    if session._botocore_session is not None:
        _refuse(
            what,
            "it was made from a botocore session (botocore_session= or from_boto3), whose "
            "credentials cannot travel; make it with sagemaker_rt_c.client() or "
            "sagemaker_rt_c.Session() instead",
        )
    spec = (
        ("profile_name", session._instance_vars.get("profile")),
        ("region_name", session.region_name),
        ("aws_account_id", session._account_id),
    )
    return spec, session._explicit_keys


def config_spec(config):
    """A Config as (tag, options): rebuilt as this package's Config on the other side (a
    botocore Config too: botocore need not be installed there)."""
    if config is None:
        return None
    options = getattr(config, "_user_provided_options", None)
    if not isinstance(options, dict):
        return ("object", config)  # not a Config we know: it travels as itself
    items = []
    for name in sorted(options):
        value = options[name]
        if name == "signature_version" and is_unsigned(value):
            value = UNSIGNED
        items.append((name, value))
    return ("config", tuple(items))


def config_from_spec(spec):
    if spec is None:
        return None
    tag, value = spec
    if tag == "object":
        return value
    return Config(**dict(value))


def client_reduce(session, kwargs, restore):
    """``__reduce__``'s value for a client made by ``session.client(**kwargs)``."""
    what = "this sagemaker-runtime client"
    if kwargs.get("credentials") is not None:
        _refuse(
            what,
            "it was made with credentials= (a credentials object, which would have to "
            "travel); pass aws_access_key_id/aws_secret_access_key (they then travel with "
            "it) or nothing (the receiving process finds its own credentials)",
        )
    session_part, session_keys = session_spec(session, what)
    spec = (
        ("session", session_part),
        ("service_name", kwargs["service_name"]),
        ("region_name", kwargs.get("region_name")),
        ("api_version", kwargs.get("api_version")),
        ("use_ssl", kwargs.get("use_ssl", True)),
        ("verify", kwargs.get("verify")),
        ("endpoint_url", kwargs.get("endpoint_url")),
        ("config", config_spec(kwargs.get("config"))),
        ("aws_account_id", kwargs.get("aws_account_id")),
    )
    client_keys = None
    names = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
    if any(kwargs.get(n) is not None for n in names):
        client_keys = tuple(kwargs.get(n) for n in names)
    keys = None if session_keys is None and client_keys is None else (session_keys, client_keys)
    return restore, (dumps_spec(spec), keys)


def refuse_unknown_client():
    _refuse(
        "this sagemaker-runtime client",
        "it was not made by sagemaker_rt_c.client() or Session.client(), so what it was "
        "built from is not known",
    )
