//! Rewrites: the data steps of item evolution. Each stored item of one
//! type is read by the same paced, checkpointed scan backfills use; what
//! changes in it is decided by [`plan`] (a pure function of the step and
//! the item), and written conditionally on the attributes read being
//! unchanged, so a concurrent writer's change is re-read, never lost.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnConsumedCapacity, TransactWriteItem,
};

use super::{MigrateError, backfill::render, pace::Consumed, tracking::is_condition_failure};
use crate::{
    Attributes, Db, Error, Operation, Result,
    model::{Edit, Literal, Rewrite},
};

/// How one stored item changes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ItemWrite {
    /// An UpdateItem: `set` and `remove`, on condition that each `expect`ed
    /// attribute still has the value read (`None`: is still absent).
    Update {
        set: Vec<(String, AttributeValue)>,
        remove: Vec<String>,
        expect: Vec<(String, Option<AttributeValue>)>,
    },
    /// The item moves to another table key: the new item is put and the
    /// old deleted in one transaction.
    Move { new: Attributes },
    /// The item is replaced (same key), on condition that it is unchanged.
    Replace { new: Attributes },
}

fn literal(value: &Literal) -> AttributeValue {
    match value {
        Literal::Text(t) => AttributeValue::S(t.to_string()),
        Literal::Number(n) => AttributeValue::N(n.to_string()),
        Literal::Bool(b) => AttributeValue::Bool(*b),
    }
}

/// What `r` changes in `item`; `None` when the item needs no change (it
/// was rewritten already, or never had what the step rewrites), so a
/// resumed or repeated step changes nothing twice.
pub(crate) fn plan(
    r: &Rewrite,
    keys: &[String],
    item: &Attributes,
    transforms: &[(&'static str, super::TransformFn)],
) -> Result<Option<ItemWrite>> {
    let update = |set, remove, expect| {
        Some(ItemWrite::Update {
            set,
            remove,
            expect,
        })
    };
    Ok(match &r.edit {
        Edit::RenameAttribute { from, to } => {
            let Some(value) = item.get(&**from) else {
                return Ok(None);
            };
            let expect_from = (from.to_string(), Some(value.clone()));
            match item.get(&**to) {
                // Written under the new name since (by code that reads
                // both): the new value wins, the old one goes.
                Some(new) => update(
                    vec![],
                    vec![from.to_string()],
                    vec![expect_from, (to.to_string(), Some(new.clone()))],
                ),
                None => update(
                    vec![(to.to_string(), value.clone())],
                    vec![from.to_string()],
                    vec![expect_from, (to.to_string(), None)],
                ),
            }
        }
        Edit::MapValues { attribute, map } => {
            let Some(AttributeValue::S(stored)) = item.get(&**attribute) else {
                return Ok(None);
            };
            let Some((_, new)) = map.iter().find(|(old, _)| old == stored) else {
                return Ok(None);
            };
            update(
                vec![(attribute.to_string(), AttributeValue::S(new.to_string()))],
                vec![],
                vec![(
                    attribute.to_string(),
                    Some(AttributeValue::S(stored.clone())),
                )],
            )
        }
        Edit::WriteDefault { attribute, value } => {
            if item.contains_key(&**attribute) {
                return Ok(None);
            }
            update(
                vec![(attribute.to_string(), literal(value))],
                vec![],
                vec![(attribute.to_string(), None)],
            )
        }
        Edit::RemoveAttribute { attribute } => {
            let Some(value) = item.get(&**attribute) else {
                return Ok(None);
            };
            update(
                vec![],
                vec![attribute.to_string()],
                vec![(attribute.to_string(), Some(value.clone()))],
            )
        }
        Edit::RenameItem { to } => update(
            vec![(
                r.type_attribute.to_string(),
                AttributeValue::S(to.to_string()),
            )],
            vec![],
            vec![],
        ),
        Edit::RewriteKeys(b) => {
            let rendered = render(b, item)?;
            for t in b.set.iter() {
                if !rendered.iter().any(|(a, _)| *a == *t.attribute) {
                    let field = t
                        .fields()
                        .into_iter()
                        .find(|f| b.field(f).is_none_or(|f| !item.contains_key(&*f.attribute)));
                    return Err(MigrateError::Render {
                        item: r.item.to_string(),
                        attribute: t.attribute.to_string(),
                        field: field.unwrap_or_default().to_owned(),
                        problem: "the stored item lacks the field, so it has no new key".to_owned(),
                    }
                    .into());
                }
            }
            let changed = rendered
                .iter()
                .any(|(a, v)| !matches!(item.get(a), Some(AttributeValue::S(s)) if s == v));
            if !changed {
                return Ok(None);
            }
            if !rendered.iter().any(|(a, _)| keys.contains(a)) {
                return Err(Error::config(format!(
                    "rewrite_keys of `{}`: its templates set no key attribute of the table",
                    r.item
                )));
            }
            let mut new = item.clone();
            for (attribute, value) in rendered {
                new.insert(attribute, AttributeValue::S(value));
            }
            Some(ItemWrite::Move { new })
        }
        Edit::Transform { function, mark } => {
            // Marks sort as (migration, step): an item this step or a
            // later one wrote is in a newer shape already.
            if let Some(AttributeValue::S(stored)) = item.get(Edit::TRANSFORM_MARK)
                && **stored >= **mark
            {
                return Ok(None);
            }
            let Some((_, apply)) = transforms.iter().find(|(f, _)| *f == &**function) else {
                return Err(Error::config(format!(
                    "transform of `{}`: no function `{function}` was given",
                    r.item
                )));
            };
            let mut new = apply(item.clone())?;
            new.insert(
                Edit::TRANSFORM_MARK.to_owned(),
                AttributeValue::S(mark.to_string()),
            );
            if keys.iter().all(|k| new.get(k) == item.get(k)) {
                Some(ItemWrite::Replace { new })
            } else {
                Some(ItemWrite::Move { new })
            }
        }
    })
}

/// Expression names and values with a condition, built up piece by piece.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    conditions: Vec<String>,
}

impl Expr {
    fn name(&mut self, attribute: &str) -> String {
        let name = format!("#a{}", self.names.len());
        self.names.insert(name.clone(), attribute.to_owned());
        name
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let name = format!(":v{}", self.values.len());
        self.values.insert(name.clone(), value);
        name
    }

    /// `attribute` still holds `value` (`None`: is still absent).
    fn expect(&mut self, attribute: &str, value: Option<AttributeValue>) {
        let name = self.name(attribute);
        let condition = match value {
            Some(value) => format!("{name} = {}", self.value(value)),
            None => format!("attribute_not_exists({name})"),
        };
        self.conditions.push(condition);
    }

    /// The item is still of type `r.item` (without a type attribute: it
    /// still exists, by its first key attribute).
    fn still_the_type(&mut self, r: &Rewrite, keys: &[String]) {
        if r.type_attribute.is_empty() {
            let name = self.name(keys.first().map_or("", String::as_str));
            self.conditions.push(format!("attribute_exists({name})"));
        } else {
            self.expect(
                &r.type_attribute,
                Some(AttributeValue::S(r.item.to_string())),
            );
        }
    }

    fn condition(&self) -> String {
        self.conditions.join(" AND ")
    }

    /// The item read, `item`, is stored unchanged: still the type, every
    /// attribute as read.
    fn unchanged(r: &Rewrite, keys: &[String], item: &Attributes) -> Expr {
        let mut e = Expr::default();
        e.still_the_type(r, keys);
        for (attribute, value) in item {
            e.expect(attribute, Some(value.clone()));
        }
        e
    }
}

/// The outcome of a conditional write: written, or the item changed.
fn outcome<T: Consumed, E, R>(
    result: std::result::Result<T, aws_sdk_dynamodb::error::SdkError<E, R>>,
    operation: Operation,
    table: &str,
) -> Result<Sent>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
    aws_sdk_dynamodb::error::SdkError<E, R>: Into<aws_sdk_dynamodb::Error>,
{
    match result {
        Ok(out) => Ok(Sent::Written(out.units())),
        // A failed condition costs a write unit too.
        Err(e) if is_condition_failure(&e) => Ok(Sent::Changed(1.0)),
        Err(e) => Err(Error::service(operation, table, e)),
    }
}

/// The outcome of one attempt at one item.
pub(crate) enum Sent {
    /// Written, with the write capacity units consumed (zero when not
    /// asked for).
    Written(f64),
    /// The item changed since it was read: read it again. (With an
    /// estimate of the units the failed write consumed.)
    Changed(f64),
}

/// Sends `write` for `item` (whose table key attributes are `keys`).
pub(crate) async fn send(
    db: &Db,
    table: &str,
    r: &Rewrite,
    keys: &[String],
    item: &Attributes,
    write: ItemWrite,
    consumed: Option<ReturnConsumedCapacity>,
) -> Result<Sent> {
    let key: Attributes = keys
        .iter()
        .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    match write {
        ItemWrite::Update {
            set,
            remove,
            expect,
        } => {
            let mut e = Expr::default();
            e.still_the_type(r, keys);
            for (attribute, value) in expect {
                e.expect(&attribute, value);
            }
            let mut clauses = Vec::new();
            let sets: Vec<String> = set
                .into_iter()
                .map(|(a, v)| format!("{} = {}", e.name(&a), e.value(v)))
                .collect();
            if !sets.is_empty() {
                clauses.push(format!("SET {}", sets.join(", ")));
            }
            let removes: Vec<String> = remove.iter().map(|a| e.name(a)).collect();
            if !removes.is_empty() {
                clauses.push(format!("REMOVE {}", removes.join(", ")));
            }
            let condition = e.condition();
            let result = db
                .client()
                .update_item()
                .table_name(table)
                .set_key(Some(key))
                .update_expression(clauses.join(" "))
                .condition_expression(condition)
                .set_expression_attribute_names(Some(e.names))
                .set_expression_attribute_values((!e.values.is_empty()).then_some(e.values))
                .set_return_consumed_capacity(consumed)
                .send()
                .await;
            outcome(result, Operation::UpdateItem, table)
        }
        ItemWrite::Replace { new } => {
            let old = Expr::unchanged(r, keys, item);
            let result = db
                .client()
                .put_item()
                .table_name(table)
                .set_item(Some(new))
                .condition_expression(old.condition())
                .set_expression_attribute_names(Some(old.names))
                .set_expression_attribute_values(Some(old.values))
                .set_return_consumed_capacity(consumed)
                .send()
                .await;
            outcome(result, Operation::PutItem, table)
        }
        ItemWrite::Move { new } => {
            let old = Expr::unchanged(r, keys, item);
            let mut fresh = Expr::default();
            let pk = fresh.name(keys.first().map_or("", String::as_str));
            fresh.conditions.push(format!("attribute_not_exists({pk})"));
            let delete = |old: Expr| {
                Delete::builder()
                    .table_name(table)
                    .set_key(Some(key.clone()))
                    .condition_expression(old.condition())
                    .set_expression_attribute_names(Some(old.names))
                    .set_expression_attribute_values(Some(old.values))
                    .build()
                    .map_err(|e| Error::config(e.to_string()))
            };
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(new))
                .condition_expression(fresh.condition())
                .set_expression_attribute_names(Some(fresh.names))
                .build()
                .map_err(|e| Error::config(e.to_string()))?;
            let result = db
                .client()
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(put).build())
                .transact_items(TransactWriteItem::builder().delete(delete(old)?).build())
                .set_return_consumed_capacity(consumed.clone())
                .send()
                .await;
            let reasons: Vec<Option<String>> = match result {
                Ok(out) => return Ok(Sent::Written(out.units())),
                Err(e) => match e.as_service_error() {
                    Some(
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c),
                    ) => c
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code().map(str::to_owned))
                        .collect(),
                    _ => return Err(Error::service(Operation::TransactWriteItems, table, e)),
                },
            };
            let failed = |i: usize| {
                reasons.get(i).and_then(Option::as_deref) == Some("ConditionalCheckFailed")
            };
            if failed(1) {
                return Ok(Sent::Changed(2.0));
            }
            if !failed(0) {
                return Err(Error::config(format!(
                    "rewrite_keys of `{}` in `{table}`: the transaction was cancelled: {reasons:?}",
                    r.item
                )));
            }
            // The new key holds an item already: written since by code
            // that renders the new key, so it is the newer one. The old
            // one goes, if it is still as read.
            let old = Expr::unchanged(r, keys, item);
            let result = db
                .client()
                .delete_item()
                .table_name(table)
                .set_key(Some(key))
                .condition_expression(old.condition())
                .set_expression_attribute_names(Some(old.names))
                .set_expression_attribute_values(Some(old.values))
                .set_return_consumed_capacity(consumed)
                .send()
                .await;
            outcome(result, Operation::DeleteItem, table)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Backfill, FieldFormat, Template, TemplateField, text};
    use std::borrow::Cow;

    fn rewrite(edit: Edit) -> Rewrite {
        Rewrite {
            table: text("shop"),
            item: text("Order"),
            type_attribute: text("_type"),
            edit,
        }
    }

    fn item(pairs: &[(&str, &str)]) -> Attributes {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), AttributeValue::S((*v).to_owned())))
            .collect()
    }

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }

    const KEYS: fn() -> Vec<String> = || vec!["pk".to_owned(), "sk".to_owned()];
    const NONE: &[(&str, crate::migrate::TransformFn)] = &[];

    #[test]
    fn a_rename_moves_the_value_once() {
        let r = rewrite(Edit::RenameAttribute {
            from: text("total"),
            to: text("total_cents"),
        });
        let old = item(&[("pk", "a"), ("total", "5")]);
        assert_eq!(
            plan(&r, &KEYS(), &old, NONE).unwrap(),
            Some(ItemWrite::Update {
                set: vec![("total_cents".into(), s("5"))],
                remove: vec!["total".into()],
                expect: vec![("total".into(), Some(s("5"))), ("total_cents".into(), None)],
            })
        );
        let both = item(&[("pk", "a"), ("total", "5"), ("total_cents", "7")]);
        assert!(matches!(
            plan(&r, &KEYS(), &both, NONE).unwrap(),
            Some(ItemWrite::Update { set, remove, .. }) if set.is_empty() && remove == ["total"]
        ));
        let done = item(&[("pk", "a"), ("total_cents", "5")]);
        assert_eq!(plan(&r, &KEYS(), &done, NONE).unwrap(), None);
    }

    #[test]
    fn value_maps_defaults_and_removals_touch_only_what_needs_it() {
        let map = rewrite(Edit::MapValues {
            attribute: text("status"),
            map: Cow::Owned(vec![(text("shipped"), text("sent"))]),
        });
        assert!(
            plan(&map, &KEYS(), &item(&[("status", "shipped")]), NONE)
                .unwrap()
                .is_some()
        );
        assert_eq!(
            plan(&map, &KEYS(), &item(&[("status", "sent")]), NONE).unwrap(),
            None
        );
        let default = rewrite(Edit::WriteDefault {
            attribute: text("tier"),
            value: Literal::Text(text("free")),
        });
        assert!(plan(&default, &KEYS(), &item(&[]), NONE).unwrap().is_some());
        assert_eq!(
            plan(&default, &KEYS(), &item(&[("tier", "pro")]), NONE).unwrap(),
            None
        );
        let remove = rewrite(Edit::RemoveAttribute {
            attribute: text("legacy"),
        });
        assert_eq!(plan(&remove, &KEYS(), &item(&[]), NONE).unwrap(), None);
        assert!(
            plan(&remove, &KEYS(), &item(&[("legacy", "x")]), NONE)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn a_key_rewrite_moves_items_whose_key_renders_differently() {
        let r = rewrite(Edit::RewriteKeys(Backfill {
            table: text("shop"),
            item: text("Order"),
            type_attribute: text("_type"),
            separator: text("#"),
            fields: Cow::Owned(vec![TemplateField::new("id", "id", FieldFormat::Text)]),
            set: Cow::Owned(vec![Template::new("sk", "ORD#{id}")]),
            computed: Cow::Borrowed(&[]),
        }));
        let old = item(&[("pk", "c"), ("sk", "ORDER#7"), ("id", "7")]);
        let Some(ItemWrite::Move { new }) = plan(&r, &KEYS(), &old, NONE).unwrap() else {
            panic!("a move");
        };
        assert_eq!(new.get("sk"), Some(&s("ORD#7")));
        assert_eq!(new.get("id"), Some(&s("7")));
        assert_eq!(
            plan(&r, &KEYS(), &new, NONE).unwrap(),
            None,
            "moved already"
        );
        let err = plan(&r, &KEYS(), &item(&[("pk", "c"), ("sk", "ORDER#7")]), NONE).unwrap_err();
        assert!(err.to_string().contains("lacks the field"), "{err}");
    }
}
