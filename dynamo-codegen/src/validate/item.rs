//! `[item.X]`: fields, options (timestamps, version, expires_after), key
//! templates and plain keys, index membership, and key collisions between
//! item types.

use std::{collections::BTreeMap, ops::Range, sync::Arc};

use heck::ToSnakeCase;

use super::{
    Cx, inner_span,
    table::TableCx,
    types::{self, Enums, FieldCx, NestedInfo},
};
use crate::{
    diagnostics::{SourceFile, did_you_mean},
    ir::{self, DateTimeFormat, FieldType, IndexKind, IntType, KeyType, KeyValue, TemplatePart},
    load::{RawFile, RawItem, Sp},
    naming, template,
};

/// An item's fields as templates see them: what migrations' backfill
/// templates and collections resolve against.
#[derive(Debug, Clone)]
pub(crate) struct FieldScope {
    /// The schema file.
    pub file: Arc<SourceFile>,
    /// Field names as written (added fields included).
    pub names: Vec<String>,
    /// The resolved fields (`None` where a field was invalid).
    pub fields: Vec<Option<ir::Field>>,
    /// Where each field is declared (for an added field, the option).
    pub spans: Vec<Range<usize>>,
    /// Where each field says `optional = true`.
    pub optional_spans: Vec<Option<Range<usize>>>,
    /// Where each key attribute's template (or plain key field) is.
    pub key_spans: BTreeMap<String, Range<usize>>,
    /// The item's name span.
    pub name_span: Range<usize>,
}

/// A key attribute a template fills.
pub(crate) struct KeyTarget<'a> {
    /// The attribute.
    pub name: &'a str,
    /// Its type.
    pub ty: KeyType,
    /// Whether it is a sort key of the table or some index.
    pub sort: bool,
}

/// Validates every item type of a file.
pub(crate) fn items(
    cx: &mut Cx<'_>,
    tcx: &TableCx<'_>,
    file: &RawFile,
    nested: &NestedInfo,
    enums: &mut Enums,
) -> (Vec<ir::Item>, BTreeMap<String, FieldScope>) {
    let mut raw_items: Vec<_> = file.schema.item.iter().collect();
    raw_items.sort_by_key(|(name, _)| name.span().start);
    let mut items = Vec::new();
    let mut scopes = BTreeMap::new();
    for (name, raw) in raw_items {
        let (item, scope) = item(cx, tcx, name, raw, nested, enums);
        if let Some(item) = item {
            items.push(item);
        }
        scopes.insert(name.get().clone(), scope);
    }
    collisions(cx, tcx, &items, &scopes);
    (items, scopes)
}

fn item(
    cx: &mut Cx<'_>,
    tcx: &TableCx<'_>,
    name: &Sp<String>,
    raw: &Sp<RawItem>,
    nested: &NestedInfo,
    enums: &mut Enums,
) -> (Option<ir::Item>, FieldScope) {
    let errors_before = cx.errors();
    let item_name = name.get();
    types::type_name(cx, name, "item type");

    let mut raw_fields: Vec<_> = raw.fields.iter().collect();
    raw_fields.sort_by_key(|(n, _)| n.span().start);
    let fcx = FieldCx {
        owner: item_name,
        nested,
        broken: tcx.broken,
    };
    let mut fields: Vec<Option<ir::Field>> = raw_fields
        .iter()
        .map(|(n, f)| types::field(cx, &fcx, n, f, enums))
        .collect();
    types::duplicate_names(cx, &raw_fields, &fields);
    for (f, (_, raw_field)) in fields.iter_mut().zip(&raw_fields) {
        if let Some(field) = f {
            match types::default(cx, raw_field, field, nested, enums) {
                Some(d) => field.default = d,
                None => *f = None,
            }
        }
    }
    let mut scope = FieldScope {
        file: Arc::clone(cx.file),
        names: raw_fields.iter().map(|(n, _)| n.get().clone()).collect(),
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
            created: created?,
            updated: updated?,
        })
    });
    let version = raw.version.as_ref().and_then(|v| {
        managed_field(
            cx,
            &mut scope,
            v.get(),
            v.span(),
            "version",
            |t| matches!(t, FieldType::Int(i) if !i.signed()),
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
        let declared = scope.fields.iter().position(|f| f.as_ref().is_some_and(|f| &f.attribute == ttl));
        match (declared, &raw.expires_after) {
            (Some(i), _) => {
                let field = scope.fields[i].as_ref()?;
                let ok = matches!(field.ty, FieldType::DateTime(DateTimeFormat::EpochSeconds) | FieldType::Int(_));
                if !ok {
                    let d = cx
                        .error(
                            "dynamo::ttl_type",
                            scope.spans[i].clone(),
                            format!("field `{}` holds the table's ttl attribute `{ttl}` but is `{}`", field.name, field.ty.schema_name()),
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
                        f.attribute = ttl.clone();
                    }
                }),
            (None, None) => None,
        }
    });

    // No field may be stored under the type attribute.
    for (i, f) in scope.fields.iter().enumerate() {
        if let Some(f) = f
            && f.attribute == tcx.type_attribute
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

    let keys = keys(cx, tcx, name, raw, &mut scope);
    if let (Some(v), Some(keys)) = (version, &keys)
        && let Some((attr, _)) = keys.iter().find(|(_, kv)| kv.fields().contains(&v))
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
    let get = |attr: &str| keys.iter().find(|(a, _)| a == attr).map(|(_, v)| v.clone());
    let Some(partition) = get(&tcx.def.partition_key.name) else {
        return (None, scope);
    };
    let sort = tcx.def.sort_key.as_ref().and_then(|k| get(&k.name));
    let mut indexes = Vec::new();
    for index in &tcx.def.indexes {
        let pk = get(&index.partition_key.name);
        let sk = index.sort_key.as_ref().and_then(|k| get(&k.name));
        let in_index = match index.kind {
            IndexKind::Local => sk.is_some(),
            IndexKind::Global => pk.is_some() && (index.sort_key.is_none() || sk.is_some()),
        };
        if in_index && let Some(pk) = pk {
            indexes.push(ir::ItemIndex {
                index: index.name.clone(),
                partition: pk,
                sort: sk,
            });
        }
    }
    let item = ir::Item {
        name: item_name.clone(),
        doc: raw.doc.as_ref().map(|d| d.get().clone()),
        fields,
        partition,
        sort,
        indexes,
        timestamps,
        version,
        ttl,
        expires_after,
    };
    (Some(item), scope)
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
    if let Some(i) = scope.names.iter().position(|n| n == field) {
        let f = scope.fields[i].as_ref()?;
        if !fits(&f.ty) || (f.optional && !optional) {
            let want = match option {
                "version" => "a non-optional unsigned integer (`u32` or `u64`)".to_owned(),
                _ => format!("a non-optional `{}`", natural.schema_name()),
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
                        f.ty.schema_name(),
                        if f.optional { ", optional" } else { "" }
                    ),
                )
                .related(cx.file, option_span, format!("`{option}` keeps it"))
                .help(format!(
                    "declare `{field} = \"{}\"`, or remove the declaration to have it added",
                    natural.schema_name()
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
    let rust_name = naming::field_name(field);
    let Some(rust_name) = rust_name else {
        let d = cx
            .error(
                "dynamo::field_name",
                option_span,
                format!("`{field}` cannot become a Rust field name"),
                "names the field",
            )
            .help("use ASCII letters, digits and `_`");
        cx.push(d);
        return None;
    };
    scope.names.push(field.to_owned());
    scope.fields.push(Some(ir::Field {
        name: field.to_owned(),
        rust_name,
        attribute: field.to_owned(),
        ty: natural,
        optional,
        default: None,
        doc: Some(format!("Kept by `{option}`.")),
        validate: ir::Validation::default(),
    }));
    scope.spans.push(option_span);
    scope.optional_spans.push(None);
    Some(scope.fields.len() - 1)
}

/// `expires_after = "30d"`, in seconds.
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
        (Ok(n), Some(f)) if n > 0 => n.checked_mul(f),
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

/// Resolves `[item.X.keys]` and plain key fields into key values, by
/// attribute, in schema order. `None` when an error was reported.
fn keys(
    cx: &mut Cx<'_>,
    tcx: &TableCx<'_>,
    name: &Sp<String>,
    raw: &Sp<RawItem>,
    scope: &mut FieldScope,
) -> Option<Vec<(String, KeyValue)>> {
    let errors_before = cx.errors();
    let item_name = name.get();
    let key_attrs = tcx.key_attributes();
    let mut values: Vec<(String, KeyValue)> = Vec::new();
    let mut raw_keys: Vec<_> = raw.keys.iter().flat_map(|k| k.iter()).collect();
    raw_keys.sort_by_key(|(attr, _)| attr.span().start);
    for (attr, text) in raw_keys {
        let Some((_, ty, sort)) = key_attrs.iter().find(|(n, _, _)| n == attr.get()) else {
            let names: Vec<&str> = key_attrs.iter().map(|(n, _, _)| n.as_str()).collect();
            cx.unknown_name(
                "dynamo::unknown_key_attribute",
                attr,
                "key attribute",
                &names,
            );
            continue;
        };
        if let Some(i) = scope
            .fields
            .iter()
            .position(|f| f.as_ref().is_some_and(|f| f.attribute == *attr.get()))
        {
            let d = cx
                .error(
                    "dynamo::attribute_clash",
                    attr.span(),
                    format!("key attribute `{}` is filled twice: by this template and by field `{}`", attr.get(), scope.names[i]),
                    "a template",
                )
                .related(cx.file, scope.spans[i].clone(), "and a field stored there")
                .help("remove the template to store the field itself as the key (a plain key), or rename the field");
            cx.push(d);
            continue;
        }
        scope.key_spans.insert(attr.get().clone(), text.span());
        let target = KeyTarget {
            name: attr.get(),
            ty: *ty,
            sort: *sort,
        };
        if let Some(t) = template(cx, tcx.key_separator, scope, &target, text) {
            values.push((attr.get().clone(), KeyValue::Template(t)));
        }
    }
    // Plain keys: fields stored under a key attribute's name.
    for (attr, ty, _) in &key_attrs {
        if values.iter().any(|(a, _)| a == attr) || scope.key_spans.contains_key(attr) {
            continue;
        }
        let Some(i) = scope
            .fields
            .iter()
            .position(|f| f.as_ref().is_some_and(|f| f.attribute == *attr))
        else {
            continue;
        };
        let Some(field) = scope.fields[i].as_ref() else {
            continue;
        };
        scope.key_spans.insert(attr.clone(), scope.spans[i].clone());
        if field.ty.key_type() != Some(*ty) {
            let d = cx
                .error(
                    "dynamo::key_type_mismatch",
                    scope.spans[i].clone(),
                    format!("field `{}` is the key attribute `{attr}` ({ty:?}) but is `{}`", field.name, field.ty.schema_name()),
                    format!("stored as {}", field.ty.key_type().map_or("no key type".to_owned(), |k| format!("{k:?}"))),
                )
                .help(match ty {
                    KeyType::S => "an S key is a string, enum, uuid, date or RFC 3339 datetime field, or a template",
                    KeyType::N => "an N key is an integer, `number` or epoch datetime field",
                    KeyType::B => "a B key is a `bytes` field",
                });
            cx.push(d);
            continue;
        }
        if field.optional && tcx.is_table_key(attr) {
            let d = cx
                .error(
                    "dynamo::optional_key_field",
                    scope.spans[i].clone(),
                    format!("key field `{}` is optional", field.name),
                    "the table's key",
                )
                .help("every item needs its key: make the field required");
            cx.push(d);
            continue;
        }
        values.push((
            attr.clone(),
            KeyValue::Field {
                attribute: attr.clone(),
                field: i,
            },
        ));
    }
    let keys_span = raw.keys.as_ref().map_or(name.span(), Sp::span);
    let table_keys = std::iter::once((&tcx.def.partition_key, "partition"))
        .chain(tcx.def.sort_key.as_ref().map(|k| (k, "sort")));
    for (key, which) in table_keys {
        if scope.key_spans.contains_key(&key.name) {
            continue;
        }
        let example = item_name.to_snake_case().to_uppercase();
        let d = cx
            .error(
                "dynamo::missing_key_template",
                name.span(),
                format!(
                    "item type `{item_name}` does not fill the {which} key `{}`",
                    key.name
                ),
                format!("needs a template for `{}`", key.name),
            )
            .related(cx.file, keys_span.clone(), "its keys")
            .help(if which == "partition" {
                format!(
                    "add `{} = \"{example}#{{id}}\"` to `[item.{item_name}.keys]`",
                    key.name
                )
            } else {
                format!(
                    "every item of table `{}` has a sort key: add e.g. `{} = \"{example}\"`",
                    tcx.def.name, key.name
                )
            });
        cx.push(d);
    }
    for index in tcx
        .def
        .indexes
        .iter()
        .filter(|i| i.kind == IndexKind::Global)
    {
        let Some(sk) = &index.sort_key else { continue };
        let has_pk = scope.key_spans.get(&index.partition_key.name);
        let has_sk = scope.key_spans.get(&sk.name);
        let (filled, missing, span) = match (has_pk, has_sk) {
            (Some(s), None) => (&index.partition_key.name, &sk.name, s),
            (None, Some(s)) => (&sk.name, &index.partition_key.name, s),
            _ => continue,
        };
        let d = cx
            .error(
                "dynamo::partial_index_key",
                span.clone(),
                format!("item type `{item_name}` fills `{filled}` but not `{missing}` of index `{}`", index.name),
                format!("half of `{}`'s key", index.name),
            )
            .help(format!("fill `{missing}` too to put the item in the index, or remove `{filled}` to leave it out"));
        cx.push(d);
    }
    (cx.errors() == errors_before).then_some(values)
}

/// Validates one key template against a field scope (which may be in
/// another file than the template: migrations' backfill) and resolves it.
pub(crate) fn template(
    cx: &mut Cx<'_>,
    separator: &str,
    scope: &FieldScope,
    key: &KeyTarget<'_>,
    text: &Sp<String>,
) -> Option<ir::Template> {
    let value = text.get();
    let errors_before = cx.errors();
    if value.is_empty() {
        let d = cx
            .error(
                "dynamo::empty_key",
                text.span(),
                "empty key template",
                "renders an empty key",
            )
            .help("DynamoDB does not allow empty key values: write literal text or a `{field}`");
        cx.push(d);
        return None;
    }
    if key.ty != KeyType::S {
        let d = cx
            .error(
                "dynamo::key_type_mismatch",
                text.span(),
                format!("key attribute `{}` has type {:?}, but a template renders a string", key.name, key.ty),
                "renders a string (S)",
            )
            .help(format!(
                "declare `{}` with type \"S\", or store a field of type {:?} under that name (a plain key) instead of a template",
                key.name, key.ty
            ));
        cx.push(d);
        return None;
    }
    let pieces = match template::parse(value) {
        Ok(pieces) => pieces,
        Err(e) => {
            let d = cx
                .error(
                    "dynamo::template",
                    inner_span(cx.file, text, e.span),
                    e.message,
                    "here",
                )
                .help(e.help);
            cx.push(d);
            return None;
        }
    };
    let mut parts = Vec::new();
    let mut previous_field: Option<(String, Range<usize>)> = None;
    let mut literal_since_field = String::new();
    for piece in pieces {
        match piece {
            template::Piece::Literal(s) => {
                literal_since_field.push_str(&s);
                parts.push(TemplatePart::Literal(s));
            }
            template::Piece::Placeholder { name, span, width } => {
                let span = inner_span(cx.file, text, span);
                if let Some((prev, _)) = &previous_field
                    && !literal_since_field.contains(separator)
                {
                    let d = cx
                        .error(
                            "dynamo::template_separator",
                            span.clone(),
                            format!("`{{{prev}}}` and `{{{name}}}` are not separated by the key separator `{separator}`"),
                            "no separator before this field",
                        )
                        .help(format!(
                            "write `{{{prev}}}{separator}{{{name}}}`: values are checked for the separator so that two items' keys cannot collide"
                        ));
                    cx.push(d);
                }
                previous_field = Some((name.clone(), span.clone()));
                literal_since_field.clear();
                let Some(index) = scope.names.iter().position(|n| n == &name) else {
                    let d = cx
                        .error(
                            "dynamo::unknown_template_field",
                            span,
                            format!("key template names unknown field `{name}`"),
                            "no such field",
                        )
                        .help(
                            match did_you_mean(&name, scope.names.iter().map(String::as_str)) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => format!(
                                    "declare it in the item's fields, e.g. `{name} = \"string\"`"
                                ),
                            },
                        );
                    cx.push(d);
                    continue;
                };
                // A field that failed validation was reported already.
                let Some(field) = &scope.fields[index] else {
                    continue;
                };
                let def_span = scope.spans[index].clone();
                let same_file = Arc::ptr_eq(&scope.file, cx.file);
                let related =
                    |d: crate::diagnostics::Diagnostic, span: Range<usize>, label: &str| {
                        d.related(&scope.file, span, label.to_owned())
                    };
                if field.optional {
                    let optional_span = scope.optional_spans[index]
                        .clone()
                        .unwrap_or(def_span.clone());
                    let d = cx
                        .error("dynamo::optional_key_field", span.clone(), format!("key field `{name}` is optional"), "used in a key")
                        .help("every key needs its value: make the field required (an index with an optional plain key field is sparse instead)");
                    cx.push(related(d, optional_span, "declared optional here"));
                    continue;
                }
                let allowed = matches!(
                    field.ty,
                    FieldType::String
                        | FieldType::Bool
                        | FieldType::Int(_)
                        | FieldType::Float(_)
                        | FieldType::Number
                        | FieldType::DateTime(_)
                        | FieldType::Date
                        | FieldType::Uuid
                        | FieldType::Enum(_)
                );
                if !allowed {
                    let d = cx
                        .error(
                            "dynamo::template_field_type",
                            span.clone(),
                            format!("field `{name}` of type `{}` cannot be part of a key template", field.ty.schema_name()),
                            "not a key value",
                        )
                        .help("key templates take strings, integers, numbers, booleans, dates, datetimes, uuids and enums");
                    cx.push(related(d, def_span, "declared here"));
                    continue;
                }
                if width.is_some() && !field.ty.is_integer() {
                    let d = cx
                        .error(
                            "dynamo::template_width",
                            span.clone(),
                            format!("width on field `{name}` of type {}", field.ty.schema_name()),
                            "only integers take a width",
                        )
                        .help(format!("write `{{{name}}}`"));
                    cx.push(related(d, def_span.clone(), "declared here"));
                }
                if key.sort && field.ty.is_integer() && width.is_none() {
                    let d = cx
                        .error(
                            "dynamo::sort_key_width",
                            span.clone(),
                            format!("integer field `{name}` in a sort key template needs a width"),
                            "sorts as text: \"10\" < \"9\"",
                        )
                        .help(format!("pad it to a fixed width, e.g. `{{{name}:010}}`"));
                    cx.push(d);
                }
                if key.sort && matches!(field.ty, FieldType::Float(_) | FieldType::Number) {
                    let d = cx
                        .error(
                            "dynamo::float_in_sort_key",
                            span.clone(),
                            format!("{} field `{name}` in a sort key template", field.ty.schema_name()),
                            "does not sort as text",
                        )
                        .help("use an integer field with a width, e.g. cents as `u64` with `{amount:012}`");
                    cx.push(d);
                }
                let bounded = |w: usize| {
                    field
                        .validate
                        .max
                        .is_some_and(|max| max < 10f64.powi(w as i32))
                        && field.validate.min.is_some_and(|min| min >= 0.0)
                };
                if let (FieldType::Int(t), Some(w), true) = (&field.ty, width, key.sort)
                    && w < t.digits()
                    && !bounded(w)
                    && same_file
                {
                    let limit = "9".repeat(w);
                    let d = cx
                        .error(
                            "dynamo::narrow_width",
                            span.clone(),
                            format!(
                                "width {w} is narrower than `{}` values ({} digits)",
                                t.name(),
                                t.digits()
                            ),
                            format!("values above {limit} sort out of order"),
                        )
                        .warning()
                        .help(format!(
                            "widen it to `{{{name}:0{}}}`, or validate `max = {limit}`",
                            t.digits()
                        ));
                    cx.push(d);
                }
                parts.push(TemplatePart::Field {
                    field: index,
                    width,
                });
            }
        }
    }
    (cx.errors() == errors_before).then(|| ir::Template {
        attribute: key.name.to_owned(),
        text: value.clone(),
        parts,
    })
}

/// The literal text before the first field, after the last field, or the
/// whole text when there is no field.
fn literal_ends(value: &KeyValue) -> (String, String, bool) {
    let KeyValue::Template(t) = value else {
        return (String::new(), String::new(), false);
    };
    let literal = |p: &TemplatePart| match p {
        TemplatePart::Literal(s) => Some(s.clone()),
        TemplatePart::Field { .. } => None,
    };
    let prefix: String = t.parts.iter().map_while(literal).collect();
    let mut suffix: Vec<String> = t.parts.iter().rev().map_while(literal).collect();
    suffix.reverse();
    (prefix, suffix.concat(), t.field_count() == 0)
}

/// Whether two key values can render the same key. Sound: `false` only
/// when their literal text proves them different.
fn may_equal(a: &KeyValue, b: &KeyValue) -> bool {
    let (pa, sa, la) = literal_ends(a);
    let (pb, sb, lb) = literal_ends(b);
    if la && lb {
        return pa == pb;
    }
    let compatible_prefix = pa.starts_with(&pb) || pb.starts_with(&pa);
    let compatible_suffix = sa.ends_with(&sb) || sb.ends_with(&sa);
    compatible_prefix && compatible_suffix
}

/// Two item types of one table whose keys can be equal would overwrite
/// each other's items.
fn collisions(
    cx: &mut Cx<'_>,
    tcx: &TableCx<'_>,
    items: &[ir::Item],
    scopes: &BTreeMap<String, FieldScope>,
) {
    for (i, b) in items.iter().enumerate() {
        for a in &items[..i] {
            let pk = may_equal(&a.partition, &b.partition);
            let sk = match (&a.sort, &b.sort) {
                (Some(x), Some(y)) => may_equal(x, y),
                _ => true,
            };
            if !(pk && sk) {
                continue;
            }
            let (Some(sa), Some(sb)) = (scopes.get(&a.name), scopes.get(&b.name)) else {
                continue;
            };
            let attr = tcx
                .def
                .sort_key
                .as_ref()
                .unwrap_or(&tcx.def.partition_key)
                .name
                .clone();
            let span = sb
                .key_spans
                .get(&attr)
                .cloned()
                .unwrap_or(sb.name_span.clone());
            let first = sa
                .key_spans
                .get(&attr)
                .cloned()
                .unwrap_or(sa.name_span.clone());
            let d = cx
                .error(
                    "dynamo::key_collision",
                    span,
                    format!("item types `{}` and `{}` can have the same key", a.name, b.name),
                    format!("`{}`'s key", b.name),
                )
                .related(cx.file, first, format!("can equal `{}`'s key", a.name))
                .help(format!(
                    "start one of the templates with its own literal text, e.g. `{attr} = \"{}#...\"`; otherwise writing one item type can overwrite the other",
                    b.name.to_snake_case().to_uppercase()
                ));
            cx.push(d);
        }
    }
}
