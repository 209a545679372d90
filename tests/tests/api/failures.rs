use integration_tests::{customer, TestApp};
use shared::store::{sdk_config, Store, Tables};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn store_at(endpoint: &str, tables: Tables) -> Store {
    let conf = aws_sdk_dynamodb::config::Builder::from(&sdk_config().await)
        .endpoint_url(endpoint)
        .build();
    Store {
        client: aws_sdk_dynamodb::Client::from_conf(conf),
        ..Store::from_config(&sdk_config().await, tables).with_key_cache(Default::default())
    }
}

/// A port on this machine where nothing listens.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test]
async fn an_unreachable_store_is_503_on_every_route() {
    let app = TestApp::new().await;
    let down = app.with_store(
        store_at(
            &format!("http://127.0.0.1:{}", closed_port()),
            app.store.tables.clone(),
        )
        .await,
    );
    let r = down.create(&customer(1)).await;
    let d = r.assert_error(503);
    assert!(d.contains("Request id"), "{d}");
    assert!(!d.contains("127.0.0.1"), "internals leaked: {d}");
    down.get(1).await.assert_error(503);
    down.patch(1, &serde_json::json!({"active": true}))
        .await
        .assert_error(503);
    down.delete(1).await.assert_error(503);
}

/// A stand-in endpoint on loopback that answers every DynamoDB call as throttled, the way
/// DynamoDB does: after the SDK's retries, the caller gets a 503.
#[tokio::test]
async fn a_store_that_keeps_throttling_is_503() {
    let app = TestApp::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                loop {
                    let Ok(n) = sock.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#;
                    let resp = format!(
                        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{}",
                        body.len(),
                        body
                    );
                    if sock.write_all(resp.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let throttled = app.with_store(
        store_at(
            &format!("http://127.0.0.1:{port}"),
            app.store.tables.clone(),
        )
        .await,
    );
    throttled.get(1).await.assert_error(503);
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
