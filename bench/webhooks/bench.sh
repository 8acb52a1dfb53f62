#!/usr/bin/env bash
# Webhook delivery at 500 events/s (SPEC §9; Standard Webhooks 1.0: signed, retried,
# throttled per endpoint), beside the mail outbox measured in the same run:
#
#   webhooks  One endpoint of a bench tenant (webhooks-bench), rate_limit_per_second 1000,
#             subscribed to flag.updated, pointing at bench/webhooks/receiver.mjs on
#             loopback (answers 200 at once, then checks the signature). The events: an
#             operator's flag overrides for the tenant (PUT /api/v1/tenants/{id}/flags/{key}),
#             the cheapest audited change that publishes one (no mail, no token denial, no
#             password hash; a role change would also deny the person's tokens and an
#             invitation queues a mail), WEBHOOK_BENCH_KEYS (64) flags toggled in turn so each
#             request is a change. Offered open-loop at WEBHOOK_BENCH_RATE (500) a second for
#             WEBHOOK_BENCH_SECONDS (20) after WEBHOOK_BENCH_WARMUP (3). Figures: events/s,
#             deliveries/s, and the delay from the change to the receiver (the receiver's
#             clock minus the body's `timestamp`) p50/p90/p99/max; the same from the database
#             (delivered_at - created_at); the server's cores and the machine's busy share.
#             Target: p99 < 1 s at 500 events/s, nothing lost.
#   mail      The baseline: WEBHOOK_BENCH_MAIL_RATE (500) invitations a second for
#             WEBHOOK_BENCH_MAIL_SECONDS (4) into the bench tenant, each one mail in the
#             outbox in the same transaction; the outbox's delivery rate (mails/s from the
#             first sent to the last) and its delay (sent_at - created_at), from the database.
#             Through SMTP to end2end/support/smtp_sink.py when the server runs with
#             GATEHOUSE_SMTP_URL (bench/run.sh sets it for this benchmark), else as .eml files.
#
# Run: bench/run.sh webhooks. Quick run: WEBHOOK_BENCH_SECONDS=5 WEBHOOK_BENCH_MAIL_SECONDS=1
# bench/run.sh webhooks. Knobs (environment; defaults in brackets): WEBHOOK_BENCH_PHASES
# [webhooks,mail], WEBHOOK_BENCH_RATE [500], WEBHOOK_BENCH_SECONDS [20], WEBHOOK_BENCH_WARMUP
# [3], WEBHOOK_BENCH_KEYS [64], WEBHOOK_BENCH_DRAIN_TIMEOUT [60 s], WEBHOOK_BENCH_MAIL_RATE
# [the rate], WEBHOOK_BENCH_MAIL_SECONDS [4], WEBHOOK_BENCH_MAIL_TIMEOUT [300 s],
# WEBHOOK_BENCH_RECEIVER_PORT [4790], WEBHOOK_BENCH_SMTP_API_PORT [8027], BENCH_DATABASE_URL.
#
# What stays in .data/bench: the tenant webhooks-bench, the operator webhooks-bench@gatehouse.test,
# the application "Webhooks bench" (a key per run), flags webhooks_bench_00.., and the
# invited people (2,000 a run by default). The endpoint is deleted at the end of each run.
set -euo pipefail
: "${BASE_URL:?run me through bench/run.sh webhooks}" "${SERVER_PID:?run me through bench/run.sh webhooks}"
: "${GATEHOUSE_DATA_DIR:?GATEHOUSE_DATA_DIR is set by bench/run.sh}"
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bin="${GATEHOUSE_BIN:-target/release/gatehouse}"
export GATEHOUSE_MASTER_KEY_FILE="${GATEHOUSE_MASTER_KEY_FILE:-$GATEHOUSE_DATA_DIR/master.key}"
log() { echo "bench/webhooks: $*" >&2; }
die() { log "$*"; exit 1; }

tenant=webhooks-bench
operator=webhooks-bench@gatehouse.test
redirect=http://127.0.0.1:4996/callback
receiver_port="${WEBHOOK_BENCH_RECEIVER_PORT:-4790}"
work=$(mktemp -d)
receiver_pid=""
sink_pid=""
session=""
cleanup() {
  [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null || true
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
  if [ -n "$session" ]; then q -c "DELETE FROM sessions WHERE id = '$session'" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The embedded cluster the harness's server uses (as bench/audit.sh finds it).
db="${BENCH_DATABASE_URL:-$("$bin" db url)}"
q() { psql "$db" -X -v ON_ERROR_STOP=1 -qAt "$@"; }
q -c 'SELECT 1' >/dev/null || die "cannot reach the bench database at $db"

# The bench tenant (as bench/billing.sh makes its tenants).
q -c "INSERT INTO tenants (name, domain) VALUES ('Webhooks bench', '$tenant') ON CONFLICT (domain) DO NOTHING"
tenant_id=$(q -c "SELECT id FROM tenants WHERE domain = '$tenant' AND status = 'active'")
[ -n "$tenant_id" ] || die "the tenant $tenant is not active (suspended by an earlier run?)"

# An operator (the CLI, as an operator is made), signed in with a second factor: a session
# row as bench/audit.sh makes the auditor's. Flag overrides are operators' work.
if [ -z "$(q -c "SELECT id FROM users WHERE lower(email) = '$operator' AND role = 'operator' AND status = 'active'")" ]; then
  python3 -c 'import secrets; print(secrets.token_urlsafe(24))' \
    | "$bin" operator create --email "$operator" --name "Webhooks bench" --password-stdin >/dev/null
fi
token=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
session=$(q <<SQL
INSERT INTO sessions (token_hash, user_id, tenant_id, expires_at, idle_timeout_secs, mfa_verified_at, auth_methods)
SELECT sha256(convert_to('$token', 'UTF8')), id, NULL, now() + interval '2 hours', 7200, now(), ARRAY['pwd', 'otp']
  FROM users WHERE lower(email) = '$operator' AND role = 'operator' AND status = 'active'
RETURNING id;
SQL
)
[ -n "$session" ] || die "no active operator $operator"

# A platform application for the operator's token (authorization code; the callback is never
# called: bench.mjs reads the code from the redirect).
app_id=$(q -c "SELECT id FROM applications WHERE name = 'Webhooks bench' AND all_tenants AND status = 'active' ORDER BY created_at LIMIT 1")
if [ -z "$app_id" ]; then
  app_id=$("$bin" app register --name "Webhooks bench" --environment development --grant authorization_code \
      --redirect-uri "$redirect" --all-tenants | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
fi
"$bin" app key issue "$app_id" --name "bench/webhooks $(date -u +%Y%m%dT%H%M%SZ)" --scope openid --scope admin \
  --scope users:write --scope webhooks:read --scope webhooks:write > "$work/key.json"
read -r client_id client_secret < <(python3 -c 'import json, sys; k = json.load(open(sys.argv[1])); print(k["client_id"], k["client_secret"])' "$work/key.json")
rm -f "$work/key.json"

# The receiver.
if curl -fsS -o /dev/null "http://127.0.0.1:$receiver_port/stats" 2>/dev/null; then
  die "something already answers on 127.0.0.1:$receiver_port (set WEBHOOK_BENCH_RECEIVER_PORT)"
fi
node bench/webhooks/receiver.mjs "$receiver_port" > "$GATEHOUSE_DATA_DIR-webhook-receiver.log" 2>&1 &
receiver_pid=$!
for _ in $(seq 1 50); do curl -fsS -o /dev/null "http://127.0.0.1:$receiver_port/stats" 2>/dev/null && break; sleep 0.1; done
kill -0 "$receiver_pid" 2>/dev/null || die "the receiver did not start: $(cat "$GATEHOUSE_DATA_DIR-webhook-receiver.log")"

# The SMTP sink, where the server sends mail (GATEHOUSE_SMTP_URL, set by bench/run.sh).
smtp_api=""
if [ -n "${GATEHOUSE_SMTP_URL:-}" ]; then
  smtp_port="${GATEHOUSE_SMTP_URL##*:}"; smtp_port="${smtp_port%%/*}"
  api_port="${WEBHOOK_BENCH_SMTP_API_PORT:-8027}"
  py="${E2E_PYTHON:-$PWD/.venv-e2e/bin/python}"
  "$py" -c 'import aiosmtpd' 2>/dev/null || die "the SMTP sink needs aiosmtpd in $py (scripts/setup.sh --tests makes .venv-e2e, or set E2E_PYTHON)"
  "$py" end2end/support/smtp_sink.py "$smtp_port" "$api_port" > "$GATEHOUSE_DATA_DIR-smtp-sink.log" 2>&1 &
  sink_pid=$!
  smtp_api="http://127.0.0.1:$api_port"
  for _ in $(seq 1 50); do curl -fsS -o /dev/null "$smtp_api/messages" 2>/dev/null && break; sleep 0.1; done
  kill -0 "$sink_pid" 2>/dev/null || die "the SMTP sink did not start: $(cat "$GATEHOUSE_DATA_DIR-smtp-sink.log")"
else
  log "GATEHOUSE_SMTP_URL is unset: the mail baseline writes .eml files"
fi

BENCH_DATABASE_URL="$db" \
  BENCH_COOKIE="gatehouse_session=$token; __Host-gatehouse_session=$token" \
  BENCH_CLIENT_ID="$client_id" BENCH_CLIENT_SECRET="$client_secret" BENCH_REDIRECT_URI="$redirect" \
  BENCH_RECEIVER_URL="http://127.0.0.1:$receiver_port" BENCH_TENANT="$tenant" BENCH_TENANT_ID="$tenant_id" \
  SMTP_API="$smtp_api" CLK_TCK="$(getconf CLK_TCK)" \
  node bench/webhooks/bench.mjs
