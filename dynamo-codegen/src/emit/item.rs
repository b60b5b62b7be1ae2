//! An item type: its struct, key struct, key rendering, codec and the
//! single-item operations.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{doc, param_type, rust_type, subset::Item};
use crate::{
    ir::{self, FieldType, TemplatePart},
    naming,
};

pub(super) fn emit_item(table: &ir::Table, item: &Item) -> TokenStream {
    let Item {
        name: _,
        doc: _,
        fields: _,
        partition,
        sort,
        key_fields: _,
    } = item;
    let key_fns = std::iter::once(partition)
        .chain(sort)
        .map(|t| key_fn(table, item, t));
    let structs = emit_structs(table, item);
    let codec = emit_codec(item);
    let key_impl = emit_key_impl(item);
    let operations = emit_operations(item);
    let query = super::query::emit_query(table, item);
    quote! {
        #structs
        #codec
        #key_impl
        #operations
        #query
        #(#key_fns)*
    }
}

fn emit_structs(table: &ir::Table, item: &Item) -> TokenStream {
    let name = naming::ident(&item.name);
    let key_name = naming::key_struct(&item.name);
    let templates = std::iter::once(&item.partition)
        .chain(&item.sort)
        .map(|t| format!("`{}` = `{}`", t.attribute, t.text))
        .collect::<Vec<_>>()
        .join(", ");
    let summary = item
        .doc
        .clone()
        .unwrap_or_else(|| format!("An item of type `{}`.", item.name));
    let item_doc = doc(&format!(
        "{summary}\n\nStored in table `{}` with keys {templates}.",
        table.def.name
    ));
    let fields = item.fields.iter().map(|f| {
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
    });
    let key_fields: Vec<&ir::Field> = item.key_fields.iter().map(|&i| &item.fields[i]).collect();
    let key_field_defs = key_fields.iter().map(|f| {
        let ident = naming::ident(&f.rust_name);
        let ty = rust_type(&f.ty);
        let docs = doc(&format!("The item's `{}`.", f.name));
        quote!(#docs pub #ident: #ty,)
    });
    let item_derives = derives(item.fields.iter().map(|f| &f.ty), false);
    let key_derives = derives(key_fields.iter().map(|f| &f.ty), true);
    let key_doc = doc(&format!(
        "The key of a [`{}`]: the fields its key templates use.",
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

/// `Debug, Clone, PartialEq`, and `Eq` (and `Hash` when asked) unless a
/// float is involved.
fn derives<'a>(mut types: impl Iterator<Item = &'a FieldType>, hash: bool) -> TokenStream {
    if types.any(|t| matches!(t, FieldType::Float(_))) {
        quote!(#[derive(Debug, Clone, PartialEq)])
    } else if hash {
        quote!(#[derive(Debug, Clone, PartialEq, Eq, Hash)])
    } else {
        quote!(#[derive(Debug, Clone, PartialEq, Eq)])
    }
}

fn field_type(field: &ir::Field) -> TokenStream {
    let ty = rust_type(&field.ty);
    if field.optional {
        quote!(Option<#ty>)
    } else {
        ty
    }
}

/// The argument that passes field `field` of `owner` (`self`, a key) to a
/// key function.
fn key_arg(owner: &TokenStream, field: &ir::Field) -> TokenStream {
    let ident = naming::ident(&field.rust_name);
    match &field.ty {
        FieldType::String => quote!(&#owner.#ident),
        _ => quote!(#owner.#ident),
    }
}

/// The call that renders `template` from the fields of `owner`.
fn key_call(item: &Item, template: &ir::Template, owner: &TokenStream) -> TokenStream {
    let function = naming::key_fn(&item.name, &template.attribute);
    let args = unique_fields(template)
        .into_iter()
        .map(|i| key_arg(owner, &item.fields[i]));
    quote!(#function(#(#args),*))
}

fn emit_codec(item: &Item) -> TokenStream {
    let name = naming::ident(&item.name);
    let type_name = &item.name;
    let key_name = naming::key_struct(&item.name);
    let this = quote!(self);
    let key_attributes = std::iter::once(&item.partition).chain(&item.sort).map(|t| {
        let attribute = &t.attribute;
        let call = key_call(item, t, &this);
        quote!(item.attribute(#attribute, #call?);)
    });
    let encode_fields = item.fields.iter().map(|f| {
        let ident = naming::ident(&f.rust_name);
        let attribute = &f.attribute;
        if f.optional {
            quote!(item.optional(#attribute, &self.#ident);)
        } else {
            quote!(item.field(#attribute, &self.#ident);)
        }
    });
    let decode_fields = item.fields.iter().map(|f| {
        let ident = naming::ident(&f.rust_name);
        let attribute = &f.attribute;
        if f.optional {
            quote!(#ident: item.optional(#attribute)?,)
        } else {
            quote!(#ident: item.field(#attribute)?,)
        }
    });
    let key_fields = item.key_fields.iter().map(|&i| {
        let field = &item.fields[i];
        let ident = naming::ident(&field.rust_name);
        match &field.ty {
            FieldType::String => quote!(#ident: self.#ident.clone(),),
            _ => quote!(#ident: self.#ident,),
        }
    });
    // The type attribute plus every key attribute plus every field.
    let capacity =
        Literal::usize_unsuffixed(2 + usize::from(item.sort.is_some()) + item.fields.len());
    quote! {
        impl ::dynamo_runtime::Item for #name {
            type Key = #key_name;
            const TYPE_NAME: &'static str = #type_name;
            const TABLE: &'static ::dynamo_runtime::TableDef = &TABLE;

            fn key(&self) -> #key_name {
                #key_name { #(#key_fields)* }
            }

            fn encode(&self) -> ::dynamo_runtime::Result<::dynamo_runtime::Attributes> {
                let mut item = ::dynamo_runtime::codec::Encoder::new(
                    Self::TYPE_NAME,
                    TABLE.type_attribute,
                    #capacity,
                );
                #(#key_attributes)*
                #(#encode_fields)*
                Ok(item.finish())
            }

            fn decode(item: ::dynamo_runtime::Attributes) -> ::dynamo_runtime::Result<Self> {
                let mut item = ::dynamo_runtime::codec::Decoder::new(
                    item,
                    Self::TYPE_NAME,
                    TABLE.type_attribute,
                )?;
                Ok(Self { #(#decode_fields)* })
            }
        }
    }
}

fn emit_key_impl(item: &Item) -> TokenStream {
    let name = naming::ident(&item.name);
    let key_name = naming::key_struct(&item.name);
    let this = quote!(self);
    let entries = std::iter::once(&item.partition).chain(&item.sort).map(|t| {
        let attribute = &t.attribute;
        let call = key_call(item, t, &this);
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

fn emit_operations(item: &Item) -> TokenStream {
    let name = naming::ident(&item.name);
    let key_name = naming::key_struct(&item.name);
    let get_doc = doc(&format!(
        "Reads the `{}` with `key`; `None` when there is none.",
        item.name
    ));
    let put_doc = doc(&format!(
        "Writes this `{}`, replacing any item with the same key.",
        item.name
    ));
    let delete_doc = doc(&format!(
        "Deletes the `{}` with `key`; deleting a missing item does nothing.",
        item.name
    ));
    quote! {
        impl #name {
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
        }
    }
}

/// The fields a template uses, each once, in order of use.
pub(super) fn unique_fields(template: &ir::Template) -> Vec<usize> {
    let mut out = Vec::new();
    for field in template.fields() {
        if !out.contains(&field) {
            out.push(field);
        }
    }
    out
}

/// Parameters `name: type` for the given fields.
pub(super) fn params(item: &Item, fields: &[usize]) -> Vec<TokenStream> {
    fields
        .iter()
        .map(|&i| {
            let field = &item.fields[i];
            let ident = naming::ident(&field.rust_name);
            let ty = param_type(&field.ty);
            quote!(#ident: #ty)
        })
        .collect()
}

/// `let mut key = KeyWriter::new(..);` for rendering `template`.
pub(super) fn key_writer(table: &ir::Table, item: &Item, template: &ir::Template) -> TokenStream {
    let type_name = &item.name;
    let attribute = &template.attribute;
    let separator = if template.field_count() > 1 {
        let separator = &table.key_separator;
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
pub(super) fn write_parts(item: &Item, parts: &[TemplatePart]) -> TokenStream {
    let statements = parts.iter().map(|part| match part {
        TemplatePart::Literal(text) => quote!(key.literal(#text);),
        TemplatePart::Field { field, width } => {
            let field = &item.fields[*field];
            let name = &field.name;
            let ident = naming::ident(&field.rust_name);
            let value = match &field.ty {
                FieldType::String => quote!(#ident),
                _ => quote!(&#ident),
            };
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

/// The private function rendering one key attribute of `item`.
fn key_fn(table: &ir::Table, item: &Item, template: &ir::Template) -> TokenStream {
    let function = naming::key_fn(&item.name, &template.attribute);
    let params = params(item, &unique_fields(template));
    let writer = key_writer(table, item, template);
    let parts = write_parts(item, &template.parts);
    let docs = doc(&format!(
        "Renders `{}` of a `{}`: `{}`.",
        template.attribute, item.name, template.text
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
