//! Key templates as validation reads them: the runtime's parser
//! ([`dynamo_runtime::model::template`], the one parser of template text),
//! with runs of literal text merged and braces unescaped.

use std::ops::Range;

pub use dynamo_runtime::model::template::Case;
pub use dynamo_runtime::model::template::TemplateError;
use dynamo_runtime::model::template::{self as model, pieces};

/// A template piece before field names are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Literal(String),
    /// A placeholder.
    Placeholder {
        /// The field name, as the schema writes it.
        name: String,
        /// Byte range of the name within the template text.
        span: Range<usize>,
        /// The width, from `{name:0N}`.
        width: Option<usize>,
        /// The case, from `{name:lower}` or `{name:upper}`.
        case: Option<Case>,
    },
}

/// Splits a template into literal text and placeholders.
pub fn parse(text: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut out: Vec<Piece> = Vec::new();
    for piece in pieces(text) {
        match piece? {
            (_, model::Piece::Literal(literal)) => match out.last_mut() {
                Some(Piece::Literal(before)) => before.push_str(literal),
                _ => out.push(Piece::Literal(literal.to_owned())),
            },
            (span, model::Piece::Field { name, width, case }) => out.push(Piece::Placeholder {
                name: name.to_owned(),
                span,
                width,
                case,
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ph(name: &str, span: Range<usize>, width: Option<usize>) -> Piece {
        Piece::Placeholder {
            name: name.into(),
            span,
            width,
            case: None,
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
        // Placeholders name fields as the schema writes them.
        assert_eq!(parse("U#{userId}").unwrap()[1], ph("userId", 3..9, None));
    }

    #[test]
    fn malformed_templates_are_located() {
        assert_eq!(parse("A#{id").unwrap_err().span, 2..5);
        assert_eq!(parse("A}").unwrap_err().span, 1..2);
        assert_eq!(
            parse("A{}").unwrap_err().message,
            "empty placeholder in key template"
        );
        assert_eq!(parse("{n:0}").unwrap_err().span, 3..4);
    }
}
