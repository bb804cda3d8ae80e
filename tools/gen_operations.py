#!/usr/bin/env python3
"""Generate the operation tables from botocore's sagemaker-runtime service model.

Reads ``botocore/data/sagemaker-runtime/<api version>/service-2.json(.gz)`` from the botocore
this interpreter imports (it must be the pinned release, BOTOCORE_VERSION below: run it with the
repository's .venv) and writes the same facts twice:

* ``sagemaker_rt_c/_protocol/operations.py``: plain Python literals (imported lazily, by the
  validator, the presigner and the error parser);
* ``csrc/operations.h``: const C tables (no Python.h), read by the C call path.

For each operation, in the model's order: the Python method name, HTTP method, request URI,
input members (name, wire location, wire name, shape, type, min/max, pattern, required, enum,
sensitive), the payload member and request body mode, the response (status code, members,
payload, body mode, event stream events) and the error shapes it names; and every error
shape (HTTP status, fault, fields). Any model attribute the generator does not know stops it,
so a botocore bump can't drop a fact silently.

Usage: .venv/bin/python tools/gen_operations.py [--out-dir DIR] [--check]
  --out-dir DIR  write DIR/sagemaker_rt_c/_protocol/operations.py and DIR/csrc/operations.h
                 (default: this repository)
  --check        write nothing; exit 1 if the committed files differ from what would be made
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import sys
from collections import OrderedDict

BOTOCORE_VERSION = "1.44.8"
SERVICE_NAME = "sagemaker-runtime"
API_VERSION = "2017-05-13"

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY_OUT = os.path.join("sagemaker_rt_c", "_protocol", "operations.py")
C_OUT = os.path.join("csrc", "operations.h")

# What the generator understands; anything else in the model is an error (see module doc).
LOCATIONS = ("uri", "querystring", "header", "headers", "statusCode", "payload", "body")
TYPES = (
    "string",
    "integer",
    "long",
    "boolean",
    "float",
    "double",
    "timestamp",
    "blob",
    "structure",
    "list",
    "map",
)
BODY_MODES = ("none", "blob", "json", "event_stream")
# botocore Shape.metadata keys a member may carry, and its serialization keys.
MEMBER_METADATA = {"min", "max", "pattern", "sensitive", "enum"}
MEMBER_SERIALIZATION = {"location", "name", "eventpayload", "eventheader", "eventstream"}
# Keys of a raw structure, error or event shape. "documentation" and "synthetic" (a marker of
# AWS's model tooling) mean nothing at run time and are left out; anything else is described.
STRUCTURE_KEYS = {"type", "members", "required", "payload", "documentation"}
ERROR_KEYS = STRUCTURE_KEYS | {"error", "exception", "fault", "synthetic"}
EVENT_STREAM_KEYS = STRUCTURE_KEYS | {"eventstream"}
EVENT_KEYS = STRUCTURE_KEYS | {"event"}


class ModelError(Exception):
    """The model has something this generator does not know how to describe."""


def _check_botocore():
    import botocore

    if botocore.__version__ != BOTOCORE_VERSION:
        raise SystemExit(
            f"gen_operations: botocore {botocore.__version__} at {botocore.__file__}; the "
            f"tables are generated from botocore {BOTOCORE_VERSION} only (the release "
            "pyproject.toml pins). Run with the repository's .venv: "
            ".venv/bin/python tools/gen_operations.py"
        )
    return botocore


def load_model():
    """(raw model dict, source path relative to botocore's package, sha256 of the JSON text).

    Read straight from botocore's own data directory, not through its Loader, so that a
    ~/.aws/models or AWS_DATA_PATH override on this machine can't change the output.
    """
    botocore = _check_botocore()
    package = os.path.dirname(os.path.abspath(botocore.__file__))
    base = os.path.join(package, "data", SERVICE_NAME, API_VERSION, "service-2.json")
    if os.path.exists(base):
        path = base
        with open(base, "rb") as f:
            text = f.read()
    elif os.path.exists(base + ".gz"):
        path = base + ".gz"
        with gzip.open(path, "rb") as f:
            text = f.read()
    else:
        raise SystemExit(f"gen_operations: no {base}(.gz) in botocore {botocore.__version__}")
    model = json.loads(text, object_pairs_hook=OrderedDict)
    source = os.path.relpath(path, os.path.dirname(package)).replace(os.sep, "/")
    return model, source, hashlib.sha256(text).hexdigest()


# ---------------------------------------------------------------------------- the model


def _limit(value, what):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelError(f"{what}: min/max {value!r} is not a number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ModelError(f"{what}: fractional min/max {value!r}")
        value = int(value)
    return value


def _member(struct, name, shape, required, default_location, where):
    """One member of a structure as a dict (the field order is the output's)."""
    what = f"{where}.{name}"
    unknown = set(shape.metadata) - MEMBER_METADATA
    if unknown:
        raise ModelError(f"{what}: unhandled shape attributes {sorted(unknown)}")
    serial = shape.serialization
    unknown = set(serial) - MEMBER_SERIALIZATION
    if unknown:
        raise ModelError(f"{what}: unhandled serialization attributes {sorted(unknown)}")
    if shape.type_name not in TYPES:
        raise ModelError(f"{what}: unhandled type {shape.type_name!r}")
    if struct.serialization.get("payload") == name or serial.get("eventpayload"):
        location = "payload"
    elif serial.get("eventheader"):
        location = "header"
    else:
        location = serial.get("location", default_location)
    if location not in LOCATIONS:
        raise ModelError(f"{what}: unhandled location {location!r}")
    enum = shape.metadata.get("enum")
    return OrderedDict(
        [
            ("name", name),
            ("location", location),
            ("wire_name", serial.get("name", name)),
            ("shape", shape.name),
            ("type", shape.type_name),
            ("min", _limit(shape.metadata.get("min"), what)),
            ("max", _limit(shape.metadata.get("max"), what)),
            ("pattern", shape.metadata.get("pattern")),
            ("required", name in required),
            ("enum", tuple(enum) if enum is not None else None),
            ("sensitive", bool(shape.metadata.get("sensitive", False))),
        ]
    )


def _members(shape, where, default_location="body"):
    if shape is None:
        return ()
    required = set(shape.required_members)
    return tuple(
        _member(shape, name, member, required, default_location, where)
        for name, member in shape.members.items()
    )


def _body_mode(shape, members, where):
    """How a request or response body is made: "none", "blob", "json" or "event_stream"."""
    if shape is None:
        return "none"
    payload = shape.serialization.get("payload")
    if payload is not None:
        target = shape.members[payload]
        if target.type_name in ("blob", "string"):
            return "blob"
        if target.type_name == "structure":
            if target.serialization.get("eventstream"):
                return "event_stream"
            return "json"
        raise ModelError(f"{where}: payload {payload} of type {target.type_name}")
    if any(m["location"] == "body" for m in members):
        return "json"
    return "none"


def _uri_labels(uri):
    return re.findall(r"{(.*?)}", uri)


def _raw_shape(shapes, name, allowed, where):
    """The model's own dict for shape `name` (botocore's Shape drops "fault" and "event")."""
    raw = shapes[name]
    unknown = set(raw) - allowed
    if unknown:
        raise ModelError(f"{where}: unhandled attributes {sorted(unknown)} on shape {name}")
    return raw


def _event_stream(shapes, shape, where):
    """The events of an event-stream payload, in model order."""
    _raw_shape(shapes, shape.name, EVENT_STREAM_KEYS, where)
    events = []
    for name, member in shape.members.items():
        if member.serialization.get("location") is not None:
            raise ModelError(f"{where}.{name}: located event stream member")
        raw = _raw_shape(shapes, member.name, ERROR_KEYS | EVENT_KEYS, f"{where}.{name}")
        exception = bool(raw.get("exception"))
        if exception == bool(raw.get("event")):
            raise ModelError(f"{where}.{name}: an event stream member is an event or an exception")
        events.append(
            OrderedDict(
                [
                    ("name", name),
                    ("shape", member.name),
                    ("exception", exception),
                    ("members", _members(member, f"{where}.{name}")),
                ]
            )
        )
    return tuple(events)


def _error(shapes, shape):
    raw = _raw_shape(shapes, shape.name, ERROR_KEYS, "errors")
    if not raw.get("exception"):
        raise ModelError(f"error shape {shape.name} is not an exception")
    error = shape.metadata.get("error", {})
    unknown = set(error) - {"httpStatusCode", "code", "senderFault"}
    if unknown:
        raise ModelError(f"error shape {shape.name}: unhandled error attributes {sorted(unknown)}")
    return OrderedDict(
        [
            ("name", shape.name),
            ("code", error.get("code", shape.name)),
            ("http_status", error.get("httpStatusCode")),
            # The model's "fault": true marks a server-side error; others are the sender's.
            ("fault", "server" if raw.get("fault") else "client"),
            ("members", _members(shape, f"errors.{shape.name}")),
        ]
    )


def describe(model):
    """The generated content: (service, operations, errors) as ordered dicts and tuples."""
    import botocore
    from botocore.model import ServiceModel

    service = ServiceModel(model, service_name=SERVICE_NAME)
    shapes = model["shapes"]
    meta = service.metadata
    if meta.get("protocol") != "rest-json":
        raise ModelError(f"protocol {meta.get('protocol')!r}: the tables describe rest-json")
    info = OrderedDict(
        [
            ("name", SERVICE_NAME),
            ("api_version", meta["apiVersion"]),
            ("protocol", meta["protocol"]),
            ("endpoint_prefix", meta["endpointPrefix"]),
            ("signing_name", meta["signingName"]),
            ("signature_version", meta["signatureVersion"]),
            ("service_id", meta["serviceId"]),
        ]
    )
    operations = OrderedDict()
    error_shapes = OrderedDict()
    for op_name in service.operation_names:
        op = service.operation_model(op_name)
        where = op_name
        http = op.http
        unknown = set(http) - {"method", "requestUri", "responseCode"}
        if unknown:
            raise ModelError(f"{where}: unhandled http attributes {sorted(unknown)}")
        inp, out = op.input_shape, op.output_shape
        in_members = _members(inp, f"{where}.input")
        out_members = _members(out, f"{where}.output")
        labels = _uri_labels(http["requestUri"])
        uri_members = [m["wire_name"] for m in in_members if m["location"] == "uri"]
        if sorted(labels) != sorted(uri_members) or any(label.endswith("+") for label in labels):
            raise ModelError(f"{where}: URI labels {labels} vs uri members {uri_members}")
        for shape in (inp, out):
            if shape is not None:
                _raw_shape(shapes, shape.name, STRUCTURE_KEYS, where)
        out_payload = out.serialization.get("payload") if out is not None else None
        response_body = _body_mode(out, out_members, f"{where}.output")
        operation = OrderedDict(
            [
                ("name", op_name),
                ("python_name", botocore.xform_name(op_name)),
                ("http_method", http.get("method", "POST")),
                ("request_uri", http["requestUri"]),
                ("input_shape", inp.name if inp is not None else None),
                ("required", tuple(inp.required_members) if inp is not None else ()),
                ("payload", inp.serialization.get("payload") if inp is not None else None),
                ("request_body", _body_mode(inp, in_members, f"{where}.input")),
                ("members", in_members),
                ("output_shape", out.name if out is not None else None),
                ("status_code", http.get("responseCode", 200)),
                ("output_payload", out_payload),
                ("response_body", response_body),
                ("output_members", out_members),
                (
                    "events",
                    _event_stream(shapes, out.members[out_payload], f"{where}.events")
                    if response_body == "event_stream"
                    else (),
                ),
                ("errors", tuple(shape.name for shape in op.error_shapes)),
            ]
        )
        operations[op_name] = operation
        for shape in op.error_shapes:
            error_shapes[shape.name] = shape
        for event in operation["events"]:
            if event["exception"]:
                if event["shape"] not in error_shapes:
                    error_shapes[event["shape"]] = service.shape_for(event["shape"])
    # Every exception shape in the model, named by an operation or not.
    for name in service.shape_names:
        if shapes[name].get("exception") and name not in error_shapes:
            error_shapes[name] = service.shape_for(name)
    errors = OrderedDict(
        (name, _error(shapes, error_shapes[name])) for name in sorted(error_shapes)
    )
    return info, operations, errors


# ---------------------------------------------------------------------------- Python output

LINE = 100


def py_str(s):
    """repr(s), in double quotes unless s holds one."""
    r = repr(s)
    if r[0] == "'" and '"' not in s:  # then s holds no "'" either: nothing is escaped for it
        r = '"' + r[1:-1] + '"'
    return r


def py_value(value, indent=0, used=0):
    """A literal, inline if it fits in LINE columns (`used` of them taken before it on its
    first line, a comma after it), else one item per line; closing brackets at `indent`."""
    inline = _py_inline(value)
    if indent + used + len(inline) + 1 <= LINE or not isinstance(value, (dict, tuple)) or not value:
        return inline
    pad = " " * (indent + 4)
    lines = []
    if isinstance(value, dict):
        for k, v in value.items():
            key = py_str(k) + ": "
            lines.append(pad + key + py_value(v, indent + 4, len(key)) + ",")
        return "{\n" + "\n".join(lines) + "\n" + " " * indent + "}"
    for v in value:
        lines.append(pad + py_value(v, indent + 4) + ",")
    return "(\n" + "\n".join(lines) + "\n" + " " * indent + ")"


def _py_inline(value):
    if isinstance(value, str):
        return py_str(value)
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_str(k)}: {_py_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        items = [_py_inline(v) for v in value]
        if len(items) == 1:
            return "(" + items[0] + ",)"
        return "(" + ", ".join(items) + ")"
    raise TypeError(f"no literal for {type(value).__name__}")


def render_python(info, operations, errors, source, digest):
    out = [
        f'"""Operations of {SERVICE_NAME}, generated from botocore {BOTOCORE_VERSION}\'s model.',
        "",
        "GENERATED by tools/gen_operations.py from",
        f"botocore/{source.split('/', 1)[1]}",
        f"(sha256 of its JSON: {digest}).",
        "Do not edit: run `make operations`. The same tables for C are csrc/operations.h;",
        "tests/core/test_operations_gen.py checks both against botocore.",
        "",
        "OPERATIONS: name -> the operation, in the model's order; required: the input's required",
        "members in the model's order for them. Member dicts (in the model's order): location is",
        '"uri", "header", "querystring", "payload" (the payload member) or "body" (a JSON body',
        "field); wire_name is the label, header or field name; min/max/pattern/enum None when",
        'absent. request_body / response_body: "blob" (the payload member\'s bytes), "json",',
        '"event_stream" (events lists the stream\'s members) or "none". status_code: success.',
        'ERRORS: every exception shape; fault is "server" (the model\'s fault) or "client".',
        '"""',
        "",
        f"BOTOCORE_VERSION = {py_str(BOTOCORE_VERSION)}",
        f"MODEL_SHA256 = {py_str(digest)}",
        "",
        f"SERVICE = {py_value(info, 0, 10)}",
        "",
        f"OPERATIONS = {py_value(operations, 0, 13)}",
        "",
        f"ERRORS = {py_value(errors, 0, 9)}",
        "",
    ]
    # Only a long string can make a line too long (a pattern): keep it whole.
    text = "\n".join(out)
    return "\n".join(
        line + "  # noqa: E501" if len(line) > LINE else line for line in text.split("\n")
    )


# ---------------------------------------------------------------------------- C output


def c_str(s):
    """A C string literal (UTF-8 bytes; '?' escaped so no trigraph can form)."""
    if s is None:
        return "NULL"
    out = []
    for byte in s.encode("utf-8"):
        ch = chr(byte)
        if ch in '\\"?':
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def c_ident(s):
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", s):
        raise ModelError(f"{s!r} is not usable in a C identifier")
    return s


def _c_const(prefix, value):
    return f"SMRT_{prefix}_{value.upper()}"


def _c_sized(field, value):
    """`.field = "text", .field_len = sizeof("text") - 1` (the length can't disagree)."""
    lit = c_str(value)
    return f".{field} = {lit}, .{field}_len = sizeof({lit}) - 1"


def _c_members(var, index_prefix, members, comment):
    """A member table (each entry at its index_prefix<Member> index, if given); none: []."""
    if not members:
        return []
    lines = []
    for m in members:
        if m["enum"] is not None:
            values = ", ".join(c_str(v) for v in m["enum"])
            lines.append(f"static const char *const {var}_{m['name']}_ENUM[] = {{{values}, NULL}};")
    lines += [f"/* {comment} */", f"static const smrt_member {var}[] = {{"]
    for m in members:
        enum = f"{var}_{m['name']}_ENUM" if m["enum"] is not None else "NULL"
        lines += [
            f"    [{index_prefix}{c_ident(m['name'])}] = {{" if index_prefix else "    {",
            f"        {_c_sized('name', m['name'])},",
            f"        {_c_sized('wire', m['wire_name'])},",
            f"        .shape = {c_str(m['shape'])}, .location = {_c_const('LOC', m['location'])}, "
            f".type = {_c_const('TYPE', m['type'])},",
            f"        .required = {int(m['required'])}, .sensitive = {int(m['sensitive'])}, "
            f".has_min = {int(m['min'] is not None)}, .min = {m['min'] or 0}, "
            f".has_max = {int(m['max'] is not None)}, .max = {m['max'] or 0},",
            f"        .pattern = {c_str(m['pattern'])}, .enum_values = {enum},",
            "    },",
        ]
    lines += ["};", f"SMRT_TABLE_SIZE({var}, {len(members)});", ""]
    return lines


def _c_mask(members, keep):
    bits = 0
    names = []
    for i, m in enumerate(members):
        if keep(m):
            bits |= 1 << i
            names.append(m["name"])
    return f"0x{bits:x}u", names


def _c_masks(prefix, members):
    """Bit masks of an input table (bit i: member i), for loops over a call's parameters."""
    if len(members) > 32:
        raise ModelError(f"{prefix}: more than 32 members do not fit the masks")
    lines = [f'_Static_assert({prefix}_COUNT <= 32, "{prefix}: 32-bit member masks");']
    for suffix, keep in (
        ("REQUIRED", lambda m: m["required"]),
        ("HEADERS", lambda m: m["location"] == "header"),
        ("LABELS", lambda m: m["location"] == "uri"),
    ):
        bits, names = _c_mask(members, keep)
        lines.append(f"#define {prefix}_{suffix} {bits} /* {' '.join(names) or 'none'} */")
    return lines


def _c_ref(var, members):
    return var if members else "NULL"


def _c_enum(prefix, names, count_comment):
    lines = ["enum {"]
    for name in names:
        lines.append(f"    {prefix}{c_ident(name)},")
    lines.append(f"    {prefix}COUNT /* {count_comment} */")
    lines.append("};")
    return lines


C_TYPES = """\
/* Where a member goes on the wire: "body" is a field of a JSON body, "payload" the
 * payload member (the whole body, or an event's payload). */
typedef enum {
%s
} smrt_location;

typedef enum {
%s
} smrt_type;

/* How a request or response body is made: the payload member's bytes ("blob"), a JSON
 * document, an event stream, or nothing. */
typedef enum {
%s
} smrt_body_mode;

typedef struct smrt_member {
    const char *name; /* the parameter or result key */
    size_t name_len;
    const char *wire; /* the URI label, header or JSON field name as the model spells it */
    size_t wire_len;
    const char *shape;
    smrt_location location;
    smrt_type type;
    unsigned char required;
    unsigned char sensitive;
    /* The model's min and max: a string's or blob's length, a number's range. */
    unsigned char has_min;
    long long min;
    unsigned char has_max;
    long long max;
    const char *pattern;            /* NULL: none */
    const char *const *enum_values; /* NULL: none; else NULL-terminated */
} smrt_member;

typedef struct smrt_event {
    const char *name;
    const char *shape;
    int exception; /* an error event: name is an error shape's */
    const smrt_member *members;
    int n_members;
} smrt_event;

typedef struct smrt_error_shape {
    const char *name;
    const char *code;
    int http_status;  /* 0: the model gives none */
    int server_fault; /* the model's "fault"; otherwise the sender's */
    const smrt_member *members;
    int n_members;
} smrt_error_shape;

typedef struct smrt_operation {
    const char *name;
    const char *python_name;
    const char *input_shape;
    const char *output_shape;
    const char *http_method;
    size_t http_method_len;
    const char *request_uri; /* the path template */
    /* request_uri split at its one label: uri_before + the label member's value + uri_after */
    const char *uri_before;
    size_t uri_before_len;
    int uri_label;
    const char *uri_after;
    size_t uri_after_len;
    const smrt_member *members; /* the input shape's, in the model's order */
    int n_members;
    const int *required; /* the required members' indexes, in the model's "required" order */
    int n_required;
    /* Bit i set for members[i]: the required members, the headers, the URI labels. */
    unsigned required_mask, header_mask, label_mask;
    int payload; /* index in members, -1: none */
    smrt_body_mode request_body;
    int status_code; /* of a success */
    const smrt_member *output_members;
    int n_output_members;
    int output_payload; /* index in output_members, -1: none */
    smrt_body_mode response_body;
    const smrt_event *events; /* an event stream's members (response_body SMRT_BODY_EVENT_STREAM) */
    int n_events;
    const int *errors; /* SMRT_ERR_* in the model's order */
    int n_errors;
} smrt_operation;

/* The names the Python tables use for the enums above, indexed by them. */
static const char *const SMRT_LOCATION_NAMES[] = {%s};
static const char *const SMRT_TYPE_NAMES[] = {%s};
static const char *const SMRT_BODY_MODE_NAMES[] = {%s};

/* A table's entry count, checked against its enum at compile time. */
#define SMRT_TABLE_SIZE(table, n) _Static_assert(sizeof(table) / sizeof((table)[0]) == (n), #table)
SMRT_TABLE_SIZE(SMRT_LOCATION_NAMES, %s + 1);
SMRT_TABLE_SIZE(SMRT_TYPE_NAMES, %s + 1);
SMRT_TABLE_SIZE(SMRT_BODY_MODE_NAMES, %s + 1);
"""


def render_c(info, operations, errors, source, digest):
    model_file = "botocore/" + source.split("/", 1)[1]
    out = [
        f"/* Operations of {SERVICE_NAME}, generated from botocore {BOTOCORE_VERSION}'s model.",
        " *",
        f" * GENERATED by tools/gen_operations.py from {model_file}",
        f" * (sha256 of its JSON: {digest}).",
        " * Do not edit: run `make operations`. The same tables for Python are",
        " * sagemaker_rt_c/_protocol/operations.py; tests/core/test_operations_gen.py checks both",
        " * against botocore's model.",
        " *",
        " * Const data (no Python.h): SMRT_OPERATIONS and SMRT_ERRORS are defined once, in",
        " * operations.c (SMRT_OPERATIONS_DEFINE), the rest static. Member tables are in the",
        " * model's order, the order request headers are written in;",
        " * SMRT_<Operation>_IN_<Member> and SMRT_<Operation>_OUT_<Member> index them. */",
        "#ifndef SMRT_OPERATIONS_H",
        "#define SMRT_OPERATIONS_H",
        "",
        "#include <stddef.h>",
        "",
        f"#define SMRT_BOTOCORE_VERSION {c_str(BOTOCORE_VERSION)}",
        f"#define SMRT_API_VERSION {c_str(info['api_version'])}",
        "",
        C_TYPES
        % (
            "\n".join(f"    {_c_const('LOC', v)}," for v in LOCATIONS),
            "\n".join(f"    {_c_const('TYPE', v)}," for v in TYPES),
            "\n".join(f"    {_c_const('BODY', v)}," for v in BODY_MODES),
            ", ".join(c_str(v) for v in LOCATIONS),
            ", ".join(c_str(v) for v in TYPES),
            ", ".join(c_str(v) for v in BODY_MODES),
            _c_const("LOC", LOCATIONS[-1]),
            _c_const("TYPE", TYPES[-1]),
            _c_const("BODY", BODY_MODES[-1]),
        ),
    ]
    out += _c_enum("SMRT_OP_", list(operations), "operations")
    out.append("")
    out += _c_enum("SMRT_ERR_", list(errors), "error shapes")
    out.append("")
    for name, e in errors.items():
        out += _c_members(f"SMRT_ERROR_{name}", None, e["members"], f"{name}'s fields")
    # The two tables the C files use: defined once (operations.c defines
    # SMRT_OPERATIONS_DEFINE), declared everywhere else, so that every file sees one table (an
    # operation's index is its address minus SMRT_OPERATIONS) and the relocated data is loaded
    # once. The member tables they point to stay static: unused elsewhere, they are dropped.
    out += ["#ifdef SMRT_OPERATIONS_DEFINE"]
    out.append("const smrt_error_shape SMRT_ERRORS[SMRT_ERR_COUNT] = {")
    for name, e in errors.items():
        out += [
            f"    [SMRT_ERR_{name}] = {{",
            f"        .name = {c_str(name)},",
            f"        .code = {c_str(e['code'])},",
            f"        .http_status = {e['http_status'] or 0},",
            f"        .server_fault = {int(e['fault'] == 'server')},",
            f"        .members = {_c_ref(f'SMRT_ERROR_{name}', e['members'])},",
            f"        .n_members = {len(e['members'])},",
            "    },",
        ]
    out += ["};", "#else", "extern const smrt_error_shape SMRT_ERRORS[SMRT_ERR_COUNT];"]
    out += ["#endif", ""]
    for name, op in operations.items():
        ident = c_ident(name)
        ins, outs = op["members"], op["output_members"]
        out += _c_enum(f"SMRT_{ident}_IN_", [m["name"] for m in ins], "input members")
        out += _c_masks(f"SMRT_{ident}_IN", ins)
        out.append("")
        out += _c_enum(f"SMRT_{ident}_OUT_", [m["name"] for m in outs], "output members")
        out.append("")
        out += _c_members(
            f"SMRT_{ident}_IN", f"SMRT_{ident}_IN_", ins, f"{name}: {op['input_shape']}"
        )
        out += _c_members(
            f"SMRT_{ident}_OUT", f"SMRT_{ident}_OUT_", outs, f"{name}: {op['output_shape']}"
        )
        for ev in op["events"]:
            var = f"SMRT_{ident}_EVENT_{c_ident(ev['name'])}"
            out += _c_members(var, None, ev["members"], f"{name}: event {ev['name']}")
        if op["events"]:
            out.append(f"static const smrt_event SMRT_{ident}_EVENTS[] = {{")
            for ev in op["events"]:
                table = _c_ref(f"SMRT_{ident}_EVENT_{ev['name']}", ev["members"])
                out += [
                    "    {",
                    f"        .name = {c_str(ev['name'])},",
                    f"        .shape = {c_str(ev['shape'])},",
                    f"        .exception = {int(ev['exception'])},",
                    f"        .members = {table},",
                    f"        .n_members = {len(ev['members'])},",
                    "    },",
                ]
            out += ["};", ""]
        if op["required"]:
            out.append(f"static const int SMRT_{ident}_REQUIRED[] = {{")
            out += [f"    SMRT_{ident}_IN_{c_ident(r)}," for r in op["required"]]
            out += ["};", ""]
        out.append(f"static const int SMRT_{ident}_ERRORS[] = {{")
        out += [f"    SMRT_ERR_{e}," for e in op["errors"]]
        out += ["};", ""]
    out += ["#ifdef SMRT_OPERATIONS_DEFINE"]
    out.append("const smrt_operation SMRT_OPERATIONS[SMRT_OP_COUNT] = {")
    for name, op in operations.items():
        ident = c_ident(name)
        uri = op["request_uri"]
        (label,) = _uri_labels(uri)
        before, after = uri.split("{" + label + "}")
        (label_member,) = [m["name"] for m in op["members"] if m["location"] == "uri"]
        payload, out_payload = op["payload"], op["output_payload"]
        fields = [
            f".name = {c_str(name)}",
            f".python_name = {c_str(op['python_name'])}",
            f".input_shape = {c_str(op['input_shape'])}",
            f".output_shape = {c_str(op['output_shape'])}",
            _c_sized("http_method", op["http_method"]),
            f".request_uri = {c_str(uri)}",
            _c_sized("uri_before", before),
            f".uri_label = SMRT_{ident}_IN_{label_member}",
            _c_sized("uri_after", after),
            f".members = {_c_ref(f'SMRT_{ident}_IN', op['members'])}",
            f".n_members = SMRT_{ident}_IN_COUNT",
            f".required = {f'SMRT_{ident}_REQUIRED' if op['required'] else 'NULL'}",
            f".n_required = {len(op['required'])}",
            f".required_mask = SMRT_{ident}_IN_REQUIRED",
            f".header_mask = SMRT_{ident}_IN_HEADERS",
            f".label_mask = SMRT_{ident}_IN_LABELS",
            f".payload = {f'SMRT_{ident}_IN_{payload}' if payload else -1}",
            f".request_body = {_c_const('BODY', op['request_body'])}",
            f".status_code = {op['status_code']}",
            f".output_members = {_c_ref(f'SMRT_{ident}_OUT', op['output_members'])}",
            f".n_output_members = SMRT_{ident}_OUT_COUNT",
            f".output_payload = {f'SMRT_{ident}_OUT_{out_payload}' if out_payload else -1}",
            f".response_body = {_c_const('BODY', op['response_body'])}",
            f".events = {f'SMRT_{ident}_EVENTS' if op['events'] else 'NULL'}",
            f".n_events = {len(op['events'])}",
            f".errors = SMRT_{ident}_ERRORS",
            f".n_errors = {len(op['errors'])}",
        ]
        out.append(f"    [SMRT_OP_{ident}] = {{")
        out += [f"        {f}," for f in fields]
        out.append("    },")
    out += ["};", "#else", "extern const smrt_operation SMRT_OPERATIONS[SMRT_OP_COUNT];", "#endif"]
    out += ["", "#endif", ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------- main


def generate():
    """{relative path: text} of the generated files."""
    model, source, digest = load_model()
    info, operations, errors = describe(model)
    return {
        PY_OUT: render_python(info, operations, errors, source, digest),
        C_OUT: render_c(info, operations, errors, source, digest),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", default=REPO)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    files = generate()
    stale = []
    for rel, text in files.items():
        path = os.path.join(args.out_dir, rel)
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() == text:
                        continue
            except FileNotFoundError:
                pass
            stale.append(rel)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    if stale:
        print("gen_operations: out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
