//! What every integration test needs: its own tables in DynamoDB Local (created from
//! `infra/template.yaml`), an API key, and a way to call each function's real handler with a
//! request shaped as API Gateway would hand it over.

pub mod faults;

use lambda_http::{Body, Request, RequestExt};
use serde_json::Value;
use shared::store::{sdk_config, Store, Tables};
pub use shared::time::Clock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub const TEMPLATE: &str = include_str!("../../infra/template.yaml");
pub const BASE: &str = "/webhook/v1/json";

/// The operations, one per function binary.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Create,
    Get,
    Update,
    Delete,
    LoanPayDates,
    PayDates,
}

pub struct TestApp {
    pub store: Store,
    pub key: String,
    /// What the handlers take as "now": the system clock unless a test fixes an instant.
    pub clock: Clock,
}

/// The environment `make test` sets: DynamoDB Local's endpoint, a region, dummy credentials and
/// no EC2 metadata look-ups. Without it the suite fails loudly rather than reach anything else.
pub fn require_local_env() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .expect("AWS_ENDPOINT_URL_DYNAMODB is not set: run the suite with `make test`, which starts DynamoDB Local");
    assert!(
        endpoint.starts_with("http://127.0.0.1:") || endpoint.starts_with("http://localhost:"),
        "the tests only talk to a DynamoDB Local on this machine, not {endpoint}"
    );
    assert_eq!(
        std::env::var("AWS_EC2_METADATA_DISABLED").as_deref(),
        Ok("true"),
        "set AWS_EC2_METADATA_DISABLED=true (make test does)"
    );
    endpoint
}

pub fn unique_prefix() -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("t{}-{}-{}-", std::process::id(), nanos, n)
}

impl TestApp {
    /// Fresh tables under a unique prefix, and one registered key.
    pub async fn new() -> TestApp {
        require_local_env();
        let tables = Tables::with_prefix(&unique_prefix());
        // No API-key cache: a key revoked by a test answers 401 at once (the cache has tests
        // of its own).
        let store = Store::from_config(&sdk_config().await, tables)
            .with_key_cache(std::time::Duration::ZERO);
        shared::tables::create_all(&store.client, TEMPLATE, &store.tables)
            .await
            .expect("tables are created in DynamoDB Local");
        let key = shared::auth::generate_key().0;
        // A fresh random key cannot be taken: a conflict means the SDK retried a put that had
        // landed (DynamoDB Local slowed down by a loaded machine).
        match store.register_key(&key, "tests").await {
            Ok(_) | Err(shared::error::ApiError::Conflict(_)) => {}
            Err(e) => panic!("key registered: {e:?}"),
        }
        TestApp {
            store,
            key,
            clock: Clock::System,
        }
    }

    /// The same app with the handlers' clock stopped at `at`.
    pub fn at(self, at: chrono::DateTime<chrono::Utc>) -> TestApp {
        TestApp {
            clock: Clock::Fixed(at),
            ..self
        }
    }

    /// The same handlers over a store somewhere else (unreachable, broken...).
    pub fn with_store(&self, store: Store) -> TestApp {
        TestApp {
            store,
            key: self.key.clone(),
            clock: self.clock,
        }
    }

    pub fn call(&self, op: Op, method: &str, path: &str) -> Call<'_> {
        Call {
            app: self,
            op,
            method: method.to_string(),
            path: path.to_string(),
            query: Vec::new(),
            headers: vec![("authorization".into(), format!("Bearer {}", self.key))],
            body: None,
        }
    }

    pub async fn create(&self, body: &Value) -> Response {
        self.call(Op::Create, "POST", "/customers")
            .json(body)
            .send()
            .await
    }

    pub async fn create_raw(&self, body: &str) -> Response {
        self.call(Op::Create, "POST", "/customers")
            .body(body)
            .send()
            .await
    }

    pub async fn get(&self, id: impl std::fmt::Display) -> Response {
        self.call(Op::Get, "GET", &format!("/customers/{id}"))
            .send()
            .await
    }

    pub async fn patch(&self, id: impl std::fmt::Display, body: &Value) -> Response {
        self.call(Op::Update, "PATCH", &format!("/customers/{id}"))
            .json(body)
            .send()
            .await
    }

    pub async fn delete(&self, id: impl std::fmt::Display) -> Response {
        self.call(Op::Delete, "DELETE", &format!("/customers/{id}"))
            .send()
            .await
    }

    /// GET /loans/{id}/paydates with these query parameters.
    pub async fn loan_pay_dates(
        &self,
        id: impl std::fmt::Display,
        query: &[(&str, &str)],
    ) -> Response {
        let mut call = self.call(Op::LoanPayDates, "GET", &format!("/loans/{id}/paydates"));
        for (k, v) in query {
            call = call.query(k, v);
        }
        call.send().await
    }

    /// GET /paydates with these query parameters.
    pub async fn pay_dates(&self, query: &[(&str, &str)]) -> Response {
        let mut call = self.call(Op::PayDates, "GET", "/paydates");
        for (k, v) in query {
            call = call.query(k, v);
        }
        call.send().await
    }

    /// Runs the import on JSON Lines text.
    pub async fn import(&self, kind: shared::import::Kind, text: &str) -> shared::import::Report {
        shared::import::import(&self.store, kind, text.as_bytes(), |_| {})
            .await
            .expect("the import runs")
    }

    /// Imports lines that must all be accepted.
    pub async fn import_ok(&self, kind: shared::import::Kind, text: &str) {
        let report = self.import(kind, text).await;
        assert!(
            report.rejected.is_empty(),
            "rejected: {:?}",
            report.rejected
        );
    }
}

pub struct Call<'a> {
    app: &'a TestApp,
    op: Op,
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

impl Call<'_> {
    pub fn json(self, v: &Value) -> Self {
        self.body(&v.to_string())
    }

    pub fn body(mut self, b: &str) -> Self {
        self.body = Some(b.to_string());
        self
    }

    pub fn query(mut self, k: &str, v: &str) -> Self {
        self.query.push((k.into(), v.into()));
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case(k));
        self.headers.push((k.to_lowercase(), v.into()));
        self
    }

    pub fn without_header(mut self, k: &str) -> Self {
        self.headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case(k));
        self
    }

    pub fn request(&self) -> Request {
        let mut uri = format!("{BASE}{}", self.path);
        if !self.query.is_empty() {
            let q: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            uri = format!("{uri}?{}", q.join("&"));
        }
        let mut builder = lambda_http::http::Request::builder()
            .method(self.method.as_str())
            .uri(uri);
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        let body = match &self.body {
            Some(b) => Body::from(b.clone()),
            None => Body::Empty,
        };
        let mut req: Request = builder.body(body).expect("a valid test request");
        // What API Gateway (and the cargo-lambda router) put in the event.
        let segments: Vec<&str> = self.path.split('/').collect();
        if segments.len() >= 3 && segments[1] == "customers" {
            req = req.with_path_parameters(HashMap::from([(
                "giggleId".to_string(),
                segments[2].to_string(),
            )]));
        }
        if !self.query.is_empty() {
            let mut q: HashMap<String, Vec<String>> = HashMap::new();
            for (k, v) in &self.query {
                q.entry(k.clone()).or_default().push(v.clone());
            }
            req = req.with_query_string_parameters(q);
        }
        let mut ctx = lambda_http::Context::default();
        ctx.request_id = format!("req-{}", unique_prefix());
        req.with_lambda_context(ctx)
    }

    pub async fn send(self) -> Response {
        let req = self.request();
        let expected_request_id = req.lambda_context_ref().map(|c| c.request_id.clone());
        let (store, clock) = (&self.app.store, self.app.clock);
        let resp = match self.op {
            Op::Create => create_customer::handler(store, clock, req).await,
            Op::Get => get_customer::handler(store, clock, req).await,
            Op::Update => update_customer::handler(store, clock, req).await,
            Op::Delete => delete_customer::handler(store, clock, req).await,
            Op::LoanPayDates => get_loan_paydates::handler(store, clock, req).await,
            Op::PayDates => list_paydates::handler(store, clock, req).await,
        }
        .expect("handlers answer every request with Ok(response)");
        let status = resp.status().as_u16();
        let headers: HashMap<String, String> = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = String::from_utf8(resp.body().as_ref().to_vec()).expect("UTF-8 body");
        assert_eq!(
            headers.get("x-request-id").cloned(),
            expected_request_id,
            "every response carries x-request-id"
        );
        assert_eq!(
            headers.get("content-type").map(String::as_str),
            Some("application/json")
        );
        assert!(
            status < 500 || body.contains("Request id"),
            "a 5xx names its request id: {body}"
        );
        Response {
            status,
            headers,
            body,
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn description(&self) -> String {
        self.json()["description"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Asserts the contract's error envelope with this status, and returns the description.
    pub fn assert_error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "body: {}", self.body);
        let v = self.json();
        let obj = v.as_object().expect("an error body is an object");
        let keys: Vec<&String> = obj.keys().collect();
        assert_eq!(
            keys,
            ["statusCode", "description", "name"],
            "error envelope keys: {}",
            self.body
        );
        assert_eq!(v["statusCode"], status);
        assert_eq!(v["name"], shared::error::reason_phrase(status));
        self.description()
    }
}

/// The seed's own create example.
pub fn seed_customer() -> Value {
    serde_json::json!({
       "active": true,
       "customerType": "person",
       "ssn": 123456789,
       "dob": "2000-01-30",
       "name": "John",
       "surname": "Doe",
       "accessUserName": "john_doe",
       "email": "john.doe@email.com",
       "companyName": "ABC Company L.L.C",
       "ein": 123456789,
       "giggleId": 89043762,
       "address": {
            "street1": "123 Main St.",
            "street2": "Suite 5.",
            "country": "USA",
            "city": "Austin",
            "state": "TX",
            "zip": "22222"
       },
       "phone": {
            "number": "123-456-7890",
            "type": "mobile",
            "carrierVerified": true,
            "carrierName": "AT&T"
       }
    })
}

/// The seed customer with another id and SSN.
pub fn customer(id: u64) -> Value {
    let mut c = seed_customer();
    c["giggleId"] = id.into();
    c["ssn"] = "321-54-9876".into();
    c
}

/// A loan line as the import takes it: the seed's loan with this id, customer and contract date.
pub fn loan_line(id: u64, giggle_id: u64, contract_date: &str) -> String {
    format!(
        r#"{{"id": {id}, "state": "active", "loanAmount": 1000000.11, "loanTerm": 52, "contractDate": "{contract_date}", "firstPaymentDate": "2024-06-22", "loanClass": "gold", "loanType": "instalment", "oFee": 200.55, "disbursementAmount": 800000.88, "discountSavings": "0.00", "discountDate": "2024-05-27", "renewalIncrement": 8, "applicationId": 79834, "disbursementFee": "25.99", "fundedDate": "2024-06-13", "partnerId": 75475, "leadId": 456312, "ccrScore": 800, "clarityScore": 788, "daysOverDue": 12, "amountOverdue": 1987.32, "contractBalance": 421123.33, "giggleId": {giggle_id}}}"#
    )
}

/// A pay date line: `paid` of `amount` paid (state follows), amounts as written, the amount
/// owed computed exactly.
pub fn pay_date_line(id: u64, loan_id: u64, date: &str, amount: &str, paid: &str) -> String {
    use shared::money::Money;
    let (a, p) = (
        Money::parse(amount).expect("an amount"),
        Money::parse(paid).expect("an amount"),
    );
    let state = if p == a {
        "paid"
    } else if p.is_zero() {
        "open"
    } else {
        "partial"
    };
    let owed = a.checked_sub(p).expect("paid is at most the amount");
    format!(
        r#"{{"id": {id}, "state": "{state}", "date": "{date}", "amount": {amount}, "amountOwed": {owed}, "amountPaid": {paid}, "startingCapital": 100000.00, "endingCapital": 99900.00, "loanBalance": 100000.00, "loanId": {loan_id}}}"#
    )
}

/// Every item of a table (a Scan: for the tests' checks of what is stored, never a request path).
pub async fn scan_all(
    store: &Store,
    table: &str,
) -> Vec<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = store
            .client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        items.extend(out.items.unwrap_or_default());
        start = out.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

/// The customer's item as stored (a consistent read), or None.
pub async fn stored_customer_item(
    app: &TestApp,
    id: u64,
) -> Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    app.store
        .client
        .get_item()
        .table_name(&app.store.tables.customers)
        .key(
            "giggleId",
            aws_sdk_dynamodb::types::AttributeValue::N(id.to_string()),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

/// A number attribute of a stored item, or None.
pub fn number_of(
    item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
    name: &str,
) -> Option<u64> {
    match item.get(name) {
        Some(aws_sdk_dynamodb::types::AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// What the functions log, captured: the same subscriber as in Lambda, writing here.
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// Installs the functions' log subscriber writing into a buffer (once per test process: nextest
/// runs every test in a process of its own).
pub fn capture_logs() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    shared::telemetry::init_with_writer(move || writer.clone());
    captured
}
