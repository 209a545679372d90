#!/usr/bin/env bash
# make test: formatting, then the whole suite against a DynamoDB Local of its own on a free
# port (so a running `make run` is not disturbed), then the seed's own Python examples through
# the real binaries under `cargo lambda watch`.
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh
mkdir -p .local

trap 'stop_all' EXIT
trap 'stop_all; exit 130' INT TERM

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --quiet --workspace --all-targets --all-features -- -D warnings

# A new user's client generator on the spec: openapi-python-client (its own virtualenv, see the
# Makefile) must generate without a single warning. It prints its warnings on stdout and, with
# --fail-on-warning, exits non-zero; both are checked. The client drives the stack further down.
echo "== openapi-python-client: a typed client from infra/openapi.yaml, 0 warnings"
CLIENT_VENV="$VENV/openapi-client"
rm -rf .local/python-client && mkdir -p .local/python-client
if ! PATH="$PWD/$CLIENT_VENV/bin:$PATH" "$CLIENT_VENV/bin/openapi-python-client" generate \
    --path infra/openapi.yaml --output-path .local/python-client/tasksuite_client --meta none \
    --fail-on-warning > .local/python-client.log 2>&1 \
  || grep -qi "warning" .local/python-client.log; then
  cat .local/python-client.log >&2
  echo "error: openapi-python-client did not generate the client cleanly from infra/openapi.yaml" >&2
  exit 1
fi
echo "generated .local/python-client/tasksuite_client with 0 warnings"

DDB_TEST_PORT=$(free_port)
local_env "$DDB_TEST_PORT" "e2e-"
echo "== DynamoDB Local on 127.0.0.1:$DDB_TEST_PORT"
start_dynamodb "$DDB_TEST_PORT" .local/dynamodb-test.log
MOTO_TEST_PORT=$(free_port)
echo "== KMS and Secrets Manager (moto) on 127.0.0.1:$MOTO_TEST_PORT"
start_keys "$MOTO_TEST_PORT" .local/moto-test.log

echo "== unit and integration tests"
if cargo nextest --version > /dev/null 2>&1; then
  cargo nextest run --workspace --all-features --no-fail-fast
else
  cargo test --workspace --all-features --no-fail-fast
fi

echo "== end to end: the seed's examples over HTTP through cargo lambda watch"
build_functions
admin create-tables --template infra/template.yaml
E2E_KEY=$(admin create-key --name e2e | sed -n 's/^api key (shown once, store it now): //p')
API_TEST_PORT=$(free_port)
# The functions at RUST_LOG=trace: secrets_in_logs.py proves that no SSN, EIN or key reaches a
# line even then (third-party crates are capped at info in the code).
RUST_LOG=trace write_env_file .local/watch-test.env
start_api "$API_TEST_PORT" .local/watch-test.env .local/watch-test.log
TASKSUITE_BASE_URL="http://127.0.0.1:$API_TEST_PORT" TASKSUITE_API_KEY="$E2E_KEY" \
  "$VENV/bin/python" tests/e2e/seed_examples.py
TASKSUITE_BASE_URL="http://127.0.0.1:$API_TEST_PORT" TASKSUITE_API_KEY="$E2E_KEY" \
  TASKSUITE_LOG_FILE=.local/watch-test.log "$VENV/bin/python" tests/e2e/secrets_in_logs.py

echo "== the audit trail and reveal-ssn through the admin tool"
admin audit 89043762 | tee .local/audit.out
for op in create update delete; do
  grep -q " $op " .local/audit.out || { echo "error: no '$op' entry in the audit trail" >&2; exit 1; }
done
admin load-demo --dir .local/demo-test > /dev/null
[ "$(admin reveal-ssn 89043763)" = "234-56-7890" ] || { echo "error: reveal-ssn did not give the demo SSN" >&2; exit 1; }
admin audit 89043763 > .local/audit-reveal.out
grep -q " reveal-ssn " .local/audit-reveal.out || { echo "error: reveal-ssn left no audit entry" >&2; exit 1; }
echo "audit: create, update and delete entries; reveal-ssn shows the SSN and leaves its entry"
TASKSUITE_BASE_URL="http://127.0.0.1:$API_TEST_PORT" TASKSUITE_API_KEY="$E2E_KEY" \
  "$VENV/bin/python" tests/e2e/paydate_examples.py

echo "== the generated Python client against the stack: typed answers, errors and a cursor walk"
TASKSUITE_BASE_URL="http://127.0.0.1:$API_TEST_PORT" TASKSUITE_API_KEY="$E2E_KEY" \
  TASKSUITE_CLIENT_DIR=.local/python-client "$CLIENT_VENV/bin/python" tests/e2e/python_client.py

echo "== the seeds' records through the import command"
admin import-loans tests/data/seed-loans.jsonl
admin import-paydates tests/data/seed-paydates.jsonl
printf '%s\n' '{"id": 9, "loanId": 123}' '{"id": 10, "state": "open", "date": "2024-08-01", "amount": 100.00, "amountOwed": 100.00, "amountPaid": 0.00, "startingCapital": 1.00, "endingCapital": 1.00, "loanBalance": 1.00, "loanId": 123}' > .local/bad-paydates.jsonl
if admin import-paydates .local/bad-paydates.jsonl > .local/bad-import.out 2>&1; then
  echo "error: a file with a bad line imported without an error" >&2; exit 1
fi
grep -q "^line 1: did not provide" .local/bad-import.out && grep -q "2 lines, 1 written, 1 rejected" .local/bad-import.out \
  || { echo "error: the import did not report the bad line by number" >&2; cat .local/bad-import.out >&2; exit 1; }
echo "import: a bad line is reported by number, the good one written, the exit code non-zero"

echo "== schemathesis: infra/openapi.yaml against the local stack, every check, fixed seed"
# The hooks create customers for DELETE through the API, with the suite's key. Hypothesis writes
# under .local/ (ignored by cargo lambda watch, which restarts the functions on any other change).
TASKSUITE_BASE_URL="http://127.0.0.1:$API_TEST_PORT" TASKSUITE_API_KEY="$E2E_KEY" \
  HYPOTHESIS_STORAGE_DIRECTORY=.local/hypothesis "$VENV/bin/schemathesis" --config-file tests/schemathesis.toml run infra/openapi.yaml \
  --url "http://127.0.0.1:$API_TEST_PORT" -H "Authorization: Bearer $E2E_KEY" \
  --checks all --seed 20261124 --max-examples "${SCHEMATHESIS_EXAMPLES:-100}" --workers 1 \
  --request-timeout 20 --no-color

echo "== every table of the suite: no SSN or EIN in clear, nor any unkeyed hash of one"
"$VENV/bin/python" tests/e2e/scan_tables.py
