//! Field types: their Rust types, codec statements, default values and
//! validation functions; and the enums and nested types a table declares.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{ToTokens, quote};

use super::{TableCx, doc};
use crate::{
    ir::{self, DateTimeFormat, DefaultValue, FieldType, FloatType, Value},
    names::{EnumNames, TypeNames},
};

/// The Rust type of a field's value.
pub(super) fn rust_type(cx: &TableCx<'_>, ty: &FieldType) -> TokenStream {
    match ty {
        FieldType::String => quote!(String),
        FieldType::Bool => quote!(bool),
        FieldType::Int(t) => {
            let t = quote::format_ident!("{}", t.name());
            quote!(#t)
        }
        FieldType::Float(FloatType::F32) => quote!(f32),
        FieldType::Float(FloatType::F64) => quote!(f64),
        FieldType::Number => quote!(dynamo::Number),
        FieldType::Bytes => quote!(dynamo::Bytes),
        FieldType::DateTime(_) => quote!(dynamo::Timestamp),
        FieldType::Date => quote!(dynamo::Date),
        FieldType::Uuid => quote!(dynamo::Uuid),
        FieldType::Json => quote!(dynamo::Json),
        FieldType::Enum(id) => {
            let name = &cx.names.enums[id.0].ty;
            quote!(#name)
        }
        FieldType::Nested(id) => {
            let name = &cx.names.nested[id.0].ty;
            quote!(#name)
        }
        FieldType::Union(id, _) => {
            let name = &cx.names.unions[id.0];
            quote!(#name)
        }
        FieldType::Set(t) => {
            let t = rust_type(cx, t);
            quote!(::std::collections::BTreeSet<#t>)
        }
        FieldType::List(t) => {
            let t = rust_type(cx, t);
            quote!(Vec<#t>)
        }
        FieldType::Map(t) => {
            let t = rust_type(cx, t);
            quote!(::std::collections::BTreeMap<String, #t>)
        }
        FieldType::Custom(c) => c.tokens.clone(),
    }
}

/// The field's type, `Option` when optional.
pub(super) fn field_type(cx: &TableCx<'_>, field: &ir::Field) -> TokenStream {
    let ty = rust_type(cx, &field.ty);
    if field.optional {
        quote!(Option<#ty>)
    } else {
        ty
    }
}

/// The type a function takes a field's value as: copies by value, text as
/// `&str`, anything else by reference.
pub(super) fn param_type(cx: &TableCx<'_>, ty: &FieldType) -> TokenStream {
    match ty {
        FieldType::String => quote!(&str),
        t if t.is_copy() => rust_type(cx, t),
        t => {
            let t = rust_type(cx, t);
            quote!(&#t)
        }
    }
}

/// The epoch codec of a datetime stored as a number: (encoder, decoder).
fn epoch(ty: &FieldType) -> Option<(TokenStream, TokenStream)> {
    match ty {
        FieldType::DateTime(DateTimeFormat::EpochSeconds) => Some((
            quote!(dynamo::attr::epoch_seconds),
            quote!(dynamo::attr::from_epoch_seconds),
        )),
        FieldType::DateTime(DateTimeFormat::EpochMillis) => Some((
            quote!(dynamo::attr::epoch_millis),
            quote!(dynamo::attr::from_epoch_millis),
        )),
        FieldType::DateTime(DateTimeFormat::Pattern(p)) => Some((
            quote!(|t: &dynamo::Timestamp| dynamo::attr::to_pattern(t, #p)),
            quote!(|v| dynamo::attr::from_pattern(v, #p)),
        )),
        _ => None,
    }
}

/// The typed path of a field, for `FIELDS`.
pub(super) fn path(field: &ir::Field) -> TokenStream {
    let attribute = &field.attribute;
    let path = match epoch(&field.ty) {
        Some((enc, dec)) => quote!(dynamo::Path::with_codec(#attribute, #enc, #dec)),
        None => quote!(dynamo::Path::new(#attribute)),
    };
    // The rules an update checks on the stored value (bounds of a number
    // it adds to, lengths of a list or set it grows or shrinks).
    let ir::Validation {
        min,
        max,
        min_len,
        max_len,
        ..
    } = &field.validate;
    let stored_rules = match &field.ty {
        t if t.is_numeric() => min.is_some() || max.is_some(),
        FieldType::List(_) | FieldType::Set(_) => min_len.is_some() || max_len.is_some(),
        _ => false,
    };
    if !stored_rules {
        return path;
    }
    let some = |v: Option<TokenStream>| match v {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    };
    let (min, max) = (some(min.map(|v| quote!(#v))), some(max.map(|v| quote!(#v))));
    let (min_len, max_len) = (
        some(min_len.map(|v| quote!(#v))),
        some(max_len.map(|v| quote!(#v))),
    );
    let name = &field.name;
    quote!(#path.limits(&dynamo::validate::Limits::new(#name, #min, #max, #min_len, #max_len)))
}

/// `item.field("attr", &self.f);` and its variants.
pub(super) fn encode_field(field: &ir::Field, ident: &Ident) -> TokenStream {
    let attribute = &field.attribute;
    if field.encrypted {
        return if field.optional {
            quote!(item.encrypted_optional::<Self, _>(#attribute, &self.#ident)?;)
        } else {
            quote!(item.encrypted::<Self, _>(#attribute, &self.#ident)?;)
        };
    }
    match (epoch(&field.ty), field.optional) {
        (Some((enc, _)), true) => quote!(item.optional_with(#attribute, &self.#ident, #enc);),
        (Some((enc, _)), false) => quote!(item.field_with(#attribute, &self.#ident, #enc);),
        (None, true) => quote!(item.optional(#attribute, &self.#ident);),
        (None, false) => quote!(item.field(#attribute, &self.#ident);),
    }
}

/// The call reading a field from decoder `item`: `item.field("attr")`
/// and its variants (without `?`). A required field with a literal
/// default reads a missing attribute as the default: an item stored before
/// the field was added still decodes. (`now` and `new` defaults are for
/// new items: a read must not invent a value; a set's absence is already
/// the empty set.)
pub(super) fn decode_call(cx: &TableCx<'_>, field: &ir::Field, optional: bool) -> TokenStream {
    let attribute = &field.attribute;
    if field.encrypted {
        return if optional {
            quote!(item.encrypted_optional(#attribute))
        } else {
            quote!(item.encrypted(#attribute))
        };
    }
    // The default as a function: `Default::default` for an empty text,
    // list or map (a closure there is redundant), else a closure.
    let default = match (&field.default, &field.ty) {
        (_, FieldType::Set(_)) => None,
        (Some(DefaultValue::Value(v)), _) if !optional => Some(match v {
            Value::String(t) if t.is_empty() => quote!(Default::default),
            Value::List(items) if items.is_empty() => quote!(Default::default),
            Value::Map(map) if map.is_empty() => quote!(Default::default),
            v => {
                let v = value_expr(cx, v);
                quote!(|| #v)
            }
        }),
        _ => None,
    };
    match (epoch(&field.ty), optional, default) {
        (Some((_, dec)), true, _) => quote!(item.optional_with(#attribute, #dec)),
        (Some((_, dec)), false, Some(d)) => quote!(item.field_with_or(#attribute, #dec, #d)),
        (Some((_, dec)), false, None) => quote!(item.field_with(#attribute, #dec)),
        (None, true, _) => quote!(item.optional(#attribute)),
        (None, false, Some(d)) => quote!(item.field_or(#attribute, #d)),
        (None, false, None) => quote!(item.field(#attribute)),
    }
}

/// The expression of a field's default value.
pub(super) fn default_expr(
    cx: &TableCx<'_>,
    field: &ir::Field,
    default: &DefaultValue,
) -> TokenStream {
    let value = match default {
        DefaultValue::Now => quote!(dynamo::Timestamp::now()),
        DefaultValue::NewUuid => quote!(dynamo::Uuid::new_v4()),
        DefaultValue::NewUuidV7 => quote!(dynamo::Uuid::now_v7()),
        DefaultValue::NewUlid => quote!(dynamo::new_ulid()),
        DefaultValue::Value(v) => value_expr(cx, v),
    };
    if field.optional {
        quote!(Some(#value))
    } else {
        value
    }
}

/// A literal value (checked by the validator to fit its field).
fn value_expr(cx: &TableCx<'_>, value: &Value) -> TokenStream {
    match value {
        Value::String(s) => quote!(String::from(#s)),
        Value::Bool(b) => quote!(#b),
        Value::Int(n) => {
            let n = Literal::i64_unsuffixed(*n);
            quote!(#n)
        }
        Value::Float(t, x) => {
            let t = match t {
                FloatType::F32 => quote!(f32),
                FloatType::F64 => quote!(f64),
            };
            if x.is_nan() {
                quote!(#t::NAN)
            } else if x.is_infinite() && *x > 0.0 {
                quote!(#t::INFINITY)
            } else if x.is_infinite() {
                quote!(#t::NEG_INFINITY)
            } else {
                let x = Literal::f64_unsuffixed(*x);
                quote!(#x)
            }
        }
        Value::Number(s) => quote!(dynamo::Number::from_schema(#s)),
        Value::Bytes(b) => {
            let b = b.iter().map(|x| Literal::u8_unsuffixed(*x));
            quote!(dynamo::Bytes(vec![#(#b),*]))
        }
        Value::DateTime { second, nanosecond } => {
            quote!(dynamo::Timestamp::constant(#second, #nanosecond))
        }
        Value::Date { year, month, day } => quote!(dynamo::Date::constant(#year, #month, #day)),
        Value::Uuid(n) => {
            let n = Literal::u128_unsuffixed(*n);
            quote!(dynamo::Uuid::from_u128(#n))
        }
        Value::Json(v) => {
            let text = v.to_string();
            quote!(dynamo::__private::json(#text))
        }
        Value::Enum(id, value) => {
            let names = &cx.names.enums[id.0];
            let (ty, variant) = (&names.ty, &names.variants[*value]);
            quote!(#ty::#variant)
        }
        Value::Set(items) => {
            let items = items.iter().map(|v| value_expr(cx, v));
            quote!(::std::collections::BTreeSet::from([#(#items),*]))
        }
        Value::List(items) => {
            let items = items.iter().map(|v| value_expr(cx, v));
            quote!(vec![#(#items),*])
        }
        Value::Map(map) => {
            let entries = map.iter().map(|(k, v)| {
                let v = value_expr(cx, v);
                quote!((String::from(#k), #v))
            });
            quote!(::std::collections::BTreeMap::from([#(#entries),*]))
        }
        Value::Nested(id, given) => {
            let nested = cx.table.nested(*id);
            let names = &cx.names.nested[id.0];
            let fields =
                nested
                    .fields
                    .iter()
                    .zip(&names.fields)
                    .zip(given)
                    .map(|((f, ident), v)| {
                        let value = match (v, &f.default) {
                            (Some(v), _) => {
                                let v = value_expr(cx, v);
                                if f.optional { quote!(Some(#v)) } else { v }
                            }
                            (None, Some(d)) => default_expr(cx, f, d),
                            (None, None) => quote!(None),
                        };
                        quote!(#ident: #value)
                    });
            let ty = &names.ty;
            quote!(#ty { #(#fields),* })
        }
    }
}

/// The function checking one value of a field against its `validate`
/// rules, an associated function of the field's type.
pub(super) fn validator(
    cx: &TableCx<'_>,
    owner: &str,
    field: &ir::Field,
    name: &Ident,
) -> TokenStream {
    let ir::Validation {
        min,
        max,
        min_len,
        max_len,
        pattern,
    } = &field.validate;
    let f = &field.name;
    let mut checks = Vec::new();
    if let Some(min) = min {
        checks.push(quote!(dynamo::validate::min(#owner, #f, value, #min)));
    }
    if let Some(max) = max {
        checks.push(quote!(dynamo::validate::max(#owner, #f, value, #max)));
    }
    if let Some(n) = min_len {
        checks.push(quote!(dynamo::validate::min_len(#owner, #f, value, #n)));
    }
    if let Some(n) = max_len {
        checks.push(quote!(dynamo::validate::max_len(#owner, #f, value, #n)));
    }
    let pattern = pattern.as_ref().map(|p| {
        checks.push(quote!(PATTERN.check(#owner, #f, value)));
        quote!(static PATTERN: dynamo::validate::Pattern = dynamo::validate::Pattern::new(#p);)
    });
    let last = checks.pop();
    let ty = match &field.ty {
        FieldType::String => quote!(str),
        other => rust_type(cx, other),
    };
    let docs = doc(&format!(
        "Checks a value of `{owner}.{f}` against its `validate` rules."
    ));
    quote! {
        #docs
        fn #name(value: &#ty) -> Result<(), dynamo::ValidationError> {
            #pattern
            #(#checks?;)*
            #last
        }
    }
}

/// Statements of a `validate()` body over `fields` of a type: each
/// field's rules, and nested types' `validate()`; `None` when there is
/// nothing to check.
pub(super) fn validate_body(
    owner: &TokenStream,
    fields: &[ir::Field],
    idents: &[Ident],
    validators: &[Option<Ident>],
) -> Option<TokenStream> {
    let mut checks = Vec::new();
    for ((field, ident), validator) in fields.iter().zip(idents).zip(validators) {
        if let Some(function) = validator {
            checks.push(if field.optional {
                quote!(if let Some(value) = &self.#ident { #owner::#function(value)?; })
            } else {
                quote!(#owner::#function(&self.#ident)?;)
            });
        }
        // A nested type's or union's rules, in a list or map too.
        let each = match &field.ty {
            t if t.validates_inside() => Some(None),
            FieldType::List(t) if t.validates_inside() => Some(Some(quote!(iter))),
            FieldType::Map(t) if t.validates_inside() => Some(Some(quote!(values))),
            _ => None,
        };
        match (each, field.optional) {
            (Some(None), false) => checks.push(quote!(self.#ident.validate()?;)),
            (Some(None), true) => {
                checks.push(quote!(if let Some(value) = &self.#ident { value.validate()?; }))
            }
            (Some(Some(each)), false) => {
                checks.push(quote!(for value in self.#ident.#each() { value.validate()?; }))
            }
            (Some(Some(each)), true) => checks.push(
                quote!(for value in self.#ident.iter().flat_map(|v| v.#each()) { value.validate()?; }),
            ),
            (None, _) => {}
        }
    }
    (!checks.is_empty()).then(|| quote!(#(#checks)* Ok(())))
}

/// `Debug, Clone, PartialEq`, plus `Eq` (and `Hash` with `hash`) when
/// every type has exact equality.
pub(super) fn derives<'a>(
    cx: &TableCx<'_>,
    types: impl IntoIterator<Item = &'a FieldType>,
    hash: bool,
    extra: &[&[String]],
) -> TokenStream {
    let exact = types.into_iter().all(|t| cx.table.exact(t));
    let serde = serde_derive(cx);
    let std = match (exact, hash) {
        (true, true) => quote!(#[derive(Debug, Clone, PartialEq, Eq, Hash)]),
        (true, false) => quote!(#[derive(Debug, Clone, PartialEq, Eq)]),
        _ => quote!(#[derive(Debug, Clone, PartialEq)]),
    };
    let extra = attributes(extra);
    quote!(#std #serde #extra)
}

/// The attributes the schema adds (`[table.attributes]`), which the
/// validation parsed already.
pub(super) fn attributes(lists: &[&[String]]) -> TokenStream {
    lists
        .iter()
        .flat_map(|list| list.iter())
        .filter_map(|text| text.parse::<TokenStream>().ok())
        .collect()
}

/// serde's derives, through the runtime's re-export, for a table with
/// serde on.
pub(super) fn serde_derive(cx: &TableCx<'_>) -> Option<TokenStream> {
    let schema = cx.table.json_schema.then(|| {
        quote! {
            #[derive(dynamo::__private::schemars::JsonSchema)]
            #[schemars(crate = "dynamo::__private::schemars")]
        }
    });
    cx.table.serde.then(|| {
        quote! {
            #[derive(dynamo::__private::serde::Serialize, dynamo::__private::serde::Deserialize)]
            #[serde(crate = "dynamo::__private::serde")]
            #schema
        }
    })
}

/// The JSON name of a field, with serde on: the schema's name, where the
/// Rust name differs (`userId` for `user_id`, `type` for `r#type`).
pub(super) fn serde_rename(cx: &TableCx<'_>, name: &str, ident: &Ident) -> Option<TokenStream> {
    let rust = ident.to_string();
    (cx.table.serde && rust.trim_start_matches("r#") != name)
        .then(|| quote!(#[serde(rename = #name)]))
}

/// `/// docs \n pub name: Type,` of a struct field.
pub(super) fn field_def(cx: &TableCx<'_>, f: &ir::Field, ident: &Ident) -> TokenStream {
    let ty = field_type(cx, f);
    let docs = doc(&format!(
        "{}`{}`{}, stored {}as attribute `{}`{}.",
        f.doc.as_ref().map_or(String::new(), |d| format!("{d}\n\n")),
        f.ty.schema_name(&|id| &cx.table.nested(id).name),
        if f.optional { " (optional)" } else { "" },
        if f.encrypted {
            "encrypted (AES-256-GCM) "
        } else {
            ""
        },
        f.attribute,
        f.computed.as_ref().map_or(String::new(), |t| format!(
            ", computed as `{}` at every write",
            t.text
        )),
    ));
    let rename = serde_rename(cx, &f.name, ident);
    let rules = schema_rules(cx, f);
    quote!(#docs #rename #rules pub #ident: #ty,)
}

/// A field's `validate` rules in its JSON Schema, with JSON Schemas on:
/// `minimum`/`maximum` for numbers written as JSON numbers,
/// `minLength`/`maxLength` or `minItems`/`maxItems`, and `pattern`. (A
/// `bytes` length counts bytes, not the base64 text's characters, and an
/// exact number is text: those rules stay out of the schema.)
fn schema_rules(cx: &TableCx<'_>, f: &ir::Field) -> Option<TokenStream> {
    if !cx.table.json_schema || f.validate.is_empty() {
        return None;
    }
    let v = &f.validate;
    let number = |x: f64| {
        if x.fract() == 0.0 && x.abs() < 9.0e15 {
            Literal::i64_unsuffixed(x as i64)
        } else {
            Literal::f64_unsuffixed(x)
        }
    };
    let bound = |name: &str, value: Option<TokenStream>| {
        value.map(|v| {
            let name = Ident::new(name, proc_macro2::Span::call_site());
            quote!(#name = #v)
        })
    };
    let mut out = TokenStream::new();
    if matches!(f.ty, FieldType::Int(_) | FieldType::Float(_)) {
        let range: Vec<_> = [
            bound("min", v.min.map(|m| number(m).into_token_stream())),
            bound("max", v.max.map(|m| number(m).into_token_stream())),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !range.is_empty() {
            out.extend(quote!(#[schemars(range(#(#range),*))]));
        }
    }
    if !matches!(
        f.ty,
        FieldType::Bytes | FieldType::Number | FieldType::Custom(_)
    ) {
        let length: Vec<_> = [
            bound(
                "min",
                v.min_len
                    .map(|m| Literal::u64_unsuffixed(m).into_token_stream()),
            ),
            bound(
                "max",
                v.max_len
                    .map(|m| Literal::u64_unsuffixed(m).into_token_stream()),
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !length.is_empty() {
            out.extend(quote!(#[schemars(length(#(#length),*))]));
        }
    }
    if let Some(pattern) = &v.pattern {
        out.extend(quote!(#[schemars(pattern(#pattern))]));
    }
    (!out.is_empty()).then_some(out)
}

/// An enum field's generated enum.
pub(super) fn emit_enum(cx: &TableCx<'_>, def: &ir::EnumDef, names: &EnumNames) -> TokenStream {
    let EnumNames { ty, variants } = names;
    let values: Vec<&str> = def.values.iter().map(|v| v.value.as_str()).collect();
    let serde = serde_derive(cx);
    let docs = variants.iter().zip(&values).map(|(v, text)| {
        let d = doc(&format!("Stored as `{text}`."));
        // JSON holds the stored text too.
        let rename = cx.table.serde.then(|| quote!(#[serde(rename = #text)]));
        quote!(#d #rename #v,)
    });
    let listed = values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let enum_doc = doc(&format!(
        "The values of field `{}`: {listed}, stored as text.",
        def.field
    ));
    let user = attributes(&[&cx.table.attributes.enums]);
    quote! {
        #enum_doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #serde
        #user
        #[allow(clippy::enum_variant_names)]
        pub enum #ty {
            #(#docs)*
        }

        dynamo::string_enum!(#ty { #(#variants = #values),* });
    }
}

/// A nested type: its struct, stored as a map.
pub(super) fn emit_nested(
    cx: &TableCx<'_>,
    nested: &ir::NestedType,
    names: &TypeNames,
) -> TokenStream {
    let ir::NestedType {
        name,
        span: _,
        fields,
        exact: _,
    } = nested;
    let TypeNames {
        ty,
        fields: idents,
        validators,
    } = names;
    let defs = fields.iter().zip(idents).map(|(f, i)| field_def(cx, f, i));
    let derives = derives(
        cx,
        fields.iter().map(|f| &f.ty),
        false,
        &[&cx.table.attributes.nested],
    );
    let encode = fields.iter().zip(idents).map(|(f, i)| {
        let statement = encode_field(f, i);
        quote!(#statement)
    });
    let decode = fields.iter().zip(idents).map(|(f, i)| {
        let call = decode_call(cx, f, f.optional);
        quote!(#i: #call?,)
    });
    let capacity = Literal::usize_unsuffixed(fields.len());
    let owner = quote!(#ty);
    let validate = validate_body(&owner, fields, idents, validators).unwrap_or(quote!(Ok(())));
    let helpers = fields
        .iter()
        .zip(validators)
        .filter_map(|(f, v)| v.as_ref().map(|v| validator(cx, name, f, v)));
    let docs = doc(&format!("The nested type `{name}`, stored as a map."));
    let acronym = upper_case_acronym(name);
    quote! {
        #docs
        #derives
        #acronym
        pub struct #ty {
            #(#defs)*
        }

        impl #ty {
            /// Checks the schema's `validate` rules of this value's fields.
            pub fn validate(&self) -> Result<(), dynamo::ValidationError> {
                #validate
            }

            #(#helpers)*
        }

        impl dynamo::Attribute for #ty {
            const DYNAMO_TYPE: &'static str = "M";

            fn to_attribute(&self) -> dynamo::AttributeValue {
                let mut item = dynamo::__private::Encoder::nested(#capacity);
                #(#encode)*
                item.finish_map()
            }

            fn from_attribute(value: dynamo::AttributeValue) -> Result<Self, dynamo::DecodeErrorKind> {
                let mut item = dynamo::__private::Decoder::nested(value, #name)?;
                Ok(Self { #(#decode)* })
            }
        }
    }
}

/// A tagged union: an enum with a variant per nested type, stored as the
/// variant's map with the tag attribute naming it.
pub(super) fn emit_union(cx: &TableCx<'_>, union: &ir::UnionType, ty: &Ident) -> TokenStream {
    let tag = &union.tag;
    let variants: Vec<(&Ident, &str)> = union
        .variants
        .iter()
        .map(|v| (&cx.names.nested[v.nested.0].ty, v.tag.as_str()))
        .collect();
    let listed = variants
        .iter()
        .map(|(v, t)| format!("`{t}` ([`{v}`])"))
        .collect::<Vec<_>>()
        .join(", ");
    let docs = doc(&format!(
        "{}The union `{}`: one of {listed}, stored as a map whose `{tag}` names the variant.",
        union
            .doc
            .as_ref()
            .map_or(String::new(), |d| format!("{d}\n\n")),
        union.name,
    ));
    let derives = derives(
        cx,
        union
            .variants
            .iter()
            .map(|v| &cx.table.nested(v.nested).fields)
            .flat_map(|fields| fields.iter().map(|f| &f.ty)),
        false,
        &[&cx.table.attributes.nested],
    );
    // serde's internally tagged form is the stored one.
    let serde_tag = cx.table.serde.then(|| quote!(#[serde(tag = #tag)]));
    let defs = variants.iter().map(|(v, t)| {
        let d = doc(&format!("`{tag}` = `{t}`."));
        let rename = cx.table.serde.then(|| quote!(#[serde(rename = #t)]));
        quote!(#d #rename #v(#v),)
    });
    let arms = variants.iter().map(|(v, t)| quote!(#v(#v) = #t));
    let acronym = upper_case_acronym(&union.name);
    quote! {
        #docs
        #derives
        #serde_tag
        #acronym
        #[allow(clippy::large_enum_variant)]
        pub enum #ty {
            #(#defs)*
        }

        dynamo::tagged_union!(#ty, #tag { #(#arms),* });
    }
}

/// `#[allow(clippy::upper_case_acronyms)]` for a type the schema names in
/// capitals (`API`), which clippy would otherwise flag.
pub(super) fn upper_case_acronym(name: &str) -> Option<TokenStream> {
    (name.len() > 1
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
    .then(|| quote!(#[allow(clippy::upper_case_acronyms)]))
}
