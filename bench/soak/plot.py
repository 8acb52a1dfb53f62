#!/usr/bin/env python3
"""The soak benchmark's figures and plot (bench/soak/bench.sh; issue 21, part 4).

Reads what one soak left in .data/soak:
  requests.csv  one line per request, written by the load generator as it judged each answer:
                t_ms (since the run's clock started), kind, status, ms (whole answer), ok, reason
  rss.csv       the server every few seconds: epoch, VmRSS (kB), CPU time (ticks), and the
                machine's CPU counters (/proc/stat total and idle)
  meta.json     the run's clock (start_epoch), the mix, Goose's own counts

and prints the figures as one JSON object on stdout (bench/run.sh writes it to
bench/results/soak.json): per request kind over the steady window (after the ramp) count,
errors, error rate, p50/p95/p99/max ms and requests/s; overall; the server's RSS and CPU; the
targets, met or not. Then draws --png: p50 and p95 per kind per 10 s window (log scale), and
below it requests/s, errors and the server's RSS. The totals and the time series come from
the same lines. Percentiles are nearest-rank. A summary goes to stderr.

The figures need only the standard library; the plot needs matplotlib (bench/soak/requirements.txt).
"""
import argparse
import csv
import json
import math
import sys
import tomllib
from collections import Counter, defaultdict

WINDOW_S = 10
TARGET_P95_MS = 200.0
TARGET_ERROR_RATE = 0.001
TARGET_RSS_GROWTH_PCT = 10.0
RSS_SPAN_S = 300  # "over the last 5 minutes"
RATE_TOLERANCE = 0.98  # the load counts as offered when at least this share of the target was sent


def say(msg):
    print(f"bench/soak: {msg}", file=sys.stderr)


def pct(sorted_values, q):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def r(x, d=2):
    return None if x is None else round(x, d)


def read_requests(path):
    """[(t_ms, kind, status, ms, ok, reason)]; a line cut off at the end is skipped."""
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader, None)
        for line in reader:
            try:
                t, kind, status, ms, ok = float(line[0]), line[1], int(line[2]), float(line[3]), line[4] == "1"
            except (IndexError, ValueError):
                continue
            rows.append((t, kind, status, ms, ok, line[5] if len(line) > 5 else ""))
    return rows


def read_samples(path, start_epoch):
    """[(t_s since the run's clock, rss_mb, server_ticks, cpu_total, cpu_idle)]."""
    out = []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                try:
                    out.append((float(row["epoch"]) - start_epoch, int(row["rss_kib"]) / 1024,
                                int(row["server_ticks"]), int(row["cpu_total"]), int(row["cpu_idle"])))
                except (KeyError, TypeError, ValueError):
                    continue
    except FileNotFoundError:
        pass
    return out


def nearest(samples, t):
    return min(samples, key=lambda s: abs(s[0] - t)) if samples else None


def slope_mb_per_min(points):
    """Least-squares slope of (t_s, mb) in MB per minute."""
    if len(points) < 2:
        return None
    n = len(points)
    mt = sum(p[0] for p in points) / n
    mv = sum(p[1] for p in points) / n
    var = sum((p[0] - mt) ** 2 for p in points)
    if var == 0:
        return None
    return sum((p[0] - mt) * (p[1] - mv) for p in points) / var * 60


def versions(lock_path):
    found = {}
    try:
        with open(lock_path, "rb") as f:
            for pkg in tomllib.load(f).get("package", []):
                if pkg.get("name") in ("goose", "reqwest", "tokio", "gatehouse-soak"):
                    found[pkg["name"]] = pkg.get("version")
    except (FileNotFoundError, tomllib.TOMLDecodeError):
        pass
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", required=True)
    ap.add_argument("--rss", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--lock", required=True)
    ap.add_argument("--png", required=True)
    ap.add_argument("--rate", type=int, required=True)
    ap.add_argument("--duration", type=int, required=True)
    ap.add_argument("--ramp", type=int, required=True)
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--accounts", type=int, required=True)
    ap.add_argument("--billing-batch", type=int, required=True)
    ap.add_argument("--audit-batch", type=int, required=True)
    ap.add_argument("--interval", type=int, default=5)
    ap.add_argument("--clk-tck", type=int, default=100)
    ap.add_argument("--title", default="")
    ap.add_argument("--database", default="{}", help="facts the run left in the database (JSON)")
    a = ap.parse_args()

    with open(a.meta, encoding="utf-8") as f:
        meta = json.load(f)
    start_epoch = meta["start_epoch"]
    mix = meta.get("mix_per_mille", {})
    rows = read_requests(a.requests)
    if not rows:
        sys.exit("bench/soak: no request was logged")
    samples = read_samples(a.rss, start_epoch)

    # The steady window: after the ramp, for the run time (Goose's run time starts once every
    # user is running), cut at the last request. The ramp starts with the first request sent
    # (the clock starts before Goose sets up its users).
    first_t = min(t - ms for t, _, _, ms, *_ in rows)
    last_t = max(t for t, *_ in rows)
    steady_from = first_t + a.ramp * 1000.0
    steady_to = min(steady_from + a.duration * 1000.0, last_t)
    steady_s = max(1e-9, (steady_to - steady_from) / 1000)

    kinds = list(mix) + sorted({k for _, k, *_ in rows} - set(mix))
    lat = defaultdict(list)
    errors = Counter()
    statuses = defaultdict(Counter)
    reasons = defaultdict(Counter)
    ramp_count = ramp_errors = 0
    # The time series over the whole run: (window, kind) -> latencies; window -> counts.
    win_lat = defaultdict(list)
    win_count = Counter()
    win_errors = Counter()
    for t, kind, status, ms, ok, reason in rows:
        w = int(t // (WINDOW_S * 1000))
        win_lat[(w, kind)].append(ms)
        win_count[w] += 1
        if not ok:
            win_errors[w] += 1
        if steady_from <= t <= steady_to:
            lat[kind].append(ms)
            statuses[kind][status] += 1
            if not ok:
                errors[kind] += 1
                reasons[kind][reason or f"HTTP {status}"] += 1
        elif t < steady_from:
            ramp_count += 1
            ramp_errors += 0 if ok else 1

    per_kind = {}
    total = sum(len(v) for v in lat.values())
    total_errors = sum(errors.values())
    for kind in kinds:
        values = sorted(lat.get(kind, []))
        n = len(values)
        e = errors.get(kind, 0)
        per_kind[kind] = {
            "count": n,
            "errors": e,
            "error_rate": r(e / n, 5) if n else None,
            "p50_ms": r(pct(values, 0.50)),
            "p95_ms": r(pct(values, 0.95)),
            "p99_ms": r(pct(values, 0.99)),
            "max_ms": r(values[-1]) if values else None,
            "requests_per_s": r(n / steady_s),
            "share_per_mille": {"planned": mix.get(kind), "sent": r(1000 * n / total, 1) if total else None},
            "statuses": {str(s): c for s, c in sorted(statuses[kind].items())},
            **({"errors_by_reason": dict(reasons[kind].most_common(5))} if e else {}),
        }
    all_values = sorted(ms for v in lat.values() for ms in v)
    overall = {
        "requests": total,
        "errors": total_errors,
        "error_rate": r(total_errors / total, 5) if total else None,
        "requests_per_s": r(total / steady_s, 1),
        "target_requests_per_s": a.rate,
        "achieved_share_of_target": r(total / steady_s / a.rate, 3),
        "p50_ms": r(pct(all_values, 0.50)),
        "p95_ms": r(pct(all_values, 0.95)),
        "p99_ms": r(pct(all_values, 0.99)),
        "steady_window_s": [round(steady_from / 1000, 1), round(steady_to / 1000, 1)],
        "first_request_s": round(first_t / 1000, 2),
        "ramp": {"requests": ramp_count, "errors": ramp_errors},
        "whole_run": {"requests": len(rows), "errors": sum(win_errors.values()), "seconds": round(last_t / 1000, 1)},
    }

    # The server: RSS and CPU over the steady window (samples every --interval s).
    lo, hi = steady_from / 1000, steady_to / 1000
    inside = [s for s in samples if lo - a.interval / 2 <= s[0] <= hi + a.interval / 2]
    rss = {"interval_s": a.interval, "samples": len(inside), "target_growth_last_5_min_pct": TARGET_RSS_GROWTH_PCT}
    cpu = {}
    growth = None
    if inside:
        first, end = inside[0], inside[-1]
        span_from = max(lo, end[0] - RSS_SPAN_S)
        base = nearest(inside, span_from)
        at5 = nearest(inside, lo + RSS_SPAN_S) if hi - lo >= RSS_SPAN_S else None
        last5 = [(s[0], s[1]) for s in inside if s[0] >= base[0]]
        growth = (end[1] - base[1]) / base[1] * 100 if base[1] else None
        idle = [s for s in samples if s[0] < first_t / 1000]
        rss.update({
            "before_load_mb": r(idle[-1][1], 1) if idle else None,
            "start_mb": r(first[1], 1),
            "at_5_min_mb": r(at5[1], 1) if at5 else None,
            "end_mb": r(end[1], 1),
            "max_mb": r(max(s[1] for s in inside), 1),
            "last_5_min_from_s": round(base[0], 1),
            "last_5_min_base_mb": r(base[1], 1),
            "growth_last_5_min_pct": r(growth, 2),
            "slope_last_5_min_mb_per_min": r(slope_mb_per_min(last5), 3),
        })
        dt = end[0] - first[0]
        if dt > 0:
            cpu = {
                "server_process_cores": r((end[2] - first[2]) / a.clk_tck / dt, 2),
                "machine_busy_fraction": r(1 - (end[4] - first[4]) / max(1, end[3] - first[3]), 3),
            }
    else:
        say("no RSS sample fell in the steady window")

    p95_ok = {k: (v["p95_ms"] is not None and v["p95_ms"] < TARGET_P95_MS) for k, v in per_kind.items() if v["count"]}
    meets = {
        "p95_below_200_ms_every_kind": bool(p95_ok) and all(p95_ok.values()),
        "p95_below_200_ms_by_kind": p95_ok,
        "error_rate_below_0_1_pct": overall["error_rate"] is not None and overall["error_rate"] < TARGET_ERROR_RATE,
        "kinds_at_or_above_0_1_pct_errors": [k for k, v in per_kind.items()
                                             if v["count"] and v["errors"] / v["count"] >= TARGET_ERROR_RATE],
        "rss_growth_below_10_pct_last_5_min": growth is not None and growth < TARGET_RSS_GROWTH_PCT,
        "load_offered_at_target_rate": overall["achieved_share_of_target"] is not None
        and overall["achieved_share_of_target"] >= RATE_TOLERANCE,
    }
    meets["all"] = all(meets[k] for k in ("p95_below_200_ms_every_kind", "error_rate_below_0_1_pct",
                                          "rss_growth_below_10_pct_last_5_min", "load_offered_at_target_rate"))

    goose = meta.get("goose_requests") or {}
    found = versions(a.lock)
    figures = {
        "tool": (f"Goose {found.get('goose', '0.19')} (Rust; gatehouse-soak, bench/soak/src/main.rs), "
                 f"{a.users} users each paced {a.users}/{a.rate} s apart ({a.rate} requests/s offered), "
                 f"after a {a.ramp} s ramp, {a.duration} s; "
                 "server, PostgreSQL and the load generator on the same machine"),
        "versions": {**found, "python": sys.version.split()[0]},
        "latency": "from sending the request to the last byte of the body (the wait for the user's "
                   "slot excluded); nearest-rank percentiles over the steady window",
        "rate_target_per_s": a.rate,
        "duration_s": a.duration,
        "ramp_s": a.ramp,
        "users": a.users,
        "signin_accounts": a.accounts,
        "ingestion_batch_mean_events": {"billing": a.billing_batch, "audit": a.audit_batch},
        "mix_per_mille": mix,
        "overall": overall,
        "kinds": per_kind,
        "rss": rss,
        "cpu": cpu,
        "targets": {
            "p95_ms_per_kind": TARGET_P95_MS,
            "error_rate": TARGET_ERROR_RATE,
            "rss_growth_last_5_min_pct": TARGET_RSS_GROWTH_PCT,
            "rate_per_s": a.rate,
        },
        "meets": meets,
        "goose_summary": {
            "note": "Goose's own counts after its metrics reset at the end of the ramp (same verdicts)",
            "success": sum(v.get("success", 0) for v in goose.values()),
            "fail": sum(v.get("fail", 0) for v in goose.values()),
        },
        "database": json.loads(a.database or "{}"),
        "lost_log_lines": meta.get("lost_log_lines"),
        "files": {"plot": a.png, "requests": a.requests, "rss": a.rss},
    }

    # The time series, for the plot.
    windows = sorted(win_count)
    series = {
        "t_min": [(w + 0.5) * WINDOW_S / 60 for w in windows],
        "rps": [win_count[w] / WINDOW_S for w in windows],
        "errors": [win_errors[w] for w in windows],
        "kinds": {},
    }
    for kind in kinds:
        p50s, p95s = [], []
        for w in windows:
            values = sorted(win_lat.get((w, kind), []))
            p50s.append(pct(values, 0.5))
            p95s.append(pct(values, 0.95))
        series["kinds"][kind] = (p50s, p95s)
    try:
        draw(a, series, samples, steady_from / 1000, steady_to / 1000, rss)
        figures["plot"] = a.png
    except Exception as e:  # the figures stand without the picture
        figures["plot"] = None
        figures["plot_error"] = f"{type(e).__name__}: {e}"
        say(f"no plot: {figures['plot_error']}")

    say(f"{overall['requests']:,} requests in {steady_s:.0f} s: {overall['requests_per_s']}/s "
        f"(target {a.rate}), {overall['errors']} errors ({(overall['error_rate'] or 0) * 100:.3f} %)")
    for kind, v in per_kind.items():
        say(f"  {kind:38s} {v['count']:>7,} {v['requests_per_s']:>7}/s  p50 {v['p50_ms']} p95 {v['p95_ms']} "
            f"p99 {v['p99_ms']} ms  errors {v['errors']}")
    if inside:
        say(f"server RSS {rss['start_mb']} -> {rss['end_mb']} MB (max {rss['max_mb']}), last 5 min "
            f"{rss['growth_last_5_min_pct']} %; server {cpu.get('server_process_cores')} cores, machine "
            f"{cpu.get('machine_busy_fraction')} busy")
    say("targets: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in meets.items() if isinstance(v, bool)))
    print(json.dumps(figures))


def draw(a, series, samples, steady_from_s, steady_to_s, rss):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(15, 10), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    colours = matplotlib.colormaps["tab20"]
    x = series["t_min"]
    for i, (kind, (p50s, p95s)) in enumerate(series["kinds"].items()):
        colour = colours(i % 20)
        keep = lambda ys: [(t, max(y, 0.1)) for t, y in zip(x, ys) if y is not None]
        p95 = keep(p95s)
        p50 = keep(p50s)
        if not p95:
            continue
        top.plot(*zip(*p95), color=colour, linewidth=1.3, label=kind)
        top.plot(*zip(*p50), color=colour, linewidth=0.8, linestyle=":", alpha=0.8)
    top.axhline(TARGET_P95_MS, color="red", linestyle="--", linewidth=1, label="target: p95 < 200 ms")
    top.set_yscale("log")
    top.set_ylabel("latency per 10 s window, ms (log)\nsolid p95, dotted p50")
    top.grid(True, which="both", alpha=0.25)
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    title = f"Gatehouse soak: {a.rate} requests/s offered for {a.duration} s, {a.users} Goose users"
    top.set_title(f"{title}  ({a.title})" if a.title else title)

    bottom.plot(x, series["rps"], color="black", linewidth=1.2, label="requests/s")
    bottom.axhline(a.rate, color="grey", linestyle="--", linewidth=0.8, label=f"target {a.rate}/s")
    bottom.set_ylabel("requests/s")
    bottom.set_ylim(bottom=0)
    bottom.set_xlabel("minutes since the start (ramp shaded)")
    bottom.grid(True, alpha=0.25)
    errs = bottom.twinx()
    errs.bar(x, series["errors"], width=WINDOW_S / 60 * 0.8, color="red", alpha=0.5, label="errors per 10 s")
    errs.set_ylabel("errors per 10 s window", color="red")
    errs.set_ylim(bottom=0, top=max(5, max(series["errors"] or [0]) * 1.2))
    mem = bottom.twinx()
    mem.spines["right"].set_position(("axes", 1.07))
    if samples:
        mem.plot([s[0] / 60 for s in samples], [s[1] for s in samples], color="green", linewidth=1.2,
                 marker=".", markersize=3, label="server RSS, MB")
    mem.set_ylabel("server RSS, MB", color="green")
    mem.set_ylim(bottom=0)
    if rss.get("last_5_min_from_s") is not None:
        mem.axvline(rss["last_5_min_from_s"] / 60, color="green", linestyle=":", linewidth=0.8)
        mem.annotate(f"last 5 min: {rss.get('growth_last_5_min_pct')} %", (rss["last_5_min_from_s"] / 60, 0),
                     xytext=(4, 6), textcoords="offset points", fontsize=8, color="green")
    for ax in (top, bottom):
        ax.axvspan(0, steady_from_s / 60, color="grey", alpha=0.12)
    handles, labels = [], []
    for ax in (bottom, errs, mem):
        h, l = ax.get_legend_handles_labels()
        handles += h
        labels += l
    bottom.legend(handles, labels, loc="lower left", fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 0.84, 1))
    fig.savefig(a.png, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
