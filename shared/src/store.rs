//! The DynamoDB store: table names, the client (built once per cold start), the few reads and
//! writes the operations need, and the translation of SDK failures into 503 or 500.

use crate::customer::{Customer, GiggleId};
use crate::error::ApiError;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;
use std::time::Duration;

/// The names of the tables, from the environment (`CUSTOMERS_TABLE`, ...), as SAM sets them.
#[derive(Debug, Clone)]
pub struct Tables {
    pub customers: String,
    pub api_keys: String,
    pub loans: String,
    pub pay_dates: String,
    pub pay_date_counts: String,
}

impl Tables {
    /// Each table's environment variable, with the logical id of its definition in
    /// `infra/template.yaml`.
    pub const DEFINITIONS: [(&'static str, &'static str); 5] = [
        ("CUSTOMERS_TABLE", "CustomersTable"),
        ("API_KEYS_TABLE", "ApiKeysTable"),
        ("LOANS_TABLE", "LoansTable"),
        ("PAY_DATES_TABLE", "PayDatesTable"),
        ("PAY_DATE_COUNTS_TABLE", "PayDateCountsTable"),
    ];

    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))
        };
        Ok(Tables {
            customers: var("CUSTOMERS_TABLE")?,
            api_keys: var("API_KEYS_TABLE")?,
            loans: var("LOANS_TABLE").unwrap_or_else(|_| "loans".into()),
            pay_dates: var("PAY_DATES_TABLE").unwrap_or_else(|_| "pay-dates".into()),
            pay_date_counts: var("PAY_DATE_COUNTS_TABLE")
                .unwrap_or_else(|_| "pay-date-counts".into()),
        })
    }

    /// Fresh names under a prefix: every test gets tables of its own.
    pub fn with_prefix(prefix: &str) -> Self {
        Tables {
            customers: format!("{prefix}customers"),
            api_keys: format!("{prefix}api-keys"),
            loans: format!("{prefix}loans"),
            pay_dates: format!("{prefix}pay-dates"),
            pay_date_counts: format!("{prefix}pay-date-counts"),
        }
    }

    /// The table name for a logical id of the template.
    pub fn name_for(&self, logical_id: &str) -> Option<&str> {
        match logical_id {
            "CustomersTable" => Some(&self.customers),
            "ApiKeysTable" => Some(&self.api_keys),
            "LoansTable" => Some(&self.loans),
            "PayDatesTable" => Some(&self.pay_dates),
            "PayDateCountsTable" => Some(&self.pay_date_counts),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct Store {
    pub client: Client,
    pub tables: Tables,
}

/// The SDK configuration every binary uses: region and credentials from the standard chain,
/// `AWS_ENDPOINT_URL_DYNAMODB` honoured (DynamoDB Local), short timeouts so that an unreachable
/// store is a quick 503 rather than a Lambda timeout, and the SDK's standard retries.
pub async fn sdk_config() -> aws_config::SdkConfig {
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(3))
                .operation_timeout(Duration::from_secs(8))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .load()
        .await
}

impl Store {
    pub fn new(client: Client, tables: Tables) -> Self {
        Store { client, tables }
    }

    /// Built once per cold start, in `main`.
    pub async fn from_env() -> Result<Self, String> {
        let tables = Tables::from_env()?;
        let client = Client::new(&sdk_config().await);
        Ok(Store { client, tables })
    }
}

/// Store failures: unreachable, timed out or throttled after the SDK's retries is 503 (the
/// caller may retry); anything else (a missing table, a malformed request of ours) is 500.
pub fn store_error<E, R>(err: SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let transient = match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => {
            matches!(
                err.code(),
                Some(
                    "ThrottlingException"
                        | "ProvisionedThroughputExceededException"
                        | "RequestLimitExceeded"
                        | "InternalServerError"
                        | "ServiceUnavailable"
                        | "LimitExceededException"
                )
            )
        }
        _ => false,
    };
    let detail = DisplayErrorContext(&err).to_string();
    if transient {
        ApiError::StoreUnavailable(detail)
    } else {
        ApiError::Internal(detail)
    }
}

pub type Item = HashMap<String, AttributeValue>;

/// After an item of [`query_items`]: read on, or stop here.
pub enum Next {
    More,
    Stop,
}

/// Runs a Query page after page (from `start`, if given), handing every item to `each`, until
/// the last page or until `each` says stop. The one paging loop of the crate.
pub async fn query_items(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    start: Option<Item>,
    mut each: impl FnMut(&Item) -> Result<Next, ApiError>,
) -> Result<(), ApiError> {
    let mut start = start;
    loop {
        let page = query
            .clone()
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(store_error)?;
        for item in page.items() {
            if let Next::Stop = each(item)? {
                return Ok(());
            }
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(());
        }
    }
}

/// A stored customer with the bookkeeping that is not part of the record.
#[derive(Debug, Clone)]
pub struct StoredCustomer {
    pub customer: Customer,
    /// Bumped by every write; the `ETag` and the optimistic-concurrency guard.
    pub version: u64,
    /// A hash of the create request that made the record: a retry of that very request answers
    /// 200 again instead of 409.
    pub create_fingerprint: String,
    /// When the record was first created (RFC 3339, UTC).
    pub created_at: String,
}

const VERSION: &str = "version";
const FINGERPRINT: &str = "createFingerprint";
const UPDATED_AT: &str = "updatedAt";
const CREATED_AT: &str = "createdAt";

fn key(id: GiggleId) -> HashMap<String, AttributeValue> {
    HashMap::from([("giggleId".to_string(), AttributeValue::N(id.to_string()))])
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl StoredCustomer {
    fn to_item(&self) -> Result<HashMap<String, AttributeValue>, ApiError> {
        let mut item: HashMap<String, AttributeValue> = serde_dynamo::to_item(&self.customer)
            .map_err(|e| ApiError::Internal(format!("customer to item: {e}")))?;
        item.insert(VERSION.into(), AttributeValue::N(self.version.to_string()));
        item.insert(
            FINGERPRINT.into(),
            AttributeValue::S(self.create_fingerprint.clone()),
        );
        item.insert(
            CREATED_AT.into(),
            AttributeValue::S(self.created_at.clone()),
        );
        item.insert(UPDATED_AT.into(), AttributeValue::S(now_rfc3339()));
        Ok(item)
    }

    fn from_item(mut item: HashMap<String, AttributeValue>) -> Result<Self, ApiError> {
        let version = match item.remove(VERSION) {
            Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
            _ => 0,
        };
        let create_fingerprint = match item.remove(FINGERPRINT) {
            Some(AttributeValue::S(s)) => s,
            _ => String::new(),
        };
        let created_at = match item.remove(CREATED_AT) {
            Some(AttributeValue::S(s)) => s,
            _ => String::new(),
        };
        item.remove(UPDATED_AT);
        let customer: Customer = serde_dynamo::from_item(item)
            .map_err(|e| ApiError::Internal(format!("item to customer: {e}")))?;
        Ok(StoredCustomer {
            customer,
            version,
            create_fingerprint,
            created_at,
        })
    }
}

/// What a conditional write found.
pub enum Written {
    Done,
    /// The condition failed: someone else wrote (or created, or deleted) first.
    ConditionFailed,
}

fn conditional<E, R>(
    result: Result<E, SdkError<impl ProvideErrorMetadata + std::error::Error + 'static, R>>,
) -> Result<Written, ApiError>
where
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(Written::Done),
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
            Ok(Written::ConditionFailed)
        }
        Err(e) => Err(store_error(e)),
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

    /// Creates the record only if the id is free: one conditional write, so that concurrent
    /// creates of one id cannot both succeed.
    pub async fn insert_customer(&self, record: &StoredCustomer) -> Result<Written, ApiError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.customers)
            .set_item(Some(record.to_item()?))
            .condition_expression("attribute_not_exists(giggleId)")
            .send()
            .await;
        conditional(result)
    }

    /// Replaces the record only if it is still at `expected_version`.
    pub async fn replace_customer(
        &self,
        record: &StoredCustomer,
        expected_version: u64,
    ) -> Result<Written, ApiError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.customers)
            .set_item(Some(record.to_item()?))
            .condition_expression("#v = :expected")
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_version.to_string()),
            )
            .send()
            .await;
        conditional(result)
    }

    /// Deletes the record only if it is still at `expected_version`.
    pub async fn delete_customer(
        &self,
        id: GiggleId,
        expected_version: u64,
    ) -> Result<Written, ApiError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.tables.customers)
            .set_key(Some(key(id)))
            .condition_expression("#v = :expected")
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_version.to_string()),
            )
            .send()
            .await;
        conditional(result)
    }
}
