//! Connection faults made real: a TCP proxy between the client and
//! DynamoDB Local resets connections mid-request and mid-response, the way
//! a load balancer or a flaky network does. A 2,000-item batch write and a
//! backfill through it: every item written, nothing lost, and where the
//! retry budget runs out, a typed error naming exactly what was not done.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::{
    collections::BTreeSet,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use dynamo_runtime::{Db, Error, Item, RetryPolicy, Timestamp};
use dynamo_tests::{ENDPOINT_ENV, fixtures, local_db};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// A proxy to DynamoDB Local that resets a connection (RST, from a zero
/// linger) on about `percent`% of the chunks it forwards, in either
/// direction: requests cut short, and requests DynamoDB processed whose
/// responses never arrive.
struct Proxy {
    addr: SocketAddr,
    resets: Arc<AtomicUsize>,
}

impl Proxy {
    async fn start(percent: u64, seed: u64) -> Proxy {
        let endpoint = std::env::var(ENDPOINT_ENV).unwrap();
        let upstream: SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let resets = Arc::new(AtomicUsize::new(0));
        let rng = Arc::new(AtomicU64::new(seed));
        let counted = Arc::clone(&resets);
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let (resets, rng) = (Arc::clone(&counted), Arc::clone(&rng));
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    // Linger 0: dropping the socket sends RST, not FIN.
                    #[allow(deprecated)]
                    {
                        let _ = client.set_linger(Some(Duration::ZERO));
                        let _ = server.set_linger(Some(Duration::ZERO));
                    }
                    let fault = move || {
                        // A linear congruential generator: seeded, so a
                        // failure can be replayed.
                        let x = rng
                            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
                            .wrapping_mul(0x2545_F491_4F6C_DD1D);
                        (x >> 33) % 100 < percent
                    };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up = pump(&mut cr, &mut sw, fault.clone());
                    let down = pump(&mut sr, &mut cw, fault);
                    // The first direction to fault (or end) ends both:
                    // every socket is dropped, with RST.
                    let faulted = tokio::select! {
                        f = up => f,
                        f = down => f,
                    };
                    if faulted {
                        resets.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        Proxy { addr, resets }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Copies `from` to `to` until the end, or until `fault` says to cut the
/// connection, after forwarding half of a chunk; returns whether it cut.
async fn pump(
    from: &mut (impl AsyncReadExt + Unpin),
    to: &mut (impl AsyncWriteExt + Unpin),
    fault: impl Fn() -> bool,
) -> bool {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        if fault() {
            let _ = to.write_all(&buf[..n / 2]).await;
            return true;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return false;
        }
    }
}

/// A `Db` through `proxy`, in `direct`'s namespace, with `sdk_attempts`
/// per request and the runtime's batch retries as given.
async fn through(proxy: &Proxy, direct: &Db, sdk_attempts: u32, retry: RetryPolicy) -> Db {
    Db::builder()
        .endpoint_url(proxy.url())
        .region("us-east-1")
        .credentials("local", "local")
        .namespace(direct.namespace().unwrap())
        .sdk_max_attempts(sdk_attempts)
        .retry(retry)
        .build()
        .await
        .unwrap()
}

mod shop {
    pub use dynamo_tests::fixtures::indexes_collections::shop::*;
}

fn orders(n: usize) -> Vec<shop::Order> {
    (0..n)
        .map(|i| {
            shop::Order::new(shop::NewOrder {
                customer_id: format!("c{}", i % 7),
                order_id: format!("o{i:05}"),
                placed_at: Timestamp::from_second(1_700_000_000 + i as i64).unwrap(),
                total_cents: i as u64,
            })
        })
        .collect()
}

/// Every stored order, read directly (not through the proxy).
async fn stored(db: &Db) -> BTreeSet<String> {
    use futures_util::TryStreamExt;
    shop::Order::scan()
        .stream(db)
        .map_ok(|o| o.order_id)
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_batch_write_through_connection_resets_writes_every_item() {
    let direct = local_db("resets_batch").await;
    assert!(shop::TABLE.create(&direct).await.unwrap());
    let proxy = Proxy::start(5, 7).await;
    let db = through(
        &proxy,
        &direct,
        10,
        RetryPolicy::exponential(Duration::from_millis(5), Duration::from_millis(100)).attempts(10),
    )
    .await;
    let orders = orders(2_000);
    shop::Order::batch_put(&orders).send(&db).await.unwrap();
    assert!(
        proxy.resets.load(Ordering::Relaxed) > 0,
        "the proxy reset no connection"
    );
    let expected: BTreeSet<String> = orders.iter().map(|o| o.order_id.clone()).collect();
    let got = stored(&direct).await;
    assert_eq!(got.len(), 2_000);
    assert_eq!(got, expected);
    // Every item reads back as written.
    for order in orders.iter().step_by(97) {
        let read = shop::Order::get(order.key())
            .consistent()
            .send(&direct)
            .await
            .unwrap();
        assert_eq!(read.as_ref(), Some(order));
    }
}

#[tokio::test]
async fn a_batch_write_whose_budget_runs_out_names_what_was_not_written() {
    let direct = local_db("resets_budget").await;
    assert!(shop::TABLE.create(&direct).await.unwrap());
    // One attempt per request, no batch retries, a reset on 1 chunk in 4.
    let proxy = Proxy::start(25, 11).await;
    let db = through(&proxy, &direct, 1, RetryPolicy::never()).await;
    let orders = orders(2_000);
    let err = shop::Order::batch_put(&orders).send(&db).await.unwrap_err();
    let Error::Unprocessed { unprocessed, .. } = &err else {
        panic!("not a typed batch error: {err}");
    };
    assert!(!unprocessed.is_empty());
    // Nothing is lost silently: an order is stored, or named in the error
    // (a request DynamoDB applied whose response was cut is both).
    let named: BTreeSet<String> = unprocessed
        .iter()
        .map(|item| shop::Order::decode(item.clone()).unwrap().order_id)
        .collect();
    let got = stored(&direct).await;
    for order in &orders {
        assert!(
            got.contains(&order.order_id) || named.contains(&order.order_id),
            "{} is neither stored nor named in the error",
            order.order_id
        );
    }
    assert!(got.len() < 2_000, "some writes failed");
}

#[tokio::test]
async fn a_backfill_through_connection_resets_fills_every_item() {
    use fixtures::evolve_before::shop::{NewOrder, Order, OrderStatus};
    let direct = local_db("resets_backfill").await;
    fixtures::evolve_before::migrations::run(&direct)
        .await
        .unwrap();
    let orders: Vec<Order> = (0..2_000)
        .map(|i| {
            Order::new(NewOrder {
                customer_id: format!("c{}", i % 3),
                order_id: format!("o{i:05}"),
                status: if i % 2 == 0 {
                    OrderStatus::Open
                } else {
                    OrderStatus::Shipped
                },
                placed_at: Timestamp::from_second(1_700_000_000 + i64::from(i)).unwrap(),
            })
        })
        .collect();
    Order::batch_put(&orders).send(&direct).await.unwrap();

    let proxy = Proxy::start(3, 5).await;
    let db = through(&proxy, &direct, 10, RetryPolicy::default()).await;
    let report = fixtures::evolve_after::migrations::migrator(&db)
        .backfill_rate(None)
        .run()
        .await
        .unwrap();
    assert_eq!(report.applied, ["0002_orders_by_status.toml"]);
    assert!(
        proxy.resets.load(Ordering::Relaxed) > 0,
        "the proxy reset no connection"
    );
    // Every order is in the index, under its own status.
    use fixtures::evolve_after::shop as after;
    let mut seen = BTreeSet::new();
    for status in [after::OrderStatus::Open, after::OrderStatus::Shipped] {
        for row in after::Order::query_by_status(status)
            .all(&direct)
            .await
            .unwrap()
        {
            assert!(seen.insert(row.order_id.clone()), "{} twice", row.order_id);
        }
    }
    assert_eq!(seen.len(), 2_000);
}
