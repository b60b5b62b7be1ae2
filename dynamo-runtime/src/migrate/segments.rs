//! Data steps shared by many workers: the job of a step, its segments and
//! their leases, all in the tracking table.
//!
//! - The run holding the migration lock starts a data step as a **job**:
//!   it writes one item per parallel-scan segment
//!   (`segment#<job>#<segment>`), then the job into the migration's record
//!   (so a run that takes over finds it) and into the lock item (so workers
//!   find it with one read).
//! - A worker **claims** a segment with a conditional update: not done,
//!   and unowned or its lease expired. It saves the segment's scan position
//!   and counts after each page, on the condition that it still owns an
//!   unexpired lease, which the same write extends: a worker paused past
//!   its lease can never record progress, and its segment resumes elsewhere
//!   from the last saved position.
//! - Workers register on the lock item (`w#<job>#<owner>`, with their lease
//!   expiry and items read); the live registrations split the step's pace.
//! - The run holding the lock records the step done when every segment is
//!   done, once, and removes the job and its segments.

use std::{collections::HashMap, time::Duration};

use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, ReturnValue,
    ReturnValuesOnConditionCheckFailure, WriteRequest,
};

use super::{
    MigrateError, Migration,
    pace::Pace,
    tracking::{LOCK_ID, Tracking, expiry, is_condition_failure, n, now, number, s, text},
};
use crate::{Attributes, Error, Operation, Result, Timestamp};

/// A data step shared by workers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Job {
    /// Unique per start of the step: `<migration>-<step>-<random>`.
    pub id: String,
    pub migration: u32,
    /// The checksum of the migration file that started it: a worker with
    /// another version of the file does not join.
    pub checksum: String,
    /// The step's index in its migration.
    pub step: usize,
    pub segments: u32,
    /// The step's whole budget, split across live workers.
    pub pace: Pace,
    /// DynamoDB's estimate of the table's items when the step started.
    pub estimated_items: Option<u64>,
}

/// A segment's saved state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Segment {
    pub index: u32,
    pub owner: Option<String>,
    /// When the owner's lease ends (epoch milliseconds).
    pub expires_at: i64,
    /// Where its scan continues; `None` before the first page and when done.
    pub key: Option<Attributes>,
    pub scanned: u64,
    pub updated: u64,
    pub done: bool,
    /// Items read per second by its last owner.
    pub rate: f64,
    /// How many times a worker took it over from another whose lease ended.
    pub takeovers: u32,
}

/// What a claim found.
#[derive(Debug)]
pub(crate) enum Claim {
    /// This worker owns it now; the previous owner, when its lease had
    /// ended.
    Claimed(Segment, Option<String>),
    /// Another worker owns it until `expires_at`.
    Taken {
        expires_at: i64,
    },
    Done,
}

/// The live workers of a job, from the lock item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Presence {
    pub workers: u32,
    /// Items read by every worker that registered (an estimate: a segment
    /// taken over is read again from its last saved position).
    pub scanned: u64,
}

fn segment_id(job: &str, index: u32) -> AttributeValue {
    s(format!("segment#{job}#{index:06}"))
}

fn worker_attribute(job: &str, owner: &str) -> String {
    format!("w#{job}#{owner}")
}

fn now_millis() -> i64 {
    Timestamp::now().as_millisecond()
}

fn float(item: &Attributes, name: &str) -> f64 {
    number(item, name).unwrap_or(0.0)
}

impl Job {
    pub(crate) fn to_attribute(&self) -> AttributeValue {
        let mut map = Attributes::from([
            ("id".to_owned(), s(&self.id)),
            ("migration".to_owned(), n(self.migration)),
            ("checksum".to_owned(), s(&self.checksum)),
            ("step".to_owned(), n(self.step)),
            ("segments".to_owned(), n(self.segments)),
        ]);
        let optional = [
            ("items_per_second", self.pace.items),
            ("read_units", self.pace.read_units),
            ("write_units", self.pace.write_units),
            ("estimated_items", self.estimated_items.map(|n| n as f64)),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                map.insert(name.to_owned(), n(value));
            }
        }
        AttributeValue::M(map)
    }

    pub(crate) fn from_attribute(value: Option<&AttributeValue>) -> Option<Job> {
        let Some(AttributeValue::M(map)) = value else {
            return None;
        };
        Some(Job {
            id: text(map, "id")?,
            migration: number(map, "migration")?,
            checksum: text(map, "checksum").unwrap_or_default(),
            step: number(map, "step")?,
            segments: number(map, "segments")?,
            pace: Pace {
                items: number(map, "items_per_second"),
                read_units: number(map, "read_units"),
                write_units: number(map, "write_units"),
            },
            estimated_items: number(map, "estimated_items"),
        })
    }
}

impl Segment {
    fn from_item(item: &Attributes) -> Option<Segment> {
        Some(Segment {
            index: number(item, "segment")?,
            owner: text(item, "owner"),
            expires_at: number(item, "expires_at").unwrap_or(0),
            key: match item.get("key") {
                Some(AttributeValue::M(key)) => Some(key.clone()),
                _ => None,
            },
            scanned: number(item, "scanned").unwrap_or(0),
            updated: number(item, "updated").unwrap_or(0),
            done: matches!(item.get("done"), Some(AttributeValue::Bool(true))),
            rate: float(item, "rate"),
            takeovers: number(item, "takeovers").unwrap_or(0),
        })
    }

    /// Whether its owner's lease is still running at `now` (epoch ms).
    pub(crate) fn leased(&self, now: i64) -> bool {
        self.owner.is_some() && self.expires_at >= now
    }
}

impl Tracking<'_> {
    fn client(&self) -> &aws_sdk_dynamodb::Client {
        self.db.client()
    }

    /// Writes `job`'s segment items, each fresh (the job id is new).
    pub(crate) async fn create_segments(&self, job: &Job) -> Result<()> {
        let requests: Vec<WriteRequest> = (0..job.segments)
            .map(|index| {
                let put = PutRequest::builder()
                    .item("id", segment_id(&job.id, index))
                    .item("job", s(&job.id))
                    .item("segment", n(index))
                    .item("segments", n(job.segments))
                    .item("scanned", n(0))
                    .item("updated", n(0))
                    .item("done", AttributeValue::Bool(false))
                    .build()
                    .map_err(|e| Error::config(e.to_string()))?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<_>>()?;
        self.batch_write(requests).await
    }

    /// Deletes `job`'s segment items.
    pub(crate) async fn delete_segments(&self, job: &Job) -> Result<()> {
        let requests: Vec<WriteRequest> = (0..job.segments)
            .map(|index| {
                let delete = DeleteRequest::builder()
                    .key("id", segment_id(&job.id, index))
                    .build()
                    .map_err(|e| Error::config(e.to_string()))?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<_>>()?;
        self.batch_write(requests).await
    }

    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<()> {
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            let mut pause = Duration::from_millis(50);
            for attempt in 0.. {
                let out = self
                    .client()
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| Error::service(Operation::BatchWriteItem, &self.table, e))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                if attempt == 10 {
                    return Err(Error::config(format!(
                        "{} segment writes to `{}` stayed unprocessed after 10 attempts",
                        pending.len(),
                        self.table
                    )));
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        }
        Ok(())
    }

    /// Records `job` in `m`'s record (fenced like every record write).
    pub(crate) async fn record_job(&self, m: &Migration, job: &Job) -> Result<()> {
        let values = Attributes::from([(":job".to_owned(), job.to_attribute())]);
        self.update(m, "SET #job = :job", values).await
    }

    /// Records step `step` of `m` done: the next run starts after it.
    pub(crate) async fn step_done(&self, m: &Migration, step: usize) -> Result<()> {
        let values = Attributes::from([(":next".to_owned(), n(step + 1))]);
        self.update(m, "SET #next = :next REMOVE #job", values)
            .await
    }

    /// Shows `job` (or no job) on the lock item held by `owner`, where
    /// workers look for it.
    pub(crate) async fn publish(&self, job: Option<&Job>, owner: &str) -> Result<()> {
        let request = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key("id", s(LOCK_ID))
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#job", "job")
            .expression_attribute_values(":me", s(owner));
        let request = match job {
            Some(job) => request
                .update_expression("SET #job = :job")
                .expression_attribute_values(":job", job.to_attribute()),
            None => request.update_expression("REMOVE #job"),
        };
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(MigrateError::LeaseLost.into()),
            Err(e) => Err(Error::service(Operation::UpdateItem, &self.table, e)),
        }
    }

    /// The job on the lock item, and whether the lock's lease is running.
    pub(crate) async fn current_job(&self) -> Result<(Option<Job>, bool)> {
        let out = self
            .client()
            .get_item()
            .table_name(&self.table)
            .key("id", s(LOCK_ID))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| Error::service(Operation::GetItem, &self.table, e))?;
        let Some(lock) = out.item() else {
            return Ok((None, false));
        };
        let live = number::<i64>(lock, "expires_at").is_some_and(|at| at >= now_millis());
        Ok((Job::from_attribute(lock.get("job")), live))
    }

    /// Registers `owner` as a live worker of `job` until `lease` from now,
    /// with the items it read; returns the job's live workers, or `None`
    /// when the lock item no longer shows the job.
    pub(crate) async fn register(
        &self,
        job: &Job,
        owner: &str,
        lease: Duration,
        scanned: u64,
    ) -> Result<Option<Presence>> {
        let value = AttributeValue::M(Attributes::from([
            ("expires_at".to_owned(), n(expiry(lease))),
            ("scanned".to_owned(), n(scanned)),
        ]));
        let result = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key("id", s(LOCK_ID))
            .update_expression("SET #w = :w")
            .condition_expression("#job.#id = :job")
            .expression_attribute_names("#w", worker_attribute(&job.id, owner))
            .expression_attribute_names("#job", "job")
            .expression_attribute_names("#id", "id")
            .expression_attribute_values(":w", value)
            .expression_attribute_values(":job", s(&job.id))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(e) if is_condition_failure(&e) => return Ok(None),
            Err(e) => return Err(Error::service(Operation::UpdateItem, &self.table, e)),
        };
        let prefix = worker_attribute(&job.id, "");
        let now = now_millis();
        let mut presence = Presence {
            workers: 0,
            scanned: 0,
        };
        for (name, value) in out.attributes().into_iter().flatten() {
            let (true, AttributeValue::M(w)) = (name.starts_with(&prefix), value) else {
                continue;
            };
            presence.scanned += number::<u64>(w, "scanned").unwrap_or(0);
            if number::<i64>(w, "expires_at").is_some_and(|at| at >= now) {
                presence.workers += 1;
            }
        }
        Ok(Some(presence))
    }

    /// Removes `owner`'s registration as a worker of `job`.
    pub(crate) async fn deregister(&self, job: &Job, owner: &str) -> Result<()> {
        self.client()
            .update_item()
            .table_name(&self.table)
            .key("id", s(LOCK_ID))
            .update_expression("REMOVE #w")
            .condition_expression("attribute_exists(id)")
            .expression_attribute_names("#w", worker_attribute(&job.id, owner))
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                if is_condition_failure(&e) {
                    Ok(())
                } else {
                    Err(Error::service(Operation::UpdateItem, &self.table, e))
                }
            })
    }

    /// Claims segment `index` of `job` for `owner` under a lease of
    /// `lease`: only when not done, and unowned or its lease ended.
    pub(crate) async fn claim(
        &self,
        job: &Job,
        index: u32,
        owner: &str,
        lease: Duration,
    ) -> Result<Claim> {
        let result = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key("id", segment_id(&job.id, index))
            .update_expression("SET #owner = :me, expires_at = :expires, claimed_at = :at")
            .condition_expression(
                "attribute_exists(id) AND done = :false AND \
                 (attribute_not_exists(#owner) OR expires_at < :now OR #owner = :me)",
            )
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":me", s(owner))
            .expression_attribute_values(":expires", n(expiry(lease)))
            .expression_attribute_values(":at", s(now()))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":now", n(now_millis()))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let old = out.attributes().cloned().unwrap_or_default();
                let mut segment = Segment::from_item(&old).ok_or_else(|| {
                    Error::config(format!("segment {index} of job {} is malformed", job.id))
                })?;
                let previous = segment.owner.take().filter(|o| o != owner);
                if previous.is_some() {
                    // Counted apart: the claim's condition cannot tell.
                    self.count_takeover(job, index).await?;
                    segment.takeovers += 1;
                }
                segment.owner = Some(owner.to_owned());
                Ok(Claim::Claimed(segment, previous))
            }
            Err(e) if is_condition_failure(&e) => {
                let old = e
                    .as_service_error()
                    .and_then(|e| match e {
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => c.item(),
                        _ => None,
                    })
                    .and_then(Segment::from_item);
                Ok(match old {
                    Some(old) if !old.done => Claim::Taken {
                        expires_at: old.expires_at,
                    },
                    // Done, or gone with its finished job.
                    _ => Claim::Done,
                })
            }
            Err(e) => Err(Error::service(Operation::UpdateItem, &self.table, e)),
        }
    }

    async fn count_takeover(&self, job: &Job, index: u32) -> Result<()> {
        self.client()
            .update_item()
            .table_name(&self.table)
            .key("id", segment_id(&job.id, index))
            .update_expression("ADD takeovers :one")
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Error::service(Operation::UpdateItem, &self.table, e))
    }

    /// Saves `segment`'s position and counts, and extends `owner`'s lease
    /// by `lease`, only while `owner` holds an unexpired lease on it: a
    /// worker whose lease ended gets [`MigrateError::SegmentLost`].
    pub(crate) async fn save(
        &self,
        job: &Job,
        segment: &Segment,
        owner: &str,
        lease: Duration,
    ) -> Result<()> {
        let mut sets = vec![
            "expires_at = :expires",
            "scanned = :scanned",
            "updated = :updated",
            "#rate = :rate",
            "done = :done",
        ];
        let mut values = Attributes::from([
            (":me".to_owned(), s(owner)),
            (":now".to_owned(), n(now_millis())),
            (":expires".to_owned(), n(expiry(lease))),
            (":scanned".to_owned(), n(segment.scanned)),
            (":updated".to_owned(), n(segment.updated)),
            (":rate".to_owned(), n(format!("{:.1}", segment.rate))),
            (":done".to_owned(), AttributeValue::Bool(segment.done)),
        ]);
        if segment.done {
            sets.push("finished_at = :at");
            values.insert(":at".to_owned(), s(now()));
        }
        let expression = match &segment.key {
            Some(key) => {
                sets.push("#key = :key");
                values.insert(":key".to_owned(), AttributeValue::M(key.clone()));
                format!("SET {}", sets.join(", "))
            }
            None => format!("SET {} REMOVE #key", sets.join(", ")),
        };
        let result = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key("id", segment_id(&job.id, segment.index))
            .update_expression(expression)
            .condition_expression("#owner = :me AND expires_at >= :now")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#key", "key")
            .expression_attribute_names("#rate", "rate")
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(MigrateError::SegmentLost {
                segment: segment.index,
                segments: job.segments,
            }
            .into()),
            Err(e) => Err(Error::service(Operation::UpdateItem, &self.table, e)),
        }
    }

    /// The saved state of `job`'s segments `indices` (missing ones left
    /// out: the job finished and removed them).
    pub(crate) async fn segments(&self, job: &Job, indices: &[u32]) -> Result<Vec<Segment>> {
        let mut out = Vec::with_capacity(indices.len());
        for chunk in indices.chunks(100) {
            let mut keys: Vec<Attributes> = chunk
                .iter()
                .map(|&i| Attributes::from([("id".to_owned(), segment_id(&job.id, i))]))
                .collect();
            let mut pause = Duration::from_millis(50);
            while !keys.is_empty() {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut keys)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| Error::config(e.to_string()))?;
                let result = self
                    .client()
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| Error::service(Operation::BatchGetItem, &self.table, e))?;
                let mut responses: HashMap<String, Vec<Attributes>> =
                    result.responses.unwrap_or_default();
                out.extend(
                    responses
                        .remove(&self.table)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(Segment::from_item),
                );
                keys = result
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
                if !keys.is_empty() {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
            }
        }
        out.sort_by_key(|s| s.index);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_reads_back_as_written() {
        let job = Job {
            id: "0000000002-003-ab12cd34".to_owned(),
            migration: 2,
            checksum: "sha".to_owned(),
            step: 3,
            segments: 8,
            pace: Pace {
                items: Some(250.0),
                read_units: None,
                write_units: Some(40.5),
            },
            estimated_items: Some(20_000),
        };
        assert_eq!(Job::from_attribute(Some(&job.to_attribute())), Some(job));
    }
}
