//! `[type.X]`: nested types, their cycle check, whether their values have
//! exact equality, and the warning for an unused one.

use std::collections::BTreeSet;

use heck::ToUpperCamelCase;

use super::{FieldCx, duplicate_attributes, field, field_default};
use crate::{
    ir::{self, EnumDef, FieldType, NestedId, Owner, UnionId},
    load::{Named, RawField, RawUnion, Sp},
    names,
    validate::{Cx, scope::TableCx},
};

/// What fields and defaults need to know about the table's nested types.
#[derive(Default)]
pub(crate) struct NestedInfo {
    /// Every nested type's name: declared ones in schema order (a
    /// [`NestedId`] is a position here), then ones whose section did not
    /// parse.
    names: Vec<String>,
    /// Each declared nested type's fields once they are valid.
    fields: Vec<Option<Vec<NestedField>>>,
    /// Every union's name, in schema order (a [`UnionId`] is a position
    /// here).
    unions: Vec<String>,
}

/// A field of a nested type, as defaults see it.
pub(crate) struct NestedField {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: FieldType,
    /// Whether a default may leave it out (optional or defaulted).
    pub may_omit: bool,
}

impl NestedInfo {
    /// The nested type named `name`.
    pub fn id(&self, name: &str) -> Option<NestedId> {
        self.names.iter().position(|n| n == name).map(NestedId)
    }

    /// The union named `name`.
    pub fn union_id(&self, name: &str) -> Option<UnionId> {
        self.unions.iter().position(|n| n == name).map(UnionId)
    }

    /// Every nested type's name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// The name of nested type `id`.
    pub fn name(&self, id: NestedId) -> &str {
        &self.names[id.0]
    }

    /// The fields of nested type `id`, when it is valid.
    pub fn fields(&self, id: NestedId) -> Option<&[NestedField]> {
        self.fields.get(id.0)?.as_deref()
    }

    /// A type as the schema writes it.
    pub fn type_name(&self, ty: &FieldType) -> String {
        ty.schema_name(&|id| self.name(id))
    }
}

/// A nested type's raw fields in schema order, and its fields when all are
/// valid.
type Resolved<'a> = (
    Vec<(&'a Sp<String>, &'a Sp<RawField>)>,
    Option<Vec<ir::Field>>,
);

/// Validates `[type.X]` sections: each nested type (`None` where invalid)
/// by [`NestedId`], the enums of their fields, and what fields of item
/// types need to know about them.
pub(crate) fn nested_types(
    cx: &mut Cx<'_>,
    tcx: &TableCx<'_>,
    raw: &Named<Named<RawField>>,
    unions: &Named<RawUnion>,
) -> (Vec<Option<ir::NestedType>>, Vec<EnumDef>, NestedInfo) {
    let mut ordered: Vec<_> = raw.iter().collect();
    ordered.sort_by_key(|(name, _)| name.span().start);
    let mut union_names: Vec<_> = unions.keys().collect();
    union_names.sort_by_key(|name| name.span().start);
    let mut info = NestedInfo {
        names: ordered.iter().map(|(n, _)| n.get().clone()).collect(),
        fields: Vec::new(),
        unions: union_names.iter().map(|n| n.get().clone()).collect(),
    };
    info.names.extend(
        tcx.broken
            .iter()
            .filter(|b| !raw.contains_key(b.as_str()))
            .cloned(),
    );
    let mut enums = Vec::new();
    let mut resolved: Vec<Resolved<'_>> = Vec::new();
    for (i, (name, fields)) in ordered.iter().enumerate() {
        let ok_name = type_name(cx, name, "nested type");
        let mut raw_fields: Vec<_> = fields.iter().collect();
        raw_fields.sort_by_key(|(n, _)| n.span().start);
        if raw_fields.is_empty() {
            let d = cx
                .error(
                    "dynamo::empty_type",
                    name.span(),
                    format!("nested type `{}` has no fields", name.get()),
                    "no fields",
                )
                .help(format!(
                    "add fields under `[type.{}]`, e.g. `sku = \"string\"`",
                    name.get()
                ));
            cx.push(d);
        }
        let fcx = FieldCx {
            owner: Owner::Nested(NestedId(i)),
            nested: &info,
            broken: tcx.broken,
        };
        let out: Vec<Option<ir::Field>> = raw_fields
            .iter()
            .map(|(n, f)| field(cx, &fcx, n, f, &mut enums))
            .collect();
        for (n, f) in &raw_fields {
            if let Some(unique) = f.unique.as_ref().filter(|u| *u.get()) {
                let d = cx
                    .error(
                        "dynamo::unique",
                        unique.span(),
                        format!(
                            "field `{}` of nested type `{}` is unique",
                            n.get(),
                            name.get()
                        ),
                        "on a nested type's field",
                    )
                    .help("uniqueness is per item type: make a field of the item unique");
                cx.push(d);
            }
            if let Some(read_only) = f.read_only.as_ref().filter(|r| *r.get()) {
                let d = cx
                    .error(
                        "dynamo::read_only",
                        read_only.span(),
                        format!("field `{}` of nested type `{}` is read-only", n.get(), name.get()),
                        "on a nested type's field",
                    )
                    .help("make the item's field holding the nested value read-only: a nested value is written whole");
                cx.push(d);
            }
        }
        duplicate_attributes(cx, &raw_fields, &out);
        let out: Option<Vec<ir::Field>> = out.into_iter().collect();
        resolved.push((raw_fields, out.filter(|_| ok_name)));
    }
    info.fields = resolved
        .iter()
        .map(|(raw_fields, fields)| {
            let fields = fields.as_ref()?;
            Some(
                fields
                    .iter()
                    .zip(raw_fields)
                    .map(|(f, (_, raw))| NestedField {
                        name: f.name.clone(),
                        ty: f.ty.clone(),
                        // Fields with a default may be left out of a default table.
                        may_omit: f.optional || raw.default.is_some(),
                    })
                    .collect(),
            )
        })
        .collect();
    let mut out: Vec<Option<ir::NestedType>> = Vec::new();
    for ((name, _), (raw_fields, fields)) in ordered.iter().zip(resolved) {
        let Some(mut fields) = fields else {
            out.push(None);
            continue;
        };
        let mut ok = true;
        for (f, (_, raw)) in fields.iter_mut().zip(&raw_fields) {
            ok &= field_default(cx, &info, &enums, raw, f);
        }
        out.push(ok.then(|| ir::NestedType {
            name: name.get().clone(),
            span: name.span(),
            fields,
            exact: true,
        }));
    }
    cycles(cx, &ordered, &info, &out);
    exactness(&mut out);
    (out, enums, info)
}

/// Whether each nested type has exact equality: none of its fields is a
/// float, JSON, custom, or a nested type without it. The greatest fixed
/// point, so that a type containing itself (through a list) is exact when
/// nothing else makes it not.
fn exactness(types: &mut [Option<ir::NestedType>]) {
    fn exact(ty: &FieldType, types: &[Option<ir::NestedType>]) -> bool {
        match ty {
            FieldType::Float(_) | FieldType::Json | FieldType::Custom(_) => false,
            FieldType::Set(t) | FieldType::List(t) | FieldType::Map(t) => exact(t, types),
            FieldType::Nested(id) => types
                .get(id.0)
                .and_then(Option::as_ref)
                .is_some_and(|t| t.exact),
            _ => true,
        }
    }
    loop {
        let next: Vec<bool> = types
            .iter()
            .map(|t| {
                t.as_ref()
                    .is_some_and(|t| t.exact && t.fields.iter().all(|f| exact(&f.ty, types)))
            })
            .collect();
        let mut changed = false;
        for (t, exact) in types.iter_mut().zip(next) {
            if let Some(t) = t
                && t.exact != exact
            {
                t.exact = exact;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

/// Checks an item or nested type name.
pub(crate) fn type_name(cx: &mut Cx<'_>, name: &Sp<String>, what: &str) -> bool {
    let text = name.get();
    if !names::is_upper_camel(text) {
        let suggestion = text.to_upper_camel_case();
        let d = cx
            .error(
                "dynamo::type_name",
                name.span(),
                format!("{what} name `{text}` is not UpperCamelCase"),
                "becomes a Rust type name",
            )
            .help(if names::is_upper_camel(&suggestion) {
                format!("rename it to `{suggestion}`")
            } else {
                "use letters and digits, starting with an upper-case letter".to_owned()
            });
        cx.push(d);
        return false;
    }
    true
}

/// A nested type may not contain itself without a list, map, set or
/// optional in between: such a value would be infinitely large.
fn cycles(
    cx: &mut Cx<'_>,
    raw: &[(&Sp<String>, &Sp<Named<RawField>>)],
    info: &NestedInfo,
    types: &[Option<ir::NestedType>],
) {
    let direct = |name: &str| -> Vec<(String, String)> {
        types
            .iter()
            .flatten()
            .find(|t| t.name == name)
            .map(|t| {
                t.fields
                    .iter()
                    .filter(|f| !f.optional)
                    .filter_map(|f| match &f.ty {
                        FieldType::Nested(id) => Some((f.name.clone(), info.name(*id).to_owned())),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut reported = BTreeSet::new();
    for t in types.iter().flatten() {
        // Depth-first search for a path back to `t`.
        let mut stack: Vec<(String, Vec<String>)> = vec![(t.name.clone(), Vec::new())];
        let mut visited = BTreeSet::new();
        while let Some((current, path)) = stack.pop() {
            for (field, target) in direct(&current) {
                let mut path = path.clone();
                path.push(format!("{current}.{field}"));
                if target == t.name {
                    if reported.insert(t.name.clone()) {
                        let first_field = path[0].split_once('.').map_or("", |p| p.1).to_owned();
                        let span = raw
                            .iter()
                            .find(|(n, _)| n.get() == &t.name)
                            .and_then(|(_, fields)| fields.keys().find(|k| *k.get() == first_field))
                            .map_or(0..0, |k| k.span());
                        let d = cx
                            .error(
                                "dynamo::recursive_type",
                                span,
                                format!("nested type `{}` contains itself: {} → {}", t.name, path.join(" → "), t.name),
                                "makes the type infinitely large",
                            )
                            .help("break the cycle with `optional = true`, or a `list<...>` or `map<...>`");
                        cx.push(d);
                    }
                } else if visited.insert(target.clone()) {
                    stack.push((target, path));
                }
            }
        }
    }
}

/// Nested types no field uses (judged by the type text, so that a field
/// with another mistake still counts as a use).
pub(crate) fn unused_nested(cx: &mut Cx<'_>, schema: &crate::load::RawSchema) {
    let mut used = BTreeSet::new();
    let mut note = |owner: Option<&str>, fields: &Named<RawField>| {
        for field in fields.values() {
            for token in field
                .ty
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            {
                if Some(token) != owner {
                    used.insert(token.to_owned());
                }
            }
        }
    };
    for item in schema.item.values() {
        note(None, &item.fields);
    }
    for (name, fields) in &schema.types {
        note(Some(name.get()), fields);
    }
    for union in schema.union.values() {
        used.extend(union.variants.values().map(|v| v.get().clone()));
    }
    for name in schema.union.keys() {
        if !used.contains(name.get()) {
            let d = cx
                .error(
                    "dynamo::unused_type",
                    name.span(),
                    format!("union `{}` is not used by any field", name.get()),
                    "unused",
                )
                .warning()
                .help(format!(
                    "use it as a field type, e.g. `payment = \"{}\"`, or remove it",
                    name.get()
                ));
            cx.push(d);
        }
    }
    for name in schema.types.keys() {
        if !used.contains(name.get()) {
            let d = cx
                .error(
                    "dynamo::unused_type",
                    name.span(),
                    format!("nested type `{}` is not used by any field", name.get()),
                    "unused",
                )
                .warning()
                .help(format!(
                    "use it as a field type, e.g. `line = \"{}\"`, or remove it",
                    name.get()
                ));
            cx.push(d);
        }
    }
}
