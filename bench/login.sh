#!/usr/bin/env bash
# Password sign-in throughput (issue: bench/login). Baseline, in the same run on the same
# machine: the raw argon2id verification rate with the same parameters, one verifier per
# CPU (`gatehouse bench-argon2`). Then 200 concurrent clients post correct passwords to the
# sign-in server function for the whole duration (each a full sign-in: throttle check,
# argon2id verify, session, audit entry, new-device notice mail). Figures: sign-ins/s, the
# ratio to the raw hash rate (target >= 0.9), p50/p99, and the server's peak RSS.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
duration="${BENCH_DURATION:-15s}"
secs="${duration%s}"
raw=$(target/release/gatehouse bench-argon2 --seconds "$secs")
lua=$(mktemp)
trap 'rm -f "$lua"' EXIT
cat > "$lua" <<'LUA'
wrk.method = "POST"
wrk.body = "email=user%40acme.test&password=Gatehouse-demo-2026&tenant=&return_to="
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = os.getenv("BASE_URL")
LUA
rss_before=$(awk '/VmRSS/{print $2}' "/proc/$SERVER_PID/status")
login=$(BASE_URL="$BASE_URL" wrk -t2 -c200 -d"$duration" --timeout 30s --latency -s "$lua" "$BASE_URL/_rpc/sign_in" | python3 "$here/wrk_json.py")
peak=$(awk '/VmHWM/{print $2}' "/proc/$SERVER_PID/status")
python3 - "$raw" "$login" "$rss_before" "$peak" <<'PY'
import json, sys
raw, login = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rss_before, peak = int(sys.argv[3]), int(sys.argv[4])
print(json.dumps({
    "tool": "wrk -t2 -c200 --latency, POST /_rpc/sign_in (user@acme.test, right password)",
    "baseline_raw_argon2id": raw,
    "sign_in": login,
    "sign_ins_vs_raw_hash_rate": round(login["requests_per_sec"] / raw["verifications_per_sec"], 3),
    "server_rss_before_kib": rss_before,
    "server_peak_rss_kib": peak,
}))
PY
