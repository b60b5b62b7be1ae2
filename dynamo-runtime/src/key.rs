//! Key templates such as `ORDER#{placed_on}#{order_id}`, as typed data.
//!
//! The generator emits one [`KeyTemplate`] per key attribute an item type
//! fills; everything done with one (rendering a key, the sort-key
//! conditions of queries, reading fields back out of a key) happens here,
//! over the template's text, parsed by [`crate::model::template`]. Values are
//! passed as [`KeyPart`]s in the order the template first names their
//! fields. Backfills render the same templates from stored items.

use std::{fmt::Write as _, marker::PhantomData};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::{
    Attributes, Date, DecodeError, Item, Number, SortKeyCondition, Timestamp, Uuid,
    error::{KeyError, KeyErrorKind},
    model::template::{Piece, pieces},
};

/// A value that can be placed in a key template.
pub trait KeyPart {
    /// Appends the value, zero-padded to `width` characters when given.
    fn write_key(&self, out: &mut String, width: Option<usize>);

    /// Text values are checked for emptiness and for the separator.
    fn as_text(&self) -> Option<&str> {
        None
    }

    /// Whether the value's text sorts in value order among the type's
    /// other values (a datetime before year 0 does not); keys refuse one
    /// that does not.
    fn sorts_as_text(&self) -> bool {
        true
    }

    /// Reads a value back from its text rendered at `width` (for
    /// projections of keys-only and include indexes); `None` when the
    /// text is not one.
    fn parse_key(_text: &str, _width: Option<usize>) -> Option<Self>
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

    fn parse_key(text: &str, _width: Option<usize>) -> Option<Self> {
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

    fn sorts_as_text(&self) -> bool {
        (**self).sorts_as_text()
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

            fn parse_key(text: &str, _width: Option<usize>) -> Option<Self> {
                text.parse().ok()
            }
        }
    )*};
}

display_key_part!(bool, u8, u16, u32, u64, f32, f64);

/// Writes a signed integer so that, at a width, text order is value order:
/// a value from 0 is zero-padded (`0000000042`); a negative one is `-`
/// (which sorts before every digit) then `10^width + value`, zero-padded
/// (`-9999999958` for -42), so that a more negative value has the smaller
/// text. Without a width (a partition key), the plain number.
pub(crate) fn write_signed(out: &mut String, value: i64, width: Option<usize>) {
    let _ = match width {
        None => write!(out, "{value}"),
        Some(width) if value >= 0 => write!(out, "{value:0width$}"),
        Some(width) => {
            let magnitude = u128::from(value.unsigned_abs());
            // A value wider than `width` (which the generator warns about)
            // still renders so that it reads back.
            let digits = width.max(magnitude.to_string().len());
            let complement = 10u128.pow(digits as u32) - magnitude;
            write!(out, "-{complement:0digits$}")
        }
    };
}

/// Reads back what [`write_signed`] wrote at `width`.
pub(crate) fn parse_signed(text: &str, width: Option<usize>) -> Option<i64> {
    let (Some(_), Some(complement)) = (width, text.strip_prefix('-')) else {
        return text.parse().ok().filter(|_| !text.starts_with('+'));
    };
    if complement.is_empty() || !complement.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let complement: u128 = complement.parse().ok()?;
    let magnitude = 10u128
        .checked_pow(u32::try_from(text.len() - 1).ok()?)?
        .checked_sub(complement)?;
    i64::try_from(-i128::try_from(magnitude).ok()?).ok()
}

macro_rules! signed_key_part {
    ($($ty:ty),*) => {$(
        impl KeyPart for $ty {
            fn write_key(&self, out: &mut String, width: Option<usize>) {
                write_signed(out, i64::from(*self), width);
            }

            fn parse_key(text: &str, width: Option<usize>) -> Option<Self> {
                parse_signed(text, width).and_then(|v| <$ty>::try_from(v).ok())
            }
        }
    )*};
}

signed_key_part!(i8, i16, i32, i64);

/// Datetimes render as RFC 3339 in UTC with nine fractional digits, so
/// text order is time order.
impl KeyPart for Timestamp {
    fn write_key(&self, out: &mut String, _width: Option<usize>) {
        out.push_str(&crate::attr::format_timestamp(self));
    }

    /// Years before 0 render with a sign and six digits, out of order.
    fn sorts_as_text(&self) -> bool {
        self.to_zoned(jiff::tz::TimeZone::UTC).year() >= 0
    }

    fn parse_key(text: &str, _width: Option<usize>) -> Option<Self> {
        text.parse().ok()
    }
}

impl KeyPart for Date {
    fn write_key(&self, out: &mut String, _width: Option<usize>) {
        let _ = write!(out, "{self}");
    }

    fn sorts_as_text(&self) -> bool {
        self.year() >= 0
    }

    fn parse_key(text: &str, _width: Option<usize>) -> Option<Self> {
        text.parse().ok()
    }
}

impl KeyPart for Uuid {
    fn write_key(&self, out: &mut String, _width: Option<usize>) {
        let _ = write!(out, "{}", self.hyphenated());
    }

    fn parse_key(text: &str, _width: Option<usize>) -> Option<Self> {
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

    fn parse_key(text: &str, _width: Option<usize>) -> Option<Self> {
        text.parse().ok()
    }
}

/// The number of field placeholders in a template's text (repeats
/// counted), at compile time: a template with more than one checks its
/// values for the key separator.
const fn field_count(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() {
        if (bytes[i] == b'{' || bytes[i] == b'}') && i + 1 < bytes.len() && bytes[i + 1] == bytes[i]
        {
            i += 2;
            continue;
        }
        if bytes[i] == b'{' {
            n += 1;
        }
        i += 1;
    }
    n
}

/// Where the one field of a template of the form `LITERAL{field}` starts
/// (the literal has no braces, the field no width and nothing follows
/// it), at compile time: such a key renders and checks without walking the
/// template.
const fn trailing_field(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    if n < 3 || bytes[n - 1] != b'}' {
        return None;
    }
    let mut i = 0;
    while bytes[i] != b'{' {
        if bytes[i] == b'}' {
            return None;
        }
        i += 1;
    }
    let at = i;
    i += 1;
    if i == n - 1 {
        return None;
    }
    while i < n - 1 {
        if bytes[i] == b'{' || bytes[i] == b'}' || bytes[i] == b':' {
            return None;
        }
        i += 1;
    }
    Some(at)
}

/// Whether a template is literal text (no field, no escaped brace).
const fn is_literal(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' || bytes[i] == b'}' {
            return false;
        }
        i += 1;
    }
    true
}

/// Where rendering stopped: at the first occurrence of a field that had no
/// value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stop {
    /// The field's width.
    width: Option<usize>,
    /// Whether the field is the last piece of the template.
    last: bool,
}

/// Why a value cannot be part of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// It is empty.
    Empty,
    /// It contains the key separator.
    Separator,
    /// Its text does not sort in value order (a datetime before year 0).
    Unsortable,
}

/// A value that cannot be part of a key: the field and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused<'t> {
    pub(crate) field: &'t str,
    pub(crate) why: Refusal,
}

/// Appends one field value to `out`, checking it.
pub(crate) fn write_value<'t>(
    out: &mut String,
    field: &'t str,
    value: &dyn KeyPart,
    width: Option<usize>,
    separator: Option<&str>,
) -> Result<(), Refused<'t>> {
    if let Some(text) = value.as_text() {
        check(field, text, separator, false)?;
    }
    if !value.sorts_as_text() {
        return Err(Refused {
            field,
            why: Refusal::Unsortable,
        });
    }
    value.write_key(out, width);
    Ok(())
}

/// A text value (or, with `prefix`, the start of one, which may be empty)
/// must not be empty nor contain the separator.
fn check<'t>(
    field: &'t str,
    text: &str,
    separator: Option<&str>,
    prefix: bool,
) -> Result<(), Refused<'t>> {
    let why = if text.is_empty() && !prefix {
        Refusal::Empty
    } else if separator.is_some_and(|s| text.contains(s)) {
        Refusal::Separator
    } else {
        return Ok(());
    };
    Err(Refused { field, why })
}

/// Field names in order of first use; no allocation for the first eight
/// (rendering a key is on every write's path).
#[derive(Default)]
struct Seen<'t> {
    inline: [&'t str; 8],
    len: usize,
    more: Vec<&'t str>,
}

impl<'t> Seen<'t> {
    /// The position of `name` in order of first use, recording it if new.
    fn index(&mut self, name: &'t str) -> usize {
        let inline = &self.inline[..self.len.min(8)];
        if let Some(i) = inline.iter().position(|s| *s == name) {
            return i;
        }
        if let Some(i) = self.more.iter().position(|s| *s == name) {
            return 8 + i;
        }
        if self.len < 8 {
            self.inline[self.len] = name;
        } else {
            self.more.push(name);
        }
        self.len += 1;
        self.len - 1
    }
}

/// Renders `text` with `values` for its fields in order of first use,
/// stopping at the first occurrence of a field past `values`.
pub(crate) fn render<'t>(
    text: &'t str,
    values: &[&dyn KeyPart],
    separator: Option<&str>,
) -> Result<(String, Option<Stop>), Refused<'t>> {
    let mut out = String::with_capacity(text.len() + 16 * values.len());
    let stop = render_into(&mut out, text, values, separator)?;
    Ok((out, stop))
}

/// [`render`] appending to `out`.
fn render_into<'t>(
    out: &mut String,
    text: &'t str,
    values: &[&dyn KeyPart],
    separator: Option<&str>,
) -> Result<Option<Stop>, Refused<'t>> {
    let mut seen = Seen::default();
    let mut pieces = pieces(text).flatten().peekable();
    while let Some((_, piece)) = pieces.next() {
        match piece {
            Piece::Literal(literal) => out.push_str(literal),
            Piece::Field { name, width, .. } => {
                let index = seen.index(name);
                let Some(value) = values.get(index) else {
                    let last = pieces.peek().is_none();
                    return Ok(Some(Stop { width, last }));
                };
                write_value(out, name, *value, width, separator)?;
            }
        }
    }
    Ok(None)
}

/// A computed attribute's value: `text` rendered with `values` for its
/// fields in order of first use, each in the case its placeholder asks
/// for. Unlike a key, a value may be empty or hold the key separator: the
/// attribute is not part of any key. Generated code calls it at every
/// write of the attribute.
pub fn compute(text: &str, values: &[&dyn KeyPart]) -> String {
    let mut out = String::with_capacity(text.len() + 16 * values.len());
    let mut seen = Seen::default();
    let mut buffer = String::new();
    for (_, piece) in pieces(text).flatten() {
        match piece {
            Piece::Literal(literal) => out.push_str(literal),
            Piece::Field { name, width, case } => {
                let Some(value) = values.get(seen.index(name)) else {
                    continue;
                };
                match case {
                    None => value.write_key(&mut out, width),
                    Some(case) => {
                        buffer.clear();
                        value.write_key(&mut buffer, width);
                        out.push_str(&case.apply(&buffer));
                    }
                }
            }
        }
    }
    out
}

/// A key attribute rendered from field values, or why it could not be.
#[derive(Debug)]
pub struct RenderedKey {
    pub(crate) attribute: &'static str,
    pub(crate) value: Result<AttributeValue, KeyError>,
}

impl RenderedKey {
    /// A key attribute whose value is a field's own (a plain key).
    pub(crate) fn plain(attribute: &'static str, value: AttributeValue) -> Self {
        RenderedKey {
            attribute,
            value: Ok(value),
        }
    }

    /// The attribute and its value.
    pub fn into_parts(self) -> (&'static str, Result<AttributeValue, KeyError>) {
        (self.attribute, self.value)
    }
}

/// The sort key a query reads by: its attribute, and the condition every
/// query of the item type has (equality with a literal-only template, or
/// `begins_with` its literal prefix, so other item types of the partition
/// are not even read).
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub(crate) attribute: &'static str,
    pub(crate) base: Option<SortKeyCondition>,
}

impl SortKey {
    /// A plain sort key: the field stored under `attribute`.
    pub(crate) fn plain(attribute: &'static str) -> Self {
        SortKey {
            attribute,
            base: None,
        }
    }
}

/// A key template of item type `I`: the key attribute it fills and its
/// text. Generated code holds one per key attribute of each item type.
///
/// Its methods are thin: each hands the untyped template the item
/// type's key separator and name, so their code is compiled once, not once
/// per item type.
#[derive(Debug)]
pub struct KeyTemplate<I> {
    template: Template,
    item: PhantomData<fn() -> I>,
}

/// A key template without its item type: what [`KeyTemplate`]'s methods
/// run on, with the item type's key separator and name filled in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Template {
    attribute: &'static str,
    text: &'static str,
    /// The number of field placeholders: none is a literal key; more than
    /// one checks the values for the key separator.
    fields: usize,
    /// The text is literal: the key is the text.
    literal: bool,
    /// `LITERAL{field}`: where the field starts.
    trailing: Option<usize>,
    /// The table's key separator.
    separator: &'static str,
    /// The item type, for errors.
    item_type: &'static str,
}

impl<I> Clone for KeyTemplate<I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I> Copy for KeyTemplate<I> {}

impl<I> KeyTemplate<I> {
    /// The template of `attribute` with `text` (which the generator
    /// checked).
    #[doc(hidden)]
    pub const fn new(attribute: &'static str, text: &'static str) -> Self {
        KeyTemplate {
            template: Template {
                attribute,
                text,
                fields: field_count(text),
                literal: is_literal(text),
                trailing: trailing_field(text),
                separator: "",
                item_type: "",
            },
            item: PhantomData,
        }
    }

    /// The key attribute it fills.
    pub const fn attribute(&self) -> &'static str {
        self.template.attribute
    }

    /// The template text, e.g. `ORDER#{placed_on}#{order_id}`.
    pub const fn text(&self) -> &'static str {
        self.template.text
    }
}

impl<I: Item> KeyTemplate<I> {
    /// The untyped template, with the item type's separator and name.
    pub(crate) fn typed(&self) -> Template {
        Template {
            separator: &I::TABLE.key_separator,
            item_type: I::TYPE_NAME,
            ..self.template
        }
    }

    /// Renders the key attribute from the values of its fields, in the
    /// order the template first names them.
    pub fn render(&self, values: &[&dyn KeyPart]) -> RenderedKey {
        self.typed().render(values)
    }

    /// Whether `stored` is the key this template renders from `values`
    /// (decoding checks an item's table key with it), without allocating.
    pub fn renders(&self, stored: &AttributeValue, values: &[&dyn KeyPart]) -> bool {
        self.template.renders(stored, values)
    }

    /// The sort key, for queries: the item type's own condition (the
    /// literal text before the first field).
    pub fn sort_key(&self) -> SortKey {
        self.template.sort_key()
    }

    /// Keys whose first `values.len()` fields equal `values`: the whole key
    /// when those are all its fields, else every key beginning with them.
    pub fn equal(&self, values: &[&dyn KeyPart]) -> Result<SortKeyCondition, KeyError> {
        self.typed().equal(values)
    }

    /// Keys whose first `values.len()` fields equal `values` and whose next
    /// field begins with `prefix`.
    pub fn begins_with(
        &self,
        values: &[&dyn KeyPart],
        prefix: &str,
    ) -> Result<SortKeyCondition, KeyError> {
        self.typed().begins_with(values, prefix)
    }

    /// Keys whose last given field is less than its value, the earlier
    /// ones equal.
    pub fn lt(&self, values: &[&dyn KeyPart]) -> Result<SortKeyCondition, KeyError> {
        self.typed().lt(values)
    }

    /// Keys whose last given field is at most its value.
    pub fn le(&self, values: &[&dyn KeyPart]) -> Result<SortKeyCondition, KeyError> {
        self.typed().le(values)
    }

    /// Keys whose last given field is greater than its value.
    pub fn gt(&self, values: &[&dyn KeyPart]) -> Result<SortKeyCondition, KeyError> {
        self.typed().gt(values)
    }

    /// Keys whose last given field is at least its value.
    pub fn ge(&self, values: &[&dyn KeyPart]) -> Result<SortKeyCondition, KeyError> {
        self.typed().ge(values)
    }

    /// Keys whose field after `earlier` lies between `low` and `high`, both
    /// included, the earlier ones equal.
    pub fn between(
        &self,
        earlier: &[&dyn KeyPart],
        low: &dyn KeyPart,
        high: &dyn KeyPart,
    ) -> Result<SortKeyCondition, KeyError> {
        self.typed().between(earlier, low, high)
    }

    /// The condition `compare` on the field after `earlier` (which the
    /// keys must equal), for a query's [`SortOn`](crate::SortOn).
    pub fn compare<T: KeyPart>(
        &self,
        earlier: &[&dyn KeyPart],
        compare: crate::Compare<T>,
    ) -> Result<SortKeyCondition, KeyError> {
        self.typed().compare(earlier, compare.as_dyn())
    }
}

impl Template {
    /// The key attribute it fills.
    pub(crate) fn attribute(&self) -> &'static str {
        self.attribute
    }

    fn separator(&self) -> Option<&'static str> {
        (self.fields > 1).then_some(self.separator)
    }

    fn error(&self, refused: Refused<'static>) -> KeyError {
        let kind = match refused.why {
            Refusal::Empty => KeyErrorKind::Empty,
            Refusal::Separator => KeyErrorKind::ContainsSeparator {
                separator: self.separator,
            },
            Refusal::Unsortable => KeyErrorKind::Unsortable,
        };
        KeyError {
            item_type: self.item_type,
            attribute: self.attribute,
            field: refused.field,
            kind,
        }
    }

    fn render_text(&self, values: &[&dyn KeyPart]) -> Result<(String, Option<Stop>), KeyError> {
        render(self.text, values, self.separator()).map_err(|r| self.error(r))
    }

    /// Renders the key attribute from the values of its fields, in the
    /// order the template first names them.
    pub(crate) fn render(&self, values: &[&dyn KeyPart]) -> RenderedKey {
        if self.literal {
            // A literal key such as `PROFILE`: nothing to render.
            return RenderedKey::plain(self.attribute, AttributeValue::S(self.text.to_owned()));
        }
        if let (Some(at), [value]) = (self.trailing, values)
            && let Some(text) = value.as_text().filter(|t| !t.is_empty())
        {
            // `ORDER#{id}` with a text value: the literal, then the value
            // (one field: no separator to refuse; an empty value is
            // refused below).
            let mut key = String::with_capacity(at + text.len());
            key.push_str(&self.text[..at]);
            key.push_str(text);
            return RenderedKey::plain(self.attribute, AttributeValue::S(key));
        }
        RenderedKey {
            attribute: self.attribute,
            value: self
                .render_text(values)
                .map(|(text, _)| AttributeValue::S(text)),
        }
    }

    /// Whether `stored` is the key this template renders from `values`
    /// (decoding checks an item's table key with it). Matches piece by
    /// piece: text values are compared in place, others rendered into a
    /// buffer kept per thread, so the check allocates nothing.
    pub(crate) fn renders(&self, stored: &AttributeValue, values: &[&dyn KeyPart]) -> bool {
        thread_local! {
            static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        let AttributeValue::S(stored) = stored else {
            return false;
        };
        if self.literal {
            return stored == self.text;
        }
        if let (Some(at), [value]) = (self.trailing, values)
            && let Some(text) = value.as_text()
        {
            return stored.len() == at + text.len()
                && stored.starts_with(&self.text[..at])
                && stored.ends_with(text);
        }
        let mut rest = stored.as_str();
        let mut seen = Seen::default();
        for (_, piece) in pieces(self.text).flatten() {
            let next = match piece {
                Piece::Literal(literal) => rest.strip_prefix(literal),
                Piece::Field { name, width, .. } => {
                    let Some(value) = values.get(seen.index(name)) else {
                        return false;
                    };
                    match value.as_text() {
                        Some(text) => rest.strip_prefix(text),
                        None => BUFFER.with_borrow_mut(|out| {
                            out.clear();
                            value.write_key(out, width);
                            rest.strip_prefix(out.as_str())
                        }),
                    }
                }
            };
            match next {
                Some(r) => rest = r,
                None => return false,
            }
        }
        rest.is_empty()
    }

    /// The sort key, for queries.
    pub(crate) fn sort_key(&self) -> SortKey {
        let mut literal = String::new();
        let mut fields = false;
        for (_, piece) in pieces(self.text).flatten() {
            match piece {
                Piece::Literal(text) => literal.push_str(text),
                Piece::Field { .. } => {
                    fields = true;
                    break;
                }
            }
        }
        let base = match (fields, literal.is_empty()) {
            (false, _) => Some(SortKeyCondition::Equal(AttributeValue::S(literal))),
            (true, false) => Some(SortKeyCondition::BeginsWith(literal)),
            (true, true) => None,
        };
        SortKey {
            attribute: self.attribute,
            base,
        }
    }

    /// Keys whose first `values.len()` fields equal `values`: the whole key
    /// when those are all its fields, else every key beginning with them.
    pub(crate) fn equal(&self, values: &[&dyn KeyPart]) -> Result<SortKeyCondition, KeyError> {
        let (text, stop) = self.render_text(values)?;
        Ok(match stop {
            None => SortKeyCondition::Equal(AttributeValue::S(text)),
            Some(_) => SortKeyCondition::BeginsWith(text),
        })
    }

    /// Keys whose first `values.len()` fields equal `values` and whose next
    /// field begins with `prefix`.
    pub(crate) fn begins_with(
        &self,
        values: &[&dyn KeyPart],
        prefix: &str,
    ) -> Result<SortKeyCondition, KeyError> {
        let (mut text, stop) = self.render_text(values)?;
        if stop.is_some() {
            let field = self.field_name(values.len());
            check(field, prefix, self.separator(), true).map_err(|r| self.error(r))?;
            text.push_str(prefix);
        }
        Ok(SortKeyCondition::BeginsWith(text))
    }

    /// The name of the field at `index` in order of first use.
    fn field_name(&self, index: usize) -> &'static str {
        let mut seen: Vec<&'static str> = Vec::new();
        for (_, piece) in pieces(self.text).flatten() {
            if let Piece::Field { name, .. } = piece
                && !seen.contains(&name)
            {
                if seen.len() == index {
                    return name;
                }
                seen.push(name);
            }
        }
        ""
    }

    /// The key up to the last value's field, and up to and including it:
    /// the bounds of a range on that field with the earlier ones equal.
    fn at(&self, values: &[&dyn KeyPart]) -> Result<(String, String, bool), KeyError> {
        let Some((value, earlier)) = values.split_last() else {
            return Ok((String::new(), String::new(), true));
        };
        let (prefix, stop) = self.render_text(earlier)?;
        let Stop { width, last } = stop.unwrap_or(Stop {
            width: None,
            last: true,
        });
        let mut at = prefix.clone();
        let field = self.field_name(earlier.len());
        write_value(&mut at, field, *value, width, self.separator()).map_err(|r| self.error(r))?;
        Ok((prefix, at, last))
    }

    /// Keys whose last given field is less than its value, the earlier
    /// ones equal.
    pub(crate) fn lt(&self, values: &[&dyn KeyPart]) -> Result<SortKeyCondition, KeyError> {
        let (prefix, at, _) = self.at(values)?;
        Ok(SortKeyCondition::text_lt(prefix, at))
    }

    /// Keys whose last given field is at most its value.
    pub(crate) fn le(&self, values: &[&dyn KeyPart]) -> Result<SortKeyCondition, KeyError> {
        let (prefix, at, last) = self.at(values)?;
        Ok(SortKeyCondition::text_le(prefix, at, last))
    }

    /// Keys whose last given field is greater than its value.
    pub(crate) fn gt(&self, values: &[&dyn KeyPart]) -> Result<SortKeyCondition, KeyError> {
        let (prefix, at, last) = self.at(values)?;
        Ok(SortKeyCondition::text_gt(prefix, at, last))
    }

    /// Keys whose last given field is at least its value.
    pub(crate) fn ge(&self, values: &[&dyn KeyPart]) -> Result<SortKeyCondition, KeyError> {
        let (prefix, at, _) = self.at(values)?;
        Ok(SortKeyCondition::text_ge(prefix, at))
    }

    /// Keys whose field after `earlier` lies between `low` and `high`, both
    /// included, the earlier ones equal.
    pub(crate) fn between(
        &self,
        earlier: &[&dyn KeyPart],
        low: &dyn KeyPart,
        high: &dyn KeyPart,
    ) -> Result<SortKeyCondition, KeyError> {
        let with = |value: &dyn KeyPart| {
            let mut values = earlier.to_vec();
            values.push(value);
            self.at(&values)
        };
        let (_, low, last) = with(low)?;
        let (_, high, _) = with(high)?;
        Ok(SortKeyCondition::text_between(low, high, last))
    }

    /// The condition `compare` on the field after `earlier` (which the
    /// keys must equal), for a query's [`SortOn`](crate::SortOn).
    pub(crate) fn compare(
        &self,
        earlier: &[&dyn KeyPart],
        compare: crate::Compare<&dyn KeyPart>,
    ) -> Result<SortKeyCondition, KeyError> {
        use crate::Compare;
        fn with<'a>(earlier: &[&'a dyn KeyPart], value: &'a dyn KeyPart) -> Vec<&'a dyn KeyPart> {
            let mut values = earlier.to_vec();
            values.push(value);
            values
        }
        let with = |value| with(earlier, value);
        match compare {
            Compare::Equal(v) => self.equal(&with(v)),
            Compare::BeginsWith(prefix) => self.begins_with(earlier, &prefix),
            Compare::Lt(v) => self.lt(&with(v)),
            Compare::Le(v) => self.le(&with(v)),
            Compare::Gt(v) => self.gt(&with(v)),
            Compare::Ge(v) => self.ge(&with(v)),
            Compare::Between(low, high) => self.between(earlier, low, high),
        }
    }

    /// Reads the text of each field out of a rendered key; `None` when the
    /// key does not have the template's literal text.
    fn parse<'k>(&self, key: &'k str, out: &mut Vec<KeyText<'k>>) -> Option<()> {
        // Literal runs merged (an escaped brace is a piece of its own).
        let mut parts: Vec<Piece<'static>> = Vec::new();
        for (_, piece) in pieces(self.text).flatten() {
            parts.push(piece);
        }
        let mut rest = key;
        let mut i = 0;
        while i < parts.len() {
            match parts[i] {
                Piece::Literal(_) => {
                    let mut literal = String::new();
                    while let Some(Piece::Literal(l)) = parts.get(i) {
                        literal.push_str(l);
                        i += 1;
                    }
                    rest = rest.strip_prefix(literal.as_str())?;
                }
                Piece::Field { name, width, .. } => {
                    i += 1;
                    let mut next = String::new();
                    while let Some(Piece::Literal(l)) = parts.get(i) {
                        next.push_str(l);
                        i += 1;
                    }
                    let later_field = parts[i..].iter().any(|p| matches!(p, Piece::Field { .. }));
                    let end = if next.is_empty() {
                        rest.len()
                    } else if later_field {
                        rest.find(next.as_str())?
                    } else {
                        rest.strip_suffix(next.as_str())?.len()
                    };
                    let (value, after) = rest.split_at(end);
                    if value.is_empty() {
                        return None;
                    }
                    if !out.iter().any(|(n, ..)| *n == name) {
                        out.push((name, value, width));
                    }
                    rest = after.strip_prefix(next.as_str())?;
                }
            }
        }
        rest.is_empty().then_some(())
    }
}

/// A field's text in a key: its name, text and width.
type KeyText<'k> = (&'static str, &'k str, Option<usize>);

/// The fields of one row of an index that does not store whole items,
/// read back out of its key attributes.
#[derive(Debug)]
pub struct KeyFields {
    values: Vec<(&'static str, String, Option<usize>)>,
    /// Each field's key attribute and that attribute's text.
    attributes: Vec<(&'static str, &'static str, String)>,
}

/// Why a row is not a projection of the item type: a key field whose text
/// is not a value of its type (another item type's row, or a bad one), or
/// an attribute that does not decode.
#[derive(Debug)]
pub enum RowError {
    /// The text of this field is not a value of its type.
    Skip(&'static str),
    /// The row is the item type's but does not decode.
    Decode(DecodeError),
}

impl From<DecodeError> for RowError {
    fn from(e: DecodeError) -> Self {
        RowError::Decode(e)
    }
}

impl KeyFields {
    /// Reads the fields of `templates` out of `raw`'s key attributes; the
    /// attribute and its text (empty when missing) when one is missing or
    /// does not fit its template.
    pub fn read<I: Item>(
        raw: &Attributes,
        templates: &[&KeyTemplate<I>],
    ) -> Result<KeyFields, (&'static str, String)> {
        let mut found: Vec<KeyText<'_>> = Vec::new();
        let mut attributes = Vec::with_capacity(templates.len());
        for t in templates {
            let key = raw.get(t.attribute()).and_then(|v| v.as_s().ok());
            let before = found.len();
            match key.map(|k| t.template.parse(k, &mut found)) {
                Some(Some(())) => {}
                _ => return Err((t.attribute(), key.cloned().unwrap_or_default())),
            }
            for (name, ..) in &found[before..] {
                attributes.push((*name, t.attribute(), key.cloned().unwrap_or_default()));
            }
        }
        Ok(KeyFields {
            values: found
                .into_iter()
                .map(|(name, text, width)| (name, text.to_owned(), width))
                .collect(),
            attributes,
        })
    }

    /// The value of `field`; [`RowError::Skip`] when its text is not one.
    pub fn get<T: KeyPart>(&self, field: &'static str) -> Result<T, RowError> {
        self.values
            .iter()
            .find(|(name, ..)| *name == field)
            .and_then(|(_, text, width)| T::parse_key(text, *width))
            .ok_or(RowError::Skip(field))
    }

    /// The key attribute `field` was read from, and its text.
    pub(crate) fn attribute_of(&self, field: &str) -> (&'static str, String) {
        self.attributes
            .iter()
            .find(|(name, ..)| *name == field)
            .map_or(("", String::new()), |(_, attribute, text)| {
                (*attribute, text.clone())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Attributes, Result, TableDef, ValidationError,
        model::{KeyAttributeDef, KeyType, text},
    };

    static TABLE: TableDef = TableDef {
        name: text("t"),
        partition_key: KeyAttributeDef::new("pk", KeyType::S),
        sort_key: Some(KeyAttributeDef::new("sk", KeyType::S)),
        type_attribute: text("_type"),
        key_separator: text("#"),
        billing: crate::Billing::OnDemand,
        ttl: None,
        stream: None,
        indexes: std::borrow::Cow::Borrowed(&[]),
        point_in_time_recovery: false,
        deletion_protection: false,
    };

    #[derive(Debug, Clone)]
    struct OrderKey;
    struct Order;

    impl crate::Key for OrderKey {
        type Item = Order;
        fn encode_key(&self) -> Result<Attributes> {
            Ok(Attributes::new())
        }
    }

    impl Item for Order {
        type Key = OrderKey;
        type Fields = ();
        const TYPE_NAME: &'static str = "Order";
        const TABLE: &'static TableDef = &TABLE;
        const FIELDS: () = ();
        fn key(&self) -> OrderKey {
            OrderKey
        }
        fn encode(&self) -> Result<Attributes> {
            Ok(Attributes::new())
        }
        fn decode(_: Attributes) -> Result<Self> {
            Ok(Order)
        }
        fn validate(&self) -> Result<(), ValidationError> {
            Ok(())
        }
    }

    const SK: KeyTemplate<Order> = KeyTemplate::new("sk", "ORDER#{n:06}#{id}{{x}}");
    const PK: KeyTemplate<Order> = KeyTemplate::new("pk", "CUSTOMER#{id}");

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.to_owned())
    }

    #[test]
    fn templates_that_render_without_a_walk_are_found_at_compile_time() {
        const CASES: [(&str, Option<usize>, bool); 10] = [
            ("ORDER#{id}", Some(6), false),
            ("{id}", Some(0), false),
            ("PROFILE", None, true),
            ("", None, true),
            ("A{n:05}", None, false),
            ("A{{x}", None, false),
            ("A{x}B", None, false),
            ("A{x}{y}", None, false),
            ("A}{x}", None, false),
            ("{{}}", None, false),
        ];
        for (text, trailing, literal) in CASES {
            assert_eq!(trailing_field(text), trailing, "{text}");
            assert_eq!(is_literal(text), literal, "{text}");
        }
    }

    #[test]
    fn renders_literals_fields_widths_and_escapes() {
        let (attribute, value) = SK.render(&[&42u32, &"o1"]).into_parts();
        assert_eq!(attribute, "sk");
        assert_eq!(value.unwrap(), s("ORDER#000042#o1{x}"));
        // Literal keys, with and without escaped braces.
        let literal: KeyTemplate<Order> = KeyTemplate::new("sk", "PROFILE");
        assert_eq!(literal.render(&[]).into_parts().1.unwrap(), s("PROFILE"));
        let braces: KeyTemplate<Order> = KeyTemplate::new("sk", "A{{b}}");
        assert_eq!(braces.render(&[]).into_parts().1.unwrap(), s("A{b}"));
    }

    #[test]
    fn rejects_empty_values_and_separators_in_multi_field_templates() {
        let err = SK.render(&[&1u32, &""]).into_parts().1.unwrap_err();
        assert_eq!(err.kind, KeyErrorKind::Empty);
        let err = SK.render(&[&1u32, &"a#b"]).into_parts().1.unwrap_err();
        assert_eq!(err.kind, KeyErrorKind::ContainsSeparator { separator: "#" });
        assert_eq!(
            err.to_string(),
            "cannot build key attribute `sk` of `Order` from field `id`: \
             the value contains the key separator \"#\""
        );
        // A single-field template has no separator to protect.
        assert!(PK.render(&[&"a#b"]).into_parts().1.is_ok());
    }

    #[test]
    fn sort_key_conditions() {
        assert_eq!(
            SK.sort_key().base,
            Some(SortKeyCondition::BeginsWith("ORDER#".into()))
        );
        let literal: KeyTemplate<Order> = KeyTemplate::new("sk", "PROFILE");
        assert_eq!(
            literal.sort_key().base,
            Some(SortKeyCondition::Equal(s("PROFILE")))
        );
        assert_eq!(
            SK.equal(&[&7u32]).unwrap(),
            SortKeyCondition::BeginsWith("ORDER#000007#".into())
        );
        assert_eq!(
            SK.equal(&[&7u32, &"o"]).unwrap(),
            SortKeyCondition::Equal(s("ORDER#000007#o{x}"))
        );
        assert_eq!(
            SK.begins_with(&[&7u32], "o").unwrap(),
            SortKeyCondition::BeginsWith("ORDER#000007#o".into())
        );
        assert!(SK.begins_with(&[&7u32], "a#").is_err());
        assert_eq!(
            SK.lt(&[&7u32]).unwrap(),
            SortKeyCondition::text_lt("ORDER#".into(), "ORDER#000007".into())
        );
        assert_eq!(
            SK.le(&[&7u32]).unwrap(),
            SortKeyCondition::text_le("ORDER#".into(), "ORDER#000007".into(), false)
        );
        assert_eq!(
            SK.between(&[&7u32], &"a", &"b").unwrap(),
            SortKeyCondition::text_between("ORDER#000007#a".into(), "ORDER#000007#b".into(), false)
        );
    }

    #[test]
    fn reads_fields_back_out_of_keys() {
        let raw: Attributes = [
            ("pk".to_owned(), s("CUSTOMER#c1")),
            ("sk".to_owned(), s("ORDER#000042#o#1{x}")),
        ]
        .into();
        let keys = KeyFields::read(&raw, &[&PK, &SK]).unwrap();
        assert_eq!(keys.get::<String>("id").unwrap(), "c1");
        assert_eq!(keys.get::<u32>("n").unwrap(), 42);
        let other: Attributes = [
            ("pk".to_owned(), s("PRODUCT#p1")),
            ("sk".to_owned(), s("ORDER#1#o{x}")),
        ]
        .into();
        assert_eq!(
            KeyFields::read(&other, &[&PK]).unwrap_err(),
            ("pk", "PRODUCT#p1".to_owned())
        );
        assert!(matches!(
            KeyFields::read(&other, &[&SK]).unwrap().get::<u32>("id"),
            Err(RowError::Skip("id"))
        ));
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;
        use crate::Date;

        const KEY: KeyTemplate<Order> =
            KeyTemplate::new("sk", "K#{n:010}#{at}#{day}#{id}#{code:03}#{name}");

        /// Text with no separator, never empty: what a multi-field
        /// template accepts.
        fn text() -> impl Strategy<Value = String> {
            "[^#]{1,12}"
        }

        fn timestamp() -> impl Strategy<Value = Timestamp> {
            // Years 0000 to 9999, to the nanosecond.
            (-62_167_219_200_000_000_000i128..253_402_300_800_000_000_000)
                .prop_map(|ns| Timestamp::from_nanosecond(ns).unwrap())
        }

        fn date() -> impl Strategy<Value = Date> {
            (0i16..=9999, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| Date::new(y, m, d).unwrap())
        }

        fn render(values: &[&dyn KeyPart]) -> String {
            match KEY.render(values).into_parts().1.unwrap() {
                AttributeValue::S(s) => s,
                other => panic!("not text: {other:?}"),
            }
        }

        /// `PREFIX{id}` through the general walk: the template with an
        /// escaped brace in front, which is the same key text.
        const TRAILING: KeyTemplate<Order> = KeyTemplate::new("pk", "P#{id}");
        const WALKED: KeyTemplate<Order> = KeyTemplate::new("pk", "{{{id}");

        proptest! {
            /// The short path of a `LITERAL{field}` template renders and
            /// checks keys as the general walk does, for any text,
            /// empty (refused) included.
            #[test]
            fn trailing_field_templates_agree_with_the_walk(id in ".{0,12}", other in ".{0,12}") {
                prop_assert!(TRAILING.template.trailing.is_some() && WALKED.template.trailing.is_none());
                let fast = TRAILING.render(&[&id]).into_parts().1;
                let walked = WALKED.render(&[&id]).into_parts().1;
                match (fast, walked) {
                    (Ok(AttributeValue::S(f)), Ok(AttributeValue::S(w))) => {
                        prop_assert_eq!(f.strip_prefix("P#"), w.strip_prefix('{'));
                    }
                    (f, w) => prop_assert_eq!(f.is_err(), w.is_err()),
                }
                for stored in [format!("P#{id}"), format!("P#{other}"), other.clone()] {
                    let walked = stored.strip_prefix("P#").map(|rest| format!("{{{rest}"));
                    prop_assert_eq!(
                        TRAILING.renders(&AttributeValue::S(stored.clone()), &[&id]),
                        walked.is_some_and(|w| WALKED.renders(&AttributeValue::S(w), &[&id])),
                        "{}", stored
                    );
                }
            }

            /// A rendered key reads back as the values it was rendered
            /// from, whatever they are.
            #[test]
            fn render_then_read_gives_the_values_back(
                n in any::<u32>(),
                at in timestamp(),
                day in date(),
                id in any::<u128>(),
                code in 0u16..1000,
                name in text(),
            ) {
                let id = Uuid::from_u128(id);
                let key = render(&[&n, &at, &day, &id, &code, &name]);
                let stored = AttributeValue::S(key.clone());
                prop_assert!(KEY.renders(&stored, &[&n, &at, &day, &id, &code, &name]));
                prop_assert!(!KEY.renders(&stored, &[&n.wrapping_add(1), &at, &day, &id, &code, &name]));
                let raw: Attributes = [("sk".to_owned(), AttributeValue::S(key.clone()))].into();
                let fields = KeyFields::read(&raw, &[&KEY]);
                prop_assert!(fields.is_ok(), "{key} does not parse");
                let fields = fields.unwrap();
                prop_assert_eq!(fields.get::<u32>("n").ok(), Some(n));
                prop_assert_eq!(fields.get::<Timestamp>("at").ok(), Some(at));
                prop_assert_eq!(fields.get::<Date>("day").ok(), Some(day));
                prop_assert_eq!(fields.get::<Uuid>("id").ok(), Some(id));
                prop_assert_eq!(fields.get::<u16>("code").ok(), Some(code));
                prop_assert_eq!(fields.get::<String>("name").ok(), Some(name));
            }

            /// Text order of rendered keys is value order, field by field,
            /// for every type that gets range methods at a fixed width.
            #[test]
            fn text_order_is_value_order(
                a in (any::<u32>(), timestamp(), date(), any::<u128>()),
                b in (any::<u32>(), timestamp(), date(), any::<u128>()),
            ) {
                let (ua, ub) = (Uuid::from_u128(a.3), Uuid::from_u128(b.3));
                let ka = render(&[&a.0, &a.1, &a.2, &ua, &1u16, &"x"]);
                let kb = render(&[&b.0, &b.1, &b.2, &ub, &1u16, &"x"]);
                let values = (a.0, a.1, a.2, ua.as_u128()).cmp(&(b.0, b.1, b.2, ub.as_u128()));
                prop_assert_eq!(ka.cmp(&kb), values, "{} vs {}", ka, kb);
            }

            /// Signed integers at their type's width (the narrowest the
            /// generator accepts without a warning): text order is value
            /// order, negative values included, and the text reads back.
            #[test]
            fn signed_text_order_is_value_order(
                a in (any::<i8>(), any::<i16>(), any::<i32>(), any::<i64>()),
                b in (any::<i8>(), any::<i16>(), any::<i32>(), any::<i64>()),
            ) {
                let ka = render_signed(&[&a.0, &a.1, &a.2, &a.3]);
                let kb = render_signed(&[&b.0, &b.1, &b.2, &b.3]);
                prop_assert_eq!(ka.cmp(&kb), a.cmp(&b), "{} vs {}", ka, kb);
                let raw: Attributes = [("sk".to_owned(), AttributeValue::S(ka.clone()))].into();
                let fields = KeyFields::read(&raw, &[&SIGNED]).unwrap();
                prop_assert_eq!(fields.get::<i8>("a").ok(), Some(a.0));
                prop_assert_eq!(fields.get::<i16>("b").ok(), Some(a.1));
                prop_assert_eq!(fields.get::<i32>("c").ok(), Some(a.2));
                prop_assert_eq!(fields.get::<i64>("d").ok(), Some(a.3));
            }

            /// Values wider than a narrow width still read back (they sort
            /// out of order, which the generator warns about).
            #[test]
            fn narrow_signed_values_read_back(v in any::<i64>(), width in 1usize..=38) {
                let mut text = String::new();
                write_signed(&mut text, v, Some(width));
                prop_assert_eq!(parse_signed(&text, Some(width)), Some(v), "{}", text);
            }

            /// A datetime or date before year 0 is refused in a key (its
            /// text would sort out of order); from year 0 it is rendered.
            #[test]
            fn datetimes_before_year_zero_are_refused(ns in any::<i128>(), year in -9999i16..=9999) {
                let at = Timestamp::from_nanosecond(ns % 253_402_207_200_000_000_000);
                if let Ok(at) = at {
                    let before = at.to_zoned(jiff::tz::TimeZone::UTC).year() < 0;
                    let rendered = KEY.render(&[&1u32, &at]).into_parts().1;
                    prop_assert_eq!(rendered.is_err(), before);
                }
                let day = Date::new(year, 1, 1).unwrap();
                let rendered = KEY.render(&[&1u32, &Timestamp::UNIX_EPOCH, &day]).into_parts().1;
                match rendered {
                    Err(e) => {
                        prop_assert!(year < 0);
                        prop_assert_eq!(e.kind, KeyErrorKind::Unsortable);
                    }
                    Ok(_) => prop_assert!(year >= 0),
                }
            }
        }

        const SIGNED: KeyTemplate<Order> =
            KeyTemplate::new("sk", "S#{a:03}#{b:05}#{c:010}#{d:019}");

        fn render_signed(values: &[&dyn KeyPart]) -> String {
            match SIGNED.render(values).into_parts().1.unwrap() {
                AttributeValue::S(s) => s,
                other => panic!("not text: {other:?}"),
            }
        }

        #[test]
        fn negative_values_render_as_complements() {
            assert_eq!(
                render_signed(&[&-5i8, &-10i16, &0i32, &42i64]),
                "S#-995#-99990#0000000000#0000000000000000042"
            );
            assert_eq!(
                render_signed(&[&i8::MIN, &i16::MIN, &i32::MIN, &i64::MIN]),
                "S#-872#-67232#-7852516352#-0776627963145224192"
            );
        }
    }
}
