//! `Customer::from_json` on valid customers (person and company, with and without the optional
//! address and phone, every writing of the SSN and EIN) and on near-misses that break one rule
//! each: the valid ones are accepted and round-trip, each near-miss is a 400 naming its field.

use super::{reparsed, sample, today};
use crate::customer::Customer;
use crate::error::ApiError;
use crate::pii::Sensitive;
use crate::validate::MAX_SAFE_INTEGER;
use chrono::Duration;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Nine digits written as the contract allows: plain, dashed at `dashes`, or an integer.
fn nine(digits: &str, dashes: &[usize], writing: u8) -> Value {
    match writing % 3 {
        0 => json!(digits),
        1 => {
            let mut s = String::new();
            for (i, c) in digits.chars().enumerate() {
                if dashes.contains(&i) {
                    s.push('-');
                }
                s.push(c);
            }
            json!(s)
        }
        _ => json!(digits.parse::<u64>().unwrap()),
    }
}

/// A valid SSN's digits: area 001-899 but not 666, group 01-99, serial 0001-9999.
fn arb_ssn() -> impl Strategy<Value = String> {
    (1u32..900, 1u32..100, 1u32..10_000)
        .prop_map(|(a, g, s)| format!("{:03}{g:02}{s:04}", if a == 666 { 665 } else { a }))
}

fn arb_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z]{1,20}",
        "[A-Z][a-z]{1,12}[ '-][A-Z][a-z]{1,12}",
        "[A-Za-z]{100}",
    ]
}

fn arb_address() -> impl Strategy<Value = Value> {
    let us = (
        "[0-9]{1,5} [A-Z][a-z]{2,10} St\\.",
        proptest::option::of("Suite [0-9]{1,3}"),
        "[A-Z][a-z]{2,12}",
        prop::sample::select(vec!["TX", "IL", "ca", "NY", "PR", "DC"]),
        prop_oneof!["[0-9]{5}", "[0-9]{5}-[0-9]{4}"],
    )
        .prop_map(|(street1, street2, city, state, zip)| {
            let mut a = json!({"street1": street1, "city": city, "state": state, "zip": zip, "country": "USA"});
            if let Some(s2) = street2 {
                a["street2"] = json!(s2);
            }
            a
        });
    let abroad = ("[A-Z][a-z]{2,12}", "[A-Z]{1,3}", "[A-Z0-9 ]{3,10}").prop_map(|(city, state, zip)| {
        json!({"street1": "1 King St", "city": city, "state": state, "zip": zip.trim().to_string() + "1", "country": "can"})
    });
    prop_oneof![3 => us, 1 => abroad]
}

fn arb_phone() -> impl Strategy<Value = Value> {
    (
        "[2-9][0-9]{9}",
        0u8..5,
        prop::sample::select(vec!["office", "mobile"]),
        proptest::option::of(any::<bool>()),
        proptest::option::of("[A-Z&]{2,10}"),
    )
        .prop_map(|(d, writing, kind, verified, carrier)| {
            let (a, b, c) = (&d[0..3], &d[3..6], &d[6..10]);
            let number = match writing {
                0 => json!(format!("{a}-{b}-{c}")),
                1 => json!(format!("({a}) {b}-{c}")),
                2 => json!(format!("+1 {a} {b} {c}")),
                3 => json!(d.parse::<u64>().unwrap()),
                _ => json!(format!("{a}.{b}.{c}")),
            };
            let mut p = json!({"number": number, "type": kind});
            if let Some(v) = verified {
                p["carrierVerified"] = json!(v);
            }
            if let Some(n) = carrier {
                p["carrierName"] = json!(n);
            }
            p
        })
}

/// What a generated customer must come back as (beside being accepted).
#[derive(Debug, Clone)]
struct Expect {
    ssn: Option<String>,
    ein: Option<String>,
    dob: String,
}

prop_compose! {
    fn arb_customer()(
        id in 1..=MAX_SAFE_INTEGER,
        active in any::<bool>(),
        company in any::<bool>(),
        name in arb_name(),
        surname in arb_name(),
        email in "[a-z0-9]{1,10}(\\.[a-z0-9_+-]{1,8})?@[a-z0-9]{1,10}(-[a-z0-9]{1,5})?\\.[a-z]{2,6}",
        // From today back to 1900: today itself is allowed.
        days_back in prop_oneof![0i64..3, 0i64..46_000],
        ssn in proptest::option::of(arb_ssn()),
        ein in proptest::option::of("[0-9]{9}"),
        company_name in proptest::option::of("[A-Z][A-Za-z .&]{0,50}[a-z.]"),
        user in proptest::option::of("[a-z]{1,10}_[a-z0-9.]{1,10}"),
        address in proptest::option::of(arb_address()),
        phone in proptest::option::of(arb_phone()),
        writing in any::<u8>(),
    ) -> (Map<String, Value>, Expect) {
        let dob = (today() - Duration::days(days_back)).to_string();
        let mut o = json!({
            "giggleId": id, "active": active, "customerType": if company { "company" } else { "person" },
            "name": name, "surname": surname, "email": email, "dob": dob,
        }).as_object().unwrap().clone();
        // A person needs an SSN, a company an EIN and a company name; each may carry the other's.
        let ssn = if company { ssn } else { ssn.or_else(|| Some("123456789".into())) };
        let (ein, company_name) = if company {
            (ein.or_else(|| Some("987654321".into())), company_name.or_else(|| Some("ABC L.L.C".into())))
        } else {
            (ein, company_name)
        };
        if let Some(s) = &ssn {
            o.insert("ssn".into(), nine(s, &[3, 5], writing));
        }
        if let Some(e) = &ein {
            o.insert("ein".into(), nine(e, &[2], writing / 3));
        }
        for (k, v) in [("companyName", company_name.map(Value::from)), ("accessUserName", user.map(Value::from)),
                       ("address", address), ("phone", phone)] {
            if let Some(v) = v {
                o.insert(k.into(), v);
            }
        }
        (o, Expect { ssn, ein, dob })
    }
}

/// A valid customer with one rule broken, and the field the 400 must name.
fn arb_near_miss() -> impl Strategy<Value = (Map<String, Value>, Map<String, Value>, String)> {
    (arb_customer(), 0usize..16, any::<prop::sample::Index>()).prop_map(|((valid, _), defect, pick)| {
        let mut bad = valid.clone();
        let ssn = |area: &str, group: &str, serial: &str| json!(format!("{area}-{group}-{serial}"));
        let field = match defect {
            0 => { bad.insert("ssn".into(), ssn("000", "12", "3456")); "ssn" }
            1 => { bad.insert("ssn".into(), ssn("666", "12", "3456")); "ssn" }
            2 => { bad.insert("ssn".into(), ssn("123", "00", "3456")); "ssn" }
            3 => { bad.insert("ssn".into(), ssn("123", "45", "0000")); "ssn" }
            4 => {
                let e = valid["email"].as_str().unwrap();
                let broken = pick.get(&[e.replace('@', ""), e.replace('@', " @"), e.replace('@', "@@"),
                                        format!("{e}1"), format!(".{e}"), e.replace('@', "..@")]).clone();
                bad.insert("email".into(), json!(broken));
                "email"
            }
            5 => { bad.insert("dob".into(), json!((today() + Duration::days(1)).to_string())); "dob" }
            6 => { bad.insert("dob".into(), json!(pick.get(&["2023-02-29", "2000-13-01", "1990-1-05", "05/16/1990"]))); "dob" }
            7 => { bad.insert("name".into(), json!("n".repeat(101))); "name" }
            8 => { bad.insert("surname".into(), json!("s".repeat(101))); "surname" }
            9 => { bad.insert("giggleId".into(), json!(pick.get(&[json!(0), json!(MAX_SAFE_INTEGER + 1), json!("12"), json!(1.5)]))); "giggleId" }
            10 => { bad.insert("phone".into(), json!({"number": "123-456-789", "type": "mobile"})); "phone.number" }
            11 => { bad.insert("address".into(), json!({"street1": "1 Main", "city": "Austin", "state": "TX", "zip": "1234", "country": "USA"})); "address.zip" }
            12 => { bad.insert("address".into(), json!({"street1": "1 Main", "city": "Austin", "state": "ZZ", "zip": "12345", "country": "USA"})); "address.state" }
            13 => { bad.insert("customerType".into(), json!("robot")); "customerType" }
            _ => {
                let required = ["giggleId", "active", "customerType", "name", "surname", "email", "dob"];
                let f = *pick.get(&required);
                bad.remove(f);
                f
            }
        };
        (valid, bad, field.to_string())
    })
}

fn refusal(obj: &Map<String, Value>) -> Option<String> {
    match Customer::from_json(obj, today()) {
        Ok(_) => None,
        Err(ApiError::BadRequest(m)) => Some(m),
        Err(e) => panic!("not a 400: {e:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    #[test]
    fn valid_customers_are_accepted_and_round_trip((body, expect) in arb_customer()) {
        let c = Customer::from_json(&body, today());
        prop_assert!(c.is_ok(), "{} refused: {:?}", Value::Object(body.clone()), c);
        let c = c.unwrap();
        prop_assert_eq!(c.giggle_id.get(), body["giggleId"].as_u64().unwrap());
        prop_assert_eq!(&c.dob, &expect.dob);
        prop_assert_eq!(&c.ssn, &expect.ssn.map(Sensitive::clear));
        prop_assert_eq!(&c.ein, &expect.ein.map(Sensitive::clear));
        prop_assert_eq!(c.address.is_some(), body.contains_key("address"));
        prop_assert_eq!(c.phone.is_some(), body.contains_key("phone"));
        prop_assert_eq!(reparsed(&c), c);
    }

    #[test]
    fn near_misses_are_400s_naming_the_field((valid, bad, field) in arb_near_miss()) {
        prop_assert_eq!(refusal(&valid), None, "the base customer is valid");
        match refusal(&bad) {
            None => prop_assert!(false, "{} accepted (broken: {})", Value::Object(bad), field),
            Some(m) => {
                prop_assert!(m.contains(&format!("'{field}'")), "{} (expected '{}')", m, field);
                // Never the SSN or EIN sent, as written or as its digits.
                for secret in ["ssn", "ein"].iter().filter_map(|k| bad.get(*k)) {
                    let written = secret.as_str().map_or_else(|| secret.to_string(), str::to_string);
                    let digits: String = written.chars().filter(char::is_ascii_digit).collect();
                    prop_assert!(!m.contains(&written) && !m.contains(&digits), "{} repeats {}", m, written);
                }
            }
        }
    }
}

#[test]
fn the_generators_reach_both_paths() {
    let valid = sample(arb_customer(), 300);
    let accepted = valid.iter().filter(|(b, _)| refusal(b).is_none()).count();
    assert!(
        accepted * 100 >= valid.len() * 99,
        "only {accepted} of {} valid customers accepted",
        valid.len()
    );
    let kinds =
        |f: &dyn Fn(&Map<String, Value>) -> bool| valid.iter().filter(|(b, _)| f(b)).count();
    for (what, n) in [
        ("company", kinds(&|b| b["customerType"] == "company")),
        ("person", kinds(&|b| b["customerType"] == "person")),
        ("address", kinds(&|b| b.contains_key("address"))),
        ("no address", kinds(&|b| !b.contains_key("address"))),
        ("phone", kinds(&|b| b.contains_key("phone"))),
        (
            "integer ssn",
            kinds(&|b| b.get("ssn").is_some_and(Value::is_u64)),
        ),
        (
            "dashed ssn",
            kinds(&|b| {
                b.get("ssn")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.contains('-'))
            }),
        ),
        ("born today", kinds(&|b| b["dob"] == today().to_string())),
    ] {
        assert!(n >= 3, "{what} comes up only {n} times in 300");
    }
    let misses = sample(arb_near_miss(), 300);
    let fields: std::collections::BTreeSet<&str> = misses.iter().map(|m| m.2.as_str()).collect();
    assert_eq!(
        fields.len(),
        11,
        "every rule's near-miss comes up: {fields:?}"
    );
    assert!(misses.iter().all(|(_, bad, _)| refusal(bad).is_some()));
}
