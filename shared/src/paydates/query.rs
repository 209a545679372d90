//! The query parameters of both pay-date routes, read into a [`PayDateQuery`], and the order
//! they ask for.

use super::cursor::SignedCursor;
use crate::error::ApiError;
use crate::records::{PayState, Record};
use crate::validate;
use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

pub const DEFAULT_LIMIT: usize = 1000;
pub const MAX_LIMIT: usize = 5000;
/// The longest range, in days, both ends included.
pub const MAX_RANGE_DAYS: i64 = 366;

/// Which pay dates: one day, a range of days, or (one loan only) all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dates {
    Day(NaiveDate),
    Range(NaiveDate, NaiveDate),
    All,
}

impl Dates {
    /// The first and last day, both included (`None` for all of a loan's pay dates).
    pub fn bounds(self) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            Dates::Day(d) => Some((d, d)),
            Dates::Range(a, b) => Some((a, b)),
            Dates::All => None,
        }
    }

    pub fn days(self) -> Vec<NaiveDate> {
        match self.bounds() {
            Some((a, b)) => a.iter_days().take_while(|d| *d <= b).collect(),
            None => Vec::new(),
        }
    }

    pub fn contains(self, day: NaiveDate) -> bool {
        self.bounds().is_none_or(|(a, b)| a <= day && day <= b)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Date,
    Amount,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayDateQuery {
    pub dates: Dates,
    /// `date=` was given: one loan's route answers a single object.
    pub single_day: bool,
    /// `date=today`: the day depends on when the request comes, so a cursor carries the day
    /// its first page resolved.
    pub today: bool,
    pub states: Option<BTreeSet<PayState>>,
    pub sort: SortBy,
    pub descending: bool,
    pub limit: usize,
    /// The query as the caller wrote it (route, date form, states, sort, order): a cursor is
    /// signed over it, so that it works with this query only.
    pub(crate) binding: String,
    pub(crate) cursor: Option<SignedCursor>,
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

pub(crate) fn bad(message: String) -> ApiError {
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
    /// Reads the query parameters. `today` resolves `date=today` in a zone. A cursor is checked
    /// for its form here and for its signature by the read (which holds the key).
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
        let (dates, single_day, is_today, as_written) = match (date, start, end) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(bad("Invalid 'date': give either 'date' or 'start_date' and 'end_date', not both.".into()))
            }
            (Some(d), None, None) if d.eq_ignore_ascii_case("today") => {
                (Dates::Day(today(tz)), true, true, format!("today@{}", tz.name()))
            }
            (Some(d), None, None) => {
                let day = parse_day("date", d)?;
                (Dates::Day(day), true, false, day.to_string())
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
                (Dates::Range(a, b), false, false, format!("{a}..{b}"))
            }
            (None, None, None) => match route {
                Route::OneLoan(_) => (Dates::All, false, false, "all".to_string()),
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
        // An empty filter and all three states match the same pay dates, but they are written
        // differently: the binding is the query as written, so each keeps its own cursors.
        let state_key: Vec<&str> = states.iter().flatten().map(|s| s.as_str()).collect();
        let sort_key = match sort {
            SortBy::Date => "date",
            SortBy::Amount => "amount",
        };
        let order_key = if descending { "desc" } else { "asc" };
        let binding = format!(
            "{route_key}|{as_written}|{}|{sort_key}|{order_key}",
            state_key.join(",")
        );
        let cursor = one("cursor")?.map(SignedCursor::parse).transpose()?;
        Ok(PayDateQuery {
            dates,
            single_day,
            today: is_today,
            states,
            sort,
            descending,
            limit,
            binding,
            cursor,
        })
    }

    pub fn wants(&self, state: PayState) -> bool {
        self.states.as_ref().is_none_or(|s| s.contains(&state))
    }

    /// Where a row stands in the order this query asks for: compare two rows by comparing
    /// their positions. The sort field in the asked order, then `loanId` and `id`, always
    /// ascending; then (only to make the order total across days) the date.
    pub(crate) fn position(&self, k: &RowKey) -> Position {
        let day = k.date.num_days_from_ce() as u64;
        let flip = |x: u64| if self.descending { u64::MAX - x } else { x };
        match self.sort {
            SortBy::Date => Position(flip(day), k.loan_id, k.id, 0),
            SortBy::Amount => Position(flip(k.cents), k.loan_id, k.id, day),
        }
    }
}

/// The fields of a pay date that place it in any order the API offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowKey {
    pub date: NaiveDate,
    /// The amount in cents (amounts have two decimals and are below ten trillion).
    pub cents: u64,
    pub loan_id: u64,
    pub id: u64,
}

impl RowKey {
    pub fn of(r: &Record) -> RowKey {
        RowKey {
            date: validate::parse_date(r.text("date")).unwrap_or_default(),
            cents: cents(r.money("amount")),
            loan_id: r.int("loanId"),
            id: r.int("id"),
        }
    }
}

/// A row's place in a query's order: compared as a tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Position(u64, u64, u64, u64);

/// An amount in cents: amounts are non-negative with at most two decimals.
pub(crate) fn cents(m: crate::money::Money) -> u64 {
    m.to_2dp().replace('.', "").parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn q(pairs: &[(&str, &str)], route: Route) -> Result<PayDateQuery, ApiError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        // A fixed instant when Chicago and New York are on different days: 2024-05-17 04:30 UTC
        // is 23:30 on the 16th in Chicago (and LA), 00:30 on the 17th in New York.
        use chrono::TimeZone;
        let clock =
            crate::time::Clock::Fixed(chrono::Utc.with_ymd_and_hms(2024, 5, 17, 4, 30, 0).unwrap());
        PayDateQuery::parse(&pairs, route, |tz| clock.today_in(tz))
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
        // Chicago by default: the 16th, while New York is already on the 17th.
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
            Dates::Day(day("2024-05-17"))
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
        assert_eq!(a.binding, b.binding);
        assert_eq!(a.states.unwrap().len(), 2);
    }

    #[test]
    fn amounts_sort_as_numbers_with_ties_by_loan_then_id_ascending() {
        let k = |cents, loan_id, id| RowKey {
            date: day("2024-05-16"),
            cents,
            loan_id,
            id,
        };
        let keys = [k(10000, 2, 1), k(950, 3, 1), k(10000, 1, 7), k(10000, 1, 3)];
        for (order, expected) in [
            (
                "asc",
                [k(950, 3, 1), k(10000, 1, 3), k(10000, 1, 7), k(10000, 2, 1)],
            ),
            (
                "desc",
                [k(10000, 1, 3), k(10000, 1, 7), k(10000, 2, 1), k(950, 3, 1)],
            ),
        ] {
            let query = q(
                &[("date", "2024-05-16"), ("sort", "amount"), ("order", order)],
                Route::AllLoans,
            )
            .unwrap();
            let mut sorted = keys.to_vec();
            sorted.sort_by_key(|k| query.position(k));
            assert_eq!(sorted, expected, "{order}");
        }
    }

    #[test]
    fn dates_sort_by_day_then_loan_ascending() {
        let k = |d: &str, loan_id| RowKey {
            date: day(d),
            cents: 1,
            loan_id,
            id: 1,
        };
        let query = q(
            &[
                ("start_date", "2024-05-16"),
                ("end_date", "2024-05-17"),
                ("order", "desc"),
            ],
            Route::AllLoans,
        )
        .unwrap();
        let mut keys = vec![
            k("2024-05-16", 1),
            k("2024-05-17", 2),
            k("2024-05-17", 1),
            k("2024-05-16", 2),
        ];
        keys.sort_by_key(|k| query.position(k));
        assert_eq!(
            keys,
            [
                k("2024-05-17", 1),
                k("2024-05-17", 2),
                k("2024-05-16", 1),
                k("2024-05-16", 2)
            ]
        );
    }

    #[test]
    fn cents_are_exact() {
        use crate::money::Money;
        for (text, c) in [
            ("100", 10000),
            ("0.5", 50),
            ("9999999999999.99", 999_999_999_999_999),
        ] {
            assert_eq!(cents(Money::parse(text).unwrap()), c, "{text}");
        }
    }
}
