//! Generates code for `../schemas` (used by the end-to-end tests) and for
//! every valid fixture, so that each snapshot of generated code also
//! compiles here, warning-free.

use std::path::PathBuf;

use dynamo_codegen::TypeKind;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    dynamo_codegen::Builder::new()
        .schema_dir("../schemas")
        .compile()
        .unwrap_or_else(|e| panic!("{e:?}"));
    // A fixture folder added or removed reruns this script.
    println!("cargo:rerun-if-changed=fixtures/valid");
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir("fixtures/valid")
        .expect("tests/fixtures/valid exists")
        .map(|e| e.expect("readable fixture folder").path())
        .collect();
    fixtures.sort();
    for dir in fixtures {
        let name = dir.file_name().expect("a folder name").to_owned();
        // The `Builder`'s attributes, on one fixture (its test sorts keys).
        let attributes: &[(TypeKind, &str)] = if name == "keys" {
            &[
                (TypeKind::Keys, "#[derive(PartialOrd, Ord)]"),
                (TypeKind::All, "#[doc(alias = \"event\")]"),
            ]
        } else {
            &[]
        };
        attributes
            .iter()
            .fold(dynamo_codegen::Builder::new(), |b, (kind, attribute)| {
                b.type_attribute(*kind, *attribute)
            })
            .schema_dir(&dir)
            .out_dir(out.join("fixtures").join(name))
            .compile()
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
}
