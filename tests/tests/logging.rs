//! The operation log: one span per operation with its cost, and request and
//! response payloads at debug level, never credentials.
//!
//! A test binary of its own: tracing caches per call site whether anyone
//! listens, and tests on other threads without a subscriber would race
//! with the scoped subscriber this test installs.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use dynamo_runtime::{Db, RetryPolicy};
use dynamo_tests::{
    customer,
    shop::{Customer, CustomerKey, Order, TABLE},
};

/// A `Write` into a shared buffer, for capturing log output.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn each_operation_logs_a_span_with_capacity_and_latency_and_payloads_at_debug() {
    use tracing_subscriber::fmt::format::FmtSpan;

    let endpoint = std::env::var(dynamo_tests::ENDPOINT_ENV).unwrap();
    let db = Db::builder()
        .endpoint_url(endpoint)
        .region("us-east-1")
        .credentials("AKIDLOGTEST", "secret-log-test")
        .namespace(format!("t{}_log", std::process::id()))
        .retry(RetryPolicy::never())
        .build()
        .await
        .unwrap();
    TABLE.create(&db).await.unwrap();

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        customer("c1").put().send(&db).await.unwrap();
        Customer::get(CustomerKey { id: "c1".into() })
            .send(&db)
            .await
            .unwrap();
        Order::query("c1").all(&db).await.unwrap();
    }
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let table = db.table_name(&TABLE);
    for operation in ["PutItem", "GetItem", "Query"] {
        let close = log
            .lines()
            .find(|l| {
                l.contains(&format!("dynamodb{{operation=\"{operation}\""))
                    && l.contains("dynamo_runtime::log: close")
            })
            .unwrap_or_else(|| panic!("no span of {operation} in\n{log}"));
        assert!(close.contains(&format!("table=\"{table}\"")), "{close}");
        assert!(close.contains("consumed_capacity="), "{close}");
        assert!(close.contains("latency_ms="), "{close}");
        assert!(close.contains("requests=1"), "{close}");
    }
    // Payloads at debug: the request body and the response body.
    assert!(log.contains(&format!(r#""TableName":"{table}""#)), "{log}");
    assert!(log.contains(r#""S":"c1@example.com""#), "{log}");
    assert!(log.contains("response="), "{log}");
    // Never credentials.
    assert!(!log.contains("AKIDLOGTEST"), "{log}");
    assert!(!log.contains("secret-log-test"), "{log}");
}
