//! The untyped layer under the typed update is not public API: an
//! `Update` has no method that sets a field by path (or an attribute by
//! name), so converting a typed update does not bypass its guarantees.
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
    let fields = <Order as dynamo_runtime::Item>::FIELDS;
    let _ = update.set(fields.order_id, "o2");
}
