use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use crate::{Condition, Db, Item, Key, Result, Timestamp, expr::Expr};

use super::{Conditions, sdk_error, write_error};

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
///
/// The item is validated first; its `updated_at` timestamp is set, its
/// ttl filled from `expires_after`, and for a versioned item type the write
/// succeeds only if the stored version is still the item's (a new item:
/// none is stored), storing the next version.
#[derive(Debug)]
#[must_use = "call `.send(&db)` to write the item"]
pub struct PutItem<'a, I: Item> {
    item: &'a I,
    if_not_exists: bool,
    condition: Option<Condition<I>>,
}

impl<'a, I: Item> PutItem<'a, I> {
    /// A write of `item`.
    pub fn new(item: &'a I) -> Self {
        PutItem {
            item,
            if_not_exists: false,
            condition: None,
        }
    }

    /// Writes only when no item has this key yet; otherwise
    /// [`Error::ConditionFailed`](crate::Error::ConditionFailed).
    pub fn if_not_exists(mut self) -> Self {
        self.if_not_exists = true;
        self
    }

    /// Writes only when the stored item meets `condition`; otherwise
    /// [`Error::ConditionFailed`](crate::Error::ConditionFailed).
    pub fn when(mut self, condition: impl FnOnce(&I::Fields) -> Condition<I>) -> Self {
        self.condition = Some(condition(&I::FIELDS));
        self
    }

    /// Sends the request.
    #[tracing::instrument(level = "debug", name = "PutItem", skip_all, fields(item_type = I::TYPE_NAME))]
    pub async fn send(self, db: &Db) -> Result<()> {
        self.item.validate()?;
        let table = db.table_name(I::TABLE);
        let mut expr = Expr::new();
        let mut conditions = Conditions::default();
        if self.if_not_exists {
            let pk = expr.name(I::TABLE.partition_key.name);
            conditions.push(format!("attribute_not_exists({pk})"));
        }
        let version = self.item.version();
        if let Some(version) = version {
            conditions.version::<I>(&mut expr, version);
        }
        if let Some(condition) = self.condition {
            conditions.push(condition.into_node().render(&mut expr));
        }
        let result = db
            .client()
            .put_item()
            .table_name(&table)
            .set_item(Some(self.item.encode_for_write(Timestamp::now())?))
            .set_condition_expression(conditions.finish())
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        result
            .map(|_| ())
            .map_err(|e| write_error("PutItem", &table, I::TYPE_NAME, I::VERSION.zip(version), e))
    }
}

/// Deletes one item by its key. Built by the generated `delete`.
#[derive(Debug)]
#[must_use = "call `.send(&db)` to delete the item"]
pub struct DeleteItem<I: Item> {
    key: I::Key,
    if_exists: bool,
    version: Option<u64>,
    condition: Option<Condition<I>>,
}

impl<I: Item> DeleteItem<I> {
    /// A delete of the item with `key`.
    pub fn new(key: I::Key) -> Self {
        DeleteItem {
            key,
            if_exists: false,
            version: None,
            condition: None,
        }
    }

    /// Deletes only an existing item of this type; otherwise
    /// [`Error::ConditionFailed`](crate::Error::ConditionFailed). Without
    /// it, deleting a missing item succeeds and does nothing.
    pub fn if_exists(mut self) -> Self {
        self.if_exists = true;
        self
    }

    /// Deletes only if the stored item still has `version` (optimistic
    /// locking); otherwise [`Error::Stale`](crate::Error::Stale).
    pub fn expect_version(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }

    /// Deletes only when the stored item meets `condition`.
    pub fn when(mut self, condition: impl FnOnce(&I::Fields) -> Condition<I>) -> Self {
        self.condition = Some(condition(&I::FIELDS));
        self
    }

    /// Sends the request.
    #[tracing::instrument(level = "debug", name = "DeleteItem", skip_all, fields(item_type = I::TYPE_NAME))]
    pub async fn send(self, db: &Db) -> Result<()> {
        let table = db.table_name(I::TABLE);
        let mut expr = Expr::new();
        let mut conditions = Conditions::default();
        if self.if_exists {
            conditions.exists::<I>(&mut expr);
        }
        if let Some(version) = self.version {
            conditions.version::<I>(&mut expr, version);
        }
        if let Some(condition) = self.condition {
            conditions.push(condition.into_node().render(&mut expr));
        }
        let result = db
            .client()
            .delete_item()
            .table_name(&table)
            .set_key(Some(self.key.encode_key()?))
            .set_condition_expression(conditions.finish())
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        result.map(|_| ()).map_err(|e| {
            write_error(
                "DeleteItem",
                &table,
                I::TYPE_NAME,
                I::VERSION.zip(self.version),
                e,
            )
        })
    }
}
