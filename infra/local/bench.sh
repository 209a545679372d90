#!/usr/bin/env bash
# make bench: a DynamoDB Local and a moto (KMS, Secrets Manager) of its own, then, in release
# mode, the pay-date benchmark (tests/benches/paydates.rs) and the cold/warm start benchmark
# (tests/benches/coldstart.rs: the release binaries of get-customer and list-paydates, and a
# minimal one-GetItem function, under a Lambda Runtime API emulator on loopback).
# It prints figures; it does not pass or fail on time.
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh
mkdir -p .local
# The binaries the cold-start bench spawns, built before anything starts (release: minutes on a
# small machine the first time). The functions with their own package selection, as deployed.
cargo build --release -p get-customer -p list-paydates
cargo build --release -p integration-tests --example coldstart-minimal
trap 'stop_all' EXIT
trap 'stop_all; exit 130' INT TERM
port=$(free_port)
local_env "$port" "bench-"
start_dynamodb "$port" .local/dynamodb-bench.log
moto_port=$(free_port)
start_keys "$moto_port" .local/moto-bench.log
cargo bench -p integration-tests --bench paydates
cargo bench -p integration-tests --bench coldstart
