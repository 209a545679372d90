//! The audit trail: every write that changes a customer appends one entry, in the same
//! `TransactWriteItems` as the change, so that the two land together or not at all. Entries
//! are append-only: the functions may only put a new one (a condition that the entry does not
//! exist), and are granted no update or delete on the table. An entry names the fields that
//! changed, never their values.

use crate::customer::{Customer, GiggleId};
use crate::error::ApiError;
use crate::store::{now_rfc3339, store_error, Item, Store};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde::Serialize;
use serde_json::{Map, Value};

/// Who made a change: the API key's id (the first 12 hex digits of its hash) and the request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub key_id: String,
    pub request_id: String,
}

impl Actor {
    /// An operator's command run with the admin tool: `keyId` is `operator`, the request id
    /// names the command and is unique.
    pub fn operator(command: &str) -> Actor {
        let mut b = [0u8; 8];
        let _ = getrandom::getrandom(&mut b);
        Actor {
            key_id: "operator".into(),
            request_id: format!("{command}-{}", hex::encode(b)),
        }
    }
}

/// The operations an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    /// An operator read the SSN with the admin tool.
    RevealSsn,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::RevealSsn => "reveal-ssn",
        }
    }
}

/// One entry of the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub giggle_id: u64,
    /// RFC 3339, UTC, with milliseconds.
    pub at: String,
    pub key_id: String,
    pub request_id: String,
    pub operation: String,
    pub changed_fields: Vec<String>,
}

fn as_map(c: &Customer) -> Map<String, Value> {
    match serde_json::to_value(c) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The names of the fields that differ between two versions of a record (either may be absent:
/// a create, a delete). `ssn` and `ein` cannot be compared (no function can read a stored one):
/// they count as changed when `sensitive_sent` says the request sent them, or when one side has
/// the field and the other has not.
pub fn changed_fields(
    before: Option<&Customer>,
    after: Option<&Customer>,
    sensitive_sent: &[&str],
) -> Vec<String> {
    let (b, a) = (
        before.map(as_map).unwrap_or_default(),
        after.map(as_map).unwrap_or_default(),
    );
    let has = |c: Option<&Customer>, f: &str| match f {
        "ssn" => c.is_some_and(|c| c.ssn.is_some()),
        _ => c.is_some_and(|c| c.ein.is_some()),
    };
    // In the contract's table order.
    crate::customer::TOP_FIELDS
        .iter()
        .filter(|f| match **f {
            "ssn" | "ein" => {
                has(before, f) != has(after, f)
                    || (has(after, f) && (before.is_none() || sensitive_sent.contains(f)))
            }
            _ => b.get(**f) != a.get(**f),
        })
        .map(|f| f.to_string())
        .collect()
}

impl AuditEntry {
    pub fn new(
        id: GiggleId,
        actor: &Actor,
        operation: Operation,
        changed_fields: Vec<String>,
    ) -> AuditEntry {
        AuditEntry {
            giggle_id: id.get(),
            at: now_rfc3339(),
            key_id: actor.key_id.clone(),
            request_id: actor.request_id.clone(),
            operation: operation.as_str().to_string(),
            changed_fields,
        }
    }

    /// The sort key: time first (entries read newest first), the request id to keep two entries
    /// of one millisecond apart.
    fn entry_id(&self) -> String {
        format!("{}#{}", self.at, self.request_id)
    }

    fn to_item(&self) -> Item {
        Item::from([
            (
                "giggleId".to_string(),
                AttributeValue::N(self.giggle_id.to_string()),
            ),
            ("entryId".to_string(), AttributeValue::S(self.entry_id())),
            ("at".to_string(), AttributeValue::S(self.at.clone())),
            ("keyId".to_string(), AttributeValue::S(self.key_id.clone())),
            (
                "requestId".to_string(),
                AttributeValue::S(self.request_id.clone()),
            ),
            (
                "operation".to_string(),
                AttributeValue::S(self.operation.clone()),
            ),
            (
                "changedFields".to_string(),
                AttributeValue::L(
                    self.changed_fields
                        .iter()
                        .map(|f| AttributeValue::S(f.clone()))
                        .collect(),
                ),
            ),
        ])
    }

    fn from_item(item: &Item) -> Option<AuditEntry> {
        let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        Some(AuditEntry {
            giggle_id: item.get("giggleId")?.as_n().ok()?.parse().ok()?,
            at: s("at")?,
            key_id: s("keyId")?,
            request_id: s("requestId")?,
            operation: s("operation")?,
            changed_fields: item
                .get("changedFields")?
                .as_l()
                .ok()?
                .iter()
                .filter_map(|v| v.as_s().ok().cloned())
                .collect(),
        })
    }

    /// The entry as an item of a transaction: a put that only succeeds if it is new.
    pub fn transact_item(&self, table: &str) -> Result<TransactWriteItem, ApiError> {
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(self.to_item()))
            .condition_expression("attribute_not_exists(entryId)")
            .build()
            .map_err(|e| ApiError::Internal(format!("audit put: {e}")))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

impl Store {
    /// An entry written on its own, for what changes no customer record but must be traced
    /// (the admin tool's `reveal-ssn`).
    pub async fn append_audit(&self, entry: &AuditEntry) -> Result<(), ApiError> {
        self.client
            .put_item()
            .table_name(&self.tables.audit)
            .set_item(Some(entry.to_item()))
            .condition_expression("attribute_not_exists(entryId)")
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// A customer's entries, newest first. For the admin tool.
    pub async fn audit_trail(&self, id: GiggleId) -> Result<Vec<AuditEntry>, ApiError> {
        let mut entries = Vec::new();
        let query = self
            .client
            .query()
            .table_name(&self.tables.audit)
            .key_condition_expression("giggleId = :id")
            .expression_attribute_values(":id", AttributeValue::N(id.to_string()))
            .scan_index_forward(false)
            .consistent_read(true);
        crate::store::query_items(query, None, |item| {
            entries.push(
                AuditEntry::from_item(item)
                    .ok_or_else(|| ApiError::Internal("an audit entry is malformed".into()))?,
            );
            Ok(crate::store::Next::More)
        })
        .await?;
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn customer(v: Value) -> Customer {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        Customer::from_json(v.as_object().unwrap(), today).unwrap()
    }

    fn base() -> Value {
        json!({"giggleId": 7, "active": true, "customerType": "person", "ssn": "123-45-6789",
               "dob": "2000-01-30", "name": "John", "surname": "Doe", "email": "j@example.com"})
    }

    #[test]
    fn changed_fields_name_what_changed_in_table_order() {
        let a = customer(base());
        let created = changed_fields(None, Some(&a), &[]);
        assert_eq!(
            created,
            [
                "giggleId",
                "active",
                "customerType",
                "name",
                "surname",
                "email",
                "dob",
                "ssn",
                "accessUserName"
            ]
        );
        let mut v = base();
        v["email"] = "k@example.com".into();
        v["ssn"] = "123-45-6780".into();
        let b = customer(v);
        assert_eq!(
            changed_fields(Some(&a), Some(&b), &["ssn"]),
            ["email", "ssn"]
        );
        assert_eq!(
            changed_fields(Some(&a), Some(&a), &[]),
            Vec::<String>::new()
        );
        assert_eq!(changed_fields(Some(&a), None, &[]), created);
    }
}
