#!/usr/bin/env bash
# The audit trail at scale (issue: bench/audit; FR-LOG-001/002, API-LOG, SPEC §8). Three
# figures, each beside a baseline measured in the same run on the same database:
#
#   ingest  POST /api/v1/audit-logs, {"events": [100 events]} (unique ids) over
#           AUDIT_BENCH_CONNECTIONS (16) connections for AUDIT_BENCH_SECONDS (20) s, with an
#           application token (client credentials, scope log:write): events/s.
#           Baseline: psql \copy of as many rows of the same shape straight into audit_log
#           (the fastest way rows get into that table, with all of its indexes): rows/s.
#           Target: ingestion >= 50 % of COPY.
#   export  GET /audit/export.csv as the demo auditor (an MFA-verified session) for a time
#           range of AUDIT_BENCH_EXPORT_SMALL (100,000) and of AUDIT_BENCH_EXPORT_ROWS
#           (2,000,000) entries: rows/s, and the server's peak RSS during each (VmRSS every
#           100 ms): the export streams, so memory must not follow the size (target: the two
#           peaks within 20 MB). Baseline: COPY (SELECT <the export's columns, joins, filter
#           and order>) TO STDOUT (FORMAT csv, FORCE_QUOTE *) through psql into /dev/null.
#           Target: export >= 50 % of COPY.
#           Sealed personal data (CON-COMP-001): the entries the ingest phase just wrote hold
#           their actor's name, address and browser sealed under their data keys; they are
#           exported beside as many seeded entries of the same shape in clear (as the trail
#           was before sealing), two rounds each, interleaved: rows/s of each and the ratio.
#           Target: sealed >= 80 % of clear.
#   search  the Auditor Console's search (/_rpc/audit_search, as the page calls it) with the
#           trail at AUDIT_BENCH_ROWS (10,000,000) entries: for each filter (tenant, actor,
#           actor type, action prefix, outcome, resource, request id, IP, last 24 h, none)
#           AUDIT_BENCH_SEARCHES (40) searches with values drawn from the trail, one at a time:
#           p50/p95 ms. Target: p95 < 100 ms for each.
#
# Run: bench/run.sh audit. Quick smoke run (minutes, not tens of them):
#   AUDIT_BENCH_ROWS=300000 AUDIT_BENCH_EXPORT_ROWS=200000 AUDIT_BENCH_EXPORT_SMALL=20000 \
#   AUDIT_BENCH_SECONDS=3 AUDIT_BENCH_SEARCHES=5 bench/run.sh audit
# Other knobs: AUDIT_BENCH_PHASES (ingest,export,search), AUDIT_BENCH_BATCH (100),
# AUDIT_BENCH_WARMUP (2 s), AUDIT_BENCH_KEYS (API keys to spread the load over; default 1
# when GATEHOUSE_RATE_LIMIT_EVENTS is 0 or beyond reach, else one per connection),
# AUDIT_BENCH_FILL_JOBS (parallel seeding statements, default: CPUs), BENCH_DATABASE_URL.
#
# Seeded rows. Entries are written straight into audit_log (INSERT ... SELECT generate_series,
# 1,000,000 rows a statement, all indexes in place), as a benchmark database may be: their
# hashes are random, so `gatehouse audit verify` on this database fails afterwards (do not run
# it). Their seqs lie BELOW the live chain (negative, allocated downwards, unique): an export
# reads only `seq <= the chain's head` (domain/src/audit/export.rs), so rows above the head
# would be invisible to it, and rows below never meet the chain's own next seqs.
#   - export rows: a time range of their own in 2001 (10 ms apart, nothing else there), found
#     again and reused by later runs of the same size;
#   - search rows: the last 30 days, up to AUDIT_BENCH_ROWS entries in the whole trail (later
#     runs only top up): ~200 tenants (acme and audit-bench-001..199, created if missing),
#     40 actions (skewed), 5 % failures, 50,000 actors, 20,000 IPs, 20 % sent by applications
#     (their actor in metadata), request ids each shared by a few entries.
# The database keeps all of it (.data/bench): 10 M entries need ~10 GB of disk.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BENCH_NAME=audit
# shellcheck source=common.sh
source bench/common.sh
phases=",${AUDIT_BENCH_PHASES:-ingest,export,search},"
conns="${AUDIT_BENCH_CONNECTIONS:-16}"
target_rows="${AUDIT_BENCH_ROWS:-10000000}"
export_big="${AUDIT_BENCH_EXPORT_ROWS:-2000000}"
export_small="${AUDIT_BENCH_EXPORT_SMALL:-100000}"
searches="${AUDIT_BENCH_SEARCHES:-40}"
jobs="${AUDIT_BENCH_FILL_JOBS:-$(nproc)}"
export AUDIT_BENCH_CONNECTIONS="$conns" CLK_TCK="$(getconf CLK_TCK)"
[ "$export_small" -le "$export_big" ] || die "AUDIT_BENCH_EXPORT_SMALL > AUDIT_BENCH_EXPORT_ROWS"


work=$(mktemp -d)
token=""
cleanup() {
  local p
  for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
  if [ -n "$token" ]; then
    psql "$db" -XqAt -c "DELETE FROM sessions WHERE token_hash = sha256(convert_to('$token', 'UTF8'))" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The embedded cluster the harness's server uses (as bench/signin_timing.sh finds it).
db="${BENCH_DATABASE_URL:-$("$bin" db url)}"
q() { psql "$db" -X -v ON_ERROR_STOP=1 -qAt "$@"; }
q -c 'SELECT 1' >/dev/null || die "cannot reach the bench database at $db"
log "database $db; server pid $SERVER_PID"

# --- the auditor: a fully signed-in (MFA-verified) session, as the API tests make one -------
token=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
session=$(q <<SQL
INSERT INTO sessions (token_hash, user_id, tenant_id, expires_at, idle_timeout_secs, mfa_verified_at, auth_methods)
SELECT sha256(convert_to('$token', 'UTF8')), id, NULL, now() + interval '23 hours', 86400, now(), ARRAY['pwd', 'otp']
  FROM users WHERE lower(email) = 'auditor@gatehouse.test' AND role = 'auditor' AND status = 'active'
RETURNING id;
SQL
)
[ -n "$session" ] || die "no active demo auditor (auditor@gatehouse.test): is the demo data there?"
# The session cookie's name is gatehouse_session over http, __Host-gatehouse_session over https
# (app/src/auth/mod.rs); both are sent, the server reads the one it uses.
export AUDIT_COOKIE="gatehouse_session=$token; __Host-gatehouse_session=$token"
check=$(curl -sS -o "$work/check.json" -w '%{http_code}' -X POST -H "Origin: $BASE_URL" -H "Cookie: $AUDIT_COOKIE" \
  -H 'Content-Type: application/x-www-form-urlencoded' -H 'Accept: application/json' \
  --data 'query=range%3D1h' "$BASE_URL/_rpc/audit_search")
[ "$check" = 200 ] || die "the auditor's search answered $check: $(head -c 300 "$work/check.json")"

# --- seeding ---------------------------------------------------------------------------------
# One statement of the fill: :n rows, seqs :seq0.., recorded at :t0 (epoch s) + (:off + i) x :step
# microseconds (so rows come in time order, as the chain appends them).
cat > "$work/fill.sql" <<'SQL'
SET synchronous_commit = off;
WITH p AS MATERIALIZED (
  SELECT (SELECT array_agg(id ORDER BY domain) FROM tenants
           WHERE domain = 'acme' OR domain LIKE 'audit-bench-%') AS tenants,
         coalesce((SELECT array_agg(id ORDER BY created_at, id) FROM applications),
                  ARRAY[gen_random_uuid()]) AS apps
)
INSERT INTO audit_log (seq, id, recorded_at, occurred_at, tenant_id, actor_id, actor_type, action,
                       resource, outcome, metadata, request_id, source, application_id, prev_hash, hash)
SELECT r.seq,
       -- a UUIDv7 of the entry's time, as the server makes them
       (lpad(to_hex((extract(epoch FROM r.at) * 1000)::bigint), 12, '0') || '7' || substr(r.h, 1, 3)
        || '8' || substr(r.h, 4, 15))::uuid,
       r.at,
       r.at - r.r_occ * interval '3 seconds',
       CASE WHEN r.actor_type <> 'operator'
            THEN p.tenants[1 + floor(r.r_tenant ^ 2 * cardinality(p.tenants))::int] END,
       CASE r.actor_type WHEN 'user' THEN md5('gh-actor-' || r.actor_k)::uuid
                         WHEN 'operator' THEN md5('gh-operator-' || (r.actor_k % 40))::uuid END,
       r.actor_type,
       r.action,
       CASE WHEN r.source = 'application' OR r.r_res >= 0.1
            THEN split_part(r.action, '.', 1) || ':' || floor(200000 * r.r_res)::int END,
       CASE WHEN r.r_out < 0.05 THEN 'failure' ELSE 'success' END,
       CASE WHEN r.source = 'application' THEN jsonb_build_object(
              'actor', jsonb_build_object('id', 'u-' || r.actor_k, 'type', 'user', 'name', 'User ' || r.actor_k),
              'ip', r.ip, 'user_agent', r.agent, 'event_id', 'evt-' || r.h,
              'data', jsonb_build_object('bytes', floor(r.r_res * 5000000)::int, 'plan', 'pro'))
            ELSE jsonb_build_object('ip', r.ip, 'user_agent', r.agent) END,
       md5('gh-req-' || CASE WHEN r.source = 'application' THEN 'a' || (r.seq / 100)
                             ELSE (r.seq / 3)::text END)::uuid::text,
       r.source,
       CASE WHEN r.source = 'application' THEN p.apps[1 + floor(r.r_app * cardinality(p.apps))::int] END,
       sha256(int8send(r.seq - 1)),
       sha256(int8send(r.seq))
  FROM p, (
    SELECT s.*, (:seq0)::bigint + s.g AS seq,
           to_timestamp(:t0) + (((:off)::bigint + s.g) * (:step)::bigint) * interval '1 microsecond' AS at,
           md5(((:seq0)::bigint + s.g)::text) AS h,
           CASE WHEN s.r_src < 0.2 THEN 'application' ELSE 'control_plane' END AS source,
           CASE WHEN s.r_src < 0.2 THEN 'application' WHEN s.r_type < 0.86 THEN 'user'
                WHEN s.r_type < 0.96 THEN 'system' ELSE 'operator' END AS actor_type,
           floor(50000 * s.r_actor ^ 1.5)::int AS actor_k,
           (ARRAY['auth.login.success', 'user.read', 'document.download', 'document.view', 'auth.token.issue',
                  'api.request', 'auth.logout', 'flag.evaluate', 'document.upload', 'user.update',
                  'auth.login.failure', 'session.refresh', 'report.export', 'invoice.view', 'auth.mfa.verify',
                  'billing.usage.record', 'document.share', 'user.invite', 'document.delete', 'settings.update',
                  'auth.password.change', 'api_key.use', 'user.create', 'webhook.deliver', 'group.update',
                  'auth.mfa.enroll', 'tenant.settings.update', 'invoice.pay', 'user.disable', 'role.assign',
                  'auth.password.reset', 'sso.login.success', 'export.download', 'user.archive', 'api_key.create',
                  'flag.update', 'tenant.plan.change', 'audit.search', 'audit.export', 'api_key.revoke'
                 ])[1 + floor(40 * s.r_action ^ 2.5)::int] AS action,
           (ARRAY['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
                  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
                  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
                  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
                  'curl/8.5.0', 'python-requests/2.32.3', 'okhttp/4.12.0', 'Go-http-client/2.0'
                 ])[1 + floor(8 * s.r_ua)::int] AS agent,
           CASE WHEN s.ip_k % 10 = 0 THEN '2001:db8::' || to_hex(s.ip_k + 1)
                ELSE '10.' || (s.ip_k / 65536) || '.' || (s.ip_k / 256 % 256) || '.' || (s.ip_k % 256) END AS ip
      FROM (
        -- random() in a subquery's output: evaluated once per row, not flattened away
        SELECT g, random() AS r_src, random() AS r_type, random() AS r_actor, random() AS r_tenant,
               random() AS r_action, random() AS r_out, random() AS r_res, random() AS r_ua,
               random() AS r_occ, random() AS r_app, floor(20000 * random() ^ 2)::int AS ip_k
          FROM generate_series(0, (:n)::int - 1) AS g
      ) s
  ) r;
SQL

# A fresh block of `rows` seqs below every seq in the trail; prints its first.
seq_block() { q -c "SELECT least(coalesce(min(seq), 0), 0) - $1 FROM audit_log"; }

# The ~200 tenants the seeded entries belong to (acme and audit-bench-001..199).
ensure_tenants() {
  q -c "INSERT INTO tenants (name, domain)
        SELECT 'Audit bench ' || lpad(n::text, 3, '0'), 'audit-bench-' || lpad(n::text, 3, '0')
          FROM generate_series(1, 199) n ON CONFLICT (domain) DO NOTHING"
}

# Room for `rows` more entries (~1.1 kB each with their 13 indexes, and WAL) plus 2 GB.
check_disk() {
  local dir avail need
  dir=$(q -c "SHOW data_directory")
  avail=$(df -B1 --output=avail "$dir" | tail -n 1)
  need=$(( $1 * 1100 + 2 * 1024 * 1024 * 1024 ))
  [ "$avail" -ge "$need" ] || die "$(( avail / 1048576 )) MB free under $dir, ~$(( need / 1048576 )) MB needed for $1 more entries (set AUDIT_BENCH_ROWS lower)"
}

# fill LABEL ROWS T0 STEP_US: seeds ROWS entries, 1,000,000 a statement, $jobs at once.
fill() {
  local label=$1 rows=$2 t0=$3 step=$4 lo chunk=1000000 off=0 n running=0 finished=0 started=$SECONDS
  lo=$(seq_block "$rows")
  log "$label: seeding $rows entries (seqs $lo..$((lo + rows - 1)), $jobs statements at once)"
  while [ "$off" -lt "$rows" ] || [ "$running" -gt 0 ]; do
    if [ "$off" -lt "$rows" ] && [ "$running" -lt "$jobs" ]; then
      n=$(( rows - off < chunk ? rows - off : chunk ))
      q -v seq0="$((lo + off))" -v n="$n" -v t0="$t0" -v off="$off" -v step="$step" -f "$work/fill.sql" &
      running=$((running + 1)); off=$((off + n))
      continue
    fi
    wait -n || die "$label: a seeding statement failed"
    running=$((running - 1)); finished=$((finished + 1))
    log "$label: $(( finished * chunk < rows ? finished * chunk : rows )) of $rows entries, $((SECONDS - started)) s"
  done
}

settle() { # VACUUM (ANALYZE): fresh statistics, and no autovacuum of the seeded rows mid-measurement
  local started=$SECONDS
  q -c "VACUUM (ANALYZE) audit_log"
  log "VACUUM (ANALYZE) audit_log: $((SECONDS - started)) s"
}

rows_at_start=$(q -c "SELECT count(*) FROM audit_log")
log "the trail holds $rows_at_start entries"
ingest_json=null; copy_in_json=null; export_json=null; search_json=null; sealed_json=null
ingest_from=""; ingest_to=""

# --- 1. ingestion, then its COPY baseline ------------------------------------------------------
if [[ $phases == *,ingest,* ]]; then
  limit="${GATEHOUSE_RATE_LIMIT_EVENTS:-120000}"
  if [ -n "${AUDIT_BENCH_KEYS:-}" ]; then
    keys=$AUDIT_BENCH_KEYS
  elif [ "$limit" -eq 0 ] || [ "$limit" -ge 100000000 ]; then
    keys=1
  else
    keys=$conns
    log "GATEHOUSE_RATE_LIMIT_EVENTS is $limit events a minute per key (bench/run.sh does not raise it):" \
        "the load is spread over $keys keys so the limiter does not decide the figure"
  fi
  # An application of acme's, with keys of scope log:write (gatehouse app ... as an operator would).
  app_id=$(q -c "SELECT id FROM applications WHERE name = 'Audit bench' ORDER BY created_at LIMIT 1")
  if [ -z "$app_id" ]; then
    app_id=$("$bin" app register --name "Audit bench" --grant client_credentials --tenant acme \
      | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  fi
  tokens=()
  for i in $(seq 1 "$keys"); do
    "$bin" app key issue "$app_id" --scope log:write --name "bench/audit $i" > "$work/key.json"
    read -r cid secret < <(python3 -c 'import json, sys; k = json.load(open(sys.argv[1])); print(k["client_id"], k["client_secret"])' "$work/key.json")
    tokens+=("$(curl -fsS -u "$cid:$secret" -d grant_type=client_credentials -d scope=log:write "$BASE_URL/auth/token" \
      | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')")
  done
  log "ingest: $conns connections x batches of ${AUDIT_BENCH_BATCH:-100} for ${AUDIT_BENCH_SECONDS:-20} s, $keys key(s)"
  ingest_from=$(q -c "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
  AUDIT_TOKENS=$(IFS=,; echo "${tokens[*]}") node bench/audit.mjs ingest > "$work/ingest.json"
  ingest_to=$(q -c "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
  ingest_json=$(cat "$work/ingest.json")
  log "ingest: $ingest_json"

  # The baseline: as many rows as were accepted in the measured window, same shape, one \copy.
  n=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["events"])' "$work/ingest.json")
  acme=$(q -c "SELECT id FROM tenants WHERE domain = 'acme'")
  node bench/audit.mjs copy-rows "$work/copy.csv" "$n" "$(seq_block "$n")" "$app_id" "$acme" >/dev/null
  t0=$EPOCHREALTIME
  q -c "\\copy audit_log (seq, id, recorded_at, occurred_at, tenant_id, actor_id, actor_type, action, resource, outcome, metadata, request_id, source, application_id, prev_hash, hash) FROM '$work/copy.csv' WITH (FORMAT csv)"
  t1=$EPOCHREALTIME
  copy_in_json=$(printf '{"rows": %s, "seconds": %s, "csv_bytes": %s}' "$n" "$(elapsed "$t0" "$t1")" "$(stat -c %s "$work/copy.csv")")
  rm -f "$work/copy.csv"
  log "ingest baseline: COPY $copy_in_json"
fi

# --- 2. exports, each after its COPY baseline ----------------------------------------------------
# The export's own query (domain/src/audit/export.rs, EXPORT_COLUMNS + the time filter + the
# head bound + its order), as one COPY instead of keyset pages of 1,000.
cat > "$work/export_copy.sql" <<'SQL'
COPY (
  SELECT l.seq, l.id::text AS id,
         to_char(l.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_at,
         to_char(l.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
         l.tenant_id::text AS tenant_id, t.domain AS tenant, l.actor_id::text AS actor_id,
         l.actor_type,
         coalesce(u.email, l.metadata->'actor'->>'name', l.metadata->'actor'->>'id') AS actor,
         l.action, l.resource, l.outcome, l.request_id, l.source,
         l.application_id::text AS application_id, l.metadata::text AS metadata,
         encode(l.prev_hash, 'hex') AS prev_hash, encode(l.hash, 'hex') AS hash
    FROM audit_log l
    LEFT JOIN tenants t ON t.id = l.tenant_id
    LEFT JOIN users u ON u.id = l.actor_id
   WHERE l.recorded_at >= :'from' AND l.recorded_at < :'to'
     AND l.seq <= (SELECT seq FROM audit_chain_head WHERE singleton)
   ORDER BY l.recorded_at, l.seq
) TO STDOUT WITH (FORMAT csv, HEADER, FORCE_QUOTE *)
SQL
copy_out() { # FROM TO -> seconds for the whole COPY, read by psql and dropped
  local t0 t1
  t0=$EPOCHREALTIME
  q -v from="$1" -v to="$2" -f "$work/export_copy.sql" > /dev/null
  t1=$EPOCHREALTIME
  elapsed "$t0" "$t1"
}
window_end() { # BASE ROWS -> BASE + ROWS x 10 ms, RFC 3339 UTC
  q -c "SELECT to_char(('$1'::timestamptz + $2 * interval '10 milliseconds') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
}
count_range() { q -c "SELECT count(*) FROM audit_log WHERE recorded_at >= '$1' AND recorded_at < '$2'"; }

if [[ $phases == *,export,* ]]; then
  ensure_tenants
  settle
  # A range of its own: the first year from 2001 on that holds exactly these entries
  # (an earlier run's) or nothing (seeded now).
  base=""; seeded_export=0; started=$SECONDS
  for y in $(seq 2001 2060); do
    b="$y-01-01T00:00:00Z"
    have=$(count_range "$b" "$(window_end "$b" "$export_big")")
    if [ "$have" -eq "$export_big" ]; then base=$b; break; fi
    if [ "$have" -eq 0 ]; then
      check_disk "$export_big"
      fill export "$export_big" "$(q -c "SELECT extract(epoch FROM '$b'::timestamptz)::bigint")" 10000
      settle
      base=$b; seeded_export=$export_big; break
    fi
  done
  [ -n "$base" ] || die "no free year for the export range"
  seeding_seconds=$((SECONDS - started))
  small_to=$(window_end "$base" "$export_small"); big_to=$(window_end "$base" "$export_big")
  small_rows=$(count_range "$base" "$small_to"); big_rows=$(count_range "$base" "$big_to")
  log "export: $base .. $small_to ($small_rows entries) and .. $big_to ($big_rows entries)"
  # Warm-up, not counted: the range read once by COPY, one small export through the server.
  copy_out "$base" "$big_to" > /dev/null
  node bench/audit.mjs export "from=$base&to=$small_to" "$small_rows" > /dev/null
  copy_small=$(copy_out "$base" "$small_to")
  export_small_json=$(node bench/audit.mjs export "from=$base&to=$small_to" "$small_rows")
  log "export small: COPY $copy_small s; $export_small_json"
  copy_big=$(copy_out "$base" "$big_to")
  export_big_json=$(node bench/audit.mjs export "from=$base&to=$big_to" "$big_rows")
  log "export big: COPY $copy_big s; $export_big_json"
  export_json=$(printf '{"small": %s, "big": %s, "copy_small_seconds": %s, "copy_big_seconds": %s, "small_rows": %s, "big_rows": %s, "from": "%s", "seeded": %s, "seeding_seconds": %s}' \
    "$export_small_json" "$export_big_json" "$copy_small" "$copy_big" "$small_rows" "$big_rows" "$base" "$seeded_export" "$seeding_seconds")
  # Sealed against clear: what the ingest phase wrote (sealed) and as many seeded entries.
  if [ -n "$ingest_from" ]; then
    sealed_rows=$(count_range "$ingest_from" "$ingest_to")
    [ "$sealed_rows" -le "$export_big" ] || die "the ingest phase wrote $sealed_rows entries, more than the seeded range ($export_big)"
    clear_to=$(window_end "$base" "$sealed_rows"); clear_rows=$(count_range "$base" "$clear_to")
    log "export sealed: $ingest_from .. $ingest_to ($sealed_rows entries) against $clear_rows in clear"
    node bench/audit.mjs export "from=$ingest_from&to=$ingest_to" "$sealed_rows" > /dev/null
    rounds=()
    for round in 1 2; do
      rounds+=("$(node bench/audit.mjs export "from=$base&to=$clear_to" "$clear_rows")")
      rounds+=("$(node bench/audit.mjs export "from=$ingest_from&to=$ingest_to" "$sealed_rows")")
      log "export sealed round $round: clear ${rounds[-2]}; sealed ${rounds[-1]}"
    done
    sealed_json=$(printf '{"clear": [%s, %s], "sealed": [%s, %s]}' "${rounds[0]}" "${rounds[2]}" "${rounds[1]}" "${rounds[3]}")
  fi
fi

# --- 3. searches at AUDIT_BENCH_ROWS entries ---------------------------------------------------
if [[ $phases == *,search,* ]]; then
  ensure_tenants
  started=$SECONDS
  have=$(q -c "SELECT count(*) FROM audit_log")
  add=$(( target_rows - have ))
  seeded_search=0
  if [ "$add" -gt 0 ]; then
    check_disk "$add"
    # Spread over the last 30 days (ending 10 minutes ago), oldest first.
    span_us=$(( (30 * 86400 - 600) * 1000000 ))
    fill search "$add" "$(q -c "SELECT extract(epoch FROM now() - interval '30 days')::bigint")" "$(( span_us / add ))"
    seeded_search=$add
  fi
  settle
  entries=$(q -c "SELECT count(*) FROM audit_log")
  seeding_seconds=$((SECONDS - started))
  log "search: the trail holds $entries entries"
  # Filter values drawn from the trail: the entries at 600 random moments of the last 30 days.
  q > "$work/samples.json" <<'SQL'
SELECT coalesce(json_agg(x), '[]') FROM (
  SELECT CASE WHEN l.tenant_id IS NULL THEN 'platform' ELSE t.domain END AS tenant,
         coalesce(l.actor_id::text, CASE WHEN l.source = 'application' THEN l.metadata->'actor'->>'id' END) AS actor,
         l.action, l.resource, l.request_id, l.metadata->>'ip' AS ip
    FROM (SELECT now() - interval '30 days' + random() * interval '30 days' AS at
            FROM generate_series(1, 600)) s
   CROSS JOIN LATERAL (SELECT * FROM audit_log a WHERE a.recorded_at >= s.at
                        ORDER BY a.recorded_at, a.seq LIMIT 1) l
    LEFT JOIN tenants t ON t.id = l.tenant_id
) x;
SQL
  python3 - "$work/samples.json" "$searches" "$work/queries.json" <<'PY'
import json, sys, urllib.parse
rows, searches, out = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
warmup = 2
n = searches + warmup
def values(key):
    seen = list(dict.fromkeys(r[key] for r in rows if r.get(key)))
    if not seen:
        sys.exit(f"bench/audit: no {key} values found in the trail")
    return [seen[i % len(seen)] for i in range(n)]
enc = lambda **kv: urllib.parse.urlencode(kv)
actions = values("action")
filters = {
    "tenant": [enc(tenant=v) for v in values("tenant")],
    "actor": [enc(actor=v) for v in values("actor")],
    "actor_type": [enc(actor_type=["user", "system", "operator", "application"][i % 4]) for i in range(n)],
    # half a family (`document.`), half one action exactly (a prefix of itself)
    "action": [enc(action=a.split(".")[0] + "." if i % 2 == 0 else a) for i, a in enumerate(actions)],
    "outcome": [enc(outcome=["failure", "success"][i % 2]) for i in range(n)],
    "resource": [enc(resource=v) for v in values("resource")],
    "request_id": [enc(request_id=v) for v in values("request_id")],
    "ip": [enc(ip=v) for v in values("ip")],
    "range_24h": ["range=24h"] * n,
    "none": [""] * n,
}
json.dump({"warmup": warmup, "filters": filters}, open(out, "w"))
PY
  log "search: ${searches} searches per filter (after 2 warm-up rounds), one at a time"
  node bench/audit.mjs search "$work/queries.json" > "$work/search.json"
  search_json=$(printf '{"entries": %s, "seeded": %s, "seeding_seconds": %s, "run": %s}' \
    "$entries" "$seeded_search" "$seeding_seconds" "$(cat "$work/search.json")")
fi

python3 - "$ingest_json" "$copy_in_json" "$export_json" "$search_json" "$rows_at_start" "$sealed_json" <<'PY'
import json, sys
ingest, copy_in, export, search = (json.loads(a) for a in sys.argv[1:5])
rows_at_start = int(sys.argv[5])
r = lambda x, d=3: None if x is None else round(x, d)
out = {
    "tool": "bench/audit.sh + bench/audit.mjs (node:http keep-alive; psql for the COPY baselines); "
            "server, PostgreSQL, psql and the load on the same machine",
    "trail_entries_at_start": rows_at_start,
}
if ingest:
    copy_rate = copy_in["rows"] / copy_in["seconds"]
    ratio = ingest["events_per_s"] / copy_rate
    out["ingest"] = {
        "events_per_s": ingest["events_per_s"],
        "copy_rows_per_s": round(copy_rate, 1),
        "ratio": r(ratio),
        "target": 0.5,
        "meets_target": ratio >= 0.5,
        "api": ingest,
        "copy": copy_in,
    }
    if ingest["rate_limited_requests"]:
        out["ingest"]["warning"] = ("requests were refused by the events rate limit: the figure is the limiter's; "
                                    "export GATEHOUSE_RATE_LIMIT_EVENTS beyond reach in bench/run.sh")
if export:
    s, b = export["small"], export["big"]
    copy_small = export["small_rows"] / export["copy_small_seconds"]
    copy_big = export["big_rows"] / export["copy_big_seconds"]
    growth = b["rss_peak_mb"] - s["rss_peak_mb"]
    out["export"] = {
        "rows_small": s["rows"], "rows_big": b["rows"],
        "rows_per_s_100k": s["rows_per_s"], "rows_per_s_2m": b["rows_per_s"],
        "copy_rows_per_s_100k": round(copy_small), "copy_rows_per_s": round(copy_big),
        "ratio_100k": r(s["rows_per_s"] / copy_small), "ratio": r(b["rows_per_s"] / copy_big),
        "target": 0.5,
        "rss_peak_mb_100k": s["rss_peak_mb"], "rss_peak_mb_2m": b["rss_peak_mb"],
        "rss_growth_mb": round(growth, 1), "rss_growth_target_mb": 20,
        "meets_target": {"throughput": b["rows_per_s"] / copy_big >= 0.5 and s["rows_per_s"] / copy_small >= 0.5,
                         "memory": growth <= 20,
                         "complete": s["complete"] and b["complete"]},
        "range": {"from": export["from"], "rows_small": export["small_rows"], "rows_big": export["big_rows"]},
        "seeded_now": export["seeded"], "seeding_seconds": export["seeding_seconds"],
        "downloads": {"small": s, "big": b},
        "copy_seconds": {"small": export["copy_small_seconds"], "big": export["copy_big_seconds"]},
    }
sealed = json.loads(sys.argv[6])
if sealed:
    clear_best = max(d["rows_per_s"] for d in sealed["clear"])
    sealed_best = max(d["rows_per_s"] for d in sealed["sealed"])
    out["export_sealed"] = {
        "rows": sealed["sealed"][0]["rows"], "clear_rows": sealed["clear"][0]["rows"],
        "clear_rows_per_s": clear_best, "sealed_rows_per_s": sealed_best,
        "ratio": r(sealed_best / clear_best), "target": 0.8,
        "meets_target": sealed_best / clear_best >= 0.8,
        "rss_peak_mb": max(d["rss_peak_mb"] for d in sealed["sealed"]),
        "rounds": sealed,
    }
if search:
    filters = search["run"]["filters"]
    out["search"] = {
        "entries": search["entries"],
        "filters": {k: {"p50_ms": v["p50_ms"], "p95_ms": v["p95_ms"], "max_ms": v["max_ms"],
                        "searches": v["searches"], "mean_entries": v["mean_entries"],
                        "empty_results": v["empty_results"], "failures": v["failures"],
                        "example": v["example"]} for k, v in filters.items()},
        "target_p95_ms": 100,
        "meets_target": all(v["p95_ms"] is not None and v["p95_ms"] < 100 and not v["failures"] for v in filters.values()),
        "page_size": 50,
        "seeded_now": search["seeded"], "seeding_seconds": search["seeding_seconds"],
    }
out["notes"] = ("Seeded entries sit below the live chain (negative seqs: exports read only seq <= the head) with random "
                "hashes, so `gatehouse audit verify` fails on this database afterwards. Export: time-only ranges of entries "
                "seeded in 2001 (10 ms apart); RSS is the gatehouse process only (not PostgreSQL). Search: one auditor, "
                "one search at a time, values drawn from entries of the last 30 days; each search is itself audited.")
print(json.dumps(out))
PY
