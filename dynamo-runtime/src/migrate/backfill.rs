//! The per-item work of data steps. Backfills render attributes from the
//! stored fields with the rules generated code uses (the same template
//! parser and [`KeyPart`] rendering) and write what differs with
//! conditional updates; rewrites plan and send each item's change
//! ([`rewrite`]). Both are paced by the worker's [`Pacer`].

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::{
    Event, MigrateError,
    events::Events,
    pace::{self, Consumed, Pacer},
    rewrite,
    tracking::is_condition_failure,
};
use crate::{
    Attribute, Attributes, Db, DecodeErrorKind, Error, KeyErrorKind, KeyPart, Number, Operation,
    Result, Timestamp, attr,
    key::{Refusal, write_value},
    model::{
        Backfill, FieldFormat, Rewrite,
        template::{Piece, pieces},
    },
};

/// Attempts at one item whose fields keep changing under the backfill.
const ATTEMPTS: usize = 5;

/// What a scan over the items of one type does to each.
#[derive(Clone, Copy)]
pub(crate) enum Work<'s> {
    Backfill(&'s Backfill),
    Rewrite(&'s Rewrite),
}

impl<'s> Work<'s> {
    /// The data work of `step`, if it is a data step.
    pub(crate) fn of(step: &'s crate::model::Step) -> Option<Work<'s>> {
        match step {
            crate::model::Step::Backfill(b) => Some(Work::Backfill(b)),
            crate::model::Step::Rewrite(r) => Some(Work::Rewrite(r)),
            _ => None,
        }
    }

    /// The step's `op`.
    pub(crate) fn op(self) -> &'static str {
        match self {
            Work::Backfill(_) => "backfill",
            Work::Rewrite(r) => r.edit_name(),
        }
    }

    /// The item type and the table's type attribute (empty: a table of
    /// this item type only).
    pub(crate) fn item_type(self) -> (&'s str, &'s str) {
        match self {
            Work::Backfill(b) => (&b.item, &b.type_attribute),
            Work::Rewrite(r) => (&r.item, &r.type_attribute),
        }
    }
}

/// The per-item work of a data step on one table.
pub(crate) struct Items<'m> {
    pub db: &'m Db,
    /// The functions of `transform` steps, by path.
    pub transforms: &'m [(&'static str, super::TransformFn)],
    pub table: &'m str,
    /// The table's key attributes.
    pub keys: &'m [String],
    /// Whether to ask DynamoDB for the capacity consumed (when pacing by
    /// capacity).
    pub consumed: Option<ReturnConsumedCapacity>,
    pub events: &'m Events,
}

impl Items<'_> {
    /// Does `work` to `item`; `true` when it wrote it. Throttling after
    /// the SDK's own retries backs the pacer off and tries again.
    pub(crate) async fn process(
        &self,
        work: Work<'_>,
        item: Attributes,
        pacer: &mut Pacer,
    ) -> Result<bool> {
        loop {
            let result = match work {
                Work::Backfill(b) => self.write(b, item.clone(), pacer).await,
                Work::Rewrite(r) => self.rewrite(r, item.clone(), pacer).await,
            };
            match result {
                Err(Error::Throttled { .. }) => {
                    let backoff = pacer.throttled();
                    self.events.emit(Event::Throttled {
                        backoff,
                        share: pacer.share(),
                    });
                    pace::sleep(backoff).await;
                }
                other => return other,
            }
        }
    }

    /// Rewrites `item` as `r` says; `false` when it needs no change (or is
    /// gone). A write that finds the item changed since it was read reads
    /// it again, so a concurrent change is never overwritten.
    async fn rewrite(&self, r: &Rewrite, mut item: Attributes, pacer: &mut Pacer) -> Result<bool> {
        let keys = self.keys;
        for _ in 0..ATTEMPTS {
            let Some(write) = rewrite::plan(r, keys, &item, self.transforms)? else {
                return Ok(false);
            };
            pace::sleep(pacer.before_write()).await;
            let sent = rewrite::send(
                self.db,
                self.table,
                r,
                keys,
                &item,
                write,
                self.consumed.clone(),
            )
            .await?;
            match sent {
                rewrite::Sent::Written(units) => {
                    pacer.wrote(units);
                    return Ok(true);
                }
                rewrite::Sent::Changed(units) => pacer.wrote(units),
            }
            match self
                .reread(&item, &r.type_attribute, &r.item, pacer)
                .await?
            {
                Some(fresh) => item = fresh,
                None => return Ok(false),
            }
        }
        Err(Error::config(format!(
            "{} of `{}` in `{}`: an item changed on each of {ATTEMPTS} attempts to rewrite it",
            r.edit_name(),
            r.item,
            self.table
        )))
    }

    /// The item with `item`'s key as stored now, if it is still of type
    /// `item_type`.
    async fn reread(
        &self,
        item: &Attributes,
        type_attribute: &str,
        item_type: &str,
        pacer: &mut Pacer,
    ) -> Result<Option<Attributes>> {
        pace::sleep(pacer.before_read()).await;
        let key: Attributes = self
            .keys
            .iter()
            .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
            .collect();
        let fresh = self
            .db
            .client()
            .get_item()
            .table_name(self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .set_return_consumed_capacity(self.consumed.clone())
            .send()
            .await
            .map_err(|e| Error::service(Operation::GetItem, self.table, e))?;
        pacer.read(fresh.units());
        Ok(fresh.item.filter(|fresh| {
            type_attribute.is_empty()
                || matches!(fresh.get(type_attribute), Some(AttributeValue::S(t)) if t == item_type)
        }))
    }

    /// Writes the rendered attributes `item` lacks; `false` when it has
    /// them all (or is gone). The update is conditioned on the fields read,
    /// so a concurrent change is re-read, never overwritten.
    async fn write(&self, b: &Backfill, mut item: Attributes, pacer: &mut Pacer) -> Result<bool> {
        let db = self.db;
        let keys = self.keys;
        for _ in 0..ATTEMPTS {
            let changes: Vec<(String, String)> = render(b, &item)?
                .into_iter()
                .filter(|(attribute, value)| {
                    !matches!(item.get(attribute), Some(AttributeValue::S(s)) if s == value)
                })
                .collect();
            if changes.is_empty() {
                return Ok(false);
            }
            let key: Attributes = keys
                .iter()
                .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
                .collect();
            // The item is still this type's (without a type attribute: it
            // still exists).
            let (mut names, mut values, mut conditions) = if b.type_attribute.is_empty() {
                let pk = keys.first().cloned().unwrap_or_default();
                (
                    HashMap::from([("#type".to_owned(), pk)]),
                    HashMap::new(),
                    vec!["attribute_exists(#type)".to_owned()],
                )
            } else {
                (
                    HashMap::from([("#type".to_owned(), b.type_attribute.to_string())]),
                    HashMap::from([(":type".to_owned(), AttributeValue::S(b.item.to_string()))]),
                    vec!["#type = :type".to_owned()],
                )
            };
            let mut sets = Vec::new();
            for (i, (attribute, value)) in changes.into_iter().enumerate() {
                names.insert(format!("#s{i}"), attribute);
                values.insert(format!(":s{i}"), AttributeValue::S(value));
                sets.push(format!("#s{i} = :s{i}"));
            }
            for (i, attribute) in sources(b).into_iter().enumerate() {
                names.insert(format!("#f{i}"), attribute.to_owned());
                match item.get(attribute) {
                    Some(value) => {
                        values.insert(format!(":f{i}"), value.clone());
                        conditions.push(format!("#f{i} = :f{i}"));
                    }
                    None => conditions.push(format!("attribute_not_exists(#f{i})")),
                }
            }
            pace::sleep(pacer.before_write()).await;
            let result = db
                .client()
                .update_item()
                .table_name(self.table)
                .set_key(Some(key.clone()))
                .update_expression(format!("SET {}", sets.join(", ")))
                .condition_expression(conditions.join(" AND "))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .set_return_consumed_capacity(self.consumed.clone())
                .send()
                .await;
            match result {
                Ok(out) => {
                    pacer.wrote(out.units());
                    return Ok(true);
                }
                // A failed condition costs a write unit too.
                Err(e) if is_condition_failure(&e) => pacer.wrote(1.0),
                Err(e) => return Err(Error::service(Operation::UpdateItem, self.table, e)),
            }
            // Changed (or deleted) since the scan read it: read it again.
            match self
                .reread(&item, &b.type_attribute, &b.item, pacer)
                .await?
            {
                Some(fresh) => item = fresh,
                None => return Ok(false),
            }
        }
        Err(Error::config(format!(
            "backfill of `{}` in `{}`: an item changed on each of {ATTEMPTS} attempts to update it",
            b.item, self.table
        )))
    }
}

/// The attributes the templates read, each once.
fn sources(b: &Backfill) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for t in b.templates() {
        for name in t.fields() {
            if let Some(field) = b.field(name)
                && !out.contains(&&*field.attribute)
            {
                out.push(&field.attribute);
            }
        }
    }
    out
}

/// A stored value as the Rust value generated code renders.
fn stored(format: FieldFormat, value: AttributeValue) -> Result<Box<dyn KeyPart>, DecodeErrorKind> {
    Ok(match format {
        FieldFormat::Text => Box::new(String::from_attribute(value)?),
        FieldFormat::Signed => Box::new(i64::from_attribute(value)?),
        FieldFormat::Unsigned => Box::new(u64::from_attribute(value)?),
        FieldFormat::Number => Box::new(Number::from_attribute(value)?),
        FieldFormat::Float => Box::new(f64::from_attribute(value)?),
        FieldFormat::Bool => Box::new(bool::from_attribute(value)?),
        FieldFormat::Timestamp => Box::new(Timestamp::from_attribute(value)?),
        FieldFormat::EpochSeconds => Box::new(attr::from_epoch_seconds(value)?),
        FieldFormat::EpochMillis => Box::new(attr::from_epoch_millis(value)?),
    })
}

/// Renders each template of `b` from `item`. A template with a field the
/// item does not have is left out, as generated code leaves out sparse
/// index keys.
pub(crate) fn render(b: &Backfill, item: &Attributes) -> Result<Vec<(String, String)>> {
    let refused = |attribute: &str, field: &str, problem: String| -> Error {
        MigrateError::Render {
            item: b.item.to_string(),
            attribute: attribute.to_owned(),
            field: field.to_owned(),
            problem,
        }
        .into()
    };
    let mut out = Vec::new();
    'templates: for t in b.set.iter() {
        let fields = pieces(&t.text)
            .flatten()
            .filter(|(_, p)| matches!(p, Piece::Field { .. }))
            .count();
        let separator = (fields > 1).then_some(&*b.separator);
        let mut text = String::new();
        for piece in pieces(&t.text) {
            let (_, piece) = piece.map_err(|e| refused(&t.attribute, "", e.message))?;
            let (name, width) = match piece {
                Piece::Literal(literal) => {
                    text.push_str(literal);
                    continue;
                }
                Piece::Field { name, width, .. } => (name, width),
            };
            let Some(field) = b.field(name) else {
                return Err(refused(&t.attribute, name, "no such field".to_owned()));
            };
            let value = match item.get(&*field.attribute) {
                None | Some(AttributeValue::Null(_)) => continue 'templates,
                Some(value) => stored(field.format, value.clone()).map_err(|kind| {
                    refused(
                        &t.attribute,
                        name,
                        format!("attribute `{}`: {kind}", field.attribute),
                    )
                })?,
            };
            write_value(&mut text, name, &*value, width, separator).map_err(|r| {
                let problem = match r.why {
                    Refusal::Empty => "the value is empty".to_owned(),
                    Refusal::Separator => {
                        format!("the value contains the key separator {:?}", b.separator)
                    }
                    Refusal::Unsortable => KeyErrorKind::Unsortable.to_string(),
                };
                refused(&t.attribute, name, problem)
            })?;
        }
        out.push((t.attribute.to_string(), text));
    }
    // Computed attributes: the stored values, rendered as generated code
    // renders them; left out when a field is missing, as generated code
    // leaves the attribute out.
    'computed: for t in b.computed.iter() {
        let mut values: Vec<Box<dyn KeyPart>> = Vec::new();
        for name in t.fields() {
            let Some(field) = b.field(name) else {
                return Err(refused(&t.attribute, name, "no such field".to_owned()));
            };
            match item.get(&*field.attribute) {
                None | Some(AttributeValue::Null(_)) => continue 'computed,
                Some(value) => {
                    values.push(stored(field.format, value.clone()).map_err(|kind| {
                        refused(
                            &t.attribute,
                            name,
                            format!("attribute `{}`: {kind}", field.attribute),
                        )
                    })?)
                }
            }
        }
        let values: Vec<&dyn KeyPart> = values.iter().map(|v| &**v).collect();
        out.push((
            t.attribute.to_string(),
            crate::key::compute(&t.text, &values),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    use crate::model::{Template, TemplateField, text};

    const BACKFILL: Backfill = Backfill {
        table: text("shop"),
        item: text("Order"),
        type_attribute: text("_type"),
        separator: text("#"),
        fields: Cow::Borrowed(&[
            TemplateField::new("status", "status", FieldFormat::Text),
            TemplateField::new("n", "n", FieldFormat::Unsigned),
            TemplateField::new("at", "at", FieldFormat::EpochSeconds),
        ]),
        set: Cow::Borrowed(&[
            Template::new("gsi2pk", "STATUS#{status}"),
            Template::new("gsi2sk", "{n:06}#{at}"),
        ]),
        computed: Cow::Borrowed(&[]),
    };

    fn item(pairs: &[(&str, AttributeValue)]) -> Attributes {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn renders_like_generated_keys() {
        let rendered = render(
            &BACKFILL,
            &item(&[
                ("status", AttributeValue::S("paid".into())),
                ("n", AttributeValue::N("42".into())),
                ("at", AttributeValue::N("0".into())),
            ]),
        )
        .unwrap();
        assert_eq!(
            rendered,
            vec![
                ("gsi2pk".to_owned(), "STATUS#paid".to_owned()),
                (
                    "gsi2sk".to_owned(),
                    "000042#1970-01-01T00:00:00.000000000Z".to_owned()
                )
            ]
        );
    }

    #[test]
    fn skips_templates_with_missing_fields_and_types_bad_values() {
        let only_status = item(&[("status", AttributeValue::S("paid".into()))]);
        assert_eq!(
            render(&BACKFILL, &only_status).unwrap(),
            vec![("gsi2pk".to_owned(), "STATUS#paid".to_owned())]
        );
        let wrong = item(&[("status", AttributeValue::N("1".into()))]);
        let err = render(&BACKFILL, &wrong).unwrap_err();
        assert!(
            matches!(&err, Error::Migrate(MigrateError::Render { item, field, .. }) if item == "Order" && field == "status"),
            "{err}"
        );
        let empty = item(&[("status", AttributeValue::S(String::new()))]);
        let err = render(&BACKFILL, &empty).unwrap_err();
        assert!(err.to_string().contains("the value is empty"), "{err}");
    }

    #[test]
    fn computed_attributes_render_as_generated_code_renders_them() {
        const COMPUTED: &[Template] = &[
            Template::new("search", "{status:upper} {n:04}#{status}"),
            Template::new("empty", "{status:lower}"),
        ];
        let b = Backfill {
            set: Cow::Borrowed(&[]),
            computed: Cow::Borrowed(COMPUTED),
            ..BACKFILL
        };
        // No key rules: the separator and an empty value are fine.
        let rendered = render(
            &b,
            &item(&[
                ("status", AttributeValue::S("Pä#d".into())),
                ("n", AttributeValue::N("7".into())),
            ]),
        )
        .unwrap();
        assert_eq!(
            rendered,
            vec![
                ("search".to_owned(), "PÄ#D 0007#Pä#d".to_owned()),
                ("empty".to_owned(), "pä#d".to_owned()),
            ]
        );
        let (status, n) = ("Pä#d", 7u32);
        let values: [&dyn KeyPart; 2] = [&status, &n];
        assert_eq!(
            crate::key::compute("{status:upper} {n:04}#{status}", &values),
            rendered[0].1
        );
        // A missing field leaves the attribute out.
        let rendered = render(&b, &item(&[("n", AttributeValue::N("7".into()))])).unwrap();
        assert!(rendered.is_empty(), "{rendered:?}");
    }
}
