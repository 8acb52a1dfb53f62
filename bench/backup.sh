#!/usr/bin/env bash
# Backup and restore times (issue 21: the demo database and the 10M-user database of
# bench/scale). bench/run.sh backup. Two databases on the harness's embedded PostgreSQL:
#   demo  the harness's own (gatehouse: `serve --demo`'s data, plus whatever earlier
#         benchmarks left in it);
#   big   bench/scale's 1,000 tenants x 10,000 users (gatehouse_scale_big), loaded by
#         `SCALE_LOAD_ONLY=1 bench/scale.sh`, kept from an earlier load (SCALE_KEEP=1, the
#         default here) when its sizes and migrations match. BACKUP_BENCH_BIG=0 skips it.
# For each, with the release binary and a fresh age key pair:
#   create   gatehouse backup create: pg_dump custom format, age-encrypted while it streams,
#            manifest (row counts, audit head) and checksum, to a local directory;
#   verify   gatehouse backup verify: decrypt and restore into a scratch database, compare
#            every table's row count with the manifest, verify the audit chain, drop it;
#   restore  gatehouse backup restore into a new empty database (one transaction), then the
#            row counts of tenants, users, billing events and audit entries compared with the
#            original (the restored trail also holds the restore's own entry).
# Wall time (the RTO's restore part), peak RSS of the gatehouse process (/usr/bin/time: it
# streams, so memory should not grow with the database), sizes (database, archive).
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bin="${GATEHOUSE_BIN:-target/release/gatehouse}"
export GATEHOUSE_MASTER_KEY_FILE="${GATEHOUSE_MASTER_KEY_FILE:-$GATEHOUSE_DATA_DIR/master.key}"
base=$("$bin" db start | tail -n 1)
url_of() { printf '%s' "$base" | sed "s#/gatehouse?#/$1?#"; }
work="$GATEHOUSE_DATA_DIR/backup-bench"
rm -rf "$work"
mkdir -p "$work"
chmod 700 "$work"
log() { echo "backup: $*" >&2; }
restored=()
cleanup() {
  local db
  for db in "${restored[@]}"; do psql "$base" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" backup keygen --output "$work/operator.key" >"$work/keygen.json" 2>/dev/null
recipient=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["public_key"])' "$work/keygen.json")

# timed LABEL COMMAND...: runs it; {"seconds", "max_rss_mb"} in $work/LABEL.time.json, its
# stdout in $work/LABEL.out.
timed() {
  local label=$1
  shift
  /usr/bin/time -f '%e %M' -o "$work/$label.time" "$@" >"$work/$label.out" 2>"$work/$label.err" \
    || { log "$label failed:"; tail -n 20 "$work/$label.err" >&2; exit 1; }
  read -r secs kb <"$work/$label.time"
  printf '{"seconds": %s, "max_rss_mb": %s}' "$secs" "$((kb / 1024))" >"$work/$label.time.json"
}
counts() { # url -> JSON row counts of the big tables
  psql "$1" -Atqc "SELECT json_build_object('tenants', (SELECT count(*) FROM tenants), 'users', (SELECT count(*) FROM users),
    'audit_log', (SELECT count(*) FROM audit_log), 'billing_events', (SELECT count(*) FROM billing_events))"
}

measure() { # label database -> JSON figures
  local label=$1 db=$2 url dir name target before after
  url=$(url_of "$db")
  dir="$work/$label"
  local env=(env "DATABASE_URL=$url" "GATEHOUSE_BACKUP_DIR=$dir" "GATEHOUSE_BACKUP_RECIPIENTS=$recipient"
    "GATEHOUSE_LOG=warn" "GATEHOUSE_METRICS_ADDR=off")
  before=$(counts "$url")
  log "$label: create ($(psql "$url" -Atqc "SELECT pg_size_pretty(pg_database_size(current_database()))"))"
  timed "$label-create" "${env[@]}" "$bin" backup create
  name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$work/$label-create.out")
  log "$label: verify $name"
  timed "$label-verify" "${env[@]}" "$bin" backup verify "$name" --identity "$work/operator.key"
  grep -q verified "$work/$label-verify.out" "$work/$label-verify.err" || { log "$label: verify did not say verified"; exit 1; }
  target="${db}_restored"
  restored+=("$target")
  psql "$base" -qc "DROP DATABASE IF EXISTS $target WITH (FORCE)" -c "CREATE DATABASE $target" >/dev/null
  log "$label: restore into $target"
  timed "$label-restore" env "DATABASE_URL=$(url_of "$target")" "GATEHOUSE_BACKUP_DIR=$dir" "GATEHOUSE_LOG=warn" \
    "GATEHOUSE_METRICS_ADDR=off" "$bin" backup restore "$name" --identity "$work/operator.key"
  after=$(counts "$(url_of "$target")")
  psql "$base" -qc "DROP DATABASE IF EXISTS $target WITH (FORCE)" >/dev/null
  python3 - "$label" "$db" "$url" "$dir/$name.dump.age" "$before" "$after" \
    "$work/$label-create.time.json" "$work/$label-verify.time.json" "$work/$label-restore.time.json" <<'PY'
import json, os, subprocess, sys
label, db, url, archive, before, after, create, verify, restore = sys.argv[1:]
size = int(subprocess.run(["psql", url, "-Atqc", "SELECT pg_database_size(current_database())"],
                          capture_output=True, text=True, check=True).stdout.strip())
before, after = json.loads(before), json.loads(after)
print(json.dumps({label: {
    "database": db, "database_mb": round(size / 2**20), "archive_mb": round(os.path.getsize(archive) / 2**20, 1),
    # The restore records itself in the restored database (its run and audit entry), so the
    # audit trail there is longer by those entries; everything else matches exactly.
    "rows": before, "restored_rows": after,
    "restored_rows_match": all(after[k] == before[k] for k in before if k != "audit_log")
        and 0 <= after["audit_log"] - before["audit_log"] <= 2,
    "create": json.load(open(create)), "verify": json.load(open(verify)), "restore": json.load(open(restore)),
}}))
PY
}

demo=$(measure demo gatehouse)
big='{}'
big_load='null'
if [ "${BACKUP_BENCH_BIG:-1}" != 0 ]; then
  log "the big database: loaded by bench/scale.sh (kept when an earlier load matches)"
  big_load=$(SCALE_KEEP="${SCALE_KEEP-1}" SCALE_LOAD_ONLY=1 GATEHOUSE_BIN="$bin" BASE_URL="$BASE_URL" bash "$here/scale.sh")
  big=$(measure big gatehouse_scale_big)
fi
python3 - "$demo" "$big" "$big_load" <<'PY'
import json, sys
demo, big, load = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
out = {
    "tool": "gatehouse backup create / verify / restore (release build) against the harness's embedded "
            "PostgreSQL, local directory, /usr/bin/time; PostgreSQL and Gatehouse on the same 2 cores",
    **demo, **big,
    "big_database_load": load,
    "targets": {"rto_hours": 4, "rpo_hours": 1},
    "notes": "RTO: restore time plus starting the instances; the restore is one pg_restore transaction "
             "(indexes rebuilt inside it). RPO 1 h comes from WAL archiving (README: pgBackRest), not "
             "from these daily logical backups.",
}
print(json.dumps(out))
PY
