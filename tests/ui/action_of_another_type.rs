//! The actions of a field are those of its type: `add` is for numbers,
//! so adding to a text field does not compile.
use dynamo_tests::fixtures::indexes_collections::shop::{OrderLine, OrderLineKey};

fn main() {
    let key = OrderLineKey {
        customer_id: "c1".into(),
        order_id: "o1".into(),
        line: 1,
    };
    let _ = OrderLine::update(key).add(|f| f.sku, "1".to_owned());
}
