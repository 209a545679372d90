//! The metrics line (CloudWatch EMF) every request writes: one a request, naming the operation
//! and the status class, with its latency and its store retries, and nothing of the request.

use integration_tests::{customer, Captured, Op, TestApp};
use serde_json::Value;
use shared::store::{dynamodb_client, sdk_config, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The functions' metrics lines, written here instead of stdout (once per test process:
/// nextest runs every test in a process of its own).
fn capture_metrics() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    shared::metrics::init_with_writer(move || writer.clone());
    captured
}

fn lines(captured: &Captured) -> Vec<Value> {
    captured
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn class(status: u16) -> String {
    format!("{}xx", status / 100)
}

/// A stand-in DynamoDB endpoint on loopback that answers every call as throttled, the way
/// DynamoDB does.
async fn throttling_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                while let Ok(n) = sock.read(&mut buf).await {
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
    format!("http://127.0.0.1:{port}")
}

/// Every request, whatever its answer, writes exactly one line, in the order served: the
/// function's operation, the class of the status it answered, a latency, no store retry.
#[tokio::test]
async fn each_request_writes_one_line_with_operation_status_class_and_latency() {
    let captured = capture_metrics();
    let app = TestApp::new().await;
    let body = customer(60); // SSN 321-54-9876
    let mut answers = Vec::new();
    let r = app.create(&body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    answers.push(("CreateCustomer", r.status));
    let r = app.create(&body).await;
    assert_eq!(r.status, 409, "{}", r.body);
    answers.push(("CreateCustomer", r.status));
    let r = app.get(60).await;
    assert_eq!(r.status, 200, "{}", r.body);
    answers.push(("GetCustomer", r.status));
    let r = app.patch(60, &serde_json::json!({"active": false})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    answers.push(("UpdateCustomer", r.status));
    let r = app.loan_pay_dates(987654, &[("date", "2024-01-05")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    answers.push(("GetLoanPayDates", r.status));
    let r = app.pay_dates(&[("date", "2024-01-05")]).await;
    answers.push(("ListPayDates", r.status));
    let r = app
        .call(Op::Get, "GET", "/customers/60")
        .header("Authorization", "Bearer wrong-key-123")
        .send()
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    answers.push(("GetCustomer", r.status));
    let r = app.call(Op::Get, "PUT", "/customers/60").send().await;
    assert_eq!(r.status, 405, "{}", r.body);
    answers.push(("GetCustomer", r.status));
    let r = app.delete(60).await;
    assert_eq!(r.status, 200, "{}", r.body);
    answers.push(("DeleteCustomer", r.status));

    let text = captured.text();
    let got = lines(&captured);
    assert_eq!(got.len(), answers.len(), "one line a request:\n{text}");
    for (line, (operation, status)) in got.iter().zip(&answers) {
        assert_eq!(line["Operation"], *operation, "{line}");
        assert_eq!(line["StatusClass"], class(*status), "{line}");
        assert_eq!(line["Requests"], 1, "{line}");
        assert_eq!(line["StoreRetries"], 0, "{line}");
        let latency = line["Latency"].as_f64().expect("a latency");
        assert!(latency > 0.0 && latency < 10_000.0, "{line}");
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "TaskSuite", "{line}");
        assert!(line["_aws"]["Timestamp"].is_u64(), "{line}");
        let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "_aws",
                "Operation",
                "StatusClass",
                "Requests",
                "Latency",
                "StoreRetries"
            ],
            "{line}"
        );
    }
    // Nothing of the requests: no path, id, SSN, key or key id.
    let key_id = &shared::auth::hash_key(&app.key)[..12];
    for leak in [
        "customers",
        "\"60\"",
        "987654",
        "321549876",
        "321-54-9876",
        "wrong-key-123",
        app.key.as_str(),
        key_id,
    ] {
        assert!(!text.contains(leak), "{leak} reached the metrics:\n{text}");
    }
}

/// A store that throttles: the SDK's retries show on the 503's line (3 attempts: 2 retries),
/// while requests served at the same time, in the same process, show none of them.
#[tokio::test]
async fn a_throttling_store_shows_its_retries_on_the_503_only() {
    let captured = capture_metrics();
    let app = TestApp::new().await;
    app.create(&customer(61)).await;
    let conf = aws_sdk_dynamodb::config::Builder::from(&sdk_config().await)
        .endpoint_url(throttling_endpoint().await);
    let throttled = app.with_store(Store {
        client: dynamodb_client(conf),
        ..app.store.clone()
    });
    let normal = async {
        let mut statuses = Vec::new();
        for _ in 0..6 {
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            statuses.push(app.get(61).await.status);
        }
        statuses
    };
    let (failed, statuses) = tokio::join!(throttled.get(61), normal);
    failed.assert_error(503);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    let text = captured.text();
    let got = lines(&captured);
    assert_eq!(got.len(), 1 + 1 + 6, "one line a request:\n{text}");
    let failed: Vec<&Value> = got.iter().filter(|l| l["StatusClass"] == "5xx").collect();
    assert_eq!(failed.len(), 1, "{text}");
    assert_eq!(failed[0]["Operation"], "GetCustomer");
    assert_eq!(
        failed[0]["StoreRetries"], 2,
        "the SDK makes 3 attempts (store.rs): 2 retries\n{text}"
    );
    for line in got.iter().filter(|l| l["StatusClass"] != "5xx") {
        assert_eq!(line["StatusClass"], "2xx", "{line}");
        assert_eq!(line["StoreRetries"], 0, "{line}");
    }
}
