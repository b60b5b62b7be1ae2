//! Tables with a stream: each item type's key read back out of a stream
//! record's key attributes (`StreamKey`), and the table's `AnyItem` /
//! `AnyKey` enums, which records of any item type decode into.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{ItemCx, TableCx, doc, keys::row_decoder};
use crate::names::{ANY_ITEM, ANY_KEY};

/// `impl StreamKey for <Item>Key`: the key fields out of the table key
/// attributes, by the templates (plain key attributes are the fields).
pub(super) fn emit_stream_key(cx: ItemCx<'_>) -> TokenStream {
    let (item, key) = (cx.item, &cx.names.key);
    let access = item.table_access();
    // With one item type, keys that do not fit are an error; with
    // several, they may be another type's.
    let sole = cx.table().items.len() == 1;
    let decode = row_decoder(
        cx,
        &quote!(raw.clone()),
        &[access.partition, access.sort.unwrap_or(access.partition)],
        item.key_fields().into_iter().map(|id| (id, false)),
        sole,
    );
    quote! {
        impl dynamo::StreamKey for #key {
            fn decode_keys(raw: &dynamo::Attributes) -> dynamo::Result<Option<Self>> {
                #decode
            }
        }
    }
}

/// `AnyItem` and `AnyKey`: a variant per item type, decoded by the type
/// attribute (by the key templates from keys alone).
pub(super) fn emit_any(cx: &TableCx<'_>) -> TokenStream {
    let table = cx.table;
    let any_item = format_ident!("{ANY_ITEM}");
    let any_key = format_ident!("{ANY_KEY}");
    let name = format!("{}::{ANY_ITEM}", crate::names::stem(&cx.names.module));
    let variants: Vec<_> = cx.names.items.iter().map(|n| &n.ty).collect();
    let keys: Vec<_> = cx.names.items.iter().map(|n| &n.key).collect();
    let type_names: Vec<&str> = table.items.iter().map(|i| i.name.as_str()).collect();
    let item_docs = type_names.iter().map(|n| doc(&format!("A `{n}`.")));
    let key_docs = type_names
        .iter()
        .map(|n| doc(&format!("The key of a `{n}`.")));
    let decode = if table.def.has_type_attribute() {
        // Items a `rename_item` step has not reached yet carry their
        // previous names.
        let patterns = table.items.iter().map(|item| {
            let names = std::iter::once(item.name.as_str())
                .chain(item.previous.names.iter().map(String::as_str));
            quote!(#(#names)|*)
        });
        quote! {
            match dynamo::__private::item_type(&TABLE, &image).as_deref() {
                #(Some(#patterns) => Ok(Self::#variants(dynamo::Item::decode(image)?)),)*
                found => Err(dynamo::__private::unknown_item_type(
                    Self::NAME, &TABLE, found.map(str::to_owned), &[#(#type_names),*],
                )),
            }
        }
    } else {
        // A table without a type attribute has one item type.
        let only = variants[0];
        quote!(Ok(Self::#only(dynamo::Item::decode(image)?)))
    };
    let item_doc = doc(&format!(
        "An item of table `{}`, of any of its item types: what its stream's \
         records decode into (`record.decode::<{ANY_ITEM}>()`).",
        table.def.name
    ));
    let key_doc = doc(&format!(
        "The key of an item of table `{}`, of any of its item types.",
        table.def.name
    ));
    let serde = super::types::serde_derive(cx);
    let user = super::types::attributes(&[&table.attributes.unions]);
    quote! {
        #item_doc
        #[derive(Debug, Clone, PartialEq)]
        #serde
        #user
        #[allow(clippy::large_enum_variant)]
        pub enum #any_item {
            #(#item_docs #variants(#variants),)*
        }

        #key_doc
        #[derive(Debug, Clone, PartialEq)]
        #serde
        #user
        pub enum #any_key {
            #(#key_docs #variants(#keys),)*
        }

        impl dynamo::StreamItem for #any_item {
            type Key = #any_key;
            const NAME: &'static str = #name;
            const TABLE: &'static dynamo::TableDef = &TABLE;

            fn decode_image(image: dynamo::Attributes) -> dynamo::Result<Self> {
                #decode
            }

            fn key_of(&self) -> #any_key {
                match self {
                    #(Self::#variants(item) => #any_key::#variants(dynamo::Item::key(item)),)*
                }
            }

            fn decode_keys(raw: &dynamo::Attributes) -> dynamo::Result<Option<#any_key>> {
                dynamo::__private::one_key(Self::NAME, &TABLE, raw, [
                    #((#type_names, <#keys as dynamo::StreamKey>::decode_keys(raw)?.map(#any_key::#variants)),)*
                ])
            }
        }
    }
}
