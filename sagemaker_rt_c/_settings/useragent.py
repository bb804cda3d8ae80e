"""The User-Agent header, built like botocore's ``useragent.py`` with this package as the SDK::

    sagemaker_rt_c/<version> ua/2.1 os/<os>#<release> md/arch#<machine>
        lang/python#<python version> md/pyimpl#<implementation>
        [exec-env/<AWS_EXECUTION_ENV>] cfg/retry-mode#<mode> [app/<app id>] [<user_agent_extra>]

(one line, single spaces). ``<os>`` is linux / macos / windows / ... (or ``other`` followed by
``md/<system>#<release>``); every component is sanitised as botocore does (characters outside
``A-Za-z0-9!$%&'*+-.^_`|~,`` and, in values, ``#``, become ``-``). The app id comes from
``Config(user_agent_appid=...)``, AWS_SDK_UA_APP_ID or ``sdk_ua_app_id`` in the profile.
``Config(user_agent='X')`` replaces all of it, as in botocore: the header is then ``X``
followed by `` <user_agent_extra>`` when set. botocore's per-request ``m/<feature ids>``
component is not produced.

Deliberate differences from botocore:

* The User-Agent names this package, not Boto3/Botocore, and has no ``m/`` feature ids.
* ``Config.user_agent`` / ``user_agent_extra`` with a control character raise
  ``InvalidConfigError`` here; boto3 fails every call (CR, LF) or sends them raw.
"""

import os
import sys

from .._about import __version__

_UA_ALLOWED = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$%&'*+-.^_`|~,"
)
_UA_OS_NAMES = ("windows", "linux", "macos", "android", "ios", "watchos", "tvos", "other")


def _ua_clean(raw, allow_hash):
    return "".join(c if c in _UA_ALLOWED or (allow_hash and c == "#") else "-" for c in raw)


def _ua_component(prefix, name, value=None):
    text = f"{_ua_clean(prefix, True)}/{_ua_clean(name, False)}"
    if value is None or value == "":
        return text
    return f"{text}#{_ua_clean(value, True)}"


def _platform():
    """(system, release, machine) as platform.system/release/machine, without ``platform``."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        u = uname()
        return u.sysname, u.release, u.machine
    import platform

    return platform.system(), platform.release(), platform.machine()


def _python_implementation():
    name = sys.implementation.name
    return {"cpython": "CPython", "pypy": "PyPy", "ironpython": "IronPython"}.get(
        name, name.capitalize()
    )


_UA_PREFIX = {}


def _ua_prefix(exec_env):
    """Everything before cfg/: fixed per process, except AWS_EXECUTION_ENV (per session)."""
    prefix = _UA_PREFIX.get(exec_env)
    if prefix is not None:
        return prefix
    system, release, machine = _platform()
    parts = [_ua_component("sagemaker_rt_c", __version__), "ua/2.1"]
    if system is None:
        parts.append(_ua_component("os", "other"))
    else:
        family = system.lower()
        if family == "darwin":
            family = "macos"
        if family in _UA_OS_NAMES:
            parts.append(_ua_component("os", family, release))
        else:
            parts.append(_ua_component("os", "other"))
            parts.append(_ua_component("md", system, release))
    if machine:
        parts.append(_ua_component("md", "arch", machine.lower()))
    parts.append(_ua_component("lang", "python", sys.version.split()[0]))
    parts.append(_ua_component("md", "pyimpl", _python_implementation()))
    if exec_env:
        parts.append(_ua_component("exec-env", exec_env))
    prefix = _UA_PREFIX[exec_env] = " ".join(p for p in parts if p)
    return prefix


def _user_agent(exec_env, client_config):
    """botocore's UserAgentString(...).with_client_config(client_config).to_string()."""
    if client_config is None:
        return _ua_prefix(exec_env)
    if hasattr(client_config, "_supplied_user_agent"):
        override = client_config._supplied_user_agent
    else:
        override = client_config.user_agent
    extra = client_config.user_agent_extra
    if override is not None:
        return f"{override} {extra}" if extra else override
    parts = [_ua_prefix(exec_env)]
    retries = client_config.retries
    if retries:
        parts.append(_ua_component("cfg", "retry-mode", retries.get("mode")))
    appid = client_config.user_agent_appid
    if appid:
        parts.append("app/" + _ua_clean(appid, True))
    if extra:
        parts.append(extra)
    return " ".join(parts)


def _check_user_agent_parts(config):
    """Config.user_agent and user_agent_extra go into the User-Agent header as they are (botocore
    does not clean them as it does user_agent_appid): a control character there would end the
    header or the request early (boto3: "Invalid header value" at every call for CR and LF;
    NUL and others sent raw). Refused when the client is made, naming the option."""
    for name in ("user_agent", "user_agent_extra"):
        value = getattr(config, name, None)
        if not isinstance(value, str) or value.isprintable():
            continue
        for index, char in enumerate(value):
            point = ord(char)
            if point < 0x20 or point == 0x7F:
                from .. import exceptions
                from .._protocol.validate import describe_control  # lazy: _validate loads on errors

                raise exceptions.InvalidConfigError(
                    error_msg=(
                        f"Invalid {name} in Config: contains {describe_control(point)} "
                        f"(U+{point:04X}) at index {index}; the User-Agent header can't carry "
                        "control characters"
                    )
                )
