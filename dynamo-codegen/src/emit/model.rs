//! The runtime's table and migration [model](dynamo_runtime::model) as
//! static data: the generated `TABLE` and `MIGRATIONS` are the values the
//! generator validated, written out.

use proc_macro2::TokenStream;
use quote::quote;

use super::option;
use crate::ir::{
    Backfill, Billing, Edit, FieldFormat, IndexDef, IndexKind, ItemDef, KeyAttributeDef, KeyType,
    Literal, Projection, Step, StoredTemplate, StreamView, TableDef, TemplateField, Throughput,
};

/// Borrowed model text.
pub(super) fn text(text: &str) -> TokenStream {
    quote!(dynamo::model::text(#text))
}

/// A borrowed model list.
fn list(items: impl Iterator<Item = TokenStream>) -> TokenStream {
    quote!(::std::borrow::Cow::Borrowed(&[#(#items),*]))
}

/// A `TableDef` expression.
pub(super) fn table_def(def: &TableDef) -> TokenStream {
    let TableDef {
        name,
        partition_key,
        sort_key,
        type_attribute,
        key_separator,
        billing,
        ttl,
        stream,
        indexes,
        point_in_time_recovery,
        deletion_protection,
    } = def;
    let name = text(name);
    let partition_key = key_attribute(partition_key);
    let sort_key = option(sort_key.as_ref().map(key_attribute));
    let type_attribute = text(type_attribute);
    let key_separator = text(key_separator);
    let billing = self::billing(billing);
    let ttl = option(ttl.as_deref().map(text));
    let stream = option(stream.map(stream_view));
    let indexes = list(indexes.iter().map(index_def));
    quote! {
        dynamo::TableDef {
            name: #name,
            partition_key: #partition_key,
            sort_key: #sort_key,
            type_attribute: #type_attribute,
            key_separator: #key_separator,
            billing: #billing,
            ttl: #ttl,
            stream: #stream,
            indexes: #indexes,
            point_in_time_recovery: #point_in_time_recovery,
            deletion_protection: #deletion_protection,
        }
    }
}

fn key_attribute(key: &KeyAttributeDef) -> TokenStream {
    let KeyAttributeDef { name, ty } = key;
    let name: &str = name;
    let ty = match ty {
        KeyType::S => quote!(S),
        KeyType::N => quote!(N),
        KeyType::B => quote!(B),
    };
    quote!(dynamo::KeyAttributeDef::new(#name, dynamo::KeyType::#ty))
}

fn billing(billing: &Billing) -> TokenStream {
    match billing {
        Billing::OnDemand => quote!(dynamo::Billing::OnDemand),
        Billing::Provisioned(t) => {
            let t = throughput(t);
            quote!(dynamo::Billing::Provisioned(#t))
        }
    }
}

fn throughput(t: &Throughput) -> TokenStream {
    let Throughput { read, write } = t;
    quote!(dynamo::Throughput { read: #read, write: #write })
}

fn stream_view(s: StreamView) -> TokenStream {
    let v = match s {
        StreamView::KeysOnly => quote!(KeysOnly),
        StreamView::NewImage => quote!(NewImage),
        StreamView::OldImage => quote!(OldImage),
        StreamView::NewAndOldImages => quote!(NewAndOldImages),
    };
    quote!(dynamo::StreamView::#v)
}

fn index_def(index: &IndexDef) -> TokenStream {
    let IndexDef {
        name,
        kind,
        partition_key,
        sort_key,
        projection,
        throughput: t,
    } = index;
    let name = text(name);
    let kind = match kind {
        IndexKind::Global => quote!(dynamo::IndexKind::Global),
        IndexKind::Local => quote!(dynamo::IndexKind::Local),
    };
    let partition_key = list(partition_key.iter().map(key_attribute));
    let sort_key = list(sort_key.iter().map(key_attribute));
    let projection = match projection {
        Projection::All => quote!(dynamo::Projection::All),
        Projection::KeysOnly => quote!(dynamo::Projection::KeysOnly),
        Projection::Include(names) => {
            let names = list(names.iter().map(|n| text(n)));
            quote!(dynamo::Projection::Include(#names))
        }
    };
    let t = option(t.as_ref().map(throughput));
    quote! {
        dynamo::IndexDef {
            name: #name,
            kind: #kind,
            partition_key: #partition_key,
            sort_key: #sort_key,
            projection: #projection,
            throughput: #t,
        }
    }
}

/// A migration `Step` expression.
pub(super) fn step(step: &Step) -> TokenStream {
    let path = quote!(dynamo::model::Step);
    match step {
        Step::CreateTable(def) => {
            let def = table_def(def);
            quote!(#path::CreateTable(#def))
        }
        Step::DeleteTable { table } => {
            let table = text(table);
            quote!(#path::DeleteTable { table: #table })
        }
        Step::AddIndex {
            table,
            index,
            type_attribute,
        } => {
            let table = text(table);
            let index = index_def(index);
            let type_attribute = text(type_attribute);
            quote!(#path::AddIndex { table: #table, index: #index, type_attribute: #type_attribute })
        }
        Step::RemoveIndex { table, index } => {
            let (table, index) = (text(table), text(index));
            quote!(#path::RemoveIndex { table: #table, index: #index })
        }
        Step::UpdateTtl {
            table,
            attribute,
            enabled,
        } => {
            let (table, attribute) = (text(table), text(attribute));
            quote!(#path::UpdateTtl { table: #table, attribute: #attribute, enabled: #enabled })
        }
        Step::UpdateStream { table, stream } => {
            let table = text(table);
            let stream = option(stream.map(stream_view));
            quote!(#path::UpdateStream { table: #table, stream: #stream })
        }
        Step::UpdateBilling { table, billing } => {
            let table = text(table);
            let billing = self::billing(billing);
            quote!(#path::UpdateBilling { table: #table, billing: #billing })
        }
        Step::UpdateProtection {
            table,
            point_in_time_recovery,
            deletion_protection,
        } => {
            let table = text(table);
            let pitr = option(point_in_time_recovery.map(|b| quote!(#b)));
            let protection = option(deletion_protection.map(|b| quote!(#b)));
            quote!(#path::UpdateProtection {
                table: #table,
                point_in_time_recovery: #pitr,
                deletion_protection: #protection,
            })
        }
        Step::Backfill(b) => {
            let b = backfill(b);
            quote!(#path::Backfill(#b))
        }
        Step::DefineItem(item) => {
            let item = item_def(item);
            quote!(#path::DefineItem(#item))
        }
        Step::DropItem { table, item } => {
            let (table, item) = (text(table), text(item));
            quote!(#path::DropItem { table: #table, item: #item })
        }
        Step::Rewrite(r) => {
            let (table, item, type_attribute) =
                (text(&r.table), text(&r.item), text(&r.type_attribute));
            let edit = edit(&r.edit);
            quote! {
                #path::Rewrite(dynamo::model::Rewrite {
                    table: #table,
                    item: #item,
                    type_attribute: #type_attribute,
                    edit: #edit,
                })
            }
        }
    }
}

fn edit(edit: &Edit) -> TokenStream {
    let path = quote!(dynamo::model::Edit);
    match edit {
        Edit::RenameAttribute { from, to } => {
            let (from, to) = (text(from), text(to));
            quote!(#path::RenameAttribute { from: #from, to: #to })
        }
        Edit::MapValues { attribute, map } => {
            let attribute = text(attribute);
            let map = list(map.iter().map(|(old, new)| {
                let (old, new) = (text(old), text(new));
                quote!((#old, #new))
            }));
            quote!(#path::MapValues { attribute: #attribute, map: #map })
        }
        Edit::WriteDefault { attribute, value } => {
            let attribute = text(attribute);
            let value = match value {
                Literal::Text(t) => {
                    let t = text(t);
                    quote!(dynamo::model::Literal::Text(#t))
                }
                Literal::Number(n) => {
                    let n = text(n);
                    quote!(dynamo::model::Literal::Number(#n))
                }
                Literal::Bool(b) => quote!(dynamo::model::Literal::Bool(#b)),
            };
            quote!(#path::WriteDefault { attribute: #attribute, value: #value })
        }
        Edit::RemoveAttribute { attribute } => {
            let attribute = text(attribute);
            quote!(#path::RemoveAttribute { attribute: #attribute })
        }
        Edit::RenameItem { to } => {
            let to = text(to);
            quote!(#path::RenameItem { to: #to })
        }
        Edit::RewriteKeys(b) => {
            let b = backfill(b);
            quote!(#path::RewriteKeys(#b))
        }
        Edit::Transform { function, mark } => {
            let (function, mark) = (text(function), text(mark));
            quote!(#path::Transform { function: #function, mark: #mark })
        }
    }
}

fn item_def(item: &ItemDef) -> TokenStream {
    let (table, name) = (text(&item.table), text(&item.name));
    let fields = list(item.fields.iter().map(|f| {
        let (name, attribute, ty) = (text(&f.name), text(&f.attribute), text(&f.ty));
        let optional = f.optional;
        let default = option(f.default.as_deref().map(text));
        let values = list(f.values.iter().map(|v| text(v)));
        let format = option(f.format.as_deref().map(text));
        let computed = option(f.computed.as_deref().map(text));
        quote! {
            dynamo::model::FieldDef {
                name: #name,
                attribute: #attribute,
                ty: #ty,
                optional: #optional,
                default: #default,
                values: #values,
                format: #format,
                computed: #computed,
            }
        }
    }));
    let keys = list(item.keys.iter().map(|t| {
        let (attribute, text): (&str, &str) = (&t.attribute, &t.text);
        quote!(dynamo::model::Template::new(#attribute, #text))
    }));
    quote! {
        dynamo::model::ItemDef {
            table: #table,
            name: #name,
            fields: #fields,
            keys: #keys,
        }
    }
}

fn backfill(b: &Backfill) -> TokenStream {
    let Backfill {
        table,
        item,
        type_attribute,
        separator,
        fields,
        set,
        computed,
    } = b;
    let (table, item, type_attribute, separator) = (
        text(table),
        text(item),
        text(type_attribute),
        text(separator),
    );
    let fields = list(fields.iter().map(template_field));
    let templates = |list_of: &[StoredTemplate]| {
        list(list_of.iter().map(|t| {
            let StoredTemplate { attribute, text } = t;
            let (attribute, text): (&str, &str) = (attribute, text);
            quote!(dynamo::model::Template::new(#attribute, #text))
        }))
    };
    let (set, computed) = (templates(set), templates(computed));
    quote! {
        dynamo::model::Backfill {
            table: #table,
            item: #item,
            type_attribute: #type_attribute,
            separator: #separator,
            fields: #fields,
            set: #set,
            computed: #computed,
        }
    }
}

fn template_field(f: &TemplateField) -> TokenStream {
    let TemplateField {
        name,
        attribute,
        format,
    } = f;
    let (name, attribute): (&str, &str) = (name, attribute);
    let format = match format {
        FieldFormat::Text => quote!(Text),
        FieldFormat::Signed => quote!(Signed),
        FieldFormat::Unsigned => quote!(Unsigned),
        FieldFormat::Number => quote!(Number),
        FieldFormat::Float => quote!(Float),
        FieldFormat::Bool => quote!(Bool),
        FieldFormat::Timestamp => quote!(Timestamp),
        FieldFormat::EpochSeconds => quote!(EpochSeconds),
        FieldFormat::EpochMillis => quote!(EpochMillis),
    };
    quote!(dynamo::model::TemplateField::new(#name, #attribute, dynamo::model::FieldFormat::#format))
}
