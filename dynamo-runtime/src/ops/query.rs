use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Select};
use futures_core::Stream;
use futures_util::{TryStreamExt, stream};
use tracing::Instrument;

use crate::{
    Attributes, Cursor, Db, Error, Item, KeyError, Operation, Result, TableDef,
    expr::{Expr, Node},
    key::{RenderedKey, SortKey},
    log::{Meter, span},
};

use super::sdk_error;

/// A condition on the sort key of a query, rendered from the sort template.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKeyCondition {
    /// The sort key equals this value.
    Equal(AttributeValue),
    /// The sort key starts with this text.
    BeginsWith(String),
    /// The sort key lies in a range. An exclusive bound is sent inclusive
    /// (DynamoDB's `BETWEEN` is) and the item exactly at it is dropped.
    Range {
        /// The lower bound and whether it is inclusive; `None`: unbounded.
        low: Option<(AttributeValue, bool)>,
        /// The upper bound and whether it is inclusive; `None`: unbounded.
        high: Option<(AttributeValue, bool)>,
    },
    /// A multi-attribute sort key, read left to right: the leading
    /// attributes equal to values, then `condition` on the next attribute
    /// (what DynamoDB allows: no gap, one range at the end).
    Then {
        /// The leading sort-key attributes and their values.
        equal: Vec<(&'static str, AttributeValue)>,
        /// The next attribute.
        attribute: &'static str,
        /// Its condition (not itself a `Then`).
        condition: Box<SortKeyCondition>,
    },
}

impl SortKeyCondition {
    /// `sort key < value`.
    pub fn lt(value: AttributeValue) -> Self {
        SortKeyCondition::Range {
            low: None,
            high: Some((value, false)),
        }
    }

    /// `sort key <= value`.
    pub fn le(value: AttributeValue) -> Self {
        SortKeyCondition::Range {
            low: None,
            high: Some((value, true)),
        }
    }

    /// `sort key > value`.
    pub fn gt(value: AttributeValue) -> Self {
        SortKeyCondition::Range {
            low: Some((value, false)),
            high: None,
        }
    }

    /// `sort key >= value`.
    pub fn ge(value: AttributeValue) -> Self {
        SortKeyCondition::Range {
            low: Some((value, true)),
            high: None,
        }
    }

    /// `low <= sort key <= high`.
    pub fn between(low: AttributeValue, high: AttributeValue) -> Self {
        SortKeyCondition::Range {
            low: Some((low, true)),
            high: Some((high, true)),
        }
    }

    /// Text above every continuation of a key prefix: `prefix + MAX` sorts
    /// after every key that starts with `prefix`.
    const MAX: &'static str = "\u{10FFFF}";

    /// Field `< v`, where `prefix` is the sort key up to the field and
    /// `at` is `prefix` plus the rendered value.
    pub fn text_lt(prefix: String, at: String) -> Self {
        SortKeyCondition::Range {
            low: Some((AttributeValue::S(prefix), true)),
            high: Some((AttributeValue::S(at), false)),
        }
    }

    /// Field `<= v`; `last` says the field ends the key (else every key
    /// continuing `at` has the field equal to `v`).
    pub fn text_le(prefix: String, at: String, last: bool) -> Self {
        let high = if last { at } else { at + Self::MAX };
        SortKeyCondition::Range {
            low: Some((AttributeValue::S(prefix), true)),
            high: Some((AttributeValue::S(high), true)),
        }
    }

    /// Field `> v`.
    pub fn text_gt(prefix: String, at: String, last: bool) -> Self {
        let low = if last { at } else { at + Self::MAX };
        SortKeyCondition::Range {
            low: Some((AttributeValue::S(low), false)),
            high: Some((AttributeValue::S(prefix + Self::MAX), true)),
        }
    }

    /// Field `>= v`.
    pub fn text_ge(prefix: String, at: String) -> Self {
        SortKeyCondition::Range {
            low: Some((AttributeValue::S(at), true)),
            high: Some((AttributeValue::S(prefix + Self::MAX), true)),
        }
    }

    /// `low <= field <= high`.
    pub fn text_between(low: String, high: String, last: bool) -> Self {
        let high = if last { high } else { high + Self::MAX };
        SortKeyCondition::Range {
            low: Some((AttributeValue::S(low), true)),
            high: Some((AttributeValue::S(high), true)),
        }
    }

    /// The key condition text on `sk` (a placeholder of the first sort
    /// attribute), the attribute whose values mark items to drop, and those
    /// values (an exclusive bound sent as `BETWEEN`).
    fn render_on(
        &self,
        sk: &str,
        first: &'static str,
        expr: &mut Expr,
        values: &mut HashMap<String, AttributeValue>,
    ) -> (String, &'static str, Vec<AttributeValue>) {
        let SortKeyCondition::Then {
            equal,
            attribute,
            condition,
        } = self
        else {
            let (text, drop) = self.render(sk, values);
            return (text, first, drop);
        };
        let mut parts = Vec::new();
        for (i, (name, value)) in equal.iter().enumerate() {
            let placeholder = format!(":ske{i}");
            values.insert(placeholder.clone(), value.clone());
            parts.push(format!("{} = {placeholder}", expr.name(name)));
        }
        let (text, drop) = condition.render(&expr.name(attribute), values);
        if !text.is_empty() {
            parts.push(text);
        }
        (parts.join(" AND "), attribute, drop)
    }

    /// The key condition text and the value of an item to drop (an
    /// exclusive bound sent as `BETWEEN`).
    fn render(
        &self,
        sk: &str,
        values: &mut HashMap<String, AttributeValue>,
    ) -> (String, Vec<AttributeValue>) {
        let mut put = |name: &str, v: &AttributeValue| {
            values.insert(name.to_owned(), v.clone());
        };
        match self {
            SortKeyCondition::Equal(v) => {
                put(":sk", v);
                (format!("{sk} = :sk"), Vec::new())
            }
            SortKeyCondition::BeginsWith(prefix) => {
                put(":sk", &AttributeValue::S(prefix.clone()));
                (format!("begins_with({sk}, :sk)"), Vec::new())
            }
            SortKeyCondition::Range { low, high } => {
                // An empty string is not a valid key value: an empty lower
                // bound means no lower bound.
                let low = low
                    .as_ref()
                    .filter(|(v, _)| !matches!(v, AttributeValue::S(s) if s.is_empty()));
                match (low, high) {
                    (Some((lo, lo_inc)), Some((hi, hi_inc))) => {
                        put(":lo", lo);
                        put(":hi", hi);
                        let mut drop = Vec::new();
                        if !lo_inc {
                            drop.push(lo.clone());
                        }
                        if !hi_inc {
                            drop.push(hi.clone());
                        }
                        (format!("{sk} BETWEEN :lo AND :hi"), drop)
                    }
                    (Some((lo, inclusive)), None) => {
                        put(":sk", lo);
                        let op = if *inclusive { ">=" } else { ">" };
                        (format!("{sk} {op} :sk"), Vec::new())
                    }
                    (None, Some((hi, inclusive))) => {
                        put(":sk", hi);
                        let op = if *inclusive { "<=" } else { "<" };
                        (format!("{sk} {op} :sk"), Vec::new())
                    }
                    (None, None) => (String::new(), Vec::new()),
                }
            }
            // Built by `render_on`; never nested.
            SortKeyCondition::Then { .. } => (String::new(), Vec::new()),
        }
    }
}

/// The key attributes a query reads by: the table's own, or an index's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct QueryKeys {
    /// The index name; `None` for the table.
    index: Option<&'static str>,
    /// The partition key attribute.
    partition_key: &'static str,
    /// The sort key attribute, if any.
    sort_key: Option<&'static str>,
}

/// The item types a query returns, by the table's type attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Types {
    /// Every row: the row decoder tells item types apart.
    All,
    /// One item type.
    One(&'static str),
    /// These item types (a collection).
    Listed(&'static [&'static str]),
}

impl Types {
    fn names(&self) -> &[&'static str] {
        match self {
            Types::All => &[],
            Types::One(name) => std::slice::from_ref(name),
            Types::Listed(names) => names,
        }
    }
}

/// One page of query results.
#[derive(Debug)]
pub struct Page<I> {
    /// The items of this page, in sort-key order (reversed when descending).
    pub items: Vec<I>,
    /// The rows of this page that did not decode, each a typed error naming
    /// the item type and attribute; only a [`lenient`](Query::lenient) read
    /// fills it (a strict one fails instead).
    pub errors: Vec<Error>,
    /// Where the next page starts (after the bad rows too); `None` when
    /// there are no more items.
    pub cursor: Option<Cursor>,
    /// Where the page before this one ends, for a query's
    /// [`before`](Query::before) (OneTable's `prev`): `None` for a page
    /// that starts the results (no cursor given, or nothing before it).
    pub before: Option<Cursor>,
}

/// The rows of one page in order, each decoded or a typed error, and the
/// key the page ended at.
pub(crate) type Rows<R> = (Vec<Result<R>>, Option<Attributes>);

/// The page of `rows`: a strict read fails on the first bad row, a lenient
/// one keeps its error beside the good items.
pub(crate) fn into_page<R>(rows: Rows<R>, lenient: bool) -> Result<Page<R>> {
    let (rows, last_key) = rows;
    let mut items = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    for row in rows {
        match row {
            Ok(item) => items.push(item),
            Err(e) if lenient => errors.push(e),
            Err(e) => return Err(e),
        }
    }
    Ok(Page {
        items,
        errors,
        cursor: last_key.as_ref().map(Cursor::from_key),
        before: None,
    })
}

/// The page `limit(0)` returns without a request: nothing, and the cursor
/// the read started after (so paging resumes where it was).
pub(crate) fn empty_page<R>(cursor: Option<&Cursor>) -> Page<R> {
    Page {
        items: Vec::new(),
        errors: Vec::new(),
        cursor: cursor.cloned(),
        before: cursor.cloned(),
    }
}

/// Decodes one row of a query; `Ok(None)` skips a row that belongs to
/// another item type.
pub type DecodeRow<R> = fn(Attributes) -> Result<Option<R>>;

/// A query of one partition of the table or of an index. Built by the
/// generated query functions, which fill in the partition and sort-key
/// condition from the key templates.
///
/// The query only returns the item types it was built for: a filter on the
/// table's type attribute leaves out other item types sharing the partition.
#[derive(Debug)]
#[must_use = "call `.send(&db)`, `.all(&db)` or `.stream(&db)` to run the query"]
pub struct Query<R> {
    core: QueryCore,
    decode: DecodeRow<R>,
}

/// Everything of a [`Query`] but its row decoder: what its requests are
/// built from, in code compiled once rather than once per row type.
#[derive(Debug)]
struct QueryCore {
    table: &'static TableDef,
    keys: QueryKeys,
    partition: Result<AttributeValue, KeyError>,
    /// The other attributes of a multi-attribute partition key, each equal
    /// to its value.
    more_partition: Vec<RenderedKey>,
    sort: Option<Result<SortKeyCondition, KeyError>>,
    types: Types,
    filter: Option<Node>,
    descending: bool,
    consistent: bool,
    page_size: Option<i32>,
    max_items: Option<usize>,
    cursor: Option<Cursor>,
    /// Read the page that ends before this position, backward.
    before: Option<Cursor>,
    lenient: bool,
    budget: Option<super::ReadBudget>,
}

impl<R> Query<R> {
    fn new(
        table: &'static TableDef,
        index: Option<&'static str>,
        partition: RenderedKey,
        sort: Option<SortKey>,
        types: Types,
        decode: DecodeRow<R>,
    ) -> Self {
        Query {
            core: QueryCore::new(table, index, partition, sort, types),
            decode,
        }
    }

    /// Adds the next attribute of a multi-attribute partition key, equal
    /// to its value (generated index queries take every attribute).
    #[doc(hidden)]
    pub fn partition_also(mut self, key: RenderedKey) -> Self {
        self.core.more_partition.push(key);
        self
    }

    /// Restricts the sort key (replacing the item type's own condition).
    #[doc(hidden)]
    pub fn sort_key(mut self, condition: Result<SortKeyCondition, KeyError>) -> Self {
        self.core.sort = Some(condition);
        self
    }

    /// Keeps only items that meet `filter` (applied by DynamoDB after it
    /// reads them; [`limit`](Self::limit) still counts matches only).
    #[doc(hidden)]
    pub fn filter(mut self, filter: Node) -> Self {
        self.core.filter = Some(match self.core.filter.take() {
            Some(before) => Node::And(Box::new(before), Box::new(filter)),
            None => filter,
        });
        self
    }

    /// Returns items in descending sort-key order.
    pub fn descending(mut self) -> Self {
        self.core.descending = true;
        self
    }

    /// Reads with strong consistency (the table and local indexes only;
    /// generated code offers it only there).
    pub fn consistent(mut self) -> Self {
        self.core.consistent = true;
        self
    }

    /// How many items DynamoDB evaluates per request (its `Limit`). This
    /// tunes request size only; use [`limit`](Self::limit) to bound results.
    pub fn page_size(mut self, items: u32) -> Self {
        self.core.page_size = Some(i32::try_from(items.max(1)).unwrap_or(i32::MAX));
        self
    }

    /// Returns at most `items` items. [`send`](Self::send) then keeps
    /// requesting until it has that many or the query is exhausted.
    pub fn limit(mut self, items: usize) -> Self {
        self.core.max_items = Some(items);
        self
    }

    /// Resumes after the position `cursor` from an earlier page.
    pub fn after(mut self, cursor: Cursor) -> Self {
        self.core.cursor = Some(cursor);
        self.core.before = None;
        self
    }

    /// Makes [`send`](Self::send) return the page that ends just before
    /// `cursor` (a page's [`before`](Page::before)), its items in the
    /// query's order (OneTable's `prev`): with [`limit`](Self::limit), up to
    /// that many. The page's `cursor` reads forward from its last item
    /// again, and its `before` goes one more page back (`None` at the
    /// start). Only `send` reads backward; `all` and `stream` fail with
    /// [`Error::InvalidRequest`].
    pub fn before(mut self, cursor: Cursor) -> Self {
        self.core.before = Some(cursor);
        self.core.cursor = None;
        self
    }

    /// Keeps the query's requests (pages, counts, `delete_all`'s reads)
    /// under `budget`'s read units per second, shared with every other
    /// read given the same budget (PynamoDB's `rate_limit`).
    pub fn rate_limit(mut self, budget: &super::ReadBudget) -> Self {
        self.core.budget = Some(budget.clone());
        self
    }

    /// Makes [`send`](Self::send) return a page even when some of its rows
    /// do not decode (another writer stored a value the schema does not
    /// allow): the good items in [`Page::items`], one typed error per bad
    /// row in [`Page::errors`], and a cursor past both. Without it, `send`
    /// fails on the first bad row. [`stream`](Self::stream) always yields
    /// a bad row's error in its place and goes on; [`all`](Self::all)
    /// always fails on it.
    pub fn lenient(mut self) -> Self {
        self.core.lenient = true;
        self
    }

    /// Runs the query and returns one page: with [`limit`](Self::limit), up
    /// to that many items; without it, the items of one DynamoDB response
    /// (at most 1 MB, possibly none). The page's cursor resumes after it.
    /// `limit(0)` sends no request and returns no items, with the cursor
    /// the query started [`after`](Self::after).
    pub async fn send(&self, db: &Db) -> Result<Page<R>> {
        if self.core.max_items == Some(0) {
            return Ok(empty_page(
                self.core.cursor.as_ref().or(self.core.before.as_ref()),
            ));
        }
        if let Some(before) = &self.core.before {
            // Backward from the cursor, then back into the query's order.
            let start = before.to_key(&self.core.key_names())?;
            let mut last = None;
            let (mut rows, more) = self
                .page_in(db, Some(start), self.core.max_items, true, &mut last)
                .await?;
            rows.reverse();
            let mut page = into_page((rows, None), self.core.lenient)?;
            page.cursor = last.as_ref().map(Cursor::from_key);
            page.before = more.as_ref().map(Cursor::from_key);
            return Ok(page);
        }
        let mut first = None;
        let rows = self
            .page_in(
                db,
                self.core.start_key()?,
                self.core.max_items,
                false,
                &mut first,
            )
            .await?;
        let mut page = into_page(rows, self.core.lenient)?;
        // A page read after a cursor may have rows before it.
        if let Some(after) = &self.core.cursor {
            page.before = Some(
                first
                    .as_ref()
                    .map_or_else(|| after.clone(), Cursor::from_key),
            );
        }
        Ok(page)
    }

    /// Runs the query to its end (or to [`limit`](Self::limit) items) and
    /// returns every item; a row that does not decode fails it (use
    /// [`stream`](Self::stream) to read past one).
    pub async fn all(&self, db: &Db) -> Result<Vec<R>> {
        self.stream(db).try_collect().await
    }

    /// The items of the query (up to [`limit`](Self::limit)), requesting
    /// pages as the stream is read. A row that does not decode is yielded
    /// as its typed error, in its place, and the stream goes on; a failed
    /// request ends it.
    pub fn stream<'a>(&'a self, db: &'a Db) -> impl Stream<Item = Result<R>> + 'a {
        pages(
            self.core.start_key(),
            self.core.max_items,
            move |start, want| self.page(db, start, want),
        )
    }

    /// Counts the matching items without reading them back (`Select` is
    /// `COUNT`), over every page; [`limit`](Self::limit) and the cursor
    /// are ignored. Items are not decoded, so a row that would fail to
    /// decode is counted too (`stream` yields its error).
    pub async fn count(&self, db: &Db) -> Result<usize> {
        self.core.count(db).await
    }

    /// Deletes every item the query matches (DynamoDB-Toolbox's
    /// `DeletePartition`): the whole partition for an item type's or a
    /// collection's query, a part of it with a sort-key condition, up to
    /// [`limit`](Self::limit) items; only the item types of the query.
    /// Reads the table keys page by page (filters and type checks applied
    /// by DynamoDB) and deletes them with BatchWriteItem, 25 at a time,
    /// retrying unprocessed requests. Returns how many items were deleted;
    /// keys still unprocessed when the retries run out are
    /// [`Error::Unprocessed`], which lists them (everything else named by
    /// the query was deleted). Deletes are unconditional, so a versioned
    /// item is deleted whatever its version.
    pub async fn delete_all(&self, db: &Db) -> Result<usize> {
        self.core.delete_all(db).await
    }

    /// Collects up to `want` items (or one response when `None`) from
    /// `start`, with the rows that did not decode in their places.
    async fn page(
        &self,
        db: &Db,
        start: Option<Attributes>,
        want: Option<usize>,
    ) -> Result<Rows<R>> {
        self.page_in(db, start, want, false, &mut None).await
    }

    /// [`page`](Self::page), read against the query's order when `reverse`;
    /// `first` gets the position of the first row returned.
    async fn page_in(
        &self,
        db: &Db,
        mut start: Option<Attributes>,
        want: Option<usize>,
        reverse: bool,
        first: &mut Option<Attributes>,
    ) -> Result<Rows<R>> {
        let table = db.table_name(self.core.table);
        let item_type = self.core.types.names().first().copied().unwrap_or("");
        let span = span(Operation::Query, &table, item_type);
        async {
            let meter = Meter::paced(
                &span,
                Operation::Query,
                &table,
                item_type,
                self.core.budget.as_ref(),
            );
            let parts = self.core.parts()?;
            let mut items = Vec::new();
            let mut good = 0;
            loop {
                let remaining = want.map(|w| w.saturating_sub(good));
                // DynamoDB's Limit counts items before the filter, so asking
                // for `remaining` can return fewer: the loop asks again.
                let limit = request_limit(self.core.page_size, remaining);
                let request = self
                    .core
                    .request(db, &table, &parts, limit, start.take(), &meter)
                    .scan_index_forward(self.core.descending == reverse);
                let out = meter
                    .send(db, request.send())
                    .await
                    .map_err(|e| sdk_error(Operation::Query, &table, item_type, e))?;
                for raw in out.items.unwrap_or_default() {
                    if self.core.at_bound(&parts, &raw) {
                        continue;
                    }
                    if first.is_none() {
                        *first = Some(self.core.position(&raw));
                    }
                    match (self.decode)(raw) {
                        Ok(None) => {}
                        Ok(Some(item)) => {
                            good += 1;
                            items.push(Ok(item));
                        }
                        Err(e) => items.push(Err(e)),
                    }
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
}

impl QueryCore {
    fn new(
        table: &'static TableDef,
        index: Option<&'static str>,
        partition: RenderedKey,
        sort: Option<SortKey>,
        types: Types,
    ) -> Self {
        let (partition_key, partition) = partition.into_parts();
        let (sort_key, base) = match sort {
            Some(SortKey { attribute, base }) => (Some(attribute), base),
            None => (None, None),
        };
        QueryCore {
            table,
            keys: QueryKeys {
                index,
                partition_key,
                sort_key,
            },
            partition,
            more_partition: Vec::new(),
            sort: base.map(Ok),
            types,
            filter: None,
            descending: false,
            consistent: false,
            page_size: None,
            max_items: None,
            cursor: None,
            before: None,
            lenient: false,
            budget: None,
        }
    }

    fn start_key(&self) -> Result<Option<Attributes>> {
        if self.before.is_some() {
            return Err(Error::InvalidRequest {
                operation: Operation::Query,
                reason: "`before` reads the one page before a cursor: use `send`".to_owned(),
            });
        }
        self.cursor
            .as_ref()
            .map(|c| c.to_key(&self.key_names()))
            .transpose()
    }

    /// The position of a returned row: its key attributes (the table's,
    /// and the index's for an index query).
    fn position(&self, raw: &Attributes) -> Attributes {
        self.key_names()
            .into_iter()
            .filter_map(|name| raw.get(name).map(|v| (name.to_owned(), v.clone())))
            .collect()
    }

    /// The attributes of a position in the results: the table's key, plus
    /// the index's key for an index query.
    fn key_names(&self) -> Vec<&'static str> {
        let table = self.table;
        let mut names: Vec<&'static str> = table.key().map(|k| &*k.name).collect();
        if let Some(index) = self.keys.index {
            // Every attribute of the index's key (a multi-attribute key has
            // up to eight); the query's own when the table lacks the index.
            let index_keys: Vec<&'static str> = match table.index(index) {
                Some(def) => def.key().map(|k| &*k.name).collect(),
                None => std::iter::once(self.keys.partition_key)
                    .chain(self.keys.sort_key)
                    .collect(),
            };
            for name in index_keys {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// The parts of every request of the query: key condition, filter,
    /// names and values, and the sort-key values of items to drop (an
    /// exclusive bound sent as `BETWEEN`).
    fn parts(&self) -> Result<Parts> {
        let partition = self.partition.clone()?;
        let sort = self.sort.clone().transpose()?;
        let mut expr = Expr::new();
        let pk = expr.name(self.keys.partition_key);
        let mut values = HashMap::from([(":pk".to_owned(), partition)]);
        let mut key_condition = format!("{pk} = :pk");
        for (i, key) in self.more_partition.iter().enumerate() {
            let placeholder = format!(":pk{}", i + 1);
            values.insert(placeholder.clone(), key.value.clone()?);
            key_condition.push_str(&format!(
                " AND {} = {placeholder}",
                expr.name(key.attribute)
            ));
        }
        let mut drop = Vec::new();
        let mut drop_on = self.keys.sort_key;
        if let (Some(sort), Some(sort_key)) = (sort, self.keys.sort_key) {
            let sk = expr.name(sort_key);
            let (text, on, dropped) = sort.render_on(&sk, sort_key, &mut expr, &mut values);
            if !text.is_empty() {
                key_condition.push_str(" AND ");
                key_condition.push_str(&text);
            }
            drop = dropped;
            drop_on = Some(on);
        }
        let filter = filter_text(
            &mut expr,
            &self.table.type_attribute,
            self.types.names(),
            self.filter.as_ref(),
        );
        let drop_on = drop_on.filter(|_| !drop.is_empty());
        let projection = drop_on.map(|sk| expr.name(sk));
        if let Some(more) = expr.values() {
            values.extend(more);
        }
        Ok(Parts {
            key_condition,
            filter,
            names: expr.names(),
            values,
            drop,
            drop_on,
            projection,
        })
    }

    /// Whether a returned item sits on an exclusive bound of the sort key.
    fn at_bound(&self, parts: &Parts, raw: &Attributes) -> bool {
        parts
            .drop_on
            .and_then(|sk| raw.get(sk))
            .is_some_and(|v| parts.drop.contains(v))
    }

    fn request(
        &self,
        db: &Db,
        table: &str,
        parts: &Parts,
        limit: Option<i32>,
        start: Option<Attributes>,
        meter: &Meter<'_>,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        db.client()
            .query()
            .table_name(table)
            .set_index_name(self.keys.index.map(str::to_owned))
            .key_condition_expression(&parts.key_condition)
            .set_filter_expression(parts.filter.clone())
            .set_expression_attribute_names(parts.names.clone())
            .set_expression_attribute_values(Some(parts.values.clone()))
            .scan_index_forward(!self.descending)
            .consistent_read(self.consistent)
            .set_limit(limit)
            .set_exclusive_start_key(start)
            .set_return_consumed_capacity(meter.capacity())
    }

    /// [`Query::delete_all`].
    async fn delete_all(&self, db: &Db) -> Result<usize> {
        let table = db.table_name(self.table);
        let item_type = self.types.names().first().copied().unwrap_or("");
        let span = span(Operation::BatchWriteItem, &table, item_type);
        async {
            let meter = Meter::paced(
                &span,
                Operation::BatchWriteItem,
                &table,
                item_type,
                self.budget.as_ref(),
            );
            // The deletes are writes: not paced by a read budget.
            let writes = Meter::new(&span, Operation::BatchWriteItem, &table, item_type);
            let parts = self.parts()?;
            let keys: Vec<&'static str> = self.table.key().map(|k| &*k.name).collect();
            // The table's key, and the sort attribute exclusive bounds are
            // told apart by.
            let mut read: Vec<&'static str> = keys.clone();
            read.extend(parts.drop_on.filter(|a| !read.contains(a)));
            let projection: Vec<String> = (0..read.len()).map(|i| format!("#dk{i}")).collect();
            let mut start = self.start_key()?;
            let mut deleted = 0;
            loop {
                let remaining = self.max_items.map(|m| m.saturating_sub(deleted));
                if remaining == Some(0) {
                    break;
                }
                let mut request = self
                    .request(db, &table, &parts, self.page_size, start.take(), &meter)
                    .select(Select::SpecificAttributes)
                    .projection_expression(projection.join(", "));
                for (placeholder, name) in projection.iter().zip(&read) {
                    request = request.expression_attribute_names(placeholder, *name);
                }
                let out = meter
                    .send(db, request.send())
                    .await
                    .map_err(|e| sdk_error(Operation::Query, &table, item_type, e))?;
                let found: Vec<Attributes> = out
                    .items
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|raw| !self.at_bound(&parts, raw))
                    .map(|mut raw| {
                        raw.retain(|name, _| keys.contains(&name.as_str()));
                        raw
                    })
                    .take(remaining.unwrap_or(usize::MAX))
                    .collect();
                let count = found.len();
                if count > 0 {
                    super::batch::delete_keys(db, &writes, &table, found, item_type).await?;
                }
                deleted += count;
                start = out.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
            meter.finish(deleted);
            Ok(deleted)
        }
        .instrument(span.clone())
        .await
    }

    /// [`Query::count`].
    async fn count(&self, db: &Db) -> Result<usize> {
        let table = db.table_name(self.table);
        let item_type = self.types.names().first().copied().unwrap_or("");
        let span = span(Operation::Query, &table, item_type);
        async {
            let meter = Meter::paced(
                &span,
                Operation::Query,
                &table,
                item_type,
                self.budget.as_ref(),
            );
            let parts = self.parts()?;
            let mut start = None;
            let mut count = 0;
            loop {
                let mut request = self.request(db, &table, &parts, self.page_size, start, &meter);
                // Items on an exclusive bound are told apart by their sort
                // key, so those counts read the sort key back.
                request = match &parts.projection {
                    Some(sk) => request
                        .select(Select::SpecificAttributes)
                        .projection_expression(sk),
                    None => request.select(Select::Count),
                };
                let out = meter
                    .send(db, request.send())
                    .await
                    .map_err(|e| sdk_error(Operation::Query, &table, item_type, e))?;
                count += match &out.items {
                    Some(items) if parts.projection.is_some() => {
                        items.iter().filter(|i| !self.at_bound(&parts, i)).count()
                    }
                    _ => usize::try_from(out.count).unwrap_or(0),
                };
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

/// A query of the items of type `I` in the partition `partition` of the
/// table (`index` `None`) or an index; other item types sharing the
/// partition are filtered out by the type attribute.
pub fn query_items<I: Item>(
    index: Option<&'static str>,
    partition: RenderedKey,
    sort: Option<SortKey>,
) -> Query<I> {
    Query::new(
        I::TABLE,
        index,
        partition,
        sort,
        // Items a `rename_item` step has not reached carry an older name.
        match I::TYPE_NAMES {
            [_] => Types::One(I::TYPE_NAME),
            names => Types::Listed(names),
        },
        |raw| I::decode(raw).map(Some),
    )
}

/// A query of rows that `decode` reads: items of the collection `types`,
/// or (with none) projections of an index that decode tells apart.
pub fn query_rows<R>(
    table: &'static TableDef,
    index: Option<&'static str>,
    partition: RenderedKey,
    sort: Option<SortKey>,
    types: &'static [&'static str],
    decode: DecodeRow<R>,
) -> Query<R> {
    let types = if types.is_empty() {
        Types::All
    } else {
        Types::Listed(types)
    };
    Query::new(table, index, partition, sort, types, decode)
}

/// The parts of a query's requests; see [`Query::parts`].
struct Parts {
    key_condition: String,
    filter: Option<String>,
    names: Option<HashMap<String, String>>,
    values: HashMap<String, AttributeValue>,
    drop: Vec<AttributeValue>,
    /// The sort-key attribute `drop` holds values of.
    drop_on: Option<&'static str>,
    /// The sort key's placeholder, when counting must read it back.
    projection: Option<String>,
}

/// The items of a paged read from `first` (the cursor's key), up to `max`
/// items, reading the pages `page(start, wanted)` returns as the stream is
/// read. A row that did not decode is yielded as its error and the stream
/// goes on; a failed request is yielded and ends it.
pub(crate) fn pages<'a, R: 'a, F, Fut>(
    first: Result<Option<Attributes>>,
    max: Option<usize>,
    page: F,
) -> impl Stream<Item = Result<R>> + 'a
where
    F: Fn(Option<Attributes>, Option<usize>) -> Fut + Copy + 'a,
    Fut: Future<Output = Result<Rows<R>>> + 'a,
{
    enum State {
        Start(Result<Option<Attributes>>),
        Next(Attributes, Option<usize>),
        Done,
    }
    stream::try_unfold(State::Start(first), move |state| async move {
        let (start, remaining) = match state {
            State::Done => return Ok::<_, Error>(None),
            State::Start(first) => (first?, max),
            State::Next(key, remaining) => (Some(key), remaining),
        };
        if remaining == Some(0) {
            return Ok(None);
        }
        let (rows, last_key) = page(start, remaining).await?;
        let good = rows.iter().filter(|r| r.is_ok()).count();
        let remaining = remaining.map(|r| r.saturating_sub(good));
        let next = match last_key {
            Some(key) => State::Next(key, remaining),
            None => State::Done,
        };
        Ok(Some((stream::iter(rows), next)))
    })
    .try_flatten()
}

/// Whether a page is complete: without a wanted count, after one response;
/// with one, once it has that many items or the results end.
pub(crate) fn page_done(want: Option<usize>, got: usize, cursor: Option<&Attributes>) -> bool {
    want.is_none_or(|w| got >= w) || cursor.is_none()
}

/// DynamoDB's `Limit` for a request wanting `remaining` more items.
pub(crate) fn request_limit(page_size: Option<i32>, remaining: Option<usize>) -> Option<i32> {
    let remaining = remaining.map(|r| i32::try_from(r.max(1)).unwrap_or(i32::MAX));
    match (page_size, remaining) {
        (Some(size), Some(r)) => Some(size.min(r)),
        (size, r) => size.or(r),
    }
}

/// The filter of a query or scan: only the item types `types` (by the type
/// attribute), and the user's filter.
pub(crate) fn filter_text(
    expr: &mut Expr,
    type_attribute: &str,
    types: &[&str],
    filter: Option<&Node>,
) -> Option<String> {
    let mut filters = Vec::new();
    // A table without a type attribute holds one item type.
    if !types.is_empty() && !type_attribute.is_empty() {
        let ty = expr.name(type_attribute);
        let types: Vec<String> = types
            .iter()
            .map(|t| expr.value(AttributeValue::S((*t).to_owned())))
            .collect();
        filters.push(if types.len() == 1 {
            format!("{ty} = {}", types[0])
        } else {
            format!("{ty} IN ({})", types.join(", "))
        });
    }
    if let Some(filter) = filter {
        filters.push(format!("({})", filter.render(expr)));
    }
    (!filters.is_empty()).then(|| filters.join(" AND "))
}
