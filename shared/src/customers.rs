//! The customer operations, knowing nothing of HTTP: each takes parsed input and the store and
//! returns the body to send, or an [`ApiError`].

use crate::audit::{changed_fields, Actor, AuditEntry, Operation};
use crate::customer::{apply_patch, Customer, CustomerView, GiggleId};
use crate::customer_store::StoredCustomer;
use crate::error::ApiError;
use crate::json;
use crate::pii::Field;
use crate::store::{now_rfc3339, Store, Written};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};

/// How often a write that lost a race with another write is retried on a fresh read.
const WRITE_ATTEMPTS: usize = 25;

/// The success envelope of the seeds.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Success<'a> {
    status_code: u16,
    status: &'a str,
    message: &'a str,
    error: bool,
    giggle_id: GiggleId,
}

pub fn success_body(message: &str, id: GiggleId) -> String {
    json::to_body(&Success {
        status_code: 200,
        status: "OK",
        message,
        error: false,
        giggle_id: id,
    })
}

fn not_found(id: GiggleId) -> ApiError {
    ApiError::bad_request(format!("Giggle ID {id} not found."))
}

/// The `ETag` of a stored version.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// `If-Match` holds for this version: `*` or a list containing its strong tag.
fn if_match_holds(header: &str, version: u64) -> bool {
    let tag = etag(version);
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == tag)
}

fn precondition_failed() -> ApiError {
    ApiError::PreconditionFailed(
        "The customer was changed since it was read (If-Match does not match its ETag).".into(),
    )
}

fn check_if_match(if_match: Option<&str>, version: u64) -> Result<(), ApiError> {
    match if_match {
        Some(h) if !if_match_holds(h, version) => Err(precondition_failed()),
        _ => Ok(()),
    }
}

/// A short random pause before a write that lost a race tries again, so that many writers of
/// one record do not keep colliding in step.
async fn back_off() {
    let mut b = [0u8; 1];
    let _ = getrandom::getrandom(&mut b);
    tokio::time::sleep(std::time::Duration::from_millis(5 + u64::from(b[0] % 32))).await;
}

/// The record as it is stored: its SSN and EIN sealed (those still in clear: sent by this
/// request, or read from a record written before field encryption).
async fn sealed(store: &Store, mut c: Customer) -> Result<Customer, ApiError> {
    let id = c.giggle_id;
    if let Some(ssn) = c.ssn.take() {
        c.ssn = Some(ssn.sealed(store, id, Field::Ssn).await?);
    }
    if let Some(ein) = c.ein.take() {
        c.ein = Some(ein.sealed(store, id, Field::Ein).await?);
    }
    Ok(c)
}

fn taken(id: GiggleId) -> ApiError {
    ApiError::Conflict(format!("Giggle ID {id} already exists."))
}

/// POST /customers. A taken `giggleId` is always 409, whatever the body: a create never
/// compares bodies, since a 200-or-409 answer would confirm a guessed SSN. Safe retries use
/// `Idempotency-Key`.
pub async fn create(
    store: &Store,
    actor: &Actor,
    body: &Map<String, Value>,
    today: NaiveDate,
) -> Result<String, ApiError> {
    let customer = Customer::from_json(body, today)?;
    let id = customer.giggle_id;
    let changed = changed_fields(None, Some(&customer), &[]);
    let record = StoredCustomer {
        customer: sealed(store, customer).await?,
        version: 1,
        created_at: now_rfc3339(),
        loan_count: Some(0),
    };
    for _ in 0..WRITE_ATTEMPTS {
        let audit = AuditEntry::new(id, actor, Operation::Create, changed.clone());
        match store.insert_customer(&record, &audit).await? {
            Written::Done => return Ok(success_body("Customer Successfully Created", id)),
            Written::ConditionFailed => return Err(taken(id)),
            Written::Contended => back_off().await,
        }
    }
    Err(ApiError::StoreUnavailable(
        "create kept racing with other writes".into(),
    ))
}

/// `{"customerData": {...}, "loanData": [...]}` and the ETag.
pub struct CustomerRead {
    pub body: String,
    pub etag: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReadBody<'a> {
    customer_data: CustomerView<'a>,
    loan_data: Vec<crate::records::Record>,
}

/// GET /customers/{giggleId}: the record and its loans, read at once. Never decrypts: the view
/// shows the stored last four digits of the SSN and EIN.
pub async fn get(store: &Store, id: GiggleId, today: NaiveDate) -> Result<CustomerRead, ApiError> {
    let (stored, loans) = futures::future::join(store.get_customer(id), store.loans_of(id)).await;
    let stored = stored?.ok_or_else(|| not_found(id))?;
    let body = json::to_body(&ReadBody {
        customer_data: CustomerView::new(&stored.customer, today)?,
        loan_data: loans?,
    });
    Ok(CustomerRead {
        body,
        etag: etag(stored.version),
    })
}

/// PATCH /customers/{giggleId}: read, merge, check, write if nobody wrote in between; if
/// somebody did, do it again on their version, so that concurrent PATCHes of different fields
/// all take effect. With `If-Match`, a version other than the one named is a 412 instead.
pub async fn update(
    store: &Store,
    actor: &Actor,
    id: GiggleId,
    patch: &Map<String, Value>,
    if_match: Option<&str>,
    today: NaiveDate,
) -> Result<(String, String), ApiError> {
    crate::customer::require_changes(patch)?;
    for _ in 0..WRITE_ATTEMPTS {
        let stored = store.get_customer(id).await?.ok_or_else(|| not_found(id))?;
        // The body is judged first: a bad body is a 400 whatever If-Match says.
        let customer = apply_patch(&stored.customer, patch, today)?;
        check_if_match(if_match, stored.version)?;
        let sent: Vec<&str> = ["ssn", "ein"]
            .into_iter()
            .filter(|f| patch.contains_key(*f))
            .collect();
        let changed = changed_fields(Some(&stored.customer), Some(&customer), &sent);
        let audit = AuditEntry::new(id, actor, Operation::Update, changed);
        let next = StoredCustomer {
            customer: sealed(store, customer).await?,
            version: stored.version + 1,
            ..stored.clone()
        };
        match store
            .replace_customer(&next, stored.version, &audit)
            .await?
        {
            Written::Done => {
                return Ok((
                    success_body("Customer Successfully Updated", id),
                    etag(next.version),
                ))
            }
            Written::ConditionFailed if if_match.is_some() => return Err(precondition_failed()),
            Written::ConditionFailed | Written::Contended => back_off().await,
        }
    }
    Err(ApiError::StoreUnavailable(
        "update kept racing with other writes".into(),
    ))
}

/// DELETE /customers/{giggleId}: refused while the customer has loans (the servicing system
/// still holds them, and a loan must never point at a missing customer). The guard is the
/// delete's own condition (`loanCount` absent or 0, and the version read), which the import's
/// transactions move; the count on the loans' index only words the 409 and covers loans written
/// before `loanCount` existed. Loans arriving between the read and the delete fail the condition:
/// the next round reads them and answers 409.
pub async fn delete(
    store: &Store,
    actor: &Actor,
    id: GiggleId,
    if_match: Option<&str>,
) -> Result<String, ApiError> {
    for _ in 0..WRITE_ATTEMPTS {
        let stored = store.get_customer(id).await?.ok_or_else(|| not_found(id))?;
        check_if_match(if_match, stored.version)?;
        // Both are lower bounds of the true count (loans are never removed): the index lags a
        // moment behind, and `loanCount` misses loans written before it existed.
        let loans = stored
            .loan_count
            .unwrap_or(0)
            .max(store.loan_count(id).await?);
        if loans > 0 {
            let noun = if loans == 1 { "loan" } else { "loans" };
            return Err(ApiError::Conflict(format!(
                "Giggle ID {id} has {loans} {noun} and cannot be deleted."
            )));
        }
        let changed = changed_fields(Some(&stored.customer), None, &[]);
        let audit = AuditEntry::new(id, actor, Operation::Delete, changed);
        match store.delete_customer(id, stored.version, &audit).await? {
            Written::Done => return Ok(success_body("Customer Successfully Deleted", id)),
            Written::ConditionFailed if if_match.is_some() => return Err(precondition_failed()),
            Written::ConditionFailed | Written::Contended => back_off().await,
        }
    }
    Err(ApiError::StoreUnavailable(
        "delete kept racing with other writes".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_envelope_is_the_seeds_to_the_byte() {
        assert_eq!(
            success_body(
                "Customer Successfully Created",
                GiggleId::new(89043762).unwrap()
            ),
            r#"{"statusCode": 200, "status": "OK", "message": "Customer Successfully Created", "error": false, "giggleId": 89043762}"#
        );
    }

    #[test]
    fn if_match_forms() {
        assert!(if_match_holds("\"3\"", 3));
        assert!(if_match_holds("*", 3));
        assert!(if_match_holds("\"1\", \"3\"", 3));
        assert!(!if_match_holds("\"2\"", 3));
        assert!(!if_match_holds("W/\"3\"", 3));
        assert!(!if_match_holds("3", 3));
    }
}
