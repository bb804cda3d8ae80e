"""The client side of credential refresh: the C core asks the Python layer for fresh
credentials once the advisory deadline passes; botocore's RefreshableCredentials decides."""

import datetime
import threading

import pytest
from conftest import make_ours
from servers import Reply


def utc_in(seconds):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)


class Source:
    """A refresh function handing out numbered credentials with chosen lifetimes."""

    def __init__(self, lifetimes, fail_after=None, gate=None):
        self.lifetimes = list(lifetimes)
        self.calls = 0
        self.fail_after = fail_after
        self.gate = gate
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.calls += 1
            n = self.calls
        if self.gate is not None:
            self.gate.wait(5)
        if self.fail_after is not None and n > self.fail_after:
            raise RuntimeError("the credential source is down")
        life = self.lifetimes[min(n - 1, len(self.lifetimes) - 1)]
        return {
            "access_key": f"AK{n}",
            "secret_key": f"SK{n}",
            "token": f"TOKEN{n}",
            "expiry_time": utc_in(life).isoformat(),
        }


def client_with(server, creds):
    from sagemaker_rt_c._client import SageMakerRuntime
    from sagemaker_rt_c.session import _resolve_client_settings as resolve_client_settings

    settings = resolve_client_settings(
        "sagemaker-runtime",
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="unused",
        aws_secret_access_key="unused",
    )
    settings.credentials = creds
    return SageMakerRuntime(settings)


def botocore_refreshable(source):
    from botocore.credentials import RefreshableCredentials

    return RefreshableCredentials.create_from_metadata(source(), source, "test")


def signed_with(req):
    return req.header("Authorization").split("Credential=")[1].split("/")[0]


def test_building_a_client_runs_no_provider(server):
    from botocore.credentials import DeferredRefreshableCredentials

    source = Source([3600])
    creds = DeferredRefreshableCredentials(source, "test")
    client = client_with(server, creds)
    assert source.calls == 0
    client.invoke_endpoint(EndpointName="e", Body=b"")
    assert source.calls == 1
    assert signed_with(server.last) == "AK1"
    assert server.last.header("X-Amz-Security-Token") == "TOKEN1"


def test_fresh_credentials_are_not_refreshed(server):
    source = Source([3600])
    client = client_with(server, botocore_refreshable(source))
    for _ in range(5):
        client.invoke_endpoint(EndpointName="e", Body=b"")
    assert source.calls == 1
    assert signed_with(server.last) == "AK1"


def test_advisory_window_refreshes(server):
    source = Source([12 * 60, 3600])  # inside the 15-minute advisory window
    client = client_with(server, botocore_refreshable(source))
    client.invoke_endpoint(EndpointName="e", Body=b"")
    assert source.calls == 2
    assert signed_with(server.last) == "AK2"
    client.invoke_endpoint(EndpointName="e", Body=b"")
    assert source.calls == 2


def test_failed_advisory_refresh_keeps_valid_credentials(server):
    source = Source([12 * 60], fail_after=1)
    client = client_with(server, botocore_refreshable(source))
    client.invoke_endpoint(EndpointName="e", Body=b"")
    assert signed_with(server.last) == "AK1"
    assert source.calls >= 2  # tried, failed, kept AK1


def test_failed_mandatory_refresh_fails_the_call(server):
    source = Source([5 * 60], fail_after=1)  # inside the 10-minute mandatory window
    client = client_with(server, botocore_refreshable(source))
    with pytest.raises(Exception, match="credential source is down"):
        client.invoke_endpoint(EndpointName="e", Body=b"")
    assert server.requests == []


def test_one_refresh_for_many_threads(server):
    """Expired credentials, 16 threads: one refresh, every call signed with the new ones."""
    gate = threading.Event()
    source = Source([60, 3600])
    creds = botocore_refreshable(source)  # first credentials: 60 s left, mandatory
    source.gate = gate
    client = client_with(server, creds)
    errors = []

    def call():
        try:
            client.invoke_endpoint(EndpointName="e", Body=b"")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert errors == []
    assert source.calls == 2
    assert {signed_with(r) for r in server.requests} == {"AK2"}
    assert len(server.requests) == 16


def test_static_credentials_need_no_refresh(server):
    server.default = Reply(200, [], b"ok")
    client = make_ours(endpoint_url=server.url)
    client._refresh_credentials = None  # would fail if the C core called it
    client.invoke_endpoint(EndpointName="e", Body=b"")
    assert signed_with(server.last) == "AKIDEXAMPLE"
