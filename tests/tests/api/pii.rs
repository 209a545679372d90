//! SSNs and EINs at rest, the audit trail, the API-key cache, and stored records that were
//! damaged outside the API.

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::{customer, scan_all, sha256_hex, Op, TestApp};
use serde_json::json;
use shared::customer::GiggleId;
use shared::pii::{Field, Sealed, Sensitive};
use std::collections::HashMap;
use std::time::Duration;

/// Every byte string an item holds: strings, numbers and binaries, nested ones included.
fn stored_bytes(av: &AttributeValue, out: &mut Vec<Vec<u8>>) {
    match av {
        AttributeValue::S(s) | AttributeValue::N(s) => out.push(s.as_bytes().to_vec()),
        AttributeValue::B(b) => out.push(b.as_ref().to_vec()),
        AttributeValue::M(m) => m.values().for_each(|v| stored_bytes(v, out)),
        AttributeValue::L(l) => l.iter().for_each(|v| stored_bytes(v, out)),
        AttributeValue::Ss(v) | AttributeValue::Ns(v) => {
            out.extend(v.iter().map(|s| s.as_bytes().to_vec()))
        }
        _ => {}
    }
}

fn id(n: u64) -> GiggleId {
    GiggleId::new(n).unwrap()
}

/// The forms a nine-digit number could be found in: bare, dashed both ways, and its unkeyed
/// SHA-256 (hex and raw) in each writing.
fn forms(digits: &str) -> Vec<Vec<u8>> {
    let writings = [
        digits.to_string(),
        format!("{}-{}-{}", &digits[..3], &digits[3..5], &digits[5..]),
        format!("{}-{}", &digits[..2], &digits[2..]),
    ];
    let mut out = Vec::new();
    for w in writings {
        let hex = sha256_hex(w.as_bytes());
        out.push(hex::decode(&hex).unwrap());
        out.push(hex.into_bytes());
        out.push(w.into_bytes());
    }
    out
}

#[tokio::test]
async fn no_table_holds_an_ssn_or_ein_in_clear_or_as_an_unkeyed_hash() {
    let app = TestApp::new().await;
    let mut person = customer(1); // SSN 321-54-9876
    person["ein"] = "12-3456780".into();
    assert_eq!(app.create(&person).await.status, 200);
    let mut company = customer(2);
    company["customerType"] = "company".into();
    company.as_object_mut().unwrap().remove("ssn");
    company["ein"] = json!(987654329);
    let r = app
        .call(Op::Create, "POST", "/customers")
        .header("Idempotency-Key", "company-2")
        .json(&company)
        .send()
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .call(Op::Update, "PATCH", "/customers/1")
        .header("Idempotency-Key", "patch-1")
        .json(&json!({"ssn": "432-10-9876", "ein": "98-7654321"}))
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.delete(2).await.status, 200);

    let t = &app.store.tables;
    let mut everything = Vec::new();
    for table in [
        &t.customers,
        &t.audit,
        &t.idempotency,
        &t.api_keys,
        &t.loans,
        &t.pay_dates,
    ] {
        for item in scan_all(&app.store, table).await {
            item.values().for_each(|v| stored_bytes(v, &mut everything));
        }
    }
    assert!(everything.len() > 20, "the tables hold the writes");
    for digits in [
        "321549876",
        "123456780",
        "987654329",
        "432109876",
        "987654321",
    ] {
        for form in forms(digits) {
            for stored in &everything {
                assert!(
                    !stored.windows(form.len()).any(|w| w == form.as_slice()),
                    "{digits} is stored in a readable form ({})",
                    String::from_utf8_lossy(&form)
                );
            }
        }
    }
    // What GET shows instead.
    let c = app.get(1).await.json()["customerData"].clone();
    assert_eq!(
        (c["ssnLast4"].as_str(), c["einLast4"].as_str()),
        (Some("9876"), Some("4321"))
    );
    let items = scan_all(&app.store, &t.customers).await;
    assert!(!items[0].contains_key("createFingerprint"));
}

#[tokio::test]
async fn a_sealed_value_opens_only_for_its_own_record_and_field() {
    let app = TestApp::new().await;
    assert_eq!(app.create(&customer(3)).await.status, 200);
    assert_eq!(app.create(&customer(4)).await.status, 200);
    let stored = app.store.get_customer(id(3)).await.unwrap().unwrap();
    let Some(Sensitive::Sealed { last4, sealed }) = stored.customer.ssn.clone() else {
        panic!("the SSN is stored sealed");
    };
    assert_eq!(last4, "9876");
    // An operator with kms:Decrypt (here, moto's KMS) reads it back.
    assert_eq!(
        app.store.unseal(id(3), Field::Ssn, &sealed).await.unwrap(),
        "321549876"
    );
    // Moved to another record or field, it does not open.
    assert!(app.store.unseal(id(4), Field::Ssn, &sealed).await.is_err());
    assert!(app.store.unseal(id(3), Field::Ein, &sealed).await.is_err());
    // Copied into customer 4's item, the record still reads (GET never decrypts), but the
    // operator's reveal refuses it.
    app.store
        .client
        .update_item()
        .table_name(&app.store.tables.customers)
        .key("giggleId", AttributeValue::N("4".into()))
        .update_expression("SET ssn = :s")
        .expression_attribute_values(":s", sealed.to_attribute())
        .send()
        .await
        .unwrap();
    let moved = app.store.get_customer(id(4)).await.unwrap().unwrap();
    let Some(Sensitive::Sealed { sealed: moved, .. }) = moved.customer.ssn else {
        panic!("sealed");
    };
    assert_eq!(
        Sealed::from_attribute(&moved.to_attribute()),
        Some(moved.clone())
    );
    assert!(app.store.unseal(id(4), Field::Ssn, &moved).await.is_err());
}

#[tokio::test]
async fn a_patch_keeps_the_sealed_values_it_does_not_send() {
    let app = TestApp::new().await;
    assert_eq!(app.create(&customer(5)).await.status, 200);
    let before = app.store.get_customer(id(5)).await.unwrap().unwrap();
    assert_eq!(app.patch(5, &json!({"name": "Jo"})).await.status, 200);
    let after = app.store.get_customer(id(5)).await.unwrap().unwrap();
    assert_eq!(after.customer.ssn, before.customer.ssn, "kept as it was");
    // A company without an EIN cannot be made; with the kept EIN it can.
    let r = app
        .patch(5, &json!({"customerType": "company", "ssn": null}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = app.get(5).await.json()["customerData"].clone();
    assert!(c.get("ssnLast4").is_none());
    assert_eq!(c["einLast4"], "6789");
    assert_eq!(
        app.patch(5, &json!({"ein": null})).await.assert_error(400),
        "Did not provide 'ein'"
    );
}

#[tokio::test]
async fn every_write_appends_one_audit_entry_with_the_names_of_what_changed() {
    let app = TestApp::new().await;
    let created = app.create(&customer(6)).await;
    assert_eq!(created.status, 200);
    let patched = app
        .patch(
            6,
            &json!({"email": "new@example.com", "ssn": "432-10-9876"}),
        )
        .await;
    assert_eq!(patched.status, 200);
    // Failed writes append nothing.
    app.create(&customer(6)).await.assert_error(409);
    app.patch(6, &json!({"dob": "2999-01-01"}))
        .await
        .assert_error(400);
    let deleted = app.delete(6).await;
    assert_eq!(deleted.status, 200);

    let trail = app.store.audit_trail(id(6)).await.unwrap();
    let ops: Vec<&str> = trail.iter().map(|e| e.operation.as_str()).collect();
    assert_eq!(ops, ["delete", "update", "create"], "newest first");
    let key_id = &shared::auth::hash_key(&app.key)[..12];
    for (entry, response) in trail.iter().zip([&deleted, &patched, &created]) {
        assert_eq!(entry.key_id, key_id);
        assert_eq!(entry.request_id, response.headers["x-request-id"]);
        assert_eq!(entry.giggle_id, 6);
        let at = chrono::DateTime::parse_from_rfc3339(&entry.at).expect("RFC 3339");
        assert_eq!(entry.at.len(), 24, "milliseconds, UTC: {}", entry.at);
        assert_eq!(at.timezone().local_minus_utc(), 0);
    }
    assert_eq!(trail[1].changed_fields, ["email", "ssn"]);
    assert!(trail[2].changed_fields.contains(&"ssn".to_string()));
    assert_eq!(trail[0].changed_fields, trail[2].changed_fields);
    let text = format!("{trail:?}");
    assert!(!text.contains("321549876") && !text.contains("432109876") && !text.contains("new@"));
}

#[tokio::test]
async fn a_record_damaged_outside_the_api_is_a_500_that_never_logs_its_value() {
    let logs = integration_tests::capture_logs();
    let app = TestApp::new().await;
    let put = |id: &str, attrs: Vec<(&str, AttributeValue)>| {
        let mut item: HashMap<String, AttributeValue> = HashMap::from([
            ("giggleId".into(), AttributeValue::N(id.into())),
            ("version".into(), AttributeValue::N("1".into())),
            ("active".into(), AttributeValue::Bool(true)),
            ("customerType".into(), AttributeValue::S("person".into())),
            ("name".into(), AttributeValue::S("A".into())),
            ("surname".into(), AttributeValue::S("B".into())),
            ("email".into(), AttributeValue::S("a@example.com".into())),
            ("dob".into(), AttributeValue::S("1990-01-01".into())),
            ("accessUserName".into(), AttributeValue::S("a_b".into())),
        ]);
        for (k, v) in attrs {
            item.insert(k.into(), v);
        }
        app.store
            .client
            .put_item()
            .table_name(&app.store.tables.customers)
            .set_item(Some(item))
            .send()
    };
    put(
        "7",
        vec![("ssn", AttributeValue::S("555-12-3456 x".into()))],
    )
    .await
    .unwrap();
    put("8", vec![("dob", AttributeValue::S("1990-02-30".into()))])
        .await
        .unwrap();
    put(
        "9",
        vec![
            ("ssn", AttributeValue::M(HashMap::new())),
            ("ssnLast4", AttributeValue::S("3456".into())),
        ],
    )
    .await
    .unwrap();
    put(
        "10",
        vec![("version", AttributeValue::S("555123456".into()))],
    )
    .await
    .unwrap();
    for n in [7, 8, 9, 10] {
        let r = app.get(n).await;
        assert!(r.assert_error(500).contains("Request id"));
        let r = app.patch(n, &json!({"name": "C"})).await;
        r.assert_error(500);
    }
    // A record written before field encryption (the SSN a plain string) still reads, and the
    // next write seals it.
    put("11", vec![("ssn", AttributeValue::S("555123456".into()))])
        .await
        .unwrap();
    assert_eq!(app.get(11).await.json()["customerData"]["ssnLast4"], "3456");
    assert_eq!(app.patch(11, &json!({"name": "C"})).await.status, 200);
    let stored = app.store.get_customer(id(11)).await.unwrap().unwrap();
    assert!(matches!(
        stored.customer.ssn,
        Some(Sensitive::Sealed { .. })
    ));
    // The damaged items hold what looks like an SSN in clear: gone again, so that the suite's
    // final scan of every table (tests/e2e/scan_tables.py) finds none.
    for n in ["7", "8", "9", "10"] {
        app.store
            .client
            .delete_item()
            .table_name(&app.store.tables.customers)
            .key("giggleId", AttributeValue::N(n.into()))
            .send()
            .await
            .unwrap();
    }
    let logged = logs.text();
    assert!(logged.contains("request failed"), "{logged}");
    for value in ["555-12-3456", "555123456", "1990-02-30"] {
        assert!(
            !logged.contains(value),
            "{value} reached the logs:\n{logged}"
        );
    }
}

#[tokio::test]
async fn a_giggle_id_is_judged_by_its_text_not_its_float() {
    let app = TestApp::new().await;
    for text in ["9007199254740990.5", "9007199254740991.0000001", "1.5"] {
        let body = customer(1)
            .to_string()
            .replace("\"giggleId\":1", &format!("\"giggleId\":{text}"));
        assert!(body.contains(text));
        let r = app.create_raw(&body).await;
        assert!(
            r.assert_error(400).contains("'giggleId'"),
            "{text}: {}",
            r.body
        );
    }
    let body = customer(1)
        .to_string()
        .replace("\"giggleId\":1", "\"giggleId\":9007199254740990.0");
    assert_eq!(app.create_raw(&body).await.status, 200);
    assert_eq!(app.get(9007199254740990u64).await.status, 200);
}

#[tokio::test]
async fn a_revoked_key_works_until_the_cache_expires_and_refusals_are_not_cached() {
    let app = TestApp::new().await;
    let cached = app.with_store(app.store.with_key_cache(Duration::from_millis(1500)));
    let key = shared::auth::generate_key().0;
    // Unknown: refused, and the refusal is not kept.
    fn as_key<'a>(app: &'a TestApp, key: &str) -> integration_tests::Call<'a> {
        app.call(Op::Get, "GET", "/customers/1")
            .header("Authorization", &format!("Bearer {key}"))
    }
    as_key(&cached, &key).send().await.assert_error(401);
    let key_id = app.store.register_key(&key, "cached").await.unwrap();
    assert_eq!(
        as_key(&cached, &key).send().await.status,
        400,
        "accepted at once"
    );
    app.store.revoke_key(&key_id).await.unwrap();
    assert_eq!(
        as_key(&cached, &key).send().await.status,
        400,
        "still trusted within the cache's time"
    );
    as_key(&app, &key).send().await.assert_error(401);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    as_key(&cached, &key).send().await.assert_error(401);
}
