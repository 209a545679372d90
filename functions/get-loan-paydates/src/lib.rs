//! GET /loans/{loanId}/paydates: one loan's pay dates (one day's object, or the batch shape).
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
    let loan_id = http::loan_id(req)?;
    let query = PayDateQuery::parse(
        &http::query_pairs(req),
        Route::OneLoan(loan_id),
        shared::time::today_in,
    )?;
    Ok(Reply::ok(paydates::for_loan(store, loan_id, &query).await?))
}
