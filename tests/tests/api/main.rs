//! The integration suite: each function's real handler against DynamoDB Local, each test on
//! tables of its own. Run it with `make test`.

mod auth;
mod clock;
mod counters;
mod create;
mod cursors;
mod delete;
mod failures;
mod faults;
mod idempotency;
mod import;
mod loans;
mod logs;
mod metrics;
mod pages;
mod paydates;
mod pii;
mod read;
mod update;
