#!/usr/bin/env bash
# make run: DynamoDB Local, the tables, the development key, and the whole API through
# `cargo lambda watch`, in the foreground. Ctrl-C or SIGTERM stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh

API_PORT=${API_PORT:-9000}
DYNAMODB_PORT=${DYNAMODB_PORT:-8000}
MOTO_PORT=${MOTO_PORT:-$(free_port)}
DEV_API_KEY=${DEV_API_KEY:-tsk_local_development_key}
export DEV_API_KEY
mkdir -p .local

trap 'stop_all; exit 130' INT TERM
trap 'stop_all' EXIT

local_env "$DYNAMODB_PORT"
echo "building the functions..."
build_functions
admin help > /dev/null # builds the admin tool before anything starts

echo "starting DynamoDB Local on 127.0.0.1:$DYNAMODB_PORT..."
start_dynamodb "$DYNAMODB_PORT" .local/dynamodb-run.log
echo "starting KMS and Secrets Manager (moto) on 127.0.0.1:$MOTO_PORT..."
start_keys "$MOTO_PORT" .local/moto-run.log
admin create-tables --template infra/template.yaml
admin create-key --name development --from-env DEV_API_KEY > /dev/null
if [ "${DEMO:-1}" != 0 ]; then
  admin load-demo --dir .local/demo
fi

write_env_file .local/watch.env
echo "starting the API on 127.0.0.1:$API_PORT..."
# Its output (the functions' JSON log lines and metrics lines, which never hold an SSN, EIN or
# key) also goes to .local/api.log, started afresh each time: make load reads it.
start_api "$API_PORT" .local/watch.env .local/api.log tee

cat <<MSG

  TaskSuite webhook API is up.
    base URL: http://127.0.0.1:$API_PORT/webhook/v1/json
    API key:  $DEV_API_KEY   (development only; set DEV_API_KEY to choose another)
    try:      curl -s -H "Authorization: Bearer $DEV_API_KEY" http://127.0.0.1:$API_PORT/webhook/v1/json/customers/89043762
              curl -s -H "Authorization: Bearer $DEV_API_KEY" "http://127.0.0.1:$API_PORT/webhook/v1/json/paydates?date=today"

  Ctrl-C stops the API and DynamoDB Local.
MSG
wait "$WATCH_PID"
