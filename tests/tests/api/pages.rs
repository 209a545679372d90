//! Paging rules pinned through the handlers: `limit` from 1 to 5000, a default page of 1000, and
//! on every page of a filtered, sorted walk the counts of the whole query and the matches in
//! order, each once.

use integration_tests::{customer, loan_line, pay_date_line, TestApp};
use serde_json::{json, Value};
use shared::import::Kind;

fn ids(v: &Value) -> Vec<u64> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect()
}

/// Splits off `nextCursor`: the rest of `metadata` is the counts.
fn counts_and_cursor(v: &Value) -> (Value, Option<String>) {
    let mut meta = v["metadata"].clone();
    let next = meta
        .as_object_mut()
        .expect("metadata is an object")
        .remove("nextCursor")
        .map(|c| c.as_str().expect("nextCursor is a string").to_string());
    (meta, next)
}

/// 1,001 loans with a pay date each on 2024-05-16 (ids 1..=1001), and loan 1 with 1,000 more
/// pay dates on the days after it: both routes have 1,001 rows to page through. Written by the
/// import (BatchWriteItem), so the day's counters are kept as in production.
async fn thousand_and_one() -> TestApp {
    let app = TestApp::new().await;
    assert_eq!(app.create(&customer(1)).await.status, 200);
    let loans: Vec<String> = (1..=1001).map(|l| loan_line(l, 1, "2024-01-01")).collect();
    app.import_ok(Kind::Loans, &loans.join("\n")).await;
    let first = chrono::NaiveDate::from_ymd_opt(2024, 5, 16).unwrap();
    let mut lines: Vec<String> = (1..=1001u64)
        .map(|l| {
            let paid = ["0.00", "40.00", "100.00"][(l % 3) as usize];
            pay_date_line(l, l, "2024-05-16", "100.00", paid)
        })
        .collect();
    lines.extend((1..=1000u64).map(|n| {
        let day = first + chrono::Duration::days(n as i64);
        pay_date_line(2000 + n, 1, &day.to_string(), "100.00", "0.00")
    }));
    app.import_ok(Kind::PayDates, &lines.join("\n")).await;
    app
}

#[tokio::test]
async fn the_default_page_is_1000_and_limit_runs_from_1_to_5000() {
    let app = thousand_and_one().await;
    let day = [("date", "2024-05-16")];
    // l % 3: 0 open (333 of 1..=1001), 1 partial (334), 2 paid (334).
    let counts = json!({"totalCount": 1001, "numPaid": 334, "numPartial": 334, "numOpen": 333});

    // /paydates: the default page.
    let r = app.pay_dates(&day).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let (meta, next) = counts_and_cursor(&v);
    assert_eq!(ids(&v).len(), 1000, "the default page");
    assert_eq!(ids(&v), (1..=1000).collect::<Vec<u64>>());
    assert_eq!(meta, counts);
    let next = next.expect("a next page after 1000 of 1001");
    let v = app.pay_dates(&[day[0], ("cursor", &next)]).await.json();
    assert_eq!(ids(&v), [1001]);
    assert_eq!(counts_and_cursor(&v), (counts.clone(), None));

    // /loans/1/paydates (all of the loan's pay dates): the default page too.
    let v = app.loan_pay_dates(1, &[]).await.json();
    assert_eq!(ids(&v).len(), 1000, "the default page of one loan");
    let mut expected: Vec<u64> = vec![1];
    expected.extend(2001..=2999);
    assert_eq!(ids(&v), expected);
    let next = counts_and_cursor(&v).1.expect("a next page");
    let v = app.loan_pay_dates(1, &[("cursor", &next)]).await.json();
    assert_eq!(ids(&v), [3000]);
    assert_eq!(counts_and_cursor(&v).1, None);

    // limit=5000 is accepted: the whole day on one page, no cursor.
    for route in ["all", "loan"] {
        let r = if route == "all" {
            app.pay_dates(&[day[0], ("limit", "5000")]).await
        } else {
            app.loan_pay_dates(1, &[("limit", "5000")]).await
        };
        assert_eq!(r.status, 200, "{route}: {}", r.body);
        let v = r.json();
        assert_eq!(v["data"].as_array().unwrap().len(), 1001, "{route}");
        assert!(v["metadata"].get("nextCursor").is_none(), "{route}");
    }
    // limit=1 is the smallest page.
    let v = app.pay_dates(&[day[0], ("limit", "1")]).await.json();
    assert_eq!(ids(&v), [1]);
    assert_eq!(counts_and_cursor(&v).0, counts);

    // 0 and 5001 are refused, naming limit, on both routes.
    for bad in ["0", "5001", "10000", "00"] {
        let d = app
            .pay_dates(&[day[0], ("limit", bad)])
            .await
            .assert_error(400);
        assert!(d.contains("'limit'"), "{bad}: {d}");
        let d = app
            .loan_pay_dates(1, &[("limit", bad)])
            .await
            .assert_error(400);
        assert!(d.contains("'limit'"), "{bad}: {d}");
    }
}

/// One pay date of the walk's data: (id, loanId, date, amount in cents, state).
type Row = (u64, u64, &'static str, u64, &'static str);

#[tokio::test]
async fn counts_and_order_hold_on_every_page_of_a_filtered_sorted_walk() {
    let app = TestApp::new().await;
    assert_eq!(app.create(&customer(1)).await.status, 200);
    let loans: Vec<String> = (1..=60).map(|l| loan_line(l, 1, "2024-01-01")).collect();
    app.import_ok(Kind::Loans, &loans.join("\n")).await;
    let days = ["2024-05-16", "2024-05-17", "2024-05-20"];
    let mut rows: Vec<Row> = Vec::new();
    let mut lines = Vec::new();
    for l in 1..=60u64 {
        for (k, date) in days.iter().enumerate() {
            if (l + k as u64).is_multiple_of(5) {
                continue;
            }
            // Amounts from 10.00 to 16.99 with many ties (across days and loans).
            let cents = 1000 + (l * 37 + k as u64 * 11) % 7 * 100 + (l % 2) * 99;
            let (paid, state) = match (l + 2 * k as u64) % 3 {
                0 => (0, "open"),
                1 => (cents / 3, "partial"),
                _ => (cents, "paid"),
            };
            let money = |c: u64| format!("{}.{:02}", c / 100, c % 100);
            let id = l * 10 + k as u64;
            rows.push((id, l, date, cents, state));
            lines.push(pay_date_line(id, l, date, &money(cents), &money(paid)));
        }
    }
    app.import_ok(Kind::PayDates, &lines.join("\n")).await;
    let range = [("start_date", "2024-05-15"), ("end_date", "2024-05-21")];
    for (states, sort, order) in [
        ("open,partial", "amount", "desc"),
        ("paid", "amount", "asc"),
        ("partial", "date", "desc"),
        ("open,paid", "date", "asc"),
    ] {
        let wanted: Vec<&str> = states.split(',').collect();
        let mut expected: Vec<Row> = rows
            .iter()
            .filter(|r| wanted.contains(&r.4))
            .copied()
            .collect();
        // The contract's order: the sort key in the asked order, then loanId, then id.
        expected.sort_by(|a, b| {
            let primary = if sort == "amount" {
                a.3.cmp(&b.3)
            } else {
                a.2.cmp(b.2)
            };
            let primary = if order == "desc" {
                primary.reverse()
            } else {
                primary
            };
            primary.then(a.1.cmp(&b.1)).then(a.0.cmp(&b.0))
        });
        let count = |s: &str| expected.iter().filter(|r| r.4 == s).count();
        let counts = json!({
            "totalCount": expected.len(),
            "numPaid": count("paid"),
            "numPartial": count("partial"),
            "numOpen": count("open"),
        });
        let expected: Vec<u64> = expected.iter().map(|r| r.0).collect();
        assert!(expected.len() > 40, "the walk has several pages");

        let what = format!("state={states} sort={sort} order={order}");
        let mut seen: Vec<u64> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut q = range.to_vec();
            q.extend([
                ("state", states),
                ("sort", sort),
                ("order", order),
                ("limit", "7"),
            ]);
            if let Some(c) = &cursor {
                q.push(("cursor", c));
            }
            let r = app.pay_dates(&q).await;
            assert_eq!(r.status, 200, "{what} page {pages}: {}", r.body);
            let v = r.json();
            let (meta, next) = counts_and_cursor(&v);
            assert_eq!(meta, counts, "{what} page {pages}");
            let page = ids(&v);
            let left = expected.len() - seen.len();
            assert_eq!(page.len(), left.min(7), "{what} page {pages}");
            assert_eq!(next.is_some(), left > 7, "{what} page {pages}");
            seen.extend(page);
            pages += 1;
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{what}: every match once, in order");
        assert_eq!(pages, expected.len().div_ceil(7), "{what}");
    }
}
