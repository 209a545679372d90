use integration_tests::{customer, Op, TestApp};

/// Missing header, wrong scheme, unknown or revoked key: one and the same 401, nothing written.
#[tokio::test]
async fn every_auth_failure_is_the_same_401() {
    let app = TestApp::new().await;
    let revoked = shared::auth::generate_key().0;
    let id = app.store.register_key(&revoked, "to revoke").await.unwrap();
    app.store.revoke_key(&id).await.unwrap();

    let headers: Vec<Option<String>> = vec![
        None,
        Some(String::new()),
        Some("Bearer".into()),
        Some("Bearer ".into()),
        Some(format!("Basic {}", app.key)),
        Some(format!("Token {}", app.key)),
        Some(app.key.clone()),
        Some("Bearer tsk_not-a-real-key".into()),
        Some(format!("Bearer {}x", app.key)),
        Some(format!("Bearer {revoked}")),
    ];
    let mut bodies = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        for op in [
            Op::Create,
            Op::Get,
            Op::Update,
            Op::Delete,
            Op::LoanPayDates,
            Op::PayDates,
        ] {
            let (method, path) = match op {
                Op::Create => ("POST", "/customers".to_string()),
                Op::Get => ("GET", format!("/customers/{}", 100 + i)),
                Op::Update => ("PATCH", format!("/customers/{}", 100 + i)),
                Op::Delete => ("DELETE", format!("/customers/{}", 100 + i)),
                Op::LoanPayDates => ("GET", format!("/loans/{}/paydates", 100 + i)),
                Op::PayDates => ("GET", "/paydates".to_string()),
            };
            let mut call = app
                .call(op, method, &path)
                .json(&customer(100 + i as u64))
                .without_header("authorization");
            if let Some(h) = h {
                call = call.header("Authorization", h);
            }
            let r = call.send().await;
            r.assert_error(401);
            assert!(
                !r.body.contains(&app.key) && !r.body.contains(&revoked),
                "a key was echoed"
            );
            bodies.push(r.body);
        }
        app.get(100 + i).await.assert_error(400);
    }
    bodies.dedup();
    assert_eq!(
        bodies,
        [
            r#"{"statusCode": 401, "description": "Missing or invalid API key.", "name": "Unauthorized"}"#
        ]
    );
}

#[tokio::test]
async fn auth_comes_before_input_checks() {
    let app = TestApp::new().await;
    let r = app
        .call(Op::Get, "GET", "/customers/abc")
        .without_header("authorization")
        .send()
        .await;
    r.assert_error(401);
    let r = app
        .call(Op::Create, "POST", "/customers")
        .body("{")
        .without_header("authorization")
        .send()
        .await;
    r.assert_error(401);
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once() {
    let app = TestApp::new().await;
    assert_eq!(app.create(&customer(30)).await.status, 200);
    let id = shared::auth::hash_key(&app.key)[..12].to_string();
    app.store.revoke_key(&id).await.unwrap();
    app.get(30).await.assert_error(401);
    let keys = app.store.list_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].revoked_at.is_some());
}

#[tokio::test]
async fn keys_are_stored_only_as_hashes() {
    let app = TestApp::new().await;
    let scan = app
        .store
        .client
        .scan()
        .table_name(&app.store.tables.api_keys)
        .send()
        .await
        .unwrap();
    let dump = format!("{:?}", scan.items());
    assert!(!dump.contains(&app.key), "the key itself is stored");
    assert!(dump.contains(&shared::auth::hash_key(&app.key)));
}

#[tokio::test]
async fn a_method_a_route_does_not_serve_is_405_with_allow() {
    let app = TestApp::new().await;
    for (op, method, path, allow) in [
        (Op::Create, "GET", "/customers", "POST"),
        (Op::Create, "PUT", "/customers", "POST"),
        (Op::Get, "POST", "/customers/1", "GET, PATCH, DELETE"),
        (Op::Get, "PUT", "/customers/1", "GET, PATCH, DELETE"),
        (Op::PayDates, "POST", "/paydates", "GET"),
        (Op::LoanPayDates, "DELETE", "/loans/1/paydates", "GET"),
    ] {
        let r = app.call(op, method, path).send().await;
        assert_eq!(
            r.assert_error(405),
            format!("This route answers {allow} only.")
        );
        assert_eq!(r.headers["allow"], allow);
    }
}
