//! Item evolution against DynamoDB Local: the code generated from a
//! "before" and an "after" schema side by side (`evolve_items_before`,
//! `evolve_items_after`, `evolve_keys_after`). Items written by the before
//! code; `migration new` writes the steps (pinned by the after fixture's
//! migration); `migrate` runs as real processes while the after code
//! reads.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
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

/// A folder holding `schema`'s table file and `migrations`' files.
fn folder(schema: &str, migrations: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    std::fs::copy(
        fixture(schema).join("shop.toml"),
        dir.path().join("shop.toml"),
    )
    .unwrap();
    std::fs::copy(
        fixture(migrations).join("migrations/0001_create_shop.toml"),
        dir.path().join("migrations/0001_create_shop.toml"),
    )
    .unwrap();
    dir
}

fn cli(db: &Db, schemas: &Path) -> Command {
    let endpoint = std::env::var(ENDPOINT_ENV).unwrap();
    dynamo_tests::cli_at(env!("CARGO_BIN_EXE_cli"), db, &endpoint, schemas)
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

const ORDERS: usize = 1500;
const NOTES: usize = 300;

fn order_key(i: usize) -> (String, String) {
    (format!("c{}", i % 10), format!("o{i:05}"))
}

/// The before schema, migrated, with orders (every other one shipped)
/// and notes written by the before code.
async fn before(test: &str, orders: usize, notes: usize) -> (Db, tempfile::TempDir) {
    use fixtures::evolve_items_before::shop::{NewNote, NewOrder, Note, Order, OrderStatus};
    let db = local_db(test).await;
    let dir = folder("evolve_items_before", "evolve_items_before");
    succeeded(&cli(&db, dir.path()).arg("migrate").output().unwrap());
    let all: Vec<Order> = (0..orders)
        .map(|i| {
            let (customer_id, order_id) = order_key(i);
            Order::new(NewOrder {
                customer_id,
                order_id,
                total: u32::try_from(i).unwrap() * 10,
                status: if i % 2 == 0 {
                    OrderStatus::Open
                } else {
                    OrderStatus::Shipped
                },
            })
        })
        .collect();
    Order::batch_put(&all).send(&db).await.unwrap();
    let all: Vec<Note> = (0..notes)
        .map(|i| {
            Note::new(NewNote {
                id: format!("n{i:04}"),
                text: format!("note {i}"),
            })
        })
        .collect();
    Note::batch_put(&all).send(&db).await.unwrap();
    (db, dir)
}

/// Every stored item, raw.
async fn scan(db: &Db) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    dynamo_tests::scan_all(db, "shop").await
}

/// Writes the next migration for the after schema in `dir` and checks it
/// against the after fixture's.
fn migration_new(db: &Db, dir: &Path, after: &str, name: &str, file: &str) {
    std::fs::copy(fixture(after).join("shop.toml"), dir.join("shop.toml")).unwrap();
    let check = cli(db, dir).arg("check").output().unwrap();
    assert!(!check.status.success(), "check names the differences");
    succeeded(
        &cli(db, dir)
            .args(["migration", "new", name])
            .output()
            .unwrap(),
    );
    let written = std::fs::read_to_string(dir.join("migrations").join(file)).unwrap();
    let expected = std::fs::read_to_string(fixture(after).join("migrations").join(file)).unwrap();
    assert_eq!(written, expected, "the planned steps");
    succeeded(&cli(db, dir).arg("check").output().unwrap());
}

/// Field added with a default, attribute renamed with a widened type, an
/// enum value renamed, an item type joining an index and an item type
/// renamed, in one migration: two `migrate` processes run it at once while
/// the after code reads every item in a loop. No read fails or misses, and
/// nothing is left under an old name or value.
#[tokio::test]
async fn several_item_changes_apply_while_the_after_code_reads() {
    use fixtures::evolve_items_after::shop::{Memo, MemoKey, Order, OrderKey, OrderStatus};
    let (db, dir) = before("evolve_items", ORDERS, NOTES).await;
    migration_new(
        &db,
        dir.path(),
        "evolve_items_after",
        "several item changes",
        "0002_several_item_changes.toml",
    );

    // The after code reads the before items already.
    let first = Order::get(OrderKey {
        customer_id: "c1".into(),
        order_id: "o00001".into(),
    })
    .send(&db)
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        (first.total, first.status, first.gift),
        (10, OrderStatus::Sent, false)
    );

    // A dry run names each data step's scan and per-item write.
    let dry = succeeded(
        &cli(&db, dir.path())
            .args(["migrate", "--dry-run"])
            .output()
            .unwrap(),
    );
    for expected in [
        "UpdateItem (for each item) SET `_type` = \"Memo\", on condition that it is still \"Note\"",
        "UpdateItem (for each item with `total`) SET `total_cents` = the value of `total`",
        "UpdateItem (for each item whose `status` is \"shipped\" (to \"sent\"))",
        "UpdateItem (for each item read whose attributes differ)",
        "(no call: define_item Order in shop)",
    ] {
        assert!(dry.contains(expected), "{expected} not in:\n{dry}");
    }
    let spawn = || {
        cli(&db, dir.path())
            .args(["migrate", "--backfill-rate", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (db, done) = (db.clone(), Arc::clone(&done));
        tokio::spawn(async move {
            let (mut reads, mut failures) = (0usize, Vec::new());
            let mut i = 0usize;
            while !done.load(Ordering::Relaxed) {
                let (customer_id, order_id) = order_key(i % ORDERS);
                match Order::get(OrderKey {
                    customer_id,
                    order_id,
                })
                .send(&db)
                .await
                {
                    Ok(Some(o)) if o.total == 10 * (i % ORDERS) as u64 => {}
                    other => failures.push(format!("order {}: {other:?}", i % ORDERS)),
                }
                match Memo::get(MemoKey {
                    id: format!("n{:04}", i % NOTES),
                })
                .send(&db)
                .await
                {
                    Ok(Some(_)) => {}
                    other => failures.push(format!("memo {}: {other:?}", i % NOTES)),
                }
                reads += 2;
                i += 7;
            }
            (reads, failures)
        })
    };
    let (a, b) = tokio::task::spawn_blocking(move || {
        (a.wait_with_output().unwrap(), b.wait_with_output().unwrap())
    })
    .await
    .unwrap();
    done.store(true, Ordering::Relaxed);
    let (reads, failures) = reader.await.unwrap();
    let (a, b) = (succeeded(&a), succeeded(&b));
    let applied = format!("{a}{b}")
        .matches("applied 0002_several_item_changes.toml")
        .count();
    assert_eq!(applied, 1, "applied by exactly one run:\n{a}\n{b}");
    assert!(reads > 0);
    assert!(
        failures.is_empty(),
        "{} of {reads} reads failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );

    // Nothing under an old name or value; every value kept.
    let items = scan(&db).await;
    assert_eq!(items.len(), ORDERS + NOTES, "no item lost or added");
    for item in &items {
        assert!(!item.contains_key("total"), "{item:?}");
        assert_ne!(
            item.get("status"),
            Some(&AttributeValue::S("shipped".into()))
        );
        assert_ne!(item.get("_type"), Some(&AttributeValue::S("Note".into())));
    }
    let orders = Order::scan().all(&db).await.unwrap();
    assert_eq!(orders.len(), ORDERS);
    let sent = Order::query_by_status(OrderStatus::Sent)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(sent.len(), ORDERS / 2, "every order joined the index");
    assert!(sent.iter().all(|o| o.total % 20 == 10));

    // The schemas and migrations agree: nothing more to plan.
    let again = cli(&db, dir.path())
        .args(["migration", "new", "nothing"])
        .output()
        .unwrap();
    succeeded(&again);
    assert!(
        text(&again.stderr).contains("nothing to write"),
        "{}",
        text(&again.stderr)
    );
}

/// A new sort key template moves every order to its new key, in
/// transactions; a run killed mid-rewrite resumes, and in the end no
/// order is left at an old key and none is lost.
#[tokio::test]
async fn a_key_rewrite_moves_every_item_and_resumes_after_a_kill() {
    use fixtures::evolve_keys_after::shop::{Order, OrderKey};
    let orders = 300;
    let (db, dir) = before("evolve_keys", orders, 0).await;
    migration_new(
        &db,
        dir.path(),
        "evolve_keys_after",
        "order keys",
        "0002_order_keys.toml",
    );
    let mut slow = cli(&db, dir.path())
        .args(["migrate", "--backfill-rate", "60", "--lease-seconds", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let moved = scan(&db)
            .await
            .iter()
            .filter(|i| matches!(i.get("sk"), Some(AttributeValue::S(s)) if s.starts_with("ORD#")))
            .count();
        if moved >= 50 {
            break;
        }
        assert!(Instant::now() < deadline, "no progress within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    slow.kill().unwrap();
    slow.wait().unwrap();
    // `migrate status` shows where the step stopped.
    let status = succeeded(
        &cli(&db, dir.path())
            .args(["migrate", "status"])
            .output()
            .unwrap(),
    );
    assert!(
        status.contains("step 1 (rewrite_keys Order in shop):") && status.contains("segment    0:"),
        "{status}"
    );
    // Half moved: the after code finds every order, at its new key or,
    // not moved yet, at its old one.
    let moved = scan(&db)
        .await
        .iter()
        .filter(|i| matches!(i.get("sk"), Some(AttributeValue::S(s)) if s.starts_with("ORD#")))
        .count();
    assert!(
        moved < orders,
        "the kill came before the end ({moved} moved)"
    );
    for i in 0..orders {
        let (customer_id, order_id) = order_key(i);
        let order = Order::get(OrderKey {
            customer_id,
            order_id,
        })
        .send(&db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("order {i} not found"));
        assert_eq!(order.total, u32::try_from(i).unwrap() * 10);
    }
    let out = succeeded(
        &cli(&db, dir.path())
            .args(["migrate", "--backfill-rate", "0"])
            .output()
            .unwrap(),
    );
    assert!(out.contains("applied 0002_order_keys.toml"), "{out}");
    let items = scan(&db).await;
    assert_eq!(items.len(), orders, "no order lost or doubled");
    for item in &items {
        let Some(AttributeValue::S(sk)) = item.get("sk") else {
            panic!("{item:?}")
        };
        assert!(sk.starts_with("ORD#") && !sk.starts_with("ORDER#"), "{sk}");
    }
    let mut read = Order::scan().all(&db).await.unwrap();
    read.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    assert_eq!(read.len(), orders);
    assert!(
        read.iter()
            .enumerate()
            .all(|(i, o)| o.total == u32::try_from(i).unwrap() * 10)
    );
}

/// A change no migration can make is refused at its schema line, with
/// what to do instead, and nothing is written.
#[test]
fn a_refused_change_points_at_the_schema_line() {
    let dir = folder("evolve_items_before", "evolve_items_before");
    let schema = std::fs::read_to_string(dir.path().join("shop.toml"))
        .unwrap()
        .replace("total = \"u32\"", "total = \"string\"");
    std::fs::write(dir.path().join("shop.toml"), schema).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cli"))
        .arg("--schemas")
        .arg(dir.path())
        .args(["migration", "new", "change a type"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr).replace(&dir.path().display().to_string(), "<schemas>");
    insta::assert_snapshot!(stderr);
    assert_eq!(
        std::fs::read_dir(dir.path().join("migrations"))
            .unwrap()
            .count(),
        1
    );
}

/// The shop's migrations record its item types: with no change,
/// `migration new` writes nothing.
#[test]
fn migration_new_on_the_unchanged_shop_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    std::fs::copy(schemas.join("shop.toml"), dir.path().join("shop.toml")).unwrap();
    for entry in std::fs::read_dir(schemas.join("migrations")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(
            &path,
            dir.path()
                .join("migrations")
                .join(path.file_name().unwrap()),
        )
        .unwrap();
    }
    let before = std::fs::read_dir(dir.path().join("migrations"))
        .unwrap()
        .count();
    let out = Command::new(env!("CARGO_BIN_EXE_cli"))
        .arg("--schemas")
        .arg(dir.path())
        .args(["migration", "new", "nothing"])
        .output()
        .unwrap();
    succeeded(&out);
    assert!(
        text(&out.stderr).contains("nothing to write"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("migrations"))
            .unwrap()
            .count(),
        before
    );
}

/// A change no declarative step can make (a type change and a required
/// field without a default) is one `transform` step calling a function of
/// the app, which the compiler checks against both shapes. The command
/// line stops at it (it cannot call the app); the app's executor applies
/// it; an order the after code wrote meanwhile is left alone; a rerun of
/// the step from scratch transforms nothing twice; and another writer's
/// attribute survives.
#[tokio::test]
async fn a_transform_runs_the_apps_function_once_per_item() {
    use fixtures::evolve_transform_after::{
        migrations,
        shop::{NewOrder, Order, OrderKey, OrderStatus},
    };
    let orders = 200;
    let (db, dir) = before("evolve_transform", orders, 0).await;
    // Another writer's attribute on one order.
    let (customer_id, order_id) = order_key(3);
    db.client()
        .update_item()
        .table_name(db.physical_name("shop"))
        .key("pk", AttributeValue::S(format!("CUSTOMER#{customer_id}")))
        .key("sk", AttributeValue::S(format!("ORDER#{order_id}")))
        .update_expression("SET legacy_flag = :f")
        .expression_attribute_values(":f", AttributeValue::Bool(true))
        .send()
        .await
        .unwrap();

    std::fs::copy(
        fixture("evolve_transform_after").join("shop.toml"),
        dir.path().join("shop.toml"),
    )
    .unwrap();
    let refused = cli(&db, dir.path())
        .args(["migration", "new", "totals as text"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("--transform Order=path::to::function"),
        "{}",
        text(&refused.stderr)
    );
    succeeded(
        &cli(&db, dir.path())
            .args(["migration", "new", "totals as text"])
            .args(["--transform", "Order=crate::upgrades::order_total_as_text"])
            .output()
            .unwrap(),
    );
    let file = "0002_totals_as_text.toml";
    assert_eq!(
        std::fs::read_to_string(dir.path().join("migrations").join(file)).unwrap(),
        std::fs::read_to_string(
            fixture("evolve_transform_after")
                .join("migrations")
                .join(file)
        )
        .unwrap(),
    );

    // The command line cannot call the app's function: it says so.
    let cli_run = cli(&db, dir.path()).arg("migrate").output().unwrap();
    assert!(!cli_run.status.success());
    assert!(
        text(&cli_run.stderr).contains("only the app can run"),
        "{}",
        text(&cli_run.stderr)
    );

    // The after code writes an order before the step: it is in the new
    // shape (and carries the step's mark), so the step leaves it alone.
    let fresh = Order::new(NewOrder {
        customer_id: "c9".into(),
        order_id: "fresh".into(),
        total: "7 USD".into(),
        status: OrderStatus::Open,
        label: "written by the after code".into(),
    });
    fresh.put().send(&db).await.unwrap();

    let report = migrations::run(&db).await.unwrap();
    assert_eq!(report.applied, ["0002_totals_as_text.toml"]);
    let check = |all: Vec<Order>| {
        assert_eq!(all.len(), orders + 1);
        for o in all {
            if o.order_id == "fresh" {
                assert_eq!(o, fresh);
                continue;
            }
            let i: usize = o.order_id[1..].parse().unwrap();
            assert_eq!(o.total, format!("{} EUR", i * 10));
            assert_eq!(o.label, format!("{}/{}", o.customer_id, o.order_id));
        }
    };
    check(Order::scan().all(&db).await.unwrap());
    let kept = Order::get(OrderKey {
        customer_id: customer_id.clone(),
        order_id: order_id.clone(),
    })
    .send(&db)
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        kept.unmodeled.attributes().get("legacy_flag"),
        Some(&AttributeValue::Bool(true)),
        "another writer's attribute survives the transform"
    );

    // A run that died before its first checkpoint starts the step over:
    // every item carries the step's mark, so none is transformed twice.
    db.client()
        .update_item()
        .table_name(db.physical_name("dynamo_migrations"))
        .key("id", AttributeValue::S(format!("migration#{:010}", 2)))
        .update_expression("SET #s = :failed REMOVE checkpoint")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":failed", AttributeValue::S("failed".into()))
        .send()
        .await
        .unwrap();
    let again = migrations::run(&db).await.unwrap();
    assert_eq!(again.applied, ["0002_totals_as_text.toml"]);
    check(Order::scan().all(&db).await.unwrap());
}

/// One change kind: the before items, `migration new` (with `flags`)
/// writing the after fixture's pinned migration, then `migrate` as a
/// process while `$read` (after code, `$db` and an index `$i`) reads in a
/// loop: no read may fail. `$stored` then checks every raw item.
macro_rules! scenario {
    ($test:ident, $fixture:ident, $name:literal, $file:literal, [$($flag:literal),*],
     |$db:ident, $i:ident| $read:block, |$item:ident| $stored:block) => {
        #[tokio::test]
        async fn $test() {
            #[allow(unused_imports)]
            use fixtures::$fixture::shop::*;
            let orders = 400;
            let (db, dir) = before(stringify!($test), orders, 100).await;
            std::fs::copy(fixture(stringify!($fixture)).join("shop.toml"), dir.path().join("shop.toml"))
                .unwrap();
            succeeded(
                &cli(&db, dir.path())
                    .args(["migration", "new", $name])
                    .args([$($flag),*] as [&str; 0 $(+ { let _ = $flag; 1 })*])
                    .output()
                    .unwrap(),
            );
            assert_eq!(
                std::fs::read_to_string(dir.path().join("migrations").join($file)).unwrap(),
                std::fs::read_to_string(fixture(stringify!($fixture)).join("migrations").join($file)).unwrap(),
                "the planned steps"
            );
            let migrate = cli(&db, dir.path())
                .args(["migrate", "--backfill-rate", "400"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let done = Arc::new(AtomicBool::new(false));
            let reader = {
                let (db, done) = (db.clone(), Arc::clone(&done));
                tokio::spawn(async move {
                    let (mut reads, mut failures) = (0usize, Vec::<String>::new());
                    let mut n = 0usize;
                    while !done.load(Ordering::Relaxed) {
                        let ($db, $i) = (&db, n % 400);
                        let result: Result<(), String> = async $read.await;
                        if let Err(e) = result {
                            failures.push(format!("read {}: {e}", n % 400));
                        }
                        reads += 1;
                        n += 7;
                    }
                    (reads, failures)
                })
            };
            let out = tokio::task::spawn_blocking(move || migrate.wait_with_output().unwrap())
                .await
                .unwrap();
            done.store(true, Ordering::Relaxed);
            let (reads, failures) = reader.await.unwrap();
            let stdout = succeeded(&out);
            assert!(stdout.contains(concat!("applied ", $file)), "{stdout}");
            assert!(reads > 0);
            assert!(
                failures.is_empty(),
                "{} of {reads} reads failed: {:?}",
                failures.len(),
                &failures[..failures.len().min(5)]
            );
            let items = scan(&db).await;
            assert_eq!(items.len(), orders + 100, "no item lost or added");
            for $item in &items {
                $stored
            }
            // Nothing more to plan.
            let again = cli(&db, dir.path()).args(["migration", "new", "again"]).output().unwrap();
            assert!(text(&again.stderr).contains("nothing to write"), "{}", text(&again.stderr));
        }
    };
}

fn is_order(item: &std::collections::HashMap<String, AttributeValue>) -> bool {
    matches!(item.get("_type"), Some(AttributeValue::S(t)) if t == "Order")
}

async fn read_order<O: dynamo_runtime::Item>(db: &Db, key: O::Key) -> Result<O, String> {
    match dynamo_runtime::GetItem::<O>::new(key).send(db).await {
        Ok(Some(o)) => Ok(o),
        Ok(None) => Err("missing".into()),
        Err(e) => Err(e.to_string()),
    }
}

scenario!(
    a_field_added_with_a_default_reads_then_is_written,
    evolve_field_added,
    "fields added",
    "0002_fields_added.toml",
    ["--write-defaults"],
    |db, i| {
        let (customer_id, order_id) = order_key(i);
        let o: Order = read_order(
            db,
            OrderKey {
                customer_id,
                order_id,
            },
        )
        .await?;
        if o.gift || o.note.is_some() {
            return Err(format!("{o:?}"));
        }
        Ok(())
    },
    |item| {
        if is_order(item) {
            assert_eq!(
                item.get("gift"),
                Some(&AttributeValue::Bool(false)),
                "{item:?}"
            );
            assert!(!item.contains_key("note"));
        }
    }
);

scenario!(
    a_removed_field_is_removed_from_stored_items,
    evolve_field_removed,
    "field removed",
    "0002_field_removed.toml",
    ["--remove-attributes"],
    |db, i| {
        let (customer_id, order_id) = order_key(i);
        let o: Order = read_order(
            db,
            OrderKey {
                customer_id,
                order_id,
            },
        )
        .await?;
        if o.order_id.is_empty() {
            return Err(format!("{o:?}"));
        }
        Ok(())
    },
    |item| {
        assert!(!item.contains_key("total"), "{item:?}");
    }
);

scenario!(
    a_renamed_attribute_reads_before_during_and_after_the_rewrite,
    evolve_attribute_renamed,
    "attribute renamed",
    "0002_attribute_renamed.toml",
    [],
    |db, i| {
        let (customer_id, order_id) = order_key(i);
        let o: Order = read_order(
            db,
            OrderKey {
                customer_id,
                order_id,
            },
        )
        .await?;
        if o.total as usize != i * 10 {
            return Err(format!("{o:?}"));
        }
        Ok(())
    },
    |item| {
        assert!(!item.contains_key("total"), "{item:?}");
        if is_order(item) {
            assert!(item.contains_key("amount"), "{item:?}");
        }
    }
);

scenario!(
    a_widened_type_reads_stored_values_as_they_are,
    evolve_type_widened,
    "type widened",
    "0002_type_widened.toml",
    [],
    |db, i| {
        let (customer_id, order_id) = order_key(i);
        let o: Order = read_order(
            db,
            OrderKey {
                customer_id,
                order_id,
            },
        )
        .await?;
        if o.total != 10 * i as u64 {
            return Err(format!("{o:?}"));
        }
        Ok(())
    },
    |item| {
        if is_order(item) {
            assert!(
                matches!(item.get("total"), Some(AttributeValue::N(_))),
                "{item:?}"
            );
        }
    }
);

scenario!(
    a_mapped_enum_value_reads_as_its_new_value_and_is_rewritten,
    evolve_enum_mapped,
    "enum mapped",
    "0002_enum_mapped.toml",
    [],
    |db, i| {
        let (customer_id, order_id) = order_key(i);
        let o: Order = read_order(
            db,
            OrderKey {
                customer_id,
                order_id,
            },
        )
        .await?;
        let want = if i % 2 == 0 {
            OrderStatus::Open
        } else {
            OrderStatus::Sent
        };
        if o.status != want {
            return Err(format!("{o:?}"));
        }
        Ok(())
    },
    |item| {
        assert_ne!(
            item.get("status"),
            Some(&AttributeValue::S("shipped".into())),
            "{item:?}"
        );
    }
);

scenario!(
    an_item_type_added_to_an_index_is_backfilled,
    evolve_index_keys,
    "orders by status",
    "0002_orders_by_status.toml",
    [],
    |db, i| {
        let (customer_id, order_id) = order_key(i);
        let o: Order = read_order(
            db,
            OrderKey {
                customer_id,
                order_id,
            },
        )
        .await?;
        if o.order_id != order_key(i).1 {
            return Err(format!("{o:?}"));
        }
        Ok(())
    },
    |item| {
        if is_order(item) {
            assert!(
                item.contains_key("gsi1pk") && item.contains_key("gsi1sk"),
                "{item:?}"
            );
        }
    }
);

scenario!(
    a_renamed_item_type_reads_under_both_names,
    evolve_item_renamed,
    "item renamed",
    "0002_item_renamed.toml",
    [],
    |db, i| {
        let memo: Memo = read_order(
            db,
            MemoKey {
                id: format!("n{:04}", i % 100),
            },
        )
        .await?;
        if memo.text != format!("note {}", i % 100) {
            return Err(format!("{memo:?}"));
        }
        // Queries filter on the type name: they accept the previous one.
        let queried = Memo::query(&format!("n{:04}", i % 100))
            .all(db)
            .await
            .map_err(|e| e.to_string())?;
        if queried != [memo] {
            return Err(format!("query: {queried:?}"));
        }
        Ok(())
    },
    |item| {
        assert_ne!(
            item.get("_type"),
            Some(&AttributeValue::S("Note".into())),
            "{item:?}"
        );
    }
);

/// While a `rename_attribute` step has not reached an item, an update
/// relative to the stored value (add, if-not-exists) would act on the new,
/// absent attribute and the step would then drop the old value: it is
/// refused with a typed error instead, and nothing is written. A plain set
/// is safe (the new value wins), and after the step the update works.
#[tokio::test]
async fn updates_relative_to_a_renamed_attribute_wait_for_the_rewrite() {
    use dynamo_runtime::Error;
    use fixtures::evolve_attribute_renamed::{
        migrations,
        shop::{Order, OrderKey},
    };
    let (db, _dir) = before("rename_update", 4, 0).await;
    let key = |i: usize| {
        let (customer_id, order_id) = order_key(i);
        OrderKey {
            customer_id,
            order_id,
        }
    };
    let err = Order::update(key(1))
        .add(|f| f.total, 5)
        .send(&db)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::NotRewritten {
                attribute: "amount",
                previous: "total",
                ..
            }
        ),
        "{err}"
    );
    let err = Order::update(key(2))
        .set_if_not_exists(|f| f.total, 7)
        .send(&db)
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::NotRewritten { .. }), "{err}");
    let set = Order::update(key(3))
        .set(|f| f.total, 99)
        .send(&db)
        .await
        .unwrap();
    assert_eq!(set.total, 99);

    migrations::run(&db).await.unwrap();
    let total = |i: usize| {
        let db = db.clone();
        async move { Order::get(key(i)).send(&db).await.unwrap().unwrap().total }
    };
    assert_eq!(total(1).await, 10, "the refused add wrote nothing");
    assert_eq!(total(2).await, 20);
    assert_eq!(total(3).await, 99, "the plain set wins over the old value");
    let added = Order::update(key(1))
        .add(|f| f.total, 5)
        .send(&db)
        .await
        .unwrap();
    assert_eq!(added.total, 15);
    for item in scan(&db).await {
        assert!(!item.contains_key("total"), "{item:?}");
    }
}
