#!/usr/bin/env bash
# Contract fuzzing: schemathesis against the running server, over the whole generated
# document, with real tokens (end2end/support/api_tokens.mjs). Every operation gets bounded
# examples, coverage cases and fuzzed ones; stateful sequences where the document has links.
# A 5xx, an undocumented status, a body or header that breaks the document fails the run.
# Usage: BASE_URL=http://localhost:3100 end2end/support/contract.sh REPORT_DIR
set -euo pipefail
report="${1:?report directory}"
mkdir -p "$report"
ST="${E2E_VENV:?}/bin/schemathesis"
doc="$BASE_URL/api/v1/openapi.json"
tokens=$(node "$(dirname "$0")/api_tokens.mjs")
token() { node -e "process.stdout.write(JSON.parse(process.argv[1])[process.argv[2]])" "$tokens" "$1"; }
run() {
  local name="$1" token="$2"; shift 2
  echo "schemathesis: $name" >&2
  "$ST" run "$doc" --url "$BASE_URL" -H "Authorization: Bearer $token" \
    --checks all --max-examples "${CONTRACT_MAX_EXAMPLES:-12}" --seed 1 --workers 2 \
    --no-color --report junit --report-junit-path "$report/$name.xml" "$@"
}
# People's tokens on the management API; the application's on what applications call.
run operator "$(token operator)" --exclude-tag billing --exclude-tag audit --exclude-tag ofrep --exclude-tag oauth
run admin "$(token admin)" --include-tag users --include-tag tenants
run application "$(token application)" --include-tag billing --include-tag audit --include-tag ofrep --include-tag flags
# How many requests it generated, for the resolution's figures.
python3 - "$report" <<'PY'
import sys, glob, xml.etree.ElementTree as ET
total = 0
for f in glob.glob(sys.argv[1] + "/*.xml"):
    root = ET.parse(f).getroot()
    total += sum(int(s.get("tests", 0)) for s in root.iter("testsuite"))
print(f"schemathesis: {total} test cases in all", file=sys.stderr)
PY
