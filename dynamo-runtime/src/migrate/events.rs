//! What the executor reports while it works.

use std::{sync::Arc, time::Duration};

/// What the executor reports while it works, for progress display. Every
/// event is also logged with `tracing`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Another run holds the lock; this one waits.
    WaitingForLock {
        /// The other run.
        owner: String,
    },
    /// A migration starts (or resumes after a failed or crashed run).
    MigrationStarted {
        /// Its file name.
        name: String,
        /// Whether an earlier run had started it.
        resumed: bool,
    },
    /// A step starts.
    StepStarted {
        /// The migration's file name.
        name: String,
        /// The step's position, from 1.
        step: usize,
        /// What it does, e.g. `add_index by_status on shop`.
        summary: String,
    },
    /// An API call that changes something is sent.
    Call {
        /// The call, as a dry run prints it.
        text: String,
    },
    /// Polling a table or index that is not ready yet.
    Waiting {
        /// What is awaited, e.g. `index by_status of shop to become ACTIVE`.
        what: String,
        /// Its current status.
        status: String,
        /// How long this wait has lasted.
        elapsed: Duration,
    },
    /// A wait ended.
    Ready {
        /// What was awaited.
        what: String,
    },
    /// A data step's progress (a backfill, a rewrite, a transform), after
    /// each page.
    Backfill {
        /// The step's `op`, e.g. `backfill` or `rename_attribute`.
        op: &'static str,
        /// The item type.
        item: String,
        /// Items of the type read so far.
        scanned: u64,
        /// Items written so far.
        updated: u64,
        /// DynamoDB's estimate of the table's item count (all types).
        estimated_total: Option<u64>,
    },
    /// A migration is recorded as applied.
    MigrationApplied {
        /// Its file name.
        name: String,
        /// How long it took.
        elapsed: Duration,
    },
}

/// Where a run's events go: the log, and the observer when one is set.
#[derive(Clone, Default)]
pub(crate) struct Events(Option<Observer>);

type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

impl Events {
    /// Sends events to `observer` too.
    pub(crate) fn observed(observer: impl Fn(&Event) + Send + Sync + 'static) -> Events {
        Events(Some(Arc::new(observer)))
    }

    /// Logs `event` and passes it to the observer.
    pub(crate) fn emit(&self, event: Event) {
        tracing::info!(?event, "migrate");
        if let Some(observer) = &self.0 {
            observer(&event);
        }
    }
}
