//! The import's write of loans, and the guard it shares with DELETE. A loan is written in one
//! transaction with an update of its customer: the customer must exist (`attribute_exists`),
//! its `loanCount` grows by the loans that are new, and its version is bumped. DELETE is
//! conditioned on that version and on `loanCount` being 0, so a loan's import and its
//! customer's delete can never both succeed, whichever comes first.
//!
//! Each customer's lines go in transactions of up to 25 loans (plus the customer's update),
//! different customers at once. Before each transaction the
//! loans are read back (one BatchGetItem): a loan stored as given is not written again (so a
//! re-import counts nothing twice and bumps no version), a loan stored under another customer is
//! a rejected line, and a loan whose stored copy moved meanwhile is read again and retried.

use crate::customer_store::{LOAN_COUNT, VERSION};
use crate::records::Record;
use crate::store::{batch_get, store_error, Item, Store};
use crate::ApiError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use futures::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// Loans a transaction, besides their customer's update. DynamoDB takes up to 99 (100 actions),
/// but a transaction's time grows with its size: 25 keeps each well inside the SDK's 3-second
/// attempt timeout on a loaded DynamoDB Local (99 did not, on a busy 2-core machine).
const PER_TRANSACTION: usize = 25;
/// Customers written at once.
const CONCURRENCY: usize = 8;
/// Transactions that timed out (their outcome unknown) tried again on a fresh read: one that did
/// commit reads back as stored, so nothing is counted twice.
const MAX_TIMEOUTS: u32 = 3;
/// Rounds of read-then-write for one transaction that keeps losing races.
const MAX_ATTEMPTS: u32 = 12;

/// What became of the loan lines handed to [`write_loans`].
#[derive(Debug, Default)]
pub struct Outcome {
    /// Lines now stored as given (written now, or already stored so).
    pub written: usize,
    /// (line number, reason).
    pub rejected: Vec<(usize, String)>,
}

/// Why a transaction was cancelled, as far as the import cares.
enum Cancelled {
    /// The customer's condition failed: it does not exist (any more).
    CustomerMissing,
    /// A loan moved since it was read, or another transaction held an item: read and try again.
    Retry,
    /// No answer in time: it may or may not have committed. Read and try again (a few times).
    TimedOut(ApiError),
}

/// Writes loan lines (already checked, one per loan), each with its customer's `loanCount` and
/// version.
pub async fn write_loans(store: &Store, lines: Vec<(usize, Record)>) -> Result<Outcome, ApiError> {
    let mut by_customer: BTreeMap<u64, Vec<(usize, Record)>> = BTreeMap::new();
    for (number, record) in lines {
        by_customer
            .entry(record.int("giggleId"))
            .or_default()
            .push((number, record));
    }
    let outcomes: Vec<Outcome> = futures::stream::iter(by_customer.into_iter().map(
        |(giggle_id, group)| async move {
            let mut outcome = Outcome::default();
            for chunk in group.chunks(PER_TRANSACTION) {
                write_chunk(store, giggle_id, chunk, &mut outcome).await?;
            }
            Ok::<Outcome, ApiError>(outcome)
        },
    ))
    .buffer_unordered(CONCURRENCY)
    .try_collect()
    .await?;
    let mut total = Outcome::default();
    for o in outcomes {
        total.written += o.written;
        total.rejected.extend(o.rejected);
    }
    Ok(total)
}

fn number(item: &Item, name: &str) -> Option<u64> {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

/// The stored copies of these loans, by id (a strongly consistent BatchGetItem).
async fn stored_loans(store: &Store, ids: &[u64]) -> Result<HashMap<u64, Item>, ApiError> {
    let keys: Vec<Item> = ids
        .iter()
        .map(|id| HashMap::from([("loanId".to_string(), AttributeValue::N(id.to_string()))]))
        .collect();
    let request = KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .consistent_read(true)
        .build()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut found = HashMap::new();
    batch_get(store, &store.tables.loans, request, |item| {
        if let Some(id) = number(&item, "loanId") {
            found.insert(id, item);
        }
    })
    .await?;
    Ok(found)
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// The customer's side of the transaction: it must exist; `loanCount` grows by `new` (from 0
/// on a record written before the attribute existed) and the version by one, so that a DELETE
/// or PATCH that read the record before fails its condition and reads it again.
fn customer_update(store: &Store, giggle_id: u64, new: u64) -> Result<TransactWriteItem, ApiError> {
    let update = Update::builder()
        .table_name(&store.tables.customers)
        .key("giggleId", AttributeValue::N(giggle_id.to_string()))
        .update_expression("SET #n = if_not_exists(#n, :zero) + :new, #v = #v + :one")
        .condition_expression("attribute_exists(giggleId)")
        .expression_attribute_names("#n", LOAN_COUNT)
        .expression_attribute_names("#v", VERSION)
        .expression_attribute_values(":zero", AttributeValue::N("0".into()))
        .expression_attribute_values(":new", AttributeValue::N(new.to_string()))
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .build()
        .map_err(internal)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// One customer's loans (at most [`PER_TRANSACTION`]): read, decide line by line, write what is
/// new or changed with the customer's update in one transaction; read again and retry if a loan
/// moved in between.
async fn write_chunk(
    store: &Store,
    giggle_id: u64,
    chunk: &[(usize, Record)],
    outcome: &mut Outcome,
) -> Result<(), ApiError> {
    let ids: Vec<u64> = chunk.iter().map(|(_, r)| r.int("id")).collect();
    let mut timeouts = 0;
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            backoff(attempt).await;
        }
        let stored = stored_loans(store, &ids).await?;
        let mut actions = Vec::with_capacity(chunk.len() + 1);
        let mut rejected = Vec::new();
        let mut accepted = Vec::new();
        let mut new = 0u64;
        for (line, record) in chunk {
            let id = record.int("id");
            let item = record.to_item();
            let put = Put::builder()
                .table_name(&store.tables.loans)
                .set_item(Some(item.clone()));
            let put = match stored.get(&id) {
                Some(old) if number(old, "giggleId") != Some(giggle_id) => {
                    let owner =
                        number(old, "giggleId").map_or_else(|| "?".to_string(), |g| g.to_string());
                    rejected.push((
                        *line,
                        format!("loan {id} belongs to another customer (giggleId {owner}); a loan never changes customer"),
                    ));
                    continue;
                }
                Some(old) if *old == item => {
                    accepted.push(*line);
                    continue;
                }
                // Changed, same customer: only if it still is that customer's.
                Some(_) => put
                    .condition_expression("giggleId = :g")
                    .expression_attribute_values(":g", AttributeValue::N(giggle_id.to_string())),
                None => {
                    new += 1;
                    put.condition_expression("attribute_not_exists(loanId)")
                }
            };
            accepted.push(*line);
            actions.push(
                TransactWriteItem::builder()
                    .put(put.build().map_err(internal)?)
                    .build(),
            );
        }
        if actions.is_empty() {
            outcome.written += accepted.len();
            outcome.rejected.extend(rejected);
            return Ok(());
        }
        let customer_index = actions.len();
        actions.push(customer_update(store, giggle_id, new)?);
        let result = store
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await;
        match result {
            Ok(_) => {
                outcome.written += accepted.len();
                outcome.rejected.extend(rejected);
                return Ok(());
            }
            Err(e) => match cancelled(e, customer_index)? {
                Cancelled::CustomerMissing => {
                    outcome.rejected.extend(rejected);
                    outcome.rejected.extend(
                        accepted
                            .into_iter()
                            .map(|n| (n, format!("customer with giggleId {giggle_id} not found"))),
                    );
                    return Ok(());
                }
                Cancelled::Retry => continue,
                Cancelled::TimedOut(e) => {
                    timeouts += 1;
                    if timeouts >= MAX_TIMEOUTS {
                        return Err(e);
                    }
                }
            },
        }
    }
    Err(ApiError::StoreUnavailable(
        "loans kept racing with other writes".into(),
    ))
}

/// Reads a cancelled transaction's reasons (the customer's update is at `customer_index`).
fn cancelled<R: std::fmt::Debug>(
    err: aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, R>,
    customer_index: usize,
) -> Result<Cancelled, ApiError> {
    use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
    if let SdkError::TimeoutError(_) = err {
        return Ok(Cancelled::TimedOut(store_error(err)));
    }
    if let Some(TransactWriteItemsError::TransactionCanceledException(c)) = err.as_service_error() {
        let codes: Vec<&str> = c
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or("None"))
            .collect();
        if codes.get(customer_index) == Some(&"ConditionalCheckFailed") {
            return Ok(Cancelled::CustomerMissing);
        }
        if codes
            .iter()
            .any(|c| matches!(*c, "ConditionalCheckFailed" | "TransactionConflict"))
        {
            return Ok(Cancelled::Retry);
        }
        if codes
            .iter()
            .any(|c| matches!(*c, "ThrottlingError" | "ProvisionedThroughputExceeded"))
        {
            return Err(ApiError::StoreUnavailable(format!(
                "transaction throttled: {codes:?}"
            )));
        }
    }
    if err.code() == Some("TransactionConflictException") {
        return Ok(Cancelled::Retry);
    }
    Err(store_error(err))
}

async fn backoff(attempt: u32) {
    let millis = 20u64.saturating_mul(1 << attempt.min(6)).min(2000);
    let mut b = [0u8; 1];
    let _ = getrandom::getrandom(&mut b);
    tokio::time::sleep(Duration::from_millis(millis + u64::from(b[0] % 32))).await;
}
