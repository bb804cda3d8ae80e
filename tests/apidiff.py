"""One call through sagemaker_rt_c and through boto3, described for comparison.

Ours runs first; botocore's clock is then set to the second we signed in, so boto3's
Authorization (signature included) and presigned URLs must equal ours byte for byte. A
request is described by what the scripted server read: the request line as sent, the headers
in wire order (without those that differ by design: User-Agent, amz-sdk-invocation-id,
amz-sdk-request) and the body. Retry back-offs are skipped on both sides.
"""

import contextlib
import datetime
import io
import re
from unittest import mock

import botocore.auth
import botocore.endpoint

BY_DESIGN = {"user-agent", "amz-sdk-invocation-id", "amz-sdk-request"}
_AMZ_DATE = re.compile(r"X-Amz-Date=(\d{8}T\d{6}Z)")


@contextlib.contextmanager
def botocore_clock(amz_date):
    """botocore's signers read the time through botocore.auth.get_current_datetime."""
    if amz_date is None:
        yield
        return
    when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")

    def now(remove_tzinfo=True):
        return when if remove_tzinfo else when.replace(tzinfo=datetime.timezone.utc)

    with mock.patch.object(botocore.auth, "get_current_datetime", now):
        yield


@contextlib.contextmanager
def no_boto3_backoff():
    """botocore's endpoint sleeps between attempts with time.sleep (its only use of time)."""
    with mock.patch.object(botocore.endpoint, "time", mock.Mock(sleep=lambda seconds: None)):
        yield


def outcome(fn):
    """("ok", value) or ("error", class name, message)."""
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return ("error", type(e).__name__, str(e))


def wire(req):
    """(request line, headers without the by-design ones, body) as the server read them."""
    head = req.raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = []
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.lower() not in BY_DESIGN:
            # Without the optional whitespace around a field value (RFC 9110 5.5).
            headers.append((name, value.strip(" \t")))
    return head[0], headers, req.body


def response_view(response):
    """A response dict with its Body read."""
    out = dict(response)
    body = out.pop("Body", None)
    out["Body"] = body.read() if body is not None else None
    return out


def materialise(params):
    """A fresh copy of generated parameters: ("file", bytes) becomes a new BytesIO."""
    if not isinstance(params, dict):
        return params
    out = {}
    for k, v in params.items():
        if isinstance(v, tuple) and len(v) == 2 and v[0] == "file":
            v = io.BytesIO(v[1])
        elif isinstance(v, dict):
            v = materialise(v)
        out[k] = v
    return out


def invoke_both(
    server,
    ours_client,
    boto3_client,
    params,
    ours_params=None,
    their_params=None,
    method="invoke_endpoint",
):
    """Call ``method`` (invoke_endpoint unless told) on both (with ``params``, or
    ``ours_params`` / ``their_params``); returns (ours, theirs), each (outcome, requests)."""
    ours_params = params if ours_params is None else ours_params
    their_params = params if their_params is None else their_params
    ours_client._sleep = lambda seconds: None
    start = len(server.requests)
    ours_call = getattr(ours_client, method)
    their_call = getattr(boto3_client, method)
    ours = outcome(lambda: response_view(ours_call(**materialise(ours_params))))
    ours_requests = [wire(r) for r in server.requests[start:]]
    sent = server.requests[start:]
    date = sent[0].header("X-Amz-Date") if sent else None
    start = len(server.requests)
    with botocore_clock(date), no_boto3_backoff():
        theirs = outcome(
            lambda: response_view(their_call(**materialise(their_params)))
        )
    theirs_requests = [wire(r) for r in server.requests[start:]]
    return (ours, ours_requests), (theirs, theirs_requests)


def presign_both(ours_client, boto3_client, *args, **kwargs):
    """generate_presigned_url on both, boto3 at the second ours signed in."""
    ours = outcome(lambda: ours_client.generate_presigned_url(*args, **materialise(kwargs)))
    date = None
    if ours[0] == "ok":
        found = _AMZ_DATE.search(ours[1])
        date = found.group(1) if found else None
    with botocore_clock(date):
        theirs = outcome(lambda: boto3_client.generate_presigned_url(*args, **materialise(kwargs)))
    return ours, theirs
