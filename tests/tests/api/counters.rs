//! The per-day counters: exact after every import, after a re-import that changes states, under
//! two imports at once, and for pay dates stored before the counters existed; and `metadata`,
//! built from them, exact on every page of a walk.

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::{customer, loan_line, pay_date_line, TestApp};
use serde_json::{json, Value};
use shared::import::Kind;
use shared::paydates::{Dates, DayCounts};
use shared::records::{Record, PAY_DATE_FIELDS};
use std::collections::BTreeMap;

fn day(s: &str) -> chrono::NaiveDate {
    shared::validate::parse_date(s).unwrap()
}

/// An app with one customer and loans `1..=loans`.
async fn with_loans(loans: u64) -> TestApp {
    let app = TestApp::new().await;
    app.create(&customer(1)).await;
    let lines: Vec<String> = (1..=loans).map(|l| loan_line(l, 1, "2024-01-01")).collect();
    app.import_ok(Kind::Loans, &lines.join("\n")).await;
    app
}

/// What the pay-dates table holds, counted from a Scan: the truth the counters must match.
async fn scanned(app: &TestApp) -> BTreeMap<String, DayCounts> {
    let mut out: BTreeMap<String, DayCounts> = BTreeMap::new();
    let mut start = None;
    loop {
        let page = app
            .store
            .client
            .scan()
            .table_name(&app.store.tables.pay_dates)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in page.items() {
            let (Some(AttributeValue::S(d)), Some(AttributeValue::S(s))) =
                (item.get("date"), item.get("state"))
            else {
                panic!("a pay date without date or state: {item:?}");
            };
            let c = out.entry(d.clone()).or_default();
            c.total += 1;
            match s.as_str() {
                "paid" => c.paid += 1,
                "partial" => c.partial += 1,
                _ => c.open += 1,
            }
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return out;
        }
    }
}

/// The counters of every day from `first` to `last` that has any.
async fn counters(app: &TestApp, first: &str, last: &str) -> BTreeMap<String, DayCounts> {
    app.store
        .day_counts(Dates::Range(day(first), day(last)))
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, c)| *c != DayCounts::default())
        .map(|(d, c)| (d.to_string(), c))
        .collect()
}

async fn assert_counters_match_the_table(app: &TestApp) {
    let truth = scanned(app).await;
    let kept = counters(app, "2024-01-01", "2024-12-31").await;
    assert_eq!(kept, truth, "counters (left) against the table (right)");
    for (d, c) in &kept {
        assert_eq!(
            c.total,
            c.paid + c.partial + c.open,
            "{d}: total is the sum"
        );
    }
}

/// The pay date of `loan` on `date`, in a state chosen by `kind` (0 open, 1 partial, 2 paid).
fn line(id: u64, loan: u64, date: &str, kind: u64) -> String {
    let paid = ["0.00", "40.00", "100.00"][(kind % 3) as usize];
    pay_date_line(id, loan, date, "100.00", paid)
}

#[tokio::test]
async fn counts_follow_imports_and_re_imports_that_change_states() {
    let app = with_loans(90).await;
    let first: Vec<String> = (1..=90).map(|l| line(l, l, "2024-05-16", 0)).collect();
    app.import_ok(Kind::PayDates, &first.join("\n")).await;
    assert_eq!(
        counters(&app, "2024-05-16", "2024-05-16").await["2024-05-16"],
        DayCounts {
            total: 90,
            paid: 0,
            partial: 0,
            open: 90
        }
    );
    // The same file again changes nothing.
    app.import_ok(Kind::PayDates, &first.join("\n")).await;
    assert_counters_match_the_table(&app).await;
    // 30 become partial, 30 paid, 30 stay open; 10 pay dates on another day appear.
    let mut second: Vec<String> = (1..=90).map(|l| line(l, l, "2024-05-16", l % 3)).collect();
    second.extend((1..=10).map(|l| line(100 + l, l, "2024-05-23", 2)));
    app.import_ok(Kind::PayDates, &second.join("\n")).await;
    let kept = counters(&app, "2024-05-01", "2024-05-31").await;
    assert_eq!(
        kept["2024-05-16"],
        DayCounts {
            total: 90,
            paid: 30,
            partial: 30,
            open: 30
        }
    );
    assert_eq!(kept["2024-05-23"].paid, 10);
    assert_counters_match_the_table(&app).await;
    // And the API answers with them.
    let v = app.pay_dates(&[("date", "2024-05-16")]).await.json();
    assert_eq!(
        v["metadata"],
        json!({"totalCount": 90, "numPaid": 30, "numPartial": 30, "numOpen": 30})
    );
    // Back again: every count moves back.
    app.import_ok(Kind::PayDates, &first.join("\n")).await;
    assert_eq!(
        counters(&app, "2024-05-16", "2024-05-16").await["2024-05-16"],
        DayCounts {
            total: 90,
            paid: 0,
            partial: 0,
            open: 90
        }
    );
    assert_counters_match_the_table(&app).await;
}

/// Two imports of the same pay dates in different states, at the same time, again and again:
/// whichever wins each pay date, the counts are those of what the table holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_imports_at_once_leave_the_counts_exact() {
    let app = std::sync::Arc::new(with_loans(240).await);
    for round in 0..3u64 {
        // Both files touch loans 1..=200 on two days, in states that differ line by line; each
        // also has pay dates the other lacks.
        let file = |shift: u64, extra: std::ops::RangeInclusive<u64>| -> String {
            let mut lines = Vec::new();
            for l in (1..=200).chain(extra) {
                lines.push(line(l, l, "2024-06-03", l + shift + round));
                lines.push(line(1000 + l, l, "2024-06-04", l * 7 + shift + round));
            }
            lines.join("\n")
        };
        let (a, b) = (file(0, 201..=220), file(1, 221..=240));
        let (app_a, app_b) = (app.clone(), app.clone());
        let one = tokio::spawn(async move { app_a.import_ok(Kind::PayDates, &a).await });
        let two = tokio::spawn(async move { app_b.import_ok(Kind::PayDates, &b).await });
        one.await.unwrap();
        two.await.unwrap();
        let truth = scanned(&app).await;
        assert_eq!(truth["2024-06-03"].total, 240, "round {round}");
        assert_counters_match_the_table(&app).await;
    }
}

/// A pay date stored before the counters existed (no `amountKey`) is counted once when it is
/// next written, and not again after that.
#[tokio::test]
async fn a_pay_date_from_before_the_counters_is_counted_when_next_written() {
    let app = with_loans(2).await;
    let old = line(1, 1, "2024-05-16", 0);
    let record = Record::from_json_line(PAY_DATE_FIELDS, &old).unwrap();
    app.store
        .client
        .put_item()
        .table_name(&app.store.tables.pay_dates)
        .set_item(Some(record.to_item()))
        .send()
        .await
        .unwrap();
    assert!(counters(&app, "2024-05-16", "2024-05-16").await.is_empty());
    for _ in 0..2 {
        app.import_ok(
            Kind::PayDates,
            &[line(1, 1, "2024-05-16", 2), line(2, 2, "2024-05-16", 1)].join("\n"),
        )
        .await;
        assert_eq!(
            counters(&app, "2024-05-16", "2024-05-16").await["2024-05-16"],
            DayCounts {
                total: 2,
                paid: 1,
                partial: 1,
                open: 0
            }
        );
    }
    assert_counters_match_the_table(&app).await;
}

fn ids(v: &Value) -> Vec<u64> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect()
}

/// Every page of a walk carries the counts of the whole query, not of the page, and the walk
/// gives every match once.
#[tokio::test]
async fn metadata_is_exact_on_every_page_of_a_walk() {
    let app = with_loans(150).await;
    let mut lines = Vec::new();
    let (mut paid, mut partial, mut open) = (0, 0, 0);
    for l in 1..=150u64 {
        for (k, date) in ["2024-05-16", "2024-05-17", "2024-05-20"]
            .iter()
            .enumerate()
        {
            if (l + k as u64).is_multiple_of(4) {
                continue;
            }
            let kind = (l * 5 + k as u64) % 3;
            match kind {
                0 => open += 1,
                1 => partial += 1,
                _ => paid += 1,
            }
            lines.push(line(l * 10 + k as u64, l, date, kind));
        }
    }
    app.import_ok(Kind::PayDates, &lines.join("\n")).await;
    let range = [("start_date", "2024-05-15"), ("end_date", "2024-05-21")];
    for (extra, expected) in [
        (
            vec![],
            json!({"totalCount": paid + partial + open, "numPaid": paid, "numPartial": partial, "numOpen": open}),
        ),
        (
            vec![
                ("state", "open,partial"),
                ("sort", "amount"),
                ("order", "desc"),
            ],
            json!({"totalCount": partial + open, "numPaid": 0, "numPartial": partial, "numOpen": open}),
        ),
        (
            vec![("state", "paid"), ("order", "desc")],
            json!({"totalCount": paid, "numPaid": paid, "numPartial": 0, "numOpen": 0}),
        ),
    ] {
        let mut cursor: Option<String> = None;
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let mut q = range.to_vec();
            q.extend(extra.iter().cloned());
            q.push(("limit", "37"));
            if let Some(c) = &cursor {
                q.push(("cursor", c));
            }
            let v = app.pay_dates(&q).await.json();
            let mut meta = v["metadata"].clone();
            let next = meta
                .as_object_mut()
                .unwrap()
                .remove("nextCursor")
                .and_then(|c| c.as_str().map(String::from));
            assert_eq!(meta, expected, "{extra:?} page {pages}");
            seen.extend(ids(&v));
            pages += 1;
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let n = expected["totalCount"].as_u64().unwrap() as usize;
        assert_eq!(seen.len(), n, "{extra:?}");
        assert_eq!(pages, n.div_ceil(37), "{extra:?}");
        let mut distinct = seen.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), n, "every match once: {extra:?}");
    }
}
