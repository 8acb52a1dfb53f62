#!/usr/bin/env bash
# Flag delivery throughput (issue 5: bench/flags; anchors: issue 23). In the same run, on the
# same machine, at 64 connections, interleaved in rounds (BENCH_ROUNDS, default 3; each phase
# BENCH_DURATION, default 5s):
#   baseline  a bare axum handler serving the same bytes as the Flag API's answer
#             (`gatehouse bench-baseline --body-file`);
#   anchor    Unleash Edge 19.15.1 (bench/anchors/install.sh) in offline mode, bootstrapped
#             with the same flags Gatehouse serves, translated to Unleash strategies:
#             `GET /api/client/features` beside the Flag API, `GET /api/frontend` (evaluated
#             for a context) beside OFREP bulk, each answered 200 and 304 (If-None-Match);
#   gatehouse GET /api/v1/flags and POST /ofrep/v1/evaluate/flags, 200 and 304: each a full
#             request (bearer-token verification, scope and tenant checks, the rate limit,
#             the tenant's cached flags).
# The flags: the demo's 3 and 7 of the benchmark's own (BENCH_FLAGS, default 10 in all), in a
# database of its own (bench/run.sh: .data/bench-flags), so other benchmarks' flags never
# change the payload. Figures: requests/s and p50/p99 per phase over all rounds, the ratios
# to Edge and to the baseline (targets: >= 2x Edge, >= 0.8 of the baseline), the per-round
# ratios, and the payload sizes of both servers.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
source "$here/anchors/install.sh"
duration="${BENCH_DURATION:-5s}"
conns="${BENCH_CONNECTIONS:-64}"
rounds="${BENCH_ROUNDS:-3}"
want_flags="${BENCH_FLAGS:-10}"
creds="$GATEHOUSE_DATA_DIR/demo-client.json"
[ -f "$creds" ] || { echo "no $creds: the demo application is created with the demo data" >&2; exit 1; }
db="postgres://gatehouse@localhost/gatehouse?host=$GATEHOUSE_DATA_DIR/pg-socket"
q() { psql "$db" -X -v ON_ERROR_STOP=1 -qAt "$@"; }
edge_bin=$(unleash_edge_bin)

# The benchmark's own flags, before the first flag request fills the server's cache: plain
# on and off, and rollouts (a fixture: written straight to the table, not audited).
have=$(q -c "SELECT count(*) FROM flag_definitions WHERE archived_at IS NULL")
for i in $(seq 1 $((want_flags - have))); do
  rollout=$([ $((i % 3)) = 0 ] && echo "$((i * 10))" || echo NULL)
  q -c "INSERT INTO flag_definitions (key, description, default_value, rollout_percentage)
        VALUES ('bench_flag_$(printf %02d "$i")', 'bench/flags', $([ $((i % 2)) = 0 ] && echo true || echo false), $rollout)
        ON CONFLICT (key) DO NOTHING" >/dev/null
done

client_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_id"])' "$creds")
secret=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_secret"])' "$creds")
token=$(curl -fsS -u "$client_id:$secret" -d grant_type=client_credentials -d scope=flag:read "$BASE_URL/auth/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
work=$(mktemp -d)
baseline_port="${BENCH_BASELINE_PORT:-3299}"
edge_port="${BENCH_EDGE_PORT:-3298}"
trap 'kill $baseline_pid $edge_pid 2>/dev/null || true; rm -rf "$work"' EXIT
curl -fsS -D "$work/flags.h" -o "$work/flags.json" -H "Authorization: Bearer $token" "$BASE_URL/api/v1/flags"
flags_etag=$(grep -i '^etag:' "$work/flags.h" | cut -d' ' -f2 | tr -d '\r')
ofrep_body='{"context":{"targetingKey":"user-1"}}'
curl -fsS -D "$work/ofrep.h" -o "$work/ofrep.json" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "$ofrep_body" "$BASE_URL/ofrep/v1/evaluate/flags"
ofrep_etag=$(grep -i '^etag:' "$work/ofrep.h" | cut -d' ' -f2 | tr -d '\r')

# Edge's bootstrap: every active definition as an Unleash toggle. Off by default: disabled;
# on: the default strategy; a rollout: flexibleRollout on the user id; a plan's default: a
# default strategy constrained to the plan (a context property), first.
q -c "SELECT coalesce(json_agg(json_build_object(
        'key', d.key, 'default', d.default_value, 'rollout', d.rollout_percentage,
        'plans', (SELECT coalesce(json_agg(json_build_object('plan', p.plan, 'value', p.value)), '[]')
                    FROM flag_plan_defaults p WHERE p.flag_key = d.key)) ORDER BY d.key), '[]')
      FROM flag_definitions d WHERE d.archived_at IS NULL" > "$work/definitions.json"
python3 - "$work/definitions.json" > "$work/edge-features.json" <<'PY'
import json, sys
features = []
for d in json.load(open(sys.argv[1])):
    strategies = [{"name": "default", "parameters": {},
                   "constraints": [{"contextName": "plan", "operator": "IN", "values": [p["plan"]],
                                    "caseInsensitive": False, "inverted": False}]}
                  for p in d["plans"] if p["value"]]
    if d["rollout"] is not None:
        strategies.append({"name": "flexibleRollout", "constraints": [],
                           "parameters": {"rollout": str(d["rollout"]), "stickiness": "default", "groupId": d["key"]}})
    elif d["default"]:
        strategies.append({"name": "default", "parameters": {}, "constraints": []})
    features.append({"name": d["key"], "type": "release", "project": "default", "enabled": bool(strategies),
                     "stale": False, "impressionData": False, "strategies": strategies, "variants": []})
print(json.dumps({"version": 2, "features": features}))
PY
client_token='*:development.gatehousebenchclient'
frontend_token='*:development.gatehousebenchfrontend'
"$edge_bin" --port "$edge_port" --interface 127.0.0.1 --log-format json offline \
  --bootstrap-file "$work/edge-features.json" --client-tokens "$client_token" --frontend-tokens "$frontend_token" \
  > "$GATEHOUSE_DATA_DIR/unleash-edge.log" 2>&1 &
edge_pid=$!
edge="http://127.0.0.1:$edge_port"
for _ in $(seq 1 100); do curl -fsS "$edge/internal-backstage/health" >/dev/null 2>&1 && break; sleep 0.1; done
frontend_query="userId=user-1&properties%5Bplan%5D=free"
curl -fsS -D "$work/edge-client.h" -o "$work/edge-client.json" -H "Authorization: $client_token" "$edge/api/client/features"
curl -fsS -D "$work/edge-frontend.h" -o "$work/edge-frontend.json" -H "Authorization: $frontend_token" "$edge/api/frontend?$frontend_query"
etag_of() { grep -i '^etag:' "$1" | cut -d' ' -f2- | tr -d '\r' || true; }
edge_client_etag=$(etag_of "$work/edge-client.h")
edge_frontend_etag=$(etag_of "$work/edge-frontend.h")

target/release/gatehouse bench-baseline --listen "127.0.0.1:$baseline_port" --body-file "$work/flags.json" &
baseline_pid=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$baseline_port/" >/dev/null 2>&1 && break; sleep 0.1; done

# status METHOD URL AUTH [IF-NONE-MATCH] [BODY]: the status one such request gets.
status() {
  local args=(-s -o /dev/null -w '%{http_code}' -X "$1" -H "Authorization: $3")
  [ -n "${4:-}" ] && args+=(-H "If-None-Match: $4")
  [ -n "${5:-}" ] && args+=(-H 'Content-Type: application/json' -d "$5")
  curl "${args[@]}" "$2"
}
run() { # METHOD URL AUTH [IF-NONE-MATCH] [BODY] -> wrk figures as JSON
  {
    echo "wrk.method = \"$1\""
    echo "wrk.headers[\"Authorization\"] = \"$3\""
    [ -n "${4:-}" ] && echo "wrk.headers[\"If-None-Match\"] = '$4'"
    if [ -n "${5:-}" ]; then echo "wrk.headers[\"Content-Type\"] = \"application/json\""; echo "wrk.body = '$5'"; fi
  } > "$work/script.lua"
  wrk -t2 -c"$conns" -d"$duration" --latency -s "$work/script.lua" "$2" | python3 "$here/wrk_json.py"
}
# The phases: name, method, url, authorization, if-none-match, body.
phases=(
  "baseline|GET|http://127.0.0.1:$baseline_port/api/v1/flags|none||"
  "flag_api_200|GET|$BASE_URL/api/v1/flags|Bearer $token||"
  "edge_client_features_200|GET|$edge/api/client/features|$client_token||"
  "flag_api_304|GET|$BASE_URL/api/v1/flags|Bearer $token|$flags_etag|"
  "edge_client_features_304|GET|$edge/api/client/features|$client_token|$edge_client_etag|"
  "ofrep_bulk_200|POST|$BASE_URL/ofrep/v1/evaluate/flags|Bearer $token||$ofrep_body"
  "edge_frontend_200|GET|$edge/api/frontend?$frontend_query|$frontend_token||"
  "ofrep_bulk_304|POST|$BASE_URL/ofrep/v1/evaluate/flags|Bearer $token|$ofrep_etag|$ofrep_body"
  "edge_frontend_304|GET|$edge/api/frontend?$frontend_query|$frontend_token|$edge_frontend_etag|"
)
statuses="{"
for p in "${phases[@]}"; do
  IFS='|' read -r name method url auth inm body <<< "$p"
  statuses+="\"$name\": $(status "$method" "$url" "$auth" "$inm" "$body"),"
done
statuses="${statuses%,}}"
: > "$work/rounds.jsonl"
for r in $(seq 1 "$rounds"); do
  for p in "${phases[@]}"; do
    IFS='|' read -r name method url auth inm body <<< "$p"
    echo "{\"round\": $r, \"phase\": \"$name\", \"figures\": $(run "$method" "$url" "$auth" "$inm" "$body")}" >> "$work/rounds.jsonl"
  done
done
PYTHONPATH="$here" python3 - "$work" "$statuses" "$conns" "$duration" "$rounds" <<'PY'
import json, sys, os
from rounds import Rounds
work, statuses, conns, duration, rounds = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
r = Rounds(os.path.join(work, "rounds.jsonl"))
pairs = {"flag_api_200": "edge_client_features_200", "flag_api_304": "edge_client_features_304",
         "ofrep_bulk_200": "edge_frontend_200", "ofrep_bulk_304": "edge_frontend_304"}
size = lambda f: os.path.getsize(os.path.join(work, f))
print(json.dumps({
    "tool": f"wrk -t2 -c{conns} -d{duration} --latency, {rounds} interleaved rounds; server, Postgres, Unleash Edge (2 workers) and wrk on the same machine",
    "anchor": "Unleash Edge 19.15.1, offline mode, the same flags translated to Unleash strategies",
    "payload": {
        "flags": len(json.load(open(os.path.join(work, "flags.json")))["flags"]),
        "gatehouse_flag_api_bytes": size("flags.json"), "gatehouse_ofrep_bulk_bytes": size("ofrep.json"),
        "edge_client_features_bytes": size("edge-client.json"), "edge_frontend_bytes": size("edge-frontend.json"),
    },
    "statuses": statuses,
    **r.figures(),
    "vs_edge": {g: r.ratio(g, e) for g, e in pairs.items()},
    "vs_edge_per_round": {g: r.per_round(g, e) for g, e in pairs.items()},
    "vs_baseline": {g: r.ratio(g, "baseline") for g in pairs},
    "targets": {"vs_edge": 2.0, "vs_baseline": 0.8},
}))
PY
