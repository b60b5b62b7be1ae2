//! Query builders of an item type: one per index it is in (the table's
//! own key included), the partition from the partition key, typed
//! sort-key conditions from the sort key, and projection structs for
//! indexes that do not store whole items.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::{
    doc,
    item::{ItemCx, key_value_call, key_writer, params, write_parts},
    types::{encoder, is_copy, param_type, rust_type},
};
use crate::{
    ir::{self, DateTimeFormat, FieldType, IndexKind, KeyValue, Projection, TemplatePart},
    naming,
};

/// One way to query the item type: the table's key or an index's.
struct Access<'a> {
    /// `None` for the table.
    index: Option<&'a ir::Index>,
    partition: &'a KeyValue,
    sort: Option<&'a KeyValue>,
}

impl Access<'_> {
    fn suffix(&self) -> String {
        self.index.map_or(String::new(), |i| naming::camel(&i.name))
    }

    fn consistent(&self) -> bool {
        self.index.is_none_or(|i| i.kind == IndexKind::Local)
    }

    fn full_items(&self) -> bool {
        self.index.is_none_or(|i| i.projection == Projection::All)
    }
}

pub(super) fn emit_queries(cx: ItemCx<'_>) -> TokenStream {
    let item = cx.item;
    let mut out = TokenStream::new();
    out.extend(emit_query(
        cx,
        &Access {
            index: None,
            partition: &item.partition,
            sort: item.sort.as_ref(),
        },
    ));
    for ix in &item.indexes {
        let Some(index) = cx.table.index(&ix.index) else {
            continue;
        };
        out.extend(emit_query(
            cx,
            &Access {
                index: Some(index),
                partition: &ix.partition,
                sort: ix.sort.as_ref(),
            },
        ));
    }
    out
}

/// The `QueryKeys` expression of the table (`index` `None`) or an index.
pub(super) fn query_keys(table: &ir::Table, index: Option<&ir::Index>) -> TokenStream {
    let (index, pk, sk) = match index {
        None => (
            quote!(None),
            table.def.partition_key.name.clone(),
            table.def.sort_key.as_ref().map(|k| k.name.clone()),
        ),
        Some(index) => {
            let name = &index.name;
            (
                quote!(Some(#name)),
                index.partition_key.name.clone(),
                index.sort_key.as_ref().map(|k| k.name.clone()),
            )
        }
    };
    let sk = match sk {
        Some(sk) => quote!(Some(#sk)),
        None => quote!(None),
    };
    quote! {
        ::dynamo_runtime::QueryKeys { index: #index, partition_key: #pk, sort_key: #sk }
    }
}

fn emit_query(cx: ItemCx<'_>, access: &Access<'_>) -> TokenStream {
    let item = cx.item;
    let name = cx.name();
    let suffix = access.suffix();
    let query = format_ident!("{}{}Query", item.name, suffix);
    let function = match access.index {
        None => format_ident!("query"),
        Some(index) => format_ident!(
            "query_{}",
            heck::ToSnakeCase::to_snake_case(index.name.as_str())
        ),
    };
    let partition_fields = access.partition.fields();
    let partition_fields = dedup(&partition_fields);
    let partition_params = params(cx, &partition_fields);
    let by_param = |i: usize| param_as_ref(cx, i);
    let partition = key_value_call(cx, access.partition, &by_param);
    let keys = query_keys(cx.table, access.index);
    let base_call = match access.sort {
        Some(KeyValue::Template(sort)) => base_condition(sort).map(|c| quote!(.sort_key(Ok(#c)))),
        _ => None,
    };
    let (row, types, decode, projection) = if access.full_items() {
        let row = quote!(#name);
        let type_name = &item.name;
        (
            row,
            quote!(&[#type_name]),
            quote!(|item| <#name as ::dynamo_runtime::Item>::decode(item).map(Some)),
            TokenStream::new(),
        )
    } else {
        let (proj, tokens) = emit_projection(cx, access);
        (quote!(#proj), quote!(&[]), quote!(#proj::from_row), tokens)
    };
    let methods: Vec<TokenStream> = match access.sort {
        Some(KeyValue::Template(sort)) => sort_conditions(cx, sort),
        Some(KeyValue::Field { field, .. }) => plain_sort_conditions(cx, *field),
        None => Vec::new(),
    };
    let fields_name = format_ident!("{}Fields", item.name);
    let filter = access.full_items().then(|| {
        quote! {
            /// Keeps only items that meet `condition` (DynamoDB applies it
            /// after reading; `limit` still counts matches).
            pub fn filter(self, condition: impl FnOnce(&#fields_name) -> ::dynamo_runtime::Condition<#name>) -> Self {
                Self(self.0.filter(condition(&<#name as ::dynamo_runtime::Item>::FIELDS).into_node()))
            }
        }
    });
    let fetch = (!access.full_items()).then(|| {
        quote! {
            /// Runs the query, then reads the full items of every result in
            /// batches of 100 (items deleted in between are left out).
            pub async fn fetch_items(&self, db: &::dynamo_runtime::Db) -> ::dynamo_runtime::Result<Vec<#name>> {
                let rows = self.0.all(db).await?;
                let items = #name::batch_get(rows.iter().map(#row::key)).send(db).await?;
                Ok(items.into_iter().flatten().collect())
            }
        }
    });
    let options = if access.consistent() {
        quote!(::dynamo_runtime::query_options!(#query, #row, consistent);)
    } else {
        quote!(::dynamo_runtime::query_options!(#query, #row);)
    };
    let where_ = match access.index {
        None => "the table".to_owned(),
        Some(i) => format!(
            "{} index `{}`",
            if i.kind == IndexKind::Global {
                "global"
            } else {
                "local"
            },
            i.name
        ),
    };
    let partition_text = match access.partition {
        KeyValue::Template(t) => format!("`{}` = `{}`", t.attribute, t.text),
        KeyValue::Field { attribute, .. } => format!("`{attribute}`"),
    };
    let fn_doc = doc(&format!(
        "Queries the `{}` items of one partition of {where_} ({partition_text}), in sort-key order.{}",
        item.name,
        if access.full_items() {
            String::new()
        } else {
            format!(" The index does not store whole items: results are [`{row}`]s.")
        }
    ));
    let query_doc = doc(&format!(
        "A query of `{}` items in {where_}; see [`{}::{function}`].",
        item.name, item.name
    ));
    quote! {
        impl #name {
            #fn_doc
            pub fn #function(#(#partition_params),*) -> #query {
                #query(
                    ::dynamo_runtime::Query::new(&TABLE, #keys, #partition, #types, #decode)
                    #base_call
                )
            }
        }

        #query_doc
        #[derive(Debug)]
        #[must_use = "call `.send(&db)`, `.all(&db)` or `.stream(&db)` to run the query"]
        pub struct #query(::dynamo_runtime::Query<#row>);

        #options

        impl #query {
            #(#methods)*
            #filter
            #fetch
        }

        #projection
    }
}

fn dedup(fields: &[usize]) -> Vec<usize> {
    let mut out = Vec::new();
    for &f in fields {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// A `&T` expression of the parameter for field `i` (see `param_type`).
pub(super) fn param_as_ref(cx: ItemCx<'_>, i: usize) -> TokenStream {
    let f = cx.field(i);
    let ident = naming::ident(&f.rust_name);
    if is_copy(&f.ty) {
        quote!(&#ident)
    } else {
        quote!(#ident)
    }
}

/// The condition every query of the item type has: equality with a
/// literal-only sort template, or `begins_with` its literal prefix, so that
/// other item types in the partition are not even read.
fn base_condition(sort: &ir::Template) -> Option<TokenStream> {
    let condition = match sort.parts.as_slice() {
        [] => return None,
        [TemplatePart::Literal(text)] => {
            quote!(::dynamo_runtime::SortKeyCondition::Equal(::dynamo_runtime::AttributeValue::S(#text.to_owned())))
        }
        [TemplatePart::Literal(prefix), ..] => {
            quote!(::dynamo_runtime::SortKeyCondition::BeginsWith(#prefix.to_owned()))
        }
        _ => return None,
    };
    Some(condition)
}

/// Whether a field renders at a fixed width in a key, so that text order
/// of keys is value order at any position.
fn fixed_width(ty: &FieldType, width: Option<usize>) -> bool {
    match ty {
        FieldType::Int(_) | FieldType::Float(_) | FieldType::Number => width.is_some(),
        FieldType::DateTime(_) | FieldType::Date | FieldType::Uuid => true,
        _ => false,
    }
}

/// The template text of `parts`, for docs.
fn template_prefix(cx: ItemCx<'_>, parts: &[TemplatePart]) -> String {
    parts
        .iter()
        .map(|p| match p {
            TemplatePart::Literal(s) => s.replace('{', "{{").replace('}', "}}"),
            TemplatePart::Field { field, .. } => format!("{{{}}}", cx.field(*field).name),
        })
        .collect()
}

/// For each leading run of the sort template's fields: `<field>_eq` (all
/// of them equal), for text fields `<field>_begins_with` (the earlier ones
/// equal, this one starting with a prefix), and for fields whose text order
/// is value order `<field>_lt`, `_le`, `_gt`, `_ge`, `_between`.
fn sort_conditions(cx: ItemCx<'_>, sort: &ir::Template) -> Vec<TokenStream> {
    let positions: Vec<usize> = sort
        .parts
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p, TemplatePart::Field { .. }))
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    let mut seen: Vec<usize> = Vec::new();
    let attribute = &sort.attribute;
    let key_fn = naming::key_fn(&cx.item.name, &sort.attribute).to_string();
    let key_fn = key_fn.trim_start_matches("r#");
    for (level, &position) in positions.iter().enumerate() {
        let TemplatePart::Field { field, width } = sort.parts[position] else {
            continue;
        };
        if seen.contains(&field) {
            continue;
        }
        let earlier = seen.clone();
        seen.push(field);
        let f = cx.field(field);
        let fname = f.rust_name.trim_start_matches("r#");
        let is_last = level + 1 == positions.len();
        let ends_key = position + 1 == sort.parts.len();
        let writer = key_writer(cx, sort);
        let earlier_params = params(cx, &earlier);
        let earlier_args: Vec<Ident> = earlier
            .iter()
            .map(|&i| naming::ident(&cx.field(i).rust_name))
            .collect();
        let ty = param_type(&f.ty);

        // `<field>_eq`: every field up to this one.
        let (end, variant, what) = if is_last {
            (sort.parts.len(), quote!(Equal), "equals")
        } else {
            let next_literal =
                matches!(sort.parts.get(position + 1), Some(TemplatePart::Literal(_)));
            (
                position + 1 + usize::from(next_literal),
                quote!(BeginsWith),
                "begins with",
            )
        };
        let text = template_prefix(cx, &sort.parts[..end]);
        let value = if is_last {
            quote!(key.finish_attribute())
        } else {
            quote!(key.finish())
        };
        let eq_fn = format_ident!("{key_fn}_{fname}_eq");
        let eq = format_ident!("{fname}_eq");
        let all_params = params(cx, &seen);
        let all_args: Vec<Ident> = seen
            .iter()
            .map(|&i| naming::ident(&cx.field(i).rust_name))
            .collect();
        let parts = write_parts(cx, &sort.parts[..end]);
        let docs = doc(&format!("Only items whose `{attribute}` {what} `{text}`."));
        out.push(quote! {
            #docs
            pub fn #eq(self, #(#all_params),*) -> Self {
                fn #eq_fn(#(#all_params),*) -> Result<::dynamo_runtime::SortKeyCondition, ::dynamo_runtime::KeyError> {
                    #writer
                    #parts
                    Ok(::dynamo_runtime::SortKeyCondition::#variant(#value))
                }
                Self(self.0.sort_key(#eq_fn(#(#all_args),*)))
            }
        });

        // `<field>_begins_with`: earlier fields equal, a prefix of this one.
        if f.ty == FieldType::String {
            let text = template_prefix(cx, &sort.parts[..position]);
            let docs = doc(&format!(
                "Only items whose `{attribute}` begins with `{text}` then `prefix`."
            ));
            let name = &f.name;
            let parts = write_parts(cx, &sort.parts[..position]);
            let m = format_ident!("{fname}_begins_with");
            let helper = format_ident!("{key_fn}_{fname}_begins_with");
            out.push(quote! {
                #docs
                pub fn #m(self, #(#earlier_params,)* prefix: &str) -> Self {
                    fn #helper(#(#earlier_params,)* prefix: &str) -> Result<::dynamo_runtime::SortKeyCondition, ::dynamo_runtime::KeyError> {
                        #writer
                        #parts
                        key.prefix(#name, prefix)?;
                        Ok(::dynamo_runtime::SortKeyCondition::BeginsWith(key.finish()))
                    }
                    Self(self.0.sort_key(#helper(#(#earlier_args,)* prefix)))
                }
            });
        }

        // Ranges on this field, the earlier ones equal.
        if !(ends_key || fixed_width(&f.ty, width)) {
            continue;
        }
        let at_fn = format_ident!("{key_fn}_{fname}_at");
        let before = write_parts(cx, &sort.parts[..position]);
        let this = write_parts(cx, &sort.parts[position..=position]);
        let text = template_prefix(cx, &sort.parts[..=position]);
        out.push(quote! {
            #[doc(hidden)]
            fn #at_fn(#(#all_params),*) -> Result<(String, String), ::dynamo_runtime::KeyError> {
                #writer
                #before
                let prefix = key.as_str().to_owned();
                #this
                Ok((prefix, key.finish()))
            }
        });
        let last = ends_key;
        for (op, word, runtime) in [
            ("lt", "less than", quote!(text_lt(p, v))),
            ("le", "at most", quote!(text_le(p, v, #last))),
            ("gt", "greater than", quote!(text_gt(p, v, #last))),
            ("ge", "at least", quote!(text_ge(p, v))),
        ] {
            let m = format_ident!("{fname}_{op}");
            let docs = doc(&format!(
                "Only items whose `{}` is {word} the given value (`{attribute}` = `{text}…`{}).",
                f.name,
                if earlier.is_empty() {
                    ""
                } else {
                    ", the earlier fields equal"
                }
            ));
            out.push(quote! {
                #docs
                pub fn #m(self, #(#all_params),*) -> Self {
                    Self(self.0.sort_key(Self::#at_fn(#(#all_args),*).map(|(p, v)| ::dynamo_runtime::SortKeyCondition::#runtime)))
                }
            });
        }
        let m = format_ident!("{fname}_between");
        let docs = doc(&format!(
            "Only items whose `{}` is between `low` and `high`, both included.",
            f.name
        ));
        out.push(quote! {
            #docs
            pub fn #m(self, #(#earlier_params,)* low: #ty, high: #ty) -> Self {
                let range = Self::#at_fn(#(#earlier_args,)* low).and_then(|(_, a)| {
                    Self::#at_fn(#(#earlier_args,)* high).map(|(_, b)| ::dynamo_runtime::SortKeyCondition::text_between(a, b, #last))
                });
                Self(self.0.sort_key(range))
            }
        });
    }
    out
}

/// Conditions on a plain sort key field: its own stored value.
fn plain_sort_conditions(cx: ItemCx<'_>, field: usize) -> Vec<TokenStream> {
    let f = cx.field(field);
    let fname = f.rust_name.trim_start_matches("r#");
    let ty = rust_type(&f.ty);
    let enc = encoder(&f.ty);
    let mut out = Vec::new();
    for (op, word, ctor) in [
        ("eq", "equals", quote!(Equal)),
        ("lt", "is less than", quote!(lt)),
        ("le", "is at most", quote!(le)),
        ("gt", "is greater than", quote!(gt)),
        ("ge", "is at least", quote!(ge)),
    ] {
        let m = format_ident!("{fname}_{op}");
        let docs = doc(&format!("Only items whose `{}` {word} `value`.", f.name));
        out.push(quote! {
            #docs
            pub fn #m(self, value: #ty) -> Self {
                Self(self.0.sort_key(Ok(::dynamo_runtime::SortKeyCondition::#ctor(#enc(&value)))))
            }
        });
    }
    let m = format_ident!("{fname}_between");
    let docs = doc(&format!(
        "Only items whose `{}` is between `low` and `high`, both included.",
        f.name
    ));
    out.push(quote! {
        #docs
        pub fn #m(self, low: #ty, high: #ty) -> Self {
            Self(self.0.sort_key(Ok(::dynamo_runtime::SortKeyCondition::between(#enc(&low), #enc(&high)))))
        }
    });
    if f.ty == FieldType::String {
        let m = format_ident!("{fname}_begins_with");
        let docs = doc(&format!(
            "Only items whose `{}` begins with `prefix`.",
            f.name
        ));
        out.push(quote! {
            #docs
            pub fn #m(self, prefix: &str) -> Self {
                Self(self.0.sort_key(Ok(::dynamo_runtime::SortKeyCondition::BeginsWith(prefix.to_owned()))))
            }
        });
    }
    out
}

/// The projection struct of an index that does not store whole items:
/// the key fields (read back out of the key attributes) and the included
/// attributes the item type has.
fn emit_projection(cx: ItemCx<'_>, access: &Access<'_>) -> (Ident, TokenStream) {
    let item = cx.item;
    let index = access.index.map_or("", |i| i.name.as_str());
    let proj = format_ident!("{}{}Projection", item.name, access.suffix());
    // Key values in order: the table's key, then the index's.
    let key_values: Vec<&KeyValue> = std::iter::once(&item.partition)
        .chain(&item.sort)
        .chain(std::iter::once(access.partition))
        .chain(access.sort)
        .collect();
    let mut key_fields: Vec<usize> = Vec::new();
    for v in &key_values {
        for f in v.fields() {
            if !key_fields.contains(&f) {
                key_fields.push(f);
            }
        }
    }
    let included: Vec<usize> = match access.index.map(|i| &i.projection) {
        Some(Projection::Include(names)) => (0..item.fields.len())
            .filter(|i| !key_fields.contains(i) && names.contains(&cx.field(*i).attribute))
            .collect(),
        _ => Vec::new(),
    };
    let mut all: Vec<usize> = key_fields.iter().chain(&included).copied().collect();
    all.sort_unstable();
    let defs = all.iter().map(|&i| {
        let f = cx.field(i);
        let ident = naming::ident(&f.rust_name);
        let ty = rust_type(&f.ty);
        let ty = if key_fields.contains(&i) {
            ty
        } else {
            quote!(Option<#ty>)
        };
        let docs = doc(&format!("The item's `{}`.", f.name));
        quote!(#docs pub #ident: #ty,)
    });
    // Parsing: each key attribute read back into its fields.
    let mut parsed: Vec<usize> = Vec::new();
    let mut statements = Vec::new();
    for v in &key_values {
        let attribute = v.attribute();
        match v {
            KeyValue::Template(t) => {
                let mut steps = Vec::new();
                for (p, part) in t.parts.iter().enumerate() {
                    match part {
                        TemplatePart::Literal(l) => steps.push(quote!(r.literal(#l)?;)),
                        TemplatePart::Field { field, .. } => {
                            let later_field = t.parts[p + 1..]
                                .iter()
                                .any(|x| matches!(x, TemplatePart::Field { .. }));
                            let (until, trailing) = match t.parts.get(p + 1) {
                                Some(TemplatePart::Literal(l)) if later_field => {
                                    (quote!(Some(#l)), quote!(None))
                                }
                                Some(TemplatePart::Literal(l)) => (quote!(None), quote!(Some(#l))),
                                _ => (quote!(None), quote!(None)),
                            };
                            let f = cx.field(*field);
                            let ty = rust_type(&f.ty);
                            let var = format_ident!("f_{}", f.rust_name.trim_start_matches("r#"));
                            if parsed.contains(field) {
                                steps.push(quote!(r.field::<#ty>(#until, #trailing)?;));
                            } else {
                                parsed.push(*field);
                                steps.push(quote!(let #var = r.field::<#ty>(#until, #trailing)?;));
                            }
                        }
                    }
                }
                statements.push(quote! {
                    let mut r = ::dynamo_runtime::key::KeyReader::new(raw.get(#attribute)?.as_s().ok()?);
                    #(#steps)*
                    r.finish()?;
                });
            }
            KeyValue::Field { field, .. } => {
                if parsed.contains(field) {
                    continue;
                }
                parsed.push(*field);
                let f = cx.field(*field);
                let var = format_ident!("f_{}", f.rust_name.trim_start_matches("r#"));
                let decode = match &f.ty {
                    FieldType::DateTime(DateTimeFormat::EpochSeconds) => {
                        quote!(::dynamo_runtime::attr::from_epoch_seconds)
                    }
                    FieldType::DateTime(DateTimeFormat::EpochMillis) => {
                        quote!(::dynamo_runtime::attr::from_epoch_millis)
                    }
                    other => {
                        let t = rust_type(other);
                        quote!(<#t as ::dynamo_runtime::Attribute>::from_attribute)
                    }
                };
                statements.push(quote! {
                    let #var = #decode(raw.get(#attribute)?.clone()).ok()?;
                });
            }
        }
    }
    let key_vars = key_fields.iter().map(|&i| {
        let f = cx.field(i);
        format_ident!("f_{}", f.rust_name.trim_start_matches("r#"))
    });
    let key_tuple_types = key_fields.iter().map(|&i| rust_type(&cx.field(i).ty));
    let assign = all.iter().map(|&i| {
        let f = cx.field(i);
        let ident = naming::ident(&f.rust_name);
        if let Some(p) = key_fields.iter().position(|&k| k == i) {
            let p = syn::Index::from(p);
            quote!(#ident: keys.#p,)
        } else {
            let attribute = &f.attribute;
            match &f.ty {
                FieldType::DateTime(DateTimeFormat::EpochSeconds) => quote!(#ident: item.optional_with(#attribute, ::dynamo_runtime::attr::from_epoch_seconds)?,),
                FieldType::DateTime(DateTimeFormat::EpochMillis) => quote!(#ident: item.optional_with(#attribute, ::dynamo_runtime::attr::from_epoch_millis)?,),
                _ if f.optional => quote!(#ident: item.optional(#attribute)?,),
                // A required included field can still be missing from the
                // index; the projection holds it as optional.
                _ => quote!(#ident: item.optional(#attribute)?,),
            }
        }
    });
    let table_key_fields = cx.key_fields();
    let key_name = naming::key_struct(&item.name);
    let key_init = table_key_fields.iter().map(|&i| {
        let ident = naming::ident(&cx.field(i).rust_name);
        if is_copy(&cx.field(i).ty) {
            quote!(#ident: self.#ident,)
        } else {
            quote!(#ident: self.#ident.clone(),)
        }
    });
    let docs = doc(&format!(
        "A `{}` as index `{index}` stores it: its key fields{}.",
        item.name,
        if included.is_empty() {
            ""
        } else {
            " and the included attributes"
        }
    ));
    let type_name = &item.name;
    let has_included = !included.is_empty();
    let item_binding = if has_included {
        quote!(mut item)
    } else {
        quote!(_item)
    };
    let tokens = quote! {
        #docs
        #[derive(Debug, Clone, PartialEq)]
        pub struct #proj {
            #(#defs)*
        }

        impl #proj {
            /// The key of the full item, for `get` or `batch_get`.
            pub fn key(&self) -> #key_name {
                #key_name { #(#key_init)* }
            }

            /// The key fields read back from the key attributes; `None` when
            /// they are not this item type's keys.
            fn keys(raw: &::dynamo_runtime::Attributes) -> Option<(#(#key_tuple_types,)*)> {
                #(#statements)*
                Some((#(#key_vars,)*))
            }

            /// Decodes one row of the index; `None` for another item type.
            fn from_row(raw: ::dynamo_runtime::Attributes) -> ::dynamo_runtime::Result<Option<Self>> {
                let Some(keys) = Self::keys(&raw) else {
                    return Ok(None);
                };
                let #item_binding = ::dynamo_runtime::codec::Decoder::untyped(raw, #type_name);
                Ok(Some(Self { #(#assign)* }))
            }
        }
    };
    (proj, tokens)
}
