"""First use under threads and fork: stress tests, each scenario in a fresh interpreter.

What a process does first happens once: the background load of libcurl and OpenSSL, OpenSSL's
first algorithm fetches (which take its global locks), the signing context of the module-level
signers, a new client's presigning context. Races there (two threads setting up one context;
a fork while another thread holds an OpenSSL lock, which then stays held for ever in the child)
show only on a fresh interpreter, and only now and then. So each scenario of
``first_use_scenarios.py`` runs in a new interpreter, many times, two at a time, each bounded
by a timeout (a hang fails the test; the whole process group is killed, forked children
included):

* threads making the first calls of every kind at once (client creation, invoke_endpoint
  against a local scripted server, generate_presigned_url, auth.sign_request/presign_url,
  sha256), and the first generate_presigned_url calls of a fresh client at once;
* os.fork() and multiprocessing's 'fork' start method while threads are in their first
  calls; each child then makes calls of every kind (and must never use the parent's
  connections: test_threads.py checks that); and a fork while another thread holds glibc's
  time-zone lock, which the child's calls must not need;
* the private surface: methods of a _core.Client whose __init__ never ran or failed, and
  __init__ called again on a live client, also while other threads use it.

The fork races are a matter of microseconds (OpenSSL's first fetch, a glibc lock), so each
fork test sweeps the moment of the fork over many interpreters: the default counts keep the
file well under a minute on two cores and make a pre-fix build fail it. Under
AddressSanitizer (``make test-asan``) the forks wait for the threads' calls to end: GCC 12's
libasan allocator is not fork-safe (see fork_during_first_calls).
``SMRT_FIRST_USE_SCALE=10`` (any factor) runs that many times more interpreters, for a longer
hunt.
"""

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import TESTS

# Each scenario runs in fresh interpreters, many times over (about 17 s in all).
pytestmark = pytest.mark.slow

SCENARIOS = os.path.join(TESTS, "first_use_scenarios.py")
SCALE = float(os.environ.get("SMRT_FIRST_USE_SCALE", "1"))
TIMEOUT = 180  # seconds per interpreter; a scenario's own waits give up after 60 s
PARALLEL = 2


def run_scenario(name, **args):
    """Run one scenario in a fresh interpreter: None if it went right, else what went wrong."""
    proc = subprocess.Popen(
        [sys.executable, SCENARIOS, name, json.dumps(args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: forked children die with it
    )
    try:
        out, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return f"{name} {args}: hung (killed after {TIMEOUT} s)\n{out.decode(errors='replace')}"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # any child left behind
        except ProcessLookupError:
            pass
    text = out.decode(errors="replace")
    if proc.returncode != 0 or text.strip() != "OK":
        how = (
            f"killed by {signal.Signals(-proc.returncode).name}"
            if proc.returncode < 0
            else f"exit {proc.returncode}"
        )
        return f"{name} {args}: {how}\n{text[:12000]}"
    return None


def run_many(runs):
    """Run (name, args) scenarios, PARALLEL at a time; stop starting new ones after a failure.
    Asserts that all went right."""
    failures = []

    def one(run):
        if failures:
            return
        problem = run_scenario(run[0], **run[1])
        if problem:
            failures.append(problem)

    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(one, runs))
    assert not failures, "\n\n".join(failures[:3])


def count(n):
    return max(1, round(n * SCALE))


# ---- threads ----------------------------------------------------------------------------------


def test_first_presign_calls_of_a_fresh_client_at_once():
    """The issue's crash: eight threads making the first generate_presigned_url calls of a
    fresh client (each setting up its presigning context: once, under the GIL, now)."""
    run_many([("presign_threads", {"threads": 8, "rounds": 20})] * count(4))


def test_first_calls_of_every_kind_at_once():
    """Threads making the first calls of every kind at once, from the interpreter's first use
    of the package on; the signatures they compute must match a serial run's."""
    args = {"threads": 8, "rounds": 29, "server": True}
    run_many([("first_calls_threads", args)] * count(8))


# ---- fork -------------------------------------------------------------------------------------


# Under AddressSanitizer (make test-asan) the forks wait for the threads' calls to end: see
# fork_during_first_calls (GCC 12's libasan allocator is not fork-safe).
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


def _fork_runs(method, n):
    # The fork lands 0-150 us after the first worker's call went into C, a little later in
    # each interpreter: where OpenSSL's first fetch holds its locks.
    return [
        (
            "fork_during_first_calls",
            {
                "threads": 6,
                "forks": 8,
                "delay_us": (i * 150) // n,
                "server": True,
                "method": method,
                "overlap": not UNDER_ASAN,
            },
        )
        for i in range(n)
    ]


def test_os_fork_during_first_calls():
    run_many(_fork_runs("os.fork", count(80)))


def test_multiprocessing_fork_during_first_calls():
    run_many(_fork_runs("multiprocessing", count(150)))


def test_fork_while_another_thread_holds_the_time_zone_lock(tmp_path):
    """Found by the fork tests above (a child hung in gmtime_r, on glibc's tzset_lock, which a
    parent thread held at fork time), made certain here: a thread parks inside tzset()."""
    run_many([("fork_while_time_zone_lock_held", {"tmpdir": str(tmp_path)})])


# ---- the private surface ----------------------------------------------------------------------


def test_uninitialised_and_reinitialised_objects():
    run_many([("uninitialised_objects", {"server": True})])


def test_reinit_while_other_threads_call():
    run_many([("reinit_under_threads", {"threads": 4, "seconds": 1.0, "server": True})])
