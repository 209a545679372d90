//! Metrics an operator can see: one CloudWatch Embedded Metric Format (EMF) line a request, on
//! stdout beside the logs, from which CloudWatch Logs extracts the metrics (no API call, no IAM).
//!
//! The line names the operation (the function, never the raw path: paths hold ids) and the
//! status class, and carries three values: `Requests` (1), `Latency` (milliseconds, from the
//! start of [`crate::edge::serve`] to the response built) and `StoreRetries` (DynamoDB attempts
//! beyond the first, during this request). Nothing else of the request reaches it.
//!
//! Store retries are counted by [`StoreAttempts`], an SDK interceptor on the DynamoDB client,
//! into a counter that belongs to the request being served (a task-local, see [`StoreRetries`]):
//! requests served concurrently in one process each count their own.

use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use serde_json::{json, Value};
use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tracing_subscriber::fmt::MakeWriter;

/// The namespace when `METRICS_NAMESPACE` is not set (the template sets it from its
/// `MetricsNamespace` parameter, whose default is this).
pub const DEFAULT_NAMESPACE: &str = "TaskSuite";

/// The dimension sets of every line: per operation (request counts, latency percentiles and
/// retries of the function), and per operation and status class (its 2xx, 4xx and 5xx).
pub const DIMENSIONS: [&[&str]; 2] = [&["Operation"], &["Operation", "StatusClass"]];

/// The metrics of every line, with their CloudWatch units.
pub const METRICS: [(&str, &str); 3] = [
    ("Requests", "Count"),
    ("Latency", "Milliseconds"),
    ("StoreRetries", "Count"),
];

/// One request's count of store retries (shared with the task-local of its scope).
#[derive(Debug, Clone, Default)]
pub struct StoreRetries(Arc<AtomicU32>);

tokio::task_local! {
    static CURRENT: StoreRetries;
}

impl StoreRetries {
    /// Runs one request's work with this counter as the one its store calls count into.
    pub fn count_during<F: Future>(&self, work: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self.clone(), work)
    }

    /// The retries counted so far.
    pub fn count(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One more store attempt beyond the first, for the request being served (none outside one:
/// the admin tool, a test's setup).
pub fn count_store_retry() {
    let _ = CURRENT.try_with(|c| c.0.fetch_add(1, Ordering::Relaxed));
}

/// The DynamoDB client's interceptor: every attempt after an operation's first (the SDK's
/// retries of throttling, 5xx and timeouts) counts as a store retry of the current request.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreAttempts;

impl Intercept for StoreAttempts {
    fn name(&self) -> &'static str {
        "StoreAttempts"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The orchestrator numbers the attempts from 1 before each one starts.
        if cfg
            .load::<RequestAttempts>()
            .is_some_and(|a| a.attempts() > 1)
        {
            count_store_retry();
        }
        Ok(())
    }
}

/// What one request's line reports.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestMetrics {
    /// The function's operation (`GetCustomer`, ...): [`crate::edge::Endpoint::operation`].
    pub operation: &'static str,
    /// The HTTP status answered.
    pub status: u16,
    pub latency: Duration,
    pub store_retries: u32,
}

/// `2xx`, `4xx` or `5xx` (and `1xx`, `3xx`, which no function answers); anything outside
/// 100..=599 counts as `5xx`.
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

impl RequestMetrics {
    /// The EMF document: the `_aws` metadata (timestamp in epoch milliseconds, one metric
    /// directive), then the dimensions' and the metrics' values as top-level members.
    pub fn to_emf(&self, namespace: &str, timestamp_ms: u64) -> Value {
        let metrics: Vec<Value> = METRICS
            .iter()
            .map(|(name, unit)| json!({"Name": name, "Unit": unit}))
            .collect();
        // Microsecond precision, in milliseconds.
        let latency_ms = self.latency.as_micros() as f64 / 1000.0;
        json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": DIMENSIONS,
                    "Metrics": metrics,
                }],
            },
            "Operation": self.operation,
            "StatusClass": status_class(self.status),
            "Requests": 1,
            "Latency": latency_ms,
            "StoreRetries": self.store_retries,
        })
    }
}

/// `METRICS_NAMESPACE`, read once.
pub fn namespace() -> &'static str {
    static NAMESPACE: OnceLock<String> = OnceLock::new();
    NAMESPACE.get_or_init(|| {
        std::env::var("METRICS_NAMESPACE")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
    })
}

type Sink = Box<dyn Fn(&[u8]) + Send + Sync>;

static SINK: OnceLock<Sink> = OnceLock::new();

/// Sends the lines elsewhere than stdout (the tests read them); the first call wins.
pub fn init_with_writer<W>(writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let _ = SINK.set(Box::new(move |line: &[u8]| {
        let _ = writer.make_writer().write_all(line);
    }));
}

/// Writes the request's line: one `write_all` of the whole line, so that it never interleaves
/// with a log line.
pub fn emit(metrics: &RequestMetrics) {
    let timestamp_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut line = metrics.to_emf(namespace(), timestamp_ms).to_string();
    line.push('\n');
    match SINK.get() {
        Some(sink) => sink(line.as_bytes()),
        None => {
            let _ = std::io::stdout().lock().write_all(line.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RequestMetrics {
        RequestMetrics {
            operation: "GetCustomer",
            status: 503,
            latency: Duration::from_micros(12_345),
            store_retries: 2,
        }
    }

    /// The document as the EMF specification wants it, to the byte.
    #[test]
    fn the_line_is_an_emf_document() {
        let line = sample().to_emf("TaskSuite", 1_700_000_000_123).to_string();
        assert_eq!(
            line,
            concat!(
                r#"{"_aws":{"Timestamp":1700000000123,"CloudWatchMetrics":[{"Namespace":"TaskSuite","#,
                r#""Dimensions":[["Operation"],["Operation","StatusClass"]],"#,
                r#""Metrics":[{"Name":"Requests","Unit":"Count"},{"Name":"Latency","Unit":"Milliseconds"},"#,
                r#"{"Name":"StoreRetries","Unit":"Count"}]}]},"#,
                r#""Operation":"GetCustomer","StatusClass":"5xx","Requests":1,"Latency":12.345,"StoreRetries":2}"#
            )
        );
    }

    /// The specification's rules, checked on the parsed document: every dimension and metric
    /// named in the directive is a top-level member (strings for dimensions, numbers for
    /// metrics), the units are CloudWatch units, at most 30 dimensions a set and 100 metrics.
    #[test]
    fn every_referenced_member_is_present_with_its_type() {
        let doc = sample().to_emf("Custom/Space", 1);
        let aws = &doc["_aws"];
        assert!(aws["Timestamp"].is_u64());
        let directives = aws["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1);
        let d = &directives[0];
        assert_eq!(d["Namespace"], "Custom/Space");
        for set in d["Dimensions"].as_array().unwrap() {
            let set = set.as_array().unwrap();
            assert!(!set.is_empty() && set.len() <= 30);
            for name in set {
                assert!(doc[name.as_str().unwrap()].is_string(), "{name}");
            }
        }
        let metrics = d["Metrics"].as_array().unwrap();
        assert!(metrics.len() <= 100);
        for m in metrics {
            let name = m["Name"].as_str().unwrap();
            assert!(doc[name].is_number(), "{name}");
            assert!(
                ["Count", "Milliseconds"].contains(&m["Unit"].as_str().unwrap()),
                "{m}"
            );
        }
        // Nothing but the metadata, the two dimensions and the three metrics.
        assert_eq!(doc.as_object().unwrap().len(), 6);
    }

    #[test]
    fn status_classes() {
        for (status, class) in [
            (200, "2xx"),
            (299, "2xx"),
            (400, "4xx"),
            (401, "4xx"),
            (413, "4xx"),
            (499, "4xx"),
            (500, "5xx"),
            (503, "5xx"),
            (302, "3xx"),
            (600, "5xx"),
            (0, "5xx"),
        ] {
            assert_eq!(status_class(status), class, "{status}");
        }
    }

    #[tokio::test]
    async fn retries_count_for_the_request_being_served_only() {
        count_store_retry(); // outside any request: nowhere
        let (none, one, two) = (
            StoreRetries::default(),
            StoreRetries::default(),
            StoreRetries::default(),
        );
        none.count_during(async {}).await;
        let a = one.count_during(async {
            count_store_retry();
        });
        let b = two.count_during(async {
            count_store_retry();
            tokio::task::yield_now().await;
            count_store_retry();
        });
        tokio::join!(a, b);
        assert_eq!((none.count(), one.count(), two.count()), (0, 1, 2));
    }
}
