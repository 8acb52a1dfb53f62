# What the benchmark scripts bench/run.sh runs share: the harness's environment checked, the
# release binary and master key, messages, and whole-number knobs. Source it from the
# repository's root with BENCH_NAME set (bench/billing.sh, bench/audit.sh, bench/soak/bench.sh).
: "${BENCH_NAME:?set BENCH_NAME before sourcing bench/common.sh}"
: "${BASE_URL:?run me through bench/run.sh $BENCH_NAME}" "${SERVER_PID:?run me through bench/run.sh $BENCH_NAME}"
: "${GATEHOUSE_DATA_DIR:?GATEHOUSE_DATA_DIR is set by bench/run.sh}"
export LC_NUMERIC=C # $EPOCHREALTIME with a decimal point
bin="${GATEHOUSE_BIN:-target/release/gatehouse}"
export GATEHOUSE_MASTER_KEY_FILE="${GATEHOUSE_MASTER_KEY_FILE:-$GATEHOUSE_DATA_DIR/master.key}"
log() { echo "bench/$BENCH_NAME: $*" >&2; }
die() { log "$*"; exit 1; }
# knob NAME DEFAULT [MIN]: the whole number in $NAME, else DEFAULT.
knob() {
  local v="${!1:-$2}"
  [[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge "${3:-0}" ] || die "$1 must be a whole number >= ${3:-0} (got '$v')"
  echo "$v"
}
# elapsed A B: seconds from $EPOCHREALTIME A to B, 3 decimals.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
