#!/usr/bin/env bash
# Page speed (issue 23: bench/pages). In the same run, on the same machine:
#   baseline  /healthz (the same server and middleware, a fixed JSON body);
#   pages     /login and /admin/users with a signed-in tenant admin's session (a console page:
#             session, tenant and role checks, the people query, SSR with hydration scripts).
# Figures:
#   - wrk at 32 connections (BENCH_DURATION, default 10s each): requests/s, p50/p95/p99 of the
#     whole answer (these pages are one write: close to time to first byte) and p95 against
#     /healthz's;
#   - the bytes on the wire of a cold load: the page and each asset it names (wasm, JS, CSS)
#     as sent raw, with gzip and with Brotli, and the Cache-Control the assets carry
#     (targets: wasm <= 1 MB raw, <= 350 KB compressed);
#   - Chromium's timings and bytes of a cold and a warm load of /admin/users
#     (bench/pages.mjs, median of BENCH_PAGE_LOADS, default 5).
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
BENCH_NAME=pages source "$here/common.sh"
duration="${BENCH_DURATION:-10s}"
db="${BENCH_DATABASE_URL:-$("$bin" db url)}"
q() { psql "$db" -X -v ON_ERROR_STOP=1 -qAt "$@"; }
work=$(mktemp -d)
token=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
trap 'q -c "DELETE FROM sessions WHERE token_hash = sha256(convert_to('"'"'$token'"'"', '"'"'UTF8'"'"'))" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
# A signed-in (MFA-verified) session of the demo tenant admin, as the API tests make one.
session=$(q <<SQL
INSERT INTO sessions (token_hash, user_id, tenant_id, expires_at, idle_timeout_secs, mfa_verified_at, auth_methods)
SELECT sha256(convert_to('$token', 'UTF8')), id, tenant_id, now() + interval '1 hour', 3600, now(), ARRAY['pwd', 'otp']
  FROM users WHERE lower(email) = 'admin@acme.test' AND status = 'active'
RETURNING id;
SQL
)
[ -n "$session" ] || die "no active demo admin (admin@acme.test): is the demo data there?"
cookie="gatehouse_session=$token; __Host-gatehouse_session=$token"
status=$(curl -sS -o "$work/users.html" -w '%{http_code}' -H "Cookie: $cookie" "$BASE_URL/admin/users")
[ "$status" = 200 ] && grep -q 'admin@acme.test' "$work/users.html" || die "/admin/users answered $status without the people list"

run() { # PATH [COOKIE] -> wrk figures as JSON
  {
    [ -n "${2:-}" ] && echo "wrk.headers[\"Cookie\"] = \"$2\""
    echo 'wrk.headers["Accept-Encoding"] = "br, gzip"'
    # wrk --latency prints no p95: the script adds it, in the same form.
    echo 'done = function(s, latency, r) io.write(string.format("  95%%    %.3fms\n", latency:percentile(95) / 1000)) end'
  } > "$work/script.lua"
  wrk -t2 -c32 -d"$duration" --latency -s "$work/script.lua" "$BASE_URL$1" | python3 "$here/wrk_json.py"
}
baseline=$(run /healthz)
login=$(run /login)
console=$(run /admin/users "$cookie")

# The bytes a cold load moves: the page and the assets it names.
curl -fsS "$BASE_URL/login" > "$work/login.html"
assets=$(grep -oE '/pkg/[^"'"'"' ]+\.(wasm|js|css)' "$work/login.html" "$work/users.html" | cut -d: -f2 | sort -u)
wire() { # URL ENCODING -> bytes|cache-control|content-encoding
  curl -sS -o /dev/null -H "Accept-Encoding: $2" -w '%{size_download}|%header{cache-control}|%header{content-encoding}' "$1"
}
{
  for path in /login /admin/users $assets; do
    auth=(); [ "$path" = /admin/users ] && auth=(-H "Cookie: $cookie")
    raw=$(curl -sS -o /dev/null "${auth[@]}" -H 'Accept-Encoding: identity' -w '%{size_download}|%header{cache-control}' "$BASE_URL$path")
    gz=$(curl -sS -o /dev/null "${auth[@]}" -H 'Accept-Encoding: gzip' -w '%{size_download}|%header{content-encoding}' "$BASE_URL$path")
    br=$(curl -sS -o /dev/null "${auth[@]}" -H 'Accept-Encoding: br' -w '%{size_download}|%header{content-encoding}' "$BASE_URL$path")
    echo "$path|$raw|$gz|$br"
  done
} > "$work/wire.txt"
chromium=$(BASE_URL="$BASE_URL" PAGES_COOKIE="$cookie" node "$here/pages.mjs")

python3 - "$baseline" "$login" "$console" "$work/wire.txt" "$chromium" "$duration" <<'PY'
import json, sys
baseline, login, console = (json.loads(a) for a in sys.argv[1:4])
wire = {}
for line in open(sys.argv[4]):
    path, raw, cache, gz, gz_enc, br, br_enc = line.rstrip("\n").split("|")
    wire[path] = {"raw_bytes": int(raw), "gzip_bytes": int(gz), "gzip_served": gz_enc == "gzip",
                  "brotli_bytes": int(br), "brotli_served": br_enc == "br", "cache_control": cache or None}
wasm = next((v for k, v in wire.items() if k.endswith(".wasm")), None)
print(json.dumps({
    "tool": f"wrk -t2 -c32 -d{sys.argv[6]} --latency (Accept-Encoding: br, gzip); curl for the bytes; "
            "Chromium (playwright-core) for cold and warm loads; all on the same machine",
    "baseline_healthz": baseline,
    "login_page": login,
    "console_page_admin_users": console,
    "p95_vs_healthz": {"login": round(login["latency_p95_ms"] / baseline["latency_p95_ms"], 2),
                       "admin_users": round(console["latency_p95_ms"] / baseline["latency_p95_ms"], 2)},
    "throughput_vs_healthz": {"login": round(login["requests_per_sec"] / baseline["requests_per_sec"], 3),
                              "admin_users": round(console["requests_per_sec"] / baseline["requests_per_sec"], 3)},
    "bytes_on_wire": wire,
    "wasm": wasm and {"raw_bytes": wasm["raw_bytes"], "compressed_bytes": min(wasm["gzip_bytes"], wasm["brotli_bytes"]),
                      "targets": {"raw_bytes": 1_000_000, "compressed_bytes": 350_000}},
    "chromium_admin_users": json.loads(sys.argv[5]),
}))
PY
