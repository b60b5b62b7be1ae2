//! Faults DynamoDB Local never produces, from `aws-smithy-mocks`:
//! unprocessed batch items and keys over several rounds, throttling, 5xx
//! and transaction conflicts. Batch mocks keep a store of their own and
//! count every write, so the assertion is that nothing is lost or written
//! twice.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::{
    Client,
    config::{
        ConfigBag, Intercept, RuntimeComponents,
        interceptors::{BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef},
        retry::RetryConfig,
    },
    operation::{
        batch_get_item::BatchGetItemOutput, batch_write_item::BatchWriteItemOutput,
        put_item::PutItemOutput, transact_write_items::TransactWriteItemsError,
        transact_write_items::TransactWriteItemsOutput,
    },
    types::{
        CancellationReason, KeysAndAttributes, WriteRequest, error::TransactionCanceledException,
    },
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use dynamo_runtime::{Attributes, Db, Error, Item, RetryPolicy};
use dynamo_tests::shop::{Customer, CustomerTier, Order, OrderKey, OrderStatus};

const TABLE: &str = "shop";

/// A `Db` over a client that answers with `rules`. The SDK makes at most 3
/// attempts per request (its default) with 1 ms backoff; the runtime's own
/// loops retry `attempts` times with a constant 1 ms.
fn mock_db(rules: &[&Rule], attempts: u32) -> Db {
    let client: Client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, rules, |c| c
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1))
        ));
    Db::from_client(client)
        .with_retry(RetryPolicy::constant(Duration::from_millis(1)).attempts(attempts))
}

fn order(n: u32) -> Order {
    Order {
        customer_id: "c1".into(),
        order_id: format!("o{n:03}"),
        placed_on: "2024-01-01".into(),
        total_cents: i64::from(n),
        item_count: 1,
        weight_kg: None,
        rating: None,
        status: OrderStatus::Placed,
        tags: Default::default(),
        unmodeled: Default::default(),
    }
}

fn sk(item: &Attributes) -> String {
    item["sk"].as_s().unwrap().clone()
}

/// Writes per sort key, as a mock server stores them.
type Store = Arc<Mutex<HashMap<String, u32>>>;

/// A BatchWriteItem mock that stores the first third of each request (at
/// least one) and returns the rest as unprocessed; with `refuse`, it stores
/// every item but that one.
fn batch_write_rule(store: &Store, refuse: Option<&'static str>) -> Rule {
    let store = store.clone();
    mock!(Client::batch_write_item).then_compute_output(move |input| {
        let requests = input.request_items().unwrap()[TABLE].clone();
        let take = match refuse {
            Some(_) => requests.len(),
            None => requests.len().div_ceil(3),
        };
        let mut unprocessed: Vec<WriteRequest> = Vec::new();
        for (i, request) in requests.into_iter().enumerate() {
            let item = request.put_request().unwrap().item().clone();
            if i >= take || refuse == Some(sk(&item).as_str()) {
                unprocessed.push(request);
            } else {
                *store.lock().unwrap().entry(sk(&item)).or_default() += 1;
            }
        }
        let mut out = BatchWriteItemOutput::builder();
        if !unprocessed.is_empty() {
            out = out.unprocessed_items(TABLE, unprocessed);
        }
        out.build()
    })
}

#[tokio::test]
async fn unprocessed_items_over_several_rounds_are_all_written_once() {
    let store = Store::default();
    let rule = batch_write_rule(&store, None);
    let db = mock_db(&[&rule], 10);
    let orders: Vec<Order> = (0..60).map(order).collect();
    Order::batch_put(&orders).send(&db).await.unwrap();
    let store = store.lock().unwrap();
    assert_eq!(store.len(), 60);
    assert!(store.values().all(|&writes| writes == 1), "{store:?}");
    // Chunks of 25, 25 and 10, each taking several rounds.
    assert!(rule.num_calls() >= 9, "{} calls", rule.num_calls());
}

#[tokio::test]
async fn a_spent_retry_budget_reports_exactly_what_was_not_written() {
    let store = Store::default();
    let rule = batch_write_rule(&store, Some("ORDER#2024-01-01#o007"));
    let db = mock_db(&[&rule], 4);
    let orders: Vec<Order> = (0..60).map(order).collect();
    let err = Order::batch_put(&orders).send(&db).await.unwrap_err();
    let Error::Unprocessed {
        operation,
        unprocessed,
        attempts,
        cause,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(*operation, dynamo_runtime::Operation::BatchWriteItem);
    assert_eq!(*attempts, 4);
    assert!(cause.is_none());
    // Only the refused item is reported, and every other one was written
    // exactly once.
    let unprocessed: Vec<String> = unprocessed.iter().map(sk).collect();
    assert_eq!(unprocessed, ["ORDER#2024-01-01#o007"]);
    let store = store.lock().unwrap();
    assert_eq!(store.len(), 59);
    assert!(store.values().all(|&writes| writes == 1), "{store:?}");
}

#[tokio::test]
async fn unprocessed_keys_over_several_rounds_are_all_read_once() {
    let stored: HashMap<String, Attributes> = (0..150)
        .filter(|n: &u32| !n.is_multiple_of(7))
        .map(|n| {
            let item = order(n).encode().unwrap();
            (sk(&item), item)
        })
        .collect();
    let reads = Store::default();
    let counted = reads.clone();
    let rule = mock!(Client::batch_get_item).then_compute_output(move |input| {
        let keys = input.request_items().unwrap()[TABLE].keys().to_vec();
        let take = keys.len().div_ceil(2);
        let mut found = Vec::new();
        for key in &keys[..take] {
            *counted.lock().unwrap().entry(sk(key)).or_default() += 1;
            if let Some(item) = stored.get(&sk(key)) {
                found.push(item.clone());
            }
        }
        let mut out = BatchGetItemOutput::builder().responses(TABLE, found);
        if take < keys.len() {
            out = out.unprocessed_keys(
                TABLE,
                KeysAndAttributes::builder()
                    .set_keys(Some(keys[take..].to_vec()))
                    .build()
                    .unwrap(),
            );
        }
        out.build()
    });
    let db = mock_db(&[&rule], 10);
    let keys: Vec<OrderKey> = (0..150).map(|n| order(n).key()).collect();
    let got = Order::batch_get(keys).send(&db).await.unwrap();
    assert_eq!(got.len(), 150);
    for (n, item) in got.iter().enumerate() {
        match item {
            Some(o) => assert_eq!(o.order_id, format!("o{n:03}")),
            None => assert_eq!(n % 7, 0, "order {n} was lost"),
        }
    }
    let reads = reads.lock().unwrap();
    assert_eq!(reads.len(), 150);
    assert!(reads.values().all(|&n| n == 1));
    assert!(rule.num_calls() >= 8, "{} calls", rule.num_calls());
}

/// A batch get whose requests keep failing names every key it could not
/// read: those of the failed chunks, none of the chunks that succeeded.
#[tokio::test]
async fn a_failed_batch_get_names_every_key_it_did_not_read() {
    // The first chunk (100 keys) is answered, every later request throttled.
    let rule = mock!(Client::batch_get_item)
        .sequence()
        .output(|| BatchGetItemOutput::builder().build())
        .http_status(400, Some(THROTTLED.to_owned()))
        .repeatedly()
        .build();
    let db = mock_db(&[&rule], 2).with_concurrency(1);
    let keys: Vec<OrderKey> = (0..250).map(|n| order(n).key()).collect();
    let err = Order::batch_get(keys).send(&db).await.unwrap_err();
    let Error::Unprocessed {
        unprocessed, cause, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert!(
        matches!(cause.as_deref(), Some(Error::Throttled { .. })),
        "{err}"
    );
    let named: Vec<String> = unprocessed.iter().map(sk).collect();
    let expected: Vec<String> = (100..250)
        .map(|n| sk(&dynamo_runtime::Key::encode_key(&order(n).key()).unwrap()))
        .collect();
    assert_eq!(named, expected);
}

fn customer() -> Customer {
    Customer {
        id: "c1".into(),
        email: "c1@example.com".into(),
        name: None,
        vip: false,
        loyalty_points: 0,
        tier: CustomerTier::Free,
        unmodeled: Default::default(),
    }
}

const THROTTLED: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#;

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_and_then_a_typed_error() {
    // Throttled twice, then accepted: the SDK's third attempt succeeds.
    let rule = mock!(Client::put_item)
        .sequence()
        .http_status(400, Some(THROTTLED.to_owned()))
        .times(2)
        .output(|| PutItemOutput::builder().build())
        .build();
    let db = mock_db(&[&rule], 3);
    customer().put().send(&db).await.unwrap();
    assert_eq!(rule.num_calls(), 3);

    // Throttled every time: Error::Throttled after the SDK's 3 attempts.
    let rule = mock!(Client::put_item)
        .sequence()
        .http_status(400, Some(THROTTLED.to_owned()))
        .repeatedly()
        .build();
    let db = mock_db(&[&rule], 3);
    let err = customer().put().send(&db).await.unwrap_err();
    assert!(
        matches!(&err, Error::Throttled { operation: dynamo_runtime::Operation::PutItem, table, .. } if table == TABLE),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(rule.num_calls(), 3);

    // A throttled batch chunk is reported with everything it did not write.
    let rule = mock!(Client::batch_write_item)
        .sequence()
        .http_status(400, Some(THROTTLED.to_owned()))
        .repeatedly()
        .build();
    let db = mock_db(&[&rule], 3);
    let orders: Vec<Order> = (0..30).map(order).collect();
    let err = Order::batch_put(&orders).send(&db).await.unwrap_err();
    let Error::Unprocessed {
        unprocessed, cause, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(unprocessed.len(), 30);
    assert!(
        matches!(cause.as_deref(), Some(Error::Throttled { .. })),
        "{err}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_by_the_sdk_and_then_a_service_error() {
    let rule = mock!(Client::put_item)
        .sequence()
        .http_status(500, None)
        .output(|| PutItemOutput::builder().build())
        .build();
    let db = mock_db(&[&rule], 3);
    customer().put().send(&db).await.unwrap();
    assert_eq!(rule.num_calls(), 2);

    let rule = mock!(Client::put_item)
        .sequence()
        .http_status(503, None)
        .repeatedly()
        .build();
    let db = mock_db(&[&rule], 3);
    let err = customer().put().send(&db).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service {
                operation: dynamo_runtime::Operation::PutItem,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(rule.num_calls(), 3);
}

fn canceled(codes: &[&str]) -> TransactWriteItemsError {
    let mut error = TransactionCanceledException::builder().message("Transaction cancelled");
    for code in codes {
        error = error.cancellation_reasons(CancellationReason::builder().code(*code).build());
    }
    TransactWriteItemsError::TransactionCanceledException(error.build())
}

#[tokio::test]
async fn transactions_are_retried_only_when_every_reason_is_a_conflict() {
    // Conflicts twice, then committed: three sends.
    let rule = mock!(Client::transact_write_items)
        .sequence()
        .error(|| canceled(&["None", "TransactionConflict"]))
        .times(2)
        .output(|| TransactWriteItemsOutput::builder().build())
        .build();
    let db = mock_db(&[&rule], 5);
    let order = order(1);
    db.transact()
        .put(&customer())
        .put(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 3);

    // A failed condition is never retried, and its reason names the action.
    let rule = mock!(Client::transact_write_items)
        .sequence()
        .error(|| canceled(&["TransactionConflict", "ConditionalCheckFailed"]))
        .repeatedly()
        .build();
    let db = mock_db(&[&rule], 5);
    let err = db
        .transact()
        .put(&customer())
        .condition_check(order.key(), |f| f.total_cents.gt(0))
        .send()
        .await
        .unwrap_err();
    assert_eq!(rule.num_calls(), 1);
    let Error::TransactionCanceled { reasons } = &err else {
        panic!("{err}")
    };
    let reason = reasons[1].as_ref().unwrap();
    assert_eq!(reason.code, "ConditionalCheckFailed");
    assert_eq!(reason.item_type, "Order");
    assert!(!err.is_retryable());

    // Conflicts on every attempt: the policy's budget, then the error.
    let rule = mock!(Client::transact_write_items)
        .sequence()
        .error(|| canceled(&["TransactionConflict"]))
        .repeatedly()
        .build();
    let db = mock_db(&[&rule], 4);
    let err = db.transact().put(&customer()).send().await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(rule.num_calls(), 4);
}

#[tokio::test]
async fn retry_policies_shape_the_delays() {
    // The custom policy sees every retry number of a chunk that never
    // completes, and the error reports the budget.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let policy = RetryPolicy::custom(move |retry| {
        log.lock().unwrap().push(retry);
        Duration::ZERO
    })
    .attempts(5);
    let store = Store::default();
    let rule = batch_write_rule(&store, Some("ORDER#2024-01-01#o000"));
    let client: Client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[&rule]);
    let db = Db::from_client(client).with_retry(policy);
    let err = Order::batch_put(&[order(0)]).send(&db).await.unwrap_err();
    assert!(
        matches!(err, Error::Unprocessed { attempts: 5, .. }),
        "{err}"
    );
    assert_eq!(*seen.lock().unwrap(), [1, 2, 3, 4]);
    assert_eq!(rule.num_calls(), 5);
}

/// Counts requests between the start and the end of their execution.
#[derive(Debug, Clone, Default)]
struct InFlight {
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl Intercept for InFlight {
    fn name(&self) -> &'static str {
        "InFlight"
    }

    fn read_before_execution(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let current = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(current, Ordering::SeqCst);
        Ok(())
    }

    fn read_after_execution(
        &self,
        _: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.now.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The most PutItem requests in flight at once, over 12 puts from 12 tasks
/// on 4 threads, with `limit` requests allowed in flight.
async fn most_in_flight(limit: Option<usize>) -> usize {
    let counter = InFlight::default();
    let rule = mock!(Client::put_item).then_compute_output(move |_| {
        // Holds the request (and its thread), as a slow server would.
        std::thread::sleep(Duration::from_millis(20));
        PutItemOutput::builder().build()
    });
    let interceptor = counter.clone();
    let client: Client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[&rule], |c| c
        .interceptor(interceptor.clone()));
    let mut db = Db::from_client(client);
    if let Some(limit) = limit {
        db = db.with_max_in_flight(limit);
    }
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { customer().put().send(&db).await.unwrap() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(rule.num_calls(), 12);
    counter.most.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_in_flight_limit_bounds_concurrent_requests() {
    assert!(
        most_in_flight(None).await > 2,
        "without a limit, requests overlap"
    );
    assert_eq!(most_in_flight(Some(2)).await, 2);
    assert_eq!(most_in_flight(Some(1)).await, 1);
}
