//! `[item.X]`: fields, options (timestamps, version, expires_after), and
//! the item type's keys ([`keys`](super::keys)) and facts
//! ([`facts`](super::facts)).

use std::{collections::BTreeMap, ops::Range, sync::Arc};

use heck::ToSnakeCase;

use super::{
    Cx, computed, facts, keys,
    scope::{FieldScope, TableCx},
    types::{self, FieldCx, NestedInfo},
};
use crate::{
    ir::{self, DateTimeFormat, EnumDef, FieldId, FieldType, IntType, ItemId, Owner},
    load::{RawFile, RawItem, Sp},
};

/// Validates every item type of a file.
///
/// Items are returned by [`ItemId`] (their order in the file), `None` where
/// invalid, with each one's field scope by name.
pub(crate) fn items(
    cx: &mut Cx<'_>,
    tcx: &TableCx<'_>,
    file: &RawFile,
    nested: &NestedInfo,
    enums: &mut Vec<EnumDef>,
) -> (Vec<Option<ir::Item>>, BTreeMap<String, FieldScope>) {
    let mut raw_items: Vec<_> = file.schema.item.iter().collect();
    raw_items.sort_by_key(|(name, _)| name.span().start);
    let mut items = Vec::new();
    let mut scopes = BTreeMap::new();
    for (i, (name, raw)) in raw_items.into_iter().enumerate() {
        let (item, scope) = item(cx, tcx, ItemId(i), name, raw, nested, enums);
        items.push(item);
        scopes.insert(name.get().clone(), scope);
    }
    keys::collisions(cx, tcx, &items, &scopes);
    (items, scopes)
}

#[allow(clippy::too_many_arguments)]
fn item(
    cx: &mut Cx<'_>,
    tcx: &TableCx<'_>,
    id: ItemId,
    name: &Sp<String>,
    raw: &Sp<RawItem>,
    nested: &NestedInfo,
    enums: &mut Vec<EnumDef>,
) -> (Option<ir::Item>, FieldScope) {
    let errors_before = cx.errors();
    let item_name = name.get();
    types::type_name(cx, name, "item type");

    let mut raw_fields: Vec<_> = raw.fields.iter().collect();
    raw_fields.sort_by_key(|(n, _)| n.span().start);
    let fcx = FieldCx {
        owner: Owner::Item(id),
        nested,
        broken: tcx.broken,
    };
    let mut fields: Vec<Option<ir::Field>> = raw_fields
        .iter()
        .map(|(n, f)| types::field(cx, &fcx, n, f, enums))
        .collect();
    types::duplicate_attributes(cx, &raw_fields, &fields);
    for (f, (_, raw_field)) in fields.iter_mut().zip(&raw_fields) {
        if let Some(field) = f
            && !types::field_default(cx, nested, enums, raw_field, field)
        {
            *f = None;
        }
    }
    let enum_values = fields
        .iter()
        .map(|f| match f.as_ref().map(|f| &f.ty) {
            Some(FieldType::Enum(id)) => {
                enums[id.0].values.iter().map(|v| v.value.clone()).collect()
            }
            _ => Vec::new(),
        })
        .collect();
    let mut scope = FieldScope {
        file: Arc::clone(cx.file),
        names: raw_fields.iter().map(|(n, _)| n.get().clone()).collect(),
        enum_values,
        type_names: fields
            .iter()
            .map(|f| {
                f.as_ref()
                    .map_or(String::new(), |f| nested.type_name(&f.ty))
            })
            .collect(),
        fields,
        spans: raw_fields.iter().map(|(n, _)| n.span()).collect(),
        optional_spans: raw_fields
            .iter()
            .map(|(_, f)| f.optional.as_ref().map(Sp::span))
            .collect(),
        key_spans: BTreeMap::new(),
        name_span: name.span(),
    };

    let timestamps = raw.timestamps.as_ref().filter(|t| *t.get()).and_then(|t| {
        let created = managed_field(
            cx,
            &mut scope,
            "created_at",
            t.span(),
            "timestamps",
            datetime_fits,
            FieldType::DateTime(DateTimeFormat::Rfc3339),
            false,
        );
        let updated = managed_field(
            cx,
            &mut scope,
            "updated_at",
            t.span(),
            "timestamps",
            datetime_fits,
            FieldType::DateTime(DateTimeFormat::Rfc3339),
            false,
        );
        Some(ir::Timestamps {
            created: FieldId(created?),
            updated: FieldId(updated?),
        })
    });
    let version = raw.version.as_ref().and_then(|v| {
        managed_field(
            cx,
            &mut scope,
            v.get(),
            v.span(),
            "version",
            |t| matches!(t, FieldType::Int(IntType::U32 | IntType::U64)),
            FieldType::Int(IntType::U64),
            false,
        )
    });
    let expires_after = raw.expires_after.as_ref().and_then(|e| duration(cx, e));
    if let (Some(e), None) = (&raw.expires_after, &tcx.def.ttl) {
        let d = cx
            .error(
                "dynamo::expires_after",
                e.span(),
                format!("item type `{item_name}` expires after {}, but table `{}` has no ttl", e.get(), tcx.def.name),
                "needs the table's ttl attribute",
            )
            .help("add `ttl = \"expires_at\"` to `[table]`: DynamoDB deletes items when the time in that attribute passes");
        cx.push(d);
    }
    let ttl = tcx.def.ttl.as_ref().and_then(|ttl| {
        let declared = scope.fields.iter().position(|f| f.as_ref().is_some_and(|f| f.attribute == **ttl));
        match (declared, &raw.expires_after) {
            (Some(i), _) => {
                let field = scope.fields[i].as_ref()?;
                let ok = matches!(field.ty, FieldType::DateTime(DateTimeFormat::EpochSeconds) | FieldType::Int(_));
                if !ok {
                    let d = cx
                        .error(
                            "dynamo::ttl_type",
                            scope.spans[i].clone(),
                            format!("field `{}` holds the table's ttl attribute `{ttl}` but is `{}`", field.name, scope.type_names[i]),
                            "not epoch seconds",
                        )
                        .help("DynamoDB's TTL reads epoch seconds: make it `{ type = \"datetime\", format = \"epoch_seconds\" }` or an integer");
                    cx.push(d);
                    return None;
                }
                Some(i)
            }
            (None, Some(e)) => managed_field(cx, &mut scope, &ttl.to_snake_case(), e.span(), "expires_after", |_| true, FieldType::DateTime(DateTimeFormat::EpochSeconds), true)
                .inspect(|&i| {
                    if let Some(f) = scope.fields[i].as_mut() {
                        f.attribute = ttl.to_string();
                    }
                }),
            (None, None) => None,
        }
    });

    // No field may be stored under the type attribute.
    for (i, f) in scope.fields.iter().enumerate() {
        if let Some(f) = f
            && f.attribute == *tcx.def.type_attribute
        {
            let d = cx
                .error(
                    "dynamo::attribute_clash",
                    scope.spans[i].clone(),
                    format!("field `{}` is stored as `{}`, the table's type attribute", f.name, f.attribute),
                    "clashes with the type attribute",
                )
                .help("rename the field or set its `attribute`; the type attribute holds the item type's name");
            cx.push(d);
        }
    }

    // A field writes keep (the version, `updated_at`) changes on every
    // write: it cannot be read-only.
    for (i, (field_name, raw_field)) in raw_fields.iter().enumerate() {
        let Some(read_only) = raw_field.read_only.as_ref().filter(|r| *r.get()) else {
            continue;
        };
        let kept = if version == Some(i) {
            Some("the version field")
        } else if timestamps.is_some_and(|t| t.updated.0 == i) {
            Some("`updated_at`")
        } else {
            None
        };
        if let Some(kept) = kept {
            let d = cx
                .error(
                    "dynamo::read_only",
                    read_only.span(),
                    format!(
                        "field `{}` is read-only, but it is {kept}",
                        field_name.get()
                    ),
                    "changes on every write",
                )
                .help("remove `read_only`: every write sets this field");
            cx.push(d);
        }
    }

    // Unique values own marker items keyed by text: the table's keys must
    // be text, the marker must be told apart by the type attribute, and
    // the value must be a scalar.
    for (i, (field_name, raw_field)) in raw_fields.iter().enumerate() {
        let Some(unique) = raw_field.unique.as_ref().filter(|u| *u.get()) else {
            continue;
        };
        let field = scope.fields.get(i).and_then(Option::as_ref);
        let problem = if tcx.def.key().any(|k| k.ty != ir::KeyType::S) {
            Some((
                "the table's keys are not all strings (S)".to_owned(),
                "unique values are kept as marker items with text keys: give the table S keys, or check uniqueness in the app",
            ))
        } else if !tcx.def.has_type_attribute() {
            Some((
                "the table has `type_attribute = false`".to_owned(),
                "markers are told apart from items by the type attribute: keep one to use `unique`",
            ))
        } else if field.is_some_and(|f| f.ty.key_type().is_none()) {
            Some((
                format!(
                    "field `{}` is not a string, number, uuid, date or enum",
                    field_name.get()
                ),
                "a unique value is one scalar: strings, numbers, uuids, dates, datetimes, enums or bytes",
            ))
        } else {
            None
        };
        if let Some((what, help)) = problem {
            let d = cx
                .error(
                    "dynamo::unique",
                    unique.span(),
                    format!("field `{}` is unique, but {what}", field_name.get()),
                    "unique",
                )
                .help(help);
            cx.push(d);
        }
    }

    let keys = keys::keys(cx, tcx, name, raw, &mut scope);
    let managed: Vec<usize> = timestamps
        .iter()
        .flat_map(|t| [t.created.0, t.updated.0])
        .chain(version)
        .collect();
    computed::computed(
        cx,
        tcx,
        &raw_fields,
        &mut scope,
        keys.as_deref().unwrap_or_default(),
        &managed,
    );
    encrypted(cx, &raw_fields, &scope, keys.as_deref().unwrap_or_default());
    if let (Some(v), Some(keys)) = (version, &keys)
        && let Some((attr, _)) = keys
            .iter()
            .find(|(_, kv)| kv.fields().contains(&FieldId(v)))
    {
        let d = cx
            .error(
                "dynamo::version_in_key",
                scope.key_spans.get(attr).cloned().unwrap_or(name.span()),
                format!("the version field `{}` is part of a key", scope.names[v]),
                "changes on every write",
            )
            .help("a key cannot change; use another field in the key");
        cx.push(d);
    }

    if cx.errors() != errors_before {
        return (None, scope);
    }
    let Some(keys) = keys else {
        return (None, scope);
    };
    let Some(fields) = scope.fields.iter().cloned().collect::<Option<Vec<_>>>() else {
        return (None, scope);
    };
    let keys = facts::ordered_keys(tcx.def, keys);
    let Some(accesses) = facts::accesses(tcx.def, &fields, &keys) else {
        return (None, scope);
    };
    // `managed_field` kept only an unsigned integer.
    let version = version.and_then(|v| match fields[v].ty {
        FieldType::Int(ty) => Some(ir::VersionField {
            field: FieldId(v),
            ty,
        }),
        _ => None,
    });
    let mut item = ir::Item {
        name: item_name.clone(),
        span: name.span(),
        doc: raw.doc.as_ref().map(|d| d.get().clone()),
        fields,
        keys,
        accesses,
        updates: Vec::new(),
        timestamps,
        version,
        ttl: ttl.map(FieldId),
        expires_after,
        previous: ir::Previous::default(),
        attributes: raw.attributes.as_ref().map_or_else(Vec::new, |list| {
            super::attributes::list(cx, ir::TypeKind::Items, list.get())
        }),
        hooks: raw.hooks.as_ref().is_some_and(|h| *h.get()),
    };
    item.updates = facts::updates(&item);
    (Some(item), scope)
}

/// An encrypted field is sealed with a fresh nonce at every write, so
/// nothing can compare its stored value: it is no key (not a plain key nor
/// in a template), no computed field's source, neither unique nor
/// read-only (both compare stored values).
fn encrypted(
    cx: &mut Cx<'_>,
    raw_fields: &[(&Sp<String>, &Sp<crate::load::RawField>)],
    scope: &FieldScope,
    keys: &[(String, ir::KeyValue)],
) {
    for (i, (name, raw)) in raw_fields.iter().enumerate() {
        let Some(encrypted) = raw.encrypted.as_ref().filter(|e| *e.get()) else {
            continue;
        };
        let id = FieldId(i);
        let mut uses: Vec<(Range<usize>, String)> = Vec::new();
        for (attribute, key) in keys {
            if key.fields().contains(&id) {
                let span = scope
                    .key_spans
                    .get(attribute)
                    .cloned()
                    .unwrap_or(name.span());
                uses.push((span, format!("key `{attribute}`")));
            }
        }
        for (j, field) in scope.fields.iter().enumerate() {
            if let Some(t) = field.as_ref().and_then(|f| f.computed.as_ref())
                && t.fields().contains(&id)
            {
                uses.push((
                    scope.spans[j].clone(),
                    format!("computed field `{}`", scope.names[j]),
                ));
            }
        }
        for (option, flag) in [("unique", &raw.unique), ("read_only", &raw.read_only)] {
            if let Some(flag) = flag.as_ref().filter(|f| *f.get()) {
                uses.push((
                    flag.span(),
                    format!("`{option}`, which compares stored values"),
                ));
            }
        }
        for (span, what) in uses {
            let d = cx
                .error(
                    "dynamo::encrypted",
                    span,
                    format!("encrypted field `{}` is used by {what}", name.get()),
                    "uses the encrypted value",
                )
                .related(cx.file, encrypted.span(), "encrypted here")
                .help("a sealed value differs at every write, so nothing can compare or render it: use another field, or do not encrypt this one");
            cx.push(d);
        }
    }
}

fn datetime_fits(t: &FieldType) -> bool {
    matches!(t, FieldType::DateTime(_))
}

/// A field an option keeps: the declared one when it fits, or a new one.
#[allow(clippy::too_many_arguments)]
fn managed_field(
    cx: &mut Cx<'_>,
    scope: &mut FieldScope,
    field: &str,
    option_span: Range<usize>,
    option: &str,
    fits: impl Fn(&FieldType) -> bool,
    natural: FieldType,
    optional: bool,
) -> Option<usize> {
    let natural_name = match &natural {
        FieldType::DateTime(_) => "datetime",
        _ => "u64",
    };
    if let Some(i) = scope.names.iter().position(|n| n == field) {
        let f = scope.fields[i].as_ref()?;
        if !fits(&f.ty) || (f.optional && !optional) {
            let want = match option {
                "version" => "a non-optional unsigned integer (`u32` or `u64`)".to_owned(),
                _ => format!("a non-optional `{}`", natural_name),
            };
            let d = cx
                .error(
                    if option == "version" {
                        "dynamo::version_type"
                    } else {
                        "dynamo::managed_field"
                    },
                    scope.spans[i].clone(),
                    format!("`{field}` is kept by `{option}`, so it must be {want}"),
                    format!(
                        "is `{}`{}",
                        scope.type_names[i],
                        if f.optional { ", optional" } else { "" }
                    ),
                )
                .related(cx.file, option_span, format!("`{option}` keeps it"))
                .help(format!(
                    "declare `{field} = \"{natural_name}\"`, or remove the declaration to have it added"
                ));
            cx.push(d);
            return None;
        }
        return Some(i);
    }
    if let Some(i) = scope
        .fields
        .iter()
        .position(|f| f.as_ref().is_some_and(|f| f.attribute == field))
    {
        let d = cx
            .error(
                "dynamo::duplicate_attribute",
                scope.spans[i].clone(),
                format!("`{option}` adds a field stored as `{field}`, and this field is stored there too"),
                format!("stored as `{field}`"),
            )
            .related(cx.file, option_span, format!("adds `{field}`"))
            .help("give this field another attribute");
        cx.push(d);
        return None;
    }
    scope.names.push(field.to_owned());
    scope.enum_values.push(Vec::new());
    scope.type_names.push(natural_name.to_owned());
    scope.fields.push(Some(ir::Field {
        name: field.to_owned(),
        span: option_span.clone(),
        attribute: field.to_owned(),
        ty: natural,
        optional,
        default: None,
        doc: Some(format!("Kept by `{option}`.")),
        validate: ir::Validation::default(),
        renamed_values: Vec::new(),
        read_only: false,
        unique: false,
        computed: None,
        encrypted: false,
    }));
    scope.spans.push(option_span);
    scope.optional_spans.push(None);
    Some(scope.fields.len() - 1)
}

/// `expires_after = "30d"`, in seconds.
/// The longest `expires_after`, in seconds (1,000 years): any write before
/// the year 8999 can add it to its time.
const MAX_EXPIRY: u64 = 1_000 * 31_557_600;

fn duration(cx: &mut Cx<'_>, raw: &Sp<String>) -> Option<u64> {
    let text = raw.get().trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let factor = match unit {
        "s" => Some(1),
        "m" => Some(60),
        "h" => Some(3600),
        "d" => Some(86_400),
        "w" => Some(604_800),
        _ => None,
    };
    match (number.parse::<u64>(), factor) {
        (Ok(n), Some(f)) if n > 0 => match n.checked_mul(f).filter(|s| *s <= MAX_EXPIRY) {
            Some(seconds) => Some(seconds),
            None => {
                let d = cx
                    .error(
                        "dynamo::expires_after",
                        raw.span(),
                        format!("duration {:?} is too long", raw.get()),
                        "more than 1,000 years",
                    )
                    .help("an item's ttl is a datetime: give a duration of at most 1,000 years (`52000w`)");
                cx.push(d);
                None
            }
        },
        _ => {
            let d = cx
                .error(
                    "dynamo::expires_after",
                    raw.span(),
                    format!("invalid duration {:?}", raw.get()),
                    "not a duration",
                )
                .help(
                    "write a positive number and a unit: `s`, `m`, `h`, `d` or `w`, e.g. `\"30d\"`",
                );
            cx.push(d);
            None
        }
    }
}
