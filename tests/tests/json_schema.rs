//! `docs/schema.json` and `docs/migration.schema.json` are generated from
//! the loader's raw structs; this test fails when they are stale. Run it
//! with `UPDATE_DOCS=1` to rewrite them.

use std::path::Path;

#[test]
fn json_schemas_are_fresh() {
    let (schema, migration) = dynamo_codegen::json_schemas();
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let mut stale = Vec::new();
    for (file, text) in [
        ("schema.json", schema),
        ("migration.schema.json", migration),
    ] {
        let path = docs.join(file);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        } else {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "stale: docs/{} (run `UPDATE_DOCS=1 cargo test -p dynamo-tests --test json_schema`)",
        stale.join(", docs/")
    );
}
