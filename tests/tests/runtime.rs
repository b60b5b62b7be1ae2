//! The runtime's operations against DynamoDB Local, through the types
//! generated from `schemas/`: single-item options, scans and counts, paging
//! with selective filters, read and write transactions, optimistic locking
//! under concurrency, PartiQL and typed service errors. (The operation log
//! has a test binary of its own, `logging.rs`.)

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;

use dynamo_runtime::{Cursor, Db, DecodeErrorKind, Error, Item};
use dynamo_tests::{
    customer, local_db,
    shop::{Customer, CustomerKey, CustomerTier, NewProduct, Order, OrderStatus, Product, TABLE},
    shop_db,
};
use futures_util::TryStreamExt;

/// Order `n` of `customer`, placed on day `n % 28 + 1` of January 2024,
/// for `n` cents; every tenth order is tagged `gift`.
fn order(customer: &str, n: u32) -> Order {
    Order {
        customer_id: customer.into(),
        order_id: format!("o{n:03}"),
        placed_on: format!("2024-01-{:02}", n % 28 + 1),
        total_cents: i64::from(n),
        item_count: 1,
        weight_kg: None,
        rating: None,
        status: OrderStatus::Placed,
        tags: if n.is_multiple_of(10) {
            BTreeSet::from(["gift".to_owned()])
        } else {
            BTreeSet::new()
        },
        unmodeled: Default::default(),
    }
}

fn product(sku: &str, stock: u32) -> Product {
    Product::new(NewProduct {
        sku: sku.into(),
        name: format!("Product {sku}"),
        price_cents: 1999,
        stock,
    })
}

fn ids(orders: &[Order]) -> Vec<String> {
    orders.iter().map(|o| o.order_id.clone()).collect()
}

#[tokio::test]
async fn writes_return_old_items_and_gets_read_projections() {
    let db = shop_db("old").await;
    let mut ann = customer("c1");
    let key = ann.key();
    assert_eq!(ann.put().return_old().send(&db).await.unwrap(), None);
    ann.loyalty_points = 5;
    let replaced = ann.put().return_old().send(&db).await.unwrap().unwrap();
    assert_eq!(replaced.loyalty_points, 0);

    // Updates return the new item, or the old one when asked.
    let after = Customer::update(key.clone())
        .add(|f| f.loyalty_points, 10)
        .send(&db)
        .await
        .unwrap();
    assert_eq!(after.loyalty_points, 15);
    let before = Customer::update(key.clone())
        .add(|f| f.loyalty_points, 1)
        .return_old()
        .send(&db)
        .await
        .unwrap();
    assert_eq!(before.loyalty_points, 15);

    // A projected get reads only the chosen fields, typed by their paths.
    let row = Customer::get(key.clone())
        .project(|f| [f.email.attribute(), f.loyalty_points.attribute()])
        .consistent()
        .send(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get(|f| f.loyalty_points).unwrap(), Some(16));
    assert_eq!(
        row.get(|f| f.email).unwrap().as_deref(),
        Some("c1@example.com")
    );
    assert!(!row.attributes().contains_key("tier"));
    assert!(!row.attributes().contains_key("vip"));
    let err = row.get(|f| f.tier).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::NotProjected);
    assert_eq!(err.attribute, "tier");
    assert!(
        Customer::get(CustomerKey {
            id: "nobody".into()
        })
        .project(|f| [f.email.attribute()])
        .send(&db)
        .await
        .unwrap()
        .is_none()
    );

    // A failed condition carries the stored item, decoded on request.
    let err = ann
        .put()
        .when(|f| f.vip.eq(true))
        .send(&db)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConditionFailed { .. }), "{err}");
    let stored: Customer = err.old_item().unwrap().unwrap();
    assert_eq!(stored.loyalty_points, 16);
    let err = Customer::delete(key.clone())
        .when(|f| f.tier.eq(CustomerTier::Pro))
        .send(&db)
        .await
        .unwrap_err();
    assert_eq!(
        err.old_item::<Customer>().unwrap().unwrap().tier,
        CustomerTier::Free
    );

    // Deletes return what they removed.
    let gone = Customer::delete(key.clone())
        .return_old()
        .send(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.loyalty_points, 16);
    assert_eq!(
        Customer::delete(key).return_old().send(&db).await.unwrap(),
        None
    );
}

/// 60 orders over three customers, plus the customers.
async fn seeded(test: &str) -> Db {
    let db = shop_db(test).await;
    let orders: Vec<Order> = (0..60).map(|n| order(&format!("c{}", n % 3), n)).collect();
    Order::batch_put(&orders).send(&db).await.unwrap();
    let customers: Vec<Customer> = (0..3).map(|n| customer(&format!("c{n}"))).collect();
    Customer::batch_put(&customers).send(&db).await.unwrap();
    db
}

#[tokio::test]
async fn scans_counts_and_parallel_segments() {
    let db = seeded("scan").await;
    let every: BTreeSet<String> = (0..60).map(|n| format!("o{n:03}")).collect();

    // A scan reads only its item type, page after page.
    let orders = Order::scan().page_size(7).all(&db).await.unwrap();
    assert_eq!(orders.len(), 60);
    assert_eq!(ids(&orders).into_iter().collect::<BTreeSet<_>>(), every);
    assert_eq!(Customer::scan().all(&db).await.unwrap().len(), 3);

    // Counts read nothing back, and honour filters and sort-key bounds.
    assert_eq!(Order::scan().count(&db).await.unwrap(), 60);
    assert_eq!(Customer::scan().count(&db).await.unwrap(), 3);
    assert_eq!(
        Order::scan()
            .filter(|f| f.total_cents.ge(50))
            .page_size(4)
            .count(&db)
            .await
            .unwrap(),
        10
    );
    assert_eq!(Order::query("c0").count(&db).await.unwrap(), 20);
    assert_eq!(
        Order::query("c0")
            .filter(|f| f.total_cents.lt(30))
            .count(&db)
            .await
            .unwrap(),
        10
    );
    // c0's orders 0, 3, …, 57: those after order 27 (placed on the 28th)
    // in sort-key order, the bound itself excluded.
    let after: Vec<Order> = Order::query("c0")
        .order_id("2024-01-28")
        .gt("o027")
        .all(&db)
        .await
        .unwrap();
    let counted = Order::query("c0")
        .order_id("2024-01-28")
        .gt("o027")
        .count(&db)
        .await
        .unwrap();
    assert_eq!(counted, after.len());
    assert!(!ids(&after).contains(&"o027".to_owned()));

    // Parallel segments together read every item once.
    let parallel = Order::scan().parallel(4).all(&db).await.unwrap();
    let mut parallel_ids = ids(&parallel);
    parallel_ids.sort();
    assert_eq!(parallel_ids, every.iter().cloned().collect::<Vec<_>>());
    assert_eq!(Order::scan().parallel(3).count(&db).await.unwrap(), 60);
    let gifts: Vec<Order> = Order::scan()
        .filter(|f| f.tags.contains("gift"))
        .parallel(5)
        .stream(&db)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(gifts.len(), 6);
    let few = Order::scan().limit(5).parallel(4).all(&db).await.unwrap();
    assert_eq!(few.len(), 5);
}

#[tokio::test]
async fn selective_filters_with_small_pages_return_exactly_n_and_cursors_resume() {
    let db = shop_db("paging").await;
    let orders: Vec<Order> = (0..100).map(|n| order("c1", n)).collect();
    Order::batch_put(&orders).send(&db).await.unwrap();
    let gifts: Vec<String> = (0..100)
        .filter(|n: &u32| n.is_multiple_of(10))
        .map(|n| format!("o{n:03}"))
        .collect();
    let mut expected: Vec<Order> = orders
        .iter()
        .filter(|o| !o.tags.is_empty())
        .cloned()
        .collect();
    expected.sort_by(|a, b| (&a.placed_on, &a.order_id).cmp(&(&b.placed_on, &b.order_id)));
    let expected = ids(&expected);
    assert_eq!(expected.len(), gifts.len());

    // Query: 10 of 100 items match and DynamoDB reads 3 per request, yet
    // each page has exactly 4, and the cursors resume with nothing
    // skipped or repeated.
    let query = || {
        Order::query("c1")
            .filter(|f| f.tags.contains("gift"))
            .page_size(3)
            .limit(4)
    };
    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    let mut sizes = Vec::new();
    loop {
        let q = match cursor.take() {
            Some(c) => query().after(c.to_string().parse().unwrap()),
            None => query(),
        };
        let page = q.send(&db).await.unwrap();
        sizes.push(page.items.len());
        seen.extend(ids(&page.items));
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    assert_eq!(&sizes[..2], [4, 4], "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), 10);

    // The stream stops at the limit, however small the pages.
    let first: Vec<Order> = query().stream(&db).try_collect().await.unwrap();
    assert_eq!(ids(&first), expected[..4]);

    // Scan: the same guarantees.
    let scan = || {
        Order::scan()
            .filter(|f| f.tags.contains("gift"))
            .page_size(5)
    };
    let page = scan().limit(3).send(&db).await.unwrap();
    assert_eq!(page.items.len(), 3);
    let rest = scan()
        .after(page.cursor.clone().unwrap())
        .all(&db)
        .await
        .unwrap();
    let mut all: Vec<String> = ids(&page.items).into_iter().chain(ids(&rest)).collect();
    assert_eq!(all.len(), 10);
    all.sort();
    all.dedup();
    assert_eq!(all, gifts);

    // A cursor that is not a key of the table is refused, not misread.
    let bogus: Cursor = "eyJwayI6e319".parse().unwrap();
    let err = Order::query("c1").after(bogus).send(&db).await.unwrap_err();
    assert!(matches!(err, Error::InvalidCursor { .. }), "{err}");
}

#[tokio::test]
async fn read_transactions_and_versioned_write_transactions() {
    let db = shop_db("transact").await;
    let ann = customer("c1");
    ann.put().send(&db).await.unwrap();
    let lamp = product("lamp", 3);
    lamp.put().send(&db).await.unwrap();

    let mut tx = db.transact_get();
    let c = tx.get(ann.key());
    let p = tx.get(lamp.key());
    let missing = tx.get(CustomerKey {
        id: "nobody".into(),
    });
    let mut rows = tx.send().await.unwrap();
    assert_eq!(rows.take(c).unwrap().unwrap(), ann);
    let stored = rows.take(p).unwrap().unwrap();
    assert_eq!((stored.stock, stored.version), (3, 1));
    assert_eq!(rows.take(missing).unwrap(), None);

    let mut tx = db.transact_get();
    tx.get(ann.key());
    tx.get(ann.key());
    let err = tx.send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");

    // A transaction writing from a stale read is Stale, and writes nothing.
    let bob = customer("c2");
    let err = db.transact().put(&bob).put(&lamp).send().await.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Stale {
                operation: dynamo_runtime::Operation::TransactWriteItems,
                item_type: "Product",
                expected: 0,
                found: Some(1),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(Customer::get(bob.key()).send(&db).await.unwrap(), None);

    // With another failure too, the reasons say which action was stale.
    let err = db
        .transact()
        .put(&lamp)
        .condition_check(ann.key(), |f| f.vip.eq(true))
        .send()
        .await
        .unwrap_err();
    let Error::TransactionCanceled { reasons } = &err else {
        panic!("{err}")
    };
    assert!(reasons[0].as_ref().unwrap().stale);
    assert!(!reasons[1].as_ref().unwrap().stale);
    assert_eq!(
        reasons[1].as_ref().unwrap().old,
        Some(ann.encode().unwrap())
    );

    // Versioned deletes inside a transaction.
    let err = db
        .transact()
        .delete_with(Product::delete(lamp.key()).expect_version(7))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Stale {
                expected: 7,
                found: Some(1),
                ..
            }
        ),
        "{err}"
    );
    db.transact()
        .update(
            Product::update(lamp.key())
                .set(|f| f.stock, 2u32)
                .expect_version(1),
        )
        .put(&bob)
        .send()
        .await
        .unwrap();
    db.transact()
        .delete_with(Product::delete(lamp.key()).expect_version(2))
        .send()
        .await
        .unwrap();
    assert_eq!(Product::get(lamp.key()).send(&db).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_tasks_of_a_hundred_increments_end_at_exactly_800() {
    let db = shop_db("increments").await;
    let counter = product("counter", 0);
    counter.put().send(&db).await.unwrap();
    let key = counter.key();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            let key = key.clone();
            tokio::spawn(async move {
                let mut stale = 0u32;
                for _ in 0..100 {
                    loop {
                        let mut read = Product::get(key.clone())
                            .consistent()
                            .send(&db)
                            .await
                            .unwrap()
                            .unwrap();
                        read.stock += 1;
                        match read.put().send(&db).await {
                            Ok(()) => break,
                            Err(Error::Stale { .. }) => stale += 1,
                            Err(other) => panic!("{other}"),
                        }
                    }
                }
                stale
            })
        })
        .collect();
    let mut stale = 0;
    for task in tasks {
        stale += task.await.unwrap();
    }
    let last = Product::get(key)
        .consistent()
        .send(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last.stock, 800, "{stale} stale writes were retried");
    assert_eq!(last.version, 801);
}

#[tokio::test]
async fn partiql_statements_bind_typed_values_and_decode_generated_types() {
    let db = seeded("partiql").await;
    let rows = Order::statement(r#"SELECT * FROM {table} WHERE "pk" = ? AND "total_cents" >= ?"#)
        .bind(&"CUSTOMER#c1".to_owned())
        .bind(&40i64)
        .consistent()
        .send(&db)
        .await
        .unwrap();
    let mut got = ids(&rows);
    got.sort();
    assert_eq!(
        got,
        ["o040", "o043", "o046", "o049", "o052", "o055", "o058"]
    );

    // The partition also holds the Customer: rows of other types are left out.
    let rows = Order::statement(r#"SELECT * FROM {table} WHERE "pk" = ?"#)
        .bind(&"CUSTOMER#c2".to_owned())
        .send(&db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 20);
    let customers = Customer::statement(r#"SELECT * FROM {table} WHERE "pk" = ?"#)
        .bind(&"CUSTOMER#c2".to_owned())
        .send(&db)
        .await
        .unwrap();
    assert_eq!(customers, [customer("c2")]);

    // Writes: a failed condition and a duplicate insert are typed.
    let err = Order::statement(
        r#"UPDATE {table} SET "total_cents" = ? WHERE "pk" = ? AND "sk" = ? AND "total_cents" = ?"#,
    )
    .bind(&1i64)
    .bind(&"CUSTOMER#c0".to_owned())
    .bind(&"ORDER#2024-01-01#o000".to_owned())
    .bind(&999i64)
    .execute(&db)
    .await
    .unwrap_err();
    assert!(matches!(err, Error::ConditionFailed { .. }), "{err}");
    let err = Customer::statement(r#"INSERT INTO {table} VALUE {'pk': ?, 'sk': ?}"#)
        .bind(&"CUSTOMER#c0".to_owned())
        .bind(&"PROFILE".to_owned())
        .execute(&db)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConditionFailed { .. }), "{err}");
}

#[tokio::test]
async fn missing_tables_and_rejected_requests_are_typed_errors() {
    let db = local_db("errors").await;
    let err = Customer::get(CustomerKey { id: "c1".into() })
        .send(&db)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TableNotFound { operation: dynamo_runtime::Operation::GetItem, table } if table == &db.table_name(&TABLE)),
        "{err}"
    );
    let err = Order::scan().count(&db).await.unwrap_err();
    assert!(matches!(err, Error::TableNotFound { .. }), "{err}");

    assert!(TABLE.create(&db).await.unwrap());
    // An item over DynamoDB's 400 KB limit.
    let mut big = customer("big");
    big.name = Some("x".repeat(500 * 1024));
    let err = big.put().send(&db).await.unwrap_err();
    let Error::Rejected {
        operation, message, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*operation, dynamo_runtime::Operation::PutItem);
    assert!(message.to_lowercase().contains("size"), "{message}");
    assert!(!err.is_retryable());
}
