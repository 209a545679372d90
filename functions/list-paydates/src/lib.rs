//! GET /paydates: every loan's pay dates for a day or a range, filtered, sorted, paged.
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
    operation: "ListPayDates",
};

pub async fn handler(store: &Store, clock: Clock, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(edge::serve(store, req, ENDPOINT, |_| async {
        let query = PayDateQuery::parse(&http::query_pairs(req), Route::AllLoans, |tz| {
            clock.today_in(tz)
        })?;
        Ok(Reply::ok(paydates::for_all_loans(store, &query).await?))
    })
    .await)
}
