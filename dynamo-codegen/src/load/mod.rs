//! Stage 1: read schema and migration files and parse them into raw structs
//! that mirror the TOML, with spans for every value diagnostics may point
//! at. Nothing is checked here beyond TOML syntax and the shape of each
//! section; [`crate::validate`] does the rest.
//!
//! Each top-level section (`[table]`, every `[index.X]`, `[item.X]`,
//! `[type.X]`, `[collection.X]` and every migration `[[step]]`) is
//! deserialized on its own, so one malformed section does not hide the
//! problems of the others.
//!
//! The raw structs double as the source of the JSON Schema of the format
//! (feature `json-schema`): their doc comments are what editors show.

mod migration;
mod schema;
mod span;
pub mod to_toml;

use std::{
    collections::BTreeSet,
    ops::Range,
    path::{Path, PathBuf},
    sync::Arc,
};

use serde::Deserialize;
use toml::{
    Spanned,
    de::{DeTable, DeValue, ValueDeserializer},
};

pub use migration::*;
pub use schema::*;
pub use span::{Named, Sp, span_or};

use crate::{
    Error,
    diagnostics::{Diagnostic, Diagnostics, SourceFile, did_you_mean},
};

/// One parsed table file.
#[derive(Debug)]
pub struct RawFile {
    /// The file, for diagnostics.
    pub source: Arc<SourceFile>,
    /// The file name relative to the schema folder, e.g. `shop.toml`.
    pub relative_name: String,
    /// The sections that parsed.
    pub schema: RawSchema,
    /// Names of item and nested types whose section did not parse (already
    /// reported): references to them are not reported again.
    pub broken: BTreeSet<String>,
}

/// One parsed migration file.
#[derive(Debug)]
pub struct RawMigrationFile {
    /// The file, for diagnostics.
    pub source: Arc<SourceFile>,
    /// The file name, e.g. `0001_create_shop.toml`.
    pub file_name: String,
    /// The steps that parsed.
    pub migration: RawMigration,
    /// Whether some step did not parse (already reported).
    pub broken: bool,
}

/// Everything read from a schema folder.
#[derive(Debug, Default)]
pub struct Loaded {
    /// `*.toml` table files, by file name.
    pub files: Vec<RawFile>,
    /// `migrations/*.toml`, by file name.
    pub migrations: Vec<RawMigrationFile>,
}

/// The `*.toml` files directly inside `dir`, sorted by name; an absent
/// folder has none when `optional`.
pub fn toml_files(dir: &Path, optional: bool) -> Result<Vec<PathBuf>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if optional && e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Io {
                path: dir.to_owned(),
                source,
            });
        }
    };
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

/// Every file a run over `dir` reads: the table files, then the migrations.
pub fn schema_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files = toml_files(dir, false)?;
    files.extend(toml_files(&dir.join("migrations"), true)?);
    Ok(files)
}

fn read(path: &Path, dir: &Path) -> Result<(Arc<SourceFile>, String), Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let relative = path
        .strip_prefix(dir)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    let source = Arc::new(SourceFile {
        name: path.display().to_string(),
        text,
    });
    Ok((source, relative))
}

/// Reads and parses every table and migration file of `dir`. Problems go to
/// `diagnostics`; what parsed is returned.
pub fn load_dir(dir: &Path, diagnostics: &mut Diagnostics) -> Result<Loaded, Error> {
    let mut loaded = Loaded::default();
    for path in toml_files(dir, false)? {
        let (source, relative_name) = read(&path, dir)?;
        if let Some(file) = parse(source, relative_name, diagnostics) {
            loaded.files.push(file);
        }
    }
    let migrations = dir.join("migrations");
    for path in toml_files(&migrations, true)? {
        let (source, file_name) = read(&path, &migrations)?;
        if let Some(file) = parse_migration(source, file_name, diagnostics) {
            loaded.migrations.push(file);
        }
    }
    Ok(loaded)
}

/// The top-level tables of a file, or `None` after reporting syntax errors.
fn document<'a>(source: &'a Arc<SourceFile>, diagnostics: &mut Diagnostics) -> Option<DeTable<'a>> {
    let (root, errors) = DeTable::parse_recoverable(&source.text);
    if errors.is_empty() {
        return Some(root.into_inner());
    }
    for error in &errors {
        diagnostics.push(toml_diagnostic(source, error));
    }
    None
}

/// Deserializes one section, reporting a shape error.
fn section<T: for<'de> Deserialize<'de>>(
    source: &Arc<SourceFile>,
    value: Spanned<DeValue<'_>>,
    diagnostics: &mut Diagnostics,
) -> Option<Sp<T>> {
    match Sp::<T>::deserialize(ValueDeserializer::from(value)) {
        Ok(v) => Some(v),
        Err(error) => {
            diagnostics.push(toml_diagnostic(source, &error));
            None
        }
    }
}

/// Deserializes every entry of a `[kind.Name]` table separately.
fn sections<T: for<'de> Deserialize<'de>>(
    source: &Arc<SourceFile>,
    kind: &str,
    value: Spanned<DeValue<'_>>,
    out: &mut Named<T>,
    broken: &mut BTreeSet<String>,
    diagnostics: &mut Diagnostics,
) {
    let span = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        let d = Diagnostic::error(
            "dynamo::toml",
            source,
            span,
            format!("`{kind}` must be a table of named sections"),
            "not a table",
        )
        .help(format!("write `[{kind}.Name]` headers"));
        diagnostics.push(d);
        return;
    };
    for (name, value) in table {
        let key = Sp::new(name.span(), name.get_ref().to_string());
        match section(source, value, diagnostics) {
            Some(v) => {
                out.insert(key, v);
            }
            None => {
                broken.insert(key.get().clone());
            }
        }
    }
}

fn unknown_key(
    source: &Arc<SourceFile>,
    span: Range<usize>,
    unknown: &str,
    expected: &[&str],
) -> Diagnostic {
    let list = expected
        .iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Diagnostic::error(
        "dynamo::unknown_key",
        source,
        span,
        format!("unknown key `{unknown}`"),
        "not a key of this table",
    )
    .help(match did_you_mean(unknown, expected.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? The keys allowed here are {list}"),
        None => format!("the keys allowed here are {list}"),
    })
}

/// Parses one table file's text. Returns `None` when nothing usable parsed.
pub fn parse(
    source: Arc<SourceFile>,
    relative_name: String,
    diagnostics: &mut Diagnostics,
) -> Option<RawFile> {
    let mut schema = RawSchema::default();
    let mut broken = BTreeSet::new();
    {
        let root = document(&source, diagnostics)?;
        for (key, value) in root {
            let s = &source;
            match key.get_ref().as_ref() {
                "table" => schema.table = section(s, value, diagnostics),
                "index" => sections(
                    s,
                    "index",
                    value,
                    &mut schema.index,
                    &mut broken,
                    diagnostics,
                ),
                "item" => sections(s, "item", value, &mut schema.item, &mut broken, diagnostics),
                "type" => sections(
                    s,
                    "type",
                    value,
                    &mut schema.types,
                    &mut broken,
                    diagnostics,
                ),
                "union" => sections(
                    s,
                    "union",
                    value,
                    &mut schema.union,
                    &mut broken,
                    diagnostics,
                ),
                "collection" => sections(
                    s,
                    "collection",
                    value,
                    &mut schema.collection,
                    &mut broken,
                    diagnostics,
                ),
                other => diagnostics.push(unknown_key(
                    s,
                    key.span(),
                    other,
                    &["table", "index", "item", "type", "union", "collection"],
                )),
            }
        }
    }
    if schema.table.is_none() && !diagnostics.has_errors_in(&source) {
        let d = Diagnostic::error(
            "dynamo::missing_table",
            &source,
            0..0,
            format!("`{relative_name}` has no `[table]` section"),
            "every schema file describes one table",
        )
        .help("start the file with `[table]`, `name = \"...\"` and `partition_key = \"pk\"`");
        diagnostics.push(d);
    }
    schema.table.as_ref()?;
    Some(RawFile {
        source,
        relative_name,
        schema,
        broken,
    })
}

/// Parses one migration file's text.
pub fn parse_migration(
    source: Arc<SourceFile>,
    file_name: String,
    diagnostics: &mut Diagnostics,
) -> Option<RawMigrationFile> {
    let mut migration = RawMigration::default();
    let mut broken = false;
    {
        let root = document(&source, diagnostics)?;
        for (key, value) in root {
            match key.get_ref().as_ref() {
                "description" => {
                    migration.description = section(&source, value, diagnostics);
                    broken |= migration.description.is_none();
                }
                "step" => {
                    let span = value.span();
                    let DeValue::Array(steps) = value.into_inner() else {
                        let d = Diagnostic::error(
                            "dynamo::toml",
                            &source,
                            span,
                            "`step` must be an array of tables",
                            "not `[[step]]` tables",
                        )
                        .help("write each step as a `[[step]]` table with an `op`");
                        diagnostics.push(d);
                        broken = true;
                        continue;
                    };
                    for step in steps.iter().cloned() {
                        match parse_step(&source, step, diagnostics) {
                            Some(step) => migration.step.push(step),
                            None => broken = true,
                        }
                    }
                }
                other => {
                    diagnostics.push(unknown_key(
                        &source,
                        key.span(),
                        other,
                        &["description", "step"],
                    ));
                    broken = true;
                }
            }
        }
    }
    Some(RawMigrationFile {
        source,
        file_name,
        migration,
        broken,
    })
}

fn parse_step(
    source: &Arc<SourceFile>,
    step: Spanned<DeValue<'_>>,
    diagnostics: &mut Diagnostics,
) -> Option<Sp<RawStep>> {
    let span = step.span();
    let DeValue::Table(mut table) = step.into_inner() else {
        let d = Diagnostic::error(
            "dynamo::toml",
            source,
            span,
            "a step must be a table",
            "not a table",
        )
        .help("write each step as a `[[step]]` table with an `op`");
        diagnostics.push(d);
        return None;
    };
    let Some((_, op)) = table.remove_entry("op") else {
        let d = Diagnostic::error(
            "dynamo::missing_key",
            source,
            span.start..span.start + "[[step]]".len().min(span.len()),
            "step has no `op`",
            "this step",
        )
        .help(format!(
            "add `op = \"...\"`, one of {}",
            crate::ir::Step::OPS.map(|k| format!("`{k}`")).join(", ")
        ));
        diagnostics.push(d);
        return None;
    };
    let op_span = op.span();
    let Some(kind) = op.get_ref().as_str() else {
        let d = Diagnostic::error(
            "dynamo::step_kind",
            source,
            op_span,
            "`op` must be a string",
            "not a string",
        )
        .help(format!(
            "one of {}",
            crate::ir::Step::OPS.map(|k| format!("`{k}`")).join(", ")
        ));
        diagnostics.push(d);
        return None;
    };
    let rest = Spanned::new(span.clone(), DeValue::Table(table));
    let s = source;
    let step = match kind {
        "create_table" => RawStep::CreateTable(section(s, rest, diagnostics)?.0.into_inner()),
        "delete_table" => RawStep::DeleteTable(section(s, rest, diagnostics)?.0.into_inner()),
        "add_index" => RawStep::AddIndex(section(s, rest, diagnostics)?.0.into_inner()),
        "remove_index" => RawStep::RemoveIndex(section(s, rest, diagnostics)?.0.into_inner()),
        "update_ttl" => RawStep::UpdateTtl(section(s, rest, diagnostics)?.0.into_inner()),
        "update_stream" => RawStep::UpdateStream(section(s, rest, diagnostics)?.0.into_inner()),
        "update_protection" => {
            RawStep::UpdateProtection(section(s, rest, diagnostics)?.0.into_inner())
        }
        "update_billing" => RawStep::UpdateBilling(section(s, rest, diagnostics)?.0.into_inner()),
        "backfill" => RawStep::Backfill(section(s, rest, diagnostics)?.0.into_inner()),
        "define_item" => RawStep::DefineItem(section(s, rest, diagnostics)?.0.into_inner()),
        "drop_item" => RawStep::DropItem(section(s, rest, diagnostics)?.0.into_inner()),
        "rename_attribute" => {
            RawStep::RenameAttribute(section(s, rest, diagnostics)?.0.into_inner())
        }
        "map_values" => RawStep::MapValues(section(s, rest, diagnostics)?.0.into_inner()),
        "write_default" => RawStep::WriteDefault(section(s, rest, diagnostics)?.0.into_inner()),
        "remove_attribute" => {
            RawStep::RemoveAttribute(section(s, rest, diagnostics)?.0.into_inner())
        }
        "rename_item" => RawStep::RenameItem(section(s, rest, diagnostics)?.0.into_inner()),
        "rewrite_keys" => RawStep::RewriteKeys(section(s, rest, diagnostics)?.0.into_inner()),
        "transform" => RawStep::Transform(section(s, rest, diagnostics)?.0.into_inner()),
        other => {
            let list = crate::ir::Step::OPS.map(|k| format!("`{k}`")).join(", ");
            let d = Diagnostic::error(
                "dynamo::step_kind",
                source,
                op_span,
                format!("unknown step kind `{other}`"),
                "not a step kind",
            )
            .help(match did_you_mean(other, crate::ir::Step::OPS) {
                Some(k) => format!("did you mean `{k}`? The step kinds are {list}"),
                None => format!("the step kinds are {list}"),
            });
            diagnostics.push(d);
            return None;
        }
    };
    Some(Sp::new(span, step))
}

/// Turns a TOML or serde error into a diagnostic, with "did you mean" for
/// unknown keys.
fn toml_diagnostic(source: &Arc<SourceFile>, error: &toml::de::Error) -> Diagnostic {
    let span = error.span().unwrap_or(0..0);
    let message = error.message().trim_end().to_owned();
    if let Some((unknown, expected)) = parse_unknown_field(&message) {
        if expected.is_empty() {
            return Diagnostic::error(
                "dynamo::unknown_key",
                source,
                span,
                format!("unknown key `{unknown}`"),
                "not a key of this table",
            )
            .help("no keys are allowed here");
        }
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        return unknown_key(source, span, &unknown, &expected);
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
    if message.starts_with("invalid type:") {
        let expected = message.split_once(", expected ").map(|(_, e)| e.to_owned());
        let help = match (key_before(&source.text, span.start), expected) {
            (Some(key), Some(expected)) => {
                format!("`{key}` takes {expected}; docs/schema.md lists every key and its value")
            }
            _ => "docs/schema.md lists every key and the type of its value".to_owned(),
        };
        return Diagnostic::error(
            "dynamo::value_type",
            source,
            span,
            message,
            "wrong kind of value",
        )
        .help(help);
    }
    Diagnostic::error("dynamo::toml", source, span, message, "here")
        .help("schema files are TOML 1.0; docs/schema.md lists every key and the type of its value")
}

/// The key of `key = value` (also inside an inline table) when `value`
/// starts at `at`.
fn key_before(text: &str, at: usize) -> Option<&str> {
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let (key_part, rest) = text.get(line_start..at)?.rsplit_once('=')?;
    let key = key_part.rsplit([',', '{']).next()?.trim().trim_matches('"');
    (rest.trim().is_empty() && !key.is_empty() && !key.contains(['[', ' '])).then_some(key)
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
            billing = { read = 5, write = 2 }
            [index.gsi1]
            partition_key = "gsi1pk"
            projection = ["email"]
            [item.A.keys]
            pk = "A#{id}"
            [item.A.fields]
            id = "string"
            n = { type = "u32", optional = true, default = 3 }
            at = { type = "datetime", default = 2024-01-02T03:04:05Z }
            tags = { type = "list<string>", default = ["a", "b"] }
            "#,
        );
        assert!(!d.has_errors(), "{}", d.render());
        let file = file.unwrap();
        let table = file.schema.table.as_ref().unwrap();
        assert_eq!(table.partition_key.name.get(), "pk");
        let sk = table.sort_key.as_ref().unwrap();
        assert_eq!(sk.ty.as_ref().unwrap().get(), "S");
        assert!(matches!(
            table.billing.as_deref(),
            Some(RawBilling::Provisioned(_))
        ));
        let item = file.schema.item.values().next().unwrap();
        assert_eq!(item.fields.len(), 4);
        let at = item.fields.get("at").unwrap();
        assert!(matches!(at.default.as_deref(), Some(RawValue::Datetime(_))));
        let tags = item.fields.get("tags").unwrap();
        let Some(RawValue::Array(elements)) = tags.default.as_deref() else {
            panic!("not an array");
        };
        assert_eq!(&file.source.text[elements[1].span()], "\"b\"");
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
    fn a_broken_section_does_not_hide_the_others() {
        let (file, d) = load(
            "[table]\nname = \"shop\"\npartition_key = \"pk\"\n\
             [item.A]\nkyes = 1\n[item.B.fields]\nid = { type = \"string\", optinal = true }\n\
             [item.C.fields]\nid = \"string\"\n",
        );
        let codes: Vec<_> = d.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["dynamo::unknown_key", "dynamo::unknown_key"]);
        let file = file.unwrap();
        assert_eq!(file.schema.item.len(), 1);
        assert_eq!(
            file.broken.iter().map(String::as_str).collect::<Vec<_>>(),
            ["A", "B"]
        );
    }

    #[test]
    fn wrong_kinds_of_values_name_their_key() {
        let text = "[item.A.fields]\nid = { type = \"string\", optional = \"yes\" }\n";
        assert_eq!(
            key_before(text, text.find("\"yes").unwrap()),
            Some("optional")
        );
        assert_eq!(key_before("name = 42", 7), Some("name"));
        assert_eq!(key_before("[table]", 3), None);
    }

    #[test]
    fn syntax_errors_are_located() {
        let (_, d) = load("[table\nname = 1");
        let diag = d.iter().next().unwrap();
        assert_eq!(diag.code, "dynamo::toml");
        assert!(diag.span.start <= 7);
    }

    #[test]
    fn migration_steps_by_kind() {
        let mut d = Diagnostics::default();
        let source = Arc::new(SourceFile {
            name: "m.toml".into(),
            text: "description = \"x\"\n[[step]]\nop = \"delete_table\"\ntable = \"a\"\n\
                   [[step]]\nop = \"drop_table\"\ntable = \"a\"\n[[step]]\nop = \"add_index\"\n"
                .into(),
        });
        let m = parse_migration(source, "0001_x.toml".into(), &mut d).unwrap();
        assert_eq!(m.migration.step.len(), 1);
        assert!(m.broken);
        let codes: Vec<_> = d.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["dynamo::step_kind", "dynamo::missing_key"]);
        assert!(
            d.iter()
                .next()
                .unwrap()
                .help
                .as_deref()
                .unwrap()
                .contains("`delete_table`")
        );
    }
}
