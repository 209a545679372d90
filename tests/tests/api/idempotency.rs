//! `Idempotency-Key`, the contract's whole table of behaviours, against DynamoDB Local.

use integration_tests::{customer, Op, Response, TestApp};
use serde_json::json;

const KEY: &str = "Idempotency-Key";

async fn create_with(app: &TestApp, key: &str, body: &serde_json::Value) -> Response {
    app.call(Op::Create, "POST", "/customers")
        .header(KEY, key)
        .json(body)
        .send()
        .await
}

fn replayed(r: &Response) -> bool {
    r.headers.get("idempotent-replayed").map(String::as_str) == Some("true")
}

#[tokio::test]
async fn a_replay_is_the_kept_answer_byte_for_byte_and_runs_nothing() {
    let app = TestApp::new().await;
    let first = create_with(&app, "create-1", &customer(10)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        !first.headers.contains_key("idempotent-replayed"),
        "the first answer never carries it"
    );
    // Someone else changes the record: a replay must not run the create again.
    let patched = app.patch(10, &json!({"name": "Changed"})).await;
    assert_eq!(patched.status, 200);
    let again = create_with(&app, "create-1", &customer(10)).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, first.body);
    assert!(replayed(&again));
    let trail = app
        .store
        .audit_trail(shared::customer::GiggleId::new(10).unwrap())
        .await
        .unwrap();
    assert_eq!(
        trail.iter().filter(|e| e.operation == "create").count(),
        1,
        "the create ran once"
    );
    // Without the key, the same body is the plain 409 of a taken id.
    app.create(&customer(10)).await.assert_error(409);
}

#[tokio::test]
async fn patch_and_delete_replay_their_answers_with_the_etag() {
    let app = TestApp::new().await;
    assert_eq!(app.create(&customer(20)).await.status, 200);
    let patch = |name: &'static str| {
        app.call(Op::Update, "PATCH", "/customers/20")
            .header(KEY, "patch-1")
            .json(&json!({ "name": name }))
    };
    let first = patch("Ann").send().await;
    assert_eq!(
        (first.status, first.headers["etag"].as_str()),
        (200, "\"2\"")
    );
    let again = patch("Ann").send().await;
    assert_eq!(again.status, 200);
    assert_eq!(again.headers["etag"], "\"2\"");
    assert_eq!(again.body, first.body);
    assert!(replayed(&again));
    assert_eq!(app.get(20).await.headers["etag"], "\"2\"", "ran once");
    // Another body under the same key: 422, nothing runs.
    let other = patch("Bob").send().await;
    assert_eq!(
        other.assert_error(422),
        "This Idempotency-Key was already used with a different request."
    );
    assert_eq!(app.get(20).await.json()["customerData"]["name"], "Ann");

    let delete = || {
        app.call(Op::Delete, "DELETE", "/customers/20")
            .header(KEY, "delete-1")
    };
    let first = delete().send().await;
    assert_eq!(first.status, 200);
    let again = delete().send().await;
    assert_eq!((again.status, again.body.clone()), (200, first.body));
    assert!(replayed(&again));
}

#[tokio::test]
async fn another_method_path_or_body_under_a_used_key_is_422() {
    let app = TestApp::new().await;
    assert_eq!(create_with(&app, "k", &customer(30)).await.status, 200);
    assert_eq!(app.create(&customer(31)).await.status, 200);
    let description = "This Idempotency-Key was already used with a different request.";
    // Another body.
    assert_eq!(
        create_with(&app, "k", &customer(31))
            .await
            .assert_error(422),
        description
    );
    // Another method and path.
    let r = app
        .call(Op::Update, "PATCH", "/customers/30")
        .header(KEY, "k")
        .json(&json!({"name": "X"}))
        .send()
        .await;
    assert_eq!(r.assert_error(422), description);
    let r = app
        .call(Op::Delete, "DELETE", "/customers/31")
        .header(KEY, "k")
        .send()
        .await;
    assert_eq!(r.assert_error(422), description);
    // Nothing ran.
    assert_eq!(app.get(30).await.json()["customerData"]["name"], "John");
    assert_eq!(app.get(31).await.status, 200);
}

#[tokio::test]
async fn a_key_whose_first_request_still_runs_is_409() {
    let app = TestApp::new().await;
    let body = customer(40);
    // What a request that is running holds: the claim on its key, with its request's MAC.
    let caller = app
        .store
        .authenticate(Some(&format!("Bearer {}", app.key)))
        .await
        .unwrap();
    let mac_key = app.store.mac_key().await.unwrap();
    let req = app
        .call(Op::Create, "POST", "/customers")
        .json(&body)
        .request();
    let mac = shared::idempotency::request_mac(
        &mac_key,
        "POST",
        req.uri().path(),
        body.to_string().as_bytes(),
    );
    let far = u64::MAX / 2;
    let claim = app
        .store
        .claim_idempotency(&caller, "busy", &mac, far)
        .await
        .unwrap();
    assert!(matches!(claim, shared::idempotency::Claim::Run(_)));
    let r = create_with(&app, "busy", &body).await;
    assert_eq!(
        r.assert_error(409),
        "A request with this Idempotency-Key is still in progress; retry later."
    );
    app.get(40).await.assert_error(400);
    // A claim past its deadline (its function crashed) frees the key.
    let stale = app
        .store
        .claim_idempotency(&caller, "crashed", &mac, 1)
        .await
        .unwrap();
    assert!(matches!(stale, shared::idempotency::Claim::Run(_)));
    assert_eq!(create_with(&app, "crashed", &body).await.status, 200);
}

#[tokio::test]
async fn concurrent_requests_under_one_key_run_once() {
    let app = TestApp::new().await;
    let body = customer(45);
    let calls = (0..6).map(|_| create_with(&app, "race", &body));
    let answers = futures::future::join_all(calls).await;
    let ran: Vec<&Response> = answers
        .iter()
        .filter(|r| r.status == 200 && !replayed(r))
        .collect();
    assert_eq!(ran.len(), 1, "{answers:?}");
    for r in &answers {
        let in_progress = r.status == 409 && r.body.contains("still in progress");
        assert!(r.status == 200 || in_progress, "{r:?}");
    }
    assert_eq!(app.get(45).await.headers["etag"], "\"1\"");
}

#[tokio::test]
async fn answers_400_401_and_413_are_not_kept() {
    let app = TestApp::new().await;
    let mut bad = customer(50);
    bad["dob"] = "2024-02-30".into();
    create_with(&app, "fix-me", &bad).await.assert_error(400);
    // The corrected request under the same key runs.
    let fixed = create_with(&app, "fix-me", &customer(50)).await;
    assert_eq!(fixed.status, 200);
    assert!(!replayed(&fixed));

    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(70_000));
    let r = app
        .call(Op::Create, "POST", "/customers")
        .header(KEY, "too-big")
        .body(&big)
        .send()
        .await;
    r.assert_error(413);
    assert_eq!(
        create_with(&app, "too-big", &customer(51)).await.status,
        200
    );

    // A 401 never reaches the key at all.
    let r = app
        .call(Op::Create, "POST", "/customers")
        .header("Authorization", "Bearer nope")
        .header(KEY, "anon")
        .json(&customer(52))
        .send()
        .await;
    r.assert_error(401);
    assert_eq!(create_with(&app, "anon", &customer(52)).await.status, 200);
}

#[tokio::test]
async fn answers_409_and_412_are_kept() {
    let app = TestApp::new().await;
    assert_eq!(app.create(&customer(60)).await.status, 200);
    let taken = create_with(&app, "dup", &customer(60)).await;
    taken.assert_error(409);
    // Even once the id is free again, the key keeps its 409.
    assert_eq!(app.delete(60).await.status, 200);
    let again = create_with(&app, "dup", &customer(60)).await;
    assert_eq!(
        (again.status, again.body.clone()),
        (409, taken.body.clone())
    );
    assert!(replayed(&again));
    app.get(60).await.assert_error(400);

    assert_eq!(app.create(&customer(61)).await.status, 200);
    let stale = || {
        app.call(Op::Update, "PATCH", "/customers/61")
            .header(KEY, "stale")
            .header("If-Match", "\"7\"")
            .json(&json!({"name": "Late"}))
    };
    let first = stale().send().await;
    first.assert_error(412);
    let again = stale().send().await;
    assert_eq!((again.status, again.body.clone()), (412, first.body));
    assert!(replayed(&again));
}

#[tokio::test]
async fn keys_belong_to_the_api_key_that_sent_them() {
    let app = TestApp::new().await;
    let other_key = shared::auth::generate_key().0;
    app.store.register_key(&other_key, "other").await.unwrap();
    assert_eq!(
        create_with(&app, "shared-name", &customer(70)).await.status,
        200
    );
    // The same Idempotency-Key from another API key is a new key: it runs (here, a 409 of its
    // own, not a replay of the first caller's 200 and not a 422).
    let r = app
        .call(Op::Create, "POST", "/customers")
        .header("Authorization", &format!("Bearer {other_key}"))
        .header(KEY, "shared-name")
        .json(&customer(70))
        .send()
        .await;
    r.assert_error(409);
    assert!(!replayed(&r));
    let r = app
        .call(Op::Create, "POST", "/customers")
        .header("Authorization", &format!("Bearer {other_key}"))
        .header(KEY, "shared-name")
        .json(&customer(71))
        .send()
        .await;
    assert_eq!(r.status, 422, "the other key's own record: {}", r.body);
}

#[tokio::test]
async fn the_header_must_be_1_to_255_printable_ascii_characters() {
    let app = TestApp::new().await;
    for bad in [String::new(), "k".repeat(256), "tab\there".into()] {
        let r = create_with(&app, &bad, &customer(80)).await;
        assert!(
            r.assert_error(400).contains("'Idempotency-Key'"),
            "{bad:?}: {}",
            r.body
        );
    }
    app.get(80).await.assert_error(400);
    assert_eq!(
        create_with(&app, &"k".repeat(255), &customer(80))
            .await
            .status,
        200
    );
    assert_eq!(
        create_with(&app, " !~printable ASCII~! ", &customer(81))
            .await
            .status,
        200
    );
    // GET takes no Idempotency-Key: it is ignored there.
    let r = app
        .call(Op::Get, "GET", "/customers/80")
        .header(KEY, &"k".repeat(300))
        .send()
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn the_record_keeps_a_keyed_mac_never_the_body() {
    let app = TestApp::new().await;
    let body = customer(90);
    assert_eq!(create_with(&app, "mac", &body).await.status, 200);
    let items = integration_tests::scan_all(&app.store, &app.store.tables.idempotency).await;
    assert_eq!(items.len(), 1);
    let text = format!("{items:?}");
    for secret in ["321549876", "321-54-9876", "John", "Austin"] {
        assert!(!text.contains(secret), "{secret} is kept: {text}");
    }
    let mac = items[0]["requestMac"].as_s().unwrap();
    let plain = integration_tests::sha256_hex(body.to_string().as_bytes());
    assert_eq!(mac.len(), 64);
    assert_ne!(mac, &plain, "an unkeyed hash of the body");
}
