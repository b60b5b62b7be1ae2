//! Value types for schema field types that have no standard Rust type:
//! [`Number`] (an exact decimal) and [`Bytes`] (binary data).

use std::{cmp::Ordering, fmt, ops::Deref, str::FromStr};

/// An exact decimal number of up to 38 significant digits, as DynamoDB
/// stores numbers (the schema type `number`).
///
/// It holds the number in a normal form (no leading or trailing zeros, no
/// `+`, no `-0`), so equal numbers are equal values; ordering is numeric.
///
/// ```
/// use dynamo_runtime::Number;
/// let price: Number = "019.990".parse().unwrap();
/// assert_eq!(price.to_string(), "19.99");
/// assert!(price < Number::from(20));
/// assert!("1e5".parse::<Number>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number(String);

/// Text that is not a decimal number of at most 38 digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a decimal number of at most 38 digits")]
pub struct InvalidNumber(pub String);

impl Number {
    /// The number's text in normal form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A number the generator already checked (a schema default).
    #[doc(hidden)]
    pub fn from_schema(text: &str) -> Number {
        text.parse().unwrap_or_else(|_| Number("0".to_owned()))
    }

    /// The nearest `f64` (for range checks; not exact).
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }

    fn parts(&self) -> (bool, &str, &str) {
        let (negative, digits) = match self.0.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, self.0.as_str()),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        (negative, int, frac)
    }
}

impl FromStr for Number {
    type Err = InvalidNumber;

    fn from_str(s: &str) -> Result<Self, InvalidNumber> {
        let bad = || InvalidNumber(s.to_owned());
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
            return Err(bad());
        }
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        let significant = format!("{int}{frac}");
        if significant.trim_start_matches('0').len() > 38 {
            return Err(bad());
        }
        let mut out = String::with_capacity(s.len());
        if negative && !(int.is_empty() && frac.is_empty()) {
            out.push('-');
        }
        out.push_str(if int.is_empty() { "0" } else { int });
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        Ok(Number(out))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        let (an, ai, af) = self.parts();
        let (bn, bi, bf) = other.parts();
        let magnitude = ai
            .len()
            .cmp(&bi.len())
            .then_with(|| ai.cmp(bi))
            .then_with(|| af.cmp(bf));
        match (an, bn) {
            (false, false) => magnitude,
            (true, true) => magnitude.reverse(),
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

macro_rules! number_from_int {
    ($($ty:ty),*) => {$(
        impl From<$ty> for Number {
            fn from(value: $ty) -> Self {
                Number(value.to_string())
            }
        }
    )*};
}

number_from_int!(i8, i16, i32, i64, u8, u16, u32, u64);

/// Binary data (the schema type `bytes`), stored as `B`.
///
/// A newtype over `Vec<u8>` so that `list<u8>` (a list of numbers) and
/// `bytes` stay different types.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub Vec<u8>);

impl Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(value: Vec<u8>) -> Self {
        Bytes(value)
    }
}

impl From<&[u8]> for Bytes {
    fn from(value: &[u8]) -> Self {
        Bytes(value.to_vec())
    }
}

impl<const N: usize> From<[u8; N]> for Bytes {
    fn from(value: [u8; N]) -> Self {
        Bytes(value.to_vec())
    }
}

impl From<Bytes> for Vec<u8> {
    fn from(value: Bytes) -> Self {
        value.0
    }
}

/// A number is JSON text, so it stays exact (a JSON number would pass
/// through `f64` in most readers): `"19.99"`. Reading accepts a JSON
/// number too.
#[cfg(feature = "serde")]
impl serde::Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal number of at most 38 digits, as text or a number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Number, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number::from(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Number, E> {
                v.to_string().parse().map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Number, E> {
                v.to_string().parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Binary data is base64 text (standard alphabet, padded), as DynamoDB's
/// own JSON writes it.
#[cfg(feature = "serde")]
impl serde::Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use base64::Engine as _;
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(Bytes)
            .map_err(serde::de::Error::custom)
    }
}

/// The JSON Schema of a [`Number`] as serde writes it: decimal text
/// (`"19.99"`), exactly what DynamoDB stores.
#[cfg(feature = "json-schema")]
impl schemars::JsonSchema for Number {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Number".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        "dynamo_runtime::Number".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$",
            "description": "An exact decimal number, as text (up to 38 significant digits)."
        })
    }
}

/// The JSON Schema of [`Bytes`] as serde writes them: base64 text.
#[cfg(feature = "json-schema")]
impl schemars::JsonSchema for Bytes {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Bytes".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        "dynamo_runtime::Bytes".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "contentEncoding": "base64",
            "description": "Binary data, base64 (standard alphabet, padded)."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        s.parse().unwrap()
    }

    #[test]
    fn normal_form() {
        assert_eq!(n("0").as_str(), "0");
        assert_eq!(n("-0.000").as_str(), "0");
        assert_eq!(n("+12.3400").as_str(), "12.34");
        assert_eq!(n(".5").as_str(), "0.5");
        assert_eq!(n("-007").as_str(), "-7");
        assert!("".parse::<Number>().is_err());
        assert!("1.2.3".parse::<Number>().is_err());
        assert!("-".parse::<Number>().is_err());
        assert!("1".repeat(39).parse::<Number>().is_err());
        assert!("1".repeat(38).parse::<Number>().is_ok());
    }

    #[test]
    fn numeric_order() {
        let mut v = [n("10"), n("-2.5"), n("9.99"), n("-10"), n("0"), n("9.9")];
        v.sort();
        let text: Vec<_> = v.iter().map(Number::as_str).collect();
        assert_eq!(text, ["-10", "-2.5", "0", "9.9", "9.99", "10"]);
    }
}

/// A new ULID (26 characters of Crockford's base32): the text of a new
/// UUID v7 ([`Uuid::now_v7`](uuid::Uuid::now_v7)), whose first 48 bits are
/// the time in milliseconds and whose rest holds a counter and random
/// bits. Text order is creation order: across milliseconds by the time,
/// and within this process by the counter, so ULIDs sort as they were
/// made, in keys too. What `default = "ulid"` fills in.
pub fn new_ulid() -> String {
    ulid_text(uuid::Uuid::now_v7().as_u128())
}

/// The ULID text of 128 bits: 26 base-32 digits, most significant first
/// (the first digit holds the top 3 bits, so it is at most `7`).
pub(crate) fn ulid_text(bits: u128) -> String {
    const DIGITS: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    (0..26)
        .rev()
        .map(|i| char::from(DIGITS[((bits >> (i * 5)) & 31) as usize]))
        .collect()
}

#[cfg(test)]
mod ulid_tests {
    use proptest::prelude::*;

    use super::{new_ulid, ulid_text};

    #[test]
    fn ulids_sort_in_the_order_they_are_made() {
        let made: Vec<String> = (0..10_000).map(|_| new_ulid()).collect();
        let mut sorted = made.clone();
        sorted.sort();
        assert_eq!(made, sorted);
        assert!(made.windows(2).all(|w| w[0] < w[1]), "no two alike");
        assert!(made.iter().all(|u| u.len() == 26));
    }

    proptest! {
        /// Text order is the order of the 128-bit values.
        #[test]
        fn ulid_text_order_is_value_order(a in any::<u128>(), b in any::<u128>()) {
            prop_assert_eq!(ulid_text(a).cmp(&ulid_text(b)), a.cmp(&b));
            prop_assert_eq!(ulid_text(a).len(), 26);
        }
    }
}
