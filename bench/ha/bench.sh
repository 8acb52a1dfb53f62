#!/usr/bin/env bash
# High availability at length (bench/run.sh ha; the same scenario as the test
# scripts/ha_test.sh, with the release build, longer and at a higher rate). Two instances
# of target/release/gatehouse share one PostgreSQL (the scenario's own cluster in
# {GATEHOUSE_DATA_DIR}/ha, database gatehouse_ha recreated each run) behind HAProxy
# (end2end/support/ha/haproxy.cfg); the processes come from end2end/support/ha/lib.sh, the
# load from end2end/support/ha/load.mjs, the checks from end2end/support/ha/scenario.mjs.
# The harness's own server (BASE_URL) is not used.
#
# Figures (one JSON object on stdout, as bench/run.sh takes it):
#   propagation   HA_BENCH_ROUNDS (20) rounds each of a token revocation, a tenant
#                 suspension and a flag change through instance a: ms until b honours it
#                 (polled every HA_BENCH_POLL_MS, 50), p50/p99/max. Target: < 1 s.
#   failover      HA_BENCH_RATE (500) requests/s (flags, /api/v1/me, introspection, usage
#                 totals) over HA_BENCH_CONNECTIONS (64) through HAProxy for about
#                 HA_BENCH_SECONDS (60): kill -9 of a a quarter in, restarted 1/12 later;
#                 the same for b once a is back. Per kill: failover time (kill -> HAProxy
#                 marks it DOWN), error window, requests in flight, time back in rotation;
#                 in all: sent, failed, error rate (target < 0.1 %, failures <= in flight),
#                 latency, HAProxy's retries and redispatches.
#   pg_restart    the same load; PostgreSQL stops 10 s in (a sixth of HA_BENCH_SECONDS),
#                 starts again once both instances answered /readyz 503 twice; /readyz
#                 answers, recovery time, failures during the outage and after the recovery
#                 (target: none after), 10 s more.
#   ingest_kill   HA_BENCH_INGEST_RATE (100) batches/s of HA_BENCH_INGEST_BATCH (20)
#                 billing and audit events over 8 connections; kill -9 of a 10 s in,
#                 restarted 3 s later: acknowledged vs stored.
#   receivers_down the SMTP server and the webhook receiver down for HA_BENCH_RECEIVERS_DOWN
#                 (600) s while HA_BENCH_RECEIVERS_MAILS (300) people are invited through
#                 HAProxy (a mail and a user.invited event each) under 100 requests/s: what
#                 waited, attempts spent, then every mail and event delivered (each once,
#                 signatures verified) and how long after their return.
#   mail_readonly  a alone, mail to files, its mail directory read-only for 10 s while 50
#                 people are invited: the reason kept, nothing else stops, every mail
#                 written once it is writable.
#
# Knobs (environment): the above, HA_BENCH_PORT (3400: HAProxy, 3401/3402 the instances,
# 3409 stats), HA_BENCH_BIN, HA_BENCH_DATA_DIR, HA_BENCH_LOG (warn: the instances' log level).
# Quick run: HA_BENCH_SECONDS=24 HA_BENCH_ROUNDS=5 HA_BENCH_RECEIVERS_DOWN=20 bench/run.sh ha
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
export LC_ALL=C
HA_NAME="bench/ha"
HA_BIN="${HA_BENCH_BIN:-$ROOT/target/release/gatehouse}"
HA_HOME="${HA_BENCH_DATA_DIR:-${GATEHOUSE_DATA_DIR:-$ROOT/.data/bench}/ha}"
HA_PORT="${HA_BENCH_PORT:-3400}"
HA_LOG_LEVEL="${HA_BENCH_LOG:-warn}"
rate="${HA_BENCH_RATE:-500}"
seconds="${HA_BENCH_SECONDS:-60}"
conns="${HA_BENCH_CONNECTIONS:-64}"
rounds="${HA_BENCH_ROUNDS:-20}"
ingest_rate="${HA_BENCH_INGEST_RATE:-100}"
ingest_batch="${HA_BENCH_INGEST_BATCH:-20}"
receivers_down="${HA_BENCH_RECEIVERS_DOWN:-600}"
receivers_mails="${HA_BENCH_RECEIVERS_MAILS:-300}"
# Figures, not assertions: a check that does not hold is reported (meets_target, failed).
export HA_ASSERT=0 HA_POLL_MS="${HA_BENCH_POLL_MS:-50}" HA_STARTED
HA_STARTED=$(date +%s%3N)
before=$((seconds / 4)) down=$((seconds / 12))
after=$((seconds - 2 * (before + down)))
[ "$after" -ge 1 ] || after=1
# The PostgreSQL and ingestion phases: a sixth of it before and after (10 s at 60).
phase=$((seconds / 6 > 2 ? seconds / 6 : 2))
ingest_down=$((seconds / 20 > 1 ? seconds / 20 : 1))

# shellcheck source=../../end2end/support/ha/lib.sh
source end2end/support/ha/lib.sh
trap ha_cleanup EXIT
ha_init

ha_phase_setup
ha_phase_session
ha_phase_propagation "$rounds"
ha_phase_kill "$rate" "$conns" "$before" "$down" "$after" a b
ha_phase_pg "$rate" "$conns" "$phase" "$phase"
ha_phase_propagation 5 after-pg
ha_phase_ingest "$ingest_rate" 8 "$ingest_batch" "$phase" "$ingest_down" "$phase"
ha_phase_downstream "$receivers_down" "$receivers_mails" 100
ha_phase_mail_readonly 50 10

ha_scn summary --full >"$HA_WORK/summary.json"
params=$(ha_json rate_per_s "$rate" connections "$conns" steady_seconds "$seconds" kill_after_s "$before" \
  restart_after_s "$down" pg_and_ingest_phase_s "$phase" propagation_rounds "$rounds" poll_interval_ms "$HA_POLL_MS" \
  ingest_batches_per_s "$ingest_rate" ingest_batch "$ingest_batch" receivers_down_s "$receivers_down" \
  receivers_down_mails "$receivers_mails" instance_log_level "$HA_LOG_LEVEL")
node -e '
const fs = require("fs");
const [file, params] = process.argv.slice(1);
const s = JSON.parse(fs.readFileSync(file, "utf8"));
console.log(JSON.stringify({
  tool: "bench/ha/bench.sh: two release instances behind HAProxy 2.6 (end2end/support/ha/haproxy.cfg), "
    + "load by end2end/support/ha/load.mjs (node:http keep-alive, open loop); HAProxy, PostgreSQL, both "
    + "instances and the load on the same machine",
  parameters: JSON.parse(params),
  targets: { propagation_ms: 1000, error_rate: 0.001, failures: "<= requests in flight at the kill", lost_events: 0, lost_mails: 0, lost_webhooks: 0 },
  ...s,
  notes: "Failover time: from kill -9 to HAProxy showing the instance DOWN on its stats page (read every 50 ms; "
    + "checks every 250 ms, 100 ms while a state changes, fall 2, rise 2). Propagation: from the answer of the "
    + "change on a to the first answer of b that honours it (b polled every HA_BENCH_POLL_MS). During the "
    + "PostgreSQL outage HAProxy has no ready instance, so requests fail with 503 by design (readiness); "
    + "failures after both are back are the figure that counts.",
}));
' "$HA_WORK/summary.json" "$params"
