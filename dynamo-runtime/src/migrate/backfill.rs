//! Backfills: scan the items of one type, render attributes from their
//! stored fields with the rules generated code uses (the same template
//! parser and [`KeyPart`] rendering), and write what differs with
//! conditional updates, at a bounded rate, checkpointing after each page.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    Event, MigrateError, Migration, rewrite,
    error::gone,
    events::Events,
    live::LiveTable,
    tracking::{Checkpoint, Lease, Tracking, is_condition_failure},
};
use crate::{
    Attribute, Attributes, Db, DecodeErrorKind, Error, KeyErrorKind, KeyPart, Number, Operation,
    Result, Timestamp,
    attr,
    key::{Refusal, write_value},
    model::{
        Backfill, FieldFormat, Rewrite,
        template::{Piece, pieces},
    },
};

/// Items read per scan page, and so between checkpoints.
const PAGE: i32 = 25;
/// Attempts at one item whose fields keep changing under the backfill.
const ATTEMPTS: usize = 5;

/// What a scan over the items of one type does to each.
#[derive(Clone, Copy)]
pub(crate) enum Work<'s> {
    Backfill(&'s Backfill),
    Rewrite(&'s Rewrite),
}

/// One backfill step of one run.
pub(crate) struct Cx<'m, 'a> {
    pub db: &'a Db,
    /// The functions of `transform` steps, by path.
    pub transforms: &'m [(&'static str, super::TransformFn)],
    /// At most this many writes per second.
    pub pace: Option<u32>,
    pub events: &'m Events,
    pub migration: &'a Migration,
    pub step: usize,
    pub table: &'m str,
    pub tracking: &'m Tracking<'a>,
}

/// Spaces writes to at most `rate` per second.
struct Pacer {
    interval: Option<Duration>,
    next: Instant,
}

impl Pacer {
    fn new(rate: Option<u32>) -> Pacer {
        Pacer {
            interval: rate.map(|r| Duration::from_secs(1) / r),
            next: Instant::now(),
        }
    }

    async fn wait(&mut self) {
        let Some(interval) = self.interval else {
            return;
        };
        let now = Instant::now();
        if self.next > now {
            tokio::time::sleep(self.next - now).await;
        }
        self.next = self.next.max(now) + interval;
    }
}

impl<'a> Cx<'_, 'a> {
    pub(crate) async fn run(
        &self,
        work: Work<'_>,
        resume: Option<&Checkpoint>,
        lease: &mut Lease<'a>,
    ) -> Result<()> {
        let db = self.db;
        let live = LiveTable::describe(db, self.table)
            .await?
            .ok_or_else(|| gone(self.table))?;
        let mut checkpoint = resume.cloned().unwrap_or(Checkpoint {
            step: self.step,
            key: None,
            scanned: 0,
            updated: 0,
        });
        let (item_type, type_attribute) = match work {
            Work::Backfill(b) => (&b.item, &b.type_attribute),
            Work::Rewrite(r) => (&r.item, &r.type_attribute),
        };
        if resume.is_some() {
            tracing::info!(
                item = &**item_type,
                scanned = checkpoint.scanned,
                "resuming a backfill from its checkpoint"
            );
        }
        let mut pacer = Pacer::new(self.pace);
        loop {
            let request = db
                .client()
                .scan()
                .table_name(self.table)
                .consistent_read(true)
                .limit(PAGE);
            // A table without a type attribute holds only this item type.
            let request = if type_attribute.is_empty() {
                request
            } else {
                request
                    .filter_expression("#type = :type")
                    .expression_attribute_names("#type", &**type_attribute)
                    .expression_attribute_values(":type", AttributeValue::S(item_type.to_string()))
            };
            let out = request
                .set_exclusive_start_key(checkpoint.key.take())
                .send()
                .await
                .map_err(|e| Error::service(Operation::Scan, self.table, e))?;
            for item in out.items() {
                checkpoint.scanned += 1;
                let written = match work {
                    Work::Backfill(b) => self.write(b, item.clone(), &live.keys, &mut pacer).await?,
                    Work::Rewrite(r) => self.rewrite(r, item.clone(), &live.keys, &mut pacer).await?,
                };
                if written {
                    checkpoint.updated += 1;
                }
                lease.renew().await?;
            }
            checkpoint.key = out.last_evaluated_key().filter(|k| !k.is_empty()).cloned();
            self.tracking
                .checkpoint(self.migration, &checkpoint)
                .await?;
            self.events.emit(Event::Backfill {
                op: match work {
                    Work::Backfill(_) => "backfill",
                    Work::Rewrite(r) => r.edit_name(),
                },
                item: item_type.to_string(),
                scanned: checkpoint.scanned,
                updated: checkpoint.updated,
                estimated_total: live.item_count,
            });
            if checkpoint.key.is_none() {
                return Ok(());
            }
        }
    }

    /// Rewrites `item` as `r` says; `false` when it needs no change (or is
    /// gone). A write that finds the item changed since it was read reads
    /// it again, so a concurrent change is never overwritten.
    async fn rewrite(
        &self,
        r: &Rewrite,
        mut item: Attributes,
        keys: &[String],
        pacer: &mut Pacer,
    ) -> Result<bool> {
        for _ in 0..ATTEMPTS {
            let Some(write) = rewrite::plan(r, keys, &item, self.transforms)? else {
                return Ok(false);
            };
            pacer.wait().await;
            match rewrite::send(self.db, self.table, r, keys, &item, write).await? {
                rewrite::Sent::Written => return Ok(true),
                rewrite::Sent::Changed => {}
            }
            match self.reread(keys, &item, &r.type_attribute, &r.item).await? {
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
        keys: &[String],
        item: &Attributes,
        type_attribute: &str,
        item_type: &str,
    ) -> Result<Option<Attributes>> {
        let key: Attributes = keys
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
            .send()
            .await
            .map_err(|e| Error::service(Operation::GetItem, self.table, e))?;
        Ok(fresh.item.filter(|fresh| {
            type_attribute.is_empty()
                || matches!(fresh.get(type_attribute), Some(AttributeValue::S(t)) if t == item_type)
        }))
    }

    /// Writes the rendered attributes `item` lacks; `false` when it has
    /// them all (or is gone). The update is conditioned on the fields read,
    /// so a concurrent change is re-read, never overwritten.
    async fn write(
        &self,
        b: &Backfill,
        mut item: Attributes,
        keys: &[String],
        pacer: &mut Pacer,
    ) -> Result<bool> {
        let db = self.db;
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
            pacer.wait().await;
            let result = db
                .client()
                .update_item()
                .table_name(self.table)
                .set_key(Some(key.clone()))
                .update_expression(format!("SET {}", sets.join(", ")))
                .condition_expression(conditions.join(" AND "))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(true),
                Err(e) if is_condition_failure(&e) => {}
                Err(e) => return Err(Error::service(Operation::UpdateItem, self.table, e)),
            }
            // Changed (or deleted) since the scan read it: read it again.
            match self.reread(keys, &item, &b.type_attribute, &b.item).await? {
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
    for t in b.set.iter() {
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
                Piece::Field { name, width } => (name, width),
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
                    Refusal::Separator => format!(
                        "the value contains the key separator {:?}",
                        b.separator
                    ),
                    Refusal::Unsortable => KeyErrorKind::Unsortable.to_string(),
                };
                refused(&t.attribute, name, problem)
            })?;
        }
        out.push((t.attribute.to_string(), text));
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
                ("gsi2sk".to_owned(), "000042#1970-01-01T00:00:00.000000000Z".to_owned())
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
}
