#!/usr/bin/env bash
# Token service throughput (issue 4: bench/tokens; anchor: issue 23). In the same run, on the
# same machine, at 64 connections, interleaved in rounds (BENCH_ROUNDS, default 3; each phase
# BENCH_DURATION, default 5s):
#   baseline  a bare axum handler answering a token-sized body (`gatehouse bench-baseline`);
#   anchor    node oidc-provider 9.13.3 (bench/anchors/install.sh, bench/anchors/
#             oidc-provider.mjs, one node process): client-credentials grants issuing
#             ES256-signed JWT access tokens (resource indicators), and introspections (of
#             an opaque token: oidc-provider does not introspect JWTs);
#   gatehouse client-credentials grants (POST /auth/token, Basic client authentication; each
#             a full grant: client lookup, secret check, scope and tenant checks, an
#             ES256-signed JWT) and introspections (POST /auth/introspect of a live access
#             token: client authentication, signature, expiry and denylist checks).
# Figures: requests/s and p50/p99 per phase over all rounds, the ratios to oidc-provider
# (target: >= 10x for grants) and to the baseline (targets: grants >= 0.5, introspection
# >= 0.6), and the per-round ratios.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
source "$here/anchors/install.sh"
duration="${BENCH_DURATION:-5s}"
conns="${BENCH_CONNECTIONS:-64}"
rounds="${BENCH_ROUNDS:-3}"
creds="$GATEHOUSE_DATA_DIR/demo-client.json"
[ -f "$creds" ] || { echo "no $creds: the demo application is created with the demo data" >&2; exit 1; }
client_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_id"])' "$creds")
secret=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_secret"])' "$creds")
basic=$(printf '%s:%s' "$client_id" "$secret" | base64 -w0)
token=$(curl -fsS -u "$client_id:$secret" -d grant_type=client_credentials "$BASE_URL/auth/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
body_bytes=$(curl -fsS -u "$client_id:$secret" -d grant_type=client_credentials "$BASE_URL/auth/token" | wc -c)

op_dir=$(oidc_provider_dir)
op_port="${BENCH_OP_PORT:-3297}"
op="http://127.0.0.1:$op_port"
op_basic=$(printf 'bench-client:bench-secret' | base64 -w0)
OIDC_PROVIDER_DIR="$op_dir" OP_PORT="$op_port" CLIENT_ID=bench-client CLIENT_SECRET=bench-secret \
  node "$here/anchors/oidc-provider.mjs" > "$GATEHOUSE_DATA_DIR/oidc-provider.log" 2>&1 &
op_pid=$!
baseline_port="${BENCH_BASELINE_PORT:-3299}"
target/release/gatehouse bench-baseline --listen "127.0.0.1:$baseline_port" --body-bytes "$body_bytes" &
baseline_pid=$!
work=$(mktemp -d)
trap 'kill $baseline_pid $op_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -fsS -X POST "http://127.0.0.1:$baseline_port/" >/dev/null 2>&1 && break; sleep 0.1; done
for _ in $(seq 1 100); do curl -fsS "$op/.well-known/openid-configuration" >/dev/null 2>&1 && break; sleep 0.1; done
op_token=$(curl -fsS -u bench-client:bench-secret -d grant_type=client_credentials -d scope=flag:read \
  -d resource=urn:bench:opaque "$op/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
op_jwt=$(curl -fsS -u bench-client:bench-secret -d grant_type=client_credentials -d scope=flag:read "$op/token")
op_body_bytes=${#op_jwt}
op_alg=$(python3 -c 'import json,sys,base64; t=json.loads(sys.argv[1])["access_token"].split(".")[0]; print(json.loads(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)))["alg"])' "$op_jwt")
active=$(curl -fsS -u bench-client:bench-secret -d "token=$op_token" "$op/token/introspection" | python3 -c 'import json,sys; print(json.load(sys.stdin)["active"])')
[ "$active" = True ] || { echo "oidc-provider does not introspect its token as active" >&2; exit 1; }

run() { # BASIC BODY URL -> wrk figures as JSON
  cat > "$work/script.lua" <<LUA
wrk.method = "POST"
wrk.body = "$2"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $1"
LUA
  wrk -t2 -c"$conns" -d"$duration" --latency -s "$work/script.lua" "$3" | python3 "$here/wrk_json.py"
}
phases=(
  "baseline|$basic|grant_type=client_credentials|http://127.0.0.1:$baseline_port/auth/token"
  "client_credentials|$basic|grant_type=client_credentials|$BASE_URL/auth/token"
  "oidc_provider_client_credentials|$op_basic|grant_type=client_credentials&scope=flag:read|$op/token"
  "introspection|$basic|token=$token|$BASE_URL/auth/introspect"
  "oidc_provider_introspection|$op_basic|token=$op_token|$op/token/introspection"
)
: > "$work/rounds.jsonl"
for r in $(seq 1 "$rounds"); do
  for p in "${phases[@]}"; do
    IFS='|' read -r name auth body url <<< "$p"
    echo "{\"round\": $r, \"phase\": \"$name\", \"figures\": $(run "$auth" "${body//\\/}" "$url")}" >> "$work/rounds.jsonl"
  done
done
PYTHONPATH="$here" python3 - "$work" "$conns" "$duration" "$rounds" "$body_bytes" "$op_body_bytes" "$op_alg" <<'PY'
import json, os, sys
from rounds import Rounds
work, conns, duration, rounds, body_bytes, op_bytes, op_alg = sys.argv[1:8]
r = Rounds(os.path.join(work, "rounds.jsonl"))
print(json.dumps({
    "tool": f"wrk -t2 -c{conns} -d{duration} --latency, {rounds} interleaved rounds; server, Postgres, oidc-provider (one node process) and wrk on the same machine",
    "anchor": f"node oidc-provider 9.13.3 (node {os.popen('node --version').read().strip()}): client credentials, {op_alg} JWT access tokens for one resource; introspection of opaque tokens",
    "body_bytes": {"gatehouse_grant": int(body_bytes), "oidc_provider_grant": int(op_bytes)},
    **r.figures(),
    "vs_oidc_provider": {"client_credentials": r.ratio("client_credentials", "oidc_provider_client_credentials"),
                         "introspection": r.ratio("introspection", "oidc_provider_introspection")},
    "vs_oidc_provider_per_round": {"client_credentials": r.per_round("client_credentials", "oidc_provider_client_credentials"),
                                   "introspection": r.per_round("introspection", "oidc_provider_introspection")},
    "vs_baseline": {"client_credentials": r.ratio("client_credentials", "baseline"),
                    "introspection": r.ratio("introspection", "baseline")},
    "targets": {"vs_oidc_provider": {"client_credentials": 10.0},
                "vs_baseline": {"client_credentials": 0.5, "introspection": 0.6}},
}))
PY
