#!/usr/bin/env bash
# make load: a mixed workload (oha, 18 clients, LOAD_SECONDS = 60 by default) against the stack
# that `make run` serves, found as make run finds it: API_PORT (9000), DEV_API_KEY, and, for the
# read-back of what the creates stored, its DynamoDB Local on DYNAMODB_PORT (8000). Traffic goes
# to 127.0.0.1 only. It prints its figures and fails on a lost write; see tests/load/mixed.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh

API_PORT=${API_PORT:-9000}
DYNAMODB_PORT=${DYNAMODB_PORT:-8000}
DEV_API_KEY=${DEV_API_KEY:-tsk_local_development_key}
OHA=${OHA:-$PWD/.local/oha/bin/oha}
export API_PORT DEV_API_KEY OHA

if ! port_busy "$API_PORT"; then
  echo "error: nothing listens on 127.0.0.1:$API_PORT; start 'make run' in another shell first" \
       "(with the same API_PORT, DYNAMODB_PORT and DEV_API_KEY)" >&2
  exit 1
fi
local_env "$DYNAMODB_PORT"
exec "$VENV/bin/python" tests/load/mixed.py
