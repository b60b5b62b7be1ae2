//! Every schema the generator writes is either accepted, and then its code
//! compiled in this crate's library (under `#![deny(warnings)]`, and clippy
//! `-D warnings` in CI), or rejected with located diagnostics. This test
//! checks the rest: enough schemas were accepted, every top-level name of
//! the generated code (and every associated item of a type) is unique, a
//! second run generates the same bytes, and each rejection carries
//! diagnostics with a code, a place and help.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::{collections::BTreeMap, path::Path};

use dynamo_random_schemas::generator;

fn summary() -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/summary.txt")).unwrap();
    text.lines()
        .map(|line| {
            let mut words = line.split(' ');
            let what = words.next().unwrap().to_owned();
            (what, words.next().unwrap().parse().unwrap())
        })
        .collect()
}

#[test]
fn enough_schemas_are_accepted_and_compiled() {
    let wanted: usize = option_env!("DYNAMO_RANDOM_SCHEMAS")
        .and_then(|n| n.parse().ok())
        .unwrap_or(120);
    let summary = summary();
    let accepted = summary.iter().filter(|(w, _)| w == "accepted").count();
    let rejected = summary.len() - accepted;
    assert!(
        accepted >= 100.min(wanted),
        "only {accepted} schemas accepted"
    );
    assert_eq!(accepted, wanted);
    // Most schemas are valid: a generator that only made rejected schemas
    // would test nothing.
    assert!(
        rejected * 2 < accepted,
        "{rejected} rejected, {accepted} accepted"
    );
    eprintln!("{accepted} random schemas accepted and compiled, {rejected} rejected");
}

#[test]
fn rejected_schemas_carry_located_diagnostics() {
    let mut codes: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (what, seed) in summary() {
        if what != "rejected" {
            continue;
        }
        let files = generator::schema(seed);
        let dir = tempfile_dir(seed);
        std::fs::write(dir.join(&files.table.0), &files.table.1).unwrap();
        for (name, text) in &files.migrations {
            std::fs::write(dir.join("migrations").join(name), text).unwrap();
        }
        let Err(dynamo_codegen::Error::Schema(diagnostics)) = dynamo_codegen::check(&dir) else {
            panic!("seed {seed} was rejected at build time, and not now");
        };
        assert!(diagnostics.has_errors(), "seed {seed}");
        for d in diagnostics.iter() {
            assert!(d.code.starts_with("dynamo::"), "seed {seed}: {}", d.code);
            assert!(d.help.is_some(), "seed {seed}: {} has no help", d.code);
            assert!(
                d.span.end <= d.file.text.len(),
                "seed {seed}: {} points outside its file",
                d.code
            );
            *codes.entry(d.code).or_default() += 1;
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!("diagnostics of rejected schemas: {codes:?}");
    assert!(codes.contains_key("dynamo::name_clash"), "{codes:?}");
}

fn tempfile_dir(seed: u64) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dynamo-random-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    dir
}

#[test]
fn generation_is_deterministic() {
    let out = Path::new(env!("OUT_DIR"));
    let mut files = 0;
    for (what, seed) in summary() {
        if what != "accepted" {
            continue;
        }
        let schema = generator::schema(seed);
        let dir = tempfile_dir(seed);
        std::fs::write(dir.join(&schema.table.0), &schema.table.1).unwrap();
        for (name, text) in &schema.migrations {
            std::fs::write(dir.join("migrations").join(name), text).unwrap();
        }
        let again = dynamo_codegen::generate(&dir).unwrap();
        let code = out.join(format!("schema_{seed}/code"));
        for file in &again.files {
            let built = std::fs::read_to_string(code.join(&file.name)).unwrap();
            assert!(
                built == file.contents,
                "seed {seed}: {} differs between two runs",
                file.name
            );
            files += 1;
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
    assert!(files >= 300, "only {files} files");
}

/// Names declared in one scope of a generated file: top-level items, and
/// each type's associated items over all its inherent impls.
#[derive(Default)]
struct Names {
    top: BTreeMap<String, usize>,
    associated: BTreeMap<(String, String), usize>,
}

impl Names {
    fn file(&mut self, file: &syn::File) {
        for item in &file.items {
            let name = match item {
                syn::Item::Struct(s) => Some(s.ident.to_string()),
                syn::Item::Enum(e) => Some(e.ident.to_string()),
                syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
                syn::Item::Static(s) => Some(s.ident.to_string()),
                syn::Item::Const(c) => Some(c.ident.to_string()),
                syn::Item::Mod(m) => Some(m.ident.to_string()),
                syn::Item::Type(t) => Some(t.ident.to_string()),
                syn::Item::Impl(i) if i.trait_.is_none() => {
                    let syn::Type::Path(ty) = &*i.self_ty else {
                        continue;
                    };
                    let ty = ty.path.segments.last().unwrap().ident.to_string();
                    for member in &i.items {
                        let name = match member {
                            syn::ImplItem::Fn(f) => f.sig.ident.to_string(),
                            syn::ImplItem::Const(c) => c.ident.to_string(),
                            _ => continue,
                        };
                        *self.associated.entry((ty.clone(), name)).or_default() += 1;
                    }
                    None
                }
                _ => None,
            };
            if let Some(name) = name {
                *self.top.entry(name).or_default() += 1;
            }
        }
    }

    fn duplicates(&self) -> Vec<String> {
        let top = self
            .top
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(name, n)| format!("`{name}` ({n}×)"));
        let associated = self
            .associated
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|((ty, name), n)| format!("`{ty}::{name}` ({n}×)"));
        top.chain(associated).collect()
    }
}

/// Every top-level identifier of a generated file, and every associated
/// item of a type, is declared once (rustc would also refuse a duplicate;
/// this names it, with the seed, before anyone reads compiler output).
#[test]
fn every_generated_name_is_unique_in_its_scope() {
    let out = Path::new(env!("OUT_DIR"));
    let mut files = 0;
    for (what, seed) in summary() {
        if what != "accepted" {
            continue;
        }
        let code = out.join(format!("schema_{seed}/code"));
        for entry in std::fs::read_dir(&code).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let file = syn::parse_file(&text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
            let mut names = Names::default();
            names.file(&file);
            let duplicates = names.duplicates();
            assert!(
                duplicates.is_empty(),
                "seed {seed}, {}: {}",
                path.display(),
                duplicates.join(", ")
            );
            files += 1;
        }
    }
    assert!(files >= 300, "only {files} files");
}
