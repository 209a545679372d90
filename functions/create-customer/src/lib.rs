//! POST /customers: creates a customer record.
//!
//! Thin by design: authenticate, parse, call the shared crate, answer.

use lambda_http::{Body, Error, Request, Response};
use shared::http::{self, Reply};
use shared::{customers, ApiError, Store};

pub async fn handler(store: &Store, req: Request) -> Result<Response<Body>, Error> {
    let outcome = run(store, &req).await;
    Ok(http::respond(&req, outcome))
}

async fn run(store: &Store, req: &Request) -> Result<Reply, ApiError> {
    http::require_method(req, "POST", "POST")?;
    store.authenticate(http::authorization(req)).await?;
    http::no_query_parameters(req)?;
    let body = http::json_object_body(req)?;
    let answer = customers::create(store, &body, shared::time::today()).await?;
    Ok(Reply::ok(answer))
}
