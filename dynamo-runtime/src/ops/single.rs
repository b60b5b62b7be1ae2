use crate::{Db, Item, Key, Result};

use super::sdk_error;

/// Reads one item by its key. Built by the generated `get`.
#[derive(Debug)]
#[must_use = "call `.send(&db)` to read the item"]
pub struct GetItem<I: Item> {
    key: I::Key,
    consistent: bool,
}

impl<I: Item> GetItem<I> {
    /// A read of the item with `key`.
    pub fn new(key: I::Key) -> Self {
        GetItem {
            key,
            consistent: false,
        }
    }

    /// Reads with strong consistency (sees every write acknowledged before it).
    pub fn consistent(mut self) -> Self {
        self.consistent = true;
        self
    }

    /// Sends the request; `Ok(None)` when no item has this key.
    #[tracing::instrument(level = "debug", name = "GetItem", skip_all, fields(item_type = I::TYPE_NAME))]
    pub async fn send(self, db: &Db) -> Result<Option<I>> {
        let table = db.table_name(I::TABLE);
        let out = db
            .client()
            .get_item()
            .table_name(&table)
            .set_key(Some(self.key.encode_key()?))
            .consistent_read(self.consistent)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", &table, I::TYPE_NAME, e))?;
        out.item.map(I::decode).transpose()
    }
}

/// Writes one item, replacing any item with the same key. Built by the
/// generated `put`.
#[derive(Debug)]
#[must_use = "call `.send(&db)` to write the item"]
pub struct PutItem<'a, I: Item> {
    item: &'a I,
    if_not_exists: bool,
}

impl<'a, I: Item> PutItem<'a, I> {
    /// A write of `item`.
    pub fn new(item: &'a I) -> Self {
        PutItem {
            item,
            if_not_exists: false,
        }
    }

    /// Writes only when no item has this key yet; otherwise
    /// [`Error::ConditionFailed`](crate::Error::ConditionFailed).
    pub fn if_not_exists(mut self) -> Self {
        self.if_not_exists = true;
        self
    }

    /// Sends the request.
    #[tracing::instrument(level = "debug", name = "PutItem", skip_all, fields(item_type = I::TYPE_NAME))]
    pub async fn send(self, db: &Db) -> Result<()> {
        let table = db.table_name(I::TABLE);
        let mut req = db
            .client()
            .put_item()
            .table_name(&table)
            .set_item(Some(self.item.encode()?));
        if self.if_not_exists {
            req = req
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", I::TABLE.partition_key.name);
        }
        req.send()
            .await
            .map_err(|e| sdk_error("PutItem", &table, I::TYPE_NAME, e))?;
        Ok(())
    }
}

/// Deletes one item by its key. Built by the generated `delete`.
#[derive(Debug)]
#[must_use = "call `.send(&db)` to delete the item"]
pub struct DeleteItem<I: Item> {
    key: I::Key,
    if_exists: bool,
}

impl<I: Item> DeleteItem<I> {
    /// A delete of the item with `key`.
    pub fn new(key: I::Key) -> Self {
        DeleteItem {
            key,
            if_exists: false,
        }
    }

    /// Deletes only an existing item of this type; otherwise
    /// [`Error::ConditionFailed`](crate::Error::ConditionFailed). Without
    /// it, deleting a missing item succeeds and does nothing.
    pub fn if_exists(mut self) -> Self {
        self.if_exists = true;
        self
    }

    /// Sends the request.
    #[tracing::instrument(level = "debug", name = "DeleteItem", skip_all, fields(item_type = I::TYPE_NAME))]
    pub async fn send(self, db: &Db) -> Result<()> {
        let table = db.table_name(I::TABLE);
        let mut req = db
            .client()
            .delete_item()
            .table_name(&table)
            .set_key(Some(self.key.encode_key()?));
        if self.if_exists {
            req = req
                .condition_expression("#type = :type")
                .expression_attribute_names("#type", I::TABLE.type_attribute)
                .expression_attribute_values(
                    ":type",
                    aws_sdk_dynamodb::types::AttributeValue::S(I::TYPE_NAME.to_owned()),
                );
        }
        req.send()
            .await
            .map_err(|e| sdk_error("DeleteItem", &table, I::TYPE_NAME, e))?;
        Ok(())
    }
}
