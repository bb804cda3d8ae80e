"""sagemaker_rt_c.exceptions against botocore.exceptions, used as the oracle.

Messages, kwargs, pickling and class relations are compared with botocore's classes in this
process (where botocore is importable, so ours also derive from botocore's) and in a subprocess
where importing botocore fails (so ours stand alone).
"""

import json
import os
import pickle
import string
import subprocess
import sys
import textwrap

import botocore.exceptions as boto
import botocore.session
import pytest
from conftest import ROOT

from sagemaker_rt_c import exceptions as ours

MODELED = [
    "InternalDependencyException",
    "InternalFailure",
    "InternalStreamFailure",
    "ModelError",
    "ModelNotReadyException",
    "ModelStreamError",
    "ServiceUnavailable",
    "ValidationError",
]
CLASS_NAMES = [n for n in ours.__all__ if n != "ClientExceptions"]
BOTOCORE_FAMILY = [n for n in CLASS_NAMES if n not in MODELED]
BUILTINS = {
    "Exception": Exception,
    "ValueError": ValueError,
    "OSError": OSError,
    "AssertionError": AssertionError,
    "LookupError": LookupError,
}
# botocore exceptions a sagemaker-runtime client cannot raise: S3-only, stubs, waiters.
# (InvalidS3AddressingStyleError is mirrored: Config validates its s3 options as botocore.)
NOT_MIRRORED = {
    "InvalidDNSNameError",
    "UnsupportedS3ArnError",
    "UnsupportedS3ControlArnError",
    "InvalidHostLabelError",
    "UnsupportedOutpostResourceError",
    "UnsupportedS3ConfigurationError",
    "UnsupportedS3AccesspointConfigurationError",
    "UnsupportedS3ControlConfigurationError",
    "InvalidS3UsEast1RegionalEndpointConfigError",
    "MD5UnavailableError",
    "StubResponseError",
    "StubAssertionError",
    "UnStubbedResponseError",
    "WaiterError",
    "WaiterConfigError",
    "InvalidExpressionError",
    "UnknownServiceStyle",
}
BRIEF_NAMES = """
ClientError InternalFailure ServiceUnavailable ValidationError ModelError ModelNotReadyException
InternalDependencyException ModelStreamError InternalStreamFailure BotoCoreError
ParamValidationError NoCredentialsError PartialCredentialsError NoRegionError InvalidRegionError
UnknownServiceError ProfileNotFound ConfigParseError InvalidConfigError
InvalidRetryConfigurationError InvalidRetryModeError InvalidMaxRetryAttemptsError
UnknownClientMethodError OperationNotPageableError DataNotFoundError HTTPClientError
ConnectionError EndpointConnectionError ConnectTimeoutError ReadTimeoutError
ConnectionClosedError ProxyConnectionError SSLError IncompleteReadError ResponseStreamingError
UnknownCredentialError UnknownSignatureVersionError NoAuthTokenError CredentialRetrievalError
""".split()


def _client_exceptions():
    client = botocore.session.get_session().create_client(
        "sagemaker-runtime",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    )
    return client.exceptions


BOTO_CLIENT_EXCEPTIONS = _client_exceptions()


def twin(name):
    """botocore's class playing the role of our class ``name``."""
    if name in MODELED:
        return getattr(BOTO_CLIENT_EXCEPTIONS, name)
    return getattr(boto, "ValidationError" if name == "BotoCoreValidationError" else name)


def fields(cls):
    fmt = getattr(cls, "fmt", "")
    return [f for _, f, _, _ in string.Formatter().parse(fmt) if f]


def sample_kwargs(cls):
    return {field: f"<{field}>" for field in fields(cls)}


def relation_table():
    table = {}
    for a in CLASS_NAMES:
        for b in CLASS_NAMES:
            table[f"{a} {b}"] = issubclass(twin(a), twin(b))
        for b, builtin in BUILTINS.items():
            table[f"{a} {b}"] = issubclass(twin(a), builtin)
    return table


def run_python(code, stdin="", block_botocore=False):
    prelude = BLOCKER if block_botocore else ""
    env = dict(os.environ, PYTHONPATH=ROOT)
    result = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


BLOCKER = textwrap.dedent(
    """
    import sys

    class _NoBotocore:
        def find_spec(self, name, path=None, target=None):
            if name == "botocore" or name.startswith("botocore."):
                raise ImportError("botocore is blocked in this test")
            return None

    sys.meta_path.insert(0, _NoBotocore())
    try:
        import botocore.exceptions
    except ImportError:
        pass
    else:
        raise SystemExit("the blocker did not block botocore")
    """
)

# ------------------------------------------------------------------ names


def test_names_resolve_to_classes_of_this_module():
    for name in CLASS_NAMES:
        cls = getattr(ours, name)
        assert isinstance(cls, type) and issubclass(cls, Exception)
        assert cls.__name__ == cls.__qualname__ == name
        assert cls.__module__ == "sagemaker_rt_c.exceptions"


def test_brief_names_are_present():
    assert set(BRIEF_NAMES) <= set(ours.__all__)
    assert len(set(ours.__all__)) == len(ours.__all__)


@pytest.mark.differential
def test_every_relevant_botocore_exception_is_mirrored():
    family = {
        name
        for name, obj in vars(boto).items()
        if isinstance(obj, type) and issubclass(obj, boto.BotoCoreError)
    }
    mirrored = {twin(n).__name__ for n in BOTOCORE_FAMILY}
    assert family - mirrored == NOT_MIRRORED
    assert {"ClientError", "EventStreamError"} <= set(ours.__all__)


def test_dir_and_all():
    listed = dir(ours)
    assert set(ours.__all__) <= set(listed)
    assert "error_class_for_code" in listed
    assert listed == sorted(listed)


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="NoSuchError"):
        ours.NoSuchError  # noqa: B018


def test_star_import():
    namespace = {}
    exec("from sagemaker_rt_c.exceptions import *", namespace)
    for name in ours.__all__:
        assert namespace[name] is getattr(ours, name)


# ------------------------------------------------- relations with botocore present


@pytest.mark.differential
def test_each_class_derives_from_botocores():
    for name in BOTOCORE_FAMILY:
        assert issubclass(getattr(ours, name), twin(name)), name
    for name in MODELED:
        assert issubclass(getattr(ours, name), boto.ClientError)
        assert issubclass(getattr(ours, name), ours.ClientError)
    # Our modeled ValidationError is the service's error, not botocore's parameter error.
    assert not issubclass(ours.ValidationError, boto.ValidationError)
    assert issubclass(ours.BotoCoreValidationError, boto.ValidationError)


@pytest.mark.differential
def test_relations_match_botocore():
    table = relation_table()
    for key, expected in table.items():
        a, b = key.split(" ")
        other = getattr(ours, b) if b in CLASS_NAMES else BUILTINS[b]
        assert issubclass(getattr(ours, a), other) == expected, key


@pytest.mark.differential
def test_except_clauses_written_for_botocore_catch_ours():
    with pytest.raises(boto.ClientError):
        raise ours.ModelError({"Error": {"Code": "ModelError"}}, "InvokeEndpoint")
    for clause in (boto.ReadTimeoutError, boto.HTTPClientError, boto.BotoCoreError, OSError):
        with pytest.raises(clause):
            raise ours.ReadTimeoutError(endpoint_url="https://x")
    for clause in (boto.ConnectionError, ours.ConnectionError, boto.ConnectTimeoutError):
        with pytest.raises(clause):
            raise ours.ConnectTimeoutError(endpoint_url="https://x")
    with pytest.raises(boto.ValidationError):
        raise ours.InvalidRegionError(region_name="bad region")
    with pytest.raises(ValueError):
        raise ours.InvalidRegionError(region_name="bad region")
    with pytest.raises(boto.ParamValidationError):
        raise ours.ParamValidationError(report="x")
    assert issubclass(ours.ModelError, ours.ClientError)
    # As in botocore: a read timeout is an HTTPClientError, not a ConnectionError.
    assert not issubclass(boto.ReadTimeoutError, boto.ConnectionError)
    assert not issubclass(ours.ReadTimeoutError, ours.ConnectionError)
    assert issubclass(ours.ReadTimeoutError, ours.HTTPClientError)
    assert issubclass(ours.ConnectTimeoutError, ours.ConnectionError)
    assert not issubclass(ours.ClientError, ours.BotoCoreError)


# ------------------------------------------------------- messages and pickling


@pytest.mark.differential
@pytest.mark.parametrize("name", BOTOCORE_FAMILY)
def test_message_kwargs_and_fmt_match_botocore(name):
    cls, theirs_cls = getattr(ours, name), twin(name)
    if name in ("ClientError", "EventStreamError"):
        pytest.raises(TypeError, cls)
        pytest.raises(TypeError, theirs_cls)
        return
    assert cls.fmt == theirs_cls.fmt
    kwargs = sample_kwargs(theirs_cls)
    mine, theirs = cls(**kwargs), theirs_cls(**kwargs)
    assert str(mine) == str(theirs)
    assert mine.args == theirs.args
    assert mine.kwargs == theirs.kwargs == kwargs
    if kwargs:
        # Both need the fmt's fields, nothing more.
        with pytest.raises(KeyError):
            theirs_cls()
        with pytest.raises(KeyError):
            cls()
    else:
        assert str(cls()) == str(theirs_cls()) == cls.fmt


@pytest.mark.parametrize(
    "name", [n for n in BOTOCORE_FAMILY if n not in ("ClientError", "EventStreamError")]
)
def test_pickle_round_trip(name):
    cls = getattr(ours, name)
    kwargs = sample_kwargs(cls)
    if issubclass(cls, ours.HTTPClientError):
        original = cls(request={"url": "u"}, response=("r", 1), **kwargs)
    else:
        original = cls(**kwargs)
    copy = pickle.loads(pickle.dumps(original))
    assert type(copy) is cls
    assert str(copy) == str(original)
    assert copy.kwargs == original.kwargs
    if issubclass(cls, ours.HTTPClientError):
        assert copy.request == {"url": "u"} and copy.response == ("r", 1)


@pytest.mark.differential
def test_http_client_error_attributes_match_botocore():
    error = ValueError("socket closed")
    mine = ours.HTTPClientError(error=error)
    theirs = boto.HTTPClientError(error=error)
    assert str(mine) == str(theirs)
    assert mine.request is None and mine.response is None
    mine = ours.ReadTimeoutError(request="req", endpoint_url="https://e")
    assert mine.request == "req" and mine.kwargs == {"endpoint_url": "https://e"}


def _responses():
    for error in (None, {}, {"Code": "ModelError"}, {"Message": "m"}, {"Code": "C", "Message": 5}):
        for metadata in (
            None,
            {},
            {"RetryAttempts": 4},
            {"RetryAttempts": 4, "MaxAttemptsReached": True},
            {"RetryAttempts": 0, "MaxAttemptsReached": True},
            {"MaxAttemptsReached": True},
            {"RetryAttempts": 2, "MaxAttemptsReached": False},
            {"RetryAttempts": 2, "MaxAttemptsReached": 1},
        ):
            response = {}
            if error is not None:
                response["Error"] = error
            if metadata is not None:
                response["ResponseMetadata"] = metadata
            yield response


@pytest.mark.differential
@pytest.mark.parametrize("response", list(_responses()))
@pytest.mark.parametrize("name", ["ClientError", "ModelError", "EventStreamError"])
def test_client_error_message_matches_botocore(name, response):
    mine = getattr(ours, name)(response, "InvokeEndpoint")
    theirs = boto.ClientError(response, "InvokeEndpoint")
    assert str(mine) == str(theirs)
    assert mine.args == theirs.args
    assert mine.response is response
    assert mine.operation_name == "InvokeEndpoint"
    assert mine.MSG_TEMPLATE == boto.ClientError.MSG_TEMPLATE


def test_retry_info_text():
    response = {
        "Error": {"Code": "ThrottlingException", "Message": "slow down"},
        "ResponseMetadata": {"RetryAttempts": 4, "MaxAttemptsReached": True},
    }
    assert str(ours.ClientError(response, "InvokeEndpoint")) == (
        "An error occurred (ThrottlingException) when calling the InvokeEndpoint operation "
        "(reached max retries: 4): slow down"
    )


@pytest.mark.differential
def test_client_error_pickling():
    response = {"Error": {"Code": "ModelError", "Message": "m"}, "ResponseMetadata": {}}
    for name in ["ClientError", "EventStreamError"] + MODELED:
        original = getattr(ours, name)(response, "InvokeEndpoint")
        copy = pickle.loads(pickle.dumps(original))
        # Deliberate: our modeled classes are module attributes, so they survive pickling
        # (botocore's are per-client and come back as plain ClientError).
        assert type(copy) is getattr(ours, name)
        assert copy.response == response and copy.operation_name == "InvokeEndpoint"
        assert str(copy) == str(original)
    theirs = pickle.loads(pickle.dumps(BOTO_CLIENT_EXCEPTIONS.ModelError(response, "Op")))
    assert type(theirs) is boto.ClientError

    class Mine(ours.ModelError):
        pass

    copy = pickle.loads(pickle.dumps(Mine(response, "InvokeEndpoint")))
    assert type(copy) is ours.ClientError


# ----------------------------------------------------------- client.exceptions


@pytest.mark.differential
def test_client_exceptions_match_botocore():
    exceptions = ours.ClientExceptions()
    theirs = BOTO_CLIENT_EXCEPTIONS
    assert [c.__name__ for c in theirs._code_to_exception.values()] == MODELED
    assert exceptions.ClientError is ours.ClientError
    for code, cls in theirs._code_to_exception.items():
        assert exceptions.from_code(code) is getattr(ours, cls.__name__)
        assert getattr(exceptions, cls.__name__) is getattr(ours, cls.__name__)
        assert ours.ClientExceptions.from_code(code) is getattr(ours, code)
    for code in ("", "Throttling", "modelerror", "ModelError ", None, 5, "ClientError"):
        assert exceptions.from_code(code) is ours.ClientError
        assert theirs.from_code(code) is boto.ClientError
    with pytest.raises(TypeError):
        theirs.from_code(["x"])
    with pytest.raises(TypeError):
        exceptions.from_code(["x"])


def test_client_exceptions_unknown_attribute_message():
    with pytest.raises(AttributeError) as mine:
        ours.ClientExceptions().NoSuchThing  # noqa: B018
    with pytest.raises(AttributeError) as theirs:
        BOTO_CLIENT_EXCEPTIONS.NoSuchThing  # noqa: B018
    tail = " object has no attribute NoSuchThing. Valid exceptions are: " + ", ".join(MODELED)
    assert str(theirs.value).endswith(tail)
    assert str(mine.value).endswith(tail)


@pytest.mark.parametrize(
    "code, name",
    [(c, c) for c in MODELED]
    + [("", "ClientError"), ("Nope", "ClientError"), (None, "ClientError"), (["x"], "ClientError")]
    + [(5, "ClientError"), ("EventStreamError", "ClientError"), ("BotoCoreError", "ClientError")],
)
def test_error_class_for_code(code, name):
    assert ours.error_class_for_code(code) is getattr(ours, name)


# --------------------------------------------------------- one class per name


def test_one_class_object_per_name():
    from sagemaker_rt_c.exceptions import ModelError, ReadTimeoutError

    assert ModelError is ours.ModelError is ours.error_class_for_code("ModelError")
    assert ours.ClientExceptions.ModelError is ModelError
    assert ReadTimeoutError is ours.ReadTimeoutError
    assert ours.ClientExceptions is ours.ClientExceptions


def test_threads_racing_create_one_class_each():
    out = run_python(
        """
        import json, threading
        import sagemaker_rt_c.exceptions as E

        names = ["ModelError", "ReadTimeoutError", "ClientExceptions", "InvalidRegionError"]
        barrier = threading.Barrier(24)
        seen = []

        def grab():
            barrier.wait()
            seen.append([id(getattr(E, n)) for n in names])

        threads = [threading.Thread(target=grab) for _ in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps({"distinct": len({tuple(s) for s in seen}), "count": len(seen)}))
        """
    )
    assert json.loads(out) == {"distinct": 1, "count": 24}


# ------------------------------------------------------------------- import cost


def test_importing_does_not_import_botocore_or_json():
    out = run_python(
        """
        import json as _probe, sys
        del sys.modules["json"], _probe
        import sagemaker_rt_c
        before = set(sys.modules)
        import sagemaker_rt_c.exceptions
        import sagemaker_rt_c._protocol.errors, sagemaker_rt_c._protocol.validate
        print(sorted(set(sys.modules) - before))
        print("botocore" in sys.modules, "json" in sys.modules)
        """
    )
    new, loaded = out.splitlines()
    # _operations: the generated tables (plain literals) _validate's tables are made from.
    modules = [
        "sagemaker_rt_c._protocol",
        "sagemaker_rt_c._protocol.errors",
        "sagemaker_rt_c._protocol.operations",
        "sagemaker_rt_c._protocol.validate",
        "sagemaker_rt_c.exceptions",
    ]
    assert new == repr(modules)
    assert loaded == "False False"


def test_reload_keeps_one_class_per_name():
    out = run_python(
        """
        import importlib
        import sagemaker_rt_c.exceptions as E
        before = E.ModelError
        importlib.reload(E)
        print(E.ModelError is before, E.error_class_for_code("ModelError") is before)
        print(E.ClientExceptions.ModelError is before)
        """
    )
    assert out.split() == ["True", "True", "True"]


def test_first_class_access_uses_botocore_when_importable():
    out = run_python(
        """
        import sys
        import sagemaker_rt_c.exceptions as E
        assert "botocore" not in sys.modules
        E.ClientError
        import botocore.exceptions as b
        print(issubclass(E.ClientError, b.ClientError))
        """
    )
    assert out.strip() == "True"


# ------------------------------------------------------------- without botocore

NO_BOTOCORE_SCRIPT = """
import json, pickle, sys
expected = json.load(sys.stdin)
import sagemaker_rt_c.exceptions as E
from sagemaker_rt_c._protocol import errors as _errors, validate as _validate

classes = {n: getattr(E, n) for n in E.__all__ if n != "ClientExceptions"}
builtins = {
    "Exception": Exception,
    "ValueError": ValueError,
    "OSError": OSError,
    "AssertionError": AssertionError,
    "LookupError": LookupError,
}
out = {"relations": {}, "messages": {}, "pickled": {}, "bases": []}
for key in expected["relations"]:
    a, b = key.split(" ")
    out["relations"][key] = issubclass(classes[a], classes.get(b) or builtins[b])
for name, kwargs in expected["kwargs"].items():
    err = classes[name](**kwargs)
    out["messages"][name] = str(err)
    copy = pickle.loads(pickle.dumps(err))
    out["pickled"][name] = [type(copy) is type(err), str(copy), copy.kwargs]
for cls in classes.values():
    for base in cls.__mro__:
        if base.__module__ not in ("sagemaker_rt_c.exceptions", "builtins"):
            out["bases"].append(f"{cls.__name__}: {base.__module__}.{base.__name__}")

out["client_errors"] = [
    str(E.ModelError(response, "InvokeEndpoint")) for response in expected["responses"]
]
modeled = E.ModelError({"Error": {"Code": "ModelError"}}, "InvokeEndpoint")
out["modeled_pickle"] = type(pickle.loads(pickle.dumps(modeled))) is E.ModelError
exceptions = E.ClientExceptions()
out["from_code"] = [
    exceptions.from_code("ModelError") is E.ModelError,
    exceptions.from_code("Other") is E.ClientError,
    E.error_class_for_code("ValidationError") is E.ValidationError,
]
try:
    _validate.validate("InvokeEndpoint", {"Body": 5, "ContentType": "a\\nb"})
except E.ParamValidationError as e:
    out["validation"] = [str(e), isinstance(e, E.BotoCoreError)]
out["parsed"] = _errors.parse_error_response(
    424, {"x-amzn-errortype": "ModelError"}, b'{"Message": "m", "OriginalStatusCode": 500}'
)
out["modules"] = sorted(m for m in sys.modules if m.startswith("botocore"))
print(json.dumps(out))
"""


@pytest.mark.differential
def test_everything_works_without_botocore():
    responses = [
        r for r in _responses() if "Error" in r and isinstance(r["Error"].get("Message", ""), str)
    ]
    kwargs = {n: sample_kwargs(twin(n)) for n in BOTOCORE_FAMILY if "ClientError" not in n}
    kwargs.pop("EventStreamError")
    expected = {"relations": relation_table(), "kwargs": kwargs, "responses": responses}
    out = json.loads(run_python(NO_BOTOCORE_SCRIPT, json.dumps(expected), block_botocore=True))

    assert out["modules"] == []
    assert out["bases"] == []
    assert out["relations"] == expected["relations"]
    for name, kw in kwargs.items():
        assert out["messages"][name] == str(twin(name)(**kw)), name
        assert out["pickled"][name] == [True, out["messages"][name], kw], name
    assert out["client_errors"] == [str(boto.ClientError(r, "InvokeEndpoint")) for r in responses]
    assert out["modeled_pickle"] is True
    assert out["from_code"] == [True, True, True]
    assert out["validation"] == [
        "Parameter validation failed:\n"
        'Missing required parameter in input: "EndpointName"\n'
        "Invalid type for parameter Body, value: 5, type: <class 'int'>, "
        "valid types: <class 'bytes'>, <class 'bytearray'>, file-like object\n"
        "Invalid header value for parameter ContentType: contains line feed (U+000A) at "
        "index 1; header values must be printable ASCII",
        True,
    ]
    assert out["parsed"] == {
        "Error": {"Message": "m", "Code": "ModelError"},
        "ResponseMetadata": {
            "HTTPStatusCode": 424,
            "HTTPHeaders": {"x-amzn-errortype": "ModelError"},
        },
        "Message": "m",
        "OriginalStatusCode": 500,
    }
