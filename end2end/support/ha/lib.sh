# The high-availability scenario's processes, for scripts/ha_test.sh (debug build, short)
# and bench/ha/bench.sh (release build, long). Source it after setting:
#
#   ROOT      the repository
#   HA_BIN    the gatehouse binary
#   HA_HOME   a directory kept between runs: the scenario's own PostgreSQL cluster
#             ({HA_HOME}/postgres, made and started by `gatehouse db start`; its own, because
#             the scenario stops and starts it) and run/ (this run's logs and results)
#   HA_PORT   the load balancer's port; instance a listens on +1, b on +2, HAProxy's stats
#             page on +9, the SMTP server on +5 (its read API on +6), the webhook receiver
#             on +7
#   HA_NAME   the prefix of progress lines (stderr)
#
# The layout: PostgreSQL (database gatehouse_ha, recreated each run), instances a and b
# (`gatehouse serve`, the same DATABASE_URL and master key file, GATEHOUSE_PUBLIC_URL = the
# load balancer's URL, mail through GATEHOUSE_SMTP_URL to end2end/support/smtp_sink.py, a
# real SMTP server (aiosmtpd, from the browser tests' venv, E2E_PYTHON)), HAProxy
# (end2end/support/ha/haproxy.cfg) on HA_PORT, and for the faults a webhook receiver
# (end2end/support/ha/faults.mjs, Standard Webhooks' npm library). The data: the
# demo tenant acme and its people (`gatehouse demo`), a tenant ha-suspend, an operator with
# an MFA-verified session row (as the benchmarks make one), three applications and their
# keys (`gatehouse app ...`). Secrets (master key, client secrets, tokens, the operator's
# session) live in run/secrets (0700), are never printed, and are deleted on exit.
# Every process started here is stopped by ha_cleanup (set it as the EXIT trap).

: "${ROOT:?}" "${HA_HOME:?}" "${HA_BIN:?}" "${HA_PORT:?}"
HA_SUPPORT="$ROOT/end2end/support/ha"
HA_WORK="$HA_HOME/run"
HA_SECRETS="$HA_WORK/secrets"
HA_RESULTS="$HA_WORK/results"
HA_RAW="$HA_WORK/raw"
HA_LOGS="$HA_WORK/logs"
HA_DB_NAME="${HA_DB_NAME:-gatehouse_ha}"
HA_BG_PIDS=()
HA_PID_a="" HA_PID_b="" HA_PID_lb="" HA_PID_smtp="" HA_PID_hook="" HA_LOAD_PID=""
# smtp: instances send mail to the SMTP server; files: to {their data dir}/mail.
HA_MAIL=smtp
HA_PG_TOUCHED=0

ha_log() { printf '\033[1;36m[%s]\033[0m %s\n' "${HA_NAME:-ha}" "$*" >&2; }
ha_die() {
  ha_log "FAILED: $*"
  exit 1
}
now_ms() { date +%s%3N; }
# JSON for the scenario: the small objects the shell writes (times, pids); no secret.
ha_json() { node -e 'const [, ...kv] = process.argv; const o = {}; for (let i = 0; i < kv.length; i += 2) { const v = kv[i + 1]; o[kv[i]] = /^-?\d+$/.test(v) ? Number(v) : (v.startsWith("{") || v.startsWith("[") ? JSON.parse(v) : v); } console.log(JSON.stringify(o));' -- "$@"; }

# --- preparation ----------------------------------------------------------------------------
ha_init() {
  local p
  for tool in node psql curl; do command -v "$tool" >/dev/null || ha_die "$tool is required"; done
  HA_HAPROXY="${HA_HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}"
  [ -x "$HA_HAPROXY" ] || ha_die "HAProxy is not installed (Debian's haproxy: scripts/setup.sh --tests installs it)"
  [ -x "$HA_BIN" ] || ha_die "no $HA_BIN: build Gatehouse first"
  HA_PY="${E2E_PYTHON:-$ROOT/.venv-e2e/bin/python}"
  "$HA_PY" -c 'import aiosmtpd' 2>/dev/null || ha_die "no aiosmtpd in $HA_PY (scripts/setup.sh --tests makes the venv)"
  HA_LB_PORT=$HA_PORT HA_A_PORT=$((HA_PORT + 1)) HA_B_PORT=$((HA_PORT + 2)) HA_STATS_PORT=$((HA_PORT + 9))
  HA_SMTP_PORT=$((HA_PORT + 5)) HA_SMTP_API_PORT=$((HA_PORT + 6)) HA_HOOK_PORT=$((HA_PORT + 7))
  for p in "$HA_LB_PORT" "$HA_A_PORT" "$HA_B_PORT" "$HA_STATS_PORT" "$HA_SMTP_PORT" "$HA_SMTP_API_PORT" "$HA_HOOK_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      ha_die "port $p is in use (ports $HA_LB_PORT..$HA_STATS_PORT are needed; choose others with the port setting)"
    fi
  done
  rm -rf "$HA_WORK"
  mkdir -p "$HA_SECRETS" "$HA_RESULTS" "$HA_RAW" "$HA_LOGS"
  chmod 700 "$HA_WORK" "$HA_SECRETS"
  HA_RUN="ha$(date +%s)$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
  HA_PUBLIC_URL="http://localhost:$HA_LB_PORT"
  HA_REDIRECT_URI="http://127.0.0.1:4997/callback" # never called: the code is read from the redirect
  export HA_A_URL="http://127.0.0.1:$HA_A_PORT" HA_B_URL="http://127.0.0.1:$HA_B_PORT"
  export HA_LB_URL="http://127.0.0.1:$HA_LB_PORT" HA_STATS_URL="http://127.0.0.1:$HA_STATS_PORT/stats;csv"
  export HA_PUBLIC_URL HA_REDIRECT_URI HA_RUN HA_SECRETS HA_RESULTS HA_RAW
  HA_SMTP_API="http://127.0.0.1:$HA_SMTP_API_PORT"
  # Gatehouse's processes get this environment and nothing else (env -i): no setting of the
  # calling shell (the test command's GATEHOUSE_*) leaks in.
  HA_GH_ENV=("PATH=$PATH" "HOME=${HOME:-/}" "GATEHOUSE_LOG_FORMAT=json" "GATEHOUSE_LOG=${HA_LOG_LEVEL:-info}"
    "GATEHOUSE_SITE_ROOT=$ROOT/target/site")
  [ -z "${GATEHOUSE_PG_BIN_DIR:-}" ] || HA_GH_ENV+=("GATEHOUSE_PG_BIN_DIR=$GATEHOUSE_PG_BIN_DIR")
}

ha_pg() { env -i "${HA_GH_ENV[@]}" "GATEHOUSE_DATA_DIR=$HA_HOME" "$HA_BIN" db "$@"; }
q() { psql "$HA_DB_URL" -X -v ON_ERROR_STOP=1 -qAt "$@"; }
ha_cli() { env -i "${HA_APP_ENV[@]}" "GATEHOUSE_DATA_DIR=$HA_WORK/cli" "$HA_BIN" "$@" 2>>"$HA_LOGS/cli.log"; }
ha_scn() { node "$HA_SUPPORT/scenario.mjs" "$@"; }
ha_fault() { node "$HA_SUPPORT/faults.mjs" "$@"; }
json_field() { node -e 'let s = ""; process.stdin.on("data", (c) => { s += c; }).on("end", () => process.stdout.write(String(JSON.parse(s)[process.argv[1]])));' "$1"; }

# The scenario's cluster (started here if it is not running) and a fresh database in it.
ha_database() {
  mkdir -p "$HA_HOME"
  local url
  url=$(ha_pg url 2>/dev/null | tail -n 1) || true
  if [ -z "$url" ] || ! psql "$url" -XqAtc 'SELECT 1' >/dev/null 2>&1; then
    ha_log "PostgreSQL: starting the scenario's cluster in $HA_HOME"
    url=$(ha_pg start 2>>"$HA_LOGS/db.log" | tail -n 1) || ha_die "gatehouse db start failed (see $HA_LOGS/db.log)"
  fi
  HA_PG_TOUCHED=1
  HA_PG_URL=$url
  HA_DB_URL="${url/\/gatehouse\?//$HA_DB_NAME?}"
  [ "$HA_DB_URL" != "$url" ] || ha_die "unexpected database URL form: $url"
  psql "$HA_PG_URL" -X -v ON_ERROR_STOP=1 -qAt -c "DROP DATABASE IF EXISTS $HA_DB_NAME WITH (FORCE)" \
    -c "CREATE DATABASE $HA_DB_NAME" >/dev/null
  (umask 077 && echo "k1=$(head -c 32 /dev/urandom | base64 -w0)" > "$HA_SECRETS/master.key")
  # Rate limits off: one token carries the whole steady load (hundreds of requests a
  # second); the limits are per instance and have tests of their own.
  HA_APP_ENV=("${HA_GH_ENV[@]}" "DATABASE_URL=$HA_DB_URL" "GATEHOUSE_MASTER_KEY_FILE=$HA_SECRETS/master.key"
    "GATEHOUSE_PUBLIC_URL=$HA_PUBLIC_URL" "GATEHOUSE_METRICS_ADDR=off" "GATEHOUSE_TRUSTED_PROXIES=127.0.0.1"
    "GATEHOUSE_RATE_LIMIT_API_KEY=0" "GATEHOUSE_RATE_LIMIT_USER=0" "GATEHOUSE_RATE_LIMIT_ANONYMOUS=0"
    "GATEHOUSE_RATE_LIMIT_EVENTS=0" "GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE=true")
}

# Demo data, the suspension tenant, the operator and their session, the applications.
ha_data() {
  ha_cli demo >/dev/null || ha_die "gatehouse demo failed (see $HA_LOGS/cli.log)"
  q -c "INSERT INTO tenants (name, domain) VALUES ('HA suspend', 'ha-suspend')" >/dev/null
  HA_ACME_TENANT_ID=$(q -c "SELECT id FROM tenants WHERE domain = 'acme'")
  HA_SUSPEND_TENANT_ID=$(q -c "SELECT id FROM tenants WHERE domain = 'ha-suspend'")
  [ -n "$HA_ACME_TENANT_ID" ] && [ -n "$HA_SUSPEND_TENANT_ID" ] || ha_die "the tenants are missing"
  export HA_ACME_TENANT_ID HA_SUSPEND_TENANT_ID

  local operator=ha-operator@gatehouse.test session
  head -c 24 /dev/urandom | base64 -w0 | ha_cli operator create --email "$operator" --name "HA operator" --password-stdin >/dev/null \
    || ha_die "gatehouse operator create failed"
  # Signed in with a second factor: a session row as bench/audit.sh makes one (the cookie's
  # value is the token, the row holds its SHA-256). The SQL goes through stdin, not argv.
  session=$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')
  (umask 077 && printf '%s' "$session" > "$HA_SECRETS/operator-session")
  local made
  made=$(q <<SQL
INSERT INTO sessions (token_hash, user_id, tenant_id, expires_at, idle_timeout_secs, mfa_verified_at, auth_methods)
SELECT sha256(convert_to('$session', 'UTF8')), id, NULL, now() + interval '2 hours', 7200, now(), ARRAY['pwd', 'otp']
  FROM users WHERE lower(email) = '$operator' AND role = 'operator' AND status = 'active'
RETURNING 1;
SQL
)
  [ "$made" = 1 ] || ha_die "no operator session"

  local app
  app=$(ha_cli app register --name "HA acme" --environment development --grant client_credentials \
    --grant authorization_code --redirect-uri "$HA_REDIRECT_URI" --tenant acme | json_field id)
  HA_ACME_APP_ID=$app
  (umask 077 && ha_cli app key issue "$app" --name ha --scope openid --scope email --scope flag:read \
    --scope bill:read --scope bill:write --scope log:write > "$HA_SECRETS/key-acme.json")
  app=$(ha_cli app register --name "HA platform" --environment development --grant authorization_code \
    --redirect-uri "$HA_REDIRECT_URI" --all-tenants | json_field id)
  (umask 077 && ha_cli app key issue "$app" --name ha --scope openid --scope admin > "$HA_SECRETS/key-platform.json")
  app=$(ha_cli app register --name "HA suspend" --environment development --grant client_credentials \
    --tenant ha-suspend | json_field id)
  (umask 077 && ha_cli app key issue "$app" --name ha --scope flag:read > "$HA_SECRETS/key-suspend.json")
  for f in key-acme key-platform key-suspend; do
    [ -s "$HA_SECRETS/$f.json" ] || ha_die "gatehouse app key issue failed (see $HA_LOGS/cli.log)"
  done
}

# --- processes ------------------------------------------------------------------------------
ha_pid() { local v="HA_PID_$1"; printf '%s' "${!v}"; }
ha_port_of() { case "$1" in a) echo "$HA_A_PORT" ;; b) echo "$HA_B_PORT" ;; esac; }

# ha_start_instance NAME [WRAPPER...]: starts it (through WRAPPER, a command that execs its
# arguments, when given) and waits until /readyz answers 200. Not in a subshell: the process
# must stay this shell's child (wait, kill). Mail goes as HA_MAIL says.
ha_start_instance() {
  local name=$1 port pid mail=()
  shift
  port=$(ha_port_of "$name")
  [ "$HA_MAIL" != smtp ] || mail=("GATEHOUSE_SMTP_URL=smtp://127.0.0.1:$HA_SMTP_PORT")
  "$@" env -i "${HA_APP_ENV[@]}" "${mail[@]}" "GATEHOUSE_ADDR=127.0.0.1:$port" "GATEHOUSE_DATA_DIR=$HA_WORK/$name" \
    "$HA_BIN" serve >>"$HA_LOGS/$name.log" 2>&1 &
  pid=$!
  printf -v "HA_PID_$name" '%s' "$pid"
  for _ in $(seq 1 240); do
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$HA_LOGS/$name.log" >&2
      ha_die "instance $name exited"
    fi
    sleep 0.25
  done
  ha_die "instance $name was not ready after 60 s"
}

# ha_stop_instance NAME: SIGTERM, and waits for its graceful end.
ha_stop_instance() {
  local pid
  pid=$(ha_pid "$1")
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  printf -v "HA_PID_$1" '%s' ""
}

ha_kill9() {
  local pid
  pid=$(ha_pid "$1")
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  printf -v "HA_PID_$1" '%s' ""
}

# Waits (10 s) until something listens on 127.0.0.1:PORT.
ha_wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  ha_die "nothing listens on port $1 (see $HA_LOGS)"
}
# The SMTP server (smtp_sink.py: aiosmtpd, GET /messages) and the webhook receiver
# (faults.mjs receiver, after hook-setup), started and stopped by the fault phase.
ha_start_smtp() {
  "$HA_PY" "$ROOT/end2end/support/smtp_sink.py" "$HA_SMTP_PORT" "$HA_SMTP_API_PORT" >>"$HA_LOGS/smtp.log" 2>&1 &
  HA_PID_smtp=$!
  ha_wait_port "$HA_SMTP_API_PORT"
  ha_wait_port "$HA_SMTP_PORT"
}
ha_start_receiver() {
  node "$HA_SUPPORT/faults.mjs" receiver --port "$HA_HOOK_PORT" --out "$HA_RAW/hooks.ndjson" >>"$HA_LOGS/receiver.log" 2>&1 &
  HA_PID_hook=$!
  ha_wait_port "$HA_HOOK_PORT"
}
# ha_stop_helper smtp|hook: stops it and waits until its port is closed.
ha_stop_helper() {
  local pid
  pid=$(ha_pid "$1")
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  printf -v "HA_PID_$1" '%s' ""
}

ha_start_lb() {
  local cfg="$HA_SUPPORT/haproxy.cfg"
  local lbenv=("PATH=$PATH" "HA_LB_ADDR=127.0.0.1:$HA_LB_PORT" "HA_A_ADDR=127.0.0.1:$HA_A_PORT"
    "HA_B_ADDR=127.0.0.1:$HA_B_PORT" "HA_STATS_ADDR=127.0.0.1:$HA_STATS_PORT")
  env -i "${lbenv[@]}" "$HA_HAPROXY" -c -q -f "$cfg" >>"$HA_LOGS/haproxy.log" 2>&1 || ha_die "haproxy -c refused $cfg (see $HA_LOGS/haproxy.log)"
  env -i "${lbenv[@]}" "$HA_HAPROXY" -db -f "$cfg" >>"$HA_LOGS/haproxy.log" 2>&1 &
  HA_PID_lb=$!
  ha_wait_lb a UP 15
  ha_wait_lb b UP 15
}
# A server's state on HAProxy's stats page (UP, DOWN, "UP 1/2", ...).
ha_lb_status() {
  curl -fsS --max-time 1 "$HA_STATS_URL" 2>/dev/null | awk -F, -v sv="$1" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == "status") c = i; next }
    $1 == "gatehouse" && $2 == sv { print $c }'
}
ha_wait_lb() { # SERVER STATE SECONDS
  local deadline=$(($(now_ms) + $3 * 1000))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    [ "$(ha_lb_status "$1")" = "$2" ] && return 0
    sleep 0.05
  done
  ha_die "HAProxy did not show $1 $2 within $3 s (it shows '$(ha_lb_status "$1")'; see $HA_LOGS/haproxy.log)"
}

# ha_load_start OUT ARGS...: the load generator in the background, once it sends.
ha_load_start() {
  local out=$1
  shift
  rm -f "$HA_RAW/load-ready"
  node "$HA_SUPPORT/load.mjs" "$@" --ready "$HA_RAW/load-ready" >"$out" 2>>"$HA_LOGS/load.log" &
  HA_LOAD_PID=$!
  HA_BG_PIDS+=("$HA_LOAD_PID")
  for _ in $(seq 1 100); do
    [ -e "$HA_RAW/load-ready" ] && return 0
    kill -0 "$HA_LOAD_PID" 2>/dev/null || ha_die "the load generator exited (see $HA_LOGS/load.log)"
    sleep 0.1
  done
  ha_die "the load generator did not start"
}
ha_load_stop() {
  kill -TERM "$HA_LOAD_PID" 2>/dev/null || true
  wait "$HA_LOAD_PID" || ha_die "the load generator failed (see $HA_LOGS/load.log)"
  HA_LOAD_PID=""
}
ha_mark() { kill -USR2 "$HA_LOAD_PID"; }

# "epoch_ms code" for each /readyz answer of URL while $HA_RAW/polling exists.
ha_poll_ready() {
  local code
  while [ -e "$HA_RAW/polling" ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1/readyz" 2>/dev/null) || true
    echo "$(now_ms) ${code:-000}" >>"$2"
    sleep 0.1
  done
}
ha_count_code() { awk -v t="$2" -v c="$3" '$1 >= t && $2 == c' "$1" 2>/dev/null | wc -l; } # FILE SINCE_MS CODE

ha_cleanup() {
  local rc=$? pid n deadline
  trap - EXIT
  for pid in "${HA_BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -z "$HA_PID_lb" ] || kill "$HA_PID_lb" 2>/dev/null || true
  ha_stop_helper hook
  ha_stop_helper smtp
  for n in a b; do
    pid=$(ha_pid "$n")
    [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
  done
  deadline=$(($(now_ms) + 10000))
  for n in a b lb; do
    pid=$(ha_pid "$n")
    [ -n "$pid" ] || continue
    while kill -0 "$pid" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for pid in "${HA_BG_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  # The cluster is the scenario's own: stopped after every run.
  if [ "$HA_PG_TOUCHED" = 1 ]; then ha_pg stop >/dev/null 2>>"$HA_LOGS/db.log" || true; fi
  rm -rf "$HA_SECRETS"
  [ "$rc" = 0 ] || ha_log "logs and results kept in $HA_WORK (secrets deleted)"
  exit "$rc"
}

# --- phases ---------------------------------------------------------------------------------
ha_phase_setup() {
  local t0
  t0=$(now_ms)
  ha_database
  ha_data
  ha_start_smtp
  ha_log "data ready ($(($(now_ms) - t0)) ms); starting instance a on $HA_A_PORT, then b on $HA_B_PORT"
  # One after the other: the first makes the signing keys, the second loads them.
  ha_start_instance a
  ha_start_instance b
  ha_start_lb
  ha_log "HAProxy on $HA_LB_PORT: a and b UP ($(($(now_ms) - t0)) ms since the set-up began)"
  ha_scn setup >"$HA_RESULTS/setup.json"
}

ha_phase_session() {
  ha_log "a. a person signs in through a and keeps working through b"
  ha_scn session >"$HA_RESULTS/session.json"
}

ha_phase_propagation() { # ROUNDS [LABEL]
  local out="$HA_RESULTS/propagation${2:+-$2}.json"
  ha_log "b. revocation, suspension and flag change through a, seen by b (${1} rounds each${2:+, $2})"
  ha_scn propagation --rounds "$1" ${2:+--label "$2"} >"$out"
}

# ha_phase_kill RATE CONNECTIONS BEFORE_S DOWN_S AFTER_S VICTIM...: steady load through
# HAProxy; BEFORE_S into it (and again after each victim is back) kill -9 of VICTIM, restart
# after DOWN_S; AFTER_S more once the last is back in rotation.
ha_phase_kill() {
  local rate=$1 conns=$2 before=$3 down=$4 after=$5 victim kill restart ready events="["
  shift 5
  ha_log "c. kill -9 under steady load: $rate requests/s through HAProxy, victims: $*"
  ha_load_start "$HA_RAW/kill-load.json" steady --plan "$HA_SECRETS/plan-steady.json" --rate "$rate" \
    --seconds 3600 --connections "$conns" --stats "$HA_STATS_URL"
  for victim in "$@"; do
    sleep "$before"
    ha_mark
    kill=$(now_ms)
    ha_kill9 "$victim"
    ha_log "   kill -9 $victim"
    sleep "$down"
    restart=$(now_ms)
    ha_start_instance "$victim"
    ready=$(now_ms)
    ha_wait_lb "$victim" UP 15
    ha_log "   $victim restarted: ready after $((ready - restart)) ms"
    [ "$events" = "[" ] || events+=","
    events+=$(ha_json victim "$victim" kill "$kill" restart "$restart" ready "$ready")
  done
  sleep "$after"
  ha_load_stop
  echo "$events]" >"$HA_RAW/kill-events.json"
  ha_scn analyze-kill "$HA_RAW/kill-load.json" "$HA_RAW/kill-events.json" >"$HA_RESULTS/kill.json"
}

# ha_phase_pg RATE CONNECTIONS BEFORE_S AFTER_S: steady load; BEFORE_S into it PostgreSQL
# stops; it starts again once both instances have answered /readyz 503 twice; AFTER_S more
# once both are back in rotation.
ha_phase_pg() {
  local rate=$1 conns=$2 before=$3 after=$4 pids_before pids_after stop_begin stopped start_begin started n deadline
  ha_log "d. PostgreSQL restart under steady load ($rate requests/s)"
  pids_before=$(ha_json a "$HA_PID_a" b "$HA_PID_b")
  ha_load_start "$HA_RAW/pg-load.json" steady --plan "$HA_SECRETS/plan-steady.json" --rate "$rate" \
    --seconds 3600 --connections "$conns" --stats "$HA_STATS_URL"
  : >"$HA_RAW/polling"
  : >"$HA_RAW/readyz-a.log"
  : >"$HA_RAW/readyz-b.log"
  ha_poll_ready "$HA_A_URL" "$HA_RAW/readyz-a.log" &
  HA_BG_PIDS+=($!)
  ha_poll_ready "$HA_B_URL" "$HA_RAW/readyz-b.log" &
  HA_BG_PIDS+=($!)
  sleep "$before"
  stop_begin=$(now_ms)
  ha_pg stop >/dev/null 2>>"$HA_LOGS/db.log" || ha_die "gatehouse db stop failed"
  stopped=$(now_ms)
  ha_log "   PostgreSQL stopped ($((stopped - stop_begin)) ms)"
  deadline=$((stopped + 20000))
  for n in a b; do
    while [ "$(ha_count_code "$HA_RAW/readyz-$n.log" "$stopped" 503)" -lt 2 ]; do
      [ "$(now_ms)" -lt "$deadline" ] || break
      sleep 0.1
    done
  done
  start_begin=$(now_ms)
  ha_pg start >/dev/null 2>>"$HA_LOGS/db.log" || ha_die "gatehouse db start failed"
  started=$(now_ms)
  ha_log "   PostgreSQL started again after an outage of $((start_begin - stop_begin)) ms"
  deadline=$((started + 30000))
  for n in a b; do
    while [ "$(ha_count_code "$HA_RAW/readyz-$n.log" "$started" 200)" -lt 1 ]; do
      [ "$(now_ms)" -lt "$deadline" ] || break
      sleep 0.1
    done
  done
  ha_wait_lb a UP 20
  ha_wait_lb b UP 20
  ha_log "   both instances back in rotation $(($(now_ms) - started)) ms after the start"
  sleep "$after"
  rm -f "$HA_RAW/polling"
  ha_load_stop
  pids_after=$(ha_json a "$(kill -0 "$HA_PID_a" 2>/dev/null && echo "$HA_PID_a" || echo gone)" \
    b "$(kill -0 "$HA_PID_b" 2>/dev/null && echo "$HA_PID_b" || echo gone)")
  ha_json stop_begin "$stop_begin" stopped "$stopped" start_begin "$start_begin" started "$started" \
    pids_before "$pids_before" pids_after "$pids_after" >"$HA_RAW/pg-times.json"
  ha_scn analyze-pg "$HA_RAW/pg-load.json" "$HA_RAW/pg-times.json" "$HA_RAW/readyz-a.log" "$HA_RAW/readyz-b.log" \
    >"$HA_RESULTS/pg_restart.json"
}

# ha_phase_ingest BATCHES_PER_S WORKERS BATCH BEFORE_S DOWN_S AFTER_S: billing and audit
# events through HAProxy; kill -9 of a BEFORE_S into it, restart after DOWN_S, AFTER_S more
# once it is back; then every acknowledged id is looked up in the database.
ha_phase_ingest() {
  local rate=$1 workers=$2 batch=$3 before=$4 down=$5 after=$6 kill restart ready verify out
  ha_log "e. kill -9 during billing and audit ingestion ($rate batches/s of $batch events)"
  ha_load_start "$HA_RAW/ingest-load.json" ingest --plan "$HA_SECRETS/plan-ingest.json" --seconds 3600 \
    --connections "$workers" --batch "$batch" --rate "$rate" --acks "$HA_RAW/acks" --grace 20
  sleep "$before"
  ha_mark
  kill=$(now_ms)
  ha_kill9 a
  ha_log "   kill -9 a"
  sleep "$down"
  restart=$(now_ms)
  ha_start_instance a
  ready=$(now_ms)
  ha_wait_lb a UP 15
  sleep "$after"
  ha_load_stop
  ha_json kill "$kill" restart "$restart" ready "$ready" >"$HA_RAW/ingest-events.json"
  verify=broken
  if out=$(ha_cli audit verify) && [[ $out == *"the audit trail is intact"* ]]; then verify=intact; fi
  q -v verify="$verify" <<SQL >"$HA_RAW/ingest-counts.json"
CREATE TEMP TABLE ack_billing (id text);
CREATE TEMP TABLE ack_audit (id text);
\copy ack_billing FROM '$HA_RAW/acks/billing.txt'
\copy ack_audit FROM '$HA_RAW/acks/audit.txt'
SELECT json_build_object(
  'billing', json_build_object(
    'acknowledged_distinct', (SELECT count(DISTINCT id) FROM ack_billing),
    'stored_of_acknowledged', (SELECT count(*) FROM (SELECT DISTINCT id FROM ack_billing) a
                                WHERE EXISTS (SELECT 1 FROM billing_events e
                                               WHERE e.application_id = '$HA_ACME_APP_ID' AND e.idempotency_key = a.id)),
    'rows', (SELECT count(*) FROM billing_events
              WHERE application_id = '$HA_ACME_APP_ID' AND idempotency_key LIKE '$HA_RUN-b-%'),
    'distinct', (SELECT count(DISTINCT idempotency_key) FROM billing_events
                  WHERE application_id = '$HA_ACME_APP_ID' AND idempotency_key LIKE '$HA_RUN-b-%')),
  'audit', json_build_object(
    'acknowledged_distinct', (SELECT count(DISTINCT id) FROM ack_audit),
    'stored_of_acknowledged', (SELECT count(*) FROM (SELECT DISTINCT id FROM ack_audit) a
                                WHERE EXISTS (SELECT 1 FROM audit_log l
                                               WHERE l.application_id = '$HA_ACME_APP_ID' AND l.metadata->>'event_id' = a.id)),
    'rows', (SELECT count(*) FROM audit_log
              WHERE application_id = '$HA_ACME_APP_ID' AND metadata->>'event_id' LIKE '$HA_RUN-a-%'),
    'distinct', (SELECT count(DISTINCT metadata->>'event_id') FROM audit_log
                  WHERE application_id = '$HA_ACME_APP_ID' AND metadata->>'event_id' LIKE '$HA_RUN-a-%')),
  'audit_verify', :'verify');
SQL
  ha_scn analyze-ingest "$HA_RAW/ingest-load.json" "$HA_RAW/ingest-counts.json" "$HA_RAW/ingest-events.json" \
    >"$HA_RESULTS/ingest.json"
}

# --- faults (issue 21, part 3) ----------------------------------------------------------------
# The invited addresses of a label, as a LIKE pattern (faults.mjs: fault-L-i-RUN@acme.test).
ha_fault_like() { printf "fault-%s-%%-%s@acme.test" "$1" "$HA_RUN"; }

# ha_fault_in EXPR LABEL...: EXPR matches an invited address of one of the labels (SQL).
ha_fault_in() {
  local expr=$1 l out=""
  shift
  for l in "$@"; do out+="${out:+ OR }$expr LIKE '$(ha_fault_like "$l")'"; done
  printf '(%s)' "$out"
}
HA_HOOK_EMAIL="(e.body->'data'->>'email')"

# ha_fault_final LABEL...: the outbox and the deliveries of those invitations (JSON), once
# nothing of them is in a worker's hands (at most 10 s).
ha_fault_final() {
  local out
  for _ in $(seq 1 100); do
    out=$(q <<SQL
SELECT json_build_object(
  'mail_sent', (SELECT count(*) FROM email_outbox WHERE status = 'sent' AND $(ha_fault_in to_address "$@")),
  'mail_pending', (SELECT count(*) FROM email_outbox WHERE status <> 'sent' AND $(ha_fault_in to_address "$@")),
  'deliveries_delivered', (SELECT count(*) FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
                            WHERE d.status = 'delivered' AND $(ha_fault_in "$HA_HOOK_EMAIL" "$@")),
  'deliveries_pending', (SELECT count(*) FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
                          WHERE d.status <> 'delivered' AND $(ha_fault_in "$HA_HOOK_EMAIL" "$@")));
SQL
)
    [[ $out == *'"mail_pending" : 0'* && $out == *'"deliveries_pending" : 0'* ]] && break
    sleep 0.1
  done
  printf '%s\n' "$out"
}

# The outbox rows of a label while their way out is down: the query, and its answer (JSON).
ha_fault_waiting_mail_sql() {
  cat <<SQL
SELECT json_build_object('invited', count(*), 'pending', count(*) FILTER (WHERE status = 'pending'),
  'attempts_spent', coalesce(sum(attempts), 0), 'with_error', count(*) FILTER (WHERE last_error IS NOT NULL),
  'error', max(last_error))
  FROM email_outbox WHERE $(ha_fault_in to_address "$1")
SQL
}
ha_fault_waiting_mail() { q <<<"$(ha_fault_waiting_mail_sql "$1");"; }

# ha_phase_downstream DOWN_S MAILS RATE: one invitation goes through (its mail reaches the
# SMTP server, its user.invited event the receiver); then both stop for DOWN_S, during which
# MAILS people are invited through HAProxy (spread over the outage) under a steady load of
# RATE requests/s; both start again, one more person is invited (the receiver's backlog
# follows its first success), and every mail and event must arrive, each once.
ha_phase_downstream() {
  local down=$1 mails=$2 rate=$3 t_down t_back spread
  ha_log "f. the SMTP server and the webhook receiver down for $down s while $mails people are invited"
  ha_fault hook-setup --port "$HA_HOOK_PORT" >"$HA_RESULTS/downstream-setup.json"
  ha_start_receiver
  ha_fault invite --label before --count 1 >/dev/null
  ha_fault wait-delivered --labels before --sink "$HA_SMTP_API" --hooks "$HA_RAW/hooks.ndjson" --timeout 30 \
    >"$HA_RAW/delivered-before.json"
  ha_stop_helper smtp
  ha_stop_helper hook
  t_down=$(now_ms)
  ha_load_start "$HA_RAW/downstream-load.json" steady --plan "$HA_SECRETS/plan-steady.json" --rate "$rate" \
    --seconds 3600 --connections 16 --stats "$HA_STATS_URL"
  spread=$((down > 3 ? down - 2 : 1))
  ha_fault invite --label down --count "$mails" --seconds "$spread" >"$HA_RAW/invite-down.json"
  while [ $(($(now_ms) - t_down)) -lt $((down * 1000)) ]; do sleep 0.2; done
  q <<SQL >"$HA_RAW/downstream-waiting.json"
SELECT json_build_object(
  'mail', ($(ha_fault_waiting_mail_sql down)),
  'webhooks', (SELECT json_build_object('pending', count(*) FILTER (WHERE d.status = 'pending'),
                      'error', max(d.last_error))
                 FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
                WHERE $(ha_fault_in "$HA_HOOK_EMAIL" down)),
  'webhook_failed_attempts', (SELECT count(*) FROM webhook_attempts a
                                JOIN webhook_deliveries d ON d.id = a.delivery_id
                                JOIN webhook_events e ON e.id = d.event_id
                               WHERE $(ha_fault_in "$HA_HOOK_EMAIL" down)));
SQL
  ha_start_smtp
  ha_start_receiver
  t_back=$(now_ms)
  ha_log "   both back after $((t_back - t_down)) ms; one more invitation, then every mail and event is awaited"
  ha_fault invite --label after --count 1 >/dev/null
  ha_fault wait-delivered --labels down,after --sink "$HA_SMTP_API" --hooks "$HA_RAW/hooks.ndjson" \
    --timeout $((60 + down / 5)) >"$HA_RAW/delivered-down+after.json"
  ha_load_stop
  ha_fault_final down after >"$HA_RAW/downstream-final.json"
  ha_json down "$t_down" back "$t_back" invited_while_down "$mails" >"$HA_RAW/downstream-times.json"
  ha_fault analyze-downstream "$HA_RAW/downstream-times.json" "$HA_RAW/downstream-waiting.json" \
    "$HA_RAW/delivered-down+after.json" "$HA_RAW/downstream-final.json" "$HA_RAW/downstream-load.json" \
    "$HA_RAW/delivered-before.json" >"$HA_RESULTS/downstream.json"
}

# ha_phase_mail_readonly MAILS HOLD_S: both instances stop; a starts again writing mail to
# {its data dir}/mail (no SMTP), that directory mounted read-only in a mount namespace of its
# own (or, where namespaces are not allowed, replaced by a file); MAILS people are invited
# on a; HOLD_S more under a steady load through HAProxy; then the directory is made
# writable: every mail must be written, each once, and nothing else may have stopped.
ha_phase_mail_readonly() {
  local mails=$1 hold=$2 dir="$HA_WORK/a/mail" method expect t_ro t_rw logged=false pages
  ha_log "g. the mail directory read-only ($mails mails, $hold s)"
  ha_stop_instance b
  ha_stop_instance a
  rm -rf "$dir"
  mkdir -p "$dir"
  HA_MAIL=files
  if unshare --mount true 2>/dev/null; then
    method="read-only bind mount in the instance's mount namespace"
    expect="read-only file system"
    # shellcheck disable=SC2016
    ha_start_instance a unshare --mount --propagation private \
      sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' sh "$dir"
  else
    method="the mail directory replaced by a file (no mount namespace allowed here)"
    expect="not a directory|file exists"
    rm -rf "$dir"
    : >"$dir"
    ha_start_instance a
  fi
  HA_MAIL=smtp
  ha_wait_lb b DOWN 15
  t_ro=$(now_ms)
  ha_load_start "$HA_RAW/readonly-load.json" steady --plan "$HA_SECRETS/plan-steady.json" --rate 50 \
    --seconds 3600 --connections 8 --stats "$HA_STATS_URL"
  ha_fault invite --label ro --count "$mails" --base "$HA_A_URL" >/dev/null
  for _ in $(seq 1 150); do
    [[ $(ha_fault_waiting_mail ro) == *'"with_error" : 0,'* ]] || break
    sleep 0.1
  done
  sleep "$hold"
  ha_fault_waiting_mail ro >"$HA_RAW/readonly-waiting.json"
  pages=$(ha_json login "$(curl -s -o /dev/null -w '%{http_code}' "$HA_A_URL/login")" \
    readyz "$(curl -s -o /dev/null -w '%{http_code}' "$HA_A_URL/readyz")" \
    healthz "$(curl -s -o /dev/null -w '%{http_code}' "$HA_A_URL/healthz")")
  grep -q 'the mail directory cannot be written' "$HA_LOGS/a.log" && logged=true
  if [ -f "$dir" ]; then rm -f "$dir"; else nsenter -t "$HA_PID_a" -m mount -o remount,bind,rw "$dir"; fi
  t_rw=$(now_ms)
  ha_log "   writable again after $((t_rw - t_ro)) ms"
  ha_fault wait-files --label ro --dir "$dir" --timeout 60 >/dev/null
  ha_load_stop
  ha_fault_final ro >"$HA_RAW/readonly-final.json"
  ha_json method "$method" expect_error "$expect" readonly "$t_ro" writable "$t_rw" pages "$pages" \
    logged_once "$logged" >"$HA_RAW/readonly-times.json"
  ha_fault analyze-readonly "$HA_RAW/readonly-times.json" "$HA_RAW/readonly-waiting.json" \
    "$HA_RAW/files-ro.json" "$HA_RAW/readonly-final.json" "$HA_RAW/readonly-load.json" >"$HA_RESULTS/mail_readonly.json"
}
