//! POST /customers: creates a customer record.
//!
//! Thin by design: parse, call the shared crate, answer (the edge authenticates and handles
//! `Idempotency-Key`).

use lambda_http::{Body, Error, Request, Response};
use shared::edge::{self, Endpoint};
use shared::http::{self, Reply};
use shared::time::Clock;
use shared::{customers, Store};

const ENDPOINT: Endpoint = Endpoint {
    method: "POST",
    allow: "POST",
    idempotent: true,
    operation: "CreateCustomer",
};

pub async fn handler(store: &Store, clock: Clock, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(edge::serve(store, req, ENDPOINT, |actor| async move {
        http::no_query_parameters(req)?;
        let body = http::json_object_body(req)?;
        let answer = customers::create(store, &actor, &body, clock.today()).await?;
        Ok(Reply::ok(answer))
    })
    .await)
}
