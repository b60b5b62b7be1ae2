//! `[table]` and `[index.X]`: names, key attributes, billing, ttl, stream,
//! projections; then the file's types, items and collections.

use std::collections::BTreeMap;

use super::{Cx, FieldScope, check_resource_name, collection, item, types};
use crate::{
    ir::{self, Billing, IndexKind, KeyType, Projection, StreamView, Throughput},
    load::{RawBilling, RawFile, RawIndex, RawKeyAttribute, RawProjection, Sp, span_or},
};

/// What items, types and collections need to know about their table.
pub(crate) struct TableCx<'a> {
    /// The table's definition (indexes included).
    pub def: &'a ir::TableDef,
    /// The type attribute.
    pub type_attribute: &'a str,
    /// The key separator.
    pub key_separator: &'a str,
    /// Names of item and nested types that did not parse.
    pub broken: &'a std::collections::BTreeSet<String>,
}

impl TableCx<'_> {
    /// Every key attribute of the table and its indexes, with its type and
    /// whether it is a sort key anywhere.
    pub fn key_attributes(&self) -> Vec<(String, KeyType, bool)> {
        let mut out: Vec<(String, KeyType, bool)> = Vec::new();
        let mut add = |k: &ir::KeyAttribute, sort: bool| {
            if let Some(e) = out.iter_mut().find(|e| e.0 == k.name) {
                e.2 |= sort;
            } else {
                out.push((k.name.clone(), k.ty, sort));
            }
        };
        add(&self.def.partition_key, false);
        if let Some(sk) = &self.def.sort_key {
            add(sk, true);
        }
        for index in &self.def.indexes {
            add(&index.partition_key, false);
            if let Some(sk) = &index.sort_key {
                add(sk, true);
            }
        }
        out
    }

    /// Whether `attribute` is the table's own partition or sort key.
    pub fn is_table_key(&self, attribute: &str) -> bool {
        self.def.partition_key.name == attribute
            || self
                .def
                .sort_key
                .as_ref()
                .is_some_and(|k| k.name == attribute)
    }
}

/// Validates one table file.
pub(crate) fn table(
    cx: &mut Cx<'_>,
    file: &RawFile,
) -> Option<(ir::Table, BTreeMap<String, FieldScope>)> {
    let errors_before = cx.errors();
    let raw = file.schema.table.as_ref()?;
    check_resource_name(cx, &raw.name, "table");
    let partition_key = key_attribute(cx, &raw.partition_key);
    let sort_key = raw.sort_key.as_ref().and_then(|k| key_attribute(cx, k));
    if let (Some(pk), Some(sk), Some(raw_sk)) = (&partition_key, &sort_key, &raw.sort_key)
        && pk.name == sk.name
    {
        let d = cx
            .error(
                "dynamo::key_attribute",
                span_or(&raw_sk.name, raw_sk.span()),
                format!("the sort key `{}` is also the partition key", sk.name),
                "same name as the partition key",
            )
            .help("give the sort key its own attribute name, e.g. `sk`");
        cx.push(d);
    }
    let billing = raw
        .billing
        .as_ref()
        .and_then(|b| billing(cx, b))
        .unwrap_or(Billing::OnDemand);
    let ttl = raw.ttl.as_ref().and_then(|t| attribute_name(cx, t, "ttl"));
    let stream = raw
        .stream
        .as_ref()
        .and_then(|s| stream(cx, s, false))
        .flatten();
    let type_attribute = raw
        .type_attribute
        .as_ref()
        .and_then(|t| attribute_name(cx, t, "type attribute"))
        .unwrap_or_else(|| "_type".to_owned());
    let key_separator = raw
        .key_separator
        .as_ref()
        .and_then(|s| separator(cx, s))
        .unwrap_or_else(|| "#".to_owned());
    // Items are checked against the key attributes: with those invalid,
    // every item would report their consequences.
    if cx.errors() != errors_before {
        return None;
    }
    let partition_key = partition_key?;

    let mut raw_indexes: Vec<_> = file.schema.index.iter().collect();
    raw_indexes.sort_by_key(|(name, _)| name.span().start);
    let indexes = indexes(
        cx,
        &raw_indexes,
        &partition_key,
        sort_key.as_ref(),
        billing,
        &raw.name,
    );
    key_attribute_types(
        cx,
        &partition_key,
        sort_key.as_ref(),
        &indexes,
        &raw_indexes,
        &type_attribute,
        raw.name.span(),
    );

    let def = ir::TableDef {
        name: raw.name.get().clone(),
        partition_key,
        sort_key,
        billing,
        ttl,
        stream,
        indexes,
    };
    let tcx = TableCx {
        def: &def,
        type_attribute: &type_attribute,
        key_separator: &key_separator,
        broken: &file.broken,
    };
    let (nested, mut enums, nested_info) = types::nested_types(cx, &tcx, &file.schema.types);
    let (items, scopes) = item::items(cx, &tcx, file, &nested_info, &mut enums);
    types::unused_nested(cx, &file.schema);
    projections(cx, &def, &raw_indexes, &scopes, &type_attribute);
    let collections = collection::collections(cx, &tcx, &file.schema.collection, &items, &scopes);
    let mut generated: BTreeMap<String, std::ops::Range<usize>> = BTreeMap::new();
    type_name_clashes(cx, file, &enums, &collections, &mut generated);

    if file.schema.item.is_empty() && file.broken.is_empty() {
        let d = cx
            .error(
                "dynamo::no_items",
                raw.name.span(),
                format!("table `{}` has no item types", raw.name.get()),
                "no `[item.Name]` for this table",
            )
            .warning()
            .help(
                "add an item type, e.g. `[item.Customer.keys]` with a template per key attribute",
            );
        cx.push(d);
    }
    (cx.errors() == errors_before && file.broken.is_empty()).then(|| {
        (
            ir::Table {
                def,
                file: file.relative_name.clone(),
                type_attribute,
                key_separator,
                items,
                types: nested,
                enums: enums.into_iter().map(|(e, _)| e).collect(),
                collections,
            },
            scopes,
        )
    })
}

/// The indexes of a table (or of a `create_table` step), with the rules
/// that concern them together: local indexes need a table sort key and
/// number at most 5; more than 20 global indexes is a warning.
pub(crate) fn indexes(
    cx: &mut Cx<'_>,
    raw_indexes: &[(&Sp<String>, &Sp<RawIndex>)],
    partition_key: &ir::KeyAttribute,
    sort_key: Option<&ir::KeyAttribute>,
    billing: Billing,
    table: &Sp<String>,
) -> Vec<ir::Index> {
    let mut indexes = Vec::new();
    let mut locals = Vec::new();
    for (name, raw_index) in raw_indexes {
        let Some(index) = index(cx, name, raw_index, partition_key, billing, true) else {
            continue;
        };
        if index.kind == IndexKind::Local {
            locals.push(name.span());
            if sort_key.is_none() {
                let d = cx
                    .error(
                        "dynamo::local_index",
                        name.span(),
                        format!("local index `{}` on a table without a sort key", name.get()),
                        "local index",
                    )
                    .help("local indexes give a table a second sort key: declare the table's `sort_key` first, or make this index global");
                cx.push(d);
            }
        }
        indexes.push(index);
    }
    if locals.len() > 5 {
        let d = cx
            .error(
                "dynamo::too_many_local_indexes",
                locals[5].clone(),
                format!("table `{}` has {} local indexes", table.get(), locals.len()),
                "the sixth",
            )
            .help("DynamoDB allows at most 5 local secondary indexes per table; make some global");
        cx.push(d);
    }
    let globals = indexes
        .iter()
        .filter(|i| i.kind == IndexKind::Global)
        .count();
    if globals > 20 {
        let d = cx
            .error(
                "dynamo::many_global_indexes",
                table.span(),
                format!("table `{}` has {globals} global indexes", table.get()),
                "this table",
            )
            .warning()
            .help("DynamoDB's default quota is 20 global indexes per table; ask AWS for more before deploying");
        cx.push(d);
    }
    indexes
}

/// A key attribute's name and type.
pub(crate) fn key_attribute(
    cx: &mut Cx<'_>,
    raw: &Sp<RawKeyAttribute>,
) -> Option<ir::KeyAttribute> {
    let name = raw.name.get();
    if name.is_empty() || name.len() > 255 {
        let d = cx
            .error(
                "dynamo::key_attribute",
                span_or(&raw.name, raw.span()),
                format!(
                    "key attribute names have 1 to 255 bytes, this one {}",
                    name.len()
                ),
                "invalid key attribute name",
            )
            .help("name the attribute, e.g. `pk`");
        cx.push(d);
        return None;
    }
    let ty = match raw.ty.as_ref().map(|t| (t.get().as_str(), t.span())) {
        None | Some(("S", _)) => KeyType::S,
        Some(("N", _)) => KeyType::N,
        Some(("B", _)) => KeyType::B,
        Some((other, span)) => {
            let d = cx
                .error(
                    "dynamo::key_type",
                    span,
                    format!("unknown key attribute type `{other}`"),
                    "not S, N or B",
                )
                .help(match other.to_ascii_uppercase().as_str() {
                    "S" | "N" | "B" => {
                        format!("types are upper case: `{}`", other.to_ascii_uppercase())
                    }
                    _ => {
                        "key attributes are strings (`S`), numbers (`N`) or binary (`B`)".to_owned()
                    }
                });
            cx.push(d);
            return None;
        }
    };
    Some(ir::KeyAttribute {
        name: name.clone(),
        ty,
    })
}

/// `billing`.
pub(crate) fn billing(cx: &mut Cx<'_>, raw: &Sp<RawBilling>) -> Option<Billing> {
    match raw.get() {
        RawBilling::Mode(mode) if mode.get() == "on_demand" => Some(Billing::OnDemand),
        RawBilling::Mode(mode) => {
            let d = cx
                .error(
                    "dynamo::billing",
                    span_or(mode, raw.span()),
                    format!("unknown billing mode `{}`", mode.get()),
                    "not a billing mode",
                )
                .help(r#"write `billing = "on_demand"`, or provisioned capacity `billing = { read = 5, write = 5 }`"#);
            cx.push(d);
            None
        }
        RawBilling::Provisioned(t) => throughput(cx, &t.read, &t.write).map(Billing::Provisioned),
    }
}

fn throughput(cx: &mut Cx<'_>, read: &Sp<i64>, write: &Sp<i64>) -> Option<Throughput> {
    let mut units = |v: &Sp<i64>, what: &str| match u64::try_from(*v.get()) {
        Ok(n) if n >= 1 => Some(n),
        _ => {
            let d = cx
                .error(
                    "dynamo::capacity",
                    v.span(),
                    format!("{what} capacity must be at least 1, not {}", v.get()),
                    "not a capacity",
                )
                .help("provisioned capacity is a positive number of units, e.g. `read = 5`");
            cx.push(d);
            None
        }
    };
    let read = units(read, "read");
    let write = units(write, "write");
    Some(Throughput {
        read: read?,
        write: write?,
    })
}

/// `stream`; `Some(None)` is `disabled` where `allow_disabled`.
pub(crate) fn stream(
    cx: &mut Cx<'_>,
    raw: &Sp<String>,
    allow_disabled: bool,
) -> Option<Option<StreamView>> {
    if allow_disabled && raw.get() == "disabled" {
        return Some(None);
    }
    if let Some((_, view)) = StreamView::ALL.iter().find(|(n, _)| n == raw.get()) {
        return Some(Some(*view));
    }
    let mut names: Vec<&str> = StreamView::ALL.iter().map(|(n, _)| *n).collect();
    if allow_disabled {
        names.push("disabled");
    }
    cx.unknown_name("dynamo::stream", raw, "stream view", &names);
    None
}

/// An attribute name given as an option (ttl, type attribute).
fn attribute_name(cx: &mut Cx<'_>, raw: &Sp<String>, what: &str) -> Option<String> {
    if raw.is_empty() {
        let d = cx
            .error(
                "dynamo::attribute_name",
                raw.span(),
                format!("empty {what} name"),
                "empty",
            )
            .help("DynamoDB attribute names have at least one character");
        cx.push(d);
        return None;
    }
    Some(raw.get().clone())
}

fn separator(cx: &mut Cx<'_>, raw: &Sp<String>) -> Option<String> {
    let text = raw.get();
    if text.is_empty() || text.contains(['{', '}']) {
        let d = cx
            .error(
                "dynamo::key_separator",
                raw.span(),
                format!("invalid key separator {text:?}"),
                if text.is_empty() {
                    "empty"
                } else {
                    "contains a brace"
                },
            )
            .help(
                "the separator is non-empty literal text between template fields, e.g. `#` or `|`",
            );
        cx.push(d);
        return None;
    }
    Some(text.clone())
}

/// One `[index.X]`. `declared_in_table` is false for migration steps.
pub(crate) fn index(
    cx: &mut Cx<'_>,
    name: &Sp<String>,
    raw: &Sp<RawIndex>,
    table_pk: &ir::KeyAttribute,
    billing: Billing,
    declared_in_table: bool,
) -> Option<ir::Index> {
    let errors_before = cx.errors();
    check_resource_name(cx, name, "index");
    let local = raw.local.as_ref().is_some_and(|l| *l.get());
    let partition_key = raw
        .partition_key
        .as_ref()
        .and_then(|k| key_attribute(cx, k));
    let sort_key = raw.sort_key.as_ref().and_then(|k| key_attribute(cx, k));
    let partition_key = if local {
        if let (Some(pk), Some(raw_pk)) = (&partition_key, &raw.partition_key)
            && pk != table_pk
        {
            let d = cx
                .error(
                    "dynamo::local_index",
                    span_or(&raw_pk.name, raw_pk.span()),
                    format!(
                        "local index `{}` has partition key `{}`, but the table's is `{}`",
                        name.get(),
                        pk.name,
                        table_pk.name
                    ),
                    "not the table's partition key",
                )
                .help("a local index shares the table's partition key: remove `partition_key`, or make the index global");
            cx.push(d);
        }
        if raw.sort_key.is_none() {
            let d = cx
                .error(
                    "dynamo::local_index",
                    name.span(),
                    format!("local index `{}` has no sort key", name.get()),
                    "needs `sort_key`",
                )
                .help("a local index is the table's partition key with another sort key: add `sort_key = \"...\"`");
            cx.push(d);
        }
        if let Some(r) = raw.read.as_ref().or(raw.write.as_ref()) {
            let d = cx
                .error(
                    "dynamo::capacity",
                    r.span(),
                    format!("local index `{}` has its own capacity", name.get()),
                    "local indexes use the table's capacity",
                )
                .help("remove `read` and `write` from the local index");
            cx.push(d);
        }
        table_pk.clone()
    } else if let Some(pk) = partition_key {
        pk
    } else {
        if raw.partition_key.is_none() {
            let d = cx
                .error(
                    "dynamo::missing_key",
                    name.span(),
                    format!("global index `{}` has no partition key", name.get()),
                    "needs `partition_key`",
                )
                .help(if declared_in_table {
                    "add `partition_key = \"...\"`, or `local = true` for a local index"
                } else {
                    "add `partition_key = \"...\"`"
                });
            cx.push(d);
        }
        return None;
    };
    if let (Some(sk), Some(raw_sk)) = (&sort_key, &raw.sort_key)
        && sk.name == partition_key.name
    {
        let d = cx
            .error(
                "dynamo::key_attribute",
                span_or(&raw_sk.name, raw_sk.span()),
                format!("index `{}` uses `{}` as both its keys", name.get(), sk.name),
                "same as the partition key",
            )
            .help("give the index's sort key its own attribute");
        cx.push(d);
    }
    let projection = match raw.projection.as_ref().map(|p| (p.get(), p.span())) {
        None => Projection::All,
        Some((RawProjection::Name(n), span)) => match n.get().as_str() {
            "all" => Projection::All,
            "keys_only" => Projection::KeysOnly,
            _ => {
                let n = crate::load::Sp::new(span_or(n, span), n.get().clone());
                cx.unknown_name(
                    "dynamo::projection",
                    &n,
                    "projection",
                    &["all", "keys_only"],
                );
                return None;
            }
        },
        Some((RawProjection::Include(names), span)) => {
            if names.is_empty() {
                let d = cx
                    .error(
                        "dynamo::projection",
                        span,
                        "empty include projection",
                        "no attributes",
                    )
                    .help(r#"use `projection = "keys_only"`, or list the attributes to include"#);
                cx.push(d);
            }
            let mut sorted: Vec<String> = names.iter().map(|n| n.get().clone()).collect();
            sorted.sort();
            sorted.dedup();
            Projection::Include(sorted)
        }
    };
    let throughput = match (&raw.read, &raw.write, billing) {
        (_, _, _) if local => None,
        (None, None, Billing::Provisioned(t)) => Some(t),
        (None, None, Billing::OnDemand) => None,
        (Some(r), Some(w), Billing::Provisioned(_)) => throughput(cx, r, w),
        (Some(r), Some(_), Billing::OnDemand) => {
            let d = cx
                .error(
                    "dynamo::capacity",
                    r.span(),
                    format!(
                        "index `{}` has capacity, but its table is on demand",
                        name.get()
                    ),
                    "on-demand tables have no capacity",
                )
                .help("remove `read` and `write`, or give the table provisioned `billing`");
            cx.push(d);
            None
        }
        (Some(one), None, _) | (None, Some(one), _) => {
            let d = cx
                .error(
                    "dynamo::capacity",
                    one.span(),
                    format!("index `{}` sets only one of `read` and `write`", name.get()),
                    "needs both",
                )
                .help("set both `read` and `write`, or neither to use the table's");
            cx.push(d);
            None
        }
    };
    (cx.errors() == errors_before).then(|| ir::Index {
        name: name.get().clone(),
        kind: if local {
            IndexKind::Local
        } else {
            IndexKind::Global
        },
        partition_key,
        sort_key,
        projection,
        throughput,
    })
}

/// One attribute, one type: a key attribute shared by the table and
/// indexes must have the same type everywhere, and none may be the type
/// attribute.
fn key_attribute_types(
    cx: &mut Cx<'_>,
    pk: &ir::KeyAttribute,
    sk: Option<&ir::KeyAttribute>,
    indexes: &[ir::Index],
    raw_indexes: &[(&Sp<String>, &Sp<RawIndex>)],
    type_attribute: &str,
    table_span: std::ops::Range<usize>,
) {
    let mut seen: BTreeMap<&str, (KeyType, std::ops::Range<usize>, String)> = BTreeMap::new();
    seen.insert(&pk.name, (pk.ty, table_span.clone(), "the table".into()));
    if let Some(sk) = sk {
        seen.insert(&sk.name, (sk.ty, table_span.clone(), "the table".into()));
    }
    for index in indexes {
        let span = raw_indexes
            .iter()
            .find(|(n, _)| n.get() == &index.name)
            .map_or(table_span.clone(), |(n, _)| n.span());
        for key in std::iter::once(&index.partition_key).chain(&index.sort_key) {
            if let Some((ty, first, owner)) = seen.get(key.name.as_str()) {
                if *ty != key.ty {
                    let d = cx
                        .error(
                            "dynamo::key_type_conflict",
                            span.clone(),
                            format!(
                                "index `{}` declares `{}` as {:?}, but {owner} declares it as {ty:?}",
                                index.name, key.name, key.ty
                            ),
                            format!("`{}` is {:?} here", key.name, key.ty),
                        )
                        .related(cx.file, first.clone(), format!("`{}` is {ty:?} here", key.name))
                        .help("an attribute has one type in every item: use the same type, or another attribute");
                    cx.push(d);
                }
            } else {
                seen.insert(
                    &key.name,
                    (key.ty, span.clone(), format!("index `{}`", index.name)),
                );
            }
        }
    }
    if let Some((_, span, owner)) = seen.get(type_attribute) {
        let d = cx
            .error(
                "dynamo::attribute_clash",
                span.clone(),
                format!("`{type_attribute}` is a key attribute of {owner} and the type attribute"),
                "key attribute",
            )
            .help("set `type_attribute` in `[table]` to another name");
        cx.push(d);
    }
}

/// Include projections name attributes that items store.
fn projections(
    cx: &mut Cx<'_>,
    def: &ir::TableDef,
    raw_indexes: &[(&Sp<String>, &Sp<RawIndex>)],
    scopes: &BTreeMap<String, FieldScope>,
    type_attribute: &str,
) {
    let mut known: Vec<&str> = scopes
        .values()
        .flat_map(|s| s.fields.iter().flatten().map(|f| f.attribute.as_str()))
        .collect();
    known.push(type_attribute);
    known.extend(def.ttl.as_deref());
    known.sort();
    known.dedup();
    let keys: Vec<&str> = std::iter::once(&def.partition_key)
        .chain(&def.sort_key)
        .chain(
            def.indexes
                .iter()
                .flat_map(|i| std::iter::once(&i.partition_key).chain(&i.sort_key)),
        )
        .map(|k| k.name.as_str())
        .collect();
    for (_, raw) in raw_indexes {
        let Some(RawProjection::Include(names)) = raw.projection.as_deref() else {
            continue;
        };
        for name in names {
            if keys.contains(&name.as_str()) {
                let d = cx
                    .error(
                        "dynamo::projection",
                        name.span(),
                        format!("`{}` is a key attribute: every index stores it", name.get()),
                        "already projected",
                    )
                    .help("list only non-key attributes in an include projection");
                cx.push(d);
            } else if !known.contains(&name.as_str()) {
                let non_keys: Vec<&str> = known
                    .iter()
                    .copied()
                    .filter(|k| !keys.contains(k))
                    .collect();
                cx.unknown_name("dynamo::projection", name, "attribute", &non_keys);
            }
        }
    }
}

/// Every type a table module defines must have its own name.
fn type_name_clashes(
    cx: &mut Cx<'_>,
    file: &RawFile,
    enums: &types::Enums,
    collections: &[ir::Collection],
    generated: &mut BTreeMap<String, std::ops::Range<usize>>,
) {
    let mut sources: Vec<(String, std::ops::Range<usize>, String)> = Vec::new();
    for name in file.schema.item.keys() {
        for g in crate::naming::generated_type_names(name.get()) {
            sources.push((g, name.span(), format!("item type `{}`", name.get())));
        }
    }
    for name in file.schema.types.keys() {
        sources.push((
            name.get().clone(),
            name.span(),
            format!("nested type `{}`", name.get()),
        ));
    }
    for (e, span) in enums {
        sources.push((e.name.clone(), span.clone(), format!("enum `{}`", e.name)));
    }
    for c in collections {
        let span = file
            .schema
            .collection
            .keys()
            .find(|n| n.get() == &c.name)
            .map_or(0..0, |n| n.span());
        sources.push((
            c.rust_name.clone(),
            span,
            format!("collection `{}`", c.name),
        ));
    }
    sources.sort_by_key(|s| s.1.start);
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    for (name, span, owner) in sources {
        if let Some(first) = generated.get(&name) {
            let d = cx
                .error(
                    "dynamo::type_name_clash",
                    span.clone(),
                    format!(
                        "{owner} generates the type `{name}`, which {} also generates",
                        owners
                            .get(&name)
                            .map_or("another definition", String::as_str)
                    ),
                    format!("generates `{name}`"),
                )
                .related(cx.file, first.clone(), format!("also generates `{name}`"))
                .help("rename one of them");
            cx.push(d);
        } else {
            generated.insert(name.clone(), span);
            owners.insert(name, owner);
        }
    }
}
