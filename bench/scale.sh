#!/usr/bin/env bash
# Scale (issue 6: bench/scale; NFR-CAP-001/002). Two databases on the benchmark's embedded
# PostgreSQL, migrated by `gatehouse migrate`: a big one — SCALE_TENANTS tenants ×
# SCALE_USERS_PER_TENANT users (defaults 1,000 × 10,000) loaded with COPY — and, as the
# baseline in the same run, a small one: 1 tenant with the same number of users per tenant.
# Then, on each, the exact queries the product runs, timed by pgbench (4 clients, per-query
# latencies logged): the first page of a tenant's user list, a deep page (cursor 200 pages
# in), a search page, and the sign-in lookup of an address. Figures: p50/p95 per query,
# big vs small and their ratio, load time and row counts. Targets: p95 < 20 ms for list
# pages, and the big database within 1.5x of the small one.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
tenants="${SCALE_TENANTS:-1000}"
per="${SCALE_USERS_PER_TENANT:-10000}"
duration="${BENCH_SECONDS:-10}"
pgbench=$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -n 1)
[ -x "$pgbench" ] || pgbench=$(command -v pgbench)
base=$(target/release/gatehouse db start | tail -n 1)
url_of() { printf '%s' "$base" | sed "s#/gatehouse?#/$1?#"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One real argon2id hash for everybody, so rows look like production ones.
hash=$(printf 'scale-benchmark-password\n' | python3 -c 'import sys
try:
    from argon2 import PasswordHasher
    print(PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(sys.stdin.read().strip()))
except ImportError:
    print("$argon2id$v=19$m=19456,t=2,p=1$c2NhbGViZW5jaG1hcms$6v6Yq3ZKxJ2E1cY1m0pQe1m1b0N1W0b8oY3v1mKk2fA")')

load() { # database tenants per -> seconds
  local db="$1" n="$2" users="$3" url
  url=$(url_of "$db")
  psql "$base" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
  DATABASE_URL="$url" target/release/gatehouse migrate >/dev/null 2>&1
  local started=$SECONDS
  python3 - "$n" <<'PY' | psql "$url" -qc "\copy tenants (id, name, domain, plan, created_at) FROM STDIN (FORMAT csv)"
import sys, uuid, datetime
n = int(sys.argv[1])
t0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
for i in range(n):
    plan = ("free", "pro", "enterprise")[i % 3]
    print(f"{uuid.UUID(int=i + 1)},Tenant {i},tenant-{i},{plan},{(t0 + datetime.timedelta(minutes=i)).isoformat()}")
PY
  python3 - "$n" "$users" "$hash" <<'PY' | psql "$url" -qc "\copy users (id, tenant_id, email, name, role, status, password_hash, last_login_at, archived_at, created_at) FROM STDIN (FORMAT csv)"
import sys, uuid, datetime
n, per, phc = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
out = sys.stdout
for t in range(n):
    tenant = uuid.UUID(int=t + 1)
    for u in range(per):
        k = t * per + u
        role = "owner" if u == 0 else ("admin" if u % 50 == 1 else "user")
        status = "archived" if u % 97 == 5 else ("disabled" if u % 89 == 7 else ("invited" if u % 31 == 3 else "active"))
        created = t0 + datetime.timedelta(seconds=k * 3)
        archived = created.isoformat() if status == "archived" else ""
        login = (created + datetime.timedelta(days=1)).isoformat() if status == "active" else ""
        pw = "" if status == "invited" else f'"{phc}"'
        out.write(f"{uuid.UUID(int=(1 << 64) + k)},{tenant},person{u}@tenant-{t}.example,Person {u} of {t},{role},{status},{pw},{login},{archived},{created.isoformat()}\n")
PY
  psql "$url" -qc "ANALYZE" >/dev/null
  echo $((SECONDS - started))
}

measure() { # database sql-file -> {"p50_ms":..,"p95_ms":..,"tps":..}
  local url="$1" file="$2" prefix="$work/log-$RANDOM"
  (cd "$work" && "$pgbench" -n -c 4 -j 2 -T "$duration" -f "$file" --log --log-prefix="$prefix" "$url" > "$prefix.out" 2>&1)
  python3 - "$prefix" <<'PY'
import glob, json, re, sys
lat = []
for path in glob.glob(sys.argv[1] + ".*"):
    if path.endswith(".out"):
        continue
    for line in open(path):
        parts = line.split()
        if len(parts) >= 3:
            lat.append(int(parts[2]) / 1000.0)
lat.sort()
pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 3) if lat else None
out = open(sys.argv[1] + ".out").read()
tps = re.search(r"tps = ([\d.]+)", out)
print(json.dumps({"p50_ms": pick(0.50), "p95_ms": pick(0.95), "queries": len(lat), "qps": float(tps.group(1)) if tps else None}))
PY
}

queries() { # database tenant-number -> writes the four query files, prints nothing
  local url="$1" t="$2" tid cursor_at cursor_id
  tid=$(python3 -c "import uuid; print(uuid.UUID(int=$t + 1))")
  # The position 200 pages (5,000 rows) into the tenant's newest-first list.
  IFS=$'\t' read -r cursor_at cursor_id < <(psql "$url" -Atq -F $'\t' -c "SELECT created_at, id FROM users WHERE tenant_id = '$tid' AND status <> 'archived' ORDER BY created_at DESC, id DESC OFFSET LEAST(5000, $per / 2) LIMIT 1")
  local select="SELECT u.id, u.tenant_id, u.email, u.name, u.role, u.status, u.last_login_at, u.created_at,
    (EXISTS (SELECT 1 FROM mfa_totp m WHERE m.user_id = u.id) OR EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.user_id = u.id)) AS mfa_enabled
    FROM users u WHERE u.tenant_id = '$tid'"
  echo "$select AND u.status <> 'archived' ORDER BY u.created_at DESC, u.id DESC LIMIT 26;" > "$work/first.sql"
  echo "$select AND u.status <> 'archived' AND (u.created_at, u.id) < ('$cursor_at', '$cursor_id') ORDER BY u.created_at DESC, u.id DESC LIMIT 26;" > "$work/deep.sql"
  echo "$select AND (lower(u.email) LIKE '%person12%' OR lower(coalesce(u.name, '')) LIKE '%person12%') AND u.status <> 'archived' ORDER BY u.created_at DESC, u.id DESC LIMIT 26;" > "$work/search.sql"
  echo "SELECT u.id, u.tenant_id, u.role, u.status, u.password_hash, t.name, t.domain, t.status FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id WHERE lower(u.email) = lower('person$((per / 3))@tenant-$t.example') AND u.status <> 'archived' ORDER BY t.name NULLS FIRST;" > "$work/login.sql"
}

big_load=$(load gatehouse_scale_big "$tenants" "$per")
small_load=$(load gatehouse_scale_small 1 "$per")
big=$(url_of gatehouse_scale_big)
small=$(url_of gatehouse_scale_small)
rows_big=$(psql "$big" -Atqc "SELECT count(*) FROM users")
declare -A fig
queries "$big" $((tenants / 2))
for q in first deep search login; do fig[big_$q]=$(measure "$big" "$work/$q.sql"); done
queries "$small" 0
for q in first deep search login; do fig[small_$q]=$(measure "$small" "$work/$q.sql"); done

python3 - "$tenants" "$per" "$rows_big" "$big_load" "$small_load" "$duration" \
  "${fig[big_first]}" "${fig[big_deep]}" "${fig[big_search]}" "${fig[big_login]}" \
  "${fig[small_first]}" "${fig[small_deep]}" "${fig[small_search]}" "${fig[small_login]}" <<'PY'
import json, sys
tenants, per, rows, big_load, small_load, secs = sys.argv[1:7]
names = ["first_page", "deep_cursor_page_200", "search_page", "sign_in_lookup"]
big = dict(zip(names, (json.loads(a) for a in sys.argv[7:11])))
small = dict(zip(names, (json.loads(a) for a in sys.argv[11:15])))
ratio = {n: round(big[n]["p95_ms"] / small[n]["p95_ms"], 2) if small[n]["p95_ms"] else None for n in names}
lists = names[:3]
print(json.dumps({
    "tool": f"pgbench -c4 -j2 -T{secs}, the product's own queries, per-query latency logs",
    "loaded": {"tenants": int(tenants), "users_per_tenant": int(per), "users_total": int(rows),
               "load_seconds_big": int(big_load), "load_seconds_small": int(small_load), "method": "COPY"},
    "big_database": big,
    "small_database_1_tenant": small,
    "p95_ratio_big_over_small": ratio,
    "targets": {"list_p95_under_20ms": all(big[n]["p95_ms"] < 20 for n in lists),
                "within_1_5x_of_small": all(r is not None and r <= 1.5 for n, r in ratio.items() if n in lists)},
}))
PY
