//! Data steps shared by many workers, against DynamoDB Local with real
//! processes: `migrate` runs and `migrate worker`s split a
//! `rename_attribute` step of the `evolve_items_before` orders into
//! parallel-scan segments. The workers talk to DynamoDB Local through a
//! counting HTTP proxy that sees every UpdateItem DynamoDB accepts: every
//! order is written exactly once, whatever happens to the workers.
//! (DynamoDB Streams would count the same, but DynamoDB Local slows every
//! later write to a stream-enabled table by 20x once it holds tens of
//! thousands of stream records.)

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use aws_sdk_dynamodb::types::{AttributeValue, Select};
use dynamo_runtime::Db;
use dynamo_tests::{ENDPOINT_ENV, fixtures, local_db, tracking_items};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// One test at a time: each runs several workers on the machine's two
/// cores, and the pacing test measures a rate.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MIGRATION: &str = "0002_attribute_renamed.toml";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/valid")
        .join(name)
}

fn cli(db: &Db, schemas: &Path) -> Command {
    through(db, schemas, &std::env::var(ENDPOINT_ENV).unwrap())
}

/// The command line, talking to DynamoDB at `endpoint`, its output piped.
fn through(db: &Db, schemas: &Path, endpoint: &str) -> Command {
    let mut command = dynamo_tests::cli_at(env!("CARGO_BIN_EXE_cli"), db, endpoint, schemas);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn succeeded(out: &Output) -> (String, String) {
    assert!(
        out.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    (text(&out.stdout), text(&out.stderr))
}

fn order_key(i: usize) -> (String, String) {
    (format!("c{}", i % 10), format!("o{i:05}"))
}

/// `orders` orders written by the before code, and the rename migration
/// added to the folder (not applied).
async fn seeded(test: &str, orders: usize) -> (Db, tempfile::TempDir) {
    seeded_for(test, orders, "evolve_attribute_renamed", MIGRATION).await
}

/// `orders` orders written by the before code, and the schema and
/// migration `migration` of fixture `after` added to the folder.
async fn seeded_for(
    test: &str,
    orders: usize,
    after: &str,
    migration: &str,
) -> (Db, tempfile::TempDir) {
    use fixtures::evolve_items_before::shop::{NewOrder, Order, OrderStatus};
    let db = local_db(test).await;
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    let before = fixture("evolve_items_before");
    std::fs::copy(before.join("shop.toml"), dir.path().join("shop.toml")).unwrap();
    std::fs::copy(
        before.join("migrations/0001_create_shop.toml"),
        migrations.join("0001_create_shop.toml"),
    )
    .unwrap();
    succeeded(&cli(&db, dir.path()).arg("migrate").output().unwrap());
    let all: Vec<Order> = (0..orders)
        .map(|i| {
            let (customer_id, order_id) = order_key(i);
            Order::new(NewOrder {
                customer_id,
                order_id,
                total: u32::try_from(i).unwrap() * 10,
                status: OrderStatus::Open,
            })
        })
        .collect();
    Order::batch_put(&all).send(&db).await.unwrap();
    let after = fixture(after);
    std::fs::copy(after.join("shop.toml"), dir.path().join("shop.toml")).unwrap();
    std::fs::copy(
        after.join("migrations").join(migration),
        migrations.join(migration),
    )
    .unwrap();
    (db, dir)
}

/// A proxy to DynamoDB Local that forwards HTTP requests one by one and
/// counts each UpdateItem on `table` that DynamoDB answered with 200, by
/// item key (`pk|sk`). While `throttle` is set, it answers every
/// UpdateItem on `table` itself, with DynamoDB's ThrottlingException
/// (which DynamoDB Local never sends).
struct Counter {
    addr: SocketAddr,
    writes: Arc<Mutex<HashMap<String, usize>>>,
    throttle: Arc<AtomicBool>,
    throttled: Arc<AtomicUsize>,
}

/// What the proxy shares with each connection.
#[derive(Clone)]
struct Shared {
    table: String,
    writes: Arc<Mutex<HashMap<String, usize>>>,
    throttle: Arc<AtomicBool>,
    throttled: Arc<AtomicUsize>,
}

impl Counter {
    async fn start(table: String) -> Counter {
        let endpoint = std::env::var(ENDPOINT_ENV).unwrap();
        let upstream: SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Shared {
            table,
            writes: Arc::default(),
            throttle: Arc::default(),
            throttled: Arc::default(),
        };
        let counter = Counter {
            addr,
            writes: Arc::clone(&shared.writes),
            throttle: Arc::clone(&shared.throttle),
            throttled: Arc::clone(&shared.throttled),
        };
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        forward(client, server, &shared).await;
                    }
                });
            }
        });
        counter
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn writes(&self) -> HashMap<String, usize> {
        self.writes.lock().unwrap().clone()
    }
}

/// One HTTP/1.1 message read from a stream: its bytes, and the parts the
/// counter needs.
struct Message {
    bytes: Vec<u8>,
    status: Option<u16>,
    target: Option<String>,
    body: Vec<u8>,
}

/// Reads one message (`response`: a status line, else a request line)
/// from `stream`, with `buf` holding bytes already read past the last one.
async fn read_message(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    response: bool,
) -> Option<Message> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let parsed = if response {
            let mut r = httparse::Response::new(&mut headers);
            r.parse(buf).ok()?.is_complete().then(|| {
                let found = |name: &str| header(r.headers, name);
                (
                    r.code,
                    None,
                    found("content-length"),
                    found("transfer-encoding"),
                )
            })
        } else {
            let mut r = httparse::Request::new(&mut headers);
            r.parse(buf).ok()?.is_complete().then(|| {
                let found = |name: &str| header(r.headers, name);
                (None, found("x-amz-target"), found("content-length"), None)
            })
        };
        if let Some((status, target, length, encoding)) = parsed {
            let head = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
            let chunked = encoding.is_some_and(|e| e.eq_ignore_ascii_case("chunked"));
            let end = loop {
                let end = if chunked {
                    chunked_end(&buf[head..]).map(|n| head + n)
                } else {
                    let length: usize = length.as_deref().unwrap_or("0").trim().parse().ok()?;
                    (buf.len() >= head + length).then_some(head + length)
                };
                if let Some(end) = end {
                    break end;
                }
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            };
            let bytes: Vec<u8> = buf.drain(..end).collect();
            let body = bytes[head..].to_vec();
            return Some(Message {
                bytes,
                status,
                target,
                body,
            });
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn header(headers: &[httparse::Header<'_>], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| String::from_utf8_lossy(h.value).into_owned())
}

/// Where a complete chunked body ends in `body`, if it does.
fn chunked_end(body: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let line = body[at..].windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&body[at..at + line]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        at += line + 2 + size + 2;
        if body.len() < at {
            return None;
        }
        if size == 0 {
            return Some(at);
        }
    }
}

/// DynamoDB's answer to a request over the table's capacity.
const THROTTLED: &str = "{\"__type\":\"com.amazon.coral.availability#ThrottlingException\",\
                         \"message\":\"Throughput exceeds the current capacity of your table or index.\"}";

/// Forwards requests from `client` to `server` and responses back, one at
/// a time, counting accepted UpdateItems on the table (and throttling
/// them while asked to).
async fn forward(mut client: TcpStream, mut server: TcpStream, shared: &Shared) {
    let (mut from_client, mut from_server) = (Vec::new(), Vec::new());
    while let Some(request) = read_message(&mut client, &mut from_client, false).await {
        let update = request
            .target
            .as_deref()
            .is_some_and(|t| t.ends_with(".UpdateItem"));
        let body: serde_json::Value = if update {
            serde_json::from_slice(&request.body).unwrap()
        } else {
            serde_json::Value::Null
        };
        let ours = update && body["TableName"] == shared.table.as_str();
        if ours && shared.throttle.load(Ordering::Relaxed) {
            shared.throttled.fetch_add(1, Ordering::Relaxed);
            let response = format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\n\
                 x-amzn-RequestId: proxy\r\nContent-Length: {}\r\n\r\n{THROTTLED}",
                THROTTLED.len()
            );
            if client.write_all(response.as_bytes()).await.is_err() {
                return;
            }
            continue;
        }
        if server.write_all(&request.bytes).await.is_err() {
            return;
        }
        let Some(response) = read_message(&mut server, &mut from_server, true).await else {
            return;
        };
        if ours && response.status == Some(200) {
            let key = format!("{}|{}", body["Key"]["pk"]["S"], body["Key"]["sk"]["S"]);
            *shared.writes.lock().unwrap().entry(key).or_default() += 1;
        }
        if client.write_all(&response.bytes).await.is_err() {
            return;
        }
    }
}

/// Every order renamed (its `amount` as written, no `total` left), and the
/// counter saw exactly one accepted write per order.
async fn each_order_written_once(db: &Db, counter: &Counter, orders: usize) {
    let writes = counter.writes();
    let twice: Vec<_> = writes.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "orders written more than once: {twice:?}");
    assert_eq!(writes.len(), orders, "one write per order, none skipped");
    let items = dynamo_tests::scan_all(db, "shop").await;
    for item in &items {
        let Some(AttributeValue::S(sk)) = item.get("sk") else {
            panic!("{item:?}")
        };
        let i: u32 = sk.trim_start_matches("ORDER#o").parse().unwrap();
        assert_eq!(
            item.get("amount"),
            Some(&AttributeValue::N((i * 10).to_string())),
            "{item:?}"
        );
        assert!(!item.contains_key("total"), "{item:?}");
    }
    let seen = items.len();
    assert_eq!(seen, orders);
}

/// Waits until the process `pid` has saved progress on a segment it has
/// not finished; returns the segment.
async fn segment_in_progress(db: &Db, pid: u32) -> u64 {
    let owner = format!(":{pid}-");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let working = tracking_items(db, "segment#").await.into_iter().find(|s| {
            matches!(s.get("owner"), Some(AttributeValue::S(o)) if o.contains(&owner))
                && number(s, "scanned") > 0
                && s.get("done") != Some(&AttributeValue::Bool(true))
        });
        if let Some(segment) = working {
            return number(&segment, "segment");
        }
        assert!(
            Instant::now() < deadline,
            "process {pid} saved no progress within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> u64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().unwrap(),
        _ => 0,
    }
}

/// The migration is applied, by exactly one of the runs, and its job and
/// segments are gone.
async fn applied_once(db: &Db, stdouts: &[String]) {
    let applied = stdouts
        .iter()
        .filter(|out| out.contains(&format!("applied {MIGRATION}")))
        .count();
    assert_eq!(applied, 1, "{stdouts:?}");
    let record = tracking_items(db, "migration#0000000002").await;
    assert_eq!(
        record[0]["status"],
        AttributeValue::S("applied".into()),
        "{record:?}"
    );
    assert!(!record[0].contains_key("job"));
    assert!(tracking_items(db, "segment#").await.is_empty());
}

/// 20,000 orders, 4 `migrate` processes started at once, 8 segments: one
/// takes the lock and starts the step, the three waiting for the lock
/// work its segments meanwhile; every order is written once and the step
/// is recorded applied once.
#[tokio::test]
async fn four_workers_share_a_step_and_write_each_item_once() {
    let _one = ONE_AT_A_TIME.lock().await;
    let orders = 20_000;
    let (db, dir) = seeded("four_workers", orders).await;
    let counter = Counter::start(db.physical_name("shop")).await;
    let runs: Vec<Child> = (0..4)
        .map(|_| {
            through(&db, dir.path(), &counter.url())
                .args(["migrate", "--segments", "8", "--backfill-rate", "0"])
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs = finished(runs).await;
    let stdouts: Vec<String> = outputs.iter().map(|(out, _)| out.clone()).collect();
    applied_once(&db, &stdouts).await;
    let claims: Vec<usize> = outputs
        .iter()
        .map(|(_, err)| err.matches("claimed segment").count())
        .collect();
    assert!(
        claims.iter().all(|n| *n >= 1),
        "every process worked a segment: {claims:?}\n{outputs:#?}"
    );
    assert_eq!(
        claims.iter().sum::<usize>(),
        8,
        "each segment claimed once: {outputs:#?}"
    );
    each_order_written_once(&db, &counter, orders).await;
}

/// Waits for `children` off the runtime (the counting proxy runs on it).
async fn finished(children: Vec<Child>) -> Vec<(String, String)> {
    tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| succeeded(&c.wait_with_output().unwrap()))
            .collect()
    })
    .await
    .unwrap()
}

/// A worker killed (SIGKILL) mid-segment: after its lease ends, another
/// worker takes its segment over from the saved position; still every
/// order is written exactly once and none is skipped.
#[tokio::test]
async fn a_killed_workers_segment_resumes_elsewhere() {
    let _one = ONE_AT_A_TIME.lock().await;
    let orders = 10_000;
    let (db, dir) = seeded("killed_worker", orders).await;
    let counter = Counter::start(db.physical_name("shop")).await;
    let worker = || {
        through(&db, dir.path(), &counter.url())
            .args(["migrate", "worker", "--lease-seconds", "3"])
            .args(["--idle-seconds", "10"])
            .spawn()
            .unwrap()
    };
    let mut victim = worker();
    let others = vec![worker(), worker()];
    let runner = through(&db, dir.path(), &counter.url())
        .args(["migrate", "--segments", "8", "--backfill-rate", "0"])
        .args(["--lease-seconds", "3"])
        .spawn()
        .unwrap();
    let victim_owner = format!(":{}-", victim.id());
    let at = segment_in_progress(&db, victim.id()).await;
    victim.kill().unwrap(); // SIGKILL
    victim.wait().unwrap();
    let mut outputs = finished(std::iter::once(runner).chain(others).collect()).await;
    let stdout = std::mem::take(&mut outputs[0].0);
    let errs: Vec<String> = outputs.into_iter().map(|(_, err)| err).collect();
    assert!(
        errs.iter().flat_map(|e| e.lines()).any(|l| {
            l.contains(&format!("claimed segment {at}/8, resuming after"))
                && l.contains("taken over from")
                && l.contains(&victim_owner)
        }),
        "segment {at} taken over from its saved position: {errs:#?}"
    );
    applied_once(&db, &[stdout]).await;
    each_order_written_once(&db, &counter, orders).await;
}

/// A worker paused (SIGSTOP) past its lease cannot record progress on its
/// segment when it wakes up: its save is refused, it says so, and the
/// segment resumes from the last position saved in time.
#[tokio::test]
async fn a_worker_paused_past_its_lease_cannot_record_progress() {
    let _one = ONE_AT_A_TIME.lock().await;
    let orders = 2_000;
    let (db, dir) = seeded("paused_worker", orders).await;
    let counter = Counter::start(db.physical_name("shop")).await;
    let paused = through(&db, dir.path(), &counter.url())
        .args(["migrate", "worker", "--lease-seconds", "2"])
        .args(["--idle-seconds", "10"])
        .spawn()
        .unwrap();
    let runner = through(&db, dir.path(), &counter.url())
        .args(["migrate", "--segments", "2", "--backfill-rate", "200"])
        .args(["--lease-seconds", "2"])
        .spawn()
        .unwrap();
    let index = segment_in_progress(&db, paused.id()).await;
    let signal = |name: &str| {
        let status = Command::new("kill")
            .args([name, &paused.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    signal("-STOP");
    tokio::time::sleep(Duration::from_secs(4)).await;
    // Its lease ended while it was stopped.
    let stopped = tracking_items(&db, "segment#")
        .await
        .into_iter()
        .find(|s| number(s, "segment") == index)
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    assert!(u128::from(number(&stopped, "expires_at")) < now);
    signal("-CONT");
    let outputs = finished(vec![paused, runner]).await;
    let stderr = &outputs[0].1;
    assert!(
        stderr.contains(&format!("lost the lease of segment {index}/2")),
        "{stderr}"
    );
    applied_once(&db, &[outputs[1].0.clone()]).await;
    each_order_written_once(&db, &counter, orders).await;
}

/// The rate at which `orders` orders get renamed, from the moment 10% are
/// to the moment 90% are: counted by DynamoDB (a filtered count every
/// 400 ms), so the start and the end of the workers are left out.
async fn renaming_rate(db: &Db, orders: usize) -> f64 {
    let renamed = || async {
        let mut count = 0;
        let mut start = None;
        loop {
            let out = db
                .client()
                .scan()
                .table_name(db.physical_name("shop"))
                .select(Select::Count)
                .filter_expression("attribute_exists(amount)")
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            count += usize::try_from(out.count).unwrap();
            start = out.last_evaluated_key;
            if start.is_none() {
                return count;
            }
        }
    };
    let mut samples: Vec<(Instant, usize)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let before = Instant::now();
        let n = renamed().await;
        // The count's moment: halfway through the scan.
        samples.push((before + before.elapsed() / 2, n));
        if n >= orders * 9 / 10 {
            break;
        }
        assert!(Instant::now() < deadline, "{samples:?}");
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let (t0, n0) = *samples.iter().find(|(_, n)| *n >= orders / 10).unwrap();
    let (t1, n1) = *samples.last().unwrap();
    (n1 - n0) as f64 / (t1 - t0).as_secs_f64()
}

/// With a cap of 300 items/s for the step, 4 workers (a `migrate` and 3
/// `migrate worker`s) together write at 300 items/s, within 10%: the cap
/// is split across the live workers.
#[tokio::test]
async fn four_workers_together_keep_to_the_steps_cap() {
    let _one = ONE_AT_A_TIME.lock().await;
    let orders = 6_000;
    let cap = 300.0;
    let (db, dir) = seeded("paced_workers", orders).await;
    let workers: Vec<Child> = (0..3)
        .map(|_| {
            cli(&db, dir.path())
                .args(["migrate", "worker", "--idle-seconds", "10"])
                .spawn()
                .unwrap()
        })
        .collect();
    let runner = cli(&db, dir.path())
        .args(["migrate", "--segments", "8", "--backfill-rate", "300"])
        .spawn()
        .unwrap();
    let rate = renaming_rate(&db, orders).await;
    let mut outputs = finished(std::iter::once(runner).chain(workers).collect()).await;
    let stdout = std::mem::take(&mut outputs[0].0);
    let errs: Vec<String> = outputs.into_iter().map(|(_, err)| err).collect();
    eprintln!("measured {rate:.1} items/s with a cap of {cap}");
    assert!(
        (rate - cap).abs() <= cap * 0.1,
        "measured {rate:.1} items/s, cap {cap}: {errs:#?}"
    );
    applied_once(&db, &[stdout]).await;
}

/// A share of the table's capacity paces the step by the write units
/// DynamoDB reports consumed: 50% of 200 write units per second is 100
/// renames per second (an order costs one unit), for 2 workers together.
/// An on-demand table without a maximum throughput has no capacity to take
/// a share of: the run says so and stops before writing anything.
#[tokio::test]
async fn a_capacity_share_paces_by_the_units_consumed() {
    let _one = ONE_AT_A_TIME.lock().await;
    let orders = 2_000;
    let (db, dir) = seeded("capacity_share", orders).await;
    let refused = cli(&db, dir.path())
        .args(["migrate", "--capacity-percent", "50"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("is on-demand without a maximum throughput"),
        "{stderr}"
    );
    let worker = cli(&db, dir.path())
        .args(["migrate", "worker", "--idle-seconds", "10"])
        .spawn()
        .unwrap();
    let runner = cli(&db, dir.path())
        .args(["migrate", "--segments", "4", "--backfill-rate", "0"])
        .args(["--capacity-percent", "50", "--max-capacity", "1000,200"])
        .spawn()
        .unwrap();
    let rate = renaming_rate(&db, orders).await;
    let outputs = finished(vec![runner, worker]).await;
    eprintln!("measured {rate:.1} items/s at 100 write units per second");
    assert!(
        (rate - 100.0).abs() <= 10.0,
        "measured {rate:.1} items/s at 100 write units per second: {outputs:#?}"
    );
    applied_once(&db, &[outputs[0].0.clone()]).await;
}

/// An app's start-up executor (the generated `migrations::migrator`) that
/// finds another run holding the lock works on that run's data step
/// meanwhile, then takes the lock and finds the migration applied.
#[tokio::test]
async fn an_apps_start_up_executor_works_while_it_waits_for_the_lock() {
    use dynamo_runtime::migrate::Event;
    let _one = ONE_AT_A_TIME.lock().await;
    let orders = 4_000;
    let (db, dir) = seeded("app_executor", orders).await;
    let runner = cli(&db, dir.path())
        .args(["migrate", "--segments", "4", "--backfill-rate", "400"])
        .spawn()
        .unwrap();
    // Start once the runner holds the lock.
    let deadline = Instant::now() + Duration::from_secs(60);
    while tracking_items(&db, "lock").await.is_empty() {
        assert!(Instant::now() < deadline, "the run took no lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let claimed = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&claimed);
    let report = fixtures::evolve_attribute_renamed::migrations::migrator(&db)
        .on_event(move |e| {
            if let Event::SegmentClaimed { segment, .. } = e {
                seen.lock().unwrap().push(*segment);
            }
        })
        .run()
        .await
        .unwrap();
    assert_eq!(report.already_applied.len(), 2, "{report:?}");
    let claimed = claimed.lock().unwrap().clone();
    assert!(!claimed.is_empty(), "the app worked no segment");
    let outputs = finished(vec![runner]).await;
    applied_once(&db, &[outputs[0].0.clone()]).await;
    let (_, err) = &outputs[0];
    assert_eq!(
        err.matches("claimed segment").count() + claimed.len(),
        4,
        "each segment claimed once: {err}"
    );
}

/// DynamoDB throttling every write of a step for 3 seconds (made real by
/// the proxy answering as DynamoDB does): the workers back off, halve their
/// share, say so, and finish with every order written once.
#[tokio::test]
async fn a_throttled_step_backs_off_and_writes_each_item_once() {
    let _one = ONE_AT_A_TIME.lock().await;
    let orders = 3_000;
    let (db, dir) = seeded("throttled", orders).await;
    let counter = Counter::start(db.physical_name("shop")).await;
    let worker = through(&db, dir.path(), &counter.url())
        .args(["migrate", "worker", "--idle-seconds", "10"])
        .spawn()
        .unwrap();
    let runner = through(&db, dir.path(), &counter.url())
        .args(["migrate", "--segments", "4", "--backfill-rate", "0"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while counter.writes().len() < 300 {
        assert!(Instant::now() < deadline, "no writes within 60 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    counter.throttle.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(3)).await;
    counter.throttle.store(false, Ordering::Relaxed);
    let outputs = finished(vec![runner, worker]).await;
    assert!(counter.throttled.load(Ordering::Relaxed) > 0);
    assert!(
        outputs
            .iter()
            .any(|(_, err)| err.contains("throttled by DynamoDB: waiting")),
        "{outputs:#?}"
    );
    applied_once(&db, &[outputs[0].0.clone()]).await;
    each_order_written_once(&db, &counter, orders).await;
}

/// A `transform` step runs only in the app, which has the function: a
/// `migrate worker` on the command line says it cannot join, and leaves
/// every segment to the app.
#[tokio::test]
async fn a_command_line_worker_leaves_a_transform_to_the_app() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (db, dir) = seeded_for(
        "transform_workers",
        2_000,
        "evolve_transform_after",
        "0002_totals_as_text.toml",
    )
    .await;
    let app = {
        let db = db.clone();
        tokio::spawn(async move {
            fixtures::evolve_transform_after::migrations::migrator(&db)
                .segments(Some(4))
                .backfill_rate(Some(400))
                .run()
                .await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !tracking_items(&db, "lock")
        .await
        .iter()
        .any(|l| l.contains_key("job"))
    {
        assert!(Instant::now() < deadline, "no job within 60 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let worker = cli(&db, dir.path())
        .args(["migrate", "worker", "--idle-seconds", "1"])
        .spawn()
        .unwrap();
    let outputs = finished(vec![worker]).await;
    let (stdout, stderr) = &outputs[0];
    assert!(
        stderr.contains("not joining step 1 of migration 0002: it transforms items with `crate::upgrades::order_total_as_text`, which only the app's executor has"),
        "{stderr}"
    );
    assert!(stdout.contains("worked 0 segments"), "{stdout}");
    let report = app.await.unwrap().unwrap();
    assert_eq!(report.applied, ["0002_totals_as_text.toml"]);
}

/// One process working 4 segments at once (`--concurrency 4`): four
/// claims before the first segment is done, and each order written once.
#[tokio::test]
async fn one_process_works_several_segments_at_once() {
    let _one = ONE_AT_A_TIME.lock().await;
    let orders = 4_000;
    let (db, dir) = seeded("concurrency", orders).await;
    let counter = Counter::start(db.physical_name("shop")).await;
    let runner = through(&db, dir.path(), &counter.url())
        .args(["migrate", "--segments", "8", "--concurrency", "4"])
        .args(["--backfill-rate", "0"])
        .spawn()
        .unwrap();
    let outputs = finished(vec![runner]).await;
    let (stdout, stderr) = &outputs[0];
    let first_done = stderr.find("/8 done").unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        stderr[..first_done].matches("claimed segment").count() >= 4,
        "{stderr}"
    );
    assert_eq!(stderr.matches("claimed segment").count(), 8, "{stderr}");
    applied_once(&db, std::slice::from_ref(stdout)).await;
    each_order_written_once(&db, &counter, orders).await;
}
