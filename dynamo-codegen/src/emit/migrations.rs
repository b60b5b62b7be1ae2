//! The migrations module: every migration as the runtime's static data
//! (`dynamo_runtime::model::Migration`), and `run(&db)`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{doc, model, option};
use crate::ir;

/// Emits `MIGRATIONS`, `migrator` and `run`.
pub(super) fn emit_migrations(schema: &ir::Schema) -> TokenStream {
    let migrations = schema.migrations.iter().map(migration);
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
            dynamo::migrate::Migrator::new(db, MIGRATIONS)
        }

        /// Applies every pending migration to `db`, each exactly once, as
        /// `dynamo-codegen migrate` does: under a lease lock, resuming a run
        /// that stopped, waiting until tables and indexes are ACTIVE.
        pub async fn run(db: &dynamo::Db) -> dynamo::Result<dynamo::migrate::Report> {
            migrator(db).run().await
        }
    }
}

fn migration(m: &ir::Migration) -> TokenStream {
    let ir::Migration {
        number,
        file,
        description,
        text: _,
        steps,
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
