//! `handle` is unique (`unique = true`): its markers are kept by put and
//! delete, so updates have no action for it.
use dynamo_tests::fixtures::peer_features::accounts::{Account, AccountKey};

fn main() {
    let key = AccountKey { id: "a1".into() };
    let _ = Account::update(key).set(|f| f.handle, "ann");
}
