//! Index `by_board` sorts by (priority, due, seq), read left to right: a
//! range on `priority` ends the condition, so no condition on `due` can
//! follow it (DynamoDB wants the attributes before a range equal).
use dynamo_tests::fixtures::multi_attribute_keys::tasks::Task;

fn main() {
    let _ = Task::query_by_board("acme", "eu")
        .priority()
        .gt(1)
        .due(2)
        .eq("2026-01-01".parse().unwrap());
}
