#!/usr/bin/env bash
# Server-rendered page cost: /login (SSR with hydration scripts, CSP nonce, full middleware)
# against the baseline /healthz (same server and middleware, a fixed JSON body).
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
duration="${BENCH_DURATION:-10s}"
run() { wrk -t2 -c32 -d"$duration" --latency "$BASE_URL$1" | python3 "$here/wrk_json.py"; }
baseline=$(run /healthz)
login=$(run /login)
python3 - "$baseline" "$login" <<'PY'
import json, sys
baseline, login = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({
    "tool": "wrk -t2 -c32 --latency",
    "baseline_healthz": baseline,
    "login_page": login,
    "login_vs_baseline_throughput": round(login["requests_per_sec"] / baseline["requests_per_sec"], 3),
}))
PY
