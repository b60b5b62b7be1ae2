//! Only optional fields can be removed.
use dynamo_tests::fixtures::indexes_collections::shop::{Order, OrderKey};

fn key() -> OrderKey {
    unimplemented!()
}

fn main() {
    let _ = Order::update(key()).remove_total_cents();
}
