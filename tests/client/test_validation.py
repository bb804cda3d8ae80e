"""sagemaker_rt_c._protocol.validate against botocore's ParamValidator, used as the oracle.

Random parameter dicts (fixed seeds) go through botocore's validator with the operation's input
shape and through ours: the report must be botocore's, line for line, followed by our extension
lines (unsafe header values, unusable buffers) that the test predicts independently.
"""

import array
import io
import random

import botocore.exceptions
import botocore.session
import numpy
import pytest
from botocore.awsrequest import AWSResponse
from botocore.validate import ParamValidator

from sagemaker_rt_c import exceptions as ours
from sagemaker_rt_c._protocol import validate as _validate

MODEL = botocore.session.get_session().get_service_model("sagemaker-runtime")
OPERATIONS = ("InvokeEndpoint", "InvokeEndpointAsync", "InvokeEndpointWithResponseStream")
HEADER_PREFIX = "Invalid header value for parameter "
BUFFER_PREFIX = "Invalid buffer for parameter Body: "


def input_shape(operation):
    return MODEL.operation_model(operation).input_shape


def botocore_entries(operation, params):
    """botocore's report, one entry per error (an entry may span lines: values are str()-ed)."""
    report = ParamValidator().validate(params, input_shape(operation))
    return [report._format_error(error) for error in report._errors]


def botocore_lines(operation, params):
    report = ParamValidator().validate(params, input_shape(operation))
    return report.generate_report().split("\n") if report.has_errors() else []


def our_report(operation, params, buffer_bodies):
    try:
        _validate.validate(operation, params, buffer_bodies=buffer_bodies)
    except ours.ParamValidationError as e:
        assert isinstance(e, botocore.exceptions.ParamValidationError)
        message = str(e)
        assert message == "Parameter validation failed:\n" + e.kwargs["report"]
        return e.kwargs["report"]
    return None


def is_header(operation, name, string_only=False):
    member = input_shape(operation).members.get(name)
    if member is None or member.serialization.get("location") != "header":
        return False
    return member.type_name == "string" or not string_only


def unsafe_header(value):
    return isinstance(value, str) and any(ord(c) < 0x20 or ord(c) >= 0x7F for c in value)


def buffer_state(value):
    """'plain' (botocore accepts it), 'ok' (a usable buffer), 'bad' (unusable), 'none'."""
    if isinstance(value, (bytes, bytearray, str)) or hasattr(value, "read"):
        return "plain"
    try:
        view = memoryview(value)
    except TypeError:
        return "none"
    except ValueError:
        return "bad"
    return "ok" if view.c_contiguous else "bad"


def expected_lines(operation, params, buffer_bodies):
    """botocore's lines, less what the buffer extension accepts, then our extra lines."""
    lines = botocore_entries(operation, params)
    members = input_shape(operation).members
    extra = []
    for name, value in params.items():
        if name not in members:
            continue
        if name == "Body" and buffer_bodies:
            state = buffer_state(value)
            if state == "ok":
                body_error = "Invalid type for parameter Body,"
                lines = [line for line in lines if not line.startswith(body_error)]
            elif state == "bad":
                extra.append(BUFFER_PREFIX)
        # Integer members given a str already get botocore's type error, and nothing more.
        if is_header(operation, name, string_only=True) and unsafe_header(value):
            extra.append(HEADER_PREFIX + name + ": ")
    return lines, extra


def check(operation, params):
    for buffer_bodies in (False, True):
        entries, extra = expected_lines(operation, params, buffer_bodies)
        got = our_report(operation, params, buffer_bodies)
        if not entries and not extra:
            assert got is None, (operation, params)
            continue
        head = "\n".join(entries)
        assert got.startswith(head), (operation, params, got)
        tail = got[len(head) :]
        if entries and extra:
            assert tail.startswith("\n")
            tail = tail[1:]
        tail_lines = tail.split("\n") if extra else [] if not tail else [tail]
        assert len(tail_lines) == len(extra), (operation, params, got)
        for index, prefix in enumerate(extra):
            assert tail_lines[index].startswith(prefix), (tail_lines, extra)


# ------------------------------------------------------------------ random cases


class Readable:
    def read(self, n=-1):
        return b""


class Weird:
    def __str__(self):
        return "weird\nobject"


STRINGS = [
    "my-endpoint",
    "",
    "application/json",
    "a b ~!",
    "x" * 70,
    "line\r\nbreak",
    "nul\x00",
    "tab\tch",
    "del\x7f",
    "unit\x1f",
    "caf\u00e9",
    "\u2028",
    "emoji \U0001f600",
    "NEW_SESSION",
]


def rand_value(rng):
    kind = rng.randrange(10)
    if kind < 4:
        return rng.choice(STRINGS)
    if kind == 4:
        return rng.choice([0, 1, 59, 60, 61, 3600, -1, True, False, 10**20])
    if kind == 5:
        return rng.choice([None, 1.5, [], ["a"], {}, {"k": "v"}, (1,), Weird(), object])
    if kind == 6:
        return rng.choice([b"", b"{}", bytearray(b"x"), io.BytesIO(b"x"), Readable()])
    if kind == 7:
        return rng.choice(
            [
                memoryview(b"abc"),
                array.array("d", [1.0, 2.0]),
                numpy.arange(6, dtype=numpy.float32).reshape(2, 3),
                numpy.arange(12, dtype=numpy.int16).reshape(3, 4)[:, ::2],
                memoryview(b"abcdef")[::2],
                numpy.zeros(0),
            ]
        )
    if kind == 8:
        return rng.choice(["12", "60", "1.5"])
    return rng.choice(STRINGS) + rng.choice(STRINGS)


UNKNOWN = ["Foo", "endpointname", "body", "Body ", "Accept-Encoding", "TargetModel", "Body"]


def valid_params(operation, rng):
    params = {"EndpointName": "ep"}
    if operation == "InvokeEndpointAsync":
        params["InputLocation"] = "s3://bucket/key"
    else:
        params["Body"] = b"{}"
    return params


def rand_params(operation, rng):
    params = valid_params(operation, rng)
    members = list(input_shape(operation).members)
    for _ in range(rng.randrange(6)):
        action = rng.randrange(4)
        if action == 0 and params:
            del params[rng.choice(list(params))]
        elif action == 1:
            params[rng.choice(UNKNOWN)] = rand_value(rng)
        else:
            params[rng.choice(members)] = rand_value(rng)
    items = list(params.items())
    rng.shuffle(items)
    return dict(items)


@pytest.mark.differential
@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("seed", range(6))
def test_random_params_match_botocore(operation, seed):
    rng = random.Random(f"{operation}-{seed}")
    failing = 0
    for _ in range(300):
        params = rand_params(operation, rng)
        check(operation, params)
        failing += bool(botocore_lines(operation, params))
    # Both valid and invalid dicts must come up.
    assert 30 < failing < 290


@pytest.mark.differential
def test_report_is_exactly_botocores_without_extensions():
    rng = random.Random(5)
    compared = 0
    for _ in range(600):
        operation = rng.choice(OPERATIONS)
        params = rand_params(operation, rng)
        expected = botocore_lines(operation, params)
        lines, extra = expected_lines(operation, params, buffer_bodies=False)
        if extra or not expected:
            continue
        with pytest.raises(ours.ParamValidationError) as info:
            _validate.validate(operation, params, buffer_bodies=False)
        with pytest.raises(botocore.exceptions.ParamValidationError) as theirs:
            raise botocore.exceptions.ParamValidationError(report="\n".join(expected))
        assert str(info.value) == str(theirs.value)
        assert info.value.kwargs == theirs.value.kwargs
        compared += 1
    assert compared > 150


@pytest.mark.differential
def test_botocore_client_raises_the_same_report():
    """The client path (not just ParamValidator) gives botocore's report, as ours does."""
    client = botocore.session.get_session().create_client(
        "sagemaker-runtime",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    )

    def no_network(request, **kwargs):
        return AWSResponse(request.url, 200, {}, None)

    client.meta.events.register("before-send", no_network)
    methods = {
        "InvokeEndpoint": client.invoke_endpoint,
        "InvokeEndpointAsync": client.invoke_endpoint_async,
        "InvokeEndpointWithResponseStream": client.invoke_endpoint_with_response_stream,
    }
    rng = random.Random(11)
    compared = 0
    while compared < 60:
        operation = rng.choice(OPERATIONS)
        params = rand_params(operation, rng)
        if not all(isinstance(k, str) for k in params):
            continue
        lines, extra = expected_lines(operation, params, buffer_bodies=False)
        if not lines or extra:
            continue
        with pytest.raises(botocore.exceptions.ParamValidationError) as theirs:
            methods[operation](**params)
        with pytest.raises(ours.ParamValidationError) as mine:
            _validate.validate(operation, params, buffer_bodies=False)
        assert str(mine.value) == str(theirs.value)
        compared += 1


# ------------------------------------------------------------------ the model


@pytest.mark.differential
def test_tables_match_the_service_model():
    kinds = {"string": "header", "integer": "int", "blob": "blob"}
    for operation in OPERATIONS:
        shape = input_shape(operation)
        required, members = _validate._OPERATIONS[operation]
        assert list(required) == shape.required_members
        expected = []
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            kind = "label" if location == "uri" else kinds[member.type_name]
            if kind == "header":
                assert location == "header"
            assert "hostLabel" not in member.serialization
            expected.append((name, kind, member.metadata.get("min")))
        assert list(members) == expected


# ------------------------------------------------------------------ targeted cases

HEADER_MEMBERS = {
    operation: [n for n in input_shape(operation).members if is_header(operation, n)]
    for operation in OPERATIONS
}
STR_HEADERS = {
    operation: [n for n in HEADER_MEMBERS[operation] if is_header(operation, n, string_only=True)]
    for operation in OPERATIONS
}


@pytest.mark.differential
@pytest.mark.parametrize(
    "char, words",
    [
        ("\r", "carriage return (U+000D)"),
        ("\n", "line feed (U+000A)"),
        ("\x00", "NUL (U+0000)"),
        ("\t", "tab (U+0009)"),
        ("\x7f", "DEL (U+007F)"),
        ("\x1b", "control character (U+001B)"),
        ("\u00e9", "non-ASCII character (U+00E9)"),
        ("\u2028", "non-ASCII character (U+2028)"),
        ("\U0001f600", "non-ASCII character (U+1F600)"),
    ],
)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_header_member_rejects_unsafe_characters(operation, char, words):
    for name in STR_HEADERS[operation]:
        params = valid_params(operation, None)
        params[name] = "ok" + char + "x"
        with pytest.raises(ours.ParamValidationError) as info:
            _validate.validate(operation, params)
        assert str(info.value) == (
            "Parameter validation failed:\n"
            f"Invalid header value for parameter {name}: contains {words} at index 2; "
            "header values must be printable ASCII"
        )
        # botocore has nothing to say about it.
        assert botocore_lines(operation, params) == []


def test_header_members_cover_the_brief():
    assert set(STR_HEADERS["InvokeEndpoint"]) == {
        "ContentType",
        "Accept",
        "CustomAttributes",
        "TargetModel",
        "TargetVariant",
        "TargetContainerHostname",
        "InferenceId",
        "EnableExplanations",
        "InferenceComponentName",
        "SessionId",
        "PrefixAwareId",
    }
    assert set(STR_HEADERS["InvokeEndpointAsync"]) == {
        "ContentType",
        "Accept",
        "CustomAttributes",
        "InferenceId",
        "InputLocation",
        "S3OutputPathExtension",
        "Filename",
    }


def test_printable_ascii_headers_pass():
    value = "".join(chr(c) for c in range(0x20, 0x7F))
    for operation in OPERATIONS:
        params = valid_params(operation, None)
        for name in STR_HEADERS[operation]:
            params[name] = value
        _validate.validate(operation, params)
    assert _validate.describe_invalid_header("Accept", value) is None
    assert _validate.describe_invalid_header("Accept", "") is None


def test_describe_invalid_header():
    msg = _validate.describe_invalid_header("CustomAttributes", "a\nb")
    assert msg == (
        "Invalid header value for parameter CustomAttributes: contains line feed (U+000A) "
        "at index 1; header values must be printable ASCII"
    )
    assert "CustomAttributes" in _validate.describe_invalid_header("CustomAttributes", 5)
    assert "int" in _validate.describe_invalid_header("CustomAttributes", 5)


@pytest.mark.differential
def test_endpoint_name_is_not_a_header():
    # A path label is percent-encoded, so any str is fine; non-str gets botocore's message.
    params = {"EndpointName": "caf\u00e9\r\n", "Body": b""}
    _validate.validate("InvokeEndpoint", params)
    params["EndpointName"] = b"ep"
    with pytest.raises(ours.ParamValidationError) as info:
        _validate.validate("InvokeEndpoint", params)
    assert str(info.value) == (
        "Parameter validation failed:\nInvalid type for parameter EndpointName, value: b'ep', "
        "type: <class 'bytes'>, valid types: <class 'str'>"
    )
    assert info.value.kwargs["report"] == "\n".join(botocore_lines("InvokeEndpoint", params))


@pytest.mark.differential
@pytest.mark.parametrize(
    "body",
    [
        memoryview(b"abc"),
        array.array("i", [1, 2, 3]),
        numpy.arange(6, dtype=numpy.float64).reshape(2, 3),
        numpy.asfortranarray(numpy.arange(3)),
        numpy.zeros(0),
    ],
)
@pytest.mark.parametrize("operation", ["InvokeEndpoint", "InvokeEndpointWithResponseStream"])
def test_buffer_bodies_accepted(operation, body):
    params = {"EndpointName": "ep", "Body": body}
    _validate.validate(operation, params)
    assert botocore_lines(operation, params)  # botocore refuses them
    with pytest.raises(ours.ParamValidationError) as info:
        _validate.validate(operation, params, buffer_bodies=False)
    assert info.value.kwargs["report"] == "\n".join(botocore_lines(operation, params))


def _released():
    view = memoryview(b"abc")
    view.release()
    return view


@pytest.mark.differential
@pytest.mark.parametrize(
    "body, why",
    [
        (numpy.arange(12).reshape(3, 4)[:, ::2], "its buffer is not C-contiguous"),
        (numpy.asfortranarray(numpy.arange(6).reshape(2, 3)), "its buffer is not C-contiguous"),
        (memoryview(b"abcdef")[::2], "its buffer is not C-contiguous"),
        (_released(), "cannot export its buffer (operation forbidden on released memoryview"),
    ],
)
def test_unusable_buffers_are_explained(body, why):
    params = {"Body": body, "EndpointName": "ep"}
    with pytest.raises(ours.ParamValidationError) as info:
        _validate.validate("InvokeEndpoint", params)
    lines = info.value.kwargs["report"].split("\n")
    assert lines[:-1] == botocore_lines("InvokeEndpoint", params)
    assert lines[-1].startswith(BUFFER_PREFIX + why)


@pytest.mark.parametrize(
    "body", [b"x", bytearray(b"x"), "text", io.BytesIO(b"x"), Readable(), io.StringIO("x")]
)
def test_plain_bodies_behave_as_botocore(body):
    for buffer_bodies in (False, True):
        params = {"EndpointName": "e", "Body": body}
        _validate.validate("InvokeEndpoint", params, buffer_bodies=buffer_bodies)


@pytest.mark.differential
@pytest.mark.parametrize("body", [None, 5, 1.5, ["x"], {"a": 1}, Weird(), object()])
def test_non_buffer_bodies_get_botocores_message(body):
    params = {"EndpointName": "e", "Body": body}
    with pytest.raises(ours.ParamValidationError) as info:
        _validate.validate("InvokeEndpoint", params)
    assert info.value.kwargs["report"] == "\n".join(botocore_lines("InvokeEndpoint", params))


@pytest.mark.differential
@pytest.mark.parametrize("params", [None, [], "x", 5, [("EndpointName", "e")]])
def test_params_not_a_dict(params):
    with pytest.raises(ours.ParamValidationError) as info:
        _validate.validate("InvokeEndpoint", params)
    assert info.value.kwargs["report"] == "\n".join(botocore_lines("InvokeEndpoint", params))


@pytest.mark.differential
def test_integer_members():
    params = {
        "EndpointName": "e",
        "InputLocation": "s3://b/k",
        "RequestTTLSeconds": 59,
        "InvocationTimeoutSeconds": True,
    }
    with pytest.raises(ours.ParamValidationError) as info:
        _validate.validate("InvokeEndpointAsync", params)
    lines = botocore_lines("InvokeEndpointAsync", params)
    assert lines == [
        "Invalid value for parameter RequestTTLSeconds, value: 59, valid min value: 60",
    ]
    assert info.value.kwargs["report"] == lines[0]
    params["InvocationTimeoutSeconds"] = False  # bool is an int to botocore: 0 < 1
    with pytest.raises(ours.ParamValidationError) as info:
        _validate.validate("InvokeEndpointAsync", params)
    assert info.value.kwargs["report"] == "\n".join(botocore_lines("InvokeEndpointAsync", params))


@pytest.mark.differential
def test_max_length_and_pattern_are_not_checked():
    params = {
        "EndpointName": "not a valid name!" * 10,
        "Body": b"x" * 10,
        "TargetVariant": "-" * 200,
        "CustomAttributes": "x" * 5000,
    }
    assert botocore_lines("InvokeEndpoint", params) == []
    _validate.validate("InvokeEndpoint", params)


def test_all_errors_collected_in_order():
    params = {"Zed": 1, "InferenceId": "", "ContentType": 3, "Accept": "a\rb", "Alpha": 2}
    with pytest.raises(ours.ParamValidationError) as info:
        _validate.validate("InvokeEndpoint", params)
    valid = (
        "EndpointName, Body, ContentType, Accept, CustomAttributes, TargetModel, TargetVariant, "
        "TargetContainerHostname, InferenceId, EnableExplanations, InferenceComponentName, "
        "SessionId, PrefixAwareId"
    )
    assert str(info.value) == "\n".join(
        [
            "Parameter validation failed:",
            'Missing required parameter in input: "EndpointName"',
            'Missing required parameter in input: "Body"',
            f'Unknown parameter in input: "Zed", must be one of: {valid}',
            f'Unknown parameter in input: "Alpha", must be one of: {valid}',
            "Invalid length for parameter InferenceId, value: 0, valid min length: 1",
            "Invalid type for parameter ContentType, value: 3, type: <class 'int'>, "
            "valid types: <class 'str'>",
            "Invalid header value for parameter Accept: contains carriage return (U+000D) at "
            "index 1; header values must be printable ASCII",
        ]
    )


def test_unknown_operation():
    with pytest.raises(ValueError, match="InvokeEndpoints"):
        _validate.validate("InvokeEndpoints", {})


def test_valid_params_pass():
    for operation in OPERATIONS:
        assert _validate.validate(operation, valid_params(operation, None)) is None
