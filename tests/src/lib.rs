//! Integration tests of the workspace. The library holds the code generated
//! from `schemas/` and the valid fixtures, and the DynamoDB Local helper the
//! end-to-end tests share.
//!
//! Warnings are errors here: generated code must compile warning-free.

#![deny(warnings)]

use std::sync::atomic::{AtomicU32, Ordering};

use dynamo_runtime::Db;

dynamo_runtime::include_schema!();

pub mod bench;

/// Code generated from each folder of `tests/fixtures/valid`, compiled so
/// that every snapshot of generated code is known to build warning-free.
pub mod fixtures {
    macro_rules! fixture {
        ($($name:ident),*) => {$(
            #[doc = concat!("Code generated from `tests/fixtures/valid/", stringify!($name), "`.")]
            pub mod $name {
                include!(concat!(env!("OUT_DIR"), "/fixtures/", stringify!($name), "/mod.rs"));
            }
        )*};
    }

    fixture!(
        benchmark,
        every_step,
        evolve_after,
        evolve_attribute_renamed,
        evolve_before,
        evolve_enum_mapped,
        evolve_field_added,
        evolve_field_removed,
        evolve_index_keys,
        evolve_item_renamed,
        evolve_type_widened,
        field_types,
        indexes_collections,
        integrity,
        legacy,
        multi_attribute_keys,
        evolve_items_after,
        evolve_items_before,
        evolve_keys_after,
        evolve_transform_after,
        item_options,
        keys,
        names_camel_case,
        names_keywords,
        names_parameters,
        names_private_helpers,
        names_trailing_underscore,
        peer_features,
        plain_keys,
        table_options
    );
}

/// Makes `to` a copy of the schema folder `from`: its table files and its
/// `migrations/` (replacing any migrations `to` had).
pub fn copy_schema(from: &std::path::Path, to: &std::path::Path) {
    let _ = std::fs::remove_dir_all(to.join("migrations"));
    std::fs::create_dir_all(to.join("migrations")).expect("a writable folder");
    for (dir, target) in [
        (from.to_path_buf(), to.to_path_buf()),
        (from.join("migrations"), to.join("migrations")),
    ] {
        for entry in std::fs::read_dir(&dir).expect("a schema folder") {
            let path = entry.expect("a readable entry").path();
            if let (true, Some(name)) = (path.is_file(), path.file_name()) {
                std::fs::copy(&path, target.join(name)).expect("a copied file");
            }
        }
    }
}

/// Writes `n` orders of the `evolve_before` fixture (customers `c0`..`c2`,
/// ids `o000`.., every other one shipped), as the migration tests'
/// stored items.
pub async fn write_evolve_orders(db: &Db, n: usize) {
    use fixtures::evolve_before::shop::{NewOrder, Order, OrderStatus};
    let orders: Vec<Order> = (0..n)
        .map(|i| {
            Order::new(NewOrder {
                customer_id: format!("c{}", i % 3),
                order_id: format!("o{i:03}"),
                status: if i % 2 == 0 {
                    OrderStatus::Open
                } else {
                    OrderStatus::Shipped
                },
                placed_at: dynamo_runtime::Timestamp::from_second(
                    1_700_000_000 + i64::try_from(i).expect("a small count"),
                )
                .expect("a valid time"),
            })
        })
        .collect();
    Order::batch_put(&orders)
        .send(db)
        .await
        .expect("orders written");
}

/// The ids of the `evolve_after` fixture's shipped orders, by its index
/// `by_status` (what the migration tests backfill).
pub async fn evolve_shipped(db: &Db) -> Vec<String> {
    use fixtures::evolve_after::shop::{Order, OrderStatus};
    Order::query_by_status(OrderStatus::Shipped)
        .all(db)
        .await
        .expect("the index answers")
        .into_iter()
        .map(|o| o.order_id)
        .collect()
}

/// The app side of the `peer_features` fixture's `hooks = true` item type
/// (`Note`): a write hook that counts notes written and refuses a note
/// holding a secret, and a read hook that trims what other writers left.
pub mod note_hooks {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::fixtures::peer_features::accounts::Note;

    /// Notes the write hook let through.
    pub static WRITTEN: AtomicUsize = AtomicUsize::new(0);

    impl dynamo_runtime::ItemHooks for Note {
        fn before_write(&self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            if self.body.contains("secret") {
                return Err(format!("note {} holds a secret", self.id).into());
            }
            WRITTEN.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }

        fn after_read(&mut self) {
            self.body = self.body.trim().to_owned();
        }
    }
}

/// The functions of the fixtures' `transform` steps.
pub mod upgrades {
    use crate::fixtures::evolve_transform_after::{migrations::before_0002, shop};

    /// `evolve_transform_after`: the total in euros becomes text with its
    /// currency, and the new `label` is computed from the key.
    pub fn order_total_as_text(old: before_0002::shop::Order) -> Result<shop::Order, String> {
        if old.total > 1_000_000 {
            return Err(format!("order {} is too large to label", old.order_id));
        }
        Ok(shop::Order {
            label: format!("{}/{}", old.customer_id, old.order_id),
            total: format!("{} EUR", old.total),
            status: match old.status {
                before_0002::shop::OrderStatus::Open => shop::OrderStatus::Open,
                before_0002::shop::OrderStatus::Shipped => shop::OrderStatus::Shipped,
            },
            customer_id: old.customer_id,
            order_id: old.order_id,
            // Attributes other writers keep are carried over by the step.
            unmodeled: Default::default(),
        })
    }
}

/// The custom type the `field_types` fixture names (`crate::money::Money`).
pub mod money {
    use dynamo_runtime::{Attribute, AttributeValue, DecodeErrorKind};

    /// An amount with its currency, stored as text such as `12.50 EUR`
    /// (in JSON too: the fixture's table has serde and JSON Schemas on).
    #[derive(
        Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
    )]
    pub struct Money(pub String);

    impl Attribute for Money {
        const DYNAMO_TYPE: &'static str = "S";

        fn to_attribute(&self) -> AttributeValue {
            AttributeValue::S(self.0.clone())
        }

        fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
            String::from_attribute(value).map(Money)
        }
    }
}

/// The command line (`bin`: the test's `env!("CARGO_BIN_EXE_cli")`) on the
/// schema folder `schemas`, talking to DynamoDB at `endpoint` in `db`'s
/// namespace, with DynamoDB Local's credentials.
pub fn cli_at(
    bin: &str,
    db: &Db,
    endpoint: &str,
    schemas: &std::path::Path,
) -> std::process::Command {
    let mut command = std::process::Command::new(bin);
    command
        .arg("--schemas")
        .arg(schemas)
        .args(["--endpoint", endpoint, "--region", "us-east-1"])
        .args(["--namespace", db.namespace().unwrap_or_default()])
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env_remove("DYNAMO_NAMESPACE");
    command
}

/// Every stored item of `db`'s table `table` (its logical name), raw.
///
/// Panics when the scan fails.
pub async fn scan_all(db: &Db, table: &str) -> Vec<dynamo_runtime::Attributes> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = db
            .client()
            .scan()
            .table_name(db.physical_name(table))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("a scan of DynamoDB Local");
        out.extend(page.items().iter().cloned());
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return out;
        }
    }
}

/// The items of the migration tracking table whose id starts with
/// `prefix` (`segment#`, `migration#0000000002`, `lock`), raw.
pub async fn tracking_items(db: &Db, prefix: &str) -> Vec<dynamo_runtime::Attributes> {
    scan_all(db, dynamo_runtime::migrate::TRACKING_TABLE)
        .await
        .into_iter()
        .filter(|i| {
            matches!(i.get("id"), Some(aws_sdk_dynamodb::types::AttributeValue::S(id)) if id.starts_with(prefix))
        })
        .collect()
}

/// A free-tier customer `id` with email `{id}@example.com`: the customer
/// most tests start from.
pub fn customer(id: &str) -> shop::Customer {
    shop::Customer {
        id: id.into(),
        email: format!("{id}@example.com"),
        name: None,
        vip: false,
        loyalty_points: 0,
        tier: shop::CustomerTier::Free,
        unmodeled: Default::default(),
    }
}

/// A product of the field_types fixture with every required field set
/// (and the defaults for the rest): what the field-type tests start from.
pub fn product() -> fixtures::field_types::catalog::Product {
    use fixtures::field_types::catalog::{NewProduct, Product, Variant};
    let at = |text: &str| text.parse::<dynamo_runtime::Timestamp>().ok();
    Product::new(NewProduct {
        sku: "LAMP-1".into(),
        released: 42,
        medium: 3,
        large: -9_000_000_000,
        short: 7,
        weight: 1.5,
        checksums: [vec![1u8, 2], vec![255u8]]
            .into_iter()
            .map(dynamo_runtime::Bytes::from)
            .collect(),
        history: at("2024-01-01T00:00:00.123Z").into_iter().collect(),
        matrix: vec![vec![1, -2], vec![]],
        stock: [("berlin".to_owned(), 3)].into(),
        variants: vec![Variant {
            name: "red".into(),
            dimensions: None,
            children: vec![],
        }],
        money: money::Money("12.50 EUR".into()),
        rust_type: "lamp".into(),
    })
}

/// The variable the test command sets to DynamoDB Local's endpoint.
pub const ENDPOINT_ENV: &str = "DYNAMODB_ENDPOINT";

/// A `Db` on DynamoDB Local with a namespace of its own, so tests running
/// in parallel never share a table.
///
/// Panics, with instructions, when DynamoDB Local is not configured or does
/// not answer: a test that needs it never passes by skipping.
pub async fn local_db(test: &str) -> Db {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let endpoint = std::env::var(ENDPOINT_ENV).unwrap_or_else(|_| {
        panic!(
            "{ENDPOINT_ENV} is not set, so there is no DynamoDB Local to test against.\n\
             Run every test with `scripts/test`, or start DynamoDB Local yourself:\n  \
             scripts/dynamodb-local start\n  \
             export {ENDPOINT_ENV}=$(scripts/dynamodb-local url)"
        )
    });
    let namespace = format!(
        "t{}_{}_{test}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let db = Db::builder()
        .endpoint_url(&endpoint)
        .region("us-east-1")
        .credentials("local", "local")
        .namespace(namespace)
        .build()
        .await
        .expect("a valid Db configuration");
    if let Err(e) = db.client().list_tables().limit(1).send().await {
        panic!(
            "DynamoDB Local does not answer at {endpoint} ({ENDPOINT_ENV}): {}\n\
             Start it with `scripts/dynamodb-local start` and set \
             {ENDPOINT_ENV}=$(scripts/dynamodb-local url), or run `scripts/test`.",
            aws_sdk_dynamodb::error::DisplayErrorContext(e)
        );
    }
    db
}

/// A `Db` with the `shop` table created in its namespace.
pub async fn shop_db(test: &str) -> Db {
    let db = local_db(test).await;
    assert!(
        shop::TABLE.create(&db).await.expect("create table"),
        "a fresh namespace has no table yet"
    );
    db
}

/// The repository's root (the workspace folder).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_owned()
}

/// The stdout of a finished process; panics with both of its streams when
/// it failed.
#[track_caller]
pub fn stdout_of(out: &std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds the cargo package in `dir` (a crate outside the workspace, as a
/// user's would be) with the workspace's lock, into `target/outside`,
/// which every such test shares (without debug info, to keep it small);
/// asserts it builds warning-free and returns its binary `bin`.
#[track_caller]
pub fn build_outside(dir: &std::path::Path, bin: &str) -> std::path::PathBuf {
    let build = try_build_outside(dir);
    stdout_of(&build, &format!("cargo build in {}", dir.display()));
    let warnings = String::from_utf8_lossy(&build.stderr);
    assert!(
        !warnings.contains("warning"),
        "{} builds warning-free:\n{warnings}",
        dir.display()
    );
    repo_root()
        .join("target")
        .join("outside")
        .join("debug")
        .join(bin)
}

/// `cargo build` of the package in `dir` as [`build_outside`] runs it,
/// whatever its outcome.
pub fn try_build_outside(dir: &std::path::Path) -> std::process::Output {
    // The workspace's lock pins the versions its own build uses, so the
    // crate resolves the same ones (`cargo build` trims the rest).
    if !dir.join("Cargo.lock").exists() {
        std::fs::copy(repo_root().join("Cargo.lock"), dir.join("Cargo.lock"))
            .expect("copy Cargo.lock");
    }
    std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(dir)
        .args(["build", "--quiet"])
        .env(
            "CARGO_TARGET_DIR",
            repo_root().join("target").join("outside"),
        )
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs")
}

/// `program` with the environment that points the standard AWS chain at
/// DynamoDB Local (`DYNAMODB_ENDPOINT`) in `namespace`.
pub fn against_local(program: &std::path::Path, namespace: &str) -> std::process::Command {
    let endpoint = std::env::var(ENDPOINT_ENV)
        .unwrap_or_else(|_| panic!("{ENDPOINT_ENV} is not set: run `scripts/test`"));
    let mut command = std::process::Command::new(program);
    command
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("DYNAMO_NAMESPACE", namespace);
    command
}
