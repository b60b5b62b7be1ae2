use std::{
    collections::{HashMap, HashSet},
    hash::{Hash, Hasher},
};

use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest,
};
use futures_util::{StreamExt, stream};
use tracing::Instrument;

use crate::Operation;
use crate::{
    Attributes, Db, Error, Item, Key, Result, Timestamp,
    log::{Meter, span},
};

use super::sdk_error;

/// BatchGetItem takes at most 100 keys.
const GET_CHUNK: usize = 100;
/// BatchWriteItem takes at most 25 requests.
const WRITE_CHUNK: usize = 25;

/// What one chunk of a batch could not process, and the error that stopped
/// it (`None`: the retries ran out).
type Leftover = (Vec<Attributes>, Option<Error>);

/// Runs every chunk (at most `db.concurrency()` at once), even after one
/// fails, so that the error lists everything not processed.
async fn run_chunks<T, F>(
    db: &Db,
    operation: Operation,
    table: &str,
    chunks: Vec<T>,
    run: impl Fn(T) -> F,
) -> Result<()>
where
    F: Future<Output = Result<(), Leftover>>,
{
    let results: Vec<Result<(), Leftover>> = stream::iter(chunks)
        .map(run)
        .buffer_unordered(db.concurrency())
        .collect()
        .await;
    let mut unprocessed = Vec::new();
    let mut cause = None;
    for (left, error) in results.into_iter().filter_map(Result::err) {
        unprocessed.extend(left);
        if cause.is_none() {
            cause = error;
        }
    }
    if unprocessed.is_empty() && cause.is_none() {
        return Ok(());
    }
    Err(Error::Unprocessed {
        operation,
        table: table.to_owned(),
        attempts: db.retry_policy().max_attempts(),
        unprocessed,
        cause: cause.map(Box::new),
    })
}

/// A canonical text of a key, to find duplicates and match results.
pub(crate) fn key_text(key: &Attributes) -> String {
    let mut parts: Vec<String> = key
        .iter()
        .map(|(name, value)| match value {
            AttributeValue::S(s) => format!("{name}=S:{s}"),
            AttributeValue::N(n) => format!("{name}=N:{n}"),
            AttributeValue::B(b) => format!("{name}=B:{:?}", b.as_ref()),
            other => format!("{name}={other:?}"),
        })
        .collect();
    parts.sort_unstable();
    parts.join("\u{0}")
}

/// The table key of an item or key map of `I`'s table, borrowed: what a
/// batch compares to find two requests for one item and to match what
/// DynamoDB returns to what was asked, without copying or formatting it.
#[derive(Debug, Clone, Copy)]
struct KeyView<'a> {
    partition: Option<&'a AttributeValue>,
    sort: Option<&'a AttributeValue>,
}

impl<'a> KeyView<'a> {
    fn of<I: Item>(item: &'a Attributes) -> Self {
        let table = I::TABLE;
        KeyView {
            partition: item.get(&*table.partition_key.name),
            sort: table.sort_key.as_ref().and_then(|k| item.get(&*k.name)),
        }
    }
}

impl PartialEq for KeyView<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.partition == other.partition && self.sort == other.sort
    }
}

impl Eq for KeyView<'_> {}

impl Hash for KeyView<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for value in [self.partition, self.sort] {
            // Key attributes are S, N or B; anything else hashes by kind
            // alone and is still told apart by `eq`.
            match value {
                Some(AttributeValue::S(s)) => (1u8, s.as_bytes()).hash(state),
                Some(AttributeValue::N(n)) => (2u8, n.as_bytes()).hash(state),
                Some(AttributeValue::B(b)) => (3u8, b.as_ref()).hash(state),
                Some(_) => 4u8.hash(state),
                None => 0u8.hash(state),
            }
        }
    }
}

/// Reads many items of one type by key: chunks of 100, a few chunks in
/// flight, unprocessed keys retried with backoff. Built by the generated
/// `batch_get`.
#[derive(Debug)]
#[must_use = "call `.send(&db)` to read the items"]
pub struct BatchGet<I: Item> {
    keys: Vec<I::Key>,
    consistent: bool,
}

impl<I: Item> BatchGet<I> {
    /// A read of the items with `keys`.
    pub fn new(keys: impl IntoIterator<Item = I::Key>) -> Self {
        BatchGet {
            keys: keys.into_iter().collect(),
            consistent: false,
        }
    }

    /// Reads with strong consistency.
    pub fn consistent(mut self) -> Self {
        self.consistent = true;
        self
    }

    /// Sends the requests. The result has one entry per requested key, in
    /// order: `None` where no item (of this type) has that key. The same
    /// key twice is [`Error::InvalidRequest`], before anything is sent;
    /// keys still unprocessed when the retry policy gives up are
    /// [`Error::Unprocessed`].
    pub async fn send(self, db: &Db) -> Result<Vec<Option<I>>> {
        let table = db.table_name(I::TABLE);
        let span = span(Operation::BatchGetItem, &table, I::TYPE_NAME);
        async {
            let meter = Meter::new(&span, Operation::BatchGetItem, &table, I::TYPE_NAME);
            let encoded = self
                .keys
                .iter()
                .map(Key::encode_key)
                .collect::<Result<Vec<_>>>()?;
            // Each key's position, by its attributes in place: a key
            // twice is refused, and results are matched to their keys.
            let mut position = HashMap::with_capacity(encoded.len());
            for (i, key) in encoded.iter().enumerate() {
                if position.insert(KeyView::of::<I>(key), i).is_some() {
                    return Err(Error::InvalidRequest {
                        operation: Operation::BatchGetItem,
                        reason: format!("key {} of `{}` is requested twice", i, I::TYPE_NAME),
                    });
                }
            }
            let found = std::sync::Mutex::new(Vec::new());
            let chunks: Vec<&[Attributes]> = encoded.chunks(GET_CHUNK).collect();
            run_chunks(db, Operation::BatchGetItem, &table, chunks, |chunk| {
                get_chunk(
                    db,
                    &meter,
                    &table,
                    chunk,
                    self.consistent,
                    I::TYPE_NAME,
                    &found,
                )
            })
            .await?;
            let found = found.into_inner().unwrap_or_else(|e| e.into_inner());
            let mut out: Vec<Option<I>> = std::iter::repeat_with(|| None)
                .take(self.keys.len())
                .collect();
            let mut items = 0;
            for raw in found {
                let Some(&i) = position.get(&KeyView::of::<I>(&raw)) else {
                    continue;
                };
                // An item of another type under a requested key is not an `I`.
                match I::decode(raw) {
                    Ok(item) => {
                        out[i] = Some(item);
                        items += 1;
                    }
                    Err(Error::Decode(e))
                        if matches!(e.kind, crate::DecodeErrorKind::WrongItemType { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            meter.finish(items);
            Ok(out)
        }
        .instrument(span.clone())
        .await
    }
}

/// `items` in chunks of `size`, moved, each with the position of its
/// first element.
fn chunked<T>(items: Vec<T>, size: usize) -> Vec<(usize, Vec<T>)> {
    let mut chunks = Vec::with_capacity(items.len().div_ceil(size));
    let mut items = items.into_iter();
    let mut first = 0;
    loop {
        let chunk: Vec<T> = items.by_ref().take(size).collect();
        if chunk.is_empty() {
            return chunks;
        }
        let len = chunk.len();
        chunks.push((first, chunk));
        first += len;
    }
}

/// Reads one chunk of keys, retrying unprocessed keys. Requests take the
/// keys by value: the chunk's are copied once (a key is a couple of short
/// values), and kept to name them in the error should the request fail.
async fn get_chunk(
    db: &Db,
    meter: &Meter<'_>,
    table: &str,
    keys: &[Attributes],
    consistent: bool,
    item_type: &'static str,
    found: &std::sync::Mutex<Vec<Attributes>>,
) -> Result<(), Leftover> {
    let policy = db.retry_policy();
    let mut pending = keys.to_vec();
    for attempt in 0..policy.max_attempts() {
        // Retried keys (rare: throttling) are kept for the error; the first
        // request's are the chunk's.
        let kept = if attempt > 0 {
            tracing::debug!(
                unprocessed = pending.len(),
                attempt,
                "retrying unprocessed keys"
            );
            policy.wait(attempt).await;
            Some(pending.clone())
        } else {
            None
        };
        let left = |kept: Option<Vec<Attributes>>| kept.unwrap_or_else(|| keys.to_vec());
        let request = KeysAndAttributes::builder()
            .set_keys(Some(pending))
            .consistent_read(consistent)
            .build()
            .map_err(|e| (left(kept.clone()), Some(Error::config(e.to_string()))))?;
        let request = db
            .client()
            .batch_get_item()
            .request_items(table, request)
            .set_return_consumed_capacity(meter.capacity())
            .send();
        let out = match meter.send(db, request).await {
            Ok(out) => out,
            Err(e) => {
                return Err((
                    left(kept),
                    Some(sdk_error(Operation::BatchGetItem, table, item_type, e)),
                ));
            }
        };
        if let Some(mut responses) = out.responses {
            let items = responses.remove(table).unwrap_or_default();
            found
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(items);
        }
        pending = out
            .unprocessed_keys
            .and_then(|mut u| u.remove(table))
            .map(|k| k.keys)
            .unwrap_or_default();
        if pending.is_empty() {
            return Ok(());
        }
    }
    Err((pending, None))
}

/// Writes and deletes many items of one type: chunks of 25, a few chunks in
/// flight, unprocessed requests retried with backoff until done or the
/// retries run out ([`Error::Unprocessed`] then lists exactly what was not
/// written). Built by the generated `batch_put` and `batch_delete`.
///
/// Batch writes cannot carry conditions, so versioned item types have no
/// batch writes (use a transaction).
#[derive(Debug)]
#[must_use = "call `.send(&db)` to write the items"]
pub struct BatchWrite<'a, I: Item> {
    puts: Vec<&'a I>,
    deletes: Vec<I::Key>,
}

impl<I: Item> Default for BatchWrite<'_, I> {
    fn default() -> Self {
        BatchWrite {
            puts: Vec::new(),
            deletes: Vec::new(),
        }
    }
}

impl<'a, I: Item> BatchWrite<'a, I> {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds puts of `items`.
    pub fn put(mut self, items: impl IntoIterator<Item = &'a I>) -> Self {
        self.puts.extend(items);
        self
    }

    /// Adds deletes of the items with `keys`.
    pub fn delete(mut self, keys: impl IntoIterator<Item = I::Key>) -> Self {
        self.deletes.extend(keys);
        self
    }

    /// Validates and sends everything. Two requests for one key are
    /// [`Error::InvalidRequest`], before anything is sent. Requests still
    /// unprocessed when the retry policy gives up, or whose chunk failed,
    /// are [`Error::Unprocessed`], which lists exactly those; every other
    /// request was written.
    pub async fn send(self, db: &Db) -> Result<()> {
        let table = db.table_name(I::TABLE);
        let span = span(Operation::BatchWriteItem, &table, I::TYPE_NAME);
        async {
            let meter = Meter::new(&span, Operation::BatchWriteItem, &table, I::TYPE_NAME);
            if I::VERSION.is_some() {
                return Err(Error::InvalidRequest {
                    operation: Operation::BatchWriteItem,
                    reason: format!(
                        "`{}` is versioned, and batch writes cannot check versions",
                        I::TYPE_NAME
                    ),
                });
            }
            if !I::UNIQUE.is_empty() {
                return Err(Error::InvalidRequest {
                    operation: Operation::BatchWriteItem,
                    reason: format!(
                        "`{}` has unique fields, whose markers batch writes cannot keep: use put and delete",
                        I::TYPE_NAME
                    ),
                });
            }
            let now = Timestamp::now();
            let mut requests = Vec::with_capacity(self.puts.len() + self.deletes.len());
            for item in &self.puts {
                item.validate()?;
                item.before_write()?;
                let put = PutRequest::builder()
                    .set_item(Some(item.encode_for_write(now)?))
                    .build()
                    .map_err(|e| Error::config(e.to_string()))?;
                requests.push(WriteRequest::builder().put_request(put).build());
            }
            for key in &self.deletes {
                let delete = DeleteRequest::builder()
                    .set_key(Some(key.encode_key()?))
                    .build()
                    .map_err(|e| Error::config(e.to_string()))?;
                requests.push(WriteRequest::builder().delete_request(delete).build());
            }
            // Each item's key is rendered once, by its encoding; duplicates
            // are found by the attributes in place.
            let mut seen = HashSet::with_capacity(requests.len());
            for request in &requests {
                let (attributes, what) = written(request);
                if !seen.insert(KeyView::of::<I>(attributes)) {
                    return Err(Error::InvalidRequest {
                        operation: Operation::BatchWriteItem,
                        reason: format!("two requests for one key of `{}` ({what})", I::TYPE_NAME),
                    });
                }
            }
            drop(seen);
            let count = requests.len();
            // A chunk that fails on its first request names its requests
            // again from the items and keys they came from.
            let rebuild = |first: usize, len: usize| -> Vec<Attributes> {
                (first..first + len)
                    .filter_map(|i| match self.puts.get(i) {
                        Some(item) => item.encode_for_write(now).ok(),
                        None => self.deletes[i - self.puts.len()].encode_key().ok(),
                    })
                    .collect()
            };
            run_chunks(
                db,
                Operation::BatchWriteItem,
                &table,
                chunked(requests, WRITE_CHUNK),
                |(first, chunk)| {
                    write_chunk(db, &meter, &table, chunk, I::TYPE_NAME, move |len| {
                        rebuild(first, len)
                    })
                },
            )
            .await?;
            meter.finish(count);
            Ok(())
        }
        .instrument(span.clone())
        .await
    }
}

/// Deletes the items with `keys` (each a table key) in chunks of 25,
/// retrying unprocessed requests; what is left when the retries run out,
/// or a chunk fails, is [`Error::Unprocessed`], listing exactly those keys.
pub(crate) async fn delete_keys(
    db: &Db,
    meter: &Meter<'_>,
    table: &str,
    keys: Vec<Attributes>,
    item_type: &'static str,
) -> Result<()> {
    let requests = keys
        .iter()
        .map(|key| {
            DeleteRequest::builder()
                .set_key(Some(key.clone()))
                .build()
                .map(|delete| WriteRequest::builder().delete_request(delete).build())
                .map_err(|e| Error::config(e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    let keys = &keys;
    run_chunks(
        db,
        Operation::BatchWriteItem,
        table,
        chunked(requests, WRITE_CHUNK),
        |(first, chunk)| {
            write_chunk(db, meter, table, chunk, item_type, move |len| {
                keys[first..first + len].to_vec()
            })
        },
    )
    .await
}

/// The attributes a write request sends (the item of a put, the key of a
/// delete), and which it is.
fn written(request: &WriteRequest) -> (&Attributes, &'static str) {
    match (&request.put_request, &request.delete_request) {
        (Some(put), _) => (&put.item, "put"),
        (_, Some(delete)) => (&delete.key, "delete"),
        // The builders above always set one of them.
        (None, None) => unreachable!("a write request is a put or a delete"),
    }
}

/// Writes one chunk, retrying unprocessed requests. The requests are moved
/// into the first call; `rebuild(n)` makes their items and keys again
/// should it fail, to name them in the error.
async fn write_chunk(
    db: &Db,
    meter: &Meter<'_>,
    table: &str,
    requests: Vec<WriteRequest>,
    item_type: &'static str,
    rebuild: impl Fn(usize) -> Vec<Attributes>,
) -> Result<(), Leftover> {
    let policy = db.retry_policy();
    let len = requests.len();
    let mut pending = requests;
    for attempt in 0..policy.max_attempts() {
        // Retried requests (rare: throttling) are kept for the error; the
        // first call's can be made again.
        let kept = if attempt > 0 {
            tracing::debug!(
                unprocessed = pending.len(),
                attempt,
                "retrying unprocessed items"
            );
            policy.wait(attempt).await;
            Some(pending.clone())
        } else {
            None
        };
        let request = db
            .client()
            .batch_write_item()
            .request_items(table, pending)
            .set_return_consumed_capacity(meter.capacity())
            .send();
        match meter.send(db, request).await {
            Ok(out) => {
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(table))
                    .unwrap_or_default();
            }
            Err(e) => {
                let error = sdk_error(Operation::BatchWriteItem, table, item_type, e);
                let left = kept.map_or_else(|| rebuild(len), requested);
                return Err((left, Some(error)));
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
    }
    Err((requested(pending), None))
}

/// The items (puts) and keys (deletes) of write requests.
fn requested(requests: Vec<WriteRequest>) -> Vec<Attributes> {
    requests
        .into_iter()
        .filter_map(|r| match (r.put_request, r.delete_request) {
            (Some(put), _) => Some(put.item),
            (_, Some(delete)) => Some(delete.key),
            _ => None,
        })
        .collect()
}
