//! `pull TABLE --sample N`: item types, fields and key templates inferred
//! from stored items, written as schema text with a comment wherever the
//! sample could not decide.
//!
//! - The type attribute is the first of the usual names (`_type`,
//!   `entity`, `type`, `kind`, ...) that every sampled item holds as an
//!   item type name; without one, the table has one item type, named after
//!   the table.
//! - A field's type comes from its values: text, dates, datetimes and
//!   uuids; integers, floats that read back exactly, exact numbers; sets,
//!   lists, maps (a nested type when their keys are names, `map<T>`
//!   otherwise) and `json` where the values disagree. A field absent (or
//!   `NULL`) in some items is optional; a set is never optional (DynamoDB
//!   stores no empty set, so an absent set is an empty one).
//! - A key template is found by splitting each key at the key separator:
//!   a part that is the same in every item is literal text, a part that is
//!   a field's value in every item is that field (`{seq:010}` for
//!   zero-padded integers). A key no template renders stays a plain text
//!   field of its own, which reads every item back.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use dynamo_runtime::{AttributeValue, Attributes};
use heck::ToUpperCamelCase;

use crate::ir::{KeyType, TableDef};

/// Names a type attribute is often stored under, the default first.
const TYPE_ATTRIBUTES: &[&str] = &[
    TableDef::TYPE_ATTRIBUTE,
    "entity",
    "type",
    "kind",
    "__typename",
    "_et",
    "__edb_e__",
];

/// Key separators, the default first.
const SEPARATORS: &[&str] = &["#", "|", ":", "$", "~"];

/// The schema text for the table `def` (its `[table]` and `[index.X]`
/// sections, from DescribeTable) and the item types `items` show.
pub fn infer(def: &TableDef, items: &[Attributes]) -> Result<String, crate::Error> {
    let mut def = def.clone();
    let mut notes = Vec::new();
    let key_attributes = key_attributes(&def);
    let type_attribute = TYPE_ATTRIBUTES.iter().copied().find(|name| {
        !items.is_empty()
            && !key_attributes.contains_key(*name)
            && items.iter().all(
                |item| matches!(item.get(*name), Some(AttributeValue::S(t)) if is_type_name(t)),
            )
    });
    let groups: BTreeMap<String, Vec<&Attributes>> = match type_attribute {
        Some(attribute) => {
            def.type_attribute = attribute.to_owned().into();
            let mut groups: BTreeMap<String, Vec<&Attributes>> = BTreeMap::new();
            for item in items {
                if let Some(AttributeValue::S(name)) = item.get(attribute) {
                    groups.entry(name.clone()).or_default().push(item);
                }
            }
            groups
        }
        None => {
            def.type_attribute = String::new().into();
            let name = singular(&def.name).to_upper_camel_case();
            let name = if is_type_name(&name) {
                name
            } else {
                "Item".to_owned()
            };
            notes.push(format!(
                "No attribute of every sampled item names its type ({}), so the table has one item type, named `{name}` after the table: rename it freely.",
                TYPE_ATTRIBUTES
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            BTreeMap::from([(name, items.iter().collect())])
        }
    };
    def.key_separator = separator(items, &key_attributes).to_owned().into();

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Pulled from DynamoDB table `{}` by `dynamo-codegen pull --sample`: its\n\
         # keys and indexes from DescribeTable, and item types inferred from {} sampled\n\
         # item(s). Check what the comments point out, then write the first migration\n\
         # (`dynamo-codegen migration new \"adopt {}\"`).",
        def.name,
        items.len(),
        def.name
    );
    for note in &notes {
        let _ = writeln!(out, "#\n# {note}");
    }
    out.push('\n');
    out.push_str(&crate::load::to_toml::table(&def)?);

    let mut nested = Nested::default();
    for (name, items) in &groups {
        item_type(
            &mut out,
            &mut nested,
            &def,
            &key_attributes,
            type_attribute,
            name,
            items,
        );
    }
    for (name, fields) in &nested.types {
        let _ = writeln!(out, "\n[type.{name}]");
        for line in fields {
            let _ = writeln!(out, "{line}");
        }
    }
    Ok(out)
}

/// The key attributes of the table and its indexes, each with its type
/// and whether it is a sort key.
fn key_attributes(def: &TableDef) -> BTreeMap<String, (KeyType, bool)> {
    let mut out = BTreeMap::new();
    let mut add = |k: &crate::ir::KeyAttributeDef, sort: bool| {
        let entry = out.entry(k.name.to_string()).or_insert((k.ty, sort));
        entry.1 |= sort;
    };
    add(&def.partition_key, false);
    if let Some(k) = &def.sort_key {
        add(k, true);
    }
    for index in def.indexes.iter() {
        for k in index.partition_key.iter() {
            add(k, false);
        }
        for k in index.sort_key.iter() {
            add(k, true);
        }
    }
    out
}

/// Whether `name` can be an item type's name (stored as written).
fn is_type_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `orders` → `order`, `addresses` → `address`: a guess at a name.
fn singular(table: &str) -> String {
    let base: String = table
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let base = base.trim_matches('_');
    if let Some(stem) = base.strip_suffix("sses") {
        format!("{stem}ss")
    } else if let Some(stem) = base.strip_suffix('s').filter(|s| !s.ends_with('s')) {
        stem.to_owned()
    } else {
        base.to_owned()
    }
}

/// The separator most text keys contain (the default when none does).
fn separator<'a>(items: &[Attributes], keys: &BTreeMap<String, (KeyType, bool)>) -> &'a str {
    let mut best = (0, SEPARATORS[0]);
    for sep in SEPARATORS {
        let count = items
            .iter()
            .flat_map(|item| keys.keys().filter_map(|k| item.get(k)))
            .filter(|v| matches!(v, AttributeValue::S(s) if s.contains(sep)))
            .count();
        if count > best.0 {
            best = (count, sep);
        }
    }
    best.1
}

/// A field as inferred: its type text, whether it is optional, and a
/// comment.
#[derive(Clone)]
struct Field {
    ty: String,
    optional: bool,
    note: Option<String>,
}

impl Field {
    fn toml(&self, name: &str) -> String {
        let key = toml_key(name);
        let spec = if self.optional {
            format!("{{ type = \"{}\", optional = true }}", self.ty)
        } else if self.ty.starts_with("set<") {
            format!("{{ type = \"{}\", default = [] }}", self.ty)
        } else {
            format!("\"{}\"", self.ty)
        };
        match &self.note {
            Some(note) => format!("{key} = {spec}  # {note}"),
            None => format!("{key} = {spec}"),
        }
    }
}

/// Nested types found in maps, by name, each as its field lines.
#[derive(Default)]
struct Nested {
    types: BTreeMap<String, Vec<String>>,
}

/// One `[item.Name]` with its keys and fields.
fn item_type(
    out: &mut String,
    nested: &mut Nested,
    def: &TableDef,
    key_attributes: &BTreeMap<String, (KeyType, bool)>,
    type_attribute: Option<&str>,
    name: &str,
    items: &[&Attributes],
) {
    // The fields: every attribute but the type attribute (a key attribute
    // a template renders is taken out below).
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for item in items {
        names.extend(item.keys().map(String::as_str));
    }
    let mut fields: BTreeMap<String, Field> = BTreeMap::new();
    for attribute in &names {
        if Some(*attribute) == type_attribute || attribute.is_empty() {
            // An empty name (which only another writer can store) is no
            // field: such an attribute stays in `unmodeled`.
            continue;
        }
        let values: Vec<&AttributeValue> = items.iter().filter_map(|i| i.get(*attribute)).collect();
        let mut field = infer_field(
            nested,
            &format!("{name}{}", attribute.to_upper_camel_case()),
            &values,
        );
        field.optional |= !field.ty.starts_with("set<")
            && (values.len() < items.len() || values.iter().any(|v| v.is_null()));
        fields.insert((*attribute).to_owned(), field);
    }

    // The keys: a template per text key attribute the items fill, else a
    // plain field.
    let mut keys: Vec<(String, String)> = Vec::new();
    let table_keys: Vec<&str> = std::iter::once(&*def.partition_key.name)
        .chain(def.sort_key.as_ref().map(|k| &*k.name))
        .collect();
    let mut indexes_in: Vec<Vec<&str>> = Vec::new();
    for index in def.indexes.iter() {
        let attrs: Vec<&str> = index.key().map(|k| &*k.name).collect();
        let filled = attrs
            .iter()
            .filter(|a| table_keys.contains(a) || items.iter().any(|i| i.contains_key(**a)))
            .count();
        if filled == attrs.len() {
            indexes_in.push(attrs);
        } else if filled > 0 {
            // The attributes the items have are fields under the key
            // attributes' names, so each is that key: the others become
            // optional fields, and the index is sparse (an item is in it
            // once it has them all).
            for attribute in &attrs {
                if table_keys.contains(attribute)
                    || items.iter().any(|i| i.contains_key(*attribute))
                {
                    continue;
                }
                let (ty, _) = key_attributes[*attribute];
                fields.insert(
                    (*attribute).to_owned(),
                    Field {
                        ty: match ty {
                            KeyType::S => "string",
                            KeyType::N => "i64",
                            KeyType::B => "bytes",
                        }
                        .to_owned(),
                        optional: true,
                        note: Some(format!(
                            "no sampled item has it: a key attribute of index `{}`, so the index \
                             holds the items that have all of its attributes",
                            index.name
                        )),
                    },
                );
            }
            indexes_in.push(attrs);
        }
    }
    // The attributes of multi-attribute keys are fields, never templates.
    let multi: Vec<&str> = def
        .indexes
        .iter()
        .filter(|i| i.is_multi_attribute())
        .flat_map(|i| i.key().map(|k| &*k.name))
        .collect();
    // Template parts are fields that are no key attribute a template may
    // render (the attributes of multi-attribute keys are fields, so they
    // can be parts: `pk = "TASK#{id}"` with `id` in an index's key).
    let parts: BTreeMap<String, Field> = fields
        .iter()
        .filter(|(name, _)| {
            !key_attributes.contains_key(name.as_str()) || multi.contains(&name.as_str())
        })
        .map(|(name, field)| (name.clone(), field.clone()))
        .collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for attribute in table_keys
        .iter()
        .copied()
        .chain(indexes_in.iter().flatten().copied())
    {
        if !done.insert(attribute) {
            continue;
        }
        let (ty, sort) = key_attributes[attribute];
        let values: Vec<&AttributeValue> = items.iter().filter_map(|i| i.get(attribute)).collect();
        let table_key = table_keys.contains(&attribute);
        let complete = values.len() == items.len();
        let template = (ty == KeyType::S && complete && !multi.contains(&attribute))
            .then(|| template(&values, items, &parts, &def.key_separator, sort))
            .flatten();
        match template {
            Some(text) => {
                fields.remove(attribute);
                keys.push((attribute.to_owned(), text));
            }
            None if values.is_empty() => {}
            None => {
                // A plain key: the attribute is a field of its own, typed
                // by its values when that type is stored as the key's.
                let keeps = |t: &str| match ty {
                    KeyType::S => matches!(t, "string" | "date" | "datetime" | "uuid"),
                    KeyType::N => matches!(t, "i64" | "u64" | "number"),
                    KeyType::B => t == "bytes",
                };
                let known = fields
                    .get(attribute)
                    .filter(|f| keeps(&f.ty))
                    .map(|f| f.ty.clone());
                let ty_name = match ty {
                    KeyType::S => "string",
                    KeyType::N => {
                        if values
                            .iter()
                            .all(|v| matches!(v, AttributeValue::N(n) if n.parse::<i64>().is_ok()))
                        {
                            "i64"
                        } else {
                            "number"
                        }
                    }
                    KeyType::B => "bytes",
                };
                // A key whose values have parts (the separator) but no
                // template is worth a look; a plain one is just a field.
                let composite = values
                    .iter()
                    .any(|v| matches!(v, AttributeValue::S(s) if s.contains(&*def.key_separator)));
                let note = composite.then(|| {
                    format!(
                        "no template renders this key ({}); kept as a field of its own",
                        example(&values)
                    )
                });
                fields.insert(
                    attribute.to_owned(),
                    Field {
                        ty: known.unwrap_or_else(|| ty_name.to_owned()),
                        optional: !table_key && !complete,
                        note,
                    },
                );
            }
        }
    }

    let _ = writeln!(out, "\n[item.{name}]");
    let _ = writeln!(
        out,
        "doc = \"Inferred from {} sampled item(s).\"",
        items.len()
    );
    if !keys.is_empty() {
        let _ = writeln!(out, "\n[item.{name}.keys]");
        for (attribute, template) in &keys {
            let _ = writeln!(out, "{} = {}", toml_key(attribute), toml_string(template));
        }
    }
    let _ = writeln!(out, "\n[item.{name}.fields]");
    for (attribute, field) in &fields {
        let _ = writeln!(out, "{}", field_line(attribute, field));
    }
}

/// A field's line, with `attribute = ...` when its name must differ.
fn field_line(attribute: &str, field: &Field) -> String {
    let name = field_name(attribute);
    if name == attribute {
        return field.toml(&name);
    }
    // Keep the stored name under a usable field name.
    let spec = if field.optional {
        format!(
            "{{ type = \"{}\", optional = true, attribute = {} }}",
            field.ty,
            toml_string(attribute)
        )
    } else if field.ty.starts_with("set<") {
        format!(
            "{{ type = \"{}\", default = [], attribute = {} }}",
            field.ty,
            toml_string(attribute)
        )
    } else {
        format!(
            "{{ type = \"{}\", attribute = {} }}",
            field.ty,
            toml_string(attribute)
        )
    };
    match &field.note {
        Some(note) => format!("{name} = {spec}  # {note}"),
        None => format!("{name} = {spec}"),
    }
}

/// A usable field name for `attribute`: ASCII letters, digits and `_`,
/// not starting with a digit.
fn field_name(attribute: &str) -> String {
    let mut name: String = attribute
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "f_");
    }
    if name == "unmodeled" {
        name.push_str("_field");
    }
    name
}

/// The template that renders every item's key from its fields, if one
/// does: literal parts and field parts between separators.
fn template(
    values: &[&AttributeValue],
    items: &[&Attributes],
    fields: &BTreeMap<String, Field>,
    separator: &str,
    sort: bool,
) -> Option<String> {
    let texts: Vec<&str> = values
        .iter()
        .map(|v| match v {
            AttributeValue::S(s) => Some(s.as_str()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let split: Vec<Vec<&str>> = texts.iter().map(|t| t.split(separator).collect()).collect();
    let parts = split.first()?.len();
    if split.iter().any(|s| s.len() != parts) {
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(parts);
    for position in 0..parts {
        let column: Vec<&str> = split.iter().map(|s| s[position]).collect();
        // A field whose value the part is in every item; else text that is
        // the same in every item.
        let literal = column.iter().all(|c| *c == column[0]);
        out.push(
            field_part(&column, items, fields, sort)
                .or_else(|| literal.then(|| column[0].replace('{', "{{").replace('}', "}}")))?,
        );
    }
    Some(out.join(separator))
}

/// `{field}` (or `{field:0W}`) for a field whose value is the key part of
/// every item; `sort`: integers only zero-padded to one width (a sort
/// key's text order must be their order).
fn field_part(
    column: &[&str],
    items: &[&Attributes],
    fields: &BTreeMap<String, Field>,
    sort: bool,
) -> Option<String> {
    for (attribute, field) in fields {
        if field.optional || field_name(attribute) != *attribute {
            continue;
        }
        let stored: Option<Vec<&AttributeValue>> = items.iter().map(|i| i.get(attribute)).collect();
        let Some(stored) = stored else { continue };
        let same = |canonical: fn(&str) -> bool| {
            stored.iter().zip(column).all(
                |(v, c)| matches!(v, AttributeValue::S(s) if s == c && !c.is_empty() && canonical(s)),
            )
        };
        match field.ty.as_str() {
            "string" | "date" | "uuid" if same(|_| true) => {
                return Some(format!("{{{attribute}}}"));
            }
            // Keys render datetimes with nine fractional digits.
            "datetime"
                if same(|s| {
                    s.parse::<jiff::Timestamp>()
                        .is_ok_and(|t| format!("{t:.9}") == s)
                }) =>
            {
                return Some(format!("{{{attribute}}}"));
            }
            "i64" | "u64" => {
                let numbers: Option<Vec<i128>> = stored
                    .iter()
                    .map(|v| match v {
                        AttributeValue::N(n) => n.parse().ok(),
                        _ => None,
                    })
                    .collect();
                let Some(numbers) = numbers else { continue };
                if numbers.iter().any(|n| *n < 0) {
                    continue;
                }
                let width = column[0].len();
                let padded = column
                    .iter()
                    .zip(&numbers)
                    .all(|(c, n)| c.len() == width && c.parse::<i128>().ok() == Some(*n));
                let plain = column
                    .iter()
                    .zip(&numbers)
                    .all(|(c, n)| *c == n.to_string());
                if plain && !sort {
                    return Some(format!("{{{attribute}}}"));
                }
                if padded && width > 1 {
                    return Some(format!("{{{attribute}:0{width}}}"));
                }
            }
            _ => {}
        }
    }
    None
}

/// A field's type from its values.
fn infer_field(nested: &mut Nested, name: &str, values: &[&AttributeValue]) -> Field {
    let present: Vec<&AttributeValue> = values.iter().copied().filter(|v| !v.is_null()).collect();
    if present.is_empty() {
        return Field {
            ty: "string".into(),
            optional: true,
            note: Some("always NULL or absent in the sample: the type is a guess".into()),
        };
    }
    let (ty, note) = value_type(nested, name, &present, 0);
    Field {
        ty,
        optional: false,
        note,
    }
}

/// The type of non-NULL values, and a comment.
fn value_type(
    nested: &mut Nested,
    name: &str,
    values: &[&AttributeValue],
    depth: usize,
) -> (String, Option<String>) {
    use AttributeValue as V;
    let all = |f: fn(&AttributeValue) -> bool| values.iter().all(|v| f(v));
    if all(|v| matches!(v, V::S(_))) {
        let texts: Vec<&str> = values
            .iter()
            .filter_map(|v| v.as_s().ok())
            .map(String::as_str)
            .collect();
        return text_type(&texts);
    }
    if all(|v| matches!(v, V::N(_))) {
        let texts: Vec<&str> = values
            .iter()
            .filter_map(|v| v.as_n().ok())
            .map(String::as_str)
            .collect();
        return (number_type(&texts).to_owned(), None);
    }
    if all(|v| matches!(v, V::Bool(_))) {
        return ("bool".into(), None);
    }
    if all(|v| matches!(v, V::B(_))) {
        return ("bytes".into(), None);
    }
    if all(|v| matches!(v, V::Ss(_))) {
        return ("set<string>".into(), None);
    }
    if all(|v| matches!(v, V::Ns(_))) {
        let texts: Vec<&str> = values
            .iter()
            .filter_map(|v| v.as_ns().ok())
            .flatten()
            .map(String::as_str)
            .collect();
        let element = match number_type(&texts) {
            "f64" => "number",
            other => other,
        };
        return (format!("set<{element}>"), None);
    }
    if all(|v| matches!(v, V::Bs(_))) {
        return ("set<bytes>".into(), None);
    }
    if depth < 4 && all(|v| matches!(v, V::L(_))) {
        let elements: Vec<&AttributeValue> = values
            .iter()
            .filter_map(|v| v.as_l().ok())
            .flatten()
            .collect();
        if elements.is_empty() {
            return ("json".into(), Some("only empty lists in the sample".into()));
        }
        if elements.iter().any(|e| e.is_null())
            || elements
                .iter()
                .any(|e| matches!(e, V::Ss(_) | V::Ns(_) | V::Bs(_)))
        {
            return ("json".into(), Some("a list of mixed values".into()));
        }
        let (element, note) = value_type(nested, name, &elements, depth + 1);
        if element == "json" || element.starts_with("set<") {
            return ("json".into(), note);
        }
        return (format!("list<{element}>"), note);
    }
    if depth < 4 && all(|v| matches!(v, V::M(_))) {
        let maps: Vec<&Attributes> = values.iter().filter_map(|v| v.as_m().ok()).collect();
        let keys: BTreeSet<&str> = maps
            .iter()
            .flat_map(|m| m.keys().map(String::as_str))
            .collect();
        let names = !keys.is_empty()
            && keys.len() <= 20
            && keys
                .iter()
                .all(|k| field_name(k) == *k && k.starts_with(|c: char| c.is_ascii_lowercase()));
        if names {
            let type_name = unique_type_name(nested, name);
            let mut lines = Vec::new();
            for key in &keys {
                let values: Vec<&AttributeValue> =
                    maps.iter().filter_map(|m| m.get(*key)).collect();
                let present: Vec<&AttributeValue> =
                    values.iter().copied().filter(|v| !v.is_null()).collect();
                let mut field = if present.is_empty() {
                    Field {
                        ty: "string".into(),
                        optional: true,
                        note: Some("always NULL or absent in the sample".into()),
                    }
                } else {
                    let (ty, note) = value_type(
                        nested,
                        &format!("{type_name}{}", key.to_upper_camel_case()),
                        &present,
                        depth + 1,
                    );
                    Field {
                        ty,
                        optional: false,
                        note,
                    }
                };
                field.optional |= !field.ty.starts_with("set<") && present.len() < maps.len();
                lines.push(field.toml(key));
            }
            nested.types.insert(type_name.clone(), lines);
            return (
                type_name,
                Some("a nested type from the maps' keys; `map<T>` if the keys are data".into()),
            );
        }
        let inner: Vec<&AttributeValue> = maps.iter().flat_map(|m| m.values()).collect();
        if inner.is_empty() || inner.iter().any(|v| v.is_null()) {
            return ("json".into(), None);
        }
        let (element, note) = value_type(nested, name, &inner, depth + 1);
        if element == "json" || element.starts_with("set<") {
            return ("json".into(), note);
        }
        return (format!("map<{element}>"), note);
    }
    // Values of several kinds: JSON holds them all but binary data.
    if values
        .iter()
        .any(|v| matches!(v, V::B(_) | V::Bs(_) | V::Ns(_)))
    {
        return (
            "json".into(),
            Some("values of several DynamoDB types, some binary or number sets, which `json` cannot read: change the type".into()),
        );
    }
    (
        "json".into(),
        Some("values of several DynamoDB types".into()),
    )
}

/// The type of text values: a date, datetime or uuid when every value is
/// one, else text (with the values, when few, as an enum hint).
fn text_type(texts: &[&str]) -> (String, Option<String>) {
    let date = |t: &str| t.len() == 10 && t.parse::<jiff::civil::Date>().is_ok();
    let uuid = |t: &str| t.len() == 36 && t.parse::<uuid_text::Uuid>().is_ok();
    if texts.iter().all(|t| date(t)) {
        return ("date".into(), None);
    }
    if texts
        .iter()
        .all(|t| t.contains('T') && t.parse::<jiff::Timestamp>().is_ok())
    {
        return ("datetime".into(), None);
    }
    if texts.iter().all(|t| uuid(t)) {
        return ("uuid".into(), None);
    }
    let distinct: BTreeSet<&str> = texts.iter().copied().collect();
    let note = (distinct.len() <= 5 && texts.len() >= 2 * distinct.len() && distinct.len() > 1)
        .then(|| {
            format!(
                "values seen: {} (an enum?)",
                distinct
                    .iter()
                    .map(|v| format!("{v:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
    ("string".into(), note)
}

/// The type of number values: `i64` (`u64` above it), `f64` when each
/// reads back as the same text, else the exact `number`.
fn number_type(texts: &[&str]) -> &'static str {
    if texts.iter().all(|t| t.parse::<i64>().is_ok()) {
        return "i64";
    }
    if texts.iter().all(|t| t.parse::<u64>().is_ok()) {
        return "u64";
    }
    if texts.iter().all(|t| {
        t.parse::<f64>()
            .is_ok_and(|f| f.is_finite() && f.to_string() == *t)
    }) {
        return "f64";
    }
    "number"
}

/// A nested type name not taken yet.
fn unique_type_name(nested: &Nested, name: &str) -> String {
    let mut candidate = name.to_owned();
    let mut n = 2;
    while nested.types.contains_key(&candidate) {
        candidate = format!("{name}{n}");
        n += 1;
    }
    candidate
}

/// A few of the values, for a comment.
fn example(values: &[&AttributeValue]) -> String {
    let texts: Vec<String> = values
        .iter()
        .take(2)
        .map(|v| match v {
            AttributeValue::S(s) => format!("{s:?}"),
            other => format!("{other:?}"),
        })
        .collect();
    format!("e.g. {}", texts.join(", "))
}

fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_owned()
    } else {
        toml_string(key)
    }
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// uuid parsing without a uuid dependency of the generator: the
/// hyphenated form, lowercase (how the runtime writes them).
mod uuid_text {
    pub struct Uuid;

    impl std::str::FromStr for Uuid {
        type Err = ();

        fn from_str(s: &str) -> Result<Uuid, ()> {
            let ok = s.len() == 36
                && s.char_indices().all(|(i, c)| match i {
                    8 | 13 | 18 | 23 => c == '-',
                    _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
                });
            if ok { Ok(Uuid) } else { Err(()) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Billing, KeyAttributeDef};

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.into())
    }

    fn n(text: &str) -> AttributeValue {
        AttributeValue::N(text.into())
    }

    fn table() -> TableDef {
        TableDef {
            name: "events".to_owned().into(),
            partition_key: KeyAttributeDef {
                name: "pk".to_owned().into(),
                ty: KeyType::S,
            },
            sort_key: Some(KeyAttributeDef {
                name: "sk".to_owned().into(),
                ty: KeyType::S,
            }),
            type_attribute: TableDef::TYPE_ATTRIBUTE.into(),
            key_separator: TableDef::KEY_SEPARATOR.into(),
            billing: Billing::OnDemand,
            ttl: None,
            stream: None,
            indexes: Vec::new().into(),
            point_in_time_recovery: false,
            deletion_protection: false,
        }
    }

    fn event(source: &str, seq: &str, padded: &str) -> Attributes {
        Attributes::from([
            ("pk".to_owned(), s(&format!("SRC|{source}"))),
            ("sk".to_owned(), s(&format!("SEQ|{padded}"))),
            ("entity".to_owned(), s("Event")),
            ("source".to_owned(), s(source)),
            ("seq".to_owned(), n(seq)),
            ("score".to_owned(), n("0.1")),
            ("mixed".to_owned(), if seq == "7" { s("x") } else { n("1") }),
        ])
    }

    #[test]
    fn separators_widths_and_type_attributes_are_inferred() {
        let items = [
            event("a", "7", "0000000007"),
            event("b", "12", "0000000012"),
        ];
        let text = infer(&table(), &items).unwrap_or_else(|e| panic!("{e}"));
        for line in [
            "type_attribute = \"entity\"",
            "key_separator = \"|\"",
            "pk = \"SRC|{source}\"",
            "sk = \"SEQ|{seq:010}\"",
            "seq = \"i64\"",
            "score = \"f64\"",
            "mixed = \"json\"  # values of several DynamoDB types",
        ] {
            assert!(text.lines().any(|l| l == line), "`{line}` in\n{text}");
        }
    }

    #[test]
    fn an_integer_that_is_not_padded_is_no_sort_key_part() {
        // Text order is not number order: `{seq}` would be refused in a
        // sort key, so the key is kept as a field of its own.
        let items = [event("a", "7", "7"), event("b", "12", "12")];
        let text = infer(&table(), &items).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            text.contains("sk = \"string\"  # no template renders"),
            "{text}"
        );
        assert!(text.contains("pk = \"SRC|{source}\""), "{text}");
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("users"), "user");
        assert_eq!(singular("glass"), "glass");
        assert_eq!(field_name("first-login"), "first_login");
        assert_eq!(field_name("1st"), "f_1st");
        assert_eq!(number_type(&["1", "-2"]), "i64");
        assert_eq!(number_type(&["18446744073709551615"]), "u64");
        assert_eq!(number_type(&["0.1", "2"]), "f64");
        assert_eq!(number_type(&["0.12345678901234567890123"]), "number");
        assert_eq!(text_type(&["2024-01-02", "2023-12-31"]).0, "date");
        assert_eq!(text_type(&["2024-01-02T03:04:05Z"]).0, "datetime");
        assert_eq!(
            text_type(&["67e55044-10b1-426f-9247-bb680e5fe0c8"]).0,
            "uuid"
        );
        assert_eq!(
            text_type(&["a", "b", "a", "b"]).1.as_deref(),
            Some("values seen: \"a\", \"b\" (an enum?)")
        );
    }
}

/// Whatever the stored items, the inferred schema checks: a property test
/// over random items (random attribute names, including ones no field can
/// be named, of every DynamoDB type, nested, NULL, missing in some items)
/// with composite, plain and numeric keys, whose item types have keys of
/// their own (items of two types that can share a key have no schema).
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::ir::{Billing, IndexDef, IndexKind, KeyAttributeDef, Projection};

    const NAMES: &[&str] = &[
        "id",
        "name",
        "first-login",
        "1st",
        "type",
        "unmodeled",
        "count",
        "tags",
        "a_b",
        "Self",
        "r#x",
        "",
        "set",
    ];

    fn value(depth: u32) -> BoxedStrategy<AttributeValue> {
        let leaf = prop_oneof![
            "[a-z#|]{0,6}".prop_map(AttributeValue::S),
            (-1000i64..1000).prop_map(|n| AttributeValue::N(n.to_string())),
            (-1000.0f64..1000.0).prop_map(|n| AttributeValue::N(n.to_string())),
            any::<bool>().prop_map(AttributeValue::Bool),
            Just(AttributeValue::Null(true)),
            proptest::collection::vec(any::<u8>(), 0..4).prop_map(|b| AttributeValue::B(b.into())),
            proptest::collection::btree_set("[a-z]{1,3}", 1..3)
                .prop_map(|s| AttributeValue::Ss(s.into_iter().collect())),
            proptest::collection::btree_set(-50i64..50, 1..3)
                .prop_map(|s| AttributeValue::Ns(s.into_iter().map(|n| n.to_string()).collect())),
            Just(AttributeValue::S("2024-03-01".into())),
            Just(AttributeValue::S("2024-03-01T10:00:00Z".into())),
        ];
        if depth == 0 {
            return leaf.boxed();
        }
        prop_oneof![
            4 => leaf,
            1 => proptest::collection::vec(value(depth - 1), 0..3).prop_map(AttributeValue::L),
            1 => proptest::collection::btree_map(proptest::sample::select(NAMES), value(depth - 1), 0..3)
                .prop_map(|m| AttributeValue::M(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
        .boxed()
    }

    fn item() -> impl Strategy<Value = Attributes> {
        (
            proptest::sample::select(&["Order", "Customer", "lower", ""][..]),
            "[a-z]{1,4}",
            0u32..20,
            any::<bool>(),
            proptest::collection::btree_map(proptest::sample::select(NAMES), value(2), 0..5),
            proptest::option::of(proptest::sample::select(&["red", "blue"][..])),
        )
            .prop_map(|(ty, id, seq, padded, rest, tag)| {
                let mut item: Attributes =
                    rest.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                if !ty.is_empty() {
                    item.insert("_type".into(), AttributeValue::S(ty.into()));
                }
                item.insert("id".into(), AttributeValue::S(id.clone()));
                item.insert("seq".into(), AttributeValue::N(seq.to_string()));
                // Each item type has keys of its own (what a single-table
                // design does, and what the schema requires: two types that
                // could have one key are `dynamo::key_collision`).
                let prefix = if ty.is_empty() {
                    "ITEM".to_owned()
                } else {
                    ty.to_uppercase()
                };
                item.insert("pk".into(), AttributeValue::S(format!("{prefix}#{id}")));
                let seq = if padded {
                    format!("{seq:05}")
                } else {
                    seq.to_string()
                };
                item.insert("sk".into(), AttributeValue::S(format!("SEQ#{seq}")));
                item.insert("gsi1pk".into(), AttributeValue::N(seq.len().to_string()));
                // The multi-attribute index `by_tag`: items with a tag.
                if let Some(tag) = tag {
                    item.insert("tag".into(), AttributeValue::S(tag.into()));
                }
                item
            })
    }

    fn table() -> TableDef {
        let key = |name: &str, ty| KeyAttributeDef {
            name: name.to_owned().into(),
            ty,
        };
        TableDef {
            name: "things".to_owned().into(),
            partition_key: key("pk", KeyType::S),
            sort_key: Some(key("sk", KeyType::S)),
            type_attribute: TableDef::TYPE_ATTRIBUTE.into(),
            key_separator: TableDef::KEY_SEPARATOR.into(),
            billing: Billing::OnDemand,
            ttl: None,
            stream: None,
            indexes: vec![
                IndexDef {
                    name: "by_len".to_owned().into(),
                    kind: IndexKind::Global,
                    partition_key: vec![key("gsi1pk", KeyType::N)].into(),
                    sort_key: Vec::new().into(),
                    projection: Projection::All,
                    throughput: None,
                },
                IndexDef {
                    name: "by_tag".to_owned().into(),
                    kind: IndexKind::Global,
                    partition_key: vec![key("tag", KeyType::S), key("id", KeyType::S)].into(),
                    sort_key: vec![key("seq", KeyType::N)].into(),
                    projection: Projection::KeysOnly,
                    throughput: None,
                },
            ]
            .into(),
            point_in_time_recovery: false,
            deletion_protection: false,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn an_inferred_schema_checks(items in proptest::collection::vec(item(), 1..6)) {
            let text = infer(&table(), &items).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
            std::fs::write(dir.path().join("things.toml"), &text)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            if let Err(e) = crate::check(dir.path()) {
                return Err(TestCaseError::fail(format!("{e:?}\n{text}")));
            }
        }
    }
}
