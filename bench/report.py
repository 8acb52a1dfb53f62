"""The results page: reads bench/results/*.json and rewrites the table between the markers
in bench/README.md (every benchmark's latest figures: what was measured, its anchor or
baseline, the ratio, the target, whether it is met, the commit and the date), and draws
bench/results/ratios.png (each ratio as a share of its target) when matplotlib is there.
Usage: python3 bench/report.py [--chart]"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def load(name):
    try:
        with open(os.path.join(RESULTS, f"{name}.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def get(d, path):
    for key in path.split("."):
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def rate(x):
    return None if x is None else f"{x:,.0f}/s"


def ms(x):
    return None if x is None else f"{x:,.1f} ms"


def size(x):
    return None if x is None else f"{x / 1000:,.0f} KB"


# Each row: benchmark, what is measured, Gatehouse's figure, the anchor or baseline (its
# name and figure), the ratio, the target, and whether higher ("min") or lower ("max") is
# better. Paths are into the benchmark's JSON.
def rows():
    out = []

    def row(bench, measure, ours, against, theirs, ratio, target, kind="min"):
        d = load(bench)
        if d is None:
            return
        value = ratio(d) if callable(ratio) else get(d, ratio)
        met = None if value is None or target is None else (value >= target if kind == "min" else value <= target)
        out.append({
            "benchmark": bench, "measure": measure, "gatehouse": ours(d), "against": against,
            "anchor": theirs(d) if theirs else "", "ratio": value, "target": target, "kind": kind,
            "met": met, "commit": d.get("commit", ""), "date": (d.get("measured_at") or "")[:10],
        })

    r = lambda path, fmt=rate: (lambda d: fmt(get(d, path)))
    for case, label, edge in [("flag_api_200", "Flag API, 200", "edge_client_features_200"),
                              ("flag_api_304", "Flag API, 304", "edge_client_features_304"),
                              ("ofrep_bulk_200", "OFREP bulk, 200", "edge_frontend_200"),
                              ("ofrep_bulk_304", "OFREP bulk, 304", "edge_frontend_304")]:
        row("flags", label, r(f"{case}.requests_per_sec"), "Unleash Edge 19.15.1",
            r(f"{edge}.requests_per_sec"), f"vs_edge.{case}", 2.0)
        row("flags", label, r(f"{case}.requests_per_sec"), "bare axum, same bytes",
            r("baseline.requests_per_sec"), f"vs_baseline.{case}", 0.8)
    row("tokens", "client-credentials grants", r("client_credentials.requests_per_sec"),
        "node oidc-provider 9.13.3", r("oidc_provider_client_credentials.requests_per_sec"),
        "vs_oidc_provider.client_credentials", 10.0)
    row("tokens", "client-credentials grants", r("client_credentials.requests_per_sec"),
        "bare axum", r("baseline.requests_per_sec"), "vs_baseline.client_credentials", 0.5)
    row("tokens", "introspection", r("introspection.requests_per_sec"),
        "node oidc-provider 9.13.3", r("oidc_provider_introspection.requests_per_sec"),
        "vs_oidc_provider.introspection", None)
    row("tokens", "introspection", r("introspection.requests_per_sec"), "bare axum",
        r("baseline.requests_per_sec"), "vs_baseline.introspection", 0.6)
    for case, label in [("sign_in_returning_device", "password sign-in, returning browser"),
                        ("sign_in_new_device", "password sign-in, new device")]:
        row("login", label, r(f"{case}.requests_per_sec"), "raw argon2id, all cores",
            r("baseline_raw_argon2id.verifications_per_sec"), f"{case}.vs_raw_hash_rate", 0.9)
        row("login", label + " (Postgres on its own core)", r(f"pinned.{case}.requests_per_sec"),
            "raw argon2id, the server's core", r("pinned.baseline_raw_argon2id.verifications_per_sec"),
            f"pinned.{case}.vs_raw_hash_rate", 0.9)
    row("pages", "/login p95 at 32 connections", r("login_page.latency_p95_ms", ms), "/healthz p95",
        r("baseline_healthz.latency_p95_ms", ms), "p95_vs_healthz.login", None, "max")
    row("pages", "/admin/users p95 at 32 connections", r("console_page_admin_users.latency_p95_ms", ms),
        "/healthz p95", r("baseline_healthz.latency_p95_ms", ms), "p95_vs_healthz.admin_users", None, "max")
    row("pages", "wasm, raw bytes", r("wasm.raw_bytes", size), "target 1,000 KB", None,
        lambda d: get(d, "wasm.raw_bytes") and round(get(d, "wasm.raw_bytes") / 1_000_000, 3), 1.0, "max")
    row("pages", "wasm, compressed on the wire", r("wasm.compressed_bytes", size), "target 350 KB", None,
        lambda d: get(d, "wasm.compressed_bytes") and round(get(d, "wasm.compressed_bytes") / 350_000, 3), 1.0, "max")
    for query, label in [("search_surname", "user search, a surname"), ("search_address", "user search, one address")]:
        row("scale", f"{label}, p95 at 10M users", r(f"big_database.{query}.latency_p95_ms", ms),
            "the same in a 1-tenant database", r(f"small_database_1_tenant.{query}.latency_p95_ms", ms),
            f"p95_ratio_big_over_small.{query}", 1.5, "max")
    row("audit", "audit ingestion", r("ingest.events_per_s"), "psql COPY", r("ingest.copy_rows_per_s"),
        "ingest.ratio", 0.5)
    row("audit", "audit export (clear)", r("export.rows_per_s_2m"), "psql COPY out", r("export.copy_rows_per_s"),
        "export.ratio", 0.5)
    row("audit", "audit export (sealed)", r("export_sealed.sealed_rows_per_s"), "the same rows in clear",
        r("export_sealed.clear_rows_per_s"), "export_sealed.ratio", 0.8)
    row("billing", "usage ingestion", r("ingest.events_per_s"), "psql COPY", r("ingest.copy_rows_per_s"),
        "ingest.ratio", 0.5)
    row("billing", "usage ingestion", r("ingest.events_per_s"), "Lago (published figure)", r("ingest.lago.events_per_s"),
        "ingest.lago.ratio", None)
    row("billing", "usage pull", r("pull.rows_per_s"), "psql COPY out", r("pull.copy_rows_per_s"),
        "pull.ratio", 0.5)
    row("sso", "SSO sign-ins", r("sso.sign_ins_per_sec"), "password sign-ins",
        r("password.sign_ins_per_sec"), "sso_vs_password", None)
    row("soak", "mixed load, 10 min", r("overall.requests_per_s"), "the target rate",
        r("overall.target_requests_per_s"), "overall.achieved_share_of_target", 0.95)
    return out


def fmt_ratio(x):
    return "" if x is None else (f"{x:.2f}" if x < 100 else f"{x:,.0f}")


def table(all_rows):
    lines = [
        "| benchmark | measure | Gatehouse | against | its figure | ratio | target | met | commit | date |",
        "|---|---|---:|---|---:|---:|---:|:---:|---|---|",
    ]
    for x in all_rows:
        target = "" if x["target"] is None else ("≥ " if x["kind"] == "min" else "≤ ") + fmt_ratio(x["target"])
        met = {True: "yes", False: "**no**", None: ""}[x["met"]]
        lines.append(f"| {x['benchmark']} | {x['measure']} | {x['gatehouse'] or '—'} | {x['against']} | "
                     f"{x['anchor'] or ''} | {fmt_ratio(x['ratio'])} | {target} | {met} | {x['commit']} | {x['date']} |")
    return "\n".join(lines)


def chart(all_rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    shown = [x for x in all_rows if x["ratio"] is not None and x["target"]]
    # As a share of the target, so 1.0 is "met" for every row: for lower-is-better rows the
    # share is target / value.
    share = [(x["ratio"] / x["target"]) if x["kind"] == "min" else (x["target"] / x["ratio"] if x["ratio"] else 0)
             for x in shown]
    labels = [f"{x['benchmark']}: {x['measure']} vs {x['against']}" for x in shown]
    fig, ax = plt.subplots(figsize=(11, 0.34 * len(shown) + 1.2))
    colours = ["#16a34a" if s >= 1 else "#dc2626" for s in share]
    ax.barh(range(len(shown)), share, color=colours)
    ax.axvline(1.0, color="#0f172a", linewidth=1)
    ax.set_yticks(range(len(shown)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("share of the target (1.0 = met)")
    ax.set_title("Gatehouse benchmarks: each ratio against its target")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    all_rows = rows()
    readme = os.path.join(HERE, "README.md")
    text = open(readme).read()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    open(readme, "w").write(text[:start] + "\n" + table(all_rows) + "\n" + text[end:])
    if "--chart" in sys.argv:
        chart(all_rows, os.path.join(RESULTS, "ratios.png"))
    print(f"bench/README.md: {len(all_rows)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
