//! Field types: Rust types, encoders, defaults, validation, and the enums
//! and nested types a table declares.

use std::str::FromStr;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::doc;
use crate::{
    ir::{self, DateTimeFormat, DefaultValue, FieldType, FloatType, Value},
    naming,
};

/// The Rust type of a field's value.
pub(super) fn rust_type(ty: &FieldType) -> TokenStream {
    match ty {
        FieldType::String => quote!(String),
        FieldType::Bool => quote!(bool),
        FieldType::Int(t) => {
            let t = format_ident!("{}", t.name());
            quote!(#t)
        }
        FieldType::Float(FloatType::F32) => quote!(f32),
        FieldType::Float(FloatType::F64) => quote!(f64),
        FieldType::Number => quote!(::dynamo_runtime::Number),
        FieldType::Bytes => quote!(::dynamo_runtime::Bytes),
        FieldType::DateTime(_) => quote!(::dynamo_runtime::Timestamp),
        FieldType::Date => quote!(::dynamo_runtime::Date),
        FieldType::Uuid => quote!(::dynamo_runtime::Uuid),
        FieldType::Json => quote!(::dynamo_runtime::Json),
        FieldType::Enum(name) | FieldType::Nested(name) => {
            let name = naming::ident(name);
            quote!(#name)
        }
        FieldType::Set(t) => {
            let t = rust_type(t);
            quote!(::std::collections::BTreeSet<#t>)
        }
        FieldType::List(t) => {
            let t = rust_type(t);
            quote!(Vec<#t>)
        }
        FieldType::Map(t) => {
            let t = rust_type(t);
            quote!(::std::collections::BTreeMap<String, #t>)
        }
        FieldType::Custom { rust, .. } => match syn::parse_str::<syn::Type>(rust) {
            Ok(ty) => quote!(#ty),
            // The validator checked the path; keep the error in the output.
            Err(_) => quote!(compile_error!(#rust)),
        },
    }
}

/// The field's type, `Option` when optional.
pub(super) fn field_type(field: &ir::Field) -> TokenStream {
    let ty = rust_type(&field.ty);
    if field.optional {
        quote!(Option<#ty>)
    } else {
        ty
    }
}

/// Whether values of the type are `Copy`, so functions take them by value.
pub(super) fn is_copy(ty: &FieldType) -> bool {
    matches!(
        ty,
        FieldType::Bool
            | FieldType::Int(_)
            | FieldType::Float(_)
            | FieldType::DateTime(_)
            | FieldType::Date
            | FieldType::Uuid
            | FieldType::Enum(_)
    )
}

/// The type a function takes a field's value as: copies by value, text as
/// `&str`, anything else by reference.
pub(super) fn param_type(ty: &FieldType) -> TokenStream {
    match ty {
        FieldType::String => quote!(&str),
        t if is_copy(t) => rust_type(t),
        t => {
            let t = rust_type(t);
            quote!(&#t)
        }
    }
}

/// The argument for a parameter of [`param_type`], from an expression of
/// type `&T`.
pub(super) fn arg_from_ref(ty: &FieldType, value: TokenStream) -> TokenStream {
    if !is_copy(ty) {
        return value;
    }
    // `&self.x` passes as `self.x`, not `*&self.x`.
    let mut tokens = value.clone().into_iter();
    match tokens.next() {
        Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '&' => tokens.collect(),
        _ => quote!(*#value),
    }
}

/// A reference to a parameter of [`param_type`], for `KeyWriter::field`.
pub(super) fn param_ref(ty: &FieldType, param: TokenStream) -> TokenStream {
    if is_copy(ty) { quote!(&#param) } else { param }
}

/// The function encoding a field's value: `fn(&T) -> AttributeValue`.
pub(super) fn encoder(ty: &FieldType) -> TokenStream {
    match ty {
        FieldType::DateTime(DateTimeFormat::EpochSeconds) => {
            quote!(::dynamo_runtime::attr::epoch_seconds)
        }
        FieldType::DateTime(DateTimeFormat::EpochMillis) => {
            quote!(::dynamo_runtime::attr::epoch_millis)
        }
        other => {
            let t = rust_type(other);
            quote!(::dynamo_runtime::attr::encode::<#t>)
        }
    }
}

/// The function decoding a field's value:
/// `fn(AttributeValue) -> Result<T, DecodeErrorKind>`.
pub(super) fn decoder_fn(ty: &FieldType) -> TokenStream {
    decoder(ty).unwrap_or_else(|| {
        let t = rust_type(ty);
        quote!(::dynamo_runtime::attr::decode::<#t>)
    })
}

/// The decoding function of a datetime with an epoch format.
fn decoder(ty: &FieldType) -> Option<TokenStream> {
    match ty {
        FieldType::DateTime(DateTimeFormat::EpochSeconds) => {
            Some(quote!(::dynamo_runtime::attr::from_epoch_seconds))
        }
        FieldType::DateTime(DateTimeFormat::EpochMillis) => {
            Some(quote!(::dynamo_runtime::attr::from_epoch_millis))
        }
        _ => None,
    }
}

/// `enc.field("attr", &self.f);` and its variants.
pub(super) fn encode_field(field: &ir::Field, encoder_var: &TokenStream) -> TokenStream {
    let ident = naming::ident(&field.rust_name);
    let attribute = &field.attribute;
    match (decoder(&field.ty), field.optional) {
        (Some(_), optional) => {
            let enc = encoder(&field.ty);
            if optional {
                quote!(#encoder_var.optional_with(#attribute, &self.#ident, #enc);)
            } else {
                quote!(#encoder_var.field_with(#attribute, &self.#ident, #enc);)
            }
        }
        (None, true) => quote!(#encoder_var.optional(#attribute, &self.#ident);),
        (None, false) => quote!(#encoder_var.field(#attribute, &self.#ident);),
    }
}

/// `f: dec.field("attr")?,` and its variants; `map_err` converts errors.
pub(super) fn decode_field(
    field: &ir::Field,
    decoder_var: &TokenStream,
    map_err: &TokenStream,
) -> TokenStream {
    let ident = naming::ident(&field.rust_name);
    let attribute = &field.attribute;
    let call = match (decoder(&field.ty), field.optional) {
        (Some(dec), true) => quote!(#decoder_var.optional_with(#attribute, #dec)),
        (Some(dec), false) => quote!(#decoder_var.field_with(#attribute, #dec)),
        (None, true) => quote!(#decoder_var.optional(#attribute)),
        (None, false) => quote!(#decoder_var.field(#attribute)),
    };
    quote!(#ident: #call #map_err ?,)
}

/// The expression of a field's default value.
pub(super) fn default_expr(
    table: &ir::Table,
    field: &ir::Field,
    default: &DefaultValue,
) -> TokenStream {
    let value = match default {
        DefaultValue::Now => quote!(::dynamo_runtime::Timestamp::now()),
        DefaultValue::NewUuid => quote!(::dynamo_runtime::Uuid::new_v4()),
        DefaultValue::Value(v) => value_expr(table, &field.ty, v),
    };
    if field.optional {
        quote!(Some(#value))
    } else {
        value
    }
}

/// A literal value of type `ty` (checked by the validator to fit).
fn value_expr(table: &ir::Table, ty: &FieldType, value: &Value) -> TokenStream {
    match (ty, value) {
        (FieldType::String, Value::String(s)) => quote!(String::from(#s)),
        (FieldType::Bool, Value::Bool(b)) => quote!(#b),
        (FieldType::Int(_), Value::Int(n)) => {
            let n = Literal::i64_unsuffixed(*n);
            quote!(#n)
        }
        (FieldType::Float(t), Value::Float(_) | Value::Int(_)) => {
            let x = match value {
                Value::Float(x) => *x,
                Value::Int(n) => *n as f64,
                _ => 0.0,
            };
            let t = match t {
                FloatType::F32 => quote!(f32),
                FloatType::F64 => quote!(f64),
            };
            if x.is_nan() {
                quote!(#t::NAN)
            } else if x.is_infinite() && x > 0.0 {
                quote!(#t::INFINITY)
            } else if x.is_infinite() {
                quote!(#t::NEG_INFINITY)
            } else {
                let x = Literal::f64_unsuffixed(x);
                quote!(#x)
            }
        }
        (FieldType::Number, Value::String(s)) => quote!(::dynamo_runtime::Number::from_schema(#s)),
        (FieldType::Number, Value::Int(n)) => {
            let s = n.to_string();
            quote!(::dynamo_runtime::Number::from_schema(#s))
        }
        (FieldType::Bytes, Value::Bytes(b)) => {
            let b = b.iter().map(|x| Literal::u8_unsuffixed(*x));
            quote!(::dynamo_runtime::Bytes(vec![#(#b),*]))
        }
        (FieldType::DateTime(_), Value::String(s)) => match jiff::Timestamp::from_str(s) {
            Ok(t) => {
                let second = Literal::i64_unsuffixed(t.as_second());
                let nanos = Literal::i32_unsuffixed(t.subsec_nanosecond());
                quote!(::dynamo_runtime::Timestamp::new(#second, #nanos).unwrap_or_default())
            }
            Err(_) => quote!(compile_error!(#s)),
        },
        (FieldType::Date, Value::String(s)) => match jiff::civil::Date::from_str(s) {
            Ok(d) => {
                let (y, m, day) = (
                    Literal::i16_unsuffixed(d.year()),
                    Literal::i8_unsuffixed(d.month()),
                    Literal::i8_unsuffixed(d.day()),
                );
                quote!(::dynamo_runtime::Date::new(#y, #m, #day).unwrap_or_default())
            }
            Err(_) => quote!(compile_error!(#s)),
        },
        (FieldType::Uuid, Value::String(s)) => {
            match u128::from_str_radix(&s.replace('-', ""), 16) {
                Ok(n) => {
                    let n = Literal::u128_unsuffixed(n);
                    quote!(::dynamo_runtime::Uuid::from_u128(#n))
                }
                Err(_) => quote!(compile_error!(#s)),
            }
        }
        (FieldType::Json, Value::Json(v)) => {
            let text = v.to_string();
            match TokenStream::from_str(&text) {
                Ok(tokens) => quote!(::dynamo_runtime::json!(#tokens)),
                Err(_) => quote!(compile_error!(#text)),
            }
        }
        (FieldType::Enum(name), Value::String(s)) => {
            let variant = table
                .enums
                .iter()
                .find(|e| &e.name == name)
                .and_then(|e| e.values.iter().find(|v| &v.value == s))
                .map(|v| naming::ident(&v.variant));
            let name = naming::ident(name);
            match variant {
                Some(variant) => quote!(#name::#variant),
                None => quote!(compile_error!(#s)),
            }
        }
        (FieldType::Set(t), Value::List(items)) => {
            let items = items.iter().map(|v| value_expr(table, t, v));
            quote!(::std::collections::BTreeSet::from([#(#items),*]))
        }
        (FieldType::List(t), Value::List(items)) => {
            let items = items.iter().map(|v| value_expr(table, t, v));
            quote!(vec![#(#items),*])
        }
        (FieldType::Map(t), Value::Map(map)) => {
            let entries = map.iter().map(|(k, v)| {
                let v = value_expr(table, t, v);
                quote!((String::from(#k), #v))
            });
            quote!(::std::collections::BTreeMap::from([#(#entries),*]))
        }
        (FieldType::Nested(name), Value::Map(map)) => {
            let Some(nested) = table.types.iter().find(|n| &n.name == name) else {
                return quote!(compile_error!(#name));
            };
            let fields = nested.fields.iter().map(|f| {
                let ident = naming::ident(&f.rust_name);
                let value = match (map.get(&f.name), &f.default) {
                    (Some(v), _) => {
                        let v = value_expr(table, &f.ty, v);
                        if f.optional { quote!(Some(#v)) } else { v }
                    }
                    (None, Some(d)) => default_expr(table, f, d),
                    (None, None) => quote!(None),
                };
                quote!(#ident: #value)
            });
            let name = naming::ident(name);
            quote!(#name { #(#fields),* })
        }
        _ => {
            let text = format!("default of type {}", ty.schema_name());
            quote!(compile_error!(#text))
        }
    }
}

/// The private function checking one value of `field` against its
/// `validate` rules, or `None` when it has none.
pub(super) fn validate_fn(
    owner: &str,
    field: &ir::Field,
) -> Option<(proc_macro2::Ident, TokenStream)> {
    let ir::Validation {
        min,
        max,
        min_len,
        max_len,
        pattern,
    } = &field.validate;
    if field.validate.is_empty() {
        return None;
    }
    let name = &field.name;
    let mut checks = Vec::new();
    if let Some(min) = min {
        checks.push(quote!(::dynamo_runtime::validate::min(#owner, #name, value, #min)?;));
    }
    if let Some(max) = max {
        checks.push(quote!(::dynamo_runtime::validate::max(#owner, #name, value, #max)?;));
    }
    if let Some(n) = min_len {
        checks.push(quote!(::dynamo_runtime::validate::min_len(#owner, #name, value, #n)?;));
    }
    if let Some(n) = max_len {
        checks.push(quote!(::dynamo_runtime::validate::max_len(#owner, #name, value, #n)?;));
    }
    let mut statics = TokenStream::new();
    if let Some(pattern) = pattern {
        let stat = format_ident!(
            "{}",
            naming::screaming(&format!("{owner}_{}_pattern", field.rust_name))
        );
        statics = quote! {
            static #stat: ::dynamo_runtime::validate::Pattern = ::dynamo_runtime::validate::Pattern::new(#pattern);
        };
        checks.push(quote!(#stat.check(#owner, #name, value)?;));
    }
    let function = format_ident!(
        "validate_{}_{}",
        heck::ToSnakeCase::to_snake_case(owner),
        field.rust_name.trim_start_matches("r#")
    );
    let ty = match &field.ty {
        FieldType::String => quote!(str),
        other => rust_type(other),
    };
    let docs = doc(&format!(
        "Checks a value of `{owner}.{name}` against its `validate` rules."
    ));
    Some((
        function.clone(),
        quote! {
            #statics
            #docs
            fn #function(value: &#ty) -> Result<(), ::dynamo_runtime::ValidationError> {
                #(#checks)*
                Ok(())
            }
        },
    ))
}

/// Statements of a `validate()` body for `fields` of `owner`: their own
/// rules, and nested types' `validate()`.
pub(super) fn validate_body(owner: &str, fields: &[ir::Field]) -> (TokenStream, TokenStream) {
    let mut functions = TokenStream::new();
    let mut checks = Vec::new();
    for field in fields {
        let ident = naming::ident(&field.rust_name);
        if let Some((function, tokens)) = validate_fn(owner, field) {
            functions.extend(tokens);
            checks.push(if field.optional {
                quote!(if let Some(value) = &self.#ident { #function(value)?; })
            } else {
                quote!(#function(&self.#ident)?;)
            });
        }
        let nested = match &field.ty {
            FieldType::Nested(_) => Some(false),
            FieldType::List(t) if matches!(**t, FieldType::Nested(_)) => Some(true),
            _ => None,
        };
        match (nested, field.optional) {
            (Some(false), false) => checks.push(quote!(self.#ident.validate()?;)),
            (Some(false), true) => {
                checks.push(quote!(if let Some(value) = &self.#ident { value.validate()?; }))
            }
            (Some(true), false) => {
                checks.push(quote!(for value in &self.#ident { value.validate()?; }))
            }
            (Some(true), true) => checks
                .push(quote!(for value in self.#ident.iter().flatten() { value.validate()?; })),
            (None, _) => {}
        }
    }
    (functions, quote!(#(#checks)* Ok(())))
}

/// An enum field's generated enum.
pub(super) fn emit_enum(def: &ir::EnumDef) -> TokenStream {
    let ir::EnumDef { name, values } = def;
    let ident = naming::ident(name);
    let variants = values.iter().map(|v| {
        let variant = naming::ident(&v.variant);
        let docs = doc(&format!("Stored as `{}`.", v.value));
        quote!(#docs #variant,)
    });
    let arms = values.iter().map(|v| {
        let variant = naming::ident(&v.variant);
        let text = &v.value;
        quote!(#ident::#variant => #text,)
    });
    let all = values.iter().map(|v| {
        let variant = naming::ident(&v.variant);
        quote!(#ident::#variant)
    });
    let listed = values
        .iter()
        .map(|v| format!("`{}`", v.value))
        .collect::<Vec<_>>()
        .join(", ");
    let docs = doc(&format!("The values {listed}, stored as text."));
    quote! {
        #docs
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum #ident {
            #(#variants)*
        }

        impl #ident {
            /// The stored text of this value.
            pub const fn as_str(&self) -> &'static str {
                match self {
                    #(#arms)*
                }
            }
        }

        impl ::dynamo_runtime::Enum for #ident {
            const VALUES: &'static [Self] = &[#(#all),*];

            fn as_str(&self) -> &'static str {
                #ident::as_str(self)
            }
        }

        impl ::std::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for #ident {
            type Err = ::dynamo_runtime::attr::UnknownEnumValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ::dynamo_runtime::attr::enum_from_str(#name, s)
            }
        }

        impl ::dynamo_runtime::Attribute for #ident {
            const DYNAMO_TYPE: &'static str = "S";

            fn to_attribute(&self) -> ::dynamo_runtime::AttributeValue {
                ::dynamo_runtime::AttributeValue::S(self.as_str().to_owned())
            }

            fn from_attribute(
                value: ::dynamo_runtime::AttributeValue,
            ) -> Result<Self, ::dynamo_runtime::DecodeErrorKind> {
                ::dynamo_runtime::attr::decode_enum(value)
            }
        }

        impl ::dynamo_runtime::key::KeyPart for #ident {
            fn write_key(&self, out: &mut String, _width: Option<usize>) {
                out.push_str(self.as_str());
            }

            fn parse_key(text: &str) -> Option<Self> {
                ::dynamo_runtime::attr::parse_enum(text)
            }
        }
    }
}

/// `Debug, Clone, PartialEq`, plus `Eq` (and `Hash`) when no field is a
/// float or a type that may hold one.
pub(super) fn derives<'a>(
    table: &ir::Table,
    types: impl IntoIterator<Item = &'a FieldType>,
    hash: bool,
) -> TokenStream {
    let types: Vec<&FieldType> = types.into_iter().collect();
    let exact = types.iter().all(|t| is_exact(table, t, 0));
    match (exact, hash) {
        (true, true) => quote!(#[derive(Debug, Clone, PartialEq, Eq, Hash)]),
        (true, false) => quote!(#[derive(Debug, Clone, PartialEq, Eq)]),
        _ => quote!(#[derive(Debug, Clone, PartialEq)]),
    }
}

/// Whether the type has `Eq` and `Hash` (no floats, JSON or custom types).
fn is_exact(table: &ir::Table, ty: &FieldType, depth: usize) -> bool {
    match ty {
        FieldType::Float(_) | FieldType::Json | FieldType::Custom { .. } => false,
        FieldType::Set(t) | FieldType::List(t) | FieldType::Map(t) => is_exact(table, t, depth),
        // Nested types may be recursive; past a few levels, assume not.
        FieldType::Nested(name) => {
            depth < 8
                && table
                    .types
                    .iter()
                    .find(|n| &n.name == name)
                    .is_some_and(|n| n.fields.iter().all(|f| is_exact(table, &f.ty, depth + 1)))
        }
        _ => true,
    }
}

/// A nested type: its struct, stored as a map.
pub(super) fn emit_nested(table: &ir::Table, nested: &ir::NestedType) -> TokenStream {
    let ir::NestedType { name, fields } = nested;
    let ident = naming::ident(name);
    let defs = fields.iter().map(field_def);
    let derives = derives(table, fields.iter().map(|f| &f.ty), false);
    let enc = quote!(map);
    let encode = fields.iter().map(|f| encode_field(f, &enc));
    let map_err = quote!(.map_err(::dynamo_runtime::codec::nested_error));
    let decode = fields.iter().map(|f| decode_field(f, &enc, &map_err));
    let capacity = Literal::usize_unsuffixed(fields.len());
    let (validate_fns, validate) = validate_body(name, fields);
    let docs = doc(&format!("The nested type `{name}`, stored as a map."));
    quote! {
        #docs
        #derives
        pub struct #ident {
            #(#defs)*
        }

        impl #ident {
            /// Checks the schema's `validate` rules of this value's fields.
            pub fn validate(&self) -> Result<(), ::dynamo_runtime::ValidationError> {
                #validate
            }
        }

        #validate_fns

        impl ::dynamo_runtime::Attribute for #ident {
            const DYNAMO_TYPE: &'static str = "M";

            fn to_attribute(&self) -> ::dynamo_runtime::AttributeValue {
                let mut map = ::dynamo_runtime::codec::Encoder::nested(#capacity);
                #(#encode)*
                map.finish_map()
            }

            fn from_attribute(
                value: ::dynamo_runtime::AttributeValue,
            ) -> Result<Self, ::dynamo_runtime::DecodeErrorKind> {
                let mut map = ::dynamo_runtime::codec::Decoder::nested(value, #name)?;
                Ok(Self { #(#decode)* })
            }
        }
    }
}

/// `/// docs \n pub name: Type,` of a struct field.
pub(super) fn field_def(f: &ir::Field) -> TokenStream {
    let ident = naming::ident(&f.rust_name);
    let ty = field_type(f);
    let docs = doc(&format!(
        "{}`{}`{}, stored as attribute `{}`.",
        f.doc.as_ref().map_or(String::new(), |d| format!("{d}\n\n")),
        f.ty.schema_name(),
        if f.optional { " (optional)" } else { "" },
        f.attribute
    ));
    quote!(#docs pub #ident: #ty,)
}
