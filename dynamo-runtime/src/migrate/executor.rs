//! The executor: the lock, the records, and each step against the live
//! table.

use std::{fmt, time::Duration};

use super::{Edit, Rewrite, TransformFn};

use super::{
    Event, MigrateError, MigrationStatus, Plan, PlannedMigration, Report, TRACKING_TABLE,
    WaitPolicy, backfill,
    error::gone,
    call::Call,
    events::Events,
    live::{self, LiveTable},
    summary,
    tracking::{self, Lease, Record, Status, Tracking},
};
use crate::{
    Db, Error, Result,
    model::{Migration, Step},
};

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
    events: Events,
    transforms: Vec<(&'static str, TransformFn)>,
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
            events: Events::default(),
            transforms: Vec::new(),
        }
    }

    /// Gives the executor the function a `transform` step names (`function`
    /// as the step writes it). The generated `migrator` registers every
    /// transform of the migrations; without it, such a step stops the run
    /// with [`MigrateError::TransformUnavailable`].
    pub fn transform(mut self, function: &'static str, apply: TransformFn) -> Self {
        self.transforms.push((function, apply));
        self
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
        self.events = Events::observed(observer);
        self
    }

    fn emit(&self, event: Event) {
        self.events.emit(event);
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
        // Every record write from here on is fenced by the lease.
        let tracking = tracking.fenced(&self.owner);
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
        let newer = self.check_records(&records)?;
        let mut report = Report {
            newer,
            ..Report::default()
        };
        for m in self.sorted() {
            if self.to.is_some_and(|to| m.number > to) {
                break;
            }
            let record = records.iter().find(|r| r.number == m.number);
            if record.is_some_and(|r| r.status == Status::Applied) {
                report.already_applied.push(m.name.to_string());
                continue;
            }
            self.apply(m, record, tracking, lease).await?;
            report.applied.push(m.name.to_string());
        }
        Ok(report)
    }

    /// Checks the records against the migrations; returns the records of
    /// migrations newer than every one this binary knows (a newer version
    /// of the app applied them during a rolling deploy): reported and
    /// ignored, as Flyway does with future migrations.
    fn check_records(&self, records: &[Record]) -> Result<Vec<String>> {
        let latest = self.migrations.iter().map(|m| m.number).max().unwrap_or(0);
        let mut newer = Vec::new();
        for r in records {
            match self.migrations.iter().find(|m| m.number == r.number) {
                None if r.number > latest => {
                    tracing::warn!(
                        migration = %r.name,
                        status = r.status.as_str(),
                        "the tracking table records a migration newer than this binary's; ignored"
                    );
                    newer.push(r.name.clone());
                }
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
                        name: m.name.to_string(),
                        applied: r.checksum.clone(),
                        current: m.checksum.to_string(),
                    }
                    .into());
                }
                Some(_) => {}
            }
        }
        Ok(newer)
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
            name: m.name.to_string(),
            resumed: record.is_some(),
        });
        tracking.start(m, &self.owner, checkpoint.as_ref()).await?;
        for (i, step) in m.steps.iter().enumerate() {
            let summary = summary(step);
            self.emit(Event::StepStarted {
                name: m.name.to_string(),
                step: i + 1,
                summary,
            });
            let resume = checkpoint.as_ref().filter(|c| c.step == i);
            if let Err(e) = self.step(m, i, step, resume, tracking, lease).await {
                // A run that lost the lock must not write the record: the
                // run that holds it now owns it.
                let lost = matches!(e, Error::Migrate(MigrateError::LeaseLost));
                let e = MigrateError::Step {
                    name: m.name.to_string(),
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
            name: m.name.to_string(),
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
        if step.is_state_only() {
            return Ok(());
        }
        let work = match step {
            Step::Backfill(b) => Some(backfill::Work::Backfill(b)),
            Step::Rewrite(r) => Some(backfill::Work::Rewrite(r)),
            _ => None,
        };
        if let Step::Rewrite(Rewrite {
            item,
            edit: Edit::Transform { function, .. },
            ..
        }) = step
            && !self.transforms.iter().any(|(f, _)| f == function)
        {
            return Err(MigrateError::TransformUnavailable {
                migration: m.name.to_string(),
                step: i,
                item: item.to_string(),
                function: function.to_string(),
            }
            .into());
        }
        if let Some(work) = work {
            let cx = backfill::Cx {
                transforms: &self.transforms,
                db: self.db,
                pace: self.backfill_rate,
                events: &self.events,
                migration: m,
                step: i,
                table: &table,
                tracking,
            };
            return cx.run(work, resume, lease).await;
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
            for step in m.steps.iter() {
                if step.is_state_only() {
                    calls.push(format!("(no call: {})", super::report::summary(step)));
                    continue;
                }
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
                name: m.name.to_string(),
                description: m.description.as_deref().map(str::to_owned),
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
                    name: m.name.to_string(),
                    status: record.map_or("pending", |r| r.status.as_str()).to_owned(),
                    applied_at: record.and_then(|r| r.finished_at.clone()),
                    error: record.and_then(|r| r.error.clone()),
                    changed: record.is_some_and(|r| r.checksum != m.checksum),
                    unknown: false,
                    progress: record
                        .filter(|r| r.status != Status::Applied)
                        .and_then(|r| r.checkpoint.as_ref())
                        .map(|c| super::report::StepProgress {
                            step: c.step,
                            summary: m
                                .steps
                                .get(c.step)
                                .map(super::report::summary)
                                .unwrap_or_default(),
                            scanned: c.scanned,
                            updated: c.updated,
                        }),
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
                    progress: None,
                });
            }
        }
        Ok(out)
    }
}
