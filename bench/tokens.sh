#!/usr/bin/env bash
# Token service throughput (issue 4: bench/tokens). Baseline, in the same run on the same
# machine: a bare axum handler answering a token-sized body (`gatehouse bench-baseline`),
# driven the same way. Then client-credentials grants (POST /auth/token, Basic client
# authentication; each a full grant: client lookup, SHA-256 secret check, scope and tenant
# checks, an ES256-signed JWT) and introspections (POST /auth/introspect of a live access
# token: client authentication, signature, expiry and denylist checks). Figures: requests/s
# and p50/p99 for each, and each as a share of the baseline. Targets on 2 cores: >= 5,000
# tokens/s and >= 20,000 introspections/s.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
duration="${BENCH_DURATION:-15s}"
conns="${BENCH_CONNECTIONS:-64}"
creds="$GATEHOUSE_DATA_DIR/demo-client.json"
[ -f "$creds" ] || { echo "no $creds: the demo application is created with the demo data" >&2; exit 1; }
client_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_id"])' "$creds")
secret=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_secret"])' "$creds")
basic=$(printf '%s:%s' "$client_id" "$secret" | base64 -w0)
token=$(curl -fsS -u "$client_id:$secret" -d grant_type=client_credentials "$BASE_URL/auth/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
body_bytes=$(curl -fsS -u "$client_id:$secret" -d grant_type=client_credentials "$BASE_URL/auth/token" | wc -c)

baseline_port="${BENCH_BASELINE_PORT:-3299}"
target/release/gatehouse bench-baseline --listen "127.0.0.1:$baseline_port" --body-bytes "$body_bytes" &
baseline_pid=$!
lua=$(mktemp)
trap 'kill $baseline_pid 2>/dev/null || true; rm -f "$lua"' EXIT
for _ in $(seq 1 50); do curl -fsS -X POST "http://127.0.0.1:$baseline_port/" >/dev/null 2>&1 && break; sleep 0.1; done

run() { # body url -> wrk figures as JSON
  cat > "$lua" <<LUA
wrk.method = "POST"
wrk.body = "$1"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
LUA
  wrk -t2 -c"$conns" -d"$duration" --latency -s "$lua" "$2" | python3 "$here/wrk_json.py"
}
baseline=$(run "grant_type=client_credentials" "http://127.0.0.1:$baseline_port/auth/token")
grants=$(run "grant_type=client_credentials" "$BASE_URL/auth/token")
introspections=$(run "token=$token" "$BASE_URL/auth/introspect")
python3 - "$baseline" "$grants" "$introspections" "$conns" "$duration" "$body_bytes" <<'PY'
import json, sys
base, grants, intro = (json.loads(a) for a in sys.argv[1:4])
print(json.dumps({
    "tool": f"wrk -t2 -c{sys.argv[4]} -d{sys.argv[5]} --latency; server, Postgres and wrk on the same machine",
    "baseline_bare_axum": {**base, "body_bytes": int(sys.argv[6])},
    "client_credentials": grants,
    "introspection": intro,
    "client_credentials_vs_baseline": round(grants["requests_per_sec"] / base["requests_per_sec"], 3),
    "introspection_vs_baseline": round(intro["requests_per_sec"] / base["requests_per_sec"], 3),
    "targets": {"client_credentials_per_sec": 5000, "introspections_per_sec": 20000},
}))
PY
