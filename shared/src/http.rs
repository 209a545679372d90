//! The HTTP edge every function shares: reading the parts of a request the contract allows, and
//! writing every answer (success or error) with `x-request-id` and one JSON log line.

use crate::customer::GiggleId;
use crate::error::ApiError;
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Map, Value};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A successful answer: a status, a JSON body and, for a customer, its ETag.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub etag: Option<String>,
}

impl Reply {
    pub fn ok(body: String) -> Self {
        Reply {
            status: 200,
            body,
            etag: None,
        }
    }

    pub fn with_etag(mut self, etag: String) -> Self {
        self.etag = Some(etag);
        self
    }
}

/// The id of this invocation: Lambda's request id, or a fresh one where there is no context.
pub fn request_id(req: &Request) -> String {
    match req.lambda_context_ref() {
        Some(ctx) if !ctx.request_id.is_empty() => ctx.request_id.clone(),
        _ => {
            let mut b = [0u8; 16];
            let _ = getrandom::getrandom(&mut b);
            hex::encode(b)
        }
    }
}

/// Turns an operation's outcome into the response, and logs it: method, path, status, request
/// id and the API key's id, never a header or a body (they carry keys and personal data).
pub fn respond(req: &Request, outcome: Result<Reply, ApiError>) -> Response<Body> {
    respond_as(req, &request_id(req), None, false, outcome)
}

/// As [`respond`], for a known caller (`key_id`), and marking a replayed answer.
pub fn respond_as(
    req: &Request,
    request_id: &str,
    key_id: Option<&str>,
    replayed: bool,
    outcome: Result<Reply, ApiError>,
) -> Response<Body> {
    let key_id = key_id.unwrap_or("none");
    let allow = match &outcome {
        Err(ApiError::MethodNotAllowed(allow)) => Some(*allow),
        _ => None,
    };
    let (status, body, etag) = match outcome {
        Ok(r) => (r.status, r.body, r.etag),
        Err(e) => {
            let status = e.status();
            if status >= 500 {
                tracing::error!(request_id = %request_id, keyId = %key_id, method = %req.method(), path = %req.uri().path(), status, error = %e, "request failed");
            }
            (status, e.to_body(request_id), None)
        }
    };
    if status < 500 {
        tracing::info!(request_id = %request_id, keyId = %key_id, method = %req.method(), path = %req.uri().path(), status, replayed, "request handled");
    }
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .header(
            "x-request-id",
            HeaderValue::from_str(request_id).unwrap_or(HeaderValue::from_static("unknown")),
        );
    if let Some(tag) = etag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        builder = builder.header("etag", tag);
    }
    if let Some(allow) = allow {
        builder = builder.header("allow", allow);
    }
    if replayed {
        builder = builder.header("idempotent-replayed", "true");
    }
    builder
        .body(Body::from(body))
        .expect("static headers and a valid status build a response")
}

/// Each function serves one method; the router may still hand it another (locally, every
/// method of a path goes to one of its functions), which is a 405 naming the allowed ones.
pub fn require_method(req: &Request, method: &str, allow: &'static str) -> Result<(), ApiError> {
    if req.method().as_str() == method {
        Ok(())
    } else {
        Err(ApiError::MethodNotAllowed(allow))
    }
}

/// The `Authorization` header, if it is text.
pub fn authorization(req: &Request) -> Option<&str> {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
}

/// The `If-Match` header, if sent.
pub fn if_match(req: &Request) -> Result<Option<String>, ApiError> {
    match req.headers().get("if-match") {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.to_string()))
            .map_err(|_| ApiError::bad_request("Invalid 'If-Match' header.")),
    }
}

/// The query parameters as (name, value) pairs, from the event or from the URL.
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    let decoded;
    let map = match req.query_string_parameters_ref() {
        Some(q) if !q.is_empty() => q,
        _ => {
            // No parameters in the event: read them from the URL, percent-decoded.
            decoded = req
                .uri()
                .query()
                .unwrap_or_default()
                .parse::<QueryMap>()
                .unwrap_or_default();
            &decoded
        }
    };
    map.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Customer routes take no query parameters: any one is a mistake worth reporting.
pub fn no_query_parameters(req: &Request) -> Result<(), ApiError> {
    match query_pairs(req).first() {
        None => Ok(()),
        Some((name, _)) => Err(ApiError::bad_request(format!(
            "Unknown query parameter '{name}'."
        ))),
    }
}

/// A path parameter, from the event or, failing that, from the URL's segment after `after`.
fn path_parameter(req: &Request, name: &str, after: &str) -> Option<String> {
    if let Some(v) = req.path_parameters_ref().and_then(|p| p.first(name)) {
        return Some(v.to_string());
    }
    let segments: Vec<&str> = req.uri().path().split('/').collect();
    let i = segments.iter().rposition(|s| *s == after)?;
    segments.get(i + 1).map(|s| s.to_string())
}

/// The `{giggleId}` of `/customers/{giggleId}`.
pub fn giggle_id(req: &Request) -> Result<GiggleId, ApiError> {
    let raw = path_parameter(req, "giggleId", "customers").unwrap_or_default();
    GiggleId::from_path(&raw)
}

/// The `{loanId}` of `/loans/{loanId}/paydates`.
pub fn loan_id(req: &Request) -> Result<u64, ApiError> {
    let raw = path_parameter(req, "loanId", "loans").unwrap_or_default();
    crate::validate::path_id(&raw)
        .ok_or_else(|| ApiError::bad_request("LoanId must be a positive integer."))
}

/// A PATCH body: as [`json_object_body`], but no body at all is an empty change set (which the
/// update answers with `No fields to update.`).
pub fn patch_body(req: &Request) -> Result<Map<String, Value>, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    // The size is judged first: 64 KiB of white space is too large, not empty.
    if bytes.len() <= MAX_BODY_BYTES && bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    json_object_body(req)
}

/// The body as a JSON object: at most 64 KiB (413), well-formed (400), an object (400).
pub fn json_object_body(req: &Request) -> Result<Map<String, Value>, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "Request body is {} bytes; the limit is {MAX_BODY_BYTES} bytes.",
            bytes.len()
        )));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "Request body is empty; a JSON object is required.",
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "Request body is not valid JSON (not UTF-8 at byte {}).",
            e.valid_up_to()
        ))
    })?;
    match crate::validate::parse_json(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request("Request body must be a JSON object.")),
        Err(e) => Err(ApiError::bad_request(format!(
            "Request body is not valid JSON (line {}, column {}).",
            e.line(),
            e.column()
        ))),
    }
}
