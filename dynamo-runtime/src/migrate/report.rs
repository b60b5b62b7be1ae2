//! What a run did, where each migration stands, and what a run would do.

use std::fmt;

use crate::{Billing, StreamView, model::Step};

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Migrations applied by this run, by file name.
    pub applied: Vec<String>,
    /// Migrations found applied already.
    pub already_applied: Vec<String>,
    /// Migrations the tracking table records that are newer than every
    /// migration this binary knows (a newer version of the app recorded
    /// them): ignored, not an error, so an older binary still starts
    /// during a rolling deploy.
    pub newer: Vec<String>,
}

/// Where a migration stands, for `migrate status`.
#[derive(Debug, Clone, PartialEq)]
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
    /// Where a running or failed migration's data step stopped.
    pub progress: Option<StepProgress>,
}

/// A running data step: which step, and each of its segments.
#[derive(Debug, Clone, PartialEq)]
pub struct StepProgress {
    /// The step's index in its migration.
    pub step: usize,
    /// The step, e.g. `rename_attribute Order in shop`.
    pub summary: String,
    /// Items of the type read, in every segment.
    pub scanned: u64,
    /// Items written, in every segment.
    pub updated: u64,
    /// DynamoDB's estimate of the table's items when the step started.
    pub estimated_items: Option<u64>,
    /// Every segment, in order.
    pub segments: Vec<SegmentStatus>,
}

/// One parallel-scan segment of a running data step.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentStatus {
    /// Its number, from 0.
    pub segment: u32,
    /// Where it stands.
    pub state: SegmentState,
    /// The worker that owns it (or owned it last).
    pub owner: Option<String>,
    /// Where its scan continues (the key it stopped after, as text).
    pub checkpoint: Option<String>,
    /// Items of the type read in it.
    pub scanned: u64,
    /// Items written in it.
    pub updated: u64,
    /// Items read per second by its last owner.
    pub rate: f64,
    /// Times a worker took it over from another whose lease ended.
    pub takeovers: u32,
}

/// Where a segment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentState {
    /// No worker claimed it yet.
    Waiting,
    /// A worker holds a lease on it, for this much longer.
    Working(std::time::Duration),
    /// Its worker's lease ended: the next worker to look takes it over.
    Expired,
    /// Every item of it is done.
    Done,
}

impl fmt::Display for SegmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "segment {:>4}: ", self.segment)?;
        match self.state {
            SegmentState::Waiting => write!(f, "waiting")?,
            SegmentState::Working(left) => write!(f, "working (lease {}s left)", left.as_secs())?,
            SegmentState::Expired => write!(f, "lease ended")?,
            SegmentState::Done => write!(f, "done")?,
        }
        if let Some(owner) = &self.owner {
            write!(f, ", owner {owner}")?;
        }
        write!(
            f,
            ", {} read, {} written, {:.0} items/s",
            self.scanned, self.updated, self.rate
        )?;
        if self.takeovers > 0 {
            write!(f, ", taken over {}x", self.takeovers)?;
        }
        if let Some(checkpoint) = &self.checkpoint {
            write!(f, ", after {checkpoint}")?;
        }
        Ok(())
    }
}

/// The calls a run would make, from [`Migrator::plan`](crate::migrate::Migrator::plan).
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
    pub name: String,
    /// Its description.
    pub description: Option<String>,
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
            match &m.description {
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
        Step::UpdateProtection {
            point_in_time_recovery,
            deletion_protection,
            ..
        } => {
            let on = |on: bool| if on { "on" } else { "off" };
            let mut parts = Vec::new();
            if let Some(pitr) = point_in_time_recovery {
                parts.push(format!("point-in-time recovery {}", on(*pitr)));
            }
            if let Some(protection) = deletion_protection {
                parts.push(format!("deletion protection {}", on(*protection)));
            }
            format!("update_protection {table}: {}", parts.join(", "))
        }
        Step::Backfill(b) => format!(
            "backfill {} in {table}: {}",
            b.item,
            b.templates()
                .map(|t| format!("{} = \"{}\"", t.attribute, t.text))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Step::DefineItem(item) => format!("define_item {} in {table}", item.name),
        Step::DropItem { item, .. } => format!("drop_item {item} in {table}"),
        Step::Rewrite(r) => format!("{} {} in {table}", r.edit_name(), r.item),
    }
}
