#!/usr/bin/env bash
# Tenant SSO sign-in cost (FR-AUTH-003, UC-LOGIN's SSO path): Gatehouse as the OpenID Connect
# relying party of a real provider (end2end/support/idp.mjs, oidc-provider 9.13.3) on loopback.
# This script starts the provider, finds the bench database for psql, and runs bench/sso.mjs,
# which connects the demo tenant acme to the provider as its owner would, then alternates
# rounds of SSO sign-ins (returning people with a live provider session) and password
# sign-ins, and reports sign-ins/s, p50/p99 and the server's CPU per sign-in.
# Run through the harness: bench/run.sh sso (it sets GATEHOUSE_SSO_ALLOW_PRIVATE_IDP for a
# provider on 127.0.0.1). Knobs: BENCH_SSO_CLIENTS (16), BENCH_PHASE_SECS (8), BENCH_ROUNDS
# (3), BENCH_IDP_PORT (4090), BENCH_DATABASE_URL (default: the embedded cluster's socket).
set -euo pipefail
: "${BASE_URL:?run me through bench/run.sh sso}" "${SERVER_PID:?run me through bench/run.sh sso}"
port="${BENCH_IDP_PORT:-4090}"
idp_url="http://127.0.0.1:$port"
idp_log="${GATEHOUSE_DATA_DIR:-/tmp/gatehouse-bench}-idp.log"
work=$(mktemp -d)
idp_pid=""
cleanup() {
  if [ -n "$idp_pid" ]; then kill -TERM "$idp_pid" 2>/dev/null || true; wait "$idp_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The embedded cluster's socket (server/src/embedded_pg.rs): {data_dir}/pg-socket, or, when
# the postgres user cannot enter the data directory, /var/tmp/gatehouse-pg-{first 8 bytes of
# SHA-256 of the canonical data directory, in hex}/pg-socket.
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  db="$BENCH_DATABASE_URL"
else
  data_dir=$(realpath "${GATEHOUSE_DATA_DIR:?GATEHOUSE_DATA_DIR is set by bench/run.sh}")
  socket="$data_dir/pg-socket"
  if [ ! -d "$socket" ]; then
    hash=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest()[:16])' "$data_dir")
    socket="/var/tmp/gatehouse-pg-$hash/pg-socket"
  fi
  db="postgres://gatehouse@localhost/gatehouse?host=$socket"
fi
psql "$db" -qAtc 'SELECT 1' >/dev/null || { echo "bench/sso: cannot reach the bench database at $db" >&2; exit 1; }

# The provider: it re-reads its accounts file at every sign-in; bench/sso.mjs writes the people.
if curl -fsS -o /dev/null "$idp_url/.well-known/openid-configuration" 2>/dev/null; then
  echo "bench/sso: something already answers on $idp_url (set BENCH_IDP_PORT)" >&2; exit 1
fi
echo '{}' > "$work/accounts.json"
node end2end/support/idp.mjs --port "$port" --accounts "$work/accounts.json" > "$idp_log" 2>&1 &
idp_pid=$!
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$idp_url/.well-known/openid-configuration" 2>/dev/null && break
  kill -0 "$idp_pid" 2>/dev/null || break
  sleep 0.1
done
if ! kill -0 "$idp_pid" 2>/dev/null || ! curl -fsS -o /dev/null "$idp_url/.well-known/openid-configuration"; then
  echo "bench/sso: the IdP did not start on $idp_url; its log ($idp_log):" >&2; tail -n 20 "$idp_log" >&2; exit 1
fi

BASE_URL="$BASE_URL" IDP_URL="$idp_url" IDP_ACCOUNTS="$work/accounts.json" SERVER_PID="$SERVER_PID" \
  DATABASE_URL="$db" CLK_TCK="$(getconf CLK_TCK)" node bench/sso.mjs
