//! Tracing: one span per operation, with what it cost, and the request and
//! response payloads at debug level.
//!
//! Each operation (a get, a put, one page of a query or scan with every
//! request it takes to fill it, a count, a batch with every chunk and
//! retry, a transaction) runs in an INFO span named `dynamodb` with fields
//! `operation`, `table`, `item_type`, and, when it ends, `items`,
//! `requests`, `consumed_capacity` (read plus write units, as DynamoDB
//! reports them) and `latency_ms`. A DEBUG event then repeats them.
//!
//! The JSON body of every request and response is logged at DEBUG with
//! target `dynamo_runtime::payload`. Only bodies are logged: the signed
//! headers, where credentials live, never are.

use std::{
    sync::atomic::{AtomicU32, AtomicU64, Ordering},
    time::Instant,
};

use aws_sdk_dynamodb::{
    config::{
        ConfigBag, Intercept, RuntimeComponents,
        interceptors::{
            AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
        },
    },
    error::SdkError,
    operation::{
        batch_get_item::BatchGetItemOutput, batch_write_item::BatchWriteItemOutput,
        delete_item::DeleteItemOutput, execute_statement::ExecuteStatementOutput,
        get_item::GetItemOutput, put_item::PutItemOutput, query::QueryOutput, scan::ScanOutput,
        transact_get_items::TransactGetItemsOutput, transact_write_items::TransactWriteItemsOutput,
        update_item::UpdateItemOutput,
    },
    types::{ConsumedCapacity, ReturnConsumedCapacity},
};
use tracing::{Span, field::Empty};

use crate::Db;
use crate::Operation;

/// The target of payload events.
pub const PAYLOAD_TARGET: &str = "dynamo_runtime::payload";

/// The span of one operation; `table` is the physical name.
pub(crate) fn span(operation: Operation, table: &str, item_type: &'static str) -> Span {
    tracing::info_span!(
        "dynamodb",
        operation = operation.name(),
        table,
        item_type,
        items = Empty,
        requests = Empty,
        consumed_capacity = Empty,
        latency_ms = Empty,
    )
}

/// Counts the requests and capacity of one operation (whose requests may
/// be in flight together) and records them on its span when it ends.
#[derive(Debug)]
pub(crate) struct Meter<'a> {
    target: Target<'a>,
    span: Span,
    start: Instant,
    requests: AtomicU32,
    /// The bits of an `f64`.
    capacity: AtomicU64,
    /// The read budget its requests keep to.
    budget: Option<crate::ReadBudget>,
}

/// What a meter's requests are, for the handle's hooks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) operation: Operation,
    pub(crate) table: &'a str,
    pub(crate) item_type: &'a str,
}

impl<'a> Meter<'a> {
    pub(crate) fn new(
        span: &Span,
        operation: Operation,
        table: &'a str,
        item_type: &'a str,
    ) -> Meter<'a> {
        Meter {
            target: Target {
                operation,
                table,
                item_type,
            },
            span: span.clone(),
            start: Instant::now(),
            requests: AtomicU32::new(0),
            capacity: AtomicU64::new(0f64.to_bits()),
            budget: None,
        }
    }

    /// A meter whose requests keep to `budget`: each waits until the
    /// budget is paid back, and spends what its response reports.
    pub(crate) fn paced(
        span: &Span,
        operation: Operation,
        table: &'a str,
        item_type: &'a str,
        budget: Option<&crate::ReadBudget>,
    ) -> Meter<'a> {
        Meter {
            budget: budget.cloned(),
            ..Meter::new(span, operation, table, item_type)
        }
    }

    /// Sends one request: waits for an in-flight slot, then counts it and
    /// the capacity its response reports.
    pub(crate) async fn send<T: Consumed, E, R>(
        &self,
        db: &Db,
        request: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, SdkError<E, R>> {
        if let Some(budget) = &self.budget {
            budget.wait().await;
        }
        let permit = db.permit().await;
        let Target {
            operation,
            table,
            item_type,
        } = self.target;
        let hooks = db.hooks();
        let sent = hooks.map(|hooks| {
            hooks.before_send(&crate::Sending {
                operation,
                table,
                item_type,
            });
            Instant::now()
        });
        let result = request.await;
        drop(permit);
        if let (Some(hooks), Some(sent)) = (hooks, sent) {
            hooks.after_receive(&crate::Received {
                operation,
                table,
                item_type,
                consumed_capacity: result.as_ref().map_or(0.0, |out| out.consumed()),
                latency: sent.elapsed(),
                succeeded: result.is_ok(),
            });
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        if let Ok(out) = &result {
            let units = out.consumed();
            if let Some(budget) = &self.budget {
                budget.spend(units);
            }
            // Only fails when the closure returns None, which it never does.
            let _ = self
                .capacity
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                    Some((f64::from_bits(bits) + units).to_bits())
                });
        }
        result
    }

    /// What to ask DynamoDB for: the capacity a request consumed only when
    /// a subscriber records this operation's span (`consumed_capacity`),
    /// since DynamoDB then adds it to every response.
    pub(crate) fn capacity(&self) -> Option<ReturnConsumedCapacity> {
        (self.budget.is_some() || !self.span.is_disabled()).then_some(ReturnConsumedCapacity::Total)
    }

    /// Records the totals on the span, with `items` read or written.
    pub(crate) fn finish(&self, items: usize) {
        let latency_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        let requests = self.requests.load(Ordering::Relaxed);
        let consumed_capacity = f64::from_bits(self.capacity.load(Ordering::Relaxed));
        self.span.record("items", items);
        self.span.record("requests", requests);
        self.span.record("consumed_capacity", consumed_capacity);
        self.span.record("latency_ms", latency_ms);
        self.span.in_scope(|| {
            tracing::debug!(items, requests, consumed_capacity, latency_ms, "done");
        });
    }
}

/// Capacity units a response reports (requested with
/// `ReturnConsumedCapacity::Total` when [`Meter::capacity`] says so; 0
/// when not requested).
pub(crate) trait Consumed {
    fn consumed(&self) -> f64;
}

fn units(capacity: &ConsumedCapacity) -> f64 {
    capacity.capacity_units().unwrap_or_else(|| {
        capacity.read_capacity_units().unwrap_or(0.0)
            + capacity.write_capacity_units().unwrap_or(0.0)
    })
}

macro_rules! consumed {
    (one: $($output:ty),*) => {$(
        impl Consumed for $output {
            fn consumed(&self) -> f64 {
                self.consumed_capacity().map(units).unwrap_or(0.0)
            }
        }
    )*};
    (many: $($output:ty),*) => {$(
        impl Consumed for $output {
            fn consumed(&self) -> f64 {
                self.consumed_capacity().iter().map(units).sum()
            }
        }
    )*};
}

consumed!(one: GetItemOutput, PutItemOutput, DeleteItemOutput, UpdateItemOutput, QueryOutput, ScanOutput, ExecuteStatementOutput);
consumed!(many: BatchGetItemOutput, BatchWriteItemOutput, TransactGetItemsOutput, TransactWriteItemsOutput);

/// The SDK interceptor that logs request and response bodies at DEBUG.
#[derive(Debug)]
pub(crate) struct PayloadLog;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Intercept for PayloadLog {
    fn name(&self) -> &'static str {
        "dynamo_runtime::PayloadLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if tracing::enabled!(target: PAYLOAD_TARGET, tracing::Level::DEBUG)
            && let Some(body) = context.request().body().bytes()
        {
            tracing::debug!(target: PAYLOAD_TARGET, request = %String::from_utf8_lossy(body));
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if tracing::enabled!(target: PAYLOAD_TARGET, tracing::Level::DEBUG)
            && let Some(body) = context.response().body().bytes()
        {
            tracing::debug!(
                target: PAYLOAD_TARGET,
                status = context.response().status().as_u16(),
                response = %String::from_utf8_lossy(body)
            );
        }
        Ok(())
    }
}
