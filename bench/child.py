"""Measurements that need a fresh interpreter; run by bench/run.py, one per process:

    python bench/child.py MODE MODULE [URL [BODY_BYTES | CALLS [CA_FILE] | ITEMS]]

MODULE is sagemaker_rt_c or boto3. Prints one Python literal (a dict). Imports nothing but
sys, os and time before it measures, so the module under test pays for all it loads.

    import        seconds for `import MODULE`
    client        seconds for the first client (after the import)
    cold          seconds from before the import to the end of the first invoke_endpoint at URL
    rss           RSS before the import, and after import plus one client (sagemaker_rt_c: with
                  libcurl and OpenSSL loaded, as they are once the client has been used); with
                  URL, after one call to it as well
    rss_libs      RSS before and after loading the shared libraries sagemaker_rt_c loads
                  (ctypes) and making the library calls its loader makes (curl_global_init,
                  one multi and easy handle, SHA-256 and HMAC): the floor under rss (MODULE
                  ignored)
    body_mem      after one small warm-up call at URL: the peak RSS while a BODY_BYTES body is
                  made and sent, minus the RSS before it was made (VmHWM reset first)
    batch_mem     after one small warm-up call at URL: the peak RSS while a generator of ITEMS
                  requests goes through invoke_endpoint_batch (max_concurrency=32, each result
                  taken and dropped), minus the RSS before (VmHWM reset first)
    syscalls      CALLS invoke_endpoint calls at URL (CA_FILE verifying an https URL) after 20
                  warm-up calls, with perf's counters enabled around them only (through the
                  control pipe in SMRT_PERF_CTL, see bench/context.py count_syscalls)
"""

import os
import sys
import time

KW = dict(region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x" * 40)


def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def make_client(mod, **kw):
    return mod.client("sagemaker-runtime", **KW, **kw)


def invoke(client, body):
    out = client.invoke_endpoint(EndpointName="bench", Body=body, ContentType="application/json")
    out["Body"].read()


def perf_ctl(command):
    """Tell perf stat (--control fd:CTL,ACK) to enable or disable its counters; wait for it.
    Through pwritev2 and preadv2 (os.pwritev, os.preadv at offset -1: a plain write and read),
    which no HTTP client makes: the counter takes them out exactly (count_syscalls)."""
    ctl, ack = (int(x) for x in os.environ["SMRT_PERF_CTL"].split(","))
    os.pwritev(ctl, [command.encode() + b"\n"], -1)
    buf = bytearray(16)
    if not buf[: os.preadv(ack, [buf], -1)].startswith(b"ack"):
        raise SystemExit("perf did not acknowledge " + command)


def main():
    mode, name = sys.argv[1], sys.argv[2]
    url = sys.argv[3] if len(sys.argv) > 3 else None
    if mode == "import":
        t = time.perf_counter()
        __import__(name)
        return {"seconds": time.perf_counter() - t}
    if mode == "client":
        mod = __import__(name)
        t = time.perf_counter()
        make_client(mod)
        return {"seconds": time.perf_counter() - t}
    if mode == "cold":
        t = time.perf_counter()
        mod = __import__(name)
        invoke(make_client(mod, endpoint_url=url), b'{"inputs": [1]}')
        return {"seconds": time.perf_counter() - t}
    if mode == "rss":
        before = status("VmRSS")
        mod = __import__(name)
        client = make_client(mod, endpoint_url=url)
        if name == "sagemaker_rt_c":
            mod._core.wait_loaded()
        if url:
            invoke(client, b'{"inputs": [1]}')
        after = status("VmRSS")
        return {"before": before, "after": after, "extra": after - before}
    if mode == "rss_libs":
        # The floor under rss: the shared libraries the package loads (libcurl and libcrypto,
        # with everything they pull in) and curl_global_init, as csrc/dyn.c does, nothing else.
        import ctypes

        before = status("VmRSS")
        vp = ctypes.c_void_p
        crypto = ctypes.CDLL("libcrypto.so.3")
        curl = ctypes.CDLL("libcurl.so.4")
        if curl.curl_global_init(ctypes.c_long(3)) != 0:  # CURL_GLOBAL_DEFAULT
            raise SystemExit("curl_global_init failed")
        # The library calls csrc/dyn.c's loader makes: one multi and one easy handle, the
        # SHA-256 and HMAC fetches, one digest and one HMAC (OpenSSL sets up its provider's
        # method stores on first use).
        for f in ("curl_multi_init", "curl_easy_init"):
            getattr(curl, f).restype = vp
        curl.curl_multi_cleanup.argtypes = curl.curl_easy_cleanup.argtypes = [vp]
        m, h = curl.curl_multi_init(), curl.curl_easy_init()
        curl.curl_easy_cleanup(h)
        curl.curl_multi_cleanup(m)
        crypto.EVP_MD_fetch.restype = crypto.EVP_MAC_fetch.restype = crypto.HMAC.restype = vp
        crypto.EVP_MD_fetch.argtypes = crypto.EVP_MAC_fetch.argtypes = [vp, ctypes.c_char_p, vp]
        md = crypto.EVP_MD_fetch(None, b"SHA256", None)
        mac = crypto.EVP_MAC_fetch(None, b"HMAC", None)
        out, n = ctypes.create_string_buffer(64), ctypes.c_uint(0)
        crypto.EVP_Digest.argtypes = [ctypes.c_char_p, ctypes.c_size_t, vp, vp, vp, vp]
        crypto.HMAC.argtypes = [vp, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
        crypto.HMAC.argtypes += [ctypes.c_size_t, vp, vp]
        if not (md and mac and crypto.EVP_Digest(b"x", 1, out, ctypes.byref(n), md, None)):
            raise SystemExit("SHA-256 is not available")
        if not crypto.HMAC(md, b"k", 1, b"x", 1, out, ctypes.byref(n)):
            raise SystemExit("HMAC is not available")
        after = status("VmRSS")
        return {"before": before, "after": after, "extra": after - before}
    if mode == "body_mem":
        size = int(sys.argv[4])
        mod = __import__(name)
        client = make_client(mod, endpoint_url=url)
        invoke(client, b'{"inputs": [1]}')
        import gc

        gc.collect()
        before = status("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # VmHWM := VmRSS
        body = b"\x01" * size  # the caller's body: every page touched
        invoke(client, body)
        peak = status("VmHWM")
        return {"before": before, "peak": peak, "extra": peak - before}
    if mode == "batch_mem":
        items = int(sys.argv[4])
        client = make_client(__import__(name), endpoint_url=url)
        invoke(client, b'{"inputs": [1]}')
        body = b'{"inputs": [[0.5, 0.25, 0.125, 0.0625, 1.5, 2.5, 3.5, 4.5]]}'  # SMALL_BODY

        def requests():
            for _ in range(items):
                yield {"EndpointName": "bench", "Body": body, "ContentType": "application/json"}

        import gc

        gc.collect()
        before = status("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # VmHWM := VmRSS
        done = 0
        for r in client.invoke_endpoint_batch(requests(), max_concurrency=32):
            if isinstance(r, BaseException):
                raise r
            done += 1
        peak = status("VmHWM")
        if done != items:
            raise SystemExit(f"{done} results for {items} requests")
        return {"before": before, "peak": peak, "extra": peak - before}
    if mode == "syscalls":
        calls = int(sys.argv[4])
        kw = {"verify": sys.argv[5]} if len(sys.argv) > 5 else {}
        client = make_client(__import__(name), endpoint_url=url, **kw)
        body = b'{"inputs": [[0.5, 0.25, 0.125, 0.0625, 1.5, 2.5, 3.5, 4.5]]}'  # SMALL_BODY
        for _ in range(20):
            invoke(client, body)
        perf_ctl("enable")
        for _ in range(calls):
            invoke(client, body)
        perf_ctl("disable")
        return {"calls": calls}
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    print(repr(main()))
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: nothing measured happens there
