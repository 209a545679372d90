//! The import of loans and pay dates from JSON Lines (one record a line). Every line is checked
//! (its fields, the pay-date arithmetic and state, that its loan or customer exists); rejected
//! lines are reported by number with the reason, the rest are written. Writes are keyed by the
//! record's own key, and a record already stored as given is not written again, so running a
//! file twice changes nothing. Loans go in transactions with their customer's `loanCount` and
//! version (`loan_writes`: the guard that DELETE relies on); pay dates go in transactions with
//! their days' counts (`paydates::counters`). A second line for the same record anywhere in the
//! file (chunks included) is rejected, naming the line of the first, which is the one written.

use crate::paydates;
use crate::records::{check_pay_date, Field, Record, LOAN_FIELDS, PAY_DATE_FIELDS};
use crate::store::Store;
use crate::ApiError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use std::collections::{HashMap, HashSet};
use std::io::BufRead;

/// Lines checked and written together. Only the keys of the lines seen so far are kept across
/// chunks (to refuse a second line for a record), not the lines.
pub const CHUNK: usize = 2000;
const BATCH_GET: usize = 100;

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
            writes.push((number, record));
        } else {
            let reason = match kind {
                Kind::Loans => format!("customer with giggleId {id} not found"),
                Kind::PayDates => format!("loan with loanId {id} not found"),
            };
            report.rejected.push((number, reason));
        }
    }
    match kind {
        // A customer deleted since the check above fails the loan's transaction: its lines come
        // back rejected.
        Kind::Loans => {
            let outcome = crate::loan_writes::write_loans(store, writes)
                .await
                .map_err(describe)?;
            report.written += outcome.written;
            report.rejected.extend(outcome.rejected);
        }
        // Pay dates move their days' counts: they are written with them, in transactions.
        Kind::PayDates => {
            let written = writes.len();
            paydates::write_pay_dates(store, writes.into_iter().map(|(_, r)| r).collect())
                .await
                .map_err(describe)?;
            report.written += written;
        }
    }
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
