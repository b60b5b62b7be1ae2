//! The shop example: applies its migrations (creating the table and its
//! indexes), then uses the generated
//! client for every kind of access the schema declares: writes (single and
//! batched), reads, queries with sort-key conditions and filters, a global
//! index, a keys-only index with its projection, the `customer_orders`
//! collection, conditional updates, write and read transactions, optimistic
//! locking with a retry on a stale read, paging with cursors and scans.
//! Last, it reads the table's stream: every change this run made, decoded
//! into the item types with the item before and after it.
//!
//! Configuration comes from the standard AWS chain (`AWS_ENDPOINT_URL`,
//! `AWS_REGION`, credentials) and `DYNAMO_NAMESPACE`; `scripts/run-example`
//! points it at DynamoDB Local.

use dynamo_runtime::{
    ChangeKind, Db, Error,
    stream::{StartAt, StreamReader},
};
use example_app::{
    migrations,
    shop::{
        AnyItem, AnyKey, Customer, CustomerKey, CustomerOrders, CustomerTier, NewCustomer,
        NewOrder, NewProduct, Order, OrderKey, OrderStatus, Product, ProductKey, TABLE,
    },
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let db = Db::from_env().await?;
    let table = db.table_name(&TABLE);
    // The same executor as `dynamo-codegen migrate`: applies what is
    // pending (nothing, when the CLI ran first), once, under a lock.
    let report = migrations::run(&db).await?;
    println!(
        "table {table}: {} migration(s) applied at start-up, {} already applied",
        report.applied.len(),
        report.already_applied.len()
    );
    // The table's stream, from here on: what this run changes.
    let mut changes = StreamReader::for_table(&db, &TABLE)
        .await?
        .start_at(StartAt::Latest);
    changes.read_available().await?;

    let mut ann = Customer::new(NewCustomer {
        id: "c-100".into(),
        email: "ann@example.com".into(),
        vip: true,
        loyalty_points: 1200,
    });
    ann.name = Some("Ann".into());
    ann.put().send(&db).await?;

    let orders: Vec<Order> = [
        ("2024-01-05", "o-1", 1999, 1),
        ("2024-02-01", "o-2", 4550, 3),
        ("2024-02-14", "o-3", 890, 1),
        ("2024-03-09", "o-4", 12000, 7),
    ]
    .into_iter()
    .map(|(placed_on, order_id, total_cents, item_count)| {
        let mut order = Order::new(NewOrder {
            customer_id: ann.id.clone(),
            order_id: order_id.into(),
            placed_on: placed_on.into(),
            total_cents,
            item_count,
        });
        order.weight_kg = Some(0.4 * f64::from(item_count));
        order
    })
    .collect();
    Order::batch_put(&orders).send(&db).await?;
    println!(
        "wrote customer {} and {} orders (one batch)",
        ann.id,
        orders.len()
    );

    let read = Customer::get(CustomerKey { id: ann.id.clone() })
        .consistent()
        .send(&db)
        .await?;
    println!("\nget customer:\n  {read:?}");

    let by_email = Customer::query_gsi1("ann@example.com").all(&db).await?;
    println!(
        "\nfound by email through index gsi1: {:?}",
        by_email.iter().map(|c| &c.id).collect::<Vec<_>>()
    );

    println!("\nall orders of {}, newest first:", ann.id);
    for order in Order::query(&ann.id).descending().all(&db).await? {
        println!(
            "  {} {} {:>6.2} USD, {} items",
            order.placed_on,
            order.order_id,
            cents(order.total_cents),
            order.item_count
        );
    }

    println!("\norders placed in February 2024 (sort key begins_with):");
    for order in Order::query(&ann.id)
        .placed_on()
        .begins_with("2024-02")
        .all(&db)
        .await?
    {
        println!("  {} {}", order.placed_on, order.order_id);
    }

    let big = Order::query(&ann.id)
        .filter(|f| f.total_cents.ge(2000).and(f.item_count.gt(1)))
        .all(&db)
        .await?;
    println!(
        "\norders of at least 20 USD with more than one item (filter): {:?}",
        big.iter().map(|o| &o.order_id).collect::<Vec<_>>()
    );

    let page = Order::query(&ann.id).limit(3).send(&db).await?;
    println!(
        "\nfirst page of 3: {:?}",
        page.items.iter().map(|o| &o.order_id).collect::<Vec<_>>()
    );
    if let Some(cursor) = page.cursor {
        println!("  cursor (URL-safe, resumable): {cursor}");
        let next = Order::query(&ann.id)
            .limit(3)
            .after(cursor)
            .send(&db)
            .await?;
        println!(
            "  next page:     {:?}",
            next.items.iter().map(|o| &o.order_id).collect::<Vec<_>>()
        );
    }

    // A conditional update: ship o-2, but only if it is still placed. The
    // status feeds the by_status index key, which the update rewrites.
    let shipped = Order::update(orders[1].key())
        .set_status(OrderStatus::Shipped)
        .add_items(|f| f.tags, ["gift"])
        .when(|f| f.status.eq(OrderStatus::Placed))
        .send(&db)
        .await?;
    println!(
        "\nshipped {} (tags {:?}); shipping it again: {}",
        shipped.order_id,
        shipped.tags,
        Order::update(orders[1].key())
            .set_status(OrderStatus::Shipped)
            .when(|f| f.status.eq(OrderStatus::Placed))
            .send(&db)
            .await
            .err()
            .map_or_else(|| "ok".to_owned(), |e| e.to_string())
    );
    // `serde = true` in the schema: items serialize, e.g. as an HTTP body.
    let json = serde_json::to_string(&shipped).unwrap_or_else(|e| e.to_string());
    println!("  as JSON: {json}");

    // The keys-only index returns projections; fetch_items reads the full
    // orders in one batch.
    let keys = Order::query_by_status(OrderStatus::Shipped)
        .all(&db)
        .await?;
    println!("\nshipped orders (keys-only index by_status): {keys:?}");
    let full = Order::query_by_status(OrderStatus::Shipped)
        .fetch_items(&db)
        .await?;
    println!(
        "  fetched in full: {:?}",
        full.iter()
            .map(|o| (&o.order_id, o.total_cents))
            .collect::<Vec<_>>()
    );

    // A transaction: upgrade Ann and deliver o-4, all or nothing.
    db.transact()
        .update(Customer::update(ann.key()).set(|f| f.tier, CustomerTier::Pro))
        .update(
            Order::update(orders[3].key())
                .set_status(OrderStatus::Delivered)
                .set(|f| f.rating, 5),
        )
        .send()
        .await?;
    println!("\ntransaction: Ann is now pro, o-4 delivered");

    // Optimistic locking: Product is versioned, so a write based on a
    // stale read fails with Error::Stale instead of losing an update.
    let lamp_key = ProductKey { sku: "lamp".into() };
    Product::delete(lamp_key.clone()).send(&db).await?; // a fresh start on re-runs
    Product::new(NewProduct {
        sku: "lamp".into(),
        name: "Desk lamp".into(),
        price_cents: 3900,
        stock: 10,
    })
    .put()
    .send(&db)
    .await?;
    let mut first = Product::get(lamp_key.clone())
        .consistent()
        .send(&db)
        .await?;
    let mut second = first.clone();
    if let (Some(first), Some(second)) = (&mut first, &mut second) {
        first.stock -= 1;
        first.put().send(&db).await?;
        second.stock -= 2;
        match second.put().send(&db).await {
            Err(stale @ Error::Stale { .. }) => println!("\noptimistic locking: {stale}"),
            other => println!("\noptimistic locking: unexpected {other:?}"),
        }
    }
    // The usual answer to Stale: read again and retry.
    if let Some(sold) = sell(&db, &lamp_key, 2).await? {
        println!(
            "  re-read and retried: {} in stock, version {}",
            sold.stock, sold.version
        );
    }

    // A read transaction: Ann and the lamp as one consistent snapshot.
    let mut snapshot = db.transact_get();
    let ann_slot = snapshot.get(ann.key());
    let lamp_slot = snapshot.get(lamp_key.clone());
    let mut rows = snapshot.send().await?;
    println!(
        "  snapshot: {:?} tier {:?}, lamp stock {:?}",
        ann.id,
        rows.take(ann_slot)?.map(|c| c.tier),
        rows.take(lamp_slot)?.map(|p| p.stock)
    );

    // Scans read the whole table: a count, and a parallel scan.
    println!(
        "\nscan: {} orders in the table ({} read by 4 parallel segments)",
        Order::scan().count(&db).await?,
        Order::scan().parallel(4).all(&db).await?.len()
    );

    println!("\ncollection customer_orders (profile and orders in one query):");
    for part in CustomerOrders::query(&ann.id).all(&db).await? {
        match part {
            CustomerOrders::Customer(c) => {
                println!("  customer {} ({:?}, {})", c.id, c.name, c.tier)
            }
            CustomerOrders::Order(o) => println!("  order    {} {}", o.order_id, o.status),
        }
    }

    let gone = OrderKey {
        customer_id: ann.id.clone(),
        placed_on: "2024-01-05".into(),
        order_id: "o-1".into(),
    };
    Order::delete(gone.clone()).send(&db).await?;
    println!(
        "\ndeleted o-1; get now returns {:?}",
        Order::get(gone).send(&db).await?
    );

    println!("\nthe stream, decoded (what this run changed, in order):");
    for record in changes.read_available().await? {
        let change = record.decode::<AnyItem>()?;
        let what = match (&change.kind, &change.new) {
            (ChangeKind::Modify, Some(AnyItem::Order(o))) => format!("now {}", o.status),
            (ChangeKind::Modify, Some(AnyItem::Product(p))) => format!("stock {}", p.stock),
            (ChangeKind::Remove, _) => "deleted".to_owned(),
            _ => String::new(),
        };
        let key = match &change.key {
            AnyKey::Customer(k) => format!("customer {}", k.id),
            AnyKey::Order(k) => format!("order {}", k.order_id),
            AnyKey::Product(k) => format!("product {}", k.sku),
        };
        println!("  {:<6} {key} {what}", change.kind);
    }
    Ok(())
}

/// Takes `count` of a product out of stock, retrying on a stale read;
/// `None` when there is no such product.
async fn sell(db: &Db, key: &ProductKey, count: u32) -> Result<Option<Product>, Error> {
    loop {
        let Some(mut product) = Product::get(key.clone()).consistent().send(db).await? else {
            return Ok(None);
        };
        product.stock = product.stock.saturating_sub(count);
        match product.put().send(db).await {
            Ok(()) => {
                product.version += 1;
                return Ok(Some(product));
            }
            Err(Error::Stale { .. }) => continue,
            Err(other) => return Err(other),
        }
    }
}

fn cents(total: i64) -> f64 {
    total as f64 / 100.0
}
