//! Converting a typed update into the runtime's `Update` does not bypass
//! its guarantees: `Update`'s actions take the same typed paths, so a key
//! field is `Fixed` there too (and no method sets an attribute by name).
use dynamo_tests::fixtures::indexes_collections::shop::{Order, OrderKey};

fn key() -> OrderKey {
    OrderKey {
        customer_id: "c1".into(),
        placed_at: dynamo_runtime::Timestamp::UNIX_EPOCH,
        order_id: "o1".into(),
    }
}

fn main() {
    let update: dynamo_runtime::Update<Order> = Order::update(key()).set_total_cents(1).into();
    let _ = update.set(|f| f.order_id, "o2");
}
