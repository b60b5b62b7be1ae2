//! An item type's keys: its templates (parsed and checked against its
//! fields), plain key fields, which keys of the table and its indexes it
//! fills, and keys of two item types that could collide.

use std::{collections::BTreeMap, ops::Range, sync::Arc};

use heck::ToSnakeCase;

use super::{
    Cx, inner_span,
    scope::{FieldScope, KeyTarget, TableCx},
};
use crate::{
    diagnostics::did_you_mean,
    ir::{self, FieldId, FieldType, IndexKind, KeyType, KeyValue, TemplatePart},
    load::{RawItem, Sp},
    template,
};

/// Resolves `[item.X.keys]` and plain key fields into key values, by
/// attribute, in schema order. `None` when an error was reported.
pub(crate) fn keys(
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
        if let Some(index) = tcx
            .def
            .indexes
            .iter()
            .find(|i| i.is_multi_attribute() && i.key().any(|k| k.name == **attr.get()))
        {
            let d = cx
                .error(
                    "dynamo::multi_attribute_template",
                    attr.span(),
                    format!(
                        "`{}` is an attribute of index `{}`'s multi-attribute key, filled here by a template",
                        attr.get(),
                        index.name
                    ),
                    "a template",
                )
                .help(format!(
                    "the attributes of a multi-attribute key are fields, each with its own type: remove the template and declare a field stored under `{}` (named so, or with `attribute = \"{}\"`)",
                    attr.get(),
                    attr.get()
                ));
            cx.push(d);
            // Counted as filled: one error, not a partial-key one too.
            scope.key_spans.insert(attr.get().clone(), text.span());
            continue;
        }
        scope.key_spans.insert(attr.get().clone(), text.span());
        let target = KeyTarget {
            name: attr.get(),
            ty: *ty,
            sort: *sort,
        };
        if let Some(t) = template(cx, &tcx.def.key_separator, scope, &target, text) {
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
                    format!("field `{}` is the key attribute `{attr}` ({ty:?}) but is `{}`", field.name, scope.type_names[i]),
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
                field: FieldId(i),
            },
        ));
    }
    let keys_span = raw.keys.as_ref().map_or(name.span(), Sp::span);
    let table_keys = std::iter::once((&tcx.def.partition_key, "partition"))
        .chain(tcx.def.sort_key.as_ref().map(|k| (k, "sort")));
    for (key, which) in table_keys {
        if scope.key_spans.contains_key(&*key.name) {
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
        // An item is in a global index when it fills every attribute of
        // its key; some but not all is a mistake.
        let (filled, missing): (Vec<_>, Vec<_>) = index
            .key()
            .map(|k| &*k.name)
            .partition(|k| scope.key_spans.contains_key(*k));
        let Some(span) = filled.first().and_then(|k| scope.key_spans.get(*k)) else {
            continue;
        };
        if missing.is_empty() {
            continue;
        }
        let list = |names: &[&str]| {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (filled, missing) = (list(&filled), list(&missing));
        let d = cx
            .error(
                "dynamo::partial_index_key",
                span.clone(),
                format!("item type `{item_name}` fills {filled} but not {missing} of index `{}`", index.name),
                format!("part of `{}`'s key", index.name),
            )
            .help(format!("fill {missing} too to put the item in the index, or remove {filled} to leave it out"));
        cx.push(d);
    }
    (cx.errors() == errors_before).then_some(values)
}

/// The pieces of a template's text, or `None` when it is malformed (a
/// `dynamo::template` error, located in the text).
pub(crate) fn parse(cx: &mut Cx<'_>, text: &Sp<String>) -> Option<Vec<template::Piece>> {
    match template::parse(text.get()) {
        Ok(pieces) => Some(pieces),
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
            None
        }
    }
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
    let pieces = parse(cx, text)?;
    let mut parts = Vec::new();
    // Each field placed, with its span, for the check of the literal text
    // after it.
    let mut placed: Vec<(usize, Range<usize>)> = Vec::new();
    let mut previous_field: Option<(String, Range<usize>)> = None;
    let mut literal_since_field = String::new();
    for piece in pieces {
        match piece {
            template::Piece::Literal(s) => {
                literal_since_field.push_str(&s);
                parts.push(TemplatePart::Literal(s));
            }
            template::Piece::Placeholder {
                name,
                span,
                width,
                case,
            } => {
                let span = inner_span(cx.file, text, span);
                if case.is_some() {
                    let d = cx
                        .error(
                            "dynamo::computed",
                            span.clone(),
                            format!("a key template changes the case of `{name}`"),
                            "case modifier",
                        )
                        .help("keys are read back into fields, so they keep values as they are; a lower-case copy is a computed field: `name_lower = { type = \"string\", computed = \"{name:lower}\" }`");
                    cx.push(d);
                }
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
                let type_name = &scope.type_names[index];
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
                if !field.ty.in_templates() {
                    let d = cx
                        .error(
                            "dynamo::template_field_type",
                            span.clone(),
                            format!("field `{name}` of type `{type_name}` cannot be part of a key template"),
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
                            format!("width on field `{name}` of type {type_name}"),
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
                            format!("{type_name} field `{name}` in a sort key template"),
                            "does not sort as text",
                        )
                        .help("use an integer field with a width, e.g. cents as `u64` with `{amount:012}`");
                    cx.push(d);
                }
                // At width `w`, values from -(10^w - 1) to 10^w - 1 sort
                // in order (negative ones as `-` and their complement).
                let bounded = |w: usize| {
                    let limit = 10f64.powi(w as i32);
                    let min = match &field.ty {
                        FieldType::Int(t) if t.range().0 >= 0 => Some(0.0),
                        _ => field.validate.min,
                    };
                    field.validate.max.is_some_and(|max| max < limit)
                        && min.is_some_and(|min| min > -limit)
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
                placed.push((parts.len(), span.clone()));
                parts.push(TemplatePart::Field {
                    field: FieldId(index),
                    width,
                    case: None,
                });
            }
        }
    }
    for (at, span) in placed {
        literal_inside_value(cx, scope, &parts, at, span, separator);
    }
    (cx.errors() == errors_before).then(|| ir::Template {
        attribute: key.name.to_owned(),
        text: value.clone(),
        parts,
    })
}

/// The characters a typed value's key text can hold; `None` for free
/// text (strings, which are checked for the separator when written).
fn value_chars(field: &ir::Field, enum_values: &[String]) -> Option<String> {
    let digits = "0123456789";
    Some(match &field.ty {
        FieldType::Int(t) if t.range().0 < 0 => format!("{digits}-"),
        FieldType::Int(_) => digits.to_owned(),
        FieldType::Float(_) => format!("{digits}.-infNa"),
        FieldType::Number => format!("{digits}.-+eE"),
        FieldType::Bool => "truefals".to_owned(),
        FieldType::Date => format!("{digits}-+"),
        FieldType::DateTime(_) => format!("{digits}-+:.TZ"),
        FieldType::Uuid => format!("{digits}abcdef-"),
        FieldType::Enum(_) => enum_values.concat(),
        _ => return None,
    })
}

/// A field followed by literal text and then another field is read back
/// out of a key (index projections) by finding that literal text: a typed
/// value that can contain its first character (a date's `-`, a datetime's
/// `:`) would be cut short there.
fn literal_inside_value(
    cx: &mut Cx<'_>,
    scope: &FieldScope,
    parts: &[TemplatePart],
    at: usize,
    span: Range<usize>,
    separator: &str,
) {
    let TemplatePart::Field { field, .. } = &parts[at] else {
        return;
    };
    let mut literal = String::new();
    let mut rest = parts[at + 1..].iter();
    for part in rest.by_ref() {
        match part {
            TemplatePart::Literal(l) => literal.push_str(l),
            TemplatePart::Field { .. } => break,
        }
    }
    let later_field = parts[at + 1..]
        .iter()
        .any(|p| matches!(p, TemplatePart::Field { .. }));
    let (Some(first), true) = (literal.chars().next(), later_field) else {
        return;
    };
    let Some(Some(def)) = scope.fields.get(field.0) else {
        return;
    };
    let Some(chars) = value_chars(def, &scope.enum_values[field.0]) else {
        return;
    };
    if !chars.contains(first) {
        return;
    }
    let name = &scope.names[field.0];
    let type_name = &scope.type_names[field.0];
    let help = if first.to_string() == separator {
        format!(
            "choose a key separator that {type_name} values cannot contain, e.g. `key_separator = \"#\"` in `[table]`"
        )
    } else {
        format!(
            "start the text after `{{{name}}}` with a character {type_name} values cannot contain, e.g. `#`"
        )
    };
    let d = cx
        .error(
            "dynamo::separator_in_value",
            span,
            format!("`{{{name}}}` (`{type_name}`) can contain `{first}`, the text that follows it in the key"),
            format!("`{first}` can occur in this value"),
        )
        .help(help);
    cx.push(d);
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
pub(crate) fn collisions(
    cx: &mut Cx<'_>,
    tcx: &TableCx<'_>,
    items: &[Option<ir::Item>],
    scopes: &BTreeMap<String, FieldScope>,
) {
    let items: Vec<&ir::Item> = items.iter().flatten().collect();
    for (i, b) in items.iter().enumerate() {
        for a in &items[..i] {
            let (ka, kb) = (a.table_access(), b.table_access());
            let pk = may_equal(a.key(ka.partition), b.key(kb.partition));
            let sk = match (ka.sort, kb.sort) {
                (Some(x), Some(y)) => may_equal(a.key(x), b.key(y)),
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
                .to_string();
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
