#!/usr/bin/env bash
# make import-loans FILE=... / make import-paydates FILE=...: loads JSON Lines into the running
# local stack (DynamoDB Local on DYNAMODB_PORT, default 8000), or, with STACK=<stack name>, into
# that deployed stack's tables (your usual AWS credentials and region).
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh
kind=$1 file=${2:-}
[ -n "$file" ] || { echo "usage: make import-$kind FILE=path/to/file.jsonl [STACK=name]" >&2; exit 2; }
if [ -n "${STACK:-}" ]; then
  eval "$("$VENV/bin/python" - "$STACK" <<'PY'
import sys, boto3
outputs = boto3.client("cloudformation").describe_stacks(StackName=sys.argv[1])["Stacks"][0]["Outputs"]
names = {o["OutputKey"]: o["OutputValue"] for o in outputs}
for var, key in [("CUSTOMERS_TABLE", "CustomersTableName"), ("API_KEYS_TABLE", "ApiKeysTableName"),
                 ("LOANS_TABLE", "LoansTableName"), ("PAY_DATES_TABLE", "PayDatesTableName"),
                 ("PAY_DATE_COUNTS_TABLE", "PayDateCountsTableName")]:
    print(f"export {var}={names[key]}")
PY
)"
else
  local_env "${DYNAMODB_PORT:-8000}"
  port_busy "${DYNAMODB_PORT:-8000}" || { echo "error: nothing listens on ${DYNAMODB_PORT:-8000}: start 'make run' first" >&2; exit 1; }
fi
admin "import-$kind" "$file"
