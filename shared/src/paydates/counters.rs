//! The counts of each day's pay dates: a total and one count per state, kept exact by the one
//! write of pay dates there is ([`write_pay_dates`]), so that `metadata` is a few small reads
//! whatever the day holds.
//!
//! How they stay exact: a pay date is written in a transaction (TransactWriteItems) with the
//! change it makes to its day's counts, and its put is conditioned on what the counts were
//! computed from (the pay date absent, or present with the state that was read). If another
//! writer got there in between, the condition fails, the whole transaction is cancelled, and
//! the write reads again and retries. A re-import that changes a state moves one count to the
//! other; two imports at once cannot both count the same change.
//!
//! Where they live: their own table, `month` / `dayShard` (`2024-05`, `2024-05-16#3`). A day's
//! counts are split over [`SHARDS`] items by `loanId`, so that concurrent writers of one day
//! seldom touch the same item (transactions on one item conflict), and the counts of a range
//! are one Query a month.

use super::query::Dates;
use super::{amount_key, AMOUNT_KEY};
use crate::error::ApiError;
use crate::records::{PayState, Record};
use crate::store::{query_items, store_error, Item, Next, Store};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use chrono::{Datelike, NaiveDate};
use futures::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

/// The items a day's counts are split over. Fixed: changing it means rebuilding the counts.
pub const SHARDS: u64 = 4;
/// Pay dates in one transaction: 99 puts and their counter update (DynamoDB's limit is 100).
const PER_TRANSACTION: usize = 99;
/// Counter items written at once by one import (each by one transaction at a time).
const CONCURRENCY: usize = 8;
const MAX_ATTEMPTS: u32 = 40;

const MONTH: &str = "month";
const DAY_SHARD: &str = "dayShard";
const STATE_COUNTS: [(PayState, &str); 3] = [
    (PayState::Paid, "paid"),
    (PayState::Partial, "partial"),
    (PayState::Open, "open"),
];
const TOTAL: &str = "total";

/// The pay dates of a day (or the sum of several), by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub total: i64,
    pub paid: i64,
    pub partial: i64,
    pub open: i64,
}

impl DayCounts {
    fn state_mut(&mut self, state: PayState) -> &mut i64 {
        match state {
            PayState::Paid => &mut self.paid,
            PayState::Partial => &mut self.partial,
            PayState::Open => &mut self.open,
        }
    }

    fn signed(&self, state: PayState) -> i64 {
        match state {
            PayState::Paid => self.paid,
            PayState::Partial => self.partial,
            PayState::Open => self.open,
        }
    }

    /// The count of one state (never below zero, whatever a stray write did).
    pub fn of(&self, state: PayState) -> u64 {
        self.signed(state).max(0) as u64
    }

    fn change(&mut self, state: PayState, by: i64) {
        *self.state_mut(state) += by;
        self.total += by;
    }

    pub fn add(&mut self, other: &DayCounts) {
        self.total += other.total;
        self.paid += other.paid;
        self.partial += other.partial;
        self.open += other.open;
    }

    /// How many pay dates the state filter (`None`: every state) lets through.
    pub fn matching(&self, states: Option<&BTreeSet<PayState>>) -> u64 {
        match states {
            None => self.total.max(0) as u64,
            Some(s) => s.iter().map(|st| self.of(*st)).sum(),
        }
    }

    fn is_zero(&self) -> bool {
        *self == DayCounts::default()
    }
}

fn month(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

fn shard_of(loan_id: u64) -> u64 {
    loan_id % SHARDS
}

fn counter_key(day: NaiveDate, shard: u64) -> Item {
    HashMap::from([
        (MONTH.to_string(), AttributeValue::S(month(day))),
        (
            DAY_SHARD.to_string(),
            AttributeValue::S(format!("{day}#{shard}")),
        ),
    ])
}

fn number(item: &Item, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    }
}

impl Store {
    /// Every day's counts from `first` to `last`: one Query a month, the months at once. Days
    /// without pay dates are absent.
    pub async fn day_counts(
        &self,
        dates: Dates,
    ) -> Result<BTreeMap<NaiveDate, DayCounts>, ApiError> {
        let Some((first, last)) = dates.bounds() else {
            return Ok(BTreeMap::new());
        };
        let mut months = Vec::new();
        let mut start = first;
        while start <= last {
            let next_month = if start.month() == 12 {
                NaiveDate::from_ymd_opt(start.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1)
            }
            .expect("the first of a month exists");
            let end = last.min(next_month.pred_opt().expect("a day before the first"));
            months.push((start, end));
            start = next_month;
        }
        let per_month =
            futures::future::try_join_all(months.into_iter().map(|(a, b)| async move {
                let q = self
                    .client
                    .query()
                    .table_name(&self.tables.pay_date_counts)
                    .key_condition_expression("#m = :m AND #k BETWEEN :a AND :b")
                    .expression_attribute_names("#m", MONTH)
                    .expression_attribute_names("#k", DAY_SHARD)
                    .expression_attribute_values(":m", AttributeValue::S(month(a)))
                    // '#' sorts before the shard digits, '~' after them.
                    .expression_attribute_values(":a", AttributeValue::S(format!("{a}#")))
                    .expression_attribute_values(":b", AttributeValue::S(format!("{b}#~")));
                let mut days: Vec<(NaiveDate, DayCounts)> = Vec::new();
                query_items(q, None, |item| {
                    let day = match item.get(DAY_SHARD) {
                        Some(AttributeValue::S(s)) => s
                            .split_once('#')
                            .and_then(|(d, _)| crate::validate::parse_date(d)),
                        _ => None,
                    };
                    let day =
                        day.ok_or_else(|| ApiError::Internal("a counter without a day".into()))?;
                    let mut c = DayCounts {
                        total: number(item, TOTAL),
                        ..DayCounts::default()
                    };
                    for (state, name) in STATE_COUNTS {
                        *c.state_mut(state) = number(item, name);
                    }
                    days.push((day, c));
                    Ok(Next::More)
                })
                .await?;
                Ok::<_, ApiError>(days)
            }))
            .await?;
        let mut out: BTreeMap<NaiveDate, DayCounts> = BTreeMap::new();
        for (day, c) in per_month.into_iter().flatten() {
            out.entry(day).or_default().add(&c);
        }
        Ok(out)
    }
}

/// A pay date as stored: its fields, and its key in the amount index. An item that has
/// `amountKey` is one the counts include: both are written by the same transaction (items
/// written before the counts existed have neither, and are counted when next written).
pub(crate) fn stored_item(r: &Record) -> Item {
    let mut item = r.to_item();
    item.insert(
        AMOUNT_KEY.to_string(),
        AttributeValue::S(amount_key(
            super::query::cents(r.money("amount")),
            r.int("loanId"),
        )),
    );
    item
}

type PayDateKey = (u64, String);

fn pay_date_key(loan_id: u64, date: &str) -> Item {
    HashMap::from([
        ("loanId".to_string(), AttributeValue::N(loan_id.to_string())),
        ("date".to_string(), AttributeValue::S(date.to_string())),
    ])
}

fn key_of(item: &Item) -> Option<PayDateKey> {
    match (item.get("loanId"), item.get("date")) {
        (Some(AttributeValue::N(l)), Some(AttributeValue::S(d))) => {
            Some((l.parse().ok()?, d.clone()))
        }
        _ => None,
    }
}

fn state_of(item: &Item) -> Option<PayState> {
    match item.get("state") {
        Some(AttributeValue::S(s)) => PayState::parse(s),
        _ => None,
    }
}

/// Writes pay dates (checked records) and keeps their days' counts exact. Pay dates that are
/// stored already exactly as given are not written again. The records must have distinct keys.
pub async fn write_pay_dates(store: &Store, records: Vec<Record>) -> Result<(), ApiError> {
    // One counter item, one writer at a time within this call; different items at once.
    let mut by_counter: BTreeMap<(String, u64), Vec<Record>> = BTreeMap::new();
    for r in records {
        let key = (r.text("date").to_string(), shard_of(r.int("loanId")));
        by_counter.entry(key).or_default().push(r);
    }
    futures::stream::iter(by_counter.into_values().map(|group| async move {
        for chunk in group.chunks(PER_TRANSACTION) {
            write_chunk(store, chunk).await?;
        }
        Ok::<(), ApiError>(())
    }))
    .buffer_unordered(CONCURRENCY)
    .try_collect::<Vec<()>>()
    .await?;
    Ok(())
}

/// Pay dates of one day and one counter shard: read what is stored, write what changed with
/// the change to the counts, in one transaction; read again and retry if anything moved.
async fn write_chunk(store: &Store, chunk: &[Record]) -> Result<(), ApiError> {
    let Some(first) = chunk.first() else {
        return Ok(());
    };
    let day = crate::validate::parse_date(first.text("date"))
        .ok_or_else(|| ApiError::Internal("a pay date without a date".into()))?;
    let counter = counter_key(day, shard_of(first.int("loanId")));
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            backoff(attempt).await;
        }
        let current = stored_now(store, chunk).await?;
        let mut actions = Vec::with_capacity(chunk.len() + 1);
        let mut delta = DayCounts::default();
        for r in chunk {
            let new = stored_item(r);
            let old = current.get(&(r.int("loanId"), r.text("date").to_string()));
            if old == Some(&new) {
                continue;
            }
            let new_state = state_of(&new)
                .ok_or_else(|| ApiError::Internal("a pay date without a state".into()))?;
            let mut put = Put::builder()
                .table_name(&store.tables.pay_dates)
                .set_item(Some(new));
            put = match old {
                None => put.condition_expression("attribute_not_exists(loanId)"),
                Some(old) if old.contains_key(AMOUNT_KEY) => {
                    let old_state = state_of(old).ok_or_else(|| {
                        ApiError::Internal("a stored pay date without a state".into())
                    })?;
                    delta.change(old_state, -1);
                    put.condition_expression("#s = :s AND attribute_exists(#k)")
                        .expression_attribute_names("#s", "state")
                        .expression_attribute_names("#k", AMOUNT_KEY)
                        .expression_attribute_values(
                            ":s",
                            AttributeValue::S(old_state.as_str().into()),
                        )
                }
                Some(_) => put
                    .condition_expression("attribute_exists(loanId) AND attribute_not_exists(#k)")
                    .expression_attribute_names("#k", AMOUNT_KEY),
            };
            delta.change(new_state, 1);
            let put = put
                .build()
                .map_err(|e| ApiError::Internal(format!("pay date put: {e}")))?;
            actions.push(TransactWriteItem::builder().put(put).build());
        }
        if actions.is_empty() {
            return Ok(());
        }
        if !delta.is_zero() {
            actions.push(counter_update(store, &counter, &delta)?);
        }
        let result = store
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await;
        match result {
            Ok(_) => return Ok(()),
            Err(e) => match e.as_service_error() {
                // A condition failed (someone wrote one of these pay dates since the read), or
                // another transaction held an item: read again and retry.
                Some(TransactWriteItemsError::TransactionCanceledException(c))
                    if !c
                        .cancellation_reasons()
                        .iter()
                        .any(|r| r.code() == Some("ValidationError")) => {}
                Some(TransactWriteItemsError::TransactionInProgressException(_)) => {}
                _ => return Err(store_error(e)),
            },
        }
    }
    Err(ApiError::StoreUnavailable(format!(
        "pay dates of {day} kept conflicting with other writes ({MAX_ATTEMPTS} tries)"
    )))
}

fn counter_update(
    store: &Store,
    key: &Item,
    delta: &DayCounts,
) -> Result<TransactWriteItem, ApiError> {
    let mut parts = Vec::new();
    let mut update = Update::builder()
        .table_name(&store.tables.pay_date_counts)
        .set_key(Some(key.clone()));
    let changes = [(TOTAL, delta.total)].into_iter().chain(
        STATE_COUNTS
            .iter()
            .map(|(s, name)| (*name, delta.signed(*s))),
    );
    for (name, by) in changes {
        if by != 0 {
            parts.push(format!("#{name} :{name}"));
            update = update
                .expression_attribute_names(format!("#{name}"), name)
                .expression_attribute_values(format!(":{name}"), AttributeValue::N(by.to_string()));
        }
    }
    let update = update
        .update_expression(format!("ADD {}", parts.join(", ")))
        .build()
        .map_err(|e| ApiError::Internal(format!("counter update: {e}")))?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// The stored items of these pay dates (strongly consistent), by key.
async fn stored_now(
    store: &Store,
    chunk: &[Record],
) -> Result<HashMap<PayDateKey, Item>, ApiError> {
    let keys: Vec<Item> = chunk
        .iter()
        .map(|r| pay_date_key(r.int("loanId"), r.text("date")))
        .collect();
    let request = KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .consistent_read(true)
        .build()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut found = HashMap::new();
    crate::store::batch_get(store, &store.tables.pay_dates, request, |item| {
        if let Some(k) = key_of(&item) {
            found.insert(k, item);
        }
    })
    .await?;
    Ok(found)
}

/// A random wait that grows with the attempt (up to about a second), so that writers that
/// collided do not collide again.
async fn backoff(attempt: u32) {
    let ceiling = 10u64.saturating_mul(1 << attempt.min(7)).min(1000);
    let mut bytes = [0u8; 8];
    let random = getrandom::getrandom(&mut bytes)
        .map(|_| u64::from_le_bytes(bytes))
        .unwrap_or(ceiling / 2);
    tokio::time::sleep(Duration::from_millis(
        ceiling / 2 + random % (ceiling / 2 + 1),
    ))
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_change_moves_one_count_to_the_other() {
        let mut d = DayCounts::default();
        d.change(PayState::Open, 1);
        d.change(PayState::Open, -1);
        d.change(PayState::Paid, 1);
        assert_eq!(
            d,
            DayCounts {
                total: 1,
                paid: 1,
                partial: 0,
                open: 0
            }
        );
        let states: BTreeSet<PayState> = [PayState::Open, PayState::Partial].into();
        assert_eq!(d.matching(Some(&states)), 0);
        assert_eq!(d.matching(None), 1);
    }

    #[test]
    fn counter_keys_sort_by_day_within_their_month() {
        let day = |s| crate::validate::parse_date(s).unwrap();
        assert_eq!(month(day("2024-05-16")), "2024-05");
        let k = counter_key(day("2024-05-16"), 3);
        assert_eq!(k[DAY_SHARD], AttributeValue::S("2024-05-16#3".into()));
        // Every shard of a day lies between "day#" and "day#~".
        assert!("2024-05-16#" < "2024-05-16#0" && "2024-05-16#3" < "2024-05-16#~");
    }
}
