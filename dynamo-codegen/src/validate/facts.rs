//! Facts about a valid item type that generated code is made of, computed
//! once: its keys in order, how it can be queried (each access with its
//! sort-key conditions and projection), and what an update can do to each
//! field.

use crate::ir::{
    Access, Field, FieldId, FieldType, FieldUpdate, IndexDef, IndexId, IndexKind, Item, KeyId,
    KeyValue, Projected, Projection, SortField, TableDef, TemplatePart,
};

/// The key attributes an item fills, each once: the table's keys, then
/// the keys of each index in schema order.
pub(crate) fn ordered_keys(def: &TableDef, keys: Vec<(String, KeyValue)>) -> Vec<KeyValue> {
    let mut out: Vec<KeyValue> = Vec::new();
    for attribute in def.key().chain(def.indexes.iter().flat_map(IndexDef::key)) {
        if out.iter().any(|k| k.attribute() == attribute.name) {
            continue;
        }
        if let Some((_, value)) = keys.iter().find(|(a, _)| *a == attribute.name) {
            out.push(value.clone());
        }
    }
    out
}

/// How the item type is read: by the table's key, then by each index it
/// fills the keys of. `None` when it does not fill the table's key (an
/// error reported already).
pub(crate) fn accesses(def: &TableDef, fields: &[Field], keys: &[KeyValue]) -> Option<Vec<Access>> {
    let key_id = |attribute: &str| {
        keys.iter()
            .position(|k| k.attribute() == attribute)
            .map(KeyId)
    };
    let partition = key_id(&def.partition_key.name)?;
    let sort = match &def.sort_key {
        Some(k) => Some(key_id(&k.name)?),
        None => None,
    };
    let mut out = vec![Access {
        index: None,
        partition,
        more_partition: Vec::new(),
        sort,
        multi_attribute: false,
        whole_items: true,
        consistent: true,
        projected: Vec::new(),
        sort_fields: sort.map_or(Vec::new(), |k| sort_fields(fields, &keys[k.0])),
    }];
    for (i, index) in def.indexes.iter().enumerate() {
        // The item is in the index when it fills every key attribute.
        let Some(sort_keys) = index
            .sort_key
            .iter()
            .map(|k| key_id(&k.name))
            .collect::<Option<Vec<KeyId>>>()
        else {
            continue;
        };
        let partition_keys = match index.kind {
            IndexKind::Local => Some(vec![partition]),
            IndexKind::Global => index
                .partition_key
                .iter()
                .map(|k| key_id(&k.name))
                .collect::<Option<Vec<KeyId>>>(),
        };
        let Some(partition_keys) = partition_keys else {
            continue;
        };
        let index_partition = partition_keys[0];
        let index_sort = sort_keys.first().copied();
        let whole_items = index.projection == Projection::All;
        let projected = if whole_items {
            Vec::new()
        } else {
            let key_attributes: Vec<KeyId> = [partition]
                .into_iter()
                .chain(sort)
                .chain(partition_keys.iter().copied())
                .chain(sort_keys.iter().copied())
                .collect();
            projected(index, fields, keys, &key_attributes)
        };
        let multi_attribute = index.is_multi_attribute();
        let sort_fields = if multi_attribute {
            // Left to right: each attribute after the earlier ones equal.
            let mut earlier = Vec::new();
            let mut out = Vec::new();
            for k in &sort_keys {
                let KeyValue::Field { field, .. } = &keys[k.0] else {
                    break;
                };
                out.push(SortField {
                    earlier: earlier.clone(),
                    field: *field,
                    ranged: true,
                });
                earlier.push(*field);
            }
            out
        } else {
            index_sort.map_or(Vec::new(), |k| sort_fields(fields, &keys[k.0]))
        };
        out.push(Access {
            index: Some(IndexId(i)),
            partition: index_partition,
            more_partition: partition_keys[1..].to_vec(),
            sort: index_sort,
            multi_attribute,
            whole_items,
            consistent: index.kind == IndexKind::Local,
            projected,
            sort_fields,
        });
    }
    Some(out)
}

/// The fields a row of an index that does not store whole items holds:
/// the fields of its key attributes (the table's and the index's), and the
/// included attributes the item type has.
fn projected(
    index: &IndexDef,
    fields: &[Field],
    keys: &[KeyValue],
    key_attributes: &[KeyId],
) -> Vec<Projected> {
    let mut key_fields: Vec<FieldId> = Vec::new();
    for key in key_attributes.iter().copied() {
        for field in keys[key.0].fields() {
            if !key_fields.contains(&field) {
                key_fields.push(field);
            }
        }
    }
    (0..fields.len())
        .map(FieldId)
        .filter_map(|id| {
            let key = key_fields.contains(&id);
            let included = match &index.projection {
                Projection::Include(names) => names.iter().any(|n| *n == fields[id.0].attribute),
                _ => false,
            };
            (key || included).then_some(Projected { field: id, key })
        })
        .collect()
}

/// The fields of a sort key queries can compare.
///
/// For a template, each field in order of first use (the earlier ones
/// equal), ranged where text order is value order (the field ends the
/// key, or renders at a fixed width). For a plain field: its own value.
fn sort_fields(fields: &[Field], sort: &KeyValue) -> Vec<SortField> {
    let template = match sort {
        KeyValue::Field { field, .. } => {
            return vec![SortField {
                earlier: Vec::new(),
                field: *field,
                ranged: true,
            }];
        }
        KeyValue::Template(t) => t,
    };
    let mut out = Vec::new();
    let mut seen: Vec<FieldId> = Vec::new();
    for (position, part) in template.parts.iter().enumerate() {
        let TemplatePart::Field { field, width, .. } = part else {
            continue;
        };
        if seen.contains(field) {
            continue;
        }
        let ends_key = position + 1 == template.parts.len();
        out.push(SortField {
            earlier: seen.clone(),
            field: *field,
            ranged: ends_key || fixed_width(&fields[field.0].ty, *width),
        });
        seen.push(*field);
    }
    out
}

/// Whether a field renders at a fixed width in a key, so that text order
/// of keys is value order at any position.
fn fixed_width(ty: &FieldType, width: Option<usize>) -> bool {
    match ty {
        FieldType::Int(_) | FieldType::Float(_) | FieldType::Number => width.is_some(),
        FieldType::DateTime(_) | FieldType::Date | FieldType::Uuid => true,
        _ => false,
    }
}

/// What an update can do to each field: not to key fields (the item would
/// move), fields writes keep nor computed fields. Setting a field in an
/// index key or a computed field's template renders those again, from the
/// field's other fields (parameters of the setter) and key fields (read
/// from the update's key).
pub(crate) fn updates(item: &Item) -> Vec<FieldUpdate> {
    let key_fields = item.key_fields();
    let access = item.table_access();
    let table_keys = [Some(access.partition), access.sort];
    let mut out = Vec::new();
    for (i, field) in item.fields.iter().enumerate() {
        let id = FieldId(i);
        if key_fields.contains(&id)
            || item.is_managed(id)
            || field.read_only
            || field.computed.is_some()
        {
            continue;
        }
        let rewrites: Vec<KeyId> = (0..item.keys.len())
            .map(KeyId)
            .filter(|k| !table_keys.contains(&Some(*k)))
            .filter(|k| matches!(item.key(*k), KeyValue::Template(t) if t.fields().contains(&id)))
            .collect();
        let recomputes: Vec<FieldId> = (0..item.fields.len())
            .map(FieldId)
            .filter(|c| {
                item.field(*c)
                    .computed
                    .as_ref()
                    .is_some_and(|t| t.fields().contains(&id))
            })
            .collect();
        let mut partners: Vec<FieldId> = Vec::new();
        let computed = recomputes
            .iter()
            .filter_map(|c| item.field(*c).computed.as_ref())
            .map(|t| t.fields());
        for fields in rewrites
            .iter()
            .map(|k| item.key(*k).fields())
            .chain(computed)
        {
            for f in fields {
                if f != id && !key_fields.contains(&f) && !partners.contains(&f) {
                    partners.push(f);
                }
            }
        }
        out.push(FieldUpdate {
            field: id,
            remove: field.optional,
            rewrites,
            partners,
            recomputes,
            sealed: field.encrypted,
        });
    }
    out
}
