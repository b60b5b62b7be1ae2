//! What generated code costs to compile: a library crate holding the code
//! generated for N item types of 10 fields with one global index (in
//! tables of 10 item types), against a crate holding the same N structs
//! with `#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]`, for
//! N = 50 and 200. Both depend on `dynamo-runtime` (and serde), built once
//! first; each timed run touches the crate's `lib.rs` and rebuilds it alone
//! (debug, `CARGO_INCREMENTAL=0`), the two crates taking turns, median of
//! 3. Also reports the generated lines per item type. Results:
//! BENCHMARKS.md.
//!
//! `cargo bench -p dynamo-tests --bench build_time` (the dependencies build
//! once into `target/build-time`, a few minutes the first time).

#![allow(missing_docs, clippy::unwrap_used)]

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

const RUNS: usize = 3;

/// Field name, schema type and Rust type of the ten fields.
const FIELDS: [(&str, &str, &str); 10] = [
    ("id", "\"string\"", "String"),
    ("customer", "\"string\"", "String"),
    ("created", "\"string\"", "String"),
    ("total", "\"i64\"", "i64"),
    ("status", "\"string\"", "String"),
    (
        "note",
        "{ type = \"string\", optional = true }",
        "Option<String>",
    ),
    ("count", "\"u32\"", "u32"),
    ("paid", "\"bool\"", "bool"),
    ("tags", "\"list<string>\"", "Vec<String>"),
    ("score", "\"f64\"", "f64"),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn manifest(name: &str, serde: bool) -> String {
    let runtime = workspace().join("dynamo-runtime");
    let mut s = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [dependencies]\ndynamo-runtime = {{ path = \"{}\", features = [\"client\"] }}\n",
        runtime.display()
    );
    if serde {
        s.push_str("serde = { version = \"1\", features = [\"derive\"] }\n");
    }
    s.push_str("\n[workspace]\n");
    s
}

/// The generated crate: schemas, code generated from them, `lib.rs`.
/// Returns the generated lines per item type.
fn generated_crate(dir: &Path, items: usize) -> f64 {
    let schemas = dir.join("schemas");
    std::fs::create_dir_all(&schemas).unwrap();
    for t in 0..items.div_ceil(10) {
        let mut s = format!(
            "[table]\nname = \"tab{t}\"\npartition_key = \"pk\"\nsort_key = \"sk\"\n\n\
             [index.gsi1]\npartition_key = \"gsi1pk\"\nsort_key = \"gsi1sk\"\n\n"
        );
        for i in t * 10..items.min(t * 10 + 10) {
            writeln!(
                s,
                "[item.Order{i}.keys]\npk = \"O{i}#{{id}}\"\nsk = \"ORDER\"\n\
                 gsi1pk = \"C{i}#{{customer}}\"\ngsi1sk = \"O#{{created}}\"\n\n[item.Order{i}.fields]"
            )
            .unwrap();
            for (name, ty, _) in FIELDS {
                writeln!(s, "{name} = {ty}").unwrap();
            }
            s.push('\n');
        }
        std::fs::write(schemas.join(format!("tab{t}.toml")), s).unwrap();
    }
    let generated = dynamo_codegen::generate(&schemas).unwrap();
    let src = dir.join("src");
    let out = src.join("generated");
    std::fs::create_dir_all(&out).unwrap();
    let mut lines = 0;
    for file in &generated.files {
        if file.name.starts_with("tab") {
            lines += file.contents.lines().count();
        }
        std::fs::write(out.join(&file.name), &file.contents).unwrap();
    }
    std::fs::write(
        dir.join("Cargo.toml"),
        manifest(&format!("gen{items}"), false),
    )
    .unwrap();
    std::fs::write(
        src.join("lib.rs"),
        "//! Generated code.\n#[path = \"generated/mod.rs\"]\nmod generated;\npub use generated::*;\n",
    )
    .unwrap();
    lines as f64 / items as f64
}

/// The serde crate: the same item types as plain serde structs.
fn serde_crate(dir: &Path, items: usize) {
    let mut s = String::from("//! Serde structs.\n");
    for i in 0..items {
        writeln!(
            s,
            "/// An order.\n#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]\npub struct Order{i} {{"
        )
        .unwrap();
        for (name, _, ty) in FIELDS {
            writeln!(s, "    /// `{name}`.\n    pub {name}: {ty},").unwrap();
        }
        s.push_str("}\n");
    }
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/lib.rs"), s).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        manifest(&format!("serde{items}"), true),
    )
    .unwrap();
}

fn build(dir: &Path, touch: bool) -> Duration {
    if touch {
        let lib = dir.join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap();
        std::fs::write(&lib, text).unwrap();
    }
    let lock = workspace().join("Cargo.lock");
    std::fs::copy(lock, dir.join("Cargo.lock")).unwrap();
    let start = Instant::now();
    let status = Command::new(env!("CARGO"))
        .args(["build", "-q", "--lib"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", workspace().join("target/build-time"))
        .env("CARGO_INCREMENTAL", "0")
        .status()
        .unwrap();
    assert!(status.success());
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo test --benches` runs benches once as a test: nothing to time.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    println!(
        "| item types | generated lines per item type | generated crate s | serde crate s | ratio |"
    );
    println!("|---|---|---|---|---|");
    for items in [50, 200] {
        let dir = tempfile::tempdir().unwrap();
        let (generated, serde) = (dir.path().join("gen"), dir.path().join("serde"));
        let lines = generated_crate(&generated, items);
        serde_crate(&serde, items);
        build(&generated, false);
        build(&serde, false);
        let (mut g, mut s) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            g.push(build(&generated, true));
            s.push(build(&serde, true));
        }
        let (g, s) = (median(g), median(s));
        println!(
            "| {items} | {lines:.0} | {:.2} | {:.2} | {:.2}× |",
            g.as_secs_f64(),
            s.as_secs_f64(),
            g.as_secs_f64() / s.as_secs_f64()
        );
    }
}
