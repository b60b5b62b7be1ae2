//! The runtime's bulk paths against the same calls written directly with
//! aws-sdk-dynamodb, in one run, on DynamoDB Local: batch put and batch get
//! of 5,000 items, a 4-segment parallel scan of them, paging through a
//! 5,000-item partition 100 at a time, and 1,000 single puts and gets, one
//! after another. Both sides use the benchmark items
//! (`tests/fixtures/valid/benchmark`); the hand-written side encodes and
//! decodes with the hand-written code of `dynamo_tests::bench`, sends the
//! same chunks with the same number in flight, and retries what DynamoDB
//! leaves unprocessed. Each figure is the median of `ROUNDS` runs, the two
//! sides taking turns; client CPU is the CPU time of this process's threads
//! (`/proc/self/task/*/schedstat`), which DynamoDB Local's does not enter.
//! It then times the runtime's batches at 1 to 16 chunks in flight, the
//! measurement behind `DEFAULT_CONCURRENCY`.
//!
//! `cargo bench -p dynamo-tests --bench runtime` with `DYNAMODB_ENDPOINT`
//! set (`scripts/dynamodb-local start`). Results: BENCHMARKS.md.

#![allow(missing_docs, clippy::unwrap_used)]

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use aws_sdk_dynamodb::{
    Client,
    config::{BehaviorVersion, Credentials, Region},
    types::{AttributeValue, KeysAndAttributes, PutRequest, WriteRequest},
};
use dynamo_runtime::{DEFAULT_CONCURRENCY, Db};
use dynamo_tests::{
    ENDPOINT_ENV,
    bench::{Map, account, event, hand_decode, hand_decode_event, hand_encode, hand_encode_event},
    fixtures::benchmark::accounts::{Account, AccountKey, Event, TABLE},
};
use futures_util::{StreamExt, stream};

const ITEMS: usize = 5_000;
const SINGLE: usize = 1_000;
const ROUNDS: usize = 5;
const PAGE: i32 = 100;
const SEGMENTS: i32 = 4;

/// CPU time of this process so far: the sum over its threads.
fn cpu() -> Duration {
    let mut ns = 0u64;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
            ns += text
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Duration::from_nanos(ns)
}

/// Wall and CPU time of one run.
#[derive(Debug, Clone, Copy)]
struct Run {
    wall: Duration,
    cpu: Duration,
}

async fn timed<F: Future<Output = ()>>(f: F) -> Run {
    let (c0, t0) = (cpu(), Instant::now());
    f.await;
    Run {
        wall: t0.elapsed(),
        cpu: cpu() - c0,
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Medians of both sides' runs.
struct Figures {
    name: &'static str,
    items: usize,
    product: (Duration, Duration),
    hand: (Duration, Duration),
}

impl Figures {
    fn row(&self) -> String {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / self.items as f64;
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
        format!(
            "| {} | {} | {:.1} | {:.1} | {:.2}× | {:.1} | {:.1} | {:.2}× |",
            self.name,
            self.items,
            per(self.product.0),
            per(self.hand.0),
            ratio(self.product.0, self.hand.0),
            per(self.product.1),
            per(self.hand.1),
            ratio(self.product.1, self.hand.1),
        )
    }
}

/// Runs both sides `ROUNDS` times, taking turns (and turning the order
/// around each round), after one warm-up run of each.
async fn compare<P, PF, H, HF>(name: &'static str, items: usize, product: P, hand: H) -> Figures
where
    P: Fn() -> PF,
    PF: Future<Output = ()>,
    H: Fn() -> HF,
    HF: Future<Output = ()>,
{
    product().await;
    hand().await;
    let (mut p, mut h) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            p.push(timed(product()).await);
            h.push(timed(hand()).await);
        } else {
            h.push(timed(hand()).await);
            p.push(timed(product()).await);
        }
    }
    let both = |runs: &[Run]| {
        (
            median(runs.iter().map(|r| r.wall).collect()),
            median(runs.iter().map(|r| r.cpu).collect()),
        )
    };
    let figures = Figures {
        name,
        items,
        product: both(&p),
        hand: both(&h),
    };
    eprintln!("{}", figures.row());
    figures
}

// The hand-written side: what one writes with aws-sdk-dynamodb alone.

async fn hand_batch_put(client: &Client, table: &str, items: &[Account]) {
    let chunks: Vec<Vec<WriteRequest>> = items
        .chunks(25)
        .map(|chunk| {
            chunk
                .iter()
                .map(|a| {
                    let put = PutRequest::builder()
                        .set_item(Some(hand_encode(a)))
                        .build()
                        .unwrap();
                    WriteRequest::builder().put_request(put).build()
                })
                .collect()
        })
        .collect();
    stream::iter(chunks)
        .map(|mut pending| async move {
            while !pending.is_empty() {
                let out = client
                    .batch_write_item()
                    .request_items(table, pending)
                    .send()
                    .await
                    .unwrap();
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(table))
                    .unwrap_or_default();
            }
        })
        .buffer_unordered(DEFAULT_CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
}

async fn hand_batch_get(client: &Client, table: &str, ids: &[String]) -> Vec<Option<Account>> {
    let keys: Vec<Map> = ids
        .iter()
        .map(|id| {
            HashMap::from([
                ("pk".to_owned(), AttributeValue::S(format!("ACCOUNT#{id}"))),
                ("sk".to_owned(), AttributeValue::S("PROFILE".to_owned())),
            ])
        })
        .collect();
    let position: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let chunks: Vec<Vec<Map>> = keys.chunks(100).map(<[_]>::to_vec).collect();
    let found: Vec<Vec<Map>> = stream::iter(chunks)
        .map(|mut pending| async move {
            let mut found = Vec::new();
            while !pending.is_empty() {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(pending))
                    .build()
                    .unwrap();
                let mut out = client
                    .batch_get_item()
                    .request_items(table, request)
                    .send()
                    .await
                    .unwrap();
                if let Some(items) = out.responses.as_mut().and_then(|r| r.remove(table)) {
                    found.extend(items);
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
            found
        })
        .buffer_unordered(DEFAULT_CONCURRENCY)
        .collect()
        .await;
    let mut out: Vec<Option<Account>> = vec![None; ids.len()];
    for item in found.into_iter().flatten() {
        let account = hand_decode(item).unwrap();
        let i = position[account.id.as_str()];
        out[i] = Some(account);
    }
    out
}

/// The hand-written parallel scan; with `typed`, it asks DynamoDB for the
/// same type filter the runtime's scan sends (`_type = "Account"`).
async fn hand_scan(client: &Client, table: &str, typed: bool) -> Vec<Account> {
    let segments: Vec<Vec<Account>> = stream::iter(0..SEGMENTS)
        .map(|segment| async move {
            let mut items = Vec::new();
            let mut start = None;
            loop {
                let mut request = client
                    .scan()
                    .table_name(table)
                    .segment(segment)
                    .total_segments(SEGMENTS)
                    .set_exclusive_start_key(start);
                if typed {
                    request = request
                        .filter_expression("#t = :t")
                        .expression_attribute_names("#t", "_type")
                        .expression_attribute_values(":t", AttributeValue::S("Account".into()));
                }
                let out = request.send().await.unwrap();
                items.extend(
                    out.items
                        .unwrap_or_default()
                        .into_iter()
                        .map(|i| hand_decode(i).unwrap()),
                );
                start = out.last_evaluated_key;
                if start.is_none() {
                    return items;
                }
            }
        })
        .buffer_unordered(DEFAULT_CONCURRENCY)
        .collect()
        .await;
    segments.into_iter().flatten().collect()
}

async fn hand_query(client: &Client, table: &str, account: &str) -> Vec<Event> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .query()
            .table_name(table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :sk)")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#sk", "sk")
            .expression_attribute_values(":pk", AttributeValue::S(format!("ACCOUNT#{account}")))
            .expression_attribute_values(":sk", AttributeValue::S("EVENT#".to_owned()))
            .limit(PAGE)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        items.extend(
            out.items
                .unwrap_or_default()
                .into_iter()
                .map(|i| hand_decode_event(i).unwrap()),
        );
        start = out.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

fn accounts() -> Vec<Account> {
    (0..ITEMS)
        .map(|i| {
            let mut a = account();
            a.id = format!("a-{i:06}");
            a
        })
        .collect()
}

async fn run() {
    let endpoint = std::env::var(ENDPOINT_ENV).unwrap_or_else(|_| {
        panic!("set {ENDPOINT_ENV} to DynamoDB Local's URL (scripts/dynamodb-local start)")
    });
    let db = Db::builder()
        .endpoint_url(&endpoint)
        .region("us-east-1")
        .credentials("local", "local")
        .namespace(format!("bench{}", std::process::id()))
        .build()
        .await
        .unwrap();
    let events_db = db
        .clone()
        .with_namespace(format!("bench{}_events", std::process::id()))
        .unwrap();
    TABLE.create(&db).await.unwrap();
    TABLE.create(&events_db).await.unwrap();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "bench"))
        .build();
    let client = Client::from_conf(config);
    let table = db.table_name(&TABLE);
    let events_table = events_db.table_name(&TABLE);

    let accounts = accounts();
    let ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
    let events: Vec<Event> = (0..u32::try_from(ITEMS).unwrap())
        .map(|n| event("q", n))
        .collect();
    Event::batch_put(&events).send(&events_db).await.unwrap();
    // Both sides read the same items.
    assert_eq!(hand_query(&client, &events_table, "q").await.len(), ITEMS);
    assert_eq!(
        hand_encode_event(&events[7]),
        dynamo_runtime::Item::encode(&events[7]).unwrap()
    );

    let mut rows = Vec::new();
    rows.push(
        compare(
            "batch put",
            ITEMS,
            || async { Account::batch_put(&accounts).send(&db).await.unwrap() },
            || hand_batch_put(&client, &table, &accounts),
        )
        .await,
    );
    let keys = || ids.iter().map(|id| AccountKey { id: id.clone() });
    assert_eq!(
        Account::batch_get(keys()).send(&db).await.unwrap(),
        hand_batch_get(&client, &table, &ids).await
    );
    rows.push(
        compare(
            "batch get",
            ITEMS,
            || async {
                let got = Account::batch_get(keys()).send(&db).await.unwrap();
                assert_eq!(got.len(), ITEMS);
            },
            || async {
                let got = hand_batch_get(&client, &table, &ids).await;
                assert_eq!(got.len(), ITEMS);
            },
        )
        .await,
    );
    // The second time, the hand-written scan asks for the runtime's type
    // filter: what the filter costs DynamoDB, apart from the client.
    for (name, typed) in [
        ("parallel scan (4 segments)", false),
        ("parallel scan, SDK with the type filter", true),
    ] {
        rows.push(
            compare(
                name,
                ITEMS,
                || async {
                    let got = Account::scan()
                        .parallel(SEGMENTS.unsigned_abs())
                        .all(&db)
                        .await
                        .unwrap();
                    assert_eq!(got.len(), ITEMS);
                },
                || async {
                    assert_eq!(hand_scan(&client, &table, typed).await.len(), ITEMS);
                },
            )
            .await,
        );
    }
    rows.push(
        compare(
            "query paging (100 per page)",
            ITEMS,
            || async {
                let got = Event::query("q")
                    .page_size(PAGE.unsigned_abs())
                    .all(&events_db)
                    .await
                    .unwrap();
                assert_eq!(got.len(), ITEMS);
            },
            || async {
                assert_eq!(hand_query(&client, &events_table, "q").await.len(), ITEMS);
            },
        )
        .await,
    );
    let few = &accounts[..SINGLE];
    rows.push(
        compare(
            "single put",
            SINGLE,
            || async {
                for a in few {
                    a.put().send(&db).await.unwrap();
                }
            },
            || async {
                for a in few {
                    client
                        .put_item()
                        .table_name(&table)
                        .set_item(Some(hand_encode(a)))
                        .send()
                        .await
                        .unwrap();
                }
            },
        )
        .await,
    );
    rows.push(
        compare(
            "single get",
            SINGLE,
            || async {
                for a in few {
                    let got = Account::get(a.key()).send(&db).await.unwrap();
                    assert!(got.is_some());
                }
            },
            || async {
                for a in few {
                    let out = client
                        .get_item()
                        .table_name(&table)
                        .key("pk", AttributeValue::S(format!("ACCOUNT#{}", a.id)))
                        .key("sk", AttributeValue::S("PROFILE".to_owned()))
                        .send()
                        .await
                        .unwrap();
                    assert!(hand_decode(out.item.unwrap()).is_some());
                }
            },
        )
        .await,
    );

    println!(
        "| operation | items | wall µs/item (runtime) | wall µs/item (SDK) | wall ratio | CPU µs/item (runtime) | CPU µs/item (SDK) | CPU ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for row in &rows {
        println!("{}", row.row());
    }

    // Chunks in flight: the runtime's batches at 1 to 16.
    println!();
    println!(
        "| chunks in flight | batch put wall µs/item | batch put CPU µs/item | batch get wall µs/item |"
    );
    println!("|---|---|---|---|");
    for concurrency in [1, 2, 4, 8, 16] {
        let db = db.clone().with_concurrency(concurrency);
        let (mut put, mut get) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            put.push(timed(async { Account::batch_put(&accounts).send(&db).await.unwrap() }).await);
            get.push(
                timed(async {
                    Account::batch_get(keys()).send(&db).await.unwrap();
                })
                .await,
            );
        }
        let per = |d: Duration| d.as_secs_f64() * 1e6 / ITEMS as f64;
        println!(
            "| {concurrency} | {:.1} | {:.1} | {:.1} |",
            per(median(put.iter().map(|r| r.wall).collect())),
            per(median(put.iter().map(|r| r.cpu).collect())),
            per(median(get.iter().map(|r| r.wall).collect())),
        );
    }

    for db in [&db, &events_db] {
        db.client()
            .delete_table()
            .table_name(db.table_name(&TABLE))
            .send()
            .await
            .unwrap();
    }
}

fn main() {
    // `cargo test --benches` runs every bench once with `--bench` absent:
    // nothing to measure then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run());
}
