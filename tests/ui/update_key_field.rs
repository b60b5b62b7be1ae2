//! Key fields cannot be updated: the item would move to another key.
use dynamo_tests::fixtures::indexes_collections::shop::{Order, OrderKey};

fn key() -> OrderKey {
    unimplemented!()
}

fn main() {
    let _ = Order::update(key()).set_order_id("o2");
}
