//! Generates code for `../schemas` (used by the end-to-end tests) and for
//! every valid fixture, so that each snapshot of generated code also
//! compiles here, warning-free.

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    dynamo_codegen::Builder::new()
        .schema_dir("../schemas")
        .compile()
        .unwrap_or_else(|e| panic!("{e:?}"));
    dynamo_codegen::Builder::new()
        .schema_dir("fixtures/valid/keys")
        .out_dir(out.join("fixtures/keys"))
        .compile()
        .unwrap_or_else(|e| panic!("{e:?}"));
}
