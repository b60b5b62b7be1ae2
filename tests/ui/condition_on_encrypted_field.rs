//! `ssn` is encrypted (`encrypted = true`): a sealed value differs at
//! every write, so conditions can only ask whether it exists.
use dynamo_tests::fixtures::peer_features::accounts::Person;

fn main() {
    let _ = Person::scan().filter(|f| f.ssn.eq("123-45-6789"));
    let _ = Person::scan().filter(|f| f.ssn.exists());
}
