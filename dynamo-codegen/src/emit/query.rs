//! Query builders of an item type: one per access (the table's key and
//! each index it is in), the partition from the partition key, a one-line
//! method per sort-key condition, and projection structs for indexes that
//! do not store whole items.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::{
    ItemCx, doc,
    keys::{key_text, many, params, partition},
    link,
    types::{decode_call, derives, param_type, rust_type},
};
use crate::{
    ir::{
        Access, FieldId, IndexKind, KeyId, KeyValue, SortCondition, SortOp, Template, TemplatePart,
    },
    names::{AccessNames, MethodNames},
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
        projection,
        conditions,
    } = names;
    let partition_fields = item.key(access.partition).fields();
    let partition_idents: Vec<Ident> = partition_fields
        .iter()
        .map(|f| cx.names.fields[f.0].clone())
        .collect();
    let partition_params = params(cx, &partition_fields, &partition_idents);
    let partition = partition(cx, &quote!(Self), access.partition, &partition_idents);
    let index = match access.index {
        None => quote!(None),
        Some(id) => {
            let name: &str = &table.index_def(id).name;
            quote!(Some(#name))
        }
    };
    let sort = sort_key(cx, access.sort);
    let consistent = access.consistent.then(|| quote!(, consistent));
    let (ctor, options) = match projection {
        None => (
            quote!(dynamo::__private::query_items(#index, #partition, #sort)),
            quote!(dynamo::query_options!(#query, items #ty #consistent);),
        ),
        Some(projection) => (
            quote!(dynamo::__private::query_rows(&TABLE, #index, #partition, #sort, &[], #projection::from_row)),
            quote!(dynamo::query_options!(#query, projection #projection of #ty #consistent);),
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
    let fn_doc = doc(&format!(
        "Queries the `{}` items of one partition of {where_} ({}), in sort-key order.{}",
        item.name,
        key_text(cx, access.partition),
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
            .conditions
            .iter()
            .zip(conditions)
            .map(|(c, n)| condition(cx, sort, c, n))
            .collect()
    });
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
                #query(#ctor)
            }
        }

        #query_doc
        #[derive(Debug)]
        #[must_use = "call `.send(&db)`, `.all(&db)` or `.stream(&db)` to run the query"]
        pub struct #query(dynamo::Query<#row>);

        #options

        #methods

        #projection
    }
}

/// The template text of the pieces rendered for the first `given` fields,
/// for docs.
fn prefix_text(cx: ItemCx<'_>, template: &Template, given: usize) -> (String, bool) {
    let fields = template.fields();
    let mut out = String::new();
    for part in &template.parts {
        match part {
            TemplatePart::Literal(s) => out.push_str(&s.replace('{', "{{").replace('}', "}}")),
            TemplatePart::Field { field, .. } => {
                if fields
                    .iter()
                    .position(|f| f == field)
                    .is_some_and(|p| p >= given)
                {
                    return (out, false);
                }
                out.push_str(&format!("{{{}}}", cx.item.field(*field).name));
            }
        }
    }
    (out, true)
}

/// One sort-key condition method on sort key `sort`.
fn condition(cx: ItemCx<'_>, sort: KeyId, c: &SortCondition, n: &MethodNames) -> TokenStream {
    let (item, names) = (cx.item, cx.names);
    let owner = &names.ty;
    let MethodNames { method, params } = n;
    let attribute = item.key(sort).attribute();
    let (last, earlier) = (c.last, &c.earlier[..]);
    let last_field = item.field(last);
    let last_ty = param_type(cx.cx, &last_field.ty);
    let earlier_params: Vec<TokenStream> = earlier
        .iter()
        .zip(params)
        .map(|(f, p)| {
            let ty = param_type(cx.cx, &item.field(*f).ty);
            quote!(#p: #ty)
        })
        .collect();
    let refs = |ps: &[Ident]| {
        let ps = ps.iter();
        quote!(&[#(&#ps),*])
    };
    let (signature, call, text) = match item.key(sort) {
        KeyValue::Field { .. } => {
            cx.cx.fields_of();
            let ident = &names.fields[last.0];
            let path = quote!(#owner::FIELDS.#ident);
            let ty = rust_type(cx.cx, &last_field.ty);
            let name = &last_field.name;
            match c.op {
                SortOp::BeginsWith => {
                    let p = &params[0];
                    (
                        quote!(#p: &str),
                        quote!(#path.sort_begins_with(#p)),
                        format!("Only items whose `{name}` begins with `{p}`."),
                    )
                }
                SortOp::Between => {
                    let (low, high) = (&params[0], &params[1]);
                    (
                        quote!(#low: #ty, #high: #ty),
                        quote!(#path.sort_between(&#low, &#high)),
                        format!(
                            "Only items whose `{name}` is between `{low}` and `{high}`, both included."
                        ),
                    )
                }
                op => {
                    let p = &params[0];
                    let call = format_ident!("sort_{}", op.suffix());
                    let words = op.words();
                    (
                        quote!(#p: #ty),
                        quote!(#path.#call(&#p)),
                        format!("Only items whose `{name}` is {words} `{p}`."),
                    )
                }
            }
        }
        KeyValue::Template(template) => {
            let key = &names.keys[sort.0];
            let template_call = quote!(#owner::#key);
            let name = &last_field.name;
            match c.op {
                SortOp::Equal => {
                    let values = refs(params);
                    let (text, whole) = prefix_text(cx, template, earlier.len() + 1);
                    let last_param = &params[earlier.len()];
                    (
                        quote!(#(#earlier_params,)* #last_param: #last_ty),
                        quote!(#template_call.equal(#values)),
                        if whole {
                            format!("Only items whose `{attribute}` equals `{text}`.")
                        } else {
                            format!("Only items whose `{attribute}` begins with `{text}`.")
                        },
                    )
                }
                SortOp::BeginsWith => {
                    let earlier_values = refs(&params[..earlier.len()]);
                    let prefix = &params[earlier.len()];
                    let (text, _) = prefix_text(cx, template, earlier.len());
                    (
                        quote!(#(#earlier_params,)* #prefix: &str),
                        quote!(#template_call.begins_with(#earlier_values, #prefix)),
                        if text.is_empty() {
                            format!("Only items whose `{attribute}` begins with `{prefix}`.")
                        } else {
                            format!(
                                "Only items whose `{attribute}` begins with `{text}` then `{prefix}`."
                            )
                        },
                    )
                }
                SortOp::Between => {
                    let earlier_values = refs(&params[..earlier.len()]);
                    let (low, high) = (&params[earlier.len()], &params[earlier.len() + 1]);
                    (
                        quote!(#(#earlier_params,)* #low: #last_ty, #high: #last_ty),
                        quote!(#template_call.between(#earlier_values, &#low, &#high)),
                        format!(
                            "Only items whose `{name}` is between `{low}` and `{high}`, both included{}.",
                            if earlier.is_empty() {
                                ""
                            } else {
                                ", the earlier fields equal"
                            }
                        ),
                    )
                }
                op => {
                    let values = refs(params);
                    let call = format_ident!("{}", op.suffix());
                    let word = op.words();
                    let (text, _) = prefix_text(cx, template, earlier.len() + 1);
                    let last_param = &params[params.len() - 1];
                    (
                        quote!(#(#earlier_params,)* #last_param: #last_ty),
                        quote!(#template_call.#call(#values)),
                        format!(
                            "Only items whose `{name}` is {word} `{last_param}` (`{attribute}` = `{text}…`{}).",
                            if earlier.is_empty() {
                                ""
                            } else {
                                ", the earlier fields equal"
                            }
                        ),
                    )
                }
            }
        }
    };
    let docs = doc(&text);
    let allow = many(params.len() + 1);
    quote! {
        #docs
        #allow
        pub fn #method(self, #signature) -> Self {
            Self(self.0.sort_key(#call))
        }
    }
}

/// The row struct of an index that does not store whole items: key fields
/// read back out of the key attributes, included attributes as options.
fn emit_projection(cx: ItemCx<'_>, access: &Access, projection: &Ident) -> TokenStream {
    let (item, names, table) = (cx.item, cx.names, cx.table());
    let (ty, key) = (&names.ty, &names.key);
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
    // The templates whose fields the row's key attributes hold.
    let mut templates: Vec<KeyId> = Vec::new();
    for k in [
        Some(table_access.partition),
        table_access.sort,
        Some(access.partition),
        access.sort,
    ]
    .into_iter()
    .flatten()
    {
        if matches!(item.key(k), KeyValue::Template(_)) && !templates.contains(&k) {
            templates.push(k);
        }
    }
    let template_fields: Vec<FieldId> = templates
        .iter()
        .flat_map(|k| item.key(*k).fields())
        .collect();
    let template_names = templates.iter().map(|k| {
        let n = &names.keys[k.0];
        quote!(&#ty::#n)
    });
    let mut uses_keys = false;
    let mut uses_item = false;
    let assign: Vec<TokenStream> = access
        .projected
        .iter()
        .map(|p| {
            let f = item.field(p.field);
            let ident = &names.fields[p.field.0];
            if p.key && template_fields.contains(&p.field) {
                uses_keys = true;
                let name = &f.name;
                quote!(#ident: keys.get(#name)?,)
            } else {
                uses_item = true;
                let call = decode_call(cx.cx, f, !p.key);
                quote!(#ident: #call?,)
            }
        })
        .collect();
    let keys = if uses_keys {
        quote!(keys)
    } else {
        quote!(_keys)
    };
    let item_param = if uses_item {
        quote!(item)
    } else {
        quote!(_item)
    };
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
                dynamo::__private::Decoder::row::<#ty, _>(raw, &[#(#template_names),*], #sole, |#keys, #item_param| {
                    Ok(Self { #(#assign)* })
                })
            }
        }
    }
}
