//! The migration executor: applies numbered migrations to DynamoDB, once
//! each, safely under crashes and concurrent runs.
//!
//! The generator emits every migration of a schema folder as static
//! [`Migration`] data and a `migrations::run(&db)` that calls [`Migrator`];
//! `dynamo-codegen migrate` builds the same data from the files and runs the
//! same executor.
//!
//! How it stays safe:
//! - A **tracking table** (default `dynamo_migrations`, namespaced like
//!   every table) holds one record per migration: the checksum of its file,
//!   its status (`running`, `applied`, `failed`), timestamps, the error of a
//!   failed run and the checkpoint of a backfill.
//! - A **lease lock** in the same table (a conditional put with an owner and
//!   an expiry, renewed while a run waits or backfills) lets one run work at
//!   a time; others wait for it, then find the migrations applied.
//! - Each step **looks at the live table first** (DescribeTable,
//!   DescribeTimeToLive) and makes only the calls still needed, so a run
//!   that crashed resumes where it stopped.
//! - After each call it **waits** until the table and every global index are
//!   ACTIVE, polling with exponential backoff ([`WaitPolicy`]).
//! - A migration is recorded `applied` only after its last step; an applied
//!   migration whose file changed is refused ([`MigrateError::Changed`]).
//!
//! ```no_run
//! # async fn run(db: &dynamo_runtime::Db, migrations: &[dynamo_runtime::migrate::Migration]) -> dynamo_runtime::Result<()> {
//! use dynamo_runtime::migrate::Migrator;
//! let report = Migrator::new(db, migrations).run().await?;
//! println!("applied {} migrations", report.applied.len());
//! # Ok(()) }
//! ```

mod backfill;
mod call;
mod error;
mod events;
mod executor;
mod live;
mod pace;
mod report;
mod rewrite;
mod segments;
mod tracking;
mod wait;
mod worker;

pub use error::MigrateError;
pub use events::Event;
pub use executor::Migrator;
pub use live::{LiveIndex, LiveProjection, LiveTable};
pub use report::{
    MigrationStatus, Plan, PlannedMigration, Report, SegmentState, SegmentStatus, StepProgress,
    summary,
};
pub use wait::WaitPolicy;
pub use worker::WorkReport;

pub use crate::model::{Backfill, Edit, ItemDef, Migration, Rewrite, Step};

/// The generated wrapper of a `transform` step's function: a stored item
/// in, the new item out.
pub type TransformFn = fn(crate::Attributes) -> crate::Result<crate::Attributes>;

/// The default name of the tracking table (before the namespace).
pub const TRACKING_TABLE: &str = "dynamo_migrations";
