use std::marker::PhantomData;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use tracing::Instrument;

use crate::Operation;
use crate::{
    Attributes, Condition, Db, DecodeError, DecodeErrorKind, Item, Key, Path, Result, Timestamp,
    expr::Expr,
    log::{Meter, span},
};

use super::{Conditions, old_on_failure, returned, sdk_error, write_error};

/// Reads one item by its key. Built by the generated `get`.
#[derive(Debug)]
#[must_use = "call `.send(&db)` to read the item"]
pub struct GetItem<I: Item> {
    key: I::Key,
    consistent: bool,
}

impl<I: Item> GetItem<I> {
    /// A read of the item with `key`.
    pub fn new(key: I::Key) -> Self {
        GetItem {
            key,
            consistent: false,
        }
    }

    /// Reads with strong consistency (sees every write acknowledged before it).
    pub fn consistent(mut self) -> Self {
        self.consistent = true;
        self
    }

    /// Reads only the attributes of the fields `fields` picks (DynamoDB's
    /// `ProjectionExpression`), returning a [`Projected`] item whose fields
    /// are read back by the same paths.
    ///
    /// ```ignore
    /// let row = Customer::get(key)
    ///     .project(|f| [f.email.attribute(), f.tier.attribute()])
    ///     .send(&db)
    ///     .await?;
    /// let email: Option<String> = row.unwrap().get(|f| f.email)?;
    /// ```
    pub fn project<A: IntoIterator<Item = &'static str>>(
        self,
        fields: impl FnOnce(&I::Fields) -> A,
    ) -> GetProjected<I> {
        let mut attributes: Vec<&'static str> = fields(&I::FIELDS).into_iter().collect();
        if I::TABLE.has_type_attribute() {
            attributes.push(&I::TABLE.type_attribute);
        }
        attributes.sort_unstable();
        attributes.dedup();
        GetProjected {
            get: self,
            attributes,
        }
    }

    async fn read(&self, db: &Db, projection: &[&'static str]) -> Result<Option<Attributes>> {
        let found = self.read_at(db, self.key.encode_key()?, projection).await?;
        match (found, self.key.previous_key()) {
            (None, Some(previous)) => self.read_at(db, previous?, projection).await,
            (found, _) => Ok(found),
        }
    }

    async fn read_at(
        &self,
        db: &Db,
        key: Attributes,
        projection: &[&'static str],
    ) -> Result<Option<Attributes>> {
        let table = db.table_name(I::TABLE);
        let span = span(Operation::GetItem, &table, I::TYPE_NAME);
        async {
            let meter = Meter::new(&span, Operation::GetItem, &table, I::TYPE_NAME);
            let mut expr = Expr::new();
            let projection = (!projection.is_empty()).then(|| {
                projection
                    .iter()
                    .map(|a| expr.name(a))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            let request = db
                .client()
                .get_item()
                .table_name(&table)
                .set_key(Some(key))
                .consistent_read(self.consistent)
                .set_projection_expression(projection)
                .set_expression_attribute_names(expr.names())
                .set_return_consumed_capacity(meter.capacity())
                .send();
            let out = meter
                .send(db, request)
                .await
                .map_err(|e| sdk_error(Operation::GetItem, &table, I::TYPE_NAME, e))?;
            meter.finish(usize::from(out.item.is_some()));
            Ok(out.item)
        }
        .instrument(span.clone())
        .await
    }

    /// Sends the request; `Ok(None)` when no item has this key.
    pub async fn send(self, db: &Db) -> Result<Option<I>> {
        self.read(db, &[]).await?.map(I::decode).transpose()
    }
}

/// A read of some attributes of one item; see [`GetItem::project`].
#[derive(Debug)]
#[must_use = "call `.send(&db)` to read the item"]
pub struct GetProjected<I: Item> {
    get: GetItem<I>,
    attributes: Vec<&'static str>,
}

impl<I: Item> GetProjected<I> {
    /// Reads with strong consistency.
    pub fn consistent(mut self) -> Self {
        self.get.consistent = true;
        self
    }

    /// Sends the request; `Ok(None)` when no item has this key.
    pub async fn send(self, db: &Db) -> Result<Option<Projected<I>>> {
        let Some(item) = self.get.read(db, &self.attributes).await? else {
            return Ok(None);
        };
        let type_attribute: &str = &I::TABLE.type_attribute;
        match item.get(type_attribute) {
            _ if type_attribute.is_empty() => {}
            Some(AttributeValue::S(name)) if I::is_type_name(name) => {}
            other => {
                return Err(DecodeError {
                    item_type: I::TYPE_NAME,
                    attribute: type_attribute.to_owned(),
                    kind: match other {
                        None => DecodeErrorKind::Missing,
                        Some(AttributeValue::S(name)) => DecodeErrorKind::WrongItemType {
                            found: name.clone(),
                        },
                        Some(value) => DecodeErrorKind::WrongType {
                            expected: "S",
                            found: crate::attr::type_name(value),
                        },
                    },
                }
                .into());
            }
        }
        Ok(Some(Projected {
            item,
            attributes: self.attributes,
            ty: PhantomData,
        }))
    }
}

/// Some attributes of an item of type `I`, read by [`GetItem::project`].
#[derive(Debug, Clone, PartialEq)]
pub struct Projected<I> {
    item: Attributes,
    attributes: Vec<&'static str>,
    ty: PhantomData<fn() -> I>,
}

impl<I: Item> Projected<I> {
    /// The value of a projected field: `Ok(None)` when the item does not
    /// have it. A field that was not projected is a [`DecodeError`] (kind
    /// [`DecodeErrorKind::NotProjected`]), never a silent `None`.
    pub fn get<T, A>(
        &self,
        field: impl FnOnce(&I::Fields) -> Path<I, T, A>,
    ) -> Result<Option<T>, DecodeError> {
        let path = field(&I::FIELDS);
        let attribute = path.attribute();
        let error = |kind| DecodeError {
            item_type: I::TYPE_NAME,
            attribute: attribute.to_owned(),
            kind,
        };
        if !self.attributes.contains(&attribute) {
            return Err(error(DecodeErrorKind::NotProjected));
        }
        self.item
            .get(attribute)
            .map(|value| path.decode(value.clone()).map_err(error))
            .transpose()
    }

    /// The attributes as read.
    pub fn attributes(&self) -> &Attributes {
        &self.item
    }
}

/// A write that returns the item as it was before it: built by
/// `return_old()` on [`PutItem`], [`DeleteItem`] and
/// [`Update`](crate::Update).
#[derive(Debug)]
#[must_use = "call `.send(&db)` to send the request"]
pub struct ReturningOld<W>(pub(crate) W);

/// Writes one item, replacing any item with the same key. Built by the
/// generated `put`.
///
/// The item is validated first; its `updated_at` timestamp is set, its
/// ttl filled from `expires_after`, and for a versioned item type the write
/// succeeds only if the stored version is still the item's (a new item:
/// none is stored), storing the next version.
#[derive(Debug)]
#[must_use = "call `.send(&db)` to write the item"]
pub struct PutItem<'a, I: Item> {
    item: &'a I,
    if_not_exists: bool,
    condition: Option<Condition<I>>,
}

impl<'a, I: Item> PutItem<'a, I> {
    /// A write of `item`.
    pub fn new(item: &'a I) -> Self {
        PutItem {
            item,
            if_not_exists: false,
            condition: None,
        }
    }

    /// Writes only when no item has this key yet; otherwise
    /// [`Error::ConditionFailed`](crate::Error::ConditionFailed).
    pub fn if_not_exists(mut self) -> Self {
        self.if_not_exists = true;
        self
    }

    /// Writes only when the stored item meets `condition`; otherwise
    /// [`Error::ConditionFailed`](crate::Error::ConditionFailed).
    pub fn when(mut self, condition: impl FnOnce(&I::Fields) -> Condition<I>) -> Self {
        self.condition = Some(condition(&I::FIELDS));
        self
    }

    /// Returns the item the put replaced (`None`: there was none).
    pub fn return_old(self) -> ReturningOld<Self> {
        ReturningOld(self)
    }

    /// Sends the request.
    pub async fn send(self, db: &Db) -> Result<()> {
        self.write(db, ReturnValue::None).await.map(|_| ())
    }

    async fn write(self, db: &Db, returns: ReturnValue) -> Result<Option<Attributes>> {
        let table = db.table_name(I::TABLE);
        let span = span(Operation::PutItem, &table, I::TYPE_NAME);
        async {
            let meter = Meter::new(&span, Operation::PutItem, &table, I::TYPE_NAME);
            self.item.validate()?;
            self.item.before_write()?;
            let mut expr = Expr::new();
            let mut conditions = Conditions::default();
            if self.if_not_exists {
                let pk = expr.name(&I::TABLE.partition_key.name);
                conditions.push(format!("attribute_not_exists({pk})"));
            }
            let version = self.item.version();
            if let Some(version) = version {
                conditions.version::<I>(&mut expr, version);
            }
            if let Some(condition) = self.condition {
                conditions.push(condition.into_node().render(&mut expr));
            }
            let item = self.item.encode_for_write(Timestamp::now())?;
            conditions.read_only::<I>(&mut expr, &item);
            if !I::UNIQUE.is_empty() {
                let old = super::unique::write::<I>(
                    db,
                    &meter,
                    super::unique::Write {
                        operation: Operation::PutItem,
                        table: &table,
                        key: self.item.key().encode_key()?,
                        action: super::unique::Action::Put(item.clone()),
                        conditions,
                        expr,
                        version: I::VERSION.map(|v| v.attribute).zip(version),
                        refine: &|error| super::read_only_error::<I>(error, &item),
                    },
                )
                .await?;
                meter.finish(1);
                return Ok(old);
            }
            let condition = conditions.finish();
            let guard = (!I::READ_ONLY.is_empty()).then(|| item.clone());
            let request = db
                .client()
                .put_item()
                .table_name(&table)
                .set_item(Some(item))
                .set_return_values_on_condition_check_failure(old_on_failure(condition.as_ref()))
                .set_condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .set_return_values(returned(returns))
                .set_return_consumed_capacity(meter.capacity())
                .send();
            let out = meter.send(db, request).await.map_err(|e| {
                let error = write_error(
                    Operation::PutItem,
                    &table,
                    I::TYPE_NAME,
                    I::VERSION.map(|v| v.attribute).zip(version),
                    e,
                );
                match &guard {
                    Some(new) => super::read_only_error::<I>(error, new),
                    None => error,
                }
            })?;
            meter.finish(1);
            Ok(out.attributes)
        }
        .instrument(span.clone())
        .await
    }
}

impl<I: Item> ReturningOld<PutItem<'_, I>> {
    /// Sends the request and returns the replaced item (`None`: there was
    /// none). The put has happened even when decoding the old item fails.
    pub async fn send(self, db: &Db) -> Result<Option<I>> {
        let old = self.0.write(db, ReturnValue::AllOld).await?;
        old.filter(|o| !o.is_empty()).map(I::decode).transpose()
    }
}

/// Deletes one item by its key. Built by the generated `delete`.
#[derive(Debug)]
#[must_use = "call `.send(&db)` to delete the item"]
pub struct DeleteItem<I: Item> {
    pub(crate) key: I::Key,
    if_exists: bool,
    pub(crate) version: Option<u64>,
    condition: Option<Condition<I>>,
}

impl<I: Item> DeleteItem<I> {
    /// A delete of the item with `key`.
    pub fn new(key: I::Key) -> Self {
        DeleteItem {
            key,
            if_exists: false,
            version: None,
            condition: None,
        }
    }

    /// Deletes only an existing item of this type; otherwise
    /// [`Error::ConditionFailed`](crate::Error::ConditionFailed). Without
    /// it, deleting a missing item succeeds and does nothing.
    pub fn if_exists(mut self) -> Self {
        self.if_exists = true;
        self
    }

    /// Deletes only if the stored item still has `version` (optimistic
    /// locking); otherwise [`Error::Stale`](crate::Error::Stale).
    pub fn expect_version(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }

    /// Deletes only when the stored item meets `condition`.
    pub fn when(mut self, condition: impl FnOnce(&I::Fields) -> Condition<I>) -> Self {
        self.condition = Some(condition(&I::FIELDS));
        self
    }

    /// Returns the deleted item (`None`: there was none).
    pub fn return_old(self) -> ReturningOld<Self> {
        ReturningOld(self)
    }

    /// The condition expression of the delete, rendered into `expr`.
    pub(crate) fn condition(&self, expr: &mut Expr) -> Option<String> {
        self.conditions(expr).finish()
    }

    fn conditions(&self, expr: &mut Expr) -> Conditions {
        let mut conditions = Conditions::default();
        if self.if_exists {
            conditions.exists::<I>(expr);
        }
        if let Some(version) = self.version {
            conditions.version::<I>(expr, version);
        }
        if let Some(condition) = &self.condition {
            conditions.push(condition.node().render(expr));
        }
        conditions
    }

    /// Sends the request.
    pub async fn send(self, db: &Db) -> Result<()> {
        self.write(db, ReturnValue::None).await.map(|_| ())
    }

    async fn write(self, db: &Db, returns: ReturnValue) -> Result<Option<Attributes>> {
        let table = db.table_name(I::TABLE);
        let span = span(Operation::DeleteItem, &table, I::TYPE_NAME);
        async {
            let meter = Meter::new(&span, Operation::DeleteItem, &table, I::TYPE_NAME);
            let mut expr = Expr::new();
            if !I::UNIQUE.is_empty() {
                let conditions = self.conditions(&mut expr);
                let old = super::unique::write::<I>(
                    db,
                    &meter,
                    super::unique::Write {
                        operation: Operation::DeleteItem,
                        table: &table,
                        key: self.key.encode_key()?,
                        action: super::unique::Action::Delete,
                        conditions,
                        expr,
                        version: I::VERSION.map(|v| v.attribute).zip(self.version),
                        refine: &|error| error,
                    },
                )
                .await?;
                meter.finish(1);
                return Ok(old);
            }
            let condition = self.condition(&mut expr);
            let request = db
                .client()
                .delete_item()
                .table_name(&table)
                .set_key(Some(self.key.encode_key()?))
                .set_return_values_on_condition_check_failure(old_on_failure(condition.as_ref()))
                .set_condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .set_return_values(returned(returns))
                .set_return_consumed_capacity(meter.capacity())
                .send();
            let out = meter.send(db, request).await.map_err(|e| {
                write_error(
                    Operation::DeleteItem,
                    &table,
                    I::TYPE_NAME,
                    I::VERSION.map(|v| v.attribute).zip(self.version),
                    e,
                )
            })?;
            meter.finish(1);
            Ok(out.attributes)
        }
        .instrument(span.clone())
        .await
    }
}

impl<I: Item> ReturningOld<DeleteItem<I>> {
    /// Sends the request and returns the deleted item (`None`: there was
    /// none).
    pub async fn send(self, db: &Db) -> Result<Option<I>> {
        let old = self.0.write(db, ReturnValue::AllOld).await?;
        old.filter(|o| !o.is_empty()).map(I::decode).transpose()
    }
}
