use std::marker::PhantomData;

use aws_sdk_dynamodb::{operation::scan::builders::ScanFluentBuilder, types::Select};
use futures_core::Stream;
use futures_util::{StreamExt, TryStreamExt, stream};
use tracing::Instrument;

use crate::Operation;
use crate::{
    Attributes, Condition, Cursor, Db, Item, Page, Result,
    expr::{Expr, Node},
    log::{Meter, span},
};

use super::{
    query::{Rows, empty_page, filter_text, into_page, page_done, pages, request_limit},
    sdk_error,
};

/// A scan of every item of type `I` in its table: the whole table is read
/// (and paid for), and items of other types are filtered out. Built by the
/// generated `scan`.
///
/// Paging is as for [`Query`](crate::Query): [`page_size`](Self::page_size)
/// tunes requests, [`limit`](Self::limit) bounds results, and a page's
/// cursor resumes after it. [`parallel`](Self::parallel) reads segments of
/// the table at once.
#[derive(Debug)]
#[must_use = "call `.send(&db)`, `.all(&db)`, `.stream(&db)` or `.count(&db)` to run the scan"]
pub struct Scan<I: Item> {
    filter: Option<Node>,
    consistent: bool,
    page_size: Option<i32>,
    max_items: Option<usize>,
    cursor: Option<Cursor>,
    lenient: bool,
    budget: Option<super::ReadBudget>,
    item: PhantomData<fn() -> I>,
}

impl<I: Item> Default for Scan<I> {
    fn default() -> Self {
        Scan {
            filter: None,
            consistent: false,
            page_size: None,
            max_items: None,
            cursor: None,
            lenient: false,
            budget: None,
            item: PhantomData,
        }
    }
}

impl<I: Item> Scan<I> {
    /// A scan of every `I`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the scan's requests under `budget`'s read units per second,
    /// shared with every other read given the same budget (every segment
    /// of a [`parallel`](Self::parallel) scan too; PynamoDB's `rate_limit`).
    pub fn rate_limit(mut self, budget: &super::ReadBudget) -> Self {
        self.budget = Some(budget.clone());
        self
    }

    /// Keeps only items that meet `condition` (applied by DynamoDB after it
    /// reads them; [`limit`](Self::limit) still counts matches only).
    pub fn filter(mut self, condition: impl FnOnce(&I::Fields) -> Condition<I>) -> Self {
        let filter = condition(&I::FIELDS).into_node();
        self.filter = Some(match self.filter.take() {
            Some(before) => Node::And(Box::new(before), Box::new(filter)),
            None => filter,
        });
        self
    }

    /// Reads with strong consistency.
    pub fn consistent(mut self) -> Self {
        self.consistent = true;
        self
    }

    /// How many items DynamoDB evaluates per request (its `Limit`).
    pub fn page_size(mut self, items: u32) -> Self {
        self.page_size = Some(i32::try_from(items.max(1)).unwrap_or(i32::MAX));
        self
    }

    /// Returns at most `items` items.
    pub fn limit(mut self, items: usize) -> Self {
        self.max_items = Some(items);
        self
    }

    /// Resumes after the position `cursor` from an earlier page.
    pub fn after(mut self, cursor: Cursor) -> Self {
        self.cursor = Some(cursor);
        self
    }

    /// Makes [`send`](Self::send) return a page even when some of its items
    /// do not decode: one typed error per bad item in [`Page::errors`] and
    /// a cursor past it; see [`Query::lenient`](crate::Query::lenient).
    pub fn lenient(mut self) -> Self {
        self.lenient = true;
        self
    }

    /// Reads the table as `segments` parallel segments (at most
    /// [`Db::concurrency`] at once), in no particular order.
    pub fn parallel(self, segments: u32) -> ParallelScan<I> {
        ParallelScan {
            scan: self,
            segments: segments.max(1),
        }
    }

    /// Runs the scan and returns one page: with [`limit`](Self::limit), up
    /// to that many items; without it, one DynamoDB response's items.
    /// `limit(0)` sends no request and returns no items, with the cursor
    /// the scan started [`after`](Self::after).
    pub async fn send(&self, db: &Db) -> Result<Page<I>> {
        if self.max_items == Some(0) {
            return Ok(empty_page(self.cursor.as_ref()));
        }
        let rows = self
            .page(db, None, self.start_key()?, self.max_items)
            .await?;
        into_page(rows, self.lenient)
    }

    /// Runs the scan to its end (or its limit) and returns every item; an
    /// item that does not decode fails it.
    pub async fn all(&self, db: &Db) -> Result<Vec<I>> {
        self.stream(db).try_collect().await
    }

    /// The items of the scan, requesting pages as the stream is read; an
    /// item that does not decode is yielded as its error and the stream
    /// goes on.
    pub fn stream<'a>(&'a self, db: &'a Db) -> impl Stream<Item = Result<I>> + 'a {
        pages(self.start_key(), self.max_items, move |start, want| {
            self.page(db, None, start, want)
        })
    }

    /// Counts the matching items without reading them back (an item that
    /// would not decode is counted too).
    pub async fn count(&self, db: &Db) -> Result<usize> {
        self.count_segment(db, None).await
    }

    fn start_key(&self) -> Result<Option<Attributes>> {
        let names: Vec<&str> = I::TABLE.key().map(|k| &*k.name).collect();
        self.cursor.as_ref().map(|c| c.to_key(&names)).transpose()
    }

    fn request(
        &self,
        db: &Db,
        table: &str,
        segment: Option<(i32, i32)>,
        meter: &Meter<'_>,
    ) -> ScanFluentBuilder {
        let mut expr = Expr::new();
        let filter = filter_text(
            &mut expr,
            &I::TABLE.type_attribute,
            I::TYPE_NAMES,
            self.filter.as_ref(),
        );
        db.client()
            .scan()
            .table_name(table)
            .set_filter_expression(filter)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .consistent_read(self.consistent)
            .set_segment(segment.map(|(s, _)| s))
            .set_total_segments(segment.map(|(_, n)| n))
            .set_return_consumed_capacity(meter.capacity())
    }

    /// Collects up to `want` items (or one response when `None`) of
    /// `segment` from `start`.
    async fn page(
        &self,
        db: &Db,
        segment: Option<(i32, i32)>,
        mut start: Option<Attributes>,
        want: Option<usize>,
    ) -> Result<Rows<I>> {
        let table = db.table_name(I::TABLE);
        let span = span(Operation::Scan, &table, I::TYPE_NAME);
        async {
            let meter = self.meter(&span, &table);
            let mut items = Vec::new();
            let mut good = 0;
            loop {
                let remaining = want.map(|w| w.saturating_sub(good));
                let request = self
                    .request(db, &table, segment, &meter)
                    .set_limit(request_limit(self.page_size, remaining))
                    .set_exclusive_start_key(start.take());
                let out = meter
                    .send(db, request.send())
                    .await
                    .map_err(|e| sdk_error(Operation::Scan, &table, I::TYPE_NAME, e))?;
                for raw in out.items.unwrap_or_default() {
                    let item = I::decode(raw);
                    good += usize::from(item.is_ok());
                    items.push(item);
                }
                let cursor = out.last_evaluated_key;
                if page_done(want, good, cursor.as_ref()) {
                    meter.finish(good);
                    return Ok((items, cursor));
                }
                start = cursor;
            }
        }
        .instrument(span.clone())
        .await
    }

    /// The meter of this scan's requests, paced by its read budget.
    fn meter<'a>(&'a self, span: &'a tracing::Span, table: &'a str) -> Meter<'a> {
        Meter::paced(
            span,
            Operation::Scan,
            table,
            I::TYPE_NAME,
            self.budget.as_ref(),
        )
    }

    async fn count_segment(&self, db: &Db, segment: Option<(i32, i32)>) -> Result<usize> {
        let table = db.table_name(I::TABLE);
        let span = span(Operation::Scan, &table, I::TYPE_NAME);
        async {
            let meter = self.meter(&span, &table);
            let mut start = None;
            let mut count = 0;
            loop {
                let request = self
                    .request(db, &table, segment, &meter)
                    .select(Select::Count)
                    .set_limit(self.page_size)
                    .set_exclusive_start_key(start);
                let out = meter
                    .send(db, request.send())
                    .await
                    .map_err(|e| sdk_error(Operation::Scan, &table, I::TYPE_NAME, e))?;
                count += usize::try_from(out.count).unwrap_or(0);
                start = out.last_evaluated_key;
                if start.is_none() {
                    meter.finish(count);
                    return Ok(count);
                }
            }
        }
        .instrument(span.clone())
        .await
    }
}

/// A scan read as parallel segments; see [`Scan::parallel`]. Segments are
/// independent, so it has no cursor; [`Scan::limit`] bounds the items of
/// all segments together.
#[derive(Debug)]
#[must_use = "call `.all(&db)`, `.stream(&db)` or `.count(&db)` to run the scan"]
pub struct ParallelScan<I: Item> {
    scan: Scan<I>,
    segments: u32,
}

impl<I: Item> ParallelScan<I> {
    fn total(&self) -> i32 {
        i32::try_from(self.segments).unwrap_or(i32::MAX)
    }

    /// The items of every segment as they arrive, at most
    /// [`Db::concurrency`] segments read at once.
    pub fn stream<'a>(&'a self, db: &'a Db) -> impl Stream<Item = Result<I>> + 'a {
        let total = self.total();
        let segments = stream::iter(0..total).map(move |segment| {
            pages(Ok(None), None, move |start, want| {
                self.scan.page(db, Some((segment, total)), start, want)
            })
            .boxed()
        });
        let merged = segments.flatten_unordered(db.concurrency());
        match self.scan.max_items {
            Some(max) => merged.take(max).left_stream(),
            None => merged.right_stream(),
        }
    }

    /// Reads every segment and returns every item.
    pub async fn all(&self, db: &Db) -> Result<Vec<I>> {
        self.stream(db).try_collect().await
    }

    /// Counts the matching items of every segment.
    pub async fn count(&self, db: &Db) -> Result<usize> {
        let total = self.total();
        stream::iter(0..total)
            .map(|segment| self.scan.count_segment(db, Some((segment, total))))
            .buffer_unordered(db.concurrency())
            .try_fold(0, |sum, n| async move { Ok(sum + n) })
            .await
    }
}
