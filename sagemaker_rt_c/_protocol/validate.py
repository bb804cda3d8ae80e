"""Parameter validation for the sagemaker-runtime operations, as botocore's ``ParamValidator``.

botocore checks, for these input shapes: the params are a dict, required members, unknown
members, member types, and the model's ``min`` (string length, integer value). It does not
check ``max`` or ``pattern``; neither do we. The report lists every error in botocore's order
and wording.

Two extensions, reported after botocore's own lines in the same report:

* ``Body`` may be any object exporting a C-contiguous buffer (memoryview, array.array, numpy
  arrays) when ``buffer_bodies`` is true. Such a body is accepted iff ``memoryview(Body)``
  succeeds and is C-contiguous; a buffer that fails that gets botocore's type error plus a line
  saying why the buffer can't be used.
* A str value that becomes an HTTP header must be printable ASCII: no CR, LF, NUL, other
  control character (0x00-0x1F, 0x7F) or non-ASCII character.
"""

_STR = "<class 'str'>"
_INT = "<class 'int'>"
_BLOB_TYPES = "<class 'bytes'>, <class 'bytearray'>, file-like object"


def _kind(operation, member):
    """How a member is checked: "label" (URI path), "blob" (the payload), "header" (a str
    header) or "int" (an integer header)."""
    location, type_name = member["location"], member["type"]
    if location == "uri" and type_name == "string":
        return "label"
    if location == "payload" and type_name == "blob":
        return "blob"
    if location == "header" and type_name == "string":
        return "header"
    if location == "header" and type_name == "integer":
        return "int"
    raise ValueError(f"{operation}.{member['name']}: no check for a {type_name} in {location}")


def _tables():
    # operation -> (required members, ((name, kind, min), ...) in the model's member order),
    # from the tables generated from botocore's model (_operations.py).
    from .operations import OPERATIONS

    return {
        name: (
            op["required"],
            tuple((m["name"], _kind(name, m), m["min"]) for m in op["members"]),
        )
        for name, op in OPERATIONS.items()
    }


_OPERATIONS = _tables()

_CONTROL_NAMES = {
    0x00: "NUL",
    0x09: "tab",
    0x0A: "line feed",
    0x0D: "carriage return",
    0x7F: "DEL",
}


def describe_control(point):
    """A control character's name for messages: "line feed", "NUL", "control character" ..."""
    return _CONTROL_NAMES.get(point, "control character")


def describe_invalid_header(name, value):
    """Why ``value`` can't be sent as the HTTP header of parameter ``name``, or None if it can."""
    if not isinstance(value, str):
        return f"Invalid type for header parameter {name}: expected str, got {type(value).__name__}"
    if value.isascii() and value.isprintable():
        return None
    for index, char in enumerate(value):
        point = ord(char)
        if point < 0x20 or point == 0x7F:
            what = _CONTROL_NAMES.get(point, "control character")
        elif point > 0x7F:
            what = "non-ASCII character"
        else:
            continue
        return (
            f"Invalid header value for parameter {name}: contains {what} (U+{point:04X}) "
            f"at index {index}; header values must be printable ASCII"
        )
    return None


def _buffer_problem(value):
    """None: a usable (C-contiguous) buffer; False: no buffer at all; else why it's unusable."""
    try:
        view = memoryview(value)
    except TypeError:
        return False
    except (ValueError, BufferError) as e:
        return f"cannot export its buffer ({e})"
    with view:
        if not view.c_contiguous:
            return "its buffer is not C-contiguous; pass bytes or a contiguous copy"
    return None


def _type_line(name, value, valid_types):
    return (
        f"Invalid type for parameter {name}, value: {value}, "
        f"type: {type(value)}, valid types: {valid_types}"
    )


def validate(operation_name, params, *, buffer_bodies=True, lengths=True):
    """Raise ``ParamValidationError`` with botocore's report if ``params`` is invalid.

    ``lengths=False`` (``parameter_validation=False``): a value shorter than the model's
    minimum is no reason to raise (it can be sent); anything else is (a parameter set that
    can't be serialised as the model says), and the report then has every line.
    """
    minimums = 0  # report lines about a model minimum
    try:
        required, members = _OPERATIONS[operation_name]
    except KeyError:
        raise ValueError(f"unknown operation {operation_name!r}") from None
    report = []
    extra = []
    if not isinstance(params, dict):
        report.append(_type_line("input", params, "<class 'dict'>"))
    else:
        kinds = {member: (kind, minimum) for member, kind, minimum in members}
        for member in required:
            if member not in params:
                report.append(f'Missing required parameter in input: "{member}"')
        valid_names = ", ".join(member for member, _, _ in members)
        known = []
        for param in params:
            if param in kinds:
                known.append(param)
            else:
                report.append(
                    f'Unknown parameter in input: "{param}", must be one of: {valid_names}'
                )
        for param in known:
            kind, minimum = kinds[param]
            value = params[param]
            if kind == "blob":
                _check_blob(param, value, buffer_bodies, report, extra)
            elif kind == "int":
                if not isinstance(value, int):
                    report.append(_type_line(param, value, _INT))
                elif value < minimum:
                    minimums += 1
                    report.append(
                        f"Invalid value for parameter {param}, value: {value}, "
                        f"valid min value: {minimum}"
                    )
            elif not isinstance(value, str):
                report.append(_type_line(param, value, _STR))
            else:
                if minimum is not None and len(value) < minimum:
                    minimums += 1
                    report.append(
                        f"Invalid length for parameter {param}, value: {len(value)}, "
                        f"valid min length: {minimum}"
                    )
                if kind == "header":
                    problem = describe_invalid_header(param, value)
                    if problem is not None:
                        extra.append(problem)
    if extra or len(report) > (0 if lengths else minimums):
        from ..exceptions import ParamValidationError

        raise ParamValidationError(report="\n".join(report + extra))


def _check_blob(name, value, buffer_bodies, report, extra):
    if isinstance(value, (bytes, bytearray, str)) or hasattr(value, "read"):
        return
    if buffer_bodies:
        problem = _buffer_problem(value)
        if problem is None:
            return
        if problem:
            extra.append(f"Invalid buffer for parameter {name}: {problem}")
    report.append(_type_line(name, value, _BLOB_TYPES))
