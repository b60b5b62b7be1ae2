//! Index `by_board`'s partition key is (tenant, region): a query names
//! every attribute of it.
use dynamo_tests::fixtures::multi_attribute_keys::tasks::Task;

fn main() {
    let _ = Task::query_by_board("acme");
}
