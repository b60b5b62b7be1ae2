//! Key fields cannot be updated: the item would move to another key. Their
//! paths are `Fixed`, which no update action takes.
use dynamo_tests::fixtures::indexes_collections::shop::{Order, OrderKey};

fn key() -> OrderKey {
    OrderKey {
        customer_id: "c1".into(),
        placed_at: dynamo_runtime::Timestamp::UNIX_EPOCH,
        order_id: "o1".into(),
    }
}

fn main() {
    let _ = Order::update(key()).set(|f| f.order_id, "o2");
}
