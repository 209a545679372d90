//! Customer records in DynamoDB: the item's shape (the record, its version, the sealed SSN and
//! EIN with their last four digits), and the three conditional writes, each in one transaction
//! with its audit entry.

use crate::audit::AuditEntry;
use crate::customer::{Customer, GiggleId};
use crate::error::ApiError;
use crate::pii::{Sealed, Sensitive};
use crate::store::{now_rfc3339, store_error, transacted, Item, Store, Written};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use std::collections::HashMap;

/// A stored customer with the bookkeeping that is not part of the record.
#[derive(Debug, Clone)]
pub struct StoredCustomer {
    pub customer: Customer,
    /// Bumped by every write; the `ETag` and the optimistic-concurrency guard.
    pub version: u64,
    /// When the record was first created (RFC 3339, UTC).
    pub created_at: String,
    /// How many loans the import has written for this customer (`loanCount`): moved by the
    /// import in the same transaction as the loan's put, and a DELETE is conditioned on it
    /// being 0. `None` on a record written before the attribute existed. Internal: never in
    /// GET's body, the audit's changed fields or the ETag (beyond the version it bumps).
    pub loan_count: Option<u64>,
}

pub(crate) const VERSION: &str = "version";
const UPDATED_AT: &str = "updatedAt";
const CREATED_AT: &str = "createdAt";
/// The customer's count of loans written by the import (see [`StoredCustomer::loan_count`]).
pub(crate) const LOAN_COUNT: &str = "loanCount";
/// Written by records created before creates stopped comparing bodies; ignored and dropped.
const OLD_FINGERPRINT: &str = "createFingerprint";

/// Each sealed field: its attribute, and the attribute of its last four digits.
const SENSITIVE: [(crate::pii::Field, &str, &str); 2] = [
    (crate::pii::Field::Ssn, "ssn", "ssnLast4"),
    (crate::pii::Field::Ein, "ein", "einLast4"),
];

fn key(id: GiggleId) -> Item {
    HashMap::from([("giggleId".to_string(), AttributeValue::N(id.to_string()))])
}

fn malformed(id: &str, what: &str) -> ApiError {
    // The value itself never reaches the message: it may be personal data.
    ApiError::Internal(format!("stored customer {id} is malformed: {what}"))
}

fn is_nine_digits(s: &str) -> bool {
    s.len() == 9 && s.bytes().all(|c| c.is_ascii_digit())
}

impl StoredCustomer {
    /// The item to write. Refuses a record whose SSN or EIN is still in clear: nothing writes
    /// one to DynamoDB.
    fn to_item(&self) -> Result<Item, ApiError> {
        let mut item: Item = serde_dynamo::to_item(&self.customer)
            .map_err(|_| ApiError::Internal("a customer did not convert to an item".into()))?;
        let c = &self.customer;
        for ((_, attribute, last4_attribute), value) in SENSITIVE.iter().zip([&c.ssn, &c.ein]) {
            match value {
                None => {}
                Some(Sensitive::Sealed { last4, sealed }) => {
                    item.insert(attribute.to_string(), sealed.to_attribute());
                    item.insert(
                        last4_attribute.to_string(),
                        AttributeValue::S(last4.clone()),
                    );
                }
                Some(Sensitive::Clear(_)) => {
                    return Err(ApiError::Internal(format!(
                        "refused to write the {attribute} of {} in clear",
                        c.giggle_id
                    )))
                }
            }
        }
        item.insert(VERSION.into(), AttributeValue::N(self.version.to_string()));
        item.insert(
            CREATED_AT.into(),
            AttributeValue::S(self.created_at.clone()),
        );
        item.insert(UPDATED_AT.into(), AttributeValue::S(now_rfc3339()));
        if let Some(n) = self.loan_count {
            item.insert(LOAN_COUNT.into(), AttributeValue::N(n.to_string()));
        }
        Ok(item)
    }

    /// Reads an item; a damaged one is a 500 whose message names the attribute, never a value.
    pub(crate) fn from_item(mut item: Item) -> Result<Self, ApiError> {
        let id = match item.get("giggleId") {
            Some(AttributeValue::N(n)) => n.clone(),
            _ => "?".into(),
        };
        let version = match item.remove(VERSION) {
            Some(AttributeValue::N(n)) => n.parse().map_err(|_| malformed(&id, VERSION))?,
            _ => return Err(malformed(&id, VERSION)),
        };
        let created_at = match item.remove(CREATED_AT) {
            Some(AttributeValue::S(s)) => s,
            _ => String::new(),
        };
        let loan_count = match item.remove(LOAN_COUNT) {
            None => None,
            Some(AttributeValue::N(n)) => Some(n.parse().map_err(|_| malformed(&id, LOAN_COUNT))?),
            Some(_) => return Err(malformed(&id, LOAN_COUNT)),
        };
        item.remove(UPDATED_AT);
        item.remove(OLD_FINGERPRINT);
        let mut sensitive = Vec::with_capacity(2);
        for (_, attribute, last4_attribute) in SENSITIVE {
            let last4 = item.remove(last4_attribute);
            let value = match (item.remove(attribute), last4) {
                (None, _) => None,
                (Some(av @ AttributeValue::M(_)), Some(AttributeValue::S(last4)))
                    if last4.len() == 4 && last4.bytes().all(|c| c.is_ascii_digit()) =>
                {
                    let sealed: Sealed =
                        Sealed::from_attribute(&av).ok_or_else(|| malformed(&id, attribute))?;
                    Some(Sensitive::Sealed { last4, sealed })
                }
                // Written before field encryption: read as clear, sealed by the next write.
                (Some(AttributeValue::S(digits)), _) if is_nine_digits(&digits) => {
                    Some(Sensitive::Clear(digits))
                }
                _ => return Err(malformed(&id, attribute)),
            };
            sensitive.push(value);
        }
        let mut customer: Customer =
            serde_dynamo::from_item(item).map_err(|_| malformed(&id, "a field"))?;
        customer.dob_date().ok_or_else(|| malformed(&id, "dob"))?;
        customer.ein = sensitive.pop().flatten();
        customer.ssn = sensitive.pop().flatten();
        Ok(StoredCustomer {
            customer,
            version,
            created_at,
            loan_count,
        })
    }
}

impl Store {
    /// A strongly consistent read: a write acknowledged a moment ago is always seen.
    pub async fn get_customer(&self, id: GiggleId) -> Result<Option<StoredCustomer>, ApiError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.customers)
            .set_key(Some(key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        out.item.map(StoredCustomer::from_item).transpose()
    }

    async fn transact(
        &self,
        change: TransactWriteItem,
        audit: &AuditEntry,
    ) -> Result<Written, ApiError> {
        let result = self
            .client
            .transact_write_items()
            .transact_items(change)
            .transact_items(audit.transact_item(&self.tables.audit)?)
            .send()
            .await;
        transacted(result)
    }

    fn put(
        &self,
        record: &StoredCustomer,
    ) -> Result<aws_sdk_dynamodb::types::builders::PutBuilder, ApiError> {
        Ok(Put::builder()
            .table_name(&self.tables.customers)
            .set_item(Some(record.to_item()?)))
    }

    /// Creates the record only if the id is free, with its audit entry: concurrent creates of
    /// one id cannot both succeed.
    pub async fn insert_customer(
        &self,
        record: &StoredCustomer,
        audit: &AuditEntry,
    ) -> Result<Written, ApiError> {
        let put = self
            .put(record)?
            .condition_expression("attribute_not_exists(giggleId)")
            .build()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        self.transact(TransactWriteItem::builder().put(put).build(), audit)
            .await
    }

    /// Replaces the record only if it is still at `expected_version`, with its audit entry.
    pub async fn replace_customer(
        &self,
        record: &StoredCustomer,
        expected_version: u64,
        audit: &AuditEntry,
    ) -> Result<Written, ApiError> {
        let put = self
            .put(record)?
            .condition_expression("#v = :expected")
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_version.to_string()),
            )
            .build()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        self.transact(TransactWriteItem::builder().put(put).build(), audit)
            .await
    }

    /// Deletes the record only if it is still at `expected_version` and no loan was written for
    /// it (`loanCount` absent or 0), with its audit entry. The import moves `loanCount` and the
    /// version in the same transaction as a loan's put, so a loan and this delete can never both
    /// succeed, whatever the order.
    pub async fn delete_customer(
        &self,
        id: GiggleId,
        expected_version: u64,
        audit: &AuditEntry,
    ) -> Result<Written, ApiError> {
        let delete = Delete::builder()
            .table_name(&self.tables.customers)
            .set_key(Some(key(id)))
            .condition_expression("#v = :expected AND (attribute_not_exists(#n) OR #n = :zero)")
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_names("#n", LOAN_COUNT)
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_version.to_string()),
            )
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .build()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        self.transact(TransactWriteItem::builder().delete(delete).build(), audit)
            .await
    }
}
