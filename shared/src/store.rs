//! The DynamoDB store: table names, the client (built once per cold start), the few reads and
//! writes the operations need, and the translation of SDK failures into 503 or 500.

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
    pub idempotency: String,
    pub audit: String,
    pub pay_date_counts: String,
}

impl Tables {
    /// Each table's environment variable, with the logical id of its definition in
    /// `infra/template.yaml`.
    pub const DEFINITIONS: [(&'static str, &'static str); 7] = [
        ("CUSTOMERS_TABLE", "CustomersTable"),
        ("API_KEYS_TABLE", "ApiKeysTable"),
        ("LOANS_TABLE", "LoansTable"),
        ("PAY_DATES_TABLE", "PayDatesTable"),
        ("IDEMPOTENCY_TABLE", "IdempotencyTable"),
        ("AUDIT_TABLE", "AuditTable"),
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
            idempotency: var("IDEMPOTENCY_TABLE").unwrap_or_else(|_| "idempotency".into()),
            audit: var("AUDIT_TABLE").unwrap_or_else(|_| "audit".into()),
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
            idempotency: format!("{prefix}idempotency"),
            audit: format!("{prefix}audit"),
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
            "IdempotencyTable" => Some(&self.idempotency),
            "AuditTable" => Some(&self.audit),
            "PayDateCountsTable" => Some(&self.pay_date_counts),
            _ => None,
        }
    }
}

/// The keys' settings, and what a container keeps of them once fetched: the data key of the
/// PII key, the MAC secret, and recent API-key lookups. All are fetched lazily, never in init.
#[derive(Default)]
pub struct Keys {
    /// `PII_KEY_ID`: the KMS key that wraps the data keys of SSNs and EINs.
    pub pii_key_id: Option<String>,
    /// `MAC_SECRET_ID`: the Secrets Manager secret holding the deployment's MAC key.
    pub mac_secret_id: Option<String>,
    pub(crate) data_key: tokio::sync::OnceCell<std::sync::Arc<crate::pii::DataKey>>,
    pub(crate) mac: tokio::sync::OnceCell<std::sync::Arc<crate::secrets::MacKey>>,
    pub(crate) api_keys: crate::auth::KeyCache,
}

impl Keys {
    pub fn from_env() -> Keys {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        // API_KEY_CACHE_SECONDS shortens the key cache (0 turns it off); it is never longer
        // than a minute.
        let cache = var("API_KEY_CACHE_SECONDS")
            .and_then(|v| v.parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(crate::auth::MAX_KEY_CACHE);
        Keys {
            pii_key_id: var("PII_KEY_ID"),
            mac_secret_id: var("MAC_SECRET_ID"),
            api_keys: crate::auth::KeyCache::new(cache),
            ..Keys::default()
        }
    }
}

#[derive(Clone)]
pub struct Store {
    pub client: Client,
    pub kms: aws_sdk_kms::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub tables: Tables,
    pub keys: std::sync::Arc<Keys>,
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
    /// The clients of DynamoDB, KMS and Secrets Manager (building them does no I/O), and the
    /// keys' settings from the environment.
    pub fn from_config(config: &aws_config::SdkConfig, tables: Tables) -> Self {
        Store {
            client: dynamodb_client(aws_sdk_dynamodb::config::Builder::from(config)),
            kms: aws_sdk_kms::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            tables,
            keys: std::sync::Arc::new(Keys::from_env()),
        }
    }

    /// The same services over other tables (the tests break a store this way).
    pub fn with_tables(&self, tables: Tables) -> Self {
        Store {
            tables,
            keys: std::sync::Arc::new(Keys::from_env()),
            ..self.clone()
        }
    }

    /// The same store with an API-key cache of this length (the tests turn it off or shorten it).
    pub fn with_key_cache(&self, ttl: Duration) -> Self {
        let keys = Keys::from_env();
        Store {
            keys: std::sync::Arc::new(Keys {
                api_keys: crate::auth::KeyCache::new(ttl),
                ..keys
            }),
            ..self.clone()
        }
    }

    /// Built once per cold start, in `main`.
    pub async fn from_env() -> Result<Self, String> {
        let tables = Tables::from_env()?;
        Ok(Store::from_config(&sdk_config().await, tables))
    }
}

/// The DynamoDB client of these settings, with the interceptor that counts each request's store
/// retries ([`crate::metrics::StoreAttempts`]). Every DynamoDB client of the functions is built
/// here (a test that points one elsewhere should build it here too).
pub fn dynamodb_client(config: aws_sdk_dynamodb::config::Builder) -> Client {
    Client::from_conf(config.interceptor(crate::metrics::StoreAttempts).build())
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

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What a conditional write found.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Done,
    /// The condition failed: someone else wrote (or created, or deleted) first.
    ConditionFailed,
    /// Another transaction held the item at that moment: try again on a fresh read.
    Contended,
}

/// A conditional single-item write's outcome.
pub fn conditional<E, R>(
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

/// A transaction's outcome, judged by its first item (the record it changes): its condition
/// failing is [`Written::ConditionFailed`]; a condition failing on any other item (an audit
/// entry that already exists) is a bug, a 500.
pub fn transacted<R>(
    result: Result<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput,
        SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
    >,
) -> Result<Written, ApiError>
where
    R: std::fmt::Debug,
{
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    let err = match result {
        Ok(_) => return Ok(Written::Done),
        Err(e) => e,
    };
    if let Some(TransactWriteItemsError::TransactionCanceledException(c)) = err.as_service_error() {
        let codes: Vec<&str> = c
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or("None"))
            .collect();
        if codes.first() == Some(&"ConditionalCheckFailed") {
            return Ok(Written::ConditionFailed);
        }
        if codes.contains(&"TransactionConflict") {
            return Ok(Written::Contended);
        }
        if codes.contains(&"ConditionalCheckFailed") {
            return Err(ApiError::Internal(format!(
                "a transaction's secondary condition failed: {codes:?}"
            )));
        }
        if codes
            .iter()
            .any(|c| matches!(*c, "ThrottlingError" | "ProvisionedThroughputExceeded"))
        {
            return Err(ApiError::StoreUnavailable(format!(
                "transaction throttled: {codes:?}"
            )));
        }
    }
    if err.code() == Some("TransactionConflictException") {
        return Ok(Written::Contended);
    }
    Err(store_error(err))
}

/// Reads these keys of one table with BatchGetItem (at most 100 keys a call), handing every item
/// found to `each`; keys DynamoDB leaves unprocessed are asked for again after a growing pause.
/// The one BatchGetItem loop of the crate.
pub async fn batch_get(
    store: &Store,
    table: &str,
    keys: aws_sdk_dynamodb::types::KeysAndAttributes,
    mut each: impl FnMut(Item),
) -> Result<(), ApiError> {
    const MAX_ATTEMPTS: u32 = 12;
    let mut pending = Some(HashMap::from([(table.to_string(), keys)]));
    let mut attempt = 0u32;
    while let Some(request) = pending.take().filter(|p| !p.is_empty()) {
        if attempt >= MAX_ATTEMPTS {
            return Err(ApiError::StoreUnavailable(
                "keys kept coming back unprocessed".into(),
            ));
        }
        if attempt > 0 {
            // Asking again for unprocessed keys is a store retry too.
            crate::metrics::count_store_retry();
            let millis = 50u64.saturating_mul(1 << attempt.min(6)).min(3000);
            tokio::time::sleep(Duration::from_millis(millis)).await;
        }
        let out = store
            .client
            .batch_get_item()
            .set_request_items(Some(request))
            .send()
            .await
            .map_err(store_error)?;
        for item in out
            .responses
            .unwrap_or_default()
            .remove(table)
            .unwrap_or_default()
        {
            each(item);
        }
        pending = out.unprocessed_keys;
        attempt += 1;
    }
    Ok(())
}
