//! Computed fields (`computed = "{name:lower}"`): a string rendered from
//! other fields of the item at every write. Their templates follow the
//! template syntax with case modifiers, but not the key rules: the value is
//! not part of any key, so it may be empty or hold the separator.

use super::{
    Cx, inner_span,
    scope::{FieldScope, TableCx},
};
use crate::{
    diagnostics::did_you_mean,
    ir::{self, FieldId, FieldType, KeyValue, TemplatePart},
    load::{RawField, Sp},
    template,
};

/// Resolves the `computed` option of each field of an item type: checks
/// its options and template, stores the template in the field and makes
/// the field optional when a field it renders from is (the attribute is
/// absent while that one is).
pub(crate) fn computed(
    cx: &mut Cx<'_>,
    tcx: &TableCx<'_>,
    raw_fields: &[(&Sp<String>, &Sp<RawField>)],
    scope: &mut FieldScope,
    keys: &[(String, KeyValue)],
    managed: &[usize],
) {
    // Fields writes keep (timestamps, the version) change without an
    // update naming them, so nothing could render from them again.
    let computed_field = |i: usize| raw_fields.get(i).is_some_and(|(_, f)| f.computed.is_some());
    let is_computed = |i: usize| computed_field(i) || managed.contains(&i);
    for (i, (name, raw)) in raw_fields.iter().enumerate() {
        let Some(text) = &raw.computed else {
            continue;
        };
        let refuse = |cx: &mut Cx<'_>, span, message: String, label: &str, help: &str| {
            let d = cx
                .error("dynamo::computed", span, message, label.to_owned())
                .help(help.to_owned());
            cx.push(d);
        };
        let options = [
            (
                raw.optional.as_ref().map(Sp::span),
                "optional",
                "a computed field is optional exactly when a field it renders from is: remove `optional`",
            ),
            (
                raw.default.as_ref().map(Sp::span),
                "default",
                "every write renders the value: remove `default`",
            ),
            (
                raw.read_only.as_ref().map(Sp::span),
                "read_only",
                "the value follows its fields: make those read-only instead",
            ),
            (
                raw.unique.as_ref().map(Sp::span),
                "unique",
                "unique computed values are not supported: keep a unique field and compute from it",
            ),
            (
                raw.validate.as_ref().map(Sp::span),
                "validate",
                "validate the fields it renders from instead",
            ),
            (
                raw.encrypted.as_ref().filter(|e| *e.get()).map(Sp::span),
                "encrypted",
                "a computed copy exists to be read and filtered on: do not encrypt it",
            ),
        ];
        for (span, option, help) in options {
            if let Some(span) = span {
                refuse(
                    cx,
                    span,
                    format!("computed field `{}` sets `{option}`", name.get()),
                    "not for a computed field",
                    help,
                );
            }
        }
        let Some(field) = scope.fields[i].clone() else {
            continue;
        };
        if field.ty != FieldType::String {
            refuse(
                cx,
                scope.spans[i].clone(),
                format!(
                    "computed field `{}` is `{}`, but a template renders a string",
                    name.get(),
                    scope.type_names[i]
                ),
                "not a string",
                "declare it `type = \"string\"`",
            );
            continue;
        }
        // An index's plain key may be computed (a lower-case copy to query
        // by); the table's key never changes, so it may not.
        if let Some(span) = scope
            .key_spans
            .get(&field.attribute)
            .filter(|_| tcx.is_table_key(&field.attribute))
        {
            refuse(
                cx,
                span.clone(),
                format!(
                    "computed field `{}` is stored as the table's key attribute `{}`",
                    name.get(),
                    field.attribute
                ),
                "the table's key",
                "an item's table key never changes, while a computed field follows its fields: key the table by a template instead (without case modifiers)",
            );
            continue;
        }
        let Some(t) = template(
            cx,
            scope,
            (&field.name, &field.attribute),
            text,
            &is_computed,
        ) else {
            continue;
        };
        let optional = t
            .fields()
            .iter()
            .any(|f| scope.fields[f.0].as_ref().is_some_and(|f| f.optional));
        if let Some(f) = scope.fields[i].as_mut() {
            f.optional = optional;
            f.computed = Some(t);
        }
    }
    // A key renders from the fields' own values, never a computed copy.
    for (attribute, key) in keys {
        let KeyValue::Template(t) = key else {
            continue;
        };
        for f in t.fields().into_iter().filter(|f| computed_field(f.0)) {
            let name = raw_fields[f.0].0;
            let span = scope
                .key_spans
                .get(attribute)
                .cloned()
                .unwrap_or(name.span());
            let d = cx
                .error(
                    "dynamo::computed",
                    span,
                    format!("key `{attribute}` renders computed field `{}`", name.get()),
                    "a key template",
                )
                .related(cx.file, name.span(), "computed here")
                .help("render the fields the computed value comes from in the key instead");
            cx.push(d);
        }
    }
}

/// Checks a computed template against the item's fields and resolves it:
/// `None` when an error was reported. `is_computed` tells computed fields,
/// which a template cannot render from (the order of rendering would
/// matter).
pub(crate) fn template(
    cx: &mut Cx<'_>,
    scope: &FieldScope,
    (field, attribute): (&str, &str),
    text: &Sp<String>,
    is_computed: &dyn Fn(usize) -> bool,
) -> Option<ir::Template> {
    let errors_before = cx.errors();
    let pieces = super::keys::parse(cx, text)?;
    let mut parts = Vec::new();
    for piece in pieces {
        let (name, span, width, case) = match piece {
            template::Piece::Literal(s) => {
                parts.push(TemplatePart::Literal(s));
                continue;
            }
            template::Piece::Placeholder {
                name,
                span,
                width,
                case,
            } => (name, inner_span(cx.file, text, span), width, case),
        };
        let Some(index) = scope.names.iter().position(|n| *n == name) else {
            let d = cx
                .error(
                    "dynamo::unknown_template_field",
                    span,
                    format!("computed template names unknown field `{name}`"),
                    "no such field",
                )
                .help(
                    match did_you_mean(&name, scope.names.iter().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => {
                            format!("declare it in the item's fields, e.g. `{name} = \"string\"`")
                        }
                    },
                );
            cx.push(d);
            continue;
        };
        let Some(source) = &scope.fields[index] else {
            continue;
        };
        let problem = if source.name == field {
            Some((
                "renders itself",
                "a computed field renders from other fields",
            ))
        } else if is_computed(index) {
            Some((
                "renders a field that changes on its own",
                "render from fields the item's writes set: not another computed field, a timestamp or the version",
            ))
        } else if !source.ty.in_templates() {
            Some((
                "is not a text value",
                "templates take strings, integers, numbers, booleans, dates, datetimes, uuids and enums",
            ))
        } else if width.is_some() && !source.ty.is_integer() {
            Some((
                "has a width but is not an integer",
                "only integers take a width, e.g. `{position:08}`",
            ))
        } else {
            None
        };
        if let Some((what, help)) = problem {
            let d = cx
                .error(
                    "dynamo::computed",
                    span,
                    format!("computed attribute `{field}` {what}: `{name}`"),
                    "here",
                )
                .help(help);
            cx.push(d);
            continue;
        }
        parts.push(TemplatePart::Field {
            field: FieldId(index),
            width,
            case,
        });
    }
    (cx.errors() == errors_before).then(|| ir::Template {
        attribute: attribute.to_owned(),
        text: text.get().clone(),
        parts,
    })
}
