//! The import of loans and pay dates from JSON Lines (one record a line). Every line is checked
//! (its fields, the pay-date arithmetic and state, that its loan or customer exists); rejected
//! lines are reported by number with the reason, the rest are written. Writes are puts keyed by
//! the record's own key, so running a file twice changes nothing. Loans go in batches of 25,
//! DynamoDB's unprocessed items retried with backoff; pay dates go in transactions with their
//! days' counts (`paydates::counters`), and one already stored as given is not written again.

use crate::paydates;
use crate::records::{check_pay_date, Field, Record, LOAN_FIELDS, PAY_DATE_FIELDS};
use crate::store::{store_error, Store};
use crate::ApiError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, PutRequest, WriteRequest};
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::time::Duration;

/// Lines checked and written together: bounded memory for files of any length.
const CHUNK: usize = 2000;
const BATCH_WRITE: usize = 25;
const BATCH_GET: usize = 100;
const MAX_RETRIES: u32 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Loans,
    PayDates,
}

impl Kind {
    fn fields(self) -> &'static [Field] {
        match self {
            Kind::Loans => LOAN_FIELDS,
            Kind::PayDates => PAY_DATE_FIELDS,
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    /// Non-empty lines read.
    pub lines: usize,
    pub written: usize,
    /// (line number, reason), in line order.
    pub rejected: Vec<(usize, String)>,
}

fn describe(e: ApiError) -> String {
    match e {
        ApiError::StoreUnavailable(d) | ApiError::Internal(d) => d,
        other => other.to_string(),
    }
}

/// Imports a JSON Lines stream. `progress` is told how many lines have been handled so far.
pub async fn import(
    store: &Store,
    kind: Kind,
    input: impl BufRead,
    mut progress: impl FnMut(usize),
) -> Result<Report, String> {
    let mut report = Report::default();
    // The key of every line written or queued, to refuse a second line for the same record.
    let mut seen_keys: HashMap<(u64, String), usize> = HashMap::new();
    let mut known: HashMap<u64, bool> = HashMap::new();
    let mut chunk: Vec<(usize, Record)> = Vec::with_capacity(CHUNK);
    let mut number = 0;
    for line in input.lines() {
        number += 1;
        let line = line.map_err(|e| format!("line {number}: cannot read: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        report.lines += 1;
        let record = Record::from_json_line(kind.fields(), &line).and_then(|r| match kind {
            Kind::PayDates => check_pay_date(&r).map(|_| r),
            Kind::Loans => Ok(r),
        });
        let record = match record {
            Ok(r) => r,
            Err(reason) => {
                report.rejected.push((number, reason));
                continue;
            }
        };
        let key = match kind {
            Kind::Loans => (record.int("id"), String::new()),
            Kind::PayDates => (record.int("loanId"), record.text("date").to_string()),
        };
        if let Some(first) = seen_keys.get(&key) {
            let what = match kind {
                Kind::Loans => format!("loan {}", key.0),
                Kind::PayDates => format!("loanId {} on {}", key.0, key.1),
            };
            report.rejected.push((
                number,
                format!("a second line for {what} (first on line {first})"),
            ));
            continue;
        }
        seen_keys.insert(key, number);
        chunk.push((number, record));
        if chunk.len() >= CHUNK {
            flush(store, kind, &mut chunk, &mut known, &mut report).await?;
            progress(number);
        }
    }
    flush(store, kind, &mut chunk, &mut known, &mut report).await?;
    progress(number);
    report.rejected.sort_by_key(|(n, _)| *n);
    Ok(report)
}

/// Checks the references of a chunk, then writes the lines that pass.
async fn flush(
    store: &Store,
    kind: Kind,
    chunk: &mut Vec<(usize, Record)>,
    known: &mut HashMap<u64, bool>,
    report: &mut Report,
) -> Result<(), String> {
    let (table, key_name, reference) = match kind {
        Kind::Loans => (&store.tables.customers, "giggleId", "giggleId"),
        Kind::PayDates => (&store.tables.loans, "loanId", "loanId"),
    };
    let wanted: HashSet<u64> = chunk
        .iter()
        .map(|(_, r)| r.int(reference))
        .filter(|id| !known.contains_key(id))
        .collect();
    let found = existing(store, table, key_name, wanted.iter().copied().collect())
        .await
        .map_err(describe)?;
    for id in wanted {
        known.insert(id, found.contains(&id));
    }
    let mut writes = Vec::with_capacity(chunk.len());
    for (number, record) in chunk.drain(..) {
        let id = record.int(reference);
        if known.get(&id) == Some(&true) {
            writes.push(record);
        } else {
            let reason = match kind {
                Kind::Loans => format!("customer with giggleId {id} not found"),
                Kind::PayDates => format!("loan with loanId {id} not found"),
            };
            report.rejected.push((number, reason));
        }
    }
    let written = writes.len();
    match kind {
        Kind::Loans => {
            for batch in writes.chunks(BATCH_WRITE) {
                let items = batch.iter().map(Record::to_item).collect();
                write_batch(store, &store.tables.loans, items)
                    .await
                    .map_err(describe)?;
            }
        }
        // Pay dates move their days' counts: they are written with them, in transactions.
        Kind::PayDates => paydates::write_pay_dates(store, writes)
            .await
            .map_err(describe)?,
    }
    report.written += written;
    Ok(())
}

/// Which of these ids have an item in the table (BatchGetItem, unprocessed keys retried).
async fn existing(
    store: &Store,
    table: &str,
    key_name: &str,
    ids: Vec<u64>,
) -> Result<HashSet<u64>, ApiError> {
    let mut found = HashSet::new();
    for group in ids.chunks(BATCH_GET) {
        let keys: Vec<HashMap<String, AttributeValue>> = group
            .iter()
            .map(|id| HashMap::from([(key_name.to_string(), AttributeValue::N(id.to_string()))]))
            .collect();
        let request = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .projection_expression("#k")
            .expression_attribute_names("#k", key_name)
            .consistent_read(true)
            .build()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        crate::store::batch_get(store, table, request, |item| {
            if let Some(AttributeValue::N(n)) = item.get(key_name) {
                if let Ok(id) = n.parse() {
                    found.insert(id);
                }
            }
        })
        .await?;
    }
    Ok(found)
}

async fn backoff(attempt: u32) {
    let millis = 50u64.saturating_mul(1 << attempt.min(6));
    tokio::time::sleep(Duration::from_millis(millis.min(3000))).await;
}

/// One BatchWriteItem of at most 25 puts, retrying what DynamoDB leaves unprocessed.
async fn write_batch(
    store: &Store,
    table: &str,
    items: Vec<HashMap<String, AttributeValue>>,
) -> Result<(), ApiError> {
    let requests: Vec<WriteRequest> = items
        .into_iter()
        .map(|item| {
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .expect("an item is set"),
                )
                .build()
        })
        .collect();
    let mut pending = HashMap::from([(table.to_string(), requests)]);
    let mut attempt = 0;
    while !pending.values().all(Vec::is_empty) {
        if attempt > MAX_RETRIES {
            return Err(ApiError::StoreUnavailable(
                "writes kept coming back unprocessed".into(),
            ));
        }
        if attempt > 0 {
            backoff(attempt).await;
        }
        let out = store
            .client
            .batch_write_item()
            .set_request_items(Some(pending))
            .send()
            .await
            .map_err(store_error)?;
        pending = out.unprocessed_items.unwrap_or_default();
        attempt += 1;
    }
    Ok(())
}
