//! What the runtime asks DynamoDB for: only what something reads.
//!
//! A test binary of its own: tracing caches per call site whether anyone
//! listens, and the test installs a scoped subscriber for part of it.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::{Arc, Mutex};

use dynamo_runtime::Db;
use dynamo_tests::{
    customer,
    shop::{Customer, Order, TABLE},
};

/// Records the body of every request the SDK sends.
#[derive(Debug, Clone, Default)]
struct Bodies(Arc<Mutex<Vec<String>>>);

impl aws_sdk_dynamodb::config::Intercept for Bodies {
    fn name(&self) -> &'static str {
        "Bodies"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        if let Some(body) = context.request().body().bytes() {
            self.0
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(body).into_owned());
        }
        Ok(())
    }
}

impl Bodies {
    /// The bodies recorded since the last call.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// DynamoDB adds consumed capacity to a response, and the old item to a
/// failed condition's error, only when asked; the runtime asks only when
/// something reads them: capacity when a subscriber records the operation's
/// span, old items when a write has a condition (the typed error carries
/// it) or the caller asked for them (`return_old`).
#[tokio::test]
async fn requests_ask_only_for_what_is_read() {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

    let endpoint = std::env::var(dynamo_tests::ENDPOINT_ENV).unwrap();
    let bodies = Bodies::default();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "test"))
        .interceptor(bodies.clone())
        .build();
    let db = Db::from_client(aws_sdk_dynamodb::Client::from_conf(config))
        .with_namespace(format!("t{}_asks", std::process::id()))
        .unwrap();
    TABLE.create(&db).await.unwrap();
    bodies.take();

    // Without a subscriber: no capacity, and no old item for writes
    // without a condition.
    let customers: Vec<Customer> = (0..3).map(|i| customer(&format!("a{i}"))).collect();
    customers[0].put().send(&db).await.unwrap();
    Customer::get(customers[0].key()).send(&db).await.unwrap();
    Customer::delete(customers[0].key())
        .send(&db)
        .await
        .unwrap();
    Customer::batch_put(&customers).send(&db).await.unwrap();
    Customer::batch_get(customers.iter().map(Customer::key))
        .send(&db)
        .await
        .unwrap();
    Order::query("a1").all(&db).await.unwrap();
    Customer::scan().all(&db).await.unwrap();
    let sent = bodies.take();
    assert_eq!(sent.len(), 7, "{sent:#?}");
    for body in &sent {
        assert!(!body.contains("ReturnConsumedCapacity"), "{body}");
        assert!(
            !body.contains("ReturnValuesOnConditionCheckFailure"),
            "{body}"
        );
        assert!(!body.contains("\"ReturnValues\""), "{body}");
    }

    // A condition, or `return_old`, asks for the old item.
    customers[1]
        .put()
        .if_not_exists()
        .send(&db)
        .await
        .unwrap_err();
    customers[1].put().return_old().send(&db).await.unwrap();
    let sent = bodies.take();
    assert!(
        sent[0].contains(r#""ReturnValuesOnConditionCheckFailure":"ALL_OLD""#),
        "{}",
        sent[0]
    );
    assert!(
        sent[1].contains(r#""ReturnValues":"ALL_OLD""#),
        "{}",
        sent[1]
    );

    // A subscriber that records the spans gets their capacity.
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::sink)
        .finish();
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        Customer::get(customers[1].key()).send(&db).await.unwrap();
        Customer::batch_put(&customers).send(&db).await.unwrap();
    }
    for body in bodies.take() {
        assert!(
            body.contains(r#""ReturnConsumedCapacity":"TOTAL""#),
            "{body}"
        );
    }
}
