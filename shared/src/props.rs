//! Property tests: the validators, money and dates round-trip, and no input, however odd, makes
//! any parser panic. The submodules generate valid values and near-misses of them (one rule
//! broken), so that the accepting path of each parser is reached, not only its refusals.

mod customers;
mod money;
mod pay_dates;

use crate::customer::{apply_patch, Customer};
use crate::money::Money;
use crate::paydates::{PayDateQuery, Route};
use crate::records::{Record, LOAN_FIELDS, PAY_DATE_FIELDS};
use crate::validate;
use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

/// `n` values of a strategy, from a deterministic runner: for the checks that a generator
/// reaches the code (how many of its values are accepted, which kinds come up).
fn sample<T: std::fmt::Debug>(s: impl Strategy<Value = T>, n: usize) -> Vec<T> {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    (0..n)
        .map(|_| s.new_tree(&mut runner).expect("a value").current())
        .collect()
}

/// Any JSON value, nested a few levels.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        "[0-9-]{0,14}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("giggleId".to_string()),
                    Just("active".to_string()),
                    Just("customerType".to_string()),
                    Just("ssn".to_string()),
                    Just("ein".to_string()),
                    Just("dob".to_string()),
                    Just("name".to_string()),
                    Just("address".to_string()),
                    Just("phone".to_string()),
                    Just("number".to_string()),
                    Just("zip".to_string()),
                    Just("country".to_string()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A record as JSON again, with its SSN and EIN (which the record never serialises) put back.
fn reparsed(c: &Customer) -> Customer {
    use crate::pii::Sensitive;
    let mut v = serde_json::to_value(c).unwrap();
    for (name, field) in [("ssn", &c.ssn), ("ein", &c.ein)] {
        if let Some(Sensitive::Clear(d)) = field {
            v[name] = json!(d);
        }
    }
    Customer::from_json(v.as_object().unwrap(), today()).unwrap()
}

fn seed() -> Map<String, Value> {
    json!({"giggleId": 1, "active": true, "customerType": "person", "ssn": "123-45-6789", "dob": "2000-01-30",
           "name": "John", "surname": "Doe", "email": "john.doe@email.com",
           "address": {"street1": "1 Main", "city": "Austin", "state": "TX", "zip": "22222", "country": "USA"},
           "phone": {"number": "123-456-7890", "type": "mobile"}})
    .as_object()
    .unwrap()
    .clone()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn money_text_round_trips(cents in -999_999_999_999_999i64..=999_999_999_999_999i64) {
        let sign = if cents < 0 { "-" } else { "" };
        let text = format!("{sign}{}.{:02}", cents.unsigned_abs() / 100, cents.unsigned_abs() % 100);
        let m = Money::parse(&text).unwrap();
        prop_assert_eq!(m.to_2dp(), text);
        prop_assert_eq!(Money::from_dynamo(&m.to_dynamo()).unwrap(), m);
    }

    #[test]
    fn money_never_panics(s in ".{0,30}") {
        if let Some(m) = Money::parse(&s) {
            // Whatever it accepts, it writes back with exactly two decimals.
            let out = m.to_2dp();
            prop_assert_eq!(out.split('.').nth(1).map(str::len), Some(2));
        }
        let _ = Money::from_json_text(&s);
        let _ = Money::from_dynamo(&s);
    }

    #[test]
    fn dates_round_trip(days in 0i64..3_000_000) {
        let d = NaiveDate::from_ymd_opt(1, 1, 1).unwrap() + chrono::Duration::days(days);
        let text = d.format("%Y-%m-%d").to_string();
        if text.len() == 10 {
            prop_assert_eq!(validate::parse_date(&text), Some(d));
        }
    }

    #[test]
    fn validators_never_panic(s in ".{0,40}", n in any::<i64>()) {
        let _ = validate::parse_date(&s);
        let _ = validate::email(&s);
        let _ = validate::us_zip(&s);
        let _ = validate::access_user_name(&s);
        let _ = validate::text(&s, 1, 100);
        for v in [json!(s.clone()), json!(n)] {
            let _ = validate::ssn(&v);
            let _ = validate::ein(&v);
            let _ = validate::us_phone(&v);
        }
        let _ = crate::paydates::time_zone(&s);
    }

    #[test]
    fn nine_digit_writings_agree(digits in "[0-9]{9}") {
        let dashed_ssn = format!("{}-{}-{}", &digits[0..3], &digits[3..5], &digits[5..9]);
        prop_assert_eq!(validate::ssn(&json!(digits.clone())), validate::ssn(&json!(dashed_ssn)));
        let as_int: u64 = digits.parse().unwrap();
        prop_assert_eq!(validate::ssn(&json!(digits.clone())), validate::ssn(&json!(as_int)));
        let dashed_ein = format!("{}-{}", &digits[0..2], &digits[2..9]);
        prop_assert_eq!(validate::ein(&json!(digits.clone())), validate::ein(&json!(dashed_ein)));
        prop_assert_eq!(validate::ein(&json!(digits.clone())), Some(digits.clone()));
    }

    #[test]
    fn phone_writings_agree(d in "[0-9]{10}") {
        let (a, b, c) = (&d[0..3], &d[3..6], &d[6..10]);
        for w in [format!("{a}-{b}-{c}"), format!("({a}) {b}-{c}"), format!("+1 {a} {b} {c}"), d.clone(), format!("{a}.{b}.{c}")] {
            prop_assert_eq!(validate::us_phone(&json!(w)), Some(d.clone()));
        }
    }

    #[test]
    fn customer_parsing_never_panics(v in arb_json()) {
        if let Value::Object(m) = &v {
            let _ = Customer::from_json(m, today());
            let stored = Customer::from_json(&seed(), today()).unwrap();
            if let Ok(c) = apply_patch(&stored, m, today()) {
                // What a PATCH accepts is a valid record: it parses again to itself.
                prop_assert_eq!(reparsed(&c), c);
            }
        }
    }

    #[test]
    fn a_valid_customer_round_trips(name in "[A-Za-z]{1,20}", zip in "[0-9]{5}", id in 1u64..9_007_199_254_740_991) {
        let mut body = seed();
        body.insert("name".into(), json!(name));
        body.insert("giggleId".into(), json!(id));
        body["address"]["zip"] = json!(zip);
        let c = Customer::from_json(&body, today()).unwrap();
        // ssn and ein are never serialised with the record (the store seals them apart).
        let stored = serde_json::to_value(&c).unwrap();
        prop_assert!(stored.get("ssn").is_none() && stored.get("ein").is_none());
        prop_assert_eq!(reparsed(&c), c);
    }

    #[test]
    fn import_lines_never_panic(s in ".{0,200}", v in arb_json()) {
        let _ = Record::from_json_line(LOAN_FIELDS, &s);
        let _ = Record::from_json_line(PAY_DATE_FIELDS, &s);
        let line = v.to_string();
        if let Ok(r) = Record::from_json_line(PAY_DATE_FIELDS, &line) {
            let _ = crate::records::check_pay_date(&r);
        }
    }

    #[test]
    fn query_parsing_never_panics(pairs in prop::collection::vec((
        prop_oneof![Just("date".to_string()), Just("start_date".to_string()), Just("end_date".to_string()),
                    Just("state".to_string()), Just("sort".to_string()), Just("order".to_string()),
                    Just("limit".to_string()), Just("cursor".to_string()), Just("timezone".to_string()), ".{0,6}"],
        ".{0,24}"), 0..6)) {
        let _ = PayDateQuery::parse(&pairs, Route::AllLoans, crate::time::today_in);
        let _ = PayDateQuery::parse(&pairs, Route::OneLoan(7), crate::time::today_in);
    }
}
