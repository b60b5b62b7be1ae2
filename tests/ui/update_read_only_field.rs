//! `owner` is read-only (`read_only = true`): set when the account is
//! created, it has no update action.
use dynamo_tests::fixtures::peer_features::accounts::{Account, AccountKey};

fn main() {
    let key = AccountKey { id: "a1".into() };
    let _ = Account::update(key).set(|f| f.owner, "mallory");
}
