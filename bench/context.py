"""What the workloads share: the nginx server (plain HTTP and TLS), the clients, the bare
libcurl programs (compiled here with gcc against the system's libcurl), the request headers
captured from the wire, fresh interpreters, and system-call counting (perf). Everything is
made on first use and kept for the whole run."""

import ast
import asyncio
import contextlib
import functools
import hashlib
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from nginx_util import Nginx, ensure_tool  # noqa: E402

CREDS = dict(
    region_name="us-east-1",
    aws_access_key_id="AKIDEXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
)
SMALL_BODY = b'{"inputs": [[0.5, 0.25, 0.125, 0.0625, 1.5, 2.5, 3.5, 4.5]]}'
PROGRAMS = ("curl_loop", "curl_multi")


def clean_env(package_root=ROOT):
    """The environment for child processes: bytecode caches allowed (a user has them), no
    AWS settings or config files of this machine, no preloaded sanitizer runtime."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for k in ("PYTHONDONTWRITEBYTECODE", "LD_PRELOAD", "PYTHONPATH"):
        env.pop(k, None)
    env["PYTHONPATH"] = package_root
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["BOTO_DISABLE_CRT"] = "true"  # boto3 without the [crt] extra, as pip installs it
    return env


def build_program(name):
    """Compile bench/NAME.c (gcc -O2, pkg-config libcurl) into a cache directory, once per
    version of the source. Returns the binary's path."""
    src = os.path.join(HERE, name + ".c")
    with open(src, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    cache = os.path.join(tempfile.gettempdir(), f"smrt-bench-{os.getuid()}")
    os.makedirs(cache, exist_ok=True)
    out = os.path.join(cache, f"{name}-{digest}")
    if not os.path.exists(out):
        try:
            flags = subprocess.run(
                ["pkg-config", "--cflags", "--libs", "libcurl"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
        except (OSError, subprocess.CalledProcessError) as e:
            raise SystemExit(
                "the bare libcurl programs need gcc, pkg-config and libcurl's headers "
                "(Debian: apt-get install gcc pkg-config libcurl4-openssl-dev; "
                f"`make system-deps`): {e}"
            ) from None
        tmp = out + f".{os.getpid()}.tmp"
        subprocess.run(["gcc", "-O2", "-o", tmp, src, *flags], check=True)
        os.replace(tmp, out)
    return out


def capture_request_headers(client, base_url, body):
    """The header lines `client` sends for invoke_endpoint(EndpointName='bench', Body=body,
    ContentType='application/json'), captured once from the wire, as "Name: value" lines for
    the bare loops to send verbatim with base_url's Host. libcurl formats every header byte it
    sends: a floor sending fewer bytes would measure the request's size, not our work."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    captured = {}

    def serve():
        conn, _ = srv.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, rest = data.partition(b"\r\n\r\n")
        captured["head"] = head.decode("latin-1")
        length = 0
        for line in captured["head"].split("\r\n")[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        while len(rest) < length:
            chunk = conn.recv(1 << 20)
            if not chunk:
                break
            rest += chunk
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        conn.close()

    t = threading.Thread(target=serve)
    t.start()
    port = srv.getsockname()[1]
    try:
        client(f"http://127.0.0.1:{port}").invoke_endpoint(
            EndpointName="bench", Body=body, ContentType="application/json"
        )["Body"].read()
    finally:
        t.join(10)
        srv.close()
    host = base_url.split("://", 1)[1].split("/")[0]
    lines = []
    for line in captured["head"].split("\r\n")[1:]:
        name = line.split(":", 1)[0].lower()
        if name == "content-length":
            continue  # libcurl adds it
        if name == "host":
            line = f"Host: {host}"
        lines.append(line)
    # The client suppresses libcurl's defaults (Accept: */*, Expect): so does the loop.
    if not any(x.lower().startswith("accept:") for x in lines):
        lines.append("Accept:")
    return lines


def write_header_file(lines):
    fd, path = tempfile.mkstemp(prefix="smrt-bench-headers-", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def curl_loop_cmd(binary, url, body_len, calls, header_file=None, ca_file=None):
    cmd = [binary, url, str(body_len), str(calls)]
    if header_file or ca_file:
        cmd.append(header_file or "-")
    return cmd + ([ca_file] if ca_file else [])


def run_curl_loop(binary, url, body_len, calls, header_file=None, ca_file=None, cpu=False):
    """Seconds per call of the bare easy loop (curl_loop.c); with cpu=True the tuple (wall,
    user CPU, system CPU), seconds per call."""
    cmd = curl_loop_cmd(binary, url, body_len, calls, header_file, ca_file)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=clean_env())
    wall, user, system = (float(x) * 1e-6 for x in out.stdout.split())
    return (wall, user, system) if cpu else wall


def run_curl_multi(binary, url, body_len, concurrency, calls, header_file=None, ca_file=None):
    """Calls per second of the bare multi loop (curl_multi.c) at `concurrency`."""
    cmd = [binary, url, str(body_len), str(concurrency), str(calls)]
    if header_file or ca_file:
        cmd.append(header_file or "-")
    cmd += [ca_file] if ca_file else []
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=clean_env())
    return float(out.stdout)


def per_call(client, body, calls):
    """Seconds per sequential invoke_endpoint (response body read), in this process."""
    invoke = client.invoke_endpoint
    t = time.perf_counter()
    for _ in range(calls):
        invoke(EndpointName="bench", Body=body, ContentType="application/json")["Body"].read()
    return (time.perf_counter() - t) / calls


def per_call_cpu(client, body, calls):
    """(wall, user CPU, system CPU) seconds per sequential invoke_endpoint in this process
    (getrusage of the whole process: its other threads are idle meanwhile). The kernel here
    keeps user and system time by sampling at each scheduler tick (CONFIG_TICK_CPU_ACCOUNTING,
    250 Hz: their sum is exact, the split is a sample), so a split of a few µs per call settles
    only over tens of thousands of calls: callers measure many and compare medians."""
    invoke = client.invoke_endpoint
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    for _ in range(calls):
        invoke(EndpointName="bench", Body=body, ContentType="application/json")["Body"].read()
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    return (
        wall / calls,
        (r1.ru_utime - r0.ru_utime) / calls,
        (r1.ru_stime - r0.ru_stime) / calls,
    )


# ---- system calls ------------------------------------------------------------------------------

# Counted by perf's syscall tracepoint, not strace: strace stops the traced process at every
# system call (ptrace), and while it is stopped the server answers, so the read that would have
# found nothing yet (EAGAIN) and the wait that follows vanish from the count (4 per call over
# TLS under strace where 6 are made untraced). A counting tracepoint stops nothing. One
# tracepoint (raw_syscalls:sys_enter) with a filter per system call: a syscalls:sys_enter_NAME
# event each would cost perf ~30 ms apiece to set up.
SYSCALLS = (
    "poll ppoll select pselect6 epoll_wait epoll_pwait epoll_ctl recvfrom recvmsg recvmmsg read "
    "readv sendto sendmsg sendmmsg write writev futex getrusage clock_gettime gettimeofday "
    "getpid gettid getrandom ioctl fcntl getsockopt setsockopt getsockname getpeername socket "
    "connect close mmap munmap mremap brk madvise mprotect rt_sigprocmask rt_sigaction "
    "sched_yield nanosleep clock_nanosleep openat newfstatat fstat statx"
).split()
# What the measured program talks to perf with (the child's and curl_loop.c's perf_ctl): file
# I/O calls no HTTP client makes, so that they come out of the counts exactly. (Told apart by
# the pipe's fd instead, a syscalls:sys_enter_write event with a filter would cost perf ~50 ms
# to set up in each of the four runs of a round; a plain read and write in the window would
# count 1 to 3 extra calls, depending on which process the scheduler runs first.)
CONTROL = ["pwritev2", "preadv2"]


@functools.cache
def syscall_numbers():
    """{name: number} for SYSCALLS and CONTROL on this machine's architecture, from its C
    headers."""
    out = subprocess.run(
        ["gcc", "-E", "-dM", "-"],
        input="#include <sys/syscall.h>\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    nr = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].startswith("__NR_") and parts[2].isdigit():
            nr[parts[1][5:]] = int(parts[2])
    return {n: nr[n] for n in SYSCALLS + CONTROL if n in nr}


def count_syscalls(cmd, calls, env=None):
    """Run cmd under `perf stat` and return {syscall: count per call}, with "total" (every
    system call) and "other" (those not in SYSCALLS), zeros left out. cmd enables the
    counters around its `calls` measured calls through the control pipe named in SMRT_PERF_CTL
    ("CTL_FD,ACK_FD": pwritev2 "enable\\n" or "disable\\n", preadv2 perf's ack), so
    start-up, the connection and warm-up are not counted, nor are those control calls."""
    perf = ensure_tool("perf", "linux-perf")
    numbers = syscall_numbers()
    names = list(numbers)
    events = ["-e", "raw_syscalls:sys_enter"]
    for n in names:  # perf prints the counts in this order, without the filters
        events += ["-e", "raw_syscalls:sys_enter", "--filter", f"id == {numbers[n]}"]
    ctl_r, ctl_w = os.pipe()
    ack_r, ack_w = os.pipe()
    fd, out_path = tempfile.mkstemp(prefix="smrt-bench-perf-", suffix=".csv")
    os.close(fd)
    env = dict(env if env is not None else clean_env())
    env["SMRT_PERF_CTL"] = f"{ctl_w},{ack_r}"
    args = [perf, "stat", "-x", ",", "-o", out_path, "-D", "-1"]
    args += ["--control", f"fd:{ctl_r},{ack_w}", *events, "--", *cmd]
    try:
        p = subprocess.run(
            args, env=env, pass_fds=(ctl_r, ctl_w, ack_r, ack_w), capture_output=True, text=True
        )
        if p.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} failed (counting system calls takes root, or "
                f"kernel.perf_event_paranoid=-1 and a readable tracefs):\n{p.stderr}"
            )
        with open(out_path) as f:
            values = [x.split(",")[0] for x in f.read().splitlines() if "raw_syscalls" in x]
    finally:
        for x in (ctl_r, ctl_w, ack_r, ack_w):
            os.close(x)
        os.unlink(out_path)
    if len(values) != len(names) + 1 or not all(v.isdigit() for v in values):
        raise RuntimeError(f"perf could not count the system calls: {values}\n{p.stderr}")
    counts = dict(zip(["total", *names], map(int, values), strict=True))
    for n in CONTROL:
        counts["total"] -= counts.pop(n, 0)
    counts["other"] = counts["total"] - sum(counts[n] for n in names if n in counts)
    return {k: v / calls for k, v in counts.items() if v}


def throughput(client, threads, calls_per_thread, body):
    """Calls per second of `threads` threads sharing `client`, each making calls_per_thread
    sequential calls (timed from a common start to the last one's end)."""
    start = threading.Barrier(threads + 1)
    errors = []

    def work():
        invoke = client.invoke_endpoint
        start.wait()
        try:
            for _ in range(calls_per_thread):
                invoke(EndpointName="bench", Body=body, ContentType="application/json")[
                    "Body"
                ].read()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return threads * calls_per_thread / elapsed


def invoke_requests(calls, body):
    """A generator of `calls` invoke_endpoint keyword dicts, each made as it is taken (as a
    user's generator over records would)."""
    for _ in range(calls):
        yield {"EndpointName": "bench", "Body": body, "ContentType": "application/json"}


def batch_rate(client, concurrency, calls, body):
    """Calls per second of client.invoke_endpoint_batch over a generator of `calls` requests,
    every result taken (a failed call raises here)."""
    t0 = time.perf_counter()
    done = 0
    for r in client.invoke_endpoint_batch(
        invoke_requests(calls, body), max_concurrency=concurrency
    ):
        if isinstance(r, BaseException):
            raise r
        done += 1
    elapsed = time.perf_counter() - t0
    if done != calls:
        raise RuntimeError(f"invoke_endpoint_batch yielded {done} results for {calls} requests")
    return calls / elapsed


async def aio_calls(client, concurrency, calls, body):
    """`calls` invoke_endpoint calls (each Body read) by `concurrency` tasks sharing one
    sagemaker_rt_c.aio client, timed from a common start to the last one's end: calls per
    second (what bench/aiobotocore_peer.py does with aiobotocore)."""
    per_task, extra = divmod(calls, concurrency)

    async def work(n):
        for _ in range(n):
            resp = await client.invoke_endpoint(
                EndpointName="bench", Body=body, ContentType="application/json"
            )
            await resp["Body"].read()

    t0 = time.perf_counter()
    await asyncio.gather(*(work(per_task + (i < extra)) for i in range(concurrency)))
    return calls / (time.perf_counter() - t0)


# aiobotocore's newest release (3.10.0) pins botocore to >=1.43.115,<1.43.118, not this
# project's 1.44.8: it runs from a virtual environment of its own (bench/aiobotocore_peer.py).
AIOBOTOCORE = "aiobotocore==3.10.0"
AIOBOTOCORE_VENV = os.path.join(HERE, ".venv-aiobotocore")


def aiobotocore_python():
    """The interpreter of bench/.venv-aiobotocore, made (python -m venv, pip install
    AIOBOTOCORE) when missing or of another pin."""
    python = os.path.join(AIOBOTOCORE_VENV, "bin", "python")
    stamp = os.path.join(AIOBOTOCORE_VENV, "installed.txt")
    try:
        with open(stamp) as f:
            if f.read().strip() == AIOBOTOCORE:
                return python
    except OSError:
        pass
    print(f"making {AIOBOTOCORE_VENV} ({AIOBOTOCORE})", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", AIOBOTOCORE_VENV], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", AIOBOTOCORE], check=True)
    with open(stamp, "w") as f:
        f.write(AIOBOTOCORE + "\n")
    return python


def pool_rate(client, threads, calls, body):
    """Calls per second of what a boto3 user writes for a batch: a ThreadPoolExecutor of
    `threads` mapping invoke_endpoint (each Body read) over the same generator, the pool made
    and shut down within the timing (as in `with ThreadPoolExecutor(N) as ex: ...`)."""
    from concurrent.futures import ThreadPoolExecutor

    invoke = client.invoke_endpoint

    def call(kw):
        return invoke(**kw)["Body"].read()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as ex:
        done = sum(1 for _ in ex.map(call, invoke_requests(calls, body)))
    elapsed = time.perf_counter() - t0
    if done != calls:
        raise RuntimeError(f"the pool answered {done} of {calls} calls")
    return calls / elapsed


class Env:
    """Shared state of one benchmark run (see module docstring). `round` and `warmup` are set
    by the runner; workloads scale their counts with count()."""

    def __init__(self, quick, package_root=ROOT, pin=True):
        self.quick = quick
        self.pin = pin
        self.package_root = package_root
        self.round = 0
        self.warmup = False
        self._nginx = None
        self._clients = {}
        self._headers = {}
        self._programs = {}
        self._files = []
        self._stream_server = None
        self._aio = {}

    # -- counts and order -----------------------------------------------------------------
    def count(self, quick, full):
        """How many iterations: `quick` or `full` by mode, a fifth of quick when warming up."""
        if self.warmup:
            return max(1, quick // 5)
        return quick if self.quick else full

    def ordered(self, **contenders):
        """Run the zero-argument functions in an order rotated every round (so no contender is
        always first); returns {name: result}."""
        names = list(contenders)
        k = max(self.round, 0) % len(names)
        return {n: contenders[n]() for n in names[k:] + names[:k]}

    def alternate(self, slices, **contenders):
        """Run each zero-argument function `slices` times, the contenders alternating (ABC,
        CBA, ABC ... from a start rotated every round), and return {name: mean result} (a
        tuple of figures is averaged figure by figure). Each function measures 1/slices of the
        round's work: when the machine's state changes mid-round (loopback latency here swings
        2-3x), every contender sees both states."""
        names = list(contenders)
        k = max(self.round, 0) % len(names)
        names = names[k:] + names[:k]
        out = {n: [] for n in names}
        for i in range(slices):
            for n in names if i % 2 == 0 else reversed(names):
                out[n].append(contenders[n]())

        def mean(v):
            if isinstance(v[0], tuple):
                return tuple(sum(x) / len(x) for x in zip(*v, strict=True))
            return sum(v) / len(v)

        return {n: mean(v) for n, v in out.items()}

    @contextlib.contextmanager
    def pinned(self, split=False):
        """Run the block with this process (the threads and programs it starts after this
        point too) and nginx's worker on one CPU, or with split=True on two different CPUs
        (nginx on the first, the client on the second). On a small VM a wake-up across CPUs
        costs tens of microseconds each way and the scheduler moves the two ends between
        placements every few hundred milliseconds (the bare loop: ~25 µs per call on one
        CPU, ~60 µs across two): with a fixed placement ratios stop swinging. A no-op with
        pin=False or fewer than two CPUs for split."""
        cpus = sorted(os.sched_getaffinity(0))
        if not self.pin or (split and len(cpus) < 2):
            yield
            return
        _ = self.url  # nginx started
        server_cpu, client_cpu = cpus[0], cpus[1] if split else cpus[0]
        mine = os.sched_getaffinity(0)
        workers = {pid: os.sched_getaffinity(pid) for pid in self._nginx.worker_pids()}
        try:
            for pid in workers:
                os.sched_setaffinity(pid, {server_cpu})
            os.sched_setaffinity(0, {client_cpu})
            yield
        finally:
            os.sched_setaffinity(0, mine)
            for pid, cpus in workers.items():
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(pid, cpus)

    # -- the server and the clients --------------------------------------------------------
    @property
    def url(self):
        if self._nginx is None:
            self._nginx = Nginx(tls=True).start()
        return self._nginx.url

    @property
    def tls_url(self):
        """The same nginx over HTTPS (TLS 1.3, a certificate made for this run)."""
        _ = self.url
        return self._nginx.tls_url

    @property
    def ca_file(self):
        """The CA bundle that verifies tls_url."""
        _ = self.url
        return self._nginx.ca_file

    def base_url(self, tls=False):
        return self.tls_url if tls else self.url

    @property
    def invoke_url(self):
        return self.url + "/endpoints/bench/invocations"

    def invoke_url_of(self, tls=False):
        return self.base_url(tls) + "/endpoints/bench/invocations"

    def ours(self, pool=None, endpoint_url=None, tls=False):
        """A sagemaker_rt_c client (cached) against nginx (over TLS with tls=True, the run's
        CA verifying it), or endpoint_url; pool sets max_pool_connections."""
        key = ("ours", pool, endpoint_url, tls)
        if key not in self._clients:
            import sagemaker_rt_c

            cfg = sagemaker_rt_c.Config(max_pool_connections=pool) if pool else None
            self._clients[key] = sagemaker_rt_c.client(
                "sagemaker-runtime",
                endpoint_url=endpoint_url or self.base_url(tls),
                config=cfg,
                **self._tls_kw(tls),
                **CREDS,
            )
        return self._clients[key]

    def boto(self, pool=None, endpoint_url=None, tls=False):
        key = ("boto3", pool, endpoint_url, tls)
        if key not in self._clients:
            import boto3
            from botocore.config import Config

            cfg = Config(max_pool_connections=pool) if pool else None
            self._clients[key] = boto3.client(
                "sagemaker-runtime",
                endpoint_url=endpoint_url or self.base_url(tls),
                config=cfg,
                **self._tls_kw(tls),
                **CREDS,
            )
        return self._clients[key]

    def aio(self, pool, tls=False):
        """(loop, client): a sagemaker_rt_c.aio client (max_pool_connections=pool) on an
        event loop of its own (asyncio's default), both kept for the run: the client is bound
        to the loop of its first call."""
        key = ("aio", pool, tls)
        if key not in self._aio:
            from sagemaker_rt_c import Config
            from sagemaker_rt_c.aio import get_session

            loop = asyncio.new_event_loop()
            ctx = get_session().create_client(
                "sagemaker-runtime",
                endpoint_url=self.base_url(tls),
                config=Config(max_pool_connections=pool),
                **self._tls_kw(tls),
                **CREDS,
            )
            self._aio[key] = (loop, loop.run_until_complete(ctx))
        return self._aio[key]

    def aio_rate(self, concurrency, calls, body, tls=False):
        """Calls per second of `concurrency` tasks on one aio client (aio_calls)."""
        loop, client = self.aio(concurrency, tls)
        return loop.run_until_complete(aio_calls(client, concurrency, calls, body))

    def aiobotocore_rate(self, body_len, concurrency, calls, tls=False):
        """Calls per second of aiobotocore, `concurrency` tasks on one client, in its own
        interpreter (bench/aiobotocore_peer.py; its process start is not timed)."""
        cmd = [
            aiobotocore_python(),
            os.path.join(HERE, "aiobotocore_peer.py"),
            self.base_url(tls),
            str(body_len),
            str(concurrency),
            str(calls),
        ]
        cmd += [self.ca_file] if tls else []
        env = clean_env()
        env.pop("PYTHONPATH")  # its own botocore, nothing of this project
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr}")
        return float(out.stdout.strip().splitlines()[-1])

    @property
    def stream_url(self):
        """bench/stream_server.py, started once: a server of event streams (its own process)."""
        if self._stream_server is None:
            proc = subprocess.Popen(
                [sys.executable, os.path.join(HERE, "stream_server.py")],
                stdout=subprocess.PIPE,
                text=True,
            )
            port = int(proc.stdout.readline())
            self._stream_server = (proc, f"http://127.0.0.1:{port}")
        return self._stream_server[1]

    def _tls_kw(self, tls):
        return {"verify": self.ca_file} if tls else {}

    def plain_clients(self):
        """(ours, boto3) without an endpoint URL (signing, presigning: no network)."""
        import boto3

        import sagemaker_rt_c

        key = ("plain",)
        if key not in self._clients:
            self._clients[key] = (
                sagemaker_rt_c.client("sagemaker-runtime", **CREDS),
                boto3.client("sagemaker-runtime", **CREDS),
            )
        return self._clients[key]

    # -- the bare libcurl floor -------------------------------------------------------------
    def program(self, name):
        if name not in self._programs:
            self._programs[name] = build_program(name)
        return self._programs[name]

    def header_file(self, body_len, tls=False):
        """The file of our client's request headers for a body of body_len bytes (with the
        Host of the TLS server with tls=True)."""
        key = (body_len, tls)
        if key not in self._headers:
            import sagemaker_rt_c

            def factory(url):
                return sagemaker_rt_c.client("sagemaker-runtime", endpoint_url=url, **CREDS)

            lines = capture_request_headers(factory, self.base_url(tls), b"x" * body_len)
            self._headers[key] = write_header_file(lines)
            self._files.append(self._headers[key])
        return self._headers[key]

    def curl_loop_args(self, body_len, calls, same_bytes=True, tls=False):
        """The bare easy loop's command line (over TLS with tls=True)."""
        return curl_loop_cmd(
            self.program("curl_loop"),
            self.invoke_url_of(tls),
            body_len,
            calls,
            self.header_file(body_len, tls) if same_bytes else None,
            self.ca_file if tls else None,
        )

    def curl_loop(self, body_len, calls, same_bytes=True, tls=False, cpu=False):
        """Seconds per call of the bare easy loop; with cpu=True (wall, user, system)."""
        return run_curl_loop(
            self.program("curl_loop"),
            self.invoke_url_of(tls),
            body_len,
            calls,
            self.header_file(body_len, tls) if same_bytes else None,
            self.ca_file if tls else None,
            cpu=cpu,
        )

    def curl_multi(self, body_len, concurrency, calls, tls=False):
        return run_curl_multi(
            self.program("curl_multi"),
            self.invoke_url_of(tls),
            body_len,
            concurrency,
            calls,
            self.header_file(body_len, tls),
            self.ca_file if tls else None,
        )

    # -- fresh interpreters -----------------------------------------------------------------
    def child_cmd(self, mode, module, *args):
        return [sys.executable, os.path.join(HERE, "child.py"), mode, module, *map(str, args)]

    def child_env(self, extra_env=None):
        env = clean_env(self.package_root)
        env.update(extra_env or {})
        return env

    def fresh(self, mode, module, *args, extra_env=None):
        """Run bench/child.py in a new interpreter; returns its dict."""
        cmd = self.child_cmd(mode, module, *args)
        env = self.child_env(extra_env)
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr}")
        return ast.literal_eval(out.stdout.strip().splitlines()[-1])

    def close(self):
        for loop, client in self._aio.values():
            try:
                loop.run_until_complete(client.close())
            finally:
                loop.close()
        self._aio.clear()
        for c in self._clients.values():
            for x in c if isinstance(c, tuple) else (c,):
                try:
                    x.close()
                except Exception:  # noqa: BLE001 - best effort at exit
                    pass
        self._clients.clear()
        if self._nginx is not None:
            self._nginx.stop()
            self._nginx = None
        if self._stream_server is not None:
            self._stream_server[0].kill()
            self._stream_server[0].wait()
            self._stream_server = None
        for f in self._files:
            try:
                os.unlink(f)
            except OSError:
                pass
