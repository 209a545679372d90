//! The integration suite: each function's real handler against DynamoDB Local, each test on
//! tables of its own. Run it with `make test`.

mod auth;
mod create;
mod delete;
mod failures;
mod logs;
mod read;
mod update;
