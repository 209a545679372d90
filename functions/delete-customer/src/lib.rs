//! DELETE /customers/{giggleId}: removes a customer that has no loans.
//!
//! Thin by design: parse, call the shared crate, answer (the edge authenticates and handles
//! `Idempotency-Key`).

use lambda_http::{Body, Error, Request, Response};
use shared::edge::{self, Endpoint};
use shared::http::{self, Reply};
use shared::time::Clock;
use shared::{customers, Store};

const ENDPOINT: Endpoint = Endpoint {
    method: "DELETE",
    allow: "GET, PATCH, DELETE",
    idempotent: true,
    operation: "DeleteCustomer",
};

pub async fn handler(store: &Store, _clock: Clock, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(edge::serve(store, req, ENDPOINT, |actor| async move {
        http::no_query_parameters(req)?;
        let id = http::giggle_id(req)?;
        let if_match = http::if_match(req)?;
        let answer = customers::delete(store, &actor, id, if_match.as_deref()).await?;
        Ok(Reply::ok(answer))
    })
    .await)
}
