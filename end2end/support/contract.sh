#!/usr/bin/env bash
# Contract fuzzing: schemathesis against the running server, over the whole generated
# document, with real tokens (end2end/support/api_tokens.mjs). Every operation gets bounded
# examples, coverage cases and fuzzed ones; stateful sequences where the document has links.
# A 5xx, an undocumented status, a body or header that breaks the document fails the run.
# Every check runs but the two that judge inputs by the document alone: Gatehouse answers
# 422 to input that fits the schema but breaks a rule no schema can say (a tenant or an
# application that does not exist, an expiry in the past, a cursor it did not issue, a
# platform caller who names no tenant), and takes "" as null (SPEC §9), which the schema of
# a required string does not admit.
# Usage: BASE_URL=http://localhost:3100 end2end/support/contract.sh REPORT_DIR
set -euo pipefail
report="${1:?report directory}"
mkdir -p "$report"
ST="$(dirname "${E2E_PYTHON:?}")/schemathesis"
doc="$BASE_URL/api/v1/openapi.json"
tokens=$(node "$(dirname "$0")/api_tokens.mjs")
token() { node -e "process.stdout.write(JSON.parse(process.argv[1])[process.argv[2]])" "$tokens" "$1"; }
here="$(cd "$(dirname "$0")" && pwd)"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
generated=0
run() {
  local name="$1" token="$2"; shift 2
  echo "schemathesis: $name" >&2
  "$ST" --config-file "$here/schemathesis.toml" run "$doc" --url "$BASE_URL" \
    -H "Authorization: Bearer $token" --checks all \
    --exclude-checks positive_data_acceptance,negative_data_rejection \
    --max-examples "${CONTRACT_MAX_EXAMPLES:-12}" --seed 1 --workers 1 --no-color \
    --report junit --report-junit-path "$report/$name.xml" "$@" | tee "$report/$name.log" |
    sed -n '/SUMMARY/,$p'
  local status=${PIPESTATUS[0]}
  local n
  n=$(grep -Eo '[0-9]+ generated' "$report/$name.log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  generated=$((generated + n))
  return "$status"
}
# People's tokens on the management API; the application's on what applications call. The
# operator goes last: its run suspends tenants (acme among them), which ends the others' tokens.
# The events stream never ends, so it is not fuzzed (the API and browser tests read it).
run admin "$(token admin)" --include-tag users --include-tag tenants --include-tag webhooks \
  --exclude-operation-id stream_events
run application "$(token application)" --include-tag billing --include-tag audit --include-tag ofrep --include-tag flags
run operator "$(token operator)" --exclude-tag billing --exclude-tag audit --exclude-tag ofrep --exclude-tag oauth \
  --exclude-operation-id stream_events
echo "schemathesis: $generated test cases generated and sent in all" >&2
