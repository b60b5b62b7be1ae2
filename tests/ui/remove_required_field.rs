//! Only optional fields can be removed: a required field's path is
//! `Settable`, and `remove` takes an `Optional` one.
use dynamo_tests::fixtures::indexes_collections::shop::{OrderLine, OrderLineKey};

fn main() {
    let key = OrderLineKey {
        customer_id: "c1".into(),
        order_id: "o1".into(),
        line: 1,
    };
    let _ = OrderLine::update(key).remove(|f| f.sku);
}
