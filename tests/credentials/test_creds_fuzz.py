"""Differential fuzz of the credential chain: boto3 1.44.8 and sagemaker_rt_c, same inputs.

Hypothesis generates one machine at a time and both libraries resolve credentials on it
(``boto3.Session().get_credentials()`` and ``sagemaker_rt_c.Session().get_credentials()``,
then ``get_frozen_credentials()``), in this process, one after the other:

* environment variables: the key pair, ``AWS_SESSION_TOKEN`` / ``AWS_SECURITY_TOKEN`` (also
  empty), ``AWS_CREDENTIAL_EXPIRATION`` (ISO dates near and far, past, naive, impossible,
  garbage, empty), ``AWS_ACCOUNT_ID``, ``AWS_PROFILE``, the metadata service settings
  (``AWS_METADATA_SERVICE_TIMEOUT`` 0 or text, attempts), the container variables;
* the shared credentials and config files: ``[default]``, ``[profile x]``, ``[x]`` and odd
  headers, ``=`` / ``:`` separators, blank values (``aws_session_token =``), indented
  continuation lines, comments, duplicate options, CRLF, tabs, a BOM, unicode, static keys or
  a ``credential_process`` (``cat`` of a generated JSON document);
* a fake container credentials endpoint and a fake instance metadata service on loopback:
  status codes, malformed or non-object JSON, missing keys, values of the wrong type, odd
  dates, odd role names and IMDSv2 token answers.

The outcome compared: ``None``; or the method, access key, secret key, token (``""`` and
``None`` as botocore reports them), account id and expiry; or the exception's class name and
message. Deliberate differences are normalised: ours prefixes credential_process errors with
``credential_process for profile "<name>": `` (and ``the command exited with status N: ``
before the trimmed standard error; an unbalanced quote is a CredentialRetrievalError, not
shlex's ValueError; see ``_process``), names the header instead of showing a refused header
value (``_http``), and does not show a non-200 container answer holding credential fields
(``_container``). Ours must never show a generated secret key or token in a message, a
repr or a log record.

CI runs a fixed, derandomized set of examples (``SMRT_FUZZ_EXAMPLES``, default 300, a few
seconds). For a longer run::

    SMRT_FUZZ_EXAMPLES=5000 .venv/bin/pytest -q -p no:randomly tests/credentials/test_creds_fuzz.py

(about 15 seconds per 1000 examples here).
"""

import contextlib
import datetime
import importlib
import json
import logging
import os
import pkgutil
import re
import shlex
import shutil
import tempfile

import boto3
import botocore.utils
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import Reply, ScriptedServer

import sagemaker_rt_c
from sagemaker_rt_c.credentials import _container

pytestmark = [pytest.mark.differential, pytest.mark.slow]

# Hypothesis draws some strings and numbers from the constants of the local modules loaded
# at that moment (this package's): with all of them loaded first, the examples do not depend
# on which tests ran before, and CI runs the same ones every time.
for _module in pkgutil.iter_modules(sagemaker_rt_c.__path__):
    importlib.import_module(f"sagemaker_rt_c.{_module.name}")

EXAMPLES = int(os.environ.get("SMRT_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
CAT = shutil.which("cat")

# Distinctive markers: a secret key or token must never show in our messages or reprs.
SECRET_MARK = "S3CRETfuzz"
TOKEN_MARK = "T0KENfuzz"


# --- the fake services ------------------------------------------------------------------------


class Services:
    """One loopback server for the container endpoint and the metadata service; answers
    follow ``script`` (a dict set for each run)."""

    def __init__(self):
        self.script = {}
        self.server = ScriptedServer(default=self.answer)
        self.url = self.server.url

    def answer(self, req):
        script = self.script
        path = req.path
        if path.startswith("/container"):
            status, body = script.get("container", (404, b""))
            return Reply(status, [("Content-Type", "application/json")], body)
        if path == "/latest/api/token":
            status, body = script.get("token", (404, b""))
            return Reply(status, [("Content-Type", "text/plain")], body)
        prefix = "/latest/meta-data/iam/security-credentials/"
        if path == prefix:
            status, body = script.get("role", (404, b""))
            return Reply(status, [("Content-Type", "text/plain")], body)
        if path.startswith(prefix):
            status, body = script.get("imds_creds", (404, b""))
            return Reply(status, [("Content-Type", "text/plain")], body)
        return Reply(404, [], b"")

    def close(self):
        self.server.close()


@pytest.fixture(scope="module")
def services():
    s = Services()
    yield s
    s.close()


# --- strategies -------------------------------------------------------------------------------

# Text without NUL (the environment refuses it) and without surrogates (unencodable).
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=10,
)
PLAIN = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=6)


def chance(draw, one_in):
    """True once in ``one_in`` draws, False for Hypothesis's simplest example."""
    return draw(st.sampled_from([False] * (one_in - 1) + [True]))


def mostly(valid, odd):
    """Usually ``valid``, sometimes ``odd``."""
    return st.one_of(valid, valid, valid, odd)


def marked(mark):
    return mostly(
        PLAIN.map(lambda s: mark + s),
        st.one_of(
            st.sampled_from(["", " ", f" {mark}padded ", f"{mark}=eq", f"{mark}:colon", "ключ"]),
            TEXT,
        ),
    )


ACCESS_KEY = mostly(
    PLAIN.map(lambda s: "AKIAFUZZ" + s),
    st.one_of(
        st.sampled_from(["", " ", "AKIA FUZZ", " AKIAPAD ", "#AKIA", ";AKIA", "AKIA=1", "ключ"]),
        TEXT,
    ),
)
SECRET = marked(SECRET_MARK)
TOKEN = marked(TOKEN_MARK)
ACCOUNT = st.sampled_from(["123456789012", "", " 1 ", "acct"])


@st.composite
def date_value(draw):
    """An expiry as a string (or, for JSON documents, another type): (kind, value), the
    relative ones resolved when the machine is built (the same for both libraries)."""
    kind = draw(
        st.sampled_from(
            ["far", "far", "soon", "advisory", "past", "naive", "fraction", "offset", "odd"]
        )
    )
    if kind == "odd":
        return (
            "literal",
            draw(
                st.one_of(
                    st.sampled_from(
                        [
                            "",
                            " ",
                            "soon",
                            "2099",
                            "2099-02-30T00:00:00Z",
                            "2099-13-01T00:00:00Z",
                            "2099-01-01T24:00:00Z",
                            "2099-01-01T00:00:00UTC",
                            "Tue, 01 Jan 2099 00:00:00 GMT",
                            "4102444800",
                            "0000-01-01T00:00:00Z",
                            "99999999999999999999",
                        ]
                    ),
                    TEXT,
                )
            ),
        )
    return (kind, None)


def resolve_date(spec, now):
    kind, literal = spec
    if kind == "literal":
        return literal
    seconds = {"far": 6 * 3600, "soon": 300, "advisory": 720, "past": -600}.get(kind, 7200)
    moment = now + datetime.timedelta(seconds=seconds)
    if kind == "naive":
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if kind == "fraction":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.123456Z")
    if kind == "offset":
        return (moment + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@st.composite
def json_creds(draw, names, healthy=False):
    """A credentials JSON document (container, IMDS, credential_process), often broken
    unless ``healthy`` (then only the values, the expiry above all, may be odd)."""
    shape = "object"
    if not healthy:
        shape = draw(st.sampled_from(["object"] * 8 + ["malformed", "null", "list", "number"]))
    if shape == "malformed":
        return ("raw", draw(st.sampled_from([b"{", b"", b"not json", b'{"AccessKeyId": '])))
    if shape != "object":
        return ("raw", {"null": b"null", "list": b"[]", "number": b"1"}[shape])
    doc = {}
    values = {
        "access": ACCESS_KEY,
        "secret": SECRET,
        "token": TOKEN,
        "expiry": date_value(),
        "account": ACCOUNT,
    }
    for field, json_name in names.items():
        if not healthy and chance(draw, 12):
            continue  # missing
        wrong_type = not healthy and chance(draw, 12)
        if wrong_type:
            doc[json_name] = draw(st.sampled_from([None, 1, 1.5, True, [], {}]))
        else:
            doc[json_name] = (
                ("date", draw(values[field])) if field == "expiry" else draw(values[field])
            )
    return ("doc", doc)


def render_json(spec, now):
    kind, value = spec
    if kind == "raw":
        return value
    doc = {}
    for key, v in value.items():
        if isinstance(v, tuple) and v and v[0] == "date":
            v = resolve_date(v[1], now)
        doc[key] = v
    return json.dumps(doc).encode()


CONTAINER_NAMES = {
    "access": "AccessKeyId",
    "secret": "SecretAccessKey",
    "token": "Token",
    "expiry": "Expiration",
    "account": "AccountId",
}
IMDS_NAMES = {
    "access": "AccessKeyId",
    "secret": "SecretAccessKey",
    "token": "Token",
    "expiry": "Expiration",
}
PROCESS_NAMES = {
    "access": "AccessKeyId",
    "secret": "SecretAccessKey",
    "token": "SessionToken",
    "expiry": "Expiration",
    "account": "AccountId",
}

OPTION_NAMES = st.sampled_from(
    [
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_security_token",
        "aws_account_id",
        "region",
        "AWS_ACCESS_KEY_ID",
        "Aws_Secret_Access_Key",
    ]
)


def good_section(draw, header, process):
    lines = [("option", "aws_access_key_id", " = ", draw(ACCESS_KEY))]
    if process:
        lines = [("process",)]
    elif not chance(draw, 10):
        lines.append(("option", "aws_secret_access_key", " = ", draw(SECRET)))
    for name in ("aws_session_token", "aws_security_token", "aws_account_id"):
        if chance(draw, 3):
            value = draw(ACCOUNT if name == "aws_account_id" else st.one_of(TOKEN, st.just("")))
            lines.append(("option", name, draw(st.sampled_from([" = ", "=", " ="])), value))
    if chance(draw, 4):
        lines.insert(draw(st.integers(0, len(lines))), ("raw", "# a comment"))
    if chance(draw, 8):
        # A value on the next, indented line(s): botocore's nested "key = value" section.
        i = draw(st.integers(0, len(lines) - 1))
        if lines[i][0] == "option":
            _, name, sep, value = lines[i]
            lines[i : i + 1] = [("option", name, " =", "")] + [
                ("raw", "  " + draw(st.sampled_from([value, f"k = {value}", "a = 1", "x"])))
            ]
    if chance(draw, 8):
        # An inline comment is part of the value for configparser.
        i = draw(st.integers(0, len(lines) - 1))
        if lines[i][0] == "option":
            _, name, sep, value = lines[i]
            lines[i] = ("option", name, sep, value + draw(st.sampled_from([" # c", " ; c", "#c"])))
    return (header, lines)


@st.composite
def ini_file(draw, process_allowed, good_header=None, process=False):
    """(sections: [(header, [line spec])], line ending, bom)."""
    sections = []
    if good_header is not None:
        sections.append(good_section(draw, good_header, process))
    for _ in range(draw(st.integers(0, 3 if good_header is None else 1))):
        header = draw(
            st.sampled_from(
                [
                    "[default]",
                    "[default]",
                    "[fuzz]",
                    "[profile fuzz]",
                    "[profile fuzz]",
                    "[profile default]",
                    "[ profile fuzz ]",
                    "[profile  fuzz]",
                    "[DEFAULT]",
                    '[profile "fuzz"]',
                    "[profile fuzz] ; comment",
                    "[sso-session fuzz]",
                ]
            )
        )
        if chance(draw, 12):
            # No section header configparser accepts.
            header = draw(st.sampled_from(["[profile fuzz", "default", "[]", " [default]"]))
        lines = []
        used = set()
        for _ in range(draw(st.integers(0, 6))):
            kind = draw(
                st.sampled_from(["static"] * 4 + ["option", "blank", "comment", "continuation"])
            )
            if kind == "static":
                name = draw(
                    st.sampled_from(
                        [
                            "aws_access_key_id",
                            "aws_secret_access_key",
                            "aws_session_token",
                            "aws_security_token",
                        ]
                    )
                )
                if name in used and not chance(draw, 8):
                    continue  # a duplicate option (ConfigParseError) now and then only
                used.add(name)
                strategy = {
                    "aws_access_key_id": ACCESS_KEY,
                    "aws_secret_access_key": SECRET,
                }.get(name, TOKEN)
                lines.append(
                    (
                        "option",
                        name,
                        draw(st.sampled_from([" = ", "=", " : ", " ="])),
                        draw(strategy),
                    )
                )
            elif kind == "option":
                name = draw(OPTION_NAMES)
                if name.lower() in used and not chance(draw, 8):
                    continue
                used.add(name.lower())
                lines.append(("option", name, " = ", draw(TEXT)))
            elif kind == "blank":
                lines.append(("raw", draw(st.sampled_from(["", "   ", "\t"]))))
            elif kind == "comment":
                lines.append(("raw", draw(st.sampled_from(["# comment", "; comment", "  # x"]))))
            else:
                lines.append(("raw", "  " + draw(TEXT).replace("\n", " ").replace("\r", " ")))
        if process_allowed and chance(draw, 5):
            lines.append(("process",))
        sections.append((header, lines))
    if chance(draw, 2):
        sections.reverse()
    ending = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    bom = chance(draw, 30)
    latin1 = chance(draw, 30)  # written as Latin-1: not UTF-8 (ConfigParseError)
    return sections, ending, bom, latin1


def render_ini(spec, process_command):
    sections, ending, bom, latin1 = spec
    out = []
    for header, lines in sections:
        out.append(header)
        for line in lines:
            if line[0] == "option":
                _, name, sep, value = line
                value = value.replace("\r", " ").replace("\n", " ")
                out.append(f"{name}{sep}{value}")
            elif line[0] == "process":
                if process_command is not None:
                    out.append(f"credential_process = {process_command}")
            else:
                out.append(line[1])
    text = ending.join(out) + (ending if out else "")
    text = ("\ufeff" if bom else "") + text
    if latin1:
        return (text + "# caf\u00e9" + ending).encode("latin-1", "replace")
    return text.encode("utf-8")


@st.composite
def machine(draw):
    """One machine: a primary source set up mostly right, and noise around it."""
    primary = draw(
        st.sampled_from(
            ["env", "credentials", "config", "process", "container", "imds", "chaos", "chaos"]
        )
    )
    profile = None
    if primary in ("credentials", "config", "process", "chaos") or chance(draw, 6):
        profile = draw(st.sampled_from([None, None, "fuzz", "default", "missing", "FUZZ"]))
    env = {}
    if profile is not None:
        env["AWS_PROFILE"] = profile
    target = profile or "default"
    if primary == "env" or (primary == "chaos" and chance(draw, 2)):
        env["AWS_ACCESS_KEY_ID"] = draw(ACCESS_KEY)
        if not chance(draw, 10):
            env["AWS_SECRET_ACCESS_KEY"] = draw(SECRET)
        for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            if chance(draw, 3):
                env[name] = draw(st.one_of(TOKEN, st.just("")))
        if chance(draw, 3):
            env["AWS_CREDENTIAL_EXPIRATION"] = ("date", draw(date_value()))
        if chance(draw, 4):
            env["AWS_ACCOUNT_ID"] = draw(ACCOUNT)

    def file_for(kind):
        chaos = primary == "chaos"
        if kind == "credentials" and (primary == "credentials" or chaos and chance(draw, 2)):
            header = f"[{target}]" if not chance(draw, 6) else f"[profile {target}]"
            return draw(ini_file(process_allowed=False, good_header=header))
        if kind == "config" and (primary in ("config", "process") or chaos and chance(draw, 2)):
            if target == "default" and chance(draw, 2):
                header = "[default]"
            else:
                header = f"[profile {target}]" if not chance(draw, 6) else f"[{target}]"
            return draw(
                ini_file(process_allowed=True, good_header=header, process=primary == "process")
            )
        if chance(draw, 4 if primary in ("env", "credentials", "config", "chaos") else 12):
            return draw(ini_file(process_allowed=kind == "config"))
        return None

    credentials_file = file_for("credentials")
    config_file = file_for("config")
    # The primary service is usually healthy (only its values odd); otherwise anything goes.
    healthy = primary in ("container", "imds") and not chance(draw, 3)

    def pick(valid, odd):
        return draw(valid if healthy else mostly(valid, odd))

    container = None
    if primary == "container" or (primary == "chaos" and chance(draw, 3)):
        container = (
            pick(st.just(200), st.sampled_from([404, 500])),
            draw(json_creds(CONTAINER_NAMES, healthy=healthy)),
            pick(st.just(None), st.sampled_from(["Bearer fuzz", "Bearer \u00e9t\u00e9", ""])),
            # The token file (EKS Pod Identity), which wins over the variable.
            pick(st.just(None), st.sampled_from(["Bearer file", "Bearer file\n", "", None])),
        )
    imds = None
    if primary == "imds" or (primary == "chaos" and chance(draw, 3)):
        imds = {
            "token": pick(st.just(200), st.sampled_from([404, 403, 405, 400, 500])),
            "token_body": pick(st.just(b"imds-token"), st.sampled_from([b"", b"tok\nen"])),
            "role": (
                pick(st.just(200), st.just(404)),
                draw(
                    mostly(
                        st.just(b"fuzz-role"),
                        st.sampled_from([b"", b"a b", b"r\xc3\xa9le", b"a;b", b"100%"]),
                    )
                ),
            ),
            "creds": (
                pick(st.just(200), st.just(500)),
                draw(json_creds(IMDS_NAMES, healthy=healthy)),
            ),
            "timeout": pick(st.just(None), st.sampled_from(["0", "2", "x", "-1"])),
            "attempts": pick(st.just(None), st.sampled_from(["2", "0", "x"])),
            "v1_disabled": pick(st.just(None), st.just("true")),
        }
    process = None
    if primary == "process" or config_file is not None:
        process = draw(json_creds(PROCESS_NAMES, healthy=primary == "process" and chance(draw, 2)))
        if process[0] == "doc" and not chance(draw, 10):
            process[1]["Version"] = 1
            if chance(draw, 10):
                process[1]["Version"] = draw(st.sampled_from([2, "1", None]))
        if process[0] != "doc":
            # ours deliberately raises CredentialRetrievalError for output that is not a
            # JSON object, where botocore lets json's exception escape (see _process).
            process = None
    return {
        "env": env,
        "credentials_file": credentials_file,
        "config_file": config_file,
        "container": container,
        "imds": imds,
        "process": process,
    }


# --- running one machine ----------------------------------------------------------------------


@contextlib.contextmanager
def machine_environment(spec, services, directory, now):
    """os.environ, the files and the fake services as ``spec`` says; restored afterwards."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    try:
        env = {}
        for name, value in spec["env"].items():
            if isinstance(value, tuple) and value[0] == "date":
                value = resolve_date(value[1], now)
            env[name] = value
        process_doc = None
        if spec["process"] is not None:
            process_doc = os.path.join(directory, "process.json")
            with open(process_doc, "wb") as f:
                f.write(render_json(spec["process"], now))
        command = None
        if process_doc is not None:
            command = f"{shlex.quote(CAT)} {shlex.quote(process_doc)}"
        for key, name in (("credentials_file", "credentials"), ("config_file", "config")):
            path = os.path.join(directory, name)
            if spec[key] is not None:
                with open(path, "wb") as f:
                    f.write(render_ini(spec[key], command))
            env["AWS_SHARED_CREDENTIALS_FILE" if name == "credentials" else "AWS_CONFIG_FILE"] = (
                path
            )
        script = {}
        if spec["container"] is not None:
            status, body, auth, auth_file = spec["container"]
            script["container"] = (status, render_json(body, now))
            env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = services.url + "/container/creds"
            if auth is not None:
                env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = auth
            if auth_file is not None:
                path = os.path.join(directory, "container-token")
                with open(path, "w", encoding="utf-8", newline="") as f:
                    f.write(auth_file)
                env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = path
        imds = spec["imds"]
        if imds is None:
            env["AWS_EC2_METADATA_DISABLED"] = "true"
        else:
            env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = services.url + "/"
            script["token"] = (imds["token"], imds["token_body"])
            script["role"] = imds["role"]
            script["imds_creds"] = (imds["creds"][0], render_json(imds["creds"][1], now))
            for name, key in (
                ("AWS_METADATA_SERVICE_TIMEOUT", "timeout"),
                ("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "attempts"),
                ("AWS_EC2_METADATA_V1_DISABLED", "v1_disabled"),
            ):
                if imds[key] is not None:
                    env[name] = imds[key]
        services.script = script
        os.environ.update(env)
        yield
    finally:
        services.script = {}
        os.environ.clear()
        os.environ.update(saved)


def describe(session_factory):
    """(outcome, what the credentials objects show: their reprs)."""
    try:
        creds = session_factory().get_credentials()
        if creds is None:
            return ("none",), ""
        frozen = creds.get_frozen_credentials()
        expiry = getattr(creds, "_expiry_time", None)
        if expiry is not None:
            expiry = expiry.timestamp() if expiry.tzinfo is not None else expiry.isoformat()
        return (
            "ok",
            creds.method,
            frozen.access_key,
            frozen.secret_key,
            frozen.token,
            frozen.account_id,
            expiry,
        ), repr(creds) + repr(frozen)
    except Exception as e:
        return ("error", type(e).__name__, str(e)), ""


PROCESS_PREFIX = re.compile(r'credential_process for profile "[^"]*": ')
# Ours says how the command ended and trims its standard error; botocore shows it as is.
PROCESS_EXIT = re.compile(r"the command exited with status -?\d+: ")
# Ours wraps shlex's error (an unbalanced quote in the command line); botocore lets it out.
PROCESS_SPLIT = re.compile(r"the command cannot be parsed \((.*)\)$")
HEADER_VALUE = re.compile(r"Invalid header value (b'.*'|for \S+ \(value not shown\))$")


CONTAINER_BODY = re.compile(r"(from container metadata: )(.*)$", re.DOTALL)


def normalise(outcome, now):
    if outcome[0] == "error":
        if outcome[1] == "CredentialRetrievalError" and PROCESS_SPLIT.search(outcome[2]):
            return ("error", "ValueError", PROCESS_SPLIT.search(outcome[2]).group(1))
        message = PROCESS_PREFIX.sub("", outcome[2])
        if "from custom-process: " in message:
            message = PROCESS_EXIT.sub("", message).strip()
        message = HEADER_VALUE.sub("Invalid header value <hidden>", message)
        # A non-200 container answer holding credential fields is not shown by ours.
        message = CONTAINER_BODY.sub(
            lambda m: m.group(1) + _container.shown_body(m.group(2)), message
        )
        return ("error", outcome[1], message)
    if outcome[0] == "ok" and outcome[1] == "iam-role" and isinstance(outcome[6], float):
        # botocore's "static stability": an expiry within ~25 minutes is moved 17-25 minutes
        # out, with random jitter on each side.
        if outcome[6] < now.timestamp() + 30 * 60:
            return outcome[:6] + ("extended",)
    return outcome


def secrets_in(spec):
    found = set()

    def visit(value):
        if isinstance(value, str) and (SECRET_MARK in value or TOKEN_MARK in value):
            found.add(value.strip())
        elif isinstance(value, (list, tuple)):
            for v in value:
                visit(v)
        elif isinstance(value, dict):
            for v in value.values():
                visit(v)

    visit(spec)
    return {s for s in found if len(s) >= len(SECRET_MARK)}


@pytest.fixture(autouse=True)
def quick_container_retries(monkeypatch):
    # botocore sleeps 1 s between container attempts; neither side needs to here.
    monkeypatch.setattr(botocore.utils.ContainerMetadataFetcher, "SLEEP_TIME", 0)
    monkeypatch.setattr(_container.ContainerMetadataFetcher, "SLEEP_TIME", 0)


@FUZZ
@given(spec=machine())
def test_credential_chain_matches_boto3(services, spec):
    now = datetime.datetime.now(datetime.timezone.utc)
    directory = tempfile.mkdtemp(prefix="smrt-fuzz-")
    handler = _Capture()
    ours_logger = logging.getLogger("sagemaker_rt_c")
    ours_logger.addHandler(handler)
    try:
        with machine_environment(spec, services, directory, now):
            theirs, _ = describe(boto3.Session)
            ours, ours_reprs = describe(sagemaker_rt_c.Session)
    finally:
        ours_logger.removeHandler(handler)
        shutil.rmtree(directory, ignore_errors=True)
    assert normalise(ours, now) == normalise(theirs, now)
    shown = (ours[2] if ours[0] == "error" else ours_reprs) + "\n" + handler.text()
    for secret in secrets_in(spec):
        assert secret not in shown


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def text(self):
        parts = []
        for record in self.records:
            parts.append(record.getMessage())
            if record.exc_info and record.exc_info[1] is not None:
                parts.append(str(record.exc_info[1]))
        return "\n".join(parts)


def test_the_generator_reaches_every_outcome(services):
    """The fuzz is not vacuous: over its examples, ours finds credentials from each source,
    finds none, and raises."""
    seen = set()

    @FUZZ
    @given(spec=machine())
    def collect(spec):
        now = datetime.datetime.now(datetime.timezone.utc)
        directory = tempfile.mkdtemp(prefix="smrt-fuzz-")
        try:
            with machine_environment(spec, services, directory, now):
                outcome, _ = describe(sagemaker_rt_c.Session)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        seen.add(outcome[1] if outcome[0] == "ok" else outcome[0])

    collect()
    assert {"env", "shared-credentials-file", "error", "none"} <= seen, seen
    assert seen & {"container-role", "iam-role", "custom-process", "config-file"}, seen
