use std::fmt;

use aws_sdk_dynamodb::error::DisplayErrorContext;

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
        operation: &'static str,
        /// The item type written.
        item_type: &'static str,
        /// The table, with its namespace.
        table: String,
    },
    /// DynamoDB (or the connection to it) returned an error.
    #[error("{operation} on table `{table}` failed: {}", DisplayErrorContext(.source.as_ref()))]
    Service {
        /// The DynamoDB operation, e.g. `Query`.
        operation: &'static str,
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
    /// The runtime was configured with invalid settings.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl Error {
    pub(crate) fn service(
        operation: &'static str,
        table: &str,
        source: impl Into<aws_sdk_dynamodb::Error>,
    ) -> Self {
        Error::Service {
            operation,
            table: table.to_owned(),
            source: Box::new(source.into()),
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
}

impl fmt::Display for KeyErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyErrorKind::Empty => f.write_str("the value is empty"),
            KeyErrorKind::ContainsSeparator { separator } => {
                write!(f, "the value contains the key separator {separator:?}")
            }
        }
    }
}
