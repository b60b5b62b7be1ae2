//! Global indexes are eventually consistent: no `consistent()` to call.
use dynamo_tests::fixtures::indexes_collections::shop::Order;

fn main() {
    let _ = Order::query_gsi1("o1").consistent();
}
