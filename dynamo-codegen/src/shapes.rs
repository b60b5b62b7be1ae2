//! The item types `transform` steps read. Each is the item type as the
//! migrations recorded it before the step, written out as a schema file
//! and run through the same stages as any schema file, so the old shape
//! gets the same generated struct and decoding as a current item type,
//! and the compiler checks a transform against both shapes.

use std::{collections::BTreeMap, sync::Arc};

use proc_macro2::Ident;

use crate::{
    diagnostics::{Diagnostic, Diagnostics, SourceFile},
    ir::{self, FieldDef, ItemDef, KeyAttributeDef, KeyType, TransformShape},
    load::{self, to_toml::toml_value},
    names::{self, TableNames},
};

/// The old shapes one migration's transforms read: the module
/// `before_NNNN` of the migrations module, with one table module each.
#[derive(Debug, Clone)]
pub struct Shapes {
    /// The migration's number.
    pub migration: u32,
    /// `before_NNNN`.
    pub module: Ident,
    /// Each table's old item types, validated and named.
    pub tables: Vec<(ir::Table, TableNames)>,
}

/// The old shapes of every migration with `transform` steps. A recorded
/// item type that no longer makes a valid schema is a `dynamo::transform`
/// error in the migration file.
pub fn shapes(schema: &ir::Schema, diagnostics: &mut Diagnostics) -> Vec<Shapes> {
    let mut out = Vec::new();
    for m in schema
        .migrations
        .iter()
        .filter(|m| !m.transforms.is_empty())
    {
        let mut by_table: BTreeMap<&str, Vec<&TransformShape>> = BTreeMap::new();
        for t in &m.transforms {
            let entry = by_table.entry(&t.old.table).or_default();
            if !entry.iter().any(|x| x.old.name == t.old.name) {
                entry.push(t);
            }
        }
        let mut tables = Vec::new();
        let file = Arc::new(SourceFile {
            name: m.file.clone(),
            text: m.text.clone(),
        });
        for t in &m.transforms {
            let exists = schema.tables.iter().any(|table| {
                table.def.name == t.old.table && table.items.iter().any(|i| *i.name == *t.old.name)
            });
            if !exists {
                diagnostics.push(
                    Diagnostic::error(
                        "dynamo::transform",
                        &file,
                        0..0,
                        format!(
                            "step {} transforms `{}` of `{}`, which no schema file describes now",
                            t.step, t.old.name, t.old.table
                        ),
                        "this migration",
                    )
                    .help("a transform returns the schema's item type: keep the item type in the schema, or remove the step from a migration that was never applied"),
                );
            }
        }
        for (table, shapes) in by_table {
            let current = schema.tables.iter().find(|t| *t.def.name == *table);
            let text = schema_text(table, current.map(|t| &t.def), &shapes);
            let name = format!("{} (before {})", m.file, table);
            let source = Arc::new(SourceFile { name, text });
            let mut found = Diagnostics::default();
            let loaded = load::Loaded {
                files: load::parse(Arc::clone(&source), format!("{table}.toml"), &mut found)
                    .into_iter()
                    .collect(),
                migrations: Vec::new(),
            };
            let old = crate::validate::validate(&loaded, &mut found);
            let names = names::names(&old, &mut found);
            if found.has_errors() || old.tables.len() != 1 {
                let first = found
                    .iter()
                    .find(|d| d.severity == crate::diagnostics::Severity::Error)
                    .map_or_else(String::new, |d| d.message.clone());
                diagnostics.push(
                    Diagnostic::error(
                        "dynamo::transform",
                        &file,
                        0..0,
                        format!(
                            "the item types of `{table}` before this migration's transform make \
                             no valid schema: {first}"
                        ),
                        "this migration",
                    )
                    .help("write the step by hand as a data migration of your own, or record the item type again with a `define_item` step before it"),
                );
                continue;
            }
            let (Some(table), Some(table_names)) = (
                old.tables.into_iter().next(),
                names.tables.into_iter().next(),
            ) else {
                continue;
            };
            tables.push((table, table_names));
        }
        out.push(Shapes {
            migration: m.number,
            module: quote::format_ident!("before_{:04}", m.number),
            tables,
        });
    }
    out
}

/// A schema file of `table` holding the recorded item types `shapes`
/// read: the table's key and options as the schema has them now, each
/// item type's table key templates and fields. Nested types are not
/// recorded, so their values are JSON documents here.
fn schema_text(table: &str, def: Option<&ir::TableDef>, shapes: &[&TransformShape]) -> String {
    let key = |k: &KeyAttributeDef| {
        if k.ty == KeyType::S {
            toml::Value::String(k.name.to_string())
        } else {
            let mut t = toml::Table::new();
            t.insert("name".into(), toml::Value::String(k.name.to_string()));
            t.insert("type".into(), toml::Value::String(k.ty.name().to_owned()));
            toml::Value::Table(t)
        }
    };
    let (pk, sk) = &shapes[0].table_key;
    let mut t = toml::Table::new();
    t.insert("name".into(), toml::Value::String(table.to_owned()));
    t.insert("partition_key".into(), key(pk));
    if let Some(sk) = sk {
        t.insert("sort_key".into(), key(sk));
    }
    if let Some(def) = def {
        if def.type_attribute.is_empty() {
            t.insert("type_attribute".into(), toml::Value::Boolean(false));
        } else {
            t.insert(
                "type_attribute".into(),
                toml::Value::String(def.type_attribute.to_string()),
            );
        }
        t.insert(
            "key_separator".into(),
            toml::Value::String(def.key_separator.to_string()),
        );
    }
    let table_keys: Vec<&str> = std::iter::once(&*pk.name)
        .chain(sk.as_ref().map(|k| &*k.name))
        .collect();
    // Attributes the old shape does not model are kept by the transform
    // itself (`dynamo_runtime::__private::transform`), not by the shape.
    t.insert("keep_unmodeled".into(), toml::Value::Boolean(false));
    let mut items = toml::Table::new();
    for shape in shapes {
        items.insert(
            shape.old.name.to_string(),
            toml::Value::Table(item(&shape.old, &table_keys)),
        );
    }
    let mut root = toml::Table::new();
    root.insert("table".into(), toml::Value::Table(t));
    root.insert("item".into(), toml::Value::Table(items));
    toml::to_string(&root).unwrap_or_default()
}

fn item(old: &ItemDef, table_keys: &[&str]) -> toml::Table {
    let mut keys = toml::Table::new();
    for k in old
        .keys
        .iter()
        .filter(|k| table_keys.contains(&&*k.attribute))
    {
        keys.insert(
            k.attribute.to_string(),
            toml::Value::String(k.text.to_string()),
        );
    }
    let mut fields = toml::Table::new();
    for f in old.fields.iter() {
        fields.insert(f.name.to_string(), toml::Value::Table(field(f)));
    }
    let mut out = toml::Table::new();
    out.insert("keys".into(), toml::Value::Table(keys));
    out.insert("fields".into(), toml::Value::Table(fields));
    out
}

/// A type with each nested type's name (UpperCamelCase) as `json`.
fn without_nested(ty: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    for c in ty.chars().chain(std::iter::once('<')) {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if word.starts_with(|c: char| c.is_ascii_uppercase()) {
            out.push_str("json");
        } else {
            out.push_str(&word);
        }
        word.clear();
        out.push(c);
    }
    out.pop();
    out
}

fn field(f: &FieldDef) -> toml::Table {
    let mut t = toml::Table::new();
    let mut set = |k: &str, v: toml::Value| {
        t.insert(k.to_owned(), v);
    };
    match (&*f.ty, f.format.as_deref()) {
        ("custom", Some(format)) => {
            let (rust, stored) = format.rsplit_once(" as ").unwrap_or((format, "S"));
            set("type", toml::Value::String("custom".into()));
            set("rust", toml::Value::String(rust.to_owned()));
            set("stored", toml::Value::String(stored.to_owned()));
        }
        (ty, Some("encrypted")) => {
            set("type", toml::Value::String(ty.to_owned()));
            set("encrypted", toml::Value::Boolean(true));
        }
        (ty, format) => {
            set("type", toml::Value::String(without_nested(ty)));
            if let Some(format) = format {
                set("format", toml::Value::String(format.to_owned()));
            }
        }
    }
    if f.attribute != f.name {
        set("attribute", toml::Value::String(f.attribute.to_string()));
    }
    if let Some(template) = &f.computed {
        // Rendered from the shape's fields (optional as they are).
        set("computed", toml::Value::String(template.to_string()));
    } else if f.optional {
        set("optional", toml::Value::Boolean(true));
    }
    if let Some(default) = f.default.as_deref().and_then(toml_value) {
        set("default", default);
    }
    if !f.values.is_empty() {
        set(
            "values",
            toml::Value::Array(
                f.values
                    .iter()
                    .map(|v| toml::Value::String(v.to_string()))
                    .collect(),
            ),
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::{FieldDef, field, without_nested};

    #[test]
    fn nested_types_become_json() {
        assert_eq!(without_nested("Address"), "json");
        assert_eq!(without_nested("list<Address>"), "list<json>");
        assert_eq!(without_nested("map<list<u32>>"), "map<list<u32>>");
        assert_eq!(without_nested("set<string>"), "set<string>");
    }

    /// An encrypted field's old shape reads it sealed, as stored.
    #[test]
    fn encrypted_fields_stay_encrypted() {
        let def = FieldDef {
            name: "ssn".into(),
            attribute: "ssn".into(),
            ty: "string".into(),
            optional: true,
            default: None,
            values: Vec::new().into(),
            format: Some("encrypted".into()),
            computed: None,
        };
        let t = field(&def);
        assert_eq!(t["type"].as_str(), Some("string"));
        assert_eq!(t["encrypted"].as_bool(), Some(true));
        assert!(!t.contains_key("format"));
    }
}
