use std::{collections::HashSet, marker::PhantomData};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Get, Put, ReturnValuesOnConditionCheckFailure,
    TransactGetItem, TransactWriteItem, Update as SdkUpdate,
};
use tracing::Instrument;

use crate::Operation;
use crate::{
    CancellationReason, Condition, Db, DeleteItem, Error, Item, Key, Result, Timestamp,
    expr::Expr,
    log::{Consumed, Meter, span},
};

use super::{Conditions, Update, batch::key_text, old_on_failure, stale};

/// TransactWriteItems and TransactGetItems take at most 100 actions.
const MAX_ACTIONS: usize = 100;

/// What a cancellation reason of one action is checked against.
#[derive(Debug, Clone)]
struct Check {
    item_type: &'static str,
    table: String,
    /// For a versioned write: the version attribute and expected version.
    version: Option<(&'static str, u64)>,
}

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
    /// Per action: its item type and, for a versioned write, the version
    /// attribute and the version it expects.
    checks: Vec<Check>,
    keys: HashSet<(String, String)>,
    error: Option<Error>,
}

impl Db {
    /// Starts a write transaction.
    pub fn transact(&self) -> TransactWrite<'_> {
        TransactWrite {
            db: self,
            actions: Vec::new(),
            checks: Vec::new(),
            keys: HashSet::new(),
            error: None,
        }
    }

    /// Starts a read transaction: a consistent snapshot of up to 100 items
    /// of any types.
    pub fn transact_get(&self) -> TransactGet<'_> {
        TransactGet {
            db: self,
            gets: Vec::new(),
            checks: Vec::new(),
            keys: HashSet::new(),
            error: None,
        }
    }
}

impl<'db> TransactWrite<'db> {
    /// Puts and deletes of a type with unique fields keep its markers in
    /// a transaction of their own, so one of yours cannot hold them.
    fn refuse_unique<I: Item>(&mut self) -> bool {
        if I::UNIQUE.is_empty() || self.error.is_some() {
            return self.error.is_some() && !I::UNIQUE.is_empty();
        }
        self.error = Some(Error::InvalidRequest {
            operation: Operation::TransactWriteItems,
            reason: format!(
                "`{}` has unique fields, whose markers a transaction of yours cannot keep: use its put and delete",
                I::TYPE_NAME
            ),
        });
        true
    }

    fn push<I: Item>(
        &mut self,
        key: &I::Key,
        version: Option<u64>,
        build: impl FnOnce(&str, Attributes) -> Result<TransactWriteItem>,
    ) {
        if self.error.is_some() {
            return;
        }
        let table = self.db.table_name(I::TABLE);
        let result = (|| {
            let key = key.encode_key()?;
            if !self.keys.insert((table.clone(), key_text(&key))) {
                return Err(Error::InvalidRequest {
                    operation: Operation::TransactWriteItems,
                    reason: format!(
                        "two actions on one `{}` (one action per item)",
                        I::TYPE_NAME
                    ),
                });
            }
            if self.actions.len() == MAX_ACTIONS {
                return Err(Error::InvalidRequest {
                    operation: Operation::TransactWriteItems,
                    reason: format!("more than {MAX_ACTIONS} actions"),
                });
            }
            build(&table, key)
        })();
        match result {
            Ok(action) => {
                self.actions.push(action);
                self.checks.push(Check {
                    item_type: I::TYPE_NAME,
                    table,
                    version: I::VERSION.map(|v| v.attribute).zip(version),
                });
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Puts `item` (validated, versioned as [`PutItem`](crate::PutItem)).
    pub fn put<I: Item>(mut self, item: &I) -> Self {
        if self.refuse_unique::<I>() {
            return self;
        }
        let key = item.key();
        self.push::<I>(&key, item.version(), |table, _| {
            item.validate()?;
            item.before_write()?;
            let mut expr = Expr::new();
            let mut conditions = Conditions::default();
            if let Some(version) = item.version() {
                conditions.version::<I>(&mut expr, version);
            }
            let encoded = item.encode_for_write(Timestamp::now())?;
            conditions.read_only::<I>(&mut expr, &encoded);
            let condition = conditions.finish();
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(encoded))
                .set_return_values_on_condition_check_failure(old_on_failure(condition.as_ref()))
                .set_condition_expression(condition)
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
        let version = update.expected_version();
        self.push::<I>(&key, version, |table, key| {
            let mut expr = Expr::new();
            let (expression, condition) = update.render(&mut expr)?;
            let update = SdkUpdate::builder()
                .table_name(table)
                .set_key(Some(key))
                .update_expression(expression)
                .condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .map_err(|e| Error::config(e.to_string()))?;
            Ok(TransactWriteItem::builder().update(update).build())
        });
        self
    }

    /// Deletes the item with `key`.
    pub fn delete<K: Key>(self, key: K) -> Self {
        self.delete_with(DeleteItem::<K::Item>::new(key))
    }

    /// Deletes as `delete` (built by a generated `delete`) says: only an
    /// existing item, only at an expected version, only under a condition.
    pub fn delete_with<I: Item>(mut self, delete: DeleteItem<I>) -> Self {
        if self.refuse_unique::<I>() {
            return self;
        }
        let key = delete.key.clone();
        self.push::<I>(&key, delete.version, |table, key| {
            let mut expr = Expr::new();
            let condition = delete.condition(&mut expr);
            let delete = Delete::builder()
                .table_name(table)
                .set_key(Some(key))
                .set_return_values_on_condition_check_failure(old_on_failure(condition.as_ref()))
                .set_condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
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
        self.push::<K::Item>(&key, None, |table, key| {
            let mut expr = Expr::new();
            let text = condition.into_node().render(&mut expr);
            let check = ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(key))
                .condition_expression(text)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .map_err(|e| Error::config(e.to_string()))?;
            Ok(TransactWriteItem::builder().condition_check(check).build())
        });
        self
    }

    /// Runs the transaction. A cancellation is
    /// [`Error::TransactionCanceled`] with a reason per action, or
    /// [`Error::Stale`] when every failed action is a versioned write whose
    /// version was not the stored one. It is retried (as the [`Db`]'s retry
    /// policy says) only when every reason is a conflict with another
    /// transaction, which DynamoDB reports before applying anything.
    pub async fn send(self) -> Result<()> {
        let names = tables(&self.checks);
        let span = span(Operation::TransactWriteItems, &names, "");
        async {
            if let Some(error) = self.error {
                return Err(error);
            }
            if self.actions.is_empty() {
                return Ok(());
            }
            let meter = Meter::new(&span, Operation::TransactWriteItems, &names, "");
            let request = || {
                self.db
                    .client()
                    .transact_write_items()
                    .set_transact_items(Some(self.actions.clone()))
                    .set_return_consumed_capacity(meter.capacity())
                    .send()
            };
            let canceled = |reasons| canceled_error(reasons, &self.checks);
            send_transaction(
                self.db,
                &meter,
                Operation::TransactWriteItems,
                &self.checks,
                request,
                canceled,
            )
            .await?;
            meter.finish(self.actions.len());
            Ok(())
        }
        .instrument(span.clone())
        .await
    }
}

/// The tables a transaction touches, for its span: sorted, comma-joined.
fn tables(checks: &[Check]) -> String {
    let mut tables: Vec<&str> = checks.iter().map(|c| c.table.as_str()).collect();
    tables.sort_unstable();
    tables.dedup();
    tables.join(",")
}

/// Sends a transaction until it succeeds. A cancellation is retried, as the
/// retry policy says, only when every reason is a conflict with another
/// transaction (DynamoDB reports those before applying anything); any
/// other cancellation becomes `canceled(reasons)`.
async fn send_transaction<T: Consumed, E, R, Fut>(
    db: &Db,
    meter: &Meter<'_>,
    operation: Operation,
    checks: &[Check],
    request: impl Fn() -> Fut,
    canceled: impl FnOnce(Vec<Option<CancellationReason>>) -> Error,
) -> Result<T>
where
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    aws_sdk_dynamodb::Error: From<SdkError<E, R>>,
{
    let policy = db.retry_policy();
    let mut attempt = 0;
    loop {
        let error = match meter.send(db, request()).await {
            Ok(out) => return Ok(out),
            Err(e) => aws_sdk_dynamodb::Error::from(e),
        };
        let aws_sdk_dynamodb::Error::TransactionCanceledException(cancellation) = error else {
            return Err(Error::service(operation, "(transaction)", error));
        };
        let reasons = reasons(cancellation.cancellation_reasons(), checks);
        let conflict_only = reasons
            .iter()
            .flatten()
            .all(|r| r.code == "TransactionConflict");
        attempt += 1;
        if !conflict_only || attempt >= policy.max_attempts() {
            return Err(canceled(reasons));
        }
        tracing::debug!(attempt, "transaction conflict; retrying");
        policy.wait(attempt).await;
    }
}

/// The cancellation reasons, one per action, marking stale versioned writes.
fn reasons(
    sdk: &[aws_sdk_dynamodb::types::CancellationReason],
    checks: &[Check],
) -> Vec<Option<CancellationReason>> {
    sdk.iter()
        .zip(checks)
        .map(|(r, check)| {
            let code = r.code().filter(|c| *c != "None")?;
            let old = r.item().cloned();
            let stale = code == "ConditionalCheckFailed"
                && check.version.is_some_and(|(attribute, expected)| {
                    stale(old.as_ref(), attribute, expected).is_some()
                });
            Some(CancellationReason {
                code: code.to_owned(),
                message: r.message().map(str::to_owned),
                item_type: check.item_type,
                old,
                stale,
            })
        })
        .collect()
}

/// [`Error::Stale`] when only stale writes failed (naming the first), else
/// the cancellation.
fn canceled_error(reasons: Vec<Option<CancellationReason>>, checks: &[Check]) -> Error {
    let all_stale = reasons.iter().flatten().all(|r| r.stale);
    let first = reasons
        .iter()
        .zip(checks)
        .find_map(|(r, check)| r.as_ref().map(|r| (r, check)));
    match first {
        Some((reason, check)) if all_stale => {
            let (attribute, expected) = check.version.unwrap_or_default();
            Error::Stale {
                operation: Operation::TransactWriteItems,
                item_type: check.item_type,
                table: check.table.clone(),
                expected,
                found: stale(reason.old.as_ref(), attribute, expected).flatten(),
            }
        }
        _ => Error::TransactionCanceled { reasons },
    }
}

/// A handle to one item of a [`TransactGet`], to take its result by.
#[derive(Debug)]
pub struct Slot<I> {
    index: usize,
    item: PhantomData<fn() -> I>,
}

/// A read of up to 100 items of any types as one consistent snapshot
/// (TransactGetItems). Start one with [`Db::transact_get`].
///
/// ```ignore
/// let mut tx = db.transact_get();
/// let customer = tx.get(CustomerKey { id: "c1".into() });
/// let order = tx.get(OrderKey { customer_id: "c1".into(), order_id: "o1".into() });
/// let mut rows = tx.send().await?;
/// let customer: Option<Customer> = rows.take(customer)?;
/// ```
#[derive(Debug)]
#[must_use = "call `.send()` to read the items"]
pub struct TransactGet<'db> {
    db: &'db Db,
    gets: Vec<TransactGetItem>,
    /// One per read, in order (also when building the read failed).
    checks: Vec<Check>,
    keys: HashSet<(String, String)>,
    error: Option<Error>,
}

impl TransactGet<'_> {
    /// Adds a read of the item with `key`; take its result by the slot.
    pub fn get<K: Key>(&mut self, key: K) -> Slot<K::Item> {
        let item_type = <K::Item as Item>::TYPE_NAME;
        let table = self.db.table_name(<K::Item as Item>::TABLE);
        let get = key.encode_key().and_then(|key| {
            if !self.keys.insert((table.clone(), key_text(&key))) {
                return Err(Error::InvalidRequest {
                    operation: Operation::TransactGetItems,
                    reason: format!("one `{item_type}` is read twice"),
                });
            }
            let get = Get::builder()
                .table_name(&table)
                .set_key(Some(key))
                .build()
                .map_err(|e| Error::config(e.to_string()))?;
            Ok(TransactGetItem::builder().get(get).build())
        });
        match get {
            Ok(get) => self.gets.push(get),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self.checks.push(Check {
            item_type,
            table,
            version: None,
        });
        Slot {
            index: self.checks.len() - 1,
            item: PhantomData,
        }
    }

    /// Reads every item. A transaction cancelled by conflicting writes is
    /// retried as the retry policy says.
    pub async fn send(self) -> Result<TransactRows> {
        let names = tables(&self.checks);
        let span = span(Operation::TransactGetItems, &names, "");
        async {
            if let Some(error) = self.error {
                return Err(error);
            }
            if self.gets.len() > MAX_ACTIONS {
                return Err(Error::InvalidRequest {
                    operation: Operation::TransactGetItems,
                    reason: format!("more than {MAX_ACTIONS} reads"),
                });
            }
            if self.gets.is_empty() {
                return Ok(TransactRows { rows: Vec::new() });
            }
            let meter = Meter::new(&span, Operation::TransactGetItems, &names, "");
            let request = || {
                self.db
                    .client()
                    .transact_get_items()
                    .set_transact_items(Some(self.gets.clone()))
                    .set_return_consumed_capacity(meter.capacity())
                    .send()
            };
            let canceled = |reasons| Error::TransactionCanceled { reasons };
            let out = send_transaction(
                self.db,
                &meter,
                Operation::TransactGetItems,
                &self.checks,
                request,
                canceled,
            )
            .await?;
            let rows: Vec<Option<Attributes>> = out
                .responses
                .unwrap_or_default()
                .into_iter()
                .map(|r| r.item.filter(|i| !i.is_empty()))
                .collect();
            meter.finish(rows.iter().flatten().count());
            Ok(TransactRows { rows })
        }
        .instrument(span.clone())
        .await
    }
}

/// The items a [`TransactGet`] read, taken out by their slots.
#[derive(Debug)]
pub struct TransactRows {
    rows: Vec<Option<Attributes>>,
}

impl TransactRows {
    /// The item of `slot`: `None` when no item has its key. Each slot's
    /// item can be taken once; a second take returns `None`.
    pub fn take<I: Item>(&mut self, slot: Slot<I>) -> Result<Option<I>> {
        self.rows
            .get_mut(slot.index)
            .and_then(Option::take)
            .map(I::decode)
            .transpose()
    }
}

type Attributes = std::collections::HashMap<String, AttributeValue>;
