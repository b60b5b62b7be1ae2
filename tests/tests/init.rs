//! Adoption from outside this repository: a fresh `cargo new` crate in a
//! temporary folder (outside the workspace), `dynamo-codegen init` in it,
//! `cargo build` (warning-free), and the built program run against
//! DynamoDB Local, where it applies its first migration and writes and
//! reads an item.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::process::Command;

use dynamo_tests::{against_local, build_outside, repo_root as repo, stdout_of as ok};

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

#[tokio::test]
async fn a_new_crate_outside_the_workspace_builds_and_runs_after_init() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(
        !tmp.path().starts_with(repo()),
        "the new crate must be outside the workspace"
    );
    ok(
        &cargo()
            .current_dir(tmp.path())
            .args(["new", "--vcs", "none", "--quiet", "todo-app"])
            .output()
            .unwrap(),
        "cargo new",
    );
    let dir = tmp.path().join("todo-app");
    // The workspace's lock pins the versions its own build uses, so the
    // new crate resolves the same ones (`cargo build` trims the rest).
    std::fs::copy(repo().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    // `init` with no source given: the checkout the CLI was built from,
    // as after `cargo install --path dynamo-codegen`.
    let init = || {
        Command::new(env!("CARGO_BIN_EXE_cli"))
            .current_dir(&dir)
            .arg("init")
            .output()
            .unwrap()
    };
    let out = init();
    ok(&out, "dynamo-codegen init");
    let said = String::from_utf8_lossy(&out.stderr);
    for file in [
        "schemas/todo-app.toml",
        "schemas/migrations/0001_create_todo_app.toml",
        "build.rs",
        "src/lib.rs",
        "src/main.rs",
    ] {
        assert!(
            dir.join(file).is_file(),
            "{file} written; init said:\n{said}"
        );
        assert!(said.contains(&format!("wrote {file}")), "{said}");
    }
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&manifest).unwrap();
    let build_dep = &manifest["build-dependencies"]["dynamo-codegen"];
    assert_eq!(
        build_dep["default-features"].as_bool(),
        Some(false),
        "{manifest}"
    );
    assert!(
        manifest["dependencies"].get("dynamo-runtime").is_some(),
        "{manifest}"
    );
    assert!(
        manifest["dependencies"].get("tokio").is_some(),
        "{manifest}"
    );
    let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    assert!(lib.contains("dynamo_runtime::include_schema!();"), "{lib}");

    // A second `init` refuses to overwrite the project's schemas.
    let again = init();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("exists already"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // Build it on its own, and run it against DynamoDB Local in a
    // namespace of its own.
    let program = build_outside(&dir, "todo-app");
    let namespace = format!("t{}_init", std::process::id());
    let run = against_local(&program, &namespace).output().unwrap();
    let stdout = ok(&run, "the new crate's program");
    assert_eq!(
        stdout,
        "1 migration(s) applied\nstored: Some(\"Water the plants\")\n1 open task(s) on list home\n"
    );
    // The table it made is the schema's (with its index), in the namespace.
    let db = dynamo_tests::local_db("init_check").await;
    let table = db
        .client()
        .describe_table()
        .table_name(format!("{namespace}_todo-app"))
        .send()
        .await
        .unwrap();
    let indexes: Vec<_> = table
        .table()
        .unwrap()
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| i.index_name())
        .collect();
    assert_eq!(indexes, ["by_due"]);
}

/// A crate outside the workspace in `dir`, named `name`, generating its
/// client from `schema` (`schemas/notes.toml`) with `lib` as its
/// `src/lib.rs`.
fn outside_crate(dir: &std::path::Path, name: &str, schema: &str, lib: &str) {
    std::fs::create_dir_all(dir.join("schemas")).unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\ndynamo-runtime = {{ path = {:?} }}\n\n\
             [build-dependencies]\ndynamo-codegen = {{ path = {:?}, default-features = false }}\n",
            repo().join("dynamo-runtime"),
            repo().join("dynamo-codegen")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("build.rs"),
        "fn main() { dynamo_codegen::Builder::new().compile().unwrap_or_else(|e| panic!(\"{e:?}\")); }\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    std::fs::write(dir.join("schemas/notes.toml"), schema).unwrap();
}

/// An item type with `hooks = true` whose crate does not implement
/// `ItemHooks` for it fails to compile, saying so.
#[test]
fn hooks_without_an_implementation_are_one_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    outside_crate(
        dir,
        "hookless",
        "[table]\nname = \"notes\"\npartition_key = \"pk\"\n\n[item.Note]\nhooks = true\n\n\
         [item.Note.keys]\npk = \"NOTE#{id}\"\n\n[item.Note.fields]\nid = \"string\"\n",
        "//! A crate.\ndynamo_runtime::include_schema!();\n",
    );
    let build = dynamo_tests::try_build_outside(dir);
    assert!(!build.status.success());
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(
        stderr
            .contains("error[E0277]: `Note` has `hooks = true` in its schema, but no `ItemHooks`")
            && stderr.contains("implement `dynamo_runtime::ItemHooks for Note`"),
        "{stderr}"
    );
}

/// A schema with `serde = true` in a crate whose runtime lacks the `serde`
/// feature: the first error says which feature to turn on, instead of only
/// an unresolved path in every derive.
#[test]
fn a_missing_runtime_feature_is_one_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    outside_crate(
        dir,
        "featureless",
        "[table]\nname = \"notes\"\npartition_key = \"pk\"\nserde = true\n\n\
         [item.Note.keys]\npk = \"NOTE#{id}\"\n\n[item.Note.fields]\nid = \"string\"\n",
        "//! A crate.\ndynamo_runtime::include_schema!();\n",
    );
    let build = dynamo_tests::try_build_outside(dir);
    assert!(!build.status.success());
    let stderr = String::from_utf8_lossy(&build.stderr);
    let first = stderr
        .lines()
        .find(|l| l.starts_with("error"))
        .unwrap_or_default();
    assert_eq!(
        first,
        "error: table `notes` has `serde = true` (or `json_schema = true`, or the Builder's): \
         turn on dynamo-runtime's `serde` feature: dynamo-runtime = { ..., features = [\"serde\"] }",
        "{stderr}"
    );
}
