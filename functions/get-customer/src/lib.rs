//! GET /customers/{giggleId}: the customer record (never its SSN) and its loans.
//!
//! Thin by design: parse, call the shared crate, answer (the edge authenticates).

use lambda_http::{Body, Error, Request, Response};
use shared::edge::{self, Endpoint};
use shared::http::{self, Reply};
use shared::time::Clock;
use shared::{customers, Store};

const ENDPOINT: Endpoint = Endpoint {
    method: "GET",
    allow: "GET, PATCH, DELETE",
    idempotent: false,
    operation: "GetCustomer",
};

pub async fn handler(store: &Store, clock: Clock, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(edge::serve(store, req, ENDPOINT, |_| async {
        http::no_query_parameters(req)?;
        let id = http::giggle_id(req)?;
        let found = customers::get(store, id, clock.today()).await?;
        Ok(Reply::ok(found.body).with_etag(found.etag))
    })
    .await)
}
