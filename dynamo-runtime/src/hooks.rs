//! Hooks an app runs around every request a [`Db`](crate::Db) sends (the
//! Java Enhanced Client's extensions, PynamoDB's signals): typed by what
//! the request is, with no cost for a handle without them.

use std::{fmt, sync::Arc, time::Duration};

use crate::Operation;

/// What a request is about to do, for [`DbHooks::before_send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sending<'a> {
    /// The DynamoDB operation.
    pub operation: Operation,
    /// The table, with its namespace (tables, `,`-separated, for a
    /// transaction).
    pub table: &'a str,
    /// The item type (empty for requests of several types).
    pub item_type: &'a str,
}

/// What a request did, for [`DbHooks::after_receive`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Received<'a> {
    /// The DynamoDB operation.
    pub operation: Operation,
    /// The table, as in [`Sending::table`].
    pub table: &'a str,
    /// The item type, as in [`Sending::item_type`].
    pub item_type: &'a str,
    /// Read and write capacity units the response reports (0 when the
    /// request did not ask, which it does when tracing records them or a
    /// [`ReadBudget`](crate::ReadBudget) paces it).
    pub consumed_capacity: f64,
    /// How long the request took, retries by the SDK included.
    pub latency: Duration,
    /// Whether DynamoDB answered without an error.
    pub succeeded: bool,
}

/// Hooks around every request a [`Db`](crate::Db) sends (set with
/// [`Db::with_hooks`](crate::Db::with_hooks)): metrics, auditing, tracing
/// of your own. Both methods have defaults, and run on the task sending
/// the request, so they should be quick.
pub trait DbHooks: Send + Sync + 'static {
    /// Before each request is sent (after any wait for an in-flight slot
    /// or a read budget).
    fn before_send(&self, request: &Sending<'_>) {
        let _ = request;
    }

    /// After each response (or error) is received.
    fn after_receive(&self, response: &Received<'_>) {
        let _ = response;
    }
}

/// A handle's hooks, shared by its clones.
#[derive(Clone)]
pub(crate) struct Hooks(pub(crate) Arc<dyn DbHooks>);

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DbHooks")
    }
}
