//! One request's life in every function, so that each handler is only its own parsing and its
//! call into the crate: the method, the API key, the `Idempotency-Key` (on the routes that take
//! one), the operation, the logged answer naming the key's id, and the request's metrics line.

use crate::audit::Actor;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::{self, Reply};
use crate::idempotency::{self, Claim, KeptAnswer, Ticket};
use crate::metrics::{self, RequestMetrics};
use crate::store::Store;
use lambda_http::{Body, Request, RequestExt, Response};
use std::future::Future;

/// What a function serves.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// The one method this function answers.
    pub method: &'static str,
    /// The methods of its path, for a 405's `Allow`.
    pub allow: &'static str,
    /// Whether it honours `Idempotency-Key` (POST, PATCH, DELETE).
    pub idempotent: bool,
    /// Its name in the metrics (`GetCustomer`, ...: the template's function name without
    /// `Function`).
    pub operation: &'static str,
}

/// How long a claimed key stays in progress: until the function's deadline, or this long where
/// there is no deadline (tests).
const DEFAULT_IN_PROGRESS_MS: u64 = 30_000;

fn deadline_ms(req: &Request) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    match req.lambda_context_ref().map(|c| c.deadline) {
        Some(d) if d > now => d,
        _ => now + DEFAULT_IN_PROGRESS_MS,
    }
}

/// Serves one request: `op` runs only for an allowed method and a valid key, and (with an
/// `Idempotency-Key`) only if the key does not already hold an answer. Every request, whatever
/// its answer, writes one metrics line (operation, status class, latency, store retries).
pub async fn serve<F, Fut>(
    store: &Store,
    req: &Request,
    endpoint: Endpoint,
    op: F,
) -> Response<Body>
where
    F: FnOnce(Actor) -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    let started = std::time::Instant::now();
    let retries = metrics::StoreRetries::default();
    let request_id = http::request_id(req);
    let mut key_id = None;
    let mut replayed = false;
    let work = async {
        http::require_method(req, endpoint.method, endpoint.allow)?;
        let caller = store.authenticate(http::authorization(req)).await?;
        key_id = Some(caller.key_id.clone());
        let actor = Actor {
            key_id: caller.key_id.clone(),
            request_id: request_id.clone(),
        };
        let key = if endpoint.idempotent {
            idempotency::parse_header(req.headers().get("idempotency-key").map(|v| v.as_bytes()))?
        } else {
            None
        };
        let Some(key) = key else {
            return op(actor).await;
        };
        let ticket = match claim(store, req, &caller, &key).await? {
            Claim::Replay(answer) => {
                replayed = true;
                return Ok(Reply {
                    status: answer.status,
                    body: answer.body,
                    etag: answer.etag,
                });
            }
            Claim::Run(ticket) => ticket,
        };
        let outcome = op(actor).await;
        settle(store, &ticket, &outcome, &request_id).await;
        outcome
    };
    // Boxed: a debug build would otherwise hold the operation's (large) future on the stack
    // once more for the retry counter's scope around it.
    let outcome = retries.count_during(Box::pin(work)).await;
    let response = http::respond_as(req, &request_id, key_id.as_deref(), replayed, outcome);
    metrics::emit(&RequestMetrics {
        operation: endpoint.operation,
        status: response.status().as_u16(),
        latency: started.elapsed(),
        store_retries: retries.count(),
    });
    response
}

async fn claim(
    store: &Store,
    req: &Request,
    caller: &Caller,
    key: &str,
) -> Result<Claim, ApiError> {
    let mac_key = store.mac_key().await?;
    let mac = idempotency::request_mac(
        &mac_key,
        req.method().as_str(),
        req.uri().path(),
        req.body().as_ref(),
    );
    store
        .claim_idempotency(caller, key, &mac, deadline_ms(req))
        .await
}

/// Keeps the answer for the key, or frees the key. A failure here does not change the answer
/// (the operation has run); the key's in-progress marker then ends at the function's deadline.
async fn settle(
    store: &Store,
    ticket: &Ticket,
    outcome: &Result<Reply, ApiError>,
    request_id: &str,
) {
    let kept = match outcome {
        Ok(r) if idempotency::is_kept(r.status) => Some(KeptAnswer {
            status: r.status,
            body: r.body.clone(),
            etag: r.etag.clone(),
        }),
        Err(e) if idempotency::is_kept(e.status()) => Some(KeptAnswer {
            status: e.status(),
            body: e.to_body(request_id),
            etag: None,
        }),
        _ => None,
    };
    let result = match &kept {
        Some(answer) => store.complete_idempotency(ticket, answer).await,
        None => store.release_idempotency(ticket).await,
    };
    if let Err(e) = result {
        tracing::error!(request_id = %request_id, error = %e, "the Idempotency-Key record was not settled");
    }
}
