//! A condition value must have the field's type.
use dynamo_tests::fixtures::indexes_collections::shop::{Order, OrderKey};

fn key() -> OrderKey {
    OrderKey {
        customer_id: "c1".into(),
        placed_at: dynamo_runtime::Timestamp::UNIX_EPOCH,
        order_id: "o1".into(),
    }
}

fn main() {
    let _ = Order::update(key()).set_total_cents(1).when(|f| f.total_cents.eq("many"));
}
