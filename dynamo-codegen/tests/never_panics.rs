//! The loader and validator never panic, whatever the input: a property
//! test over mutated copies of every fixture file (valid and invalid,
//! schemas and migrations), each run through load and validate both as a
//! table file and as a migration file beside a valid schema.
//!
//! Bounded for CI: `PROPTEST_CASES` (default 2000 here) mutated inputs.

use std::{
    path::Path,
    sync::{Arc, OnceLock},
};

use dynamo_codegen::{
    diagnostics::{Diagnostics, SourceFile},
    load, validate,
};
use proptest::prelude::*;

fn fixture_texts() -> &'static [String] {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    TEXTS.get_or_init(read_fixtures)
}

fn read_fixtures() -> Vec<String> {
    let mut out = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "toml")
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                out.push(text);
            }
        }
    }
    out.sort();
    out
}

/// One edit of a text: what TOML and templates are sensitive to.
#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    DuplicateLine { line: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let fragment = prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("{{".to_owned()),
        Just(":0".to_owned()),
        Just("\"".to_owned()),
        Just("[".to_owned()),
        Just("]]".to_owned()),
        Just("\n".to_owned()),
        Just(" = ".to_owned()),
        Just("<".to_owned()),
        Just(">".to_owned()),
        Just("é🙂".to_owned()),
        Just("\\u0000".to_owned()),
        Just("optional = true\n".to_owned()),
        Just("[item.X.keys]\n".to_owned()),
        Just("[[step]]\nop = \"backfill\"\n".to_owned()),
        "[a-z_#{}:0-9]{1,8}",
    ];
    prop_oneof![
        (any::<usize>(), 1usize..20).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), fragment).prop_map(|(at, text)| Mutation::Insert { at, text }),
        any::<usize>().prop_map(|line| Mutation::DuplicateLine { line }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

/// The nearest char boundary at or below `at % (len + 1)`.
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(mut text: String, m: &Mutation) -> String {
    match m {
        Mutation::Delete { at, len } => {
            let start = boundary(&text, *at);
            let end = boundary(&text, (start + len).min(text.len()));
            text.replace_range(start..end, "");
        }
        Mutation::Insert { at, text: t } => {
            let at = boundary(&text, *at);
            text.insert_str(at, t);
        }
        Mutation::DuplicateLine { line } => {
            let lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let i = line % lines.len();
                let mut out: Vec<&str> = lines.clone();
                out.insert(i, lines[i]);
                text = out.join("\n");
            }
        }
        Mutation::Truncate { at } => {
            let at = boundary(&text, *at);
            text.truncate(at);
        }
    }
    text
}

const SCHEMA: &str = "[table]\nname = \"shop\"\npartition_key = \"pk\"\nsort_key = \"sk\"\n\
    [item.Customer.keys]\npk = \"CUSTOMER#{id}\"\nsk = \"PROFILE\"\n\
    [item.Customer.fields]\nid = \"string\"\nemail = \"string\"\n";

fn run(text: &str) {
    let mut diagnostics = Diagnostics::default();
    let source = |name: &str, text: &str| {
        Arc::new(SourceFile {
            name: name.to_owned(),
            text: text.to_owned(),
        })
    };
    let mut loaded = load::Loaded::default();
    loaded.files.extend(load::parse(
        source("a.toml", text),
        "a.toml".into(),
        &mut diagnostics,
    ));
    loaded.files.extend(load::parse(
        source("shop.toml", SCHEMA),
        "shop.toml".into(),
        &mut diagnostics,
    ));
    loaded.migrations.extend(load::parse_migration(
        source("0001_m.toml", text),
        "0001_m.toml".into(),
        &mut diagnostics,
    ));
    let _ = validate::validate(&loaded, &mut diagnostics);
    // Rendering must not panic either, whatever the spans.
    let _ = diagnostics.render();
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_fixtures_never_panic(
        index in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let texts = fixture_texts();
        prop_assume!(!texts.is_empty());
        let mut text = texts[index % texts.len()].clone();
        for m in &mutations {
            text = apply(text, m);
        }
        run(&text);
    }
}

#[test]
fn every_fixture_loads_without_panicking() {
    let texts = fixture_texts();
    assert!(texts.len() > 60, "{} fixture files", texts.len());
    for text in texts {
        run(text);
    }
}
