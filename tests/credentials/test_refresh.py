"""Refreshable credentials: botocore's windows and locking, then end to end through a client.

The semantics tests drive ours and botocore's ``RefreshableCredentials`` with the same fake
clock and the same refresh outcomes (success, failure, still-expired answer) at every point
around the advisory (15 min) and mandatory (10 min) windows, and compare what each returns
or raises and how often it refreshed. The thread tests check the lock: one refresh for many
threads; advisory refreshes never hold other threads up; mandatory ones hold them up for
one refresh. The client tests send real requests to a loopback server and read the access
key each one was signed with.
"""

import datetime
import threading
import time

import botocore.credentials as bc
import pytest
from credfakes import FakeSTS, iso, utc_in, write
from servers import Delay, Reply, ScriptedServer

import sagemaker_rt_c
from sagemaker_rt_c import credentials as ours
from sagemaker_rt_c import exceptions

UTC = datetime.timezone.utc
START = datetime.datetime(2030, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now


class Refresher:
    """Generation n answers AK<n>; ``outcome`` is "ok", "fail" or "expired"."""

    def __init__(self, clock, outcome="ok", delay=0.0, lifetime=3600):
        self.clock = clock
        self.outcome = outcome
        self.delay = delay
        self.lifetime = lifetime
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.calls += 1
            n = self.calls
        if self.delay:
            time.sleep(self.delay)
        if self.outcome == "fail":
            raise RuntimeError(f"refresh {n} failed")
        lifetime = -60 if self.outcome == "expired" else self.lifetime
        return {
            "access_key": f"AK{n}",
            "secret_key": f"SK{n}",
            "token": f"TK{n}",
            "expiry_time": iso(self.clock() + datetime.timedelta(seconds=lifetime)),
        }


def make(module, clock, remaining, refresher, **kwargs):
    return module.RefreshableCredentials(
        "AK0",
        "SK0",
        "TK0",
        clock() + datetime.timedelta(seconds=remaining),
        refresher,
        "test",
        time_fetcher=clock,
        **kwargs,
    )


def outcome_of(module, remaining, outcome):
    clock = Clock()
    refresher = Refresher(clock, outcome)
    creds = make(module, clock, remaining, refresher)
    needed = (creds.refresh_needed(), creds.refresh_needed(600), creds.refresh_needed(0))
    try:
        frozen = tuple(creds.get_frozen_credentials())
        result = ("ok", frozen)
    except Exception as e:
        result = ("error", type(e).__name__, str(e))
    return needed, result, refresher.calls, creds._expiry_time.isoformat()


@pytest.mark.differential
@pytest.mark.parametrize("remaining", [3600, 901, 900, 899, 601, 600, 599, 1, 0, -30])
@pytest.mark.parametrize("outcome", ["ok", "fail", "expired"])
def test_windows_match_botocore(remaining, outcome):
    assert outcome_of(ours, remaining, outcome) == outcome_of(bc, remaining, outcome)


def test_advisory_failure_keeps_credentials_and_logs(caplog):
    clock = Clock()
    creds = make(ours, clock, 700, Refresher(clock, "fail"))
    with caplog.at_level("WARNING"):
        assert creds.get_frozen_credentials().access_key == "AK0"
    assert "advisory refresh period" in caplog.text
    assert "SK0" not in caplog.text and "TK0" not in caplog.text


def test_mandatory_failure_raises_the_refresh_error():
    clock = Clock()
    creds = make(ours, clock, 300, Refresher(clock, "fail"))
    with pytest.raises(RuntimeError, match="refresh 1 failed"):
        creds.get_frozen_credentials()


def test_custom_windows_and_properties():
    clock = Clock()
    refresher = Refresher(clock)
    creds = make(ours, clock, 100, refresher, advisory_timeout=60, mandatory_timeout=30)
    assert creds.access_key == "AK0" and refresher.calls == 0
    clock.now += datetime.timedelta(seconds=50)
    assert creds.secret_key == "SK1" and creds.token == "TK1" and refresher.calls == 1
    assert creds._expiry_time == clock.now + datetime.timedelta(seconds=3600)
    assert creds._expiry_time.tzinfo is not None


class _NoGet:
    """A mapping with ``in`` and ``[]`` but no ``get``."""

    def __init__(self, data):
        self._data = data

    def __contains__(self, key):
        return key in self._data

    def __getitem__(self, key):
        return self._data[key]


def broken_refresh(kind):
    """A refresh answer that fails part-way through being applied."""

    def answer(clock):
        data = {
            "access_key": "AK1",
            "secret_key": "SK1",
            "token": "TK1",
            "expiry_time": iso(clock() + datetime.timedelta(seconds=3600)),
        }
        if kind == "unparseable-expiry":
            data["expiry_time"] = "soon-ish"
        elif kind == "impossible-expiry":
            data["expiry_time"] = "2030-02-30T00:00:00Z"
        elif kind == "expiry-not-a-string":
            data["expiry_time"] = 1893456000
        elif kind == "answer-without-get":
            # Fails on data.get("account_id"), after the new expiry was parsed: botocore 1.43
            # had moved the expiry forward by then, and the old frozen keys looked fresh for
            # another hour; 1.44 keeps the old expiry, so the next use tries again.
            return _NoGet(data)
        elif kind == "key-not-utf8":
            # Ours decodes bytes keys (botocore's ensure_unicode is a no-op on Python 3: it
            # keeps bytes and signs with "b'...'"); the decoding fails after the new expiry
            # was parsed, where botocore 1.43 had already moved the expiry forward.
            data["access_key"] = b"AK\xff"
        return data

    return answer


def state_after_broken_refresh(module, kind, remaining):
    clock = Clock()
    answer = broken_refresh(kind)
    calls = []

    def refresh():
        calls.append(1)
        return answer(clock)

    creds = make(module, clock, remaining, refresh)
    before = creds._expiry_time
    outcomes = []
    for _ in range(2):
        try:
            outcomes.append(("ok", tuple(creds.get_frozen_credentials())))
        except Exception as e:
            outcomes.append(("error", type(e).__name__, str(e)))
    return (
        outcomes,
        len(calls),
        tuple(creds._frozen_credentials),
        creds._expiry_time == before,
        creds._staged_expiry_time,
        # botocore has already set the attributes the properties read (unlocked), as ours:
        (creds._access_key, creds._secret_key, creds._token),
        creds.refresh_needed(),
    )


@pytest.mark.differential
@pytest.mark.parametrize(
    "kind",
    ["unparseable-expiry", "impossible-expiry", "expiry-not-a-string", "answer-without-get"],
)
@pytest.mark.parametrize("remaining", [300, 700], ids=["mandatory", "advisory"])
def test_refresh_failing_part_way_keeps_old_credentials_and_expiry(kind, remaining):
    # botocore 1.44 stages the new expiry and publishes it with the new frozen credentials.
    theirs = state_after_broken_refresh(bc, kind, remaining)
    assert state_after_broken_refresh(ours, kind, remaining) == theirs
    outcomes, calls, frozen, expiry_unchanged, staged, _, needed = theirs
    # Raised in either window (the failure is after the refresh call), every time: the old
    # expiry stays, so the next use tries again.
    assert [o[0] for o in outcomes] == ["error", "error"] and calls == 2
    assert frozen == ("AK0", "SK0", "TK0", None)
    assert expiry_unchanged and staged is None and needed


@pytest.mark.parametrize("remaining", [300, 700], ids=["mandatory", "advisory"])
def test_key_failing_to_decode_after_the_expiry_parsed_keeps_the_old_expiry(remaining):
    outcomes, calls, frozen, expiry_unchanged, staged, _, needed = state_after_broken_refresh(
        ours, "key-not-utf8", remaining
    )
    assert [o[:2] for o in outcomes] == [("error", "UnicodeDecodeError")] * 2 and calls == 2
    assert frozen == ("AK0", "SK0", "TK0", None)
    assert expiry_unchanged and staged is None and needed


def test_unparseable_expiry_raises_dateutils_parser_error():
    import dateutil.parser

    clock = Clock()
    creds = make(ours, clock, 300, lambda: broken_refresh("unparseable-expiry")(clock))
    with pytest.raises(dateutil.parser.ParserError, match="^Unknown string format: soon-ish$"):
        creds.get_frozen_credentials()


@pytest.mark.differential
@pytest.mark.parametrize("module", [ours, bc], ids=["ours", "botocore"])
def test_missing_keys_in_refresh_answer(module):
    clock = Clock()
    creds = make(module, clock, 0, lambda: {"access_key": "x"})
    with pytest.raises(Exception) as info:
        creds.get_frozen_credentials()
    assert type(info.value).__name__ == "CredentialRetrievalError"
    assert str(info.value) == (
        "Error when retrieving credentials from test: Credential refresh failed, response "
        "did not contain: secret_key, token, expiry_time"
    )


@pytest.mark.differential
def test_create_from_metadata_and_deferred_match_botocore():
    metadata = {
        "access_key": "AK",
        "secret_key": "SK",
        "token": "TK",
        "expiry_time": "2031-05-06T07:08:09Z",
        "account_id": "123",
    }
    mine = ours.RefreshableCredentials.create_from_metadata(metadata, dict, "m", 5, 3)
    theirs = bc.RefreshableCredentials.create_from_metadata(metadata, dict, "m", 5, 3)
    assert mine._expiry_time == theirs._expiry_time
    assert tuple(mine.get_frozen_credentials()) == tuple(theirs.get_frozen_credentials())
    for module in (ours, bc):
        clock = Clock()
        deferred = module.DeferredRefreshableCredentials(Refresher(clock), "d", clock)
        assert deferred.refresh_needed() and deferred._expiry_time is None
        assert deferred.get_frozen_credentials().access_key == "AK1"
        assert not deferred.refresh_needed()


def test_many_threads_one_refresh_in_the_mandatory_window():
    clock = Clock()
    refresher = Refresher(clock, delay=0.2)
    creds = make(ours, clock, 60, refresher)
    barrier = threading.Barrier(16)
    results = []

    def worker():
        barrier.wait()
        results.append(creds.get_frozen_credentials())

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert refresher.calls == 1
    assert {tuple(r) for r in results} == {("AK1", "SK1", "TK1", None)}


def test_advisory_refresh_does_not_hold_other_threads_up():
    clock = Clock()
    started, release = threading.Event(), threading.Event()

    def slow_refresh():
        started.set()
        release.wait(10)
        return Refresher(clock)()

    creds = make(ours, clock, 700, slow_refresh)
    refresher_thread = threading.Thread(target=creds.get_frozen_credentials)
    refresher_thread.start()
    assert started.wait(5)
    # The refresh is stuck: the other callers still get the current credentials at once.
    t0 = time.monotonic()
    for _ in range(100):
        assert creds.get_frozen_credentials().access_key == "AK0"
    assert time.monotonic() - t0 < 1.0
    release.set()
    refresher_thread.join()
    assert creds.get_frozen_credentials().access_key == "AK1"


def test_snapshots_are_consistent_while_refreshing():
    clock = Clock()
    refresher = Refresher(clock, lifetime=0)
    creds = make(ours, clock, 0, refresher, advisory_timeout=1, mandatory_timeout=1)
    mixed = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            frozen = creds.get_frozen_credentials()
            if frozen.access_key[2:] != frozen.secret_key[2:] or (
                frozen.secret_key[2:] != frozen.token[2:]
            ):
                mixed.append(frozen)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    assert refresher.calls > 10 and mixed == []


# --- through a client -----------------------------------------------------------------------------


def signer(request):
    return request.header("authorization").split("Credential=", 1)[1].split("/", 1)[0]


def real_refresher(lifetime=3600, delay=0.0, fail=False):
    calls = []

    def refresh():
        calls.append(time.monotonic())
        if delay:
            time.sleep(delay)
        if fail:
            raise RuntimeError("STS is down")
        n = len(calls)
        return {
            "access_key": f"AKIDGEN{n}",
            "secret_key": f"secret{n}",
            "token": f"token{n}",
            "expiry_time": iso(utc_in(lifetime)),
        }

    return refresh, calls


def make_client(server, credentials):
    return sagemaker_rt_c.client(
        "sagemaker-runtime",
        region_name="us-east-1",
        endpoint_url=server.url,
        credentials=credentials,
    )


def invoke(client):
    client.invoke_endpoint(EndpointName="ep", Body=b"{}", ContentType="application/json")


@pytest.mark.slow
def test_client_refreshes_when_the_advisory_window_opens(server):
    refresh, calls = real_refresher()
    creds = ours.RefreshableCredentials(
        "AKIDGEN0", "secret0", "token0", utc_in(900 + 1.5), refresh, "test"
    )
    client = make_client(server, creds)
    invoke(client)
    invoke(client)
    time.sleep(1.7)
    invoke(client)
    invoke(client)
    assert [signer(r) for r in server.requests] == ["AKIDGEN0"] * 2 + ["AKIDGEN1"] * 2
    assert len(calls) == 1
    assert server.requests[-1].header("x-amz-security-token") == "token1"


@pytest.mark.slow
def test_client_threads_share_one_refresh_and_are_not_held_up(server):
    refresh, calls = real_refresher(delay=1.0)
    creds = ours.RefreshableCredentials(
        "AKIDGEN0", "secret0", "token0", utc_in(700), refresh, "test"
    )
    client = make_client(server, creds)
    stamps = []
    lock = threading.Lock()

    def worker():
        for _ in range(20):
            t0 = time.monotonic()
            invoke(client)
            with lock:
                stamps.append((t0, time.monotonic()))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    keys = [signer(r) for r in server.requests]
    assert set(keys) == {"AKIDGEN0", "AKIDGEN1"} and keys[-1] == "AKIDGEN1"
    # While the one-second refresh ran, other calls went on with the current credentials.
    during = [s for s in stamps if calls[0] < s[0] and s[1] < calls[0] + 1.0]
    assert len(during) >= 5
    assert max(end - start for start, end in during) < 0.5


def test_client_threads_wait_for_a_mandatory_refresh(server):
    refresh, calls = real_refresher(delay=0.5)
    creds = ours.RefreshableCredentials(
        "AKIDGEN0", "secret0", "token0", utc_in(120), refresh, "test"
    )
    client = make_client(server, creds)
    threads = [threading.Thread(target=invoke, args=(client,)) for _ in range(8)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    assert len(calls) == 1
    assert {signer(r) for r in server.requests} == {"AKIDGEN1"}
    assert 0.5 <= elapsed < 3.0


def test_client_keeps_credentials_when_an_advisory_refresh_fails(server):
    refresh, calls = real_refresher(fail=True)
    creds = ours.RefreshableCredentials(
        "AKIDGEN0", "secret0", "token0", utc_in(700), refresh, "test"
    )
    client = make_client(server, creds)
    invoke(client)
    invoke(client)
    assert [signer(r) for r in server.requests] == ["AKIDGEN0", "AKIDGEN0"]
    assert len(calls) >= 1


def test_client_raises_a_failed_mandatory_refresh(server):
    refresh, calls = real_refresher(fail=True)
    creds = ours.RefreshableCredentials(
        "AKIDGEN0", "secret0", "token0", utc_in(60), refresh, "test"
    )
    client = make_client(server, creds)
    with pytest.raises(RuntimeError, match="STS is down"):
        invoke(client)
    assert server.requests == []


@pytest.mark.slow
def test_client_with_assumed_role_refreshes_through_sts(monkeypatch, tmp_path, server):
    with FakeSTS(expires_in=900 + 2, unique=True) as sts:
        write(
            tmp_path / "config",
            "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n\n"
            "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
            "source_profile = base\nregion = us-west-2\n",
        )
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        client = sagemaker_rt_c.Session(profile_name="role").client(
            "sagemaker-runtime", endpoint_url=server.url
        )
        # Deferred: nothing is asked of STS until the first call.
        assert sts.calls == []
        invoke(client)
        invoke(client)
        time.sleep(2.2)
        invoke(client)
        keys = [signer(r) for r in server.requests]
        assert len(sts.calls) == 2
        assert keys[0] == keys[1] != keys[2]
        assert all(k.startswith("ASIA") for k in keys)


def test_client_deferred_error_surfaces_at_the_call(monkeypatch, tmp_path, server):
    with FakeSTS() as sts:
        from credfakes import sts_error

        sts.fail(sts_error("ExpiredTokenException", "The security token included is expired", 400))
        write(
            tmp_path / "config",
            "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n\n"
            "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
            "source_profile = base\nregion = us-west-2\n",
        )
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        client = sagemaker_rt_c.Session(profile_name="role").client(
            "sagemaker-runtime", endpoint_url=server.url
        )
        with pytest.raises(exceptions.ClientError) as info:
            invoke(client)
        assert type(info.value).__name__ == "ExpiredTokenException"
        assert info.value.response["Error"]["Code"] == "ExpiredTokenException"
        # The next call asks again (nothing was cached) and succeeds.
        invoke(client)
        assert len(server.requests) == 1


@pytest.mark.slow
def test_slow_server_does_not_delay_refresh_bookkeeping(server):
    # A call in flight while the deadline passes still completes with the key it was signed
    # with; the next call refreshes.
    refresh, calls = real_refresher()
    creds = ours.RefreshableCredentials(
        "AKIDGEN0", "secret0", "token0", utc_in(900 + 0.5), refresh, "test"
    )
    client = make_client(server, creds)
    server.queue(Delay(1.0, Reply(200, [], b"{}")))
    invoke(client)
    invoke(client)
    assert [signer(r) for r in server.requests] == ["AKIDGEN0", "AKIDGEN1"]
    assert len(calls) == 1


@pytest.fixture
def server():
    with ScriptedServer() as s:
        yield s
