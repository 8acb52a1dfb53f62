#!/usr/bin/env bash
# Password sign-in throughput (issue 3: bench/login; issue 23). Baseline, in the same run on
# the same machine: the raw argon2id verification rate with the same parameters, one verifier
# per CPU, each keeping its working memory as the server's hashing threads do
# (`gatehouse bench-argon2`). Against it, BENCH_CONNECTIONS (24) clients post correct
# passwords to the sign-in server function, each a full sign-in (throttle reservation,
# argon2id verify, adaptive signals, session, `auth.login.success` in the same statement):
#   returning  — the browser sends the device cookie from an earlier sign-in (the usual case)
#   new_device — no device cookie: the sign-in also stores a device token and queues the
#                new-device notice mail, which the outbox worker delivers (.eml files here)
#   hintless   — a returning browser from the generic login page (no tenant): every such
#                sign-in verifies HINTLESS_VERIFICATIONS (3) hashes, so that its time tells
#                nothing about how many organisations an address belongs to
# The others come from the tenant's own login page (the tenant hint: one verification).
# 24 browsers keep the hashing threads busy without filling their queue (16 waiting jobs a
# thread, NFR-SEC-005: past that a sign-in is refused with 503 at once); hint-less, a third.
# Each connection is a browser signing in as an account of its own (bench-login-NNNN@acme.test,
# made here with the demo password's hash) from an address of its own (X-Forwarded-For
# through the trusted loopback proxy: bench/run.sh sets GATEHOUSE_TRUSTED_PROXIES): the
# throttle holds at most 10 attempts in flight per account and 50 per address
# (domain/src/passwords/throttle.rs), and 40 browsers behind one address convoy on that
# address's throttle row (see the README), so one account or one address for all clients
# would measure the throttle, not sign-ins. Every answer is checked: a sign-in that does not
# leave /login (a redirect back with an error) counts as refused.
#
# The phases alternate in rounds (BENCH_ROUNDS, default 4: baseline, returning, new device,
# hintless, each BENCH_PHASE_SECS, default 8 s, and the server's queue drained between
# them); then again with PostgreSQL on a core of its own (taskset). On this shared VM the
# raw rate alone moves by ±15 % from one minute to the next (argon2id is bound by memory
# bandwidth, which neighbours share); interleaving puts the baseline and the sign-ins under
# the same conditions. Figures: per case, sign-ins/s over all rounds and their ratio to the
# baseline over all rounds (target >= 0.9), the per-round ratios, p50/p99, refusals, and
# the server's peak RSS (bounded by the fixed hashing threads).
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
BENCH_NAME=login source "$here/common.sh"
rounds="${BENCH_ROUNDS:-4}"
secs="${BENCH_PHASE_SECS:-8}"
conns=$(knob BENCH_CONNECTIONS 24 3)
db="${BENCH_DATABASE_URL:-$("$bin" db url)}"
q() { psql "$db" -X -v ON_ERROR_STOP=1 -qAt "$@"; }
sign_in_accounts "$db" acme bench-login "$conns" "Login bench"
# A fresh throttle for these accounts and loopback: earlier runs' counters do not carry over.
q -c "DELETE FROM auth_throttle WHERE (scope = 'account' AND key LIKE 'bench-login-%@acme.test')
                                   OR (scope = 'ip' AND (key = '127.0.0.1' OR key LIKE '10.77.%'))" >/dev/null
address() { # N: the address browser N signs in from (through the trusted proxy, bench/run.sh)
  echo "10.77.$(($1 / 250)).$(($1 % 250 + 1))"
}
body() { # N TENANT: the form of account N
  printf 'email=bench-login-%04d%%40acme.test&password=Gatehouse-demo-2026&tenant=%s&return_to=' "$1" "$2"
}
# The device cookie each returning browser carries: from one sign-in of its account now.
devices=()
for n in $(seq 1 "$conns"); do
  cookie=$(curl -fsS -o /dev/null -D - -H "Origin: $BASE_URL" -H "X-Forwarded-For: $(address "$n")" \
    --data "$(body "$n" acme)" "$BASE_URL/_rpc/sign_in" \
    | sed -n 's/^[Ss]et-[Cc]ookie: \(gatehouse_device=[^;]*\).*/\1/p')
  [ -n "$cookie" ] || die "no device cookie from bench-login-$n's first sign-in (is the account locked?)"
  devices+=("$cookie")
done
lua=$(mktemp)
trap 'rm -f "$lua"' EXIT
server_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
drain() {  # waits until the server is idle again (queued sign-ins, mail delivery)
  local before after
  for _ in $(seq 1 60); do
    before=$(server_ticks); sleep 0.5; after=$(server_ticks)
    [ $((after - before)) -lt 3 ] && return
  done
}
run() {  # run returning|new_device|hintless: wrk's JSON figures, with the refusals
  local case="$1" tenant=acme
  [ "$case" != hintless ] || tenant=""
  {
    echo 'wrk.method = "POST"'
    echo 'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"'
    echo "wrk.headers[\"Origin\"] = \"$BASE_URL\""
    echo 'bodies, cookies, addresses = {}, {}, {}'
    for n in $(seq 1 "$conns"); do
      echo "bodies[$n] = \"$(body "$n" "$tenant")\""
      echo "addresses[$n] = \"$(address "$n")\""
      [ "$case" = new_device ] || echo "cookies[$n] = \"${devices[$((n - 1))]}\""
    done
    cat <<'LUA'
-- Each connection is one browser with an account of its own; every answer is checked.
local threads = {}
setup = function(thread) table.insert(threads, thread) end
refused, conn = 0, 0
request = function()
  conn = conn % #bodies + 1
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Origin"] = wrk.headers["Origin"],
                    ["X-Forwarded-For"] = addresses[conn] }
  if cookies[conn] then headers["Cookie"] = cookies[conn] end
  return wrk.format("POST", "/_rpc/sign_in", headers, bodies[conn])
end
response = function(status, headers, body)
  local to = headers["location"] or headers["Location"] or ""
  if status ~= 200 or to:find("/login", 1, true) == 1 then refused = refused + 1 end
end
done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("refused") end
  io.write(string.format("Refused sign-ins: %d\n", total))
end
LUA
  } > "$lua"
  # A hint-less sign-in queues 3 hashes: a third of the browsers keep as many hashes waiting.
  local c="$conns"; [ "$case" != hintless ] || c=$((conns / 3))
  wrk -t2 -c"$c" -d"${secs}s" --timeout 30s --latency -s "$lua" "$BASE_URL/_rpc/sign_in" | python3 "$here/wrk_json.py"
  drain
}
rss_before=$(awk '/VmRSS/{print $2}' "/proc/$SERVER_PID/status")
rounds_of() { # [taskset -c N]: the rounds' phases, one JSON per line
  for _ in $(seq 1 "$rounds"); do
    "$@" target/release/gatehouse bench-argon2 --seconds "$secs"; echo
    run returning; run new_device; run hintless
  done
}
shared=$(rounds_of)
# Then the same with PostgreSQL on a core of its own (BENCH_PINNED=0 skips it, and a
# one-core machine cannot): the server on CPU 0, every postgres process on CPU 1, the raw
# baseline on the server's core.
pinned=""
if [ "${BENCH_PINNED:-1}" != 0 ] && [ "$(nproc)" -ge 2 ]; then
  pg_pids=$(pgrep -f "postgres.*-D $GATEHOUSE_DATA_DIR/postgres" ; pgrep -P "$(head -1 "$GATEHOUSE_DATA_DIR/postgres/postmaster.pid")")
  pin() { taskset -acp "$1" "$SERVER_PID" >/dev/null; for p in $pg_pids; do taskset -acp "$2" "$p" >/dev/null 2>&1 || true; done; }
  pin 0 1
  pinned=$(rounds_of taskset -c 0)
  pin "0-$(($(nproc) - 1))" "0-$(($(nproc) - 1))"
fi
peak=$(awk '/VmHWM/{print $2}' "/proc/$SERVER_PID/status")
python3 - "$rss_before" "$peak" "$shared" "$pinned" <<'PY'
import json, statistics, sys
rss_before, peak = int(sys.argv[1]), int(sys.argv[2])
def rounds(text):
    phases = [json.loads(l) for l in text.splitlines() if l.strip()]
    return phases[0::4], phases[1::4], phases[2::4], phases[3::4]
raw, returning, new_device, hintless = rounds(sys.argv[3])
raw_rates = [r["verifications_per_sec"] for r in raw]
def case(runs, raw_rates=raw_rates):
    rates = [r["requests_per_sec"] for r in runs]
    return {
        "requests_per_sec": round(statistics.fmean(rates), 2),
        "vs_raw_hash_rate": round(sum(rates) / sum(raw_rates), 3),
        "per_round_vs_raw": [round(a / b, 3) for a, b in zip(rates, raw_rates)],
        "latency_p50_ms_median": statistics.median(r["latency_p50_ms"] for r in runs),
        "latency_p99_ms_max": max(r["latency_p99_ms"] for r in runs),
        "non_2xx": sum(r["non_2xx"] for r in runs),
        "refused": sum(r.get("refused", 0) for r in runs),
    }
print(json.dumps({
    "tool": f"wrk -t2 -c{__import__('os').environ.get('BENCH_CONNECTIONS', '24')} (hint-less: a third) --latency, POST /_rpc/sign_in "
            "(one account per connection, right password, tenant hint acme unless hintless); phases interleaved in rounds",
    "rounds": len(raw),
    "phase_seconds": raw[0]["seconds"],
    "baseline_raw_argon2id": {
        "params": raw[0]["params"],
        "threads": raw[0]["threads"],
        "verifications_per_sec": round(statistics.fmean(raw_rates), 2),
        "per_round": raw_rates,
    },
    "sign_in_returning_device": case(returning),
    "sign_in_new_device": case(new_device),
    "sign_in_returning_device_hintless": {**case(hintless), "verifications_per_sign_in": 3},
    **({"pinned": (lambda raw, ret, new, hintless: {
        "how": "taskset: the server on CPU 0, every postgres process on CPU 1; the raw baseline on CPU 0",
        "baseline_raw_argon2id": {"threads": raw[0]["threads"],
                                  "verifications_per_sec": round(statistics.fmean(r["verifications_per_sec"] for r in raw), 2),
                                  "per_round": [r["verifications_per_sec"] for r in raw]},
        "sign_in_returning_device": case(ret, [r["verifications_per_sec"] for r in raw]),
        "sign_in_new_device": case(new, [r["verifications_per_sec"] for r in raw]),
        "sign_in_returning_device_hintless": {**case(hintless, [r["verifications_per_sec"] for r in raw]),
                                              "verifications_per_sign_in": 3},
    })(*rounds(sys.argv[4]))} if sys.argv[4].strip() else {}),
    "keycloak_context": {
        "what": "Keycloak's published sizing: 1 vCPU for each 15 password-based user logins per second "
                "(its default password hashing; measured by the Keycloak team on their hardware, tested "
                "up to 300/s); context only, not measured here",
        "password_logins_per_sec_per_vcpu": 15,
        "at_this_machines_cpus": 15 * __import__("os").cpu_count(),
        "source": "https://www.keycloak.org/high-availability/single-cluster/concepts-memory-and-cpu-sizing",
    },
    "server_rss_before_kib": rss_before,
    "server_peak_rss_kib": peak,
}))
PY
