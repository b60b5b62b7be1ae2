//! End-to-end: generated code against a real DynamoDB Local.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use dynamo_runtime::{DecodeErrorKind, Error, Item, KeyErrorKind};
use dynamo_tests::{
    customer,
    fixtures::keys::events_v1::{Event, EventKey},
    local_db,
    shop::{Customer, CustomerKey, Order, OrderKey, OrderStatus, TABLE},
    shop_db,
};
use futures_util::TryStreamExt;

fn order(customer_id: &str, placed_on: &str, order_id: &str) -> Order {
    Order {
        customer_id: customer_id.into(),
        order_id: order_id.into(),
        placed_on: placed_on.into(),
        total_cents: -250,
        item_count: 3,
        weight_kg: Some(1.25),
        rating: None,
        status: OrderStatus::Placed,
        tags: Default::default(),
        unmodeled: Default::default(),
    }
}

fn ids(orders: &[Order]) -> Vec<&str> {
    orders.iter().map(|o| o.order_id.as_str()).collect()
}

#[tokio::test]
async fn put_get_delete_round_trip() {
    let db = shop_db("crud").await;
    let key = CustomerKey { id: "c1".into() };
    assert_eq!(Customer::get(key.clone()).send(&db).await.unwrap(), None);

    let mut ann = customer("c1");
    ann.name = Some("Ann".into());
    ann.vip = true;
    ann.loyalty_points = u64::MAX;
    ann.put().send(&db).await.unwrap();
    let read = Customer::get(key.clone())
        .consistent()
        .send(&db)
        .await
        .unwrap();
    assert_eq!(read, Some(ann.clone()));

    // The stored item has the rendered keys and the type attribute.
    let raw = db
        .client()
        .get_item()
        .table_name(db.table_name(&TABLE))
        .set_key(Some(dynamo_runtime::Key::encode_key(&key).unwrap()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(raw["pk"], AttributeValue::S("CUSTOMER#c1".into()));
    assert_eq!(raw["sk"], AttributeValue::S("PROFILE".into()));
    assert_eq!(raw["_type"], AttributeValue::S("Customer".into()));
    assert_eq!(
        raw["loyalty_points"],
        AttributeValue::N(u64::MAX.to_string())
    );

    Customer::delete(key.clone()).send(&db).await.unwrap();
    assert_eq!(Customer::get(key.clone()).send(&db).await.unwrap(), None);
    // Deleting again is fine; demanding existence is a typed error.
    Customer::delete(key.clone()).send(&db).await.unwrap();
    let err = Customer::delete(key)
        .if_exists()
        .send(&db)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConditionFailed {
                item_type: "Customer",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn put_if_not_exists_refuses_to_overwrite() {
    let db = shop_db("ifnotexists").await;
    customer("c1")
        .put()
        .if_not_exists()
        .send(&db)
        .await
        .unwrap();
    let mut other = customer("c1");
    other.email = "other@example.com".into();
    let err = other.put().if_not_exists().send(&db).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConditionFailed {
                operation: dynamo_runtime::Operation::PutItem,
                item_type: "Customer",
                ..
            }
        ),
        "{err}"
    );
    let stored = Customer::get(CustomerKey { id: "c1".into() })
        .send(&db)
        .await
        .unwrap();
    assert_eq!(stored.unwrap().email, "c1@example.com");
}

async fn shop_with_orders(test: &str) -> dynamo_runtime::Db {
    let db = shop_db(test).await;
    customer("c1").put().send(&db).await.unwrap();
    customer("c2").put().send(&db).await.unwrap();
    for (day, id) in [
        ("2024-01-05", "o1"),
        ("2024-02-01", "o2"),
        ("2024-02-01", "o3"),
        ("2024-02-17", "o4"),
        ("2024-03-09", "o5"),
    ] {
        order("c1", day, id).put().send(&db).await.unwrap();
    }
    order("c2", "2024-02-01", "x1")
        .put()
        .send(&db)
        .await
        .unwrap();
    db
}

#[tokio::test]
async fn query_by_partition_and_sort_key_prefixes() {
    let db = shop_with_orders("query").await;

    // Only this customer's orders, in sort-key order; the profile item in the
    // same partition is not an Order.
    let all = Order::query("c1").all(&db).await.unwrap();
    assert_eq!(ids(&all), ["o1", "o2", "o3", "o4", "o5"]);
    assert_eq!(all[0], order("c1", "2024-01-05", "o1"));
    let desc = Order::query("c1").descending().all(&db).await.unwrap();
    assert_eq!(ids(&desc), ["o5", "o4", "o3", "o2", "o1"]);

    let feb = Order::query("c1")
        .placed_on()
        .begins_with("2024-02")
        .all(&db)
        .await
        .unwrap();
    assert_eq!(ids(&feb), ["o2", "o3", "o4"]);
    let first_feb = Order::query("c1")
        .placed_on()
        .eq("2024-02-01")
        .all(&db)
        .await
        .unwrap();
    assert_eq!(ids(&first_feb), ["o2", "o3"]);
    let exact = Order::query("c1")
        .order_id("2024-02-01")
        .eq("o3")
        .all(&db)
        .await
        .unwrap();
    assert_eq!(ids(&exact), ["o3"]);
    let by_prefix = Order::query("c1")
        .order_id("2024-02-01")
        .begins_with("o")
        .all(&db)
        .await
        .unwrap();
    assert_eq!(ids(&by_prefix), ["o2", "o3"]);

    let profile = Customer::query("c1").all(&db).await.unwrap();
    assert_eq!(profile, vec![customer("c1")]);
    assert!(Order::query("nobody").all(&db).await.unwrap().is_empty());
}

#[tokio::test]
async fn pages_and_cursors_resume_without_gaps_or_repeats() {
    let db = shop_with_orders("paging").await;

    let first = Order::query("c1").limit(2).send(&db).await.unwrap();
    assert_eq!(ids(&first.items), ["o1", "o2"]);
    let cursor = first.cursor.expect("more items follow");
    // The cursor survives a trip through text (an API's page token).
    let cursor: dynamo_runtime::Cursor = cursor.to_string().parse().unwrap();
    let second = Order::query("c1")
        .limit(2)
        .after(cursor)
        .send(&db)
        .await
        .unwrap();
    assert_eq!(ids(&second.items), ["o3", "o4"]);
    let third = Order::query("c1")
        .limit(2)
        .after(second.cursor.unwrap())
        .send(&db)
        .await
        .unwrap();
    assert_eq!(ids(&third.items), ["o5"]);
    assert_eq!(third.cursor, None);

    // A page size of 1 makes every request return one item; `limit` still
    // gathers exactly 4 across requests.
    let four = Order::query("c1")
        .page_size(1)
        .limit(4)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(ids(&four), ["o1", "o2", "o3", "o4"]);
    let streamed: Vec<Order> = Order::query("c1")
        .page_size(2)
        .stream(&db)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&streamed), ["o1", "o2", "o3", "o4", "o5"]);

    // Without `limit`, `send` returns one DynamoDB response: with page size 1
    // that is one order and a cursor, however many follow.
    let one = Order::query("c1").page_size(1).send(&db).await.unwrap();
    assert_eq!(ids(&one.items), ["o1"]);
    assert!(one.cursor.is_some());

    let bogus: dynamo_runtime::Cursor = "bm90LWEta2V5".parse().unwrap();
    let err = Order::query("c1").after(bogus).send(&db).await.unwrap_err();
    assert!(matches!(err, Error::InvalidCursor { .. }), "{err}");
}

#[tokio::test]
async fn corrupted_items_fail_to_decode_with_the_item_type_and_attribute() {
    let db = shop_db("corrupt").await;
    let good = order("c1", "2024-01-05", "o1");
    good.put().send(&db).await.unwrap();
    let key = OrderKey {
        customer_id: "c1".into(),
        placed_on: "2024-01-05".into(),
        order_id: "o1".into(),
    };
    let table = db.table_name(&TABLE);
    let mut raw: HashMap<String, AttributeValue> = good.encode().unwrap();

    let mut wrong_type = raw.clone();
    wrong_type.insert("total_cents".into(), AttributeValue::S("lots".into()));
    db.client()
        .put_item()
        .table_name(&table)
        .set_item(Some(wrong_type))
        .send()
        .await
        .unwrap();
    let err = Order::get(key.clone()).send(&db).await.unwrap_err();
    let Error::Decode(decode) = &err else {
        panic!("expected a decode error, got {err}")
    };
    assert_eq!(decode.item_type, "Order");
    assert_eq!(decode.attribute, "total_cents");
    assert_eq!(
        decode.kind,
        DecodeErrorKind::WrongType {
            expected: "N",
            found: "S"
        }
    );
    assert_eq!(
        err.to_string(),
        "cannot decode `Order`: attribute `total_cents` has type S, expected N"
    );

    let mut out_of_range = raw.clone();
    out_of_range.insert("item_count".into(), AttributeValue::N("-1".into()));
    db.client()
        .put_item()
        .table_name(&table)
        .set_item(Some(out_of_range))
        .send()
        .await
        .unwrap();
    let err = Order::query("c1").all(&db).await.unwrap_err();
    assert!(
        matches!(&err, Error::Decode(d) if d.attribute == "item_count"
            && d.kind == DecodeErrorKind::InvalidNumber { value: "-1".into(), rust_type: "u32" }),
        "{err}"
    );

    raw.remove("placed_on");
    db.client()
        .put_item()
        .table_name(&table)
        .set_item(Some(raw.clone()))
        .send()
        .await
        .unwrap();
    let err = Order::get(key.clone()).send(&db).await.unwrap_err();
    assert!(
        matches!(&err, Error::Decode(d) if d.attribute == "placed_on" && d.kind == DecodeErrorKind::Missing),
        "{err}"
    );

    // An item of another type under this key is not silently read as an Order.
    raw.insert("_type".into(), AttributeValue::S("Customer".into()));
    db.client()
        .put_item()
        .table_name(&table)
        .set_item(Some(raw))
        .send()
        .await
        .unwrap();
    let err = Order::get(key).send(&db).await.unwrap_err();
    assert!(
        matches!(&err, Error::Decode(d) if d.attribute == "_type"
            && d.kind == DecodeErrorKind::WrongItemType { found: "Customer".into() }),
        "{err}"
    );
}

#[tokio::test]
async fn invalid_key_values_are_typed_errors_before_any_request() {
    let db = shop_db("keys").await;
    let mut nameless = customer("");
    nameless.email = "someone@example.com".into();
    let err = nameless.put().send(&db).await.unwrap_err();
    assert!(
        matches!(&err, Error::Key(k) if k.item_type == "Customer" && k.field == "id" && k.kind == KeyErrorKind::Empty),
        "{err}"
    );
    // `#` inside a field of a two-field template would let keys collide.
    let err = order("c1", "2024#01", "o1")
        .put()
        .send(&db)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Key(k) if k.attribute == "sk" && k.field == "placed_on"
            && k.kind == KeyErrorKind::ContainsSeparator { separator: "#" }),
        "{err}"
    );
    let err = Order::query("").all(&db).await.unwrap_err();
    assert!(matches!(err, Error::Key(_)), "{err}");
}

#[tokio::test]
async fn namespaces_keep_tables_apart() {
    let a = shop_db("ns_a").await;
    let b = local_db("ns_b").await;
    assert!(
        a.table_name(&TABLE).ends_with("_ns_a_shop"),
        "{}",
        a.table_name(&TABLE)
    );
    customer("c1").put().send(&a).await.unwrap();
    // No table in b's namespace: a typed error naming the table.
    let err = Customer::get(CustomerKey { id: "c1".into() })
        .send(&b)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TableNotFound { operation: dynamo_runtime::Operation::GetItem, table } if table == &b.table_name(&TABLE)),
        "{err}"
    );
    assert!(
        !TABLE.create(&a).await.unwrap(),
        "creating an existing table is a no-op"
    );
}

#[tokio::test]
async fn padded_numbers_escaped_braces_and_keyword_fields_round_trip() {
    let db = local_db("fixture").await;
    assert!(
        dynamo_tests::fixtures::keys::events_v1::TABLE
            .create(&db)
            .await
            .unwrap()
    );
    let event = Event {
        source: "web".into(),
        seq: 42,
        r#type: "click".into(),
        ok: true,
        delta: -7,
        balance: i64::MIN,
        count: Some(u32::MAX),
        score: Some(-0.5),
        unmodeled: Default::default(),
    };
    event.put().send(&db).await.unwrap();
    let key = EventKey {
        source: "web".into(),
        seq: 42,
    };
    let encoded = dynamo_runtime::Key::encode_key(&key).unwrap();
    assert_eq!(
        encoded["id"],
        AttributeValue::S("EVENT{v1}#web#0000000042".into())
    );
    assert_eq!(Event::get(key).send(&db).await.unwrap(), Some(event));
}
