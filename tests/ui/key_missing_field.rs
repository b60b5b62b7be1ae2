//! A key needs every field of the table's key templates.
use dynamo_tests::fixtures::indexes_collections::shop::OrderKey;

fn main() {
    let _ = OrderKey {
        customer_id: "c1".into(),
        order_id: "o1".into(),
    };
}
