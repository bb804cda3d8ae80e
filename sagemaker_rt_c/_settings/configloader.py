"""The shared config and credentials files, read as ``botocore.configloader`` reads them.

The reader is a faithful re-implementation of ``botocore.configloader`` (which uses
``configparser.RawConfigParser``) that imports neither ``configparser`` nor ``shlex`` for
ordinary files: same section and option syntax (``=`` or ``:``, first one wins), full-line
``#``/``;`` comments only, lower-cased option names, case-sensitive section names, the
``[DEFAULT]`` section's values inherited by every section, indented continuation lines, nested
``key = value`` sub-sections (``s3 =`` / ``services``), ``[profile x]`` vs ``[x]`` naming,
and botocore's errors (``ConfigParseError`` for anything configparser rejects, including
duplicate sections or options; its ``error`` is a message, not configparser's exception).
Parsed files are cached per process, keyed by path and ``stat`` (mtime, size, inode, ctime),
so a changed file is read again.

``raw_config_parse``, ``load_config`` and ``build_profile_map`` are also exported by
``sagemaker_rt_c.credentials``, where they have always been.
"""

import os
import sys
import time

__all__ = ["raw_config_parse", "load_config", "build_profile_map"]

_FILE_CACHE = {}
_COMMENT_PREFIXES = ("#", ";")
_GREEDY_SECTION_HEADER = sys.version_info >= (3, 10)
_RACY_NS = 2_000_000_000


class _ConfigNotFound(Exception):
    """The file does not exist (botocore's ConfigNotFound, never seen by users)."""


def _parse_error(path, message):
    from .. import exceptions

    return exceptions.ConfigParseError(path=path, error=message)


def _section_header(value):
    # configparser's SECTCRE with .match: since Python 3.10 r"\[(?P<header>.+)\]" (the last
    # "]" closes it), before r"\[(?P<header>[^]]+)\]" (the first one does).
    if value[0] != "[":
        return None
    end = value.rfind("]") if _GREEDY_SECTION_HEADER else value.find("]")
    return value[1:end] if end >= 2 else None


def _delimiter_index(value):
    # configparser's OPTCRE: the option ends at the first "=" or ":".
    eq = value.find("=")
    colon = value.find(":")
    if eq == -1:
        return colon
    if colon == -1:
        return eq
    return min(eq, colon)


def _parse_nested(config_value, path):
    parsed = {}
    for line in config_value.splitlines():
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise _parse_error(path, f"not enough values to unpack in line {line!r}")
        parsed[key.strip()] = value.strip()
    return parsed


def _parse_ini(text, path):
    """configparser.RawConfigParser(strict=True) semantics, then botocore's nested values."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    sections = {}
    defaults = {}
    seen_options = set()
    cursect = None
    sectname = None
    optname = None
    indent_level = 0
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith(_COMMENT_PREFIXES):
            continue
        if not stripped:
            if cursect is not None and optname:
                cursect[optname].append("")
            continue
        cur_indent = len(line) - len(line.lstrip())
        if cursect is not None and optname and cur_indent > indent_level:
            cursect[optname].append(stripped)
            continue
        indent_level = cur_indent
        header = _section_header(stripped)
        if header is not None:
            if header in sections:
                raise _parse_error(path, f"section {header!r} already exists (line {lineno})")
            if header == "DEFAULT":
                cursect = defaults
            else:
                cursect = sections[header] = {}
            sectname = header
            optname = None
            continue
        if cursect is None:
            raise _parse_error(path, f"file contains no section headers (line {lineno})")
        i = _delimiter_index(stripped)
        name = stripped[:i].rstrip() if i > 0 else ""
        if not name:
            raise _parse_error(path, f"source contains parsing errors (line {lineno})")
        optname = name.lower()
        if (sectname, optname) in seen_options:
            raise _parse_error(path, f"option {optname!r} already exists (line {lineno})")
        seen_options.add((sectname, optname))
        cursect[optname] = [stripped[i + 1 :].strip()]

    joined_defaults = {k: "\n".join(v).rstrip() for k, v in defaults.items()}
    config = {}
    for section, options in sections.items():
        values = {k: "\n".join(v).rstrip() for k, v in options.items()}
        for k, v in joined_defaults.items():
            values.setdefault(k, v)
        for k, v in values.items():
            if v.startswith("\n"):
                values[k] = _parse_nested(v, path)
        config[section] = values
    return config


def _expand(path):
    return os.path.expanduser(os.path.expandvars(path))


def _stat_key(path):
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if (st.st_mode & 0o170000) != 0o100000:  # not a regular file: os.path.isfile() is False
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev, st.st_ctime_ns)


def _load(path):
    """(raw sections, profile map) for an expanded path, from the per-process cache."""
    key = _stat_key(path)
    if key is None:
        _FILE_CACHE.pop(path, None)
        raise _ConfigNotFound(path)
    cached = _FILE_CACHE.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        with open(path) as fp:
            text = fp.read()
    except UnicodeDecodeError as e:
        raise _parse_error(path, str(e)) from None
    except OSError:
        # configparser skips files it cannot open or read.
        text = ""
    raw = _parse_ini(text, path)
    entry = [raw, None]
    # A file changed within the file system's timestamp granularity could change again
    # without a new stat key: cache only files that have been still for a while.
    if time.time_ns() - key[0] > _RACY_NS:
        _FILE_CACHE[path] = (key, entry)
    else:
        _FILE_CACHE.pop(path, None)
    return entry


def raw_config_parse(config_filename):
    """Every section of an INI file, as botocore's ``raw_config_parse`` (do not mutate).

    Returns None when the file does not exist (botocore raises ConfigNotFound).
    """
    if config_filename is None:
        return {}
    try:
        return _load(_expand(config_filename))[0]
    except _ConfigNotFound:
        return None


def load_config(config_filename):
    """botocore's ``load_config``: the profile map of a config file, None if it is missing."""
    if config_filename is None:
        return build_profile_map({})
    try:
        entry = _load(_expand(config_filename))
    except _ConfigNotFound:
        return None
    if entry[1] is None:
        entry[1] = build_profile_map(entry[0])
    return entry[1]


def _split_section_name(key):
    # shlex.split(key) as botocore does; plain names need no shlex (and no re).
    if '"' in key or "'" in key or "\\" in key:
        import shlex

        try:
            return shlex.split(key)
        except ValueError:
            return None
    for ch in "\t\r\n":
        key = key.replace(ch, " ")
    return [part for part in key.split(" ") if part]


def build_profile_map(parsed_ini_config):
    """botocore's ``build_profile_map``; the section dicts are shared with the input."""
    profiles = {}
    sso_sessions = {}
    services = {}
    final_config = {}
    for key, values in parsed_ini_config.items():
        if key.startswith("profile"):
            target = profiles
        elif key.startswith("sso-session"):
            target = sso_sessions
        elif key.startswith("services"):
            target = services
        elif key == "default":
            profiles[key] = values
            continue
        else:
            final_config[key] = values
            continue
        parts = _split_section_name(key)
        if parts is not None and len(parts) == 2:
            target[parts[1]] = values
    final_config["profiles"] = profiles
    final_config["sso_sessions"] = sso_sessions
    final_config["services"] = services
    return final_config
