//! Rendering key templates such as `ORDER#{created}#{order_id}`.
//!
//! The generator turns each template into a short sequence of [`KeyWriter`]
//! calls; the checks every key needs (no empty values, no separator inside a
//! value of a multi-field template) live here.

use std::fmt::Write as _;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::{
    Date, Number, Timestamp, Uuid,
    error::{KeyError, KeyErrorKind},
};

/// A value that can be placed in a key template.
pub trait KeyPart {
    /// Appends the value, zero-padded to `width` characters when given.
    fn write_key(&self, out: &mut String, width: Option<usize>);

    /// Text values are checked for emptiness and for the separator.
    fn as_text(&self) -> Option<&str> {
        None
    }

    /// Reads a value back from its rendered text (for projections of
    /// keys-only indexes); `None` when the text is not one.
    fn parse_key(_text: &str) -> Option<Self>
    where
        Self: Sized,
    {
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

    fn parse_key(text: &str) -> Option<Self> {
        Some(text.to_owned())
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

            fn parse_key(text: &str) -> Option<Self> {
                text.parse().ok()
            }
        }
    )*};
}

display_key_part!(bool, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

/// Datetimes render as RFC 3339 in UTC with nine fractional digits, so
/// text order is time order.
impl KeyPart for Timestamp {
    fn write_key(&self, out: &mut String, _width: Option<usize>) {
        out.push_str(&crate::attr::format_timestamp(self));
    }

    fn parse_key(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl KeyPart for Date {
    fn write_key(&self, out: &mut String, _width: Option<usize>) {
        let _ = write!(out, "{self}");
    }

    fn parse_key(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl KeyPart for Uuid {
    fn write_key(&self, out: &mut String, _width: Option<usize>) {
        let _ = write!(out, "{}", self.hyphenated());
    }

    fn parse_key(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl KeyPart for Number {
    fn write_key(&self, out: &mut String, width: Option<usize>) {
        match width {
            Some(width) => {
                let _ = write!(out, "{:0>width$}", self.as_str());
            }
            None => out.push_str(self.as_str()),
        }
    }

    fn parse_key(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

/// Reads field values back out of a rendered key attribute, part by part,
/// as the generated template says. Used for projections of keys-only and
/// include indexes, where the item's fields are not stored: the key
/// attributes hold them.
#[derive(Debug)]
pub struct KeyReader<'a> {
    text: &'a str,
}

impl<'a> KeyReader<'a> {
    /// Starts reading `text`.
    pub fn new(text: &'a str) -> Self {
        KeyReader { text }
    }

    /// Consumes literal template text; `None` when the key does not have it
    /// (the key belongs to another item type).
    pub fn literal(&mut self, literal: &str) -> Option<()> {
        self.text = self.text.strip_prefix(literal)?;
        Some(())
    }

    /// Reads a field whose value runs up to the first `until` (the next
    /// literal, which starts with the key separator) or, with `None`, to
    /// the end. `trailing` is a literal that ends the key.
    pub fn field<T: KeyPart>(&mut self, until: Option<&str>, trailing: Option<&str>) -> Option<T> {
        let end = match (until, trailing) {
            (Some(until), _) => self.text.find(until)?,
            (None, Some(trailing)) => self.text.strip_suffix(trailing)?.len(),
            (None, None) => self.text.len(),
        };
        let (value, rest) = self.text.split_at(end);
        if value.is_empty() {
            return None;
        }
        self.text = rest;
        T::parse_key(value)
    }

    /// Whether the whole key was read.
    pub fn finish(&self) -> Option<()> {
        self.text.is_empty().then_some(())
    }
}

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

    /// The text rendered so far.
    pub fn as_str(&self) -> &str {
        &self.out
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
