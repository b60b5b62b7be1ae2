//! `[index.X]` (and the indexes of a `create_table` step): keys, local
//! index rules, projections, capacity.

use super::{
    Cx, check_resource_name,
    table::{key_attribute, throughput},
};
use crate::{
    ir::{Billing, IndexDef, IndexKind, KeyAttributeDef, Projection},
    load::{RawIndex, RawIndexKey, RawProjection, Sp, span_or},
};

/// The attributes of an index's partition or sort key: one, or a list of
/// one to four distinct attributes (a multi-attribute key). `None` when an
/// error was reported.
pub(crate) fn index_key(
    cx: &mut Cx<'_>,
    raw: &Sp<RawIndexKey>,
    index: &str,
    which: &str,
) -> Option<Vec<KeyAttributeDef>> {
    let keys: Vec<Sp<crate::load::RawKeyAttribute>> = match raw.get() {
        RawIndexKey::One(key) => vec![Sp::new(raw.span(), key.clone())],
        RawIndexKey::Many(keys) => keys.clone(),
    };
    if keys.is_empty() || keys.len() > 4 {
        let d = cx
            .error(
                "dynamo::key_attribute",
                raw.span(),
                format!(
                    "the {which} key of index `{index}` lists {} attributes",
                    keys.len()
                ),
                "1 to 4 attributes",
            )
            .help(
                "a multi-attribute key has one to four attributes, each a field of the item types",
            );
        cx.push(d);
        return None;
    }
    let mut out: Vec<KeyAttributeDef> = Vec::new();
    for key in &keys {
        let def = key_attribute(cx, key)?;
        if out.iter().any(|k| k.name == def.name) {
            let d = cx
                .error(
                    "dynamo::key_attribute",
                    span_or(&key.name, key.span()),
                    format!(
                        "the {which} key of index `{index}` lists `{}` twice",
                        def.name
                    ),
                    "listed already",
                )
                .help("each attribute of a multi-attribute key is listed once");
            cx.push(d);
            return None;
        }
        out.push(def);
    }
    Some(out)
}

/// The indexes of a table (or of a `create_table` step), with the rules
/// that concern them together: local indexes need a table sort key and
/// number at most 5; more than 20 global indexes is a warning.
pub(crate) fn indexes(
    cx: &mut Cx<'_>,
    raw_indexes: &[(&Sp<String>, &Sp<RawIndex>)],
    partition_key: &KeyAttributeDef,
    sort_key: Option<&KeyAttributeDef>,
    billing: Billing,
    table: &Sp<String>,
) -> Vec<IndexDef> {
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

/// One `[index.X]`. `declared_in_table` is false for migration steps.
pub(crate) fn index(
    cx: &mut Cx<'_>,
    name: &Sp<String>,
    raw: &Sp<RawIndex>,
    table_pk: &KeyAttributeDef,
    billing: Billing,
    declared_in_table: bool,
) -> Option<IndexDef> {
    let errors_before = cx.errors();
    check_resource_name(cx, name, "index");
    let local = raw.local.as_ref().is_some_and(|l| *l.get());
    let partition_key = raw
        .partition_key
        .as_ref()
        .and_then(|k| index_key(cx, k, name.get(), "partition"));
    let sort_key = match raw.sort_key.as_ref() {
        Some(k) => index_key(cx, k, name.get(), "sort"),
        None => Some(Vec::new()),
    };
    if local
        && let Some(raw_key) = [&raw.partition_key, &raw.sort_key]
            .into_iter()
            .flatten()
            .find(|k| matches!(k.get(), RawIndexKey::Many(keys) if keys.len() > 1))
    {
        let d = cx
            .error(
                "dynamo::local_index",
                raw_key.span(),
                format!("local index `{}` has a multi-attribute key", name.get()),
                "several attributes",
            )
            .help("DynamoDB allows multi-attribute keys on global indexes only: make the index global, or give it one sort key attribute");
        cx.push(d);
    }
    let sort_key = sort_key?;
    let partition_key = if local {
        if let (Some(pk), Some(raw_pk)) = (&partition_key, &raw.partition_key)
            && pk.first() != Some(table_pk)
        {
            let d = cx
                .error(
                    "dynamo::local_index",
                    raw_pk.span(),
                    format!(
                        "local index `{}` has partition key `{}`, but the table's is `{}`",
                        name.get(),
                        pk.iter().map(|k| &*k.name).collect::<Vec<_>>().join(", "),
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
        vec![table_pk.clone()]
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
    if let (Some(sk), Some(raw_sk)) = (
        sort_key
            .iter()
            .find(|s| partition_key.iter().any(|p| p.name == s.name)),
        &raw.sort_key,
    ) {
        let d = cx
            .error(
                "dynamo::key_attribute",
                raw_sk.span(),
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
            Projection::Include(sorted.into_iter().map(Into::into).collect())
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
    (cx.errors() == errors_before).then(|| IndexDef {
        name: name.get().clone().into(),
        kind: if local {
            IndexKind::Local
        } else {
            IndexKind::Global
        },
        partition_key: partition_key.into(),
        sort_key: sort_key.into(),
        projection,
        throughput,
    })
}
