#!/usr/bin/env bash
# make admin ARGS='...', make import-loans FILE=..., make import-paydates FILE=...: the operator's
# tool (tasksuite-admin) against the running local stack (`make run`: its DynamoDB Local, KMS and
# Secrets Manager, as written to .local/watch.env), or, with STACK=<stack name>, against that
# deployed stack (your usual AWS credentials and region; the table names and the PII key come
# from the stack's outputs).
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh
[ $# -gt 0 ] || { echo "usage: make admin ARGS='help' [STACK=name]" >&2; exit 2; }
if [ -n "${STACK:-}" ]; then
  eval "$("$VENV/bin/python" - "$STACK" <<'PY'
import sys, boto3
outputs = boto3.client("cloudformation").describe_stacks(StackName=sys.argv[1])["Stacks"][0]["Outputs"]
names = {o["OutputKey"]: o["OutputValue"] for o in outputs}
for var, key in [("CUSTOMERS_TABLE", "CustomersTableName"), ("API_KEYS_TABLE", "ApiKeysTableName"),
                 ("LOANS_TABLE", "LoansTableName"), ("PAY_DATES_TABLE", "PayDatesTableName"),
                 ("IDEMPOTENCY_TABLE", "IdempotencyTableName"), ("AUDIT_TABLE", "AuditTableName"),
                 ("PAY_DATE_COUNTS_TABLE", "PayDateCountsTableName"), ("PII_KEY_ID", "PiiKeyArn")]:
    print(f"export {var}={names[key]}")
PY
)"
else
  [ -f .local/watch.env ] && port_busy "${DYNAMODB_PORT:-8000}" \
    || { echo "error: the local stack is not running: start 'make run' first" >&2; exit 1; }
  set -a
  # shellcheck disable=SC1091
  source .local/watch.env
  set +a
fi
admin "$@"
