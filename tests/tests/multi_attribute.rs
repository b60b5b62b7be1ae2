//! Global indexes with multi-attribute keys, against DynamoDB Local: made
//! by the fixture's migrations, written and queried through generated code
//! with every condition shape DynamoDB allows (the leading sort attributes
//! equal, then one condition on the next), numbers (negative ones too) in
//! numeric order (a property test), paging, a sparse keys-only index, an
//! index added over existing fields without a backfill, and `pull`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;

use dynamo_runtime::{Date, Db};
use dynamo_tests::{ENDPOINT_ENV, fixtures::multi_attribute_keys as fixture, local_db};
use fixture::tasks::{Task, TaskByOwnerProjection};
use proptest::prelude::*;

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

fn task(id: &str, region: &str, priority: i32, due: &str, seq: u32, owner: Option<&str>) -> Task {
    Task {
        id: id.into(),
        tenant: "acme".into(),
        region: region.into(),
        priority,
        due: date(due),
        seq,
        owner: owner.map(Into::into),
        title: format!("task {id}"),
        unmodeled: Default::default(),
    }
}

async fn migrated(test: &str) -> Db {
    let db = local_db(test).await;
    fixture::migrations::run(&db).await.unwrap();
    db
}

fn ids(tasks: &[Task]) -> Vec<&str> {
    tasks.iter().map(|t| t.id.as_str()).collect()
}

/// The board of `eu`: priorities with negatives, equal priorities told
/// apart by due date, equal dates by sequence number.
fn board() -> Vec<Task> {
    vec![
        task("t1", "eu", 3, "2026-01-10", 1, Some("ann")),
        task("t2", "eu", -20, "2026-03-01", 1, None),
        task("t3", "eu", -3, "2026-02-01", 2, Some("bob")),
        task("t4", "eu", -3, "2026-02-01", 1, Some("ann")),
        task("t5", "eu", -3, "2026-01-15", 9, None),
        task("t6", "eu", 10, "2025-12-31", 1, None),
        task("t7", "eu", 0, "2026-01-01", 1, Some("ann")),
        // Another board of the same tenant: never in `eu`'s results.
        task("t8", "us", -3, "2026-02-01", 1, Some("ann")),
    ]
}

#[tokio::test]
async fn the_index_is_made_with_every_attribute_in_order() {
    let db = migrated("multi_made").await;
    let described = db
        .client()
        .describe_table()
        .table_name(db.physical_name("tasks"))
        .send()
        .await
        .unwrap();
    let table = described.table().unwrap();
    let index = table
        .global_secondary_indexes()
        .iter()
        .find(|i| i.index_name() == Some("by_board"))
        .unwrap();
    let schema: Vec<(String, String)> = index
        .key_schema()
        .iter()
        .map(|k| {
            (
                k.attribute_name().to_owned(),
                k.key_type().as_str().to_owned(),
            )
        })
        .collect();
    let pair = |a: &str, k: &str| (a.to_owned(), k.to_owned());
    assert_eq!(
        schema,
        [
            pair("tenant", "HASH"),
            pair("region", "HASH"),
            pair("priority", "RANGE"),
            pair("due", "RANGE"),
            pair("seq", "RANGE"),
        ]
    );
    let numeric: Vec<&str> = table
        .attribute_definitions()
        .iter()
        .filter(|d| d.attribute_type().as_str() == "N")
        .map(|d| d.attribute_name())
        .collect();
    assert_eq!(numeric, ["priority", "seq"], "numbers are N attributes");
}

#[tokio::test]
async fn every_condition_shape_reads_left_to_right() {
    let db = migrated("multi_shapes").await;
    Task::batch_put(&board()).send(&db).await.unwrap();
    let all = Task::query_by_board("acme", "eu").all(&db).await.unwrap();
    assert_eq!(
        ids(&all),
        ["t2", "t5", "t4", "t3", "t7", "t1", "t6"],
        "priority (numerically, negatives first), then due, then seq"
    );
    assert_eq!(all[0], board()[1], "the stored item reads back the same");

    let q = || Task::query_by_board("acme", "eu");
    let shape = |tasks: Vec<Task>| tasks.iter().map(|t| t.id.clone()).collect::<Vec<String>>();
    // The first attribute.
    assert_eq!(
        shape(q().priority().eq(-3).all(&db).await.unwrap()),
        ["t5", "t4", "t3"]
    );
    assert_eq!(
        shape(q().priority().lt(0).all(&db).await.unwrap()),
        ["t2", "t5", "t4", "t3"]
    );
    assert_eq!(
        shape(q().priority().le(-3).all(&db).await.unwrap()),
        ["t2", "t5", "t4", "t3"]
    );
    assert_eq!(
        shape(q().priority().gt(-3).all(&db).await.unwrap()),
        ["t7", "t1", "t6"]
    );
    assert_eq!(
        shape(q().priority().ge(0).all(&db).await.unwrap()),
        ["t7", "t1", "t6"]
    );
    assert_eq!(
        shape(q().priority().between(-10, 3).all(&db).await.unwrap()),
        ["t5", "t4", "t3", "t7", "t1"]
    );
    // The second, after the first equal.
    assert_eq!(
        shape(q().due(-3).eq(date("2026-02-01")).all(&db).await.unwrap()),
        ["t4", "t3"]
    );
    assert_eq!(
        shape(q().due(-3).lt(date("2026-02-01")).all(&db).await.unwrap()),
        ["t5"]
    );
    assert_eq!(
        shape(
            q().due(-3)
                .between(date("2026-01-01"), date("2026-01-31"))
                .all(&db)
                .await
                .unwrap()
        ),
        ["t5"]
    );
    assert_eq!(
        shape(
            q().due(-3)
                .ge(date("2026-01-15"))
                .descending()
                .all(&db)
                .await
                .unwrap()
        ),
        ["t3", "t4", "t5"]
    );
    // The third, after both equal.
    assert_eq!(
        shape(
            q().seq(-3, date("2026-02-01"))
                .eq(2)
                .all(&db)
                .await
                .unwrap()
        ),
        ["t3"]
    );
    assert_eq!(
        shape(
            q().seq(-3, date("2026-02-01"))
                .lt(2)
                .all(&db)
                .await
                .unwrap()
        ),
        ["t4"]
    );
    assert_eq!(q().priority().lt(0).count(&db).await.unwrap(), 4);

    // Paging: each cursor holds every attribute of the index's key.
    let mut seen = Vec::new();
    let mut page = q().limit(2).send(&db).await.unwrap();
    loop {
        seen.extend(page.items.iter().map(|t| t.id.clone()));
        let Some(cursor) = page.cursor.clone() else {
            break;
        };
        page = q().limit(2).after(cursor).send(&db).await.unwrap();
    }
    assert_eq!(seen, ids(&all));
}

#[tokio::test]
async fn a_sparse_keys_only_index_holds_the_items_with_every_attribute() {
    let db = migrated("multi_sparse").await;
    Task::batch_put(&board()).send(&db).await.unwrap();
    let mut rows: Vec<TaskByOwnerProjection> =
        Task::query_by_owner("acme", "ann").all(&db).await.unwrap();
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    let found: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(found, ["t1", "t4", "t7", "t8"]);
    assert_eq!(rows[0].owner, "ann");
    let full = Task::query_by_owner("acme", "bob")
        .fetch_items(&db)
        .await
        .unwrap();
    assert_eq!(full, [board()[2].clone()]);
    // Removing the owner takes the task out of the index.
    Task::update(board()[2].key())
        .remove(|f| f.owner)
        .send(&db)
        .await
        .unwrap();
    assert!(
        Task::query_by_owner("acme", "bob")
            .all(&db)
            .await
            .unwrap()
            .is_empty()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// Any priorities (the whole `i32` range, negatives included) and
    /// sequence numbers come back in numeric order, and a range on the
    /// first attribute returns exactly the tasks within it.
    #[test]
    fn numbers_sort_as_numbers(
        tasks in proptest::collection::vec((any::<i32>(), 0u32..5, any::<u32>()), 1..12),
        (low, high) in (any::<i32>(), any::<i32>()).prop_map(|(a, b)| (a.min(b), a.max(b))),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            static DB: tokio::sync::OnceCell<Db> = tokio::sync::OnceCell::const_new();
            let db = DB.get_or_init(|| migrated("multi_numbers")).await;
            // A board of its own per case.
            static CASE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let case = CASE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let region = format!("case{case}");
            let written: Vec<Task> = tasks
                .iter()
                .enumerate()
                .map(|(i, (priority, day, seq))| {
                    task(&format!("{region}-{i}"), &region, *priority,
                        &format!("2026-01-0{}", day + 1), *seq, None)
                })
                .collect();
            Task::batch_put(&written).send(db).await.unwrap();
            let mut expected = written.clone();
            expected.sort_by_key(|t| (t.priority, t.due, t.seq, t.id.clone()));
            let read = Task::query_by_board("acme", &region).all(db).await.unwrap();
            let key = |t: &Task| (t.priority, t.due, t.seq);
            prop_assert_eq!(read.iter().map(key).collect::<Vec<_>>(),
                expected.iter().map(key).collect::<Vec<_>>());
            let within = Task::query_by_board("acme", &region)
                .priority()
                .between(low, high)
                .count(db)
                .await
                .unwrap();
            prop_assert_eq!(
                within,
                written.iter().filter(|t| (low..=high).contains(&t.priority)).count()
            );
            Ok(())
        })?;
    }
}

fn cli(db: &Db, schemas: &Path) -> std::process::Command {
    dynamo_tests::cli_at(
        env!("CARGO_BIN_EXE_cli"),
        db,
        &std::env::var(ENDPOINT_ENV).unwrap(),
        schemas,
    )
}

#[track_caller]
fn succeeded(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Adding a multi-attribute index over fields the items have: the planned
/// migration adds the index and writes nothing (DynamoDB indexes the
/// existing attributes); the items are then found through it. And `pull`
/// writes such an index back as lists.
#[tokio::test]
async fn an_index_over_existing_fields_needs_no_backfill_and_pulls_back() {
    let db = local_db("multi_evolve").await;
    let dir = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/valid/multi_attribute_keys");
    let schema = std::fs::read_to_string(source.join("tasks.toml")).unwrap();
    let start = schema.find("# Tasks of one owner").unwrap();
    let end = schema.find("[item.Task]").unwrap();
    let without_owner_index = format!("{}{}", &schema[..start], &schema[end..]);
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    std::fs::write(dir.path().join("tasks.toml"), &without_owner_index).unwrap();
    succeeded(
        &cli(&db, dir.path())
            .args(["migration", "new", "create tasks"])
            .output()
            .unwrap(),
    );
    succeeded(&cli(&db, dir.path()).arg("migrate").output().unwrap());
    Task::batch_put(&board()).send(&db).await.unwrap();

    std::fs::write(dir.path().join("tasks.toml"), &schema).unwrap();
    succeeded(
        &cli(&db, dir.path())
            .args(["migration", "new", "by owner"])
            .output()
            .unwrap(),
    );
    let written =
        std::fs::read_to_string(dir.path().join("migrations/0002_by_owner.toml")).unwrap();
    assert!(written.contains("op = \"add_index\""), "{written}");
    assert!(
        written.contains("partition_key = [\"tenant\", \"owner\"]"),
        "{written}"
    );
    assert!(!written.contains("backfill"), "no backfill: {written}");
    succeeded(&cli(&db, dir.path()).arg("migrate").output().unwrap());
    let mut found: Vec<String> = Task::query_by_owner("acme", "ann")
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    found.sort();
    assert_eq!(found, ["t1", "t4", "t7", "t8"]);

    let pulled = succeeded(
        &cli(&db, dir.path())
            .args(["pull", "tasks", "--out", "-"])
            .output()
            .unwrap(),
    );
    assert!(
        pulled.contains("partition_key = [\"tenant\", \"region\"]")
            && pulled.contains(
                "sort_key = [{ name = \"priority\", type = \"N\" }, \"due\", { name = \"seq\", type = \"N\" }]"
            ),
        "{pulled}"
    );
    let out = cli(&db, dir.path())
        .args(["pull", "tasks", "--sample", "20", "--out", "-"])
        .output()
        .unwrap();
    let sampled = succeeded(&out);
    let notes = String::from_utf8_lossy(&out.stderr);
    // Each attribute of the keys is a field of the inferred item type,
    // typed by its values, and the result passes `check`.
    for field in [
        "tenant = \"string\"",
        "region = \"string\"",
        "priority = \"i64\"",
        "seq = \"i64\"",
    ] {
        assert!(sampled.contains(field), "{field} in:\n{sampled}");
    }
    assert!(!notes.contains("does not check"), "{notes}\n{sampled}");
}
