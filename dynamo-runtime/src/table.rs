//! Table descriptions emitted by the generator, and table tasks over them.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType as SdkKeyType, ScalarAttributeType,
};

use crate::{Db, Error, Result};

/// The type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// A string (`S`).
    S,
    /// A number (`N`).
    N,
    /// Binary (`B`).
    B,
}

impl KeyType {
    fn to_sdk(self) -> ScalarAttributeType {
        match self {
            KeyType::S => ScalarAttributeType::S,
            KeyType::N => ScalarAttributeType::N,
            KeyType::B => ScalarAttributeType::B,
        }
    }
}

/// A key attribute of a table: its name and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyAttributeDef {
    /// The attribute name, e.g. `pk`.
    pub name: &'static str,
    /// The attribute type.
    pub ty: KeyType,
}

/// A table as the schema describes it. The generator emits one per table as
/// `TABLE` in the table's module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableDef {
    /// The logical table name; [`Db::table_name`] adds the namespace.
    pub name: &'static str,
    /// The partition key attribute.
    pub partition_key: KeyAttributeDef,
    /// The sort key attribute, when the table has one.
    pub sort_key: Option<KeyAttributeDef>,
    /// The attribute that holds each item's type name (default `_type`).
    pub type_attribute: &'static str,
}

impl TableDef {
    /// Creates this table (on-demand billing) and waits until it is active.
    ///
    /// Returns `Ok(false)` without changing anything when the table already
    /// exists. Migrations replace this helper for real deployments.
    #[tracing::instrument(level = "info", skip_all, fields(table = self.name))]
    pub async fn create(&self, db: &Db) -> Result<bool> {
        let table = db.table_name(self);
        let mut req = db
            .client()
            .create_table()
            .table_name(&table)
            .billing_mode(BillingMode::PayPerRequest);
        for (attr, key_type) in self.key_attributes() {
            req = req
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(attr.name)
                        .attribute_type(attr.ty.to_sdk())
                        .build()
                        .map_err(|e| Error::config(e.to_string()))?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(attr.name)
                        .key_type(key_type)
                        .build()
                        .map_err(|e| Error::config(e.to_string()))?,
                );
        }
        match req.send().await {
            Ok(_) => {}
            Err(e) => {
                let e = aws_sdk_dynamodb::Error::from(e);
                if matches!(e, aws_sdk_dynamodb::Error::ResourceInUseException(_)) {
                    return Ok(false);
                }
                return Err(Error::service("CreateTable", &table, e));
            }
        }
        db.wait_until_active(&table).await?;
        Ok(true)
    }

    /// Deletes this table. Returns `Ok(false)` when it did not exist.
    pub async fn delete(&self, db: &Db) -> Result<bool> {
        let table = db.table_name(self);
        match db.client().delete_table().table_name(&table).send().await {
            Ok(_) => Ok(true),
            Err(e) => match aws_sdk_dynamodb::Error::from(e) {
                aws_sdk_dynamodb::Error::ResourceNotFoundException(_) => Ok(false),
                e => Err(Error::service("DeleteTable", &table, e)),
            },
        }
    }

    fn key_attributes(&self) -> impl Iterator<Item = (KeyAttributeDef, SdkKeyType)> {
        std::iter::once((self.partition_key, SdkKeyType::Hash))
            .chain(self.sort_key.map(|k| (k, SdkKeyType::Range)))
    }
}
