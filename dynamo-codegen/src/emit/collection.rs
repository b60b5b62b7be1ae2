//! Collections: item types read together from one partition, as an enum
//! with a variant per item type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{
    doc,
    item::{ItemCx, key_value_call, params},
    types::is_copy,
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
    let by_param = |i: usize| {
        let f = cx.field(i);
        let ident = naming::ident(&f.rust_name);
        if is_copy(&f.ty) {
            quote!(&#ident)
        } else {
            quote!(#ident)
        }
    };
    let partition_call = key_value_call(cx, partition, &by_param);
    let (index_expr, pk, sk, consistent) = match index {
        None => (
            quote!(None),
            table.def.partition_key.name.clone(),
            table.def.sort_key.as_ref().map(|k| k.name.clone()),
            true,
        ),
        Some(name) => {
            let ix = table.index(name);
            (
                quote!(Some(#name)),
                ix.map(|i| i.partition_key.name.clone()).unwrap_or_default(),
                ix.and_then(|i| i.sort_key.as_ref().map(|k| k.name.clone())),
                ix.is_some_and(|i| i.kind == IndexKind::Local),
            )
        }
    };
    let sk = match sk {
        Some(sk) => quote!(Some(#sk)),
        None => quote!(None),
    };
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
                    ::dynamo_runtime::QueryKeys { index: #index_expr, partition_key: #pk, sort_key: #sk },
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
