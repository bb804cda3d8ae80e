"""Clients and Sessions pickle (pickle, cloudpickle, copy): what they were built from travels,
credentials are found again by the receiving process (secrets never travel unless given
explicitly), and a process makes one client per distinct pickle, a forked child its own.

A "receiving process" is simulated in this one by forgetting what was unpickled
(``_pickling.clear()``) and changing the environment; ProcessPoolExecutor tests (fork and
spawn) do it for real, against a local endpoint that verifies SigV4."""

import concurrent.futures
import copy
import multiprocessing
import os
import pickle
import signal

import cloudpickle
import pytest
import remote_tasks

import sagemaker_rt_c
from sagemaker_rt_c import _pickling
from sagemaker_rt_c.local import LocalEndpoint, Response

# Keys made up for these tests (AWS's documentation style: never real).
ENV_AK = "AKIAENVIRONMENTKEY01"
ENV_SK = "envSecretKey/ONLY+IN+THE+ENVIRONMENT/0001"
ENV_TOKEN = "envSessionTokenONLYINTHEENVIRONMENT0001"
GOOD_AK = "AKIDWORKERKEY0000001"
GOOD_SK = "workerSecretKey/FOUND+BY+THE+WORKER/00001"
EXPLICIT_AK = "AKIDEXPLICITKEY00001"
EXPLICIT_SK = "explicitSecretKey/GIVEN+TO+CLIENT/000001"


def echo(body, request):
    return Response(body, "application/octet-stream")


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    # The default session keeps the credentials it found: a new one for each test.
    monkeypatch.setattr("sagemaker_rt_c.session._DEFAULT_SESSION", None)
    _pickling.clear()
    yield
    _pickling.clear()


@pytest.fixture
def env_keys(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ENV_AK)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", ENV_SK)
    monkeypatch.setenv("AWS_SESSION_TOKEN", ENV_TOKEN)


def secrets_in(data):
    return [s for s in (ENV_AK, ENV_SK, ENV_TOKEN) if s.encode() in data]


@pytest.mark.parametrize("dumps", [pickle.dumps, cloudpickle.dumps], ids=["pickle", "cloudpickle"])
def test_a_client_with_environment_credentials_pickles_without_them(env_keys, dumps):
    rt = sagemaker_rt_c.client("sagemaker-runtime", region_name="us-west-2")
    assert rt._credentials.secret_key == ENV_SK  # it did find them
    data = dumps(rt)
    assert secrets_in(data) == []
    assert secrets_in(repr(rt).encode() + repr(rt.meta).encode()) == []
    assert b"us-west-2" in data


def test_a_profile_travels_by_name_its_keys_do_not(tmp_path, monkeypatch):
    creds = tmp_path / "credentials"
    creds.write_text(f"[team]\naws_access_key_id = {ENV_AK}\naws_secret_access_key = {ENV_SK}\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    session = sagemaker_rt_c.Session(profile_name="team", region_name="eu-west-1")
    rt = session.client("sagemaker-runtime")
    assert rt._credentials.access_key == ENV_AK
    for obj in (rt, session):
        data = pickle.dumps(obj)
        assert secrets_in(data) == [] and b"team" in data
    again = pickle.loads(pickle.dumps(rt))
    assert again is not rt and again.meta.region_name == "eu-west-1"
    assert again._credentials.access_key == ENV_AK  # found again, from the same file here
    restored = pickle.loads(pickle.dumps(session))
    assert restored.profile_name == "team" and restored.region_name == "eu-west-1"


def test_explicit_keys_travel_and_only_they(env_keys):
    with LocalEndpoint({"echo": echo}, credentials=(EXPLICIT_AK, EXPLICIT_SK)) as ep:
        rt = sagemaker_rt_c.client(
            "sagemaker-runtime",
            region_name="us-east-1",
            endpoint_url=ep.url,
            aws_access_key_id=EXPLICIT_AK,
            aws_secret_access_key=EXPLICIT_SK,
        )
        data = pickle.dumps(rt)
        assert EXPLICIT_AK.encode() in data and EXPLICIT_SK.encode() in data
        assert secrets_in(data) == []  # not the environment's
        assert EXPLICIT_SK not in repr(rt)
        _pickling.clear()
        again = pickle.loads(data)
        assert again is not rt
        out = again.invoke_endpoint(EndpointName="echo", Body=b"signed")  # verified by ep
        assert out["Body"].read() == b"signed"


def test_what_travels_is_what_the_client_was_built_from(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")  # resolved here: travels
    config = sagemaker_rt_c.Config(read_timeout=7, retries={"mode": "adaptive"}, tcp_keepalive=True)
    rt = sagemaker_rt_c.client(
        "runtime.sagemaker",
        endpoint_url="http://127.0.0.1:9",
        verify=False,
        config=config,
        aws_access_key_id=EXPLICIT_AK,
        aws_secret_access_key=EXPLICIT_SK,
    )
    data = pickle.dumps(rt)
    # The receiving process: nothing unpickled yet, another region in its environment.
    _pickling.clear()
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    again = pickle.loads(data)
    assert again.meta.region_name == "ap-south-1"
    assert again.meta.endpoint_url == "http://127.0.0.1:9"
    assert again.meta.service_name == rt.meta.service_name
    assert again.meta.config.read_timeout == 7
    assert again.meta.config.retries == {"mode": "adaptive"}
    assert again.meta.config.tcp_keepalive is True
    assert again._settings.verify is False
    assert again._settings.retry_mode == "adaptive"
    assert again._credentials.access_key == EXPLICIT_AK


def test_one_client_per_distinct_pickle():
    def make(**kw):
        return sagemaker_rt_c.client(
            "sagemaker-runtime",
            region_name="us-east-1",
            aws_access_key_id=EXPLICIT_AK,
            aws_secret_access_key=EXPLICIT_SK,
            **kw,
        )

    a, b = (
        make(config=sagemaker_rt_c.Config(read_timeout=5)),
        make(config=sagemaker_rt_c.Config(read_timeout=5)),
    )
    c = make(config=sagemaker_rt_c.Config(read_timeout=6))
    assert pickle.dumps(a) == pickle.dumps(b)  # the same arguments: the same pickle
    ra = pickle.loads(pickle.dumps(a))
    assert pickle.loads(pickle.dumps(b)) is ra
    assert cloudpickle.loads(cloudpickle.dumps(a)) is ra
    assert copy.deepcopy(a) is ra and copy.copy(a) is ra
    rc = pickle.loads(pickle.dumps(c))
    assert rc is not ra and rc.meta.config.read_timeout == 6
    # Other keys, another client.
    d = sagemaker_rt_c.client(
        "sagemaker-runtime",
        region_name="us-east-1",
        aws_access_key_id=EXPLICIT_AK,
        aws_secret_access_key=GOOD_SK,
        config=sagemaker_rt_c.Config(read_timeout=5),
    )
    assert pickle.loads(pickle.dumps(d)) is not ra


def test_clients_that_cannot_travel_say_why():
    from sagemaker_rt_c.credentials import Credentials

    rt = sagemaker_rt_c.client(
        "sagemaker-runtime", region_name="us-east-1", credentials=Credentials(ENV_AK, ENV_SK)
    )
    with pytest.raises(TypeError, match="credentials=") as e:
        pickle.dumps(rt)
    assert secrets_in(str(e.value).encode()) == []
    with pytest.raises(TypeError, match="credentials="):
        cloudpickle.dumps(rt)

    from sagemaker_rt_c._client import SageMakerRuntime

    direct = SageMakerRuntime(rt._settings)
    with pytest.raises(TypeError, match="not made by sagemaker_rt_c.client"):
        pickle.dumps(direct)


def test_a_botocore_session_does_not_travel():
    import botocore.session

    session = sagemaker_rt_c.Session(
        botocore_session=botocore.session.get_session(), region_name="us-east-1"
    )
    with pytest.raises(TypeError, match="botocore session"):
        pickle.dumps(session)
    rt = session.client("sagemaker-runtime", aws_access_key_id="a", aws_secret_access_key="b")
    with pytest.raises(TypeError, match="botocore session"):
        pickle.dumps(rt)


def test_a_botocore_config_travels_as_ours():
    import botocore
    import botocore.config

    config = botocore.config.Config(read_timeout=9, signature_version=botocore.UNSIGNED)
    rt = sagemaker_rt_c.client("sagemaker-runtime", region_name="us-east-1", config=config)
    data = pickle.dumps(rt)
    assert b"botocore" not in data  # the receiver need not have botocore
    again = pickle.loads(data)
    assert again.meta.config.read_timeout == 9
    assert again._unsigned


def test_sessions_pickle_the_same_way(env_keys):
    s = sagemaker_rt_c.Session(region_name="eu-central-1")
    data = pickle.dumps(s)
    assert secrets_in(data) == []
    restored = pickle.loads(data)
    assert restored is not s and restored.region_name == "eu-central-1"
    assert pickle.loads(data) is restored and cloudpickle.loads(cloudpickle.dumps(s)) is restored
    # A client of that session, pickled, is made from the same restored session.
    rt = pickle.loads(pickle.dumps(s.client("sagemaker-runtime")))
    assert rt._origin.session is restored
    # Keys given to the Session travel with it.
    keyed = sagemaker_rt_c.Session(
        aws_access_key_id=EXPLICIT_AK, aws_secret_access_key=EXPLICIT_SK, region_name="us-east-1"
    )
    data = pickle.dumps(keyed)
    assert EXPLICIT_SK.encode() in data and secrets_in(data) == []
    assert pickle.loads(data).get_credentials().secret_key == EXPLICIT_SK
    assert EXPLICIT_SK not in repr(keyed)


def test_a_forked_child_makes_its_own_client():
    with LocalEndpoint({"echo": echo}) as ep:
        data = pickle.dumps(ep.client())
        parent = pickle.loads(data)
        assert parent.invoke_endpoint(EndpointName="echo", Body=b"p")["Body"].read() == b"p"
        pid = os.fork()
        if pid == 0:  # the child: a new client, which works
            status = 1
            try:
                child = pickle.loads(data)
                ok = child.invoke_endpoint(EndpointName="echo", Body=b"c")["Body"].read() == b"c"
                status = 0 if child is not parent and pickle.loads(data) is child and ok else 2
            finally:
                os._exit(status)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert pickle.loads(data) is parent  # the parent's stays


@pytest.mark.slow
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_pickled_client_in_a_process_pool_finds_the_workers_credentials(
    env_keys, monkeypatch, method
):
    # This process has keys the endpoint refuses; the pool's workers get the right ones in
    # their environment, and only there.
    with LocalEndpoint({"echo": echo}, credentials=(GOOD_AK, GOOD_SK), region="us-east-1") as ep:
        rt = sagemaker_rt_c.client(
            "sagemaker-runtime", region_name="us-east-1", endpoint_url=ep.url
        )
        out, _, _ = remote_tasks.call(rt, "echo", b"here")
        assert out == "UnrecognizedClientException"  # the environment's keys, refused
        data = cloudpickle.dumps(rt)
        assert secrets_in(data) == [] and GOOD_SK.encode() not in data
        pickle.loads(pickle.dumps(rt))  # cached here: a forked worker must not reuse it

        worker_env = {
            "AWS_ACCESS_KEY_ID": GOOD_AK,
            "AWS_SECRET_ACCESS_KEY": GOOD_SK,
            "AWS_SESSION_TOKEN": None,
        }
        context = multiprocessing.get_context(method)
        with concurrent.futures.ProcessPoolExecutor(
            2, mp_context=context, initializer=remote_tasks.set_env, initargs=(worker_env,)
        ) as pool:
            bodies = [b"row %d" % i for i in range(12)]
            results = list(pool.map(remote_tasks.call, [rt] * 12, ["echo"] * 12, bodies))
            twice = pool.submit(remote_tasks.unpickle_twice, pickle.dumps(rt)).result()
        assert [r[0] for r in results] == bodies
        clients = {}
        for _, pid, ident in results:
            clients.setdefault(pid, set()).add(ident)
        assert os.getpid() not in clients
        assert all(len(ids) == 1 for ids in clients.values()), clients  # one per process
        assert twice[1] is True
        # The parent's keys are still refused: nothing came back into this process.
        assert remote_tasks.call(rt, "echo", b"here")[0] == "UnrecognizedClientException"


def test_the_fork_handler_resets_a_held_lock():
    # A thread of the parent holding the cache's lock at fork time must not block the child.
    cache = _pickling._CACHE
    cache.lock.acquire()
    try:
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                signal.alarm(10)
                _pickling.cached(("k",), object)
                status = 0
            finally:
                os._exit(status)
    finally:
        cache.lock.release()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
