//! Each guarantee of generated code is a compile error, pinned with its
//! message: see `tests/ui/*.rs` and their `.stderr` files
//! (`TRYBUILD=overwrite` rewrites them after a deliberate change).

#[test]
fn guarantees_fail_to_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
