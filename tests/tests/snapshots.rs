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
/// Every valid fixture's generated code is pinned (and `build.rs`
/// compiles each into the library, warning-free).
#[test]
fn generated_code_for_valid_fixtures() {
    let dirs = folders("fixtures/valid");
    assert!(dirs.len() >= 7, "only {} valid fixtures", dirs.len());
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        snapshot_generated(&name, &dir);
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
            // Item types that differ from what the migrations record are
            // reported by `check` and `migration new`, at their schema line.
            Ok(checked) => {
                let drift = dynamo_codegen::migrate::plan::drift(
                    &dynamo_codegen::migrate::plan::diff(&checked.schema),
                );
                if drift.iter().count() == 0 {
                    problems.push(format!("{name}: the invalid fixture was accepted"));
                    continue;
                }
                drift.render()
            }
        };
        if !rendered.contains("help:") {
            problems.push(format!("{name}: no help line:\n{rendered}"));
        }
        insta::assert_snapshot!(format!("invalid__{name}"), rendered);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Warning fixtures pass `check` (warnings never fail a build) and their
/// rendered warnings are pinned.
#[test]
fn warnings_for_warning_fixtures() {
    for dir in folders("fixtures/warnings") {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let checked = dynamo_codegen::check(&dir).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let rendered = checked.warnings.render();
        assert!(
            rendered.contains("help:"),
            "{name}: no warning with help:\n{rendered}"
        );
        insta::assert_snapshot!(format!("warning__{name}"), rendered);
    }
}

/// Every diagnostic code in the generator's source (`"dynamo::<code>"`).
fn diagnostic_codes() -> std::collections::BTreeSet<String> {
    let mut sources = vec![PathBuf::from("../dynamo-codegen/src")];
    let mut codes = std::collections::BTreeSet::new();
    while let Some(path) = sources.pop() {
        if path.is_dir() {
            sources.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("\"dynamo::").skip(1) {
                let code: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if part[code.len()..].starts_with('"') {
                    codes.insert(code);
                }
            }
        }
    }
    assert!(codes.len() > 50, "found only {} codes", codes.len());
    codes
}

/// The diagnostics table of `docs/schema.md` lists exactly the codes the
/// generator emits.
#[test]
fn every_diagnostic_code_is_documented() {
    let docs = std::fs::read_to_string("../docs/schema.md").unwrap();
    let documented: std::collections::BTreeSet<String> = docs
        .lines()
        .filter_map(|line| line.strip_prefix("| `dynamo::"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_owned)
        .collect();
    let codes = diagnostic_codes();
    let undocumented: Vec<_> = codes.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&codes).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "not in docs/schema.md: {undocumented:?}; in docs/schema.md but never emitted: {unknown:?}"
    );
}

/// Every diagnostic code the generator can emit is shown by at least one
/// fixture snapshot, so no rule goes untested.
#[test]
fn every_diagnostic_code_has_a_fixture() {
    let codes = diagnostic_codes();
    let mut snapshots = String::new();
    for entry in std::fs::read_dir("tests/snapshots").unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains("__invalid__") || name.contains("__warning__") {
            snapshots.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    let missing: Vec<_> = codes
        .iter()
        .filter(|c| !snapshots.contains(&format!("dynamo::{c}\n")))
        .collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
}
