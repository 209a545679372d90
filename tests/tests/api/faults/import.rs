//! The import under faults: DynamoDB's unprocessed items retried until every line is written
//! exactly once; a failing store stops the import with nothing half-written, and a re-run
//! completes it.

use super::rig;
use integration_tests::faults::{on, Fault};
use integration_tests::{
    customer, loan_line, number_of, pay_date_line, scan_all, stored_customer_item, TestApp,
};
use shared::import::Kind;
use shared::paydates::query::Dates;

/// `n` loan lines for customer 1, ids from 1000.
fn loan_lines(n: u64) -> String {
    (0..n)
        .map(|i| loan_line(1000 + i, 1, "2024-05-01"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Pay dates of loan 11 on `days` days of May 2024, states in turn open, partial, paid.
fn pay_date_lines(days: u32) -> String {
    (1..=days)
        .map(|d| {
            let paid = ["0.00", "40.00", "100.00"][d as usize % 3];
            pay_date_line(u64::from(d), 11, &format!("2024-05-{d:02}"), "100.00", paid)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Loan ids stored, sorted.
async fn stored_loans(app: &TestApp) -> Vec<u64> {
    let mut ids: Vec<u64> = scan_all(&app.store, &app.store.tables.loans)
        .await
        .iter()
        .map(|item| item["loanId"].as_n().unwrap().parse().unwrap())
        .collect();
    ids.sort();
    ids
}

/// The customer's `loanCount` as stored (the delete guard's count, moved with each new loan).
async fn loan_count(app: &TestApp, giggle_id: u64) -> u64 {
    let item = stored_customer_item(app, giggle_id)
        .await
        .expect("the customer is stored");
    number_of(&item, "loanCount").expect("a loanCount")
}

/// The counters agree with the pay dates stored, day by day and state by state (a pay date
/// and its count land together or not at all), and `/paydates` says so; returns how many pay
/// dates are stored.
async fn assert_counts_match_pay_dates(app: &TestApp) -> usize {
    use chrono::NaiveDate;
    let stored = scan_all(&app.store, &app.store.tables.pay_dates).await;
    let may = |d: u32| NaiveDate::from_ymd_opt(2024, 5, d).unwrap();
    let counts = app
        .store
        .day_counts(Dates::Range(may(1), may(31)))
        .await
        .unwrap();
    for d in 1..=31 {
        let day = may(d).to_string();
        let count = |state: Option<&str>| {
            stored
                .iter()
                .filter(|item| item["date"].as_s().is_ok_and(|s| *s == day))
                .filter(|item| state.is_none_or(|st| item["state"].as_s().is_ok_and(|s| s == st)))
                .count() as i64
        };
        let c = counts.get(&may(d)).copied().unwrap_or_default();
        assert_eq!(
            (c.total, c.open, c.partial, c.paid),
            (
                count(None),
                count(Some("open")),
                count(Some("partial")),
                count(Some("paid"))
            ),
            "{day}"
        );
    }
    let r = app
        .pay_dates(&[("start_date", "2024-05-01"), ("end_date", "2024-05-31")])
        .await;
    assert_eq!(
        r.json()["metadata"]["totalCount"],
        stored.len(),
        "{}",
        r.body
    );
    stored.len()
}

#[tokio::test]
async fn the_import_retries_unprocessed_items_and_writes_every_line_once() {
    let rig = rig().await;
    assert_eq!(rig.app.create(&customer(1)).await.status, 200);
    let t = rig.app.store.tables.clone();

    // Loans: 60 lines of one customer are three transactions (25, 25, 10), each after a
    // BatchGetItem of its loans. The first two lookups of the customer and the first three reads
    // of the loans come back wholly unprocessed, and are asked again.
    let customers = rig.proxy.inject(
        on("BatchGetItem").table(&t.customers).times(2),
        Fault::Unprocessed,
    );
    let loans = rig.proxy.inject(
        on("BatchGetItem").table(&t.loans).times(3),
        Fault::Unprocessed,
    );
    let report = rig.patient.import(Kind::Loans, &loan_lines(60)).await;
    assert_eq!((report.lines, report.written), (60, 60));
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(
        (customers.get(), loans.get()),
        (2, 3),
        "the faults were met"
    );
    assert_eq!(
        rig.proxy.calls("TransactWriteItems"),
        3,
        "each transaction reached DynamoDB once: every line written exactly once"
    );
    assert_eq!(
        stored_loans(&rig.app).await,
        (1000..1060).collect::<Vec<_>>()
    );
    assert_eq!(loan_count(&rig.app, 1).await, 60, "every loan counted once");

    // Pay dates: the loan look-up and the read of what is stored come back unprocessed.
    rig.app
        .import_ok(Kind::Loans, &loan_line(11, 1, "2024-05-01"))
        .await;
    let loan_reads = rig.proxy.inject(
        on("BatchGetItem").table(&t.loans).times(2),
        Fault::Unprocessed,
    );
    let stored_reads = rig.proxy.inject(
        on("BatchGetItem").table(&t.pay_dates).times(3),
        Fault::Unprocessed,
    );
    let report = rig
        .patient
        .import(Kind::PayDates, &pay_date_lines(30))
        .await;
    assert_eq!((report.lines, report.written), (30, 30));
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!((loan_reads.get(), stored_reads.get()), (2, 3));
    assert_eq!(assert_counts_match_pay_dates(&rig.app).await, 30);
}

#[tokio::test]
async fn an_import_that_meets_a_failing_store_stops_and_a_rerun_completes_it() {
    let rig = rig().await;
    assert_eq!(rig.app.create(&customer(1)).await.status, 200);
    rig.app
        .import_ok(Kind::Loans, &loan_line(11, 1, "2024-05-01"))
        .await;
    let t = rig.app.store.tables.clone();
    let store = rig.patient.store.clone();
    let import = |kind, text: String| {
        let store = store.clone();
        async move { shared::import::import(&store, kind, text.as_bytes(), |_| {}).await }
    };

    // Loans: every transaction of the loans throttled (the SDK's three attempts, then the
    // import stops at its first transaction). Nothing is written, the customer's count stays;
    // the error says what failed.
    let hits = rig
        .proxy
        .inject(on("TransactWriteItems").table(&t.loans), Fault::Throttling);
    let err = import(Kind::Loans, loan_lines(60)).await.unwrap_err();
    assert!(err.contains("ThrottlingException"), "{err}");
    assert_eq!(hits.get(), 3);
    assert_eq!(stored_loans(&rig.app).await, [11]);
    assert_eq!(loan_count(&rig.app, 1).await, 1);
    rig.proxy.clear();
    let report = import(Kind::Loans, loan_lines(60)).await.unwrap();
    assert_eq!(report.written, 60);
    let mut all: Vec<u64> = (1000..1060).collect();
    all.insert(0, 11);
    assert_eq!(stored_loans(&rig.app).await, all);
    assert_eq!(loan_count(&rig.app, 1).await, 61);

    // Pay dates: half the file is in; then every transaction fails. What is stored stays
    // exactly the first half, each pay date with its count.
    let first_half: String = pay_date_lines(30)
        .lines()
        .take(15)
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        import(Kind::PayDates, first_half).await.unwrap().written,
        15
    );
    for fault in [Fault::InternalServerError, Fault::Drop] {
        let hits = rig
            .proxy
            .inject(on("TransactWriteItems").table(&t.pay_dates), fault);
        let err = import(Kind::PayDates, pay_date_lines(30))
            .await
            .unwrap_err();
        assert!(!err.is_empty());
        assert!(hits.get() >= 3);
        assert_eq!(assert_counts_match_pay_dates(&rig.app).await, 15);
        rig.proxy.clear();
    }
    let report = import(Kind::PayDates, pay_date_lines(30)).await.unwrap();
    assert_eq!(report.written, 30);
    assert_eq!(assert_counts_match_pay_dates(&rig.app).await, 30);
    // Run again: nothing changes, the counts stay exact.
    import(Kind::PayDates, pay_date_lines(30)).await.unwrap();
    assert_eq!(assert_counts_match_pay_dates(&rig.app).await, 30);
}
