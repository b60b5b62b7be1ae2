//! An item type: its struct, constructor, key struct, key rendering,
//! codec, field paths and single-item, batch and update entry points.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::{
    doc,
    types::{
        arg_from_ref, decode_field, decoder_fn, default_expr, derives, encode_field, encoder,
        field_def, param_ref, param_type, rust_type, validate_body,
    },
};
use crate::{
    ir::{self, FieldType, KeyValue, Template, TemplatePart},
    naming,
};

/// The item being emitted and its table.
#[derive(Clone, Copy)]
pub(super) struct ItemCx<'a> {
    pub table: &'a ir::Table,
    pub item: &'a ir::Item,
}

impl ItemCx<'_> {
    pub fn field(&self, i: usize) -> &ir::Field {
        &self.item.fields[i]
    }

    pub fn name(&self) -> Ident {
        naming::ident(&self.item.name)
    }

    /// Fields kept by writes: timestamps and the version.
    pub fn is_managed(&self, i: usize) -> bool {
        let item = self.item;
        item.timestamps
            .is_some_and(|t| t.created == i || t.updated == i)
            || item.version == Some(i)
    }

    /// The fields of the table's key (the key struct's fields).
    pub fn key_fields(&self) -> Vec<usize> {
        self.item.key_fields()
    }
}

pub(super) fn emit_item(cx: ItemCx<'_>) -> TokenStream {
    let ir::Item {
        name: _,
        doc: _,
        fields,
        partition,
        sort,
        indexes,
        timestamps: _,
        version: _,
        ttl: _,
        expires_after: _,
    } = cx.item;
    let structs = emit_structs(cx);
    let constructor = emit_constructor(cx);
    let (validate_fns, validate) = validate_body(&cx.item.name, fields);
    let codec = emit_codec(cx, &validate);
    let key_impl = emit_key_impl(cx);
    let field_paths = emit_fields(cx);
    let operations = emit_operations(cx);
    let update = super::update::emit_update(cx);
    let queries = super::query::emit_queries(cx);
    let mut rendered: Vec<&str> = Vec::new();
    let templates: Vec<TokenStream> = std::iter::once(partition)
        .chain(sort)
        .chain(
            indexes
                .iter()
                .flat_map(|i| std::iter::once(&i.partition).chain(&i.sort)),
        )
        .filter_map(|v| match v {
            // A local index shares the table's partition key template.
            KeyValue::Template(t) if !rendered.contains(&t.attribute.as_str()) => {
                rendered.push(&t.attribute);
                Some(key_fn(cx, t))
            }
            _ => None,
        })
        .collect();
    quote! {
        #structs
        #constructor
        #codec
        #key_impl
        #field_paths
        #operations
        #update
        #queries
        #(#templates)*
        #validate_fns
    }
}

fn key_value_text(v: &KeyValue, item: &ir::Item) -> String {
    match v {
        KeyValue::Template(t) => format!("`{}` = `{}`", t.attribute, t.text),
        KeyValue::Field { attribute, field } => {
            format!("`{attribute}` = field `{}`", item.fields[*field].name)
        }
    }
}

fn emit_structs(cx: ItemCx<'_>) -> TokenStream {
    let item = cx.item;
    let name = cx.name();
    let key_name = naming::key_struct(&item.name);
    let templates = std::iter::once(&item.partition)
        .chain(&item.sort)
        .map(|v| key_value_text(v, item))
        .collect::<Vec<_>>()
        .join(", ");
    let summary = item
        .doc
        .clone()
        .unwrap_or_else(|| format!("An item of type `{}`.", item.name));
    let mut text = format!(
        "{summary}\n\nStored in table `{}` with keys {templates}.",
        cx.table.def.name
    );
    for index in &item.indexes {
        let keys = std::iter::once(&index.partition)
            .chain(&index.sort)
            .map(|v| key_value_text(v, item))
            .collect::<Vec<_>>()
            .join(", ");
        text.push_str(&format!("\nIn index `{}` with {keys}.", index.index));
    }
    let item_doc = doc(&text);
    let fields = item.fields.iter().map(field_def);
    let key_fields: Vec<&ir::Field> = cx.key_fields().into_iter().map(|i| cx.field(i)).collect();
    let key_field_defs = key_fields.iter().map(|f| {
        let ident = naming::ident(&f.rust_name);
        let ty = rust_type(&f.ty);
        let docs = doc(&format!("The item's `{}`.", f.name));
        quote!(#docs pub #ident: #ty,)
    });
    let item_derives = derives(cx.table, item.fields.iter().map(|f| &f.ty), false);
    let key_derives = derives(cx.table, key_fields.iter().map(|f| &f.ty), true);
    let key_doc = doc(&format!(
        "The key of a [`{}`]: the fields its table key uses.",
        item.name
    ));
    quote! {
        #item_doc
        #item_derives
        pub struct #name {
            #(#fields)*
        }

        #key_doc
        #key_derives
        pub struct #key_name {
            #(#key_field_defs)*
        }
    }
}

/// The fields `new` needs: neither optional, defaulted nor kept by writes.
fn required_fields(cx: ItemCx<'_>) -> Vec<usize> {
    (0..cx.item.fields.len())
        .filter(|&i| {
            let f = cx.field(i);
            !f.optional && f.default.is_none() && !cx.is_managed(i) && cx.item.ttl != Some(i)
        })
        .collect()
}

/// The value of a kept field in a new item.
fn managed_initial(cx: ItemCx<'_>, i: usize) -> Option<TokenStream> {
    let item = cx.item;
    let field = cx.field(i);
    let value = if item
        .timestamps
        .is_some_and(|t| t.created == i || t.updated == i)
    {
        quote!(now)
    } else if item.version == Some(i) {
        quote!(0)
    } else if item.ttl == Some(i) {
        let secs = item.expires_after?;
        let secs = Literal::i64_unsuffixed(i64::try_from(secs).unwrap_or(i64::MAX));
        let at = quote!(::dynamo_runtime::attr::expires(now, #secs));
        match &field.ty {
            FieldType::DateTime(_) => at,
            FieldType::Int(t) => {
                let t = format_ident!("{}", t.name());
                quote!(#at.as_second() as #t)
            }
            _ => return None,
        }
    } else {
        return None;
    };
    Some(if field.optional {
        quote!(Some(#value))
    } else {
        value
    })
}

fn emit_constructor(cx: ItemCx<'_>) -> TokenStream {
    let item = cx.item;
    let name = cx.name();
    let new_name = format_ident!("New{}", item.name);
    let required = required_fields(cx);
    let defs = required.iter().map(|&i| field_def(cx.field(i)));
    let values = item.fields.iter().enumerate().map(|(i, f)| {
        let ident = naming::ident(&f.rust_name);
        let value = if required.contains(&i) {
            quote!(init.#ident)
        } else if let Some(v) = managed_initial(cx, i) {
            v
        } else if let Some(d) = &f.default {
            default_expr(cx.table, f, d)
        } else {
            quote!(None)
        };
        quote!(#ident: #value,)
    });
    let uses_now =
        item.timestamps.is_some() || (item.ttl.is_some() && item.expires_after.is_some());
    let now = uses_now.then(|| quote!(let now = ::dynamo_runtime::Timestamp::now();));
    let init_doc = doc(&format!(
        "The fields of a new [`{}`] that have no default; see [`{}::new`].",
        item.name, item.name
    ));
    let new_doc = doc(&format!(
        "A new `{}`: `init`'s fields, defaults for the rest (optional fields \
         `None`{}).",
        item.name,
        if item.timestamps.is_some() || item.version.is_some() || item.expires_after.is_some() {
            ", timestamps now, version 0, ttl from `expires_after`"
        } else {
            ""
        }
    ));
    let init_derives = derives(cx.table, required.iter().map(|&i| &cx.field(i).ty), false);
    let param = if required.is_empty() {
        quote!(_init: #new_name)
    } else {
        quote!(init: #new_name)
    };
    quote! {
        #init_doc
        #init_derives
        pub struct #new_name {
            #(#defs)*
        }

        impl #name {
            #new_doc
            pub fn new(#param) -> Self {
                #now
                Self { #(#values)* }
            }
        }
    }
}

/// The expression `Result<AttributeValue, KeyError>` of a key value, with
/// each field's value read through `value(field) -> &T expression`.
pub(super) fn key_value_call(
    cx: ItemCx<'_>,
    v: &KeyValue,
    value: &dyn Fn(usize) -> TokenStream,
) -> TokenStream {
    match v {
        KeyValue::Template(t) => {
            let function = naming::key_fn(&cx.item.name, &t.attribute);
            let args = unique_fields(t)
                .into_iter()
                .map(|i| arg_from_ref(&cx.field(i).ty, value(i)));
            quote!(#function(#(#args),*))
        }
        KeyValue::Field { field, .. } => {
            let ty = &cx.field(*field).ty;
            let v = value(*field);
            if *ty == FieldType::String {
                // The value may be `&str` (a parameter) or `&String`.
                return quote!(Ok::<_, ::dynamo_runtime::KeyError>(::dynamo_runtime::AttributeValue::S(String::from(#v))));
            }
            let enc = encoder(ty);
            quote!(Ok::<_, ::dynamo_runtime::KeyError>(#enc(#v)))
        }
    }
}

/// The `Item` impl; `validate` is the body of `validate()`.
fn emit_codec(cx: ItemCx<'_>, validate: &TokenStream) -> TokenStream {
    let item = cx.item;
    let name = cx.name();
    let type_name = &item.name;
    let key_name = naming::key_struct(&item.name);
    let fields_name = format_ident!("{}Fields", item.name);
    let own = |i: usize| {
        let ident = naming::ident(&cx.field(i).rust_name);
        quote!(&self.#ident)
    };
    let enc = quote!(item);
    let table_keys = std::iter::once(&item.partition)
        .chain(&item.sort)
        .filter_map(|v| match v {
            KeyValue::Template(t) => {
                let attribute = &t.attribute;
                let call = key_value_call(cx, v, &own);
                Some(quote!(item.attribute(#attribute, #call?);))
            }
            KeyValue::Field { .. } => None,
        });
    // Index keys: a template over an optional field is written only when
    // the field has a value (the item then is in the sparse index).
    let index_keys = item
        .indexes
        .iter()
        .flat_map(|i| std::iter::once(&i.partition).chain(&i.sort))
        .filter(|v| {
            // A local index's partition key is the table's, written above.
            v.attribute() != item.partition.attribute()
        })
        .filter_map(|v| {
            let KeyValue::Template(t) = v else {
                return None;
            };
            let attribute = &t.attribute;
            let fields = unique_fields(t);
            let optional: Vec<usize> = fields
                .iter()
                .copied()
                .filter(|&i| cx.field(i).optional)
                .collect();
            if optional.is_empty() {
                let call = key_value_call(cx, v, &own);
                return Some(quote!(item.attribute(#attribute, #call?);));
            }
            let bindings: Vec<Ident> = optional
                .iter()
                .map(|&i| format_ident!("{}", cx.field(i).rust_name.trim_start_matches("r#")))
                .collect();
            let sources = optional.iter().map(|&i| {
                let ident = naming::ident(&cx.field(i).rust_name);
                quote!(self.#ident.as_ref())
            });
            let value = |i: usize| match optional.iter().position(|&o| o == i) {
                Some(p) => {
                    let b = &bindings[p];
                    quote!(#b)
                }
                None => own(i),
            };
            let call = key_value_call(cx, v, &value);
            Some(quote! {
                if let (#(Some(#bindings),)*) = (#(#sources,)*) {
                    item.attribute(#attribute, #call?);
                }
            })
        });
    let encode_fields = item.fields.iter().map(|f| encode_field(f, &enc));
    let no_map = TokenStream::new();
    let decode_fields = item.fields.iter().map(|f| decode_field(f, &enc, &no_map));
    let key_fields = cx.key_fields().into_iter().map(|i| {
        let ident = naming::ident(&cx.field(i).rust_name);
        if super::types::is_copy(&cx.field(i).ty) {
            quote!(#ident: self.#ident,)
        } else {
            quote!(#ident: self.#ident.clone(),)
        }
    });
    let capacity = Literal::usize_unsuffixed(3 + item.indexes.len() * 2 + item.fields.len());
    let mut write = Vec::new();
    if let Some(t) = item.timestamps {
        let f = cx.field(t.updated);
        let attribute = &f.attribute;
        let enc = encoder(&f.ty);
        write.push(quote!(item.insert(#attribute.to_owned(), #enc(&now));));
    }
    let mut version_fns = TokenStream::new();
    if let Some(v) = item.version {
        let f = cx.field(v);
        let attribute = &f.attribute;
        let ident = naming::ident(&f.rust_name);
        write.push(quote! {
            item.insert(
                #attribute.to_owned(),
                ::dynamo_runtime::Attribute::to_attribute(&self.#ident.saturating_add(1)),
            );
        });
        let value = if f.ty == FieldType::Int(ir::IntType::U64) {
            quote!(self.#ident)
        } else {
            quote!(u64::from(self.#ident))
        };
        version_fns = quote! {
            const VERSION: Option<&'static str> = Some(#attribute);

            fn version(&self) -> Option<u64> {
                Some(#value)
            }
        };
    }
    if let (Some(ttl), Some(secs)) = (item.ttl, item.expires_after) {
        let f = cx.field(ttl);
        let attribute = &f.attribute;
        let secs = Literal::i64_unsuffixed(i64::try_from(secs).unwrap_or(i64::MAX));
        let at = quote!(::dynamo_runtime::attr::expires(now, #secs));
        let value = match &f.ty {
            FieldType::DateTime(_) => {
                let enc = encoder(&f.ty);
                quote!(#enc(&#at))
            }
            _ => quote!(::dynamo_runtime::AttributeValue::N(#at.as_second().to_string())),
        };
        write.push(quote! {
            item.entry(#attribute.to_owned()).or_insert_with(|| #value);
        });
    }
    // Only timestamps and ttl defaults read the time of the write.
    let uses_now =
        item.timestamps.is_some() || (item.ttl.is_some() && item.expires_after.is_some());
    let now = if uses_now { quote!(now) } else { quote!(_now) };
    let encode_for_write = (!write.is_empty()).then(|| {
        quote! {
            fn encode_for_write(
                &self,
                #now: ::dynamo_runtime::Timestamp,
            ) -> ::dynamo_runtime::Result<::dynamo_runtime::Attributes> {
                let mut item = self.encode()?;
                #(#write)*
                Ok(item)
            }
        }
    });
    let field_paths = item.fields.iter().map(|f| {
        let ident = naming::ident(&f.rust_name);
        let attribute = &f.attribute;
        let enc = encoder(&f.ty);
        let dec = decoder_fn(&f.ty);
        quote!(#ident: ::dynamo_runtime::Path::new(#attribute, #enc, #dec),)
    });
    quote! {
        impl ::dynamo_runtime::Item for #name {
            type Key = #key_name;
            type Fields = #fields_name;
            const TYPE_NAME: &'static str = #type_name;
            const TABLE: &'static ::dynamo_runtime::TableDef = &TABLE;
            const FIELDS: #fields_name = #fields_name { #(#field_paths)* };
            #version_fns

            fn key(&self) -> #key_name {
                #key_name { #(#key_fields)* }
            }

            fn encode(&self) -> ::dynamo_runtime::Result<::dynamo_runtime::Attributes> {
                let mut item = ::dynamo_runtime::codec::Encoder::new(
                    Self::TYPE_NAME,
                    TABLE.type_attribute,
                    #capacity,
                );
                #(#table_keys)*
                #(#index_keys)*
                #(#encode_fields)*
                Ok(item.finish())
            }

            #encode_for_write

            fn decode(item: ::dynamo_runtime::Attributes) -> ::dynamo_runtime::Result<Self> {
                let mut item = ::dynamo_runtime::codec::Decoder::new(
                    item,
                    Self::TYPE_NAME,
                    TABLE.type_attribute,
                )?;
                Ok(Self { #(#decode_fields)* })
            }

            fn validate(&self) -> Result<(), ::dynamo_runtime::ValidationError> {
                #validate
            }
        }
    }
}

fn emit_key_impl(cx: ItemCx<'_>) -> TokenStream {
    let item = cx.item;
    let name = cx.name();
    let key_name = naming::key_struct(&item.name);
    let own = |i: usize| {
        let ident = naming::ident(&cx.field(i).rust_name);
        quote!(&self.#ident)
    };
    let entries = std::iter::once(&item.partition).chain(&item.sort).map(|v| {
        let attribute = v.attribute();
        let call = key_value_call(cx, v, &own);
        quote!((#attribute.to_owned(), #call?),)
    });
    quote! {
        impl ::dynamo_runtime::Key for #key_name {
            type Item = #name;

            fn encode_key(&self) -> ::dynamo_runtime::Result<::dynamo_runtime::Attributes> {
                Ok(::dynamo_runtime::Attributes::from([#(#entries)*]))
            }
        }
    }
}

fn emit_fields(cx: ItemCx<'_>) -> TokenStream {
    let item = cx.item;
    let name = cx.name();
    let fields_name = format_ident!("{}Fields", item.name);
    let defs = item.fields.iter().map(|f| {
        let ident = naming::ident(&f.rust_name);
        let ty = rust_type(&f.ty);
        let docs = doc(&format!("`{}`, stored as `{}`.", f.name, f.attribute));
        quote!(#docs pub #ident: ::dynamo_runtime::Path<#name, #ty>,)
    });
    let docs = doc(&format!(
        "The fields of `{}` as typed paths, for conditions and filters: \
         `.when(|f| f.<field>.eq(value))`.",
        item.name
    ));
    quote! {
        #docs
        #[derive(Debug, Clone, Copy)]
        pub struct #fields_name {
            #(#defs)*
        }
    }
}

fn emit_operations(cx: ItemCx<'_>) -> TokenStream {
    let item = cx.item;
    let name = cx.name();
    let key_name = naming::key_struct(&item.name);
    let n = &item.name;
    let get_doc = doc(&format!(
        "Reads the `{n}` with `key`; `None` when there is none."
    ));
    let put_doc = doc(&format!(
        "Writes this `{n}`, replacing any item with the same key{}.",
        if item.version.is_some() {
            " if the stored version is still this item's (a new item: none is stored)"
        } else {
            ""
        }
    ));
    let delete_doc = doc(&format!(
        "Deletes the `{n}` with `key`; deleting a missing item does nothing."
    ));
    let batch_get_doc = doc(&format!(
        "Reads the `{n}`s with `keys` in batches of 100; one result per key, in order."
    ));
    let batch_writes = item.version.is_none().then(|| {
        let put_doc = doc("Writes `items` in batches of 25, retrying unprocessed items.");
        let delete_doc = doc(&format!(
            "Deletes the `{n}`s with `keys` in batches of 25, retrying unprocessed requests."
        ));
        quote! {
            #put_doc
            pub fn batch_put<'a>(
                items: impl IntoIterator<Item = &'a Self>,
            ) -> ::dynamo_runtime::BatchWrite<'a, Self> {
                ::dynamo_runtime::BatchWrite::new().put(items)
            }

            #delete_doc
            pub fn batch_delete<'a>(
                keys: impl IntoIterator<Item = #key_name>,
            ) -> ::dynamo_runtime::BatchWrite<'a, Self> {
                ::dynamo_runtime::BatchWrite::new().delete(keys)
            }
        }
    });
    let key_doc = doc(&format!("The key of this `{n}`."));
    let scan_doc = doc(&format!(
        "Scans the whole table for `{n}` items (every item is read and paid for)."
    ));
    let statement_doc = doc(&format!(
        "A PartiQL statement whose rows are `{n}`s; `{{table}}` stands for the table."
    ));
    quote! {
        impl #name {
            #key_doc
            pub fn key(&self) -> #key_name {
                <Self as ::dynamo_runtime::Item>::key(self)
            }

            #get_doc
            pub fn get(key: #key_name) -> ::dynamo_runtime::GetItem<Self> {
                ::dynamo_runtime::GetItem::new(key)
            }

            #put_doc
            pub fn put(&self) -> ::dynamo_runtime::PutItem<'_, Self> {
                ::dynamo_runtime::PutItem::new(self)
            }

            #delete_doc
            pub fn delete(key: #key_name) -> ::dynamo_runtime::DeleteItem<Self> {
                ::dynamo_runtime::DeleteItem::new(key)
            }

            #batch_get_doc
            pub fn batch_get(
                keys: impl IntoIterator<Item = #key_name>,
            ) -> ::dynamo_runtime::BatchGet<Self> {
                ::dynamo_runtime::BatchGet::new(keys)
            }

            #scan_doc
            pub fn scan() -> ::dynamo_runtime::Scan<Self> {
                ::dynamo_runtime::Scan::new()
            }

            #statement_doc
            pub fn statement(text: &str) -> ::dynamo_runtime::Statement<Self> {
                ::dynamo_runtime::Statement::new(text)
            }

            #batch_writes
        }
    }
}

/// The fields a template uses, each once, in order of use.
pub(super) fn unique_fields(template: &Template) -> Vec<usize> {
    let mut out = Vec::new();
    for field in template.fields() {
        if !out.contains(&field) {
            out.push(field);
        }
    }
    out
}

/// The fields of a key value, each once.
pub(super) fn unique_fields_of(value: &KeyValue) -> Vec<usize> {
    match value {
        KeyValue::Template(t) => unique_fields(t),
        KeyValue::Field { field, .. } => vec![*field],
    }
}

/// Parameters `name: type` for the given fields.
pub(super) fn params(cx: ItemCx<'_>, fields: &[usize]) -> Vec<TokenStream> {
    fields
        .iter()
        .map(|&i| {
            let field = cx.field(i);
            let ident = naming::ident(&field.rust_name);
            let ty = param_type(&field.ty);
            quote!(#ident: #ty)
        })
        .collect()
}

/// `let mut key = KeyWriter::new(..);` for rendering `template`.
pub(super) fn key_writer(cx: ItemCx<'_>, template: &Template) -> TokenStream {
    let type_name = &cx.item.name;
    let attribute = &template.attribute;
    let separator = if template.field_count() > 1 {
        let separator = &cx.table.key_separator;
        quote!(Some(#separator))
    } else {
        quote!(None)
    };
    let literal_len: usize = template
        .parts
        .iter()
        .map(|p| match p {
            TemplatePart::Literal(s) => s.len(),
            TemplatePart::Field { .. } => 16,
        })
        .sum();
    let capacity = Literal::usize_unsuffixed(literal_len);
    quote! {
        let mut key = ::dynamo_runtime::key::KeyWriter::new(#type_name, #attribute, #separator, #capacity);
    }
}

/// Statements appending `parts` to `key`, from parameters named as fields.
pub(super) fn write_parts(cx: ItemCx<'_>, parts: &[TemplatePart]) -> TokenStream {
    let statements = parts.iter().map(|part| match part {
        TemplatePart::Literal(text) => quote!(key.literal(#text);),
        TemplatePart::Field { field, width } => {
            let field = cx.field(*field);
            let name = &field.name;
            let ident = naming::ident(&field.rust_name);
            let value = param_ref(&field.ty, quote!(#ident));
            let width = match width {
                Some(w) => {
                    let w = Literal::usize_unsuffixed(*w);
                    quote!(Some(#w))
                }
                None => quote!(None),
            };
            quote!(key.field(#name, #value, #width)?;)
        }
    });
    quote!(#(#statements)*)
}

/// The private function rendering one key attribute of the item.
fn key_fn(cx: ItemCx<'_>, template: &Template) -> TokenStream {
    let function = naming::key_fn(&cx.item.name, &template.attribute);
    let params = params(cx, &unique_fields(template));
    let writer = key_writer(cx, template);
    let parts = write_parts(cx, &template.parts);
    let docs = doc(&format!(
        "Renders `{}` of a `{}`: `{}`.",
        template.attribute, cx.item.name, template.text
    ));
    quote! {
        #docs
        fn #function(#(#params),*) -> Result<::dynamo_runtime::AttributeValue, ::dynamo_runtime::KeyError> {
            #writer
            #parts
            Ok(key.finish_attribute())
        }
    }
}
