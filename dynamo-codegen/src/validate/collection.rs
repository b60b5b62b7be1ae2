//! `[collection.X]`: item types read together must share one partition
//! template on the collection's index.

use std::collections::BTreeMap;

use super::{
    Cx,
    scope::{FieldScope, TableCx},
};
use crate::{
    ir::{self, AccessId, FieldType, IndexId, ItemId, KeyValue, Projection, TemplatePart},
    load::{Named, RawCollection},
    names,
};

/// The shape of a key value: literals and the types of its fields, so that
/// one set of query arguments renders the same key for every item type.
#[derive(Debug, PartialEq)]
enum Shape {
    Literal(String),
    Field(FieldType, Option<usize>),
}

fn shape(value: &KeyValue, fields: &[ir::Field]) -> Vec<Shape> {
    match value {
        KeyValue::Field { field, .. } => vec![Shape::Field(fields[field.0].ty.clone(), None)],
        KeyValue::Template(t) => t
            .parts
            .iter()
            .map(|p| match p {
                TemplatePart::Literal(s) => Shape::Literal(s.clone()),
                TemplatePart::Field { field, width, .. } => {
                    Shape::Field(fields[field.0].ty.clone(), *width)
                }
            })
            .collect(),
    }
}

fn describe(value: &KeyValue) -> String {
    match value {
        KeyValue::Template(t) => format!("\"{}\"", t.text),
        KeyValue::Field { attribute, .. } => format!("the plain key `{attribute}`"),
    }
}

/// Validates the collections of a file; `items` are by [`ItemId`], `None`
/// where invalid.
pub(crate) fn collections(
    cx: &mut Cx<'_>,
    tcx: &TableCx<'_>,
    raw: &Named<RawCollection>,
    items: &[Option<ir::Item>],
    scopes: &BTreeMap<String, FieldScope>,
) -> Vec<ir::Collection> {
    let mut ordered: Vec<_> = raw.iter().collect();
    ordered.sort_by_key(|(n, _)| n.span().start);
    let mut out = Vec::new();
    for (name, raw) in ordered {
        let errors_before = cx.errors();
        if !names::is_snake(name.get()) {
            let d = cx
                .error(
                    "dynamo::collection_name",
                    name.span(),
                    format!("collection name `{}` is not snake_case", name.get()),
                    "names the query and, in UpperCamelCase, the enum",
                )
                .help("use lower-case letters, digits and `_`, e.g. `customer_orders`");
            cx.push(d);
        }
        let index = match raw.index.as_ref() {
            None => None,
            Some(i) if i.get() == "table" => None,
            Some(i) => match tcx.def.indexes.iter().position(|x| *x.name == **i.get()) {
                Some(id) => Some(IndexId(id)),
                None => {
                    let names: Vec<&str> = std::iter::once("table")
                        .chain(tcx.def.indexes.iter().map(|x| &*x.name))
                        .collect();
                    cx.unknown_name("dynamo::unknown_index", i, "index", &names);
                    continue;
                }
            },
        };
        let index_def = index.map(|i| &tcx.def.indexes[i.0]);
        if let (Some(def), Some(at)) = (index_def, raw.index.as_ref())
            && def.projection != Projection::All
        {
            let stores = match &def.projection {
                Projection::KeysOnly => "only keys".to_owned(),
                _ => "only keys and the attributes it includes".to_owned(),
            };
            let d = cx
                .error(
                    "dynamo::collection_projection",
                    at.span(),
                    format!("collection `{}` reads whole items, but index `{}` stores {stores}", name.get(), def.name),
                    "does not project every attribute",
                )
                .help(format!(
                    "give index `{}` `projection = \"all\"`, or query it per item type (its projections read keys back)",
                    def.name
                ));
            cx.push(d);
            continue;
        }
        if let (Some(def), Some(at)) = (index_def, raw.index.as_ref())
            && def.is_multi_attribute()
        {
            let d = cx
                .error(
                    "dynamo::collection_index",
                    at.span(),
                    format!(
                        "collection `{}` is on index `{}`, whose key has several attributes",
                        name.get(),
                        def.name
                    ),
                    "a multi-attribute key",
                )
                .help("collections read one partition of a single-attribute key: query each item type through its own query of the index");
            cx.push(d);
            continue;
        }
        let on = index_def.map_or("the table".to_owned(), |i| format!("index `{}`", i.name));
        match raw.items.len() {
            0 => {
                let d = cx
                    .error("dynamo::collection_items", raw.items.span(), format!("collection `{}` has no item types", name.get()), "empty")
                    .help("list the item types read together, e.g. `items = [\"Customer\", \"Order\"]`");
                cx.push(d);
                continue;
            }
            1 => {
                let d = cx
                    .error("dynamo::collection_items", raw.items.span(), format!("collection `{}` has one item type", name.get()), "one item type")
                    .warning()
                    .help("the item type's own query reads the same items; a collection pays off with two or more");
                cx.push(d);
            }
            _ => {}
        }
        let mut first: Option<(&ir::Item, &KeyValue, std::ops::Range<usize>)> = None;
        let mut ids: Vec<ItemId> = Vec::new();
        let mut partition = None;
        let mut listed: Vec<&str> = Vec::new();
        for entry in raw.items.iter() {
            if listed.contains(&entry.get().as_str()) {
                let d = cx
                    .error(
                        "dynamo::collection_items",
                        entry.span(),
                        format!("`{}` is listed twice", entry.get()),
                        "again",
                    )
                    .help("list each item type once");
                cx.push(d);
                continue;
            }
            listed.push(entry.get());
            let Some(scope) = scopes.get(entry.get()) else {
                if !tcx.broken.contains(entry.get()) {
                    let names: Vec<&str> = scopes.keys().map(String::as_str).collect();
                    cx.unknown_name("dynamo::unknown_item", entry, "item type", &names);
                }
                continue;
            };
            // An invalid item was reported already.
            let Some((id, item)) = items.iter().enumerate().find_map(|(i, item)| {
                item.as_ref()
                    .filter(|x| x.name == **entry.get())
                    .map(|x| (ItemId(i), x))
            }) else {
                continue;
            };
            let access = item.accesses.iter().position(|a| a.index == index);
            let Some((access, value)) =
                access.map(|a| (AccessId(a), item.key(item.accesses[a].partition)))
            else {
                let keys = index_def
                    .map(|x| {
                        x.key()
                            .map(|k| format!("`{}`", k.name))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    })
                    .unwrap_or_default();
                let d = cx
                    .error(
                        "dynamo::collection_index",
                        entry.span(),
                        format!("item type `{}` is not in {on}", item.name),
                        "not in the index",
                    )
                    .related(cx.file, scope.name_span.clone(), "fills none of its keys")
                    .help(format!("fill {keys} in `[item.{}.keys]`", item.name));
                cx.push(d);
                continue;
            };
            ids.push(id);
            let span = scope
                .key_spans
                .get(value.attribute())
                .cloned()
                .unwrap_or(scope.name_span.clone());
            partition.get_or_insert((id, access));
            match &first {
                None => first = Some((item, value, span)),
                Some((a, a_value, a_span)) => {
                    if shape(a_value, &a.fields) != shape(value, &item.fields) {
                        let d = cx
                            .error(
                                "dynamo::collection_partition",
                                entry.span(),
                                format!(
                                    "`{}` and `{}` do not share one partition template on {on}",
                                    a.name, item.name
                                ),
                                format!("partition {}", describe(value)),
                            )
                            .related(cx.file, a_span.clone(), format!("`{}`: {}", a.name, describe(a_value)))
                            .related(cx.file, span, format!("`{}`: {}", item.name, describe(value)))
                            .help("a collection reads one partition: its item types need the same literal text and field types in that key");
                        cx.push(d);
                    }
                }
            }
        }
        if let (true, Some(partition)) = (cx.errors() == errors_before, partition) {
            out.push(ir::Collection {
                name: name.get().clone(),
                span: name.span(),
                doc: raw.doc.as_ref().map(|d| d.get().clone()),
                index,
                items: ids,
                partition,
            });
        }
    }
    out
}
