#!/usr/bin/env bash
# Does the time of a failed sign-in tell how many organisations an address belongs to
# (SPEC §3 "unknown email and wrong password ... take the same time")?
#
# Three kinds of address, each signed in with a wrong password and no tenant hint, as an
# attacker probing addresses would: one nobody has, one with an account in one tenant, one
# with accounts in three tenants. The kinds alternate attempt by attempt (BENCH_ATTEMPTS
# each, default 40), and the throttle is cleared before every attempt so its delays never
# enter the figures. Figures: per kind, median and p90 in ms, and the difference of each
# kind's median to the unknown address's.
#
# Baseline in the same run: with BENCH_BEFORE_BIN set (a release `gatehouse` built from the
# commit before the change, e.g. 97eeb26), the same attempts go to that binary too, served
# from a data directory of its own, interleaved with the current one.
set -euo pipefail
current="$BASE_URL"
attempts="${BENCH_ATTEMPTS:-40}"
password=$(grep -o 'DEMO_PASSWORD: &str = "[^"]*"' domain/src/demo.rs | cut -d'"' -f2)

seed() {  # seed DATABASE_URL: three tenants, and the addresses with their accounts
  psql -q "$1" <<'SQL'
INSERT INTO tenants (name, domain) VALUES ('Timing B', 'timing-b'), ('Timing C', 'timing-c')
ON CONFLICT (domain) DO NOTHING;
INSERT INTO users (tenant_id, email, role, status, password_hash)
SELECT t.id, x.email, 'user', 'active', (SELECT password_hash FROM users WHERE email = 'user@acme.test')
FROM tenants t
JOIN (VALUES ('acme', 'single@timing.test'), ('acme', 'multi@timing.test'),
             ('timing-b', 'multi@timing.test'), ('timing-c', 'multi@timing.test')) x(domain, email)
  ON x.domain = t.domain
ON CONFLICT DO NOTHING;
SQL
}

targets=("current $current $(target/release/gatehouse db url)")
seed "$(target/release/gatehouse db url)"
before_pid=""
if [ -n "${BENCH_BEFORE_BIN:-}" ]; then
  before_dir="$PWD/.data/bench-before"
  before_port=$(( ${BENCH_PORT:-3200} + 1 ))
  GATEHOUSE_DATA_DIR="$before_dir" "$BENCH_BEFORE_BIN" serve --demo --addr "127.0.0.1:$before_port" \
    > "$before_dir.log" 2>&1 &
  before_pid=$!
  trap 'kill -TERM $before_pid 2>/dev/null; wait $before_pid 2>/dev/null' EXIT
  for _ in $(seq 1 120); do curl -fsS "http://127.0.0.1:$before_port/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
  before_url=$(GATEHOUSE_DATA_DIR="$before_dir" "$BENCH_BEFORE_BIN" db url)
  seed "$before_url"
  targets+=("before http://127.0.0.1:$before_port $before_url")
fi

samples=$(mktemp)
for _ in $(seq 1 "$attempts"); do
  for target in "${targets[@]}"; do
    read -r name url db <<<"$target"
    for kind in unknown single multi; do
      psql -q "$db" -c "DELETE FROM auth_throttle" >/dev/null
      t=$(curl -s -o /dev/null -w '%{time_total}' -H "Origin: $url" \
        --data "email=$kind%40timing.test&password=not-$password&tenant=&return_to=" "$url/_rpc/sign_in")
      echo "$name $kind $t" >> "$samples"
    done
  done
done
python3 - "$samples" <<'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
out = {}
for name in sorted({r[0] for r in rows}):
    kinds = {}
    for kind in ("unknown", "single", "multi"):
        ms = sorted(float(r[2]) * 1000 for r in rows if r[0] == name and r[1] == kind)
        kinds[kind] = {"median_ms": round(statistics.median(ms), 1),
                       "p90_ms": round(ms[int(len(ms) * 0.9) - 1], 1), "n": len(ms)}
    base = kinds["unknown"]["median_ms"]
    for k in kinds.values():
        k["median_minus_unknown_ms"] = round(k["median_ms"] - base, 1)
    out[name] = kinds
print(json.dumps(out))
PY
rm -f "$samples"
