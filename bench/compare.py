#!/usr/bin/env python3
"""Compare MLflow and Warden harness results (JSON files of mlflow_compat_bench.py).

usage: compare.py OUT_DIR           (the files run_bench.sh writes: <server>-<size>-<mode>-r<N>[-analyzed].json)

Prints one Markdown table per (size, connection mode): the median over rounds for each server,
and the ratio Warden/MLflow for throughputs, MLflow/Warden for latencies and CPU costs, so a
ratio above 1 always means Warden is better. Also reports how busy the machine was with work
other than the benchmark (client, server and PostgreSQL excluded), since that skews both sides.
Standard library only.
"""

import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

LABEL = re.compile(r"^(?P<server>mlflow|warden)-(?P<size>\w+)-(?P<mode>keepalive|fresh)-r(?P<round>\d+)(?P<analyzed>-analyzed)?$")

# (row name, unit, kind, goal, getter). kind: "thr" higher is better, "lat" lower is better.
# goal: minimum ratio (Warden better by this factor) the project set, or None.


def _get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def _cpu_per(phases, phase, proc, count_path, scale):
    cpu = _get(phases, phase, "resources", proc, "cpu_s")
    count = _get(phases, phase, *count_path)
    if cpu is None or not count:
        return None
    return round(cpu / count * scale, 2)


def _largest_history(phases, variant, stat):
    hist = phases.get("metric_history") or {}
    if not hist:
        return None, None
    n = max(hist, key=lambda k: int(k) if k.isdigit() else -1)
    r = hist[n]
    if not isinstance(r, dict):
        return n, None
    if variant == "ingest":
        return n, r.get("ingest_points_per_s")
    for k, v in r.items():
        if (variant == "full" and k == "full") or (variant == "paged" and k.startswith("paged_")):
            return n, _get(v, "latency", stat)
    return n, None


ROWS = [
    ("runs/create throughput (4 threads)", "runs/s", "thr", None, lambda p: _get(p, "create_runs", "runs_per_s")),
    ("runs/create latency p50", "ms", "lat", None, lambda p: _get(p, "create_runs", "runs_create_latency", "p50_ms")),
    ("experiments/create throughput (4 threads, E seed)", "exp/s", "thr", None,
     lambda p: _get(p, "search_experiments", "create_per_s")),
    ("log-batch ingest (1000 metrics/req, 4 threads)", "metrics/s", "thr", 3.0, lambda p: _get(p, "log_batch", "metrics_per_s")),
    ("log-batch request latency p50", "ms", "lat", None, lambda p: _get(p, "log_batch", "latency", "p50_ms")),
    ("log-batch request latency p95", "ms", "lat", None, lambda p: _get(p, "log_batch", "latency", "p95_ms")),
    ("log-batch server CPU per metric", "µs", "lat", None,
     lambda p: _cpu_per(p, "log_batch", "server", ("metrics_logged",), 1e6)),
    ("log-batch PostgreSQL CPU per metric", "µs", "lat", None,
     lambda p: _cpu_per(p, "log_batch", "postgres", ("metrics_logged",), 1e6)),
    ("log-metric p50 (sequential)", "ms", "lat", None, lambda p: _get(p, "log_metric", "latency", "p50_ms")),
    ("log-metric p95 (sequential)", "ms", "lat", None, lambda p: _get(p, "log_metric", "latency", "p95_ms")),
    ("log-metric sequential rate", "req/s", "thr", None, lambda p: _get(p, "log_metric", "requests_per_s")),
    ("log-metric server CPU per request", "ms", "lat", None,
     lambda p: _cpu_per(p, "log_metric", "server", ("requests",), 1e3)),
    ("get-history {n} points, full p50", "ms", "lat", 1.0, lambda p: _largest_history(p, "full", "p50_ms")),
    ("get-history {n} points, full p95", "ms", "lat", 1.0, lambda p: _largest_history(p, "full", "p95_ms")),
    ("get-history {n} points, paged p50", "ms", "lat", 1.0, lambda p: _largest_history(p, "paged", "p50_ms")),
    ("history ingest, 1 run / 1 key, sequential log-batch", "points/s", "thr", None,
     lambda p: _largest_history(p, "ingest", None)),
    ("experiments/search 100 by last_update_time p50", "ms", "lat", None,
     lambda p: _get(p, "search_experiments", "page_100_by_last_update", "latency", "p50_ms")),
    ("experiments/search name LIKE p50", "ms", "lat", None,
     lambda p: _get(p, "search_experiments", "filter_name_like", "latency", "p50_ms")),
    ("experiments/search list all (1000/page)", "ms", "lat", None,
     lambda p: _get(p, "search_experiments", "list_all_pages_of_1000", "latency", "p50_ms")),
    ("runs/search seed (create + log-batch, 4 threads)", "runs/s", "thr", None,
     lambda p: _get(p, "search_runs", "seed_runs_per_s")),
    ("runs/search filter+order_by p50", "ms", "lat", 1.0, lambda p: _get(p, "search_runs", "filter_and_order", "latency", "p50_ms")),
    ("runs/search filter+order_by p95", "ms", "lat", 1.0, lambda p: _get(p, "search_runs", "filter_and_order", "latency", "p95_ms")),
    ("runs/search no filter p50", "ms", "lat", 1.0, lambda p: _get(p, "search_runs", "no_filter", "latency", "p50_ms")),
    ("runs/search no filter p95", "ms", "lat", 1.0, lambda p: _get(p, "search_runs", "no_filter", "latency", "p95_ms")),
    ("artifact 10 MB PUT", "MB/s", "thr", None, lambda p: _get(p, "artifacts", "10MB", "upload_MBps_p50")),
    ("artifact 10 MB GET", "MB/s", "thr", None, lambda p: _get(p, "artifacts", "10MB", "download_MBps_p50")),
    ("artifact 100 MB PUT", "MB/s", "thr", None, lambda p: _get(p, "artifacts", "100MB", "upload_MBps_p50")),
    ("artifact 100 MB GET", "MB/s", "thr", None, lambda p: _get(p, "artifacts", "100MB", "download_MBps_p50")),
]
ANALYZED_ROWS = [
    ("runs/search filter+order_by p50, after ANALYZE", "ms", "lat", 1.0,
     lambda p: _get(p, "search_runs", "filter_and_order", "latency", "p50_ms")),
    ("runs/search filter+order_by p95, after ANALYZE", "ms", "lat", 1.0,
     lambda p: _get(p, "search_runs", "filter_and_order", "latency", "p95_ms")),
    ("runs/search no filter p50, after ANALYZE", "ms", "lat", 1.0, lambda p: _get(p, "search_runs", "no_filter", "latency", "p50_ms")),
    ("runs/search no filter p95, after ANALYZE", "ms", "lat", 1.0, lambda p: _get(p, "search_runs", "no_filter", "latency", "p95_ms")),
]


def other_load(result) -> float | None:
    """Average cores used by processes other than the harness, the server and PostgreSQL."""
    busy = wall = 0.0
    for phase in result["phases"].values():
        r = phase.get("resources") or {}
        try:
            other = r["machine"]["cpu_s"] - r["server"]["cpu_s"] - r.get("postgres", {}).get("cpu_s", 0) - phase["client_cpu_s"]
        except (KeyError, TypeError):
            return None
        busy += max(other, 0.0)
        wall += phase["phase_wall_s"]
    return round(busy / wall, 2) if wall else None


def fmt(v):
    if v is None:
        return "–"
    if isinstance(v, float) and v >= 100:
        return f"{v:,.0f}"
    return f"{v:,.3g}" if isinstance(v, float) else f"{v:,}"


def value(row, phases):
    name, getter = row[0], row[4]
    out = getter(phases)
    if isinstance(out, tuple):
        n, v = out
        return name.replace("{n}", f"{int(n):,}" if n else "?"), v
    return name, out


def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


def main(out_dir):
    groups = defaultdict(lambda: defaultdict(list))  # (size, mode) -> (server, analyzed) -> [result]
    for path in sorted(Path(out_dir).glob("*.json")):
        try:
            result = json.loads(path.read_text())
        except ValueError:
            continue
        m = LABEL.match(str(result.get("meta", {}).get("label", "")))
        if not m:
            continue
        groups[(m["size"], m["mode"])][(m["server"], bool(m["analyzed"]))].append(result)
    if not groups:
        print(f"no results in {out_dir}")
        return 1
    for (size, mode), by_server in sorted(groups.items()):
        print(f"\n### size {size}, {'keep-alive' if mode == 'keepalive' else 'fresh connection per request (--fresh-connections)'}\n")
        rounds = {s: len(by_server.get((s, False), [])) for s in ("mlflow", "warden")}
        loads = {s: [other_load(r) for r in by_server.get((s, False), [])] for s in ("mlflow", "warden")}
        print(f"rounds: MLflow {rounds['mlflow']}, Warden {rounds['warden']} (median shown). "
              f"Other load on the machine, cores busy: MLflow runs {loads['mlflow']}, Warden runs {loads['warden']}.\n")
        print("| measurement | unit | MLflow | Warden | ratio (>1 = Warden better) | goal |")
        print("|---|---|---|---|---|---|")
        for rows, analyzed in ((ROWS, False), (ANALYZED_ROWS, True)):
            for row in rows:
                unit, kind, goal = row[1], row[2], row[3]
                vals, label = {}, row[0]
                for server in ("mlflow", "warden"):
                    results = by_server.get((server, analyzed), [])
                    named = [value(row, r["phases"]) for r in results]
                    if named:
                        label = named[0][0]
                    vals[server] = median([v for _, v in named])
                m, w = vals["mlflow"], vals["warden"]
                if m is None and w is None:
                    continue
                ratio = None
                if m and w:
                    ratio = round(w / m, 2) if kind == "thr" else round(m / w, 2)
                verdict = ""
                if goal is not None and ratio is not None:
                    verdict = f"≥ {goal:g}×: {'met' if ratio >= goal else '**NOT met**'}"
                print(f"| {label} | {unit} | {fmt(m)} | {fmt(w)} | {fmt(ratio)}{'×' if ratio else ''} | {verdict} |")
        errors = []
        for (server, analyzed), results in by_server.items():
            for r in results:
                for phase, p in r["phases"].items():
                    if p.get("error") or p.get("errors"):
                        errors.append(f"{r['meta']['label']}: {phase}: {p.get('error') or p.get('error_samples')}")
        if errors:
            print("\nFailed phases / request errors:\n")
            for e in errors:
                print(f"- {e}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
