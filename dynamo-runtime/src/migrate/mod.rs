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
mod live;
mod tracking;

use std::{fmt, sync::Arc, time::Duration};

use call::Call;
pub use live::{LiveIndex, LiveProjection, LiveTable};
use tracking::{Lease, Record, Status, Tracking};

use crate::{Billing, Db, Error, IndexDef, Result, StreamView, TableDef};

/// One migration file, as the executor needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The number from the file name; migrations apply in this order.
    pub number: u32,
    /// The file name, e.g. `0002_orders_by_status.toml`.
    pub name: &'static str,
    /// The file's `description`.
    pub description: Option<&'static str>,
    /// SHA-256 of the file's text, in hex: an applied migration whose file
    /// changed is refused.
    pub checksum: &'static str,
    /// The steps, in order.
    pub steps: &'static [Step],
}

/// A migration step: what it states is all it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Create a table with its indexes, billing, stream and TTL.
    CreateTable(TableDef),
    /// Delete a table and every item in it.
    DeleteTable {
        /// The logical table name.
        table: &'static str,
    },
    /// Add a global secondary index.
    AddIndex {
        /// The logical table name.
        table: &'static str,
        /// The index.
        index: IndexDef,
        /// The table's type attribute, projected by include indexes.
        type_attribute: &'static str,
    },
    /// Remove a global secondary index.
    RemoveIndex {
        /// The logical table name.
        table: &'static str,
        /// The index name.
        index: &'static str,
    },
    /// Turn TTL on or off.
    UpdateTtl {
        /// The logical table name.
        table: &'static str,
        /// The TTL attribute.
        attribute: &'static str,
        /// On or off.
        enabled: bool,
    },
    /// Change the stream view, or turn the stream off (`None`).
    UpdateStream {
        /// The logical table name.
        table: &'static str,
        /// The new view.
        stream: Option<StreamView>,
    },
    /// Change the billing mode or provisioned capacity.
    UpdateBilling {
        /// The logical table name.
        table: &'static str,
        /// The new billing.
        billing: Billing,
    },
    /// Write rendered attributes onto the existing items of one type.
    Backfill(Backfill),
}

impl Step {
    /// The logical table the step works on.
    pub fn table(&self) -> &'static str {
        match self {
            Step::CreateTable(def) => def.name,
            Step::DeleteTable { table }
            | Step::AddIndex { table, .. }
            | Step::RemoveIndex { table, .. }
            | Step::UpdateTtl { table, .. }
            | Step::UpdateStream { table, .. }
            | Step::UpdateBilling { table, .. }
            | Step::Backfill(Backfill { table, .. }) => table,
        }
    }

    /// The step's `op` as written in migration files.
    pub fn op(&self) -> &'static str {
        match self {
            Step::CreateTable(_) => "create_table",
            Step::DeleteTable { .. } => "delete_table",
            Step::AddIndex { .. } => "add_index",
            Step::RemoveIndex { .. } => "remove_index",
            Step::UpdateTtl { .. } => "update_ttl",
            Step::UpdateStream { .. } => "update_stream",
            Step::UpdateBilling { .. } => "update_billing",
            Step::Backfill(_) => "backfill",
        }
    }
}

/// A backfill: for each item of `item` in `table`, render `set` from the
/// item's stored fields (as generated code renders keys) and write the
/// results with a conditional update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backfill {
    /// The logical table name.
    pub table: &'static str,
    /// The item type, as stored in the type attribute.
    pub item: &'static str,
    /// The table's type attribute.
    pub type_attribute: &'static str,
    /// The attributes to write.
    pub set: &'static [Template],
}

/// A key template over an item's stored fields, e.g. `STATUS#{status}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// The attribute written.
    pub attribute: &'static str,
    /// The template as written, for messages and dry runs.
    pub text: &'static str,
    /// The key separator, checked in values of multi-field templates.
    pub separator: Option<&'static str>,
    /// Literal text and fields, in order.
    pub parts: &'static [TemplatePart],
}

/// A piece of a [`Template`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text.
    Literal(&'static str),
    /// A stored field's value.
    Field {
        /// The field's name in the schema.
        field: &'static str,
        /// The attribute it is stored in.
        attribute: &'static str,
        /// How it is stored, so it renders as generated code renders it.
        format: FieldFormat,
        /// Zero-padded width, for integers.
        width: Option<usize>,
    },
}

/// How a template field is stored, and so how it is read and rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldFormat {
    /// Stored as text and rendered as stored (strings, enums, dates, uuids).
    Text,
    /// A signed integer (`N`).
    Signed,
    /// An unsigned integer (`N`).
    Unsigned,
    /// An exact decimal (`N`).
    Number,
    /// A float (`N`).
    Float,
    /// A boolean (`BOOL`).
    Bool,
    /// A datetime stored as RFC 3339 text.
    Timestamp,
    /// A datetime stored as epoch seconds.
    EpochSeconds,
    /// A datetime stored as epoch milliseconds.
    EpochMillis,
}

/// How to poll for tables and indexes to become ACTIVE: exponential
/// backoff from `initial` by `factor` up to `max_interval`, giving up
/// after `timeout`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitPolicy {
    /// The first pause.
    pub initial: Duration,
    /// Each pause is the last one times this.
    pub factor: f64,
    /// The longest pause.
    pub max_interval: Duration,
    /// The longest wait for one change (GSI creation on a large table can
    /// take hours on AWS).
    pub timeout: Duration,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        WaitPolicy {
            initial: Duration::from_millis(200),
            factor: 2.0,
            max_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(6 * 3600),
        }
    }
}

impl WaitPolicy {
    fn next(&self, pause: Duration) -> Duration {
        pause.mul_f64(self.factor.max(1.0)).min(self.max_interval)
    }
}

/// The default name of the tracking table (before the namespace).
pub const TRACKING_TABLE: &str = "dynamo_migrations";

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
        name: &'static str,
        /// Whether an earlier run had started it.
        resumed: bool,
    },
    /// A step starts.
    StepStarted {
        /// The migration's file name.
        name: &'static str,
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
    /// A backfill's progress, after each page.
    Backfill {
        /// The item type.
        item: &'static str,
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
        name: &'static str,
        /// How long it took.
        elapsed: Duration,
    },
}

type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

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
    /// This run's lease expired and another run took the lock.
    #[error(
        "this run lost the migration lock (its lease expired and another run may have taken it); \
         it stopped. Use a longer lease"
    )]
    LeaseLost,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Migrations applied by this run, by file name.
    pub applied: Vec<&'static str>,
    /// Migrations found applied already.
    pub already_applied: Vec<&'static str>,
}

/// Where a migration stands, for `migrate status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Its number.
    pub number: u32,
    /// Its file name.
    pub name: String,
    /// `pending`, or the recorded `running`, `applied` or `failed`.
    pub status: String,
    /// When it was applied.
    pub applied_at: Option<String>,
    /// The error of a failed run.
    pub error: Option<String>,
    /// Whether its file changed since it was recorded.
    pub changed: bool,
    /// Whether the tracking table knows it but the list does not.
    pub unknown: bool,
}

/// The calls a run would make, from [`Migrator::plan`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Calls before any migration (creating the tracking table).
    pub setup: Vec<String>,
    /// Each pending migration with its calls.
    pub migrations: Vec<PlannedMigration>,
}

/// One pending migration in a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMigration {
    /// Its file name.
    pub name: &'static str,
    /// Its description.
    pub description: Option<&'static str>,
    /// The API calls, in order, one per line.
    pub calls: Vec<String>,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for call in &self.setup {
            writeln!(f, "{call}")?;
        }
        if self.migrations.is_empty() {
            return writeln!(f, "nothing to apply: every migration is applied");
        }
        for m in &self.migrations {
            match m.description {
                Some(d) => writeln!(f, "-- {}: {d}", m.name)?,
                None => writeln!(f, "-- {}", m.name)?,
            }
            if m.calls.is_empty() {
                writeln!(f, "(no calls: the live tables already match)")?;
            }
            for call in &m.calls {
                writeln!(f, "{call}")?;
            }
        }
        Ok(())
    }
}

/// Applies migrations: see the [module docs](self).
#[derive(Clone)]
#[must_use]
pub struct Migrator<'a> {
    db: &'a Db,
    migrations: &'a [Migration],
    tracking_table: String,
    to: Option<u32>,
    lease: Duration,
    lock_timeout: Duration,
    wait: WaitPolicy,
    backfill_rate: Option<u32>,
    owner: String,
    observer: Option<Observer>,
}

impl fmt::Debug for Migrator<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migrator")
            .field("migrations", &self.migrations.len())
            .field("tracking_table", &self.tracking_table)
            .field("to", &self.to)
            .field("lease", &self.lease)
            .field("wait", &self.wait)
            .field("backfill_rate", &self.backfill_rate)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl<'a> Migrator<'a> {
    /// An executor of `migrations` (in any order; they apply by number) on
    /// `db`, with the defaults: tracking table [`TRACKING_TABLE`], a 60 s
    /// lease, a 15 min lock timeout, [`WaitPolicy::default`] and backfills
    /// of at most 100 writes per second.
    pub fn new(db: &'a Db, migrations: &'a [Migration]) -> Self {
        Migrator {
            db,
            migrations,
            tracking_table: TRACKING_TABLE.to_owned(),
            to: None,
            lease: Duration::from_secs(60),
            lock_timeout: Duration::from_secs(15 * 60),
            wait: WaitPolicy::default(),
            backfill_rate: Some(100),
            owner: format!(
                "{}-{}",
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            observer: None,
        }
    }

    /// Uses another tracking table (its logical name; the namespace is
    /// added).
    pub fn tracking_table(mut self, name: impl Into<String>) -> Self {
        self.tracking_table = name.into();
        self
    }

    /// Applies migrations up to and including number `n` only.
    pub fn to(mut self, n: u32) -> Self {
        self.to = Some(n);
        self
    }

    /// How long the lock stays valid without renewal: a run that crashes
    /// blocks others this long.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_secs(1));
        self
    }

    /// How long to wait for another run's lock before giving up.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// How to poll tables and indexes until they are ACTIVE.
    pub fn wait_policy(mut self, wait: WaitPolicy) -> Self {
        self.wait = wait;
        self
    }

    /// At most this many backfill writes per second (`None`: no limit).
    pub fn backfill_rate(mut self, writes_per_second: Option<u32>) -> Self {
        self.backfill_rate = writes_per_second.filter(|n| *n > 0);
        self
    }

    /// Names this run in the lock and the records (default: process id and
    /// a random suffix).
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = owner.into();
        self
    }

    /// Calls `observer` with each [`Event`], e.g. to draw progress bars.
    pub fn on_event(mut self, observer: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    fn emit(&self, event: Event) {
        tracing::info!(?event, "migrate");
        if let Some(observer) = &self.observer {
            observer(&event);
        }
    }

    fn sorted(&self) -> Vec<&'a Migration> {
        let mut sorted: Vec<&Migration> = self.migrations.iter().collect();
        sorted.sort_by_key(|m| m.number);
        sorted
    }

    fn tracking(&self) -> Tracking<'a> {
        Tracking::new(self.db, self.db.physical_name(&self.tracking_table))
    }

    /// Applies every pending migration (up to [`to`](Self::to)), each once:
    /// takes the lock, checks the records against the migrations, applies
    /// the rest in order, and releases the lock.
    pub async fn run(&self) -> Result<Report> {
        let tracking = self.tracking();
        tracking.ensure().await?;
        let mut lease = Lease::acquire(
            tracking.clone(),
            self.owner.clone(),
            self.lease,
            self.lock_timeout,
            |owner| {
                self.emit(Event::WaitingForLock {
                    owner: owner.to_owned(),
                })
            },
        )
        .await?;
        let result = self.apply_pending(&tracking, &mut lease).await;
        let released = lease.release().await;
        let report = result?;
        released?;
        Ok(report)
    }

    async fn apply_pending(
        &self,
        tracking: &Tracking<'a>,
        lease: &mut Lease<'a>,
    ) -> Result<Report> {
        let records = tracking.records().await?;
        self.check_records(&records)?;
        let mut report = Report::default();
        for m in self.sorted() {
            if self.to.is_some_and(|to| m.number > to) {
                break;
            }
            let record = records.iter().find(|r| r.number == m.number);
            if record.is_some_and(|r| r.status == Status::Applied) {
                report.already_applied.push(m.name);
                continue;
            }
            self.apply(m, record, tracking, lease).await?;
            report.applied.push(m.name);
        }
        Ok(report)
    }

    fn check_records(&self, records: &[Record]) -> Result<()> {
        for r in records {
            match self.migrations.iter().find(|m| m.number == r.number) {
                None => {
                    return Err(MigrateError::Unknown {
                        number: r.number,
                        name: r.name.clone(),
                        status: r.status.as_str().to_owned(),
                    }
                    .into());
                }
                Some(m) if r.status == Status::Applied && r.checksum != m.checksum => {
                    return Err(MigrateError::Changed {
                        name: m.name.to_owned(),
                        applied: r.checksum.clone(),
                        current: m.checksum.to_owned(),
                    }
                    .into());
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    async fn apply(
        &self,
        m: &'a Migration,
        record: Option<&Record>,
        tracking: &Tracking<'a>,
        lease: &mut Lease<'a>,
    ) -> Result<()> {
        let started = std::time::Instant::now();
        // A backfill checkpoint is only trusted for the same file.
        let checkpoint = record
            .filter(|r| r.checksum == m.checksum)
            .and_then(|r| r.checkpoint.clone());
        self.emit(Event::MigrationStarted {
            name: m.name,
            resumed: record.is_some(),
        });
        tracking.start(m, &self.owner, checkpoint.as_ref()).await?;
        for (i, step) in m.steps.iter().enumerate() {
            let summary = summary(step);
            self.emit(Event::StepStarted {
                name: m.name,
                step: i + 1,
                summary,
            });
            let resume = checkpoint.as_ref().filter(|c| c.step == i);
            if let Err(e) = self.step(m, i, step, resume, tracking, lease).await {
                // A run that lost the lock must not write the record: the
                // run that holds it now owns it.
                let lost = matches!(e, Error::Migrate(MigrateError::LeaseLost));
                let e = MigrateError::Step {
                    name: m.name.to_owned(),
                    step: i + 1,
                    op: step.op(),
                    table: self.db.physical_name(step.table()),
                    source: Box::new(e),
                };
                if !lost {
                    tracking.fail(m, &e.to_string()).await;
                }
                return Err(e.into());
            }
        }
        tracking.finish(m).await?;
        self.emit(Event::MigrationApplied {
            name: m.name,
            elapsed: started.elapsed(),
        });
        Ok(())
    }

    async fn step(
        &self,
        m: &'a Migration,
        i: usize,
        step: &'a Step,
        resume: Option<&tracking::Checkpoint>,
        tracking: &Tracking<'a>,
        lease: &mut Lease<'a>,
    ) -> Result<()> {
        let table = self.db.physical_name(step.table());
        if let Step::Backfill(b) = step {
            let cx = backfill::Cx {
                migrator: self,
                migration: m,
                step: i,
                table: &table,
                tracking,
            };
            return cx.run(b, resume, lease).await;
        }
        let live = LiveTable::describe(self.db, &table).await?;
        let calls = live::plan(step, live.as_ref(), &table)?;
        for call in &calls {
            self.emit(Event::Call {
                text: call.to_string(),
            });
            call.send(self.db).await?;
            self.wait_after(call, lease).await?;
        }
        if calls.is_empty() && !matches!(step, Step::DeleteTable { .. }) {
            // A resumed step may find its change still in progress.
            self.wait_ready(&table, lease).await?;
        }
        Ok(())
    }

    async fn wait_after(&self, call: &Call, lease: &mut Lease<'a>) -> Result<()> {
        match call {
            Call::DeleteTable { table } => {
                self.wait_for(table, lease, "to be deleted", |live| match live {
                    None => Ok(None),
                    Some(t) => Ok(Some(t.status.clone())),
                })
                .await
            }
            Call::DeleteIndex { table, index } => {
                let what = format!("index {index} to be deleted");
                self.wait_for(table, lease, &what, |live| match live {
                    None => Err(gone(table)),
                    Some(t) => Ok(t.index(index).map(|i| i.status.clone())),
                })
                .await?;
                self.wait_ready(table, lease).await
            }
            Call::UpdateTtl { .. } => Ok(()),
            other => self.wait_ready(other.table(), lease).await,
        }
    }

    /// Waits until the table and every global index are ACTIVE (and no
    /// index is backfilling).
    async fn wait_ready(&self, table: &str, lease: &mut Lease<'a>) -> Result<()> {
        self.wait_for(table, lease, "to become ACTIVE", |live| match live {
            None => Err(gone(table)),
            Some(t) => Ok(t.not_ready()),
        })
        .await
    }

    /// Polls `table` until `pending` says nothing is pending (`Ok(None)`),
    /// renewing the lease while it waits.
    async fn wait_for(
        &self,
        table: &str,
        lease: &mut Lease<'a>,
        what: &str,
        pending: impl Fn(Option<&LiveTable>) -> Result<Option<String>>,
    ) -> Result<()> {
        let started = std::time::Instant::now();
        let what = format!("table {table} {what}");
        let mut pause = self.wait.initial;
        let mut waited = false;
        loop {
            let live = LiveTable::describe(self.db, table).await?;
            let Some(status) = pending(live.as_ref())? else {
                if waited {
                    self.emit(Event::Ready { what });
                }
                return Ok(());
            };
            let elapsed = started.elapsed();
            if elapsed >= self.wait.timeout {
                return Err(MigrateError::Timeout {
                    what,
                    status,
                    waited: elapsed,
                }
                .into());
            }
            self.emit(Event::Waiting {
                what: what.clone(),
                status,
                elapsed,
            });
            waited = true;
            lease.renew().await?;
            tokio::time::sleep(pause).await;
            pause = self.wait.next(pause);
        }
    }

    /// The calls [`run`](Self::run) would make now, without making any:
    /// reads the tracking table and the live tables, and simulates each
    /// call's effect on later steps. Backfills show their scan and the
    /// update made per item.
    pub async fn plan(&self) -> Result<Plan> {
        let tracking = self.tracking();
        let mut plan = Plan::default();
        let records = if LiveTable::describe(self.db, tracking.table())
            .await?
            .is_some()
        {
            tracking.records().await?
        } else {
            plan.setup.push(tracking.create_call().to_string());
            Vec::new()
        };
        self.check_records(&records)?;
        let mut tables: std::collections::BTreeMap<String, Option<LiveTable>> = Default::default();
        for m in self.sorted() {
            if self.to.is_some_and(|to| m.number > to) {
                break;
            }
            if records
                .iter()
                .any(|r| r.number == m.number && r.status == Status::Applied)
            {
                continue;
            }
            let mut calls = Vec::new();
            for step in m.steps {
                let table = self.db.physical_name(step.table());
                if !tables.contains_key(&table) {
                    let live = LiveTable::describe(self.db, &table).await?;
                    tables.insert(table.clone(), live);
                }
                let live = tables.entry(table.clone()).or_default();
                for call in live::plan(step, live.as_ref(), &table)? {
                    live::simulate(live, &call);
                    calls.push(call.to_string());
                }
            }
            plan.migrations.push(PlannedMigration {
                name: m.name,
                description: m.description,
                calls,
            });
        }
        Ok(plan)
    }

    /// Every migration with its recorded state, then any recorded migration
    /// the list does not have.
    pub async fn status(&self) -> Result<Vec<MigrationStatus>> {
        let tracking = self.tracking();
        let records = if LiveTable::describe(self.db, tracking.table())
            .await?
            .is_some()
        {
            tracking.records().await?
        } else {
            Vec::new()
        };
        let mut out: Vec<MigrationStatus> = self
            .sorted()
            .into_iter()
            .map(|m| {
                let record = records.iter().find(|r| r.number == m.number);
                MigrationStatus {
                    number: m.number,
                    name: m.name.to_owned(),
                    status: record.map_or("pending", |r| r.status.as_str()).to_owned(),
                    applied_at: record.and_then(|r| r.finished_at.clone()),
                    error: record.and_then(|r| r.error.clone()),
                    changed: record.is_some_and(|r| r.checksum != m.checksum),
                    unknown: false,
                }
            })
            .collect();
        for r in &records {
            if !self.migrations.iter().any(|m| m.number == r.number) {
                out.push(MigrationStatus {
                    number: r.number,
                    name: r.name.clone(),
                    status: r.status.as_str().to_owned(),
                    applied_at: r.finished_at.clone(),
                    error: r.error.clone(),
                    changed: false,
                    unknown: true,
                });
            }
        }
        Ok(out)
    }
}

fn gone(table: &str) -> Error {
    MigrateError::Conflict {
        table: table.to_owned(),
        problem: "does not exist (was it deleted while the migration ran?)".to_owned(),
    }
    .into()
}

/// A one-line summary of a step, e.g. `add_index by_status on shop`.
pub fn summary(step: &Step) -> String {
    let table = step.table();
    match step {
        Step::CreateTable(_) => format!("create_table {table}"),
        Step::DeleteTable { .. } => format!("delete_table {table}"),
        Step::AddIndex { index, .. } => format!("add_index {} on {table}", index.name),
        Step::RemoveIndex { index, .. } => format!("remove_index {index} on {table}"),
        Step::UpdateTtl {
            attribute, enabled, ..
        } => format!(
            "update_ttl {table}: {} on `{attribute}`",
            if *enabled { "enable" } else { "disable" }
        ),
        Step::UpdateStream { stream, .. } => format!(
            "update_stream {table}: {}",
            stream.map_or("disabled", StreamView::name)
        ),
        Step::UpdateBilling { billing, .. } => format!(
            "update_billing {table}: {}",
            match billing {
                Billing::OnDemand => "on demand".to_owned(),
                Billing::Provisioned(t) => format!("{} read / {} write units", t.read, t.write),
            }
        ),
        Step::Backfill(b) => format!(
            "backfill {} in {table}: {}",
            b.item,
            b.set
                .iter()
                .map(|t| format!("{} = \"{}\"", t.attribute, t.text))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
