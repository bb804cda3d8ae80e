"""Child process for tests/transport/test_interrupt.py: one call that the parent interrupts
with SIGINT.

argv[1] is a JSON spec. The child prints JSON lines: {"event": "calling"} just before the
call; {"event": "caught", ...} with the exception and time.monotonic() when it surfaced (the
clock is system-wide, so the parent compares it with the time it sent the signal); then,
once the parent writes a line to stdin, the outcome of a second call on the same client and
the file descriptors left once the client is closed.
"""

import json
import os
import signal
import sys
import threading
import time


def say(**kw):
    print(json.dumps(kw), flush=True)


def fds():
    return len(os.listdir("/proc/self/fd"))


def main():
    # As an interactive interpreter (or Jupyter's kernel) has it, even when the test runner
    # was started with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    spec = json.loads(sys.argv[1])
    import sagemaker_rt_c
    from sagemaker_rt_c.config import Config

    keys = {}
    if not spec.get("container_credentials"):
        keys = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "S" * 40}
    client = sagemaker_rt_c.client(
        "sagemaker-runtime",
        region_name="us-east-1",
        endpoint_url=spec["url"],
        verify=spec.get("verify"),
        config=Config(**spec.get("config", {})),
        **keys,
    )
    body = b"x" * spec.get("body_size", 2)
    sagemaker_rt_c._core._wait_at_exit()  # the loader thread's files are closed
    baseline = fds()  # the libraries loaded, no connection

    def call(attrs, data=body):
        if spec.get("batch") and attrs == "slow":
            # A batch with every call in flight stalled (and more queued behind them).
            reqs = [dict(EndpointName="e", Body=data, CustomAttributes=attrs)] * spec["batch"]
            results = list(client.invoke_endpoint_batch(reqs, max_concurrency=8))
            return 200, results
        if spec.get("stream") and attrs == "slow":
            # Iterating a response stream that stalls after its first event.
            r = client.invoke_endpoint_with_response_stream(
                EndpointName="e", Body=data, CustomAttributes=attrs
            )
            return r["ResponseMetadata"]["HTTPStatusCode"], list(r["Body"])
        r = client.invoke_endpoint(EndpointName="e", Body=data, CustomAttributes=attrs)
        return r["ResponseMetadata"]["HTTPStatusCode"], r["Body"].read()

    other = {}
    if spec.get("other_thread"):
        # A call in another thread: signals go to the main thread only; this one must finish.
        def run():
            t0 = time.monotonic()
            try:
                other["status"] = call("other")[0]
            except BaseException as e:  # noqa: B036 - reported to the parent
                other["error"] = repr(e)
            other["seconds"] = time.monotonic() - t0

        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.2)
    if spec.get("refreshing_thread"):
        # Another thread holds the credential refresh (its fetch stalls): the main thread's
        # call waits for it.
        t = threading.Thread(target=lambda: _swallow(call, "other"), daemon=True)
        t.start()
        time.sleep(0.3)

    say(event="calling")
    try:
        call("slow", b"x" * spec.get("slow_body_size", len(body)))
    except BaseException as e:  # noqa: B036 - reported to the parent
        say(event="caught", type=type(e).__name__, message=str(e)[:200], at=time.monotonic())
    else:
        say(event="caught", type=None, at=time.monotonic())
    sys.stdin.readline()  # the parent has made the server answer
    if spec.get("other_thread"):
        t.join()
    result = {"event": "after", "other": other}
    try:
        result["status"] = call("fast")[0]
    except BaseException as e:  # noqa: B036 - reported to the parent
        result["error"] = repr(e)
    client.close()
    client = None
    # Every socket (and libcurl's wake-up pair) of both connections is gone; a lookup left to
    # libcurl's resolver thread gives its own back when it ends.
    deadline = time.monotonic() + 5
    while fds() > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    result["fds_left"] = fds() - baseline
    say(**result)


def _swallow(fn, *args):
    try:
        fn(*args)
    except Exception:
        pass


if __name__ == "__main__":
    main()
