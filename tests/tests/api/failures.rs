//! The store failing before any operation runs (unreachable, or the API-key lookup throttled),
//! and the unexpected failure that is a 500. Each operation's own store calls are broken in
//! `faults.rs`.

use integration_tests::faults::{on, store_at, Fault, FaultProxy, PATIENT};
use integration_tests::{customer, TestApp};
use shared::store::Tables;

/// A port on this machine where nothing listens.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Every route, each answering 503 in the contract's shape.
async fn assert_every_route_is_503(app: &TestApp) {
    let answers = [
        ("create", app.create(&customer(1)).await),
        ("get", app.get(1).await),
        (
            "update",
            app.patch(1, &serde_json::json!({"active": true})).await,
        ),
        ("delete", app.delete(1).await),
        ("loan pay dates", app.loan_pay_dates(1, &[]).await),
        ("pay dates", app.pay_dates(&[("date", "2024-05-16")]).await),
    ];
    for (route, r) in answers {
        let d = r.assert_error(503);
        assert!(d.contains("Request id"), "{route}: {d}");
        assert!(!d.contains("127.0.0.1"), "{route}: internals leaked: {d}");
    }
}

#[tokio::test]
async fn an_unreachable_store_is_503_on_every_route() {
    let app = TestApp::new().await;
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let down = app.with_store(store_at(&endpoint, app.store.tables.clone(), None).await);
    assert_every_route_is_503(&down).await;
    // The import, too, stops with the reason.
    let line = integration_tests::loan_line(1, 1, "2024-05-01");
    let err = shared::import::import(
        &down.store,
        shared::import::Kind::Loans,
        line.as_bytes(),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(err.contains("dispatch failure"), "{err}");
}

/// The API-key lookup throttled past the SDK's retries: a 503 (an outage must not look like a
/// revoked key), on every route.
#[tokio::test]
async fn a_throttled_key_lookup_is_503_on_every_route() {
    let app = TestApp::new().await;
    let proxy = FaultProxy::start().await;
    let throttled = app.with_store(proxy.store(app.store.tables.clone(), PATIENT).await);
    let hits = proxy.inject(
        on("GetItem").table(&app.store.tables.api_keys),
        Fault::Throttling,
    );
    assert_every_route_is_503(&throttled).await;
    assert_eq!(hits.get(), 6 * 3, "three attempts for each route's lookup");
    proxy.clear();
    assert_eq!(
        throttled.get(1).await.assert_error(400),
        "Giggle ID 1 not found."
    );
}

/// Anything unexpected (here: tables that do not exist) is a 500 that names the request id
/// and nothing of the internals.
#[tokio::test]
async fn an_unexpected_failure_is_500_without_internals() {
    let app = TestApp::new().await;
    let broken = app.with_store(app.store.with_tables(Tables::with_prefix("missing-")));
    let r = broken.get(1).await;
    let d = r.assert_error(500);
    assert!(d.contains("Request id"));
    assert!(
        !d.contains("missing-") && !d.contains("ResourceNotFound"),
        "{d}"
    );
}
