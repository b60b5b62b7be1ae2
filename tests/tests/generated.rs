//! End-to-end: each capability of generated code, for the valid fixtures'
//! schemas, against a real DynamoDB Local.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use dynamo_runtime::{
    Bytes, Date, DecodeErrorKind, Error, Item, Json, Number, Timestamp, Uuid, ValidationRule,
};
use dynamo_tests::{fixtures, local_db, product};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

mod shop {
    pub use dynamo_tests::fixtures::indexes_collections::shop::*;
}

async fn shop_db(test: &str) -> dynamo_runtime::Db {
    let db = local_db(test).await;
    assert!(shop::TABLE.create(&db).await.unwrap());
    db
}

fn order(customer: &str, id: &str, day: u32, total: u64) -> shop::Order {
    shop::Order::new(shop::NewOrder {
        customer_id: customer.into(),
        order_id: id.into(),
        placed_at: at(&format!("2024-03-{day:02}T10:00:00Z")),
        total_cents: total,
    })
}

fn line(customer: &str, order: &str, line: u16) -> shop::OrderLine {
    shop::OrderLine::new(shop::NewOrderLine {
        customer_id: customer.into(),
        order_id: order.into(),
        line,
        sku: format!("SKU-{line}"),
    })
}

async fn seed(db: &dynamo_runtime::Db) -> Vec<shop::Order> {
    let customer = shop::Customer::new(shop::NewCustomer {
        id: "c1".into(),
        email: "ann@example.com".into(),
    });
    customer.put().send(db).await.unwrap();
    let orders: Vec<shop::Order> = (1..=6)
        .map(|i| order("c1", &format!("o{i}"), i, u64::from(i) * 1000))
        .collect();
    shop::Order::batch_put(&orders).send(db).await.unwrap();
    let lines = [
        line("c1", "o1", 1),
        line("c1", "o1", 2),
        line("c1", "o2", 1),
    ];
    shop::OrderLine::batch_put(&lines).send(db).await.unwrap();
    orders
}

fn ids(orders: &[shop::Order]) -> Vec<&str> {
    orders.iter().map(|o| o.order_id.as_str()).collect()
}

#[tokio::test]
async fn sort_key_ranges_on_a_datetime_field() {
    let db = shop_db("ranges").await;
    seed(&db).await;
    let q = || shop::Order::query("c1");
    let day = |d: u32| at(&format!("2024-03-{d:02}T10:00:00Z"));
    assert_eq!(
        ids(&q().placed_at().lt(day(3)).all(&db).await.unwrap()),
        ["o1", "o2"]
    );
    assert_eq!(
        ids(&q().placed_at().le(day(3)).all(&db).await.unwrap()),
        ["o1", "o2", "o3"]
    );
    assert_eq!(
        ids(&q().placed_at().gt(day(4)).all(&db).await.unwrap()),
        ["o5", "o6"]
    );
    assert_eq!(
        ids(&q().placed_at().ge(day(4)).all(&db).await.unwrap()),
        ["o4", "o5", "o6"]
    );
    assert_eq!(
        ids(&q()
            .placed_at()
            .between(day(2), day(4))
            .all(&db)
            .await
            .unwrap()),
        ["o2", "o3", "o4"]
    );
    assert_eq!(
        ids(&q().placed_at().eq(day(5)).all(&db).await.unwrap()),
        ["o5"]
    );
    // The last field of the template: ranges on it, the earlier ones equal.
    assert_eq!(
        ids(&q().order_id(day(2)).ge("o2").all(&db).await.unwrap()),
        ["o2"]
    );
    assert_eq!(
        ids(&q().order_id(day(2)).gt("o2").all(&db).await.unwrap()),
        Vec::<&str>::new()
    );
    // Order lines share the partition but never come back as orders.
    assert_eq!(q().all(&db).await.unwrap().len(), 6);
    assert_eq!(
        ids(&q().descending().limit(2).all(&db).await.unwrap()),
        ["o6", "o5"]
    );
}

#[tokio::test]
async fn global_local_and_keys_only_indexes() {
    let db = shop_db("indexes").await;
    seed(&db).await;
    // Global index: the order and its lines under one partition.
    let by_order = shop::Order::query_gsi1("o1").all(&db).await.unwrap();
    assert_eq!(ids(&by_order), ["o1"]);
    let lines = shop::OrderLine::query_gsi1("o1").all(&db).await.unwrap();
    assert_eq!(lines.iter().map(|l| l.line).collect::<Vec<_>>(), [1, 2]);
    let customer = shop::Customer::query_gsi1("ann@example.com")
        .all(&db)
        .await
        .unwrap();
    assert_eq!(customer[0].id, "c1");

    // Local index on the zero-padded total: numeric order as text order.
    let big = shop::Order::query_by_total("c1")
        .total_cents()
        .ge(4000)
        .consistent()
        .all(&db)
        .await
        .unwrap();
    assert_eq!(ids(&big), ["o4", "o5", "o6"]);

    // Sparse keys-only index: only orders with a status are in it, and
    // the projection holds exactly the key fields.
    shop::Order::update(shop::OrderKey {
        customer_id: "c1".into(),
        placed_at: at("2024-03-02T10:00:00Z"),
        order_id: "o2".into(),
    })
    .set(|f| f.status, shop::OrderStatus::Shipped)
    .send(&db)
    .await
    .unwrap();
    let shipped = shop::Order::query_by_status(shop::OrderStatus::Shipped)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(shipped.len(), 1);
    assert_eq!(shipped[0].order_id, "o2");
    assert_eq!(shipped[0].status, shop::OrderStatus::Shipped);
    assert_eq!(shipped[0].placed_at, at("2024-03-02T10:00:00Z"));
    let full = shop::Order::query_by_status(shop::OrderStatus::Shipped)
        .fetch_items(&db)
        .await
        .unwrap();
    assert_eq!(full[0].total_cents, 2000);
    assert!(
        shop::Order::query_by_status(shop::OrderStatus::Open)
            .all(&db)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn collections_decode_each_item_by_its_type() {
    let db = shop_db("collections").await;
    seed(&db).await;
    let all = shop::CustomerActivity::query("c1").all(&db).await.unwrap();
    let customers = all
        .iter()
        .filter(|x| matches!(x, shop::CustomerActivity::Customer(_)))
        .count();
    let orders = all
        .iter()
        .filter(|x| matches!(x, shop::CustomerActivity::Order(_)))
        .count();
    let lines = all
        .iter()
        .filter(|x| matches!(x, shop::CustomerActivity::OrderLine(_)))
        .count();
    assert_eq!((customers, orders, lines), (1, 6, 3));
    let o1 = shop::OrderWithLines::query("o1").all(&db).await.unwrap();
    // gsi1sk: `LINE#00001`, `LINE#00002`, then `ORDER`.
    assert_eq!(o1.len(), 3);
    assert!(matches!(&o1[0], shop::OrderWithLines::OrderLine(l) if l.line == 1));
    assert!(matches!(&o1[2], shop::OrderWithLines::Order(o) if o.order_id == "o1"));
}

#[tokio::test]
async fn conditions_filters_and_updates_are_typed() {
    let db = shop_db("conditions").await;
    let orders = seed(&db).await;
    let big = shop::Order::query("c1")
        .filter(|f| f.total_cents.gt(2500).and(!f.order_id.eq("o6")))
        .limit(2)
        .page_size(1)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(ids(&big), ["o3", "o4"]);

    let key = orders[0].key();
    // A condition that does not hold: typed error, nothing written.
    let err = shop::Order::update(key.clone())
        .set_total_cents(1)
        .when(|f| f.total_cents.ge(5000))
        .send(&db)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConditionFailed {
                item_type: "Order",
                ..
            }
        ),
        "{err}"
    );
    // Setting a field that feeds an index key rewrites that key.
    let updated = shop::Order::update(key.clone())
        .set_total_cents(99_000)
        .when(|f| f.status.not_exists())
        .send(&db)
        .await
        .unwrap();
    assert_eq!(updated.total_cents, 99_000);
    let top = shop::Order::query_by_total("c1")
        .descending()
        .limit(1)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(ids(&top), ["o1"]);
    // Removing an optional field takes the item out of the sparse index.
    shop::Order::update(key.clone())
        .set(|f| f.status, "open".parse::<shop::OrderStatus>().unwrap())
        .send(&db)
        .await
        .unwrap();
    assert_eq!(
        shop::Order::query_by_status(shop::OrderStatus::Open)
            .all(&db)
            .await
            .unwrap()
            .len(),
        1
    );
    shop::Order::update(key.clone())
        .remove(|f| f.status)
        .send(&db)
        .await
        .unwrap();
    assert!(
        shop::Order::query_by_status(shop::OrderStatus::Open)
            .all(&db)
            .await
            .unwrap()
            .is_empty()
    );
    // Updating a missing item never creates a partial one.
    let mut missing = key.clone();
    missing.order_id = "nope".into();
    let err = shop::Order::update(missing)
        .set_total_cents(1)
        .send(&db)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    // Conditional put and delete.
    let err = orders[1]
        .put()
        .when(|f| f.total_cents.eq(1))
        .send(&db)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConditionFailed { .. }), "{err}");
    shop::Order::delete(orders[1].key())
        .when(|f| f.total_cents.between(1000, 3000))
        .send(&db)
        .await
        .unwrap();
    assert_eq!(
        shop::Order::get(orders[1].key()).send(&db).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn batches_and_transactions() {
    let db = shop_db("batches").await;
    let orders = seed(&db).await;
    let mut keys: Vec<shop::OrderKey> = orders.iter().map(Item::key).collect();
    let mut gone = keys[0].clone();
    gone.order_id = "missing".into();
    keys.insert(1, gone);
    let got = shop::Order::batch_get(keys.clone())
        .send(&db)
        .await
        .unwrap();
    assert_eq!(got.len(), 7);
    assert!(got[1].is_none());
    assert_eq!(got[0].as_ref().unwrap().order_id, "o1");
    assert_eq!(got[6].as_ref().unwrap().order_id, "o6");
    let err = shop::Order::batch_get([keys[0].clone(), keys[0].clone()])
        .send(&db)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");

    // A transaction whose condition check fails changes nothing, and the
    // reason names the action.
    let fresh = order("c1", "o9", 9, 9);
    let err = db
        .transact()
        .put(&fresh)
        .update(shop::Order::update(orders[0].key()).set_total_cents(1))
        .condition_check(orders[2].key(), |f| f.total_cents.eq(0))
        .send()
        .await
        .unwrap_err();
    let Error::TransactionCanceled { reasons } = &err else {
        panic!("{err}")
    };
    assert_eq!(reasons.len(), 3);
    assert!(reasons[0].is_none());
    assert_eq!(reasons[2].as_ref().unwrap().code, "ConditionalCheckFailed");
    assert_eq!(shop::Order::get(fresh.key()).send(&db).await.unwrap(), None);
    db.transact()
        .put(&fresh)
        .update(shop::Order::update(orders[0].key()).set_total_cents(1))
        .delete(orders[1].key())
        .send()
        .await
        .unwrap();
    assert!(
        shop::Order::get(fresh.key())
            .send(&db)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        shop::Order::get(orders[1].key())
            .send(&db)
            .await
            .unwrap()
            .is_none()
    );
    // One action per item, checked before sending.
    let err = db
        .transact()
        .put(&fresh)
        .delete(fresh.key())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
    shop::Order::batch_delete(keys).send(&db).await.unwrap();
    assert_eq!(shop::Order::query("c1").all(&db).await.unwrap().len(), 1);
}

mod sessions {
    pub use dynamo_tests::fixtures::item_options::sessions::*;
}

#[tokio::test]
async fn timestamps_versions_and_ttl_are_kept_by_writes() {
    let db = local_db("sessions").await;
    sessions::TABLE.create(&db).await.unwrap();
    let session = sessions::Session::new(sessions::NewSession {
        user_id: "u1".into(),
    });
    assert_eq!(session.version, 0);
    let ttl = session.expires_at.unwrap();
    let hours = (ttl.as_second() - session.created_at.as_second()) / 3600;
    assert_eq!(hours, 12);
    session.put().send(&db).await.unwrap();
    // A second put of the same new item is stale: one is stored already.
    let err = session.put().send(&db).await.unwrap_err();
    assert!(matches!(err, Error::Stale { expected: 0, .. }), "{err}");
    let stored = sessions::Session::get(session.key())
        .consistent()
        .send(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 1);
    assert!(stored.updated_at >= session.updated_at);
    // Read-modify-write with the read version succeeds once.
    let mut copy = stored.clone();
    copy.device = Some("phone".into());
    copy.put().send(&db).await.unwrap();
    let err = copy.put().send(&db).await.unwrap_err();
    assert!(matches!(err, Error::Stale { expected: 1, .. }), "{err}");
    // Updates advance the version and can require one.
    let updated = sessions::Session::update(session.key())
        .set(|f| f.device, "laptop")
        .expect_version(2)
        .send(&db)
        .await
        .unwrap();
    assert_eq!(updated.version, 3);
    assert_eq!(updated.device.as_deref(), Some("laptop"));
    let err = sessions::Session::update(session.key())
        .remove(|f| f.device)
        .expect_version(2)
        .send(&db)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Stale { .. }), "{err}");
    // Epoch-millis timestamps and an integer ttl field.
    let token = sessions::Token::new(sessions::NewToken {
        user_id: "u1".into(),
        token_id: Uuid::new_v4(),
    });
    token.put().send(&db).await.unwrap();
    let raw = db
        .client()
        .get_item()
        .table_name(db.table_name(&sessions::TABLE))
        .set_key(Some(dynamo_runtime::Key::encode_key(&token.key()).unwrap()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(matches!(raw["created_at"], AttributeValue::N(_)));
    assert!(matches!(raw["expires_at"], AttributeValue::N(_)));
    assert_eq!(raw["revision"], AttributeValue::N("1".into()));
}

/// `expires_after` gives new items a ttl; an item made permanent (its ttl
/// removed) stays permanent through read-modify-put.
#[tokio::test]
async fn a_permanent_item_stays_permanent_through_a_put() {
    let db = local_db("permanent").await;
    sessions::TABLE.create(&db).await.unwrap();
    let session = sessions::Session::new(sessions::NewSession {
        user_id: "u1".into(),
    });
    session.put().send(&db).await.unwrap();
    let permanent = sessions::Session::update(session.key())
        .remove(|f| f.expires_at)
        .send(&db)
        .await
        .unwrap();
    assert_eq!(permanent.expires_at, None);
    let mut copy = permanent.clone();
    copy.device = Some("tablet".into());
    copy.put().send(&db).await.unwrap();
    let stored = sessions::Session::get(session.key())
        .consistent()
        .send(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.device.as_deref(), Some("tablet"));
    assert_eq!(stored.expires_at, None, "the put refilled the ttl");
}

mod catalog {
    pub use dynamo_tests::fixtures::field_types::catalog::*;
}

#[tokio::test]
async fn every_field_type_round_trips() {
    let db = local_db("catalog").await;
    catalog::TABLE.create(&db).await.unwrap();
    let mut p = product();
    assert_eq!(p.version_tag, catalog::ProductVersionTag::Draft);
    assert_eq!(p.price, Number::from_schema("19.99"));
    assert_eq!(p.on_sale_from, Date::new(2024, 12, 1).unwrap());
    assert_eq!(
        p.legacy_id,
        "67e55044-10b1-426f-9247-bb680e5fe0c8"
            .parse::<Uuid>()
            .unwrap()
    );
    assert_eq!(p.attributes["sizes"], Json::from(vec![1, 2]));
    assert_eq!(p.dimensions.unit, catalog::DimensionsUnit::Cm);
    assert_eq!(p.labels["en"], "Lamp");
    p.seen_ms = Some(at("2024-02-03T04:05:06.789Z"));
    p.sizes = Some(BTreeSet::from([3, 1]));
    p.display_name = Some("Desk lamp".into());
    p.put().send(&db).await.unwrap();
    let read = catalog::Product::get(p.key())
        .send(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, p);
    // An empty set is stored as no attribute and read back empty.
    assert!(p.tags.is_empty());
    let found = catalog::Product::query("LAMP-1")
        .version_tag()
        .eq(catalog::ProductVersionTag::Draft)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        catalog::Product::query("LAMP-1")
            .released(catalog::ProductVersionTag::Draft)
            .between(40, 50)
            .all(&db)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn validate_runs_before_every_write() {
    let db = local_db("validate").await;
    catalog::TABLE.create(&db).await.unwrap();
    let mut p = product();
    p.sku = "lower-case".into();
    let err = p.put().send(&db).await.unwrap_err();
    let Error::Validation(v) = &err else {
        panic!("{err}")
    };
    assert_eq!((v.item_type, v.field), ("Product", "sku"));
    assert!(matches!(v.rule, ValidationRule::Pattern(_)));
    let mut p = product();
    p.medium = 11;
    let err = p.put().send(&db).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid `Product`: field `medium` is greater than the maximum 10"
    );
    let p = product();
    p.put().send(&db).await.unwrap();
    let err = catalog::Product::update(p.key())
        .set(|f| f.weight, 2000.0)
        .send(&db)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err}");
    assert_eq!(
        catalog::Product::get(p.key())
            .send(&db)
            .await
            .unwrap()
            .unwrap()
            .weight,
        1.5
    );
}

#[tokio::test]
async fn an_unknown_enum_value_is_a_typed_decode_error() {
    let db = local_db("enums").await;
    catalog::TABLE.create(&db).await.unwrap();
    let p = product();
    let mut raw = p.encode().unwrap();
    raw.insert("dimensions".into(), {
        let mut m = match raw["dimensions"].clone() {
            AttributeValue::M(m) => m,
            _ => unreachable!(),
        };
        m.insert("unit".into(), AttributeValue::S("furlong".into()));
        AttributeValue::M(m)
    });
    let err = catalog::Product::decode(raw).unwrap_err();
    let Error::Decode(e) = &err else {
        panic!("{err}")
    };
    assert_eq!(e.attribute, "dimensions");
    let DecodeErrorKind::Nested { path, kind } = &e.kind else {
        panic!("{err}")
    };
    assert_eq!(path, ".unit");
    assert!(
        matches!(**kind, DecodeErrorKind::UnknownVariant { .. }),
        "{err}"
    );
    assert!("furlong".parse::<catalog::DimensionsUnit>().is_err());
}

mod devices {
    pub use dynamo_tests::fixtures::plain_keys::devices::*;
}

#[tokio::test]
async fn plain_number_and_binary_keys_with_a_sparse_index() {
    let db = local_db("devices").await;
    devices::TABLE.create(&db).await.unwrap();
    for (serial, owner) in [(7u64, Some("ann")), (7, None), (8, Some("ann"))] {
        let fingerprint = Bytes::from(vec![serial as u8, u8::from(owner.is_some())]);
        devices::Device {
            serial,
            fingerprint,
            owner: owner.map(str::to_owned),
            model: "x1".into(),
            unmodeled: Default::default(),
        }
        .put()
        .send(&db)
        .await
        .unwrap();
    }
    assert_eq!(devices::Device::query(7).all(&db).await.unwrap().len(), 2);
    let anns = devices::Device::query_by_owner("ann")
        .all(&db)
        .await
        .unwrap();
    assert_eq!(anns.len(), 2);
    let above = devices::Device::query(7)
        .fingerprint()
        .gt(Bytes::from([7u8, 0]))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(above.len(), 1);
    let _ = fixtures::keys::events_v1::TABLE;
}

/// Attributes the schema (`[table.attributes]` of the table_options
/// fixture) and the `Builder` (`type_attribute` in tests/build.rs, on the
/// keys fixture) add to generated types: here `Ord` on keys, which sorts
/// them.
#[test]
fn added_attributes_give_keys_an_order() {
    use fixtures::{keys::events_v1::EventKey, table_options::ledger_prod_v2::EntryKey};
    let entry = |account: &str, seq| EntryKey {
        account_id: account.into(),
        posted_on: Date::new(2024, 3, 1).unwrap(),
        seq,
    };
    let mut entries = vec![entry("b", 1), entry("a", 2), entry("a", 1)];
    entries.sort();
    assert_eq!(entries, [entry("a", 1), entry("a", 2), entry("b", 1)]);
    let event = |source: &str, seq| EventKey {
        source: source.into(),
        seq,
    };
    assert!(event("a", 9) < event("b", 1));
    assert_eq!(event("a", 2).max(event("a", 1)), event("a", 2));
}
