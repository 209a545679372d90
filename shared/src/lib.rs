//! Everything the TaskSuite webhook functions share: the contract's rules live here, once.
//!
//! - [`customer`]: the customer record, its validation, PATCH merging and the GET view.
//! - [`validate`], [`reference`]: single-value rules (dates, SSN, phone, email, countries).
//! - [`customers`]: the operations (create, get, update, delete) over the [`store`].
//! - [`auth`]: Bearer API keys, stored as hashes.
//! - [`http`], [`error`], [`json`]: the edge: request parsing, the error envelope, output bytes.

pub mod auth;
pub mod customer;
pub mod customers;
pub mod demo;
pub mod error;
pub mod http;
pub mod import;
pub mod json;
pub mod loans;
pub mod money;
pub mod paydates;
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
