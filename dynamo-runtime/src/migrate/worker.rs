//! One worker's part in a data step shared by many (see [`segments`]):
//! claim a segment, scan it from its saved position, do the step's work to
//! each item, save the position after each page, and repeat until no
//! segment is left to claim.
//!
//! [`segments`]: super::segments

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::{
    Event, MigrateError, TransformFn,
    backfill::{Items, Work},
    error::gone,
    events::Events,
    live::LiveTable,
    pace::{self, Consumed, Pacer},
    segments::{Claim, Job, Presence, Segment},
    tracking::Tracking,
};
use crate::{Db, Error, Operation, Result, Timestamp, model::Migration};

/// Items read per scan page.
const PAGE: i32 = 100;
/// The longest a worker goes without saving its segment's position.
const SAVE_EVERY: Duration = Duration::from_secs(1);
/// How often a worker registers itself and learns how many workers share
/// the step, per [`PER_PRESENCE`] workers: the registrations are attributes
/// of the lock item, whose writes cost more units as it grows, and one item
/// takes at most 1,000 write units per second.
const PRESENCE: Duration = Duration::from_secs(1);
/// Workers per [`PRESENCE`] interval.
const PER_PRESENCE: u32 = 20;

/// What a worker knows of a segment it could not claim.
#[derive(Debug, Clone, Copy)]
enum Seen {
    Done,
    /// Another worker's, until this time (epoch ms).
    TakenUntil(i64),
}

/// What a worker needs from its executor.
pub(crate) struct Context<'m, 'a> {
    pub db: &'a Db,
    pub transforms: &'m [(&'static str, TransformFn)],
    pub events: &'m Events,
    pub tracking: &'m Tracking<'a>,
    /// This worker's name in claims, saves and registrations.
    pub owner: String,
    /// How long a segment lease lasts without renewal.
    pub lease: Duration,
}

/// This worker's totals over everything it did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkReport {
    /// Segments it finished.
    pub segments: u32,
    /// Items of the step's type it read.
    pub scanned: u64,
    /// Items it wrote.
    pub updated: u64,
}

/// One worker on one job.
pub(crate) struct Worker<'m, 'a> {
    cx: Context<'m, 'a>,
    pub job: Job,
    migration: &'a Migration,
    work: Work<'a>,
    table: String,
    keys: Vec<String>,
    seen: HashMap<u32, Seen>,
    pacer: Pacer,
    presence: Presence,
    presence_at: Option<Instant>,
    pub report: WorkReport,
}

fn now_millis() -> i64 {
    Timestamp::now().as_millisecond()
}

impl<'m, 'a> Worker<'m, 'a> {
    /// A worker for `job`, a data step of `migration` on `table` (the
    /// physical name).
    pub(crate) async fn new(
        cx: Context<'m, 'a>,
        job: Job,
        migration: &'a Migration,
        work: Work<'a>,
        table: String,
    ) -> Result<Worker<'m, 'a>> {
        let live = LiveTable::describe(cx.db, &table)
            .await?
            .ok_or_else(|| gone(&table))?;
        let pacer = Pacer::new(job.pace, 1);
        Ok(Worker {
            cx,
            job,
            migration,
            work,
            table,
            keys: live.keys,
            seen: HashMap::new(),
            pacer,
            presence: Presence {
                workers: 1,
                scanned: 0,
            },
            presence_at: None,
            report: WorkReport::default(),
        })
    }

    /// Works segments until none is left to claim; `true` when it worked
    /// one.
    pub(crate) async fn work_all(&mut self) -> Result<bool> {
        let mut worked = false;
        while !self.all_seen_done() && self.work_one().await? {
            worked = true;
        }
        Ok(worked)
    }

    /// Whether every segment is known done to this worker.
    pub(crate) fn all_seen_done(&self) -> bool {
        (0..self.job.segments).all(|i| matches!(self.seen.get(&i), Some(Seen::Done)))
    }

    /// Claims one segment and works it to its end; `false` when no segment
    /// could be claimed (all done or leased by live workers).
    pub(crate) async fn work_one(&mut self) -> Result<bool> {
        let now = now_millis();
        let mut candidates: Vec<u32> = (0..self.job.segments)
            .filter(|i| match self.seen.get(i) {
                Some(Seen::Done) => false,
                Some(Seen::TakenUntil(t)) => *t < now,
                None => true,
            })
            .collect();
        fastrand::shuffle(&mut candidates);
        for index in candidates {
            let claim = self
                .cx
                .tracking
                .claim(&self.job, index, &self.cx.owner, self.cx.lease)
                .await?;
            let (segment, taken_from) = match claim {
                Claim::Claimed(segment, taken_from) => (segment, taken_from),
                Claim::Taken { expires_at } => {
                    self.seen.insert(index, Seen::TakenUntil(expires_at));
                    continue;
                }
                Claim::Done => {
                    self.seen.insert(index, Seen::Done);
                    continue;
                }
            };
            self.cx.events.emit(Event::SegmentClaimed {
                name: self.migration.name.to_string(),
                step: self.job.step + 1,
                segment: index,
                segments: self.job.segments,
                resumed_at: segment.scanned,
                taken_from,
            });
            match self.run(segment).await {
                Ok(segment) => {
                    self.seen.insert(index, Seen::Done);
                    self.report.segments += 1;
                    self.cx.events.emit(Event::SegmentDone {
                        segment: index,
                        segments: self.job.segments,
                        scanned: segment.scanned,
                        updated: segment.updated,
                    });
                }
                Err(Error::Migrate(MigrateError::SegmentLost { segment, segments })) => {
                    tracing::warn!(
                        segment,
                        segments,
                        "lost the lease of a segment; it resumes from its saved position"
                    );
                    self.seen.remove(&index);
                    self.cx
                        .events
                        .emit(Event::SegmentLost { segment, segments });
                }
                Err(e) => return Err(e),
            }
            return Ok(true);
        }
        self.leave().await?;
        Ok(false)
    }

    /// Stops counting as a live worker of the job (when it found nothing
    /// to claim), so the others take its share of the pace at once.
    pub(crate) async fn leave(&mut self) -> Result<()> {
        if self.presence_at.take().is_some() {
            self.cx
                .tracking
                .deregister(&self.job, &self.cx.owner)
                .await?;
        }
        Ok(())
    }

    /// The segments not done yet, read from the tracking table (the run
    /// that holds the lock waits on them).
    pub(crate) async fn remaining(&mut self) -> Result<Vec<Segment>> {
        let open: Vec<u32> = (0..self.job.segments)
            .filter(|i| !matches!(self.seen.get(i), Some(Seen::Done)))
            .collect();
        let states = self.cx.tracking.segments(&self.job, &open).await?;
        if states.len() != open.len() {
            return Err(Error::config(format!(
                "{} of the {} unfinished segments of job {} are missing from the tracking table",
                open.len() - states.len(),
                open.len(),
                self.job.id
            )));
        }
        let mut remaining = Vec::new();
        for s in states {
            if s.done {
                self.seen.insert(s.index, Seen::Done);
            } else {
                self.seen.insert(s.index, Seen::TakenUntil(s.expires_at));
                remaining.push(s);
            }
        }
        Ok(remaining)
    }

    /// Registers this worker and learns how many share the step, every
    /// [`PRESENCE`] per [`PER_PRESENCE`] workers (so about 20
    /// registrations per second, however many workers there are).
    async fn refresh_presence(&mut self) -> Result<()> {
        let every = PRESENCE * (self.presence.workers / PER_PRESENCE).max(1);
        if self.presence_at.is_some_and(|at| at.elapsed() < every) {
            return Ok(());
        }
        self.presence_at = Some(Instant::now());
        let registered = self
            .cx
            .tracking
            .register(
                &self.job,
                &self.cx.owner,
                self.cx.lease,
                self.report.scanned,
            )
            .await?;
        if let Some(presence) = registered {
            self.presence = presence;
            self.pacer.set_workers(presence.workers);
        }
        Ok(())
    }

    /// Saves `segment` (claimed at `claimed` with `scanned_before` items
    /// read) and reports this worker's progress.
    async fn save(
        &mut self,
        segment: &mut Segment,
        claimed: Instant,
        scanned_before: u64,
    ) -> Result<()> {
        let seconds = claimed.elapsed().as_secs_f64().max(0.001);
        segment.rate = (segment.scanned - scanned_before) as f64 / seconds;
        self.cx
            .tracking
            .save(&self.job, segment, &self.cx.owner, self.cx.lease)
            .await?;
        self.cx.events.emit(Event::Backfill {
            op: self.work.op(),
            item: self.work.item_type().0.to_owned(),
            segment: segment.index,
            segments: self.job.segments,
            scanned: self.report.scanned,
            updated: self.report.updated,
            step_scanned: self.presence.scanned.max(self.report.scanned),
            workers: self.presence.workers.max(1),
            estimated_total: self.job.estimated_items,
        });
        Ok(())
    }

    /// Works `segment` from its saved position to its end.
    async fn run(&mut self, mut segment: Segment) -> Result<Segment> {
        let (item_type, type_attribute) = self.work.item_type();
        let consumed = (self.job.pace.read_units.is_some() || self.job.pace.write_units.is_some())
            .then_some(ReturnConsumedCapacity::Total);
        let (table, keys) = (self.table.clone(), self.keys.clone());
        let items = Items {
            db: self.cx.db,
            transforms: self.cx.transforms,
            table: &table,
            keys: &keys,
            consumed: consumed.clone(),
            events: self.cx.events,
        };
        let claimed = Instant::now();
        let scanned_before = segment.scanned;
        // Saved at least this often (and so the lease renewed), at the key
        // of the last item done: a scan may start after any item's key.
        let every = (self.cx.lease / 3).min(SAVE_EVERY);
        let mut saved_at = Instant::now();
        loop {
            self.refresh_presence().await?;
            pace::sleep(self.pacer.before_read()).await;
            let request = self
                .cx
                .db
                .client()
                .scan()
                .table_name(&table)
                .consistent_read(true)
                .segment(i32::try_from(segment.index).unwrap_or(i32::MAX))
                .total_segments(i32::try_from(self.job.segments).unwrap_or(i32::MAX))
                .limit(PAGE)
                .set_return_consumed_capacity(consumed.clone());
            // A table without a type attribute holds only this item type.
            let request = if type_attribute.is_empty() {
                request
            } else {
                request
                    .filter_expression("#type = :type")
                    .expression_attribute_names("#type", type_attribute)
                    .expression_attribute_values(":type", AttributeValue::S(item_type.to_owned()))
            };
            let out = match request
                .set_exclusive_start_key(segment.key.clone())
                .send()
                .await
                .map_err(|e| Error::service(Operation::Scan, &table, e))
            {
                Ok(out) => out,
                Err(Error::Throttled { .. }) => {
                    let backoff = self.pacer.throttled();
                    self.cx.events.emit(Event::Throttled {
                        backoff,
                        share: self.pacer.share(),
                    });
                    pace::sleep(backoff).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            self.pacer.read(out.units());
            let next = out.last_evaluated_key().filter(|k| !k.is_empty()).cloned();
            for item in out.items.unwrap_or_default() {
                let position: crate::Attributes = keys
                    .iter()
                    .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
                    .collect();
                if items.process(self.work, item, &mut self.pacer).await? {
                    segment.updated += 1;
                    self.report.updated += 1;
                }
                segment.scanned += 1;
                self.report.scanned += 1;
                segment.key = Some(position);
                if saved_at.elapsed() >= every {
                    self.save(&mut segment, claimed, scanned_before).await?;
                    saved_at = Instant::now();
                }
            }
            segment.key = next;
            segment.done = segment.key.is_none();
            self.save(&mut segment, claimed, scanned_before).await?;
            saved_at = Instant::now();
            if segment.done {
                return Ok(segment);
            }
        }
    }
}
