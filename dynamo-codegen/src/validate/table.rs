//! `[table]`: the table's name, key attributes, billing, ttl, stream, type
//! attribute and key separator, and the rules over the whole table's keys
//! and projections.

use std::collections::BTreeMap;

use super::{Cx, FieldScope, check_resource_name};
use crate::{
    ir::{Billing, IndexDef, KeyAttributeDef, KeyType, StreamView, TableDef, Throughput},
    load::{
        RawBilling, RawIndex, RawKeyAttribute, RawProjection, RawTable, RawTypeAttribute, Sp,
        span_or,
    },
};

/// The table of a `[table]` section, without indexes (which need the
/// table's keys and billing to be validated first).
pub(crate) fn table(cx: &mut Cx<'_>, raw: &RawTable) -> Option<TableDef> {
    let errors_before = cx.errors();
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
    // `false`: no type attribute (an empty name in the model).
    let type_attribute = match raw.type_attribute.as_ref().map(|t| (t, t.get())) {
        None | Some((_, RawTypeAttribute::Enabled(true))) => TableDef::TYPE_ATTRIBUTE.to_owned(),
        Some((_, RawTypeAttribute::Enabled(false))) => String::new(),
        Some((t, RawTypeAttribute::Name(name))) => {
            attribute_name(cx, &Sp::new(t.span(), name.clone()), "type attribute")
                .unwrap_or_else(|| TableDef::TYPE_ATTRIBUTE.to_owned())
        }
    };
    let key_separator = raw
        .key_separator
        .as_ref()
        .and_then(|s| separator(cx, s))
        .unwrap_or_else(|| TableDef::KEY_SEPARATOR.to_owned());
    // Items are checked against the key attributes: with those invalid,
    // every item would report their consequences.
    if cx.errors() != errors_before {
        return None;
    }
    Some(TableDef {
        name: raw.name.get().clone().into(),
        partition_key: partition_key?,
        sort_key,
        type_attribute: type_attribute.into(),
        key_separator: key_separator.into(),
        billing,
        ttl: ttl.map(Into::into),
        stream,
        indexes: Vec::new().into(),
        point_in_time_recovery: raw
            .point_in_time_recovery
            .as_ref()
            .is_some_and(|b| *b.get()),
        deletion_protection: raw.deletion_protection.as_ref().is_some_and(|b| *b.get()),
    })
}

/// A key attribute's name and type.
pub(crate) fn key_attribute(cx: &mut Cx<'_>, raw: &Sp<RawKeyAttribute>) -> Option<KeyAttributeDef> {
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
    Some(KeyAttributeDef {
        name: name.clone().into(),
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

pub(crate) fn throughput(cx: &mut Cx<'_>, read: &Sp<i64>, write: &Sp<i64>) -> Option<Throughput> {
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
    if let Some(view) = StreamView::from_name(raw.get()) {
        return Some(Some(view));
    }
    let mut names: Vec<&str> = StreamView::ALL.iter().map(|v| v.name()).collect();
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

/// One attribute, one type: a key attribute shared by the table and
/// indexes must have the same type everywhere, and none may be the type
/// attribute.
pub(crate) fn key_attribute_types(
    cx: &mut Cx<'_>,
    pk: &KeyAttributeDef,
    sk: Option<&KeyAttributeDef>,
    indexes: &[IndexDef],
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
            .find(|(n, _)| *n.get() == index.name)
            .map_or(table_span.clone(), |(n, _)| n.span());
        for key in index.key() {
            if let Some((ty, first, owner)) = seen.get(&*key.name) {
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
    if let Some((_, span, owner)) = seen
        .get(type_attribute)
        .filter(|_| !type_attribute.is_empty())
    {
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
pub(crate) fn projections(
    cx: &mut Cx<'_>,
    def: &TableDef,
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
    let keys: Vec<&str> = def
        .key()
        .chain(def.indexes.iter().flat_map(IndexDef::key))
        .map(|k| &*k.name)
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
