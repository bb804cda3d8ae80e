"""The results: the machine's description, the Markdown table, the PNG plot and the JSON of raw
samples (bench/results/NAME.{md,png,json}).

    python bench/report.py bench/results/latest.json    # redo NAME.md and NAME.png from it
"""

import dataclasses
import datetime
import json
import os
import platform
import re
import subprocess
import sys

from framework import BYTES, COUNT, OURS, RATE, TIME, row_key

FLOOR_WORDS = ("bare libcurl", "SHA-256", "sha256", "the body's size", "budget", "the same batch")


# ---- the machine ------------------------------------------------------------------------------


def _first(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _version(cmd, pattern):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except OSError:
        return None
    m = re.search(pattern, out.stdout + out.stderr)
    return m.group(1) if m else None


def _dist(name):
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def package_version():
    """sagemaker_rt_c's version, and the git commit it was imported from when there is one
    ("+dirty" when its package or C sources differ from that commit)."""
    import sagemaker_rt_c

    root = os.path.dirname(os.path.dirname(os.path.abspath(sagemaker_rt_c.__file__)))
    v = sagemaker_rt_c.__version__
    try:
        commit = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", "sagemaker_rt_c", "csrc"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return v
    return f"{v} ({commit}{'+dirty' if dirty else ''})"


def machine(package_label=None):
    """What the numbers were measured on: CPU, cores, memory, kernel, Python, the libraries."""
    from sagemaker_rt_c import _core

    v = _core.versions()
    curl = re.match(r"libcurl/(\S+)", v.get("libcurl", ""))
    ssl = re.match(r"OpenSSL (\S+)", v.get("openssl", ""))
    mem = _first("/proc/meminfo", "MemTotal")
    return {
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown CPU",
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem.split()[0]) / (1 << 20)) if mem else None,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "libcurl": curl.group(1) if curl else v.get("libcurl"),
        "openssl": ssl.group(1) if ssl else v.get("openssl"),
        "boto3": _dist("boto3"),
        "botocore": _dist("botocore"),
        "awscrt": _dist("awscrt"),
        "nginx": _version(["nginx", "-v"], r"nginx/(\S+)")
        or _version(["/usr/sbin/nginx", "-v"], r"nginx/(\S+)"),
        "gcc": _version(["gcc", "-dumpfullversion"], r"(\S+)"),
        "sagemaker_rt_c": package_label or package_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def machine_line(m):
    mem = f", {m['memory_gib']} GiB" if m.get("memory_gib") else ""
    return (
        f"sagemaker_rt_c {m.get('sagemaker_rt_c')} on "
        f"{m['cpu']} ({m['cores']} cores{mem}), {m['kernel']}, {m['python']}, "
        f"libcurl {m['libcurl']}, OpenSSL {m['openssl']}; peers: boto3 {m['boto3']} "
        f"(botocore {m['botocore']}), awscrt {m['awscrt']}, nginx {m['nginx']} on loopback, "
        f"C floors built with gcc {m['gcc']}"
    )


# ---- formatting ----------------------------------------------------------------------------


def fmt_value(kind, x):
    if kind == TIME:
        if x < 1e-3:
            return f"{x * 1e6:,.1f} µs"
        if x < 1:
            return f"{x * 1e3:,.2f} ms"
        return f"{x:,.2f} s"
    if kind == BYTES:
        if abs(x) >= 1 << 20:
            return f"{x / (1 << 20):,.2f} MiB"
        return f"{x / 1024:,.0f} KiB"
    if kind == COUNT:
        return f"{x:,.2f} syscalls"
    return f"{x:,.0f} calls/s"


def is_floor(peer):
    return any(w in peer for w in FLOOR_WORDS)


def fmt_ratio(kind, peer, r, lo=None, hi=None, metric=""):
    """The ratio ours/peer as read: against another client 'N.Nx faster' (or 'less' memory or
    CPU, 'fewer' system calls) when under 1; against a floor, and otherwise, 'N.NNx its
    time/size/count/throughput'. With lo and hi: the spread, in the same form."""
    if kind == RATE:
        if lo is None:
            return f"{r:.2f}x its throughput" if r < 10 else f"{r:.1f}x its throughput"
        return f"{lo:.2f}–{hi:.2f}x" if hi < 10 else f"{lo:.1f}–{hi:.1f}x"
    if r < 1 and not is_floor(peer):
        word = {TIME: "faster", COUNT: "fewer"}.get(kind, "less")
        if "CPU" in metric:
            word = "less"
        if lo is None:
            return f"{1 / r:.1f}x {word}" if r < 0.5 else f"{1 / r:.2f}x {word}"
        return f"{1 / hi:.1f}–{1 / lo:.1f}x" if lo < 0.5 else f"{1 / hi:.2f}–{1 / lo:.2f}x"
    if lo is None:
        return f"{r:.2f}x its {({TIME: 'time', COUNT: 'count'}).get(kind, 'size')}"
    return f"{lo:.2f}–{hi:.2f}x"


def row_title(r):
    """The workload's title, and the figure's name when the workload has several."""
    return f"{r['title']}: {r['metric']}" if r.get("metric") else r["title"]


def fmt_parts(parts):
    """The total and its parts, largest first, as in 6.00 (poll 2.00, recvfrom 3.00, ...);
    parts under 0.005 left out (in system calls per call: one made once in hundreds of calls,
    such as malloc's brk), the total keeps them."""
    shown = sorted(
        ((k, v) for k, v in parts.items() if k != "total" and v >= 0.005), key=lambda kv: -kv[1]
    )
    inner = ", ".join(f"{k} {v:.2f}" for k, v in shown)
    total = parts.get("total", sum(parts.values()))
    return f"{total:.2f} ({inner})" if inner else f"{total:.2f}"


def details(rows):
    """Markdown lines for the rows that carry a breakdown (their workload's note first)."""
    out, notes = [], []
    for r in rows:
        if not r.get("detail"):
            continue
        if r.get("note") and r["note"] not in notes:
            notes.append(r["note"])
        sides = [(r["subject"], r["detail"].get("ours")), (r["peer"], r["detail"].get("theirs"))]
        text = "; ".join(f"{who}: {fmt_parts(p)}" for who, p in sides if p)
        out.append(f"- {row_title(r)}: {text}")
    return ([" ".join(notes), ""] if notes else []) + out


# ---- Markdown ------------------------------------------------------------------------------


def markdown(mode, rounds, mach, rows, checks, title="Benchmarks"):
    target_of = {(t.workload, t.peer, t.metric): (t, met) for t, _, met in checks}
    out = [
        f"# {title}: sagemaker_rt_c side by side ({mode} run)",
        "",
        f"Machine: {machine_line(mach)}. {mach['date']}, `python bench/run.py"
        f"{' --quick' if mode == 'quick' else ''}`: {rounds} rounds, the workloads and their "
        "contenders interleaved. Figures are medians over the rounds; a ratio is taken round "
        "by round (ours / the peer's, measured back to back) and its median shown, with the "
        "spread (min–max) across rounds.",
        "",
        "| workload | subject | figure | peer | peer's figure | ratio (median) | spread | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        t = target_of.get(row_key(r)) if r["subject"] == OURS else None
        tcell = "" if t is None else (f"{t[0].text}: met" if t[1] else f"{t[0].text}: **missed**")
        subject = r["subject"] if r["subject"] == OURS else f"_{r['subject']}_"
        out.append(
            f"| {row_title(r)} | {subject} | {fmt_value(r['kind'], r['ours'])} | {r['peer']} | "
            f"{fmt_value(r['kind'], r['theirs'])} "
            f"| {fmt_ratio(r['kind'], r['peer'], r['ratio'], metric=r.get('metric', ''))} "
            f"| {fmt_ratio(r['kind'], r['peer'], r['ratio'], r['ratio_min'], r['ratio_max'])} "
            f"| {tcell} |"
        )
    met = [c for c in checks if c[2]]
    missed = [c for c in checks if not c[2]]
    out += ["", f"**Targets: {len(met)} of {len(checks)} met.**"]
    if missed:
        out.append(
            "Missed: "
            + "; ".join(
                f"{t.workload}{f' {t.metric}' if t.metric else ''} vs {t.peer} ({t.text}; median "
                "ratio "
                + (
                    fmt_ratio(row["kind"], t.peer, row["ratio"], metric=t.metric)
                    if row
                    else "not measured"
                )
                + ")"
                for t, row, _ in missed
            )
            + "."
        )
    breakdown = details(rows)
    if breakdown:
        out += ["", *breakdown]
    return "\n".join(out) + "\n"


# ---- the plot ------------------------------------------------------------------------------


def advantage(kind, r):
    """How many times better ours is (> 1: better), from ours/peer."""
    return r if kind == RATE else 1 / r


def plot(path, mode, mach, rows, checks):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    target_of = {(t.workload, t.peer, t.metric): (t, met) for t, _, met in checks}
    mine = [r for r in rows if r["subject"] == OURS]
    thread_rows = [r for r in rows if re.fullmatch(r"threads_\d+", r["workload"])]
    fig, (ax, ax2) = plt.subplots(
        2,
        1,
        figsize=(12, 0.36 * len(mine) + 6.5),
        gridspec_kw={"height_ratios": [max(len(mine), 4), 9]},
        layout="constrained",
    )
    labels, vals, los, his, colors = [], [], [], [], []
    for r in reversed(mine):
        metric = f" ({r['metric']})" if r.get("metric") else ""
        labels.append(f"{r['workload']}{metric} vs {r['peer']}")
        a = advantage(r["kind"], r["ratio"])
        b1 = advantage(r["kind"], r["ratio_min"])
        b2 = advantage(r["kind"], r["ratio_max"])
        vals.append(a)
        los.append(a - min(b1, b2))
        his.append(max(b1, b2) - a)
        t = target_of.get(row_key(r))
        colors.append("#9e9e9e" if t is None else ("#2e7d32" if t[1] else "#c62828"))
    y = range(len(vals))
    ax.barh(y, vals, xerr=[los, his], color=colors, capsize=2)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    for i, r in enumerate(reversed(mine)):
        t = target_of.get(row_key(r))
        if t:
            ax.plot([advantage(r["kind"], t[0].bound)], [i], marker="|", color="black", ms=14)
        ax.text((vals[i] + his[i]) * 1.08, i, f"{vals[i]:.3g}x", va="center", fontsize=7)
    ax.set_yticks(list(y))
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel(
        "how many times better than the peer (time, CPU, memory, system calls or throughput; "
        "log scale)"
    )
    ax.set_title(
        f"sagemaker_rt_c vs its peers ({mode} run): median of the per-round ratios\n"
        "whiskers: min–max over rounds; |: the target; green: met, red: missed, grey: no target",
        fontsize=9,
    )
    if thread_rows:
        series = {}
        for r in thread_rows:
            n = int(r["workload"].split("_")[1])
            series.setdefault(OURS, {})[n] = r["ours"]
            peer = "boto3" if r["peer"].startswith("boto3") else r["peer"]
            series.setdefault(peer, {})[n] = r["theirs"]
        for name, pts in series.items():
            xs = sorted(pts)
            ax2.plot(xs, [pts[x] for x in xs], marker="o", label=name)
        ax2.set_xscale("log", base=2)
        ax2.set_yscale("log")
        ax2.set_xlabel("threads sharing one client (bare multi loop: concurrent transfers)")
        ax2.set_ylabel("calls per second (median)")
        ax2.legend(fontsize=8)
        ax2.grid(True, which="both", alpha=0.3)
    else:
        ax2.axis("off")
    line = machine_line(mach)
    cut = line.find("; peers")
    fig.supxlabel(line[:cut] + "\n" + line[cut + 2 :] if cut > 0 else line, fontsize=7)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---- writing -------------------------------------------------------------------------------


def write(results_dir, name, mode, rounds, mach, workloads, raw, rows, checks):
    os.makedirs(results_dir, exist_ok=True)
    base = os.path.join(results_dir, name)
    md = markdown(mode, rounds, mach, rows, checks)
    data = {
        "mode": mode,
        "rounds": rounds,
        "machine": mach,
        "workloads": {
            w.name: {
                "title": w.title,
                "kind": w.kind,
                "rounds": [[dataclasses.asdict(s) for s in samples] for samples in raw[w.name]],
            }
            for w in workloads
        },
        "summary": rows,
        "targets": [
            {**dataclasses.asdict(t), "ratio": row["ratio"] if row else None, "met": met}
            for t, row, met in checks
        ],
    }
    for ext, text in (("md", md), ("json", json.dumps(data, indent=1) + "\n")):
        with open(f"{base}.{ext}.tmp", "w") as f:
            f.write(text)
        os.replace(f"{base}.{ext}.tmp", f"{base}.{ext}")
    plot(f"{base}.png", mode, mach, rows, checks)
    return md


def rewrite(json_path):
    """Regenerate the Markdown and the plot from a results JSON (same rows, same targets)."""
    import framework
    import workloads  # noqa: F401  (registers the targets)

    with open(json_path) as f:
        data = json.load(f)
    rows = data["summary"]
    checks = framework.check_targets(rows)
    base = json_path[: -len(".json")]
    md = markdown(data["mode"], data["rounds"], data["machine"], rows, checks)
    with open(base + ".md", "w") as f:
        f.write(md)
    plot(base + ".png", data["mode"], data["machine"], rows, checks)
    return md


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    for path in sys.argv[1:]:
        print(rewrite(path))
