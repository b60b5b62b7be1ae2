//! Collections: item types read together from one partition, as an enum
//! with a variant per item type.

use proc_macro2::TokenStream;
use quote::quote;

use super::{
    ItemCx, TableCx, doc,
    keys::{params, partition},
};
use crate::{ir, names::CollectionNames};

pub(super) fn emit_collection(
    cx: &TableCx<'_>,
    collection: &ir::Collection,
    names: &CollectionNames,
) -> TokenStream {
    let ir::Collection {
        name,
        span: _,
        doc: docs,
        index,
        items,
        partition: (first, access),
    } = collection;
    let CollectionNames { ty, query } = names;
    let table = cx.table;
    let first = ItemCx {
        cx,
        item: table.item(*first),
        names: &cx.names.items[first.0],
    };
    let access = first.item.access(*access);
    let fields = first.item.key(access.partition).fields();
    let idents: Vec<_> = fields
        .iter()
        .map(|f| first.names.fields[f.0].clone())
        .collect();
    let partition_params = params(first, &fields, &idents);
    let owner = &first.names.ty;
    let partition = partition(first, &quote!(#owner), access.partition, &idents);
    let index_name = match index {
        None => quote!(None),
        Some(id) => {
            let n: &str = &table.index_def(*id).name;
            quote!(Some(#n))
        }
    };
    let consistent = index.is_none_or(|id| table.index_def(id).consistent_reads());
    let consistent = consistent.then(|| quote!(, consistent));
    let variants: Vec<_> = items.iter().map(|id| &cx.names.items[id.0].ty).collect();
    let type_names: Vec<&str> = items
        .iter()
        .map(|id| table.item(*id).name.as_str())
        .collect();
    let variant_docs = type_names.iter().map(|n| doc(&format!("A `{n}`.")));
    // Items a `rename_item` step has not reached yet are read under their
    // previous names too.
    let stored_names: Vec<&str> = items
        .iter()
        .flat_map(|id| {
            let item = table.item(*id);
            std::iter::once(item.name.as_str())
                .chain(item.previous.names.iter().map(String::as_str))
        })
        .collect();
    let patterns = items.iter().map(|id| {
        let item = table.item(*id);
        let names = std::iter::once(item.name.as_str())
            .chain(item.previous.names.iter().map(String::as_str));
        quote!(#(#names)|*)
    });
    let where_ = index.map_or("the table".to_owned(), |id| {
        format!("index `{}`", table.index_def(id).name)
    });
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
        "A query of collection `{name}`; see [`{ty}::query`]."
    ));
    let serde = super::types::serde_derive(cx);
    let user = super::types::attributes(&[&table.attributes.unions]);
    quote! {
        #enum_doc
        #[derive(Debug, Clone, PartialEq)]
        #serde
        #user
        #[allow(clippy::large_enum_variant)]
        pub enum #ty {
            #(#variant_docs #variants(#variants),)*
        }

        impl #ty {
            /// Queries one partition for every item of the collection, in
            /// sort-key order, each decoded by its type attribute.
            pub fn query(#(#partition_params),*) -> #query {
                #query(dynamo::__private::query_rows(&TABLE, #index_name, #partition, None, &[#(#stored_names),*], Self::from_row))
            }

            fn from_row(raw: dynamo::Attributes) -> dynamo::Result<Option<Self>> {
                Ok(match dynamo::__private::item_type(&TABLE, &raw).as_deref() {
                    #(Some(#patterns) => Some(Self::#variants(dynamo::Item::decode(raw)?)),)*
                    _ => None,
                })
            }
        }

        #query_doc
        #[derive(Debug)]
        #[must_use = "call `.send(&db)`, `.all(&db)` or `.stream(&db)` to run the query"]
        pub struct #query(dynamo::Query<#ty>);

        dynamo::query_options!(#query, rows #ty #consistent);
    }
}
