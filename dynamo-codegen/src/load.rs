//! Stage 1: read schema files and parse them into raw structs that mirror
//! the TOML, with spans for every value diagnostics may point at. Nothing is
//! checked here beyond TOML syntax and the shape of each table.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
};

use serde::{
    Deserialize, Deserializer,
    de::{self, MapAccess, value::MapAccessDeserializer},
};
use toml::Spanned;

use crate::{
    Error,
    diagnostics::{Diagnostic, Diagnostics, SourceFile, did_you_mean},
};

/// One parsed schema file (one table and its item types).
#[derive(Debug)]
pub struct RawFile {
    /// The file, for diagnostics.
    pub source: Arc<SourceFile>,
    /// The file name relative to the schema folder, e.g. `shop.toml`.
    pub relative_name: String,
    /// The parsed contents.
    pub schema: RawSchema,
}

/// The top level of a schema file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchema {
    /// `[table]`
    pub table: Spanned<RawTable>,
    /// `[item.Name]` tables, keyed by item type name.
    #[serde(default)]
    pub item: BTreeMap<Spanned<String>, Spanned<RawItem>>,
}

/// `[table]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTable {
    /// The logical table name.
    pub name: Spanned<String>,
    /// The partition key attribute.
    pub partition_key: Spanned<RawKeyAttribute>,
    /// The sort key attribute.
    pub sort_key: Option<Spanned<RawKeyAttribute>>,
}

/// A key attribute: `"pk"` or `{ name = "pk", type = "S" }`.
#[derive(Debug)]
pub struct RawKeyAttribute {
    /// The attribute name.
    pub name: Spanned<String>,
    /// `S`, `N` or `B`; `None` means the default, `S`.
    pub ty: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyAttributeTable {
    name: Spanned<String>,
    #[serde(rename = "type")]
    ty: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for RawKeyAttribute {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = RawKeyAttribute;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"an attribute name, or a table like { name = "pk", type = "S" }"#)
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
                // The caller's Spanned covers the whole value, which is this string.
                Ok(RawKeyAttribute {
                    name: Spanned::new(0..0, name.to_owned()),
                    ty: None,
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let t = RawKeyAttributeTable::deserialize(MapAccessDeserializer::new(map))?;
                Ok(RawKeyAttribute {
                    name: t.name,
                    ty: t.ty,
                })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `[item.Name]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawItem {
    /// `[item.Name.keys]`: key attribute to template.
    pub keys: Spanned<BTreeMap<Spanned<String>, Spanned<String>>>,
    /// `[item.Name.fields]`: field name to definition.
    #[serde(default)]
    pub fields: BTreeMap<Spanned<String>, Spanned<RawField>>,
}

/// A field: `"string"` or `{ type = "string", optional = true }`.
#[derive(Debug)]
pub struct RawField {
    /// The type name; an empty span means it was the shorthand string.
    pub ty: Spanned<String>,
    /// `optional = true`.
    pub optional: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFieldTable {
    #[serde(rename = "type")]
    ty: Spanned<String>,
    optional: Option<Spanned<bool>>,
}

impl<'de> Deserialize<'de> for RawField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = RawField;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a type name, or a table like { type = "string", optional = true }"#)
            }

            fn visit_str<E: de::Error>(self, ty: &str) -> Result<Self::Value, E> {
                Ok(RawField {
                    ty: Spanned::new(0..0, ty.to_owned()),
                    optional: None,
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let t = RawFieldTable::deserialize(MapAccessDeserializer::new(map))?;
                Ok(RawField {
                    ty: t.ty,
                    optional: t.optional,
                })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Fills a shorthand value's empty span with the span of the whole value.
pub(crate) fn span_or(
    inner: &Spanned<String>,
    outer: std::ops::Range<usize>,
) -> std::ops::Range<usize> {
    if inner.span().is_empty() {
        outer
    } else {
        inner.span()
    }
}

/// The schema files of `dir`: `*.toml` directly inside it, sorted by name.
pub fn schema_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| Error::Io {
                path: dir.to_owned(),
                source,
            })?
            .path();
        if path.is_file() && path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads and parses every schema file of `dir`. Files that do not parse
/// are reported in `diagnostics` and left out.
pub fn load_dir(dir: &Path, diagnostics: &mut Diagnostics) -> Result<Vec<RawFile>, Error> {
    let mut files = Vec::new();
    for path in schema_files(dir)? {
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let relative_name = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let source = Arc::new(SourceFile {
            name: path.display().to_string(),
            text,
        });
        if let Some(file) = parse(source, relative_name, diagnostics) {
            files.push(file);
        }
    }
    Ok(files)
}

/// Parses one file's text, reporting a syntax or shape error as a diagnostic.
pub fn parse(
    source: Arc<SourceFile>,
    relative_name: String,
    diagnostics: &mut Diagnostics,
) -> Option<RawFile> {
    match toml::from_str::<RawSchema>(&source.text) {
        Ok(schema) => Some(RawFile {
            source,
            relative_name,
            schema,
        }),
        Err(error) => {
            diagnostics.push(toml_diagnostic(&source, &error));
            None
        }
    }
}

/// Turns a TOML or serde error into a diagnostic, with "did you mean" for
/// unknown keys.
fn toml_diagnostic(source: &Arc<SourceFile>, error: &toml::de::Error) -> Diagnostic {
    let span = error.span().unwrap_or(0..0);
    let message = error.message().trim_end().to_owned();
    if let Some((unknown, expected)) = parse_unknown_field(&message) {
        let mut d = Diagnostic::error(
            "dynamo::unknown_key",
            source,
            span,
            format!("unknown key `{unknown}`"),
            "not a key of this table",
        );
        let suggestion = did_you_mean(&unknown, expected.iter().map(String::as_str));
        let list = expected
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join(", ");
        d = d.help(match suggestion {
            Some(s) => format!("did you mean `{s}`? The keys allowed here are {list}"),
            None if expected.is_empty() => "no keys are allowed here".to_owned(),
            None => format!("the keys allowed here are {list}"),
        });
        return d;
    }
    if let Some(missing) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        return Diagnostic::error(
            "dynamo::missing_key",
            source,
            span,
            format!("missing key `{missing}`"),
            format!("this table needs `{missing}`"),
        )
        .help(format!(
            "add `{missing} = ...` to this table (see docs/schema.md)"
        ));
    }
    Diagnostic::error("dynamo::toml", source, span, message, "here")
        .help("schema files are TOML 1.0; docs/schema.md lists every key and the type of its value")
}

/// Splits serde's "unknown field `x`, expected one of `a`, `b`" (or
/// "expected `a`", or "there are no fields") into its names.
fn parse_unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some((unknown.to_owned(), expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> (Option<RawFile>, Diagnostics) {
        let mut diagnostics = Diagnostics::default();
        let source = Arc::new(SourceFile {
            name: "t.toml".into(),
            text: text.into(),
        });
        (
            parse(source, "t.toml".into(), &mut diagnostics),
            diagnostics,
        )
    }

    #[test]
    fn parses_shorthand_and_tables() {
        let (file, d) = load(
            r#"
            [table]
            name = "shop"
            partition_key = "pk"
            sort_key = { name = "sk", type = "S" }
            [item.A.keys]
            pk = "A#{id}"
            [item.A.fields]
            id = "string"
            n = { type = "u32", optional = true }
            "#,
        );
        assert!(!d.has_errors(), "{}", d.render());
        let file = file.unwrap();
        let table = file.schema.table.get_ref();
        assert_eq!(table.partition_key.get_ref().name.get_ref(), "pk");
        let sk = table.sort_key.as_ref().unwrap().get_ref();
        assert_eq!(sk.ty.as_ref().unwrap().get_ref(), "S");
        let item = file.schema.item.values().next().unwrap().get_ref();
        assert_eq!(item.fields.len(), 2);
    }

    #[test]
    fn unknown_key_suggests_the_closest() {
        let (file, d) = load("[table]\nnmae = \"shop\"\npartition_key = \"pk\"\n");
        assert!(file.is_none());
        let diag = d.iter().next().unwrap();
        assert_eq!(diag.code, "dynamo::unknown_key");
        assert_eq!(&diag.file.text[diag.span.clone()], "nmae");
        assert!(
            diag.help
                .as_deref()
                .unwrap()
                .starts_with("did you mean `name`?")
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let (_, d) = load("[table\nname = 1");
        let diag = d.iter().next().unwrap();
        assert_eq!(diag.code, "dynamo::toml");
        assert!(diag.span.start <= 7);
    }
}
