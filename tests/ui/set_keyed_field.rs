//! `lsi_total = "{total_cents:020}"`: a field an index key is built from
//! is `Fixed` for the generic actions, so `set` cannot change it without
//! the key; its own `set_total_cents` rewrites both.
use dynamo_tests::fixtures::indexes_collections::shop::{Order, OrderKey};

fn key() -> OrderKey {
    OrderKey {
        customer_id: "c1".into(),
        placed_at: dynamo_runtime::Timestamp::UNIX_EPOCH,
        order_id: "o1".into(),
    }
}

fn main() {
    let _ = Order::update(key()).set(|f| f.total_cents, 5u64);
}
