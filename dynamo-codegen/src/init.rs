//! `dynamo-codegen init`: sets up a cargo project to use the generator: a
//! commented example schema and its first migration, `build.rs`, the
//! `include_schema!` line, a `main` that uses the client (when `main.rs` is
//! still cargo's hello world), and the dependencies (through `cargo add`).

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Command,
};

use crate::Error;

/// Where the project gets `dynamo-runtime` and `dynamo-codegen` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A checkout of this repository (its root, holding `dynamo-runtime/`
    /// and `dynamo-codegen/`).
    Path(PathBuf),
    /// The repository's git URL, optionally at a revision.
    Git {
        /// The URL.
        url: String,
        /// A commit, tag or branch (`--rev`).
        rev: Option<String>,
    },
}

impl Source {
    /// `cargo add` arguments for the crate `name` from this source.
    fn cargo_add_args(&self, name: &str) -> Vec<String> {
        match self {
            Source::Path(root) => vec![
                "--path".into(),
                root.join(name).to_string_lossy().into_owned(),
            ],
            Source::Git { url, rev } => {
                let mut args = vec![name.to_owned(), "--git".into(), url.clone()];
                if let Some(rev) = rev {
                    args.extend(["--rev".into(), rev.clone()]);
                }
                args
            }
        }
    }

    /// The checkout this binary was built from, when it is still there
    /// (`cargo install --path` or `--git` leave it in place).
    pub fn built_from() -> Option<Source> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
        (root.join("dynamo-runtime").join("Cargo.toml").is_file()
            && root.join("dynamo-codegen").join("Cargo.toml").is_file())
        .then(|| Source::Path(root.to_owned()))
    }
}

/// What `init` wrote and ran, for its report.
#[derive(Debug, Default)]
pub struct Report {
    /// Files written (relative to the project).
    pub written: Vec<PathBuf>,
    /// Notes for the user: what was left alone and why.
    pub notes: Vec<String>,
    /// The table the example schema describes.
    pub table: String,
}

/// Sets up the cargo project in `dir` (which has a `Cargo.toml`) with the
/// schema folder `schemas` (relative to `dir`) and a table named `table`
/// (default: the package's name).
pub fn init(
    dir: &Path,
    schemas: &Path,
    table: Option<&str>,
    source: &Source,
) -> Result<Report, Error> {
    let manifest = dir.join("Cargo.toml");
    let text = read(&manifest)?;
    let package = package_name(&text).ok_or_else(|| {
        Error::Config(format!(
            "{} has no [package] name: run `dynamo-codegen init` in a cargo package (`cargo new app`)",
            manifest.display()
        ))
    })?;
    let schema_dir = dir.join(schemas);
    if schema_dir.exists() {
        return Err(Error::Config(format!(
            "{} exists already: `init` starts a new project; add tables to it by hand",
            schema_dir.display()
        )));
    }
    let table = table.map_or_else(|| package.clone(), str::to_owned);
    let module = crate::names::module_name(&table)
        .map(|m| crate::names::stem(&m))
        .ok_or_else(|| {
            Error::Config(format!(
                "table name `{table}` makes no Rust module name; pass `--table NAME`"
            ))
        })?;
    let mut report = Report {
        table: table.clone(),
        ..Report::default()
    };

    // The schema, then its first migration (planned from it, as
    // `migration new` would).
    let schema_file = schemas.join(format!("{table}.toml"));
    write_new(dir, &schema_file, &example_schema(&table), &mut report)?;
    let checked = crate::check(&schema_dir)?;
    let differences = crate::migrate::plan::diff(&checked.schema);
    let steps = crate::migrate::plan::steps(&differences).map_err(|refused| {
        Error::Internal(format!(
            "the example schema plans no migration: {}",
            refused
                .iter()
                .map(|d| d.what.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })?;
    let name = format!("create {table}");
    let migration = schemas
        .join("migrations")
        .join(crate::migrate::plan::file_name(1, &name));
    std::fs::create_dir_all(schema_dir.join("migrations")).map_err(|source| Error::Io {
        path: schema_dir.join("migrations"),
        source,
    })?;
    write_new(
        dir,
        &migration,
        &crate::migrate::plan::migration_toml(&name, &steps)?,
        &mut report,
    )?;

    // build.rs and the include line.
    let build = Path::new("build.rs");
    if dir.join(build).exists() {
        report.notes.push(format!(
            "build.rs exists, left alone: add `dynamo_codegen::Builder::new().schema_dir(\"{}\").compile()` to it",
            schemas.display()
        ));
    } else {
        write_new(dir, build, &build_rs(schemas), &mut report)?;
    }
    let lib = Path::new("src").join("lib.rs");
    match std::fs::read_to_string(dir.join(&lib)) {
        Ok(text) if text.contains("include_schema!") => {}
        Ok(mut text) => {
            if !text.ends_with('\n') && !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&format!("\n{INCLUDE}"));
            write(dir, &lib, &text, &mut report)?;
        }
        Err(_) => write_new(dir, &lib, &format!("{LIB_DOC}{INCLUDE}"), &mut report)?,
    }
    let main = Path::new("src").join("main.rs");
    let crate_name = package.replace('-', "_");
    match std::fs::read_to_string(dir.join(&main)) {
        Ok(text) if text.trim() == HELLO_WORLD.trim() => {
            write(dir, &main, &example_main(&crate_name, &module), &mut report)?;
        }
        Ok(_) => report.notes.push(format!(
            "src/main.rs is not cargo's hello world, left alone: the client is `{crate_name}::{module}`"
        )),
        Err(_) => {}
    }

    // Dependencies, by cargo itself (it keeps the manifest's formatting).
    cargo_add(dir, &source.cargo_add_args("dynamo-runtime"), &[])?;
    cargo_add(
        dir,
        &["tokio@1".into()],
        &["--features", "macros,rt-multi-thread"],
    )?;
    cargo_add(
        dir,
        &source.cargo_add_args("dynamo-codegen"),
        &["--build", "--no-default-features"],
    )?;
    Ok(report)
}

/// cargo's `src/main.rs` of `cargo new`.
const HELLO_WORLD: &str = "fn main() {\n    println!(\"Hello, world!\");\n}\n";

const LIB_DOC: &str = "//! The typed DynamoDB client that `build.rs` generates from `schemas/`:\n//! one module per table, and `migrations`.\n\n";

const INCLUDE: &str = "dynamo_runtime::include_schema!();\n";

fn example_schema(table: &str) -> String {
    format!(
        r#"# Table `{table}`: its keys, indexes and the item types stored in it.
# `build.rs` turns this file into typed Rust (structs, keys, queries,
# updates); a mistake here fails the build with a located error.
#
# After a change, `dynamo-codegen migration new "what changed"` writes the
# migration that makes the live table (and its items) match, and
# `dynamo-codegen migrate` (or `migrations::run(&db)` in the app) applies
# it. Every option is in the schema reference (docs/schema.md of
# dynamo-codegen).

[table]
name = "{table}"
partition_key = "pk"          # key attributes hold text rendered from fields
sort_key = "sk"

# A global index: a list's tasks by due date. Its sort key is the field
# `due` itself (a plain key), which is optional: a task without a due date
# is not in the index (a sparse index).
[index.by_due]
partition_key = "gsi1pk"
sort_key = "due"

[item.Task]
doc = "A task on a to-do list."

# Key templates: `{{field}}` is a field's value. A list's tasks share one
# partition, so one query reads them in sort-key order.
[item.Task.keys]
pk = "LIST#{{list_id}}"
sk = "TASK#{{task_id}}"
gsi1pk = "LIST#{{list_id}}"

[item.Task.fields]
list_id = "string"
task_id = {{ type = "uuid", default = "new" }}          # a new v4 uuid for each new task
title = {{ type = "string", validate = {{ min_len = 1, max_len = 200 }} }}
due = {{ type = "date", optional = true }}               # ISO dates sort as text
done = {{ type = "bool", default = false }}
tags = {{ type = "set<string>", default = [] }}
"#
    )
}

fn build_rs(schemas: &Path) -> String {
    format!(
        r#"//! Generates the typed DynamoDB client from `{dir}/` into `OUT_DIR`;
//! `src/lib.rs` includes it with `dynamo_runtime::include_schema!()`.

fn main() {{
    dynamo_codegen::Builder::new()
        .schema_dir("{dir}")
        .compile()
        // Schema errors print like rustc's: file:line:col, the text, help.
        .unwrap_or_else(|e| panic!("{{e:?}}"));
}}
"#,
        dir = schemas.display()
    )
}

fn example_main(crate_name: &str, module: &str) -> String {
    format!(
        r#"//! Applies the migrations of `schemas/migrations/`, then writes a task
//! and reads its list back. AWS configuration comes from the standard
//! chain: for DynamoDB Local, `AWS_ENDPOINT_URL=http://localhost:8000`
//! with any region and credentials.

use dynamo_runtime::{{Db, Error}};
use {crate_name}::{{
    migrations,
    {module}::{{NewTask, Task}},
}};

#[tokio::main]
async fn main() -> Result<(), Error> {{
    let db = Db::from_env().await?;
    let report = migrations::run(&db).await?;
    println!("{{}} migration(s) applied", report.applied.len());

    let task = Task::new(NewTask {{
        list_id: "home".into(),
        title: "Water the plants".into(),
    }});
    task.put().send(&db).await?;
    let stored = Task::get(task.key()).send(&db).await?;
    println!("stored: {{:?}}", stored.map(|t| t.title));
    let open = Task::query("home")
        .filter(|f| f.done.eq(false))
        .all(&db)
        .await?;
    println!("{{}} open task(s) on list home", open.len());
    Ok(())
}}
"#
    )
}

/// The `[package]` name of a manifest.
fn package_name(manifest: &str) -> Option<String> {
    let value: toml::Table = toml::from_str(manifest).ok()?;
    value
        .get("package")?
        .get("name")?
        .as_str()
        .map(str::to_owned)
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes `text` to `dir/path`, which must not exist.
fn write_new(dir: &Path, path: &Path, text: &str, report: &mut Report) -> Result<(), Error> {
    if dir.join(path).exists() {
        return Err(Error::Config(format!(
            "{} exists already; `init` writes only new files there",
            path.display()
        )));
    }
    write(dir, path, text, report)
}

fn write(dir: &Path, path: &Path, text: &str, report: &mut Report) -> Result<(), Error> {
    let full = dir.join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent).map_err(|source| Error::Io {
            path: parent.to_owned(),
            source,
        })?;
    }
    std::fs::write(&full, text).map_err(|source| Error::Io { path: full, source })?;
    report.written.push(path.to_owned());
    Ok(())
}

/// `cargo add` in `dir` (`CARGO` when cargo runs this, else `cargo`).
fn cargo_add(dir: &Path, crate_args: &[String], options: &[&str]) -> Result<(), Error> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(&cargo)
        .current_dir(dir)
        .arg("add")
        .args(options)
        .args(crate_args)
        .output()
        .map_err(|e| Error::Config(format!("cannot run `cargo add`: {e}")))?;
    if !out.status.success() {
        let mut message = String::new();
        let _ = write!(
            message,
            "`cargo add {} {}` failed:\n{}",
            options.join(" "),
            crate_args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        return Err(Error::Config(message));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_schema_checks_and_plans_its_first_migration() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("todo.toml"), example_schema("todo"))
            .unwrap_or_else(|e| panic!("{e}"));
        let checked = crate::check(dir.path()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            checked.warnings.iter().count(),
            0,
            "{}",
            checked.warnings.render()
        );
        let differences = crate::migrate::plan::diff(&checked.schema);
        assert!(crate::migrate::plan::steps(&differences).is_ok());
    }

    #[test]
    fn the_package_name_comes_from_the_manifest() {
        assert_eq!(
            package_name("[package]\nname = \"todo-app\"\nversion = \"0.1.0\"\n").as_deref(),
            Some("todo-app")
        );
        assert_eq!(package_name("[workspace]\nmembers = []\n"), None);
    }
}
