use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure,
};
use tracing::Instrument;

use std::collections::BTreeSet;

use crate::Operation;
use crate::{
    Attribute, Condition, Db, Error, IntoValue, Item, Key, KeyTemplate, Path, Result,
    ValidationError,
    attr::SetElement,
    expr::Expr,
    key::RenderedKey,
    log::{Meter, span},
};

use super::{Conditions, ReturningOld, write_error};

/// How a `SET` action computes its value.
#[derive(Debug, Clone, PartialEq)]
enum SetValue {
    Value(AttributeValue),
    IfNotExists(AttributeValue),
    Plus(AttributeValue),
    Minus(AttributeValue),
    Append(AttributeValue),
    Prepend(AttributeValue),
}

/// An update of one existing item. Generated update builders wrap it with
/// one typed method per field action (see [`UpdateActions`]), so only the
/// item type's own fields, with values of their types, can be changed, key
/// fields never.
///
/// The update fails with [`Error::NotFound`] when no item of the type has
/// the key (it never creates a partial item); it sets `updated_at`, advances
/// the version, and returns the item as stored after the update.
#[derive(Debug)]
#[must_use = "call `.send(&db)` to apply the update"]
pub struct Update<I: Item> {
    key: I::Key,
    set: Vec<(&'static str, SetValue)>,
    remove: Vec<&'static str>,
    add: Vec<(&'static str, AttributeValue)>,
    delete: Vec<(&'static str, AttributeValue)>,
    condition: Option<Condition<I>>,
    version: Option<u64>,
    error: Option<Error>,
}

impl<I: Item> Update<I> {
    /// An update of the item with `key`, with no actions yet (besides
    /// setting `updated_at`, for item types with timestamps).
    pub fn new(key: I::Key) -> Self {
        let update = Update {
            key,
            set: Vec::new(),
            remove: Vec::new(),
            add: Vec::new(),
            delete: Vec::new(),
            condition: None,
            version: None,
            error: None,
        };
        match I::UPDATED_AT {
            Some(path) => update.set(path, crate::Timestamp::now()),
            None => update,
        }
    }

    /// The key of the updated item.
    pub fn key(&self) -> &I::Key {
        &self.key
    }

    /// Records the first error of a value (a key that cannot render, a
    /// failed `validate` rule); `send` returns it without sending.
    fn record<E: Into<Error>>(mut self, result: Result<(), E>) -> Self {
        if let (Err(e), None) = (result, &self.error) {
            self.error = Some(e.into());
        }
        self
    }

    fn push_set(mut self, attribute: &'static str, value: SetValue) -> Self {
        self.set.push((attribute, value));
        self
    }

    /// Applies the update only when the stored item meets `condition`;
    /// otherwise [`Error::ConditionFailed`].
    pub fn when(mut self, condition: impl FnOnce(&I::Fields) -> Condition<I>) -> Self {
        let condition = condition(&I::FIELDS);
        self.condition = Some(match self.condition.take() {
            Some(before) => before.and(condition),
            None => condition,
        });
        self
    }

    /// Applies the update only if the stored item still has `version`;
    /// otherwise [`Error::Stale`].
    pub fn expect_version(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }

    /// The version the update expects, if any.
    pub(crate) fn expected_version(&self) -> Option<u64> {
        self.version
    }

    /// Renders the update expression and condition into `expr`.
    pub(crate) fn render(&self, expr: &mut Expr) -> Result<(String, String)> {
        if let Some(error) = &self.error {
            return Err(clone_error(error));
        }
        let mut set = Vec::new();
        for (attribute, value) in &self.set {
            let name = expr.name(attribute);
            set.push(match value {
                SetValue::Value(v) => format!("{name} = {}", expr.value(v.clone())),
                SetValue::IfNotExists(v) => {
                    format!("{name} = if_not_exists({name}, {})", expr.value(v.clone()))
                }
                SetValue::Plus(v) => format!("{name} = {name} + {}", expr.value(v.clone())),
                SetValue::Minus(v) => format!("{name} = {name} - {}", expr.value(v.clone())),
                SetValue::Append(v) => {
                    let empty = expr.value(AttributeValue::L(Vec::new()));
                    format!(
                        "{name} = list_append(if_not_exists({name}, {empty}), {})",
                        expr.value(v.clone())
                    )
                }
                SetValue::Prepend(v) => {
                    let empty = expr.value(AttributeValue::L(Vec::new()));
                    format!(
                        "{name} = list_append({}, if_not_exists({name}, {empty}))",
                        expr.value(v.clone())
                    )
                }
            });
        }
        let mut add: Vec<String> = Vec::new();
        for (attribute, value) in &self.add {
            add.push(format!(
                "{} {}",
                expr.name(attribute),
                expr.value(value.clone())
            ));
        }
        if let Some(version) = I::VERSION {
            add.push(format!(
                "{} {}",
                expr.name(version.attribute),
                expr.value(AttributeValue::N("1".into()))
            ));
        }
        let remove: Vec<String> = self.remove.iter().map(|a| expr.name(a)).collect();
        let delete: Vec<String> = self
            .delete
            .iter()
            .map(|(a, v)| format!("{} {}", expr.name(a), expr.value(v.clone())))
            .collect();
        let mut clauses = Vec::new();
        for (keyword, actions) in [
            ("SET", set),
            ("REMOVE", remove),
            ("ADD", add),
            ("DELETE", delete),
        ] {
            if !actions.is_empty() {
                clauses.push(format!("{keyword} {}", actions.join(", ")));
            }
        }
        if clauses.is_empty() {
            return Err(Error::InvalidRequest {
                operation: Operation::UpdateItem,
                reason: format!("the update of `{}` has no actions", I::TYPE_NAME),
            });
        }
        let mut conditions = Conditions::default();
        conditions.exists::<I>(expr);
        if let Some(version) = self.version {
            conditions.version::<I>(expr, version);
        }
        if let Some(condition) = &self.condition {
            conditions.push(condition.node().render(expr));
        }
        let condition = conditions.finish().unwrap_or_default();
        Ok((clauses.join(" "), condition))
    }

    /// Returns the item as it was before the update instead of after.
    pub fn return_old(self) -> ReturningOld<Self> {
        ReturningOld(self)
    }

    /// Sends the request and returns the item as stored after the update.
    pub async fn send(self, db: &Db) -> Result<I> {
        self.write(db, ReturnValue::AllNew).await
    }

    async fn write(self, db: &Db, returns: ReturnValue) -> Result<I> {
        let table = db.table_name(I::TABLE);
        let span = span(Operation::UpdateItem, &table, I::TYPE_NAME);
        async {
            let meter = Meter::new(&span);
            let mut expr = Expr::new();
            let (update, condition) = self.render(&mut expr)?;
            let request = db
                .client()
                .update_item()
                .table_name(&table)
                .set_key(Some(self.key.encode_key()?))
                .update_expression(update)
                .condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .return_values(returns)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send();
            let out = meter.send(db, request).await.map_err(|e| {
                write_error(
                    Operation::UpdateItem,
                    &table,
                    I::TYPE_NAME,
                    I::VERSION.map(|v| v.attribute).zip(self.version),
                    e,
                )
            })?;
            meter.finish(1);
            I::decode(out.attributes.unwrap_or_default())
        }
        .instrument(span.clone())
        .await
    }
}

/// The set of `items` as one value; `None` for no items (an empty set adds
/// or deletes nothing, and DynamoDB rejects empty sets).
fn set_value<E: SetElement + Clone, V: IntoValue<E>>(
    items: impl IntoIterator<Item = V>,
) -> Option<AttributeValue> {
    let items: BTreeSet<E> = items.into_iter().map(IntoValue::into_value).collect();
    (!items.is_empty()).then(|| items.to_attribute())
}

/// The field actions generated update builders are made of. Each generated
/// `<Item>Update` method calls one of these with the field's typed path, so
/// only the item type's own non-key fields change, with values of their
/// types; this trait is not for direct use (it would bypass that).
pub trait UpdateActions<I: Item>: Sized {
    /// Records a failed `validate` rule; `send` returns it without sending.
    fn check(self, result: Result<(), ValidationError>) -> Self;
    /// `SET field = value`.
    fn set<T>(self, path: Path<I, T>, value: impl IntoValue<T>) -> Self;
    /// `SET field = if_not_exists(field, value)`.
    fn set_if_not_exists<T>(self, path: Path<I, T>, value: impl IntoValue<T>) -> Self;
    /// `REMOVE field`.
    fn remove<T>(self, path: Path<I, T>) -> Self;
    /// `ADD field by`: adds to a number (an absent one counts as 0).
    fn add<T: Attribute>(self, path: Path<I, T>, by: T) -> Self;
    /// `SET field = field + by` (the item must have a value).
    fn increment<T: Attribute>(self, path: Path<I, T>, by: T) -> Self;
    /// `SET field = field - by` (the item must have a value).
    fn decrement<T: Attribute>(self, path: Path<I, T>, by: T) -> Self;
    /// `ADD field items`: adds elements to a set.
    fn add_items<E: SetElement + Clone, V: IntoValue<E>>(
        self,
        path: Path<I, BTreeSet<E>>,
        items: impl IntoIterator<Item = V>,
    ) -> Self;
    /// `DELETE field items`: removes elements from a set.
    fn delete_items<E: SetElement + Clone, V: IntoValue<E>>(
        self,
        path: Path<I, BTreeSet<E>>,
        items: impl IntoIterator<Item = V>,
    ) -> Self;
    /// Appends `items` to a list (an absent list counts as empty).
    fn append<E: Attribute>(self, path: Path<I, Vec<E>>, items: Vec<E>) -> Self;
    /// Prepends `items` to a list.
    fn prepend<E: Attribute>(self, path: Path<I, Vec<E>>, items: Vec<E>) -> Self;
    /// `SET` a key attribute rendered from the update's key and new values
    /// (an index key whose fields change).
    fn set_key(self, render: impl FnOnce(&I::Key) -> RenderedKey) -> Self;
    /// `REMOVE` a key attribute (the item leaves a sparse index).
    fn remove_key(self, template: &KeyTemplate<I>) -> Self;
}

impl<I: Item> UpdateActions<I> for Update<I> {
    fn check(self, result: Result<(), ValidationError>) -> Self {
        self.record(result)
    }

    fn set<T>(self, path: Path<I, T>, value: impl IntoValue<T>) -> Self {
        let value = path.encode(&value.into_value());
        self.push_set(path.attribute(), SetValue::Value(value))
    }

    fn set_if_not_exists<T>(self, path: Path<I, T>, value: impl IntoValue<T>) -> Self {
        let value = path.encode(&value.into_value());
        self.push_set(path.attribute(), SetValue::IfNotExists(value))
    }

    fn remove<T>(mut self, path: Path<I, T>) -> Self {
        self.remove.push(path.attribute());
        self
    }

    fn add<T: Attribute>(mut self, path: Path<I, T>, by: T) -> Self {
        self.add.push((path.attribute(), by.to_attribute()));
        self
    }

    fn increment<T: Attribute>(self, path: Path<I, T>, by: T) -> Self {
        self.push_set(path.attribute(), SetValue::Plus(by.to_attribute()))
    }

    fn decrement<T: Attribute>(self, path: Path<I, T>, by: T) -> Self {
        self.push_set(path.attribute(), SetValue::Minus(by.to_attribute()))
    }

    fn add_items<E: SetElement + Clone, V: IntoValue<E>>(
        mut self,
        path: Path<I, BTreeSet<E>>,
        items: impl IntoIterator<Item = V>,
    ) -> Self {
        if let Some(items) = set_value(items) {
            self.add.push((path.attribute(), items));
        }
        self
    }

    fn delete_items<E: SetElement + Clone, V: IntoValue<E>>(
        mut self,
        path: Path<I, BTreeSet<E>>,
        items: impl IntoIterator<Item = V>,
    ) -> Self {
        if let Some(items) = set_value(items) {
            self.delete.push((path.attribute(), items));
        }
        self
    }

    fn append<E: Attribute>(self, path: Path<I, Vec<E>>, items: Vec<E>) -> Self {
        self.push_set(path.attribute(), SetValue::Append(items.to_attribute()))
    }

    fn prepend<E: Attribute>(self, path: Path<I, Vec<E>>, items: Vec<E>) -> Self {
        self.push_set(path.attribute(), SetValue::Prepend(items.to_attribute()))
    }

    fn set_key(self, render: impl FnOnce(&I::Key) -> RenderedKey) -> Self {
        let (attribute, value) = render(&self.key).into_parts();
        match value {
            Ok(value) => self.push_set(attribute, SetValue::Value(value)),
            Err(e) => self.record(Err(e)),
        }
    }

    fn remove_key(mut self, template: &KeyTemplate<I>) -> Self {
        self.remove.push(template.attribute());
        self
    }
}

impl<I: Item> ReturningOld<Update<I>> {
    /// Sends the request and returns the item as stored before the update.
    pub async fn send(self, db: &Db) -> Result<I> {
        self.0.write(db, ReturnValue::AllOld).await
    }
}


/// Errors recorded while building are values; `send` consumes the builder,
/// but rendering for a transaction only borrows it.
fn clone_error(error: &Error) -> Error {
    match error {
        Error::Key(e) => Error::Key(e.clone()),
        Error::Validation(e) => Error::Validation(e.clone()),
        Error::Decode(e) => Error::Decode(e.clone()),
        other => Error::InvalidRequest {
            operation: Operation::UpdateItem,
            reason: other.to_string(),
        },
    }
}
