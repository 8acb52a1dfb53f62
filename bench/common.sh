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
# sign_in_accounts DATABASE_URL TENANT PREFIX COUNT LABEL: COUNT active accounts
# PREFIX-NNNN@acme.test in TENANT that sign in with the demo password (the demo user's hash
# copied by SQL, as bench/scale.sh loads people); dies unless they are all there.
# (bench/soak/bench.sh, bench/login.sh)
sign_in_accounts() {
  local db="$1" tenant="$2" prefix="$3" count="$4" label="$5" have
  psql "$db" -X -v ON_ERROR_STOP=1 -qAt >/dev/null <<SQL
INSERT INTO users (tenant_id, email, name, role, status, password_hash, email_verified_at)
SELECT u.tenant_id, a.email, '$label ' || a.n, 'user', 'active', u.password_hash, now()
  FROM users u
  JOIN tenants t ON t.id = u.tenant_id AND t.domain = '$tenant'
 CROSS JOIN LATERAL (SELECT n, '$prefix-' || lpad(n::text, 4, '0') || '@acme.test' AS email
                       FROM generate_series(1, $count) n) a
 WHERE lower(u.email) = 'user@acme.test' AND u.status = 'active' AND u.password_hash IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM users x WHERE x.tenant_id = u.tenant_id
                      AND lower(x.email) = a.email AND x.status <> 'archived');
SQL
  have=$(psql "$db" -X -qAt -c "SELECT count(*) FROM users u JOIN tenants t ON t.id = u.tenant_id AND t.domain = '$tenant'
             WHERE u.email ~ '^$prefix-[0-9]{4}@acme[.]test\$' AND u.status = 'active'
               AND split_part(split_part(u.email, '@', 1), '-', 3)::int <= $count")
  [ "$have" -eq "$count" ] || die "$have of $count $prefix accounts are active (is user@acme.test there, with its password?)"
}
