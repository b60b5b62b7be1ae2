//! `migrations/NNNN_name.toml`: numbering, step shapes, and a fold of the
//! steps in order so that a step on a table (or index) no earlier step
//! creates is caught here, at build time.

use std::{collections::BTreeMap, ops::Range, sync::Arc};

use super::{
    Cx, check_resource_name, computed, index, keys,
    scope::{FieldScope, KeyTarget},
    table,
};
use crate::{
    diagnostics::{Diagnostics, SourceFile},
    ir::{
        self, Billing, Edit, FieldDef, IndexKind, ItemDef, KeyAttributeDef, KeyType, Literal,
        Rewrite, Step, StoredTemplate, TableDef,
    },
    load::{RawBackfill, RawDefineItem, RawIndex, RawMigrationFile, RawStep, Sp},
};

/// Where something was created, for "first created here".
#[derive(Clone)]
struct Origin {
    file: Arc<SourceFile>,
    span: Range<usize>,
}

/// A table as the migrations so far leave it.
struct TableState {
    def: TableDef,
    origin: Origin,
    /// The item types `define_item` steps recorded, by name.
    items: BTreeMap<String, ItemDef>,
}

/// The type attribute and key separator of the table named `name`: its
/// schema file's, or the defaults for a table no schema describes.
fn table_options(tables: &[ir::Table], name: &str) -> (String, String) {
    match tables.iter().find(|t| t.def.name == name) {
        Some(t) => (
            t.def.type_attribute.to_string(),
            t.def.key_separator.to_string(),
        ),
        None => (
            TableDef::TYPE_ATTRIBUTE.to_owned(),
            TableDef::KEY_SEPARATOR.to_owned(),
        ),
    }
}

/// Validates the migration files, in number order.
pub(crate) fn migrations(
    files: &[RawMigrationFile],
    tables: &[ir::Table],
    scopes: &BTreeMap<String, BTreeMap<String, FieldScope>>,
    diagnostics: &mut Diagnostics,
) -> Vec<ir::Migration> {
    let mut numbered: Vec<(u32, &RawMigrationFile)> = Vec::new();
    let mut seen: BTreeMap<u32, &RawMigrationFile> = BTreeMap::new();
    for file in files {
        let mut cx = Cx::new(&file.source, diagnostics);
        let Some(number) = number(&file.file_name) else {
            let d = cx
                .error(
                    "dynamo::migration_name",
                    0..0,
                    format!("migration file name `{}` has no number", file.file_name),
                    "this file",
                )
                .help("name migration files `NNNN_what_it_does.toml`, e.g. `0002_orders_by_status.toml`: the number orders them");
            cx.push(d);
            continue;
        };
        if let Some(first) = seen.get(&number) {
            let d = cx
                .error(
                    "dynamo::migration_number",
                    0..0,
                    format!(
                        "migrations `{}` and `{}` have the same number {number}",
                        first.file_name, file.file_name
                    ),
                    "this file",
                )
                .related(
                    &first.source,
                    0..0,
                    format!("`{}` has number {number}", first.file_name),
                )
                .help(
                    "give each migration its own number; the next free one goes to the newest file",
                );
            cx.push(d);
            continue;
        }
        seen.insert(number, file);
        numbered.push((number, file));
    }
    numbered.sort_by_key(|(n, _)| *n);

    let mut state: BTreeMap<String, TableState> = BTreeMap::new();
    // With a file left out, the order of steps is unknown: the state
    // checks would report its consequences, not mistakes.
    let mut trusted = numbered.len() == files.len();
    let mut out = Vec::new();
    for (number, file) in numbered {
        let mut cx = Cx::new(&file.source, diagnostics);
        let errors_before = cx.errors();
        let mut steps = Vec::new();
        let mut transforms = Vec::new();
        if file.migration.step.is_empty() && !file.broken {
            let d = cx
                .error(
                    "dynamo::empty_migration",
                    0..0,
                    format!("migration `{}` has no steps", file.file_name),
                    "this file",
                )
                .help("add a `[[step]]` with an `op`, or delete the file");
            cx.push(d);
        }
        for (index, step) in file.migration.step.iter().enumerate() {
            if let RawStep::Transform(raw) = step.get() {
                if let Some(shape) = transform(&mut cx, raw, &state, trusted, index) {
                    steps.push(rewrite(
                        tables,
                        &raw.table,
                        &raw.item,
                        Edit::Transform {
                            function: shape.function.clone().into(),
                            mark: format!("{number:04}.{index:03}").into(),
                        },
                    ));
                    transforms.push(shape);
                }
                continue;
            }
            if let Some(s) = self::step(&mut cx, step, &mut state, trusted, tables, scopes) {
                steps.push(s);
            }
        }
        // A file with steps that did not parse leaves the state unknown;
        // later files are still checked, but not against the state.
        trusted &= !file.broken;
        if cx.errors() == errors_before && !file.broken {
            out.push(ir::Migration {
                number,
                file: file.file_name.clone(),
                description: file.migration.description.as_ref().map(|d| d.get().clone()),
                text: file.source.text.clone(),
                steps,
                transforms,
            });
        }
    }
    out
}

/// The number of `0002_orders_by_status.toml`.
fn number(file_name: &str) -> Option<u32> {
    let stem = file_name.strip_suffix(".toml")?;
    let (digits, name) = stem.split_once('_')?;
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && name_ok)
        .then(|| digits.parse().ok())
        .flatten()
}

fn step(
    cx: &mut Cx<'_>,
    step: &Sp<RawStep>,
    state: &mut BTreeMap<String, TableState>,
    trusted: bool,
    tables: &[ir::Table],
    scopes: &BTreeMap<String, BTreeMap<String, FieldScope>>,
) -> Option<Step> {
    let errors_before = cx.errors();
    let origin = Origin {
        file: Arc::clone(cx.file),
        span: step.span(),
    };
    match step.get() {
        RawStep::CreateTable(raw) => {
            check_resource_name(cx, &raw.table, "table");
            let pk = table::key_attribute(cx, &raw.partition_key);
            let sk = raw
                .sort_key
                .as_ref()
                .and_then(|k| table::key_attribute(cx, k));
            let billing = raw
                .billing
                .as_ref()
                .and_then(|b| table::billing(cx, b))
                .unwrap_or(Billing::OnDemand);
            let stream = raw
                .stream
                .as_ref()
                .and_then(|s| table::stream(cx, s, false))
                .flatten();
            let pk = pk?;
            let mut ordered: Vec<_> = raw.index.iter().collect();
            ordered.sort_by_key(|(n, _)| n.span().start);
            let indexes = index::indexes(cx, &ordered, &pk, sk.as_ref(), billing, &raw.table);
            if trusted && let Some(existing) = state.get(raw.table.get()) {
                let d = cx
                    .error(
                        "dynamo::migration_state",
                        raw.table.span(),
                        format!("table `{}` already exists here", raw.table.get()),
                        "created again",
                    )
                    .related(
                        &existing.origin.file,
                        existing.origin.span.clone(),
                        "created here",
                    )
                    .help("delete the table in an earlier step first, or remove this step");
                cx.push(d);
            }
            let (type_attribute, key_separator) = table_options(tables, raw.table.get());
            let def = TableDef {
                name: raw.table.get().clone().into(),
                partition_key: pk,
                sort_key: sk,
                type_attribute: type_attribute.into(),
                key_separator: key_separator.into(),
                billing,
                ttl: raw.ttl.as_ref().map(|t| t.get().clone().into()),
                stream,
                indexes: indexes.into(),
                point_in_time_recovery: raw
                    .point_in_time_recovery
                    .as_ref()
                    .is_some_and(|b| *b.get()),
                deletion_protection: raw.deletion_protection.as_ref().is_some_and(|b| *b.get()),
            };
            (cx.errors() == errors_before).then_some(())?;
            state.insert(
                def.name.to_string(),
                TableState {
                    def: def.clone(),
                    origin,
                    items: BTreeMap::new(),
                },
            );
            Some(Step::CreateTable(def))
        }
        RawStep::DeleteTable(raw) => {
            existing(cx, state, trusted, &raw.table)?;
            state.remove(raw.table.get());
            Some(Step::DeleteTable {
                table: raw.table.get().clone().into(),
            })
        }
        RawStep::AddIndex(raw) => {
            if let Some(local) = &raw.local {
                let d = cx
                    .error("dynamo::local_index", local.span(), "a local index cannot be added to an existing table", "local index")
                    .help("DynamoDB creates local indexes only with their table: add it to the `create_table` step of a new table, or make it global");
                cx.push(d);
                return None;
            }
            let table_state = existing(cx, state, trusted, &raw.table);
            let index_raw = Sp::new(
                step.span(),
                RawIndex {
                    local: None,
                    partition_key: raw.partition_key.clone(),
                    sort_key: raw.sort_key.clone(),
                    projection: raw.projection.clone(),
                    read: raw.read.clone(),
                    write: raw.write.clone(),
                },
            );
            let (pk, billing) = match &table_state {
                Some(s) => (s.def.partition_key.clone(), s.def.billing),
                None => (KeyAttributeDef::new("", KeyType::S), Billing::OnDemand),
            };
            let index = index::index(cx, &raw.index, &index_raw, &pk, billing, false)?;
            if let Some(s) = table_state
                && s.def.indexes.iter().any(|i| i.name == index.name)
            {
                let d = cx
                    .error(
                        "dynamo::migration_state",
                        raw.index.span(),
                        format!(
                            "table `{}` already has index `{}`",
                            raw.table.get(),
                            index.name
                        ),
                        "exists already",
                    )
                    .help("remove the index in an earlier step first, or pick another name");
                cx.push(d);
                return None;
            }
            if let Some(s) = state.get_mut(raw.table.get()) {
                s.def.indexes.to_mut().push(index.clone());
            }
            Some(Step::AddIndex {
                table: raw.table.get().clone().into(),
                index,
                type_attribute: table_options(tables, raw.table.get()).0.into(),
            })
        }
        RawStep::RemoveIndex(raw) => {
            let table_state = existing(cx, state, trusted, &raw.table)?;
            if trusted
                && !table_state
                    .def
                    .indexes
                    .iter()
                    .any(|i| *i.name == **raw.index.get())
            {
                let names: Vec<String> = table_state
                    .def
                    .indexes
                    .iter()
                    .map(|i| i.name.to_string())
                    .collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                cx.unknown_name("dynamo::migration_state", &raw.index, "index", &names);
                return None;
            }
            let local = table_state
                .def
                .indexes
                .iter()
                .any(|i| *i.name == **raw.index.get() && i.kind == IndexKind::Local);
            if local {
                let d = cx
                    .error(
                        "dynamo::local_index",
                        raw.index.span(),
                        format!("`{}` is a local index: it cannot be removed", raw.index.get()),
                        "local index",
                    )
                    .help("DynamoDB keeps local indexes as long as their table; to drop one, copy the items into a new table without it");
                cx.push(d);
                return None;
            }
            if let Some(s) = state.get_mut(raw.table.get()) {
                s.def
                    .indexes
                    .to_mut()
                    .retain(|i| *i.name != **raw.index.get());
            }
            Some(Step::RemoveIndex {
                table: raw.table.get().clone().into(),
                index: raw.index.get().clone().into(),
            })
        }
        RawStep::UpdateTtl(raw) => {
            existing(cx, state, trusted, &raw.table)?;
            let enabled = raw.enabled.as_ref().is_none_or(|e| *e.get());
            if let Some(s) = state.get_mut(raw.table.get()) {
                s.def.ttl = enabled.then(|| raw.attribute.get().clone().into());
            }
            Some(Step::UpdateTtl {
                table: raw.table.get().clone().into(),
                attribute: raw.attribute.get().clone().into(),
                enabled,
            })
        }
        RawStep::UpdateStream(raw) => {
            existing(cx, state, trusted, &raw.table)?;
            let stream = table::stream(cx, &raw.stream, true)?;
            if let Some(s) = state.get_mut(raw.table.get()) {
                s.def.stream = stream;
            }
            Some(Step::UpdateStream {
                table: raw.table.get().clone().into(),
                stream,
            })
        }
        RawStep::UpdateProtection(raw) => {
            existing(cx, state, trusted, &raw.table)?;
            let pitr = raw.point_in_time_recovery.as_ref().map(|b| *b.get());
            let protection = raw.deletion_protection.as_ref().map(|b| *b.get());
            if pitr.is_none() && protection.is_none() {
                let d = cx
                    .error(
                        "dynamo::empty_step",
                        raw.table.span(),
                        "`update_protection` changes nothing",
                        "no option given",
                    )
                    .help("give `point_in_time_recovery = true|false`, `deletion_protection = true|false`, or both");
                cx.push(d);
                return None;
            }
            if let Some(s) = state.get_mut(raw.table.get()) {
                if let Some(on) = pitr {
                    s.def.point_in_time_recovery = on;
                }
                if let Some(on) = protection {
                    s.def.deletion_protection = on;
                }
            }
            Some(Step::UpdateProtection {
                table: raw.table.get().clone().into(),
                point_in_time_recovery: pitr,
                deletion_protection: protection,
            })
        }
        RawStep::UpdateBilling(raw) => {
            existing(cx, state, trusted, &raw.table)?;
            let billing = table::billing(cx, &raw.billing)?;
            if let Some(s) = state.get_mut(raw.table.get()) {
                s.def.billing = billing;
            }
            Some(Step::UpdateBilling {
                table: raw.table.get().clone().into(),
                billing,
            })
        }
        RawStep::Backfill(raw) => {
            let b = templates_step(cx, raw, state, trusted, tables, scopes, false)?;
            Some(Step::Backfill(b))
        }
        // Validated by `transform`, with the step's index.
        RawStep::Transform(_) => None,
        RawStep::RewriteKeys(raw) => {
            let b = templates_step(cx, raw, state, trusted, tables, scopes, true)?;
            Some(rewrite(tables, &raw.table, &raw.item, Edit::RewriteKeys(b)))
        }
        RawStep::DefineItem(raw) => {
            existing(cx, state, trusted, &raw.table)?;
            let def = define_item(cx, raw)?;
            if let Some(s) = state.get_mut(raw.table.get()) {
                s.items.insert(def.name.to_string(), def.clone());
            }
            Some(Step::DefineItem(def))
        }
        RawStep::DropItem(raw) => {
            item_of(cx, state, trusted, &raw.table, &raw.item)?;
            if let Some(s) = state.get_mut(raw.table.get()) {
                s.items.remove(raw.item.get());
            }
            Some(Step::DropItem {
                table: raw.table.get().clone().into(),
                item: raw.item.get().clone().into(),
            })
        }
        RawStep::RenameItem(raw) => {
            let table_state = existing(cx, state, trusted, &raw.table)?;
            known_item(cx, table_state, trusted, &raw.from)?;
            if table_state.items.contains_key(raw.to.get()) {
                let d = cx
                    .error(
                        "dynamo::migration_state",
                        raw.to.span(),
                        format!("item type `{}` exists already", raw.to.get()),
                        "exists already",
                    )
                    .help(
                        "rename to a name no item type of the table has, or drop that type first",
                    );
                cx.push(d);
                return None;
            }
            if let Some(s) = state.get_mut(raw.table.get())
                && let Some(mut def) = s.items.remove(raw.from.get())
            {
                def.name = raw.to.get().clone().into();
                s.items.insert(def.name.to_string(), def);
            }
            Some(rewrite(
                tables,
                &raw.table,
                &raw.from,
                Edit::RenameItem {
                    to: raw.to.get().clone().into(),
                },
            ))
        }
        RawStep::RenameAttribute(raw) => {
            item_of(cx, state, trusted, &raw.table, &raw.item)?;
            if raw.from.get() == raw.to.get() {
                let d = cx
                    .error(
                        "dynamo::migration_state",
                        raw.to.span(),
                        "the attribute is renamed to itself",
                        "same name",
                    )
                    .help("give the new attribute name in `to`, or remove the step");
                cx.push(d);
                return None;
            }
            Some(rewrite(
                tables,
                &raw.table,
                &raw.item,
                Edit::RenameAttribute {
                    from: raw.from.get().clone().into(),
                    to: raw.to.get().clone().into(),
                },
            ))
        }
        RawStep::MapValues(raw) => {
            item_of(cx, state, trusted, &raw.table, &raw.item)?;
            if raw.map.is_empty() {
                let d = cx
                    .error(
                        "dynamo::migration_state",
                        raw.map.span(),
                        "the map is empty",
                        "empty",
                    )
                    .help("write `map = { old = \"new\" }`");
                cx.push(d);
                return None;
            }
            Some(rewrite(
                tables,
                &raw.table,
                &raw.item,
                Edit::MapValues {
                    attribute: raw.attribute.get().clone().into(),
                    map: raw
                        .map
                        .iter()
                        .map(|(o, n)| (o.get().clone().into(), n.get().clone().into()))
                        .collect::<Vec<_>>()
                        .into(),
                },
            ))
        }
        RawStep::WriteDefault(raw) => {
            item_of(cx, state, trusted, &raw.table, &raw.item)?;
            let value = match raw.value.get() {
                toml::Value::String(s) => Literal::Text(s.clone().into()),
                toml::Value::Integer(i) => Literal::Number(i.to_string().into()),
                toml::Value::Float(f) if f.is_finite() => Literal::Number(f.to_string().into()),
                toml::Value::Boolean(b) => Literal::Bool(*b),
                _ => {
                    let d = cx
                        .error("dynamo::write_default", raw.value.span(), "`write_default` writes a string, a finite number or a boolean", "not a scalar")
                        .help("an empty set, list or map needs no step: a missing attribute already reads as empty; for other values, write a transform");
                    cx.push(d);
                    return None;
                }
            };
            Some(rewrite(
                tables,
                &raw.table,
                &raw.item,
                Edit::WriteDefault {
                    attribute: raw.attribute.get().clone().into(),
                    value,
                },
            ))
        }
        RawStep::RemoveAttribute(raw) => {
            let def = &item_of(cx, state, trusted, &raw.table, &raw.item)?.def;
            let is_key = def.partition_key.name == *raw.attribute.get()
                || def
                    .sort_key
                    .as_ref()
                    .is_some_and(|k| k.name == *raw.attribute.get());
            if is_key || def.type_attribute == *raw.attribute.get() {
                let d = cx
                    .error(
                        "dynamo::migration_state",
                        raw.attribute.span(),
                        format!(
                            "`{}` is the table's {}",
                            raw.attribute.get(),
                            if is_key { "key" } else { "type attribute" }
                        ),
                        "cannot be removed",
                    )
                    .help("only a non-key attribute can be removed from stored items");
                cx.push(d);
                return None;
            }
            Some(rewrite(
                tables,
                &raw.table,
                &raw.item,
                Edit::RemoveAttribute {
                    attribute: raw.attribute.get().clone().into(),
                },
            ))
        }
    }
}

/// A `transform` step: the item type it reads is the one the migrations
/// recorded, so it must have been recorded.
fn transform(
    cx: &mut Cx<'_>,
    raw: &crate::load::RawTransform,
    state: &BTreeMap<String, TableState>,
    trusted: bool,
    index: usize,
) -> Option<ir::TransformShape> {
    let table = existing(cx, state, trusted, &raw.table)?;
    let Some(old) = table.items.get(raw.item.get()) else {
        let names: Vec<&str> = table.items.keys().map(String::as_str).collect();
        if names.is_empty() {
            let d = cx
                .error("dynamo::transform", raw.item.span(), format!("no earlier step records item type `{}`", raw.item.get()), "unknown shape")
                .help("a transform reads items as the migrations recorded them: record the item type first (`migration new` writes a `define_item` baseline)");
            cx.push(d);
        } else {
            cx.unknown_name("dynamo::transform", &raw.item, "item type", &names);
        }
        return None;
    };
    if syn::parse_str::<syn::Path>(raw.function.get()).is_err() {
        let d = cx
            .error(
                "dynamo::transform",
                raw.function.span(),
                format!("`{}` is not a Rust path", raw.function.get()),
                "not a path",
            )
            .help("name the app's function as the generated code can call it, e.g. `crate::upgrades::order_v2`");
        cx.push(d);
        return None;
    }
    Some(ir::TransformShape {
        step: index,
        function: raw.function.get().clone(),
        old: old.clone(),
        table_key: (table.def.partition_key.clone(), table.def.sort_key.clone()),
    })
}

/// A rewrite of the items of `item` in `table`.
fn rewrite(tables: &[ir::Table], table: &Sp<String>, item: &Sp<String>, edit: Edit) -> Step {
    Step::Rewrite(Rewrite {
        table: table.get().clone().into(),
        item: item.get().clone().into(),
        type_attribute: table_options(tables, table.get()).0.into(),
        edit,
    })
}

/// The table and item type a data step works on: reports a table no
/// earlier step creates, or an item type no earlier step records.
fn item_of<'s>(
    cx: &mut Cx<'_>,
    state: &'s BTreeMap<String, TableState>,
    trusted: bool,
    table: &Sp<String>,
    item: &Sp<String>,
) -> Option<&'s TableState> {
    let table_state = existing(cx, state, trusted, table)?;
    known_item(cx, table_state, trusted, item)?;
    Some(table_state)
}

/// Reports an item type the migrations so far have not recorded (when
/// they record any item type of the table: a project from before item
/// state records none until its baseline).
fn known_item(cx: &mut Cx<'_>, table: &TableState, trusted: bool, item: &Sp<String>) -> Option<()> {
    if trusted && !table.items.is_empty() && !table.items.contains_key(item.get()) {
        let names: Vec<&str> = table.items.keys().map(String::as_str).collect();
        cx.unknown_name("dynamo::migration_state", item, "item type", &names);
        return None;
    }
    Some(())
}

/// The item type a `define_item` step records.
fn define_item(cx: &mut Cx<'_>, raw: &RawDefineItem) -> Option<ItemDef> {
    let errors_before = cx.errors();
    let mut fields: Vec<FieldDef> = Vec::new();
    for (name, field) in raw.fields.iter() {
        let f = &field.get().0;
        if f.ty.get().is_empty() {
            let d = cx
                .error(
                    "dynamo::migration_state",
                    name.span(),
                    format!("field `{}` has no type", name.get()),
                    "no type",
                )
                .help("write the type as the schema does, e.g. `id = \"string\"`");
            cx.push(d);
            continue;
        }
        fields.push(FieldDef {
            name: name.get().clone().into(),
            attribute: f
                .attribute
                .as_ref()
                .map_or_else(|| name.get().clone(), |a| a.get().clone())
                .into(),
            ty: f.ty.get().clone().into(),
            optional: f.optional.as_ref().is_some_and(|o| *o.get()),
            default: f.default.as_ref().map(|d| d.get().to_string().into()),
            values: f
                .values
                .as_ref()
                .map(|v| v.iter().map(|v| v.get().clone().into()).collect::<Vec<_>>())
                .unwrap_or_default()
                .into(),
            format: f.format.as_ref().map(|f| f.get().clone().into()),
            computed: f.computed.as_ref().map(|c| c.get().clone().into()),
        });
    }
    let mut keys = Vec::new();
    for (attribute, text) in &raw.keys {
        for piece in dynamo_runtime::model::template::pieces(text.get()) {
            match piece {
                Err(e) => {
                    let start = text.span().start + 1 + e.span.start;
                    let d = cx
                        .error(
                            "dynamo::template",
                            start..start + e.span.len(),
                            e.message,
                            "here",
                        )
                        .help(e.help);
                    cx.push(d);
                }
                Ok((_, dynamo_runtime::model::template::Piece::Field { name, .. })) => {
                    if !fields.iter().any(|f| f.name == name) {
                        let d = cx
                            .error(
                                "dynamo::migration_state",
                                text.span(),
                                format!(
                                    "key `{}` uses field `{name}`, which the step does not list",
                                    attribute.get()
                                ),
                                "unknown field",
                            )
                            .help("list every field the key templates use under `fields`");
                        cx.push(d);
                    }
                }
                Ok(_) => {}
            }
        }
        keys.push(StoredTemplate {
            attribute: attribute.get().clone().into(),
            text: text.get().clone().into(),
        });
    }
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    keys.sort_by(|a, b| a.attribute.cmp(&b.attribute));
    (cx.errors() == errors_before).then(|| ItemDef {
        table: raw.table.get().clone().into(),
        name: raw.item.get().clone().into(),
        fields: fields.into(),
        keys: keys.into(),
    })
}

/// The templates of a `backfill` (non-key attributes) or `rewrite_keys`
/// (`keys`: the table's key attributes too) step, checked against the
/// item type's fields.
fn templates_step(
    cx: &mut Cx<'_>,
    raw: &RawBackfill,
    state: &BTreeMap<String, TableState>,
    trusted: bool,
    tables: &[ir::Table],
    scopes: &BTreeMap<String, BTreeMap<String, FieldScope>>,
    keys: bool,
) -> Option<ir::Backfill> {
    let errors_before = cx.errors();
    let table_state = existing(cx, state, trusted, &raw.table);
    let Some(scope) = scopes
        .get(raw.table.get())
        .and_then(|s| s.get(raw.item.get()))
    else {
        let known = tables.iter().find(|t| *t.def.name == **raw.table.get());
        match known {
            None => {
                let d = cx
                        .error("dynamo::unknown_item", raw.table.span(), format!("no schema file defines table `{}`", raw.table.get()), "no schema")
                        .help("a backfill renders templates from an item type's fields: the table's schema file must declare the item type");
                cx.push(d);
            }
            Some(t) => {
                let names: Vec<&str> = t.items.iter().map(|i| i.name.as_str()).collect();
                cx.unknown_name("dynamo::unknown_item", &raw.item, "item type", &names);
            }
        }
        return None;
    };
    let def = table_state.map(|s| s.def.clone());
    let mut set = Vec::new();
    let mut computed = Vec::new();
    if raw.set.is_empty() && raw.computed.as_ref().is_none_or(|c| c.is_empty()) {
        let d = cx
            .error(
                "dynamo::backfill",
                raw.set.span(),
                "backfill sets no attributes",
                "empty",
            )
            .help("write `set = { gsi2pk = \"STATUS#{status}\" }`");
        cx.push(d);
    }
    let (type_attribute, separator) = table_options(tables, raw.table.get());
    let mut ordered: Vec<_> = raw.set.iter().collect();
    ordered.sort_by_key(|(a, _)| a.span().start);
    for (attr, text) in ordered {
        let mut target = KeyTarget {
            name: attr.get(),
            ty: KeyType::S,
            sort: false,
        };
        if let Some(def) = &def {
            if !keys
                && (def.partition_key.name == *attr.get()
                    || def.sort_key.as_ref().is_some_and(|k| k.name == *attr.get()))
            {
                let d = cx
                        .error("dynamo::backfill", attr.span(), format!("`{}` is a key attribute of table `{}`", attr.get(), def.name), "part of the primary key")
                        .help("an item's primary key cannot change: copy the items into a new table instead");
                cx.push(d);
                continue;
            }
            for index in def.indexes.iter() {
                if let Some(pk) = index.partition_key.iter().find(|k| k.name == *attr.get()) {
                    target.ty = pk.ty;
                }
                if let Some(sk) = index.sort_key.iter().find(|k| k.name == *attr.get()) {
                    target.ty = sk.ty;
                    target.sort = true;
                }
            }
        }
        if let Some(t) = keys::template(cx, &separator, scope, &target, text) {
            set.push(t);
        }
    }
    let mut ordered: Vec<_> = raw.computed.iter().flat_map(|c| c.iter()).collect();
    ordered.sort_by_key(|(a, _)| a.span().start);
    let is_computed = |i: usize| {
        scope.fields[i]
            .as_ref()
            .is_some_and(|f| f.computed.is_some())
    };
    for (attr, text) in ordered {
        let key = def.as_ref().is_some_and(|def| {
            def.key().any(|k| k.name == *attr.get())
                || def
                    .indexes
                    .iter()
                    .any(|i| i.key().any(|k| k.name == *attr.get()))
        });
        if key {
            let d = cx
                .error(
                    "dynamo::computed",
                    attr.span(),
                    format!(
                        "`{}` is a key attribute: computed attributes are not keys",
                        attr.get()
                    ),
                    "a key",
                )
                .help("backfill key attributes under `set`, with key templates");
            cx.push(d);
            continue;
        }
        let name = scope
            .fields
            .iter()
            .flatten()
            .find(|f| f.attribute == *attr.get())
            .map_or(attr.get().as_str(), |f| f.name.as_str());
        if let Some(t) = computed::template(cx, scope, (name, attr.get()), text, &is_computed) {
            computed.push(t);
        }
    }
    (cx.errors() == errors_before).then(|| {
        let set: Vec<&ir::Template> = set.iter().collect();
        let computed: Vec<&ir::Template> = computed.iter().collect();
        ir::backfill(
            (raw.table.get(), &type_attribute, &separator),
            raw.item.get(),
            (&set, &computed),
            |id| scope.fields[id.0].as_ref(),
        )
    })
}

/// The state of a table a step works on; reports a table no earlier step
/// creates.
fn existing<'s>(
    cx: &mut Cx<'_>,
    state: &'s BTreeMap<String, TableState>,
    trusted: bool,
    table: &Sp<String>,
) -> Option<&'s TableState> {
    let found = state.get(table.get());
    if found.is_none() && trusted {
        let names: Vec<&str> = state.keys().map(String::as_str).collect();
        let d = cx
            .error(
                "dynamo::migration_state",
                table.span(),
                format!("no earlier step creates table `{}`", table.get()),
                "unknown table here",
            )
            .help(match crate::diagnostics::did_you_mean(table.get(), names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? Migrations run in number order; a `create_table` step must come first"),
                None => "migrations run in number order: add a `create_table` step for it in this or an earlier migration".to_owned(),
            });
        cx.push(d);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn file_numbers() {
        assert_eq!(number("0001_create_shop.toml"), Some(1));
        assert_eq!(number("12_x.toml"), Some(12));
        assert_eq!(number("create_shop.toml"), None);
        assert_eq!(number("0001-create.toml"), None);
        assert_eq!(number("0001_.toml"), None);
        assert_eq!(number("0001_Create.toml"), None);
    }
}
