//! Tables owned by infrastructure code, against DynamoDB Local: the
//! template `export cloudformation` writes is deployed (each table
//! resource created or updated as CloudFormation would), then `migrate
//! --data-only` runs the data steps and refuses to run on a table that
//! differs; and the protection options from schema to live table and back.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use dynamo_runtime::Db;
use dynamo_tests::{ENDPOINT_ENV, local_db};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/valid")
        .join(name)
}

fn endpoint() -> String {
    std::env::var(ENDPOINT_ENV).unwrap()
}

fn cli(db: &Db, schemas: &Path) -> Command {
    dynamo_tests::cli_at(env!("CARGO_BIN_EXE_cli"), db, &endpoint(), schemas)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[track_caller]
fn succeeded(out: &Output) -> String {
    assert!(out.status.success(), "{}", text(out));
    text(out)
}

fn keys(value: &Value) -> Vec<KeySchemaElement> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(k["AttributeName"].as_str().unwrap())
                .key_type(KeyType::from(k["KeyType"].as_str().unwrap()))
                .build()
                .unwrap()
        })
        .collect()
}

fn projection(value: &Value) -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::from(
            value["ProjectionType"].as_str().unwrap(),
        ))
        .set_non_key_attributes(value.get("NonKeyAttributes").map(|names| {
            names
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_owned())
                .collect()
        }))
        .build()
}

/// What `aws cloudformation deploy` of `export cloudformation`'s template
/// does to the (on-demand) tables of these fixtures: creates a missing
/// table, adds a missing global index to an existing one.
async fn deploy(db: &Db, schemas: &Path) {
    let out = succeeded(
        &cli(db, schemas)
            .args(["export", "cloudformation"])
            .output()
            .unwrap(),
    );
    let template: Value = serde_json::from_str(&out[..out.rfind('}').unwrap() + 1]).unwrap();
    for resource in template["Resources"].as_object().unwrap().values() {
        assert_eq!(resource["Type"], "AWS::DynamoDB::Table");
        let p = &resource["Properties"];
        // The name without the namespace: the `If` of the `Namespace`
        // parameter, whose value here is the test's namespace.
        let logical = p["TableName"]["Fn::If"][2].as_str().unwrap();
        let name = db.physical_name(logical);
        let definitions: Vec<AttributeDefinition> = p["AttributeDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                AttributeDefinition::builder()
                    .attribute_name(d["AttributeName"].as_str().unwrap())
                    .attribute_type(ScalarAttributeType::from(
                        d["AttributeType"].as_str().unwrap(),
                    ))
                    .build()
                    .unwrap()
            })
            .collect();
        let indexes: Vec<&Value> = p
            .get("GlobalSecondaryIndexes")
            .map(|i| i.as_array().unwrap().iter().collect())
            .unwrap_or_default();
        let existing = db.client().describe_table().table_name(&name).send().await;
        let Ok(existing) = existing else {
            let mut create = db
                .client()
                .create_table()
                .table_name(&name)
                .billing_mode(BillingMode::PayPerRequest)
                .set_attribute_definitions(Some(definitions))
                .set_key_schema(Some(keys(&p["KeySchema"])))
                .deletion_protection_enabled(p["DeletionProtectionEnabled"] == true);
            for index in indexes {
                create = create.global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(index["IndexName"].as_str().unwrap())
                        .set_key_schema(Some(keys(&index["KeySchema"])))
                        .projection(projection(&index["Projection"]))
                        .build()
                        .unwrap(),
                );
            }
            create.send().await.unwrap();
            continue;
        };
        let live = existing.table().unwrap();
        for index in indexes {
            let index_name = index["IndexName"].as_str().unwrap();
            if live
                .global_secondary_indexes()
                .iter()
                .any(|i| i.index_name() == Some(index_name))
            {
                continue;
            }
            db.client()
                .update_table()
                .table_name(&name)
                .set_attribute_definitions(Some(definitions.clone()))
                .global_secondary_index_updates(
                    GlobalSecondaryIndexUpdate::builder()
                        .create(
                            CreateGlobalSecondaryIndexAction::builder()
                                .index_name(index_name)
                                .set_key_schema(Some(keys(&index["KeySchema"])))
                                .projection(projection(&index["Projection"]))
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .send()
                .await
                .unwrap();
        }
    }
}

fn status(db: &Db, schemas: &Path) -> String {
    succeeded(
        &cli(db, schemas)
            .args(["migrate", "status"])
            .output()
            .unwrap(),
    )
}

/// The IaC workflow of docs/migrations.md: the infrastructure code makes
/// the tables, `migrate --data-only` fills them; a table the code has not
/// caught up with stops the run before it writes anything.
#[tokio::test]
async fn data_only_runs_the_data_steps_on_tables_the_infrastructure_code_made() {
    let db = local_db("iac_data_only").await;
    let dir = tempfile::tempdir().unwrap();

    // Version 1: the template creates the table; the data-only run checks
    // `create_table` against it and records the migration.
    dynamo_tests::copy_schema(&fixture("evolve_before"), dir.path());
    deploy(&db, dir.path()).await;
    let out = succeeded(
        &cli(&db, dir.path())
            .args(["migrate", "--data-only"])
            .output()
            .unwrap(),
    );
    assert!(out.contains("applied 0001_create_shop.toml"), "{out}");
    dynamo_tests::write_evolve_orders(&db, 10).await;

    // Version 2 adds index `by_status` and its backfill. Before the
    // template is deployed, the run names the difference and applies
    // nothing: no item gets the index keys.
    dynamo_tests::copy_schema(&fixture("evolve_after"), dir.path());
    let dry = succeeded(
        &cli(&db, dir.path())
            .args(["migrate", "--data-only", "--dry-run"])
            .output()
            .unwrap(),
    );
    assert!(
        dry.contains("(data only, not sent: the live table lacks UpdateTable"),
        "{dry}"
    );
    let refused = cli(&db, dir.path())
        .args(["migrate", "--data-only"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let message = text(&refused);
    assert!(
        message.contains("the live tables differ from the migrations' table steps in 1 way")
            && message.contains(
                "0002_orders_by_status.toml step 1 (add_index by_status on shop): a full run \
                 would send UpdateTable"
            ),
        "{message}"
    );
    assert!(
        status(&db, dir.path()).contains("pending    0002_orders_by_status.toml"),
        "{}",
        status(&db, dir.path())
    );
    let written = db
        .client()
        .scan()
        .table_name(db.physical_name("shop"))
        .filter_expression("attribute_exists(gsi1pk)")
        .send()
        .await
        .unwrap();
    assert_eq!(
        written.count(),
        0,
        "nothing written before the index exists"
    );

    // Deployed: the same run backfills, and the index answers.
    deploy(&db, dir.path()).await;
    let out = succeeded(
        &cli(&db, dir.path())
            .args(["migrate", "--data-only"])
            .output()
            .unwrap(),
    );
    assert!(out.contains("applied 0002_orders_by_status.toml"), "{out}");
    assert!(
        !out.contains("UpdateTable"),
        "a data-only run changes no table: {out}"
    );
    assert_eq!(
        dynamo_tests::evolve_shipped(&db).await,
        ["o001", "o003", "o005", "o007", "o009"]
    );
}

const VAULT: &str = r#"
[table]
name = "vault"
partition_key = "pk"
point_in_time_recovery = true
deletion_protection = true

[item.Secret.keys]
pk = "SECRET#{id}"

[item.Secret.fields]
id = "string"
"#;

/// `point_in_time_recovery` and `deletion_protection` from the schema to
/// the live table, and a deletion planned with the protection turned off
/// first.
#[tokio::test]
async fn protection_options_reach_the_table_and_a_deletion_turns_them_off_first() {
    let db = local_db("iac_protection").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    std::fs::write(dir.path().join("vault.toml"), VAULT).unwrap();
    succeeded(
        &cli(&db, dir.path())
            .args(["migration", "new", "create vault"])
            .output()
            .unwrap(),
    );
    let created =
        std::fs::read_to_string(dir.path().join("migrations/0001_create_vault.toml")).unwrap();
    assert!(
        created.contains("point_in_time_recovery = true")
            && created.contains("deletion_protection = true"),
        "{created}"
    );
    let out = succeeded(&cli(&db, dir.path()).arg("migrate").output().unwrap());
    // DynamoDB Local has no continuous backups: the run says what it left
    // out instead of failing or staying silent.
    assert!(
        out.contains("warning: skipped UpdateContinuousBackups"),
        "{out}"
    );
    let table = db.physical_name("vault");
    let described = db
        .client()
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.table().unwrap().deletion_protection_enabled(),
        Some(true)
    );
    let refused = db.client().delete_table().table_name(&table).send().await;
    assert!(refused.is_err(), "a protected table cannot be deleted");

    // The table leaves the schema: the planned migration turns the
    // protection off, then deletes the table.
    std::fs::remove_file(dir.path().join("vault.toml")).unwrap();
    succeeded(
        &cli(&db, dir.path())
            .args(["migration", "new", "drop vault"])
            .output()
            .unwrap(),
    );
    let dropped =
        std::fs::read_to_string(dir.path().join("migrations/0002_drop_vault.toml")).unwrap();
    let off = dropped.find("op = \"update_protection\"").unwrap();
    let delete = dropped.find("op = \"delete_table\"").unwrap();
    assert!(off < delete, "{dropped}");
    assert!(dropped.contains("deletion_protection = false"), "{dropped}");
    succeeded(&cli(&db, dir.path()).arg("migrate").output().unwrap());
    let gone = db.client().describe_table().table_name(&table).send().await;
    assert!(gone.is_err(), "the table is deleted");
}
