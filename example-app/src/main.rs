//! The shop example: creates its table in DynamoDB, writes customers and
//! orders through the generated client, reads and queries them back, and
//! prints what it read.
//!
//! Configuration comes from the standard AWS chain (`AWS_ENDPOINT_URL`,
//! `AWS_REGION`, credentials) and `DYNAMO_NAMESPACE`; `scripts/run-example`
//! points it at DynamoDB Local.

use dynamo_runtime::{Db, Error};
use example_app::shop::{Customer, CustomerKey, Order, OrderKey, TABLE};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let db = Db::from_env().await?;
    let table = db.table_name(&TABLE);
    if TABLE.create(&db).await? {
        println!("created table {table}");
    } else {
        println!("table {table} exists");
    }

    let ann = Customer {
        id: "c-100".into(),
        email: "ann@example.com".into(),
        name: Some("Ann".into()),
        vip: true,
        loyalty_points: 1200,
    };
    ann.put().send(&db).await?;
    let orders = [
        ("2024-01-05", "o-1", 1999, 1),
        ("2024-02-01", "o-2", 4550, 3),
        ("2024-02-14", "o-3", 890, 1),
        ("2024-03-09", "o-4", 12000, 7),
    ];
    for (placed_on, order_id, total_cents, item_count) in orders {
        Order {
            customer_id: ann.id.clone(),
            order_id: order_id.into(),
            placed_on: placed_on.into(),
            total_cents,
            item_count,
            weight_kg: Some(0.4 * f64::from(item_count)),
            rating: None,
        }
        .put()
        .send(&db)
        .await?;
    }
    println!("wrote customer {} and {} orders", ann.id, orders.len());

    let read = Customer::get(CustomerKey { id: ann.id.clone() })
        .consistent()
        .send(&db)
        .await?;
    println!("\nget customer:\n  {read:?}");

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
        .placed_on_begins_with("2024-02")
        .all(&db)
        .await?
    {
        println!("  {} {}", order.placed_on, order.order_id);
    }

    let page = Order::query(&ann.id).limit(3).send(&db).await?;
    println!(
        "\nfirst page of 3: {:?}",
        page.items.iter().map(|o| &o.order_id).collect::<Vec<_>>()
    );
    if let Some(cursor) = page.cursor {
        let next = Order::query(&ann.id)
            .limit(3)
            .after(cursor)
            .send(&db)
            .await?;
        println!(
            "next page:       {:?}",
            next.items.iter().map(|o| &o.order_id).collect::<Vec<_>>()
        );
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
    Ok(())
}

fn cents(total: i64) -> f64 {
    total as f64 / 100.0
}
