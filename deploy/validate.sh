#!/usr/bin/env bash
# Validates deploy/ offline: Kubernetes manifests (bundled Kubernetes schemas, strict), the
# custom resources against deploy/schemas/, the alert rules' and the dashboard's PromQL
# against the metrics the code emits, the Dockerfile, the systemd unit, and the Citus
# notes against the migrations (validate.py says what and why). Exits non-zero on failure.
#
#   deploy/validate.sh [-v]
#
# Python: $DEPLOY_PYTHON, else the test command's venv ($E2E_PYTHON, set by
# scripts/setup.sh --tests), else python3 — with kubernetes-validate and promql-parser
# (pinned in end2end/support/requirements.txt).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${DEPLOY_PYTHON:-${E2E_PYTHON:-python3}}"
if ! "$python" -c 'import kubernetes_validate, promql_parser, jsonschema, yaml' 2>/dev/null; then
  echo "deploy/validate.sh: $python lacks kubernetes-validate or promql-parser." >&2
  echo "  python3 -m venv /tmp/deploy-venv && /tmp/deploy-venv/bin/pip install kubernetes-validate==1.37.0 promql-parser==0.11.0" >&2
  echo "  DEPLOY_PYTHON=/tmp/deploy-venv/bin/python deploy/validate.sh" >&2
  exit 2
fi
exec "$python" "$here/validate.py" "$@"
