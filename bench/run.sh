#!/usr/bin/env bash
# Runs a named benchmark against a release build and writes its figures to
# bench/results/NAME.json. Usage: bench/run.sh NAME   (NAME = a bench/NAME.sh script)
#        bench/run.sh all    every benchmark in turn (one build), then the results table in
#                            bench/README.md and its chart (bench/report.py)
#
# The harness: set-up, release build, an embedded PostgreSQL in .data/bench, the server with
# demo data on BENCH_PORT (default 3200). The benchmark script gets BASE_URL and prints one
# JSON object; the harness adds the machine and the commit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
name="${1:?usage: bench/run.sh NAME|all}"
[ "$name" = all ] || [ -f "bench/$name.sh" ] || { echo "no benchmark bench/$name.sh" >&2; exit 1; }
source scripts/setup.sh
command -v wrk >/dev/null || apt_install wrk
[ "$name" != ha ] || command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || apt_install haproxy
# BENCH_SKIP_BUILD=1 measures the release binary already built (e.g. while the tree has
# unrelated changes in progress).
[ -n "${BENCH_SKIP_BUILD:-}" ] || cargo leptos build --release --precompress "${LEPTOS_BUILD_ARGS[@]}"

if [ "$name" = all ]; then
  # The short ones first; soak (10 min) and the big loads (scale, audit, backup) last.
  failed=()
  for b in ${BENCH_ALL:-flags tokens login pages sso webhooks billing signin_timing ha audit backup scale soak}; do
    echo "== bench/$b" >&2
    BENCH_SKIP_BUILD=1 "$0" "$b" > /dev/null || failed+=("$b")
  done
  # The chart's matplotlib, in a venv of its own (the soak benchmark's requirements).
  venv="${BENCH_VENV:-$PWD/.data/bench-venv}"
  [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import matplotlib' 2>/dev/null \
    || { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet -r bench/soak/requirements.txt; } >&2
  "$venv/bin/python" bench/report.py --chart
  [ ${#failed[@]} = 0 ] || { echo "failed: ${failed[*]}" >&2; exit 1; }
  exit 0
fi

# The flags benchmark has a database of its own: its payload is the flags it defines, not
# those other benchmarks leave behind.
data_dir=".data/bench"; [ "$name" != flags ] || data_dir=".data/bench-flags"
export GATEHOUSE_DATA_DIR="$PWD/${BENCH_DATA_DIR:-$data_dir}" GATEHOUSE_LOG=warn GATEHOUSE_SITE_ROOT=target/site
# One token makes every request of a run: rate limits (SPEC §9) stay on, set beyond reach, so
# their bookkeeping is measured without refusing the load.
export GATEHOUSE_RATE_LIMIT_API_KEY="${GATEHOUSE_RATE_LIMIT_API_KEY:-4000000000}" \
  GATEHOUSE_RATE_LIMIT_USER="${GATEHOUSE_RATE_LIMIT_USER:-4000000000}" \
  GATEHOUSE_RATE_LIMIT_ANONYMOUS="${GATEHOUSE_RATE_LIMIT_ANONYMOUS:-4000000000}" \
  GATEHOUSE_RATE_LIMIT_EVENTS="${GATEHOUSE_RATE_LIMIT_EVENTS:-4000000000}"
unset DATABASE_URL
port="${BENCH_PORT:-3200}"
# The login benchmark's browsers sign in from addresses of their own, through loopback as a proxy.
[ "$name" = login ] && export GATEHOUSE_TRUSTED_PROXIES=127.0.0.1/32
# The SSO benchmark's provider runs on 127.0.0.1 (FR-AUTH-003; loopback IdPs are for tests only).
[ "$name" = sso ] && export GATEHOUSE_SSO_ALLOW_PRIVATE_IDP=true
# The webhooks benchmark's receiver and SMTP sink run on 127.0.0.1.
if [ "$name" = webhooks ]; then
  export GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE=true GATEHOUSE_SMTP_URL="smtp://127.0.0.1:${WEBHOOK_BENCH_SMTP_PORT:-2527}"
fi
target/release/gatehouse serve --demo --addr "127.0.0.1:$port" > "$GATEHOUSE_DATA_DIR.log" 2>&1 &
pid=$!
export SERVER_PID=$pid
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 1 120); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.5; done

figures=$(BASE_URL="http://127.0.0.1:$port" bash "bench/$name.sh")
python3 - "$name" "$figures" <<'PY' > "bench/results/$name.json"
import json, os, subprocess, sys, datetime
name, figures = sys.argv[1], json.loads(sys.argv[2])
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
print(json.dumps({
    "benchmark": name,
    "commit": commit,
    "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "machine": {"cpus": os.cpu_count()},
    **figures,
}, indent=2))
PY
cat "bench/results/$name.json"
