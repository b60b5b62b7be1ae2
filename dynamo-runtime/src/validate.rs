//! Checks behind generated `validate()` methods: each takes the item type
//! and field names for the error, so generated code is one call per rule.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::OnceLock,
};

use regex::Regex;

use crate::{Bytes, Number, ValidationError, error::ValidationRule};

fn fail(item_type: &'static str, field: &'static str, rule: ValidationRule) -> ValidationError {
    ValidationError {
        item_type,
        field,
        rule,
    }
}

/// A value with an order for `min` / `max`: numbers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a number",
    label = "`add`, `increment` and `decrement` are for number fields",
    note = "`set` replaces a value of any type; sets have `add_items`, lists `append`"
)]
pub trait Bounded {
    /// The value as `f64`, for comparison with the schema's bounds.
    fn to_f64(&self) -> f64;

    /// The value exactly, for integers (and whole decimals): update
    /// conditions compute bounds with it.
    fn to_i128(&self) -> Option<i128> {
        None
    }

    /// The smallest and largest values of the type, for integers.
    fn range() -> Option<(i128, i128)>
    where
        Self: Sized,
    {
        None
    }
}

/// The `validate` rules an update checks with a condition on the stored
/// value (its result depends on it): number bounds for `add`,
/// `increment` and `decrement`, length bounds for `append`, `prepend`,
/// `add_items` and `delete_items`. Generated field paths carry them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Limits {
    /// The field, as the schema names it.
    pub field: &'static str,
    /// `min`.
    pub min: Option<f64>,
    /// `max`.
    pub max: Option<f64>,
    /// `min_len`.
    pub min_len: Option<u64>,
    /// `max_len`.
    pub max_len: Option<u64>,
}

impl Limits {
    /// The limits of `field`.
    pub const fn new(
        field: &'static str,
        min: Option<f64>,
        max: Option<f64>,
        min_len: Option<u64>,
        max_len: Option<u64>,
    ) -> Self {
        Limits {
            field,
            min,
            max,
            min_len,
            max_len,
        }
    }
}

macro_rules! bounded_float {
    ($($ty:ty),*) => {$(
        impl Bounded for $ty {
            fn to_f64(&self) -> f64 {
                f64::from(*self)
            }
        }
    )*};
}

macro_rules! bounded_int {
    ($($ty:ty),*) => {$(
        impl Bounded for $ty {
            fn to_f64(&self) -> f64 {
                // Bounds come from TOML numbers; integers beyond 2^53 compare
                // approximately, which the validator's range check allows for.
                *self as f64
            }

            fn to_i128(&self) -> Option<i128> {
                Some(i128::from(*self))
            }

            fn range() -> Option<(i128, i128)> {
                Some((i128::from(<$ty>::MIN), i128::from(<$ty>::MAX)))
            }
        }
    )*};
}

bounded_float!(f32, f64);
bounded_int!(i8, i16, i32, i64, u8, u16, u32, u64);

impl Bounded for Number {
    fn to_f64(&self) -> f64 {
        Number::to_f64(self)
    }

    fn to_i128(&self) -> Option<i128> {
        self.as_str().parse().ok()
    }
}

/// Checks `min <= value`.
pub fn min<T: Bounded>(
    item_type: &'static str,
    field: &'static str,
    value: &T,
    min: f64,
) -> Result<(), ValidationError> {
    if value.to_f64() >= min {
        Ok(())
    } else {
        Err(fail(item_type, field, ValidationRule::Min(min)))
    }
}

/// Checks `value <= max`.
pub fn max<T: Bounded>(
    item_type: &'static str,
    field: &'static str,
    value: &T,
    max: f64,
) -> Result<(), ValidationError> {
    if value.to_f64() <= max {
        Ok(())
    } else {
        Err(fail(item_type, field, ValidationRule::Max(max)))
    }
}

/// A value with a length for `min_len` / `max_len`.
pub trait Measure {
    /// Characters of text, bytes of binary data, elements of a collection.
    fn measure(&self) -> usize;
}

impl Measure for str {
    fn measure(&self) -> usize {
        self.chars().count()
    }
}

impl Measure for String {
    fn measure(&self) -> usize {
        self.chars().count()
    }
}

impl Measure for Bytes {
    fn measure(&self) -> usize {
        self.len()
    }
}

impl<T> Measure for Vec<T> {
    fn measure(&self) -> usize {
        self.len()
    }
}

impl<T> Measure for BTreeSet<T> {
    fn measure(&self) -> usize {
        self.len()
    }
}

impl<T> Measure for BTreeMap<String, T> {
    fn measure(&self) -> usize {
        self.len()
    }
}

/// Checks `min_len <= length`.
pub fn min_len<T: Measure + ?Sized>(
    item_type: &'static str,
    field: &'static str,
    value: &T,
    min: u64,
) -> Result<(), ValidationError> {
    if u64::try_from(value.measure()).unwrap_or(u64::MAX) >= min {
        Ok(())
    } else {
        Err(fail(item_type, field, ValidationRule::MinLen(min)))
    }
}

/// Checks `length <= max_len`.
pub fn max_len<T: Measure + ?Sized>(
    item_type: &'static str,
    field: &'static str,
    value: &T,
    max: u64,
) -> Result<(), ValidationError> {
    if u64::try_from(value.measure()).unwrap_or(u64::MAX) <= max {
        Ok(())
    } else {
        Err(fail(item_type, field, ValidationRule::MaxLen(max)))
    }
}

/// A `pattern` rule, compiled on first use. Generated code declares one
/// `static` per pattern.
#[derive(Debug)]
pub struct Pattern {
    source: &'static str,
    regex: OnceLock<Option<Regex>>,
}

impl Pattern {
    /// A pattern with regex syntax `source` (checked by the generator).
    pub const fn new(source: &'static str) -> Self {
        Pattern {
            source,
            regex: OnceLock::new(),
        }
    }

    /// Checks that `value` matches (anywhere, as the regex says).
    pub fn check(
        &self,
        item_type: &'static str,
        field: &'static str,
        value: &str,
    ) -> Result<(), ValidationError> {
        let regex = self.regex.get_or_init(|| Regex::new(self.source).ok());
        // The generator checked the syntax; a pattern that still does not
        // compile (size limits) matches nothing rather than everything.
        if regex.as_ref().is_some_and(|r| r.is_match(value)) {
            Ok(())
        } else {
            Err(fail(item_type, field, ValidationRule::Pattern(self.source)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_name_item_and_field() {
        assert!(min("P", "n", &5u32, 0.0).is_ok());
        let err = max("P", "n", &5u32, 3.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid `P`: field `n` is greater than the maximum 3"
        );
        assert!(min_len("P", "s", &"héllo".to_owned(), 5).is_ok());
        assert!(max_len("P", "s", &"héllo".to_owned(), 4).is_err());
        static SKU: Pattern = Pattern::new("^[A-Z]+$");
        assert!(SKU.check("P", "sku", "ABC").is_ok());
        assert_eq!(
            SKU.check("P", "sku", "abc").unwrap_err().rule,
            ValidationRule::Pattern("^[A-Z]+$")
        );
    }
}
