#!/usr/bin/env bash
# Flag delivery throughput (issue 5: bench/flags). Baseline, in the same run on the same
# machine: a bare axum handler serving the same bytes as the Flag API's answer
# (`gatehouse bench-baseline --body-file`). Then, at 64 connections: GET /api/v1/flags
# answered 200 and answered 304 (If-None-Match), and OFREP bulk evaluation
# (POST /ofrep/v1/evaluate/flags) answered 200 and 304 — each a full request: bearer-token
# verification (signature cache, expiry, denylist), scope and tenant checks, the tenant's
# cached flags. Figures: requests/s, p50/p99, and each as a share of the baseline
# (target >= 0.8).
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
duration="${BENCH_DURATION:-10s}"
conns="${BENCH_CONNECTIONS:-64}"
creds="$GATEHOUSE_DATA_DIR/demo-client.json"
[ -f "$creds" ] || { echo "no $creds: the demo application is created with the demo data" >&2; exit 1; }
client_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_id"])' "$creds")
secret=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_secret"])' "$creds")
token=$(curl -fsS -u "$client_id:$secret" -d grant_type=client_credentials -d scope=flag:read "$BASE_URL/auth/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
work=$(mktemp -d)
baseline_port="${BENCH_BASELINE_PORT:-3299}"
trap 'kill $baseline_pid 2>/dev/null || true; rm -rf "$work"' EXIT
curl -fsS -D "$work/flags.h" -o "$work/flags.json" -H "Authorization: Bearer $token" "$BASE_URL/api/v1/flags"
flags_etag=$(grep -i '^etag:' "$work/flags.h" | cut -d' ' -f2 | tr -d '\r')
ofrep_body='{"context":{"targetingKey":"user-1"}}'
curl -fsS -D "$work/ofrep.h" -o "$work/ofrep.json" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "$ofrep_body" "$BASE_URL/ofrep/v1/evaluate/flags"
ofrep_etag=$(grep -i '^etag:' "$work/ofrep.h" | cut -d' ' -f2 | tr -d '\r')
target/release/gatehouse bench-baseline --listen "127.0.0.1:$baseline_port" --body-file "$work/flags.json" &
baseline_pid=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$baseline_port/" >/dev/null 2>&1 && break; sleep 0.1; done

run() { # method url [if-none-match] [body] -> wrk figures as JSON
  {
    echo "wrk.method = \"$1\""
    echo "wrk.headers[\"Authorization\"] = \"Bearer $token\""
    [ -n "${3:-}" ] && echo "wrk.headers[\"If-None-Match\"] = '$3'"
    if [ -n "${4:-}" ]; then echo "wrk.headers[\"Content-Type\"] = \"application/json\""; echo "wrk.body = '$4'"; fi
  } > "$work/script.lua"
  wrk -t2 -c"$conns" -d"$duration" --latency -s "$work/script.lua" "$2" | python3 "$here/wrk_json.py"
}
baseline=$(run GET "http://127.0.0.1:$baseline_port/api/v1/flags")
flags_200=$(run GET "$BASE_URL/api/v1/flags")
flags_304=$(run GET "$BASE_URL/api/v1/flags" "$flags_etag")
ofrep_200=$(run POST "$BASE_URL/ofrep/v1/evaluate/flags" "" "$ofrep_body")
ofrep_304=$(run POST "$BASE_URL/ofrep/v1/evaluate/flags" "$ofrep_etag" "$ofrep_body")
python3 - "$baseline" "$flags_200" "$flags_304" "$ofrep_200" "$ofrep_304" "$conns" "$duration" "$(wc -c < "$work/flags.json")" "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["flags"]))' "$work/flags.json")" <<'PY'
import json, sys
base, f200, f304, o200, o304 = (json.loads(a) for a in sys.argv[1:6])
share = lambda x: round(x["requests_per_sec"] / base["requests_per_sec"], 3)
print(json.dumps({
    "tool": f"wrk -t2 -c{sys.argv[6]} -d{sys.argv[7]} --latency; server, Postgres and wrk on the same machine",
    "payload": {"bytes": int(sys.argv[8]), "flags": int(sys.argv[9])},
    "baseline_bare_axum_same_bytes": base,
    "flag_api_200": f200, "flag_api_304": f304, "ofrep_bulk_200": o200, "ofrep_bulk_304": o304,
    "vs_baseline": {"flag_api_200": share(f200), "flag_api_304": share(f304),
                    "ofrep_bulk_200": share(o200), "ofrep_bulk_304": share(o304)},
    "target_share_of_baseline": 0.8,
}))
PY
