"""Scenarios of tests/core/test_first_use.py, each run as
``python first_use_scenarios.py NAME ARGS`` in a fresh interpreter: the first use of the
package there is the point (the background library load, OpenSSL's first algorithm fetches,
the module-level signing context, a new client's presigning context).

A scenario prints OK and exits 0 when everything went right; else it prints what went wrong
and exits 1 (a crash shows as a signal). Every wait in here is bounded: a thread or child
process that hangs is reported (a child is killed, its stacks shown when gdb is at hand);
pytest bounds the scenario process itself.

No pytest here (it would double an interpreter's start-up time), and nothing that uses
OpenSSL through Python (hashlib, ssl) once threads run: a fork would then test Python's use of
OpenSSL, not ours.
"""

import json
import os
import re
import sys
import threading
import time

from servers import ScriptedServer

import sagemaker_rt_c
from sagemaker_rt_c import _core, auth

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
JOIN_SECONDS = 60  # threads or child processes still running after this are hung
SIGNATURE = re.compile(r"[?&]X-Amz-Signature=[0-9a-f]{64}$")

errors = []
_errors_lock = threading.Lock()


def fail(msg):
    with _errors_lock:
        errors.append(msg)


def make_client(url):
    return sagemaker_rt_c.client(
        "sagemaker-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


def run_threads(n, target, barrier=None):
    """target(i) in n threads released together (by ``barrier`` if given: its other parties
    are released with them); their exceptions go to ``errors``."""
    barrier = barrier or threading.Barrier(n)

    def run(i):
        try:
            barrier.wait(JOIN_SECONDS)
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported
            fail(f"thread {i}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    return threads


def join_all(threads):
    deadline = time.monotonic() + JOIN_SECONDS
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    hung = sum(t.is_alive() for t in threads)
    if hung:
        fail(f"{hung} thread(s) hung")


# ---- the calls, each checked ------------------------------------------------------------------

FIXED_DATE = "20260102T030405Z"  # a fixed timestamp: signatures comparable across threads


def call_invoke(client, tag):
    out = client.invoke_endpoint(EndpointName=f"ep-{tag}", Body=tag.encode())
    body = out["Body"].read()
    if out["ResponseMetadata"]["HTTPStatusCode"] != 200 or body != b"{}":
        raise AssertionError(f"invoke_endpoint: {out['ResponseMetadata']} {body!r}")


def call_presign(client, tag):
    url = client.generate_presigned_url(
        "invoke_endpoint", Params={"EndpointName": f"ep-{tag}", "Body": b""}, ExpiresIn=60
    )
    if not (isinstance(url, str) and SIGNATURE.search(url) and f"/endpoints/ep-{tag}/" in url):
        raise AssertionError(f"generate_presigned_url: {url!r}")


def sign(tag, big=False):
    body = tag.encode() * (70000 if big else 1)  # >= 64 KiB: hashed without the GIL
    return auth.sign_request(
        "POST",
        f"https://runtime.example.com/endpoints/{tag}/invocations",
        headers=[("Content-Type", "application/json")],
        body=body,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        region="us-east-1",
        service="sagemaker",
        timestamp=FIXED_DATE,
    ).signature


def presign(tag):
    return auth.presign_url(
        "GET",
        f"https://runtime.example.com/p/{tag}",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        region="us-east-1",
        service="sagemaker",
        timestamp=FIXED_DATE,
        expires=60,
    ).url


# ---- scenarios --------------------------------------------------------------------------------


def presign_threads(threads, rounds):
    """``threads`` threads make the first generate_presigned_url calls of a fresh client at
    once, ``rounds`` times (a new client each round)."""
    for r in range(rounds):
        client = make_client("https://runtime.sagemaker.us-east-1.amazonaws.com")
        join_all(run_threads(threads, lambda i, c=client, r=r: call_presign(c, f"{r}-{i}")))
        if errors:
            return


def first_calls_threads(threads, rounds, server_url):
    """Every kind of first call at once: client creation, invoke_endpoint, presigning, the
    module-level signers (small and large bodies), a SHA-256. The first round is the
    interpreter's first use of the package, all kinds mixed; each later round has all threads
    make one kind of call (in turn) on a fresh client."""
    kinds = ["presign", "create", "invoke", "sign", "sign_big", "presign_url", "sha256"]
    results = {}

    def work(client, r, i):
        kind = kinds[i % len(kinds)] if r == 0 else kinds[(r - 1) % len(kinds)]
        tag = f"{r}-{i}"
        if kind == "create":
            call_invoke(make_client(server_url), tag)
        elif kind == "invoke":
            call_invoke(client, tag)
        elif kind == "presign":
            call_presign(client, tag)
        elif kind == "sign":
            results[(kind, tag)] = sign(tag)
        elif kind == "sign_big":
            results[(kind, tag)] = sign(tag, big=True)
        elif kind == "presign_url":
            results[(kind, tag)] = presign(tag)
        else:
            results[(kind, tag)] = _core.sha256_hex(tag.encode())

    for r in range(rounds):
        client = make_client(server_url)
        join_all(run_threads(threads, lambda i, c=client, r=r: work(c, r, i)))
        if errors:
            return
    # The same computations again, one at a time: the concurrent ones must agree.
    import hashlib  # only now: no thread runs any more

    for (kind, tag), got in results.items():
        if kind == "sign":
            want = sign(tag)
        elif kind == "sign_big":
            want = sign(tag, big=True)
        elif kind == "presign_url":
            want = presign(tag)
        else:
            want = hashlib.sha256(tag.encode()).hexdigest()
        if got != want:
            fail(f"{kind} {tag}: {got} != {want}")


def _child_calls(client, server_url, first):
    """What a forked child does: calls of every kind (the first child: a new client's too)."""
    call_invoke(client, "child")
    call_presign(client, "child")
    sign("child")
    presign("child")
    _core.sha256_hex(b"child")
    if first:
        call_invoke(make_client(server_url), "child-new")
        sign("child-big", big=True)


def _child_main(client, server_url, first, go):
    try:
        os.read(go, 1)  # once all children are forked (EOF if the parent is gone)
        _child_calls(client, server_url, first)
    except BaseException as e:  # noqa: BLE001 - reported through the exit code
        print(f"child: {type(e).__name__}: {e}", flush=True)
        os._exit(1)
    os._exit(0)


def wait_children(children):
    """Wait for forked children (pids, or multiprocessing.Process objects) until a common
    deadline; kill and report those still running then (the first with its stacks)."""
    deadline = time.monotonic() + JOIN_SECONDS
    for c in children:
        pid = c if isinstance(c, int) else c.pid
        while True:
            if isinstance(c, int):
                done, status = os.waitpid(pid, os.WNOHANG)
                code = os.waitstatus_to_exitcode(status) if done else None
            else:
                c.join(0.005)
                code = c.exitcode
            if code is not None or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        if code is None:
            stacks = "" if any("hung" in e for e in errors) else stacks_of(pid)
            try:
                os.kill(pid, 9)
            except ProcessLookupError:  # it ended just now
                pass
            if isinstance(c, int):
                os.waitpid(pid, 0)
            else:
                c.join(5)
            fail(f"child {pid} hung (killed after {JOIN_SECONDS} s){stacks}")
        elif code != 0:
            fail(f"child {pid} exited with {code}")


def stacks_of(pid):
    """The C stacks of a hung process, if gdb is at hand (a hang says little without them)."""
    import shutil
    import subprocess

    if shutil.which("gdb") is None:
        return ""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}  # not gdb with ASan
    try:
        out = subprocess.run(
            ["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt 12"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return "\n" + "\n".join(line for line in out.splitlines() if line.startswith(("#", "Thread")))


def fork_during_first_calls(threads, forks, delay_us, server_url, method, overlap=True):
    """Threads make their first calls of every kind (on a fresh client, in a fresh
    interpreter) while the main thread forks ``forks`` times, the first ``delay_us``
    microseconds after the first call went into C; each child makes every kind of call.
    ``method``: ``os.fork`` or ``multiprocessing`` (its 'fork' start method).

    ``overlap=False`` (under AddressSanitizer): the forks wait until the threads' calls are
    over (the threads stay, parked). GCC 12's libasan holds no lock of its allocator across
    fork, so a child forked while another thread is inside malloc can hang in the sanitizer
    (google/sanitizers#1814); the normal build covers the overlap."""
    if method == "multiprocessing":
        import multiprocessing
        import multiprocessing.popen_fork  # noqa: F401 - imported now, not by the first start()

        ctx = multiprocessing.get_context("fork")
    client = make_client(server_url)
    # Mostly invoke_endpoint: a new connection's set-up, without the GIL, is where a fork
    # lands most often (the others are there too, and hold the GIL longer).
    kinds = ["invoke", "presign", "invoke", "sign_big", "invoke", "invoke"]

    calling = threading.Event()
    called = threading.Semaphore(0)
    park = threading.Event()

    def work(i):
        kind = kinds[i % len(kinds)]
        calling.set()
        try:
            if kind == "invoke":
                call_invoke(client, f"p{i}")
            elif kind == "presign":
                call_presign(client, f"p{i}")
            else:
                sign(f"p{i}", big=True)
        finally:
            called.release()
        if not overlap:
            park.wait(JOIN_SECONDS)

    # The children start their calls once all are forked: no thread of the parent's server
    # is starting (and allocating) when a fork happens.
    go_r, go_w = os.pipe()
    if method == "multiprocessing":  # made now: only start() (and its fork) below
        procs = [
            ctx.Process(target=_child_main, args=(client, server_url, k == 0, go_r))
            for k in range(forks)
        ]
    go = threading.Barrier(threads + 1)
    running = run_threads(threads, work, barrier=go)
    go.wait(JOIN_SECONDS)  # released with the workers: fork while they are at their first calls
    # Woken when the first worker has made its call and let the GIL go (into C): then wait
    # delay_us, precisely (spinning: the workers in C need no GIL), and fork.
    calling.wait(JOIN_SECONDS)
    until = time.perf_counter() + delay_us / 1e6
    while time.perf_counter() < until:
        pass
    if not overlap:
        for _ in range(threads):
            called.acquire(timeout=JOIN_SECONDS)
    children = []
    for k in range(forks):
        if method == "multiprocessing":
            procs[k].start()
            children.append(procs[k])
        else:
            pid = os.fork()
            if pid == 0:
                _child_main(client, server_url, k == 0, go_r)
            children.append(pid)
        time.sleep(0.0001)
    park.set()
    os.write(go_w, b"g" * forks)
    os.close(go_w)
    os.close(go_r)
    wait_children(children)
    join_all(running)


def fork_while_time_zone_lock_held(tmpdir):
    """A thread holds glibc's time-zone lock (tzset() reading TZ from a FIFO that nobody
    writes yet) while the main thread forks: the child inherits the lock held, for ever. Its
    calls must not need it (gmtime_r and timegm take it: the X-Amz-Date of a request, the
    Date of a response to retry)."""
    import ctypes

    from servers import Reply

    server = ScriptedServer()
    client = make_client(server.url)
    call_invoke(client, "warm")
    # The child's first attempt gets a 500 to retry, with a Date (botocore's ttl uses it).
    server.queue(Reply(500, [("Date", "Mon, 30 Nov 2026 10:00:00 GMT")], b'{"message":"x"}'))
    fifo = os.path.join(tmpdir, "tz-fifo")
    os.mkfifo(fifo)
    os.environ["TZ"] = ":" + fifo
    libc = ctypes.CDLL(None)  # a CDLL call lets the GIL go
    holder = threading.Thread(target=libc.tzset, daemon=True)
    holder.start()
    time.sleep(0.2)  # tzset() is now blocked opening the FIFO, the lock held
    del os.environ["TZ"]  # for what runs later (gdb, should the child hang)
    if not holder.is_alive():
        fail("tzset() did not block on the FIFO: the lock was not held")
        return
    pid = os.fork()
    if pid == 0:
        try:
            call_invoke(client, "child")
            call_presign(client, "child")
            sign("child")
            presign("child")
        except BaseException as e:  # noqa: BLE001 - reported through the exit code
            print(f"child: {type(e).__name__}: {e}", flush=True)
            os._exit(1)
        os._exit(0)
    with open(fifo, "wb"):  # lets tzset() go on (and find no zone file: UTC)
        pass
    holder.join(JOIN_SECONDS)
    wait_children([pid])
    if holder.is_alive():
        fail("tzset() still blocked")
    if len(server.requests) != 3:  # the warm-up call, the child's 500 and its retry
        fail(f"{len(server.requests)} requests, not 3")
    server.close()


def expect(exc_type, words, fn, *args, **kwargs):
    """fn(*args, **kwargs) must raise exc_type with ``words`` in its message."""
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        if words not in str(e):
            fail(f"{fn}: {type(e).__name__}({e}) does not say {words!r}")
        return
    except BaseException as e:  # noqa: BLE001 - reported
        fail(f"{fn}: {type(e).__name__}({e}), not {exc_type.__name__}")
        return
    fail(f"{fn}: no exception, expected {exc_type.__name__}")


CLIENT_METHODS = {
    "invoke_endpoint", "invoke_endpoint_async", "invoke_endpoint_with_response_stream",
    "_presign", "_set_credentials",
    "_close_connections",
}  # fmt: skip
RAW_METHODS = {
    "read", "readinto", "readline", "readlines", "tell", "close", "readable", "seekable",
    "writable", "isatty", "__enter__", "__exit__",
}  # fmt: skip


def core_settings(url, **changes):
    """The settings object _core.Client takes (sagemaker_rt_c._client.CoreSettings), with
    `changes`; a field set to MISSING is left out (a plain namespace then)."""
    from types import SimpleNamespace

    from sagemaker_rt_c._client import CoreSettings

    fields = {**CoreSettings._DEFAULTS, **core_kwargs(url), **changes}
    return SimpleNamespace(**{k: v for k, v in fields.items() if v is not MISSING})


MISSING = object()


def core_kwargs(url):
    return dict(
        url_prefix=url,
        base_path="",
        url_query=None,
        host=url.split("://", 1)[1],
        region="us-east-1",
        service="sagemaker",
        user_agent="test",
        connect_timeout=5.0,
        read_timeout=5.0,
        max_pool_connections=4,
        tcp_keepalive=False,
        verify=True,
        retry_mode="standard",
        max_attempts=1,
        retry_read_timeouts=True,
        parameter_validation=True,
    )


def uninitialised_objects(server_url):
    """Every method of every _core type on objects whose __init__ never ran, failed, or is
    called again: a clear exception (or, where the object needs nothing, a plain result)."""
    own = {n for n, v in vars(_core.Client).items() if callable(v) and not n.startswith("__")}
    if own != CLIENT_METHODS:
        fail(f"_core.Client has methods {sorted(own ^ CLIENT_METHODS)} not covered here")
    raw_own = {n for n, v in vars(_core.RawStream).items() if callable(v) and n not in ("__new__",)}
    raw_own -= {"__iter__", "__next__", "__init__"}  # slots, checked below
    if raw_own != RAW_METHODS:
        fail(f"RawStream has methods {sorted(raw_own ^ RAW_METHODS)} this scenario does not cover")
    exported = {n for n, v in vars(_core).items() if isinstance(v, type)}
    known = {
        "Client",
        "RawStream",
        "ProtocolError",
        "ReadTimeout",
        "EventStreamDecoder",
        "Batch",
        "AsyncEngine",
    }
    # EventReader is made by the client only (no __new__): covered by test_response_stream.
    if exported != known | {"EventReader"}:
        fail(f"_core exports types {sorted(exported)}: cover the new ones here")

    params = {"EndpointName": "ep", "Body": b""}
    not_init = "not initialised"

    def check_uninitialised(c):
        expect(RuntimeError, not_init, c.invoke_endpoint, EndpointName="ep", Body=b"x")
        expect(RuntimeError, not_init, c.invoke_endpoint_async, EndpointName="ep")
        stream = c.invoke_endpoint_with_response_stream
        expect(RuntimeError, not_init, stream, EndpointName="e", Body=b"")
        expect(RuntimeError, not_init, c._presign, params, 60, None)
        # invoke_endpoint_batch's iterator refuses such a client before any thread starts.
        expect(RuntimeError, not_init, _core.Batch, c, [params], 4, False)
        expect(RuntimeError, not_init, _core.AsyncEngine, c, 4)
        # These need nothing from __init__: they work.
        c._close_connections()
        c._set_credentials(ACCESS_KEY, SECRET_KEY)
        expect(RuntimeError, not_init, c._presign, params, 60, None)
        expect(RuntimeError, not_init, c.invoke_endpoint, EndpointName="ep", Body=b"x")
        c._set_credentials()

    # Made by __new__ alone.
    check_uninitialised(_core.Client.__new__(_core.Client))
    # Missing arguments.
    expect(TypeError, "exactly 1 argument", _core.Client)
    expect(TypeError, "host", _core.Client, core_settings(server_url, host=MISSING))
    expect(TypeError, "one object", _core.Client, **core_kwargs(server_url))
    # A failed __init__, then a good one.
    c = _core.Client.__new__(_core.Client)
    expect(ValueError, "retry_mode", c.__init__, core_settings(server_url, retry_mode="x"))
    check_uninitialised(c)
    expect(ValueError, "base_path", c.__init__, core_settings(server_url, base_path="/p"))
    check_uninitialised(c)
    c.__init__(core_settings(server_url))
    c._set_credentials(ACCESS_KEY, SECRET_KEY)
    c.invoke_endpoint(EndpointName="ep", Body=b"x")["Body"].read()
    # And once initialised, never again.
    expect(RuntimeError, "already initialised", c.__init__, core_settings("http://127.0.0.1:9"))
    expect(RuntimeError, "already initialised", _core.Client.__init__, c, core_settings(server_url))
    if c.invoke_endpoint(EndpointName="ep", Body=b"x")["ResponseMetadata"]["HTTPStatusCode"] != 200:
        fail("the client changed after a refused __init__")

    # The package's client class: made by __new__ alone; a second __init__ is refused.
    cls = sagemaker_rt_c.SageMakerRuntime
    check_uninitialised(cls.__new__(cls))
    bare = cls.__new__(cls)
    # what generate_presigned_url reads before the C part
    bare._presign_in_c = True
    expect(RuntimeError, not_init, bare.generate_presigned_url, "invoke_endpoint", params)
    client = make_client(server_url)
    expect(RuntimeError, "already initialised", client.__init__, client._settings)
    call_invoke(client, "after")

    # RawStream: __new__ needs its data; __init__ again changes nothing; every method works.
    expect(TypeError, "data", _core.RawStream.__new__, _core.RawStream)
    r = _core.RawStream(b"ab\ncd", 5)
    r.__init__(b"other", 1)
    got = [r.readable(), r.seekable(), r.writable(), r.isatty(), r.tell(), r.readline()]
    buf = bytearray(1)
    got += [bytes(buf) if r.readinto(buf) == 1 else None, r.readlines()]
    got += [list(r), r.read(), r.read(1), r.closed]
    with r as same:
        got.append(same is r)
    r.close()
    got += [r.closed, r.tell()]
    want = [True, False, False, False, 0, b"ab\n", b"c", [b"d"], [], b"", b"", True, True, True, 5]
    if got != want:
        fail(f"RawStream after a second __init__: {got} != {want}")

    # EventStreamDecoder: __new__ makes it whole; __init__ again changes nothing.
    es = _core.EventStreamDecoder
    es_own = {n for n, v in vars(es).items() if callable(v)} - {"__new__"}
    if es_own != {"feed", "next_message", "_crc32", "__iter__", "__next__"}:
        fail(f"EventStreamDecoder has methods {sorted(es_own)} this scenario does not cover")
    d = es.__new__(es)
    d.__init__()
    d.feed(bytes.fromhex("000000100000000005c248eb"))
    d.__init__()
    d.feed(bytes.fromhex("7d98c8ff"))
    got = [d.next_message(), list(d), iter(d) is d, d.pending, es._crc32(b"a")]
    want = [({}, b""), [], True, 0, 0xE8B7BE43]
    if got != want:
        fail(f"EventStreamDecoder after a second __init__: {got} != {want}")


def reinit_under_threads(threads, seconds, server_url):
    """While threads call a client (invoke_endpoint, presigning, close), the main thread calls
    its __init__ again and again: refused every time, and the calls go on, to the same server."""
    client = make_client(server_url)
    other = core_settings("http://127.0.0.1:9")
    stop = threading.Event()

    def work(i):
        while not stop.is_set():
            [call_invoke, call_presign][i % 2](client, f"r{i}")
            if i == 0:
                client.close()

    running = run_threads(threads, work)
    deadline = time.monotonic() + seconds
    attempts = 0
    while time.monotonic() < deadline and not errors:
        attempts += 1
        expect(RuntimeError, "already initialised", _core.Client.__init__, client, other)
        expect(RuntimeError, "already initialised", client.__init__, client._settings)
        time.sleep(0.001)
    stop.set()
    join_all(running)
    call_invoke(client, "after")
    if attempts < 10:
        fail(f"only {attempts} attempts")


def main():
    name, args = sys.argv[1], json.loads(sys.argv[2])
    server = None
    if args.pop("server", False):
        server = ScriptedServer()
        args["server_url"] = server.url
    try:
        globals()[name](**args)
    finally:
        if server is not None:
            server.close()
    if errors:
        print("\n".join(errors[:20]), flush=True)
        os._exit(1)
    print("OK", flush=True)


if __name__ == "__main__":
    main()
