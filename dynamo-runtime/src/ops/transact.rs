use std::collections::HashSet;

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update as SdkUpdate,
};

use crate::{CancellationReason, Condition, Db, Error, Item, Key, Result, Timestamp, expr::Expr};

use super::{Conditions, Update, batch::backoff, batch::key_text};

/// TransactWriteItems takes at most 100 actions.
const MAX_ACTIONS: usize = 100;
/// Attempts when every cancellation reason is a transaction conflict.
const ATTEMPTS: u32 = 5;

/// A transaction of puts, updates, deletes and condition checks over any
/// item types, applied all or nothing. Start one with [`Db::transact`].
///
/// Versioned items are checked and advanced as in single writes. At most
/// 100 actions and one action per item, both checked before sending.
#[derive(Debug)]
#[must_use = "call `.send()` to run the transaction"]
pub struct TransactWrite<'db> {
    db: &'db Db,
    actions: Vec<TransactWriteItem>,
    item_types: Vec<&'static str>,
    keys: HashSet<(String, String)>,
    error: Option<Error>,
}

impl Db {
    /// Starts a write transaction.
    pub fn transact(&self) -> TransactWrite<'_> {
        TransactWrite {
            db: self,
            actions: Vec::new(),
            item_types: Vec::new(),
            keys: HashSet::new(),
            error: None,
        }
    }
}

impl<'db> TransactWrite<'db> {
    fn push<I: Item>(
        &mut self,
        key: &I::Key,
        build: impl FnOnce(&str, Attributes) -> Result<TransactWriteItem>,
    ) {
        if self.error.is_some() {
            return;
        }
        let result = (|| {
            let table = self.db.table_name(I::TABLE);
            let key = key.encode_key()?;
            if !self.keys.insert((table.clone(), key_text(&key))) {
                return Err(Error::InvalidRequest {
                    operation: "TransactWriteItems",
                    reason: format!(
                        "two actions on one `{}` (one action per item)",
                        I::TYPE_NAME
                    ),
                });
            }
            if self.actions.len() == MAX_ACTIONS {
                return Err(Error::InvalidRequest {
                    operation: "TransactWriteItems",
                    reason: format!("more than {MAX_ACTIONS} actions"),
                });
            }
            build(&table, key)
        })();
        match result {
            Ok(action) => {
                self.actions.push(action);
                self.item_types.push(I::TYPE_NAME);
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Puts `item` (validated, versioned as [`PutItem`](crate::PutItem)).
    pub fn put<I: Item>(mut self, item: &I) -> Self {
        let key = item.key();
        self.push::<I>(&key, |table, _| {
            item.validate()?;
            let mut expr = Expr::new();
            let mut conditions = Conditions::default();
            if let Some(version) = item.version() {
                conditions.version::<I>(&mut expr, version);
            }
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(item.encode_for_write(Timestamp::now())?))
                .set_condition_expression(conditions.finish())
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build()
                .map_err(|e| Error::config(e.to_string()))?;
            Ok(TransactWriteItem::builder().put(put).build())
        });
        self
    }

    /// Applies `update` (built by a generated `update` function).
    pub fn update<I: Item>(mut self, update: impl Into<Update<I>>) -> Self {
        let update = update.into();
        let key = update.key().clone();
        self.push::<I>(&key, |table, key| {
            let mut expr = Expr::new();
            let (expression, condition) = update.render(&mut expr)?;
            let update = SdkUpdate::builder()
                .table_name(table)
                .set_key(Some(key))
                .update_expression(expression)
                .condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build()
                .map_err(|e| Error::config(e.to_string()))?;
            Ok(TransactWriteItem::builder().update(update).build())
        });
        self
    }

    /// Deletes the item with `key`.
    pub fn delete<K: Key>(mut self, key: K) -> Self {
        self.push::<K::Item>(&key, |table, key| {
            let delete = Delete::builder()
                .table_name(table)
                .set_key(Some(key))
                .build()
                .map_err(|e| Error::config(e.to_string()))?;
            Ok(TransactWriteItem::builder().delete(delete).build())
        });
        self
    }

    /// Fails the whole transaction unless the item with `key` meets
    /// `condition`.
    pub fn condition_check<K: Key>(
        mut self,
        key: K,
        condition: impl FnOnce(&<K::Item as Item>::Fields) -> Condition<K::Item>,
    ) -> Self {
        let condition = condition(&<K::Item as Item>::FIELDS);
        self.push::<K::Item>(&key, |table, key| {
            let mut expr = Expr::new();
            let text = condition.into_node().render(&mut expr);
            let check = ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(key))
                .condition_expression(text)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build()
                .map_err(|e| Error::config(e.to_string()))?;
            Ok(TransactWriteItem::builder().condition_check(check).build())
        });
        self
    }

    /// Runs the transaction. A cancellation is
    /// [`Error::TransactionCanceled`] with a reason per action; it is
    /// retried (with backoff) only when every reason is a conflict with
    /// another transaction.
    #[tracing::instrument(level = "debug", name = "TransactWriteItems", skip_all, fields(actions = self.actions.len()))]
    pub async fn send(self) -> Result<()> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.actions.is_empty() {
            return Ok(());
        }
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let result = self
                .db
                .client()
                .transact_write_items()
                .set_transact_items(Some(self.actions.clone()))
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(()),
                Err(e) => aws_sdk_dynamodb::Error::from(e),
            };
            let aws_sdk_dynamodb::Error::TransactionCanceledException(canceled) = error else {
                return Err(Error::service("TransactWriteItems", "(transaction)", error));
            };
            let reasons: Vec<Option<CancellationReason>> = canceled
                .cancellation_reasons()
                .iter()
                .zip(&self.item_types)
                .map(|(r, item_type)| {
                    r.code()
                        .filter(|c| *c != "None")
                        .map(|code| CancellationReason {
                            code: code.to_owned(),
                            message: r.message().map(str::to_owned),
                            item_type,
                        })
                })
                .collect();
            let conflict_only = reasons
                .iter()
                .flatten()
                .all(|r| r.code == "TransactionConflict");
            if !conflict_only || attempt + 1 == ATTEMPTS {
                return Err(Error::TransactionCanceled { reasons });
            }
            tracing::debug!(attempt, "transaction conflict; retrying");
        }
        Ok(())
    }
}

type Attributes = std::collections::HashMap<String, AttributeValue>;
