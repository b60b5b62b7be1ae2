//! The migrations module: every migration as static data for the
//! runtime's executor (`dynamo_runtime::migrate`), and `run(&db)`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{doc, index_def, option, stream_view, table_def};
use crate::{
    ir::{self, Step},
    migrate::resolve::{self, Part},
};

/// Emits `MIGRATIONS`, `migrator` and `run`.
pub(super) fn emit_migrations(schema: &ir::Schema) -> TokenStream {
    let migrations = schema.migrations.iter().map(|m| migration(schema, m));
    let list = schema
        .migrations
        .iter()
        .map(|m| format!("- `{}`", m.file))
        .collect::<Vec<_>>()
        .join("\n");
    let docs = doc(&format!(
        "Every migration of `migrations/`, in order:\n{}",
        if list.is_empty() { "(none yet)" } else { &list }
    ));
    quote! {
        #docs
        pub static MIGRATIONS: &[::dynamo_runtime::migrate::Migration] = &[#(#migrations),*];

        /// An executor of [`MIGRATIONS`] on `db`, for settings such as the
        /// tracking table, the lease or the wait policy.
        pub fn migrator(db: &::dynamo_runtime::Db) -> ::dynamo_runtime::migrate::Migrator<'_> {
            ::dynamo_runtime::migrate::Migrator::new(db, MIGRATIONS)
        }

        /// Applies every pending migration to `db`, each exactly once, as
        /// `dynamo-codegen migrate` does: under a lease lock, resuming a run
        /// that stopped, waiting until tables and indexes are ACTIVE.
        pub async fn run(
            db: &::dynamo_runtime::Db,
        ) -> ::dynamo_runtime::Result<::dynamo_runtime::migrate::Report> {
            migrator(db).run().await
        }
    }
}

fn migration(schema: &ir::Schema, m: &ir::Migration) -> TokenStream {
    let ir::Migration {
        number,
        file,
        description,
        text: _,
        steps,
    } = m;
    let checksum = m.checksum();
    let description = option(description.as_ref().map(|d| quote!(#d)));
    let steps = steps.iter().map(|s| step(schema, s));
    quote! {
        ::dynamo_runtime::migrate::Migration {
            number: #number,
            name: #file,
            description: #description,
            checksum: #checksum,
            steps: &[#(#steps),*],
        }
    }
}

fn step(schema: &ir::Schema, step: &Step) -> TokenStream {
    let path = quote!(::dynamo_runtime::migrate::Step);
    match step {
        Step::CreateTable(def) => {
            let def = table_def(def, resolve::type_attribute(schema, &def.name));
            quote!(#path::CreateTable(#def))
        }
        Step::DeleteTable { table } => quote!(#path::DeleteTable { table: #table }),
        Step::AddIndex { table, index } => {
            let type_attribute = resolve::type_attribute(schema, table);
            let index = index_def(index);
            quote!(#path::AddIndex { table: #table, index: #index, type_attribute: #type_attribute })
        }
        Step::RemoveIndex { table, index } => {
            quote!(#path::RemoveIndex { table: #table, index: #index })
        }
        Step::UpdateTtl {
            table,
            attribute,
            enabled,
        } => quote!(#path::UpdateTtl { table: #table, attribute: #attribute, enabled: #enabled }),
        Step::UpdateStream { table, stream } => {
            let stream = option(stream.map(stream_view));
            quote!(#path::UpdateStream { table: #table, stream: #stream })
        }
        Step::UpdateBilling { table, billing } => {
            let billing = super::billing(billing);
            quote!(#path::UpdateBilling { table: #table, billing: #billing })
        }
        Step::Backfill { table, item, set } => {
            let templates = match resolve::backfill(schema, table, item, set) {
                Ok(templates) => templates,
                Err(e) => {
                    let message = e.to_string();
                    return quote!(compile_error!(#message));
                }
            };
            let type_attribute = resolve::type_attribute(schema, table);
            let templates = templates.iter().map(template);
            quote! {
                #path::Backfill(::dynamo_runtime::migrate::Backfill {
                    table: #table,
                    item: #item,
                    type_attribute: #type_attribute,
                    set: &[#(#templates),*],
                })
            }
        }
    }
}

fn template(t: &resolve::Template<'_>) -> TokenStream {
    let resolve::Template {
        attribute,
        text,
        separator,
        parts,
    } = t;
    let separator = option(separator.map(|s| quote!(#s)));
    let parts = parts.iter().map(|part| match part {
        Part::Literal(text) => quote!(::dynamo_runtime::migrate::TemplatePart::Literal(#text)),
        Part::Field {
            field,
            attribute,
            format,
            width,
        } => {
            let format = format_ident!("{}", format.variant());
            let width = option(width.map(|w| quote!(#w)));
            quote! {
                ::dynamo_runtime::migrate::TemplatePart::Field {
                    field: #field,
                    attribute: #attribute,
                    format: ::dynamo_runtime::migrate::FieldFormat::#format,
                    width: #width,
                }
            }
        }
    });
    quote! {
        ::dynamo_runtime::migrate::Template {
            attribute: #attribute,
            text: #text,
            separator: #separator,
            parts: &[#(#parts),*],
        }
    }
}
