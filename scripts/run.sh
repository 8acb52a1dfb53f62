#!/usr/bin/env bash
# The run command: installs what is missing, builds Gatehouse (release), and serves it
# with demo data. Without DATABASE_URL it runs its own PostgreSQL in .data/ and stops it
# when you press Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
echo "[run] building (release; the first build takes several minutes)" >&2
cargo leptos build --release --precompress "${LEPTOS_BUILD_ARGS[@]}"
export GATEHOUSE_SITE_ROOT="${GATEHOUSE_SITE_ROOT:-target/site}"
export GATEHOUSE_LOG_FORMAT="${GATEHOUSE_LOG_FORMAT:-pretty}"
exec target/release/gatehouse serve --demo "$@"
