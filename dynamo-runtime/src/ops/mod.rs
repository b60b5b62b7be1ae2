//! Operation builders. Generated item types return these from `get`, `put`,
//! `delete` and their query functions.

mod cursor;
mod query;
mod single;

pub use cursor::Cursor;
pub use query::{Page, Query, SortKeyCondition};
pub use single::{DeleteItem, GetItem, PutItem};

use aws_sdk_dynamodb::error::SdkError;

use crate::Error;

/// Maps an SDK error to the runtime's typed error; a failed condition becomes
/// [`Error::ConditionFailed`] naming the item type.
fn sdk_error<E, R>(
    operation: &'static str,
    table: &str,
    item_type: &'static str,
    error: SdkError<E, R>,
) -> Error
where
    aws_sdk_dynamodb::Error: From<SdkError<E, R>>,
{
    match aws_sdk_dynamodb::Error::from(error) {
        aws_sdk_dynamodb::Error::ConditionalCheckFailedException(_) => Error::ConditionFailed {
            operation,
            item_type,
            table: table.to_owned(),
        },
        other => Error::service(operation, table, other),
    }
}
