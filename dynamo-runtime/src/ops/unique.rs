//! Unique attributes (OneTable's `unique`): an item type's field whose
//! value no other item of the type may have. Each value owns a marker item
//! in the table (`_unique#<Type>#<attribute>#<value>` under both key
//! attributes, type `_unique`, `owner` the item's key); a put, update or
//! delete of the item and its markers is one transaction, so a duplicate
//! fails the whole write and nothing leaks.

use aws_sdk_dynamodb::{
    error::SdkError,
    operation::transact_write_items::TransactWriteItemsError,
    types::{AttributeValue, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem},
};
use base64::{Engine, engine::general_purpose::STANDARD};

use super::{Conditions, batch::key_text, condition_failed};
use crate::{Attributes, Db, Error, Item, Operation, Result, expr::Expr, log::Meter};

/// The type attribute of marker items: no item type has this name, so
/// typed reads never return them.
pub const MARKER_TYPE: &str = "_unique";

/// How many times a write is tried again when the stored item changed
/// between its read and its transaction.
const ATTEMPTS: usize = 5;

fn value_text(value: &AttributeValue) -> String {
    match value {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.clone(),
        AttributeValue::B(b) => STANDARD.encode(b.as_ref()),
        other => format!("{other:?}"),
    }
}

/// The key of the marker of `value` of `attribute`.
fn marker_key<I: Item>(attribute: &str, value: &AttributeValue) -> Attributes {
    let text = format!("_unique#{}#{attribute}#{}", I::TYPE_NAME, value_text(value));
    I::TABLE
        .key()
        .map(|k| (k.name.to_string(), AttributeValue::S(text.clone())))
        .collect()
}

/// `attribute_not_exists(pk) OR owner = :owner`: the marker is free or
/// already this item's.
fn free_or_owned<I: Item>(expr: &mut Expr, owner: &str) -> String {
    let pk = expr.name(&I::TABLE.partition_key.name);
    let name = expr.name("owner");
    let value = expr.value(AttributeValue::S(owner.to_owned()));
    format!("attribute_not_exists({pk}) OR {name} = {value}")
}

/// The stored item's values of the unique attributes.
fn unique_values<I: Item>(item: Option<&Attributes>) -> Vec<Option<AttributeValue>> {
    I::UNIQUE
        .iter()
        .map(|a| item.and_then(|i| i.get(*a)).cloned())
        .collect()
}

/// `#u = :v` (or `attribute_not_exists(#u)`) for each unique attribute as
/// `stored` holds it; `attribute_not_exists(pk)` when nothing is stored.
fn guard<I: Item>(expr: &mut Expr, stored: Option<&Attributes>) -> String {
    let Some(stored) = stored else {
        let pk = expr.name(&I::TABLE.partition_key.name);
        return format!("attribute_not_exists({pk})");
    };
    I::UNIQUE
        .iter()
        .map(|attribute| {
            let name = expr.name(attribute);
            match stored.get(*attribute) {
                Some(v) => format!("{name} = {}", expr.value(v.clone())),
                None => format!("attribute_not_exists({name})"),
            }
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// A marker put (`Some(attribute)`) or delete (`None`) of one action.
type Marks = Vec<Option<(&'static str, String)>>;

/// The marker actions moving the unique values from `old` to `new` (each
/// `None` for an absent value), and what each is.
fn marker_actions<I: Item>(
    table: &str,
    owner: &str,
    old: &[Option<AttributeValue>],
    new: &[Option<AttributeValue>],
) -> Result<(Vec<TransactWriteItem>, Marks)> {
    let config = |e: aws_sdk_dynamodb::error::BuildError| Error::config(e.to_string());
    let (mut actions, mut marks) = (Vec::new(), Marks::new());
    for ((attribute, old), new) in I::UNIQUE.iter().zip(old).zip(new) {
        if let Some(value) = new {
            let mut expr = Expr::new();
            let condition = free_or_owned::<I>(&mut expr, owner);
            let mut item = marker_key::<I>(attribute, value);
            if I::TABLE.has_type_attribute() {
                item.insert(
                    I::TABLE.type_attribute.to_string(),
                    AttributeValue::S(MARKER_TYPE.to_owned()),
                );
            }
            item.insert("owner".to_owned(), AttributeValue::S(owner.to_owned()));
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build()
                .map_err(config)?;
            actions.push(TransactWriteItem::builder().put(put).build());
            marks.push(Some((*attribute, value_text(value))));
        }
        if let Some(value) = old.as_ref().filter(|o| Some(*o) != new.as_ref()) {
            let mut expr = Expr::new();
            let condition = free_or_owned::<I>(&mut expr, owner);
            let delete = Delete::builder()
                .table_name(table)
                .set_key(Some(marker_key::<I>(attribute, value)))
                .condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build()
                .map_err(config)?;
            actions.push(TransactWriteItem::builder().delete(delete).build());
            marks.push(None);
        }
    }
    Ok((actions, marks))
}

/// The write of an item (the first action, a put or delete whose own
/// conditions are `conditions`) with its markers.
pub(crate) struct Write<'a> {
    pub(crate) operation: Operation,
    pub(crate) table: &'a str,
    pub(crate) key: Attributes,
    /// What is done to the item.
    pub(crate) action: Action,
    /// The write's own conditions, rendered into `expr`.
    pub(crate) conditions: Conditions,
    pub(crate) expr: Expr,
    pub(crate) version: Option<(&'static str, u64)>,
    /// The write's own error for a failed condition of the item's action
    /// (a read-only field, an update's bound).
    pub(crate) refine: &'a (dyn Fn(Error) -> Error + Sync),
}

/// What a [`Write`] does to the item.
pub(crate) enum Action {
    /// Puts this item.
    Put(Attributes),
    /// Deletes it.
    Delete,
    /// Updates it with this expression (rendered into the write's `expr`);
    /// `new` gives the unique values after the update from the stored
    /// item's.
    Update { expression: String, new: NewValues },
}

/// The unique values after an update, from the stored item's.
pub(crate) type NewValues =
    Box<dyn Fn(&[Option<AttributeValue>]) -> Vec<Option<AttributeValue>> + Send + Sync>;

/// Runs `write` as one transaction with its markers: reads the stored
/// item (strongly consistent), guards the write with its unique values,
/// and tries again when they changed in between. Returns the stored item
/// the write replaced or deleted.
pub(crate) async fn write<I: Item>(
    db: &Db,
    meter: &Meter<'_>,
    write: Write<'_>,
) -> Result<Option<Attributes>> {
    let owner = key_text(&write.key);
    let config = |e: aws_sdk_dynamodb::error::BuildError| Error::config(e.to_string());
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            // After a conflict or a change in between: as the handle's
            // retry policy paces its other retries.
            db.retry_policy()
                .wait(u32::try_from(attempt).unwrap_or(u32::MAX))
                .await;
        }
        let stored = db
            .client()
            .get_item()
            .table_name(write.table)
            .set_key(Some(write.key.clone()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| Error::service(Operation::GetItem, write.table, e))?
            .item
            .filter(|i| !i.is_empty());
        let old = unique_values::<I>(stored.as_ref());
        let new = match &write.action {
            Action::Put(item) => unique_values::<I>(Some(item)),
            Action::Delete => vec![None; I::UNIQUE.len()],
            Action::Update { new, .. } => new(&old),
        };
        let mut expr = write.expr.clone();
        let mut conditions = write.conditions.clone();
        conditions.push(guard::<I>(&mut expr, stored.as_ref()));
        let condition = conditions.finish();
        // The item's own action, guarded, asking for the old item when
        // its condition fails (the same for a put, an update and a delete).
        macro_rules! guarded {
            ($builder:expr) => {
                $builder
                    .table_name(write.table)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(config)?
            };
        }
        let first = TransactWriteItem::builder();
        let first = match &write.action {
            Action::Put(item) => first.put(guarded!(Put::builder().set_item(Some(item.clone())))),
            Action::Update { expression, .. } => first.update(guarded!(
                aws_sdk_dynamodb::types::Update::builder()
                    .set_key(Some(write.key.clone()))
                    .update_expression(expression)
            )),
            Action::Delete => {
                first.delete(guarded!(Delete::builder().set_key(Some(write.key.clone()))))
            }
        }
        .build();
        let (markers, marks) = marker_actions::<I>(write.table, &owner, &old, &new)?;
        let actions: Vec<TransactWriteItem> = std::iter::once(first).chain(markers).collect();
        let request = db
            .client()
            .transact_write_items()
            .set_transact_items(Some(actions))
            .set_return_consumed_capacity(meter.capacity())
            .send();
        let error = match meter.send(db, request).await {
            Ok(_) => return Ok(stored),
            Err(e) => e,
        };
        let reasons = match &error {
            SdkError::ServiceError(service) => match service.err() {
                TransactWriteItemsError::TransactionCanceledException(c) => {
                    c.cancellation_reasons().to_vec()
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        if reasons.is_empty() {
            return Err(Error::service(
                Operation::TransactWriteItems,
                write.table,
                error,
            ));
        }
        let failed = |r: &aws_sdk_dynamodb::types::CancellationReason| {
            r.code() == Some("ConditionalCheckFailed")
        };
        if let Some(reason) = reasons.first().filter(|r| failed(r)) {
            let now = reason.item().cloned().filter(|i| !i.is_empty());
            if unique_values::<I>(now.as_ref()) != old || now.is_some() != stored.is_some() {
                // Changed since it was read: read it again.
                continue;
            }
            let error = condition_failed(
                write.operation,
                write.table,
                I::TYPE_NAME,
                now,
                write.version,
            );
            return Err((write.refine)(error));
        }
        for (reason, mark) in reasons.iter().skip(1).zip(&marks) {
            if !failed(reason) {
                continue;
            }
            return Err(match mark {
                Some((attribute, value)) => Error::Unique {
                    item_type: I::TYPE_NAME,
                    table: write.table.to_owned(),
                    attribute,
                    value: value.clone(),
                },
                None => Error::InvalidRequest {
                    operation: write.operation,
                    reason: format!(
                        "a unique value of this `{}` is marked as another item's",
                        I::TYPE_NAME
                    ),
                },
            });
        }
        if !reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"))
        {
            return Err(Error::service(
                Operation::TransactWriteItems,
                write.table,
                error,
            ));
        }
    }
    Err(Error::InvalidRequest {
        operation: write.operation,
        reason: format!(
            "the stored `{}` kept changing while its unique values were written ({ATTEMPTS} tries)",
            I::TYPE_NAME
        ),
    })
}
