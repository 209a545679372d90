use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::{customer, loan_line, pay_date_line, TestApp};
use shared::import::Kind;

async fn dump(app: &TestApp, table: &str) -> Vec<String> {
    let out = app
        .store
        .client
        .scan()
        .table_name(table)
        .send()
        .await
        .unwrap();
    let mut items: Vec<String> = out
        .items()
        .iter()
        .map(|i| {
            let mut kv: Vec<String> = i.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            kv.sort();
            kv.join(",")
        })
        .collect();
    items.sort();
    items
}

/// The seed's batch sample, corrected where it is malformed (its `partial` line owed 0.00 after
/// paying 50.00 of 100.00) is accepted; the sample as printed is rejected on that line.
#[tokio::test]
async fn the_seed_sample_imports_and_its_malformed_line_is_reported() {
    let app = TestApp::new().await;
    for g in [1, 2, 3] {
        app.create(&customer(g)).await;
    }
    app.import_ok(
        Kind::Loans,
        &[
            loan_line(123, 1, "2024-01-01"),
            loan_line(456, 2, "2024-01-01"),
            loan_line(789, 3, "2024-01-01"),
        ]
        .join("\n"),
    )
    .await;
    let as_printed = r#"{"id": 1, "state": "open", "date": "2024-07-11", "amount": 100.00, "amountOwed": 100.00, "amountPaid": 0.00, "startingCapital": 100000.00, "endingCapital": 99900.00, "loanBalance": 100000.00, "loanId": 123}
{"id": 2, "state": "paid", "date": "2024-07-11", "amount": 100.00, "amountOwed": 0.00, "amountPaid": 100.00, "startingCapital": 500000.00, "endingCapital": 49900.00, "loanBalance": 500000.00, "loanId": 456}
{"id": 3, "state": "partial", "date": "2024-07-11", "amount": 100.00, "amountOwed": 0.00, "amountPaid": 50.00, "startingCapital": 1000.00, "endingCapital": 900.00, "loanBalance": 950.00, "loanId": 789}"#;
    let report = app.import(Kind::PayDates, as_printed).await;
    assert_eq!(report.written, 2);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].0, 3);
    assert!(
        report.rejected[0].1.contains("'amountOwed'"),
        "{:?}",
        report.rejected
    );

    let corrected = as_printed.replace(
        r#""amountOwed": 0.00, "amountPaid": 50.00"#,
        r#""amountOwed": 50.00, "amountPaid": 50.00"#,
    );
    app.import_ok(Kind::PayDates, &corrected).await;
    let r = app.pay_dates(&[("date", "2024-07-11")]).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        v["metadata"],
        serde_json::json!({"totalCount": 3, "numPaid": 1, "numPartial": 1, "numOpen": 1})
    );
}

#[tokio::test]
async fn every_bad_line_is_reported_by_number_and_the_good_ones_are_written() {
    let app = TestApp::new().await;
    app.create(&customer(1)).await;
    let loans = [
        loan_line(10, 1, "2024-01-01"),                                // 1 ok
        String::new(),                                                 // 2 blank: skipped
        loan_line(11, 404, "2024-01-01"),                              // 3 unknown customer
        "{not json".to_string(),                                       // 4
        loan_line(12, 1, "2024-02-30"),                                // 5 impossible date
        loan_line(10, 1, "2024-03-01"),                                // 6 same loan again
        loan_line(13, 1, "2024-01-01").replace("1000000.11", "1.001"), // 7 three decimals
        loan_line(14, 1, "2024-01-01"),                                // 8 ok
    ]
    .join("\n");
    let report = app.import(Kind::Loans, &loans).await;
    let lines: Vec<usize> = report.rejected.iter().map(|(n, _)| *n).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7], "{:?}", report.rejected);
    assert!(report.rejected[0].1.contains("giggleId 404"));
    assert!(report.rejected[2].1.contains("'contractDate'"));
    assert!(report.rejected[3].1.contains("line 1"));
    assert!(report.rejected[4].1.contains("'loanAmount'"));
    assert_eq!(report.written, 2);
    assert_eq!(report.lines, 7);

    let pay_dates = [
        pay_date_line(1, 10, "2024-05-16", "100.00", "0.00"), // 1 ok
        pay_date_line(2, 99, "2024-05-16", "100.00", "0.00"), // 2 unknown loan
        pay_date_line(3, 10, "2024-05-16", "100.00", "100.00"), // 3 second for loan 10 on that day
        pay_date_line(4, 14, "2024-05-16", "100.00", "40.00").replace("\"partial\"", "\"open\""), // 4 state
        pay_date_line(5, 14, "2024-05-23", "100.00", "40.00"), // 5 ok
    ]
    .join("\n");
    let report = app.import(Kind::PayDates, &pay_dates).await;
    let lines: Vec<usize> = report.rejected.iter().map(|(n, _)| *n).collect();
    assert_eq!(lines, [2, 3, 4], "{:?}", report.rejected);
    assert!(report.rejected[0].1.contains("loanId 99"));
    assert!(report.rejected[2].1.contains("'state'"));
    assert_eq!(report.written, 2);
}

#[tokio::test]
async fn importing_twice_changes_nothing() {
    let app = TestApp::new().await;
    app.create(&customer(1)).await;
    let loans = (1..=60)
        .map(|i| loan_line(i, 1, "2024-01-01"))
        .collect::<Vec<_>>()
        .join("\n");
    let pay_dates = (1..=60)
        .map(|i| pay_date_line(i, i, "2024-05-16", "100.00", "25.50"))
        .collect::<Vec<_>>()
        .join("\n");
    app.import_ok(Kind::Loans, &loans).await;
    app.import_ok(Kind::PayDates, &pay_dates).await;
    let (l1, p1) = (
        dump(&app, &app.store.tables.loans).await,
        dump(&app, &app.store.tables.pay_dates).await,
    );
    app.import_ok(Kind::Loans, &loans).await;
    app.import_ok(Kind::PayDates, &pay_dates).await;
    assert_eq!(dump(&app, &app.store.tables.loans).await, l1);
    assert_eq!(dump(&app, &app.store.tables.pay_dates).await, p1);
    assert_eq!(p1.len(), 60);
}

#[tokio::test]
async fn amounts_are_stored_as_exact_decimal_numbers() {
    let app = TestApp::new().await;
    app.create(&customer(1)).await;
    app.import_ok(Kind::Loans, &loan_line(7, 1, "2024-01-01"))
        .await;
    app.import_ok(
        Kind::PayDates,
        &pay_date_line(1, 7, "2024-05-16", "1234567890.10", "0.10"),
    )
    .await;
    let item = app
        .store
        .client
        .get_item()
        .table_name(&app.store.tables.pay_dates)
        .key("loanId", AttributeValue::N("7".into()))
        .key("date", AttributeValue::S("2024-05-16".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["amount"], AttributeValue::N("1234567890.1".into()));
    assert_eq!(item["amountOwed"], AttributeValue::N("1234567890".into()));
    let body = app.loan_pay_dates(7, &[("date", "2024-05-16")]).await.body;
    assert!(
        body.contains(
            r#""amount": 1234567890.10, "amountOwed": 1234567890.00, "amountPaid": 0.10"#
        ),
        "{body}"
    );
}

/// A file longer than one chunk (2,000 lines): line 2,300 repeats line 10's loan with other
/// values. The import documents that a second line for a record is refused wherever it is,
/// naming the first, and the first is what is stored; progress is told after each chunk.
#[tokio::test]
async fn a_duplicate_beyond_the_first_chunk_is_refused_and_the_first_line_kept() {
    const CUSTOMERS: u64 = 20;
    let app = TestApp::new().await;
    const {
        assert!(
            shared::import::CHUNK < 2300,
            "the duplicate must be in a later chunk"
        )
    };
    for g in 1..=CUSTOMERS {
        app.create(&customer(g)).await;
    }
    let mut lines: Vec<String> = (1..=2500u64)
        .map(|l| loan_line(l, 1 + l % CUSTOMERS, "2024-01-01"))
        .collect();
    lines[2299] = loan_line(10, 1 + 10 % CUSTOMERS, "2025-12-31");
    let mut progress = Vec::new();
    let report =
        shared::import::import(&app.store, Kind::Loans, lines.join("\n").as_bytes(), |n| {
            progress.push(n)
        })
        .await
        .expect("the import runs");
    assert_eq!(
        report.rejected,
        [(
            2300,
            "a second line for loan 10 (first on line 10)".to_string()
        )]
    );
    assert_eq!((report.lines, report.written), (2500, 2499));
    assert_eq!(progress, [2000, 2500]);
    let body = app.get(1 + 10 % CUSTOMERS).await.json();
    let loan_10 = body["loanData"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == 10)
        .expect("loan 10 is stored")
        .clone();
    assert_eq!(
        loan_10["contractDate"], "2024-01-01",
        "the first line is kept"
    );
    // Every stored loan counted once on its customer.
    let counted: u64 = integration_tests::scan_all(&app.store, &app.store.tables.customers)
        .await
        .iter()
        .map(|c| match c.get("loanCount") {
            Some(AttributeValue::N(n)) => n.parse::<u64>().unwrap(),
            _ => panic!("a customer without loanCount"),
        })
        .sum();
    assert_eq!(counted, 2499);
}
