"""Client configuration: ``Config``, a drop-in for ``botocore.config.Config``.

``Config`` accepts exactly the keywords (and positional order) of botocore 1.43's ``Config``,
with the same defaults, the same construction-time validation (same exception classes and
messages) and the same ``merge`` semantics. Options that only matter to other services (``s3``,
``endpoint_discovery_enabled``, ``client_context_params`` ...) are accepted and stored, as
botocore stores them for a SageMaker Runtime client, and otherwise ignored.

Like botocore's, ``Config`` has no ``__eq__`` (equality is identity) and is a plain mutable
object. Unlike botocore's it has a ``__repr__``; it lists the options the caller set and never
shows the password part of a proxy URL.

``UNSIGNED`` is this package's ``botocore.UNSIGNED``: ``Config(signature_version=UNSIGNED)``
sends requests unsigned, without credentials. botocore's own ``UNSIGNED`` is accepted too.
"""

_DEFAULT_TIMEOUT = 60
_MAX_POOL_CONNECTIONS = 10

# botocore's order matters: positional arguments map onto it.
_OPTION_DEFAULTS = {
    "region_name": None,
    "signature_version": None,
    "user_agent": None,
    "user_agent_extra": None,
    "user_agent_appid": None,
    "connect_timeout": _DEFAULT_TIMEOUT,
    "read_timeout": _DEFAULT_TIMEOUT,
    "parameter_validation": True,
    "max_pool_connections": _MAX_POOL_CONNECTIONS,
    "proxies": None,
    "proxies_config": None,
    "s3": None,
    "s3_disable_express_session_auth": None,
    "retries": None,
    "client_cert": None,
    "inject_host_prefix": None,
    "endpoint_discovery_enabled": None,
    "use_dualstack_endpoint": None,
    "use_fips_endpoint": None,
    "ignore_configured_endpoint_urls": None,
    "defaults_mode": None,
    "tcp_keepalive": None,
    "request_min_compression_size_bytes": None,
    "disable_request_compression": None,
    "client_context_params": None,
    "sigv4a_signing_region_set": None,
    "request_checksum_calculation": None,
    "response_checksum_validation": None,
    "account_id_endpoint_mode": None,
    "auth_scheme_preference": None,
}
_OPTION_ORDER = tuple(_OPTION_DEFAULTS)
_NON_LEGACY_OPTION_DEFAULTS = {"connect_timeout": None}
_VALID_RETRY_OPTIONS = ("max_attempts", "mode", "total_max_attempts")
_VALID_RETRY_MODES = ("legacy", "standard", "adaptive")


class _Unsigned:
    """Sentinel for unsigned requests (``botocore.UNSIGNED``): copies are itself."""

    __slots__ = ()

    def __copy__(self):
        return self

    def __deepcopy__(self, memodict):
        return self

    def __reduce__(self):
        return "UNSIGNED"

    def __repr__(self):
        return "UNSIGNED"


UNSIGNED = _Unsigned()


def is_unsigned(value):
    """Whether ``value`` is this package's or botocore's ``UNSIGNED`` (botocore is not imported)."""
    if value is UNSIGNED:
        return True
    cls = type(value)
    return cls.__name__ == "UNSIGNED" and cls.__module__ == "botocore"


def _redact_url(value):
    # Proxy URLs may carry "user:password@": keep the user, hide the password.
    if not isinstance(value, str):
        return value
    scheme_end = value.find("//")
    start = scheme_end + 2 if scheme_end >= 0 else 0
    end = len(value)
    for sep in "/?#":
        i = value.find(sep, start)
        if i != -1 and i < end:
            end = i
    at = value.rfind("@", start, end)
    if at == -1:
        return value
    colon = value.find(":", start, at)
    if colon == -1:
        return value
    return value[: colon + 1] + "***" + value[at:]


def _redacted(key, value):
    if key == "proxies" and isinstance(value, dict):
        return {k: _redact_url(v) for k, v in value.items()}
    return value


class Config:
    """Advanced configuration for clients, as ``botocore.config.Config``.

    See botocore's documentation for each option; the defaults are botocore's:
    ``connect_timeout=60``, ``read_timeout=60``, ``parameter_validation=True``,
    ``max_pool_connections=10``, ``inject_host_prefix=True`` (when not given) and ``None`` for
    every other option. ``defaults_mode`` other than ``'legacy'`` makes ``connect_timeout``
    default to ``None`` (the mode then chooses it).
    """

    OPTION_DEFAULTS = _OPTION_DEFAULTS
    NON_LEGACY_OPTION_DEFAULTS = _NON_LEGACY_OPTION_DEFAULTS

    def __init__(self, *args, **kwargs):
        user = self._record_user_provided_options(args, kwargs)
        d = self.__dict__
        d["_user_provided_options"] = user
        # 'UNSET' tells "not given" apart from an explicit value, as botocore does, so the
        # environment and config file can still decide inject_host_prefix.
        d["_inject_host_prefix"] = "UNSET"
        d.update(_OPTION_DEFAULTS)
        del d["inject_host_prefix"]
        if user.get("defaults_mode", "legacy") != "legacy":
            d.update(_NON_LEGACY_OPTION_DEFAULTS)
        for key, value in user.items():
            if key == "inject_host_prefix":
                d["_inject_host_prefix"] = value
            else:
                d[key] = value
        self._validate_s3_configuration(self.s3)
        self._validate_retry_configuration(self.retries)

    @property
    def inject_host_prefix(self):
        if self._inject_host_prefix == "UNSET":
            return True
        return self._inject_host_prefix

    @inject_host_prefix.setter
    def inject_host_prefix(self, value):
        self._inject_host_prefix = value

    @staticmethod
    def _record_user_provided_options(args, kwargs):
        user = {}
        for key, value in kwargs.items():
            if key in _OPTION_DEFAULTS:
                user[key] = value
            else:
                raise TypeError(f"Got unexpected keyword argument '{key}'")
        if len(args) > len(_OPTION_ORDER):
            raise TypeError(f"Takes at most {len(_OPTION_ORDER)} arguments ({len(args)} given)")
        for i, arg in enumerate(args):
            name = _OPTION_ORDER[i]
            if name in user:
                raise TypeError(f"Got multiple values for keyword argument '{name}'")
            user[name] = arg
        return user

    @staticmethod
    def _validate_s3_configuration(s3):
        if s3 is not None:
            addressing_style = s3.get("addressing_style")
            if addressing_style not in ["virtual", "auto", "path", None]:
                from . import exceptions

                cls = getattr(exceptions, "InvalidS3AddressingStyleError", None)
                if cls is not None:
                    raise cls(s3_addressing_style=addressing_style)
                # Same message as botocore's InvalidS3AddressingStyleError.
                raise exceptions.InvalidConfigError(
                    error_msg=(
                        f"S3 addressing style {addressing_style} is invalid. Valid options "
                        "are: 'auto', 'virtual', and 'path'"
                    )
                )

    @staticmethod
    def _validate_retry_configuration(retries):
        if retries is None:
            return
        for key, value in retries.items():
            if key == "retry_on_read_timeout":
                # Ours, beyond botocore: False never re-sends an inference after a read
                # timeout. Not listed in botocore's error message for unknown keys.
                if not isinstance(value, bool):
                    raise TypeError(
                        f"retries['retry_on_read_timeout'] must be True or False, not {value!r}"
                    )
                continue
            if key not in _VALID_RETRY_OPTIONS:
                from . import exceptions

                raise exceptions.InvalidRetryConfigurationError(
                    retry_config_option=key, valid_options=_VALID_RETRY_OPTIONS
                )
            if key == "max_attempts" and value < 0:
                from . import exceptions

                raise exceptions.InvalidMaxRetryAttemptsError(
                    provided_max_attempts=value, min_value=0
                )
            if key == "total_max_attempts" and value < 1:
                from . import exceptions

                raise exceptions.InvalidMaxRetryAttemptsError(
                    provided_max_attempts=value, min_value=1
                )
            if key == "mode" and value not in _VALID_RETRY_MODES:
                from . import exceptions

                raise exceptions.InvalidRetryModeError(
                    provided_retry_mode=value, valid_modes=_VALID_RETRY_MODES
                )

    def merge(self, other_config):
        """A new ``Config`` with this one's user-set options, overridden by ``other_config``'s.

        ``other_config`` may be a ``botocore.config.Config``.
        """
        options = dict(self._user_provided_options)
        options.update(other_config._user_provided_options)
        return Config(**options)

    def __repr__(self):
        items = ", ".join(
            f"{k}={_redacted(k, v)!r}" for k, v in self._user_provided_options.items()
        )
        return f"Config({items})"
