#!/usr/bin/env bash
# Password sign-in throughput (issue 3: bench/login). Baseline, in the same run on the same
# machine: the raw argon2id verification rate with the same parameters, one verifier per
# CPU, each keeping its working memory as the server's hashing threads do
# (`gatehouse bench-argon2`). Then 200 concurrent clients post correct passwords to the
# sign-in server function for the whole duration, each a full sign-in (throttle check,
# argon2id verify, adaptive signals, session, `auth.login.success` in the same
# transaction), in two cases:
#   returning  — the browser sends the device cookie from an earlier sign-in (the usual case)
#   new_device — no device cookie: the sign-in also stores a device token and queues the
#                new-device notice mail, which the outbox worker delivers (.eml files here)
# Figures: sign-ins/s and their ratio to the raw hash rate (target >= 0.9), p50/p99, and the
# server's peak RSS (memory stays bounded by the fixed hashing threads).
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
duration="${BENCH_DURATION:-15s}"
secs="${duration%s}"
raw=$(target/release/gatehouse bench-argon2 --seconds "$secs")
body="email=user%40acme.test&password=Gatehouse-demo-2026&tenant=&return_to="
# The device cookie a returning browser carries: from one sign-in now.
device=$(curl -fsS -o /dev/null -D - -H "Origin: $BASE_URL" --data "$body" "$BASE_URL/_rpc/sign_in" \
  | sed -n 's/^[Ss]et-[Cc]ookie: \(gatehouse_device=[^;]*\).*/\1/p')
[ -n "$device" ] || { echo "no device cookie from the first sign-in" >&2; exit 1; }
lua=$(mktemp)
trap 'rm -f "$lua"' EXIT
run() {  # run COOKIE: wrk's JSON figures
  cat > "$lua" <<LUA
wrk.method = "POST"
wrk.body = "$body"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = "$BASE_URL"
LUA
  [ -z "$1" ] || echo "wrk.headers[\"Cookie\"] = \"$1\"" >> "$lua"
  wrk -t2 -c200 -d"$duration" --timeout 30s --latency -s "$lua" "$BASE_URL/_rpc/sign_in" | python3 "$here/wrk_json.py"
}
rss_before=$(awk '/VmRSS/{print $2}' "/proc/$SERVER_PID/status")
returning=$(run "$device")
new_device=$(run "")
peak=$(awk '/VmHWM/{print $2}' "/proc/$SERVER_PID/status")
python3 - "$raw" "$returning" "$new_device" "$rss_before" "$peak" <<'PY'
import json, sys
raw, returning, new_device = (json.loads(a) for a in sys.argv[1:4])
rss_before, peak = int(sys.argv[4]), int(sys.argv[5])
rate = raw["verifications_per_sec"]
print(json.dumps({
    "tool": "wrk -t2 -c200 --latency, POST /_rpc/sign_in (user@acme.test, right password)",
    "baseline_raw_argon2id": raw,
    "sign_in_returning_device": returning,
    "sign_in_new_device": new_device,
    "returning_vs_raw_hash_rate": round(returning["requests_per_sec"] / rate, 3),
    "new_device_vs_raw_hash_rate": round(new_device["requests_per_sec"] / rate, 3),
    "server_rss_before_kib": rss_before,
    "server_peak_rss_kib": peak,
}))
PY
