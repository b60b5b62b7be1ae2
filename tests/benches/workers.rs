//! A data step on 1, 2 and 4 workers, in one run: the same 20,000-order
//! `rename_attribute` step (8 segments, no rate cap) applied by one
//! `migrate` process, then with one and three `migrate worker`s beside it,
//! then by one process working 4 segments at once,
//! against the DynamoDB Local at `DYNAMODB_ENDPOINT`. Prints items per
//! second, the ratio, and the CPU used by DynamoDB Local and by the whole
//! machine while each ran.
//!
//! `cargo bench -p dynamo-tests --bench workers` (with DynamoDB Local
//! started: `scripts/dynamodb-local start`,
//! `export DYNAMODB_ENDPOINT=$(scripts/dynamodb-local url)`).

#![allow(clippy::unwrap_used, missing_docs)] // a benchmark binary

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use dynamo_runtime::Db;
use dynamo_tests::{ENDPOINT_ENV, fixtures, local_db};

const ORDERS: usize = 20_000;
const MIGRATION: &str = "0002_attribute_renamed.toml";

fn cli(db: &Db, schemas: &Path) -> Command {
    let endpoint = std::env::var(ENDPOINT_ENV).unwrap();
    let mut command = dynamo_tests::cli_at(env!("CARGO_BIN_EXE_cli"), db, &endpoint, schemas);
    command.stdout(Stdio::null()).stderr(Stdio::null());
    command
}

/// The before schema migrated, `ORDERS` orders, the rename migration added.
async fn seeded(name: &str) -> (Db, tempfile::TempDir) {
    use fixtures::evolve_items_before::shop::{NewOrder, Order, OrderStatus};
    let db = local_db(name).await;
    let dir = tempfile::tempdir().unwrap();
    let valid = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/valid");
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    let copy = |fixture: &str, file: &str, to: &Path| {
        std::fs::copy(valid.join(fixture).join(file), to).unwrap();
    };
    copy(
        "evolve_items_before",
        "shop.toml",
        &dir.path().join("shop.toml"),
    );
    copy(
        "evolve_items_before",
        "migrations/0001_create_shop.toml",
        &migrations.join("0001_create_shop.toml"),
    );
    assert!(
        cli(&db, dir.path())
            .arg("migrate")
            .status()
            .unwrap()
            .success()
    );
    let all: Vec<Order> = (0..ORDERS)
        .map(|i| {
            Order::new(NewOrder {
                customer_id: format!("c{}", i % 10),
                order_id: format!("o{i:05}"),
                total: u32::try_from(i).unwrap(),
                status: OrderStatus::Open,
            })
        })
        .collect();
    Order::batch_put(&all).send(&db).await.unwrap();
    copy(
        "evolve_attribute_renamed",
        "shop.toml",
        &dir.path().join("shop.toml"),
    );
    copy(
        "evolve_attribute_renamed",
        &format!("migrations/{MIGRATION}"),
        &migrations.join(MIGRATION),
    );
    (db, dir)
}

/// CPU seconds used so far: (DynamoDB Local's java process, every core of
/// the machine busy).
fn cpu() -> (f64, f64) {
    let ticks = 100.0; // USER_HZ on Linux
    let java = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            std::fs::read_to_string(e.path().join("cmdline"))
                .is_ok_and(|c| c.contains("DynamoDBLocal.jar"))
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .map(|stat| {
            // Fields after the command's closing parenthesis: utime and
            // stime are the 12th and 13th.
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            let fields: Vec<f64> = after
                .split_whitespace()
                .map(|f| f.parse().unwrap_or(0.0))
                .collect();
            (fields[11] + fields[12]) / ticks
        })
        .sum();
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let all: Vec<f64> = stat
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap())
        .collect();
    // user nice system idle iowait irq softirq steal: busy is all but
    // idle and iowait.
    let busy = all.iter().take(8).sum::<f64>() - all[3] - all[4];
    (java, busy / ticks)
}

struct Run {
    seconds: f64,
    java_cpu: f64,
    machine_cpu: f64,
}

/// Applies the step with `extra` `migrate worker`s beside the `migrate`,
/// which works `concurrency` segments at once.
fn run(db: &Db, dir: &Path, extra: usize, concurrency: u32) -> Run {
    let workers: Vec<Child> = (0..extra)
        .map(|_| {
            cli(db, dir)
                .args(["migrate", "worker", "--idle-seconds", "3"])
                .spawn()
                .unwrap()
        })
        .collect();
    // Let the workers start and wait for the step.
    std::thread::sleep(Duration::from_millis(500));
    let (java0, machine0) = cpu();
    let started = Instant::now();
    let status = cli(db, dir)
        .args(["migrate", "--segments", "8", "--backfill-rate", "0"])
        .args(["--concurrency", &concurrency.to_string()])
        .status()
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let (java1, machine1) = cpu();
    assert!(status.success());
    for mut w in workers {
        assert!(w.wait().unwrap().success());
    }
    Run {
        seconds,
        java_cpu: java1 - java0,
        machine_cpu: machine1 - machine0,
    }
}

fn main() {
    if std::env::var(ENDPOINT_ENV).is_err() {
        eprintln!("{ENDPOINT_ENV} is not set: start DynamoDB Local (scripts/dynamodb-local start)");
        return;
    }
    // `cargo test --benches` runs benches once as a test: nothing to time.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    println!(
        "| workers | seconds | items/s | DynamoDB Local CPU (cores) | machine CPU (of {cores}) |"
    );
    println!("|---|---|---|---|---|");
    let mut rates = Vec::new();
    let runs = [
        ("one_worker", 0, 1, "1"),
        ("two_workers", 1, 1, "2 processes"),
        ("four_workers", 3, 1, "4 processes"),
        ("four_in_one", 0, 4, "4 in 1 process (`--concurrency 4`)"),
    ];
    for (name, extra, concurrency, label) in runs {
        let (db, dir) = runtime.block_on(seeded(name));
        let r = run(&db, dir.path(), extra, concurrency);
        let rate = ORDERS as f64 / r.seconds;
        rates.push(rate);
        println!(
            "| {label} | {:.1} | {:.0} | {:.2} | {:.2} |",
            r.seconds,
            rate,
            r.java_cpu / r.seconds,
            r.machine_cpu / r.seconds,
        );
    }
    println!("\n4 workers / 1 worker: {:.2}x", rates[2] / rates[0]);
    println!("4 in one process / 1 worker: {:.2}x", rates[3] / rates[0]);
}
