#!/usr/bin/env bash
# Regenerates both SDKs from the committed API document (server/openapi.json):
#   sdk/typescript/src/schema.d.ts   openapi-typescript (npm, pinned in package.json)
#   sdk/python/gatehouse-client/     openapi-python-client (PyPI, pinned in
#                                    end2end/support/requirements.txt)
# `sdk/generate.sh --check` changes nothing and fails when the committed SDKs differ from
# what the document generates (the test command runs it). Python's bytecode caches, left
# by the live test of an earlier run, are not part of the SDK.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
check=0
[ "${1:-}" = --check ] && check=1
python_bin="$(dirname "${E2E_PYTHON:-.venv-e2e/bin/python}")"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
node_modules/.bin/openapi-typescript server/openapi.json --output "$out/schema.d.ts" >/dev/null 2>&1
"$python_bin/openapi-python-client" generate --path server/openapi.json \
  --config sdk/python/config.yaml --output-path "$out/gatehouse-client" >/dev/null 2>&1
if [ "$check" = 1 ]; then
  if ! diff -q "$out/schema.d.ts" sdk/typescript/src/schema.d.ts >/dev/null ||
     ! diff -r -q -x __pycache__ "$out/gatehouse-client" sdk/python/gatehouse-client >/dev/null; then
    echo "the SDKs are stale: run sdk/generate.sh and commit the result" >&2
    exit 1
  fi
  echo "the SDKs match server/openapi.json" >&2
else
  cp "$out/schema.d.ts" sdk/typescript/src/schema.d.ts
  rm -rf sdk/python/gatehouse-client
  cp -r "$out/gatehouse-client" sdk/python/gatehouse-client
  echo "regenerated sdk/typescript/src/schema.d.ts and sdk/python/gatehouse-client" >&2
fi
