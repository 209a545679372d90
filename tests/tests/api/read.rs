use chrono::Datelike;
use integration_tests::{customer, seed_customer, TestApp};
use serde_json::json;

#[tokio::test]
async fn get_returns_the_seed_fields_and_never_the_ssn() {
    let app = TestApp::new().await;
    app.create(&seed_customer()).await;
    let r = app.get(89043762).await;
    assert_eq!(r.status, 200);
    assert!(
        !r.body.contains("\"ssn\""),
        "the SSN field is returned: {}",
        r.body
    );
    let v = r.json();
    let c = &v["customerData"];
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Chicago)
        .date_naive();
    let mut age = today.year() - 2000;
    if (today.month(), today.day()) < (1, 30) {
        age -= 1;
    }
    assert_eq!(c["giggleId"], 89043762);
    assert_eq!(c["active"], true);
    assert_eq!(c["customerType"], "person");
    assert_eq!(c["name"], "John");
    assert_eq!(c["surname"], "Doe");
    assert_eq!(c["age"], age);
    assert_eq!(c["city"], "Austin");
    assert_eq!(c["companyName"], "ABC Company L.L.C");
    assert_eq!(
        c["address"],
        json!({"street1": "123 Main St.", "street2": "Suite 5.", "city": "Austin", "state": "TX", "zip": "22222", "country": "USA"})
    );
    assert_eq!(
        c["phone"],
        json!({"number": "1234567890", "type": "mobile", "carrierVerified": true, "carrierName": "AT&T"})
    );
    assert_eq!(c["dob"], "2000-01-30");
    assert!(c.get("ein").is_none(), "no function can decrypt an EIN");
    assert_eq!(c["einLast4"], "6789");
    assert_eq!(c["email"], "john.doe@email.com");
    assert_eq!(c["accessUserName"], "john_doe");
    assert_eq!(c["ssnLast4"], "6789");
    assert!(c.get("ssn").is_none());
    assert_eq!(v["loanData"], json!([]));
    assert_eq!(r.headers["etag"], "\"1\"");
    // The seed's key order, with the seeds' separators.
    assert!(r.body.starts_with(r#"{"customerData": {"giggleId": 89043762, "active": true, "customerType": "person", "name": "John", "surname": "Doe", "age": "#), "{}", r.body);
}

#[tokio::test]
async fn the_ssn_digits_appear_nowhere_in_the_answer() {
    let app = TestApp::new().await;
    app.create(&customer(77)).await; // SSN 321-54-9876
    let r = app.get(77).await;
    assert_eq!(r.status, 200);
    assert!(
        !r.body.contains("321549876") && !r.body.contains("321-54-9876"),
        "{}",
        r.body
    );
    assert!(!r.headers.values().any(|v| v.contains("321549876")));
}

#[tokio::test]
async fn a_customer_without_address_has_no_city() {
    let app = TestApp::new().await;
    let mut body = customer(3);
    body.as_object_mut().unwrap().remove("address");
    body.as_object_mut().unwrap().remove("phone");
    assert_eq!(app.create(&body).await.status, 200);
    let c = app.get(3).await.json()["customerData"].clone();
    assert!(c.get("city").is_none() && c.get("address").is_none() && c.get("phone").is_none());
}

#[tokio::test]
async fn ids_that_are_not_positive_integers_are_400() {
    let app = TestApp::new().await;
    for bad in [
        "abc",
        "-5",
        "0",
        "1.5",
        "9007199254740992",
        "99999999999999999999",
        "+5",
        "%20",
        "1e3",
    ] {
        let r = app.get(bad).await;
        assert_eq!(
            r.assert_error(400),
            "Giggle ID must be a positive integer.",
            "{bad}"
        );
        assert_eq!(
            app.patch(bad, &json!({"active": false}))
                .await
                .assert_error(400),
            "Giggle ID must be a positive integer."
        );
        assert_eq!(
            app.delete(bad).await.assert_error(400),
            "Giggle ID must be a positive integer."
        );
    }
}

#[tokio::test]
async fn an_unknown_customer_is_the_seeds_400() {
    let app = TestApp::new().await;
    let r = app.get(123).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"statusCode": 400, "description": "Giggle ID 123 not found.", "name": "Bad Request"}"#
    );
}

#[tokio::test]
async fn get_refuses_query_parameters() {
    let app = TestApp::new().await;
    app.create(&customer(4)).await;
    let r = app
        .call(integration_tests::Op::Get, "GET", "/customers/4")
        .query("fields", "all")
        .send()
        .await;
    assert_eq!(r.assert_error(400), "Unknown query parameter 'fields'.");
}
