//! Everything the TaskSuite webhook functions share: the contract's rules live here, once.
//!
//! - [`customer`]: the customer record, its validation, PATCH merging and the GET view.
//! - [`validate`], [`reference`]: single-value rules (dates, SSN, phone, email, countries).
//! - [`customers`]: the operations (create, get, update, delete) over the [`store`].
//! - [`customer_store`]: customer items (sealed SSN and EIN) and their audited writes.
//! - [`pii`]: envelope encryption of SSNs and EINs; [`secrets`]: the deployment's MAC key.
//! - [`auth`]: Bearer API keys, stored as hashes; [`idempotency`]: `Idempotency-Key`.
//! - [`audit`]: the append-only trail of customer changes.
//! - [`edge`], [`http`], [`error`], [`json`]: a request's life, its parsing, the error
//!   envelope, output bytes.
//! - [`metrics`]: one CloudWatch EMF line a request (operation, status class, latency, store
//!   retries).

pub mod audit;
pub mod auth;
pub mod customer;
pub mod customer_store;
pub mod customers;
pub mod demo;
pub mod edge;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod import;
pub mod json;
pub mod loan_writes;
pub mod loans;
pub mod metrics;
pub mod money;
pub mod paydates;
pub mod pii;
#[cfg(test)]
mod props;
pub mod records;
pub mod reference;
pub mod secrets;
pub mod store;
#[cfg(feature = "admin")]
pub mod tables;
pub mod telemetry;
pub mod time;
pub mod validate;

pub use error::ApiError;
pub use store::Store;
