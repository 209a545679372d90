//! A fault-injecting HTTP proxy between the code under test and DynamoDB Local.
//!
//! The SDK speaks plain HTTP/1.1 (with keep-alive) to DynamoDB Local; the proxy reads each
//! request, decides by its operation (the `X-Amz-Target` header, `DynamoDB_20120810.GetItem`)
//! and the tables its JSON body names whether a rule applies, and either forwards it unchanged
//! to the real DynamoDB Local (`AWS_ENDPOINT_URL_DYNAMODB`) or breaks it: a delay, a dropped
//! connection, DynamoDB's own throttling and server errors, or a batch left wholly unprocessed.
//! Rules are set and cleared at run time by the test, and count the calls they matched.

mod http1;

use http1::{fill, read_message, Message};
use shared::store::{sdk_config, Store, Tables};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// What a matched call gets instead of DynamoDB's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forwarded after this pause; never forwarded if the client hangs up first (an SDK
    /// attempt that timed out), so that a timed-out write does not land later.
    Delay(Duration),
    /// The connection is closed without an answer; the request never reaches DynamoDB.
    Drop,
    /// The request reaches DynamoDB (and is carried out), then the connection is closed
    /// without its answer: a write whose acknowledgement was lost.
    DropResponse,
    /// `400 ThrottlingException`.
    Throttling,
    /// `500 InternalServerError`.
    InternalServerError,
    /// `400 ProvisionedThroughputExceededException`.
    ProvisionedThroughputExceeded,
    /// `200` with every item of a BatchWriteItem in `UnprocessedItems` (every key of a
    /// BatchGetItem in `UnprocessedKeys`); nothing is written or read.
    Unprocessed,
}

/// Which calls a rule breaks: an operation (`GetItem`), optionally only those naming a table,
/// optionally only the first `n` of them.
#[derive(Debug, Clone)]
pub struct Match {
    operation: String,
    table: Option<String>,
    times: Option<u32>,
}

/// The rule for calls of this operation (`GetItem`, `TransactWriteItems`...).
pub fn on(operation: &str) -> Match {
    Match {
        operation: operation.to_string(),
        table: None,
        times: None,
    }
}

impl Match {
    /// Only calls whose body names this table (`TableName`, a `RequestItems` key, a
    /// transaction item's table).
    pub fn table(mut self, table: &str) -> Self {
        self.table = Some(table.to_string());
        self
    }

    /// Only the first `n` matching calls; later ones pass.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }
}

/// How many calls a rule has broken so far.
#[derive(Debug, Clone, Default)]
pub struct Hits(Arc<AtomicU32>);

impl Hits {
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }
}

struct Rule {
    matches: Match,
    fault: Fault,
    hits: Hits,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    /// Every call seen, by operation.
    calls: HashMap<String, u32>,
}

/// The proxy: listening on 127.0.0.1, stopped when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// A proxy to the DynamoDB Local of the test run.
    pub async fn start() -> FaultProxy {
        let endpoint = crate::require_local_env();
        FaultProxy::start_to(&endpoint).await
    }

    /// A proxy to `http://127.0.0.1:port`.
    pub async fn start_to(endpoint: &str) -> FaultProxy {
        let upstream = endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("a bound address");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let _ = client.set_nodelay(true);
                tokio::spawn(serve(client, upstream.clone(), shared.clone()));
            }
        });
        FaultProxy { addr, state, task }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Breaks the calls `matches` selects with `fault` until [`FaultProxy::clear`]. Rules are
    /// tried in the order they were set; the first that applies wins.
    pub fn inject(&self, matches: Match, fault: Fault) -> Hits {
        let hits = Hits::default();
        self.lock().rules.push(Rule {
            matches,
            fault,
            hits: hits.clone(),
        });
        hits
    }

    /// Removes every rule: from now on every call is forwarded.
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// How many calls of this operation the proxy has seen (broken or not).
    pub fn calls(&self, operation: &str) -> u32 {
        self.lock().calls.get(operation).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A store whose DynamoDB client goes through this proxy, with these SDK timeouts. Its KMS
    /// and Secrets Manager clients are the usual ones.
    pub async fn store(&self, tables: Tables, timing: SdkTiming) -> Store {
        store_at(&self.endpoint(), tables, timing).await
    }
}

/// SDK timeouts and retries for a store under test.
#[derive(Debug, Clone, Copy)]
pub struct SdkTiming {
    pub connect: Duration,
    pub attempt: Duration,
    pub operation: Duration,
    /// `None`: the SDK's default backoff (as in production).
    pub initial_backoff: Option<Duration>,
}

/// Production's timeouts and three attempts, with a short backoff: an error answer costs
/// milliseconds, not the seconds of the SDK's default backoff.
pub const PATIENT: SdkTiming = SdkTiming {
    connect: Duration::from_secs(2),
    attempt: Duration::from_secs(3),
    operation: Duration::from_secs(8),
    initial_backoff: Some(Duration::from_millis(20)),
};

/// For the delay faults: shorter timeouts, so that a call delayed past them costs 2.5 s of
/// test time, not 8. Still loose enough for DynamoDB Local on a busy machine.
pub const QUICK: SdkTiming = SdkTiming {
    connect: Duration::from_millis(1000),
    attempt: Duration::from_millis(1200),
    operation: Duration::from_millis(2500),
    initial_backoff: Some(Duration::from_millis(20)),
};

/// A delay the [`QUICK`] settings give up on (longer than an attempt).
pub const PAST_QUICK_TIMEOUT: Duration = Duration::from_millis(1800);

/// A store whose DynamoDB client talks to `endpoint`, with `sdk_config`'s settings but these
/// timeouts (`None`: exactly production's). No API-key cache: every request looks its key up.
pub async fn store_at(
    endpoint: &str,
    tables: Tables,
    timing: impl Into<Option<SdkTiming>>,
) -> Store {
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    let config = sdk_config().await;
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&config).endpoint_url(endpoint);
    if let Some(t) = timing.into() {
        builder = builder.timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(t.connect)
                .operation_attempt_timeout(t.attempt)
                .operation_timeout(t.operation)
                .build(),
        );
        if let Some(backoff) = t.initial_backoff {
            builder = builder.retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(backoff)
                    .with_max_backoff(backoff * 10),
            );
        }
    }
    Store {
        client: shared::store::dynamodb_client(builder),
        ..Store::from_config(&config, tables).with_key_cache(Duration::ZERO)
    }
}

/// The tables a request's JSON body names.
fn tables_in(body: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(t) = v["TableName"].as_str() {
        out.push(t.to_string());
    }
    if let Some(items) = v["RequestItems"].as_object() {
        out.extend(items.keys().cloned());
    }
    for item in v["TransactItems"].as_array().into_iter().flatten() {
        for kind in ["Put", "Update", "Delete", "ConditionCheck", "Get"] {
            if let Some(t) = item[kind]["TableName"].as_str() {
                out.push(t.to_string());
            }
        }
    }
    out
}

/// The fault for this call, if a rule applies (counting it), and the call counted.
fn fault_for(state: &Mutex<State>, operation: &str, tables: &[String]) -> Option<Fault> {
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    *state.calls.entry(operation.to_string()).or_default() += 1;
    for rule in &state.rules {
        let m = &rule.matches;
        if m.operation != operation {
            continue;
        }
        if m.table.as_ref().is_some_and(|t| !tables.contains(t)) {
            continue;
        }
        let n = rule.hits.0.fetch_add(1, Ordering::SeqCst);
        if m.times.is_some_and(|times| n >= times) {
            rule.hits.0.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        return Some(rule.fault.clone());
    }
    None
}

fn answer(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-requestid: fault-proxy\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn error_answer(status: &str, kind: &str, message: &str) -> Vec<u8> {
    let body = serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"),
        "message": message,
    });
    answer(status, &body.to_string())
}

/// The answer to a batch that left everything unprocessed.
fn unprocessed(operation: &str, body: &[u8]) -> Vec<u8> {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let items = v["RequestItems"].clone();
    let out = if operation == "BatchGetItem" {
        serde_json::json!({"Responses": {}, "UnprocessedKeys": items})
    } else {
        serde_json::json!({"UnprocessedItems": items})
    };
    answer("200 OK", &out.to_string())
}

/// The connection to DynamoDB Local, kept alive across the client's requests.
struct Upstream {
    addr: String,
    conn: Option<(TcpStream, Vec<u8>)>,
}

impl Upstream {
    /// Sends a request and reads its answer; once more on a fresh connection if a kept-alive
    /// one turns out to be closed.
    async fn exchange(&mut self, request: &[u8]) -> std::io::Result<Message> {
        for fresh in [self.conn.is_none(), true] {
            if fresh || self.conn.is_none() {
                let s = TcpStream::connect(&self.addr).await?;
                let _ = s.set_nodelay(true);
                self.conn = Some((s, Vec::new()));
            }
            let (stream, buf) = self.conn.as_mut().expect("connected");
            let sent = stream.write_all(request).await;
            let got = match sent {
                Ok(()) => read_message(stream, buf, true).await,
                Err(e) => Err(e),
            };
            match got {
                Ok(Some(m)) => {
                    if m.closes {
                        self.conn = None;
                    }
                    return Ok(m);
                }
                Ok(None) | Err(_) if !fresh => {
                    self.conn = None;
                    continue;
                }
                Ok(None) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Err(e) => {
                    self.conn = None;
                    return Err(e);
                }
            }
        }
        Err(std::io::ErrorKind::UnexpectedEof.into())
    }
}

/// Waits until the client hangs up (or sends something, which is kept in `buf`).
async fn hung_up(client: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    loop {
        match fill(client, buf).await {
            Ok(true) => continue,
            _ => return true,
        }
    }
}

/// One client connection: its requests one after another (the SDK does not pipeline).
async fn serve(mut client: TcpStream, upstream: String, state: Arc<Mutex<State>>) {
    let mut upstream = Upstream {
        addr: upstream,
        conn: None,
    };
    let mut buf = Vec::new();
    loop {
        let request = match read_message(&mut client, &mut buf, false).await {
            Ok(Some(r)) => r,
            _ => return,
        };
        let operation = request
            .header("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("")
            .to_string();
        let tables = tables_in(request.body());
        let reply = match fault_for(&state, &operation, &tables) {
            None => None,
            Some(Fault::Delay(d)) => {
                tokio::select! {
                    _ = tokio::time::sleep(d) => None,
                    _ = hung_up(&mut client, &mut buf) => return,
                }
            }
            Some(Fault::Drop) => return,
            Some(Fault::DropResponse) => {
                let _ = upstream.exchange(&request.raw).await;
                return;
            }
            Some(Fault::Throttling) => Some(error_answer(
                "400 Bad Request",
                "ThrottlingException",
                "Rate of requests exceeds the allowed throughput.",
            )),
            Some(Fault::ProvisionedThroughputExceeded) => Some(error_answer(
                "400 Bad Request",
                "ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded.",
            )),
            Some(Fault::InternalServerError) => Some(error_answer(
                "500 Internal Server Error",
                "InternalServerError",
                "Internal server error",
            )),
            Some(Fault::Unprocessed) => Some(unprocessed(&operation, request.body())),
        };
        let (bytes, closes) = match reply {
            Some(bytes) => (bytes, false),
            None => match upstream.exchange(&request.raw).await {
                Ok(m) => (m.raw, m.closes),
                Err(_) => return,
            },
        };
        if client.write_all(&bytes).await.is_err() || closes || request.closes {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_found_wherever_a_request_names_them() {
        let body = br#"{"TableName": "a", "RequestItems": {"b": [], "c": []}, "TransactItems": [{"Put": {"TableName": "d"}}, {"Delete": {"TableName": "e"}}]}"#;
        assert_eq!(tables_in(body), ["a", "b", "c", "d", "e"]);
        assert!(tables_in(b"not json").is_empty());
    }

    #[test]
    fn a_rule_narrowed_by_table_and_times() {
        let state = Mutex::new(State::default());
        let hits = Hits::default();
        state.lock().unwrap().rules.push(Rule {
            matches: on("GetItem").table("customers").times(2),
            fault: Fault::Throttling,
            hits: hits.clone(),
        });
        let t = |s: &str| vec![s.to_string()];
        assert_eq!(fault_for(&state, "GetItem", &t("api-keys")), None);
        assert_eq!(fault_for(&state, "Query", &t("customers")), None);
        assert_eq!(
            fault_for(&state, "GetItem", &t("customers")),
            Some(Fault::Throttling)
        );
        assert_eq!(
            fault_for(&state, "GetItem", &t("customers")),
            Some(Fault::Throttling)
        );
        assert_eq!(fault_for(&state, "GetItem", &t("customers")), None);
        assert_eq!(hits.get(), 2);
        assert_eq!(state.lock().unwrap().calls["GetItem"], 4);
    }
}
