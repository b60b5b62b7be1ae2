//! Reading a stream outside Lambda: shards in parent-before-child order,
//! shard iterators, and a checkpoint to resume from.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use aws_sdk_dynamodbstreams::{
    Client,
    error::{DisplayErrorContext, SdkError},
    types::{Shard, ShardIteratorType},
};

use super::StreamRecord;
use crate::{Db, Error, Operation, Result, TableDef};

/// Where a [`StreamReader`] starts in a shard its [`Checkpoint`] does not
/// know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartAt {
    /// At the oldest record the stream still holds (24 hours back):
    /// nothing the stream has is missed.
    #[default]
    Oldest,
    /// At the records written after the reader first reads the shard.
    Latest,
}

/// How far a [`StreamReader`] has read: for each shard, the sequence
/// number of the last record read, or that the shard is closed and read to
/// its end. Save its text (`to_string()`, one line per shard) and give it
/// back with [`StreamReader::resume`] to go on after a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoint {
    after: BTreeMap<String, String>,
    done: BTreeSet<String>,
}

impl Checkpoint {
    /// The sequence number of the last record read from `shard`.
    pub fn after(&self, shard: &str) -> Option<&str> {
        self.after.get(shard).map(String::as_str)
    }

    /// Whether `shard` is closed and was read to its end.
    pub fn is_done(&self, shard: &str) -> bool {
        self.done.contains(shard)
    }

    /// Records that `record` (of a [`StreamReader`], which knows its shard)
    /// was handled: a reader resumed from this checkpoint starts after it.
    pub fn advance(&mut self, record: &StreamRecord) {
        if let Some(shard) = &record.shard_id {
            self.after
                .insert(shard.clone(), record.sequence_number.clone());
        }
    }

    fn finish(&mut self, shard: &str) {
        self.after.remove(shard);
        self.done.insert(shard.to_owned());
    }

    /// Forgets shards the stream no longer lists (trimmed after 24 hours).
    fn keep(&mut self, shards: &BTreeSet<&str>) {
        self.after.retain(|s, _| shards.contains(s.as_str()));
        self.done.retain(|s| shards.contains(s.as_str()));
    }
}

/// One line per shard: `<shard id> <sequence number>` or `<shard id> done`.
impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (shard, sequence) in &self.after {
            writeln!(f, "{shard} {sequence}")?;
        }
        for shard in &self.done {
            writeln!(f, "{shard} done")?;
        }
        Ok(())
    }
}

/// A [`Checkpoint`] text that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line} of the checkpoint is not `<shard id> <sequence number>` or `<shard id> done`")]
pub struct InvalidCheckpoint {
    /// The line, from 1.
    pub line: usize,
}

impl FromStr for Checkpoint {
    type Err = InvalidCheckpoint;

    fn from_str(text: &str) -> Result<Checkpoint, InvalidCheckpoint> {
        let mut checkpoint = Checkpoint::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let mut words = line.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some(shard), Some("done"), None) => {
                    checkpoint.done.insert(shard.to_owned());
                }
                (Some(shard), Some(sequence), None)
                    if sequence.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    checkpoint
                        .after
                        .insert(shard.to_owned(), sequence.to_owned());
                }
                _ => return Err(InvalidCheckpoint { line: i + 1 }),
            }
        }
        Ok(checkpoint)
    }
}

/// Reads a table's stream with `GetRecords`, for use outside Lambda: every
/// shard, parents before their children, each in sequence order, and
/// resumable from a [`Checkpoint`].
///
/// ```no_run
/// # async fn run(db: &dynamo_runtime::Db, table: &dynamo_runtime::TableDef) -> dynamo_runtime::Result<()> {
/// use dynamo_runtime::stream::StreamReader;
/// let mut reader = StreamReader::for_table(db, table).await?;
/// for record in reader.read_available().await? {
///     println!("{:?} {}", record.kind, record.sequence_number);
/// }
/// let saved = reader.checkpoint().to_string(); // resume later with `.resume(saved.parse()?)`
/// # let _ = saved; Ok(()) }
/// ```
///
/// Delivery is at least once: a shard whose iterator expired (15 minutes
/// unread) before any record was read from it is read again from its
/// oldest record rather than from "now", so nothing is skipped. A
/// checkpoint older than the stream's 24 hours fails with DynamoDB's
/// `TrimmedDataAccessException` instead of silently starting later.
#[derive(Debug, Clone)]
pub struct StreamReader {
    client: Client,
    arn: String,
    start: StartAt,
    checkpoint: Checkpoint,
    /// The next iterator of each open shard read before.
    iterators: HashMap<String, String>,
}

impl StreamReader {
    /// A reader of the stream `arn`.
    pub fn new(client: Client, arn: impl Into<String>) -> StreamReader {
        StreamReader {
            client,
            arn: arn.into(),
            start: StartAt::default(),
            checkpoint: Checkpoint::default(),
            iterators: HashMap::new(),
        }
    }

    /// A reader of `table`'s current stream (its namespaced name's
    /// `LatestStreamArn`), with a streams client made from the
    /// configuration `db` was built with. A `Db` made
    /// [`from_client`](Db::from_client) has none: use
    /// [`StreamReader::new`].
    pub async fn for_table(db: &Db, table: &TableDef) -> Result<StreamReader> {
        let config = db.sdk_config().ok_or_else(|| {
            Error::config(
                "this Db was made from an SDK client, so it has no AWS configuration \
                 to make a streams client from: use StreamReader::new(client, arn)",
            )
        })?;
        let arn = stream_arn(db, table).await?;
        Ok(StreamReader::new(Client::new(config), arn))
    }

    /// Where to start in shards the checkpoint does not know (default
    /// [`StartAt::Oldest`]).
    #[must_use]
    pub fn start_at(mut self, start: StartAt) -> StreamReader {
        self.start = start;
        self
    }

    /// Goes on after `checkpoint`: after its last record in each shard it
    /// names, skipping shards it read to their end.
    #[must_use]
    pub fn resume(mut self, checkpoint: Checkpoint) -> StreamReader {
        self.checkpoint = checkpoint;
        self.iterators.clear();
        self
    }

    /// The stream's ARN.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// How far the reader has read: after every record it returned.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Reads every record the stream holds now, after the checkpoint:
    /// each shard until `GetRecords` returns an empty page (an open shard)
    /// or the shard ends (a closed one, which is then done), parents
    /// before children. The checkpoint then points after the records
    /// returned.
    pub async fn read_available(&mut self) -> Result<Vec<StreamRecord>> {
        let shards = self.shards().await?;
        let listed: BTreeSet<&str> = shards.iter().filter_map(|s| s.shard_id()).collect();
        self.checkpoint.keep(&listed);
        let mut out = Vec::new();
        for shard in parents_first(&shards, &self.checkpoint) {
            let child = shard.parent_shard_id().is_some_and(|p| listed.contains(p));
            self.read_shard(shard.shard_id().unwrap_or_default(), child, &mut out)
                .await?;
        }
        Ok(out)
    }

    /// The records as they come, polling every shard each `every` once
    /// the stream has none: a stream that ends only at an error.
    pub fn follow(self, every: Duration) -> impl crate::Stream<Item = Result<StreamRecord>> {
        let state = (self, VecDeque::new(), false);
        futures_util::stream::unfold(
            state,
            move |(mut reader, mut buffer, mut failed)| async move {
                loop {
                    if failed {
                        return None;
                    }
                    if let Some(record) = buffer.pop_front() {
                        return Some((Ok(record), (reader, buffer, failed)));
                    }
                    match reader.read_available().await {
                        Ok(records) if records.is_empty() => tokio::time::sleep(every).await,
                        Ok(records) => buffer.extend(records),
                        Err(e) => {
                            failed = true;
                            return Some((Err(e), (reader, buffer, failed)));
                        }
                    }
                }
            },
        )
    }

    async fn shards(&self) -> Result<Vec<Shard>> {
        let mut shards = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_stream()
                .stream_arn(&self.arn)
                .set_exclusive_start_shard_id(start.take())
                .send()
                .await
                .map_err(|e| self.error(Operation::DescribeStream, e))?;
            let Some(description) = out.stream_description else {
                return Ok(shards);
            };
            shards.extend(description.shards.unwrap_or_default());
            match description.last_evaluated_shard_id {
                Some(last) => start = Some(last),
                None => return Ok(shards),
            }
        }
    }

    /// Reads `shard` into `out` until an empty page or its end.
    async fn read_shard(
        &mut self,
        shard: &str,
        child: bool,
        out: &mut Vec<StreamRecord>,
    ) -> Result<()> {
        let mut iterator = match self.iterators.remove(shard) {
            Some(iterator) => iterator,
            None => self.iterator(shard, child, false).await?,
        };
        let mut renewed = false;
        loop {
            let page = match self
                .client
                .get_records()
                .shard_iterator(&iterator)
                .send()
                .await
            {
                Ok(page) => page,
                // An iterator unused for 15 minutes expires: get a new one
                // from the checkpoint (once). One that points before the
                // shard's oldest record with nothing read from the shard
                // yet (DynamoDB Local gives such "latest" iterators for a
                // stream turned on for an existing table) starts over at
                // the oldest record. After a record of the checkpoint, the
                // error stands: records are gone.
                Err(e) if !renewed && self.restartable(shard, &e) => {
                    renewed = true;
                    iterator = self.iterator(shard, child, true).await?;
                    continue;
                }
                Err(e) => return Err(self.error(Operation::GetRecords, e)),
            };
            let empty = page.records.as_ref().is_none_or(Vec::is_empty);
            for record in page.records.unwrap_or_default() {
                let mut record = StreamRecord::try_from(record)?;
                record.shard_id = Some(shard.to_owned());
                self.checkpoint.advance(&record);
                out.push(record);
            }
            match page.next_shard_iterator {
                None => {
                    self.checkpoint.finish(shard);
                    return Ok(());
                }
                Some(next) if empty => {
                    self.iterators.insert(shard.to_owned(), next);
                    return Ok(());
                }
                Some(next) => iterator = next,
            }
        }
    }

    /// A new iterator for `shard`: after the checkpoint's record, else at
    /// the start (a child shard, a reader starting at the oldest record,
    /// or a `restart` with nothing read: at least once), else at the
    /// latest record.
    async fn iterator(&self, shard: &str, child: bool, restart: bool) -> Result<String> {
        let request = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.arn)
            .shard_id(shard);
        let request = match self.checkpoint.after(shard) {
            Some(sequence) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(sequence),
            None if child || restart || self.start == StartAt::Oldest => {
                request.shard_iterator_type(ShardIteratorType::TrimHorizon)
            }
            None => request.shard_iterator_type(ShardIteratorType::Latest),
        };
        let out = request
            .send()
            .await
            .map_err(|e| self.error(Operation::GetShardIterator, e))?;
        out.shard_iterator.ok_or_else(|| Error::Stream {
            operation: Operation::GetShardIterator,
            stream: self.arn.clone(),
            message: format!("DynamoDB Streams returned no iterator for shard {shard}"),
            source: None,
        })
    }

    /// Whether `GetRecords` failing with `e` on `shard` is worth one new
    /// iterator: an expired one, or one before the shard's oldest record
    /// while the checkpoint has no record of the shard.
    fn restartable<R>(
        &self,
        shard: &str,
        e: &SdkError<aws_sdk_dynamodbstreams::operation::get_records::GetRecordsError, R>,
    ) -> bool {
        e.as_service_error().is_some_and(|e| {
            e.is_expired_iterator_exception()
                || (e.is_trimmed_data_access_exception() && self.checkpoint.after(shard).is_none())
        })
    }

    fn error<E, R>(&self, operation: Operation, e: SdkError<E, R>) -> Error
    where
        aws_sdk_dynamodbstreams::Error: From<SdkError<E, R>>,
    {
        let source = aws_sdk_dynamodbstreams::Error::from(e);
        Error::Stream {
            operation,
            stream: self.arn.clone(),
            message: DisplayErrorContext(&source).to_string(),
            source: Some(Box::new(source)),
        }
    }
}

/// The shards to read, each after its parent (when the stream still
/// lists it), leaving out those the checkpoint read to their end.
fn parents_first<'s>(shards: &'s [Shard], checkpoint: &Checkpoint) -> Vec<&'s Shard> {
    let listed: BTreeSet<&str> = shards.iter().filter_map(|s| s.shard_id()).collect();
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::with_capacity(shards.len());
    let mut left: Vec<&Shard> = shards.iter().collect();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|s| {
            let ready = s
                .parent_shard_id()
                .is_none_or(|p| !listed.contains(p) || placed.contains(p));
            if ready {
                placed.insert(s.shard_id().unwrap_or_default());
                order.push(*s);
            }
            !ready
        });
        if left.len() == before {
            // A parent cycle, which DynamoDB never sends: read the rest as
            // listed rather than not at all.
            order.append(&mut left);
        }
    }
    order.retain(|s| !checkpoint.is_done(s.shard_id().unwrap_or_default()));
    order
}

/// The `LatestStreamArn` of `table` (with `db`'s namespace).
async fn stream_arn(db: &Db, table: &TableDef) -> Result<String> {
    let name = db.table_name(table);
    let out = db
        .client()
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .map_err(|e| Error::service(Operation::DescribeTable, &name, e))?;
    out.table
        .and_then(|t| t.latest_stream_arn)
        .ok_or_else(|| Error::config(format!("table `{name}` has no stream")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_text_round_trips() {
        let mut c = Checkpoint::default();
        c.after
            .insert("shardId-1".into(), "000000000000000000001".into());
        c.done.insert("shardId-0".into());
        let text = c.to_string();
        assert_eq!(text, "shardId-1 000000000000000000001\nshardId-0 done\n");
        assert_eq!(text.parse::<Checkpoint>(), Ok(c));
        assert_eq!(
            "shardId-1 12\nnonsense".parse::<Checkpoint>(),
            Err(InvalidCheckpoint { line: 2 })
        );
    }

    #[test]
    fn parents_come_before_children() {
        let shard = |id: &str, parent: Option<&str>| {
            Shard::builder()
                .shard_id(id)
                .set_parent_shard_id(parent.map(str::to_owned))
                .build()
        };
        let shards = [
            shard("c", Some("b")),
            shard("b", Some("a")),
            shard("a", Some("trimmed")),
            shard("d", Some("a")),
        ];
        let order: Vec<_> = parents_first(&shards, &Checkpoint::default())
            .into_iter()
            .filter_map(|s| s.shard_id())
            .collect();
        assert_eq!(order, ["a", "d", "b", "c"]);
        let mut done = Checkpoint::default();
        done.finish("a");
        let order: Vec<_> = parents_first(&shards, &done)
            .into_iter()
            .filter_map(|s| s.shard_id())
            .collect();
        assert_eq!(order, ["d", "b", "c"]);
    }
}
