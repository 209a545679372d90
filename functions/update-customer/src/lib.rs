//! PATCH /customers/{giggleId}: changes only the fields sent.
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
    http::require_method(req, "PATCH", "GET, PATCH, DELETE")?;
    store.authenticate(http::authorization(req)).await?;
    http::no_query_parameters(req)?;
    let id = http::giggle_id(req)?;
    let if_match = http::if_match(req)?;
    let patch = http::patch_body(req)?;
    let (answer, etag) = customers::update(
        store,
        id,
        &patch,
        if_match.as_deref(),
        shared::time::today(),
    )
    .await?;
    Ok(Reply::ok(answer).with_etag(etag))
}
