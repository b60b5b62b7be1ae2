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

/// Valid fixtures whose features code generation covers today; the build
/// script compiles the same code.
const GENERATED_FIXTURES: [&str; 1] = ["keys"];

#[test]
fn generated_code_for_valid_fixtures() {
    for name in GENERATED_FIXTURES {
        snapshot_generated(name, &Path::new("fixtures/valid").join(name));
    }
}

/// Every valid fixture passes `check` without warnings, and its resolved
/// model is pinned: what the emitters and the migration planner receive.
#[test]
fn valid_fixtures_resolve() {
    let dirs = folders("fixtures/valid");
    assert!(dirs.len() >= 5, "only {} valid fixtures", dirs.len());
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let checked = dynamo_codegen::check(&dir).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(
            checked.warnings.iter().count(),
            0,
            "{name}: {}",
            checked.warnings.render()
        );
        insta::assert_snapshot!(format!("ir__{name}"), format!("{:#?}", checked.schema));
    }
}

#[test]
fn generation_is_deterministic() {
    let a = dynamo_codegen::generate(Path::new("../schemas")).unwrap();
    let b = dynamo_codegen::generate(Path::new("../schemas")).unwrap();
    assert_eq!(a.files, b.files);
}

/// Every invalid fixture holds one mistake (`several_errors` holds
/// several, to show that a run reports them all); each is rejected with a
/// help line, and its rendered diagnostics are pinned.
#[test]
fn diagnostics_for_invalid_fixtures() {
    let dirs = folders("fixtures/invalid");
    assert!(dirs.len() >= 60, "only {} invalid fixtures", dirs.len());
    let mut problems = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let rendered = match dynamo_codegen::check(&dir) {
            Err(dynamo_codegen::Error::Schema(diagnostics)) => diagnostics.render(),
            Err(other) => {
                problems.push(format!("{name}: expected schema errors, got {other:?}"));
                continue;
            }
            Ok(_) => {
                problems.push(format!("{name}: the invalid fixture was accepted"));
                continue;
            }
        };
        if !rendered.contains("help:") {
            problems.push(format!("{name}: no help line:\n{rendered}"));
        }
        insta::assert_snapshot!(format!("invalid__{name}"), rendered);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
