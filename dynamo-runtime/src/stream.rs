//! DynamoDB Streams, typed: a table's change records decoded into its item
//! types.
//!
//! A [`StreamRecord`] is one change in the SDK's attribute values, whatever
//! it came from: a Lambda event (`TryFrom` an
//! `aws_lambda_events::event::dynamodb::EventRecord`, feature `lambda`),
//! `GetRecords` (`TryFrom` an `aws_sdk_dynamodbstreams::types::Record`,
//! feature `streams`, or the `StreamReader` of that feature, which reads a
//! whole stream and resumes from a `Checkpoint`), or built by hand.
//! [`StreamRecord::decode`] turns it into a [`Change`] of one item type or
//! of a table's `AnyItem` (generated for each table with a `stream`), with
//! the same typed [`DecodeError`]s as reads.
//!
//! ```no_run
//! # use dynamo_runtime::{StreamItem, StreamRecord, Result};
//! # fn run<AnyItem: StreamItem + std::fmt::Debug>(records: Vec<StreamRecord>) -> Result<()> {
//! for record in records {
//!     let change = record.decode::<AnyItem>()?;
//!     println!("{:?} {:?}: {:?} -> {:?}", change.kind, change.key, change.old, change.new);
//! }
//! # Ok(()) }
//! ```

use std::fmt;

use crate::{
    AttributeValue, Attributes, DecodeError, DecodeErrorKind, Error, Item, Key, Result, TableDef,
    Timestamp,
};

#[cfg(feature = "streams")]
mod reader;
#[cfg(feature = "streams")]
pub use reader::{Checkpoint, StartAt, StreamReader};

/// What happened to the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// A new item was written (`INSERT`).
    Insert,
    /// An existing item was changed (`MODIFY`).
    Modify,
    /// The item was deleted (`REMOVE`), by a delete or by TTL.
    Remove,
}

impl ChangeKind {
    /// The kind of a stream record's event name (`INSERT`, `MODIFY`,
    /// `REMOVE`).
    pub fn from_event_name(name: &str) -> Option<ChangeKind> {
        match name {
            "INSERT" => Some(ChangeKind::Insert),
            "MODIFY" => Some(ChangeKind::Modify),
            "REMOVE" => Some(ChangeKind::Remove),
            _ => None,
        }
    }

    /// The stream's name for it: `INSERT`, `MODIFY` or `REMOVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Insert => "INSERT",
            ChangeKind::Modify => "MODIFY",
            ChangeKind::Remove => "REMOVE",
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One record of a table's stream: the change of one item, with the SDK's
/// attribute values. Which images it has depends on the stream's view
/// (`keys_only` has none; `new_image` has no old image, and so on).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    /// What happened.
    pub kind: ChangeKind,
    /// The key attributes of the item.
    pub keys: Attributes,
    /// The item after the change (not on a `Remove`).
    pub new_image: Option<Attributes>,
    /// The item before the change (not on an `Insert`).
    pub old_image: Option<Attributes>,
    /// The record's sequence number: its place in its shard.
    pub sequence_number: String,
    /// When the change was made, to the second (or better).
    pub created_at: Option<Timestamp>,
    /// Whether DynamoDB itself deleted the item because its TTL passed.
    pub by_ttl: bool,
    /// The stream shard the record was read from, when known (records of a
    /// `StreamReader`; a Lambda event does
    /// not say).
    pub shard_id: Option<String>,
}

/// A stream record decoded into typed items (see [`StreamRecord::decode`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Change<T: StreamItem> {
    /// What happened.
    pub kind: ChangeKind,
    /// The key of the item: from an image when the record has one, read
    /// back out of the key attributes by the item types' key templates
    /// otherwise.
    pub key: T::Key,
    /// The item before the change, when the record has an old image.
    pub old: Option<T>,
    /// The item after the change, when the record has a new image.
    pub new: Option<T>,
    /// The record's sequence number.
    pub sequence_number: String,
    /// When the change was made.
    pub created_at: Option<Timestamp>,
    /// Whether DynamoDB deleted the item because its TTL passed.
    pub by_ttl: bool,
}

/// What a stream record decodes into: an item type of a table with a
/// stream, or that table's generated `AnyItem` (every item type of the
/// table, told apart by the type attribute).
pub trait StreamItem: Sized {
    /// The key type: the item type's key struct, or the table's `AnyKey`.
    type Key: fmt::Debug + Clone + PartialEq + Send + Sync + 'static;
    /// The name errors give, e.g. `Order` or `shop::AnyItem`.
    const NAME: &'static str;
    /// The table.
    const TABLE: &'static TableDef;

    /// Decodes an image (a whole item).
    fn decode_image(image: Attributes) -> Result<Self>;

    /// The key of a decoded item.
    fn key_of(&self) -> Self::Key;

    /// Reads the key out of a record's key attributes; `None` when they
    /// are no key of this type.
    fn decode_keys(keys: &Attributes) -> Result<Option<Self::Key>>;
}

/// The key of an item type in a table with a stream, read back out of a
/// stream record's key attributes. Generated.
pub trait StreamKey: Key + PartialEq {
    /// The key, `None` when the attributes are another item type's key.
    fn decode_keys(keys: &Attributes) -> Result<Option<Self>>;
}

impl<I: Item> StreamItem for I
where
    I::Key: StreamKey,
{
    type Key = I::Key;
    const NAME: &'static str = I::TYPE_NAME;
    const TABLE: &'static TableDef = I::TABLE;

    fn decode_image(image: Attributes) -> Result<Self> {
        I::decode(image)
    }

    fn key_of(&self) -> I::Key {
        self.key()
    }

    fn decode_keys(keys: &Attributes) -> Result<Option<I::Key>> {
        <I::Key as StreamKey>::decode_keys(keys)
    }
}

impl StreamRecord {
    /// Decodes the record's images and key as `T`: an item type, or a
    /// table's `AnyItem`. An image that does not decode is the same
    /// [`Error::Decode`] a read gives; a record of another item type is
    /// an error too (a [`DecodeErrorKind::WrongItemType`] for an image,
    /// [`DecodeErrorKind::UnknownKey`] for keys alone), so decode a table
    /// with several item types as its `AnyItem`.
    pub fn decode<T: StreamItem>(self) -> Result<Change<T>> {
        let new = self.new_image.map(T::decode_image).transpose()?;
        let old = self.old_image.map(T::decode_image).transpose()?;
        let key = match new.as_ref().or(old.as_ref()) {
            Some(item) => item.key_of(),
            None => T::decode_keys(&self.keys)?.ok_or_else(|| unknown_key::<T>(&self.keys))?,
        };
        Ok(Change {
            kind: self.kind,
            key,
            old,
            new,
            sequence_number: self.sequence_number,
            created_at: self.created_at,
            by_ttl: self.by_ttl,
        })
    }
}

/// The error of key attributes that are no key of `T`.
fn unknown_key<T: StreamItem>(keys: &Attributes) -> Error {
    let attribute = &T::TABLE.partition_key.name;
    DecodeError {
        item_type: T::NAME,
        attribute: attribute.to_string(),
        kind: DecodeErrorKind::UnknownKey {
            value: keys.get(&**attribute).map(key_text).unwrap_or_default(),
        },
    }
    .into()
}

/// A key attribute's value as text, for errors.
fn key_text(value: &AttributeValue) -> String {
    match value {
        AttributeValue::S(s) | AttributeValue::N(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

/// The one key among the item types' readings of a record's keys (`None`
/// where a type's templates do not fit); several is an error, since a
/// record without an image cannot tell those item types apart.
#[doc(hidden)]
pub fn one_key<K, const N: usize>(
    name: &'static str,
    table: &TableDef,
    keys: &Attributes,
    readings: [(&'static str, Option<K>); N],
) -> Result<Option<K>> {
    let mut fits = readings.into_iter().filter(|(_, key)| key.is_some());
    let Some((first, key)) = fits.next() else {
        return Ok(None);
    };
    let others: Vec<&'static str> = fits.map(|(name, _)| name).collect();
    if others.is_empty() {
        return Ok(key);
    }
    let attribute = &table.partition_key.name;
    Err(DecodeError {
        item_type: name,
        attribute: attribute.to_string(),
        kind: DecodeErrorKind::AmbiguousKey {
            value: keys.get(&**attribute).map(key_text).unwrap_or_default(),
            item_types: std::iter::once(first).chain(others).collect(),
        },
    }
    .into())
}

/// The error of an image whose type attribute names no item type of the
/// table (or is missing).
#[doc(hidden)]
pub fn unknown_item_type(
    name: &'static str,
    table: &TableDef,
    found: Option<String>,
    expected: &[&'static str],
) -> Error {
    DecodeError {
        item_type: name,
        attribute: table.type_attribute.to_string(),
        kind: DecodeErrorKind::UnknownItemType {
            found,
            expected: expected.to_vec(),
        },
    }
    .into()
}

/// The error of a record that is not what DynamoDB Streams sends.
#[cfg(any(feature = "streams", feature = "lambda"))]
fn invalid(sequence_number: &str, reason: impl Into<String>) -> Error {
    Error::InvalidStreamRecord {
        sequence_number: sequence_number.to_owned(),
        reason: reason.into(),
    }
}

/// Whether a record's user identity is DynamoDB's TTL process.
#[cfg(any(feature = "streams", feature = "lambda"))]
fn is_ttl(kind: Option<&str>, principal: Option<&str>) -> bool {
    kind == Some("Service") && principal == Some("dynamodb.amazonaws.com")
}

/// Images are absent (`None`) or empty when the view leaves them out.
#[cfg(any(feature = "streams", feature = "lambda"))]
fn image(attributes: Attributes) -> Option<Attributes> {
    (!attributes.is_empty()).then_some(attributes)
}

#[cfg(feature = "lambda")]
mod lambda {
    use aws_lambda_events::event::dynamodb::EventRecord;
    use serde_dynamo::AttributeValue as Lambda;

    use super::*;

    /// A record of the Lambda runtime's DynamoDB event, as AWS sends it to
    /// a function a stream triggers.
    impl TryFrom<EventRecord> for StreamRecord {
        type Error = Error;

        fn try_from(record: EventRecord) -> Result<StreamRecord> {
            let change = record.change;
            let sequence_number = change.sequence_number.unwrap_or_default();
            let kind = ChangeKind::from_event_name(&record.event_name).ok_or_else(|| {
                invalid(
                    &sequence_number,
                    format!("unknown event name {:?}", record.event_name),
                )
            })?;
            let by_ttl = record
                .user_identity
                .as_ref()
                .is_some_and(|u| is_ttl(Some(u.type_.as_str()), Some(u.principal_id.as_str())));
            let millis = change.approximate_creation_date_time.timestamp_millis();
            Ok(StreamRecord {
                kind,
                keys: attributes(change.keys.into_inner()),
                new_image: image(attributes(change.new_image.into_inner())),
                old_image: image(attributes(change.old_image.into_inner())),
                created_at: (millis != 0)
                    .then(|| Timestamp::from_millisecond(millis).ok())
                    .flatten(),
                sequence_number,
                by_ttl,
                shard_id: None,
            })
        }
    }

    fn attributes(item: std::collections::HashMap<String, Lambda>) -> Attributes {
        item.into_iter().map(|(k, v)| (k, value(v))).collect()
    }

    fn value(v: Lambda) -> AttributeValue {
        match v {
            Lambda::N(n) => AttributeValue::N(n),
            Lambda::S(s) => AttributeValue::S(s),
            Lambda::Bool(b) => AttributeValue::Bool(b),
            Lambda::B(b) => AttributeValue::B(b.into()),
            Lambda::Null(b) => AttributeValue::Null(b),
            Lambda::M(m) => AttributeValue::M(attributes(m)),
            Lambda::L(l) => AttributeValue::L(l.into_iter().map(value).collect()),
            Lambda::Ss(s) => AttributeValue::Ss(s),
            Lambda::Ns(n) => AttributeValue::Ns(n),
            Lambda::Bs(b) => AttributeValue::Bs(b.into_iter().map(Into::into).collect()),
        }
    }
}

#[cfg(feature = "streams")]
mod sdk {
    use aws_sdk_dynamodbstreams::types::{AttributeValue as Streams, OperationType, Record};

    use super::*;

    /// A record of `GetRecords` (aws-sdk-dynamodbstreams).
    impl TryFrom<Record> for StreamRecord {
        type Error = Error;

        fn try_from(record: Record) -> Result<StreamRecord> {
            let Some(change) = record.dynamodb else {
                return Err(invalid("", "a record without its `dynamodb` part"));
            };
            let sequence_number = change.sequence_number.unwrap_or_default();
            let kind = match record.event_name {
                Some(OperationType::Insert) => ChangeKind::Insert,
                Some(OperationType::Modify) => ChangeKind::Modify,
                Some(OperationType::Remove) => ChangeKind::Remove,
                other => {
                    return Err(invalid(
                        &sequence_number,
                        format!("unknown event name {other:?}"),
                    ));
                }
            };
            let by_ttl = record
                .user_identity
                .as_ref()
                .is_some_and(|u| is_ttl(u.r#type(), u.principal_id()));
            let convert = |item: Option<std::collections::HashMap<String, Streams>>| {
                item.map(|item| attributes(item, &sequence_number))
                    .transpose()
            };
            Ok(StreamRecord {
                kind,
                keys: convert(change.keys)?.unwrap_or_default(),
                new_image: convert(change.new_image)?.and_then(image),
                old_image: convert(change.old_image)?.and_then(image),
                created_at: change
                    .approximate_creation_date_time
                    .and_then(|t| Timestamp::new(t.secs(), t.subsec_nanos() as i32).ok()),
                sequence_number,
                by_ttl,
                shard_id: None,
            })
        }
    }

    fn attributes(
        item: std::collections::HashMap<String, Streams>,
        sequence_number: &str,
    ) -> Result<Attributes> {
        item.into_iter()
            .map(|(k, v)| Ok((k, value(v, sequence_number)?)))
            .collect()
    }

    fn value(v: Streams, sequence_number: &str) -> Result<AttributeValue> {
        Ok(match v {
            Streams::N(n) => AttributeValue::N(n),
            Streams::S(s) => AttributeValue::S(s),
            Streams::Bool(b) => AttributeValue::Bool(b),
            Streams::B(b) => AttributeValue::B(b.into_inner().into()),
            Streams::Null(b) => AttributeValue::Null(b),
            Streams::M(m) => AttributeValue::M(attributes(m, sequence_number)?),
            Streams::L(l) => AttributeValue::L(
                l.into_iter()
                    .map(|v| value(v, sequence_number))
                    .collect::<Result<_>>()?,
            ),
            Streams::Ss(s) => AttributeValue::Ss(s),
            Streams::Ns(n) => AttributeValue::Ns(n),
            Streams::Bs(b) => {
                AttributeValue::Bs(b.into_iter().map(|b| b.into_inner().into()).collect())
            }
            other => {
                return Err(invalid(
                    sequence_number,
                    format!("an attribute value of a type this SDK does not know: {other:?}"),
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeyAttributeDef, KeyType, text};

    static TABLE: TableDef = TableDef {
        name: text("t"),
        partition_key: KeyAttributeDef {
            name: text("pk"),
            ty: KeyType::S,
        },
        sort_key: None,
        type_attribute: text("_type"),
        key_separator: text("#"),
        billing: crate::Billing::OnDemand,
        ttl: None,
        stream: None,
        indexes: std::borrow::Cow::Borrowed(&[]),
        point_in_time_recovery: false,
        deletion_protection: false,
    };

    fn keys() -> Attributes {
        Attributes::from([("pk".to_owned(), AttributeValue::S("X#1".into()))])
    }

    #[test]
    fn one_key_is_the_only_fit_and_several_are_an_error() {
        assert_eq!(
            one_key("t::AnyItem", &TABLE, &keys(), [("A", None), ("B", Some(2))]).unwrap(),
            Some(2)
        );
        assert_eq!(
            one_key::<u8, 2>("t::AnyItem", &TABLE, &keys(), [("A", None), ("B", None)]).unwrap(),
            None
        );
        let Error::Decode(e) = one_key(
            "t::AnyItem",
            &TABLE,
            &keys(),
            [("A", Some(1)), ("B", Some(2))],
        )
        .unwrap_err() else {
            panic!("a decode error")
        };
        assert_eq!(e.attribute, "pk");
        assert_eq!(
            e.kind,
            DecodeErrorKind::AmbiguousKey {
                value: "X#1".into(),
                item_types: vec!["A", "B"]
            }
        );
        assert!(e.to_string().contains("no image to tell them apart"), "{e}");
    }

    #[test]
    fn change_kinds_read_and_print_as_the_stream_names_them() {
        for kind in [ChangeKind::Insert, ChangeKind::Modify, ChangeKind::Remove] {
            assert_eq!(ChangeKind::from_event_name(kind.as_str()), Some(kind));
            assert_eq!(format!("{kind:<7}|"), format!("{:<7}|", kind.as_str()));
        }
        assert_eq!(ChangeKind::from_event_name("UPSERT"), None);
    }
}
