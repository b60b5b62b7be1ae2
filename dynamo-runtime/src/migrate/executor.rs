//! The executor: the lock, the records, and each step against the live
//! table.

use std::{fmt, pin::pin, time::Duration};

use futures_util::future::{Either, join_all, select};

use super::{Edit, Rewrite, TransformFn};

use super::{
    Event, MigrateError, MigrationStatus, Plan, PlannedMigration, Report, TRACKING_TABLE,
    WaitPolicy,
    backfill::Work,
    call::Call,
    error::gone,
    events::Events,
    live::{self, LiveTable},
    pace::Pace,
    report::{SegmentState, SegmentStatus, StepProgress},
    segments::Job,
    summary,
    tracking::{Lease, Record, Status, Tracking},
    worker::{Context, WorkReport, Worker},
};
use crate::{
    Billing, Db, Error, Result, Throughput, Timestamp,
    model::{Migration, Step},
};

/// The most segments DynamoDB's parallel scan takes.
const MAX_SEGMENTS: u32 = 1_000_000;
/// Items per segment when the count is chosen from the table's size.
const ITEMS_PER_SEGMENT: u64 = 25_000;
/// Bytes per segment when the count is chosen from the table's size.
const BYTES_PER_SEGMENT: u64 = 25 * 1024 * 1024;
/// Items per second one worker writes with one request in flight (the
/// rate measured on DynamoDB Local; on AWS, within a region, similar):
/// a capacity share gets enough segments to use it.
const ITEMS_PER_SECOND_PER_SEGMENT: f64 = 500.0;

/// Applies migrations: see the [module docs](crate::migrate).
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
    segments: Option<u32>,
    concurrency: u32,
    capacity_share: Option<f64>,
    capacity_ceiling: Option<Throughput>,
    idle_wait: Duration,
    owner: String,
    events: Events,
    transforms: Vec<(&'static str, TransformFn)>,
    data_only: bool,
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
            .field("segments", &self.segments)
            .field("concurrency", &self.concurrency)
            .field("capacity_share", &self.capacity_share)
            .field("capacity_ceiling", &self.capacity_ceiling)
            .field("owner", &self.owner)
            .field("data_only", &self.data_only)
            .finish_non_exhaustive()
    }
}

/// `host:pid-random`: which machine and process a lock or segment
/// belongs to, in `migrate status`, unique even when process ids repeat
/// across hosts.
fn default_owner() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    format!(
        "{host}:{}-{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// A saved scan position as text: `pk=ORDER#1, sk=2`.
fn key_text(key: &crate::Attributes) -> String {
    let mut parts: Vec<String> = key
        .iter()
        .map(|(name, value)| {
            let value = match value {
                aws_sdk_dynamodb::types::AttributeValue::S(s) => s.clone(),
                aws_sdk_dynamodb::types::AttributeValue::N(n) => n.clone(),
                other => format!("{other:?}"),
            };
            format!("{name}={value}")
        })
        .collect();
    parts.sort();
    parts.join(", ")
}

/// A run's part in other runs' data steps.
#[derive(Default)]
struct Helper<'m, 'a> {
    /// The workers of the current job.
    workers: Vec<Worker<'m, 'a>>,
    /// A job this binary cannot work on (reported once).
    skipped: Option<String>,
    /// The totals of earlier jobs.
    report: WorkReport,
}

/// Adds `more` to `report`.
fn add(report: &mut WorkReport, more: WorkReport) {
    report.segments += more.segments;
    report.scanned += more.scanned;
    report.updated += more.updated;
}

/// The segment count of a data step on `live` at `pace`: one per
/// [`ITEMS_PER_SEGMENT`] items or [`BYTES_PER_SEGMENT`] bytes, and enough
/// for the pace's item rate (or its write units, an item costing at least
/// one) at [`ITEMS_PER_SECOND_PER_SEGMENT`].
pub(crate) fn choose_segments(live: &LiveTable, pace: &Pace) -> u32 {
    let by_items = live.item_count.unwrap_or(0).div_ceil(ITEMS_PER_SEGMENT);
    let by_bytes = live.size_bytes.unwrap_or(0).div_ceil(BYTES_PER_SEGMENT);
    let rate = match (pace.items, pace.write_units) {
        (Some(items), Some(units)) => items.min(units),
        (Some(rate), None) | (None, Some(rate)) => rate,
        (None, None) => 0.0,
    };
    let by_rate = (rate / ITEMS_PER_SECOND_PER_SEGMENT).ceil() as u64;
    let segments = by_items.max(by_bytes).max(by_rate).max(1);
    u32::try_from(segments)
        .unwrap_or(MAX_SEGMENTS)
        .min(MAX_SEGMENTS)
}

impl<'a> Migrator<'a> {
    /// An executor of `migrations` (in any order; they apply by number) on
    /// `db`, with the defaults: tracking table [`TRACKING_TABLE`], a 60 s
    /// lease, a 15 min lock timeout, [`WaitPolicy::default`], data steps of
    /// at most 100 item writes per second (split across their workers),
    /// segments chosen from the table's size, and no capacity share.
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
            segments: None,
            concurrency: 1,
            capacity_share: None,
            capacity_ceiling: None,
            idle_wait: Duration::from_secs(60),
            owner: default_owner(),
            events: Events::default(),
            transforms: Vec::new(),
            data_only: false,
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

    /// Runs the data steps only, for tables another tool owns
    /// (CloudFormation, Terraform: see `dynamo-codegen export`). Before
    /// applying anything, every table step of the pending migrations is
    /// checked against the live tables instead of being made; if any would
    /// change a table, the run stops with [`MigrateError::Drift`] naming
    /// each difference, and applies nothing. Otherwise the data steps run
    /// as usual and each migration is recorded as applied.
    pub fn data_only(mut self, data_only: bool) -> Self {
        self.data_only = data_only;
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

    /// At most this many item writes per second in a data step (a
    /// backfill, a rewrite, a transform), for all its workers together
    /// (`None`: no limit). The run that starts a step sets its pace; the
    /// workers that join it split it.
    pub fn backfill_rate(mut self, writes_per_second: Option<u32>) -> Self {
        self.backfill_rate = writes_per_second.filter(|n| *n > 0);
        self
    }

    /// Splits each data step into this many parallel-scan segments (1 to
    /// 1,000,000), each claimed by one worker at a time and saved after
    /// each page. Default: one per 25,000 items or 25 MB of the table
    /// (DynamoDB's estimates), and enough for the capacity share to keep
    /// the workers busy.
    pub fn segments(mut self, segments: Option<u32>) -> Self {
        self.segments = segments.map(|n| n.clamp(1, MAX_SEGMENTS));
        self
    }

    /// Works this many segments of a data step at once in this process (each
    /// a worker of its own, named `owner/k`, with one request in flight;
    /// default 1). A worker's rate is one item per round trip, so on
    /// DynamoDB a few per process multiply what one host does.
    pub fn concurrency(mut self, workers: u32) -> Self {
        self.concurrency = workers.max(1);
        self
    }

    /// Paces data steps to this share (0 to 1] of the table's read and
    /// write capacity, for all workers together: its provisioned capacity,
    /// or on an on-demand table its maximum throughput or the
    /// [`capacity_ceiling`](Self::capacity_ceiling). Each worker spends its
    /// part as DynamoDB reports capacity consumed, and halves it while
    /// DynamoDB throttles. Applies with [`backfill_rate`](Self::backfill_rate)
    /// (whichever is slower).
    pub fn capacity_share(mut self, share: Option<f64>) -> Self {
        self.capacity_share = share.filter(|s| *s > 0.0).map(|s| s.min(1.0));
        self
    }

    /// The read and write units per second that a
    /// [`capacity_share`](Self::capacity_share) of an on-demand table is
    /// taken of (on-demand tables have no capacity of their own).
    pub fn capacity_ceiling(mut self, ceiling: Option<Throughput>) -> Self {
        self.capacity_ceiling = ceiling;
        self
    }

    /// How long [`work`](Self::work) waits for a data step to join when
    /// none is running and no run holds the lock (default 60 s).
    pub fn idle_wait(mut self, wait: Duration) -> Self {
        self.idle_wait = wait;
        self
    }

    /// Names this run in the lock, the records and the segments it works
    /// (default: `host:pid-random`).
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

    /// The migrations a run would apply, in order: up to
    /// [`to`](Self::to), not recorded as applied.
    fn pending<'r>(&self, records: &'r [Record]) -> impl Iterator<Item = &'a Migration> + 'r
    where
        'a: 'r,
    {
        let to = self.to;
        self.sorted()
            .into_iter()
            .take_while(move |m| to.is_none_or(|to| m.number <= to))
            .filter(move |m| {
                !records
                    .iter()
                    .any(|r| r.number == m.number && r.status == Status::Applied)
            })
    }

    fn tracking(&self) -> Tracking<'a> {
        Tracking::new(self.db, self.db.physical_name(&self.tracking_table))
    }

    /// Applies every pending migration (up to [`to`](Self::to)), each once:
    /// takes the lock, checks the records against the migrations, applies
    /// the rest in order, and releases the lock. While another run holds
    /// the lock, this one works on that run's data step, if one is running
    /// (as [`work`](Self::work) does), and takes the lock when it is free.
    pub async fn run(&self) -> Result<Report> {
        let tracking = self.tracking();
        tracking.ensure().await?;
        let mut idle = Duration::ZERO;
        let mut reported = String::new();
        let mut helper = Helper::default();
        let mut lease = loop {
            let lease =
                Lease::try_acquire(tracking.clone(), self.owner.clone(), self.lease).await?;
            let holder = match lease {
                Ok(lease) => break lease,
                Err(holder) => holder,
            };
            if holder != reported {
                self.emit(Event::WaitingForLock {
                    owner: holder.clone(),
                });
                reported = holder.clone();
            }
            if self.help(&tracking, &mut helper).await? {
                continue;
            }
            if idle >= self.lock_timeout {
                return Err(MigrateError::Locked {
                    owner: holder,
                    waited: idle,
                }
                .into());
            }
            let pause = Duration::from_millis(250).min(self.lease / 4);
            tokio::time::sleep(pause).await;
            idle += pause;
        };
        // Every record write from here on is fenced by the lease.
        let tracking = tracking.fenced(&self.owner);
        let result = self.apply_pending(&tracking, &mut lease).await;
        let released = lease.release().await;
        let report = result?;
        released?;
        Ok(report)
    }

    /// Joins the data steps that other runs start, without applying any
    /// migration: claims segments of the running step, works them, and
    /// repeats. Returns when no step has a segment left to claim and no
    /// run holds the lock (waiting up to [`idle_wait`](Self::idle_wait) for
    /// one to start). A step whose migration file differs from this
    /// binary's, or whose `transform` function it lacks, is left to others.
    pub async fn work(&self) -> Result<WorkReport> {
        let tracking = self.tracking();
        let mut helper = Helper::default();
        let mut last_active = std::time::Instant::now();
        loop {
            if LiveTable::describe(self.db, tracking.table())
                .await?
                .is_some()
            {
                if self.help(&tracking, &mut helper).await? {
                    last_active = std::time::Instant::now();
                    continue;
                }
                let (_, lock_held) = tracking.current_job().await?;
                if lock_held {
                    last_active = std::time::Instant::now();
                }
            }
            if last_active.elapsed() >= self.idle_wait {
                let mut report = helper.report;
                for worker in helper.workers {
                    add(&mut report, worker.report);
                }
                return Ok(report);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The worker's view of this run.
    fn context<'m>(&'m self, tracking: &'m Tracking<'a>, owner: String) -> Context<'m, 'a> {
        Context {
            db: self.db,
            transforms: &self.transforms,
            events: &self.events,
            tracking,
            owner,
            lease: self.lease,
        }
    }

    /// The workers of this run on `job`: one per [`concurrency`](Self::concurrency),
    /// named `owner/k` when there are several.
    async fn workers<'m>(
        &'m self,
        tracking: &'m Tracking<'a>,
        job: &Job,
        m: &'a Migration,
        work: Work<'a>,
        table: &str,
    ) -> Result<Vec<Worker<'m, 'a>>> {
        let mut workers = Vec::new();
        for k in 0..self.concurrency {
            let owner = if self.concurrency == 1 {
                self.owner.clone()
            } else {
                format!("{}/{k}", self.owner)
            };
            let cx = self.context(tracking, owner);
            workers.push(Worker::new(cx, job.clone(), m, work, table.to_owned()).await?);
        }
        Ok(workers)
    }

    /// Works segments of the data step on the lock item, if any: `true`
    /// when it worked one. `helper` keeps the worker of the current job
    /// between calls, and the totals of the jobs before.
    async fn help<'m>(
        &'m self,
        tracking: &'m Tracking<'a>,
        helper: &mut Helper<'m, 'a>,
    ) -> Result<bool> {
        let (job, _) = tracking.current_job().await?;
        let Some(job) = job else {
            return Ok(false);
        };
        if helper.skipped.as_deref() == Some(&*job.id) {
            return Ok(false);
        }
        if helper.workers.first().is_none_or(|w| w.job.id != job.id) {
            for old in helper.workers.drain(..) {
                add(&mut helper.report, old.report);
            }
            let (m, work) = match self.joinable(&job) {
                Ok(joinable) => joinable,
                Err(reason) => {
                    self.emit(Event::CannotJoin {
                        migration: job.migration,
                        step: job.step + 1,
                        reason,
                    });
                    helper.skipped = Some(job.id);
                    return Ok(false);
                }
            };
            let table = self.db.physical_name(m.steps[job.step].table());
            helper.workers = self.workers(tracking, &job, m, work, &table).await?;
        }
        let results = join_all(helper.workers.iter_mut().map(Worker::work_all)).await;
        let mut worked = false;
        for result in results {
            worked |= result?;
        }
        Ok(worked)
    }

    /// The migration and data work of `job`, when this binary can do it;
    /// else why not.
    fn joinable(&self, job: &Job) -> std::result::Result<(&'a Migration, Work<'a>), String> {
        let Some(m) = self
            .migrations
            .iter()
            .find(|m| m.number == job.migration && *m.checksum == *job.checksum)
        else {
            return Err(
                "this binary does not have that migration file, or has another version of it"
                    .to_owned(),
            );
        };
        let Some(work) = m.steps.get(job.step).and_then(Work::of) else {
            return Err("its step is not a data step in this binary's migration file".to_owned());
        };
        if let Work::Rewrite(Rewrite {
            edit: Edit::Transform { function, .. },
            ..
        }) = work
            && !self.transforms.iter().any(|(f, _)| f == function)
        {
            return Err(format!(
                "it transforms items with `{function}`, which only the app's executor has"
            ));
        }
        Ok((m, work))
    }

    async fn apply_pending(
        &self,
        tracking: &Tracking<'a>,
        lease: &mut Lease<'a>,
    ) -> Result<Report> {
        let records = tracking.records().await?;
        let newer = self.check_records(&records)?;
        if self.data_only {
            let differences = self.drift(&records).await?;
            if !differences.is_empty() {
                return Err(MigrateError::Drift { differences }.into());
            }
        }
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
        // The steps done and the running data step of an earlier run are
        // only trusted for the same file.
        let earlier = record.filter(|r| r.checksum == m.checksum);
        self.emit(Event::MigrationStarted {
            name: m.name.to_string(),
            resumed: record.is_some(),
        });
        tracking.start(m, &self.owner, earlier.is_some()).await?;
        let next = earlier.map_or(0, |r| r.next_step);
        for (i, step) in m.steps.iter().enumerate() {
            if i < next {
                continue;
            }
            let summary = summary(step);
            self.emit(Event::StepStarted {
                name: m.name.to_string(),
                step: i + 1,
                summary,
            });
            let job = earlier.and_then(|r| r.job.clone()).filter(|j| j.step == i);
            if let Err(e) = self.step(m, i, step, job, tracking, lease).await {
                // A run that lost the lock must not write the record (the
                // run that holds it now owns it), and says just that.
                if matches!(e, Error::Migrate(MigrateError::LeaseLost)) {
                    return Err(e);
                }
                let e = MigrateError::Step {
                    name: m.name.to_string(),
                    step: i + 1,
                    op: step.op(),
                    table: self.db.physical_name(step.table()),
                    source: Box::new(e),
                };
                tracking.fail(m, &e.to_string()).await;
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
        job: Option<Job>,
        tracking: &Tracking<'a>,
        lease: &mut Lease<'a>,
    ) -> Result<()> {
        let table = self.db.physical_name(step.table());
        if step.is_state_only() {
            return tracking.step_done(m, i).await;
        }
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
        if let Some(work) = Work::of(step) {
            return self
                .data_step(m, i, work, job, table, tracking, lease)
                .await;
        }
        let mut live = LiveTable::describe(self.db, &table).await?;
        live::prepare(step, live.as_mut(), self.db, &table).await?;
        let mut calls = live::plan(step, live.as_ref(), &table)?;
        if self.data_only {
            // Checked before the run; a table that changed since is
            // reported, never changed.
            calls.retain(|c| !c.is_unsupported());
            if let Some(call) = calls.first() {
                return Err(MigrateError::Drift {
                    differences: vec![format!("{}: a full run would send {call}", summary(step))],
                }
                .into());
            }
        }
        for call in &calls {
            if call.is_unsupported() {
                self.emit(Event::Skipped {
                    text: call.to_string(),
                });
                continue;
            }
            self.emit(Event::Call {
                text: call.to_string(),
            });
            if !call.send(self.db).await? {
                self.emit(Event::Skipped {
                    text: format!("{call}: the endpoint does not know this operation"),
                });
                continue;
            }
            self.wait_after(call, lease).await?;
        }
        if calls.is_empty() && !matches!(step, Step::DeleteTable { .. }) {
            // A resumed step may find its change still in progress.
            self.wait_ready(&table, lease).await?;
        }
        tracking.step_done(m, i).await
    }

    /// Runs a data step as a job shared by every worker that joins: starts
    /// it (or takes up the one an earlier run started), works its segments
    /// too, and waits until every segment is done.
    #[allow(clippy::too_many_arguments)]
    async fn data_step(
        &self,
        m: &'a Migration,
        i: usize,
        work: Work<'a>,
        job: Option<Job>,
        table: String,
        tracking: &Tracking<'a>,
        lease: &mut Lease<'a>,
    ) -> Result<()> {
        let job = match job {
            Some(job) => job,
            None => {
                let live = LiveTable::describe(self.db, &table)
                    .await?
                    .ok_or_else(|| gone(&table))?;
                let job = self.new_job(m, i, &live, &table)?;
                tracking.create_segments(&job).await?;
                tracking.record_job(m, &job).await?;
                job
            }
        };
        tracking.publish(Some(&job), &self.owner).await?;
        let segments = job.segments;
        let mut workers = self.workers(tracking, &job, m, work, &table).await?;
        let mut pause = Duration::from_millis(200);
        loop {
            // The workers claim and work segments until none is left to
            // claim, while the lock's lease is renewed beside them.
            let all = join_all(workers.iter_mut().map(Worker::work_all));
            let renew = async {
                loop {
                    tokio::time::sleep(self.lease / 6).await;
                    if let Err(e) = lease.renew().await {
                        return e;
                    }
                }
            };
            let results = match select(pin!(all), pin!(renew)).await {
                Either::Left((results, _)) => results,
                Either::Right((lost, _)) => return Err(lost),
            };
            for result in results {
                result?;
            }
            let remaining = workers[0].remaining().await?;
            if remaining.is_empty() {
                break;
            }
            let mut owners: Vec<String> =
                remaining.iter().filter_map(|s| s.owner.clone()).collect();
            owners.sort();
            owners.dedup();
            self.emit(Event::WaitingForSegments {
                remaining: u32::try_from(remaining.len()).unwrap_or(u32::MAX),
                segments,
                owners,
            });
            lease.renew().await?;
            // Wake up no later than the earliest lease to end, to take its
            // segment over.
            let now = Timestamp::now().as_millisecond();
            let ends = remaining
                .iter()
                .map(|s| s.expires_at.saturating_sub(now).max(0))
                .min()
                .unwrap_or(0);
            let until_end = Duration::from_millis(u64::try_from(ends).unwrap_or(0) + 10);
            tokio::time::sleep(pause.min(until_end)).await;
            pause = (pause * 2).min(Duration::from_secs(2)).min(self.lease / 4);
        }
        for worker in &mut workers {
            worker.leave().await?;
        }
        // Recorded once, by the run that holds the lock; then the job and
        // its segments go.
        tracking.step_done(m, i).await?;
        tracking.publish(None, &self.owner).await?;
        tracking.delete_segments(&job).await
    }

    /// A new job for step `i` of `m` on `live`: its segment count and its
    /// pace.
    fn new_job(&self, m: &Migration, i: usize, live: &LiveTable, table: &str) -> Result<Job> {
        let pace = self.pace(live, table)?;
        let segments = self
            .segments
            .unwrap_or_else(|| choose_segments(live, &pace));
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        Ok(Job {
            id: format!("{:010}-{:03}-{}", m.number, i, &suffix[..8]),
            migration: m.number,
            checksum: m.checksum.to_string(),
            step: i,
            segments,
            pace,
            estimated_items: live.item_count,
        })
    }

    /// The pace of a data step on `live` (`table`): the item rate and the
    /// capacity share of this executor's settings.
    fn pace(&self, live: &LiveTable, table: &str) -> Result<Pace> {
        let capacity = match (self.capacity_share, live.billing) {
            (None, _) => None,
            (Some(share), Billing::Provisioned(t)) => Some((share, t)),
            (Some(share), Billing::OnDemand) => {
                match live.on_demand_max.or(self.capacity_ceiling) {
                    Some(t) => Some((share, t)),
                    None => {
                        return Err(MigrateError::NoCapacity {
                            table: table.to_owned(),
                        }
                        .into());
                    }
                }
            }
        };
        Ok(Pace {
            items: self.backfill_rate.map(f64::from),
            read_units: capacity.map(|(share, t)| share * t.read as f64),
            write_units: capacity.map(|(share, t)| share * t.write as f64),
        })
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
        for m in self.pending(&records) {
            let mut calls = Vec::new();
            for step in m.steps.iter() {
                if step.is_state_only() {
                    calls.push(format!("(no call: {})", super::report::summary(step)));
                    continue;
                }
                let (table, live) = self.simulated(&mut tables, step).await?;
                let planned = live::plan(step, live.as_ref(), &table)?;
                if self.data_only && Work::of(step).is_none() {
                    let lacking: Vec<_> = planned.iter().filter(|c| !c.is_unsupported()).collect();
                    if lacking.is_empty() {
                        calls.push(format!(
                            "(data only: {} matches the live table)",
                            super::report::summary(step)
                        ));
                    }
                    for call in lacking {
                        calls.push(format!(
                            "(data only, not sent: the live table lacks {call}; the run stops)"
                        ));
                    }
                    for call in &planned {
                        live::simulate(live, call);
                    }
                    continue;
                }
                for call in planned {
                    live::simulate(live, &call);
                    calls.push(call.to_string());
                }
                if let (Some(_), Some(live)) = (Work::of(step), live.as_ref()) {
                    let pace = self.pace(live, &table)?;
                    let segments = self
                        .segments
                        .unwrap_or_else(|| choose_segments(live, &pace));
                    calls.push(format!(
                        "(the scan as {segments} parallel-scan segment{}, Segment 0 to {} of \
                         TotalSegments {segments}, shared by every worker; {})",
                        if segments == 1 { "" } else { "s" },
                        segments - 1,
                        pace
                    ));
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

    /// The simulated live state of `step`'s table (described on first use)
    /// for dry runs and data-only checks, read as far as the step needs.
    async fn simulated<'t>(
        &self,
        tables: &'t mut std::collections::BTreeMap<String, Option<LiveTable>>,
        step: &Step,
    ) -> Result<(String, &'t mut Option<LiveTable>)> {
        let table = self.db.physical_name(step.table());
        if !tables.contains_key(&table) {
            let live = LiveTable::describe(self.db, &table).await?;
            tables.insert(table.clone(), live);
        }
        let live = tables.entry(table.clone()).or_default();
        live::prepare(step, live.as_mut(), self.db, &table).await?;
        Ok((table, live))
    }

    /// For a `data_only` run: each table step of the pending migrations
    /// whose change the live tables lack, with the calls a full run would
    /// make (simulated in order, so a later step sees an earlier one's
    /// effect).
    async fn drift(&self, records: &[Record]) -> Result<Vec<String>> {
        let mut tables: std::collections::BTreeMap<String, Option<LiveTable>> = Default::default();
        let mut differences = Vec::new();
        for m in self.pending(records) {
            for (i, step) in m.steps.iter().enumerate() {
                if step.is_state_only() || Work::of(step).is_some() {
                    continue;
                }
                let (table, live) = self.simulated(&mut tables, step).await?;
                let calls = match live::plan(step, live.as_ref(), &table) {
                    Ok(calls) => calls,
                    Err(e) => {
                        differences.push(format!(
                            "{} step {} ({}): {e}",
                            m.name,
                            i + 1,
                            summary(step)
                        ));
                        continue;
                    }
                };
                for call in calls.iter().filter(|c| !c.is_unsupported()) {
                    differences.push(format!(
                        "{} step {} ({}): a full run would send {call}",
                        m.name,
                        i + 1,
                        summary(step)
                    ));
                }
                for call in &calls {
                    live::simulate(live, call);
                }
            }
        }
        Ok(differences)
    }

    /// Where `job`, a data step of `m`, stands: each segment as saved.
    async fn progress(
        &self,
        tracking: &Tracking<'a>,
        m: &Migration,
        job: &Job,
    ) -> Result<StepProgress> {
        let all: Vec<u32> = (0..job.segments).collect();
        let now = Timestamp::now().as_millisecond();
        let segments: Vec<SegmentStatus> = tracking
            .segments(job, &all)
            .await?
            .into_iter()
            .map(|s| SegmentStatus {
                segment: s.index,
                state: if s.done {
                    SegmentState::Done
                } else if s.owner.is_none() {
                    SegmentState::Waiting
                } else if s.leased(now) {
                    SegmentState::Working(Duration::from_millis(
                        u64::try_from(s.expires_at - now).unwrap_or(0),
                    ))
                } else {
                    SegmentState::Expired
                },
                checkpoint: s.key.as_ref().map(key_text),
                owner: s.owner,
                scanned: s.scanned,
                updated: s.updated,
                rate: s.rate,
                takeovers: s.takeovers,
            })
            .collect();
        Ok(StepProgress {
            step: job.step,
            summary: m.steps.get(job.step).map(summary).unwrap_or_default(),
            scanned: segments.iter().map(|s| s.scanned).sum(),
            updated: segments.iter().map(|s| s.updated).sum(),
            estimated_items: job.estimated_items,
            segments,
        })
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
        let mut out = Vec::new();
        for m in self.sorted() {
            let record = records.iter().find(|r| r.number == m.number);
            let progress = match record.and_then(|r| r.job.as_ref()) {
                Some(job) if record.is_some_and(|r| r.status != Status::Applied) => {
                    Some(self.progress(&tracking, m, job).await?)
                }
                _ => None,
            };
            out.push(MigrationStatus {
                number: m.number,
                name: m.name.to_string(),
                status: record.map_or("pending", |r| r.status.as_str()).to_owned(),
                applied_at: record.and_then(|r| r.finished_at.clone()),
                error: record.and_then(|r| r.error.clone()),
                changed: record.is_some_and(|r| r.checksum != m.checksum),
                unknown: false,
                progress,
            });
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn live(items: u64, bytes: u64) -> LiveTable {
        LiveTable {
            status: "ACTIVE".to_owned(),
            keys: vec!["pk".to_owned()],
            key_types: Vec::new(),
            indexes: Vec::new(),
            billing: Billing::OnDemand,
            stream: None,
            ttl: None,
            item_count: Some(items),
            size_bytes: Some(bytes),
            on_demand_max: None,
            deletion_protection: false,
            point_in_time_recovery: None,
            no_backups: false,
        }
    }

    #[test]
    fn segments_follow_size_and_pace() {
        let none = Pace::default();
        assert_eq!(choose_segments(&live(0, 0), &none), 1);
        assert_eq!(choose_segments(&live(20_000, 2_000_000), &none), 1);
        assert_eq!(choose_segments(&live(100_000, 0), &none), 4);
        // Big items: by bytes.
        assert_eq!(choose_segments(&live(1_000, 1024 * 1024 * 1024), &none), 41);
        assert_eq!(choose_segments(&live(1_000_000_000, 0), &none), 40_000);
        // A pace of 20,000 items/s wants 40 workers' worth of segments.
        let fast = Pace {
            items: Some(20_000.0),
            ..Pace::default()
        };
        assert_eq!(choose_segments(&live(10_000, 0), &fast), 40);
        // Write units bound the item rate too.
        let units = Pace {
            items: Some(20_000.0),
            write_units: Some(1_000.0),
            ..Pace::default()
        };
        assert_eq!(choose_segments(&live(10_000, 0), &units), 2);
        assert_eq!(
            choose_segments(&live(u64::MAX, u64::MAX), &none),
            MAX_SEGMENTS
        );
    }
}
