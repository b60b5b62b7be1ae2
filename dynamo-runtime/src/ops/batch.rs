use std::{collections::HashMap, time::Duration};

use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest,
};
use futures_util::{StreamExt, TryStreamExt, stream};

use crate::{Attributes, Db, Error, Item, Key, Result, Timestamp};

use super::sdk_error;

/// BatchGetItem takes at most 100 keys.
const GET_CHUNK: usize = 100;
/// BatchWriteItem takes at most 25 requests.
const WRITE_CHUNK: usize = 25;
/// Chunks in flight at once.
const CONCURRENCY: usize = 4;
/// Requests per chunk before unprocessed items are reported.
const ATTEMPTS: u32 = 10;

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
    let table = I::TABLE;
    std::iter::once(table.partition_key.name)
        .chain(table.sort_key.map(|k| k.name))
        .filter_map(|name| item.get(name).map(|v| (name.to_owned(), v.clone())))
        .collect()
}

/// Exponential backoff with full jitter between retries of unprocessed
/// requests: 50 ms doubling up to 5 s.
pub(crate) async fn backoff(attempt: u32) {
    use std::hash::BuildHasher;
    let cap = Duration::from_millis(50)
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(Duration::from_secs(5));
    let random = std::collections::hash_map::RandomState::new().hash_one(attempt);
    let jittered = cap.mul_f64((random % 1000) as f64 / 1000.0);
    tokio::time::sleep(jittered).await;
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
    /// order: `None` where no item has that key. The same key twice is
    /// [`Error::InvalidRequest`], before anything is sent.
    #[tracing::instrument(level = "debug", name = "BatchGetItem", skip_all, fields(item_type = I::TYPE_NAME, keys = self.keys.len()))]
    pub async fn send(self, db: &Db) -> Result<Vec<Option<I>>> {
        let table = db.table_name(I::TABLE);
        let mut position = HashMap::with_capacity(self.keys.len());
        let mut encoded = Vec::with_capacity(self.keys.len());
        for (i, key) in self.keys.iter().enumerate() {
            let key = key.encode_key()?;
            if position.insert(key_text(&key), i).is_some() {
                return Err(Error::InvalidRequest {
                    operation: "BatchGetItem",
                    reason: format!("key {} of `{}` is requested twice", i, I::TYPE_NAME),
                });
            }
            encoded.push(key);
        }
        let chunks: Vec<Vec<Attributes>> = encoded.chunks(GET_CHUNK).map(<[_]>::to_vec).collect();
        let found: Vec<Vec<Attributes>> = stream::iter(chunks)
            .map(|chunk| get_chunk(db, &table, chunk, self.consistent, I::TYPE_NAME))
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        let mut out: Vec<Option<I>> = std::iter::repeat_with(|| None)
            .take(self.keys.len())
            .collect();
        for raw in found.into_iter().flatten() {
            let Some(&i) = position.get(&key_text(&key_of::<I>(&raw))) else {
                continue;
            };
            // An item of another type under a requested key is not an `I`.
            match I::decode(raw) {
                Ok(item) => out[i] = Some(item),
                Err(Error::Decode(e))
                    if matches!(e.kind, crate::DecodeErrorKind::WrongItemType { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

async fn get_chunk(
    db: &Db,
    table: &str,
    keys: Vec<Attributes>,
    consistent: bool,
    item_type: &'static str,
) -> Result<Vec<Attributes>> {
    let mut pending = keys;
    let mut items = Vec::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            backoff(attempt).await;
        }
        let request = KeysAndAttributes::builder()
            .set_keys(Some(std::mem::take(&mut pending)))
            .consistent_read(consistent)
            .build()
            .map_err(|e| Error::config(e.to_string()))?;
        let out = db
            .client()
            .batch_get_item()
            .request_items(table, request)
            .send()
            .await
            .map_err(|e| sdk_error("BatchGetItem", table, item_type, e))?;
        if let Some(mut responses) = out.responses {
            items.extend(responses.remove(table).unwrap_or_default());
        }
        pending = out
            .unprocessed_keys
            .and_then(|mut u| u.remove(table))
            .map(|k| k.keys)
            .unwrap_or_default();
        if pending.is_empty() {
            return Ok(items);
        }
        tracing::debug!(
            unprocessed = pending.len(),
            attempt,
            "retrying unprocessed keys"
        );
    }
    Err(Error::Unprocessed {
        operation: "BatchGetItem",
        table: table.to_owned(),
        attempts: ATTEMPTS,
        unprocessed: pending,
    })
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
    /// [`Error::InvalidRequest`], before anything is sent.
    #[tracing::instrument(level = "debug", name = "BatchWriteItem", skip_all, fields(item_type = I::TYPE_NAME, puts = self.puts.len(), deletes = self.deletes.len()))]
    pub async fn send(self, db: &Db) -> Result<()> {
        if I::VERSION.is_some() {
            return Err(Error::InvalidRequest {
                operation: "BatchWriteItem",
                reason: format!(
                    "`{}` is versioned, and batch writes cannot check versions",
                    I::TYPE_NAME
                ),
            });
        }
        let table = db.table_name(I::TABLE);
        let now = Timestamp::now();
        let mut seen = HashMap::new();
        let mut requests = Vec::with_capacity(self.puts.len() + self.deletes.len());
        let mut check = |key: &Attributes, what: &str| {
            if seen.insert(key_text(key), ()).is_some() {
                return Err(Error::InvalidRequest {
                    operation: "BatchWriteItem",
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
        let chunks: Vec<Vec<WriteRequest>> =
            requests.chunks(WRITE_CHUNK).map(<[_]>::to_vec).collect();
        stream::iter(chunks)
            .map(|chunk| write_chunk(db, &table, chunk, I::TYPE_NAME))
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }
}

async fn write_chunk(
    db: &Db,
    table: &str,
    requests: Vec<WriteRequest>,
    item_type: &'static str,
) -> Result<()> {
    let mut pending = requests;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            backoff(attempt).await;
        }
        let out = db
            .client()
            .batch_write_item()
            .request_items(table, std::mem::take(&mut pending))
            .send()
            .await
            .map_err(|e| sdk_error("BatchWriteItem", table, item_type, e))?;
        pending = out
            .unprocessed_items
            .and_then(|mut u| u.remove(table))
            .unwrap_or_default();
        if pending.is_empty() {
            return Ok(());
        }
        tracing::debug!(
            unprocessed = pending.len(),
            attempt,
            "retrying unprocessed items"
        );
    }
    let unprocessed = pending
        .into_iter()
        .filter_map(|r| match (r.put_request, r.delete_request) {
            (Some(put), _) => Some(put.item),
            (_, Some(delete)) => Some(delete.key),
            _ => None,
        })
        .collect();
    Err(Error::Unprocessed {
        operation: "BatchWriteItem",
        table: table.to_owned(),
        attempts: ATTEMPTS,
        unprocessed,
    })
}
