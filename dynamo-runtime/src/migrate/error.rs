//! Errors of the migration executor.

use std::time::Duration;

use crate::Error;

/// Errors of the migration executor.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// An applied migration's file changed.
    #[error(
        "migration {name} was applied with checksum {applied}, but its file now has checksum \
         {current}: an applied migration must not change. Undo the edit, and put the change \
         in a new migration (`dynamo-codegen migration new NAME`)"
    )]
    Changed {
        /// The migration's file name.
        name: String,
        /// The checksum recorded when it was applied.
        applied: String,
        /// The checksum of the file now.
        current: String,
    },
    /// The tracking table knows a migration that is not in the list.
    #[error(
        "the tracking table records migration {number} ({name}) as {status}, but there is no \
         such migration here: was a migration file deleted or renumbered?"
    )]
    Unknown {
        /// Its number.
        number: u32,
        /// Its recorded file name.
        name: String,
        /// Its recorded status.
        status: String,
    },
    /// A step failed; the migration is recorded as failed and the next run
    /// resumes it.
    #[error("migration {name}, step {step} ({op} on `{table}`) failed: {source}")]
    Step {
        /// The migration's file name.
        name: String,
        /// The step's position, from 1.
        step: usize,
        /// The step's op.
        op: &'static str,
        /// The physical table.
        table: String,
        /// The cause.
        #[source]
        source: Box<Error>,
    },
    /// A `data_only` run found live tables that differ from what the
    /// migrations' table steps make; nothing was applied.
    #[error(
        "the live tables differ from the migrations' table steps in {} way{}, so no migration \
         was applied (with data steps only, the infrastructure code owns the tables: apply it \
         first, or change the schema to match):{}",
        differences.len(),
        if differences.len() == 1 { "" } else { "s" },
        differences.iter().map(|d| format!("\n  - {d}")).collect::<String>()
    )]
    Drift {
        /// Each difference: the migration, the step, and the calls a full
        /// run would make.
        differences: Vec<String>,
    },
    /// The live table contradicts a step (e.g. it exists with another key).
    #[error("table `{table}` {problem}")]
    Conflict {
        /// The physical table.
        table: String,
        /// What is wrong.
        problem: String,
    },
    /// A table or index did not become ready in time.
    #[error("gave up after {waited:?} waiting for {what} (status {status})")]
    Timeout {
        /// What was awaited.
        what: String,
        /// Its last status.
        status: String,
        /// How long the wait lasted.
        waited: Duration,
    },
    /// Another run held the lock for longer than the lock timeout.
    #[error("another migration run ({owner}) holds the lock; gave up after {waited:?}")]
    Locked {
        /// The other run.
        owner: String,
        /// How long this run waited.
        waited: Duration,
    },
    /// A backfill could not render an attribute from a stored item: a
    /// field of another type than the migration says, or a value a key
    /// cannot hold.
    #[error(
        "backfill of `{item}`: cannot render `{attribute}` from field `{field}` of a stored item: {problem}"
    )]
    Render {
        /// The item type.
        item: String,
        /// The attribute rendered.
        attribute: String,
        /// The template field.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// A `transform` step's function refused a stored item.
    #[error("transform of `{item}`: the function refused a stored item: {reason}")]
    Transform {
        /// The item type.
        item: String,
        /// The function's reason.
        reason: String,
    },
    /// A `transform` step whose function this executor does not have: the
    /// command line cannot call an app's function.
    #[error(
        "migration {migration} step {step} transforms `{item}` with `{function}`, which only the \
         app can run: apply it with the generated `migrations::run(&db)` (the command line \
         applies the migrations before it and stops here)"
    )]
    TransformUnavailable {
        /// The migration file.
        migration: String,
        /// The step's index.
        step: usize,
        /// The item type.
        item: String,
        /// The function's path.
        function: String,
    },
    /// This run's lease expired and another run took the lock.
    #[error(
        "this run lost the migration lock (its lease expired and another run may have taken it); \
         it stopped. Use a longer lease"
    )]
    LeaseLost,
    /// A worker's lease on a segment of a data step ended (it was paused or
    /// cut off for longer than the lease) before it saved its progress: the
    /// segment resumes from its last saved position, by whichever worker
    /// claims it next.
    #[error(
        "this worker lost its lease on segment {segment} of {segments} (it was paused or cut off \
         for longer than the lease); the segment resumes from its last saved position"
    )]
    SegmentLost {
        /// The segment.
        segment: u32,
        /// The step's segment count.
        segments: u32,
    },
    /// A capacity share was asked for on an on-demand table that sets no
    /// maximum throughput: there is no capacity to take a share of.
    #[error(
        "table `{table}` is on-demand without a maximum throughput, so a share of its capacity \
         means nothing: give a ceiling (`--max-capacity READ,WRITE`, `Migrator::capacity_ceiling`) \
         or an items-per-second cap"
    )]
    NoCapacity {
        /// The table.
        table: String,
    },
}

/// A table that a step works on no longer exists.
pub(crate) fn gone(table: &str) -> Error {
    MigrateError::Conflict {
        table: table.to_owned(),
        problem: "does not exist (was it deleted while the migration ran?)".to_owned(),
    }
    .into()
}
