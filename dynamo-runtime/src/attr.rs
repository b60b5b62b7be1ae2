//! Conversion between field values and DynamoDB attribute values.
//!
//! Generated encoders and decoders call [`Attribute`] for each field, so the
//! conversion of every supported field type is written once, here.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::{primitives::Blob, types::AttributeValue};

use crate::{Bytes, Date, Number, Timestamp, Uuid, error::DecodeErrorKind};

/// A Rust type that is stored as one DynamoDB attribute value.
///
/// Implement it for a type named by a `custom` field in a schema:
///
/// ```
/// use dynamo_runtime::{Attribute, AttributeValue, DecodeErrorKind};
///
/// /// An amount in cents, stored as text like `"12.50 EUR"`.
/// #[derive(Debug, Clone, PartialEq)]
/// pub struct Money(String);
///
/// impl Attribute for Money {
///     const DYNAMO_TYPE: &'static str = "S";
///     fn to_attribute(&self) -> AttributeValue {
///         AttributeValue::S(self.0.clone())
///     }
///     fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
///         String::from_attribute(value).map(Money)
///     }
/// }
/// ```
pub trait Attribute: Sized {
    /// The DynamoDB type this Rust type is stored as (`S`, `N`, `BOOL`, ...),
    /// named in decode errors.
    const DYNAMO_TYPE: &'static str;

    /// Builds the attribute value.
    fn to_attribute(&self) -> AttributeValue;

    /// Reads the value back, or says why it does not fit.
    fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind>;

    /// Whether the value is stored by leaving the attribute out (an empty
    /// set: DynamoDB does not store empty sets).
    fn is_absent(&self) -> bool {
        false
    }

    /// The value an absent attribute stands for, if any (an empty set).
    fn absent() -> Option<Self> {
        None
    }
}

/// Encodes `value`: a function to point at where generated code needs one.
pub fn encode<T: Attribute>(value: &T) -> AttributeValue {
    value.to_attribute()
}

/// Decodes a value: a function to point at where generated code needs one.
pub fn decode<T: Attribute>(value: AttributeValue) -> Result<T, DecodeErrorKind> {
    T::from_attribute(value)
}

/// The DynamoDB type name of a value, for error messages.
pub fn type_name(value: &AttributeValue) -> &'static str {
    match value {
        AttributeValue::S(_) => "S",
        AttributeValue::N(_) => "N",
        AttributeValue::B(_) => "B",
        AttributeValue::Bool(_) => "BOOL",
        AttributeValue::Null(_) => "NULL",
        AttributeValue::M(_) => "M",
        AttributeValue::L(_) => "L",
        AttributeValue::Ss(_) => "SS",
        AttributeValue::Ns(_) => "NS",
        AttributeValue::Bs(_) => "BS",
        _ => "unknown",
    }
}

fn wrong_type(expected: &'static str, found: &AttributeValue) -> DecodeErrorKind {
    DecodeErrorKind::WrongType {
        expected,
        found: type_name(found),
    }
}

fn invalid(value: impl Into<String>, rust_type: &'static str) -> DecodeErrorKind {
    DecodeErrorKind::InvalidValue {
        value: value.into(),
        rust_type,
    }
}

fn text(value: AttributeValue) -> Result<String, DecodeErrorKind> {
    match value {
        AttributeValue::S(s) => Ok(s),
        other => Err(wrong_type("S", &other)),
    }
}

fn number_text(value: AttributeValue) -> Result<String, DecodeErrorKind> {
    match value {
        AttributeValue::N(n) => Ok(n),
        other => Err(wrong_type("N", &other)),
    }
}

impl Attribute for String {
    const DYNAMO_TYPE: &'static str = "S";

    fn to_attribute(&self) -> AttributeValue {
        AttributeValue::S(self.clone())
    }

    fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
        text(value)
    }
}

impl Attribute for bool {
    const DYNAMO_TYPE: &'static str = "BOOL";

    fn to_attribute(&self) -> AttributeValue {
        AttributeValue::Bool(*self)
    }

    fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
        match value {
            AttributeValue::Bool(b) => Ok(b),
            other => Err(wrong_type(Self::DYNAMO_TYPE, &other)),
        }
    }
}

macro_rules! number_attribute {
    ($($ty:ty),*) => {$(
        impl Attribute for $ty {
            const DYNAMO_TYPE: &'static str = "N";

            fn to_attribute(&self) -> AttributeValue {
                AttributeValue::N(self.to_string())
            }

            fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
                let n = number_text(value)?;
                n.parse().map_err(|_| DecodeErrorKind::InvalidNumber {
                    value: n,
                    rust_type: stringify!($ty),
                })
            }
        }
    )*};
}

number_attribute!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, Number);

/// Integers and exact decimals are set elements (`NS`); floats are not,
/// having no total order.
macro_rules! number_set_element {
    ($($ty:ty),*) => {$(
        impl SetElement for $ty {
            fn into_set(items: Vec<Self>) -> AttributeValue {
                AttributeValue::Ns(items.iter().map(ToString::to_string).collect())
            }

            fn from_set(value: AttributeValue) -> Result<Vec<Self>, DecodeErrorKind> {
                match value {
                    AttributeValue::Ns(items) => items
                        .into_iter()
                        .map(|n| Self::from_attribute(AttributeValue::N(n)))
                        .collect(),
                    other => Err(wrong_type("NS", &other)),
                }
            }
        }
    )*};
}

number_set_element!(i8, i16, i32, i64, u8, u16, u32, u64, Number);

impl Attribute for Bytes {
    const DYNAMO_TYPE: &'static str = "B";

    fn to_attribute(&self) -> AttributeValue {
        AttributeValue::B(Blob::new(self.0.clone()))
    }

    fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
        match value {
            AttributeValue::B(b) => Ok(Bytes(b.into_inner())),
            other => Err(wrong_type(Self::DYNAMO_TYPE, &other)),
        }
    }
}

impl SetElement for Bytes {
    fn into_set(items: Vec<Self>) -> AttributeValue {
        AttributeValue::Bs(items.into_iter().map(|b| Blob::new(b.0)).collect())
    }

    fn from_set(value: AttributeValue) -> Result<Vec<Self>, DecodeErrorKind> {
        match value {
            AttributeValue::Bs(items) => {
                Ok(items.into_iter().map(|b| Bytes(b.into_inner())).collect())
            }
            other => Err(wrong_type("BS", &other)),
        }
    }
}

impl SetElement for String {
    fn into_set(items: Vec<Self>) -> AttributeValue {
        AttributeValue::Ss(items)
    }

    fn from_set(value: AttributeValue) -> Result<Vec<Self>, DecodeErrorKind> {
        match value {
            AttributeValue::Ss(items) => Ok(items),
            other => Err(wrong_type("SS", &other)),
        }
    }
}

/// Datetimes are stored as RFC 3339 in UTC with nine fractional digits, so
/// that text order is time order.
impl Attribute for Timestamp {
    const DYNAMO_TYPE: &'static str = "S";

    fn to_attribute(&self) -> AttributeValue {
        AttributeValue::S(format_timestamp(self))
    }

    fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
        let s = text(value)?;
        s.parse().map_err(|_| invalid(s, "Timestamp"))
    }
}

/// RFC 3339 in UTC with nine fractional digits: the text form of datetimes
/// in attributes and keys.
pub fn format_timestamp(t: &Timestamp) -> String {
    format!("{t:.9}")
}

/// Encodes a datetime as epoch seconds (`format = "epoch_seconds"`).
pub fn epoch_seconds(t: &Timestamp) -> AttributeValue {
    AttributeValue::N(t.as_second().to_string())
}

/// Decodes a datetime stored as epoch seconds.
pub fn from_epoch_seconds(value: AttributeValue) -> Result<Timestamp, DecodeErrorKind> {
    let n = number_text(value)?;
    n.parse::<i64>()
        .ok()
        .and_then(|s| Timestamp::from_second(s).ok())
        .ok_or_else(|| invalid(n, "Timestamp (epoch seconds)"))
}

/// Encodes a datetime as epoch milliseconds (`format = "epoch_millis"`).
pub fn epoch_millis(t: &Timestamp) -> AttributeValue {
    AttributeValue::N(t.as_millisecond().to_string())
}

/// Decodes a datetime stored as epoch milliseconds.
pub fn from_epoch_millis(value: AttributeValue) -> Result<Timestamp, DecodeErrorKind> {
    let n = number_text(value)?;
    n.parse::<i64>()
        .ok()
        .and_then(|s| Timestamp::from_millisecond(s).ok())
        .ok_or_else(|| invalid(n, "Timestamp (epoch milliseconds)"))
}

/// Encodes a datetime as text in a `strftime` pattern (`format` with `%`,
/// e.g. PynamoDB's `%Y-%m-%dT%H:%M:%S.%6f%z`), in UTC. The generator
/// checked that the pattern reads back what it writes, at its precision.
pub fn to_pattern(t: &Timestamp, pattern: &str) -> AttributeValue {
    let zoned = t.to_zoned(jiff::tz::TimeZone::UTC);
    // A pattern the generator accepted formats every datetime.
    AttributeValue::S(jiff::fmt::strtime::format(pattern, &zoned).unwrap_or_default())
}

/// Decodes a datetime stored as text in a `strftime` pattern.
pub fn from_pattern(value: AttributeValue, pattern: &str) -> Result<Timestamp, DecodeErrorKind> {
    let s = text(value)?;
    jiff::fmt::strtime::parse(pattern, &s)
        .and_then(|t| t.to_timestamp())
        .map_err(|_| invalid(s, "Timestamp"))
}

impl Attribute for Date {
    const DYNAMO_TYPE: &'static str = "S";

    fn to_attribute(&self) -> AttributeValue {
        AttributeValue::S(self.to_string())
    }

    fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
        let s = text(value)?;
        s.parse().map_err(|_| invalid(s, "Date"))
    }
}

impl Attribute for Uuid {
    const DYNAMO_TYPE: &'static str = "S";

    fn to_attribute(&self) -> AttributeValue {
        AttributeValue::S(self.hyphenated().to_string())
    }

    fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
        let s = text(value)?;
        s.parse().map_err(|_| invalid(s, "Uuid"))
    }
}

/// JSON documents are stored natively: objects as `M`, arrays as `L`,
/// strings as `S`, numbers as `N`, booleans as `BOOL`, null as `NULL`.
impl Attribute for serde_json::Value {
    const DYNAMO_TYPE: &'static str = "M";

    fn to_attribute(&self) -> AttributeValue {
        use serde_json::Value;
        match self {
            Value::Null => AttributeValue::Null(true),
            Value::Bool(b) => AttributeValue::Bool(*b),
            Value::Number(n) => AttributeValue::N(n.to_string()),
            Value::String(s) => AttributeValue::S(s.clone()),
            Value::Array(items) => {
                AttributeValue::L(items.iter().map(Attribute::to_attribute).collect())
            }
            Value::Object(map) => AttributeValue::M(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.to_attribute()))
                    .collect(),
            ),
        }
    }

    fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
        use serde_json::Value;
        Ok(match value {
            AttributeValue::Null(_) => Value::Null,
            AttributeValue::Bool(b) => Value::Bool(b),
            AttributeValue::S(s) => Value::String(s),
            AttributeValue::N(n) => {
                let number = n
                    .parse::<i64>()
                    .ok()
                    .map(serde_json::Number::from)
                    .or_else(|| n.parse::<u64>().ok().map(serde_json::Number::from))
                    .or_else(|| n.parse::<f64>().ok().and_then(serde_json::Number::from_f64));
                Value::Number(number.ok_or_else(|| invalid(n, "JSON number"))?)
            }
            AttributeValue::L(items) => Value::Array(
                items
                    .into_iter()
                    .map(Self::from_attribute)
                    .collect::<Result<_, _>>()?,
            ),
            AttributeValue::M(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| Ok((k, Self::from_attribute(v)?)))
                    .collect::<Result<_, DecodeErrorKind>>()?,
            ),
            AttributeValue::Ss(items) => {
                Value::Array(items.into_iter().map(Value::String).collect())
            }
            other => return Err(wrong_type("a JSON value", &other)),
        })
    }
}

/// A type that can be an element of a set attribute (`SS`, `NS`, `BS`).
pub trait SetElement: Attribute + Ord {
    /// Builds the set attribute from its (non-empty) elements.
    fn into_set(items: Vec<Self>) -> AttributeValue;

    /// Reads the elements of a set attribute.
    fn from_set(value: AttributeValue) -> Result<Vec<Self>, DecodeErrorKind>;
}

/// Sets are stored as `SS`, `NS` or `BS`. DynamoDB stores no empty set:
/// as a field, an empty set leaves the attribute out (an update removes
/// it); inside a list or map, where a value cannot be left out, it is
/// `NULL`. Both read back as the empty set.
impl<T: SetElement + Clone> Attribute for BTreeSet<T> {
    const DYNAMO_TYPE: &'static str = "SS, NS or BS";

    fn to_attribute(&self) -> AttributeValue {
        if self.is_empty() {
            return AttributeValue::Null(true);
        }
        T::into_set(self.iter().cloned().collect())
    }

    fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
        if let AttributeValue::Null(_) = value {
            return Ok(BTreeSet::new());
        }
        T::from_set(value).map(|items| items.into_iter().collect())
    }

    fn is_absent(&self) -> bool {
        self.is_empty()
    }

    fn absent() -> Option<Self> {
        Some(BTreeSet::new())
    }
}

impl<T: Attribute> Attribute for Vec<T> {
    const DYNAMO_TYPE: &'static str = "L";

    fn to_attribute(&self) -> AttributeValue {
        AttributeValue::L(self.iter().map(Attribute::to_attribute).collect())
    }

    fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
        match value {
            AttributeValue::L(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    T::from_attribute(v).map_err(|kind| DecodeErrorKind::Nested {
                        path: format!("[{i}]"),
                        kind: Box::new(kind),
                    })
                })
                .collect(),
            other => Err(wrong_type(Self::DYNAMO_TYPE, &other)),
        }
    }
}

impl<T: Attribute> Attribute for BTreeMap<String, T> {
    const DYNAMO_TYPE: &'static str = "M";

    fn to_attribute(&self) -> AttributeValue {
        AttributeValue::M(
            self.iter()
                .map(|(k, v)| (k.clone(), v.to_attribute()))
                .collect(),
        )
    }

    fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
        match value {
            AttributeValue::M(items) => items
                .into_iter()
                .map(|(k, v)| match T::from_attribute(v) {
                    Ok(v) => Ok((k, v)),
                    Err(kind) => Err(DecodeErrorKind::Nested {
                        path: format!(".{k}"),
                        kind: Box::new(kind),
                    }),
                })
                .collect(),
            other => Err(wrong_type(Self::DYNAMO_TYPE, &other)),
        }
    }
}

/// Stored as `S`: an enum value's text. Generated enums implement it via
/// [`Enum`].
pub trait Enum: Sized + Copy + 'static {
    /// Every value, in schema order.
    const VALUES: &'static [Self];
    /// The stored text of this value.
    fn as_str(&self) -> &'static str;
}

/// Text that names no value of an enum (from `FromStr` of generated enums).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a value of `{type_name}` (expected one of {expected:?})")]
pub struct UnknownEnumValue {
    /// The enum type.
    pub type_name: &'static str,
    /// The text.
    pub value: String,
    /// The values the schema lists.
    pub expected: Vec<&'static str>,
}

/// Parses an enum value for `FromStr`.
pub fn enum_from_str<E: Enum>(type_name: &'static str, text: &str) -> Result<E, UnknownEnumValue> {
    parse_enum(text).ok_or_else(|| UnknownEnumValue {
        type_name,
        value: text.to_owned(),
        expected: E::VALUES.iter().map(Enum::as_str).collect(),
    })
}

/// `now` plus `seconds`: the ttl of an item with `expires_after`.
pub fn expires(now: Timestamp, seconds: i64) -> Timestamp {
    now.checked_add(jiff::SignedDuration::from_secs(seconds))
        .unwrap_or(now)
}

/// Reads an enum value, or a typed error listing the known values.
pub fn decode_enum<E: Enum>(value: AttributeValue) -> Result<E, DecodeErrorKind> {
    let s = text(value)?;
    parse_enum(&s).ok_or_else(|| DecodeErrorKind::UnknownVariant {
        value: s,
        expected: E::VALUES.iter().map(Enum::as_str).collect(),
    })
}

/// The enum value stored as `text`, if any.
pub fn parse_enum<E: Enum>(text: &str) -> Option<E> {
    E::VALUES.iter().copied().find(|v| v.as_str() == text)
}

#[cfg(test)]
mod pattern_tests {
    use super::*;

    /// PynamoDB's `UTCDateTimeAttribute` text, both ways.
    #[test]
    fn pynamodb_datetimes_round_trip() {
        let pattern = "%Y-%m-%dT%H:%M:%S.%6f%z";
        let t: Timestamp = "2024-02-01T09:30:00.25Z".parse().unwrap();
        let stored = to_pattern(&t, pattern);
        assert_eq!(
            stored,
            AttributeValue::S("2024-02-01T09:30:00.250000+0000".into())
        );
        assert_eq!(from_pattern(stored, pattern).unwrap(), t);
        let other = AttributeValue::S("2024-02-01T10:30:00.000001+0100".into());
        assert_eq!(
            from_pattern(other, pattern).unwrap(),
            "2024-02-01T09:30:00.000001Z".parse::<Timestamp>().unwrap()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        assert_eq!(u64::from_attribute(u64::MAX.to_attribute()), Ok(u64::MAX));
        assert_eq!(i64::from_attribute(i64::MIN.to_attribute()), Ok(i64::MIN));
        assert_eq!(f64::from_attribute(0.1f64.to_attribute()), Ok(0.1));
    }

    #[test]
    fn out_of_range_number_is_typed() {
        let err = u32::from_attribute(AttributeValue::N("-1".into())).unwrap_err();
        assert_eq!(
            err,
            DecodeErrorKind::InvalidNumber {
                value: "-1".into(),
                rust_type: "u32"
            }
        );
    }

    #[test]
    fn wrong_type_names_both_types() {
        let err = String::from_attribute(AttributeValue::N("1".into())).unwrap_err();
        assert_eq!(
            err,
            DecodeErrorKind::WrongType {
                expected: "S",
                found: "N"
            }
        );
        assert_eq!(
            bool::from_attribute(AttributeValue::S("x".into())).unwrap_err(),
            DecodeErrorKind::WrongType {
                expected: "BOOL",
                found: "S"
            }
        );
    }
}
