//! `LINE#{order_id}#{line:05}`: text order of a variable-width field that
//! is not last is not value order, so it has no range conditions; only
//! equality and begins_with.
use dynamo_tests::fixtures::indexes_collections::shop::OrderLine;

fn main() {
    let _ = OrderLine::query("c1").order_id().lt("o5");
}
