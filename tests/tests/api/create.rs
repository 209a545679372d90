use integration_tests::{customer, seed_customer, Op, TestApp};
use serde_json::{json, Value};

#[tokio::test]
async fn the_seed_example_creates_a_customer_with_the_documented_envelope() {
    let app = TestApp::new().await;
    let r = app.create(&seed_customer()).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        r#"{"statusCode": 200, "status": "OK", "message": "Customer Successfully Created", "error": false, "giggleId": 89043762}"#
    );
    assert_eq!(app.get(89043762).await.status, 200);
}

#[tokio::test]
async fn the_seed_example_without_ssn_is_the_documented_400_to_the_byte() {
    let app = TestApp::new().await;
    let mut body = seed_customer();
    body.as_object_mut().unwrap().remove("ssn");
    let r = app.create(&body).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"statusCode": 400, "description": "Did not provide 'ssn'", "name": "Bad Request"}"#
    );
    app.get(89043762).await.assert_error(400);
}

#[tokio::test]
async fn every_missing_field_is_named_in_table_order() {
    let app = TestApp::new().await;
    let mut body = seed_customer();
    for f in ["email", "ssn", "giggleId"] {
        body.as_object_mut().unwrap().remove(f);
    }
    let r = app.create(&body).await;
    assert_eq!(
        r.assert_error(400),
        "Did not provide 'giggleId', 'email', 'ssn'"
    );

    let mut company = customer(5);
    company["customerType"] = "company".into();
    company.as_object_mut().unwrap().remove("ein");
    company.as_object_mut().unwrap().remove("companyName");
    assert_eq!(
        app.create(&company).await.assert_error(400),
        "Did not provide 'ein', 'companyName'"
    );

    let r = app.create(&json!({})).await;
    assert_eq!(
        r.assert_error(400),
        "Did not provide 'giggleId', 'active', 'customerType', 'name', 'surname', 'email', 'dob'"
    );
}

/// Every rule of the contract's table, broken one at a time: a 400 naming the field, and
/// nothing written.
#[tokio::test]
async fn every_malformed_value_is_a_400_naming_the_field_and_writes_nothing() {
    let app = TestApp::new().await;
    let top: Vec<(&str, Value)> = vec![
        ("giggleId", json!(0)),
        ("giggleId", json!(-1)),
        ("giggleId", json!(9007199254740992u64)),
        ("giggleId", json!("77")),
        ("giggleId", json!(77.5)),
        ("active", json!("true")),
        ("active", json!(1)),
        ("customerType", json!("robot")),
        ("customerType", json!(["person"])),
        ("name", json!("")),
        ("name", json!("   ")),
        ("name", json!("n".repeat(101))),
        ("surname", json!(12)),
        ("surname", json!("s".repeat(101))),
        ("email", json!("john.doe")),
        ("email", json!("john doe@email.com")),
        ("email", json!(format!("{}@example.com", "a".repeat(250)))),
        ("dob", json!("2000-02-30")),
        ("dob", json!("2000-1-30")),
        ("dob", json!("01/30/2000")),
        ("dob", json!("2999-01-01")),
        ("dob", json!(20000130)),
        ("ssn", json!("12345678")),
        ("ssn", json!("123-456-789")),
        ("ssn", json!("000-12-3456")),
        ("ssn", json!("666-12-3456")),
        ("ssn", json!("123-00-4567")),
        ("ssn", json!("123-45-0000")),
        ("ssn", json!(-123456789)),
        ("ssn", json!(1234567890u64)),
        ("ssn", json!(true)),
        ("ein", json!("1234567")),
        ("ein", json!("123-45-6789")),
        ("ein", json!({"n": 1})),
        ("companyName", json!("c".repeat(201))),
        ("companyName", json!(5)),
        ("accessUserName", json!("johndoe")),
        ("accessUserName", json!("john doe_x")),
        ("accessUserName", json!("x".repeat(202) + "_")),
        ("address", json!("123 Main St.")),
        ("phone", json!("123-456-7890")),
    ];
    for (i, (field, value)) in top.into_iter().enumerate() {
        let id = 1000 + i as u64;
        let mut body = customer(id);
        body[field] = value.clone();
        let r = app.create(&body).await;
        let d = r.assert_error(400);
        assert!(d.contains(&format!("'{field}'")), "{field} = {value}: {d}");
        assert_eq!(
            app.get(id).await.assert_error(400),
            format!("Giggle ID {id} not found."),
            "{field} = {value} wrote"
        );
    }
    let nested: Vec<(&str, &str, Value)> = vec![
        ("address", "street1", json!("")),
        ("address", "street1", json!(1)),
        ("address", "street2", json!(false)),
        ("address", "city", json!("")),
        ("address", "state", json!("Texas")),
        ("address", "state", json!("ZZ")),
        ("address", "zip", json!("2222")),
        ("address", "zip", json!("22222-12")),
        ("address", "zip", json!(22222)),
        ("address", "country", json!("US")),
        ("address", "country", json!("XYZ")),
        ("address", "extra", json!("x")),
        ("phone", "number", json!("123-456-789")),
        ("phone", "number", json!("+44 20 7946 0958")),
        ("phone", "number", json!("abc")),
        ("phone", "type", json!("home")),
        ("phone", "carrierVerified", json!("yes")),
        ("phone", "carrierName", json!(7)),
        ("phone", "extension", json!("12")),
    ];
    for (i, (object, field, value)) in nested.into_iter().enumerate() {
        let id = 2000 + i as u64;
        let mut body = customer(id);
        body[object][field] = value.clone();
        let d = app.create(&body).await.assert_error(400);
        assert!(
            d.contains(&format!("'{object}.{field}'")),
            "{object}.{field} = {value}: {d}"
        );
        app.get(id).await.assert_error(400);
    }
}

#[tokio::test]
async fn accepted_writings_are_normalised() {
    let app = TestApp::new().await;
    let mut body = customer(42);
    body["ssn"] = "023-45-6789".into();
    body["ein"] = "12-3456780".into();
    body["phone"]["number"] = "+1 (512) 555-0100".into();
    body.as_object_mut().unwrap().remove("accessUserName");
    body["address"]["zip"] = "78701-1234".into();
    assert_eq!(app.create(&body).await.status, 200);
    let c = app.get(42).await.json()["customerData"].clone();
    // No function can decrypt an EIN: GET shows its last four digits, as for the SSN.
    assert!(c.get("ein").is_none());
    assert_eq!(c["einLast4"], "6780");
    assert_eq!(c["phone"]["number"], "5125550100");
    assert_eq!(c["accessUserName"], "john_doe");
    assert_eq!(c["ssnLast4"], "6789");
    assert_eq!(c["address"]["zip"], "78701-1234");

    let mut padded = customer(43);
    padded["ssn"] = json!(23456789);
    padded["ein"] = json!(3456780);
    assert_eq!(app.create(&padded).await.status, 200);
    let c = app.get(43).await.json()["customerData"].clone();
    assert_eq!(c["einLast4"], "6780");
    assert_eq!(c["ssnLast4"], "6789");

    let mut company = customer(44);
    company["customerType"] = "company".into();
    company.as_object_mut().unwrap().remove("ssn");
    assert_eq!(app.create(&company).await.status, 200);
}

#[tokio::test]
async fn malformed_bodies_are_clear_400s_and_large_ones_413() {
    let app = TestApp::new().await;
    for raw in [
        "{",
        "{\"giggleId\": 1,}",
        "not json",
        "[1, 2]",
        "\"a string\"",
        "42",
        "null",
        "true",
        "",
        "   ",
    ] {
        let r = app.create_raw(raw).await;
        let d = r.assert_error(400);
        assert!(!d.is_empty(), "{raw:?}");
    }
    assert_eq!(
        app.create_raw("[]").await.assert_error(400),
        "Request body must be a JSON object."
    );
    let mut big = customer(7);
    big["name"] = "x".repeat(70 * 1024).into();
    app.create(&big).await.assert_error(413);
    app.get(7).await.assert_error(400);

    let mut unknown = customer(8);
    unknown["favouriteColour"] = "blue".into();
    assert_eq!(
        app.create(&unknown).await.assert_error(400),
        "Unknown field 'favouriteColour'."
    );
    app.get(8).await.assert_error(400);

    let r = app
        .call(integration_tests::Op::Create, "POST", "/customers")
        .query("dryRun", "1")
        .json(&customer(9))
        .send()
        .await;
    assert_eq!(r.assert_error(400), "Unknown query parameter 'dryRun'.");
    app.get(9).await.assert_error(400);
}

#[tokio::test]
async fn a_taken_giggle_id_is_409_and_the_stored_record_is_untouched() {
    let app = TestApp::new().await;
    assert_eq!(app.create(&customer(500)).await.status, 200);
    let before = app.get(500).await;
    let mut other = customer(500);
    other["name"] = "Mallory".into();
    let r = app.create(&other).await;
    assert_eq!(r.assert_error(409), "Giggle ID 500 already exists.");
    let after = app.get(500).await;
    assert_eq!(before.body, after.body);
    assert_eq!(before.headers["etag"], after.headers["etag"]);
}

/// A create never compares bodies: an identical repeat is the same 409 as any other create of
/// a taken id, byte for byte, so that 200-or-409 can never confirm a guessed SSN.
#[tokio::test]
async fn an_identical_repeat_of_a_create_is_the_same_409_as_any_other() {
    let app = TestApp::new().await;
    assert_eq!(app.create(&customer(600)).await.status, 200);
    let etag = app.get(600).await.headers["etag"].clone();
    let identical = app.create(&customer(600)).await;
    let mut guess = customer(600);
    guess["ssn"] = "321-54-9875".into();
    let other = app.create(&guess).await;
    assert_eq!(identical.assert_error(409), "Giggle ID 600 already exists.");
    assert_eq!(identical.status, other.status);
    assert_eq!(identical.body, other.body);
    assert_eq!(app.get(600).await.headers["etag"], etag, "a repeat wrote");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_creates_of_one_id_give_exactly_one_200() {
    let app = TestApp::new().await;
    let calls = (0..8).map(|i| {
        let mut body = customer(700);
        body["name"] = format!("Racer{i}").into();
        let app = &app;
        async move { app.create(&body).await.status }
    });
    let statuses = futures::future::join_all(calls).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_identical_creates_write_once_and_the_rest_are_409() {
    let app = TestApp::new().await;
    let calls = (0..8).map(|_| {
        let app = &app;
        async move { app.create(&customer(800)).await.status }
    });
    let statuses = futures::future::join_all(calls).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(app.get(800).await.headers["etag"], "\"1\"");
}

#[tokio::test]
async fn a_deleted_id_can_be_created_again() {
    let app = TestApp::new().await;
    assert_eq!(app.create(&customer(900)).await.status, 200);
    assert_eq!(app.delete(900).await.status, 200);
    let mut again = customer(900);
    again["name"] = "Second".into();
    assert_eq!(app.create(&again).await.status, 200);
    assert_eq!(app.get(900).await.json()["customerData"]["name"], "Second");
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_400() {
    let app = TestApp::new().await;
    let req = app
        .call(integration_tests::Op::Create, "POST", "/customers")
        .request();
    let (parts, _) = req.into_parts();
    let req =
        lambda_http::Request::from_parts(parts, lambda_http::Body::Binary(vec![0xff, 0xfe, b'{']));
    let resp = create_customer::handler(&app.store, app.clock, req)
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{body}"
    );
}

/// The 64 KiB limit to the byte: 65,536 bytes are read (padding white space after a valid
/// body), 65,537 are `413`, on create and on PATCH; 64 KiB of white space alone is too large,
/// not empty.
#[tokio::test]
async fn the_body_limit_is_65536_bytes_exactly() {
    let app = TestApp::new().await;
    let padded = |id: u64, len: usize| {
        let body = customer(id).to_string();
        format!("{body}{}", " ".repeat(len - body.len()))
    };
    let at_limit = padded(1, 65_536);
    assert_eq!(at_limit.len(), 65_536);
    assert_eq!(app.create_raw(&at_limit).await.status, 200);
    let over = padded(2, 65_537);
    assert_eq!(
        app.create_raw(&over).await.assert_error(413),
        "Request body is 65537 bytes; the limit is 65536 bytes."
    );
    app.get(2).await.assert_error(400);

    let patch = |body: String| {
        app.call(Op::Update, "PATCH", "/customers/1")
            .body(&body)
            .send()
    };
    let name = r#"{"name": "Jo"}"#;
    let r = patch(format!("{name}{}", " ".repeat(65_536 - name.len()))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    patch(format!("{name}{}", " ".repeat(65_537 - name.len())))
        .await
        .assert_error(413);
    patch(" ".repeat(65_537)).await.assert_error(413);
    assert_eq!(
        patch(" ".repeat(100)).await.assert_error(400),
        "No fields to update."
    );
    assert_eq!(app.get(1).await.headers["etag"], "\"2\"");
}

/// An error names the field and the rule, never the value that was sent (it may be an SSN).
#[tokio::test]
async fn errors_never_repeat_the_ssn_or_ein_sent() {
    let app = TestApp::new().await;
    assert_eq!(app.create(&customer(3)).await.status, 200);
    for (field, value, shown) in [
        ("ssn", json!("666-42-1357"), ["666-42-1357", "666421357"]),
        ("ssn", json!("987-00-4321"), ["987-00-4321", "987004321"]),
        ("ssn", json!("98765432X"), ["98765432X", "98765432"]),
        ("ssn", json!(9876543210u64), ["9876543210", "876543210"]),
        ("ein", json!("98-765432"), ["98-765432", "98765432"]),
    ] {
        let mut body = customer(4);
        body[field] = value.clone();
        let r = app.create(&body).await;
        let d = r.assert_error(400);
        assert!(d.contains(&format!("'{field}'")), "{d}");
        for s in shown {
            assert!(!r.body.contains(s), "{value} echoed: {}", r.body);
        }
        let r = app
            .call(Op::Update, "PATCH", "/customers/3")
            .json(&json!({ field: value }))
            .send()
            .await;
        let d = r.assert_error(400);
        assert!(d.contains(&format!("'{field}'")), "{d}");
        assert!(!r.body.contains(shown[0]), "{}", r.body);
    }
}
