use std::{collections::HashMap, marker::PhantomData};

use aws_sdk_dynamodb::types::AttributeValue;
use futures_core::Stream;
use futures_util::{TryStreamExt, stream};

use crate::{Attributes, Cursor, Db, Error, Item, KeyError, Result};

use super::sdk_error;

/// A condition on the sort key of a query, rendered from the sort template.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKeyCondition {
    /// The sort key equals this value.
    Equal(AttributeValue),
    /// The sort key starts with this text.
    BeginsWith(String),
}

/// One page of query results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<I> {
    /// The items of this page, in sort-key order (reversed when descending).
    pub items: Vec<I>,
    /// Where the next page starts; `None` when there are no more items.
    pub cursor: Option<Cursor>,
}

/// A query of one item type over one partition. Built by the generated
/// query functions, which fill in the partition and sort-key condition.
///
/// The query only returns items of type `I`: a filter on the table's type
/// attribute leaves out other item types sharing the partition.
#[derive(Debug)]
#[must_use = "call `.send(&db)`, `.all(&db)` or `.stream(&db)` to run the query"]
pub struct Query<I: Item> {
    partition: Result<AttributeValue, KeyError>,
    sort: Option<Result<SortKeyCondition, KeyError>>,
    descending: bool,
    consistent: bool,
    page_size: Option<i32>,
    max_items: Option<usize>,
    cursor: Option<Cursor>,
    item: PhantomData<fn() -> I>,
}

impl<I: Item> Query<I> {
    /// A query of the partition whose key is `partition`. A key error is
    /// reported when the query is sent.
    pub fn new(partition: Result<AttributeValue, KeyError>) -> Self {
        Query {
            partition,
            sort: None,
            descending: false,
            consistent: false,
            page_size: None,
            max_items: None,
            cursor: None,
            item: PhantomData,
        }
    }

    /// Restricts the sort key.
    pub fn sort_key(mut self, condition: Result<SortKeyCondition, KeyError>) -> Self {
        self.sort = Some(condition);
        self
    }

    /// Returns items in descending sort-key order.
    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }

    /// Reads with strong consistency.
    pub fn consistent(mut self) -> Self {
        self.consistent = true;
        self
    }

    /// How many items DynamoDB evaluates per request (its `Limit`). This
    /// tunes request size only; use [`limit`](Self::limit) to bound results.
    pub fn page_size(mut self, items: u32) -> Self {
        self.page_size = Some(i32::try_from(items.max(1)).unwrap_or(i32::MAX));
        self
    }

    /// Returns at most `items` items. [`send`](Self::send) then keeps
    /// requesting until it has that many or the query is exhausted.
    pub fn limit(mut self, items: usize) -> Self {
        self.max_items = Some(items);
        self
    }

    /// Resumes after the position `cursor` from an earlier page.
    pub fn after(mut self, cursor: Cursor) -> Self {
        self.cursor = Some(cursor);
        self
    }

    /// Runs the query and returns one page: with [`limit`](Self::limit), up
    /// to that many items; without it, the items of one DynamoDB response
    /// (at most 1 MB, possibly none). The page's cursor resumes after it.
    pub async fn send(&self, db: &Db) -> Result<Page<I>> {
        let (items, last_key) = self.page(db, self.start_key()?, self.max_items).await?;
        Ok(Page {
            items,
            cursor: last_key.as_ref().map(Cursor::from_key),
        })
    }

    /// Runs the query to its end (or to [`limit`](Self::limit) items) and
    /// returns every item.
    pub async fn all(&self, db: &Db) -> Result<Vec<I>> {
        self.stream(db).try_collect().await
    }

    /// The items of the query (up to [`limit`](Self::limit)), requesting
    /// pages as the stream is read.
    pub fn stream<'a>(&'a self, db: &'a Db) -> impl Stream<Item = Result<I>> + 'a {
        enum State {
            Start,
            Next(Attributes, Option<usize>),
            Done,
        }
        stream::try_unfold(State::Start, move |state| async move {
            let (start, remaining) = match state {
                State::Done => return Ok::<_, Error>(None),
                State::Start => (self.start_key()?, self.max_items),
                State::Next(key, remaining) => (Some(key), remaining),
            };
            if remaining == Some(0) {
                return Ok(None);
            }
            let (items, last_key) = self.page(db, start, remaining).await?;
            let remaining = remaining.map(|r| r.saturating_sub(items.len()));
            let next = match last_key {
                Some(key) => State::Next(key, remaining),
                None => State::Done,
            };
            Ok(Some((stream::iter(items.into_iter().map(Ok)), next)))
        })
        .try_flatten()
    }

    fn start_key(&self) -> Result<Option<Attributes>> {
        self.cursor
            .as_ref()
            .map(|c| c.to_key(&self.key_names()))
            .transpose()
    }

    fn key_names(&self) -> Vec<&'static str> {
        let table = I::TABLE;
        std::iter::once(table.partition_key.name)
            .chain(table.sort_key.map(|k| k.name))
            .collect()
    }

    /// Collects up to `want` items (or one response when `None`) from `start`.
    #[tracing::instrument(level = "debug", name = "Query", skip_all, fields(item_type = I::TYPE_NAME, items))]
    async fn page(
        &self,
        db: &Db,
        mut start: Option<Attributes>,
        want: Option<usize>,
    ) -> Result<(Vec<I>, Option<Attributes>)> {
        let table_def = I::TABLE;
        let table = db.table_name(table_def);
        let partition = self.partition.clone()?;
        let sort = self.sort.clone().transpose()?;

        let mut names = HashMap::from([
            ("#pk".to_owned(), table_def.partition_key.name.to_owned()),
            ("#type".to_owned(), table_def.type_attribute.to_owned()),
        ]);
        let mut values = HashMap::from([
            (":pk".to_owned(), partition),
            (
                ":type".to_owned(),
                AttributeValue::S(I::TYPE_NAME.to_owned()),
            ),
        ]);
        let mut key_condition = "#pk = :pk".to_owned();
        if let (Some(sort), Some(sort_key)) = (sort, table_def.sort_key) {
            names.insert("#sk".to_owned(), sort_key.name.to_owned());
            let (expression, value) = match sort {
                SortKeyCondition::Equal(value) => (" AND #sk = :sk", value),
                SortKeyCondition::BeginsWith(prefix) => {
                    (" AND begins_with(#sk, :sk)", AttributeValue::S(prefix))
                }
            };
            key_condition.push_str(expression);
            values.insert(":sk".to_owned(), value);
        }

        let mut items = Vec::new();
        loop {
            let remaining = want.map(|w| w.saturating_sub(items.len()));
            // DynamoDB's Limit counts items before the type filter, so asking
            // for `remaining` can return fewer: the loop asks again.
            let limit = match (self.page_size, remaining) {
                (Some(size), Some(r)) => Some(size.min(i32::try_from(r).unwrap_or(i32::MAX))),
                (size, r) => size.or(r.map(|r| i32::try_from(r).unwrap_or(i32::MAX))),
            };
            let out = db
                .client()
                .query()
                .table_name(&table)
                .key_condition_expression(&key_condition)
                .filter_expression("#type = :type")
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(!self.descending)
                .consistent_read(self.consistent)
                .set_limit(limit)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", &table, I::TYPE_NAME, e))?;
            for raw in out.items.unwrap_or_default() {
                items.push(I::decode(raw)?);
            }
            let cursor = out.last_evaluated_key;
            let done = match remaining {
                None => true,
                Some(_) => cursor.is_none() || want.is_some_and(|w| items.len() >= w),
            };
            if done {
                tracing::Span::current().record("items", items.len());
                return Ok((items, cursor));
            }
            start = cursor;
        }
    }
}
