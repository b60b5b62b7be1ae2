use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure,
};
use tracing::Instrument;

use crate::{
    Condition, Db, Error, Item, Key, Result,
    expr::Expr,
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
/// one typed method per field action, so only the item type's own fields,
/// with values of their types, can be changed, key fields never.
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
    /// An update of the item with `key`, with no actions yet.
    pub fn new(key: I::Key) -> Self {
        Update {
            key,
            set: Vec::new(),
            remove: Vec::new(),
            add: Vec::new(),
            delete: Vec::new(),
            condition: None,
            version: None,
            error: None,
        }
    }

    /// The key of the updated item.
    pub fn key(&self) -> &I::Key {
        &self.key
    }

    /// Records the first error of a value (a key that cannot render, a
    /// failed `validate` rule); `send` returns it without sending.
    pub fn check<E: Into<Error>>(mut self, result: Result<(), E>) -> Self {
        if let (Err(e), None) = (result, &self.error) {
            self.error = Some(e.into());
        }
        self
    }

    /// `SET attribute = value`.
    pub fn set(mut self, attribute: &'static str, value: AttributeValue) -> Self {
        self.set.push((attribute, SetValue::Value(value)));
        self
    }

    /// `SET attribute = value` for a rendered key attribute.
    pub fn set_key<E: Into<Error>>(
        self,
        attribute: &'static str,
        value: Result<AttributeValue, E>,
    ) -> Self {
        match value {
            Ok(value) => self.set(attribute, value),
            Err(e) => self.check(Err(e)),
        }
    }

    /// `SET attribute = if_not_exists(attribute, value)`.
    pub fn set_if_not_exists(mut self, attribute: &'static str, value: AttributeValue) -> Self {
        self.set.push((attribute, SetValue::IfNotExists(value)));
        self
    }

    /// `SET attribute = attribute + value`.
    pub fn increment(mut self, attribute: &'static str, value: AttributeValue) -> Self {
        self.set.push((attribute, SetValue::Plus(value)));
        self
    }

    /// `SET attribute = attribute - value`.
    pub fn decrement(mut self, attribute: &'static str, value: AttributeValue) -> Self {
        self.set.push((attribute, SetValue::Minus(value)));
        self
    }

    /// Appends the elements of the list `value` (an absent list counts as
    /// empty).
    pub fn append(mut self, attribute: &'static str, value: AttributeValue) -> Self {
        self.set.push((attribute, SetValue::Append(value)));
        self
    }

    /// Prepends the elements of the list `value`.
    pub fn prepend(mut self, attribute: &'static str, value: AttributeValue) -> Self {
        self.set.push((attribute, SetValue::Prepend(value)));
        self
    }

    /// `REMOVE attribute`.
    pub fn remove(mut self, attribute: &'static str) -> Self {
        self.remove.push(attribute);
        self
    }

    /// `ADD attribute value`: adds to a number, or elements to a set. An
    /// empty set adds nothing.
    pub fn add(mut self, attribute: &'static str, value: AttributeValue) -> Self {
        if !is_empty_set(&value) {
            self.add.push((attribute, value));
        }
        self
    }

    /// `DELETE attribute value`: removes elements from a set.
    pub fn delete(mut self, attribute: &'static str, value: AttributeValue) -> Self {
        if !is_empty_set(&value) {
            self.delete.push((attribute, value));
        }
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
                expr.name(version),
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
                operation: "UpdateItem",
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
        let span = span("UpdateItem", &table, I::TYPE_NAME);
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
                    "UpdateItem",
                    &table,
                    I::TYPE_NAME,
                    I::VERSION.zip(self.version),
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

impl<I: Item> ReturningOld<Update<I>> {
    /// Sends the request and returns the item as stored before the update.
    pub async fn send(self, db: &Db) -> Result<I> {
        self.0.write(db, ReturnValue::AllOld).await
    }
}

fn is_empty_set(value: &AttributeValue) -> bool {
    match value {
        AttributeValue::Ss(v) => v.is_empty(),
        AttributeValue::Ns(v) => v.is_empty(),
        AttributeValue::Bs(v) => v.is_empty(),
        _ => false,
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
            operation: "UpdateItem",
            reason: other.to_string(),
        },
    }
}
