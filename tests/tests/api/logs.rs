use integration_tests::{capture_logs, customer, TestApp};

/// Logs are JSON lines naming the request id, and no SSN or API key reaches them, whatever
/// the request (good, bad, failing).
#[tokio::test]
async fn logs_are_json_lines_without_ssn_or_key() {
    let captured = capture_logs();
    let app = TestApp::new().await;
    let body = customer(50); // SSN 321-54-9876
    app.create(&body).await;
    app.create(&body).await;
    let mut bad = body.clone();
    bad["ssn"] = "666-54-9876".into();
    bad["giggleId"] = 51.into();
    app.create(&bad).await;
    app.get(50).await;
    app.patch(50, &serde_json::json!({"ssn": "321-54-9877"}))
        .await;
    app.call(integration_tests::Op::Get, "GET", "/customers/50")
        .header("Authorization", "Bearer wrong-key-123")
        .send()
        .await;
    let broken = app.with_store(
        app.store
            .with_tables(shared::store::Tables::with_prefix("gone-")),
    );
    broken.get(50).await;
    app.delete(50).await;

    let logs = captured.text();
    let lines: Vec<&str> = logs.lines().collect();
    assert!(
        lines.len() >= 8,
        "expected a line per request, got:\n{logs}"
    );
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(
            v["fields"]["request_id"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "no request id: {line}"
        );
        // Every request's line names the API key's id (or `none` when no key was accepted).
        let key_id = v["fields"]["keyId"].as_str().unwrap_or_default();
        assert!(
            key_id == "none" || key_id == &shared::auth::hash_key(&app.key)[..12],
            "no key id: {line}"
        );
    }
    let own_key_id = format!("\"keyId\":\"{}\"", &shared::auth::hash_key(&app.key)[..12]);
    assert!(
        lines.iter().filter(|l| l.contains(&own_key_id)).count() >= 5,
        "the authenticated requests' lines name the key id:\n{logs}"
    );
    for secret in [
        "321549876",
        "321-54-9876",
        "666-54-9876",
        "321549877",
        "wrong-key-123",
        app.key.as_str(),
    ] {
        assert!(!logs.contains(secret), "{secret} reached the logs:\n{logs}");
    }
}
