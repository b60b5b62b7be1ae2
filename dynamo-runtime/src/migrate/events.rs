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
    /// A change the endpoint cannot make (point-in-time recovery on
    /// DynamoDB Local), left out rather than failing the step.
    Skipped {
        /// What was left out, and why.
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
    /// each page this worker reads.
    Backfill {
        /// The step's `op`, e.g. `backfill` or `rename_attribute`.
        op: &'static str,
        /// The item type.
        item: String,
        /// The segment this worker reads now.
        segment: u32,
        /// The step's segment count.
        segments: u32,
        /// Items of the type this worker read in this step.
        scanned: u64,
        /// Items this worker wrote in this step.
        updated: u64,
        /// Items read by every worker of the step (an estimate, refreshed
        /// every few seconds: a segment taken over is read again from its
        /// last saved position).
        step_scanned: u64,
        /// Workers working on the step, this one included.
        workers: u32,
        /// DynamoDB's estimate of the table's item count (all types).
        estimated_total: Option<u64>,
    },
    /// This worker claimed a segment of a data step.
    SegmentClaimed {
        /// The migration's file name.
        name: String,
        /// The step's position, from 1.
        step: usize,
        /// The segment.
        segment: u32,
        /// The step's segment count.
        segments: u32,
        /// Items of the segment read before (by an earlier owner).
        resumed_at: u64,
        /// The worker whose lease on it had ended, when taken over.
        taken_from: Option<String>,
    },
    /// This worker finished a segment.
    SegmentDone {
        /// The segment.
        segment: u32,
        /// The step's segment count.
        segments: u32,
        /// Items of the type read in it (by every owner).
        scanned: u64,
        /// Items written in it (by every owner).
        updated: u64,
    },
    /// This worker's lease on a segment ended before it could save its
    /// progress (it was paused or cut off): it stopped working on it.
    SegmentLost {
        /// The segment.
        segment: u32,
        /// The step's segment count.
        segments: u32,
    },
    /// DynamoDB throttled a data step's request on every attempt the SDK
    /// made: this worker halved its share of the step's pace and waits
    /// before trying again.
    Throttled {
        /// How long it waits.
        backoff: Duration,
        /// The share of its pace it uses now (1: all of it).
        share: f64,
    },
    /// A data step is running that this executor cannot work on: the
    /// other workers do it.
    CannotJoin {
        /// The migration's number.
        migration: u32,
        /// The step's position, from 1.
        step: usize,
        /// Why not.
        reason: String,
    },
    /// The run that holds the lock waits for other workers to finish a
    /// data step's segments.
    WaitingForSegments {
        /// Segments not done yet.
        remaining: u32,
        /// The step's segment count.
        segments: u32,
        /// Their owners.
        owners: Vec<String>,
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
