//! Conversion between field values and DynamoDB attribute values.
//!
//! Generated encoders and decoders call [`Attribute`] for each field, so the
//! conversion of every supported field type is written once, here.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::DecodeErrorKind;

/// A Rust type that is stored as one DynamoDB attribute value.
pub trait Attribute: Sized {
    /// The DynamoDB type this Rust type is stored as (`S`, `N`, `BOOL`, ...),
    /// named in decode errors.
    const DYNAMO_TYPE: &'static str;

    /// Builds the attribute value.
    fn to_attribute(&self) -> AttributeValue;

    /// Reads the value back, or says why it does not fit.
    fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind>;
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

impl Attribute for String {
    const DYNAMO_TYPE: &'static str = "S";

    fn to_attribute(&self) -> AttributeValue {
        AttributeValue::S(self.clone())
    }

    fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
        match value {
            AttributeValue::S(s) => Ok(s),
            other => Err(wrong_type(Self::DYNAMO_TYPE, &other)),
        }
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
                match value {
                    AttributeValue::N(n) => n.parse().map_err(|_| DecodeErrorKind::InvalidNumber {
                        value: n,
                        rust_type: stringify!($ty),
                    }),
                    other => Err(wrong_type(Self::DYNAMO_TYPE, &other)),
                }
            }
        }
    )*};
}

number_attribute!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

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
