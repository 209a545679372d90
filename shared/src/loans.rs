//! A customer's loans: read through the `byGiggleId` index (no Scan), newest contract first.

use crate::customer::GiggleId;
use crate::error::ApiError;
use crate::records::{Record, LOAN_FIELDS};
use crate::store::{query_items, store_error, Next, Store};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Select};

pub const BY_GIGGLE_ID_INDEX: &str = "byGiggleId";

impl Store {
    /// A query on the `byGiggleId` index for one customer's loans.
    fn by_giggle_id(&self, id: GiggleId) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.tables.loans)
            .index_name(BY_GIGGLE_ID_INDEX)
            .key_condition_expression("giggleId = :g")
            .expression_attribute_values(":g", AttributeValue::N(id.to_string()))
    }

    /// The customer's loans, newest `contractDate` first, ties by the higher loan id first.
    pub async fn loans_of(&self, id: GiggleId) -> Result<Vec<Record>, ApiError> {
        let mut loans = Vec::new();
        query_items(
            self.by_giggle_id(id).scan_index_forward(false),
            None,
            |item| {
                let loan = Record::from_item(LOAN_FIELDS, item)
                    .map_err(|e| ApiError::Internal(format!("stored loan: {e}")))?;
                loans.push(loan);
                Ok(Next::More)
            },
        )
        .await?;
        loans.sort_by(|a, b| {
            b.text("contractDate")
                .cmp(a.text("contractDate"))
                .then(b.int("id").cmp(&a.int("id")))
        });
        Ok(loans)
    }

    /// How many loans the customer has (a count on the index, nothing read back).
    pub async fn loan_count(&self, id: GiggleId) -> Result<u64, ApiError> {
        let mut count = 0u64;
        let mut start = None;
        loop {
            let page = self
                .by_giggle_id(id)
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(store_error)?;
            count += page.count().max(0) as u64;
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }
}
