//! Turns TOML schemas of DynamoDB tables and item types into typed Rust
//! client code over `dynamo-runtime`.
//!
//! The pipeline has one module per stage: [`load`] (TOML into raw structs
//! with spans) → [`validate`] (rules and diagnostics, raw into the typed
//! [`ir`]) → [`names`] (every Rust identifier, decided once) → [`emit`]
//! (IR and names into tokens) → [`write`](mod@write) (prettyplease, header,
//! write-if-changed). [`Builder`] runs it from `build.rs`; the
//! `dynamo-codegen` binary runs it from the command line.

mod builder;
#[cfg(feature = "cli")]
pub mod cli;
pub mod diagnostics;
pub mod emit;
pub mod export;
#[cfg(feature = "cli")]
pub mod infer;
#[cfg(feature = "cli")]
pub mod init;
pub mod ir;
pub mod load;
pub mod migrate;
pub mod names;
pub mod shapes;
pub mod template;
pub mod validate;
pub mod write;

use std::{fmt, path::Path};

pub use builder::Builder;
use diagnostics::Diagnostics;
pub use ir::TypeKind;
pub use write::GeneratedFile;

/// The result of a successful run: the files and any warnings.
#[derive(Debug)]
pub struct Generated {
    /// `mod.rs` and one file per table, in that order.
    pub files: Vec<GeneratedFile>,
    /// Warnings found in the schemas (never errors).
    pub warnings: Diagnostics,
}

/// Everything that can stop generation.
#[derive(thiserror::Error)]
pub enum Error {
    /// The schemas have errors; the diagnostics say where and how to fix them.
    #[error("{}", schema_summary(.0))]
    Schema(Diagnostics),
    /// A file or folder could not be read or written.
    #[error("cannot access {}: {source}", path.display())]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The builder was used wrongly.
    #[error("{0}")]
    Config(String),
    /// A DynamoDB operation of the command line failed.
    #[cfg(feature = "cli")]
    #[error(transparent)]
    Runtime(Box<dynamo_runtime::Error>),
    /// A bug in the generator.
    #[error("internal error in dynamo-codegen (please report it): {0}")]
    Internal(String),
}

fn schema_summary(diagnostics: &Diagnostics) -> String {
    let n = diagnostics.error_count();
    format!("the schema has {n} error{}", if n == 1 { "" } else { "s" })
}

/// `Debug` renders schema errors in full, so that
/// `.unwrap_or_else(|e| panic!("{e:?}"))` in `build.rs` shows them like
/// rustc's.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Schema(diagnostics) => write!(f, "\n{}", diagnostics.render()),
            other => write!(f, "{other}"),
        }
    }
}

/// A valid schema folder: its IR, the names of its code, and any warnings.
#[derive(Debug)]
pub struct Checked {
    /// The resolved tables and migrations.
    pub schema: ir::Schema,
    /// Every Rust name the generated code has.
    pub names: names::Names,
    /// Warnings found (never errors).
    pub warnings: Diagnostics,
}

/// Loads and validates the table files and `migrations/` of `schema_dir`,
/// and decides the names of the code: what `dynamo-codegen check` runs, so
/// that a schema it accepts generates code that compiles. Every error of
/// the run is in [`Error::Schema`].
pub fn check(schema_dir: &Path) -> Result<Checked, Error> {
    let mut diagnostics = Diagnostics::default();
    let loaded = load::load_dir(schema_dir, &mut diagnostics)?;
    check_loaded(&loaded, diagnostics)
}

/// [`check`] over files already loaded.
pub fn check_loaded(loaded: &load::Loaded, mut diagnostics: Diagnostics) -> Result<Checked, Error> {
    let schema = validate::validate(loaded, &mut diagnostics);
    if diagnostics.has_errors() {
        return Err(Error::Schema(diagnostics));
    }
    let mut names = names::names(&schema, &mut diagnostics);
    names.shapes = shapes::shapes(&schema, &mut diagnostics);
    if diagnostics.has_errors() {
        return Err(Error::Schema(diagnostics));
    }
    Ok(Checked {
        schema,
        names,
        warnings: diagnostics,
    })
}

/// Runs every stage over `schema_dir` and returns the formatted files,
/// without writing them.
pub fn generate(schema_dir: &Path) -> Result<Generated, Error> {
    let checked = check(schema_dir)?;
    let files = generate_checked(&checked)?;
    Ok(Generated {
        files,
        warnings: checked.warnings,
    })
}

/// Emits and formats the code of a checked schema.
pub fn generate_checked(checked: &Checked) -> Result<Vec<GeneratedFile>, Error> {
    write::format_all(emit::emit(&checked.schema, &checked.names))
}

/// The JSON Schemas of the two file formats, pretty-printed: table files
/// (`docs/schema.json`) and migration files
/// (`docs/migration.schema.json`). Generated from the loader's raw structs,
/// so they accept exactly what the loader parses.
#[cfg(feature = "json-schema")]
pub fn json_schemas() -> (String, String) {
    let render = |schema: schemars::Schema| {
        // Keys sorted, so the text does not depend on whether some crate in
        // the build turned on serde_json's `preserve_order`.
        let mut value = schema.to_value();
        value.sort_all_objects();
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        text
    };
    (
        render(schemars::schema_for!(load::RawSchema)),
        render(schemars::schema_for!(load::RawMigration)),
    )
}
