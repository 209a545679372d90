#!/usr/bin/env bash
# make bench: a DynamoDB Local of its own, then the pay-date benchmark (tests/benches/paydates.rs)
# in release mode. It prints figures; it does not pass or fail on time.
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh
mkdir -p .local
trap 'stop_all' EXIT
trap 'stop_all; exit 130' INT TERM
port=$(free_port)
local_env "$port" "bench-"
start_dynamodb "$port" .local/dynamodb-bench.log
cargo bench -p integration-tests --bench paydates
