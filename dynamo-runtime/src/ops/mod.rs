//! Operation builders. Generated item types return these from `get`, `put`,
//! `delete`, `update`, their query functions and their batch functions.

mod batch;
mod budget;
mod cursor;
mod query;
mod scan;
mod single;
mod sort;
mod statement;
mod transact;
mod unique;
mod update;

pub use batch::{BatchGet, BatchWrite};
pub use budget::ReadBudget;
pub use cursor::Cursor;
pub use query::{Page, Query, SortKeyCondition, query_items, query_rows};
pub use scan::{ParallelScan, Scan};
pub use single::{DeleteItem, GetItem, GetProjected, Projected, PutItem, ReturningOld};
pub use sort::{Compare, Exact, Ranged, Ranges, SortKeyed, SortOn};
pub use statement::Statement;
pub use transact::{Slot, TransactGet, TransactRows, TransactWrite};
pub use update::{Update, UpdateActions};

use aws_sdk_dynamodb::{error::SdkError, types::AttributeValue};

use crate::Operation;
use crate::{Attributes, Error, Item, expr::Expr};

/// What a write asks back when its condition fails: the stored item
/// (`ALL_OLD`), by which the typed error tells a missing item, a stale
/// version and another condition apart, and which it carries to the
/// caller; nothing when the write has no condition, so cannot fail one.
fn old_on_failure(
    condition: Option<&String>,
) -> Option<aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure> {
    condition.map(|_| aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld)
}

/// What a write asks back when it succeeds: the old item only when the
/// caller receives it (`return_old()`); `NONE` is DynamoDB's default.
fn returned(
    returns: aws_sdk_dynamodb::types::ReturnValue,
) -> Option<aws_sdk_dynamodb::types::ReturnValue> {
    (returns != aws_sdk_dynamodb::types::ReturnValue::None).then_some(returns)
}

/// Maps an SDK error to the runtime's typed error; a failed condition becomes
/// [`Error::ConditionFailed`] naming the item type.
fn sdk_error<E, R>(
    operation: Operation,
    table: &str,
    item_type: &'static str,
    error: SdkError<E, R>,
) -> Error
where
    aws_sdk_dynamodb::Error: From<SdkError<E, R>>,
{
    write_error(operation, table, item_type, None, error)
}

/// Maps the error of a conditional write (put, update, delete) of a
/// `item_type` whose expected version is `version`.
fn write_error<E, R>(
    operation: Operation,
    table: &str,
    item_type: &'static str,
    version: Option<(&'static str, u64)>,
    error: SdkError<E, R>,
) -> Error
where
    aws_sdk_dynamodb::Error: From<SdkError<E, R>>,
{
    match aws_sdk_dynamodb::Error::from(error) {
        aws_sdk_dynamodb::Error::ConditionalCheckFailedException(e) => {
            condition_failed(operation, table, item_type, e.item, version)
        }
        other => Error::service(operation, table, other),
    }
}

/// [`Error::ReadOnly`] for a failed put whose stored item (`old`) has a
/// read-only attribute other than `new`'s; otherwise `error` as it is.
fn read_only_error<I: Item>(error: Error, new: &Attributes) -> Error {
    let Error::ConditionFailed {
        operation,
        table,
        old: Some(old),
        ..
    } = &error
    else {
        return error;
    };
    match I::READ_ONLY.iter().find(|a| old.get(**a) != new.get(**a)) {
        Some(attribute) => Error::ReadOnly {
            operation: *operation,
            item_type: I::TYPE_NAME,
            table: table.clone(),
            attribute,
        },
        None => error,
    }
}

/// The typed error for a failed condition, told apart by the old item
/// (requested with `ReturnValuesOnConditionCheckFailure`): no item is
/// [`Error::NotFound`] for updates, another version is [`Error::Stale`].
fn condition_failed(
    operation: Operation,
    table: &str,
    item_type: &'static str,
    old: Option<Attributes>,
    version: Option<(&'static str, u64)>,
) -> Error {
    let table = table.to_owned();
    if let Some((attribute, expected)) = version
        && let Some(found) = stale(old.as_ref(), attribute, expected)
    {
        return Error::Stale {
            operation,
            item_type,
            table,
            expected,
            found,
        };
    }
    if operation == Operation::UpdateItem && old.is_none() {
        return Error::NotFound {
            operation,
            item_type,
            table,
        };
    }
    Error::ConditionFailed {
        operation,
        item_type,
        table,
        old: old.map(Box::new),
    }
}

/// `Some(stored version)` when a write expecting `expected` failed because
/// of the version: the stored item has another one, or a new item
/// (`expected` 0) met a stored one.
fn stale(old: Option<&Attributes>, attribute: &str, expected: u64) -> Option<Option<u64>> {
    let stored = old
        .and_then(|o| o.get(attribute))
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<u64>().ok());
    let fine = stored == Some(expected) || (expected == 0 && old.is_none());
    (!fine).then_some(stored)
}

/// The conditions every write of an item type can carry, joined by `AND`.
#[derive(Debug, Default, Clone)]
struct Conditions {
    parts: Vec<String>,
}

impl Conditions {
    fn push(&mut self, part: String) {
        self.parts.push(part);
    }

    /// `attribute_exists(pk) AND type = I`: the item exists and is an `I`.
    fn exists<I: Item>(&mut self, expr: &mut Expr) {
        let pk = expr.name(&I::TABLE.partition_key.name);
        if !I::TABLE.has_type_attribute() {
            self.push(format!("attribute_exists({pk})"));
            return;
        }
        let ty = expr.name(&I::TABLE.type_attribute);
        let name = expr.value(AttributeValue::S(I::TYPE_NAME.to_owned()));
        self.push(format!("attribute_exists({pk}) AND {ty} = {name}"));
    }

    /// The version check of a write of an item read at `version`: a new
    /// item (version 0) must not exist yet.
    fn version<I: Item>(&mut self, expr: &mut Expr, version: u64) {
        let Some(attribute) = I::VERSION.map(|v| v.attribute) else {
            return;
        };
        if version == 0 {
            let pk = expr.name(&I::TABLE.partition_key.name);
            self.push(format!("attribute_not_exists({pk})"));
        } else {
            let name = expr.name(attribute);
            let value = expr.value(AttributeValue::N(version.to_string()));
            self.push(format!("{name} = {value}"));
        }
    }

    /// The guard of a put of `item` (encoded) whose type has read-only
    /// fields: a new item, or one whose read-only attributes are as the
    /// put writes them (absent ones absent).
    fn read_only<I: Item>(&mut self, expr: &mut Expr, item: &Attributes) {
        if I::READ_ONLY.is_empty() {
            return;
        }
        let pk = expr.name(&I::TABLE.partition_key.name);
        let same: Vec<String> = I::READ_ONLY
            .iter()
            .map(|attribute| {
                let name = expr.name(attribute);
                match item.get(*attribute) {
                    Some(value) => format!("{name} = {}", expr.value(value.clone())),
                    None => format!("attribute_not_exists({name})"),
                }
            })
            .collect();
        // `finish` parenthesises each part; DynamoDB refuses doubled ones.
        let same = match same.as_slice() {
            [one] => one.clone(),
            _ => format!("({})", same.join(" AND ")),
        };
        self.push(format!("attribute_not_exists({pk}) OR {same}"));
    }

    fn finish(self) -> Option<String> {
        match self.parts.len() {
            0 => None,
            1 => self.parts.into_iter().next(),
            _ => Some(
                self.parts
                    .iter()
                    .map(|p| format!("({p})"))
                    .collect::<Vec<_>>()
                    .join(" AND "),
            ),
        }
    }
}
