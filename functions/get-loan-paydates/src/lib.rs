//! GET /loans/{loanId}/paydates: one loan's pay dates (one day's object, or the batch shape).
//!
//! Thin by design: parse, call the shared crate, answer (the edge authenticates).

use lambda_http::{Body, Error, Request, Response};
use shared::edge::{self, Endpoint};
use shared::http::{self, Reply};
use shared::paydates::{self, PayDateQuery, Route};
use shared::time::Clock;
use shared::Store;

const ENDPOINT: Endpoint = Endpoint {
    method: "GET",
    allow: "GET",
    idempotent: false,
    operation: "GetLoanPayDates",
};

pub async fn handler(store: &Store, clock: Clock, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(edge::serve(store, req, ENDPOINT, |_| async {
        let loan_id = http::loan_id(req)?;
        let query = PayDateQuery::parse(&http::query_pairs(req), Route::OneLoan(loan_id), |tz| {
            clock.today_in(tz)
        })?;
        Ok(Reply::ok(paydates::for_loan(store, loan_id, &query).await?))
    })
    .await)
}
