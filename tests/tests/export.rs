//! `dynamo-codegen export`: every valid fixture as CloudFormation (JSON
//! and YAML) and Terraform, snapshotted; the CloudFormation passes
//! cfn-lint with no errors, and the Terraform parses with python-hcl2
//! into resources that match the schema (both tools installed by
//! `scripts/test` into `DYNAMO_IAC_PYTHON`'s environment).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

use dynamo_codegen::export::{Format, export_schemas};
use dynamo_runtime::{Billing, IndexKind, Projection, TableDef};

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/valid");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs
}

fn name(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

/// The Python with cfn-lint and python-hcl2 (`scripts/test` sets it).
fn python() -> PathBuf {
    std::env::var_os("DYNAMO_IAC_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!("DYNAMO_IAC_PYTHON is not set: run `scripts/test`, which installs cfn-lint and python-hcl2")
        })
}

#[test]
fn every_fixture_exports_deterministically() {
    for dir in fixtures() {
        for (format, ext) in [
            (Format::CloudFormationJson, "cfn.json"),
            (Format::CloudFormationYaml, "cfn.yaml"),
            (Format::Terraform, "tf"),
        ] {
            let text = export_schemas(&dir, format).unwrap();
            assert_eq!(text, export_schemas(&dir, format).unwrap(), "deterministic");
            insta::assert_snapshot!(format!("{}.{ext}", name(&dir)), text);
        }
    }
}

#[test]
fn cloudformation_passes_cfn_lint() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for dir in fixtures() {
        for (format, ext) in [
            (Format::CloudFormationJson, "json"),
            (Format::CloudFormationYaml, "yaml"),
        ] {
            let file = tmp.path().join(format!("{}.{ext}", name(&dir)));
            std::fs::write(&file, export_schemas(&dir, format).unwrap()).unwrap();
            files.push(file);
        }
    }
    let cfn_lint = python().with_file_name("cfn-lint");
    let out = Command::new(cfn_lint)
        .args(["--format", "parseable", "--"])
        .args(&files)
        .output()
        .unwrap();
    // cfn-lint's exit code is a bit set: 2 errors, 4 warnings, 8 notes
    // (1: it failed to run).
    let code = out.status.code().unwrap_or(1);
    assert!(
        code & 3 == 0,
        "cfn-lint found errors (exit {code}):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The parsed `aws_dynamodb_table` resources of a Terraform file.
fn parse_hcl(text: &str) -> serde_json::Value {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("main.tf");
    std::fs::write(&file, text).unwrap();
    let out = Command::new(python())
        .arg("-c")
        .arg(
            "import sys, json, hcl2\n\
             with open(sys.argv[1]) as f:\n    print(json.dumps(hcl2.load(f)))",
        )
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python-hcl2 does not parse it:\n{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// python-hcl2 (8) writes strings and labels with their quotes
/// (`"\"pk\""`).
fn unquote(v: &serde_json::Value) -> String {
    v.as_str()
        .map(|s| s.trim_matches('"').to_owned())
        .unwrap_or_else(|| v.to_string())
}

fn tables(dir: &Path) -> Vec<TableDef> {
    dynamo_codegen::check(dir)
        .unwrap()
        .schema
        .tables
        .into_iter()
        .map(|t| t.def)
        .collect()
}

#[test]
fn terraform_parses_into_the_schema_tables() {
    for dir in fixtures() {
        let parsed = parse_hcl(&export_schemas(&dir, Format::Terraform).unwrap());
        let resources: Vec<&serde_json::Value> = parsed["resource"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["\"aws_dynamodb_table\""].as_object())
            .flat_map(|tables| tables.values())
            .collect();
        let tables = tables(&dir);
        assert_eq!(resources.len(), tables.len(), "{}", name(&dir));
        for (r, t) in resources.iter().zip(&tables) {
            let what = format!("{} table {}", name(&dir), t.name);
            assert_eq!(
                unquote(&r["name"]),
                format!("${{local.table_prefix}}{}", t.name),
                "{what}"
            );
            assert_eq!(unquote(&r["hash_key"]), *t.partition_key.name, "{what}");
            assert_eq!(
                r.get("range_key").map(unquote),
                t.sort_key.as_ref().map(|k| k.name.to_string()),
                "{what}"
            );
            match t.billing {
                Billing::OnDemand => assert_eq!(unquote(&r["billing_mode"]), "PAY_PER_REQUEST"),
                Billing::Provisioned(p) => {
                    assert_eq!(unquote(&r["billing_mode"]), "PROVISIONED");
                    assert_eq!(r["read_capacity"], p.read);
                    assert_eq!(r["write_capacity"], p.write);
                }
            }
            let blocks = |kind: &str| -> Vec<&serde_json::Value> {
                r.get(kind)
                    .and_then(|v| v.as_array())
                    .map(|a| a.iter().collect())
                    .unwrap_or_default()
            };
            let globals = blocks("global_secondary_index");
            let locals = blocks("local_secondary_index");
            for (index, block) in t
                .indexes
                .iter()
                .filter(|i| i.kind == IndexKind::Global)
                .zip(&globals)
                .chain(
                    t.indexes
                        .iter()
                        .filter(|i| i.kind == IndexKind::Local)
                        .zip(&locals),
                )
            {
                assert_eq!(unquote(&block["name"]), *index.name, "{what}");
                let attributes = |keys: &[dynamo_runtime::KeyAttributeDef]| -> Vec<String> {
                    keys.iter().map(|k| k.name.to_string()).collect()
                };
                // `key_schema` blocks in order (multi-attribute keys), or
                // `hash_key` and `range_key`.
                let (hash, range): (Vec<String>, Vec<String>) = match block.get("key_schema") {
                    Some(schema) => {
                        let elements: Vec<(String, String)> = schema
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|e| (unquote(&e["attribute_name"]), unquote(&e["key_type"])))
                            .collect();
                        let of = |kind: &str| {
                            elements
                                .iter()
                                .filter(|(_, k)| k == kind)
                                .map(|(a, _)| a.clone())
                                .collect()
                        };
                        (of("HASH"), of("RANGE"))
                    }
                    None => (
                        block.get("hash_key").map(unquote).into_iter().collect(),
                        block.get("range_key").map(unquote).into_iter().collect(),
                    ),
                };
                if index.kind == IndexKind::Global {
                    assert_eq!(hash, attributes(&index.partition_key), "{what}");
                }
                assert_eq!(
                    range,
                    attributes(&index.sort_key),
                    "{what} index {}",
                    index.name
                );
                let projection = unquote(&block["projection_type"]);
                match &index.projection {
                    Projection::All => assert_eq!(projection, "ALL"),
                    Projection::KeysOnly => assert_eq!(projection, "KEYS_ONLY"),
                    Projection::Include(names) => {
                        assert_eq!(projection, "INCLUDE");
                        let listed: Vec<String> = block["non_key_attributes"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(unquote)
                            .collect();
                        for n in names.iter() {
                            assert!(listed.contains(&n.to_string()), "{what}: {n}");
                        }
                    }
                }
            }
            assert_eq!(
                globals.len() + locals.len(),
                t.indexes.len(),
                "{what}: every index"
            );
            let ttl = blocks("ttl");
            assert_eq!(
                ttl.first().map(|b| unquote(&b["attribute_name"])),
                t.ttl.as_ref().map(|a| a.to_string()),
                "{what}"
            );
            assert_eq!(
                r.get("stream_enabled").and_then(|v| v.as_bool()),
                t.stream.map(|_| true),
                "{what}"
            );
            assert_eq!(
                r.get("stream_view_type").map(unquote),
                t.stream.map(|v| v.name().to_uppercase()),
                "{what}"
            );
            assert_eq!(
                blocks("point_in_time_recovery")
                    .first()
                    .and_then(|b| b["enabled"].as_bool()),
                t.point_in_time_recovery.then_some(true),
                "{what}"
            );
            assert_eq!(
                r.get("deletion_protection_enabled")
                    .and_then(|v| v.as_bool()),
                t.deletion_protection.then_some(true),
                "{what}"
            );
        }
    }
}
