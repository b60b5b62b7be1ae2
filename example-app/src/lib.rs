//! The shop's typed DynamoDB client, generated from `schemas/` by
//! `build.rs`: one module per table (here [`shop`]).

dynamo_runtime::include_schema!();
