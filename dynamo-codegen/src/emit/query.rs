//! The query builder of an item type: the partition from the partition
//! template, sort-key conditions from the sort template.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{
    doc,
    item::{key_writer, params, unique_fields, write_parts},
};
use crate::{
    emit::subset::Item,
    ir::{self, FieldType, TemplatePart},
    naming,
};

pub(super) fn emit_query(table: &ir::Table, item: &Item) -> TokenStream {
    let name = naming::ident(&item.name);
    let query = naming::query_struct(&item.name);
    let partition_fields = unique_fields(&item.partition);
    let partition_params = params(item, &partition_fields);
    let partition_args = partition_fields
        .iter()
        .map(|&i| naming::ident(&item.fields[i].name));
    let pk_fn = naming::key_fn(&item.name, &item.partition.attribute);

    let base_call = match item.sort.as_ref().and_then(base_condition) {
        Some(condition) => quote!(.sort_key(Ok(#condition))),
        None => quote!(),
    };
    let conditions: Vec<(TokenStream, TokenStream)> = item
        .sort
        .as_ref()
        .map(|sort| sort_conditions(table, item, sort))
        .unwrap_or_default();
    let (methods, functions): (Vec<_>, Vec<_>) = conditions.into_iter().unzip();

    let query_fn_doc = doc(&format!(
        "Queries the `{}` items of one partition (`{}` = `{}`), in sort-key order.",
        item.name, item.partition.attribute, item.partition.text
    ));
    let query_doc = doc(&format!(
        "A query of `{}` items in one partition; see [`{}::query`].",
        item.name, item.name
    ));
    quote! {
        impl #name {
            #query_fn_doc
            pub fn query(#(#partition_params),*) -> #query {
                #query(::dynamo_runtime::Query::new(#pk_fn(#(#partition_args),*)) #base_call)
            }
        }

        #query_doc
        #[derive(Debug)]
        #[must_use = "call `.send(&db)`, `.all(&db)` or `.stream(&db)` to run the query"]
        pub struct #query(::dynamo_runtime::Query<#name>);

        impl #query {
            #(#methods)*

            /// Returns items in descending sort-key order.
            pub fn descending(self) -> Self {
                Self(self.0.descending())
            }

            /// Reads with strong consistency.
            pub fn consistent(self) -> Self {
                Self(self.0.consistent())
            }

            /// How many items DynamoDB evaluates per request; see [`::dynamo_runtime::Query::page_size`].
            pub fn page_size(self, items: u32) -> Self {
                Self(self.0.page_size(items))
            }

            /// Returns at most `items` items; see [`::dynamo_runtime::Query::limit`].
            pub fn limit(self, items: usize) -> Self {
                Self(self.0.limit(items))
            }

            /// Resumes after the position `cursor` from an earlier page.
            pub fn after(self, cursor: ::dynamo_runtime::Cursor) -> Self {
                Self(self.0.after(cursor))
            }

            /// Runs the query and returns one page; see [`::dynamo_runtime::Query::send`].
            pub async fn send(&self, db: &::dynamo_runtime::Db) -> ::dynamo_runtime::Result<::dynamo_runtime::Page<#name>> {
                self.0.send(db).await
            }

            /// Runs the query to its end (or its limit) and returns every item.
            pub async fn all(&self, db: &::dynamo_runtime::Db) -> ::dynamo_runtime::Result<Vec<#name>> {
                self.0.all(db).await
            }

            /// The items of the query, requesting pages as the stream is read.
            pub fn stream<'a>(&'a self, db: &'a ::dynamo_runtime::Db) -> impl ::dynamo_runtime::Stream<Item = ::dynamo_runtime::Result<#name>> + 'a {
                self.0.stream(db)
            }
        }

        #(#functions)*
    }
}

/// The condition every query of the item type has: equality with a
/// literal-only sort template, or `begins_with` its literal prefix, so that
/// other item types in the partition are not even read.
fn base_condition(sort: &ir::Template) -> Option<TokenStream> {
    let condition = if sort.field_count() == 0 {
        let text = literal_text(&sort.parts);
        quote!(::dynamo_runtime::SortKeyCondition::Equal(::dynamo_runtime::AttributeValue::S(#text.to_owned())))
    } else {
        match sort.parts.first() {
            Some(TemplatePart::Literal(prefix)) => {
                quote!(::dynamo_runtime::SortKeyCondition::BeginsWith(#prefix.to_owned()))
            }
            _ => return None,
        }
    };
    Some(condition)
}

fn literal_text(parts: &[TemplatePart]) -> String {
    parts
        .iter()
        .map(|p| match p {
            TemplatePart::Literal(s) => s.as_str(),
            TemplatePart::Field { .. } => "",
        })
        .collect()
}

/// For each leading run of the sort template's fields: `<field>_eq` (all
/// of them equal) and, for text fields, `<field>_begins_with` (the earlier
/// ones equal, this one starting with a prefix). Returns the builder
/// methods and the private functions that render their conditions.
fn sort_conditions(
    table: &ir::Table,
    item: &Item,
    sort: &ir::Template,
) -> Vec<(TokenStream, TokenStream)> {
    let positions: Vec<usize> = sort
        .parts
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p, TemplatePart::Field { .. }))
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (level, &position) in positions.iter().enumerate() {
        let TemplatePart::Field { field, .. } = sort.parts[position] else {
            continue;
        };
        if seen.contains(&field) {
            continue;
        }
        let earlier = seen.clone();
        seen.push(field);
        let f = &item.fields[field];
        let is_last = level + 1 == positions.len();

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
        let text = template_prefix(&sort.parts[..end], item);
        let docs = format!("Only items whose `{}` {what} `{text}`.", sort.attribute);
        let value = if is_last {
            quote!(key.finish_attribute())
        } else {
            quote!(key.finish())
        };
        out.push(condition(
            table,
            item,
            sort,
            &seen,
            &format!("{}_eq", f.name),
            write_parts(item, &sort.parts[..end]),
            quote!(#variant(#value)),
            &docs,
        ));

        // `<field>_begins_with`: earlier fields equal, a prefix of this one.
        if f.ty == FieldType::String {
            let text = template_prefix(&sort.parts[..position], item);
            let docs = format!(
                "Only items whose `{}` begins with `{text}` then `prefix`.",
                sort.attribute
            );
            let name = &f.name;
            let mut parts = write_parts(item, &sort.parts[..position]);
            parts.extend(quote!(key.prefix(#name, prefix)?;));
            let mut fields = earlier;
            fields.push(usize::MAX);
            out.push(condition(
                table,
                item,
                sort,
                &fields,
                &format!("{}_begins_with", f.name),
                parts,
                quote!(BeginsWith(key.finish())),
                &docs,
            ));
        }
    }
    out
}

/// The template text of `parts`, for docs.
fn template_prefix(parts: &[TemplatePart], item: &Item) -> String {
    parts
        .iter()
        .map(|p| match p {
            TemplatePart::Literal(s) => s.replace('{', "{{").replace('}', "}}"),
            TemplatePart::Field { field, .. } => format!("{{{}}}", item.fields[*field].name),
        })
        .collect()
}

/// One sort-key condition: a builder method and its rendering function.
/// `fields` are the parameters; `usize::MAX` stands for `prefix: &str`.
#[allow(clippy::too_many_arguments)]
fn condition(
    table: &ir::Table,
    item: &Item,
    sort: &ir::Template,
    fields: &[usize],
    method: &str,
    parts: TokenStream,
    value: TokenStream,
    docs: &str,
) -> (TokenStream, TokenStream) {
    let method_ident = naming::ident(method);
    let function = format_ident!(
        "{}_{}",
        naming::key_fn(&item.name, &sort.attribute)
            .to_string()
            .trim_start_matches("r#"),
        method
    );
    let real: Vec<usize> = fields
        .iter()
        .copied()
        .filter(|&f| f != usize::MAX)
        .collect();
    let mut params = params(item, &real);
    let mut args: Vec<TokenStream> = real
        .iter()
        .map(|&i| {
            let ident = naming::ident(&item.fields[i].name);
            quote!(#ident)
        })
        .collect();
    if fields.contains(&usize::MAX) {
        params.push(quote!(prefix: &str));
        args.push(quote!(prefix));
    }
    let writer = key_writer(table, item, sort);
    let docs = doc(docs);
    let method = quote! {
        #docs
        pub fn #method_ident(self, #(#params),*) -> Self {
            Self(self.0.sort_key(#function(#(#args),*)))
        }
    };
    let function = quote! {
        fn #function(#(#params),*) -> Result<::dynamo_runtime::SortKeyCondition, ::dynamo_runtime::KeyError> {
            #writer
            #parts
            Ok(::dynamo_runtime::SortKeyCondition::#value)
        }
    };
    (method, function)
}
