//! What the executor needs from a migration that the IR leaves implicit:
//! each backfill field's attribute and storage format, the key separator,
//! and the table's type attribute. Both the generated migrations module
//! and the CLI read migrations through here, so they cannot disagree.

use crate::ir::{self, DateTimeFormat, FieldType, IntType, TemplatePart};

/// The default type attribute, for tables no schema file describes (any
/// more).
pub const DEFAULT_TYPE_ATTRIBUTE: &str = "_type";

/// How a template field is stored, as the runtime's `FieldFormat` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldFormat {
    /// Text rendered as stored.
    Text,
    /// A signed integer.
    Signed,
    /// An unsigned integer.
    Unsigned,
    /// An exact decimal.
    Number,
    /// A float.
    Float,
    /// A boolean.
    Bool,
    /// An RFC 3339 datetime.
    Timestamp,
    /// A datetime as epoch seconds.
    EpochSeconds,
    /// A datetime as epoch milliseconds.
    EpochMillis,
}

impl FieldFormat {
    /// The format of a field of type `ty`.
    pub fn of(ty: &FieldType) -> FieldFormat {
        match ty {
            FieldType::Bool => FieldFormat::Bool,
            FieldType::Int(IntType::I8 | IntType::I16 | IntType::I32 | IntType::I64) => {
                FieldFormat::Signed
            }
            FieldType::Int(_) => FieldFormat::Unsigned,
            FieldType::Float(_) => FieldFormat::Float,
            FieldType::Number => FieldFormat::Number,
            FieldType::DateTime(DateTimeFormat::Rfc3339) => FieldFormat::Timestamp,
            FieldType::DateTime(DateTimeFormat::EpochSeconds) => FieldFormat::EpochSeconds,
            FieldType::DateTime(DateTimeFormat::EpochMillis) => FieldFormat::EpochMillis,
            // Strings, enums, dates and uuids render as they are stored;
            // the validator admits no other type into a template.
            _ => FieldFormat::Text,
        }
    }

    /// The variant's name, shared with the runtime's enum.
    pub fn variant(self) -> &'static str {
        match self {
            FieldFormat::Text => "Text",
            FieldFormat::Signed => "Signed",
            FieldFormat::Unsigned => "Unsigned",
            FieldFormat::Number => "Number",
            FieldFormat::Float => "Float",
            FieldFormat::Bool => "Bool",
            FieldFormat::Timestamp => "Timestamp",
            FieldFormat::EpochSeconds => "EpochSeconds",
            FieldFormat::EpochMillis => "EpochMillis",
        }
    }
}

/// A backfill template with its fields resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template<'a> {
    /// The attribute written.
    pub attribute: &'a str,
    /// The template as written.
    pub text: &'a str,
    /// The key separator, when the template has more than one field.
    pub separator: Option<&'a str>,
    /// Its parts.
    pub parts: Vec<Part<'a>>,
}

/// A resolved template part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part<'a> {
    /// Literal text.
    Literal(&'a str),
    /// A field.
    Field {
        /// Its schema name.
        field: &'a str,
        /// Its attribute.
        attribute: &'a str,
        /// Its storage format.
        format: FieldFormat,
        /// Zero-padded width.
        width: Option<usize>,
    },
}

/// The type attribute of `table`: its schema file's, or the default.
pub fn type_attribute<'a>(schema: &'a ir::Schema, table: &str) -> &'a str {
    schema
        .tables
        .iter()
        .find(|t| t.def.name == table)
        .map_or(DEFAULT_TYPE_ATTRIBUTE, |t| t.type_attribute.as_str())
}

/// Resolves the templates of a backfill of `item` in `table`.
pub fn backfill<'a>(
    schema: &'a ir::Schema,
    table: &str,
    item: &str,
    set: &'a [ir::Template],
) -> Result<Vec<Template<'a>>, crate::Error> {
    let internal = || {
        crate::Error::Internal(format!(
            "backfill of `{item}` in `{table}`: the item type is not in the schemas"
        ))
    };
    let t = schema
        .tables
        .iter()
        .find(|t| t.def.name == table)
        .ok_or_else(internal)?;
    let it = t
        .items
        .iter()
        .find(|i| i.name == item)
        .ok_or_else(internal)?;
    set.iter()
        .map(|template| {
            let parts = template
                .parts
                .iter()
                .map(|part| match part {
                    TemplatePart::Literal(text) => Ok(Part::Literal(text)),
                    TemplatePart::Field { field, width } => {
                        let f = it.fields.get(*field).ok_or_else(internal)?;
                        Ok(Part::Field {
                            field: &f.name,
                            attribute: &f.attribute,
                            format: FieldFormat::of(&f.ty),
                            width: *width,
                        })
                    }
                })
                .collect::<Result<_, crate::Error>>()?;
            Ok(Template {
                attribute: &template.attribute,
                text: &template.text,
                separator: (template.field_count() > 1).then_some(t.key_separator.as_str()),
                parts,
            })
        })
        .collect()
}
