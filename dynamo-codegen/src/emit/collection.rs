//! Collections: item types read together from one partition, as an enum
//! with a variant per item type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{
    doc,
    item::{ItemCx, key_value_call, params},
};
use crate::{
    ir::{self, IndexKind, KeyValue},
    naming,
};

pub(super) fn emit_collection(table: &ir::Table, collection: &ir::Collection) -> TokenStream {
    let ir::Collection {
        name,
        rust_name,
        doc: docs,
        index,
        items,
    } = collection;
    let items: Vec<&ir::Item> = items
        .iter()
        .filter_map(|n| table.items.iter().find(|i| &i.name == n))
        .collect();
    let Some(first) = items.first() else {
        return TokenStream::new();
    };
    let cx = ItemCx { table, item: first };
    let partition: Option<&KeyValue> = match index {
        None => Some(&first.partition),
        Some(index) => first.index(index).map(|i| &i.partition),
    };
    let Some(partition) = partition else {
        return TokenStream::new();
    };
    let ident = naming::ident(rust_name);
    let query = format_ident!("{rust_name}Query");
    let fields = super::item::unique_fields_of(partition);
    let partition_params = params(cx, &fields);
    let by_param = |i: usize| super::query::param_as_ref(cx, i);
    let partition_call = key_value_call(cx, partition, &by_param);
    let ix = index.as_ref().and_then(|name| table.index(name));
    let keys = super::query::query_keys(table, ix);
    let consistent = ix.is_none_or(|i| i.kind == IndexKind::Local);
    let variants = items.iter().map(|i| {
        let v = naming::ident(&i.name);
        let d = doc(&format!("A `{}`.", i.name));
        quote!(#d #v(#v),)
    });
    let type_names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    let arms = items.iter().map(|i| {
        let v = naming::ident(&i.name);
        let n = &i.name;
        quote!(Some(#n) => <#v as ::dynamo_runtime::Item>::decode(raw).map(|i| Some(Self::#v(i))),)
    });
    let options = if consistent {
        quote!(::dynamo_runtime::query_options!(#query, #ident, consistent);)
    } else {
        quote!(::dynamo_runtime::query_options!(#query, #ident);)
    };
    let where_ = index
        .as_ref()
        .map_or("the table".to_owned(), |i| format!("index `{i}`"));
    let enum_doc = doc(&format!(
        "{}Collection `{name}`: the item types {} read together from one partition of {where_}.",
        docs.as_ref().map_or(String::new(), |d| format!("{d}\n\n")),
        type_names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let query_doc = doc(&format!(
        "A query of collection `{name}`; see [`{rust_name}::query`]."
    ));
    quote! {
        #enum_doc
        #[derive(Debug, Clone, PartialEq)]
        pub enum #ident {
            #(#variants)*
        }

        impl #ident {
            /// Queries one partition for every item of the collection, in
            /// sort-key order, each decoded by its type attribute.
            pub fn query(#(#partition_params),*) -> #query {
                #query(::dynamo_runtime::Query::new(
                    &TABLE,
                    #keys,
                    #partition_call,
                    &[#(#type_names),*],
                    Self::from_row,
                ))
            }

            fn from_row(raw: ::dynamo_runtime::Attributes) -> ::dynamo_runtime::Result<Option<Self>> {
                let type_name = raw.get(TABLE.type_attribute).and_then(|v| v.as_s().ok()).cloned();
                match type_name.as_deref() {
                    #(#arms)*
                    _ => Ok(None),
                }
            }
        }

        #query_doc
        #[derive(Debug)]
        #[must_use = "call `.send(&db)`, `.all(&db)` or `.stream(&db)` to run the query"]
        pub struct #query(::dynamo_runtime::Query<#ident>);

        #options
    }
}
