#!/usr/bin/env bash
# Usage-based billing at scale (issue 19: bench/billing; FR-BILL-001..003, API-BILL, SPEC §7).
# Three figures, each beside a baseline measured in the same run on the same database, all by
# one application enabled for all tenants ("Billing bench", client credentials, one key of
# scopes bill:write and bill:read):
#
#   ingest  POST /api/v1/billing/events, {"events": [100 events]} (unique ids, each naming one
#           of the bench tenants and one of the event types, timestamps of the last minute)
#           over BILLING_BENCH_CONNECTIONS (16) connections for BILLING_BENCH_SECONDS (20) s:
#           events/s. Baseline: psql \copy of as many rows of the same shape straight into
#           billing_events (with idempotency key and content hash; all indexes in place), in
#           BILLING_BENCH_ROUNDS (2) interleaved rounds (API, then COPY, per round). COPY does
#           not maintain the daily rollup (the API keeps it in the same transaction): it is
#           the floor-cost anchor. The copied rows' rollup is added afterwards by one
#           INSERT ... GROUP BY, timed apart, so the database stays exact.
#           Target: ingestion >= 50 % of COPY. Reference: Lago's published Postgres-only
#           throughput, 10,000 events/s (BILLING_BENCH_LAGO_EPS).
#   usage   GET /api/v1/billing/usage with BILLING_BENCH_ROWS (10,000,000) events over
#           BILLING_BENCH_TENANTS (1,000) tenants and BILLING_BENCH_TYPES (20) types,
#           BILLING_BENCH_QUERIES (100) queries per mix, one at a time: p50/p95 ms for
#             tenant_month          one tenant, window=month (all time)
#             tenant_type_day_35d   one tenant and one type, window=day, the last 35 days
#             all_tenants_month     every tenant (the platform application), window=month,
#                                   from the first day of the month the seeded span starts in
#             all_tenants_type_month (extra, not in the target) the same for one type
#           Target: p95 < 50 ms for the first three.
#   pull    GET /api/v1/billing/events with Accept: text/csv (every event, streamed), read as
#           a stream and counted: rows/s, and the server's VmRSS every 100 ms during a pull
#           of BILLING_BENCH_PULL_SMALL (100,000) rows (?limit=) and one of all events (or
#           BILLING_BENCH_PULL_ROWS): the pull streams, so memory must not follow the size
#           (target: the two peaks within 20 MB). Baseline: COPY (SELECT <the pull's cells,
#           joins, watermark and order>) TO STDOUT (FORMAT csv, HEADER, FORCE_QUOTE *) through
#           psql into /dev/null. Target: pull >= 50 % of COPY. A server that does not answer CSV
#           (406, 415, 422, or JSON) is reported as such and the JSON pull is measured
#           instead (pages of 1,000 following next_cursor, BILLING_BENCH_PULL_JSON_ROWS rows),
#           beside COPY of as many rows.
#
# Run: bench/run.sh billing. Quick smoke run (minutes):
#   BILLING_BENCH_ROWS=300000 BILLING_BENCH_SECONDS=3 BILLING_BENCH_ROUNDS=1 \
#   BILLING_BENCH_QUERIES=10 BILLING_BENCH_PULL_SMALL=20000 bench/run.sh billing
#
# Knobs (environment; defaults in brackets):
#   BILLING_BENCH_PHASES         ingest,usage,pull  which figures to measure
#   BILLING_BENCH_ROWS           10000000  events in billing_events for usage and pull (later
#                                          runs only top up; set lower for a quick run)
#   BILLING_BENCH_TENANTS        1000      bench tenants billing-bench-0001.. (made if missing)
#   BILLING_BENCH_TYPES          20        event types (of the 20 names below)
#   BILLING_BENCH_SPAN_DAYS      35        seeded events spread over the last N days
#   BILLING_BENCH_CONNECTIONS    16        ingestion connections
#   BILLING_BENCH_BATCH          100       events per POST (the API takes at most 100)
#   BILLING_BENCH_SECONDS        20        measured seconds of ingestion per round
#   BILLING_BENCH_WARMUP         2         unmeasured seconds before each round
#   BILLING_BENCH_ROUNDS         2         ingestion rounds (API, then COPY, in turn)
#   BILLING_BENCH_INGEST_TENANTS all       how many of the bench tenants ingestion spreads over
#   BILLING_BENCH_KEYS           1 when GATEHOUSE_RATE_LIMIT_EVENTS is 0 or beyond reach, else
#                                          one per connection: API keys to spread the load over
#   BILLING_BENCH_QUERIES        100       usage queries per mix (after 2 warm-up rounds)
#   BILLING_BENCH_PULL_ROWS      0         rows of the big pull (0: every event)
#   BILLING_BENCH_PULL_SMALL     100000    rows of the small pull (RSS comparison)
#   BILLING_BENCH_PULL_JSON      auto      auto: the JSON pull only when CSV is refused;
#                                          always: beside CSV too; never
#   BILLING_BENCH_PULL_JSON_ROWS 1000000   rows of the JSON pull (0: every event)
#   BILLING_BENCH_FILL_JOBS      CPUs      seeding statements at once
#   BILLING_BENCH_FILL_CHUNK     1000000   events per seeding statement
#   BILLING_BENCH_LAGO_EPS       10000     the reference rate (Lago, Postgres only, published)
#   BENCH_DATABASE_URL           the embedded cluster's (gatehouse db url)
#
# Seeded rows. Events are written straight into billing_events (INSERT ... SELECT
# generate_series, BILLING_BENCH_FILL_CHUNK rows a statement, all indexes in place), each
# statement adding its events' totals to billing_usage_daily (INSERT ... SELECT ... GROUP BY
# ... ON CONFLICT DO UPDATE) in the same statement, so an interrupted seeding leaves whole
# chunks, the rollup exact, and the next run tops up. Each statement is a slice of time (rows
# in time order over the last BILLING_BENCH_SPAN_DAYS days, ending 10 minutes ago), so
# statements running at once share only their boundary day's rollup rows (taken in key
# order: no deadlock). Tenant sizes are skewed (the first tenants are the largest), types
# too, quantities 1..1000 (mostly small), metadata {"region": ...}, ids bs-RUN-N, content
# hashes sha256(id), application: the bench application. The database keeps all of it
# (.data/bench): 10 M events need ~9 GB of disk.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BENCH_NAME=billing
# shellcheck source=common.sh
source bench/common.sh
phases=",${BILLING_BENCH_PHASES:-ingest,usage,pull},"
target_rows=$(knob BILLING_BENCH_ROWS 10000000)
ntenants=$(knob BILLING_BENCH_TENANTS 1000 1)
ntypes=$(knob BILLING_BENCH_TYPES 20 1)
span_days=$(knob BILLING_BENCH_SPAN_DAYS 35 1)
conns=$(knob BILLING_BENCH_CONNECTIONS 16 1)
batch=$(knob BILLING_BENCH_BATCH 100 1)
secs=$(knob BILLING_BENCH_SECONDS 20 1)
rounds=$(knob BILLING_BENCH_ROUNDS 2 1)
queries=$(knob BILLING_BENCH_QUERIES 100 1)
pull_rows=$(knob BILLING_BENCH_PULL_ROWS 0)
pull_small=$(knob BILLING_BENCH_PULL_SMALL 100000 1)
pull_json="${BILLING_BENCH_PULL_JSON:-auto}"
pull_json_rows=$(knob BILLING_BENCH_PULL_JSON_ROWS 1000000)
jobs=$(knob BILLING_BENCH_FILL_JOBS "$(nproc)" 1)
chunk=$(knob BILLING_BENCH_FILL_CHUNK 1000000 1)
lago_eps=$(knob BILLING_BENCH_LAGO_EPS 10000 1)
ingest_tenants=$(knob BILLING_BENCH_INGEST_TENANTS "$ntenants" 1)
[ "$ingest_tenants" -le "$ntenants" ] || ingest_tenants=$ntenants
export BILLING_BENCH_CONNECTIONS="$conns" BILLING_BENCH_BATCH="$batch" BILLING_BENCH_SECONDS="$secs" \
  BILLING_BENCH_INGEST_TENANTS="$ingest_tenants" CLK_TCK="$(getconf CLK_TCK)"
[ "$batch" -le 100 ] || die "BILLING_BENCH_BATCH must be 1..100 (the API takes at most 100)"
[ "$ntenants" -le 9999 ] || die "BILLING_BENCH_TENANTS must be 1..9999"
[ "$ntypes" -le 20 ] || die "BILLING_BENCH_TYPES must be 1..20"
case "$pull_json" in auto | always | never) ;; *) die "BILLING_BENCH_PULL_JSON must be auto, always or never" ;; esac

# The event types (all ^[a-z][a-z0-9_.]{0,63}$); the first BILLING_BENCH_TYPES are used.
all_types=(api.call storage.gb_hours compute.cpu_seconds ai.tokens_in ai.tokens_out email.sent
  seat.active function.invocations api.egress_bytes compute.gpu_seconds sms.sent build.minutes
  db.read_units db.write_units search.queries cdn.requests cdn.bytes webhook.deliveries
  export.rows report.renders)
types=$(IFS=,; echo "${all_types[*]:0:$ntypes}")
export BILLING_TYPES="$types"

work=$(mktemp -d)
cleanup() {
  local p
  for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The embedded cluster the harness's server uses (as bench/audit.sh finds it).
db="${BENCH_DATABASE_URL:-$("$bin" db url)}"
q() { psql "$db" -X -v ON_ERROR_STOP=1 -qAt "$@"; }
q -c 'SELECT 1' >/dev/null || die "cannot reach the bench database at $db"
log "database $db; server pid $SERVER_PID"

# --- tenants and the application -------------------------------------------------------------
bench_domains="SELECT 'billing-bench-' || lpad(n::text, 4, '0') FROM generate_series(1, $ntenants) n"
q -c "INSERT INTO tenants (name, domain)
      SELECT 'Billing bench ' || lpad(n::text, 4, '0'), 'billing-bench-' || lpad(n::text, 4, '0')
        FROM generate_series(1, $ntenants) n ON CONFLICT (domain) DO NOTHING"
export BILLING_TENANTS_FILE="$work/tenants.json"
q -c "SELECT coalesce(json_agg(json_build_object('id', id, 'domain', domain) ORDER BY domain), '[]')
        FROM tenants WHERE domain IN ($bench_domains) AND status = 'active'" > "$BILLING_TENANTS_FILE"
have_tenants=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$BILLING_TENANTS_FILE")
[ "$have_tenants" -eq "$ntenants" ] || die "$have_tenants of $ntenants bench tenants are active (a suspended one?)"
tenants_total=$(q -c "SELECT count(*) FROM tenants WHERE status = 'active'")
log "$ntenants bench tenants ($tenants_total active tenants in all); types: $types"

# One application enabled for all tenants (the platform's usage reporter and billing system),
# registered and keyed as an operator would (gatehouse app ...).
app_id=$(q -c "SELECT id FROM applications WHERE name = 'Billing bench' AND all_tenants AND status = 'active'
                ORDER BY created_at LIMIT 1")
if [ -z "$app_id" ]; then
  app_id=$("$bin" app register --name "Billing bench" --grant client_credentials --all-tenants \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
fi
limit="${GATEHOUSE_RATE_LIMIT_EVENTS:-120000}"
if [ -n "${BILLING_BENCH_KEYS:-}" ]; then
  keys=$BILLING_BENCH_KEYS
elif [ "$limit" -eq 0 ] || [ "$limit" -ge 100000000 ]; then
  keys=1
else
  keys=$conns
  log "GATEHOUSE_RATE_LIMIT_EVENTS is $limit events a minute per key (bench/run.sh does not raise it):" \
      "the load is spread over $keys keys so the limiter does not decide the figure"
fi
key_ids=(); key_secrets=()
for i in $(seq 1 "$keys"); do
  "$bin" app key issue "$app_id" --scope bill:write --scope bill:read --name "bench/billing $i" > "$work/key.json"
  read -r cid secret < <(python3 -c 'import json, sys; k = json.load(open(sys.argv[1])); print(k["client_id"], k["client_secret"])' "$work/key.json")
  key_ids+=("$cid"); key_secrets+=("$secret")
done
rm -f "$work/key.json"
# An access token (they live an hour: each phase takes fresh ones).
mint() {
  curl -fsS -u "${key_ids[$1]}:${key_secrets[$1]}" -d grant_type=client_credentials \
    --data-urlencode "scope=bill:write bill:read" "$BASE_URL/auth/token" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
BILLING_READ_TOKEN=$(mint 0)
export BILLING_READ_TOKEN
check=$(curl -sS -o "$work/check.json" -w '%{http_code}' -H "Authorization: Bearer $BILLING_READ_TOKEN" \
  "$BASE_URL/api/v1/billing/usage?window=month&tenant=billing-bench-0001")
[ "$check" = 200 ] || die "GET /api/v1/billing/usage answered $check: $(head -c 300 "$work/check.json")"

# --- seeding -----------------------------------------------------------------------------------
# One statement of the fill: :n events, ids bs-:run-(:off + i), at :t0 (epoch s) + (:off + i) x
# :step microseconds, and their totals added to the daily rollup in the same statement.
cat > "$work/fill.sql" <<'SQL'
SET synchronous_commit = off;
WITH p AS MATERIALIZED (
  SELECT (SELECT array_agg(id ORDER BY domain) FROM tenants
           WHERE domain IN (SELECT 'billing-bench-' || lpad(k::text, 4, '0')
                              FROM generate_series(1, (:ntenants)::int) k)) AS tenants,
         string_to_array(:'types', ',') AS types
),
ins AS (
  INSERT INTO billing_events (tenant_id, application_id, event_type, quantity, occurred_at, received_at,
                              idempotency_key, metadata, content_hash)
  SELECT p.tenants[1 + floor(s.r_tenant ^ 2 * cardinality(p.tenants))::int],
         (:'app')::uuid,
         p.types[1 + floor(s.r_type ^ 1.5 * cardinality(p.types))::int],
         1 + floor(s.r_qty ^ 4 * 1000)::bigint,
         s.at,
         s.at + s.r_lag * interval '5 seconds',
         s.key,
         jsonb_build_object('region', (ARRAY['eu-west-1', 'us-east-1', 'us-west-2', 'ap-southeast-1'])
                                      [1 + floor(4 * s.r_region)::int]),
         sha256(convert_to(s.key, 'UTF8'))
    FROM p, (
      -- random() in a subquery's output: evaluated once per row
      SELECT 'bs-' || :'run' || '-' || ((:off)::bigint + g) AS key,
             to_timestamp(:t0) + (((:off)::bigint + g) * (:step)::bigint) * interval '1 microsecond' AS at,
             random() AS r_tenant, random() AS r_type, random() AS r_qty, random() AS r_lag, random() AS r_region
        FROM generate_series(0, (:n)::int - 1) AS g
    ) s
  RETURNING tenant_id, event_type, quantity, occurred_at
),
daily AS (
  INSERT INTO billing_usage_daily (tenant_id, event_type, day, quantity, events)
  SELECT tenant_id, event_type, (occurred_at AT TIME ZONE 'UTC')::date, sum(quantity), count(*)
    FROM ins GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (tenant_id, event_type, day) DO UPDATE
     SET quantity = billing_usage_daily.quantity + EXCLUDED.quantity,
         events = billing_usage_daily.events + EXCLUDED.events
)
INSERT INTO billing_usage_monthly (tenant_id, event_type, month, quantity, events)
SELECT tenant_id, event_type, date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date, sum(quantity), count(*)
  FROM ins GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
ON CONFLICT (tenant_id, event_type, month) DO UPDATE
   SET quantity = billing_usage_monthly.quantity + EXCLUDED.quantity,
       events = billing_usage_monthly.events + EXCLUDED.events;
SQL

# Room for `rows` more events (~900 B each with their 7 indexes, the rollup and WAL) plus 2 GB.
check_disk() {
  local dir avail need
  dir=$(q -c "SHOW data_directory")
  avail=$(df -B1 --output=avail "$dir" | tail -n 1)
  need=$(( $1 * 900 + 2 * 1024 * 1024 * 1024 ))
  [ "$avail" -ge "$need" ] || die "$(( avail / 1048576 )) MB free under $dir, ~$(( need / 1048576 )) MB needed for $1 more events (set BILLING_BENCH_ROWS lower)"
}

# fill ROWS T0 STEP_US: seeds ROWS events, $chunk a statement, $jobs at once.
fill() {
  local rows=$1 t0=$2 step=$3 off=0 n running=0 finished=0 started=$SECONDS run
  run=$(python3 -c 'import secrets; print(secrets.token_hex(4))')
  log "seed: $rows events (ids bs-$run-*, $jobs statements of $chunk at once)"
  while [ "$off" -lt "$rows" ] || [ "$running" -gt 0 ]; do
    if [ "$off" -lt "$rows" ] && [ "$running" -lt "$jobs" ]; then
      n=$(( rows - off < chunk ? rows - off : chunk ))
      q -v run="$run" -v app="$app_id" -v types="$types" -v ntenants="$ntenants" \
        -v n="$n" -v off="$off" -v t0="$t0" -v step="$step" -f "$work/fill.sql" &
      running=$((running + 1)); off=$((off + n))
      continue
    fi
    wait -n || die "seed: a seeding statement failed"
    running=$((running - 1)); finished=$((finished + 1))
    log "seed: $(( finished * chunk < rows ? finished * chunk : rows )) of $rows events, $((SECONDS - started)) s"
  done
}

settle() { # VACUUM (ANALYZE): fresh statistics, and no autovacuum of the seeded rows mid-measurement
  local started=$SECONDS
  q -c "VACUUM (ANALYZE) billing_events"
  q -c "VACUUM (ANALYZE) billing_usage_daily"
  q -c "VACUUM (ANALYZE) billing_usage_monthly"
  log "VACUUM (ANALYZE) billing_events, billing_usage_daily: $((SECONDS - started)) s"
}

events_at_start=$(q -c "SELECT count(*) FROM billing_events")
log "billing_events holds $events_at_start events"
seed_json=null; ingest_json=null; usage_json=null; pull_json_out=null

# Usage and pulls are measured at BILLING_BENCH_ROWS events; ingestion, when they are measured
# too, at that size as well (it runs after the seeding).
if [[ $phases == *,usage,* || $phases == *,pull,* ]]; then
  started=$SECONDS
  add=$(( target_rows - events_at_start ))
  seeded=0
  if [ "$add" -gt 0 ]; then
    check_disk "$add"
    # Spread over the last BILLING_BENCH_SPAN_DAYS days (ending 10 minutes ago), oldest first.
    span_us=$(( (span_days * 86400 - 600) * 1000000 ))
    fill "$add" "$(q -c "SELECT extract(epoch FROM now() - interval '$span_days days')::bigint")" "$(( span_us / add ))"
    seeded=$add
    settle
  fi
  read -r events rolled < <(q -F ' ' -c "SELECT (SELECT count(*) FROM billing_events),
                                                (SELECT coalesce(sum(events), 0) FROM billing_usage_daily)")
  rollup_rows=$(q -c "SELECT count(*) FROM billing_usage_daily")
  seed_json=$(printf '{"events": %s, "seeded_now": %s, "seconds": %s, "rollup_rows": %s, "rollup_events": %s}' \
    "$events" "$seeded" "$((SECONDS - started))" "$rollup_rows" "$rolled")
  log "seed: $seed_json"
  [ "$events" -eq "$rolled" ] || log "seed: the rollup counts $rolled events, the table holds $events (events stored before migration 0020, or by hand?)"
fi

# --- 1. ingestion against COPY, interleaved ----------------------------------------------------
if [[ $phases == *,ingest,* ]]; then
  run=$(python3 -c 'import secrets; print(secrets.token_hex(4))')
  rounds_json=""
  for r in $(seq 1 "$rounds"); do
    tokens=()
    for i in $(seq 0 $((keys - 1))); do tokens+=("$(mint "$i")"); done
    log "ingest round $r/$rounds: $conns connections x batches of $batch for $secs s, $keys key(s), $ingest_tenants tenants"
    BILLING_TOKENS=$(IFS=,; echo "${tokens[*]}") node bench/billing.mjs ingest > "$work/ingest.json"
    api=$(cat "$work/ingest.json")
    log "ingest round $r: $api"

    # The baseline: as many rows as were accepted in the measured window, same shape, one \copy.
    n=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["events"])' "$work/ingest.json")
    node bench/billing.mjs copy-rows "$work/copy.csv" "$n" "$run-$r" "$app_id" > "$work/copyrows.json"
    read -r first_tenant first_key < <(python3 -c 'import json, sys; c = json.load(open(sys.argv[1])); print(c["first_tenant_id"], c["first_key"])' "$work/copyrows.json")
    t0=$EPOCHREALTIME
    q -c "\\copy billing_events (tenant_id, application_id, event_type, quantity, occurred_at, idempotency_key, metadata, content_hash) FROM '$work/copy.csv' WITH (FORMAT csv)"
    t1=$EPOCHREALTIME
    # What COPY left out: the copied rows' daily totals, by one INSERT ... GROUP BY over the
    # COPY's transaction (found through its first row), so the rollup stays exact.
    txid=$(q -c "SELECT txid::text FROM billing_events WHERE tenant_id = '$first_tenant' AND idempotency_key = '$first_key'")
    [ -n "$txid" ] || die "ingest: the copied rows are not there"
    t2=$EPOCHREALTIME
    q -c "WITH copied AS MATERIALIZED (SELECT tenant_id, event_type, quantity, occurred_at
                                          FROM billing_events WHERE txid = '$txid'::xid8),
               daily AS (
                 INSERT INTO billing_usage_daily (tenant_id, event_type, day, quantity, events)
                 SELECT tenant_id, event_type, (occurred_at AT TIME ZONE 'UTC')::date, sum(quantity), count(*)
                   FROM copied GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                 ON CONFLICT (tenant_id, event_type, day) DO UPDATE
                    SET quantity = billing_usage_daily.quantity + EXCLUDED.quantity,
                        events = billing_usage_daily.events + EXCLUDED.events)
          INSERT INTO billing_usage_monthly (tenant_id, event_type, month, quantity, events)
          SELECT tenant_id, event_type, date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date, sum(quantity), count(*)
            FROM copied GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
          ON CONFLICT (tenant_id, event_type, month) DO UPDATE
             SET quantity = billing_usage_monthly.quantity + EXCLUDED.quantity,
                 events = billing_usage_monthly.events + EXCLUDED.events"
    t3=$EPOCHREALTIME
    copy=$(printf '{"rows": %s, "seconds": %s, "csv_bytes": %s, "rollup_after_seconds": %s}' \
      "$n" "$(elapsed "$t0" "$t1")" "$(stat -c %s "$work/copy.csv")" "$(elapsed "$t2" "$t3")")
    rm -f "$work/copy.csv"
    log "ingest round $r baseline: COPY $copy"
    rounds_json="$rounds_json${rounds_json:+,}{\"round\": $r, \"api\": $api, \"copy\": $copy}"
  done
  ingest_json="[$rounds_json]"
  # The rollup took updates, the table new rows: fresh statistics for what follows.
  if [[ $phases == *,usage,* || $phases == *,pull,* ]]; then settle; fi
fi

# --- 2. usage totals at BILLING_BENCH_ROWS events ------------------------------------------------
if [[ $phases == *,usage,* ]]; then
  BILLING_READ_TOKEN=$(mint 0); export BILLING_READ_TOKEN
  today=$(q -c "SELECT to_char((now() AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')")
  python3 - "$BILLING_TENANTS_FILE" "$types" "$queries" "$today" "$span_days" "$work/queries.json" <<'PY'
import datetime, json, random, sys, urllib.parse
tenants = [t["domain"] for t in json.load(open(sys.argv[1]))]
types, queries = sys.argv[2].split(","), int(sys.argv[3])
today = datetime.date.fromisoformat(sys.argv[4])
span, out = int(sys.argv[5]), sys.argv[6]
warmup = 2
n = queries + warmup
rng = random.Random(19)
enc = urllib.parse.urlencode
tomorrow = (today + datetime.timedelta(days=1)).isoformat()
last35 = (today - datetime.timedelta(days=34)).isoformat()           # 35 days with today
first_month = (today - datetime.timedelta(days=span)).replace(day=1).isoformat()  # the seeded span's first month
mixes = {
    "tenant_month": [enc({"tenant": rng.choice(tenants), "window": "month"}) for _ in range(n)],
    "tenant_type_day_35d": [enc({"tenant": rng.choice(tenants), "event_type": rng.choice(types), "window": "day",
                                 "from": last35, "to": tomorrow}) for _ in range(n)],
    "all_tenants_month": [enc({"window": "month", "from": first_month, "to": tomorrow})] * n,
    "all_tenants_type_month": [enc({"event_type": rng.choice(types), "window": "month", "from": first_month,
                                    "to": tomorrow}) for _ in range(n)],
}
json.dump({"warmup": warmup, "mixes": mixes}, open(out, "w"))
PY
  log "usage: $queries queries per mix (after 2 warm-up rounds), one at a time"
  node bench/billing.mjs usage "$work/queries.json" > "$work/usage.json"
  usage_json=$(printf '{"events": %s, "rollup_rows": %s, "run": %s}' \
    "$(q -c "SELECT count(*) FROM billing_events")" "$(q -c "SELECT count(*) FROM billing_usage_daily")" "$(cat "$work/usage.json")")
fi

# --- 3. pulls, each after its COPY baseline ------------------------------------------------------
# The pull's own query (domain/src/billing/pull.rs: its columns, the joins, the commit
# watermark and the order) as one COPY instead of pages, with the CSV's cells (the cursor as
# the server encodes it: URL-safe base64 of txid|seq, no padding; every cell quoted). A
# database without migration 0021 (voids) gets the query of before it.
if [ "$(q -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'billing_events' AND column_name = 'voids'")" -gt 0 ]; then
  pull_id="coalesce(e.idempotency_key, o.idempotency_key) AS id, e.kind"
  pull_void_join="LEFT JOIN billing_events o ON o.id = e.voids"
else
  pull_id="e.idempotency_key AS id, 'event' AS kind"
  pull_void_join=""
fi
cat > "$work/pull_copy.sql" <<SQL
COPY (
  WITH s AS (SELECT pg_current_snapshot() AS snap),
       mark AS (SELECT coalesce(
           (SELECT min(x) FROM s, pg_snapshot_xip(s.snap) AS x
             WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                WHERE a.datname IS DISTINCT FROM current_database()
                                  AND a.backend_xid IS NOT NULL
                                  AND a.backend_xid::text::bigint = x::text::bigint % 4294967296)),
           (SELECT pg_snapshot_xmax(snap) FROM s)) AS xid)
  SELECT rtrim(translate(encode(convert_to(e.txid::text || '|' || e.seq, 'UTF8'), 'base64'), '+/', '-_'), '=') AS cursor,
         $pull_id, t.domain AS tenant, e.event_type, e.quantity,
         to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS timestamp,
         to_char(e.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS received_at,
         e.metadata::text AS metadata
    FROM billing_events e JOIN tenants t ON t.id = e.tenant_id $pull_void_join, mark
   WHERE e.txid < mark.xid
   ORDER BY e.txid, e.seq
   LIMIT :lim
) TO STDOUT WITH (FORMAT csv, HEADER, FORCE_QUOTE *)
SQL
copy_out() { # ROWS (0: all) -> seconds for the whole COPY, read by psql and dropped
  local t0 t1 lim=ALL
  [ "$1" -gt 0 ] && lim=$1
  t0=$EPOCHREALTIME
  q -v lim="$lim" -f "$work/pull_copy.sql" > /dev/null
  t1=$EPOCHREALTIME
  elapsed "$t0" "$t1"
}
supported() { python3 -c 'import json, sys; print("yes" if json.loads(sys.argv[1]).get("supported", True) else "no")' "$1"; }

if [[ $phases == *,pull,* ]]; then
  BILLING_READ_TOKEN=$(mint 0); export BILLING_READ_TOKEN
  all=$(q -c "SELECT count(*) FROM billing_events")
  big=$all
  [ "$pull_rows" -gt 0 ] && [ "$pull_rows" -lt "$all" ] && big=$pull_rows
  small=$(( pull_small < big ? pull_small : big ))
  big_arg=$(( big == all ? 0 : big )) # 0: read the whole answer, COPY without LIMIT
  log "pull: $all events; small pull $small rows, big pull $big rows"
  # Warm-up, not counted: the events read once by COPY.
  copy_out "$big_arg" > /dev/null
  copy_small=$(copy_out "$small")
  csv_small=$(node bench/billing.mjs pull-csv "$small")
  log "pull small: COPY $copy_small s; $csv_small"
  csv_big=null; copy_big=null; json_pull=null; copy_json=null; json_rows=0
  if [ "$(supported "$csv_small")" = yes ]; then
    sleep 1 # the small pull gives its download place back
    copy_big=$(copy_out "$big_arg")
    csv_big=$(node bench/billing.mjs pull-csv "$big_arg")
    log "pull big: COPY $copy_big s; $csv_big"
  else
    log "pull: CSV is not served (see above): measuring the JSON pull instead"
  fi
  if [ "$pull_json" = always ] || { [ "$pull_json" = auto ] && [ "$(supported "$csv_small")" = no ]; }; then
    json_rows=$all
    [ "$pull_json_rows" -gt 0 ] && [ "$pull_json_rows" -lt "$all" ] && json_rows=$pull_json_rows
    json_arg=$(( json_rows == all ? 0 : json_rows ))
    copy_json=$(copy_out "$json_arg")
    json_pull=$(node bench/billing.mjs pull-json "$json_arg")
    log "pull JSON: COPY $copy_json s; $json_pull"
  fi
  pull_json_out=$(printf '{"events": %s, "small_rows": %s, "big_rows": %s, "json_rows": %s, "csv_small": %s, "csv_big": %s, "json": %s, "copy_small_seconds": %s, "copy_big_seconds": %s, "copy_json_seconds": %s}' \
    "$all" "$small" "$big" "$json_rows" "$csv_small" "$csv_big" "$json_pull" "$copy_small" "$copy_big" "$copy_json")
fi

python3 - "$seed_json" "$ingest_json" "$usage_json" "$pull_json_out" "$events_at_start" "$lago_eps" \
  "$ntenants" "$types" "$tenants_total" <<'PY'
import json, sys
seed, ingest, usage, pull = (json.loads(a) for a in sys.argv[1:5])
events_at_start, lago = int(sys.argv[5]), float(sys.argv[6])
ntenants, types, tenants_total = int(sys.argv[7]), sys.argv[8].split(","), int(sys.argv[9])
r = lambda x, d=3: None if x is None else round(x, d)
say = lambda line: print(f"bench/billing: {line}", file=sys.stderr)
out = {
    "tool": "bench/billing.sh + bench/billing.mjs (node:http keep-alive; psql for the COPY baselines); "
            "server, PostgreSQL, psql and the load on the same machine",
    "events_at_start": events_at_start,
    "bench_tenants": ntenants,
    "active_tenants": tenants_total,
    "event_types": len(types),
}
summary = []
if seed:
    out["seed"] = seed
if ingest:
    api_events = sum(x["api"]["events"] for x in ingest)
    api_secs = sum(x["api"]["seconds"] for x in ingest)
    copy_rows = sum(x["copy"]["rows"] for x in ingest)
    copy_secs = sum(x["copy"]["seconds"] for x in ingest)
    rollup_secs = sum(x["copy"]["rollup_after_seconds"] for x in ingest)
    eps, copy_rate = api_events / api_secs, copy_rows / copy_secs
    ratio = eps / copy_rate
    failed = sum(x["api"]["failed_requests"] for x in ingest)
    limited = sum(x["api"]["rate_limited_requests"] for x in ingest)
    out["ingest"] = {
        "events_per_s": round(eps, 1),
        "copy_rows_per_s": round(copy_rate, 1),
        "ratio": r(ratio),
        "target": 0.5,
        "meets_target": ratio >= 0.5,
        "copy_then_rollup_rows_per_s": round(copy_rows / (copy_secs + rollup_secs), 1),
        "ratio_to_copy_then_rollup": r(eps / (copy_rows / (copy_secs + rollup_secs))),
        "per_round": [{"events_per_s": x["api"]["events_per_s"],
                       "copy_rows_per_s": round(x["copy"]["rows"] / x["copy"]["seconds"], 1),
                       "ratio": r(x["api"]["events_per_s"] / (x["copy"]["rows"] / x["copy"]["seconds"]))} for x in ingest],
        "lago": {"events_per_s": lago, "ratio": r(eps / lago),
                 "what": "Lago's published Postgres-only throughput (single Postgres instance; its hardware not stated)",
                 "source": "https://getlago.com/docs/guide/events/usage-performances"},
        "failed_requests": failed,
        "rate_limited_requests": limited,
        "copy_note": "COPY does not maintain billing_usage_daily (the API adds each batch's totals in the same "
                     "transaction): it is the floor-cost anchor. copy_then_rollup adds the copied rows' totals "
                     "afterwards by one INSERT ... GROUP BY.",
        "rounds": ingest,
    }
    if limited:
        out["ingest"]["warning"] = ("requests were refused by the events rate limit: the figure is the limiter's; "
                                    "export GATEHOUSE_RATE_LIMIT_EVENTS beyond reach in bench/run.sh")
    summary.append(f"ingestion {eps:,.0f} events/s through the API ({ingest[0]['api']['connections']} connections, "
                   f"batches of {ingest[0]['api']['batch_size']}, {len(ingest)} round(s)) vs COPY {copy_rate:,.0f} rows/s: "
                   f"{ratio:.2f} (target 0.5: {'met' if ratio >= 0.5 else 'not met'}); COPY + rollup afterwards "
                   f"{copy_rows / (copy_secs + rollup_secs):,.0f} rows/s; Lago's published Postgres-only {lago:,.0f}/s: "
                   f"{eps / lago:.2f}x" + (f"; {failed} failed requests" if failed else ""))
    summary.append("  (COPY does not maintain the daily rollup: it is the floor-cost anchor)")
if usage:
    mixes = usage["run"]["mixes"]
    targeted = ["tenant_month", "tenant_type_day_35d", "all_tenants_month"]
    ok = all(mixes[k]["p95_ms"] is not None and mixes[k]["p95_ms"] < 50 and not mixes[k]["failures"] for k in targeted)
    out["usage"] = {
        "events": usage["events"],
        "rollup_rows": usage["rollup_rows"],
        "mixes": mixes,
        "target_p95_ms": 50,
        "target_applies_to": targeted,
        "meets_target": ok,
    }
    capped = [k for k, v in mixes.items() if v["capped_at_10000_rows"]]
    if capped:
        out["usage"]["warning"] = (f"{', '.join(capped)}: answers reached the API's 10,000-row cap "
                                   "(domain/src/billing/pull.rs LIMIT 10000) and were cut without notice")
    summary.append(f"usage at {usage['events']:,} events ({usage['rollup_rows']:,} rollup rows), p50/p95 ms: " +
                   "; ".join(f"{k} {v['p50_ms']}/{v['p95_ms']} ({v['mean_rows']} rows)" for k, v in mixes.items()) +
                   f" (target p95 < 50: {'met' if ok else 'not met'})")
    if capped:
        summary.append("  " + out["usage"]["warning"])
if pull:
    p = {"events": pull["events"]}
    s, b, j = pull["csv_small"], pull["csv_big"], pull["json"]
    p["csv_supported"] = bool(s.get("supported"))
    if p["csv_supported"] and b:
        copy_small = pull["small_rows"] / pull["copy_small_seconds"]
        copy_big = pull["big_rows"] / pull["copy_big_seconds"]
        growth = b["rss_peak_mb"] - s["rss_peak_mb"]
        complete = b["rows"] == pull["big_rows"]
        p.update({
            "rows_small": s["rows"], "rows_big": b["rows"], "expected_rows_big": pull["big_rows"],
            "complete": complete,
            "rows_per_s_small": s["rows_per_s"], "rows_per_s": b["rows_per_s"],
            "copy_rows_per_s_small": round(copy_small), "copy_rows_per_s": round(copy_big),
            "ratio_small": r(s["rows_per_s"] / copy_small), "ratio": r(b["rows_per_s"] / copy_big),
            "target": 0.5,
            "rss_peak_mb_small": s["rss_peak_mb"], "rss_peak_mb_big": b["rss_peak_mb"],
            "rss_growth_mb": round(growth, 1), "rss_growth_target_mb": 20,
            "meets_target": {"throughput": b["rows_per_s"] / copy_big >= 0.5, "memory": growth <= 20, "complete": complete},
            "header": b["header"],
            "downloads": {"small": s, "big": b},
            "copy_seconds": {"small": pull["copy_small_seconds"], "big": pull["copy_big_seconds"]},
        })
        summary.append(f"CSV pull {b['rows_per_s']:,} rows/s for {b['rows']:,} rows ({b['bytes'] / 1e6:,.0f} MB) vs COPY TO "
                       f"{copy_big:,.0f} rows/s: {b['rows_per_s'] / copy_big:.2f} (target 0.5); server RSS peak "
                       f"{s['rss_peak_mb']} MB at {s['rows']:,} rows, {b['rss_peak_mb']} MB at {b['rows']:,} "
                       f"(growth {growth:+.1f} MB, target within 20)" + ("" if complete else
                       f"; INCOMPLETE: {b['rows']:,} of {pull['big_rows']:,} rows"))
    else:
        p["csv_refusal"] = s
        summary.append(f"CSV pull: not served (HTTP {s.get('status')}, {s.get('content_type') or 'no content type'})")
    if j:
        copy_j = pull["json_rows"] / pull["copy_json_seconds"]
        p["json_pull"] = {"rows": j["rows"], "rows_per_s": j["rows_per_s"], "copy_rows_per_s": round(copy_j),
                          "ratio": r(j["rows_per_s"] / copy_j), "rss_peak_mb": j["rss_peak_mb"],
                          "page_latency_ms": j["page_latency_ms"], "run": j,
                          "copy_seconds": pull["copy_json_seconds"]}
        summary.append(f"JSON pull (pages of 1,000) {j['rows_per_s']:,} rows/s for {j['rows']:,} rows vs COPY TO "
                       f"{copy_j:,.0f} rows/s: {j['rows_per_s'] / copy_j:.2f}; server RSS peak {j['rss_peak_mb']} MB")
    out["pull"] = p
out["notes"] = ("Seeded events are written straight into billing_events with their rollup rows in the same statement "
                "(spread over the last days before the seeding; they age in later runs). One application enabled for all "
                "tenants sends and reads everything: each ingestion request loads every active tenant "
                f"({tenants_total}) to check the events' tenants. RSS is the gatehouse process only (not PostgreSQL). "
                "Usage: one query at a time, tenants and types drawn at random.")
for line in summary:
    say(line)
print(json.dumps(out))
PY
