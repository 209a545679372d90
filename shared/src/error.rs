//! The one error type every operation returns, and its translation into the contract's error
//! envelope: `{"statusCode": 400, "description": "...", "name": "Bad Request"}`.
//!
//! The split matters: a caller mistake carries a precise, safe message for the caller; a store
//! failure or a bug carries context for the logs only, and the caller sees a generic sentence
//! and the request id.

use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the caller sent something wrong, or asked for something that does not exist (the
    /// seeds answer "not found" with 400, and the contract keeps that).
    #[error("{0}")]
    BadRequest(String),
    /// 401: one body for every failure, so that it never hints which part failed.
    #[error("unauthorized")]
    Unauthorized,
    /// 405: the route exists, the method does not; carries the methods it has.
    #[error("method not allowed")]
    MethodNotAllowed(&'static str),
    /// 409: the request conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// 412: `If-Match` no longer matches the stored record.
    #[error("{0}")]
    PreconditionFailed(String),
    /// 413: the body is larger than the API accepts.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 422: an `Idempotency-Key` reused for another request.
    #[error("{0}")]
    Unprocessable(String),
    /// 503: DynamoDB could not be reached, or kept throttling after the SDK's retries.
    #[error("store unavailable: {0}")]
    StoreUnavailable(String),
    /// 500: anything unexpected. The text is for the logs, never for the caller.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::Unauthorized => 401,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::Conflict(_) => 409,
            ApiError::PreconditionFailed(_) => 412,
            ApiError::PayloadTooLarge(_) => 413,
            ApiError::Unprocessable(_) => 422,
            ApiError::Internal(_) => 500,
            ApiError::StoreUnavailable(_) => 503,
        }
    }

    /// What the caller reads in `description`. Internal details never reach it.
    pub fn description(&self, request_id: &str) -> String {
        match self {
            ApiError::BadRequest(m)
            | ApiError::Conflict(m)
            | ApiError::PreconditionFailed(m)
            | ApiError::PayloadTooLarge(m)
            | ApiError::Unprocessable(m) => m.clone(),
            ApiError::Unauthorized => "Missing or invalid API key.".to_string(),
            ApiError::MethodNotAllowed(allow) => format!("This route answers {allow} only."),
            ApiError::StoreUnavailable(_) => format!(
                "The service is temporarily unavailable; retry later. Request id {request_id}."
            ),
            ApiError::Internal(_) => {
                format!("An unexpected error occurred. Request id {request_id}.")
            }
        }
    }

    /// The error envelope of the contract, with `statusCode` equal to the HTTP status.
    pub fn to_body(&self, request_id: &str) -> String {
        let status = self.status();
        crate::json::to_body(&ErrorBody {
            status_code: status,
            description: self.description(request_id),
            name: reason_phrase(status),
        })
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    status_code: u16,
    description: String,
    name: &'static str,
}

/// The reason phrase the contract puts in `name`.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// A value that is shown as `***` in every `Debug` and `Display`, so a secret (an SSN, an API
/// key) cannot reach a log line through a `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted<T>(pub T);

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_matches_the_seed_shape() {
        let e = ApiError::bad_request("Did not provide 'ssn'");
        assert_eq!(
            e.to_body("r1"),
            r#"{"statusCode": 400, "description": "Did not provide 'ssn'", "name": "Bad Request"}"#
        );
    }

    #[test]
    fn internal_details_never_reach_the_caller() {
        let e = ApiError::Internal("table customers missing at 10.0.0.1".into());
        let body = e.to_body("abc-123");
        assert!(!body.contains("10.0.0.1"));
        assert!(body.contains("abc-123"));
        assert!(body.starts_with("{\"statusCode\": 500, "));
        assert!(body.contains("Internal Server Error"));
    }

    #[test]
    fn redacted_hides_the_value() {
        let s = Redacted("123456789".to_string());
        assert_eq!(format!("{s:?} {s}"), "*** ***");
    }
}
