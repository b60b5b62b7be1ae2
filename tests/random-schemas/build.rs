//! Generates the code of seeded random schema folders (see `src/generator.rs`)
//! into `OUT_DIR`, until `DYNAMO_RANDOM_SCHEMAS` of them (default 120) are
//! accepted, and writes `schemas.rs` including one module per accepted
//! schema. Rejected schemas must be rejected with a diagnostic: anything
//! else (a panic, an error without diagnostics) fails the build.

use std::{fmt::Write as _, path::PathBuf};

#[path = "src/generator.rs"]
#[allow(dead_code)]
mod generator;

fn main() {
    println!("cargo:rerun-if-changed=src/generator.rs");
    println!("cargo:rerun-if-env-changed=DYNAMO_RANDOM_SCHEMAS");
    let wanted: usize = std::env::var("DYNAMO_RANDOM_SCHEMAS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(120);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut modules = String::new();
    let mut summary = String::new();
    let (mut accepted, mut seed) = (0, 0u64);
    while accepted < wanted {
        let files = generator::schema(seed);
        let dir = out.join(format!("schema_{seed}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("migrations")).expect("a writable OUT_DIR");
        std::fs::write(dir.join(&files.table.0), &files.table.1).expect("a writable OUT_DIR");
        for (name, text) in &files.migrations {
            std::fs::write(dir.join("migrations").join(name), text).expect("a writable OUT_DIR");
        }
        match dynamo_codegen::generate(&dir) {
            Ok(generated) => {
                let code = dir.join("code");
                std::fs::create_dir_all(&code).expect("a writable OUT_DIR");
                for file in &generated.files {
                    std::fs::write(code.join(&file.name), &file.contents)
                        .expect("a writable OUT_DIR");
                }
                let _ = writeln!(
                    modules,
                    "#[doc = \"Seed {seed}.\"]\npub mod schema_{seed} {{ include!(concat!(env!(\"OUT_DIR\"), \"/schema_{seed}/code/mod.rs\")); }}"
                );
                let _ = writeln!(summary, "accepted {seed}");
                accepted += 1;
            }
            Err(dynamo_codegen::Error::Schema(diagnostics)) => {
                let codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
                assert!(
                    diagnostics.has_errors(),
                    "seed {seed} was rejected without an error"
                );
                let _ = writeln!(summary, "rejected {seed} {}", codes.join(" "));
            }
            Err(other) => panic!("seed {seed}: not a schema error: {other:?}"),
        }
        seed += 1;
    }
    std::fs::write(out.join("schemas.rs"), modules).expect("a writable OUT_DIR");
    std::fs::write(out.join("summary.txt"), summary).expect("a writable OUT_DIR");
}
