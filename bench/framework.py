"""The benchmark framework: a registry of workloads, a runner that interleaves their rounds,
and the statistics (medians of samples, medians of per-round ratios) and targets.

A workload is one function plus one registry line:

    @workload("invoke_small", "invoke_endpoint, small body", kind=TIME)
    def invoke_small(env):
        ...
        return [Sample("boto3", ours_seconds, boto3_seconds), ...]

It is called once per round (after one warm-up call whose samples are dropped) and returns
paired samples: our figure and a named peer's, both measured in that call, so every ratio is
taken between numbers measured back to back. The runner rotates the order of the workloads
from round to round; a workload alternates the order of its own contenders with
`env.ordered(...)`. Kinds: TIME (seconds, lower is better), BYTES (lower is better), RATE
(calls per second, higher is better), COUNT (system calls per call, lower is better).

One measurement may give several figures (wall time, user CPU, system CPU): a sample names
its `metric` ("" for the workload's main figure), and each metric is a row of its own. A sample
may carry a `detail` ({"ours": {...}, "theirs": {...}}: named parts of the figure, such as
system calls by name), summarised as the median of each part over the rounds.

A target is a bound on the median per-round ratio ours/peer of one (workload, peer, metric):

    target("invoke_small", "boto3", "<=", 1 / 20, "at least 20x faster")
    target("invoke_tls", "boto3", "<=", 1 / 50, "at least 50x less", metric="user CPU")
"""

import dataclasses
import statistics
import sys
import time

TIME, BYTES, RATE, COUNT = "time", "bytes", "rate", "count"
OURS = "sagemaker_rt_c"


@dataclasses.dataclass
class Sample:
    """One round's figures: ours and a named peer's (same unit)."""

    peer: str
    ours: float
    theirs: float
    subject: str = OURS  # another name for a reference row (e.g. a floor vs boto3)
    metric: str = ""  # which of the workload's figures ("": its main one)
    detail: dict = None  # {"ours": {part: value}, "theirs": {part: value}}, either optional


@dataclasses.dataclass
class Workload:
    name: str
    title: str
    kind: str
    fn: object
    note: str = ""


@dataclasses.dataclass
class Target:
    workload: str
    peer: str
    op: str  # "<=", "<", ">=" or ">": bound on the median of ours/peer
    bound: float
    text: str
    metric: str = ""

    def met(self, ratio):
        return {
            "<=": ratio <= self.bound,
            "<": ratio < self.bound,
            ">=": ratio >= self.bound,
            ">": ratio > self.bound,
        }[self.op]


REGISTRY = {}
TARGETS = []


def workload(name, title, kind=TIME, note=""):
    """Register fn(env) -> [Sample, ...] under `name` (run order = registration order)."""

    def register(fn):
        if name in REGISTRY:
            raise ValueError(f"workload {name!r} registered twice")
        REGISTRY[name] = Workload(name, title, kind, fn, note)
        return fn

    return register


def target(workload_name, peer, op, bound, text, metric=""):
    TARGETS.append(Target(workload_name, peer, op, bound, text, metric))


def select(only=None):
    if not only:
        return list(REGISTRY.values())
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise SystemExit(f"unknown workload(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    return [REGISTRY[n] for n in names]


def run(workloads, env, rounds, log=sys.stderr):
    """Interleave: round r runs every workload once (rotated order), after a warm-up round.
    Returns {name: [[Sample, ...] per round]}."""
    raw = {w.name: [] for w in workloads}
    t0 = time.monotonic()
    for r in range(-1, rounds):
        env.round = r
        env.warmup = r < 0
        k = max(r, 0) % len(workloads)
        for w in workloads[k:] + workloads[:k]:
            t = time.monotonic()
            samples = w.fn(env)
            if not env.warmup:
                raw[w.name].append(samples)
            if log:
                what = "warm-up" if env.warmup else f"round {r + 1}/{rounds}"
                took = time.monotonic() - t
                print(f"  {what:>12} {w.name:<16} {took:6.2f} s", file=log, flush=True)
    if log:
        print(f"  done in {time.monotonic() - t0:.0f} s", file=log, flush=True)
    return raw


def _median_parts(details):
    """{part: median over the rounds} (a part missing from a round counts as 0 there)."""
    parts = []
    for d in details:
        parts += [k for k in d if k not in parts]
    return {k: statistics.median(d.get(k, 0) for d in details) for k in parts}


def summarize(workloads, raw):
    """Per (workload, subject, peer, metric): medians of ours and theirs, and the per-round
    ratios ours/peer (their median, min and max); with the medians of the detail's parts."""
    rows = []
    for w in workloads:
        keys = []
        for samples in raw[w.name]:
            for s in samples:
                if (s.subject, s.peer, s.metric) not in keys:
                    keys.append((s.subject, s.peer, s.metric))
        for subject, peer, metric in keys:
            mine = [
                s
                for samples in raw[w.name]
                for s in samples
                if (s.subject, s.peer, s.metric) == (subject, peer, metric)
            ]
            pairs = [(s.ours, s.theirs) for s in mine]
            ratios = [a / b for a, b in pairs if b]
            row = {
                "workload": w.name,
                "title": w.title,
                "kind": w.kind,
                "note": w.note,
                "subject": subject,
                "peer": peer,
                "metric": metric,
                "ours": statistics.median(a for a, _ in pairs),
                "theirs": statistics.median(b for _, b in pairs),
                "ratio": statistics.median(ratios),
                "ratio_min": min(ratios),
                "ratio_max": max(ratios),
                "rounds": len(pairs),
            }
            detail = {}
            for side in ("ours", "theirs"):
                parts = [s.detail[side] for s in mine if s.detail and side in s.detail]
                if parts:
                    detail[side] = _median_parts(parts)
            if detail:
                row["detail"] = detail
            rows.append(row)
    return rows


def row_key(row):
    """(workload, peer, metric) of a summary row (rows written before metrics: metric "")."""
    return row["workload"], row["peer"], row.get("metric", "")


def check_targets(rows):
    """[(Target, row or None, met)] for every target whose workload ran."""
    by_key = {row_key(r): r for r in rows if r["subject"] == OURS}
    ran = {r["workload"] for r in rows}
    out = []
    for t in TARGETS:
        if t.workload not in ran:
            continue
        row = by_key.get((t.workload, t.peer, t.metric))
        out.append((t, row, row is not None and t.met(row["ratio"])))
    return out
