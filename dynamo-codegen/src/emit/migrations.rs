//! The migrations module: every migration as the runtime's static data
//! (`dynamo_runtime::model::Migration`), and `run(&db)`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{doc, model, option};
use crate::{ir, names::Names};

/// Emits `MIGRATIONS`, `migrator` and `run`, and for `transform` steps the
/// item types they read (`before_NNNN`) and their wrappers.
pub(super) fn emit_migrations(schema: &ir::Schema, names: &Names) -> TokenStream {
    let migrations = schema.migrations.iter().map(migration);
    let shapes = names.shapes.iter().map(|shapes| {
        let module = &shapes.module;
        let tables = shapes.tables.iter().map(|(table, table_names)| {
            let inner = &table_names.module;
            let parts = super::emit_table(table, table_names);
            let docs = doc(&format!("Table `{}` before the migration.", table.def.name));
            quote! {
                #docs
                pub mod #inner {
                    #(#parts)*
                }
            }
        });
        let docs = doc(&format!(
            "The item types that migration {:04}'s `transform` steps read, as the migrations \
             recorded them before it.",
            shapes.migration
        ));
        quote! {
            #docs
            pub mod #module {
                #(#tables)*
            }
        }
    });
    let mut registered = Vec::new();
    let mut wrappers = Vec::new();
    for m in &schema.migrations {
        for t in &m.transforms {
            let Some(wrapper) = transform_wrapper(schema, names, m, t) else {
                continue;
            };
            let ident = quote::format_ident!("transform_{:04}_{}", m.number, t.step);
            let function = &t.function;
            wrappers.push(quote! {
                fn #ident(item: dynamo::Attributes) -> dynamo::Result<dynamo::Attributes> {
                    #wrapper
                }
            });
            registered.push(quote!(.transform(#function, #ident)));
        }
    }
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
        use ::dynamo_runtime as dynamo;

        #docs
        pub static MIGRATIONS: &[dynamo::model::Migration] = &[#(#migrations),*];

        /// An executor of [`MIGRATIONS`] on `db`, for settings such as the
        /// tracking table, the lease or the wait policy.
        pub fn migrator(db: &dynamo::Db) -> dynamo::migrate::Migrator<'_> {
            dynamo::migrate::Migrator::new(db, MIGRATIONS) #(#registered)*
        }

        #(#shapes)*
        #(#wrappers)*

        /// Applies every pending migration to `db`, each exactly once, as
        /// `dynamo-codegen migrate` does: under a lease lock, resuming a run
        /// that stopped, waiting until tables and indexes are ACTIVE.
        pub async fn run(db: &dynamo::Db) -> dynamo::Result<dynamo::migrate::Report> {
            migrator(db).run().await
        }
    }
}

/// The body of a transform's wrapper: the old shape, the app's function,
/// the schema's item type. `None` when either type is missing (reported by
/// `check`: the shape, or the item type gone from the schema).
fn transform_wrapper(
    schema: &ir::Schema,
    names: &Names,
    m: &ir::Migration,
    t: &ir::TransformShape,
) -> Option<TokenStream> {
    let shapes = names.shapes.iter().find(|s| s.migration == m.number)?;
    let module = &shapes.module;
    let (_, old_names) = shapes
        .tables
        .iter()
        .find(|(table, _)| table.def.name == t.old.table)?;
    let (old_table, _) = shapes
        .tables
        .iter()
        .find(|(table, _)| table.def.name == t.old.table)?;
    let old_item = old_table
        .items
        .iter()
        .position(|i| *i.name == *t.old.name)?;
    let old_ty = &old_names.items[old_item].ty;
    let old_module = &old_names.module;
    let (table, table_names) = schema
        .tables
        .iter()
        .zip(&names.tables)
        .find(|(table, _)| table.def.name == t.old.table)?;
    let new_item = table.items.iter().position(|i| *i.name == *t.old.name)?;
    let new_ty = &table_names.items[new_item].ty;
    let new_module = &table_names.module;
    let function: syn::Path = syn::parse_str(&t.function).ok()?;
    Some(quote! {
        dynamo::__private::transform::<#module::#old_module::#old_ty, super::#new_module::#new_ty, _>(item, #function)
    })
}

fn migration(m: &ir::Migration) -> TokenStream {
    let ir::Migration {
        number,
        file,
        description,
        text: _,
        steps,
        transforms: _,
    } = m;
    let checksum = model::text(&m.checksum());
    let name = model::text(file);
    let description = option(description.as_deref().map(model::text));
    let steps = steps.iter().map(model::step);
    quote! {
        dynamo::model::Migration {
            number: #number,
            name: #name,
            description: #description,
            checksum: #checksum,
            steps: ::std::borrow::Cow::Borrowed(&[#(#steps),*]),
        }
    }
}
