//! The import's pay-date checks (`Record::from_json_line` then `check_pay_date`) on valid pay
//! dates (amountOwed = amount − amountPaid, state consistent) and on near-misses of them that
//! break one field each: the valid ones are accepted, each near-miss is refused naming its field.

use super::sample;
use crate::records::{check_pay_date, Record, PAY_DATE_FIELDS};
use crate::validate::MAX_SAFE_INTEGER;
use chrono::NaiveDate;
use proptest::prelude::*;

/// A pay date line as (field, raw JSON text) pairs, in the seed's order.
type Line = Vec<(&'static str, String)>;

fn render(line: &Line) -> String {
    let parts: Vec<String> = line.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
    format!("{{{}}}", parts.join(", "))
}

fn set(line: &mut Line, field: &str, raw: String) {
    let slot = line.iter_mut().find(|(k, _)| *k == field).expect("a field");
    slot.1 = raw;
}

/// An amount written as the import takes it: a number with two or fewer decimals, or a string.
fn money(cents: u64, writing: u8) -> String {
    let two = format!("{}.{:02}", cents / 100, cents % 100);
    match writing % 3 {
        0 => two,
        1 if cents.is_multiple_of(10) => format!("{}.{}", cents / 100, cents % 100 / 10),
        2 => format!("\"{two}\""),
        _ => two,
    }
}

fn state_of(amount: u64, paid: u64) -> &'static str {
    if paid == amount {
        "paid"
    } else if paid == 0 {
        "open"
    } else {
        "partial"
    }
}

prop_compose! {
    /// A valid pay date: every state comes up, amounts from a cent to billions.
    fn arb_pay_date()(
        id in 1..=MAX_SAFE_INTEGER,
        loan_id in 1..=MAX_SAFE_INTEGER,
        day in 0i64..40_000,
        amount in prop_oneof![1u64..=200, 1u64..100_000_000_000],
        paid_kind in 0u8..3,
        paid_share in any::<prop::sample::Index>(),
        capitals in [0u64..1_000_000_000_000, 0u64..1_000_000_000_000, 0u64..1_000_000_000_000],
        writing in any::<u8>(),
    ) -> Line {
        let paid = match paid_kind {
            0 => 0,
            1 => amount,
            // A part: 1 to amount − 1 (an amount of one cent has no part: paid in full).
            _ if amount > 1 => 1 + paid_share.index(amount as usize - 1) as u64,
            _ => amount,
        };
        let date = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Duration::days(day);
        vec![
            ("id", id.to_string()),
            ("state", format!("\"{}\"", state_of(amount, paid))),
            ("date", format!("\"{date}\"")),
            ("amount", money(amount, writing)),
            ("amountOwed", money(amount - paid, writing / 3)),
            ("amountPaid", money(paid, writing / 9)),
            ("startingCapital", money(capitals[0], writing / 27)),
            ("endingCapital", money(capitals[1], writing)),
            ("loanBalance", money(capitals[2], writing / 3)),
            ("loanId", loan_id.to_string()),
        ]
    }
}

fn cents_of(raw: &str) -> u64 {
    let m = crate::money::Money::from_json_text(raw).expect("generated amounts parse");
    crate::paydates::query::cents(m)
}

/// A near-miss: a valid pay date with one field broken, and the field the refusal must name.
fn arb_near_miss() -> impl Strategy<Value = (Line, Line, &'static str)> {
    (arb_pay_date(), 0usize..13, any::<prop::sample::Index>()).prop_map(|(valid, defect, pick)| {
        let mut bad = valid.clone();
        let get = |f: &str| valid.iter().find(|(k, _)| *k == f).unwrap().1.clone();
        let (amount, owed, paid) = (
            cents_of(&get("amount")),
            cents_of(&get("amountOwed")),
            cents_of(&get("amountPaid")),
        );
        let state = state_of(amount, paid);
        let field = match defect {
            0 => {
                // Owed off by one cent, either way.
                let off = if owed == 0 || pick.index(2) == 0 {
                    owed + 1
                } else {
                    owed - 1
                };
                set(&mut bad, "amountOwed", money(off, 0));
                "amountOwed"
            }
            1 => {
                let others: Vec<&str> = ["paid", "partial", "open"]
                    .into_iter()
                    .filter(|s| *s != state)
                    .collect();
                set(&mut bad, "state", format!("\"{}\"", pick.get(&others)));
                "state"
            }
            2 => {
                let s = *pick.get(&["late", "Paid", "", "opened"]);
                set(&mut bad, "state", format!("\"{s}\""));
                "state"
            }
            3 => {
                let d = *pick.get(&[
                    "2024-02-30",
                    "2023-02-29",
                    "2024-13-01",
                    "2024-1-05",
                    "20240105",
                    "2024-04-31",
                ]);
                set(&mut bad, "date", format!("\"{d}\""));
                "date"
            }
            4 => {
                set(&mut bad, "amountPaid", format!("-{}", money(paid + 1, 0)));
                "amountPaid"
            }
            5 => {
                set(
                    &mut bad,
                    "startingCapital",
                    format!("{}1", money(cents_of(&get("startingCapital")), 0)),
                );
                "startingCapital"
            }
            6 => {
                set(&mut bad, "loanBalance", "1e3".into());
                "loanBalance"
            }
            7 => {
                set(&mut bad, "id", "0".into());
                "id"
            }
            8 => {
                set(&mut bad, "loanId", (MAX_SAFE_INTEGER + 1).to_string());
                "loanId"
            }
            9 => {
                bad.retain(|(k, _)| *k != "endingCapital");
                "endingCapital"
            }
            10 => {
                // Nothing to pay: an amount of zero, the rest consistent with it.
                set(&mut bad, "amount", "0.00".into());
                set(&mut bad, "amountOwed", "0.00".into());
                set(&mut bad, "amountPaid", "0.00".into());
                set(&mut bad, "state", "\"open\"".into());
                "amount"
            }
            11 => {
                set(
                    &mut bad,
                    "amount",
                    format!("{}.{:02}1", amount / 100, amount % 100),
                );
                "amount"
            }
            _ => {
                set(&mut bad, "date", "20240516".into());
                "date"
            }
        };
        (valid, bad, field)
    })
}

/// What the import decides for a line.
fn verdict(line: &str) -> Result<Record, String> {
    let r = Record::from_json_line(PAY_DATE_FIELDS, line)?;
    check_pay_date(&r)?;
    Ok(r)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    #[test]
    fn valid_pay_dates_are_accepted_as_sent(line in arb_pay_date()) {
        let text = render(&line);
        let r = verdict(&text);
        prop_assert!(r.is_ok(), "{} refused: {:?}", text, r);
        let r = r.unwrap();
        for (field, raw) in &line {
            let got = match *field {
                "id" | "loanId" => r.int(field).to_string(),
                "state" | "date" => format!("\"{}\"", r.text(field)),
                _ => r.money(field).to_2dp(),
            };
            let want = match *field {
                "id" | "loanId" | "state" | "date" => raw.clone(),
                _ => crate::money::Money::from_json_text(raw).unwrap().to_2dp(),
            };
            prop_assert_eq!(got, want, "{}", field);
        }
    }

    #[test]
    fn near_misses_are_refused_naming_the_field((valid, bad, field) in arb_near_miss()) {
        prop_assert!(verdict(&render(&valid)).is_ok(), "the base line is valid");
        let text = render(&bad);
        match verdict(&text) {
            Ok(_) => prop_assert!(false, "{} accepted (broken: {})", text, field),
            Err(e) => prop_assert!(e.contains(&format!("'{field}'")), "{}: {} (expected '{}')", text, e, field),
        }
    }
}

#[test]
fn the_generators_reach_both_paths() {
    let valid = sample(arb_pay_date(), 300);
    let accepted = valid.iter().filter(|l| verdict(&render(l)).is_ok()).count();
    assert_eq!(accepted, valid.len(), "every valid pay date is accepted");
    let states: std::collections::BTreeSet<String> = valid.iter().map(|l| l[1].1.clone()).collect();
    assert_eq!(states.len(), 3, "paid, partial and open all come up");
    let misses = sample(arb_near_miss(), 300);
    let fields: std::collections::BTreeSet<&str> = misses.iter().map(|m| m.2).collect();
    assert_eq!(
        fields.len(),
        10,
        "every field's near-miss comes up: {fields:?}"
    );
    assert!(misses
        .iter()
        .all(|(_, bad, _)| verdict(&render(bad)).is_err()));
}
