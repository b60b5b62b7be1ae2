//! `[union.X]`: tagged unions of nested types, stored as a map whose tag
//! attribute names the variant.

use super::{NestedInfo, nested::type_name};
use crate::{
    ir::{self, NestedType},
    load::{Named, RawUnion, Sp},
    validate::Cx,
};

/// Validates the `[union.X]` sections: each union (`None` where invalid)
/// by [`UnionId`](ir::UnionId), in schema order.
pub(crate) fn unions(
    cx: &mut Cx<'_>,
    raw: &Named<RawUnion>,
    nested: &[Option<NestedType>],
    info: &NestedInfo,
) -> Vec<Option<ir::UnionType>> {
    let mut ordered: Vec<_> = raw.iter().collect();
    ordered.sort_by_key(|(name, _)| name.span().start);
    ordered
        .into_iter()
        .map(|(name, union)| one(cx, name, union, nested, info))
        .collect()
}

fn one(
    cx: &mut Cx<'_>,
    name: &Sp<String>,
    raw: &Sp<RawUnion>,
    nested: &[Option<NestedType>],
    info: &NestedInfo,
) -> Option<ir::UnionType> {
    let errors_before = cx.errors();
    type_name(cx, name, "union");
    if info.id(name.get()).is_some() {
        let d = cx
            .error(
                "dynamo::union",
                name.span(),
                format!("`{}` is both a union and a nested type", name.get()),
                "a union",
            )
            .help("give the union its own name: field types name either");
        cx.push(d);
    }
    let tag = match &raw.tag {
        Some(t) if t.is_empty() => {
            let d = cx
                .error("dynamo::union", t.span(), "empty tag attribute", "empty")
                .help("name the attribute that holds the variant, e.g. `tag = \"kind\"`, or remove `tag` for `type`");
            cx.push(d);
            String::new()
        }
        Some(t) => t.get().clone(),
        None => "type".to_owned(),
    };
    if raw.variants.is_empty() {
        let d = cx
            .error("dynamo::union", raw.variants.span(), "a union needs at least one variant", "empty")
            .help("map each stored tag to a nested type, e.g. `variants = { card = \"Card\", transfer = \"BankTransfer\" }`");
        cx.push(d);
    }
    let mut ordered: Vec<_> = raw.variants.iter().collect();
    ordered.sort_by_key(|(t, _)| t.span().start);
    let mut variants: Vec<ir::Variant> = Vec::new();
    let mut seen: Vec<(ir::NestedId, &Sp<String>)> = Vec::new();
    for (value, type_ref) in ordered {
        if value.is_empty() {
            let d = cx
                .error("dynamo::union", value.span(), "empty tag", "empty")
                .help(
                    "a tag is the text stored in the tag attribute: write e.g. `card = \"Card\"`",
                );
            cx.push(d);
            continue;
        }
        let Some(id) = info.id(type_ref.get()) else {
            let names: Vec<&str> = info.names().collect();
            cx.unknown_name("dynamo::union", type_ref, "nested type", &names);
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == id) {
            let d = cx
                .error(
                    "dynamo::union",
                    type_ref.span(),
                    format!("nested type `{}` is two variants of `{}`", type_ref.get(), name.get()),
                    "again",
                )
                .related(cx.file, first.span(), "first here")
                .help("each variant holds its own nested type: its name is the variant's name (`Payment::Card(Card)`)");
            cx.push(d);
            continue;
        }
        seen.push((id, type_ref));
        // The variant's own fields must leave the tag attribute free.
        if let Some(field) = nested
            .get(id.0)
            .and_then(Option::as_ref)
            .and_then(|t| t.fields.iter().find(|f| f.attribute == tag))
        {
            let d = cx
                .error(
                    "dynamo::union",
                    type_ref.span(),
                    format!(
                        "field `{}` of `{}` is stored as `{tag}`, the tag attribute of union `{}`",
                        field.name,
                        type_ref.get(),
                        name.get()
                    ),
                    "clashes with the tag",
                )
                .related(cx.file, field.span.clone(), "stored as the tag attribute")
                .help("rename the field's attribute, or choose another `tag` for the union");
            cx.push(d);
            continue;
        }
        variants.push(ir::Variant {
            tag: value.get().clone(),
            nested: id,
        });
    }
    (cx.errors() == errors_before).then(|| ir::UnionType {
        name: name.get().clone(),
        span: name.span(),
        doc: raw.doc.as_ref().map(|d| d.get().clone()),
        exact: variants.iter().all(|v| {
            nested
                .get(v.nested.0)
                .and_then(Option::as_ref)
                .is_some_and(|t| t.exact)
        }),
        tag,
        variants,
    })
}
