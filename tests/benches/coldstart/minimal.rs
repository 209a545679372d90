//! The baseline of the cold- and warm-start benchmark (`tests/benches/coldstart.rs`): about the
//! least a Rust Lambda function behind API Gateway can do to answer GET /customers/{giggleId}.
//! One DynamoDB GetItem by key, the item back as JSON; no API key, no validation, no logging.
//!
//! It lives with the benchmark, not among the functions: it is never deployed. `make bench`
//! builds it with the workspace's release profile, like the functions it is compared with.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{run, service_fn, Body, Error, Request, RequestExt, Response};
use serde_json::Value;

/// The item as JSON; binary values (the sealed SSN) are not shown.
fn json(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => {
            serde_json::from_str(n).unwrap_or_else(|_| Value::String(n.clone()))
        }
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::M(m) => m.iter().map(|(k, v)| (k.clone(), json(v))).collect(),
        AttributeValue::L(l) => l.iter().map(json).collect(),
        AttributeValue::Ss(l) => l.iter().map(|s| Value::String(s.clone())).collect(),
        _ => Value::Null,
    }
}

async fn handle(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    req: Request,
) -> Result<Response<Body>, Error> {
    let id = req
        .path_parameters_ref()
        .and_then(|p| p.first("giggleId"))
        .unwrap_or_default()
        .to_string();
    let out = client
        .get_item()
        .table_name(table)
        .key("giggleId", AttributeValue::N(id))
        .send()
        .await?;
    let (status, body) = match out.item {
        Some(item) => (200, json(&AttributeValue::M(item)).to_string()),
        None => (404, r#"{"message":"not found"}"#.to_string()),
    };
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = std::env::var("CUSTOMERS_TABLE")?;
    run(service_fn(|req| handle(&client, &table, req))).await
}
