//! Rendering key templates such as `ORDER#{created}#{order_id}`.
//!
//! The generator turns each template into a short sequence of [`KeyWriter`]
//! calls; the checks every key needs (no empty values, no separator inside a
//! value of a multi-field template) live here.

use std::fmt::Write as _;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::{KeyError, KeyErrorKind};

/// A value that can be placed in a key template.
pub trait KeyPart {
    /// Appends the value, zero-padded to `width` characters when given.
    fn write_key(&self, out: &mut String, width: Option<usize>);

    /// Text values are checked for emptiness and for the separator.
    fn as_text(&self) -> Option<&str> {
        None
    }
}

impl KeyPart for str {
    fn write_key(&self, out: &mut String, _width: Option<usize>) {
        out.push_str(self);
    }

    fn as_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl KeyPart for String {
    fn write_key(&self, out: &mut String, width: Option<usize>) {
        self.as_str().write_key(out, width);
    }

    fn as_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T: KeyPart + ?Sized> KeyPart for &T {
    fn write_key(&self, out: &mut String, width: Option<usize>) {
        (**self).write_key(out, width);
    }

    fn as_text(&self) -> Option<&str> {
        (**self).as_text()
    }
}

macro_rules! display_key_part {
    ($($ty:ty),*) => {$(
        impl KeyPart for $ty {
            fn write_key(&self, out: &mut String, width: Option<usize>) {
                // Writing to a String cannot fail.
                let _ = match width {
                    Some(width) => write!(out, "{self:0width$}"),
                    None => write!(out, "{self}"),
                };
            }
        }
    )*};
}

display_key_part!(bool, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

/// Renders one key attribute of one item type.
#[derive(Debug)]
pub struct KeyWriter {
    out: String,
    item_type: &'static str,
    attribute: &'static str,
    separator: Option<&'static str>,
}

impl KeyWriter {
    /// Starts rendering `attribute` of `item_type`. `separator` is the
    /// table's key separator when the template has more than one field:
    /// values containing it are rejected.
    pub fn new(
        item_type: &'static str,
        attribute: &'static str,
        separator: Option<&'static str>,
        capacity: usize,
    ) -> Self {
        KeyWriter {
            out: String::with_capacity(capacity),
            item_type,
            attribute,
            separator,
        }
    }

    /// Appends literal template text.
    pub fn literal(&mut self, text: &str) -> &mut Self {
        self.out.push_str(text);
        self
    }

    /// Appends a field's value.
    pub fn field<T: KeyPart + ?Sized>(
        &mut self,
        field: &'static str,
        value: &T,
        width: Option<usize>,
    ) -> Result<&mut Self, KeyError> {
        if let Some(text) = value.as_text() {
            self.check(field, text)?;
        }
        value.write_key(&mut self.out, width);
        Ok(self)
    }

    /// Appends a prefix of a text field's value (for `begins_with` queries):
    /// it may be empty, but may not contain the separator.
    pub fn prefix(&mut self, field: &'static str, value: &str) -> Result<&mut Self, KeyError> {
        if !value.is_empty() {
            self.check(field, value)?;
        }
        self.out.push_str(value);
        Ok(self)
    }

    fn check(&self, field: &'static str, text: &str) -> Result<(), KeyError> {
        let kind = if text.is_empty() {
            KeyErrorKind::Empty
        } else if let Some(separator) = self.separator.filter(|s| text.contains(s)) {
            KeyErrorKind::ContainsSeparator { separator }
        } else {
            return Ok(());
        };
        Err(KeyError {
            item_type: self.item_type,
            attribute: self.attribute,
            field,
            kind,
        })
    }

    /// The rendered text.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    /// The rendered text as a string attribute value.
    pub fn finish_attribute(&mut self) -> AttributeValue {
        AttributeValue::S(self.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_literals_fields_and_widths() {
        let mut w = KeyWriter::new("Order", "sk", Some("#"), 16);
        w.literal("ORDER#");
        w.field("n", &42u32, Some(6)).unwrap();
        w.literal("#");
        w.field("id", "o1", None).unwrap();
        assert_eq!(w.finish(), "ORDER#000042#o1");
    }

    #[test]
    fn rejects_empty_values_and_separators() {
        let mut w = KeyWriter::new("Order", "sk", Some("#"), 16);
        let err = w.field("id", "", None).unwrap_err();
        assert_eq!(err.kind, KeyErrorKind::Empty);
        let err = w.field("id", "a#b", None).unwrap_err();
        assert_eq!(err.kind, KeyErrorKind::ContainsSeparator { separator: "#" });
        assert_eq!(
            err.to_string(),
            "cannot build key attribute `sk` of `Order` from field `id`: \
             the value contains the key separator \"#\""
        );
        // A single-field template has no separator to protect.
        let mut w = KeyWriter::new("Order", "pk", None, 16);
        assert!(w.field("id", "a#b", None).is_ok());
    }
}
