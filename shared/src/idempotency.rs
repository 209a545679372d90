//! `Idempotency-Key` on POST, PATCH and DELETE, as the contract says: one record per (API key,
//! key), claimed by one conditional write with an in-progress marker; the first answer kept if
//! it is `2xx`, `409` or `412` and replayed byte for byte; another request under the same key is
//! `422`; the same one while the first still runs is `409`. The record keeps a keyed MAC of the
//! request (never a plain hash of a body that holds an SSN) and lives 24 hours.
//!
//! The design follows Powertools for AWS Lambda (Python)'s idempotency utility: the claim's
//! condition lets a new request take a record that expired, or whose in-progress marker outlived
//! the function that set it (a crash or a timeout frees the key), and returns the old record on
//! failure so that no second read is needed.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::{store_error, Item, Store};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use subtle::ConstantTimeEq;

/// How long a key and its kept answer live.
pub const LIFETIME_SECONDS: u64 = 24 * 60 * 60;
const MAX_KEY_LEN: usize = 255;
const IN_PROGRESS: &str = "INPROGRESS";
const COMPLETED: &str = "COMPLETED";

/// The `Idempotency-Key` header: 1 to 255 printable ASCII characters.
pub fn parse_header(value: Option<&[u8]>) -> Result<Option<String>, ApiError> {
    let Some(bytes) = value else {
        return Ok(None);
    };
    if bytes.is_empty()
        || bytes.len() > MAX_KEY_LEN
        || !bytes.iter().all(|c| (0x20..=0x7e).contains(c))
    {
        return Err(ApiError::bad_request(
            "Invalid 'Idempotency-Key' header: 1 to 255 printable ASCII characters.",
        ));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// Whether an answer with this status is kept for its key (the others may be corrected, or are
/// worth retrying, under the same key).
pub fn is_kept(status: u16) -> bool {
    (200..300).contains(&status) || status == 409 || status == 412
}

/// A kept answer: what a replay sends back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAnswer {
    pub status: u16,
    pub body: String,
    pub etag: Option<String>,
}

/// This request holds the key: run it, then [`Store::complete_idempotency`] or
/// [`Store::release_idempotency`].
#[derive(Debug)]
pub struct Ticket {
    id: String,
    /// Random, so that only the holder of this claim completes or releases it.
    token: String,
}

/// What the claim found.
#[derive(Debug)]
pub enum Claim {
    Run(Ticket),
    Replay(KeptAnswer),
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn random_token() -> String {
    let mut b = [0u8; 16];
    let _ = getrandom::getrandom(&mut b);
    hex::encode(b)
}

/// The keyed MAC that recognises a request: method, path and body.
pub fn request_mac(key: &crate::secrets::MacKey, method: &str, path: &str, body: &[u8]) -> String {
    hex::encode(key.mac(&[
        b"tasksuite/idempotency/v1",
        method.as_bytes(),
        path.as_bytes(),
        body,
    ]))
}

fn s(item: &Item, k: &str) -> Option<String> {
    item.get(k).and_then(|v| v.as_s().ok()).cloned()
}

/// What an existing record says to a request with this MAC.
fn judge(existing: &Item, mac: &str) -> Result<Claim, ApiError> {
    let same: bool = s(existing, "requestMac")
        .unwrap_or_default()
        .as_bytes()
        .ct_eq(mac.as_bytes())
        .into();
    if !same {
        return Err(ApiError::Unprocessable(
            "This Idempotency-Key was already used with a different request.".into(),
        ));
    }
    match s(existing, "status").as_deref() {
        Some(COMPLETED) => {
            let status = existing
                .get("responseStatus")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| ApiError::Internal("a kept answer has no status".into()))?;
            Ok(Claim::Replay(KeptAnswer {
                status,
                body: s(existing, "responseBody").unwrap_or_default(),
                etag: s(existing, "responseEtag"),
            }))
        }
        _ => Err(ApiError::Conflict(
            "A request with this Idempotency-Key is still in progress; retry later.".into(),
        )),
    }
}

impl Store {
    /// Claims `key` of this caller for a request with this MAC, until `in_progress_until_ms`
    /// (the function's deadline): one conditional put, which succeeds if the key is new,
    /// expired, or held by a request that is past its deadline.
    pub async fn claim_idempotency(
        &self,
        caller: &Caller,
        key: &str,
        mac: &str,
        in_progress_until_ms: u64,
    ) -> Result<Claim, ApiError> {
        let id = format!("{}#{key}", caller.key_hash);
        let now = now_ms();
        for _ in 0..3 {
            let token = random_token();
            let result = self
                .client
                .put_item()
                .table_name(&self.tables.idempotency)
                .item("id", AttributeValue::S(id.clone()))
                .item("status", AttributeValue::S(IN_PROGRESS.into()))
                .item("requestMac", AttributeValue::S(mac.to_string()))
                .item("token", AttributeValue::S(token.clone()))
                .item(
                    "inProgressUntil",
                    AttributeValue::N(in_progress_until_ms.to_string()),
                )
                .item(
                    "expiresAt",
                    AttributeValue::N((now / 1000 + LIFETIME_SECONDS).to_string()),
                )
                .condition_expression(
                    "attribute_not_exists(id) OR expiresAt < :now \
                     OR (#status = :inprogress AND inProgressUntil < :nowms)",
                )
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":now", AttributeValue::N((now / 1000).to_string()))
                .expression_attribute_values(":nowms", AttributeValue::N(now.to_string()))
                .expression_attribute_values(":inprogress", AttributeValue::S(IN_PROGRESS.into()))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(Claim::Run(Ticket { id, token })),
                Err(e) => e,
            };
            let existing = match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(c)) => c.item().cloned(),
                _ => return Err(store_error(err)),
            };
            let existing = match existing {
                Some(item) => Some(item),
                // An emulator that does not return the old item: read it.
                None => {
                    self.client
                        .get_item()
                        .table_name(&self.tables.idempotency)
                        .key("id", AttributeValue::S(id.clone()))
                        .consistent_read(true)
                        .send()
                        .await
                        .map_err(store_error)?
                        .item
                }
            };
            match existing {
                // Our own claim: the put landed, its answer was lost, and the SDK sent it again
                // (a put has no request token). The token is random: no other request has it.
                Some(item) if s(&item, "token").as_deref() == Some(token.as_str()) => {
                    return Ok(Claim::Run(Ticket { id, token }))
                }
                Some(item) => return judge(&item, mac),
                None => continue, // released in between: claim again
            }
        }
        Err(ApiError::StoreUnavailable(
            "an Idempotency-Key kept changing hands".into(),
        ))
    }

    /// Keeps the answer for the key (only the claim's holder can).
    pub async fn complete_idempotency(
        &self,
        ticket: &Ticket,
        answer: &KeptAnswer,
    ) -> Result<(), ApiError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.idempotency)
            .key("id", AttributeValue::S(ticket.id.clone()))
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":token", AttributeValue::S(ticket.token.clone()))
            .expression_attribute_values(":completed", AttributeValue::S(COMPLETED.into()))
            .expression_attribute_values(":code", AttributeValue::N(answer.status.to_string()))
            .expression_attribute_values(":body", AttributeValue::S(answer.body.clone()));
        let mut expression =
            "SET #status = :completed, responseStatus = :code, responseBody = :body".to_string();
        if let Some(etag) = &answer.etag {
            expression.push_str(", responseEtag = :etag");
            update = update.expression_attribute_values(":etag", AttributeValue::S(etag.clone()));
        }
        expression.push_str(" REMOVE inProgressUntil");
        update
            .update_expression(expression)
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// Frees the key: the answer is not kept, and the caller may retry under it.
    pub async fn release_idempotency(&self, ticket: &Ticket) -> Result<(), ApiError> {
        self.client
            .delete_item()
            .table_name(&self.tables.idempotency)
            .key("id", AttributeValue::S(ticket.id.clone()))
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":token", AttributeValue::S(ticket.token.clone()))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_rules() {
        assert_eq!(parse_header(None).unwrap(), None);
        assert_eq!(
            parse_header(Some(b"order-42 retry")).unwrap().as_deref(),
            Some("order-42 retry")
        );
        assert!(parse_header(Some(&[b'a'; 255])).unwrap().is_some());
        for bad in [
            &b""[..],
            &[b'a'; 256][..],
            b"caf\xc3\xa9",
            b"\x80abc",
            b"del\x7f",
            b"tab\there",
            b"nl\n",
        ] {
            let e = parse_header(Some(bad)).unwrap_err();
            assert!(e.to_string().contains("'Idempotency-Key'"), "{e}");
        }
    }

    #[test]
    fn kept_statuses() {
        for s in [200, 201, 204, 409, 412] {
            assert!(is_kept(s), "{s}");
        }
        for s in [400, 401, 405, 413, 422, 500, 503] {
            assert!(!is_kept(s), "{s}");
        }
    }
}
