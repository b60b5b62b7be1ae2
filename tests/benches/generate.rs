//! Generation at scale: 100, 1,000 and 5,000 item types of 20 fields with
//! three global indexes each (keys on ten of the fields), in tables of 20
//! item types, and 1,000 in one table. Each size runs in a fresh process
//! (this binary again, with `--child`), which times the stages of
//! `dynamo-codegen generate` (check, emit, format, write) and reports its
//! peak memory (`VmHWM`). Median of 3 runs. Results: BENCHMARKS.md.
//!
//! `cargo bench -p dynamo-tests --bench generate`

#![allow(missing_docs, clippy::unwrap_used)]

use std::{
    fmt::Write as _,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

const RUNS: usize = 3;

/// The type of field `f` (fields 0 to 9 are in keys, so text).
fn field_type(f: usize) -> &'static str {
    const OTHERS: [&str; 7] = [
        "u32",
        "bool",
        "i64",
        "f64",
        "{ type = \"string\", optional = true }",
        "list<string>",
        "string",
    ];
    if f < 10 { "string" } else { OTHERS[f % 7] }
}

/// Writes `items` item types into `dir`, `per_table` to a table file.
fn write_schemas(dir: &Path, items: usize, per_table: usize) {
    let tables = items.div_ceil(per_table);
    for t in 0..tables {
        let mut s =
            format!("[table]\nname = \"tab{t}\"\npartition_key = \"pk\"\nsort_key = \"sk\"\n\n");
        for g in 1..=3 {
            writeln!(
                s,
                "[index.gsi{g}]\npartition_key = \"gsi{g}pk\"\nsort_key = \"gsi{g}sk\"\n"
            )
            .unwrap();
        }
        for i in t * per_table..items.min((t + 1) * per_table) {
            writeln!(
                s,
                "[item.Item{i}.keys]\npk = \"I{i}#{{f0}}\"\nsk = \"S#{{f1}}\"\n\
                 gsi1pk = \"G1#{{f2}}\"\ngsi1sk = \"{{f6}}\"\n\
                 gsi2pk = \"G2#{{f3}}\"\ngsi2sk = \"{{f7}}\"\n\
                 gsi3pk = \"G3#{{f4}}\"\ngsi3sk = \"{{f8}}\"\n\n[item.Item{i}.fields]"
            )
            .unwrap();
            for f in 0..20 {
                let ty = field_type(f);
                if ty.starts_with('{') {
                    writeln!(s, "f{f} = {ty}").unwrap();
                } else {
                    writeln!(s, "f{f} = \"{ty}\"").unwrap();
                }
            }
            s.push('\n');
        }
        std::fs::write(dir.join(format!("tab{t}.toml")), s).unwrap();
    }
}

fn peak_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One generation, timed by stage: prints
/// `total check emit_format write (ms) peak (kB) lines`.
fn child(schemas: &Path, out: &Path) {
    let start = Instant::now();
    let checked = dynamo_codegen::check(schemas).unwrap();
    let check = start.elapsed();
    let files = dynamo_codegen::generate_checked(&checked).unwrap();
    let emitted = start.elapsed();
    std::fs::create_dir_all(out).unwrap();
    let mut lines = 0;
    for file in &files {
        lines += file.contents.lines().count();
        dynamo_codegen::write::write_if_changed(&out.join(&file.name), &file.contents).unwrap();
    }
    let total = start.elapsed();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{:.0} {:.0} {:.0} {:.0} {} {lines}",
        ms(total),
        ms(check),
        ms(emitted - check),
        ms(total - emitted),
        peak_kb()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(Path::new(&args[i + 1]), Path::new(&args[i + 2]));
        return;
    }
    // `cargo test --benches` runs benches once as a test: nothing to time.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    println!(
        "| item types | tables | seconds | check s | emit + format s | write s | peak MB | lines | lines per item type |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (items, per_table) in [(100, 20), (1_000, 20), (5_000, 20), (1_000, 1_000)] {
        let dir = tempfile::tempdir().unwrap();
        let schemas = dir.path().join("schemas");
        std::fs::create_dir_all(&schemas).unwrap();
        write_schemas(&schemas, items, per_table);
        let mut runs: Vec<Vec<f64>> = (0..RUNS)
            .map(|run| {
                let out = dir.path().join(format!("out{run}"));
                let output = Command::new(std::env::current_exe().unwrap())
                    .arg("--child")
                    .arg(&schemas)
                    .arg(&out)
                    .output()
                    .unwrap();
                assert!(output.status.success(), "{output:?}");
                String::from_utf8(output.stdout)
                    .unwrap()
                    .split_whitespace()
                    .map(|v| v.parse().unwrap())
                    .collect()
            })
            .collect();
        runs.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let median = &runs[RUNS / 2];
        let peak = runs.iter().map(|r| r[4]).fold(0.0, f64::max);
        println!(
            "| {items} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {:.0} |",
            items.div_ceil(per_table),
            median[0] / 1000.0,
            median[1] / 1000.0,
            median[2] / 1000.0,
            median[3] / 1000.0,
            peak / 1024.0,
            median[5],
            median[5] / items as f64,
        );
    }
}
