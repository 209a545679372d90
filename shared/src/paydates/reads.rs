//! The pages, without a Scan: one loan's pay dates from the table's key; every loan's from an
//! index a day at a time (`byDate` for `sort=date`, `byDateAmount` for `sort=amount`), keyset
//! paged from the cursor, reading about the page's own rows and one more. The counts come from
//! the counters, not from the rows.

use super::counters::DayCounts;
use super::cursor;
use super::query::{bad, Dates, PayDateQuery, Position, RowKey, SortBy};
use super::{amount_key, AMOUNT_KEY, BY_DATE_AMOUNT_INDEX, BY_DATE_INDEX};
use crate::error::ApiError;
use crate::json;
use crate::records::{PayState, Record, PAY_DATE_FIELDS};
use crate::store::{query_items, store_error, Item, Next, Store};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Days read at once: the days a `sort=date` page spans, the first reads of a `sort=amount`
/// range.
const DAY_CONCURRENCY: usize = 16;
/// DynamoDB returns at most 1 MB a call whatever the limit; this only bounds the estimate.
const MAX_CALL_LIMIT: usize = 20_000;

#[derive(Serialize, Default, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub total_count: u64,
    pub num_paid: u64,
    pub num_partial: u64,
    pub num_open: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl Metadata {
    fn count(&mut self, state: PayState) {
        self.total_count += 1;
        match state {
            PayState::Paid => self.num_paid += 1,
            PayState::Partial => self.num_partial += 1,
            PayState::Open => self.num_open += 1,
        }
    }

    /// The counts of what the query's state filter lets through.
    fn from_counts(c: &DayCounts, query: &PayDateQuery) -> Metadata {
        let n = |s: PayState| if query.wants(s) { c.of(s) } else { 0 };
        let (num_paid, num_partial, num_open) =
            (n(PayState::Paid), n(PayState::Partial), n(PayState::Open));
        Metadata {
            total_count: num_paid + num_partial + num_open,
            num_paid,
            num_partial,
            num_open,
            next_cursor: None,
        }
    }
}

#[derive(Serialize)]
struct Batch<'a> {
    data: &'a [Record],
    metadata: &'a Metadata,
}

pub(crate) fn batch_body(data: &[Record], meta: &Metadata) -> String {
    json::to_body(&Batch {
        data,
        metadata: meta,
    })
}

fn loan_not_found(id: u64) -> ApiError {
    bad(format!("LoanId {id} not found."))
}

fn pay_date_from_item(item: &Item) -> Result<Record, ApiError> {
    Record::from_item(PAY_DATE_FIELDS, item)
        .map_err(|e| ApiError::Internal(format!("stored pay date: {e}")))
}

fn state_of(r: &Record) -> PayState {
    PayState::parse(r.text("state")).unwrap_or(PayState::Open)
}

impl Store {
    pub async fn loan_exists(&self, loan_id: u64) -> Result<bool, ApiError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.loans)
            .key("loanId", AttributeValue::N(loan_id.to_string()))
            .projection_expression("loanId")
            .send()
            .await
            .map_err(store_error)?;
        Ok(out.item.is_some())
    }

    /// One loan's pay dates in a range (or all of them), oldest first: a Query on the table key.
    async fn loan_pay_dates(&self, loan_id: u64, dates: Dates) -> Result<Vec<Record>, ApiError> {
        let q = self
            .client
            .query()
            .table_name(&self.tables.pay_dates)
            .expression_attribute_names("#l", "loanId")
            .expression_attribute_values(":l", AttributeValue::N(loan_id.to_string()));
        let q = match dates {
            Dates::All => q.key_condition_expression("#l = :l"),
            Dates::Day(d) => q
                .key_condition_expression("#l = :l AND #d = :a")
                .expression_attribute_names("#d", "date")
                .expression_attribute_values(":a", AttributeValue::S(d.to_string())),
            Dates::Range(a, b) => q
                .key_condition_expression("#l = :l AND #d BETWEEN :a AND :b")
                .expression_attribute_names("#d", "date")
                .expression_attribute_values(":a", AttributeValue::S(a.to_string()))
                .expression_attribute_values(":b", AttributeValue::S(b.to_string())),
        };
        let mut out = Vec::new();
        query_items(q, None, |item| {
            out.push(pay_date_from_item(item)?);
            Ok(Next::More)
        })
        .await?;
        Ok(out)
    }
}

/// GET /loans/{loanId}/paydates. A loan has a few hundred pay dates at most: they are read
/// whole, then filtered, sorted and paged in memory.
pub async fn for_loan(
    store: &Store,
    loan_id: u64,
    query: &PayDateQuery,
) -> Result<String, ApiError> {
    let (dates, after) = match query.cursor {
        Some(_) => query.resume(&*store.mac_key().await?)?,
        None => (query.dates, None),
    };
    if !store.loan_exists(loan_id).await? {
        return Err(loan_not_found(loan_id));
    }
    let mut records = store.loan_pay_dates(loan_id, dates).await?;
    if query.single_day {
        let Dates::Day(day) = query.dates else {
            unreachable!("date= is one day")
        };
        return match records.pop() {
            Some(r) => Ok(json::to_body(&r)),
            None => Err(bad(format!("LoanId {loan_id} has no pay date on {day}."))),
        };
    }
    records.retain(|r| query.wants(state_of(r)));
    let mut meta = Metadata::default();
    for r in &records {
        meta.count(state_of(r));
    }
    let mut keyed: Vec<(Position, Record)> = records
        .into_iter()
        .map(|r| (query.position(&RowKey::of(&r)), r))
        .collect();
    keyed.sort_by_key(|(p, _)| *p);
    let start = match after {
        None => 0,
        Some(a) => keyed.partition_point(|(p, _)| *p <= query.position(&a)),
    };
    let rest = &keyed[start..];
    let page: Vec<Record> = rest
        .iter()
        .take(query.limit)
        .map(|(_, r)| r.clone())
        .collect();
    if rest.len() > query.limit {
        let key = store.mac_key().await?;
        let last = RowKey::of(page.last().expect("limit is at least 1"));
        meta.next_cursor = Some(cursor::sign(&key, query, dates, &last));
    }
    Ok(batch_body(&page, &meta))
}

/// GET /paydates: the counts from the counters (a Query a month), then the page from the index.
pub async fn for_all_loans(store: &Store, query: &PayDateQuery) -> Result<String, ApiError> {
    let key = store.mac_key().await?;
    let (dates, after) = query.resume(&key)?;
    let counts = store.day_counts(dates).await?;
    let days: Vec<(NaiveDate, DayCounts)> = dates
        .days()
        .into_iter()
        .map(|d| (d, counts.get(&d).copied().unwrap_or_default()))
        .collect();
    let mut all = DayCounts::default();
    for (_, c) in &days {
        all.add(c);
    }
    let mut meta = Metadata::from_counts(&all, query);
    let need = query.limit + 1;
    let mut page = match query.sort {
        SortBy::Date => date_page(store, query, &days, after, need).await?,
        SortBy::Amount => amount_page(store, query, &days, after, need).await?,
    };
    if page.len() > query.limit {
        page.truncate(query.limit);
        let last = RowKey::of(page.last().expect("limit is at least 1"));
        meta.next_cursor = Some(cursor::sign(&key, query, dates, &last));
    }
    Ok(batch_body(&page, &meta))
}

/// One Query, read a call at a time: where it stands and whether it has ended.
struct Run {
    query: QueryFluentBuilder,
    next: Option<Item>,
    ended: bool,
}

impl Run {
    fn new(query: QueryFluentBuilder) -> Run {
        Run {
            query,
            next: None,
            ended: false,
        }
    }

    /// One call that evaluates at most `limit` items; the pay dates the filter let through.
    async fn call(&mut self, limit: usize) -> Result<Vec<Record>, ApiError> {
        let limit = limit.clamp(1, MAX_CALL_LIMIT) as i32;
        let out = self
            .query
            .clone()
            .limit(limit)
            .set_exclusive_start_key(self.next.take())
            .send()
            .await
            .map_err(store_error)?;
        self.next = out.last_evaluated_key;
        self.ended = self.next.is_none();
        out.items
            .unwrap_or_default()
            .iter()
            .map(pay_date_from_item)
            .collect()
    }
}

/// The state filter, when it leaves some state out.
fn filtered(query: &PayDateQuery) -> Option<Vec<PayState>> {
    query
        .states
        .as_ref()
        .filter(|s| s.len() < 3)
        .map(|s| s.iter().copied().collect())
}

/// How many items to evaluate to find `want` matches on a day with these counts: with a state
/// filter, in proportion to how many of the day's pay dates match (the counts say). One more
/// when `want` is all the day can give, so that the call also sees the end of the day.
fn evaluate_for(want: usize, counts: &DayCounts, query: &PayDateQuery) -> usize {
    let matching = counts.matching(query.states.as_ref()) as usize;
    let see_end = usize::from(want >= matching);
    match filtered(query) {
        Some(_) if matching > 0 => {
            let total = counts.total.max(1) as usize;
            (want * total).div_ceil(matching) + see_end
        }
        _ => want + see_end,
    }
}

/// A Query of one day on an index, with the state filter.
fn day_query(
    store: &Store,
    query: &PayDateQuery,
    index: &str,
    day: NaiveDate,
) -> QueryFluentBuilder {
    let mut q = store
        .client
        .query()
        .table_name(&store.tables.pay_dates)
        .index_name(index)
        .expression_attribute_names("#d", "date")
        .expression_attribute_values(":d", AttributeValue::S(day.to_string()));
    if let Some(states) = filtered(query) {
        let mut names = Vec::new();
        for (i, s) in states.iter().enumerate() {
            q = q.expression_attribute_values(
                format!(":s{i}"),
                AttributeValue::S(s.as_str().into()),
            );
            names.push(format!(":s{i}"));
        }
        q = q
            .filter_expression(format!("#s IN ({})", names.join(", ")))
            .expression_attribute_names("#s", "state");
    }
    q
}

/// `sort=date`: days in the asked order, loans ascending within a day (the `byDate` index's
/// own order). The counters say how many rows each day gives, so the days a page spans are
/// known before it is read, and read at once.
async fn date_page(
    store: &Store,
    query: &PayDateQuery,
    days: &[(NaiveDate, DayCounts)],
    after: Option<RowKey>,
    need: usize,
) -> Result<Vec<Record>, ApiError> {
    let mut order: Vec<(NaiveDate, DayCounts)> = days.to_vec();
    if query.descending {
        order.reverse();
    }
    if let Some(a) = after {
        order.retain(|(d, _)| {
            if query.descending {
                *d <= a.date
            } else {
                *d >= a.date
            }
        });
    }
    let mut resume = after;
    let mut out: Vec<Record> = Vec::with_capacity(need);
    let mut next_day = 0;
    while out.len() < need && next_day < order.len() {
        // The next days, each taking what it holds, until the page is full.
        let mut batch = Vec::new();
        let mut budget = need - out.len();
        let mut j = next_day;
        while j < order.len() && budget > 0 && batch.len() < DAY_CONCURRENCY {
            let (day, counts) = order[j];
            let matching = counts.matching(query.states.as_ref()) as usize;
            if matching > 0 {
                let take = matching.min(budget);
                let after_loan = resume.filter(|r| r.date == day).map(|r| r.loan_id);
                batch.push((j, day, counts, take, after_loan));
                budget -= take;
            }
            j += 1;
        }
        next_day = j;
        if batch.is_empty() {
            break;
        }
        let reads = futures::future::try_join_all(batch.iter().map(
            |(_, day, counts, take, after_loan)| {
                read_day(store, query, *day, counts, *after_loan, *take)
            },
        ))
        .await?;
        for ((j, ..), (rows, ended)) in batch.iter().zip(reads) {
            out.extend(rows);
            if !ended {
                // This day holds more than its counts said (or the page is full): the rows read
                // from later days do not follow on; the walk goes on in this day.
                resume = out.last().map(RowKey::of);
                next_day = *j;
                break;
            }
        }
    }
    Ok(out)
}

/// Up to `take` of a day's wanted pay dates from `byDate`, after a loan if given; and whether
/// the day has no more.
async fn read_day(
    store: &Store,
    query: &PayDateQuery,
    day: NaiveDate,
    counts: &DayCounts,
    after_loan: Option<u64>,
    take: usize,
) -> Result<(Vec<Record>, bool), ApiError> {
    let q = day_query(store, query, BY_DATE_INDEX, day);
    let q = match after_loan {
        None => q.key_condition_expression("#d = :d"),
        Some(l) => q
            .key_condition_expression("#d = :d AND #l > :l")
            .expression_attribute_names("#l", "loanId")
            .expression_attribute_values(":l", AttributeValue::N(l.to_string())),
    };
    let mut run = Run::new(q);
    let mut rows = Vec::with_capacity(take);
    while rows.len() < take && !run.ended {
        let limit = evaluate_for(take - rows.len(), counts, query);
        rows.extend(run.call(limit).await?);
    }
    Ok((rows, run.ended))
}

/// `sort=amount`: each day's rows come from `byDateAmount` in amount order (its key is the
/// amount in cents, then the loanId), and a range merges its days. Each day is read a little
/// at a time, so no page holds more than its own rows and a few more per day.
async fn amount_page(
    store: &Store,
    query: &PayDateQuery,
    days: &[(NaiveDate, DayCounts)],
    after: Option<RowKey>,
    need: usize,
) -> Result<Vec<Record>, ApiError> {
    let after_pos = after.map(|a| query.position(&a));
    let mut streams: Vec<AmountStream> = days
        .iter()
        .filter(|(_, c)| c.matching(query.states.as_ref()) > 0)
        .map(|(day, counts)| AmountStream::new(store, query, *day, *counts, after, after_pos))
        .collect();
    let all: u64 = streams.iter().map(|s| s.matching()).sum();
    // Each day first reads its share of the page (and one more), at once.
    // Collected (and boxed) before the await: a closure held across it trips the compiler's
    // higher-ranked `Send` check once the handler's future is itself wrapped (edge::serve).
    let fills: Vec<futures::future::BoxFuture<'_, Result<(), ApiError>>> = streams
        .iter_mut()
        .map(|s| {
            let share = ((need as u64 * s.matching()).div_ceil(all.max(1)) as usize + 1).min(need);
            futures::FutureExt::boxed(s.fill(share))
        })
        .collect();
    futures::stream::iter(fills)
        .buffer_unordered(DAY_CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    let mut heads: BinaryHeap<Reverse<(Position, usize)>> = streams
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.rows.front().map(|(p, _)| Reverse((*p, i))))
        .collect();
    let mut out = Vec::with_capacity(need);
    while out.len() < need {
        let Some(Reverse((_, i))) = heads.pop() else {
            break;
        };
        let s = &mut streams[i];
        let (_, row) = s.rows.pop_front().expect("a stream in the heap has a row");
        out.push(row);
        if s.rows.is_empty() && out.len() < need {
            let more = (s.last_fill * 2).min(need - out.len());
            s.fill(more).await?;
        }
        if let Some((p, _)) = s.rows.front() {
            heads.push(Reverse((*p, i)));
        }
    }
    Ok(out)
}

/// One day's wanted rows in the query's amount order, read a little at a time.
///
/// Ascending is the index's own order. Descending keeps ties by `loanId` ascending, which the
/// index read backwards does not give: rows are read backwards, and each amount whose rows are
/// all in is handed out in ascending loanId order; the last amount of a read, which may go on,
/// is read forwards from its first loan instead. So no read holds a whole day, however many
/// pay dates share one amount.
struct AmountStream<'a> {
    store: &'a Store,
    query: &'a PayDateQuery,
    day: NaiveDate,
    counts: DayCounts,
    after: Option<Position>,
    rows: VecDeque<(Position, Record)>,
    last_fill: usize,
    read: Reading,
}

enum Reading {
    /// Ascending: one run forwards.
    Up(Run),
    /// Descending: the rows of one amount, forwards, then those below it.
    Group(u64, Run),
    /// Descending: backwards from the top, or from below an amount.
    Down(Run),
    Done,
}

fn group_start(cents: u64) -> String {
    // The amount's keys all start with this, and every key of a lower amount sorts before it.
    format!("{}#", &amount_key(cents, 0)[..15])
}

impl<'a> AmountStream<'a> {
    fn new(
        store: &'a Store,
        query: &'a PayDateQuery,
        day: NaiveDate,
        counts: DayCounts,
        after: Option<RowKey>,
        after_pos: Option<Position>,
    ) -> Self {
        let base = || day_query(store, query, BY_DATE_AMOUNT_INDEX, day);
        let read = match (query.descending, after) {
            (false, None) => Reading::Up(Run::new(base().key_condition_expression("#d = :d"))),
            // From the cursor's amount and loan on; the cursor's own row (if on this day) is
            // dropped by its position.
            (false, Some(a)) => Reading::Up(Run::new(
                base()
                    .key_condition_expression("#d = :d AND #a >= :a")
                    .expression_attribute_names("#a", AMOUNT_KEY)
                    .expression_attribute_values(
                        ":a",
                        AttributeValue::S(amount_key(a.cents, a.loan_id)),
                    ),
            )),
            (true, None) => Reading::Down(Run::new(
                base()
                    .key_condition_expression("#d = :d")
                    .scan_index_forward(false),
            )),
            (true, Some(a)) => {
                Reading::Group(a.cents, Self::group(store, query, day, a.cents, a.loan_id))
            }
        };
        AmountStream {
            store,
            query,
            day,
            counts,
            after: after_pos,
            rows: VecDeque::new(),
            last_fill: 0,
            read,
        }
    }

    fn matching(&self) -> u64 {
        self.counts.matching(self.query.states.as_ref())
    }

    /// The rows of one amount from a loan on, forwards.
    fn group(
        store: &Store,
        query: &PayDateQuery,
        day: NaiveDate,
        cents: u64,
        from_loan: u64,
    ) -> Run {
        Run::new(
            day_query(store, query, BY_DATE_AMOUNT_INDEX, day)
                .expression_attribute_names("#a", AMOUNT_KEY)
                .key_condition_expression("#d = :d AND #a BETWEEN :a AND :b")
                .expression_attribute_values(":a", AttributeValue::S(amount_key(cents, from_loan)))
                .expression_attribute_values(
                    ":b",
                    AttributeValue::S(format!("{}~", group_start(cents))),
                ),
        )
    }

    /// The rows below an amount, backwards.
    fn below(&self, cents: u64) -> Run {
        Run::new(
            day_query(self.store, self.query, BY_DATE_AMOUNT_INDEX, self.day)
                .expression_attribute_names("#a", AMOUNT_KEY)
                .key_condition_expression("#d = :d AND #a < :a")
                .expression_attribute_values(":a", AttributeValue::S(group_start(cents)))
                .scan_index_forward(false),
        )
    }

    fn push(&mut self, rows: impl IntoIterator<Item = Record>) {
        for r in rows {
            let p = self.query.position(&RowKey::of(&r));
            if self.after.is_none_or(|a| p > a) {
                self.rows.push_back((p, r));
            }
        }
    }

    /// Reads until at least one row is waiting, or the day has no more; about `want` rows.
    async fn fill(&mut self, want: usize) -> Result<(), ApiError> {
        self.last_fill = want.max(1);
        let limit = evaluate_for(want.max(1), &self.counts, self.query);
        while self.rows.is_empty() {
            match std::mem::replace(&mut self.read, Reading::Done) {
                Reading::Done => return Ok(()),
                Reading::Up(mut run) => {
                    let rows = run.call(limit).await?;
                    self.push(rows);
                    if !run.ended {
                        self.read = Reading::Up(run);
                    }
                }
                Reading::Group(cents, mut run) => {
                    let rows = run.call(limit).await?;
                    self.push(rows);
                    self.read = if run.ended {
                        Reading::Down(self.below(cents))
                    } else {
                        Reading::Group(cents, run)
                    };
                }
                Reading::Down(mut run) => {
                    let rows = run.call(limit).await?;
                    // Amounts descending, loans descending within one.
                    let mut groups: Vec<Vec<Record>> = Vec::new();
                    for r in rows {
                        let c = RowKey::of(&r).cents;
                        match groups.last_mut() {
                            Some(g) if RowKey::of(&g[0]).cents == c => g.push(r),
                            _ => groups.push(vec![r]),
                        }
                    }
                    if run.ended {
                        for g in groups {
                            self.push(g.into_iter().rev());
                        }
                    } else {
                        self.read = Reading::Down(run);
                        if let Some(last) = groups.pop() {
                            // The last amount may go on below what was read: read it forwards.
                            let cents = RowKey::of(&last[0]).cents;
                            self.read = Reading::Group(
                                cents,
                                Self::group(self.store, self.query, self.day, cents, 0),
                            );
                        }
                        for g in groups {
                            self.push(g.into_iter().rev());
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod size {
    use super::*;

    /// The largest page the API can answer (5000 pay dates, every number at its widest) stays
    /// well under Lambda's 6 MB response limit.
    #[test]
    fn the_largest_page_fits_in_a_lambda_response() {
        let widest = r#"{"id": 9007199254740991, "state": "partial", "date": "2024-05-16", "amount": 9999999999999.99, "amountOwed": 9999999999999.98, "amountPaid": 0.01, "startingCapital": 9999999999999.99, "endingCapital": 9999999999999.99, "loanBalance": 9999999999999.99, "loanId": 9007199254740991}"#;
        let r = Record::from_json_line(PAY_DATE_FIELDS, widest).unwrap();
        let page = vec![r; super::super::MAX_LIMIT];
        let meta = Metadata {
            total_count: u64::MAX,
            num_paid: u64::MAX,
            num_partial: u64::MAX,
            num_open: u64::MAX,
            next_cursor: Some("x".repeat(600)),
        };
        let body = batch_body(&page, &meta);
        assert!(body.len() < 6_000_000 * 3 / 4, "{} bytes", body.len());
    }
}
