use integration_tests::{customer, loan_line, pay_date_line, TestApp};
use serde_json::{json, Value};
use shared::import::Kind;

/// Customer 1 with loans 123, 456, 789; pay dates on 2024-05-16 (open, paid, partial) and
/// a few more around it.
async fn seeded() -> TestApp {
    let app = TestApp::new().await;
    app.create(&customer(1)).await;
    app.import_ok(
        Kind::Loans,
        &[123, 456, 789, 1000]
            .map(|l| loan_line(l, 1, "2024-01-01"))
            .join("\n"),
    )
    .await;
    let lines = [
        pay_date_line(1, 123, "2024-05-16", "100.00", "0.00"),
        pay_date_line(2, 456, "2024-05-16", "250.00", "250.00"),
        pay_date_line(3, 789, "2024-05-16", "100.00", "50.00"),
        pay_date_line(4, 123, "2024-05-23", "100.00", "0.00"),
        pay_date_line(5, 123, "2024-06-16", "75.00", "75.00"),
        pay_date_line(6, 456, "2024-05-20", "300.00", "0.00"),
        pay_date_line(7, 123, "2024-06-17", "100.00", "0.00"),
    ];
    app.import_ok(Kind::PayDates, &lines.join("\n")).await;
    app
}

fn ids(v: &Value) -> Vec<u64> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn one_loan_one_day_is_the_seeds_single_object_to_the_byte() {
    let app = seeded().await;
    let r = app.loan_pay_dates(123, &[("date", "2024-05-16")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        r#"{"id": 1, "state": "open", "date": "2024-05-16", "amount": 100.00, "amountOwed": 100.00, "amountPaid": 0.00, "startingCapital": 100000.00, "endingCapital": 99900.00, "loanBalance": 100000.00, "loanId": 123}"#
    );
}

#[tokio::test]
async fn one_loan_missing_day_and_unknown_loan_are_the_contracts_400s() {
    let app = seeded().await;
    let r = app.loan_pay_dates(123, &[("date", "2024-05-17")]).await;
    assert_eq!(
        r.assert_error(400),
        "LoanId 123 has no pay date on 2024-05-17."
    );
    let r = app.loan_pay_dates(555, &[("date", "2024-05-16")]).await;
    assert_eq!(
        r.body,
        r#"{"statusCode": 400, "description": "LoanId 555 not found.", "name": "Bad Request"}"#
    );
    assert_eq!(
        app.loan_pay_dates(555, &[]).await.assert_error(400),
        "LoanId 555 not found."
    );
    for bad in ["abc", "0", "-1", "1.5", "9007199254740992"] {
        assert_eq!(
            app.loan_pay_dates(bad, &[]).await.assert_error(400),
            "LoanId must be a positive integer.",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn one_loan_range_or_no_date_is_the_batch_shape() {
    let app = seeded().await;
    let r = app
        .loan_pay_dates(
            123,
            &[("start_date", "2024-05-16"), ("end_date", "2024-06-16")],
        )
        .await;
    let v = r.json();
    assert_eq!(ids(&v), [1, 4, 5]);
    assert_eq!(
        v["metadata"],
        json!({"totalCount": 3, "numPaid": 1, "numPartial": 0, "numOpen": 2})
    );
    let all = app.loan_pay_dates(123, &[]).await.json();
    assert_eq!(ids(&all), [1, 4, 5, 7]);
    let open_desc = app
        .loan_pay_dates(123, &[("state", "open"), ("order", "desc")])
        .await
        .json();
    assert_eq!(ids(&open_desc), [7, 4, 1]);
}

#[tokio::test]
async fn today_resolves_in_the_callers_time_zone() {
    let app = TestApp::new().await;
    app.create(&customer(1)).await;
    app.import_ok(Kind::Loans, &loan_line(42, 1, "2024-01-01"))
        .await;
    let today = |tz: chrono_tz::Tz| {
        chrono::Utc::now()
            .with_timezone(&tz)
            .date_naive()
            .to_string()
    };
    let zones = [
        "America/Chicago",
        "America/New_York",
        "America/Los_Angeles",
        "America/Denver",
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
    ];
    let mut days: Vec<String> = zones.iter().map(|z| today(z.parse().unwrap())).collect();
    days.sort();
    days.dedup();
    let lines: Vec<String> = days
        .iter()
        .enumerate()
        .map(|(i, d)| pay_date_line(i as u64 + 1, 42, d, "10.00", "0.00"))
        .collect();
    app.import_ok(Kind::PayDates, &lines.join("\n")).await;
    for (spelling, zone) in [
        ("America/NewYork", "America/New_York"),
        ("America/LosAngeles", "America/Los_Angeles"),
        ("america/chicago", "America/Chicago"),
        ("America/Denver", "America/Denver"),
        ("PACIFIC/KIRITIMATI", "Pacific/Kiritimati"),
        ("Pacific/PagoPago", "Pacific/Pago_Pago"),
    ] {
        let r = app
            .loan_pay_dates(42, &[("date", "today"), ("timezone", spelling)])
            .await;
        assert_eq!(r.status, 200, "{spelling}: {}", r.body);
        assert_eq!(r.json()["date"], today(zone.parse().unwrap()), "{spelling}");
    }
    let r = app.loan_pay_dates(42, &[("date", "today")]).await;
    assert_eq!(
        r.json()["date"],
        today(chrono_tz::America::Chicago),
        "default America/Chicago"
    );
    let r = app
        .pay_dates(&[("date", "today"), ("timezone", "America/NewYork")])
        .await;
    assert_eq!(
        r.json()["data"][0]["date"],
        today(chrono_tz::America::New_York)
    );
    let d = app
        .loan_pay_dates(42, &[("date", "today"), ("timezone", "America/Gotham")])
        .await
        .assert_error(400);
    assert!(d.contains("'timezone'"), "{d}");
}

#[tokio::test]
async fn all_loans_for_a_day_with_counts() {
    let app = seeded().await;
    let r = app.pay_dates(&[("date", "2024-05-16")]).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(ids(&v), [1, 2, 3]);
    assert_eq!(
        v["metadata"],
        json!({"totalCount": 3, "numPaid": 1, "numPartial": 1, "numOpen": 1})
    );
    assert!(
        r.body.starts_with(
            r#"{"data": [{"id": 1, "state": "open", "date": "2024-05-16", "amount": 100.00, "#
        ),
        "{}",
        r.body
    );
    assert!(
        r.body.ends_with(
            r#"], "metadata": {"totalCount": 3, "numPaid": 1, "numPartial": 1, "numOpen": 1}}"#
        ),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn state_filters_repeat_or_comma_separate_and_counts_follow_the_filter() {
    let app = seeded().await;
    for query in [
        vec![
            ("date", "2024-05-16"),
            ("state", "open"),
            ("state", "partial"),
        ],
        vec![("date", "2024-05-16"), ("state", "open,partial")],
    ] {
        let v = app.pay_dates(&query).await.json();
        assert_eq!(ids(&v), [1, 3]);
        assert_eq!(
            v["metadata"],
            json!({"totalCount": 2, "numPaid": 0, "numPartial": 1, "numOpen": 1})
        );
    }
    let v = app
        .pay_dates(&[("date", "2024-05-16"), ("state", "paid")])
        .await
        .json();
    assert_eq!(ids(&v), [2]);
    app.pay_dates(&[("date", "2024-05-16"), ("state", "late")])
        .await
        .assert_error(400);
}

#[tokio::test]
async fn ranges_sort_by_date_or_amount_in_either_order_with_stable_ties() {
    let app = seeded().await;
    let range = [("start_date", "2024-05-16"), ("end_date", "2024-06-16")];
    let q = |extra: &[(&'static str, &'static str)]| {
        let mut v = range.to_vec();
        v.extend_from_slice(extra);
        v
    };
    assert_eq!(
        ids(&app.pay_dates(&q(&[])).await.json()),
        [1, 2, 3, 6, 4, 5]
    );
    assert_eq!(
        ids(&app
            .pay_dates(&q(&[("sort", "date"), ("order", "desc")]))
            .await
            .json()),
        [5, 4, 6, 1, 2, 3]
    );
    // amount: 75 (5), 100 (1 loan 123, 3 loan 789, 4 loan 123: ties by loanId then id), 250, 300
    assert_eq!(
        ids(&app
            .pay_dates(&q(&[("sort", "amount"), ("order", "asc")]))
            .await
            .json()),
        [5, 1, 4, 3, 2, 6]
    );
    assert_eq!(
        ids(&app
            .pay_dates(&q(&[("sort", "amount"), ("order", "desc")]))
            .await
            .json()),
        [6, 2, 1, 4, 3, 5]
    );
    let v = app.pay_dates(&q(&[])).await.json();
    assert_eq!(
        v["metadata"],
        json!({"totalCount": 6, "numPaid": 2, "numPartial": 1, "numOpen": 3})
    );
}

async fn page_through(app: &TestApp, query: &[(&str, &str)], limit: &str) -> (Vec<u64>, usize) {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut q: Vec<(&str, &str)> = query.to_vec();
        q.push(("limit", limit));
        if let Some(c) = &cursor {
            q.push(("cursor", c.as_str()));
        }
        let r = app.pay_dates(&q).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        seen.extend(ids(&v));
        pages += 1;
        assert!(pages < 1000, "paging does not end");
        match v["metadata"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return (seen, pages),
        }
    }
}

#[tokio::test]
async fn paging_gives_every_match_once_in_order() {
    let app = seeded().await;
    let range = [("start_date", "2024-05-01"), ("end_date", "2024-06-30")];
    let whole = ids(&app.pay_dates(&range).await.json());
    assert_eq!(whole.len(), 7);
    for extra in [
        vec![],
        vec![("order", "desc")],
        vec![("sort", "amount")],
        vec![("sort", "amount"), ("order", "desc")],
        vec![("state", "open")],
    ] {
        let mut q = range.to_vec();
        q.extend(extra.iter().cloned());
        let expected = ids(&app.pay_dates(&q).await.json());
        for limit in ["1", "2", "3", "7"] {
            let (paged, pages) = page_through(&app, &q, limit).await;
            assert_eq!(paged, expected, "{q:?} limit {limit}");
            let per_page: usize = limit.parse().unwrap();
            assert_eq!(
                pages,
                expected.len().div_ceil(per_page).max(1),
                "{q:?} limit {limit}"
            );
        }
    }
    // The counts are over everything, not just the page.
    let v = app
        .pay_dates(&[
            ("start_date", "2024-05-01"),
            ("end_date", "2024-06-30"),
            ("limit", "2"),
        ])
        .await
        .json();
    assert_eq!(v["metadata"]["totalCount"], 7);
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert!(v["metadata"]["nextCursor"].is_string());
    let last = app
        .pay_dates(&[("start_date", "2024-05-01"), ("end_date", "2024-06-30")])
        .await
        .json();
    assert!(last["metadata"].get("nextCursor").is_none());
}

#[tokio::test]
async fn a_tampered_or_foreign_cursor_is_400() {
    let app = seeded().await;
    let v = app
        .pay_dates(&[("date", "2024-05-16"), ("limit", "1")])
        .await
        .json();
    let cursor = v["metadata"]["nextCursor"].as_str().unwrap().to_string();
    let mut tampered = cursor.clone().into_bytes();
    tampered[5] = if tampered[5] == b'x' { b'y' } else { b'x' };
    let tampered = String::from_utf8(tampered).unwrap();
    for c in [tampered.as_str(), "garbage", "", "a.b"] {
        let d = app
            .pay_dates(&[("date", "2024-05-16"), ("limit", "1"), ("cursor", c)])
            .await
            .assert_error(400);
        assert!(d.contains("'cursor'"), "{d}");
    }
    let d = app
        .pay_dates(&[("date", "2024-05-20"), ("cursor", &cursor)])
        .await
        .assert_error(400);
    assert!(d.contains("'cursor'"));
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    let app = seeded().await;
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "'date'"),
        (vec![("date", "2024-02-30")], "'date'"),
        (vec![("date", "16-05-2024")], "'date'"),
        (vec![("start_date", "2024-05-16")], "'start_date'"),
        (vec![("end_date", "2024-05-16")], "'end_date'"),
        (
            vec![("start_date", "2024-06-16"), ("end_date", "2024-05-16")],
            "'start_date'",
        ),
        (
            vec![("start_date", "2024-01-01"), ("end_date", "2025-01-02")],
            "'end_date'",
        ),
        (
            vec![("start_date", "2024-13-01"), ("end_date", "2024-12-02")],
            "'start_date'",
        ),
        (
            vec![
                ("date", "2024-05-16"),
                ("start_date", "2024-05-16"),
                ("end_date", "2024-05-17"),
            ],
            "'date'",
        ),
        (
            vec![("date", "today"), ("timezone", "Mars/Base")],
            "'timezone'",
        ),
        (vec![("date", "2024-05-16"), ("sort", "loanId")], "'sort'"),
        (vec![("date", "2024-05-16"), ("order", "random")], "'order'"),
        (vec![("date", "2024-05-16"), ("limit", "5001")], "'limit'"),
        (vec![("date", "2024-05-16"), ("limit", "-1")], "'limit'"),
        (vec![("date", "2024-05-16"), ("page", "2")], "'page'"),
    ];
    for (q, named) in cases {
        let d = app.pay_dates(&q).await.assert_error(400);
        assert!(d.contains(named), "{q:?}: {d}");
        if !q.is_empty() {
            let d = app.loan_pay_dates(123, &q).await.assert_error(400);
            assert!(d.contains(named), "loan route {q:?}: {d}");
        }
    }
    // 366 days, both ends included, is the longest range.
    assert_eq!(
        app.pay_dates(&[("start_date", "2024-01-01"), ("end_date", "2024-12-31")])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn the_pay_date_routes_need_a_key_too() {
    let app = seeded().await;
    let r = app
        .call(integration_tests::Op::PayDates, "GET", "/paydates")
        .query("date", "2024-05-16")
        .without_header("authorization")
        .send()
        .await;
    r.assert_error(401);
    let r = app
        .call(
            integration_tests::Op::LoanPayDates,
            "GET",
            "/loans/123/paydates",
        )
        .without_header("authorization")
        .send()
        .await;
    r.assert_error(401);
}

#[tokio::test]
async fn one_loans_single_day_takes_no_filter_sort_or_paging() {
    let app = seeded().await;
    for p in ["state", "sort", "order", "limit", "cursor"] {
        let value = match p {
            "state" => "paid",
            "sort" => "amount",
            "order" => "desc",
            "limit" => "5",
            _ => "x.y",
        };
        let d = app
            .loan_pay_dates(123, &[("date", "2024-05-16"), (p, value)])
            .await
            .assert_error(400);
        assert!(d.contains(&format!("'{p}'")), "{p}: {d}");
    }
}

/// `sort=amount` over a range: the contract's order (amount in the asked order, then `loanId`,
/// then `id`, ascending), with many ties, a day where every pay date has the same amount, and
/// the state filter; pages of every size give every match once, in that order.
#[tokio::test]
async fn amount_order_and_keyset_paging_across_a_range() {
    let app = TestApp::new().await;
    app.create(&customer(1)).await;
    app.import_ok(
        Kind::Loans,
        &(1..=30)
            .map(|l| loan_line(l, 1, "2024-01-01"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .await;
    let amounts = ["7.25", "25.50", "100.00", "100.00", "1234.56"];
    // (amount in cents, loanId, id, state)
    let mut rows: Vec<(u64, u64, u64, &str)> = Vec::new();
    let mut lines = Vec::new();
    for l in 1..=30u64 {
        for (k, date) in ["2024-07-01", "2024-07-02", "2024-07-04", "2024-07-05"]
            .iter()
            .enumerate()
        {
            let k = k as u64;
            if (l + k).is_multiple_of(5) {
                continue;
            }
            // The same loan often has the same amount on several days: `id` breaks the tie.
            let amount = amounts[((l * 3 + k / 2) % 5) as usize];
            let (paid, state) = match (l + k) % 3 {
                0 => ("0.00", "open"),
                1 => ("1.00", "partial"),
                _ => (amount, "paid"),
            };
            let id = 1000 - (l * 10 + k);
            let cents: u64 = amount.replace('.', "").parse().unwrap();
            rows.push((cents, l, id, state));
            lines.push(pay_date_line(id, l, date, amount, paid));
        }
        // One day where all thirty share one amount.
        let id = 5000 + l;
        let (paid, state) = if l % 2 == 0 {
            ("0.00", "open")
        } else {
            ("50.00", "paid")
        };
        rows.push((5000, l, id, state));
        lines.push(pay_date_line(id, l, "2024-07-03", "50.00", paid));
    }
    app.import_ok(Kind::PayDates, &lines.join("\n")).await;
    let range = [("start_date", "2024-07-01"), ("end_date", "2024-07-06")];
    for (order, states) in [
        ("asc", None),
        ("desc", None),
        ("asc", Some("open,partial")),
        ("desc", Some("open")),
    ] {
        let mut expected: Vec<(u64, u64, u64, &str)> = rows
            .iter()
            .filter(|r| states.is_none_or(|s| s.split(',').any(|st| st == r.3)))
            .copied()
            .collect();
        expected.sort_by(|a, b| {
            let primary = if order == "desc" {
                b.0.cmp(&a.0)
            } else {
                a.0.cmp(&b.0)
            };
            primary.then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
        });
        let expected: Vec<u64> = expected.iter().map(|r| r.2).collect();
        let mut q = range.to_vec();
        q.extend([("sort", "amount"), ("order", order)]);
        if let Some(s) = states {
            q.push(("state", s));
        }
        for limit in ["2", "9", "1000"] {
            let (paged, _) = page_through(&app, &q, limit).await;
            assert_eq!(paged, expected, "{q:?} limit {limit}");
        }
        // One day: the all-equal day pages by loan then id, both orders alike.
        let (one_day, _) = page_through(
            &app,
            &[("date", "2024-07-03"), ("sort", "amount"), ("order", order)],
            "4",
        )
        .await;
        assert_eq!(one_day, (5001..=5030).collect::<Vec<u64>>(), "{order}");
    }
}
