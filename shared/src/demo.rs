//! A small, realistic data set for a newcomer's first requests (`make run` loads it unless
//! `DEMO=0`): three customers, four loans, weekly pay dates from four weeks back to four weeks
//! ahead, one of them today, in mixed states. The loans and pay dates go through the import like
//! any other file.

use crate::import::{self, Kind};
use crate::store::Store;
use chrono::{Duration, NaiveDate};
use serde_json::json;
use std::path::Path;

/// The demo customers: the seed's own, a second person and a company.
pub fn customers() -> Vec<serde_json::Value> {
    vec![
        json!({"giggleId": 89043762, "active": true, "customerType": "person", "ssn": "123-45-6789",
               "dob": "2000-01-30", "name": "John", "surname": "Doe", "email": "john.doe@email.com",
               "address": {"street1": "123 Main St.", "street2": "Suite 5.", "country": "USA",
                           "city": "Austin", "state": "TX", "zip": "22222"},
               "phone": {"number": "123-456-7890", "type": "mobile", "carrierVerified": true, "carrierName": "AT&T"}}),
        json!({"giggleId": 89043763, "active": true, "customerType": "person", "ssn": "234-56-7890",
               "dob": "1985-07-04", "name": "Maria", "surname": "Garcia", "email": "maria.garcia@example.com",
               "address": {"street1": "77 Elm Ave", "country": "USA", "city": "Chicago", "state": "IL", "zip": "60601"}}),
        json!({"giggleId": 89043764, "active": true, "customerType": "company", "ein": "12-3456789",
               "companyName": "Lone Star Freight LLC", "dob": "1979-11-12", "name": "Sam", "surname": "Houston",
               "email": "sam@lonestarfreight.example",
               "phone": {"number": "(512) 555-0100", "type": "office"}}),
    ]
}

/// A loan's fields but the amounts, which the caller sets from their text.
fn loan(id: u64, giggle_id: u64, contract: NaiveDate, state: &str) -> serde_json::Value {
    let d = |days: i64| (contract + Duration::days(days)).to_string();
    json!({"id": id, "giggleId": giggle_id, "state": state,
           "loanTerm": 52, "contractDate": d(0), "firstPaymentDate": d(14), "loanClass": "gold",
           "loanType": "instalment", "discountSavings": "0.00", "disbursementFee": "25.99",
           "discountDate": d(5), "renewalIncrement": 8, "applicationId": 79834 + id, "fundedDate": d(3),
           "partnerId": 75475, "leadId": 456312 + id, "ccrScore": 800, "clarityScore": 788,
           "daysOverDue": 0})
}

/// The JSON Lines of the demo's loans and pay dates, around `today`.
pub fn lines(today: NaiveDate) -> (String, String) {
    let loans = [
        (768943u64, 89043762u64, "5200.00", 70i64, "active"),
        (768944, 89043762, "2600.00", 40, "active"),
        (768945, 89043763, "10400.00", 60, "active"),
        (768946, 89043764, "52000.00", 30, "active"),
    ];
    let mut loan_lines = String::new();
    let mut pay_lines = String::new();
    let mut pay_id = 1u64;
    for (id, giggle_id, amount, age_days, state) in loans {
        let contract = today - Duration::days(age_days);
        let mut l = loan(id, giggle_id, contract, state);
        // Amounts are written from their text, never through a float.
        l["loanAmount"] = serde_json::from_str(amount).expect("a decimal literal");
        l["oFee"] = serde_json::from_str("200.55").unwrap();
        l["disbursementAmount"] = serde_json::from_str(amount).unwrap();
        l["amountOverdue"] = serde_json::from_str("0.00").unwrap();
        l["contractBalance"] = serde_json::from_str(amount).unwrap();
        loan_lines.push_str(&l.to_string());
        loan_lines.push('\n');

        // Weekly instalments of amount / 52, four weeks back to four weeks ahead of today.
        let total: i64 = amount.replace('.', "").parse().expect("cents");
        let instalment = total / 52;
        let mut balance = total;
        for week in -4i64..=4 {
            let date = today + Duration::days(7 * week);
            let paid = match (week, id % 3) {
                (w, _) if w < 0 => instalment,
                (0, 0) => instalment,
                (0, 1) => instalment / 2,
                _ => 0,
            };
            let state = if paid == instalment {
                "paid"
            } else if paid == 0 {
                "open"
            } else {
                "partial"
            };
            let cents = |c: i64| format!("{}.{:02}", c / 100, c % 100);
            let line = format!(
                r#"{{"id": {pay_id}, "state": "{state}", "date": "{date}", "amount": {}, "amountOwed": {}, "amountPaid": {}, "startingCapital": {}, "endingCapital": {}, "loanBalance": {}, "loanId": {id}}}"#,
                cents(instalment),
                cents(instalment - paid),
                cents(paid),
                cents(balance),
                cents(balance - instalment),
                cents(balance - paid),
            );
            balance -= paid;
            pay_lines.push_str(&line);
            pay_lines.push('\n');
            pay_id += 1;
        }
    }
    (loan_lines, pay_lines)
}

/// Creates the demo customers (a repeat run answers "already there" and changes nothing),
/// writes the loans and pay dates as JSON Lines into `dir` and imports them.
pub async fn load(store: &Store, dir: &Path) -> Result<(), String> {
    let today = crate::time::today();
    let actor = crate::audit::Actor::operator("load-demo");
    for c in customers() {
        let body = c.as_object().expect("an object").clone();
        match crate::customers::create(store, &actor, &body, today).await {
            Ok(_) | Err(crate::ApiError::Conflict(_)) => {}
            Err(e) => return Err(format!("demo customer: {e}")),
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (loans, pay_dates) = lines(today);
    for (name, text, kind) in [
        ("loans.jsonl", &loans, Kind::Loans),
        ("paydates.jsonl", &pay_dates, Kind::PayDates),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        let report = import::import(store, kind, text.as_bytes(), |_| {}).await?;
        if !report.rejected.is_empty() {
            return Err(format!("demo {name}: rejected {:?}", report.rejected));
        }
        println!(
            "demo: {} {} from {}",
            report.written,
            name.trim_end_matches(".jsonl"),
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{check_pay_date, Record, LOAN_FIELDS, PAY_DATE_FIELDS};

    #[test]
    fn the_demo_lines_pass_the_import_checks_and_cover_today() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let (loans, pay_dates) = lines(today);
        for l in loans.lines() {
            Record::from_json_line(LOAN_FIELDS, l).unwrap();
        }
        let mut states_today = std::collections::BTreeSet::new();
        for l in pay_dates.lines() {
            let r = Record::from_json_line(PAY_DATE_FIELDS, l).unwrap();
            check_pay_date(&r).unwrap_or_else(|e| panic!("{l}: {e}"));
            if r.text("date") == "2026-11-24" {
                states_today.insert(r.text("state").to_string());
            }
        }
        assert_eq!(
            states_today.len(),
            3,
            "today has paid, partial and open pay dates: {states_today:?}"
        );
    }
}
