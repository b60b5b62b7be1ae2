//! `tier_pk = "{region}#{tier}"`: setting `tier` rewrites `tier_pk`, so it
//! also needs `region`.
use dynamo_tests::fixtures::indexes_collections::shop::{Customer, CustomerKey, CustomerTier};

fn main() {
    let _ = Customer::update(CustomerKey { id: "c1".into() }).set_tier(CustomerTier::Pro);
}
