//! The one place that turns schema names into Rust names.

use heck::ToSnakeCase;
use proc_macro2::{Ident, Span};

/// Rust keywords that `r#` cannot make usable.
const NOT_RAW: [&str; 5] = ["self", "Self", "super", "crate", "_"];

/// Names generated code uses unqualified in every table module; an item
/// type may not shadow them.
pub const RESERVED_TYPE_NAMES: [&str; 9] = [
    "String", "Option", "Result", "Vec", "Box", "Some", "None", "Ok", "Err",
];

/// An identifier for `name`, raw (`r#type`) when it is a keyword.
pub fn ident(name: &str) -> Ident {
    if syn::parse_str::<Ident>(name).is_ok() {
        Ident::new(name, Span::call_site())
    } else {
        Ident::new_raw(name, Span::call_site())
    }
}

/// Whether `name` can be a field or function name (snake_case, usable as an
/// identifier, raw if need be).
pub fn is_snake_ident(name: &str) -> bool {
    !NOT_RAW.contains(&name)
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The Rust field name of a schema field: the name itself when it is
/// snake_case, else its snake_case form (`userId` → `user_id`); `None`
/// when neither is a usable identifier.
pub fn field_name(name: &str) -> Option<String> {
    if is_snake_ident(name) {
        return Some(name.to_owned());
    }
    let snake = name.to_snake_case();
    is_snake_ident(&snake).then_some(snake)
}

/// Whether `name` can be an item type name (UpperCamelCase ASCII).
pub fn is_type_ident(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
        && name != "Self"
}

/// The module of a table: `shop-prod` becomes `shop_prod`.
pub fn table_module(table: &str) -> Ident {
    let mut name = table.to_snake_case();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    ident(&name)
}

/// The key struct of an item type.
pub fn key_struct(item: &str) -> Ident {
    ident(&format!("{item}Key"))
}

/// The query builder of an item type.
pub fn query_struct(item: &str) -> Ident {
    ident(&format!("{item}Query"))
}

/// The private function rendering `attribute` of `item`.
pub fn key_fn(item: &str, attribute: &str) -> Ident {
    ident(&format!(
        "{}_{}",
        item.to_snake_case(),
        attribute.to_snake_case()
    ))
}

/// Every type name an item type generates; two item types in one table
/// must not share any.
pub fn generated_type_names(item: &str) -> [String; 6] {
    [
        item.to_owned(),
        format!("{item}Key"),
        format!("{item}Query"),
        format!("New{item}"),
        format!("{item}Fields"),
        format!("{item}Update"),
    ]
}

/// A name in UpperCamelCase (index and collection names in type names).
pub fn camel(name: &str) -> String {
    heck::ToUpperCamelCase::to_upper_camel_case(name)
}

/// A name in SCREAMING_SNAKE_CASE (statics).
pub fn screaming(name: &str) -> String {
    heck::ToShoutySnakeCase::to_shouty_snake_case(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_become_raw_identifiers() {
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(ident("id").to_string(), "id");
        assert!(!is_snake_ident("self"));
        assert!(is_snake_ident("type"));
    }

    #[test]
    fn names() {
        assert_eq!(table_module("shop-prod").to_string(), "shop_prod");
        assert_eq!(table_module("2024.data").to_string(), "_2024_data");
        assert_eq!(
            key_fn("OrderLine", "gsi1pk").to_string(),
            "order_line_gsi1pk"
        );
        assert!(is_type_ident("Customer"));
        assert!(!is_type_ident("customer"));
        assert!(!is_type_ident("Order_Line"));
    }
}
