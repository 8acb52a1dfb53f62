#!/usr/bin/env bash
# Soak (issue 21, part 4: bench/soak; not in CI): SOAK_DURATION (600) s of mixed traffic at
# SOAK_RATE (1,000) requests/s against the release server bench/run.sh starts with demo data,
# after a ramp of SOAK_RAMP (10) s to SOAK_USERS (64) Goose users. The load generator is
# bench/soak/src/main.rs (Goose 0.19, built here in release); its mix, in requests per 1,000:
#
#   sign-in pages          GET /login 70, GET /login?email= (the password step) 30
#   password sign-ins      POST /_rpc/sign_in 10: each Goose user is one browser signing in as
#                          its own soak account (soak-signin-NNNN@acme.test, made here), keeping
#                          its cookies, so every sign-in after its first is a returning browser's
#                          (device cookie: no new-device mail); one account per browser keeps
#                          the per-account throttle out of the way (domain/src/passwords/throttle.rs)
#   token service          POST /auth/token 80 (client credentials), POST /auth/introspect 150
#   flags                  GET /api/v1/flags 125 (with the ETag held: mostly 304), the same for
#                          one end user 50, OFREP bulk 100 (with the ETag held), OFREP one flag 75
#   Users API (an admin    GET /api/v1/users 80, ?search= 20, GET /api/v1/users/{id} 50; writes
#   console, acme's admin) 30 in turns: invite (POST) -> rename (PATCH) -> archive (DELETE)
#   ingestion              POST /api/v1/billing/events 80 and POST /api/v1/audit-logs 50, each
#                          1..2*SOAK_*_BATCH-1 events (mean SOAK_BILLING_BATCH / SOAK_AUDIT_BATCH, 10)
#
# Every answer is checked against what that request must return (status and, where it matters,
# body); anything else, 429 included, is an error of that kind. Meanwhile the server's VmRSS and
# CPU time are read every SOAK_RSS_INTERVAL (5) s. Figures (stdout, one JSON object; bench/run.sh
# writes bench/results/soak.json): per kind count, errors, error rate, p50/p95/p99 ms, requests/s
# over the steady window (after the ramp); overall rate against the target and error rate; RSS at
# the start, at 5 min, at the end, its maximum and its growth over the last 5 minutes; the
# targets met or not (p95 < 200 ms for every kind, < 0.1 % errors, RSS growth < 10 % over the
# last 5 minutes). The plot: bench/results/soak.png (bench/soak/plot.py, matplotlib in a venv
# under .data). Raw data stays in .data/soak (requests.csv: one line per request; rss.csv;
# goose.log and goose-report.html: Goose's own summary).
#
# Run: bench/run.sh soak (about 15 minutes with the first build of the load generator). Quick
# run: SOAK_DURATION=60 SOAK_RATE=300 bench/run.sh soak. Knobs (environment; defaults in
# brackets): SOAK_RATE [1000], SOAK_DURATION [600 s, at most 3000: the admin's token lives an
# hour], SOAK_RAMP [10 s], SOAK_USERS [64], SOAK_SIGNIN_ACCOUNTS [SOAK_USERS],
# SOAK_BILLING_BATCH [10], SOAK_AUDIT_BATCH [10], SOAK_RSS_INTERVAL [5 s], SOAK_OUT
# [.data/soak], SOAK_VENV [.data/soak-venv], SOAK_TARGET_DIR [$CARGO_TARGET_DIR/soak or
# target/soak], SOAK_GOOSE_ARGS [--no-telnet --no-websocket: Goose's controllers off],
# BENCH_DATABASE_URL.
#
# What stays in .data/bench: the accounts soak-signin-NNNN@acme.test (made by SQL with the demo
# password's hash, as bench/scale.sh loads people), the application "Soak bench" (a key per run,
# revoked at the end), the people each run invites and archives (SOAK_RATE x SOAK_DURATION /
# 100 a run: 6,000 by default), the billing and audit events it sends, the invitation mails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BENCH_NAME=soak
# shellcheck source=common.sh
source bench/common.sh
rate=$(knob SOAK_RATE 1000 1)
duration=$(knob SOAK_DURATION 600 10)
ramp=$(knob SOAK_RAMP 10 1)
users=$(knob SOAK_USERS 64 1)
accounts=$(knob SOAK_SIGNIN_ACCOUNTS "$users" 1)
billing_batch=$(knob SOAK_BILLING_BATCH 10 1)
audit_batch=$(knob SOAK_AUDIT_BATCH 10 1)
interval=$(knob SOAK_RSS_INTERVAL 5 1)
[ "$duration" -le 3000 ] || die "SOAK_DURATION must be at most 3000 s: the admin's access token lives an hour"
[ "$billing_batch" -le 50 ] && [ "$audit_batch" -le 50 ] || die "SOAK_*_BATCH are means: at most 50 (a batch is at most 99 events)"
[ "$accounts" -le 9999 ] || die "SOAK_SIGNIN_ACCOUNTS must be at most 9999"
goose_args="${SOAK_GOOSE_ARGS---no-telnet --no-websocket}"
out="${SOAK_OUT:-$PWD/.data/soak}"
venv="${SOAK_VENV:-$PWD/.data/soak-venv}"
target_dir="${SOAK_TARGET_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/soak}"
tenant=acme
admin=admin@acme.test
password=Gatehouse-demo-2026 # domain/src/demo.rs DEMO_PASSWORD
redirect=http://127.0.0.1:4995/callback # never called: the code is read from the redirect
run=$(date -u +%Y%m%dt%H%M%S)
mkdir -p "$out" bench/results
rm -f "$out"/{requests.csv,rss.csv,meta.json,goose.log,goose-report.html,config.json}

goose_pid=""
sampler_pid=""
client_id=""
session=""
admin_token=""
cleanup() {
  [ -n "$goose_pid" ] && kill "$goose_pid" 2>/dev/null || true
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  rm -f "$out/config.json"
  if [ -n "$session" ]; then
    curl -sS -o /dev/null -H "Origin: $BASE_URL" -H "Cookie: gatehouse_session=$session" \
      -X POST "$BASE_URL/_rpc/sign_out" 2>/dev/null || true
  fi
  if [ -n "$client_id" ]; then "$bin" app key revoke "$client_id" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# --- the load generator and the plot's Python -------------------------------------------------
log "building the load generator (cargo build --release, target $target_dir)"
cargo build --release --quiet --manifest-path bench/soak/Cargo.toml --target-dir "$target_dir" >&2
soak_bin="$target_dir/release/gatehouse-soak"
[ -x "$soak_bin" ] || die "no $soak_bin after the build"

req=bench/soak/requirements.txt
want=$(sha256sum "$req" | cut -c1-64)
if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$want" ]; then
  log "python venv for the plot ($venv: $(grep -v '^#' "$req" | tr '\n' ' '))"
  if ! python3 -m venv --clear "$venv" >&2; then
    log "python3 -m venv failed: installing python3-venv"
    apt-get install -y -qq python3-venv >/dev/null && python3 -m venv --clear "$venv" >&2
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$venv/.stamp"
fi
py="$venv/bin/python"

# --- the database, the tenant, the accounts ---------------------------------------------------
# The embedded cluster the harness's server uses (as bench/audit.sh finds it).
db="${BENCH_DATABASE_URL:-$("$bin" db url)}"
q() { psql "$db" -X -v ON_ERROR_STOP=1 -qAt "$@"; }
q -c 'SELECT 1' >/dev/null || die "cannot reach the bench database at $db"
read -r tenant_status mfa_policy sso < <(q -F ' ' -c "SELECT status, mfa_policy, coalesce(sso_enforced, false)
                                                      FROM tenants WHERE domain = '$tenant'") || true
[ "${tenant_status:-}" = active ] || die "the demo tenant $tenant is missing or not active (status '${tenant_status:-}')"
[ "$mfa_policy" = off ] || die "$tenant's MFA policy is '$mfa_policy': the password sign-ins would stop at the second factor (set it to off)"
[ "$sso" = f ] || die "$tenant requires SSO: its people cannot sign in with a password"

# Sign-in accounts: the demo user's password hash copied, so they sign in with the demo password.
sign_in_accounts "$db" "$tenant" soak-signin "$accounts" "Soak sign-in"
# A fresh throttle: earlier runs' counters of these accounts and of loopback do not carry over.
q -c "DELETE FROM auth_throttle WHERE (scope = 'account' AND key LIKE 'soak-signin-%@acme.test')
        OR (scope = 'ip' AND key IN ('127.0.0.1', '::1'))" >/dev/null

# --- the application, its key, the tokens ----------------------------------------------------
# One application of acme's, registered as an operator would (gatehouse app ...): its own
# token (flags, billing, audit) by client credentials, the admin console's by authorization code.
app_id=$(q -c "SELECT id FROM applications WHERE name = 'Soak bench' AND status = 'active' ORDER BY created_at LIMIT 1")
if [ -z "$app_id" ]; then
  app_id=$("$bin" app register --name "Soak bench" --environment development --grant client_credentials \
      --grant authorization_code --redirect-uri "$redirect" --tenant "$tenant" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
fi
key_json=$("$bin" app key issue "$app_id" --name "bench/soak $run" --scope openid --scope flag:read \
  --scope bill:write --scope log:write --scope users:read --scope users:write)
read -r client_id client_secret < <(python3 -c 'import json, sys; k = json.loads(sys.argv[1]); print(k["client_id"], k["client_secret"])' "$key_json")
unset key_json
app_scope="flag:read bill:write log:write"
app_token=""
for _ in $(seq 1 20); do # the server hears of the new key through NOTIFY
  app_token=$(curl -sS -u "$client_id:$client_secret" -d grant_type=client_credentials --data-urlencode "scope=$app_scope" \
    "$BASE_URL/auth/token" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("access_token", ""))' 2>/dev/null || true)
  [ -n "$app_token" ] && break
  sleep 0.25
done
[ -n "$app_token" ] || die "no client-credentials token for the soak key"

# The admin console: acme's admin signs in (the form's post, as bench/scale.sh does it), then
# the authorization code flow with PKCE gives the console its user token.
headers=$(curl -sS -o /dev/null -D - -H "Origin: $BASE_URL" -H 'Accept: text/html' \
  --data-urlencode "email=$admin" --data-urlencode "password=$password" -d 'tenant=&return_to=' "$BASE_URL/_rpc/sign_in" | tr -d '\r')
session=$(sed -n 's/^[Ss]et-[Cc]ookie: gatehouse_session=\([^;]*\).*/\1/p' <<<"$headers" | head -n 1)
landing=$(sed -n 's/^[Ll]ocation: //p' <<<"$headers" | head -n 1)
[ -n "$session" ] && [ -n "$landing" ] && [ "${landing#/login}" = "$landing" ] || die "the sign-in of $admin did not land signed in (Location: '$landing')"
verifier=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
challenge=$(python3 -c 'import base64, hashlib, sys; print(base64.urlsafe_b64encode(hashlib.sha256(sys.argv[1].encode()).digest()).decode().rstrip("="))' "$verifier")
authorize="$BASE_URL/authorize?response_type=code&client_id=$client_id&redirect_uri=$(python3 -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$redirect")"
authorize+="&scope=openid%20users%3Aread%20users%3Awrite&code_challenge=$challenge&code_challenge_method=S256&state=soak"
location=$(curl -sS -o /dev/null -w '%{redirect_url}' -H "Cookie: gatehouse_session=$session" "$authorize")
code=$(python3 -c 'import sys, urllib.parse as u; print(u.parse_qs(u.urlparse(sys.argv[1]).query).get("code", [""])[0])' "$location")
[ -n "$code" ] || die "/authorize gave no code (redirect: '$location')"
admin_token=$(curl -fsS -u "$client_id:$client_secret" -d grant_type=authorization_code -d "code=$code" \
  -d "code_verifier=$verifier" --data-urlencode "redirect_uri=$redirect" "$BASE_URL/auth/token" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

# People an earlier, interrupted run invited and did not archive, archived now through the API.
archive_leftovers() {
  local id n=0
  for id in $(q -c "SELECT u.id FROM users u JOIN tenants t ON t.id = u.tenant_id AND t.domain = '$tenant'
                     WHERE u.email LIKE 'soak-%' AND u.email NOT LIKE 'soak-signin-%' AND u.status <> 'archived'"); do
    curl -fsS -o /dev/null -X DELETE -H "Authorization: Bearer $admin_token" "$BASE_URL/api/v1/users/$id" && n=$((n + 1))
  done
  echo "$n"
}
left=$(archive_leftovers)
[ "$left" -eq 0 ] || log "archived $left people an earlier run had invited"

# What the load reads: people of acme (one at a time), the flags' keys.
curl -fsS -H "Authorization: Bearer $admin_token" "$BASE_URL/api/v1/users?limit=100" > "$out/users.json" \
  || die "GET /api/v1/users with the admin's token failed"
curl -fsS -H "Authorization: Bearer $app_token" "$BASE_URL/api/v1/flags" > "$out/flags.json" \
  || die "GET /api/v1/flags with the application's token failed"

(
  umask 077
  python3 - "$out/config.json" "$out/users.json" "$out/flags.json" <<PY
import json, sys
path, users, flags = sys.argv[1:4]
ids = [u["id"] for u in json.load(open(users))["data"]]
keys = sorted(json.load(open(flags))["flags"])
if not ids or not keys:
    sys.exit(f"nothing to read: {len(ids)} people, {len(keys)} flags")
json.dump({
    "run": "$run",
    "client_id": "$client_id",
    "client_secret": "$client_secret",
    "app_scope": "$app_scope",
    "app_token": "$app_token",
    "admin_token": "$admin_token",
    "invite_domain": "acme.test",
    "signin_emails": [f"soak-signin-{n:04d}@acme.test" for n in range(1, $accounts + 1)],
    "password": "$password",
    "user_ids": ids,
    "flag_keys": keys,
    "search_terms": ["Demo", "Soak", "admin", "acme.test"],
    "billing_batch": $billing_batch,
    "audit_batch": $audit_batch,
}, open(path, "w"))
PY
)
log "$accounts sign-in accounts, $(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["data"]))' "$out/users.json") people to read, flags: $(python3 -c 'import json, sys; print(", ".join(sorted(json.load(open(sys.argv[1]))["flags"])))' "$out/flags.json")"

# --- the soak ----------------------------------------------------------------------------------
# The server's VmRSS (kB), its CPU time (clock ticks) and the machine's CPU counters, every
# $interval s, until the load ends.
sample() {
  local stat
  echo "epoch,rss_kib,server_ticks,cpu_total,cpu_idle"
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    read -r -a stat < /proc/stat
    printf '%s,%s,%s,%s,%s\n' "$EPOCHREALTIME" \
      "$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")" \
      "$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")" \
      "$(( stat[1] + stat[2] + stat[3] + stat[4] + stat[5] + stat[6] + stat[7] + stat[8] ))" \
      "$(( stat[4] + stat[5] ))"
    sleep "$interval"
  done
}
sample > "$out/rss.csv" &
sampler_pid=$!
since=$(q -c "SELECT now()")

log "soak: $rate requests/s for $duration s after a $ramp s ramp to $users users (Goose; its output in $out/goose.log)"
# shellcheck disable=SC2086 # goose_args is a list of flags
# The rate comes from each user's pace (users / rate apart; src/main.rs `pace`), not from
# Goose's --throttle-requests, which offered about 0.89 of 1,000/s here.
SOAK_CONFIG="$out/config.json" SOAK_LOG="$out/requests.csv" SOAK_META="$out/meta.json" \
  SOAK_PACE_US=$((users * 1000000 / rate)) \
  "$soak_bin" -H "$BASE_URL" -u "$users" -s "${ramp}s" -t "${duration}s" \
  --running-metrics 60 --report-file "$out/goose-report.html" $goose_args > "$out/goose.log" 2>&1 &
goose_pid=$!
started=$SECONDS
deadline=$((ramp + duration + 300)) # Goose stops by itself; this is in case it does not
while kill -0 "$goose_pid" 2>/dev/null; do
  sleep 5
  if [ $((SECONDS - started)) -gt "$deadline" ]; then
    kill "$goose_pid" 2>/dev/null || true
    die "the load generator was still running after $deadline s: stopped (see $out/goose.log)"
  fi
  if [ $(( (SECONDS - started) % 60 )) -lt 5 ] && [ -s "$out/requests.csv" ]; then
    log "$((SECONDS - started)) s: $(awk -F, 'NR > 1 { n++; if ($5 == 0) e++ } END { printf "%d requests, %d errors", n, e }' "$out/requests.csv"), server RSS $(awk '/^VmRSS:/ {printf "%.1f MB", $2 / 1024}' "/proc/$SERVER_PID/status")"
  fi
done
status=0
wait "$goose_pid" || status=$?
goose_pid=""
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
[ "$status" -eq 0 ] || die "the load generator exited with $status: $(tail -n 20 "$out/goose.log")"
kill -0 "$SERVER_PID" 2>/dev/null || die "the server is gone (its log: $GATEHOUSE_DATA_DIR.log)"

left=$(archive_leftovers)
log "archived the $left people still invited when the load stopped"

# What the run left in the database, beside the log: a returning browser stores no new device
# and queues no new-device mail, so both should stay near one per Goose user (its first sign-in).
facts=$(q -c "SELECT json_build_object(
  'new_device_sign_ins', (SELECT count(*) FROM trusted_devices d JOIN users u ON u.id = d.user_id
                           WHERE u.email LIKE 'soak-signin-%' AND d.created_at >= '$since'),
  'new_device_mails', (SELECT count(*) FROM email_outbox WHERE template = 'new_device_sign_in'
                        AND to_address LIKE 'soak-signin-%' AND created_at >= '$since'),
  'invitation_mails', (SELECT count(*) FROM email_outbox WHERE template = 'invitation'
                        AND to_address LIKE 'soak-$run-%' AND created_at >= '$since'),
  'mails_pending', (SELECT count(*) FROM email_outbox WHERE status = 'pending' AND created_at >= '$since'),
  'people_invited', (SELECT count(*) FROM users WHERE email LIKE 'soak-$run-%'),
  'people_invited_not_archived', (SELECT count(*) FROM users WHERE email LIKE 'soak-$run-%' AND status <> 'archived'))")

# --- the figures and the plot -----------------------------------------------------------------
"$py" bench/soak/plot.py \
  --requests "$out/requests.csv" --rss "$out/rss.csv" --meta "$out/meta.json" --lock bench/soak/Cargo.lock \
  --png bench/results/soak.png --rate "$rate" --duration "$duration" --ramp "$ramp" --users "$users" \
  --accounts "$accounts" --billing-batch "$billing_batch" --audit-batch "$audit_batch" \
  --interval "$interval" --clk-tck "$(getconf CLK_TCK)" --database "$facts" --title "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
