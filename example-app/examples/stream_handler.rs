//! A Lambda function that the shop table's stream triggers: each record of
//! the event is decoded into `shop::AnyItem` (the item before and after
//! the change, typed), and an order that ships is logged.
//!
//! Build it for Lambda with `cargo lambda build --release --example
//! stream_handler -p example-app` (or any builder of `provided.al2023`
//! binaries), and map the table's stream to it with
//! `FunctionResponseTypes: [ReportBatchItemFailures]`: a record that does
//! not decode is reported back, so Lambda retries from it instead of
//! dropping it. The tests crate decodes the same kind of event
//! (`tests/fixtures/streams/shop_event.json`) in `tests/tests/streams.rs`.

use aws_lambda_events::event::{
    dynamodb::Event,
    streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse},
};
use dynamo_runtime::{Change, ChangeKind, StreamRecord};
use example_app::shop::{AnyItem, OrderStatus};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(handle(event.payload))
    }))
    .await
}

/// Handles the records in order. The first that fails to decode is
/// reported as the batch's failure: Lambda then retries it and the records
/// after it (they are not lost), and the error names the item type and
/// attribute that did not fit.
fn handle(event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in event.records {
        let sequence_number = record.change.sequence_number.clone();
        match StreamRecord::try_from(record).and_then(StreamRecord::decode::<AnyItem>) {
            Ok(change) => on_change(&change),
            Err(e) => {
                eprintln!("record {sequence_number:?}: {e}");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = sequence_number;
                response.batch_item_failures.push(failure);
                break;
            }
        }
    }
    response
}

/// What the function does with one change: logs shipped orders.
fn on_change(change: &Change<AnyItem>) {
    if let (ChangeKind::Modify, Some(AnyItem::Order(old)), Some(AnyItem::Order(new))) =
        (change.kind, &change.old, &change.new)
        && old.status != OrderStatus::Shipped
        && new.status == OrderStatus::Shipped
    {
        println!(
            "order {} of customer {} shipped ({} items)",
            new.order_id, new.customer_id, new.item_count
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The shop's stream event as AWS sends it (the tests crate's fixture).
    fn event() -> Event {
        serde_json::from_str(include_str!("../../tests/fixtures/streams/shop_event.json")).unwrap()
    }

    #[test]
    fn every_record_of_the_event_is_handled() {
        assert!(handle(event()).batch_item_failures.is_empty());
    }

    #[test]
    fn the_first_record_that_does_not_decode_is_the_batch_failure() {
        let mut event = event();
        // Another writer stored a status the schema does not know.
        let record = &mut event.records[2];
        record.change.new_image.insert(
            "status".into(),
            serde_dynamo::AttributeValue::S("lost".into()),
        );
        let failures = handle(event).batch_item_failures;
        assert_eq!(failures.len(), 1);
        assert_eq!(
            failures[0].item_identifier.as_deref(),
            Some("100000000000000000003")
        );
    }
}
