//! `[table.attributes]` and an item type's `attributes`: Rust attributes
//! the schema adds to generated types (prost-build's `type_attribute`,
//! typed by the kind of type). Each must parse as outer attributes, and a
//! `derive` may not repeat one the generated code has.

use syn::{Token, punctuated::Punctuated};

use super::Cx;
use crate::{
    ir::{TypeAttributes, TypeKind},
    load::{RawAttributes, Sp},
};

/// The traits generated code derives on types of `kind` (some only when
/// every field has exact equality, or with serde or JSON Schemas on):
/// deriving one again would not compile.
fn generated(kind: TypeKind) -> &'static [&'static str] {
    const COMMON: &[&str] = &[
        "Debug",
        "Clone",
        "PartialEq",
        "Eq",
        "Hash",
        "Serialize",
        "Deserialize",
        "JsonSchema",
    ];
    const ENUMS: &[&str] = &[
        "Debug",
        "Clone",
        "Copy",
        "PartialEq",
        "Eq",
        "PartialOrd",
        "Ord",
        "Hash",
        "Serialize",
        "Deserialize",
        "JsonSchema",
    ];
    match kind {
        TypeKind::Enums | TypeKind::All => ENUMS,
        _ => COMMON,
    }
}

/// Checks that `text` is one or more outer attributes that derive nothing
/// types of `kind` derive already; why not, otherwise.
pub fn check(kind: TypeKind, text: &str) -> Result<(), String> {
    let attributes = syn::parse::Parser::parse_str(syn::Attribute::parse_outer, text)
        .map_err(|e| format!("not a Rust attribute: {e}"))?;
    if attributes.is_empty() {
        return Err("no attribute: write one such as `#[derive(PartialOrd)]`".into());
    }
    for attribute in &attributes {
        if !attribute.path().is_ident("derive") {
            continue;
        }
        let paths = attribute
            .parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
            .map_err(|e| format!("not a derive list: {e}"))?;
        for path in paths {
            let Some(last) = path.segments.last() else {
                continue;
            };
            let name = last.ident.to_string();
            if generated(kind).contains(&name.as_str()) {
                return Err(format!(
                    "`{name}` is derived by the generated code already (`Eq` and `Hash` wherever every field has exact equality; serde's and schemars' traits with `serde` and `json_schema`)"
                ));
            }
        }
    }
    Ok(())
}

/// The checked attributes of `[table.attributes]`: `all` added to each
/// kind.
pub(crate) fn table_attributes(cx: &mut Cx<'_>, raw: Option<&Sp<RawAttributes>>) -> TypeAttributes {
    let mut out = TypeAttributes::default();
    let Some(raw) = raw else {
        return out;
    };
    let raw = raw.get();
    let all = list(cx, TypeKind::All, &raw.all);
    for kind in TypeKind::EACH {
        let own = match kind {
            TypeKind::Items => &raw.items,
            TypeKind::Keys => &raw.keys,
            TypeKind::New => &raw.new,
            TypeKind::Nested => &raw.nested,
            TypeKind::Enums => &raw.enums,
            TypeKind::Projections => &raw.projections,
            TypeKind::Unions => &raw.unions,
            TypeKind::All => continue,
        };
        let own = list(cx, kind, own);
        out.of_mut(kind).extend(all.iter().cloned().chain(own));
    }
    out
}

/// The checked attributes of one list (a diagnostic for each bad one,
/// which is left out).
pub(crate) fn list(cx: &mut Cx<'_>, kind: TypeKind, raw: &[Sp<String>]) -> Vec<String> {
    raw.iter()
        .filter_map(|text| match check(kind, text.get()) {
            Ok(()) => Some(text.get().clone()),
            Err(why) => {
                let d = cx
                    .error(
                        "dynamo::type_attribute",
                        text.span(),
                        format!("`{}` cannot be added to the generated types: {why}", text.get()),
                        "this attribute",
                    )
                    .help("write outer attributes such as `#[derive(PartialOrd, Ord)]` or `#[doc(alias = \"x\")]`; the generated code's own derives come with it");
                cx.push(d);
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_parse_and_repeat_no_generated_derive() {
        assert_eq!(check(TypeKind::Keys, "#[derive(PartialOrd, Ord)]"), Ok(()));
        assert_eq!(
            check(TypeKind::Items, "#[doc(alias = \"x\")] #[must_use]"),
            Ok(())
        );
        assert!(check(TypeKind::Items, "derive(Hash)").is_err());
        assert!(check(TypeKind::Items, "").is_err());
        assert!(check(TypeKind::Items, "#![allow(dead_code)]").is_err());
        let e = check(TypeKind::Items, "#[derive(std::fmt::Debug)]").unwrap_err();
        assert!(e.contains("`Debug` is derived"), "{e}");
        assert!(check(TypeKind::Enums, "#[derive(Ord)]").is_err());
        assert_eq!(check(TypeKind::Keys, "#[derive(Ord)]"), Ok(()));
    }
}
