#!/usr/bin/env bash
# The test command: the same set-up as the run command, then every test:
#   formatting and clippy, unit tests, domain tests (#[sqlx::test] on the embedded
#   PostgreSQL), black-box API tests, and the browser tests in end2end/ against the running
#   server in headless Chromium.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
started=$(date +%s)
source scripts/setup.sh --tests
# A first build (a clean clone, as in CI) gains nothing from incremental caches, which
# would add a quarter to the disk it needs.
[ -d "${CARGO_TARGET_DIR:-target}/debug" ] || export CARGO_INCREMENTAL=0
step() { printf '\n\033[1;32m[test]\033[0m %s (%ss)\n' "$*" "$(( $(date +%s) - started ))" >&2; }

# A data directory of its own, so tests never touch the demo database of the run command.
export GATEHOUSE_DATA_DIR="${GATEHOUSE_TEST_DATA_DIR:-$ROOT/.data/test}"
export GATEHOUSE_LOG_FORMAT=json
mkdir -p "$GATEHOUSE_DATA_DIR"

step "rustfmt"
cargo fmt --all -- --check

step "dependency audit (cargo deny: licenses, bans, sources)"
# cargo-deny reads `cargo metadata` for every platform, so every crate in Cargo.lock must be
# in cargo's cache, not only those a build for this machine and wasm32 downloads: `cargo fetch`
# brings the rest from crates.io (nothing once they are there). Then --offline: no network
# at all (the advisories check, which needs GitHub, is run by hand: README).
cargo fetch --quiet
cargo deny --offline check licenses bans sources

step "deployment files (deploy/validate.sh: manifests, alerts, dashboard, Dockerfile, systemd)"
deploy/validate.sh

step "build (server + wasm, debug)"
cargo leptos build "${LEPTOS_BUILD_ARGS[@]}"

SERVER_PID=""
SINK_PID=""
PEER_PIDS=()
STARTED_DB=0
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; fi
  for pid in "${PEER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ "$STARTED_DB" = 1 ]; then target/debug/gatehouse db stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if [ -z "${DATABASE_URL:-}" ]; then
  step "embedded PostgreSQL in $GATEHOUSE_DATA_DIR"
  [ -f "$GATEHOUSE_DATA_DIR/postgres/postmaster.pid" ] || STARTED_DB=1
  DATABASE_URL=$(target/debug/gatehouse db start | tail -n 1)
  export DATABASE_URL
  # The server and the browser tests use a database of their own, recreated each run.
  E2E_DATABASE_URL=$(printf '%s' "$DATABASE_URL" | sed 's#/gatehouse?#/gatehouse_e2e?#')
else
  E2E_DATABASE_URL="$DATABASE_URL"
fi

step "clippy"
cargo clippy -p gatehouse-domain -p gatehouse-app -p gatehouse-server --all-targets -- -D warnings

step "unit, domain and API tests"
cargo test -p gatehouse-domain -p gatehouse-server
cargo test -p gatehouse-app --features ssr --lib

step "browser tests"
# `cargo test` relinks target/debug/gatehouse with the test build's feature set, whose pages
# do not hydrate against the wasm built by cargo-leptos; relink cargo-leptos's (seconds).
cargo leptos build "${LEPTOS_BUILD_ARGS[@]}" >/dev/null 2>&1
if [ "$E2E_DATABASE_URL" != "$DATABASE_URL" ]; then
  psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS gatehouse_e2e WITH (FORCE)" -c "CREATE DATABASE gatehouse_e2e" >/dev/null
fi
PORT="${GATEHOUSE_TEST_PORT:-3100}"
# A real SMTP server (aiosmtpd) receives the outbox; the tests read mails from its API.
SMTP_PORT="${GATEHOUSE_TEST_SMTP_PORT:-2526}"
export SMTP_API="http://127.0.0.1:${GATEHOUSE_TEST_SMTP_API_PORT:-8026}"
"$E2E_PYTHON" end2end/support/smtp_sink.py "$SMTP_PORT" "${SMTP_API##*:}" > "$GATEHOUSE_DATA_DIR/smtp-sink.log" 2>&1 &
SINK_PID=$!
for _ in $(seq 1 50); do curl -fsS "$SMTP_API/messages" >/dev/null 2>&1 && break; sleep 0.1; done
export GATEHOUSE_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT"
# Tenant SSO's peers: two real OpenID providers (oidc-provider), one per test tenant, and a
# real DNS server for domain-ownership records. Each reads its data from a file the tests
# write, so a test changes a person's groups or adds a TXT record while they run.
export IDP_A_URL="http://127.0.0.1:${GATEHOUSE_TEST_IDP_A_PORT:-4010}" IDP_B_URL="http://127.0.0.1:${GATEHOUSE_TEST_IDP_B_PORT:-4011}"
export IDP_A_ACCOUNTS="$GATEHOUSE_DATA_DIR/idp-a.json" IDP_B_ACCOUNTS="$GATEHOUSE_DATA_DIR/idp-b.json"
export DNS_RECORDS="$GATEHOUSE_DATA_DIR/dns-records.json"
DNS_PORT="${GATEHOUSE_TEST_DNS_PORT:-5354}"
echo '{}' > "$IDP_A_ACCOUNTS"; echo '{}' > "$IDP_B_ACCOUNTS"; echo '{}' > "$DNS_RECORDS"
node end2end/support/idp.mjs --port "${IDP_A_URL##*:}" --accounts "$IDP_A_ACCOUNTS" > "$GATEHOUSE_DATA_DIR/idp-a.log" 2>&1 &
PEER_PIDS+=($!)
node end2end/support/idp.mjs --port "${IDP_B_URL##*:}" --accounts "$IDP_B_ACCOUNTS" > "$GATEHOUSE_DATA_DIR/idp-b.log" 2>&1 &
PEER_PIDS+=($!)
"$E2E_PYTHON" end2end/support/dns_server.py "$DNS_PORT" "$DNS_RECORDS" > "$GATEHOUSE_DATA_DIR/dns.log" 2>&1 &
PEER_PIDS+=($!)
for _ in $(seq 1 50); do grep -q "dns ready" "$GATEHOUSE_DATA_DIR/dns.log" 2>/dev/null && break; sleep 0.1; done
for url in "$IDP_A_URL" "$IDP_B_URL"; do
  for _ in $(seq 1 50); do curl -fsS "$url/.well-known/openid-configuration" >/dev/null 2>&1 && break; sleep 0.1; done
done
export GATEHOUSE_SSO_ALLOW_PRIVATE_IDP=true GATEHOUSE_DNS_SERVER="127.0.0.1:$DNS_PORT"
# Webhook receivers of the tests listen on loopback, over plain http.
export GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE=true
export GATEHOUSE_PUBLIC_URL="http://localhost:$PORT"
export GATEHOUSE_BIN="$ROOT/target/debug/gatehouse" E2E_DATABASE_URL
export GATEHOUSE_MASTER_KEY_FILE="$GATEHOUSE_DATA_DIR/master.key"
[ -f "$GATEHOUSE_MASTER_KEY_FILE" ] || (umask 077; echo "k1=$(head -c 32 /dev/urandom | base64)" > "$GATEHOUSE_MASTER_KEY_FILE")
# Rate limits off for this server: the contract fuzzing below sends thousands of requests
# with one token (the API tests cover the limits).
DATABASE_URL="$E2E_DATABASE_URL" GATEHOUSE_SITE_ROOT=target/site \
  GATEHOUSE_RATE_LIMIT_USER=0 GATEHOUSE_RATE_LIMIT_API_KEY=0 GATEHOUSE_RATE_LIMIT_ANONYMOUS=0 \
  target/debug/gatehouse serve --demo --addr "127.0.0.1:$PORT" > "$GATEHOUSE_DATA_DIR/e2e-server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$GATEHOUSE_DATA_DIR/e2e-server.log" >&2; exit 1; }
  sleep 0.5
done
BASE_URL="http://localhost:$PORT" node --test --test-concurrency=1 end2end/tests/*.test.mjs

step "quiet traffic raises no security alert (NFR-MON-001: the detectors' false positives)"
DATABASE_URL="$E2E_DATABASE_URL" target/debug/gatehouse audit detect > "$GATEHOUSE_DATA_DIR/detect.log"
alerts=$(psql "$E2E_DATABASE_URL" -tAc "SELECT count(*) FROM security_alerts")
if [ "$alerts" != "0" ]; then
  echo "the browser tests raised $alerts security alerts:" >&2
  psql "$E2E_DATABASE_URL" -tAc "SELECT detector, summary FROM security_alerts" >&2; exit 1
fi

step "SDKs: generated from the committed document, and used against the running server"
sdk/generate.sh --check
node_modules/.bin/tsc -p sdk/typescript
BASE_URL="http://localhost:$PORT" node --test sdk/typescript/test/
BASE_URL="http://localhost:$PORT" PYTHONDONTWRITEBYTECODE=1 "$E2E_PYTHON" sdk/python/tests/live_test.py

step "API contract: schemathesis over the whole document, with real tokens"
BASE_URL="http://localhost:$PORT" end2end/support/contract.sh "$GATEHOUSE_DATA_DIR/contract"

step "no link token in the server's log"
# The browser tests opened reset, invitation and verification links: the request log names
# their route template, never the token.
leaked=$(grep -Eo '/(reset-password|invite|verify-email)/[A-Za-z0-9_-]{16,}' "$GATEHOUSE_DATA_DIR/e2e-server.log" || true)
if [ -n "$leaked" ]; then
  echo "link tokens were logged:" >&2; head -3 <<<"$leaked" >&2; exit 1
fi

step "command line"
cli() { DATABASE_URL="$E2E_DATABASE_URL" target/debug/gatehouse "$@"; }
expect_fail() { local want="$1"; shift; local out; if out=$("$@" 2>&1); then echo "expected failure: $*" >&2; exit 1; fi; grep -q "$want" <<<"$out" || { echo "expected '$want' in: $out" >&2; exit 1; }; }
cli migrate
ops="ops-$(date +%s%N)@example.test"
out=$(echo "a long operator passphrase" | cli operator create --email "$ops" --name "CI Operator" --password-stdin)
[[ "$out" == *"created operator"* ]] || { echo "operator create said: $out" >&2; exit 1; }
echo "a long operator passphrase" | expect_fail "already exists" cli operator create --email "${ops^^}" --password-stdin
echo "short" | expect_fail "at least 12 characters" cli auditor create --email "aud-$ops" --password-stdin
echo "a long auditor passphrase" | expect_fail "not a valid email" cli auditor create --email "not-an-email" --password-stdin
out=$(cli audit verify); [[ "$out" == *"the audit trail is intact"* ]] || { echo "$out" >&2; exit 1; }
step "backups: keygen, create, list, verify, a wrong key refused"
bk="$GATEHOUSE_DATA_DIR/backup-cli"; rm -rf "$bk"; mkdir -p "$bk"
json() { "$E2E_PYTHON" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
key=$(target/debug/gatehouse backup keygen --output "$bk/operator.key" 2>/dev/null | json 'd["public_key"]')
target/debug/gatehouse backup keygen --output "$bk/other.key" >/dev/null 2>&1
bcli() { GATEHOUSE_BACKUP_DIR="$bk/files" GATEHOUSE_BACKUP_RECIPIENTS="$key" cli "$@"; }
name=$(bcli backup create 2>/dev/null | json 'd["name"]')
[ "$(bcli backup list | json 'd[-1]["name"]')" = "$name" ] || { echo "backup list lacks $name" >&2; exit 1; }
if grep -q PGDMP "$bk/files/$name.dump.age"; then echo "the archive is not encrypted" >&2; exit 1; fi
(cd "$bk/files" && sha256sum -c --quiet "$name.sha256")
out=$(bcli backup verify "$name" --identity "$bk/operator.key" 2>&1); [[ "$out" == *"verified"* ]] || { echo "$out" >&2; exit 1; }
expect_fail "does not decrypt" bcli backup verify "$name" --identity "$bk/other.key"
out=$(bcli backup status); [[ "$out" == *'"verify"'* ]] || { echo "$out" >&2; exit 1; }
out=$(cli --help); for sub in serve migrate operator auditor demo backup; do [[ "$out" == *"$sub"* ]] || { echo "--help lacks $sub" >&2; exit 1; }; done

step "graceful shutdown"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"; rc=$?
SERVER_PID=""
[ "$rc" = 0 ] || { echo "server exited with $rc after SIGTERM" >&2; exit 1; }
grep -q '"gatehouse stopped"' "$GATEHOUSE_DATA_DIR/e2e-server.log" || { echo "no clean shutdown logged" >&2; exit 1; }

step "distributed tracing: spans over OTLP/HTTP to a collector (NFR-MON-001)"
OTLP_OUT="$GATEHOUSE_DATA_DIR/otlp-spans.jsonl"; rm -f "$OTLP_OUT"
"$E2E_PYTHON" end2end/support/otlp_sink.py "$OTLP_OUT" > "$GATEHOUSE_DATA_DIR/otlp-sink.log" 2>&1 &
PEER_PIDS+=($!)
for _ in $(seq 1 50); do grep -q "otlp sink ready" "$GATEHOUSE_DATA_DIR/otlp-sink.log" 2>/dev/null && break; sleep 0.1; done
OTLP_PORT=$(sed -n 's/^otlp sink ready on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$GATEHOUSE_DATA_DIR/otlp-sink.log")
TPORT="${GATEHOUSE_TEST_OTLP_SERVER_PORT:-3107}"
rid="otlp-$(date +%s%N)"
# NO_PROXY: reqwest honours HTTP_PROXY/http_proxy; the sink is on loopback.
DATABASE_URL="$E2E_DATABASE_URL" GATEHOUSE_SITE_ROOT=target/site GATEHOUSE_METRICS_ADDR=off \
  GATEHOUSE_OTLP_ENDPOINT="http://127.0.0.1:$OTLP_PORT" OTEL_BSP_SCHEDULE_DELAY=60000 \
  NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost \
  target/debug/gatehouse serve --addr "127.0.0.1:$TPORT" > "$GATEHOUSE_DATA_DIR/otlp-server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$TPORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$GATEHOUSE_DATA_DIR/otlp-server.log" >&2; exit 1; }
  sleep 0.5
done
curl -fsS -H "x-request-id: $rid" "http://127.0.0.1:$TPORT/readyz" >/dev/null
kill -TERM "$SERVER_PID"; wait "$SERVER_PID"; SERVER_PID=""
grep -q '"spans are exported over OTLP/HTTP"' "$GATEHOUSE_DATA_DIR/otlp-server.log" \
  || { echo "OTLP export not started" >&2; cat "$GATEHOUSE_DATA_DIR/otlp-server.log" >&2; exit 1; }
"$E2E_PYTHON" - "$OTLP_OUT" "$rid" <<'EOF'
import json, sys
out, rid = sys.argv[1], sys.argv[2]
spans = [s for s in map(json.loads, open(out)) if "name" in s]
req = [s for s in spans if s["name"] == "request" and s["attributes"].get("request_id") == rid]
assert req, f"no request span with request_id={rid} among {len(spans)} spans"
r = req[0]
assert r["service"] == "gatehouse", r["service"]
assert "readyz" in str(r["attributes"].get("route")) and r["attributes"].get("method") == "GET", r["attributes"]
trace = [s for s in spans if s["trace_id"] == r["trace_id"]]
sql = [e for s in trace for e in s["events"] if e["attributes"].get("target") == "sqlx::query"]
assert any("_sqlx_migrations" in str(e["attributes"].get("summary", "")) for e in sql), sql
print(f"trace {r['trace_id']}: request {rid} with {len(sql)} SQL statement(s)")
EOF

step "high availability: two instances behind HAProxy; kill -9, PostgreSQL restart, kill during ingestion, mail and webhook receivers down, a read-only mail directory"
scripts/ha_test.sh

step "all tests passed"
