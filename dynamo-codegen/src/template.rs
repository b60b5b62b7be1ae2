//! Parsing key templates: `{field}` and `{field:08}` placeholders, `{{` and
//! `}}` for literal braces, anything else literal.

use std::ops::Range;

/// A template piece before field names are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Literal(String),
    /// A placeholder.
    Placeholder {
        /// The field name.
        name: String,
        /// Byte range of the name within the template text.
        span: Range<usize>,
        /// The width, from `{name:0N}`.
        width: Option<usize>,
    },
}

/// A malformed template: what is wrong, where in the template text, and how
/// to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// What is wrong.
    pub message: String,
    /// Byte range within the template text.
    pub span: Range<usize>,
    /// How to fix it.
    pub help: &'static str,
}

/// Splits a template into literal text and placeholders.
pub fn parse(text: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().is_some_and(|(_, c)| *c == '{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek().is_some_and(|(_, c)| *c == '}') => {
                chars.next();
                literal.push('}');
            }
            '}' => {
                return Err(TemplateError {
                    message: "unmatched `}` in key template".into(),
                    span: i..i + 1,
                    help: "write `}}` for a literal brace",
                });
            }
            '{' => {
                let start = i + 1;
                let end = text[start..]
                    .find(['}', '{'])
                    .map(|n| start + n)
                    .filter(|&n| text.as_bytes()[n] == b'}')
                    .ok_or_else(|| TemplateError {
                        message: "unclosed placeholder in key template".into(),
                        span: i..text.len(),
                        help: "close it with `}`, or write `{{` for a literal brace",
                    })?;
                while chars.peek().is_some_and(|(j, _)| *j <= end) {
                    chars.next();
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(placeholder(&text[start..end], start)?);
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

fn placeholder(inner: &str, offset: usize) -> Result<Piece, TemplateError> {
    let (name, width) = match inner.split_once(':') {
        Some((name, spec)) => {
            let spec_span = offset + name.len() + 1..offset + inner.len();
            let width = spec
                .strip_prefix('0')
                .and_then(|w| w.parse::<usize>().ok())
                .filter(|w| (1..=38).contains(w))
                .ok_or_else(|| TemplateError {
                    message: format!("invalid width `{spec}`"),
                    span: spec_span,
                    help: "a width is `0` then the number of digits, from 1 to 38, e.g. `{position:08}`",
                })?;
            (name, Some(width))
        }
        None => (inner, None),
    };
    let span = offset..offset + name.len();
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(TemplateError {
            message: if name.is_empty() {
                "empty placeholder in key template".into()
            } else {
                format!("`{name}` is not a field name")
            },
            span: if name.is_empty() {
                offset.saturating_sub(1)..offset + inner.len() + 1
            } else {
                span
            },
            help: "a placeholder names a field of the item, e.g. `{id}`",
        });
    }
    Ok(Piece::Placeholder {
        name: name.to_owned(),
        span,
        width,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ph(name: &str, span: Range<usize>, width: Option<usize>) -> Piece {
        Piece::Placeholder {
            name: name.into(),
            span,
            width,
        }
    }

    #[test]
    fn literals_placeholders_widths_and_escapes() {
        assert_eq!(
            parse("ORDER#{pos:08}#{id}{{x}}").unwrap(),
            vec![
                Piece::Literal("ORDER#".into()),
                ph("pos", 7..10, Some(8)),
                Piece::Literal("#".into()),
                ph("id", 16..18, None),
                Piece::Literal("{x}".into()),
            ]
        );
        assert_eq!(
            parse("PROFILE").unwrap(),
            vec![Piece::Literal("PROFILE".into())]
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
        assert_eq!(parse("{Id}").unwrap_err().span, 1..3);
        assert_eq!(parse("{n:8}").unwrap_err().message, "invalid width `8`");
        assert_eq!(parse("{n:0}").unwrap_err().span, 3..4);
    }
}
