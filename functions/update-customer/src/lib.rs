//! PATCH /customers/{giggleId}: changes only the fields sent.
//!
//! Thin by design: parse, call the shared crate, answer (the edge authenticates and handles
//! `Idempotency-Key`).

use lambda_http::{Body, Error, Request, Response};
use shared::edge::{self, Endpoint};
use shared::http::{self, Reply};
use shared::time::Clock;
use shared::{customers, Store};

const ENDPOINT: Endpoint = Endpoint {
    method: "PATCH",
    allow: "GET, PATCH, DELETE",
    idempotent: true,
    operation: "UpdateCustomer",
};

pub async fn handler(store: &Store, clock: Clock, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(edge::serve(store, req, ENDPOINT, |actor| async move {
        http::no_query_parameters(req)?;
        let id = http::giggle_id(req)?;
        let if_match = http::if_match(req)?;
        let patch = http::patch_body(req)?;
        let today = clock.today();
        let (answer, etag) =
            customers::update(store, &actor, id, &patch, if_match.as_deref(), today).await?;
        Ok(Reply::ok(answer).with_etag(etag))
    })
    .await)
}
