//! Key templates such as `ORDER#{placed_on}#{order_id}`: the one parser of
//! their text, used by the generator to check them and by the runtime to
//! render, prefix, range and parse keys.
//!
//! `{field}` inserts a field's value, `{field:0N}` zero-pads an integer to N
//! digits, `{{` and `}}` are literal braces, anything else is literal.
//! Templates of computed attributes (not keys) may also change the case of
//! a value: `{field:lower}`, `{field:upper}`.

use std::ops::Range;

use super::{Text, text};

/// A piece of a template's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Literal text (an escaped brace is a literal of its own).
    Literal(&'a str),
    /// A field's value.
    Field {
        /// The field's name as the schema writes it.
        name: &'a str,
        /// The zero-padded width, from `{name:0N}`.
        width: Option<usize>,
        /// The case the value is written in, from `{name:lower}` or
        /// `{name:upper}` (computed attributes only).
        case: Option<Case>,
    },
}

/// The case a computed attribute writes a value in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Case {
    /// `{name:lower}`: Unicode lower case.
    Lower,
    /// `{name:upper}`: Unicode upper case.
    Upper,
}

impl Case {
    /// `text` in this case.
    pub fn apply(self, text: &str) -> String {
        match self {
            Case::Lower => text.to_lowercase(),
            Case::Upper => text.to_uppercase(),
        }
    }
}

/// A malformed template: what is wrong, where in the text, and how to fix
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// What is wrong.
    pub message: String,
    /// Byte range within the template text.
    pub span: Range<usize>,
    /// How to fix it.
    pub help: &'static str,
}

/// The pieces of a template, each with its byte range (for a field, the
/// range of its name). Iteration stops after an error.
#[derive(Debug, Clone)]
pub struct Pieces<'a> {
    text: &'a str,
    at: usize,
    failed: bool,
}

/// Splits `text` into literal text and fields, without allocating.
pub fn pieces(text: &str) -> Pieces<'_> {
    Pieces {
        text,
        at: 0,
        failed: false,
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Result<(Range<usize>, Piece<'a>), TemplateError>;

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.text;
        let start = self.at;
        if self.failed || start >= text.len() {
            return None;
        }
        let bytes = &text.as_bytes()[start..];
        let item = match bytes[0] {
            b'{' | b'}' if bytes.get(1) == Some(&bytes[0]) => {
                self.at = start + 2;
                Ok((start..start + 2, Piece::Literal(&text[start..start + 1])))
            }
            b'}' => Err(TemplateError {
                message: "unmatched `}` in key template".into(),
                span: start..start + 1,
                help: "write `}}` for a literal brace",
            }),
            b'{' => {
                let inner = start + 1;
                match text[inner..].find(['{', '}']).map(|n| inner + n) {
                    Some(end) if text.as_bytes()[end] == b'}' => {
                        self.at = end + 1;
                        placeholder(&text[inner..end], inner)
                    }
                    _ => Err(TemplateError {
                        message: "unclosed placeholder in key template".into(),
                        span: start..text.len(),
                        help: "close it with `}`, or write `{{` for a literal brace",
                    }),
                }
            }
            _ => {
                let end = text[start..]
                    .find(['{', '}'])
                    .map_or(text.len(), |n| start + n);
                self.at = end;
                Ok((start..end, Piece::Literal(&text[start..end])))
            }
        };
        self.failed = item.is_err();
        Some(item)
    }
}

fn placeholder(inner: &str, offset: usize) -> Result<(Range<usize>, Piece<'_>), TemplateError> {
    let (name, width, case) = match inner.split_once(':') {
        Some((name, "lower")) => (name, None, Some(Case::Lower)),
        Some((name, "upper")) => (name, None, Some(Case::Upper)),
        Some((name, spec)) => {
            let width = spec
                .strip_prefix('0')
                .and_then(|w| w.parse::<usize>().ok())
                .filter(|w| (1..=38).contains(w))
                .ok_or_else(|| TemplateError {
                    message: format!("invalid width `{spec}`"),
                    span: offset + name.len() + 1..offset + inner.len(),
                    help: "a width is `0` then the number of digits, from 1 to 38, e.g. `{position:08}`; a computed attribute may write `{name:lower}` or `{name:upper}`",
                })?;
            (name, Some(width), None)
        }
        None => (inner, None, None),
    };
    if name.is_empty() {
        return Err(TemplateError {
            message: "empty placeholder in key template".into(),
            span: offset - 1..offset + inner.len() + 1,
            help: "a placeholder names a field of the item, e.g. `{id}`",
        });
    }
    Ok((
        offset..offset + name.len(),
        Piece::Field { name, width, case },
    ))
}

/// A key template as data: the attribute it fills and its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Template {
    /// The key attribute it renders.
    pub attribute: Text,
    /// The template text, e.g. `ORDER#{placed_on}#{order_id}`.
    pub text: Text,
}

impl Template {
    /// The template for `attribute` with `text` (generated statics).
    pub const fn new(attribute: &'static str, template: &'static str) -> Self {
        Template {
            attribute: text(attribute),
            text: text(template),
        }
    }

    /// The pieces of the text.
    pub fn pieces(&self) -> Pieces<'_> {
        pieces(&self.text)
    }

    /// The fields, each once, in order of first use.
    pub fn fields(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for piece in self.pieces().flatten() {
            if let (_, Piece::Field { name, .. }) = piece
                && !out.contains(&name)
            {
                out.push(name);
            }
        }
        out
    }
}

/// A field a stored-data template reads (a migration's backfill): its
/// name in the template, where it is stored and how.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TemplateField {
    /// The field's name, as templates write it.
    pub name: Text,
    /// The attribute it is stored in.
    pub attribute: Text,
    /// How it is stored, so it renders as generated code renders it.
    pub format: FieldFormat,
}

impl TemplateField {
    /// A field for generated statics.
    pub const fn new(name: &'static str, attribute: &'static str, format: FieldFormat) -> Self {
        TemplateField {
            name: text(name),
            attribute: text(attribute),
            format,
        }
    }
}

/// How a template field is stored, and so how it is read and rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldFormat {
    /// Stored as text and rendered as stored (strings, enums, dates, uuids).
    Text,
    /// A signed integer (`N`).
    Signed,
    /// An unsigned integer (`N`).
    Unsigned,
    /// An exact decimal (`N`).
    Number,
    /// A float (`N`).
    Float,
    /// A boolean (`BOOL`).
    Bool,
    /// A datetime stored as RFC 3339 text.
    Timestamp,
    /// A datetime stored as epoch seconds.
    EpochSeconds,
    /// A datetime stored as epoch milliseconds.
    EpochMillis,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<(Range<usize>, Piece<'_>)>, TemplateError> {
        pieces(text).collect()
    }

    #[test]
    fn literals_fields_widths_and_escapes() {
        assert_eq!(
            parse("ORDER#{pos:08}#{id}{{x}}").unwrap(),
            vec![
                (0..6, Piece::Literal("ORDER#")),
                (
                    7..10,
                    Piece::Field {
                        name: "pos",
                        width: Some(8),
                        case: None,
                    }
                ),
                (14..15, Piece::Literal("#")),
                (
                    16..18,
                    Piece::Field {
                        name: "id",
                        width: None,
                        case: None,
                    }
                ),
                (19..21, Piece::Literal("{")),
                (21..22, Piece::Literal("x")),
                (22..24, Piece::Literal("}")),
            ]
        );
        assert_eq!(
            parse("PROFILE").unwrap(),
            vec![(0..7, Piece::Literal("PROFILE"))]
        );
        // Fields are named as the schema writes them.
        assert_eq!(
            parse("{userId}").unwrap(),
            vec![(
                1..7,
                Piece::Field {
                    name: "userId",
                    width: None,
                    case: None,
                }
            )]
        );
    }

    #[test]
    fn malformed_templates_are_located() {
        assert_eq!(parse("A#{id").unwrap_err().span, 2..5);
        assert_eq!(
            parse("A#{id{x}").unwrap_err().message,
            "unclosed placeholder in key template"
        );
        assert_eq!(parse("A}").unwrap_err().span, 1..2);
        assert_eq!(
            parse("A{}").unwrap_err().message,
            "empty placeholder in key template"
        );
        assert_eq!(parse("{n:8}").unwrap_err().message, "invalid width `8`");
        assert_eq!(parse("{n:0}").unwrap_err().span, 3..4);
        assert_eq!(parse("{n:Lower}").unwrap_err().span, 3..8);
    }

    #[test]
    fn case_modifiers() {
        assert_eq!(
            parse("{name:lower} {name:upper}").unwrap(),
            vec![
                (
                    1..5,
                    Piece::Field {
                        name: "name",
                        width: None,
                        case: Some(Case::Lower),
                    }
                ),
                (12..13, Piece::Literal(" ")),
                (
                    14..18,
                    Piece::Field {
                        name: "name",
                        width: None,
                        case: Some(Case::Upper),
                    }
                ),
            ]
        );
        assert_eq!(Case::Lower.apply("ÄBC Straße"), "äbc straße");
        assert_eq!(Case::Upper.apply("straße"), "STRASSE");
    }

    #[test]
    fn fields_in_order_of_first_use() {
        let t = Template::new("sk", "{a}#{b}#{a}");
        assert_eq!(t.fields(), ["a", "b"]);
    }
}
