use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use tracing::Instrument;

use std::collections::BTreeSet;

use crate::Operation;
use crate::{
    Attribute, Condition, Db, Error, IntoValue, Item, Key, KeyTemplate, Path, Result,
    ValidationError, ValidationRule,
    attr::SetElement,
    expr::{EncryptedPath, Expr, Optional, Updatable},
    key::RenderedKey,
    log::{Meter, span},
    validate::{Bounded, Limits},
};

use super::{Conditions, ReturningOld, returned, write_error};

/// A bound the stored value is compared with.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bound {
    Int(i128),
    Float(f64),
}

impl Bound {
    fn value(self) -> AttributeValue {
        AttributeValue::N(match self {
            Bound::Int(n) => n.to_string(),
            Bound::Float(f) => f.to_string(),
        })
    }

    /// Whether the stored number text `n` lies on the right side.
    fn holds(self, n: &str, at_most: bool) -> bool {
        let order = match self {
            Bound::Int(b) => n.parse::<i128>().ok().map(|v| v.cmp(&b)),
            Bound::Float(b) => n.parse::<f64>().ok().and_then(|v| v.partial_cmp(&b)),
        };
        match order {
            Some(o) if at_most => o.is_le(),
            Some(o) => o.is_ge(),
            None => false,
        }
    }
}

/// A condition on the stored item that an action adds for the schema's
/// guarantees: a result within the field's bounds, or an index key
/// rewritten from the stored values of its other fields. When the update
/// fails on one, the error names it instead of a bare failed condition.
#[derive(Debug, Clone, PartialEq)]
enum Guard {
    /// The stored number (with `size`: the stored list's or set's size) is
    /// at most (or at least) `bound`, so the result keeps `rule`;
    /// `absent_ok`: an absent value keeps it too.
    Bound {
        attribute: &'static str,
        field: &'static str,
        size: bool,
        at_most: bool,
        bound: Bound,
        rule: ValidationRule,
        absent_ok: bool,
    },
    /// The stored value is `value` (a field an index key is rewritten from).
    Equal {
        attribute: &'static str,
        value: AttributeValue,
    },
    /// The item holds nothing under `previous`, a name a `rename_attribute`
    /// step replaces with `attribute`: an action relative to the stored
    /// value (add, append, if-not-exists, remove) on an item the step has
    /// not reached would act on the wrong attribute.
    Rewritten {
        attribute: &'static str,
        previous: &'static str,
    },
}

impl Guard {
    fn render(&self, expr: &mut Expr) -> String {
        match self {
            Guard::Bound {
                attribute,
                size,
                at_most,
                bound,
                absent_ok,
                ..
            } => {
                let name = expr.name(attribute);
                let operand = if *size {
                    format!("size({name})")
                } else {
                    name.clone()
                };
                let op = if *at_most { "<=" } else { ">=" };
                let value = expr.value(bound.value());
                let text = format!("{operand} {op} {value}");
                if *absent_ok {
                    format!("attribute_not_exists({name}) OR {text}")
                } else {
                    text
                }
            }
            Guard::Equal { attribute, value } => {
                let name = expr.name(attribute);
                let value = expr.value(value.clone());
                format!("{name} = {value}")
            }
            Guard::Rewritten { previous, .. } => {
                format!("attribute_not_exists({})", expr.name(previous))
            }
        }
    }

    /// Whether the stored item `old` meets the guard.
    fn holds(&self, old: &crate::Attributes) -> bool {
        match self {
            Guard::Bound {
                attribute,
                size,
                at_most,
                bound,
                absent_ok,
                ..
            } => {
                let measured = match (old.get(*attribute), size) {
                    (None, _) => return *absent_ok,
                    (Some(AttributeValue::N(n)), false) => n.clone(),
                    (Some(AttributeValue::L(v)), true) => v.len().to_string(),
                    (Some(AttributeValue::Ss(v) | AttributeValue::Ns(v)), true) => {
                        v.len().to_string()
                    }
                    (Some(AttributeValue::Bs(v)), true) => v.len().to_string(),
                    (Some(AttributeValue::M(v)), true) => v.len().to_string(),
                    (Some(_), _) => return false,
                };
                bound.holds(&measured, *at_most)
            }
            Guard::Equal { attribute, value } => old.get(*attribute) == Some(value),
            Guard::Rewritten { previous, .. } => !old.contains_key(*previous),
        }
    }

    /// The error of an update the stored item `old` failed this guard for.
    fn error(&self, item_type: &'static str, table: &str, old: &crate::Attributes) -> Error {
        match self {
            Guard::Bound { field, rule, .. } => Error::Validation(ValidationError {
                item_type,
                field,
                rule: rule.clone(),
            }),
            Guard::Equal { attribute, .. } => Error::StaleKeyField {
                item_type,
                table: table.to_owned(),
                field: attribute,
                stored: old.get(*attribute).cloned().map(Box::new),
            },
            Guard::Rewritten {
                attribute,
                previous,
            } => Error::NotRewritten {
                item_type,
                table: table.to_owned(),
                attribute,
                previous,
            },
        }
    }
}

/// The guards of adding `by` (negated with `negate`) to a number stored in
/// `attribute`: the result stays within the type's `range` (integers) and
/// the field's `validate` bounds. `adds`: an absent value counts as 0
/// (`ADD`); otherwise (`SET f = f + by`) DynamoDB itself refuses an absent
/// one, so the guards let it through to that error.
fn number_guards(
    attribute: &'static str,
    limits: Option<&Limits>,
    range: Option<(i128, i128)>,
    by: (Option<i128>, f64),
    negate: bool,
    adds: bool,
) -> Vec<Guard> {
    let field = limits.map_or(attribute, |l| l.field);
    let (min, max) = (limits.and_then(|l| l.min), limits.and_then(|l| l.max));
    let guard =
        |at_most: bool, bound: Bound, rule: ValidationRule, absent_fits: bool| Guard::Bound {
            attribute,
            field,
            size: false,
            at_most,
            bound,
            rule,
            absent_ok: !adds || absent_fits,
        };
    let mut out = Vec::new();
    match (range, by.0) {
        (Some((type_min, type_max)), Some(by)) => {
            let delta = if negate { -by } else { by };
            // Validate bounds are TOML numbers: the integers within.
            let low = min.map_or(type_min, |m| type_min.max(m.ceil() as i128));
            let high = max.map_or(type_max, |m| type_max.min(m.floor() as i128));
            let fits = (low..=high).contains(&delta);
            if delta > 0 {
                out.push(guard(
                    true,
                    Bound::Int(high - delta),
                    ValidationRule::Max(high as f64),
                    fits,
                ));
            } else if delta < 0 {
                out.push(guard(
                    false,
                    Bound::Int(low - delta),
                    ValidationRule::Min(low as f64),
                    fits,
                ));
            }
        }
        _ => {
            let delta = if negate { -by.1 } else { by.1 };
            let fits = min.is_none_or(|m| delta >= m) && max.is_none_or(|m| delta <= m);
            if let (Some(max), true) = (max, delta > 0.0) {
                out.push(guard(
                    true,
                    Bound::Float(max - delta),
                    ValidationRule::Max(max),
                    fits,
                ));
            }
            if let (Some(min), true) = (min, delta < 0.0) {
                out.push(guard(
                    false,
                    Bound::Float(min - delta),
                    ValidationRule::Min(min),
                    fits,
                ));
            }
        }
    }
    out
}

/// The guards of a list or set in `attribute` that grows by up to `grows`
/// elements and shrinks by up to `shrinks`: its length stays within
/// `min_len` and `max_len` (an absent one is empty).
fn size_guards(
    attribute: &'static str,
    limits: &Limits,
    grows: usize,
    shrinks: usize,
) -> Vec<Guard> {
    let (grows, shrinks) = (grows as i128, shrinks as i128);
    let guard = |at_most: bool, bound: i128, rule: ValidationRule, absent_ok: bool| Guard::Bound {
        attribute,
        field: limits.field,
        size: true,
        at_most,
        bound: Bound::Int(bound),
        rule,
        absent_ok,
    };
    let mut out = Vec::new();
    if let Some(max) = limits.max_len.filter(|_| grows > 0) {
        let max = i128::from(max);
        out.push(guard(
            true,
            max - grows,
            ValidationRule::MaxLen(max as u64),
            grows <= max,
        ));
    }
    if let Some(min) = limits.min_len {
        let min = i128::from(min);
        let bound = min + shrinks - grows;
        if bound > 0 {
            out.push(guard(
                false,
                bound,
                ValidationRule::MinLen(min as u64),
                false,
            ));
        }
    }
    out
}

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

/// An update of one existing item: typed actions on the fields updates may
/// change (`.set(|f| f.total, 5)`, `.add(|f| f.count, 1)`,
/// `.remove(|f| f.note)`), with values of their types; key fields never
/// change. Generated update builders forward these and add a
/// `set_<field>` for each field an index key is built from, which rewrites
/// that key too.
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
    guards: Vec<Guard>,
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
            guards: Vec::new(),
            version: None,
            error: None,
        };
        let mut update = match I::UPDATED_AT {
            Some(path) => update.set_path(path, crate::Timestamp::now()),
            None => update,
        };
        if let Some(version) = I::VERSION.filter(|v| v.max < u64::MAX) {
            // `ADD version 1` at the type's largest value would store a
            // number the item can no longer be read with.
            update.guards.push(Guard::Bound {
                attribute: version.attribute,
                field: version.attribute,
                size: false,
                at_most: true,
                bound: Bound::Int(i128::from(version.max) - 1),
                rule: ValidationRule::Max(version.max as f64),
                absent_ok: false,
            });
        }
        update
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
        for guard in &self.guards {
            conditions.push(guard.render(expr));
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

    /// For an update that sets or removes a unique field: the unique
    /// values after it, from the stored item's (`None` when it touches
    /// none). Arithmetic on a unique field is refused: its new value is
    /// not known before DynamoDB computes it.
    fn unique_changes(&self) -> Result<Option<super::unique::NewValues>> {
        let position = |attribute: &str| I::UNIQUE.iter().position(|u| *u == attribute);
        let mut sets = Vec::new();
        for (attribute, value) in &self.set {
            let Some(i) = position(attribute) else {
                continue;
            };
            match value {
                SetValue::Value(v) => sets.push((i, v.clone(), false)),
                SetValue::IfNotExists(v) => sets.push((i, v.clone(), true)),
                _ => {
                    return Err(Error::InvalidRequest {
                        operation: Operation::UpdateItem,
                        reason: format!(
                            "`{attribute}` of `{}` is unique: set it to a value, not by arithmetic",
                            I::TYPE_NAME
                        ),
                    });
                }
            }
        }
        let removes: Vec<usize> = self.remove.iter().filter_map(|a| position(a)).collect();
        if sets.is_empty() && removes.is_empty() {
            return Ok(None);
        }
        Ok(Some(Box::new(move |old: &[Option<AttributeValue>]| {
            let mut new = old.to_vec();
            for (i, value, if_absent) in &sets {
                if !*if_absent || new[*i].is_none() {
                    new[*i] = Some(value.clone());
                }
            }
            for i in &removes {
                new[*i] = None;
            }
            new
        })))
    }

    /// A failed condition the stored item fails one of the update's own
    /// guards for, as that guard's error (a bound, a stale key field).
    fn guard_error(&self, table: &str, error: Error) -> Error {
        if let Error::ConditionFailed { old: Some(old), .. } = &error
            && let Some(guard) = self.guards.iter().find(|g| !g.holds(old))
        {
            return guard.error(I::TYPE_NAME, table, old);
        }
        error
    }

    /// Guards adding `by` (negated with `negate`) to the number at `path`;
    /// see [`number_guards`].
    fn guard_number<T: Bounded, A>(
        mut self,
        path: &Path<I, T, A>,
        by: &T,
        negate: bool,
        adds: bool,
    ) -> Self {
        let by = (by.to_i128(), by.to_f64());
        let guards = number_guards(
            path.attribute(),
            path.field_limits(),
            T::range(),
            by,
            negate,
            adds,
        );
        self.guards.extend(guards);
        self
    }

    /// Guards an action relative to the stored value of `attribute` against
    /// items still holding it under a previous name; see
    /// [`Guard::Rewritten`].
    fn guard_rewritten(mut self, attribute: &'static str) -> Self {
        for (name, previous) in I::PREVIOUS_ATTRIBUTES {
            let guard = Guard::Rewritten {
                attribute: name,
                previous,
            };
            if *name == attribute && !self.guards.contains(&guard) {
                self.guards.push(guard);
            }
        }
        self
    }

    /// Guards the length of the list or set at `path`; see [`size_guards`].
    fn guard_size<T, A>(mut self, path: &Path<I, T, A>, grows: usize, shrinks: usize) -> Self {
        if let Some(limits) = path.field_limits() {
            self.guards
                .extend(size_guards(path.attribute(), limits, grows, shrinks));
        }
        self
    }

    async fn write(self, db: &Db, returns: ReturnValue) -> Result<I> {
        let table = db.table_name(I::TABLE);
        let span = span(Operation::UpdateItem, &table, I::TYPE_NAME);
        async {
            let meter = Meter::new(&span, Operation::UpdateItem, &table, I::TYPE_NAME);
            let mut expr = Expr::new();
            let (update, condition) = self.render(&mut expr)?;
            if let Some(new) = self.unique_changes()? {
                let mut conditions = Conditions::default();
                conditions.push(condition);
                let key = self.key.encode_key()?;
                let stored = super::unique::write::<I>(
                    db,
                    &meter,
                    super::unique::Write {
                        operation: Operation::UpdateItem,
                        table: &table,
                        key: key.clone(),
                        action: super::unique::Action::Update {
                            expression: update,
                            new,
                        },
                        conditions,
                        expr,
                        version: I::VERSION.map(|v| v.attribute).zip(self.version),
                        refine: &|error| self.guard_error(&table, error),
                    },
                )
                .await?;
                meter.finish(1);
                // A transaction returns no item: the old one was read
                // before it, the new one is read after.
                let item = match returns {
                    ReturnValue::AllOld => stored,
                    _ => {
                        db.client()
                            .get_item()
                            .table_name(&table)
                            .set_key(Some(key))
                            .consistent_read(true)
                            .send()
                            .await
                            .map_err(|e| Error::service(Operation::GetItem, &table, e))?
                            .item
                    }
                };
                return I::decode(item.unwrap_or_default());
            }
            let request = db
                .client()
                .update_item()
                .table_name(&table)
                .set_key(Some(self.key.encode_key()?))
                .update_expression(update)
                .condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .set_return_values(returned(returns))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .set_return_consumed_capacity(meter.capacity())
                .send();
            let out = meter.send(db, request).await.map_err(|e| {
                let error = write_error(
                    Operation::UpdateItem,
                    &table,
                    I::TYPE_NAME,
                    I::VERSION.map(|v| v.attribute).zip(self.version),
                    e,
                );
                self.guard_error(&table, error)
            })?;
            meter.finish(1);
            I::decode(out.attributes.unwrap_or_default())
        }
        .instrument(span.clone())
        .await
    }
}

/// The set of `items` as one value, with its size; `None` for no items
/// (an empty set adds or deletes nothing, and DynamoDB rejects empty sets).
fn set_value<E: SetElement + Clone, V: IntoValue<E>>(
    items: impl IntoIterator<Item = V>,
) -> Option<(usize, AttributeValue)> {
    let items: BTreeSet<E> = items.into_iter().map(IntoValue::into_value).collect();
    (!items.is_empty()).then(|| (items.len(), items.to_attribute()))
}

impl<I: Item> Update<I> {
    /// `SET field = value`: `.set(|f| f.total, 5)`. A value stored as no
    /// attribute (an empty set) removes the field. The value is checked
    /// against the field's `validate` rules (and a nested type's) first:
    /// a failure is returned by `send`, nothing written. Only fields
    /// updates may change are offered: key fields, fields writes keep and
    /// fields index keys are built from are [`Fixed`](crate::expr::Fixed)
    /// (the last have a generated `set_<field>` that rewrites the keys).
    pub fn set<T: Attribute, A: Updatable>(
        self,
        field: impl FnOnce(&I::Fields) -> Path<I, T, A>,
        value: impl IntoValue<T>,
    ) -> Self {
        self.set_path(field(&I::FIELDS), value)
    }

    /// `SET field = if_not_exists(field, value)`: sets the field unless the
    /// item has a value (nothing for an empty set); checked as
    /// [`set`](Self::set).
    pub fn set_if_not_exists<T: Attribute, A: Updatable>(
        self,
        field: impl FnOnce(&I::Fields) -> Path<I, T, A>,
        value: impl IntoValue<T>,
    ) -> Self {
        let path = field(&I::FIELDS);
        let value = value.into_value();
        let update = self.record(path.check(&value));
        if value.is_absent() {
            // Absent stays absent: nothing to set.
            return update;
        }
        let value = path.encode(&value);
        update
            .guard_rewritten(path.attribute())
            .push_set(path.attribute(), SetValue::IfNotExists(value))
    }

    /// `REMOVE field`, of an optional field: `.remove(|f| f.note)`.
    pub fn remove<T>(self, field: impl FnOnce(&I::Fields) -> Path<I, T, Optional>) -> Self {
        self.remove_path(field(&I::FIELDS))
    }

    /// `ADD field by`: adds to a number (an absent one counts as 0). The
    /// result stays within the type's and `validate`'s bounds: a condition
    /// on the stored value, or [`Error::Validation`] and nothing written.
    pub fn add<T: Attribute + Bounded, A: Updatable>(
        self,
        field: impl FnOnce(&I::Fields) -> Path<I, T, A>,
        by: T,
    ) -> Self {
        let path = field(&I::FIELDS);
        let mut update = self
            .guard_rewritten(path.attribute())
            .guard_number(&path, &by, false, true);
        update.add.push((path.attribute(), by.to_attribute()));
        update
    }

    /// `SET field = field + by` (the item must have a value), bounded as
    /// [`add`](Self::add).
    pub fn increment<T: Attribute + Bounded, A: Updatable>(
        self,
        field: impl FnOnce(&I::Fields) -> Path<I, T, A>,
        by: T,
    ) -> Self {
        let path = field(&I::FIELDS);
        self.guard_rewritten(path.attribute())
            .guard_number(&path, &by, false, false)
            .push_set(path.attribute(), SetValue::Plus(by.to_attribute()))
    }

    /// `SET field = field - by` (the item must have a value), bounded as
    /// [`add`](Self::add).
    pub fn decrement<T: Attribute + Bounded, A: Updatable>(
        self,
        field: impl FnOnce(&I::Fields) -> Path<I, T, A>,
        by: T,
    ) -> Self {
        let path = field(&I::FIELDS);
        self.guard_rewritten(path.attribute())
            .guard_number(&path, &by, true, false)
            .push_set(path.attribute(), SetValue::Minus(by.to_attribute()))
    }

    /// `ADD field items`: adds elements to a set. With `max_len`, the stored
    /// set must have room for all of `items` (a condition; elements it
    /// holds already count as new). No items: nothing to do.
    pub fn add_items<E: SetElement + Clone, V: IntoValue<E>, A: Updatable>(
        self,
        field: impl FnOnce(&I::Fields) -> Path<I, BTreeSet<E>, A>,
        items: impl IntoIterator<Item = V>,
    ) -> Self {
        let path = field(&I::FIELDS);
        let Some((n, items)) = set_value(items) else {
            return self;
        };
        let mut update = self
            .guard_rewritten(path.attribute())
            .guard_size(&path, n, 0);
        update.add.push((path.attribute(), items));
        update
    }

    /// `DELETE field items`: removes elements from a set. With `min_len`,
    /// the stored set must keep it after losing all of `items`.
    pub fn delete_items<E: SetElement + Clone, V: IntoValue<E>, A: Updatable>(
        self,
        field: impl FnOnce(&I::Fields) -> Path<I, BTreeSet<E>, A>,
        items: impl IntoIterator<Item = V>,
    ) -> Self {
        let path = field(&I::FIELDS);
        let Some((n, items)) = set_value(items) else {
            return self;
        };
        let mut update = self
            .guard_rewritten(path.attribute())
            .guard_size(&path, 0, n);
        update.delete.push((path.attribute(), items));
        update
    }

    /// Appends `items` to a list (an absent list counts as empty), within
    /// the field's `min_len` and `max_len` (a condition on the stored list);
    /// items of a nested type are checked against its rules.
    pub fn append<E: Attribute, V: IntoValue<E>, A: Updatable>(
        self,
        field: impl FnOnce(&I::Fields) -> Path<I, Vec<E>, A>,
        items: impl IntoIterator<Item = V>,
    ) -> Self {
        self.extend(field(&I::FIELDS), items, SetValue::Append)
    }

    /// Prepends `items` to a list, as [`append`](Self::append).
    pub fn prepend<E: Attribute, V: IntoValue<E>, A: Updatable>(
        self,
        field: impl FnOnce(&I::Fields) -> Path<I, Vec<E>, A>,
        items: impl IntoIterator<Item = V>,
    ) -> Self {
        self.extend(field(&I::FIELDS), items, SetValue::Prepend)
    }

    fn extend<E: Attribute, V: IntoValue<E>, A>(
        self,
        path: Path<I, Vec<E>, A>,
        items: impl IntoIterator<Item = V>,
        action: fn(AttributeValue) -> SetValue,
    ) -> Self {
        let items: Vec<E> = items.into_iter().map(IntoValue::into_value).collect();
        self.record(path.check_nested(&items))
            .guard_rewritten(path.attribute())
            .guard_size(&path, items.len(), 0)
            .push_set(path.attribute(), action(items.to_attribute()))
    }

    /// `SET field = value` of any field, after its checks.
    fn set_path<T: Attribute, A>(self, path: Path<I, T, A>, value: impl IntoValue<T>) -> Self {
        let value = value.into_value();
        let mut update = self.record(path.check(&value));
        if value.is_absent() {
            // A value stored as no attribute (an empty set) removes it.
            update.remove.push(path.attribute());
            return update;
        }
        let value = path.encode(&value);
        update.push_set(path.attribute(), SetValue::Value(value))
    }

    fn remove_path<T, A>(self, path: Path<I, T, A>) -> Self {
        let mut update = self.guard_rewritten(path.attribute());
        update.remove.push(path.attribute());
        update
    }
}

/// What generated `set_<field>` and `remove_<field>` methods of fields
/// that index keys are built from are made of: the field's action, with
/// the rewritten keys and the guards that keep them right. Not for direct
/// use (it would bypass those).
pub trait UpdateActions<I: Item>: Sized {
    /// `SET field = value` of a [`Fixed`](crate::expr::Fixed) field,
    /// checked as [`Update::set`].
    fn set_field<T: Attribute, A>(self, path: Path<I, T, A>, value: impl IntoValue<T>) -> Self;
    /// `REMOVE field` of a [`Fixed`](crate::expr::Fixed) field.
    fn remove_field<T, A>(self, path: Path<I, T, A>) -> Self;
    /// Requires the stored value of `path` to be `value`: an index key
    /// rewritten from a changed field and the caller's values of its other
    /// fields is right only if those are the stored ones (otherwise
    /// [`Error::StaleKeyField`], nothing written).
    fn unchanged<T, A>(self, path: Path<I, T, A>, value: impl IntoValue<T>) -> Self;
    /// `SET` a key attribute rendered from the update's key and new values
    /// (an index key whose fields change).
    fn set_key(self, render: impl FnOnce(&I::Key) -> RenderedKey) -> Self;
    /// `REMOVE` a key attribute (the item leaves a sparse index).
    fn remove_key(self, template: &KeyTemplate<I>) -> Self;
    /// `SET` an encrypted field to `value` sealed with the installed
    /// keyring, checked by its rules first.
    fn set_encrypted<T: crate::Sealable>(self, path: EncryptedPath<I, T>, value: T) -> Self;
    /// `REMOVE` an optional encrypted field.
    fn remove_encrypted<T>(self, path: EncryptedPath<I, T>) -> Self;
}

impl<I: Item> UpdateActions<I> for Update<I> {
    fn set_field<T: Attribute, A>(self, path: Path<I, T, A>, value: impl IntoValue<T>) -> Self {
        self.set_path(path, value)
    }

    fn remove_field<T, A>(self, path: Path<I, T, A>) -> Self {
        self.remove_path(path)
    }

    fn unchanged<T, A>(mut self, path: Path<I, T, A>, value: impl IntoValue<T>) -> Self {
        let value = path.encode(&value.into_value());
        let attribute = path.attribute();
        if !self
            .guards
            .iter()
            .any(|g| matches!(g, Guard::Equal { attribute: a, .. } if *a == attribute))
        {
            self.guards.push(Guard::Equal { attribute, value });
        }
        self
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

    fn set_encrypted<T: crate::Sealable>(self, path: EncryptedPath<I, T>, value: T) -> Self {
        let update = self.record(path.check(&value));
        match crate::crypt::seal(&value) {
            Ok(sealed) => update.push_set(path.attribute(), SetValue::Value(sealed)),
            Err(error) => update.record::<Error>(Err(Error::Encryption {
                item_type: I::TYPE_NAME,
                attribute: path.attribute(),
                error,
            })),
        }
    }

    fn remove_encrypted<T>(mut self, path: EncryptedPath<I, T>) -> Self {
        self.remove.push(path.attribute());
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Whether every guard holds for a stored item holding `stored` (none:
    /// the attribute is absent).
    fn passes(guards: &[Guard], stored: Option<AttributeValue>) -> bool {
        let old: crate::Attributes = stored.map(|v| ("n".to_owned(), v)).into_iter().collect();
        guards.iter().all(|g| g.holds(&old))
    }

    const CREDIT: Limits = Limits::new("credit", Some(-100.0), Some(100.0), None, None);
    const NOTES: Limits = Limits::new("notes", None, None, Some(1), Some(3));

    proptest! {
        /// A guarded `increment`/`decrement` of a `u8` is allowed exactly
        /// when the result is a `u8`.
        #[test]
        fn u8_arithmetic_is_allowed_exactly_when_the_result_fits(
            stored in any::<u8>(), by in any::<u8>(), negate in any::<bool>(),
        ) {
            let range = <u8 as Bounded>::range();
            let guards = number_guards("n", None, range, (Some(by.into()), by.into()), negate, false);
            let result = if negate { i32::from(stored) - i32::from(by) } else { i32::from(stored) + i32::from(by) };
            let stored = AttributeValue::N(stored.to_string());
            prop_assert_eq!(passes(&guards, Some(stored)), (0..=255).contains(&result));
        }

        /// The same for an `i32` with `validate = { min = -100, max = 100 }`,
        /// and `ADD` of an absent value (it counts as 0).
        #[test]
        fn bounded_i32_arithmetic_is_allowed_exactly_when_the_result_keeps_the_rules(
            stored in -100i32..=100, by in -300i32..=300, negate in any::<bool>(), adds in any::<bool>(),
        ) {
            let range = <i32 as Bounded>::range();
            let guards = number_guards("n", Some(&CREDIT), range, (Some(by.into()), by.into()), negate, adds);
            let delta = if negate { -by } else { by };
            let stored_value = AttributeValue::N(stored.to_string());
            prop_assert_eq!(passes(&guards, Some(stored_value)), (-100..=100).contains(&(stored + delta)));
            if adds {
                prop_assert_eq!(passes(&guards, None), (-100..=100).contains(&delta));
            }
        }

        /// A float field with bounds: allowed exactly when the result keeps
        /// them.
        #[test]
        fn bounded_float_arithmetic_is_allowed_exactly_when_the_result_keeps_the_rules(
            stored in -100i32..=100, by in -300i32..=300,
        ) {
            // Whole numbers, so the float arithmetic is exact.
            let guards = number_guards("n", Some(&CREDIT), None, (None, f64::from(by)), false, false);
            let stored_value = AttributeValue::N(f64::from(stored).to_string());
            prop_assert_eq!(passes(&guards, Some(stored_value)), (-100..=100).contains(&(stored + by)));
        }

        /// A list with `min_len = 1`, `max_len = 3` grown (append, add
        /// items) or shrunk (delete items) by some elements: allowed
        /// exactly when its length stays within them.
        #[test]
        fn list_lengths_are_allowed_exactly_when_they_stay_within_the_rules(
            len in 1usize..=3,
            (grows, shrinks) in prop_oneof![
                (0usize..5).prop_map(|g| (g, 0)),
                (0usize..5).prop_map(|s| (0, s)),
            ],
        ) {
            let guards = size_guards("n", &NOTES, grows, shrinks);
            let stored = AttributeValue::L(vec![AttributeValue::Null(true); len]);
            let after = (len + grows).checked_sub(shrinks);
            let fits = after.is_some_and(|n| (1..=3).contains(&n));
            prop_assert_eq!(passes(&guards, Some(stored)), fits);
        }
    }
}
