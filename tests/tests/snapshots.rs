//! Snapshots of generated code (every file, for `schemas/` and each valid
//! fixture; the build script compiles the same code) and of the rendered
//! diagnostics of every invalid fixture.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};

fn folders(dir: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

fn snapshot_generated(name: &str, dir: &Path) {
    let generated = dynamo_codegen::generate(dir).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        generated.warnings.iter().count(),
        0,
        "{}",
        generated.warnings.render()
    );
    for file in &generated.files {
        insta::assert_snapshot!(format!("{name}__{}", file.name), file.contents);
    }
}

#[test]
fn generated_code_for_schemas() {
    snapshot_generated("schemas", Path::new("../schemas"));
}

#[test]
fn generated_code_for_valid_fixtures() {
    for dir in folders("fixtures/valid") {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        snapshot_generated(&name, &dir);
    }
}

#[test]
fn generation_is_deterministic() {
    let a = dynamo_codegen::generate(Path::new("../schemas")).unwrap();
    let b = dynamo_codegen::generate(Path::new("../schemas")).unwrap();
    assert_eq!(a.files, b.files);
}

#[test]
fn diagnostics_for_invalid_fixtures() {
    let dirs = folders("fixtures/invalid");
    assert!(dirs.len() >= 30, "only {} invalid fixtures", dirs.len());
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let rendered = match dynamo_codegen::generate(&dir) {
            Err(dynamo_codegen::Error::Schema(diagnostics)) => diagnostics.render(),
            Err(other) => panic!("{name}: expected schema errors, got {other:?}"),
            Ok(_) => panic!("{name}: the invalid fixture was accepted"),
        };
        assert!(
            rendered.contains("help:"),
            "{name}: no help line:\n{rendered}"
        );
        insta::assert_snapshot!(format!("invalid__{name}"), rendered);
    }
}
