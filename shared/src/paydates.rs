//! Reading pay dates: the query parameters of both routes, the opaque cursor, and the queries,
//! all without a Scan (one loan: the table's key; every loan: the `byDate` index, a day at a
//! time).

use crate::error::ApiError;
use crate::json;
use crate::records::{PayState, Record, PAY_DATE_FIELDS};
use crate::store::{query_items, store_error, Next, Store};
use crate::validate;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

pub const DEFAULT_LIMIT: usize = 1000;
pub const MAX_LIMIT: usize = 5000;
/// The longest range, in days, both ends included.
pub const MAX_RANGE_DAYS: i64 = 366;
/// Sorting by amount needs every match in memory; past this many, the caller narrows the query.
pub const MAX_SORTED_IN_MEMORY: usize = 200_000;
pub const BY_DATE_INDEX: &str = "byDate";
/// How many days of a range are counted at once.
const COUNT_CONCURRENCY: usize = 16;

/// Which pay dates: one day, a range of days, or (one loan only) all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dates {
    Day(NaiveDate),
    Range(NaiveDate, NaiveDate),
    All,
}

impl Dates {
    fn days(self) -> Vec<NaiveDate> {
        match self {
            Dates::Day(d) => vec![d],
            Dates::Range(a, b) => a.iter_days().take_while(|d| *d <= b).collect(),
            Dates::All => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortBy {
    Date,
    Amount,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayDateQuery {
    pub dates: Dates,
    /// `date=` was given: one loan's route answers a single object.
    pub single_day: bool,
    pub states: Option<BTreeSet<PayState>>,
    pub sort: SortBy,
    pub descending: bool,
    pub limit: usize,
    /// The query as the caller wrote it, for the cursor's check that it belongs to this query.
    fingerprint: String,
    cursor: Option<Cursor>,
}

/// The two routes accept the same parameters; only the loan's takes no date at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    OneLoan(u64),
    AllLoans,
}

fn time_zones() -> &'static HashMap<String, Tz> {
    static ZONES: OnceLock<HashMap<String, Tz>> = OnceLock::new();
    ZONES.get_or_init(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| (zone_key(tz.name()), *tz))
            .collect()
    })
}

/// Zones are matched ignoring case and underscores, so the seeds' `America/NewYork` is
/// `America/New_York`.
fn zone_key(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

pub fn time_zone(name: &str) -> Option<Tz> {
    time_zones().get(&zone_key(name.trim())).copied()
}

fn bad(message: String) -> ApiError {
    ApiError::BadRequest(message)
}

fn parse_day(param: &str, value: &str) -> Result<NaiveDate, ApiError> {
    validate::parse_date(value).ok_or_else(|| {
        bad(format!(
            "Invalid '{param}': must be a real date written YYYY-MM-DD."
        ))
    })
}

const PARAMETERS: [&str; 9] = [
    "date",
    "timezone",
    "start_date",
    "end_date",
    "state",
    "sort",
    "order",
    "limit",
    "cursor",
];

impl PayDateQuery {
    /// Reads the query parameters. `today` resolves `date=today` in a zone.
    pub fn parse(
        pairs: &[(String, String)],
        route: Route,
        today: impl Fn(Tz) -> NaiveDate,
    ) -> Result<PayDateQuery, ApiError> {
        let mut seen: HashMap<&str, Vec<&str>> = HashMap::new();
        for (k, v) in pairs {
            match PARAMETERS.iter().find(|p| **p == k.as_str()) {
                Some(p) => seen.entry(p).or_default().push(v.as_str()),
                None => return Err(bad(format!("Unknown query parameter '{k}'."))),
            }
        }
        let one = |name: &str| -> Result<Option<&str>, ApiError> {
            match seen.get(name).map(Vec::as_slice) {
                None => Ok(None),
                Some([v]) => Ok(Some(*v)),
                Some(_) => Err(bad(format!("Invalid '{name}': give it once."))),
            }
        };
        let tz = match one("timezone")? {
            None => crate::time::DEFAULT_TIME_ZONE,
            Some(name) => time_zone(name).ok_or_else(|| {
                bad("Invalid 'timezone': not a known IANA time zone (e.g. America/Chicago).".into())
            })?,
        };
        let (date, start, end) = (one("date")?, one("start_date")?, one("end_date")?);
        let (dates, single_day, as_written) = match (date, start, end) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(bad("Invalid 'date': give either 'date' or 'start_date' and 'end_date', not both.".into()))
            }
            (Some(d), None, None) => {
                let day = if d.eq_ignore_ascii_case("today") { today(tz) } else { parse_day("date", d)? };
                let written = if d.eq_ignore_ascii_case("today") { format!("today@{}", tz.name()) } else { d.to_string() };
                (Dates::Day(day), true, written)
            }
            (None, Some(_), None) => return Err(bad("Invalid 'start_date': 'end_date' is required with it.".into())),
            (None, None, Some(_)) => return Err(bad("Invalid 'end_date': 'start_date' is required with it.".into())),
            (None, Some(s), Some(e)) => {
                let (a, b) = (parse_day("start_date", s)?, parse_day("end_date", e)?);
                if a > b {
                    return Err(bad("Invalid 'start_date': it is after 'end_date'.".into()));
                }
                if (b - a).num_days() + 1 > MAX_RANGE_DAYS {
                    return Err(bad(format!("Invalid 'end_date': a range covers at most {MAX_RANGE_DAYS} days.")));
                }
                (Dates::Range(a, b), false, format!("{a}..{b}"))
            }
            (None, None, None) => match route {
                Route::OneLoan(_) => (Dates::All, false, "all".to_string()),
                Route::AllLoans => {
                    return Err(bad("Invalid 'date': give 'date' (YYYY-MM-DD or today) or 'start_date' and 'end_date'.".into()))
                }
            },
        };
        let states = match seen.get("state") {
            None => None,
            Some(values) => {
                let mut set = BTreeSet::new();
                for v in values.iter().flat_map(|v| v.split(',')) {
                    set.insert(PayState::parse(v.trim()).ok_or_else(|| {
                        bad("Invalid 'state': must be 'paid', 'partial' or 'open' (repeat it or separate with commas).".into())
                    })?);
                }
                Some(set)
            }
        };
        let sort = match one("sort")? {
            None | Some("date") => SortBy::Date,
            Some("amount") => SortBy::Amount,
            Some(_) => return Err(bad("Invalid 'sort': must be 'date' or 'amount'.".into())),
        };
        let descending = match one("order")? {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(bad("Invalid 'order': must be 'asc' or 'desc'.".into())),
        };
        let limit = match one("limit")? {
            None => DEFAULT_LIMIT,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) && v.bytes().all(|c| c.is_ascii_digit()) => n,
                _ => {
                    return Err(bad(format!(
                        "Invalid 'limit': must be an integer from 1 to {MAX_LIMIT}."
                    )))
                }
            },
        };
        if single_day && matches!(route, Route::OneLoan(_)) {
            // One loan has one pay date a day: the answer is that object, nothing to filter,
            // sort or page.
            if let Some(p) = ["state", "sort", "order", "limit", "cursor"]
                .into_iter()
                .find(|p| seen.contains_key(p))
            {
                return Err(bad(format!(
                    "Invalid '{p}': one loan's pay date for one 'date' is a single object; '{p}' applies to ranges."
                )));
            }
        }
        let route_key = match route {
            Route::OneLoan(id) => format!("loan:{id}"),
            Route::AllLoans => "all".into(),
        };
        let state_key: Vec<&str> = states.iter().flatten().map(|s| s.as_str()).collect();
        let fingerprint = format!(
            "{route_key}|{as_written}|{}|{sort:?}|{descending}",
            state_key.join(",")
        );
        let mut query = PayDateQuery {
            dates,
            single_day,
            states,
            sort,
            descending,
            limit,
            fingerprint,
            cursor: None,
        };
        if let Some(c) = one("cursor")? {
            let cursor = Cursor::decode(c, &query.fingerprint)?;
            // A cursor pins the days its first page resolved (date=today stays that day).
            query.dates = cursor.dates.into();
            query.cursor = Some(cursor);
        }
        Ok(query)
    }

    fn wants(&self, state: PayState) -> bool {
        self.states.as_ref().is_none_or(|s| s.contains(&state))
    }

    fn sort_key(&self, r: &Record) -> SortKey {
        let primary = match self.sort {
            SortBy::Date => Primary::Date(r.text("date").to_string()),
            SortBy::Amount => Primary::Amount(r.money("amount").to_2dp()),
        };
        SortKey {
            primary,
            loan_id: r.int("loanId"),
            id: r.int("id"),
        }
    }

    /// The order of the answer: the sort field in the asked order, ties by loanId then id,
    /// always ascending, so that the order is total and stable.
    fn compare(&self, a: &SortKey, b: &SortKey) -> Ordering {
        let primary = a.primary.cmp(&b.primary);
        let primary = if self.descending {
            primary.reverse()
        } else {
            primary
        };
        primary
            .then(a.loan_id.cmp(&b.loan_id))
            .then(a.id.cmp(&b.id))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Primary {
    Date(String),
    /// Compared as a decimal, not as text.
    Amount(String),
}

impl PartialOrd for Primary {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Primary {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Primary::Date(a), Primary::Date(b)) => a.cmp(b),
            (Primary::Amount(a), Primary::Amount(b)) => {
                let p = |s: &str| crate::money::Money::parse(s).unwrap_or_default();
                p(a).cmp(&p(b))
            }
            (Primary::Date(_), Primary::Amount(_)) => Ordering::Less,
            (Primary::Amount(_), Primary::Date(_)) => Ordering::Greater,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SortKey {
    primary: Primary,
    loan_id: u64,
    id: u64,
}

/// Where the next page starts: after this key, in this query. Opaque to the caller, checked on
/// the way back in (a cursor that was altered, or that belongs to another query, is a 400).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    after: SortKey,
    dates: CursorDates,
    query: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct CursorDates(Option<(NaiveDate, NaiveDate)>);

impl From<CursorDates> for Dates {
    fn from(c: CursorDates) -> Dates {
        match c.0 {
            None => Dates::All,
            Some((a, b)) if a == b => Dates::Day(a),
            Some((a, b)) => Dates::Range(a, b),
        }
    }
}

/// Not a secret: the check only makes an altered cursor fail loudly instead of paging from a
/// random place. A cursor grants nothing the query itself does not.
const CURSOR_CHECK: &[u8] = b"tasksuite-paydates-cursor-v1";

fn cursor_mac(payload: &str) -> String {
    let mut h = Sha256::new();
    h.update(CURSOR_CHECK);
    h.update(payload.as_bytes());
    URL_SAFE_NO_PAD.encode(&h.finalize()[..12])
}

impl Cursor {
    fn encode(&self) -> String {
        let payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a cursor serialises"));
        let mac = cursor_mac(&payload);
        format!("{payload}.{mac}")
    }

    fn decode(text: &str, fingerprint: &str) -> Result<Cursor, ApiError> {
        let invalid = || {
            bad("Invalid 'cursor': it was altered or belongs to another query; start again without it.".into())
        };
        let (payload, mac) = text.split_once('.').ok_or_else(invalid)?;
        if payload.len() > 2048 || cursor_mac(payload) != mac {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.query != fingerprint {
            return Err(invalid());
        }
        Ok(cursor)
    }
}

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
}

#[derive(Serialize)]
struct Batch<'a> {
    data: &'a [Record],
    metadata: &'a Metadata,
}

fn loan_not_found(id: u64) -> ApiError {
    bad(format!("LoanId {id} not found."))
}

fn pay_date_from_item(item: &HashMap<String, AttributeValue>) -> Result<Record, ApiError> {
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

    /// A query on the `byDate` index for one day: its items come by ascending loanId.
    fn by_date(
        &self,
        day: NaiveDate,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.tables.pay_dates)
            .index_name(BY_DATE_INDEX)
            .key_condition_expression("#d = :d")
            .expression_attribute_names("#d", "date")
            .expression_attribute_values(":d", AttributeValue::S(day.to_string()))
    }

    /// The pay dates of one day that the query wants, after a loanId if given, stopping once
    /// `want` of them are in.
    async fn day_pay_dates(
        &self,
        day: NaiveDate,
        after_loan: Option<u64>,
        want: Option<usize>,
        query: &PayDateQuery,
        out: &mut Vec<Record>,
    ) -> Result<(), ApiError> {
        let start = after_loan.map(|loan| {
            HashMap::from([
                ("date".to_string(), AttributeValue::S(day.to_string())),
                ("loanId".to_string(), AttributeValue::N(loan.to_string())),
            ])
        });
        let mut taken = 0;
        query_items(self.by_date(day), start, |item| {
            let r = pay_date_from_item(item)?;
            if query.wants(state_of(&r)) {
                out.push(r);
                taken += 1;
                if want.is_some_and(|w| taken >= w) {
                    return Ok(Next::Stop);
                }
            }
            Ok(Next::More)
        })
        .await
    }

    /// The counts of a day's pay dates by state, reading only `state` from the index.
    async fn day_counts(&self, day: NaiveDate, query: &PayDateQuery) -> Result<Metadata, ApiError> {
        let q = self
            .by_date(day)
            .projection_expression("#s")
            .expression_attribute_names("#s", "state");
        let mut meta = Metadata::default();
        query_items(q, None, |item| {
            let state = match item.get("state") {
                Some(AttributeValue::S(s)) => PayState::parse(s).unwrap_or(PayState::Open),
                _ => PayState::Open,
            };
            if query.wants(state) {
                meta.count(state);
            }
            Ok(Next::More)
        })
        .await?;
        Ok(meta)
    }
}

/// Filters, sorts and pages records held in memory (one loan's, or a sort by amount).
fn page_in_memory(mut records: Vec<Record>, query: &PayDateQuery) -> (Vec<Record>, Metadata) {
    records.retain(|r| query.wants(state_of(r)));
    let mut meta = Metadata::default();
    for r in &records {
        meta.count(state_of(r));
    }
    let mut keyed: Vec<(SortKey, Record)> = records
        .into_iter()
        .map(|r| (query.sort_key(&r), r))
        .collect();
    keyed.sort_by(|a, b| query.compare(&a.0, &b.0));
    let start = match &query.cursor {
        None => 0,
        Some(c) => keyed.partition_point(|(k, _)| query.compare(k, &c.after) != Ordering::Greater),
    };
    let rest = &keyed[start..];
    let page: Vec<Record> = rest
        .iter()
        .take(query.limit)
        .map(|(_, r)| r.clone())
        .collect();
    if rest.len() > query.limit {
        meta.next_cursor = Some(next_cursor(query, &rest[query.limit - 1].0));
    }
    (page, meta)
}

fn next_cursor(query: &PayDateQuery, last: &SortKey) -> String {
    let dates = match query.dates {
        Dates::All => CursorDates(None),
        Dates::Day(d) => CursorDates(Some((d, d))),
        Dates::Range(a, b) => CursorDates(Some((a, b))),
    };
    Cursor {
        after: last.clone(),
        dates,
        query: query.fingerprint.clone(),
    }
    .encode()
}

fn batch_body(data: &[Record], meta: &Metadata) -> String {
    json::to_body(&Batch {
        data,
        metadata: meta,
    })
}

/// GET /loans/{loanId}/paydates.
pub async fn for_loan(
    store: &Store,
    loan_id: u64,
    query: &PayDateQuery,
) -> Result<String, ApiError> {
    if !store.loan_exists(loan_id).await? {
        return Err(loan_not_found(loan_id));
    }
    let records = store.loan_pay_dates(loan_id, query.dates).await?;
    if query.single_day {
        let Dates::Day(day) = query.dates else {
            unreachable!("date= is one day")
        };
        return match records.into_iter().next() {
            Some(r) => Ok(json::to_body(&r)),
            None => Err(bad(format!("LoanId {loan_id} has no pay date on {day}."))),
        };
    }
    let (page, meta) = page_in_memory(records, query);
    Ok(batch_body(&page, &meta))
}

/// GET /paydates.
pub async fn for_all_loans(store: &Store, query: &PayDateQuery) -> Result<String, ApiError> {
    let mut days = query.dates.days();
    if query.descending && query.sort == SortBy::Date {
        days.reverse();
    }
    // The counts and the page are read at the same time: both are queries on the index.
    let (mut meta, (page, next)) = tokio::try_join!(
        count_days(store, &days, query),
        page_of_days(store, &days, query)
    )?;
    meta.next_cursor = next;
    Ok(batch_body(&page, &meta))
}

async fn count_days(
    store: &Store,
    days: &[NaiveDate],
    query: &PayDateQuery,
) -> Result<Metadata, ApiError> {
    // A range counts its days a few at a time, in parallel: each day is its own index query.
    let mut meta = Metadata::default();
    for group in days.chunks(COUNT_CONCURRENCY) {
        let counts =
            futures::future::try_join_all(group.iter().map(|d| store.day_counts(*d, query)))
                .await?;
        for c in counts {
            meta.total_count += c.total_count;
            meta.num_paid += c.num_paid;
            meta.num_partial += c.num_partial;
            meta.num_open += c.num_open;
        }
    }
    Ok(meta)
}

/// The page of a query over every loan, and the cursor of the next page if there is one.
async fn page_of_days(
    store: &Store,
    days: &[NaiveDate],
    query: &PayDateQuery,
) -> Result<(Vec<Record>, Option<String>), ApiError> {
    if query.sort == SortBy::Amount {
        let mut all = Vec::new();
        for day in days {
            store
                .day_pay_dates(*day, None, Some(MAX_SORTED_IN_MEMORY + 1), query, &mut all)
                .await?;
            if all.len() > MAX_SORTED_IN_MEMORY {
                return Err(bad(format!(
                    "Invalid 'sort': sorting more than {MAX_SORTED_IN_MEMORY} pay dates by amount at once is refused; narrow the dates or the states."
                )));
            }
        }
        let (page, paged) = page_in_memory(all, query);
        return Ok((page, paged.next_cursor));
    }
    // Keyset paging straight from the index: days in the asked order, loans ascending within a
    // day (the index's own order), starting after the cursor.
    let (first_day, after_loan) = match &query.cursor {
        Some(Cursor {
            after:
                SortKey {
                    primary: Primary::Date(d),
                    loan_id,
                    ..
                },
            ..
        }) => (validate::parse_date(d), Some(*loan_id)),
        _ => (None, None),
    };
    let mut page = Vec::with_capacity(query.limit + 1);
    for day in days {
        let done = match first_day {
            Some(f) if query.descending => *day > f,
            Some(f) => *day < f,
            None => false,
        };
        if done {
            continue;
        }
        let after = if Some(*day) == first_day {
            after_loan
        } else {
            None
        };
        let want = query.limit + 1 - page.len();
        store
            .day_pay_dates(*day, after, Some(want), query, &mut page)
            .await?;
        if page.len() > query.limit {
            break;
        }
    }
    let mut next = None;
    if page.len() > query.limit {
        page.truncate(query.limit);
        let last = query.sort_key(page.last().expect("limit is at least 1"));
        next = Some(next_cursor(query, &last));
    }
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)], route: Route) -> Result<PayDateQuery, ApiError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        PayDateQuery::parse(&pairs, route, |tz| {
            // A fixed instant: 2024-05-17 03:30 UTC is still the 16th in Chicago and LA.
            use chrono::TimeZone;
            chrono::Utc
                .with_ymd_and_hms(2024, 5, 17, 3, 30, 0)
                .unwrap()
                .with_timezone(&tz)
                .date_naive()
        })
    }

    fn err(pairs: &[(&str, &str)]) -> String {
        match q(pairs, Route::AllLoans) {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("expected 400 for {pairs:?}, got {other:?}"),
        }
    }

    fn day(s: &str) -> NaiveDate {
        validate::parse_date(s).unwrap()
    }

    #[test]
    fn seed_time_zone_spellings() {
        for (name, canonical) in [
            ("America/NewYork", "America/New_York"),
            ("America/LosAngeles", "America/Los_Angeles"),
            ("america/chicago", "America/Chicago"),
            ("AMERICA/DENVER", "America/Denver"),
            ("America/New_York", "America/New_York"),
        ] {
            assert_eq!(time_zone(name).unwrap().name(), canonical);
        }
        assert!(time_zone("Mars/Olympus").is_none());
        assert!(time_zone("").is_none());
    }

    #[test]
    fn today_depends_on_the_zone() {
        assert_eq!(
            q(&[("date", "today")], Route::AllLoans).unwrap().dates,
            Dates::Day(day("2024-05-16"))
        );
        assert_eq!(
            q(
                &[("date", "today"), ("timezone", "America/NewYork")],
                Route::AllLoans
            )
            .unwrap()
            .dates,
            Dates::Day(day("2024-05-16"))
        );
        assert_eq!(
            q(
                &[("date", "today"), ("timezone", "Europe/London")],
                Route::AllLoans
            )
            .unwrap()
            .dates,
            Dates::Day(day("2024-05-17"))
        );
    }

    #[test]
    fn date_forms() {
        assert_eq!(
            q(&[("date", "2024-05-16")], Route::AllLoans).unwrap().dates,
            Dates::Day(day("2024-05-16"))
        );
        let r = q(
            &[("start_date", "2024-05-16"), ("end_date", "2024-06-16")],
            Route::AllLoans,
        )
        .unwrap();
        assert_eq!(r.dates, Dates::Range(day("2024-05-16"), day("2024-06-16")));
        assert_eq!(r.dates.days().len(), 32);
        assert_eq!(q(&[], Route::OneLoan(1)).unwrap().dates, Dates::All);
        assert!(
            q(
                &[("start_date", "2024-01-01"), ("end_date", "2024-12-31")],
                Route::AllLoans
            )
            .is_ok(),
            "366 days"
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "'date'"),
            (&[("date", "2024-02-30")], "'date'"),
            (&[("date", "tomorrow")], "'date'"),
            (&[("date", "2024-05-16"), ("date", "2024-05-17")], "'date'"),
            (&[("start_date", "2024-05-16")], "'start_date'"),
            (&[("end_date", "2024-05-16")], "'end_date'"),
            (
                &[("start_date", "2024-06-16"), ("end_date", "2024-05-16")],
                "'start_date'",
            ),
            (
                &[("start_date", "2024-01-01"), ("end_date", "2025-01-01")],
                "'end_date'",
            ),
            (
                &[
                    ("date", "2024-05-16"),
                    ("start_date", "2024-05-16"),
                    ("end_date", "2024-05-17"),
                ],
                "'date'",
            ),
            (
                &[("date", "today"), ("timezone", "America/Nowhere")],
                "'timezone'",
            ),
            (&[("date", "2024-05-16"), ("state", "late")], "'state'"),
            (&[("date", "2024-05-16"), ("state", "open,")], "'state'"),
            (&[("date", "2024-05-16"), ("sort", "name")], "'sort'"),
            (&[("date", "2024-05-16"), ("order", "up")], "'order'"),
            (&[("date", "2024-05-16"), ("limit", "0")], "'limit'"),
            (&[("date", "2024-05-16"), ("limit", "5001")], "'limit'"),
            (&[("date", "2024-05-16"), ("limit", "ten")], "'limit'"),
            (&[("date", "2024-05-16"), ("limit", "+5")], "'limit'"),
            (&[("date", "2024-05-16"), ("cursor", "abc")], "'cursor'"),
            (&[("date", "2024-05-16"), ("page", "2")], "'page'"),
        ];
        for (pairs, named) in cases {
            let m = err(pairs);
            assert!(m.contains(named), "{pairs:?}: {m}");
        }
    }

    #[test]
    fn states_repeat_or_comma_separate() {
        let a = q(
            &[
                ("date", "2024-05-16"),
                ("state", "open"),
                ("state", "partial"),
            ],
            Route::AllLoans,
        )
        .unwrap();
        let b = q(
            &[("date", "2024-05-16"), ("state", "open,partial")],
            Route::AllLoans,
        )
        .unwrap();
        assert_eq!(a.states, b.states);
        assert_eq!(a.states.unwrap().len(), 2);
    }

    #[test]
    fn cursors_are_checked() {
        let query = q(&[("date", "2024-05-16")], Route::AllLoans).unwrap();
        let key = SortKey {
            primary: Primary::Date("2024-05-16".into()),
            loan_id: 5,
            id: 9,
        };
        let c = next_cursor(&query, &key);
        let ok = q(&[("date", "2024-05-16"), ("cursor", &c)], Route::AllLoans).unwrap();
        assert_eq!(ok.cursor.unwrap().after, key);
        // Altered anywhere: refused.
        let mut bytes = c.clone().into_bytes();
        bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        assert!(err(&[("date", "2024-05-16"), ("cursor", &altered)]).contains("'cursor'"));
        // Another query's cursor: refused.
        assert!(err(&[("date", "2024-05-17"), ("cursor", &c)]).contains("'cursor'"));
        assert!(
            err(&[("date", "2024-05-16"), ("sort", "amount"), ("cursor", &c)]).contains("'cursor'")
        );
    }

    #[test]
    fn amounts_sort_as_decimals_with_stable_ties() {
        let query = q(
            &[("date", "2024-05-16"), ("sort", "amount")],
            Route::AllLoans,
        )
        .unwrap();
        let k = |a: &str, l, i| SortKey {
            primary: Primary::Amount(a.into()),
            loan_id: l,
            id: i,
        };
        let mut keys = vec![
            k("100.00", 2, 1),
            k("9.50", 3, 1),
            k("100.00", 1, 7),
            k("100.00", 1, 3),
        ];
        keys.sort_by(|a, b| query.compare(a, b));
        assert_eq!(
            keys,
            vec![
                k("9.50", 3, 1),
                k("100.00", 1, 3),
                k("100.00", 1, 7),
                k("100.00", 2, 1)
            ]
        );
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
        let page = vec![r; MAX_LIMIT];
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
