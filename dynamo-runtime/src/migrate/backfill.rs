//! Backfills: scan the items of one type, render attributes from their
//! stored fields with the rules generated code uses ([`KeyWriter`],
//! [`KeyPart`](crate::key::KeyPart)), and write what differs with
//! conditional updates, at a bounded rate, checkpointing after each page.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    Backfill, Event, FieldFormat, Migration, Migrator, TemplatePart,
    live::LiveTable,
    tracking::{Checkpoint, Lease, Tracking, is_condition_failure},
};
use crate::{
    Attribute, Attributes, DecodeError, DecodeErrorKind, Error, KeyError, Number, Result,
    Timestamp, attr,
    key::{KeyPart, KeyWriter},
};

/// Items read per scan page, and so between checkpoints.
const PAGE: i32 = 25;
/// Attempts at one item whose fields keep changing under the backfill.
const ATTEMPTS: usize = 5;

/// One backfill step of one run.
pub(crate) struct Cx<'m, 'a> {
    pub migrator: &'m Migrator<'a>,
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
        b: &Backfill,
        resume: Option<&Checkpoint>,
        lease: &mut Lease<'a>,
    ) -> Result<()> {
        let db = self.migrator.db;
        let live = LiveTable::describe(db, self.table)
            .await?
            .ok_or_else(|| super::gone(self.table))?;
        let mut checkpoint = resume.cloned().unwrap_or(Checkpoint {
            step: self.step,
            key: None,
            scanned: 0,
            updated: 0,
        });
        if resume.is_some() {
            tracing::info!(
                item = b.item,
                scanned = checkpoint.scanned,
                "resuming a backfill from its checkpoint"
            );
        }
        let mut pacer = Pacer::new(self.migrator.backfill_rate);
        loop {
            let out = db
                .client()
                .scan()
                .table_name(self.table)
                .consistent_read(true)
                .limit(PAGE)
                .filter_expression("#type = :type")
                .expression_attribute_names("#type", b.type_attribute)
                .expression_attribute_values(":type", AttributeValue::S(b.item.to_owned()))
                .set_exclusive_start_key(checkpoint.key.take())
                .send()
                .await
                .map_err(|e| Error::service("Scan", self.table, e))?;
            for item in out.items() {
                checkpoint.scanned += 1;
                if self.write(b, item.clone(), &live.keys, &mut pacer).await? {
                    checkpoint.updated += 1;
                }
                lease.renew().await?;
            }
            checkpoint.key = out.last_evaluated_key().filter(|k| !k.is_empty()).cloned();
            self.tracking
                .checkpoint(self.migration, &checkpoint)
                .await?;
            self.migrator.emit(Event::Backfill {
                item: b.item,
                scanned: checkpoint.scanned,
                updated: checkpoint.updated,
                estimated_total: live.item_count,
            });
            if checkpoint.key.is_none() {
                return Ok(());
            }
        }
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
        let db = self.migrator.db;
        for _ in 0..ATTEMPTS {
            let changes: Vec<(&str, String)> = render(b, &item)?
                .into_iter()
                .filter(|(attribute, value)| {
                    !matches!(item.get(*attribute), Some(AttributeValue::S(s)) if s == value)
                })
                .collect();
            if changes.is_empty() {
                return Ok(false);
            }
            let key: Attributes = keys
                .iter()
                .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
                .collect();
            let mut names = HashMap::from([("#type".to_owned(), b.type_attribute.to_owned())]);
            let mut values =
                HashMap::from([(":type".to_owned(), AttributeValue::S(b.item.into()))]);
            let mut sets = Vec::new();
            for (i, (attribute, value)) in changes.into_iter().enumerate() {
                names.insert(format!("#s{i}"), attribute.to_owned());
                values.insert(format!(":s{i}"), AttributeValue::S(value));
                sets.push(format!("#s{i} = :s{i}"));
            }
            let mut conditions = vec!["#type = :type".to_owned()];
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
                Err(e) => return Err(Error::service("UpdateItem", self.table, e)),
            }
            // Changed (or deleted) since the scan read it: read it again.
            let fresh = db
                .client()
                .get_item()
                .table_name(self.table)
                .set_key(Some(key))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| Error::service("GetItem", self.table, e))?;
            match fresh.item {
                Some(fresh) if matches!(fresh.get(b.type_attribute), Some(AttributeValue::S(t)) if t == b.item) =>
                {
                    item = fresh;
                }
                _ => return Ok(false),
            }
        }
        Err(Error::config(format!(
            "backfill of `{}` in `{}`: an item changed on each of {ATTEMPTS} attempts to update it",
            b.item, self.table
        )))
    }
}

/// The attributes the templates read, each once.
fn sources(b: &Backfill) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for t in b.set {
        for part in t.parts {
            if let TemplatePart::Field { attribute, .. } = part
                && !out.contains(attribute)
            {
                out.push(attribute);
            }
        }
    }
    out
}

/// Why a stored value could not be rendered.
enum Rendering {
    Decode(DecodeErrorKind),
    Key(KeyError),
}

/// Appends a decoded field value to `w`.
fn put<T: KeyPart>(
    w: &mut KeyWriter,
    field: &'static str,
    width: Option<usize>,
    value: std::result::Result<T, DecodeErrorKind>,
) -> std::result::Result<(), Rendering> {
    let value = value.map_err(Rendering::Decode)?;
    w.field(field, &value, width).map_err(Rendering::Key)?;
    Ok(())
}

/// Renders each template of `b` from `item`. A template with a field the
/// item does not have is left out, as generated code leaves out sparse
/// index keys.
pub(crate) fn render(b: &Backfill, item: &Attributes) -> Result<Vec<(&'static str, String)>> {
    let mut out = Vec::new();
    'templates: for t in b.set {
        let mut w = KeyWriter::new(b.item, t.attribute, t.separator, 32);
        for part in t.parts {
            match *part {
                TemplatePart::Literal(text) => {
                    w.literal(text);
                }
                TemplatePart::Field {
                    field,
                    attribute,
                    format,
                    width,
                } => match item.get(attribute) {
                    None | Some(AttributeValue::Null(_)) => continue 'templates,
                    Some(value) => {
                        let value = value.clone();
                        let written = match format {
                            FieldFormat::Text => {
                                put(&mut w, field, width, String::from_attribute(value))
                            }
                            FieldFormat::Signed => {
                                put(&mut w, field, width, i64::from_attribute(value))
                            }
                            FieldFormat::Unsigned => {
                                put(&mut w, field, width, u64::from_attribute(value))
                            }
                            FieldFormat::Number => {
                                put(&mut w, field, width, Number::from_attribute(value))
                            }
                            FieldFormat::Float => {
                                put(&mut w, field, width, f64::from_attribute(value))
                            }
                            FieldFormat::Bool => {
                                put(&mut w, field, width, bool::from_attribute(value))
                            }
                            FieldFormat::Timestamp => {
                                put(&mut w, field, width, Timestamp::from_attribute(value))
                            }
                            FieldFormat::EpochSeconds => {
                                put(&mut w, field, width, attr::from_epoch_seconds(value))
                            }
                            FieldFormat::EpochMillis => {
                                put(&mut w, field, width, attr::from_epoch_millis(value))
                            }
                        };
                        match written {
                            Ok(()) => {}
                            Err(Rendering::Decode(kind)) => {
                                return Err(DecodeError {
                                    item_type: b.item,
                                    attribute: attribute.to_owned(),
                                    kind,
                                }
                                .into());
                            }
                            Err(Rendering::Key(e)) => return Err(e.into()),
                        }
                    }
                },
            }
        }
        out.push((t.attribute, w.finish()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::Template;

    const BACKFILL: Backfill = Backfill {
        table: "shop",
        item: "Order",
        type_attribute: "_type",
        set: &[
            Template {
                attribute: "gsi2pk",
                text: "STATUS#{status}",
                separator: None,
                parts: &[
                    TemplatePart::Literal("STATUS#"),
                    TemplatePart::Field {
                        field: "status",
                        attribute: "status",
                        format: FieldFormat::Text,
                        width: None,
                    },
                ],
            },
            Template {
                attribute: "gsi2sk",
                text: "{n:6}#{at}",
                separator: Some("#"),
                parts: &[
                    TemplatePart::Field {
                        field: "n",
                        attribute: "n",
                        format: FieldFormat::Unsigned,
                        width: Some(6),
                    },
                    TemplatePart::Literal("#"),
                    TemplatePart::Field {
                        field: "at",
                        attribute: "at",
                        format: FieldFormat::EpochSeconds,
                        width: None,
                    },
                ],
            },
        ],
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
                ("gsi2pk", "STATUS#paid".to_owned()),
                ("gsi2sk", "000042#1970-01-01T00:00:00.000000000Z".to_owned())
            ]
        );
    }

    #[test]
    fn skips_templates_with_missing_fields_and_types_bad_values() {
        let only_status = item(&[("status", AttributeValue::S("paid".into()))]);
        assert_eq!(
            render(&BACKFILL, &only_status).unwrap(),
            vec![("gsi2pk", "STATUS#paid".to_owned())]
        );
        let wrong = item(&[("status", AttributeValue::N("1".into()))]);
        let err = render(&BACKFILL, &wrong).unwrap_err();
        assert!(
            matches!(&err, Error::Decode(d) if d.item_type == "Order" && d.attribute == "status"),
            "{err}"
        );
        let empty = item(&[("status", AttributeValue::S(String::new()))]);
        assert!(matches!(render(&BACKFILL, &empty), Err(Error::Key(_))));
    }
}
