use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, ReturnConsumedCapacity,
    WriteRequest,
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

/// The key attributes of a full item of `I`'s table.
fn key_of<I: Item>(item: &Attributes) -> Attributes {
    I::TABLE
        .key()
        .filter_map(|k| item.get(&*k.name).map(|v| (k.name.to_string(), v.clone())))
        .collect()
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
            let meter = Meter::new(&span);
            let mut position = HashMap::with_capacity(self.keys.len());
            let mut encoded = Vec::with_capacity(self.keys.len());
            for (i, key) in self.keys.iter().enumerate() {
                let key = key.encode_key()?;
                if position.insert(key_text(&key), i).is_some() {
                    return Err(Error::InvalidRequest {
                        operation: Operation::BatchGetItem,
                        reason: format!("key {} of `{}` is requested twice", i, I::TYPE_NAME),
                    });
                }
                encoded.push(key);
            }
            let found = std::sync::Mutex::new(Vec::new());
            let chunks: Vec<Vec<Attributes>> =
                encoded.chunks(GET_CHUNK).map(<[_]>::to_vec).collect();
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
                let Some(&i) = position.get(&key_text(&key_of::<I>(&raw))) else {
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

async fn get_chunk(
    db: &Db,
    meter: &Meter,
    table: &str,
    keys: Vec<Attributes>,
    consistent: bool,
    item_type: &'static str,
    found: &std::sync::Mutex<Vec<Attributes>>,
) -> Result<(), Leftover> {
    let policy = db.retry_policy();
    let mut pending = keys;
    for attempt in 0..policy.max_attempts() {
        if attempt > 0 {
            tracing::debug!(
                unprocessed = pending.len(),
                attempt,
                "retrying unprocessed keys"
            );
            policy.wait(attempt).await;
        }
        let request = KeysAndAttributes::builder()
            .set_keys(Some(pending.clone()))
            .consistent_read(consistent)
            .build()
            .map_err(|e| (pending.clone(), Some(Error::config(e.to_string()))))?;
        let request = db
            .client()
            .batch_get_item()
            .request_items(table, request)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        let out = match meter.send(db, request).await {
            Ok(out) => out,
            Err(e) => {
                return Err((
                    pending,
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
            let meter = Meter::new(&span);
            if I::VERSION.is_some() {
                return Err(Error::InvalidRequest {
                    operation: Operation::BatchWriteItem,
                    reason: format!(
                        "`{}` is versioned, and batch writes cannot check versions",
                        I::TYPE_NAME
                    ),
                });
            }
            let now = Timestamp::now();
            let mut seen = HashMap::new();
            let mut requests = Vec::with_capacity(self.puts.len() + self.deletes.len());
            let mut check = |key: &Attributes, what: &str| {
                if seen.insert(key_text(key), ()).is_some() {
                    return Err(Error::InvalidRequest {
                        operation: Operation::BatchWriteItem,
                        reason: format!("two requests for one key of `{}` ({what})", I::TYPE_NAME),
                    });
                }
                Ok(())
            };
            for item in &self.puts {
                item.validate()?;
                check(&item.key().encode_key()?, "put")?;
                let put = PutRequest::builder()
                    .set_item(Some(item.encode_for_write(now)?))
                    .build()
                    .map_err(|e| Error::config(e.to_string()))?;
                requests.push(WriteRequest::builder().put_request(put).build());
            }
            for key in &self.deletes {
                let key = key.encode_key()?;
                check(&key, "delete")?;
                let delete = DeleteRequest::builder()
                    .set_key(Some(key))
                    .build()
                    .map_err(|e| Error::config(e.to_string()))?;
                requests.push(WriteRequest::builder().delete_request(delete).build());
            }
            let count = requests.len();
            let chunks: Vec<Vec<WriteRequest>> =
                requests.chunks(WRITE_CHUNK).map(<[_]>::to_vec).collect();
            run_chunks(db, Operation::BatchWriteItem, &table, chunks, |chunk| {
                write_chunk(db, &meter, &table, chunk, I::TYPE_NAME)
            })
            .await?;
            meter.finish(count);
            Ok(())
        }
        .instrument(span.clone())
        .await
    }
}

async fn write_chunk(
    db: &Db,
    meter: &Meter,
    table: &str,
    requests: Vec<WriteRequest>,
    item_type: &'static str,
) -> Result<(), Leftover> {
    let policy = db.retry_policy();
    let mut pending = requests;
    for attempt in 0..policy.max_attempts() {
        if attempt > 0 {
            tracing::debug!(
                unprocessed = pending.len(),
                attempt,
                "retrying unprocessed items"
            );
            policy.wait(attempt).await;
        }
        let request = db
            .client()
            .batch_write_item()
            .request_items(table, pending.clone())
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
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
                return Err((requested(pending), Some(error)));
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
