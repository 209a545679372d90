//! GET /paydates: every loan's pay dates for a day or a range, filtered, sorted, paged.
//!
//! Thin by design: authenticate, parse, call the shared crate, answer.

use lambda_http::{Body, Error, Request, Response};
use shared::http::{self, Reply};
use shared::paydates::{self, PayDateQuery, Route};
use shared::{ApiError, Store};

pub async fn handler(store: &Store, req: Request) -> Result<Response<Body>, Error> {
    let outcome = run(store, &req).await;
    Ok(http::respond(&req, outcome))
}

async fn run(store: &Store, req: &Request) -> Result<Reply, ApiError> {
    http::require_method(req, "GET", "GET")?;
    store.authenticate(http::authorization(req)).await?;
    let query = PayDateQuery::parse(
        &http::query_pairs(req),
        Route::AllLoans,
        shared::time::today_in,
    )?;
    Ok(Reply::ok(paydates::for_all_loans(store, &query).await?))
}
