//! Creates the tables from their one definition, `infra/template.yaml`: the local stack and the
//! tests read the key schema, attributes and indexes of each table resource there, so a change
//! to the deployed schema is a change to the local one.

use crate::error::ApiError;
use crate::store::{store_error, Tables};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Template {
    #[serde(rename = "Resources")]
    resources: BTreeMap<String, serde_yaml::Value>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
struct Key {
    attribute_name: String,
    key_type: String,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
struct Attribute {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
struct Index {
    index_name: String,
    key_schema: Vec<Key>,
    projection: IndexProjection,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
struct IndexProjection {
    projection_type: String,
}

/// One table's definition as the template gives it.
#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct TableDefinition {
    key_schema: Vec<Key>,
    attribute_definitions: Vec<Attribute>,
    #[serde(default)]
    global_secondary_indexes: Vec<Index>,
}

/// The table definitions of the template, by logical id.
pub fn definitions(template_yaml: &str) -> Result<BTreeMap<String, TableDefinition>, String> {
    let t: Template = serde_yaml::from_str(template_yaml).map_err(|e| format!("template: {e}"))?;
    let mut out = BTreeMap::new();
    for (logical_id, _) in Tables::DEFINITIONS.iter().map(|(e, l)| (*l, *e)) {
        let resource = t
            .resources
            .get(logical_id)
            .ok_or_else(|| format!("template has no {logical_id}"))?;
        let props = resource
            .get("Properties")
            .ok_or_else(|| format!("{logical_id} has no Properties"))?
            .clone();
        let def: TableDefinition =
            serde_yaml::from_value(props).map_err(|e| format!("{logical_id}: {e}"))?;
        out.insert(logical_id.to_string(), def);
    }
    Ok(out)
}

fn key_type(s: &str) -> KeyType {
    KeyType::from(s)
}

fn key_schema(keys: &[Key]) -> Vec<KeySchemaElement> {
    keys.iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(key_type(&k.key_type))
                .build()
                .expect("name and type are set")
        })
        .collect()
}

/// Creates every table of the template under the names in `tables`; a table that exists already
/// is left as it is. Returns the names created.
pub async fn create_all(
    client: &Client,
    template_yaml: &str,
    tables: &Tables,
) -> Result<Vec<String>, String> {
    let defs = definitions(template_yaml)?;
    let mut created = Vec::new();
    for (logical_id, def) in defs {
        let name = tables
            .name_for(&logical_id)
            .expect("every definition has a name")
            .to_string();
        let mut req = client
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(key_schema(&def.key_schema)))
            .set_attribute_definitions(Some(
                def.attribute_definitions
                    .iter()
                    .map(|a| {
                        AttributeDefinition::builder()
                            .attribute_name(&a.attribute_name)
                            .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                            .build()
                            .expect("name and type are set")
                    })
                    .collect(),
            ));
        for index in &def.global_secondary_indexes {
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(&index.index_name)
                    .set_key_schema(Some(key_schema(&index.key_schema)))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::from(
                                index.projection.projection_type.as_str(),
                            ))
                            .build(),
                    )
                    .build()
                    .map_err(|e| e.to_string())?,
            );
        }
        match req.send().await {
            Ok(_) => created.push(name),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) => {}
            Err(e) => return Err(describe(store_error(e))),
        }
    }
    Ok(created)
}

fn describe(e: ApiError) -> String {
    match e {
        ApiError::StoreUnavailable(d) | ApiError::Internal(d) => d,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_defines_every_table() {
        let yaml = include_str!("../../infra/template.yaml");
        let defs = definitions(yaml).expect("the template parses");
        assert_eq!(
            defs["CustomersTable"].key_schema[0].attribute_name,
            "giggleId"
        );
        assert_eq!(defs["ApiKeysTable"].key_schema[0].attribute_name, "keyHash");
        assert_eq!(defs["PayDatesTable"].key_schema.len(), 2);
        assert!(defs["PayDatesTable"]
            .global_secondary_indexes
            .iter()
            .any(|i| i.index_name == "byDate"));
        assert!(defs["PayDatesTable"]
            .global_secondary_indexes
            .iter()
            .any(|i| i.index_name == "byDateAmount"));
        assert_eq!(defs["PayDateCountsTable"].key_schema.len(), 2);
        assert!(defs["LoansTable"]
            .global_secondary_indexes
            .iter()
            .any(|i| i.index_name == "byGiggleId"));
    }
}
