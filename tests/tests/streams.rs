//! DynamoDB Streams, typed: writes, updates and deletes through generated
//! code, read back from DynamoDB Local's stream with `StreamReader`
//! (aws-sdk-dynamodbstreams `GetRecords`) and decoded into `shop::AnyItem`;
//! a keys-only stream decoded into typed keys; a Lambda event JSON, as AWS
//! sends it, decoded through aws_lambda_events.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::Duration;

use dynamo_runtime::{
    AttributeValue, Attributes, ChangeKind, DecodeErrorKind, Error, Item, StreamRecord,
    stream::{Checkpoint, StartAt, StreamReader},
};
use dynamo_tests::{
    customer, fixtures,
    shop::{AnyItem, AnyKey, CustomerKey, Order, OrderKey, OrderStatus},
    shop_db,
};
use futures_util::StreamExt;

fn order(id: &str) -> Order {
    Order {
        customer_id: "c1".into(),
        order_id: id.into(),
        placed_on: "2024-03-01".into(),
        total_cents: -250,
        item_count: 3,
        weight_kg: Some(1.25),
        rating: None,
        status: OrderStatus::Placed,
        tags: ["gift".to_owned()].into(),
        unmodeled: Default::default(),
    }
}

fn order_key(id: &str) -> OrderKey {
    order(id).key()
}

fn kinds(changes: &[dynamo_runtime::Change<AnyItem>]) -> Vec<ChangeKind> {
    changes.iter().map(|c| c.kind).collect()
}

#[tokio::test]
async fn writes_updates_and_deletes_come_back_typed_in_order() {
    let db = shop_db("stream_typed").await;
    let mut reader = StreamReader::for_table(&db, &dynamo_tests::shop::TABLE)
        .await
        .unwrap();

    let ann = customer("c1");
    ann.put().send(&db).await.unwrap();
    order("o1").put().send(&db).await.unwrap();
    Order::update(order_key("o1"))
        .set_status(OrderStatus::Shipped)
        .set(|f| f.rating, 5)
        .send(&db)
        .await
        .unwrap();
    Order::delete(order_key("o1")).send(&db).await.unwrap();

    let records = reader.read_available().await.unwrap();
    assert!(records.iter().all(|r| r.shard_id.is_some()));
    let changes: Vec<_> = records
        .into_iter()
        .map(|r| r.decode::<AnyItem>().unwrap())
        .collect();
    assert_eq!(
        kinds(&changes),
        [
            ChangeKind::Insert,
            ChangeKind::Insert,
            ChangeKind::Modify,
            ChangeKind::Remove
        ]
    );
    // Sequence numbers grow within the shard.
    let numbers: Vec<u128> = changes
        .iter()
        .map(|c| c.sequence_number.parse().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");

    let [insert_customer, insert_order, modify, remove] = &changes[..] else {
        unreachable!()
    };
    assert_eq!(insert_customer.new, Some(AnyItem::Customer(ann.clone())));
    assert_eq!(insert_customer.old, None);
    assert_eq!(
        insert_customer.key,
        AnyKey::Customer(CustomerKey { id: "c1".into() })
    );
    assert_eq!(insert_order.new, Some(AnyItem::Order(order("o1"))));
    assert!(insert_order.created_at.is_some());
    assert!(!remove.by_ttl, "a delete by the app is not TTL's");

    // The update: the old image as written, the new one with the changes.
    let mut shipped = order("o1");
    shipped.status = OrderStatus::Shipped;
    shipped.rating = Some(5);
    assert_eq!(modify.old, Some(AnyItem::Order(order("o1"))));
    assert_eq!(modify.new, Some(AnyItem::Order(shipped.clone())));
    assert_eq!(modify.key, AnyKey::Order(order_key("o1")));

    // The delete: the item as it was, no new image.
    assert_eq!(remove.old, Some(AnyItem::Order(shipped)));
    assert_eq!(remove.new, None);
    assert_eq!(remove.key, AnyKey::Order(order_key("o1")));

    // Nothing more until something is written.
    assert!(reader.read_available().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_reader_resumes_after_its_checkpoint() {
    let db = shop_db("stream_resume").await;
    let table = &dynamo_tests::shop::TABLE;
    let mut first = StreamReader::for_table(&db, table).await.unwrap();
    order("o1").put().send(&db).await.unwrap();
    order("o2").put().send(&db).await.unwrap();
    assert_eq!(first.read_available().await.unwrap().len(), 2);
    // The checkpoint as an app would save it, then a restart.
    let saved = first.checkpoint().to_string();
    drop(first);

    order("o3").put().send(&db).await.unwrap();
    Order::delete(order_key("o1")).send(&db).await.unwrap();
    let mut resumed = StreamReader::for_table(&db, table)
        .await
        .unwrap()
        .resume(saved.parse::<Checkpoint>().unwrap());
    let changes: Vec<_> = resumed
        .read_available()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.decode::<AnyItem>().unwrap())
        .collect();
    assert_eq!(kinds(&changes), [ChangeKind::Insert, ChangeKind::Remove]);
    assert_eq!(changes[0].key, AnyKey::Order(order_key("o3")));
    assert_eq!(changes[1].key, AnyKey::Order(order_key("o1")));

    // A reader from the oldest record sees all four; one from the latest
    // sees only what comes after its first read.
    let mut oldest = StreamReader::for_table(&db, table).await.unwrap();
    assert_eq!(oldest.read_available().await.unwrap().len(), 4);
    let mut latest = StreamReader::for_table(&db, table)
        .await
        .unwrap()
        .start_at(StartAt::Latest);
    assert!(latest.read_available().await.unwrap().is_empty());
    order("o4").put().send(&db).await.unwrap();
    let after = latest.read_available().await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(
        after[0].clone().decode::<AnyItem>().unwrap().key,
        AnyKey::Order(order_key("o4"))
    );
}

#[tokio::test]
async fn follow_yields_records_as_they_are_written() {
    let db = shop_db("stream_follow").await;
    let reader = StreamReader::for_table(&db, &dynamo_tests::shop::TABLE)
        .await
        .unwrap();
    let follow = reader.follow(Duration::from_millis(50));
    let writer = {
        let db = db.clone();
        tokio::spawn(async move {
            for id in ["o1", "o2", "o3"] {
                order(id).put().send(&db).await.unwrap();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let records: Vec<StreamRecord> = tokio::time::timeout(
        Duration::from_secs(30),
        follow.take(3).map(Result::unwrap).collect(),
    )
    .await
    .expect("three records within 30 s");
    writer.await.unwrap();
    let keys: Vec<_> = records
        .into_iter()
        .map(|r| r.decode::<Order>().unwrap().key)
        .collect();
    assert_eq!(keys, [order_key("o1"), order_key("o2"), order_key("o3")]);
}

#[tokio::test]
async fn a_keys_only_stream_decodes_typed_keys() {
    use fixtures::every_step::shop::{Order as Placed, OrderKey as PlacedKey, OrderStatus as S};
    let db = dynamo_tests::local_db("stream_keys_only").await;
    let table = &fixtures::every_step::shop::TABLE;
    assert!(table.create(&db).await.unwrap());
    let mut reader = StreamReader::for_table(&db, table).await.unwrap();
    let placed = Placed {
        customer_id: "c1".into(),
        order_id: "o1".into(),
        status: S::Open,
        created_at: "2024-03-01T10:00:00Z".parse().unwrap(),
        expires_at: None,
        unmodeled: Default::default(),
    };
    placed.put().send(&db).await.unwrap();
    Placed::delete(placed.key()).send(&db).await.unwrap();
    let changes: Vec<_> = reader
        .read_available()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.decode::<Placed>().unwrap())
        .collect();
    assert_eq!(changes.len(), 2);
    for change in &changes {
        assert_eq!((&change.old, &change.new), (&None, &None), "keys only");
        assert_eq!(
            change.key,
            PlacedKey {
                customer_id: "c1".into(),
                order_id: "o1".into()
            }
        );
    }
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.into())
}

fn keys_only(pk: &str, sk: &str) -> StreamRecord {
    StreamRecord {
        kind: ChangeKind::Remove,
        keys: Attributes::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))]),
        new_image: None,
        old_image: None,
        sequence_number: "1".into(),
        created_at: None,
        by_ttl: false,
        shard_id: None,
    }
}

#[test]
fn keys_alone_tell_the_item_types_apart_by_their_templates() {
    let change = keys_only("CUSTOMER#c1", "ORDER#2024-03-01#o1")
        .decode::<AnyItem>()
        .unwrap();
    assert_eq!(change.key, AnyKey::Order(order_key("o1")));
    let change = keys_only("CUSTOMER#c1", "PROFILE")
        .decode::<AnyItem>()
        .unwrap();
    assert_eq!(
        change.key,
        AnyKey::Customer(CustomerKey { id: "c1".into() })
    );

    // A key of no item type is an error naming the key, never a guess.
    let Error::Decode(e) = keys_only("COUPON#x", "COUPON")
        .decode::<AnyItem>()
        .unwrap_err()
    else {
        panic!("a decode error")
    };
    assert_eq!((e.item_type, e.attribute.as_str()), ("shop::AnyItem", "pk"));
    assert_eq!(
        e.kind,
        DecodeErrorKind::UnknownKey {
            value: "COUPON#x".into()
        }
    );
    // Decoding as one item type: another type's keys are not its own.
    let Error::Decode(e) = keys_only("CUSTOMER#c1", "PROFILE")
        .decode::<Order>()
        .unwrap_err()
    else {
        panic!("a decode error")
    };
    assert_eq!(e.item_type, "Order");
}

#[test]
fn images_decode_with_the_errors_reads_give() {
    let mut image: Attributes = order("o1").encode().unwrap();
    let mut record = keys_only("CUSTOMER#c1", "ORDER#2024-03-01#o1");
    record.kind = ChangeKind::Insert;

    image.insert("status".into(), s("lost"));
    record.new_image = Some(image.clone());
    let Error::Decode(e) = record.clone().decode::<AnyItem>().unwrap_err() else {
        panic!("a decode error")
    };
    assert_eq!((e.item_type, e.attribute.as_str()), ("Order", "status"));
    assert!(matches!(e.kind, DecodeErrorKind::UnknownVariant { .. }));

    image.insert("_type".into(), s("Coupon"));
    record.new_image = Some(image);
    let Error::Decode(e) = record.decode::<AnyItem>().unwrap_err() else {
        panic!("a decode error")
    };
    assert_eq!(e.attribute, "_type");
    assert_eq!(
        e.kind,
        DecodeErrorKind::UnknownItemType {
            found: Some("Coupon".into()),
            expected: vec!["Customer", "Order", "Product"]
        }
    );
}

/// The event a Lambda function a stream triggers receives, as AWS sends
/// it, through aws_lambda_events.
#[test]
fn a_lambda_event_decodes_typed() {
    use aws_lambda_events::event::dynamodb::Event;
    let event: Event =
        serde_json::from_str(include_str!("../fixtures/streams/shop_event.json")).unwrap();
    let changes: Vec<_> = event
        .records
        .into_iter()
        .map(|r| {
            StreamRecord::try_from(r)
                .unwrap()
                .decode::<AnyItem>()
                .unwrap()
        })
        .collect();
    assert_eq!(
        kinds(&changes),
        [
            ChangeKind::Insert,
            ChangeKind::Insert,
            ChangeKind::Modify,
            ChangeKind::Remove
        ]
    );
    let Some(AnyItem::Customer(ann)) = &changes[0].new else {
        panic!("a customer: {:?}", changes[0].new)
    };
    assert_eq!(ann.name.as_deref(), Some("Ann"));
    assert_eq!(ann.loyalty_points, 1200);
    // Another writer's attribute is kept, as on a read.
    assert_eq!(
        ann.unmodeled.attributes().get("nickname"),
        Some(&s("written by another service"))
    );
    assert_eq!(
        changes[0].created_at,
        Some("2024-03-01T10:00:00Z".parse().unwrap())
    );

    let mut o1 = order("o1");
    o1.tags = ["gift".to_owned(), "express".to_owned()].into();
    assert_eq!(changes[1].new, Some(AnyItem::Order(o1.clone())));
    assert_eq!(changes[2].old, Some(AnyItem::Order(o1.clone())));
    let Some(AnyItem::Order(shipped)) = &changes[2].new else {
        panic!("an order")
    };
    // NULL from another writer reads as an absent optional field.
    assert_eq!(
        (shipped.status, shipped.rating, shipped.weight_kg),
        (OrderStatus::Shipped, Some(5), None)
    );
    assert_eq!(
        changes[2].created_at,
        Some("2024-03-01T11:00:00Z".parse().unwrap())
    );
    // The TTL deletion is told apart from a delete by the app.
    assert!(changes[3].by_ttl);
    assert_eq!(changes[3].key, AnyKey::Order(order_key("o1")));
    assert_eq!(changes[3].new, None);
    assert_eq!(changes[3].sequence_number, "100000000000000000004");
}

#[tokio::test]
async fn a_reader_at_the_latest_record_of_an_empty_stream_reads_what_comes() {
    let db = shop_db("stream_latest_empty").await;
    let mut latest = StreamReader::for_table(&db, &dynamo_tests::shop::TABLE)
        .await
        .unwrap()
        .start_at(StartAt::Latest);
    assert!(latest.read_available().await.unwrap().is_empty());
    order("o1").put().send(&db).await.unwrap();
    let after = latest.read_available().await.unwrap();
    assert_eq!(after.len(), 1);
}

/// A stream a migration turned on for an existing table (as
/// `0003_shop_stream.toml` does), read from its latest record by an app at
/// start-up, as the example does.
#[tokio::test]
async fn a_stream_a_migration_turned_on_reads_from_its_latest_record() {
    let db = dynamo_tests::local_db("stream_migrated").await;
    dynamo_tests::migrations::run(&db).await.unwrap();
    let mut latest = StreamReader::for_table(&db, &dynamo_tests::shop::TABLE)
        .await
        .unwrap()
        .start_at(StartAt::Latest);
    assert!(latest.read_available().await.unwrap().is_empty());
    for id in ["o1", "o2", "o3"] {
        order(id).put().send(&db).await.unwrap();
    }
    let keys: Vec<_> = latest
        .read_available()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.decode::<Order>().unwrap().key)
        .collect();
    assert_eq!(keys, [order_key("o1"), order_key("o2"), order_key("o3")]);
}
