//! Migrations against DynamoDB Local: `dynamo-codegen migrate` run as real
//! processes (fresh apply, re-run, kill and resume, two at once, an edited
//! file, dry runs) and the generated `migrations::run`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use aws_sdk_dynamodb::types::AttributeValue;
use dynamo_runtime::Db;
use dynamo_tests::{ENDPOINT_ENV, fixtures, local_db};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/valid")
        .join(name)
}

fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

/// The CLI with the endpoint and namespace of `db`.
fn cli(db: &Db, endpoint: &str, schemas: &Path) -> Command {
    dynamo_tests::cli_at(env!("CARGO_BIN_EXE_cli"), db, endpoint, schemas)
}

fn endpoint() -> String {
    std::env::var(ENDPOINT_ENV).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn applied(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("applied "))
        .collect()
}

#[tokio::test]
async fn fresh_apply_then_a_second_run_does_nothing() {
    let db = local_db("fresh_apply").await;
    let run = || {
        cli(&db, &endpoint(), &schemas())
            .arg("migrate")
            .output()
            .unwrap()
    };
    let first = succeeded(&run());
    assert_eq!(
        applied(&first),
        [
            "0001_create_shop.toml",
            "0002_record_item_types.toml",
            "0003_shop_stream.toml"
        ]
    );
    let table = db
        .client()
        .describe_table()
        .table_name(db.physical_name("shop"))
        .send()
        .await
        .unwrap();
    let mut indexes: Vec<&str> = table
        .table()
        .unwrap()
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| i.index_name())
        .collect();
    indexes.sort();
    assert_eq!(indexes, ["by_status", "gsi1"]);

    let second = succeeded(&run());
    assert_eq!(
        second, "0 migrations applied now, 3 already applied\n",
        "a second run changes nothing"
    );
    // The app's start-up path: the same executor, the same records.
    let report = dynamo_tests::migrations::run(&db).await.unwrap();
    assert!(report.applied.is_empty());
    assert_eq!(
        report.already_applied,
        [
            "0001_create_shop.toml",
            "0002_record_item_types.toml",
            "0003_shop_stream.toml"
        ]
    );

    let status = cli(&db, &endpoint(), &schemas())
        .args(["migrate", "status"])
        .output()
        .unwrap();
    let status = succeeded(&status);
    assert!(
        status.starts_with("applied    0001_create_shop.toml (at "),
        "{status}"
    );
}

/// A schema folder of `evolve_before`, migrated, with `orders` orders
/// written: the state before index `by_status` exists.
async fn shop_before_the_index(test: &str, orders: usize) -> (Db, tempfile::TempDir) {
    let db = local_db(test).await;
    let dir = tempfile::tempdir().unwrap();
    dynamo_tests::copy_schema(&fixture("evolve_before"), dir.path());
    succeeded(
        &cli(&db, &endpoint(), dir.path())
            .arg("migrate")
            .output()
            .unwrap(),
    );
    dynamo_tests::write_evolve_orders(&db, orders).await;
    (db, dir)
}

/// The README's promise: add an index to the schema, then `migration new`
/// and `migrate` reach a queryable, backfilled index.
#[tokio::test]
async fn adding_an_index_takes_migration_new_and_migrate() {
    let (db, dir) = shop_before_the_index("add_index", 10).await;

    // The schema gains the index; `check` names what the migrations lack.
    std::fs::copy(
        fixture("evolve_after").join("shop.toml"),
        dir.path().join("shop.toml"),
    )
    .unwrap();
    let check = cli(&db, &endpoint(), dir.path())
        .arg("check")
        .output()
        .unwrap();
    assert!(!check.status.success());
    assert!(
        text(&check.stderr)
            .contains("index `by_status` of `shop` is in the schema but not in the migrations"),
        "{}",
        text(&check.stderr)
    );

    let new = cli(&db, &endpoint(), dir.path())
        .args(["migration", "new", "Orders by status"])
        .output()
        .unwrap();
    succeeded(&new);
    let written =
        std::fs::read_to_string(dir.path().join("migrations/0002_orders_by_status.toml")).unwrap();
    let expected = std::fs::read_to_string(
        fixture("evolve_after").join("migrations/0002_orders_by_status.toml"),
    )
    .unwrap();
    assert_eq!(written, expected, "an add_index step, then the backfill");
    succeeded(
        &cli(&db, &endpoint(), dir.path())
            .arg("check")
            .output()
            .unwrap(),
    );

    let out = succeeded(
        &cli(&db, &endpoint(), dir.path())
            .arg("migrate")
            .output()
            .unwrap(),
    );
    assert_eq!(applied(&out), ["0002_orders_by_status.toml"]);
    let shipped = dynamo_tests::evolve_shipped(&db).await;
    assert_eq!(shipped, ["o001", "o003", "o005", "o007", "o009"]);
}

async fn record(db: &Db, number: u32) -> Option<std::collections::HashMap<String, AttributeValue>> {
    db.client()
        .get_item()
        .table_name(db.physical_name("dynamo_migrations"))
        .key("id", AttributeValue::S(format!("migration#{number:010}")))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

fn count(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> u64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().unwrap(),
        _ => 0,
    }
}

#[tokio::test]
async fn a_killed_run_resumes_its_backfill_from_the_checkpoint() {
    let (db, dir) = shop_before_the_index("kill_resume", 60).await;
    dynamo_tests::copy_schema(&fixture("evolve_after"), dir.path());

    // 10 writes a second: the position is saved every second or so, the
    // whole backfill would take 6 s.
    let mut slow = cli(&db, &endpoint(), dir.path())
        .args(["migrate", "--backfill-rate", "10", "--lease-seconds", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let saved = loop {
        let saved: u64 = dynamo_tests::tracking_items(&db, "segment#")
            .await
            .iter()
            .map(|s| count(s, "scanned"))
            .sum();
        if saved > 0 {
            break saved;
        }
        assert!(Instant::now() < deadline, "no saved position within 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    slow.kill().unwrap();
    slow.wait().unwrap();
    let stopped = record(&db, 2).await.unwrap();
    assert_eq!(stopped["status"], AttributeValue::S("running".into()));
    assert!(stopped.contains_key("job"), "{stopped:?}");

    let resumed = cli(&db, &endpoint(), dir.path())
        .args(["migrate", "--backfill-rate", "0"])
        .output()
        .unwrap();
    let stdout = succeeded(&resumed);
    assert_eq!(applied(&stdout), ["0002_orders_by_status.toml"]);
    let stderr = text(&resumed.stderr);
    assert!(
        stderr.contains("resuming 0002_orders_by_status.toml"),
        "{stderr}"
    );
    // The segment is taken up from its saved position (at least what was
    // seen saved before the kill), instead of starting over.
    let resumed_at: u64 = stderr
        .lines()
        .find_map(|l| {
            l.split_once("resuming after ")?
                .1
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(resumed_at >= saved, "{resumed_at} < {saved}: {stderr}");
    assert_eq!(
        dynamo_tests::evolve_shipped(&db).await.len(),
        30,
        "every item was backfilled"
    );
    let done = record(&db, 2).await.unwrap();
    assert_eq!(done["status"], AttributeValue::S("applied".into()));
    assert!(!done.contains_key("job"), "{done:?}");
    assert!(
        dynamo_tests::tracking_items(&db, "segment#")
            .await
            .is_empty(),
        "the segments are removed"
    );
}

#[tokio::test]
async fn concurrent_runs_apply_each_migration_exactly_once() {
    let db = local_db("concurrent").await;
    // Every step kind: two tables, a GSI added and removed, billing, ttl
    // and stream changes, a backfill and a table deletion.
    let schema = fixture("every_step");
    let spawn = || {
        cli(&db, &endpoint(), &schema)
            .arg("migrate")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let (a, b) = (succeeded(&a), succeeded(&b));
    let mut all: Vec<&str> = applied(&a).into_iter().chain(applied(&b)).collect();
    all.sort_unstable();
    assert_eq!(
        all,
        [
            "0001_create_shop.toml",
            "0002_orders_by_status.toml",
            "0003_table_settings.toml",
            "0004_record_item_types.toml"
        ],
        "each migration applied by exactly one run:\n{a}\n{b}"
    );
    let live = dynamo_runtime::migrate::LiveTable::describe(&db, &db.physical_name("shop"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.ttl.as_deref(), Some("expires_at"));
    assert_eq!(live.stream, Some(dynamo_runtime::StreamView::KeysOnly));
    assert_eq!(
        live.indexes
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>(),
        ["by_status"]
    );
    assert!(matches!(live.billing, dynamo_runtime::Billing::Provisioned(t) if t.read == 5));
    let scratch = dynamo_runtime::migrate::LiveTable::describe(&db, &db.physical_name("scratch"))
        .await
        .unwrap();
    assert!(scratch.is_none(), "0003 deletes the scratch table");
}

#[tokio::test]
async fn an_edited_applied_migration_is_refused() {
    let db = local_db("edited").await;
    let dir = tempfile::tempdir().unwrap();
    dynamo_tests::copy_schema(&schemas(), dir.path());
    succeeded(
        &cli(&db, &endpoint(), dir.path())
            .arg("migrate")
            .output()
            .unwrap(),
    );
    let file = dir.path().join("migrations/0001_create_shop.toml");
    let mut text_now = std::fs::read_to_string(&file).unwrap();
    text_now.push_str("# edited after it was applied\n");
    std::fs::write(&file, text_now).unwrap();

    let out = cli(&db, &endpoint(), dir.path())
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("migration 0001_create_shop.toml was applied with checksum")
            && stderr.contains("an applied migration must not change"),
        "{stderr}"
    );
    let status = cli(&db, &endpoint(), dir.path())
        .args(["migrate", "status"])
        .output()
        .unwrap();
    assert!(
        succeeded(&status).contains("[file changed since it was recorded]"),
        "status marks it"
    );
}

#[tokio::test]
async fn dry_run_prints_the_exact_calls_and_makes_none() {
    let db = local_db("dry_run").await;
    // A namespace of its own, fixed so the output is stable.
    let db = db.with_namespace("dry_run_snapshot").unwrap();
    let out = cli(&db, &endpoint(), &fixture("every_step"))
        .args(["migrate", "--dry-run"])
        .output()
        .unwrap();
    let plan = succeeded(&out);
    insta::assert_snapshot!(plan);
    // Names come in order, at most 100 a page: start where the prefix would.
    let tables = db
        .client()
        .list_tables()
        .exclusive_start_table_name("dry_run_snapshot")
        .send()
        .await
        .unwrap();
    assert!(
        !tables
            .table_names()
            .iter()
            .any(|t| t.starts_with("dry_run_snapshot_")),
        "a dry run creates nothing"
    );
}

#[tokio::test]
async fn migrate_waits_until_a_new_index_is_active() {
    let endpoint = std::env::var("DYNAMODB_ENDPOINT_DELAYED").unwrap_or_else(|_| {
        panic!(
            "DYNAMODB_ENDPOINT_DELAYED is not set: run `scripts/test`, which starts a second \
             DynamoDB Local with -delayTransientStatuses"
        )
    });
    let db = local_db("delayed").await;
    let dir = tempfile::tempdir().unwrap();
    dynamo_tests::copy_schema(&fixture("evolve_after"), dir.path());
    let out = cli(&db, &endpoint, dir.path())
        // An infinite factor goes straight to the longest pause (it panicked).
        .args([
            "migrate",
            "--wait-initial-ms",
            "500",
            "--wait-factor",
            "inf",
        ])
        .args(["--wait-max-ms", "1000"])
        .output()
        .unwrap();
    let stdout = succeeded(&out);
    assert_eq!(applied(&stdout).len(), 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("index by_status: CREATING"),
        "the run waited for the index:\n{stderr}"
    );
    assert!(stderr.contains("ready: table"), "{stderr}");
    let delayed = Db::builder()
        .endpoint_url(&endpoint)
        .region("us-east-1")
        .credentials("local", "local")
        .namespace(db.namespace().unwrap())
        .build()
        .await
        .unwrap();
    let live =
        dynamo_runtime::migrate::LiveTable::describe(&delayed, &delayed.physical_name("shop"))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        live.not_ready(),
        None,
        "everything ACTIVE when migrate returns"
    );
}

#[tokio::test]
async fn a_wait_factor_below_one_or_not_a_number_is_refused() {
    let db = local_db("wait_factor").await;
    for factor in ["0.5", "NaN", "fast"] {
        let out = cli(&db, &endpoint(), &schemas())
            .args(["migrate", "--wait-factor", factor])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{factor} accepted");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("--wait-factor"), "{factor}: {stderr}");
    }
}

/// A rolling deploy: the new version applied migration 2; an instance of
/// the old version (which knows only migration 1) still starts.
#[tokio::test]
async fn an_older_binary_ignores_newer_applied_migrations() {
    let db = local_db("rolling").await;
    let newer = fixtures::evolve_after::migrations::run(&db).await.unwrap();
    assert_eq!(newer.applied.len(), 2);
    let older = fixtures::evolve_before::migrations::run(&db).await.unwrap();
    assert!(older.applied.is_empty());
    assert_eq!(older.already_applied, ["0001_create_shop.toml"]);
    assert_eq!(older.newer, ["0002_orders_by_status.toml"]);
    // An unknown record older than a known migration (a file deleted or
    // renumbered) is still an error.
    let gap = dynamo_runtime::migrate::Migrator::new(
        &db,
        &fixtures::evolve_after::migrations::MIGRATIONS[1..],
    )
    .run()
    .await
    .unwrap_err();
    assert!(
        matches!(
            gap,
            dynamo_runtime::Error::Migrate(dynamo_runtime::migrate::MigrateError::Unknown {
                number: 1,
                ..
            })
        ),
        "{gap}"
    );
}

/// A run that lost its lock records nothing: here another run takes the
/// lock while step 1 runs, and the record stays `running`.
#[tokio::test]
async fn a_run_that_lost_its_lock_records_nothing() {
    use dynamo_runtime::migrate::{Event, MigrateError};
    let db = local_db("fenced").await;
    let tracking = db.physical_name(dynamo_runtime::migrate::TRACKING_TABLE);
    let thief = {
        let (db, tracking) = (db.clone(), tracking.clone());
        move || {
            // The observer is synchronous: steal the lock from a thread
            // with a runtime of its own.
            let (db, tracking) = (db.clone(), tracking.clone());
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(async {
                        db.client()
                            .put_item()
                            .table_name(tracking)
                            .item("id", AttributeValue::S("lock".into()))
                            .item("owner", AttributeValue::S("another-run".into()))
                            .item("expires_at", AttributeValue::N(i64::MAX.to_string()))
                            .send()
                            .await
                            .unwrap();
                    });
            })
            .join()
            .unwrap();
        }
    };
    let err = fixtures::evolve_before::migrations::migrator(&db)
        .on_event(move |e| {
            if let Event::StepStarted { step: 1, .. } = e {
                thief();
            }
        })
        .run()
        .await
        .unwrap_err();
    assert!(
        matches!(err, dynamo_runtime::Error::Migrate(MigrateError::LeaseLost)),
        "{err}"
    );
    let record = record(&db, 1).await.unwrap();
    assert_eq!(record["status"], AttributeValue::S("running".into()));
}

/// `generate --check` names the file of a table removed from the schemas
/// as stale, and `generate` removes it (never a file it did not write).
#[tokio::test]
async fn generate_check_finds_the_files_of_removed_tables() {
    let db = local_db("generate_check").await;
    let out = tempfile::tempdir().unwrap();
    let generate = |check: bool| {
        let mut command = cli(&db, &endpoint(), &schemas());
        command.arg("generate").arg("--out").arg(out.path());
        if check {
            command.arg("--check");
        }
        command.output().unwrap()
    };
    succeeded(&generate(false));
    succeeded(&generate(true));
    let removed = out.path().join("orders_archive.rs");
    std::fs::write(
        &removed,
        "// @generated by dynamo-codegen from orders_archive.toml.\n",
    )
    .unwrap();
    std::fs::write(out.path().join("hand_written.rs"), "// mine\n").unwrap();
    let stale = generate(true);
    assert!(!stale.status.success());
    let stderr = text(&stale.stderr);
    assert!(stderr.contains("orders_archive.rs"), "{stderr}");
    assert!(!stderr.contains("hand_written.rs"), "{stderr}");
    succeeded(&generate(false));
    assert!(!removed.exists());
    assert!(out.path().join("hand_written.rs").exists());
    succeeded(&generate(true));
}
