"""Benchmarks: sagemaker_rt_c side by side with what a user would pick instead (boto3,
botocore's and awscrt's signers) and with the floor (bare libcurl programs in C, no signing),
measured in one run, interleaved, against the same keep-alive nginx on loopback, over plain
HTTP and over TLS.

    python bench/run.py --quick               # a few minutes: bench/results/quick.{md,png,json}
    python bench/run.py                       # the full run: bench/results/latest.*, and the
                                              # README's Performance section regenerated
    python bench/run.py --only invoke_small,threads_32     # a subset (printed only)
    python bench/run.py --list                # the workloads

Every figure is compared with a peer measured in the same round: a ratio is taken round by
round and its median reported (absolute times on a shared machine say little). What is
missing is installed: nginx-light and linux-perf (apt-get; perf counts system calls),
boto3, awscrt, matplotlib and cryptography (pip; it makes the run's TLS certificate). The
workloads and targets are in bench/workloads.py, the framework in bench/framework.py.
"""

import argparse
import importlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
sys.path.insert(0, HERE)
# boto3 as `pip install boto3` gives it: botocore switches to awscrt's signers when awscrt is
# importable, and this script installs awscrt for the signing workloads.
os.environ["BOTO_DISABLE_CRT"] = "true"


def ensure_python_packages(names):
    """pip-install (into this interpreter) the packages that do not import."""
    missing = []
    for module, dist in names:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(dist)
    if missing:
        print(f"installing {', '.join(missing)} (pip)", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)
        importlib.invalidate_caches()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds and calls")
    ap.add_argument("--rounds", type=int, help="rounds (default: 5 quick, 15 full)")
    ap.add_argument("--only", help="comma-separated workload names")
    ap.add_argument("--list", action="store_true", help="list the workloads and exit")
    ap.add_argument("--name", help="results file name (default: quick, latest; none with --only)")
    ap.add_argument("--no-readme", action="store_true", help="full run: leave README.md alone")
    ap.add_argument("--package-root", default=ROOT, help="where sagemaker_rt_c is imported from")
    ap.add_argument(
        "--no-pin", action="store_true", help="sequential workloads: do not share one CPU"
    )
    ap.add_argument("--package-label", help="how to name the package measured (default: git)")
    args = ap.parse_args(argv)

    sys.path.insert(0, os.path.abspath(args.package_root))
    import framework
    import workloads  # noqa: F401  (registers the workloads)

    if args.list:
        for w in framework.REGISTRY.values():
            print(f"{w.name:<16} {w.title}")
        return 0
    selected = framework.select(args.only)
    ensure_python_packages(
        [
            ("boto3", "boto3"),
            ("awscrt", "awscrt"),
            ("matplotlib", "matplotlib"),
            ("cryptography", "cryptography"),
        ]
    )
    import context
    import report

    mode = "quick" if args.quick else "full"
    rounds = args.rounds or (5 if args.quick else 15)
    name = args.name or (None if args.only else ("quick" if args.quick else "latest"))
    env = context.Env(
        quick=args.quick, package_root=os.path.abspath(args.package_root), pin=not args.no_pin
    )
    print(
        f"{mode} run: {rounds} rounds of {', '.join(w.name for w in selected)}",
        file=sys.stderr,
        flush=True,
    )
    try:
        raw = framework.run(selected, env, rounds)
    finally:
        env.close()
    rows = framework.summarize(selected, raw)
    checks = framework.check_targets(rows)
    mach = report.machine(args.package_label)
    if name:
        md = report.write(RESULTS, name, mode, rounds, mach, selected, raw, rows, checks)
        print(f"wrote {os.path.join(RESULTS, name)}.{{md,png,json}}", file=sys.stderr)
    else:
        md = report.markdown(mode, rounds, mach, rows, checks)
    print(md)
    if name == "latest" and not args.only and not args.no_readme:
        import update_readme

        update_readme.main([])
    return 0


if __name__ == "__main__":
    sys.exit(main())
