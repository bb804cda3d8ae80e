"""The retry mode and attempts of a client, as botocore's ``args.py`` computes them.

``Config(retries=...)``: ``total_max_attempts`` wins, ``max_attempts`` counts retries (one
attempt more), else AWS_MAX_ATTEMPTS / ``max_attempts`` in the profile. The mode is the
Config's, else AWS_RETRY_MODE / ``retry_mode`` in the profile (whose default is the defaults
mode's), else ``standard``. Without an attempt count, the mode's default: legacy 5, standard
and adaptive 3. The retries themselves are made in C (csrc/retry.c) and, for the credential
chain's calls, in ``sagemaker_rt_c.credentials._nested`` (docs/retries.md).

Deliberate difference from botocore: ``Config.retries`` of the caller is copied
(``args._config_kwargs``), not rewritten in place as botocore does (which makes a reused
Config keep the first client's retry mode).
"""

# botocore.args / botocore.configprovider constants.
_DEFAULT_MAX_ATTEMPTS = {"legacy": 5, "standard": 3, "adaptive": 3}


def _retry_config(view, retries, retry_mode_default):
    """``retries`` (a copy of Config.retries, or None) completed with ``total_max_attempts``
    (when one is configured) and ``mode``: botocore's ``_compute_retry_config``."""
    # Retries: total_max_attempts wins, max_attempts counts retries, else the environment.
    if retries is not None and "total_max_attempts" in retries:
        retries.pop("max_attempts", None)
    elif retries is not None and "max_attempts" in retries:
        retries["total_max_attempts"] = retries.pop("max_attempts") + 1
    else:
        max_attempts = view.get("max_attempts")
        if max_attempts is not None:
            if retries is None:
                retries = {}
            retries["total_max_attempts"] = max_attempts
    if retries is None:
        retries = {}
    if "mode" not in retries:
        if retry_mode_default is None:
            mode = view.get("retry_mode")
        else:
            mode = view.get("retry_mode", retry_mode_default)
        retries["mode"] = "standard" if mode is None else mode
    return retries


def _mode_and_max_attempts(retries):
    """(retry mode, attempts including the first) of a resolved ``Config.retries``."""
    retry_mode = retries["mode"]
    max_attempts = retries.get("total_max_attempts")
    if max_attempts is None:
        max_attempts = _DEFAULT_MAX_ATTEMPTS[retry_mode]
    return retry_mode, max_attempts
