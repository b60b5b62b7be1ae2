//! Query builders of an item type: one per access (the table's key and
//! each index it is in), the partition from the partition key, a method
//! per sort-key field returning the runtime's `SortOn` (whose methods are
//! the conditions), and projection structs for indexes that do not store
//! whole items.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{
    ItemCx, doc,
    keys::{key_text, many, params, partition, row_decoder},
    link,
    types::{derives, rust_type},
};
use crate::{
    ir::{Access, FieldType, IndexKind, KeyId, KeyValue, SortField},
    names::{AccessNames, SortFieldNames},
};

pub(super) fn emit_queries(cx: ItemCx<'_>) -> TokenStream {
    let queries = cx
        .item
        .accesses
        .iter()
        .zip(&cx.names.accesses)
        .map(|(access, names)| emit_query(cx, access, names));
    quote!(#(#queries)*)
}

/// The sort key of a query, with the item type's own condition.
fn sort_key(cx: ItemCx<'_>, key: Option<KeyId>) -> TokenStream {
    match key.map(|k| (k, cx.item.key(k))) {
        None => quote!(None),
        Some((k, KeyValue::Template(_))) => {
            let name = &cx.names.keys[k.0];
            quote!(Some(Self::#name.sort_key()))
        }
        Some((_, KeyValue::Field { field, .. })) => {
            cx.cx.fields_of();
            let ident = &cx.names.fields[field.0];
            quote!(Some(Self::FIELDS.#ident.sort_key()))
        }
    }
}

fn emit_query(cx: ItemCx<'_>, access: &Access, names: &AccessNames) -> TokenStream {
    let (item, table) = (cx.item, cx.table());
    let ty = &cx.names.ty;
    let AccessNames {
        function,
        query,
        sorted,
        projection,
        sort_fields,
    } = names;
    let field_idents = |fields: &[crate::ir::FieldId]| -> Vec<Ident> {
        fields
            .iter()
            .map(|f| cx.names.fields[f.0].clone())
            .collect()
    };
    let partition_fields = item.key(access.partition).fields();
    let partition_idents = field_idents(&partition_fields);
    let mut partition_params = params(cx, &partition_fields, &partition_idents);
    let partition = partition(cx, &quote!(Self), access.partition, &partition_idents);
    // The other attributes of a multi-attribute partition key: each a
    // field, equal to its parameter.
    let more_partition: Vec<TokenStream> = access
        .more_partition
        .iter()
        .map(|k| {
            let fields = item.key(*k).fields();
            let idents = field_idents(&fields);
            partition_params.extend(params(cx, &fields, &idents));
            let key = self::partition(cx, &quote!(Self), *k, &idents);
            quote!(.partition_also(#key))
        })
        .collect();
    let index = match access.index {
        None => quote!(None),
        Some(id) => {
            let name: &str = &table.index_def(id).name;
            quote!(Some(#name))
        }
    };
    let sort = sort_key(cx, access.sort);
    let consistent = access.consistent.then(|| quote!(, consistent));
    // The key parts bound first, so the constructor call fits a line.
    let sorted_to = sorted.as_ref().map(|s| quote!(=> #s));
    let (ctor, options, sorted_options) = match projection {
        None => (
            quote!(dynamo::__private::query_items(#index, partition, sort)),
            quote!(dynamo::query_options!(#query #sorted_to, items #ty #consistent);),
            quote!(dynamo::query_options!(#sorted, items #ty #consistent);),
        ),
        Some(projection) => (
            quote!(dynamo::__private::query_rows(&TABLE, #index, partition, sort, &[], #projection::from_row)),
            quote!(dynamo::query_options!(#query #sorted_to, projection #projection of #ty #consistent);),
            quote!(dynamo::query_options!(#sorted, projection #projection of #ty #consistent);),
        ),
    };
    let row = projection.as_ref().unwrap_or(ty);
    let where_ = match access.index {
        None => "the table".to_owned(),
        Some(id) => {
            let index = table.index_def(id);
            format!(
                "{} index `{}`",
                if index.kind == IndexKind::Global {
                    "global"
                } else {
                    "local"
                },
                index.name
            )
        }
    };
    let partition_text = std::iter::once(access.partition)
        .chain(access.more_partition.iter().copied())
        .map(|k| key_text(cx, k))
        .collect::<Vec<_>>()
        .join(", ");
    let fn_doc = doc(&format!(
        "Queries the `{}` items of one partition of {where_} ({}), in sort-key order.{}",
        item.name,
        partition_text,
        match projection {
            None => String::new(),
            Some(p) => format!(" The index does not store whole items: results are [`{p}`]s."),
        }
    ));
    let query_doc = doc(&format!(
        "A query of `{}` items in {where_}; see {}.",
        item.name,
        link(
            &format!("{}::{function}", item.name),
            &format!("{ty}::{function}")
        )
    ));
    let methods: Vec<TokenStream> = access.sort.map_or(Vec::new(), |sort| {
        access
            .sort_fields
            .iter()
            .zip(sort_fields)
            .map(|(c, m)| {
                if access.multi_attribute {
                    attribute_field(cx, access, c, m)
                } else {
                    sort_field(cx, sort, c, m)
                }
            })
            .collect()
    });
    let sorted = sorted.as_ref().map(|s| {
        let docs = doc(&format!(
            "{} with its sort-key condition: one per query, as DynamoDB reads a multi-attribute sort key left to right.",
            link(&query.to_string(), &query.to_string())
        ));
        quote! {
            #docs
            #[derive(Debug)]
            #[must_use = "call `.send(&db)`, `.all(&db)` or `.stream(&db)` to run the query"]
            pub struct #s(dynamo::Query<#row>);

            #sorted_options
        }
    });
    // A field named `to_x`, `is_x`, ... names a method taking `self`.
    let methods = (!methods.is_empty()).then(|| {
        quote! {
            #[allow(clippy::wrong_self_convention)]
            impl #query {
                #(#methods)*
            }
        }
    });
    let allow = many(partition_params.len());
    let projection = projection.as_ref().map(|p| emit_projection(cx, access, p));
    quote! {
        impl #ty {
            #fn_doc
            #allow
            pub fn #function(#(#partition_params),*) -> #query {
                let partition = #partition;
                let sort = #sort;
                #query(#ctor #(#more_partition)*)
            }
        }

        #query_doc
        #[derive(Debug)]
        #[must_use = "call `.send(&db)`, `.all(&db)` or `.stream(&db)` to run the query"]
        pub struct #query(dynamo::Query<#row>);

        #options

        #sorted

        #methods

        #projection
    }
}

/// `let x = x.to_owned();` (or `.clone()`) for each earlier value a sort
/// condition's closure keeps (it outlives the call); nothing for `Copy`
/// types.
fn owned_values(cx: ItemCx<'_>, c: &SortField, idents: &[Ident]) -> Vec<TokenStream> {
    c.earlier
        .iter()
        .zip(idents)
        .filter_map(|(f, i)| {
            let ty = &cx.item.field(*f).ty;
            if *ty == FieldType::String {
                Some(quote!(let #i = #i.to_owned();))
            } else if ty.is_copy() {
                None
            } else {
                Some(quote!(let #i = #i.clone();))
            }
        })
        .collect()
}

/// The Rust names of the fields a sort condition takes before its own.
fn earlier_idents(cx: ItemCx<'_>, c: &SortField) -> Vec<Ident> {
    c.earlier
        .iter()
        .map(|f| cx.names.fields[f.0].clone())
        .collect()
}

/// The conditions a sort field's `SortOn` has, for its rustdoc.
fn ops_text(c: &SortField, ty: &FieldType) -> String {
    let mut ops = vec!["`eq`"];
    if *ty == FieldType::String {
        ops.push("`begins_with`");
    }
    if c.ranged {
        ops.extend(["`lt`", "`le`", "`gt`", "`ge`", "`between`"]);
    }
    ops.join(", ")
}

/// `` `a`, `b` `` and `value`/`values`: the earlier fields a condition
/// takes, for its rustdoc; `None` without any.
fn earlier_text(cx: ItemCx<'_>, c: &SortField) -> Option<(String, &'static str)> {
    let names: Vec<String> = c
        .earlier
        .iter()
        .map(|f| format!("`{}`", cx.item.field(*f).name))
        .collect();
    let values = if names.len() == 1 { "value" } else { "values" };
    (!names.is_empty()).then(|| (names.join(", "), values))
}

/// The method of one field of sort key `sort`: the earlier fields'
/// values, returning the runtime's `SortOn` with the conditions the key
/// allows on the field.
fn sort_field(cx: ItemCx<'_>, sort: KeyId, c: &SortField, n: &SortFieldNames) -> TokenStream {
    let SortFieldNames { method, compare } = n;
    let (item, names) = (cx.item, cx.names);
    let owner = &names.ty;
    let attribute = item.key(sort).attribute();
    let field = item.field(c.field);
    let ty = rust_type(cx.cx, &field.ty);
    let earlier = earlier_idents(cx, c);
    let earlier_params = params(cx, &c.earlier, &earlier);
    let owned = owned_values(cx, c, &earlier);
    let ops = ops_text(c, &field.ty);
    let (condition, text) = match item.key(sort) {
        KeyValue::Field { .. } => {
            cx.cx.fields_of();
            let ident = &names.fields[c.field.0];
            (
                quote!(|#compare| #owner::FIELDS.#ident.sort_compare(#compare)),
                format!(
                    "The sort-key conditions on `{}` (the sort key `{attribute}`): {ops}.",
                    field.name
                ),
            )
        }
        KeyValue::Template(_) => {
            let key = &names.keys[sort.0];
            let move_ = (!earlier.is_empty()).then(|| quote!(move));
            let equal = earlier_text(cx, c).map_or(String::new(), |(names, values)| {
                format!(", {names} equal to the {values} given")
            });
            (
                quote!(#move_ |#compare| #owner::#key.compare(&[#(&#earlier),*], #compare)),
                format!(
                    "The sort-key conditions on `{}` ({}){equal}: {ops}.",
                    field.name,
                    key_text(cx, sort),
                ),
            )
        }
    };
    let order = (!c.ranged).then(|| quote!(, dynamo::Exact));
    let docs = doc(&text);
    let allow = many(earlier.len());
    quote! {
        #docs
        #allow
        pub fn #method(self, #(#earlier_params),*) -> dynamo::SortOn<Self, #ty #order> {
            #(#owned)*
            dynamo::SortOn::new(self, #condition)
        }
    }
}

/// The method of one attribute of a multi-attribute sort key: the
/// earlier attributes' values (equal), returning the runtime's `SortOn`
/// with the conditions on this attribute.
fn attribute_field(
    cx: ItemCx<'_>,
    access: &Access,
    c: &SortField,
    n: &SortFieldNames,
) -> TokenStream {
    let SortFieldNames { method, compare } = n;
    let (item, names) = (cx.item, cx.names);
    let owner = &names.ty;
    cx.cx.fields_of();
    let field = item.field(c.field);
    let ty = rust_type(cx.cx, &field.ty);
    let ident = &names.fields[c.field.0];
    let earlier = earlier_idents(cx, c);
    let earlier_params = params(cx, &c.earlier, &earlier);
    let ops = ops_text(c, &field.ty);
    let index = access.index.map_or(String::new(), |id| {
        cx.table().index_def(id).name.to_string()
    });
    let condition = if earlier.is_empty() {
        quote!(|#compare| #owner::FIELDS.#ident.sort_compare(#compare))
    } else {
        // The closure outlives the call: it owns the earlier values.
        let keys = c.earlier.iter().zip(&earlier).map(|(f, i)| {
            if item.field(*f).ty == FieldType::String {
                quote!(#owner::FIELDS.#i.key_text(&#i))
            } else {
                quote!(#owner::FIELDS.#i.key(&#i))
            }
        });
        let owned = owned_values(cx, c, &earlier);
        let closure = quote!(move |#compare| #owner::FIELDS.#ident.sort_compare_after([#(#keys),*], #compare));
        if owned.is_empty() {
            closure
        } else {
            quote!({ #(#owned)* #closure })
        }
    };
    let equal = earlier_text(cx, c).map_or(String::new(), |(names, values)| {
        format!(", after {names} equal to the {values} given")
    });
    let docs = doc(&format!(
        "The sort-key conditions on `{}` (attribute {} of index `{index}`'s sort key){equal}: {ops}.",
        field.name,
        c.earlier.len() + 1,
    ));
    let allow = many(earlier.len());
    quote! {
        #docs
        #allow
        pub fn #method(self, #(#earlier_params),*) -> dynamo::SortOn<Self, #ty> {
            dynamo::SortOn::new(self, #condition)
        }
    }
}

/// The row struct of an index that does not store whole items: key fields
/// read back out of the key attributes, included attributes as options.
fn emit_projection(cx: ItemCx<'_>, access: &Access, projection: &Ident) -> TokenStream {
    let (item, names, table) = (cx.item, cx.names, cx.table());
    let key = &names.key;
    let defs = access.projected.iter().map(|p| {
        let f = item.field(p.field);
        let ident = &names.fields[p.field.0];
        let t = rust_type(cx.cx, &f.ty);
        let t = if p.key { t } else { quote!(Option<#t>) };
        let docs = doc(&format!("The item's `{}`.", f.name));
        quote!(#docs pub #ident: #t,)
    });
    let derives = derives(
        cx.cx,
        access.projected.iter().map(|p| &item.field(p.field).ty),
        false,
        &[&table.attributes.projections],
    );
    let table_access = item.table_access();
    let key_init = item.key_fields().into_iter().map(|id| {
        let ident = &names.fields[id.0];
        if item.field(id).ty.is_copy() {
            quote!(#ident: self.#ident,)
        } else {
            quote!(#ident: self.#ident.clone(),)
        }
    });
    let index = access
        .index
        .map_or(String::new(), |id| table.index_def(id).name.to_string());
    // A row of the only item type in the index that does not parse is an
    // error; with others sharing it, it may be theirs.
    let sole = table
        .items
        .iter()
        .filter(|i| i.accesses.iter().any(|a| a.index == access.index))
        .count()
        == 1;
    let decode = row_decoder(
        cx,
        &quote!(raw),
        &[
            table_access.partition,
            table_access.sort.unwrap_or(table_access.partition),
            access.partition,
            access.sort.unwrap_or(access.partition),
        ]
        .into_iter()
        .chain(access.more_partition.iter().copied())
        .collect::<Vec<_>>(),
        access.projected.iter().map(|p| (p.field, !p.key)),
        sole,
    );
    let docs = doc(&format!(
        "A `{}` as index `{index}` stores it: its key fields{}.",
        item.name,
        if access.projected.iter().any(|p| !p.key) {
            " and the included attributes"
        } else {
            ""
        }
    ));
    quote! {
        #docs
        #derives
        pub struct #projection {
            #(#defs)*
        }

        impl #projection {
            /// The key of the full item, for `get` or `batch_get`.
            pub fn key(&self) -> #key {
                #key { #(#key_init)* }
            }

            /// Decodes one row of the index; `None` for another item type's.
            fn from_row(raw: dynamo::Attributes) -> dynamo::Result<Option<Self>> {
                #decode
            }
        }
    }
}
