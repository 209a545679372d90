//! GET /customers/{giggleId}: the customer record (never its SSN) and its loans.
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
    http::require_method(req, "GET", "GET, PATCH, DELETE")?;
    store.authenticate(http::authorization(req)).await?;
    http::no_query_parameters(req)?;
    let id = http::giggle_id(req)?;
    let found = customers::get(store, id, shared::time::today()).await?;
    Ok(Reply::ok(found.body).with_etag(found.etag))
}
