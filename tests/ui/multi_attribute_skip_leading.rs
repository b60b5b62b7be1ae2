//! Index `by_board` sorts by (priority, due, seq): a condition on `due`
//! takes the `priority` it follows; it cannot be skipped.
use dynamo_tests::fixtures::multi_attribute_keys::tasks::Task;

fn main() {
    let _ = Task::query_by_board("acme", "eu")
        .due()
        .eq("2026-01-01".parse().unwrap());
}
