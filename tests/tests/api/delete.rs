use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::{
    customer, loan_line, number_of, scan_all, stored_customer_item, Op, TestApp,
};
use shared::import::Kind;

#[tokio::test]
async fn delete_removes_the_record_with_the_documented_envelope() {
    let app = TestApp::new().await;
    app.create(&customer(20)).await;
    let r = app.delete(20).await;
    assert_eq!(
        r.body,
        r#"{"statusCode": 200, "status": "OK", "message": "Customer Successfully Deleted", "error": false, "giggleId": 20}"#
    );
    assert_eq!(
        app.get(20).await.assert_error(400),
        "Giggle ID 20 not found."
    );
    assert_eq!(
        app.delete(20).await.assert_error(400),
        "Giggle ID 20 not found."
    );
}

#[tokio::test]
async fn delete_honours_if_match() {
    let app = TestApp::new().await;
    app.create(&customer(21)).await;
    let etag = app.get(21).await.headers["etag"].clone();
    app.patch(21, &serde_json::json!({"active": false})).await;
    let r = app
        .call(Op::Delete, "DELETE", "/customers/21")
        .header("If-Match", &etag)
        .send()
        .await;
    r.assert_error(412);
    assert_eq!(app.get(21).await.status, 200);
    let fresh = app.get(21).await.headers["etag"].clone();
    let r = app
        .call(Op::Delete, "DELETE", "/customers/21")
        .header("If-Match", &fresh)
        .send()
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn delete_refuses_query_parameters() {
    let app = TestApp::new().await;
    app.create(&customer(22)).await;
    let r = app
        .call(Op::Delete, "DELETE", "/customers/22")
        .query("force", "true")
        .send()
        .await;
    r.assert_error(400);
    assert_eq!(app.get(22).await.status, 200);
}

/// A loan put straight into the table, as an import before `loanCount` existed wrote it.
async fn put_legacy_loan(app: &TestApp, loan_id: u64, giggle_id: u64) {
    let record = shared::records::Record::from_json_line(
        shared::records::LOAN_FIELDS,
        &loan_line(loan_id, giggle_id, "2024-01-01"),
    )
    .unwrap();
    app.store
        .client
        .put_item()
        .table_name(&app.store.tables.loans)
        .set_item(Some(record.to_item()))
        .send()
        .await
        .unwrap();
}

/// A customer as a version before `loanCount` stored it: the attribute absent.
async fn make_legacy(app: &TestApp, id: u64) {
    app.store
        .client
        .update_item()
        .table_name(&app.store.tables.customers)
        .key("giggleId", AttributeValue::N(id.to_string()))
        .update_expression("REMOVE loanCount")
        .send()
        .await
        .unwrap();
    assert!(!stored_customer_item(app, id)
        .await
        .unwrap()
        .contains_key("loanCount"));
}

/// The race of the issue: a loan's import and its customer's DELETE at the same moment, through
/// the real handler and the real import. Never both succeed: either the customer stays with its
/// loan (DELETE 409) or it is gone and the import rejected the line; and no loan ever points at
/// a missing customer. Half the rounds give the DELETE a head start of a few milliseconds, so
/// that both orders, and the overlap between them, are exercised.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_loan_import_and_the_delete_of_its_customer_never_both_succeed() {
    const ROUNDS: u64 = 40;
    let app = TestApp::new().await;
    let (mut deleted, mut kept) = (0, 0);
    for round in 0..ROUNDS {
        let id = 5000 + round;
        let loan = 9000 + round;
        assert_eq!(app.create(&customer(id)).await.status, 200);
        let head_start =
            std::time::Duration::from_millis(if round % 2 == 0 { 0 } else { round % 7 });
        let line = loan_line(loan, id, "2024-01-01");
        let (report, delete) = tokio::join!(
            async {
                tokio::time::sleep(head_start).await;
                app.import(Kind::Loans, &line).await
            },
            app.delete(id)
        );
        let imported = report.written == 1;
        let loan_stored = app
            .store
            .client
            .get_item()
            .table_name(&app.store.tables.loans)
            .key("loanId", AttributeValue::N(loan.to_string()))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .is_some();
        match delete.status {
            200 => {
                deleted += 1;
                assert!(
                    !imported,
                    "round {round}: the delete and the import both succeeded"
                );
                assert_eq!(
                    report.rejected,
                    [(1, format!("customer with giggleId {id} not found"))],
                    "round {round}"
                );
                assert!(!loan_stored, "round {round}: a loan of a deleted customer");
                assert!(stored_customer_item(&app, id).await.is_none());
            }
            409 => {
                kept += 1;
                assert_eq!(
                    delete.description(),
                    format!("Giggle ID {id} has 1 loan and cannot be deleted.")
                );
                assert!(imported, "round {round}: {:?}", report.rejected);
                assert!(loan_stored);
                let stored = stored_customer_item(&app, id)
                    .await
                    .expect("the customer stays");
                assert_eq!(number_of(&stored, "loanCount"), Some(1));
                let got = app.get(id).await;
                assert_eq!(got.json()["loanData"][0]["id"], loan, "round {round}");
            }
            other => panic!("round {round}: DELETE answered {other}: {}", delete.body),
        }
    }
    eprintln!("{ROUNDS} rounds: {deleted} deleted first, {kept} kept by their loan");
    assert!(deleted > 0 && kept > 0, "both orders: {deleted} / {kept}");
    // No loan anywhere points at a missing customer.
    for item in scan_all(&app.store, &app.store.tables.loans).await {
        let owner = number_of(&item, "giggleId").unwrap();
        assert!(
            stored_customer_item(&app, owner).await.is_some(),
            "loan of missing {owner}"
        );
    }
}

/// A created record carries `loanCount` 0; each new loan adds one and bumps the version (so the
/// ETag moves with `loanData`); re-importing counts nothing twice; a changed loan bumps the
/// version but not the count; the 409 words the count.
#[tokio::test]
async fn the_loan_count_follows_the_import_and_words_the_409() {
    let app = TestApp::new().await;
    app.create(&customer(30)).await;
    let stored = stored_customer_item(&app, 30).await.unwrap();
    assert_eq!(number_of(&stored, "loanCount"), Some(0));
    assert_eq!(number_of(&stored, "version"), Some(1));
    let lines: Vec<String> = (1..=3).map(|l| loan_line(l, 30, "2024-01-01")).collect();
    app.import_ok(Kind::Loans, &lines.join("\n")).await;
    let stored = stored_customer_item(&app, 30).await.unwrap();
    assert_eq!(number_of(&stored, "loanCount"), Some(3));
    assert_eq!(
        number_of(&stored, "version"),
        Some(2),
        "one transaction, one version"
    );
    assert_eq!(app.get(30).await.headers["etag"], "\"2\"");

    app.import_ok(Kind::Loans, &lines.join("\n")).await;
    let stored = stored_customer_item(&app, 30).await.unwrap();
    assert_eq!(
        number_of(&stored, "loanCount"),
        Some(3),
        "re-import counts twice"
    );
    assert_eq!(
        number_of(&stored, "version"),
        Some(2),
        "re-import wrote again"
    );

    app.import_ok(Kind::Loans, &loan_line(2, 30, "2024-02-02"))
        .await;
    let stored = stored_customer_item(&app, 30).await.unwrap();
    assert_eq!(
        number_of(&stored, "loanCount"),
        Some(3),
        "a changed loan is not a new one"
    );
    assert_eq!(number_of(&stored, "version"), Some(3));
    let got = app.get(30).await;
    assert_eq!(got.headers["etag"], "\"3\"");
    let body = got.json();
    assert_eq!(body["loanData"][0]["contractDate"], "2024-02-02");
    assert!(body["customerData"].get("loanCount").is_none(), "{body}");

    assert_eq!(
        app.delete(30).await.assert_error(409),
        "Giggle ID 30 has 3 loans and cannot be deleted."
    );
    assert!(stored_customer_item(&app, 30).await.is_some());
}

/// A record from before `loanCount`: the count on the index still guards it and words the 409;
/// without loans it deletes; a new loan on it starts its count and the 409 counts both.
#[tokio::test]
async fn a_record_without_loan_count_is_still_guarded() {
    let app = TestApp::new().await;
    for id in [40, 41] {
        app.create(&customer(id)).await;
        make_legacy(&app, id).await;
    }
    put_legacy_loan(&app, 400, 40).await;
    assert_eq!(
        app.delete(40).await.assert_error(409),
        "Giggle ID 40 has 1 loan and cannot be deleted."
    );
    app.import_ok(Kind::Loans, &loan_line(401, 40, "2024-01-01"))
        .await;
    assert_eq!(
        number_of(&stored_customer_item(&app, 40).await.unwrap(), "loanCount"),
        Some(1)
    );
    assert_eq!(
        app.delete(40).await.assert_error(409),
        "Giggle ID 40 has 2 loans and cannot be deleted."
    );
    assert_eq!(app.delete(41).await.status, 200);
    assert!(stored_customer_item(&app, 41).await.is_none());
}

/// A loan stored under one customer is never moved to another: the line is rejected, nothing
/// changes for either customer.
#[tokio::test]
async fn a_loan_of_another_customer_is_a_rejected_line() {
    let app = TestApp::new().await;
    app.create(&customer(50)).await;
    app.create(&customer(51)).await;
    app.import_ok(Kind::Loans, &loan_line(500, 50, "2024-01-01"))
        .await;
    let report = app
        .import(Kind::Loans, &loan_line(500, 51, "2024-01-01"))
        .await;
    assert_eq!(report.written, 0);
    assert_eq!(
        report.rejected,
        [(
            1,
            "loan 500 belongs to another customer (giggleId 50); a loan never changes customer"
                .to_string()
        )]
    );
    assert_eq!(
        number_of(&stored_customer_item(&app, 51).await.unwrap(), "loanCount"),
        Some(0)
    );
    assert_eq!(app.delete(51).await.status, 200);
    assert_eq!(app.get(50).await.json()["loanData"][0]["id"], 500);
}
