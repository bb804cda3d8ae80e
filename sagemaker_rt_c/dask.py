"""Batch inference over a Dask DataFrame: ``invoke_endpoint`` for each row, on the workers.

    import dask.dataframe as dd
    import sagemaker_rt_c.dask

    reviews = dd.read_parquet("s3://bucket/reviews/")            # a column "text"
    scored = sagemaker_rt_c.dask.invoke_endpoint(
        reviews, "sentiment", body="text", ContentType="application/json")
    scored.to_parquet("s3://bucket/scored/")                      # lazy until here

Each partition runs ``client.invoke_endpoint_batch`` on the worker that holds it, with the
given client (pickled: see below) or, without one, ``sagemaker_rt_c.client(
'sagemaker-runtime')`` made on the worker (its region and credentials from the worker's
environment). Needs the ``dask`` extra: ``pip install 'sagemaker_rt_c[dask]'``.
``import sagemaker_rt_c`` never imports this module or Dask.

A client travels to the workers as what it was built from (region, endpoint_url, config,
profile name, and its keys only when given explicitly to ``client()``); each worker process
makes one client per distinct pickled client, with the credentials it finds itself (instance
role, container credentials, environment), and reuses it for every partition it runs.
"""

import collections
import json

try:
    import dask.dataframe as dd
    import numpy as np
    import pandas as pd
    import pyarrow as pa
except ImportError as e:  # pragma: no cover - exercised in a fresh interpreter by the tests
    raise ImportError(
        "sagemaker_rt_c.dask needs Dask's DataFrame: pip install 'sagemaker_rt_c[dask]' "
        f"(missing: {e.name})"
    ) from e

from . import _pickling
from ._batch import _check
from ._protocol.operations import OPERATIONS

__all__ = ["invoke_endpoint", "RESULT_COLUMNS", "RESULT_DTYPES"]

# The columns added to the input's, in this order, and their dtypes: Arrow's, so that a missing
# value is <NA> in every column, the bodies are held in Arrow buffers (not a Python object per
# row), and to_parquet needs no schema (Dask's cannot infer one for object columns).
RESULT_COLUMNS = ("Body", "ContentType", "InvokedProductionVariant", "Error", "ErrorMessage")
BINARY = pd.ArrowDtype(pa.large_binary())
STRING = pd.ArrowDtype(pa.large_string())
RESULT_DTYPES = {
    "Body": BINARY,
    "ContentType": STRING,
    "InvokedProductionVariant": STRING,
    "Error": STRING,
    "ErrorMessage": STRING,
}

# invoke_endpoint's parameters that **invoke_kwargs may set (the same for every row).
_PARAMETERS = frozenset(
    m["name"] for m in OPERATIONS["InvokeEndpoint"]["members"] if m["name"] != "Body"
) - {"EndpointName"}

# The error code of a row whose body could not be made into a request (never sent).
INVALID_INPUT = "InvalidInput"


def invoke_endpoint(
    ddf, EndpointName, body="body", client=None, max_concurrency=32, **invoke_kwargs
):
    """A lazy Dask DataFrame: ``ddf``'s columns and index, plus the answer to each row.

    ``body``: the name of the column whose values are the request bodies: ``bytes`` (also
    bytearray, memoryview) are sent as they are, ``str`` as UTF-8, a missing value (None,
    NaN, ``pd.NA``) is not sent (an ``InvalidInput`` error row), any other value is sent as
    compact JSON (``json.dumps``; NumPy scalars and arrays as their Python values; a value
    JSON cannot encode, NaN inside included, is an ``InvalidInput`` row). Set
    ``ContentType`` yourself (e.g. ``'application/json'``).

    ``invoke_kwargs``: the other ``invoke_endpoint`` parameters (``ContentType``,
    ``Accept``, ``CustomAttributes``, ``TargetModel``, ``TargetVariant``,
    ``InferenceComponentName`` ...), the same for every row.

    ``client``: the sagemaker_rt_c client to use as the template (pickled to the workers:
    its keys travel only if given explicitly to ``client()``), or None for
    ``sagemaker_rt_c.client('sagemaker-runtime')`` made on each worker.

    ``max_concurrency``: calls in flight per partition being computed (1 to 1024, or
    ``'auto'``): a worker running T partitions at once (``threads_per_worker``) has up to
    T x max_concurrency calls in flight.

    Added columns, in Arrow dtypes (``RESULT_DTYPES``: a missing value is ``<NA>``, None in
    ``to_dict()``; ``to_parquet`` needs no schema): ``Body`` (the response's bytes,
    ``large_binary[pyarrow]``), ``ContentType``, ``InvokedProductionVariant``, ``Error``
    (``<NA>`` for a success, else the error code: the service's, such as ``ModelError`` or
    ``ThrottlingException`` after the client's retries, the client's exception name, such
    as ``ReadTimeoutError``, or ``InvalidInput``) and ``ErrorMessage`` (``large_string``).
    Every row is answered exactly once, in place; an error is a value, never a failed
    partition. A partition that Dask computes again (a worker lost) sends the same
    requests again and gives the same rows for a deterministic model.
    """
    if not isinstance(ddf, dd.DataFrame):
        raise TypeError(f"invoke_endpoint: ddf must be a dask DataFrame, not {type(ddf).__name__}")
    if not isinstance(EndpointName, str):
        raise TypeError(
            f"invoke_endpoint: EndpointName must be a str, not {type(EndpointName).__name__}"
        )
    columns = list(ddf.columns)
    if body not in columns:
        raise KeyError(f"invoke_endpoint: no column {body!r} in the DataFrame (body=)")
    taken = [c for c in RESULT_COLUMNS if c in columns]
    if taken:
        raise ValueError(
            f"invoke_endpoint: the DataFrame already has column(s) {taken}, which the result "
            f"adds ({', '.join(RESULT_COLUMNS)}); rename them first"
        )
    unknown = sorted(set(invoke_kwargs) - _PARAMETERS)
    if unknown:
        raise TypeError(
            f"invoke_endpoint: unexpected keyword argument(s) {unknown}; invoke_endpoint's "
            f"parameters are {sorted(_PARAMETERS)} (Body comes from the body= column)"
        )
    _check(max_concurrency, None)
    if client is not None:
        if not callable(getattr(client, "invoke_endpoint_batch", None)):
            raise TypeError(
                "invoke_endpoint: client must be a sagemaker_rt_c client (or None), not "
                f"{type(client).__name__}"
            )
        import pickle

        pickle.dumps(client)  # a client that cannot travel fails here, not on the workers

    empty = ddf._meta.index
    meta = ddf._meta.assign(**{c: _column(c, [], empty) for c in RESULT_COLUMNS})
    return ddf.map_partitions(
        _invoke_partition,
        client,
        EndpointName,
        body,
        max_concurrency,
        dict(invoke_kwargs),
        meta=meta,
        token="sagemaker-invoke-endpoint",
    )


def _default_client():
    import sagemaker_rt_c

    return _pickling.cached(
        ("dask-default-client",), lambda: sagemaker_rt_c.client("sagemaker-runtime")
    )


def _json_default(value):
    tolist = getattr(value, "tolist", None)  # NumPy scalars and arrays
    if tolist is not None and callable(tolist):
        return tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _payload(value):
    """The request body for a cell: (body, None), or (None, why it cannot be sent)."""
    if isinstance(value, (bytes, str, bytearray, memoryview)):
        return value, None
    if value is None or value is pd.NA or value is pd.NaT:
        return None, f"the body is missing ({value!r})"
    if isinstance(value, (float, np.floating)) and value != value:
        return None, "the body is missing (nan)"
    try:
        return json.dumps(
            value, default=_json_default, allow_nan=False, separators=(",", ":")
        ), None
    except (TypeError, ValueError, OverflowError) as e:
        return None, f"the body cannot be sent as JSON: {e}"


def _describe(exc):
    """(code, message) of an exception a call raised."""
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    if isinstance(error, dict):
        return str(error.get("Code") or "Unknown"), str(error.get("Message") or "")
    return type(exc).__name__, str(exc)


def _column(name, values, index):
    return pd.Series(pd.array(values, dtype=RESULT_DTYPES[name]), index=index, copy=False)


def _invoke_partition(part, client, endpoint_name, body, max_concurrency, invoke_kwargs):
    """One partition, on a worker: its rows' requests through one invoke_endpoint_batch."""
    rt = client if client is not None else _default_client()
    n = len(part)
    bodies = [None] * n
    content_types = [None] * n
    variants = [None] * n
    codes = [None] * n
    messages = [None] * n
    sent = collections.deque()  # row positions of the requests given to the batch, in order

    def requests():
        for i, value in enumerate(part[body].tolist()):
            payload, why = _payload(value)
            if why is not None:
                codes[i] = INVALID_INPUT
                messages[i] = why
                continue
            sent.append(i)
            request = dict(invoke_kwargs)
            request["EndpointName"] = endpoint_name
            request["Body"] = payload
            yield request

    answered = 0
    with rt.invoke_endpoint_batch(requests(), max_concurrency=max_concurrency) as results:
        for result in results:
            i = sent.popleft()
            answered += 1
            if isinstance(result, BaseException):
                codes[i], messages[i] = _describe(result)
            else:
                bodies[i] = result["Body"]
                content_types[i] = result.get("ContentType")
                variants[i] = result.get("InvokedProductionVariant")
    if sent:  # never: the batch answers every request it takes
        raise RuntimeError(f"invoke_endpoint_batch answered {answered} of {answered + len(sent)}")
    index = part.index
    return part.assign(
        Body=_column("Body", bodies, index),
        ContentType=_column("ContentType", content_types, index),
        InvokedProductionVariant=_column("InvokedProductionVariant", variants, index),
        Error=_column("Error", codes, index),
        ErrorMessage=_column("ErrorMessage", messages, index),
    )
