use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::{customer, Op, TestApp};
use serde_json::json;

async fn stored(app: &TestApp, id: u64) -> serde_json::Value {
    app.get(id).await.json()["customerData"].clone()
}

#[tokio::test]
async fn patch_changes_only_what_is_sent() {
    let app = TestApp::new().await;
    app.create(&customer(10)).await;
    let before = stored(&app, 10).await;
    let r = app.patch(10, &json!({"active": false})).await;
    assert_eq!(
        r.body,
        r#"{"statusCode": 200, "status": "OK", "message": "Customer Successfully Updated", "error": false, "giggleId": 10}"#
    );
    assert_eq!(r.headers["etag"], "\"2\"");
    let mut expected = before.clone();
    expected["active"] = false.into();
    assert_eq!(stored(&app, 10).await, expected);
}

#[tokio::test]
async fn nested_objects_merge_and_null_removes_optional_fields() {
    let app = TestApp::new().await;
    app.create(&customer(11)).await;
    assert_eq!(
        app.patch(11, &json!({"address": {"city": "Dallas"}}))
            .await
            .status,
        200
    );
    let c = stored(&app, 11).await;
    assert_eq!(c["address"]["city"], "Dallas");
    assert_eq!(c["city"], "Dallas");
    assert_eq!(c["address"]["street1"], "123 Main St.");
    assert_eq!(c["address"]["zip"], "22222");

    assert_eq!(
        app.patch(
            11,
            &json!({"address": {"street2": null}, "phone": {"carrierName": null}})
        )
        .await
        .status,
        200
    );
    let c = stored(&app, 11).await;
    assert!(c["address"].get("street2").is_none());
    assert!(c["phone"].get("carrierName").is_none());
    assert_eq!(c["phone"]["number"], "1234567890");

    assert_eq!(
        app.patch(11, &json!({"phone": null, "companyName": null}))
            .await
            .status,
        200
    );
    let c = stored(&app, 11).await;
    assert!(c.get("phone").is_none() && c.get("companyName").is_none());

    // A new phone must be whole.
    let d = app
        .patch(11, &json!({"phone": {"number": "512-555-0100"}}))
        .await
        .assert_error(400);
    assert_eq!(d, "Did not provide 'phone.type'");
    assert_eq!(
        app.patch(
            11,
            &json!({"phone": {"number": "512-555-0100", "type": "office"}})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        stored(&app, 11).await["phone"],
        json!({"number": "5125550100", "type": "office"})
    );
}

#[tokio::test]
async fn bad_patches_are_400_and_change_nothing() {
    let app = TestApp::new().await;
    app.create(&customer(12)).await;
    let before = app.get(12).await;
    let cases = [
        (json!({}), "No fields to update."),
        (json!({"name": null}), "'name'"),
        (json!({"active": null}), "'active'"),
        (json!({"email": "nope"}), "'email'"),
        (json!({"dob": "2001-02-29"}), "'dob'"),
        (json!({"ssn": "666-00-0000"}), "'ssn'"),
        (json!({"ssn": null}), "'ssn'"),
        (json!({"address": {"zip": null}}), "'address.zip'"),
        (json!({"address": {"state": "XX"}}), "'address.state'"),
        (json!({"address": "Dallas"}), "'address'"),
        (json!({"phone": {"type": "pager"}}), "'phone.type'"),
        (json!({"giggleId": 13}), "'giggleId'"),
        (json!({"customerType": "company", "ein": null}), "'ein'"),
        (json!({"customerType": "alien"}), "'customerType'"),
        (json!({"nickname": "JD"}), "'nickname'"),
        (json!({"address": {"planet": "Mars"}}), "'address.planet'"),
    ];
    for (patch, named) in cases {
        let d = app.patch(12, &patch).await.assert_error(400);
        assert!(d.contains(named), "{patch}: {d}");
    }
    for raw in ["", "  "] {
        let r = app
            .call(Op::Update, "PATCH", "/customers/12")
            .body(raw)
            .send()
            .await;
        assert_eq!(r.assert_error(400), "No fields to update.");
    }
    for raw in ["{", "[]", "null", "\"x\""] {
        app.call(Op::Update, "PATCH", "/customers/12")
            .body(raw)
            .send()
            .await
            .assert_error(400);
    }
    let mut big = String::from("{\"name\": \"");
    big.push_str(&"x".repeat(65 * 1024));
    big.push_str("\"}");
    app.call(Op::Update, "PATCH", "/customers/12")
        .body(&big)
        .send()
        .await
        .assert_error(413);
    let after = app.get(12).await;
    assert_eq!(before.body, after.body);
    assert_eq!(before.headers["etag"], after.headers["etag"]);
}

#[tokio::test]
async fn cross_field_rules_hold_on_the_merged_record() {
    let app = TestApp::new().await;
    let mut company = customer(14);
    company["customerType"] = "company".into();
    company.as_object_mut().unwrap().remove("ssn");
    app.create(&company).await;
    // A company turned person needs an SSN.
    assert_eq!(
        app.patch(14, &json!({"customerType": "person"}))
            .await
            .assert_error(400),
        "Did not provide 'ssn'"
    );
    assert_eq!(
        app.patch(14, &json!({"customerType": "person", "ssn": "123-45-6789"}))
            .await
            .status,
        200
    );
    // A person may drop the company fields; a company may not.
    assert_eq!(app.patch(14, &json!({"ein": null})).await.status, 200);
    assert_eq!(
        app.patch(14, &json!({"customerType": "company"}))
            .await
            .assert_error(400),
        "Did not provide 'ein'"
    );
}

#[tokio::test]
async fn patch_never_creates_a_missing_customer() {
    let app = TestApp::new().await;
    let r = app.patch(404, &json!({"active": true})).await;
    assert_eq!(r.assert_error(400), "Giggle ID 404 not found.");
    app.get(404).await.assert_error(400);
}

#[tokio::test]
async fn if_match_guards_against_lost_updates() {
    let app = TestApp::new().await;
    app.create(&customer(15)).await;
    let etag = app.get(15).await.headers["etag"].clone();
    let ok = app
        .call(Op::Update, "PATCH", "/customers/15")
        .header("If-Match", &etag)
        .json(&json!({"name": "Ann"}))
        .send()
        .await;
    assert_eq!(ok.status, 200);
    let stale = app
        .call(Op::Update, "PATCH", "/customers/15")
        .header("If-Match", &etag)
        .json(&json!({"name": "Bob"}))
        .send()
        .await;
    stale.assert_error(412);
    assert_eq!(stored(&app, 15).await["name"], "Ann");
    let fresh = app.get(15).await.headers["etag"].clone();
    assert_ne!(fresh, etag);
    let ok = app
        .call(Op::Update, "PATCH", "/customers/15")
        .header("If-Match", &fresh)
        .json(&json!({"name": "Cy"}))
        .send()
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_of_different_fields_all_take_effect() {
    let app = TestApp::new().await;
    app.create(&customer(16)).await;
    let patches = [
        json!({"name": "Alice"}),
        json!({"surname": "Smith"}),
        json!({"email": "alice@example.com"}),
        json!({"active": false}),
        json!({"address": {"city": "Dallas"}}),
        json!({"phone": {"type": "office"}}),
        json!({"dob": "1999-12-31"}),
        json!({"accessUserName": "alice_smith"}),
        json!({"companyName": "Smith & Co"}),
        json!({"address": {"street2": "Floor 3"}}),
        json!({"phone": {"carrierName": "Verizon"}}),
        json!({"phone": {"carrierVerified": false}}),
    ];
    let calls = patches.iter().map(|p| {
        let app = &app;
        async move { app.patch(16, p).await.status }
    });
    let statuses = futures::future::join_all(calls).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let c = stored(&app, 16).await;
    assert_eq!(c["name"], "Alice");
    assert_eq!(c["surname"], "Smith");
    assert_eq!(c["email"], "alice@example.com");
    assert_eq!(c["active"], false);
    assert_eq!(c["address"]["city"], "Dallas");
    assert_eq!(c["phone"]["type"], "office");
    assert_eq!(c["dob"], "1999-12-31");
    assert_eq!(c["accessUserName"], "alice_smith");
    assert_eq!(c["companyName"], "Smith & Co");
    assert_eq!(c["address"]["street2"], "Floor 3");
    assert_eq!(c["phone"]["carrierName"], "Verizon");
    assert_eq!(c["phone"]["carrierVerified"], false);
    assert_eq!(
        app.get(16).await.headers["etag"],
        "\"13\"",
        "one version per PATCH"
    );
}

#[tokio::test]
async fn a_bad_body_is_400_even_with_a_stale_if_match() {
    let app = TestApp::new().await;
    app.create(&customer(17)).await;
    let r = app
        .call(Op::Update, "PATCH", "/customers/17")
        .header("If-Match", "\"99\"")
        .json(&json!({"email": "nope"}))
        .send()
        .await;
    assert!(r.assert_error(400).contains("'email'"));
}

#[tokio::test]
async fn a_patch_with_a_query_parameter_is_400_and_writes_nothing() {
    let app = TestApp::new().await;
    assert_eq!(app.create(&customer(77)).await.status, 200);
    let r = app
        .call(Op::Update, "PATCH", "/customers/77")
        .query("dryRun", "true")
        .json(&json!({"name": "Q"}))
        .send()
        .await;
    assert_eq!(r.assert_error(400), "Unknown query parameter 'dryRun'.");
    assert_eq!(app.get(77).await.headers["etag"], "\"1\"");
}

/// Two PATCHes with the same, current `If-Match` at the same moment: exactly one 200, the other
/// 412, and the record holds the winner's change only (never both, never a lost 200).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_patches_with_the_same_if_match_exactly_one_wins() {
    let app = TestApp::new().await;
    for round in 0..10u64 {
        let id = 700 + round;
        app.create(&customer(id)).await;
        let etag = app.get(id).await.headers["etag"].clone();
        let path = format!("/customers/{id}");
        let send = |body: serde_json::Value| {
            let (app, path, etag) = (&app, path.clone(), etag.clone());
            async move {
                app.call(Op::Update, "PATCH", &path)
                    .header("If-Match", &etag)
                    .json(&body)
                    .send()
                    .await
            }
        };
        let (a, b) = tokio::join!(
            send(json!({"name": "Winner-A"})),
            send(json!({"surname": "Winner-B"}))
        );
        let statuses = [a.status, b.status];
        assert!(
            statuses == [200, 412] || statuses == [412, 200],
            "round {round}: {statuses:?} {} {}",
            a.body,
            b.body
        );
        let loser = if a.status == 412 { &a } else { &b };
        assert_eq!(
            loser.assert_error(412),
            "The customer was changed since it was read (If-Match does not match its ETag)."
        );
        let c = stored(&app, id).await;
        if a.status == 200 {
            assert_eq!(
                (c["name"].as_str(), c["surname"].as_str()),
                (Some("Winner-A"), Some("Doe"))
            );
        } else {
            assert_eq!(
                (c["name"].as_str(), c["surname"].as_str()),
                (Some("John"), Some("Winner-B"))
            );
        }
        let next = app.get(id).await.headers["etag"].clone();
        assert_eq!(next, "\"2\"", "round {round}: one write, one version");
    }
}

/// A PATCH keeps the customer's `loanCount` (it replaces the whole item): the loan still shows,
/// the delete is still refused, and `loanCount` is neither in the body nor in the audit trail.
#[tokio::test]
async fn a_patch_keeps_the_loan_count() {
    let app = TestApp::new().await;
    app.create(&customer(17)).await;
    let before = app.get(17).await.headers["etag"].clone();
    app.import_ok(
        shared::import::Kind::Loans,
        &integration_tests::loan_line(170, 17, "2024-01-01"),
    )
    .await;
    let got = app.get(17).await;
    assert_ne!(
        got.headers["etag"], before,
        "the loan list changed, so does the ETag"
    );
    let r = app
        .call(Op::Update, "PATCH", "/customers/17")
        .header("If-Match", &got.headers["etag"])
        .json(&json!({"active": false}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let item = app
        .store
        .client
        .get_item()
        .table_name(&app.store.tables.customers)
        .key("giggleId", AttributeValue::N("17".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item.get("loanCount"), Some(&AttributeValue::N("1".into())));
    let body = app.get(17).await.json();
    assert_eq!(body["customerData"]["active"], false);
    assert!(body["customerData"].get("loanCount").is_none(), "{body}");
    assert_eq!(body["loanData"][0]["id"], 170);
    assert_eq!(
        app.delete(17).await.assert_error(409),
        "Giggle ID 17 has 1 loan and cannot be deleted."
    );
    for entry in integration_tests::scan_all(&app.store, &app.store.tables.audit).await {
        assert!(!format!("{entry:?}").contains("loanCount"), "{entry:?}");
    }
}
