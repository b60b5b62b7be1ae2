//! Generates the shop's typed client from `../schemas` into `OUT_DIR`.

fn main() {
    dynamo_codegen::Builder::new()
        .schema_dir("../schemas")
        .compile()
        .unwrap_or_else(|e| panic!("{e:?}"));
}
