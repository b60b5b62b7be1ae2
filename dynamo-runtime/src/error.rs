use std::fmt;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};

use crate::Operation;
use crate::{AttributeValue, Attributes, Item};

/// The result type of every fallible runtime operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the runtime, typed so callers can match on
/// the cases they handle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An item read from DynamoDB does not fit its generated type.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A key could not be rendered from the given field values.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A conditional write did not happen because its condition was false
    /// (for [`PutItem::if_not_exists`](crate::PutItem::if_not_exists): the item exists).
    #[error(
        "conditional {operation} of `{item_type}` in table `{table}` failed: the condition was not met"
    )]
    ConditionFailed {
        /// The operation, e.g. `PutItem`.
        operation: Operation,
        /// The item type written.
        item_type: &'static str,
        /// The table, with its namespace.
        table: String,
        /// The item as stored when the condition failed (`None`: no item);
        /// decode it with [`Error::old_item`].
        old: Option<Box<Attributes>>,
    },
    /// A put would change a read-only field (`read_only = true`) of the
    /// stored item: such a field is set when the item is created and
    /// never changed. Nothing was written.
    #[error(
        "{operation} of `{item_type}` in table `{table}` would change `{attribute}`, which is \
         read-only: it is set when the item is created and never changed"
    )]
    ReadOnly {
        /// The operation, e.g. `PutItem`.
        operation: Operation,
        /// The item type written.
        item_type: &'static str,
        /// The table, with its namespace.
        table: String,
        /// The read-only attribute the write would change.
        attribute: &'static str,
    },
    /// An encrypted field (`encrypted = true`) could not be sealed (no
    /// keyring installed); nothing was sent.
    #[error("cannot encrypt `{attribute}` of `{item_type}`: {error}")]
    Encryption {
        /// The item type written.
        item_type: &'static str,
        /// The encrypted attribute.
        attribute: &'static str,
        /// Why.
        error: crate::CryptError,
    },
    /// An item type's `ItemHooks::before_write` refused the write; nothing
    /// was sent.
    #[error("the before-write hook of `{item_type}` refused the write: {source}")]
    Hook {
        /// The item type.
        item_type: &'static str,
        /// The hook's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A write would give a unique field (`unique = true`) a value
    /// another item of the type has; nothing was written.
    #[error(
        "another `{item_type}` in table `{table}` already has {attribute} = {value:?}, which is unique"
    )]
    Unique {
        /// The item type.
        item_type: &'static str,
        /// The table, with its namespace.
        table: String,
        /// The unique attribute.
        attribute: &'static str,
        /// The value, as text.
        value: String,
    },
    /// DynamoDB throttled the request on every attempt the SDK made (the
    /// table's or index's capacity, or an account limit, was exceeded).
    #[error(
        "{operation} on table `{table}` was throttled on every attempt: {}",
        DisplayErrorContext(.source.as_ref())
    )]
    Throttled {
        /// The DynamoDB operation.
        operation: Operation,
        /// The table, with its namespace.
        table: String,
        /// The SDK's error.
        #[source]
        source: Box<aws_sdk_dynamodb::Error>,
    },
    /// The table (or index) does not exist, or is not ACTIVE yet.
    #[error(
        "{operation}: table `{table}` does not exist (apply the migrations, or check the namespace)"
    )]
    TableNotFound {
        /// The DynamoDB operation.
        operation: Operation,
        /// The table, with its namespace.
        table: String,
    },
    /// DynamoDB rejected the request as invalid (`ValidationException`):
    /// an item over 400 KB, a number out of range, an attribute that is
    /// not of its key type.
    #[error("DynamoDB rejected {operation} on table `{table}`: {message}")]
    Rejected {
        /// The DynamoDB operation.
        operation: Operation,
        /// The table, with its namespace.
        table: String,
        /// DynamoDB's message.
        message: String,
    },
    /// DynamoDB (or the connection to it) returned an error.
    #[error("{operation} on table `{table}` failed: {}", DisplayErrorContext(.source.as_ref()))]
    Service {
        /// The DynamoDB operation, e.g. `Query`.
        operation: Operation,
        /// The table, with its namespace.
        table: String,
        /// The SDK's error.
        #[source]
        source: Box<aws_sdk_dynamodb::Error>,
    },
    /// A pagination cursor was not one this runtime produced for this query.
    #[error("invalid cursor: {reason}")]
    InvalidCursor {
        /// What is wrong with it.
        reason: String,
    },
    /// A value breaks a `validate` rule of its field; nothing was written.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// A write of a versioned item expected another version than the stored
    /// one: someone else wrote the item since it was read.
    #[error(
        "stale {operation} of `{item_type}` in table `{table}`: it expected version {expected}, \
         but {}; read the item again and retry",
        match .found {
            Some(found) => format!("version {found} is stored"),
            None => "the item is gone".to_owned(),
        }
    )]
    Stale {
        /// The operation, e.g. `PutItem`.
        operation: Operation,
        /// The item type written.
        item_type: &'static str,
        /// The table, with its namespace.
        table: String,
        /// The version the write expected.
        expected: u64,
        /// The version stored when the write was refused (`None`: the item
        /// is gone, or the write created an item that exists already).
        found: Option<u64>,
    },
    /// An update that rewrites an index key from a changed field and the
    /// given values of the key's other fields found other values stored
    /// for those: the key would have put the item in the wrong index
    /// partition. Nothing was written; read the item again.
    #[error(
        "update of `{item_type}` in table `{table}` rewrites an index key from field `{field}`, \
         but the value given is not the stored one ({}); read the item again",
        match .stored {
            Some(v) => format!("stored: {v:?}"),
            None => "none is stored".to_owned(),
        }
    )]
    StaleKeyField {
        /// The item type updated.
        item_type: &'static str,
        /// The table, with its namespace.
        table: String,
        /// The attribute whose stored value differs.
        field: &'static str,
        /// The stored value.
        stored: Option<Box<AttributeValue>>,
    },
    /// An update relative to a field's stored value (add, append, remove,
    /// set if absent) found the item still holding the value under the
    /// field's previous attribute name: a `rename_attribute` step has not
    /// reached it. Nothing was written; retry once the step has run.
    #[error(
        "update of `{item_type}` in table `{table}` acts on `{attribute}`, but the stored item \
         still holds it as `{previous}` (a rename_attribute migration has not reached it): \
         nothing was written; retry after the migration"
    )]
    NotRewritten {
        /// The item type updated.
        item_type: &'static str,
        /// The table, with its namespace.
        table: String,
        /// The field's attribute.
        attribute: &'static str,
        /// Its previous name, which the item still has.
        previous: &'static str,
    },
    /// An update or conditional delete found no item with the key.
    #[error("{operation} of `{item_type}` in table `{table}` found no such item")]
    NotFound {
        /// The operation, e.g. `UpdateItem`.
        operation: Operation,
        /// The item type.
        item_type: &'static str,
        /// The table, with its namespace.
        table: String,
    },
    /// A batch ended with requests that were not processed: DynamoDB kept
    /// returning them as unprocessed for every attempt the retry policy
    /// allows, or a request of their chunk failed (`cause`). Everything
    /// else in the batch was processed.
    #[error(
        "{operation} on table `{table}` left {} request(s) unprocessed{}",
        .unprocessed.len(),
        match .cause {
            Some(cause) => format!(": {cause}"),
            None => format!(" after {attempts} attempts"),
        }
    )]
    Unprocessed {
        /// `BatchWriteItem` or `BatchGetItem`.
        operation: Operation,
        /// The table, with its namespace.
        table: String,
        /// The attempts the retry policy allows per chunk.
        attempts: u32,
        /// Exactly the keys (gets, deletes) and items (puts) not processed.
        unprocessed: Vec<Attributes>,
        /// The first error that stopped a chunk, when one did.
        #[source]
        cause: Option<Box<Error>>,
    },
    /// A batch or transaction was built with invalid contents (two actions
    /// on one key, too many actions); nothing was sent.
    #[error("invalid {operation}: {reason}")]
    InvalidRequest {
        /// The operation, e.g. `TransactWriteItems`.
        operation: Operation,
        /// What is wrong.
        reason: String,
    },
    /// A transaction was cancelled; each reason belongs to the action at the
    /// same position.
    #[error("transaction cancelled: {}", reasons_text(.reasons))]
    TransactionCanceled {
        /// One entry per action, in order: `None` when that action was fine.
        reasons: Vec<Option<CancellationReason>>,
    },
    /// A stream record that is not what DynamoDB Streams sends: an
    /// unknown event name, or an attribute value of a type this SDK does
    /// not know.
    #[error("invalid stream record {sequence_number}: {reason}")]
    InvalidStreamRecord {
        /// The record's sequence number (empty when it has none).
        sequence_number: String,
        /// What is wrong with it.
        reason: String,
    },
    /// DynamoDB Streams returned an error (or no shard iterator) while a
    /// `stream::StreamReader` (feature `streams`) read a stream.
    #[error("{operation} on stream `{stream}` failed: {message}")]
    Stream {
        /// The DynamoDB Streams operation, e.g. `GetRecords`.
        operation: Operation,
        /// The stream's ARN.
        stream: String,
        /// What went wrong (the SDK error's text, with its causes).
        message: String,
        /// The SDK's error (an `aws_sdk_dynamodbstreams::Error`), when there
        /// is one; `TrimmedDataAccessException` means records between the
        /// checkpoint and the stream's oldest record are gone.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The runtime was configured with invalid settings.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Migrations could not be applied.
    #[error(transparent)]
    Migrate(#[from] crate::migrate::MigrateError),
}

impl Error {
    /// The typed error of an SDK failure that is not a failed condition:
    /// throttling, a missing table and a rejected request get their own
    /// variants, everything else is [`Error::Service`].
    pub(crate) fn service(
        operation: Operation,
        table: &str,
        source: impl Into<aws_sdk_dynamodb::Error>,
    ) -> Self {
        use aws_sdk_dynamodb::Error as E;
        let source = source.into();
        let table = table.to_owned();
        match &source {
            E::ProvisionedThroughputExceededException(_)
            | E::RequestLimitExceeded(_)
            | E::ThrottlingException(_) => Error::Throttled {
                operation,
                table,
                source: Box::new(source),
            },
            E::ResourceNotFoundException(_) => Error::TableNotFound { operation, table },
            other if other.code() == Some("ValidationException") => Error::Rejected {
                operation,
                table,
                message: other.message().unwrap_or("invalid request").to_owned(),
            },
            other if other.code() == Some("ThrottlingException") => Error::Throttled {
                operation,
                table,
                source: Box::new(source),
            },
            _ => Error::Service {
                operation,
                table,
                source: Box::new(source),
            },
        }
    }

    /// The stored item a failed conditional write found, decoded as `I`:
    /// `None` when the error is not a [`Error::ConditionFailed`] or no item
    /// was stored. The old item is returned by every put, update and delete
    /// of the runtime (`ReturnValuesOnConditionCheckFailure`).
    pub fn old_item<I: Item>(&self) -> Option<Result<I>> {
        match self {
            Error::ConditionFailed { old: Some(old), .. } => Some(I::decode((**old).clone())),
            _ => None,
        }
    }

    /// Whether retrying the same request later may succeed: throttling, a
    /// stale write (after reading the item again), a transaction cancelled
    /// only by conflicts, or unprocessed batch requests.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Throttled { .. } | Error::Stale { .. } | Error::Unprocessed { .. } => true,
            Error::TransactionCanceled { reasons } => reasons
                .iter()
                .flatten()
                .all(|r| r.code == "TransactionConflict" || r.code == "ThrottlingError"),
            _ => false,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config(message.into())
    }
}

/// An item read from DynamoDB that does not fit its generated type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode `{item_type}`: attribute `{attribute}` {kind}")]
pub struct DecodeError {
    /// The item type being decoded.
    pub item_type: &'static str,
    /// The attribute that did not fit.
    pub attribute: String,
    /// What was wrong with it.
    pub kind: DecodeErrorKind,
}

/// What was wrong with an attribute in a [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// A required attribute is absent.
    Missing,
    /// The attribute holds another DynamoDB type than the field's.
    WrongType {
        /// The DynamoDB type the field is stored as, e.g. `S`.
        expected: &'static str,
        /// The DynamoDB type found, e.g. `N`.
        found: &'static str,
    },
    /// A number attribute does not fit the field's Rust type.
    InvalidNumber {
        /// The stored number text.
        value: String,
        /// The Rust type of the field, e.g. `u32`.
        rust_type: &'static str,
    },
    /// The type attribute names another item type.
    WrongItemType {
        /// The stored type name.
        found: String,
    },
    /// The attribute's text is not a value of the field's type (a
    /// datetime, date, uuid or JSON number that does not parse).
    InvalidValue {
        /// The stored text.
        value: String,
        /// The Rust type expected, e.g. `Timestamp`.
        rust_type: &'static str,
    },
    /// An enum attribute holds a value the schema does not list.
    UnknownVariant {
        /// The stored text.
        value: String,
        /// The values the schema lists.
        expected: Vec<&'static str>,
    },
    /// The attribute was not read: it is not in the projection (of a
    /// projected get or of an index).
    NotProjected,
    /// An encrypted attribute (`encrypted = true`) did not decrypt.
    Encryption(crate::CryptError),
    /// A key attribute does not hold what the item's fields render: the
    /// item was stored under another key than its fields say (another
    /// writer's bug); writing it back would create a second item.
    KeyMismatch {
        /// The stored key text (or number).
        stored: String,
        /// What the item's fields render.
        rendered: String,
    },
    /// A key attribute of a row of the item type does not fit its
    /// template (another writer put the separator in a value).
    UnparsableKey {
        /// The stored key text.
        value: String,
        /// The template it should fit.
        template: &'static str,
    },
    /// The type attribute of an image names none of the table's item
    /// types (or is missing), decoding a stream record as the table's
    /// `AnyItem`.
    UnknownItemType {
        /// The stored type name, `None` when the attribute is missing.
        found: Option<String>,
        /// The item types of the table.
        expected: Vec<&'static str>,
    },
    /// A stream record without images whose key attributes are no key of
    /// the item type (or of any item type of the table): the key
    /// templates do not fit them.
    UnknownKey {
        /// The partition key's text.
        value: String,
    },
    /// A stream record without images whose key attributes fit the key
    /// templates of several item types, which only the type attribute of
    /// an image could tell apart.
    AmbiguousKey {
        /// The partition key's text.
        value: String,
        /// The item types whose keys it fits.
        item_types: Vec<&'static str>,
    },
    /// A part of a list, map or nested type did not fit.
    Nested {
        /// Where inside the attribute, e.g. `[2]`, `.width`.
        path: String,
        /// What was wrong there.
        kind: Box<DecodeErrorKind>,
    },
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::Missing => f.write_str("is missing"),
            DecodeErrorKind::WrongType { expected, found } => {
                write!(f, "has type {found}, expected {expected}")
            }
            DecodeErrorKind::InvalidNumber { value, rust_type } => {
                write!(f, "holds {value:?}, which is not a valid {rust_type}")
            }
            DecodeErrorKind::WrongItemType { found } => {
                write!(f, "names item type {found:?}")
            }
            DecodeErrorKind::InvalidValue { value, rust_type } => {
                write!(f, "holds {value:?}, which is not a valid {rust_type}")
            }
            DecodeErrorKind::UnknownVariant { value, expected } => {
                write!(f, "holds {value:?}, which is not one of {expected:?}")
            }
            DecodeErrorKind::NotProjected => f.write_str("was not in the projection"),
            DecodeErrorKind::Encryption(error) => write!(f, "is encrypted: {error}"),
            DecodeErrorKind::KeyMismatch { stored, rendered } => write!(
                f,
                "holds {stored:?}, but the item's fields render {rendered:?} (it is stored under another key than its fields say)"
            ),
            DecodeErrorKind::UnparsableKey { value, template } => {
                write!(
                    f,
                    "holds {value:?}, which does not fit its template `{template}`"
                )
            }
            DecodeErrorKind::UnknownItemType {
                found: Some(found),
                expected,
            } => write!(
                f,
                "names item type {found:?}, which is not one of {expected:?}"
            ),
            DecodeErrorKind::UnknownItemType {
                found: None,
                expected,
            } => write!(
                f,
                "is missing, so the item is of none of the item types {expected:?}"
            ),
            DecodeErrorKind::UnknownKey { value } => write!(
                f,
                "holds {value:?}, which fits no key template of the type (a record of another item type?)"
            ),
            DecodeErrorKind::AmbiguousKey { value, item_types } => write!(
                f,
                "holds {value:?}, which fits the keys of item types {item_types:?}; the record has no image to tell them apart"
            ),
            DecodeErrorKind::Nested { path, kind } => write!(f, "at `{path}` {kind}"),
        }
    }
}

/// The error of a nested type's field as the kind of the enclosing
/// attribute (`at `.width` is missing`), so that `?` in a nested type's
/// decoder turns one into the other.
impl From<DecodeError> for DecodeErrorKind {
    fn from(error: DecodeError) -> Self {
        DecodeErrorKind::Nested {
            path: format!(".{}", error.attribute),
            kind: Box::new(error.kind),
        }
    }
}

/// A key that cannot be rendered from the given field values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot build key attribute `{attribute}` of `{item_type}` from field `{field}`: {kind}")]
pub struct KeyError {
    /// The item type whose key is rendered.
    pub item_type: &'static str,
    /// The key attribute being rendered, e.g. `pk`.
    pub attribute: &'static str,
    /// The field whose value is invalid.
    pub field: &'static str,
    /// What is wrong with the value.
    pub kind: KeyErrorKind,
}

/// What is wrong with a field value in a [`KeyError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyErrorKind {
    /// Key values cannot be empty strings.
    Empty,
    /// The value contains the key separator in a template with several
    /// fields, where it would let two different items share one key.
    ContainsSeparator {
        /// The table's key separator.
        separator: &'static str,
    },
    /// The value's text would not sort in value order among the keys (a
    /// date or datetime before year 0).
    Unsortable,
}

impl fmt::Display for KeyErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyErrorKind::Empty => f.write_str("the value is empty"),
            KeyErrorKind::ContainsSeparator { separator } => {
                write!(f, "the value contains the key separator {separator:?}")
            }
            KeyErrorKind::Unsortable => {
                f.write_str("the value is before year 0, where keys do not sort in time order")
            }
        }
    }
}

/// Why one action of a cancelled transaction failed.
#[derive(Debug, Clone, PartialEq)]
pub struct CancellationReason {
    /// DynamoDB's code, e.g. `ConditionalCheckFailed`, `TransactionConflict`.
    pub code: String,
    /// DynamoDB's message.
    pub message: Option<String>,
    /// The item type of the action.
    pub item_type: &'static str,
    /// The item as stored, for a failed condition of a put, update, delete
    /// or condition check.
    pub old: Option<Attributes>,
    /// A versioned write whose expected version was not the stored one.
    pub stale: bool,
}

fn reasons_text(reasons: &[Option<CancellationReason>]) -> String {
    reasons
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            r.as_ref()
                .map(|r| format!("action {i} (`{}`): {}", r.item_type, r.code))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A field value that breaks its schema's `validate` rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid `{item_type}`: field `{field}` {rule}")]
pub struct ValidationError {
    /// The item (or nested) type.
    pub item_type: &'static str,
    /// The field, as named in the schema.
    pub field: &'static str,
    /// The rule it breaks.
    pub rule: ValidationRule,
}

/// The `validate` rule a value breaks.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ValidationRule {
    /// Below `min`.
    Min(f64),
    /// Above `max`.
    Max(f64),
    /// Shorter than `min_len` (characters for text, elements otherwise).
    MinLen(u64),
    /// Longer than `max_len`.
    MaxLen(u64),
    /// Text that does not match `pattern`.
    Pattern(&'static str),
}

impl fmt::Display for ValidationRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidationRule::Min(min) => write!(f, "is less than the minimum {min}"),
            ValidationRule::Max(max) => write!(f, "is greater than the maximum {max}"),
            ValidationRule::MinLen(n) => write!(f, "is shorter than {n}"),
            ValidationRule::MaxLen(n) => write!(f, "is longer than {n}"),
            ValidationRule::Pattern(p) => write!(f, "does not match the pattern `{p}`"),
        }
    }
}
