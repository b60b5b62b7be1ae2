//! `search` is computed from `first` and `last`: it has no update action
//! of its own, and setting `first` takes the stored `last` too.
use dynamo_tests::fixtures::peer_features::accounts::{Person, PersonKey};

fn main() {
    let key = || PersonKey { id: "p1".into() };
    let _ = Person::update(key()).set(|f| f.search, "anything");
    let _ = Person::update(key()).set_first("Jo");
}
