//! `Money::parse` on what the contract allows (random cents, every accepted writing) and on
//! near-misses of those same values (one defect each), so both the accepting and the refusing
//! paths are reached.

use super::sample;
use crate::money::Money;
use proptest::prelude::*;

/// Ten trillion in cents: amounts are below ten trillion.
const LIMIT_CENTS: u64 = 1_000_000_000_000_000;

/// `(cents, negative)`: small amounts and amounts near the limit both come up.
fn arb_cents() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..10_000,
        0u64..100_000_000,
        0u64..LIMIT_CENTS,
        (LIMIT_CENTS - 1000)..LIMIT_CENTS,
    ]
}

/// The canonical text: two decimals.
fn two_dp(cents: u64, negative: bool) -> String {
    let sign = if negative { "-" } else { "" };
    format!("{sign}{}.{:02}", cents / 100, cents % 100)
}

/// Every writing `parse` accepts for this value: two decimals, one decimal when the last is 0,
/// none when both are.
fn writings(cents: u64, negative: bool) -> Vec<String> {
    let sign = if negative { "-" } else { "" };
    let mut out = vec![two_dp(cents, negative)];
    if cents.is_multiple_of(10) {
        out.push(format!("{sign}{}.{}", cents / 100, cents % 100 / 10));
    }
    if cents.is_multiple_of(100) {
        out.push(format!("{sign}{}", cents / 100));
    }
    out
}

/// A valid amount: (text as sent, the two-decimal text it must come back as).
fn arb_valid() -> impl Strategy<Value = (String, String)> {
    (arb_cents(), any::<bool>(), any::<prop::sample::Index>()).prop_map(|(c, neg, pick)| {
        let neg = neg && c > 0;
        let w = writings(c, neg);
        (pick.get(&w).clone(), two_dp(c, neg))
    })
}

/// A near-miss of a valid amount: one defect, named for the failure message.
fn arb_near_miss() -> impl Strategy<Value = (&'static str, String)> {
    (arb_cents(), 0u32..10, 0usize..12).prop_map(|(c, digit, defect)| {
        let t = two_dp(c, false);
        let huge = two_dp(LIMIT_CENTS + c % LIMIT_CENTS, false);
        match defect {
            0 => ("three decimals", format!("{t}{digit}")),
            1 => ("exponent", format!("{}e{digit}", c / 100)),
            2 => ("exponent", format!("{t}E-{digit}")),
            3 => ("plus sign", format!("+{t}")),
            4 => ("two signs", format!("--{t}")),
            5 => ("huge", huge),
            6 => ("huge", format!("-{huge}")),
            7 => ("empty", String::new()),
            8 => ("space", format!(" {t}")),
            9 => ("space", format!("{t} ")),
            10 => ("no digits around the point", format!("{}.", c / 100)),
            _ => ("no digits around the point", format!(".{:02}", c % 100)),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    #[test]
    fn valid_amounts_round_trip_exactly((text, canonical) in arb_valid()) {
        let m = Money::parse(&text);
        prop_assert!(m.is_some(), "{} refused", text);
        let m = m.unwrap();
        prop_assert_eq!(m.to_2dp(), canonical.clone());
        prop_assert_eq!(Money::parse(&canonical), Some(m));
        // As a JSON number's own text and as a JSON string.
        prop_assert_eq!(Money::from_json_text(&text), Some(m));
        prop_assert_eq!(Money::from_json_text(&format!("\"{text}\"")), Some(m));
        prop_assert_eq!(Money::from_dynamo(&m.to_dynamo()), Some(m));
    }

    #[test]
    fn near_misses_are_refused((defect, text) in arb_near_miss()) {
        prop_assert_eq!(Money::parse(&text), None, "{}: {:?} accepted", defect, text);
        prop_assert_eq!(Money::from_json_text(&format!("\"{text}\"")), None, "{}", defect);
    }
}

#[test]
fn the_generators_reach_both_paths() {
    let valid = sample(arb_valid(), 300);
    let accepted = valid
        .iter()
        .filter(|(t, _)| Money::parse(t).is_some())
        .count();
    assert_eq!(accepted, valid.len(), "every valid amount is accepted");
    let writings: std::collections::BTreeSet<usize> = valid
        .iter()
        .map(|(t, _)| t.split_once('.').map_or(0, |(_, f)| f.len()))
        .collect();
    assert_eq!(writings.len(), 3, "0, 1 and 2 decimals all come up");
    assert!(
        valid.iter().any(|(t, _)| t.starts_with('-')),
        "negatives too"
    );
    let misses = sample(arb_near_miss(), 300);
    let kinds: std::collections::BTreeSet<&str> = misses.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        kinds.len(),
        8,
        "every kind of near-miss comes up: {kinds:?}"
    );
    assert!(misses.iter().all(|(_, t)| Money::parse(t).is_none()));
}
