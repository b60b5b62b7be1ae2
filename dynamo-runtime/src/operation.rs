//! The DynamoDB operations the runtime sends, named in errors and spans.

use std::fmt;

/// A DynamoDB API operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `GetItem`
    GetItem,
    /// `PutItem`
    PutItem,
    /// `DeleteItem`
    DeleteItem,
    /// `UpdateItem`
    UpdateItem,
    /// `Query`
    Query,
    /// `Scan`
    Scan,
    /// `BatchGetItem`
    BatchGetItem,
    /// `BatchWriteItem`
    BatchWriteItem,
    /// `TransactGetItems`
    TransactGetItems,
    /// `TransactWriteItems`
    TransactWriteItems,
    /// `ExecuteStatement` (PartiQL)
    ExecuteStatement,
    /// `CreateTable`
    CreateTable,
    /// `DeleteTable`
    DeleteTable,
    /// `UpdateTable`
    UpdateTable,
    /// `DescribeTable`
    DescribeTable,
    /// `UpdateTimeToLive`
    UpdateTimeToLive,
    /// `DescribeTimeToLive`
    DescribeTimeToLive,
    /// `UpdateContinuousBackups` (point-in-time recovery)
    UpdateContinuousBackups,
    /// `DescribeContinuousBackups` (point-in-time recovery)
    DescribeContinuousBackups,
    /// `ListTables`
    ListTables,
    /// `DescribeStream` (DynamoDB Streams)
    DescribeStream,
    /// `GetShardIterator` (DynamoDB Streams)
    GetShardIterator,
    /// `GetRecords` (DynamoDB Streams)
    GetRecords,
}

impl Operation {
    /// The operation's name in the DynamoDB API, e.g. `PutItem`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::GetItem => "GetItem",
            Operation::PutItem => "PutItem",
            Operation::DeleteItem => "DeleteItem",
            Operation::UpdateItem => "UpdateItem",
            Operation::Query => "Query",
            Operation::Scan => "Scan",
            Operation::BatchGetItem => "BatchGetItem",
            Operation::BatchWriteItem => "BatchWriteItem",
            Operation::TransactGetItems => "TransactGetItems",
            Operation::TransactWriteItems => "TransactWriteItems",
            Operation::ExecuteStatement => "ExecuteStatement",
            Operation::CreateTable => "CreateTable",
            Operation::DeleteTable => "DeleteTable",
            Operation::UpdateTable => "UpdateTable",
            Operation::DescribeTable => "DescribeTable",
            Operation::UpdateTimeToLive => "UpdateTimeToLive",
            Operation::DescribeTimeToLive => "DescribeTimeToLive",
            Operation::UpdateContinuousBackups => "UpdateContinuousBackups",
            Operation::DescribeContinuousBackups => "DescribeContinuousBackups",
            Operation::ListTables => "ListTables",
            Operation::DescribeStream => "DescribeStream",
            Operation::GetShardIterator => "GetShardIterator",
            Operation::GetRecords => "GetRecords",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
