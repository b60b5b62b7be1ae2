//! The IR as the runtime's static data, for the CLI: what the generated
//! migrations module holds, built at run time. Strings and slices are
//! leaked: the CLI builds them once per process.

use dynamo_runtime::{
    Billing, IndexDef, IndexKind, KeyAttributeDef, KeyType, Projection, StreamView, TableDef,
    Throughput, migrate as rt,
};

use super::resolve::{self, FieldFormat, Part};
use crate::{Error, ir};

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

fn leak_all<T>(items: Vec<T>) -> &'static [T] {
    Box::leak(items.into_boxed_slice())
}

fn key(k: &ir::KeyAttribute) -> KeyAttributeDef {
    KeyAttributeDef {
        name: leak(&k.name),
        ty: match k.ty {
            ir::KeyType::S => KeyType::S,
            ir::KeyType::N => KeyType::N,
            ir::KeyType::B => KeyType::B,
        },
    }
}

fn throughput(t: &ir::Throughput) -> Throughput {
    Throughput {
        read: t.read,
        write: t.write,
    }
}

fn billing(b: &ir::Billing) -> Billing {
    match b {
        ir::Billing::OnDemand => Billing::OnDemand,
        ir::Billing::Provisioned(t) => Billing::Provisioned(throughput(t)),
    }
}

fn stream(s: ir::StreamView) -> StreamView {
    match s {
        ir::StreamView::KeysOnly => StreamView::KeysOnly,
        ir::StreamView::NewImage => StreamView::NewImage,
        ir::StreamView::OldImage => StreamView::OldImage,
        ir::StreamView::NewAndOldImages => StreamView::NewAndOldImages,
    }
}

fn index(i: &ir::Index) -> IndexDef {
    IndexDef {
        name: leak(&i.name),
        kind: match i.kind {
            ir::IndexKind::Global => IndexKind::Global,
            ir::IndexKind::Local => IndexKind::Local,
        },
        partition_key: key(&i.partition_key),
        sort_key: i.sort_key.as_ref().map(key),
        projection: match &i.projection {
            ir::Projection::All => Projection::All,
            ir::Projection::KeysOnly => Projection::KeysOnly,
            ir::Projection::Include(names) => {
                Projection::Include(leak_all(names.iter().map(|n| leak(n)).collect()))
            }
        },
        throughput: i.throughput.as_ref().map(throughput),
    }
}

/// A table as the runtime describes it.
pub fn table_def(def: &ir::TableDef, type_attribute: &str) -> TableDef {
    TableDef {
        name: leak(&def.name),
        partition_key: key(&def.partition_key),
        sort_key: def.sort_key.as_ref().map(key),
        type_attribute: leak(type_attribute),
        billing: billing(&def.billing),
        ttl: def.ttl.as_deref().map(leak),
        stream: def.stream.map(stream),
        indexes: leak_all(def.indexes.iter().map(index).collect()),
    }
}

fn format(f: FieldFormat) -> rt::FieldFormat {
    match f {
        FieldFormat::Text => rt::FieldFormat::Text,
        FieldFormat::Signed => rt::FieldFormat::Signed,
        FieldFormat::Unsigned => rt::FieldFormat::Unsigned,
        FieldFormat::Number => rt::FieldFormat::Number,
        FieldFormat::Float => rt::FieldFormat::Float,
        FieldFormat::Bool => rt::FieldFormat::Bool,
        FieldFormat::Timestamp => rt::FieldFormat::Timestamp,
        FieldFormat::EpochSeconds => rt::FieldFormat::EpochSeconds,
        FieldFormat::EpochMillis => rt::FieldFormat::EpochMillis,
    }
}

fn step(schema: &ir::Schema, step: &ir::Step) -> Result<rt::Step, Error> {
    Ok(match step {
        ir::Step::CreateTable(def) => {
            rt::Step::CreateTable(table_def(def, resolve::type_attribute(schema, &def.name)))
        }
        ir::Step::DeleteTable { table } => rt::Step::DeleteTable { table: leak(table) },
        ir::Step::AddIndex { table, index: i } => rt::Step::AddIndex {
            table: leak(table),
            index: index(i),
            type_attribute: leak(resolve::type_attribute(schema, table)),
        },
        ir::Step::RemoveIndex { table, index } => rt::Step::RemoveIndex {
            table: leak(table),
            index: leak(index),
        },
        ir::Step::UpdateTtl {
            table,
            attribute,
            enabled,
        } => rt::Step::UpdateTtl {
            table: leak(table),
            attribute: leak(attribute),
            enabled: *enabled,
        },
        ir::Step::UpdateStream { table, stream: s } => rt::Step::UpdateStream {
            table: leak(table),
            stream: s.map(stream),
        },
        ir::Step::UpdateBilling { table, billing: b } => rt::Step::UpdateBilling {
            table: leak(table),
            billing: billing(b),
        },
        ir::Step::Backfill { table, item, set } => {
            let templates = resolve::backfill(schema, table, item, set)?
                .into_iter()
                .map(|t| rt::Template {
                    attribute: leak(t.attribute),
                    text: leak(t.text),
                    separator: t.separator.map(leak),
                    parts: leak_all(
                        t.parts
                            .iter()
                            .map(|p| match p {
                                Part::Literal(text) => rt::TemplatePart::Literal(leak(text)),
                                Part::Field {
                                    field,
                                    attribute,
                                    format: f,
                                    width,
                                } => rt::TemplatePart::Field {
                                    field: leak(field),
                                    attribute: leak(attribute),
                                    format: format(*f),
                                    width: *width,
                                },
                            })
                            .collect(),
                    ),
                })
                .collect();
            rt::Step::Backfill(rt::Backfill {
                table: leak(table),
                item: leak(item),
                type_attribute: leak(resolve::type_attribute(schema, table)),
                set: leak_all(templates),
            })
        }
    })
}

/// Every migration of `schema`, as the generated `MIGRATIONS` holds them.
pub fn migrations(schema: &ir::Schema) -> Result<&'static [rt::Migration], Error> {
    let mut out = Vec::new();
    for m in &schema.migrations {
        let steps = m
            .steps
            .iter()
            .map(|s| step(schema, s))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(rt::Migration {
            number: m.number,
            name: leak(&m.file),
            description: m.description.as_deref().map(leak),
            checksum: leak(&m.checksum()),
            steps: leak_all(steps),
        });
    }
    Ok(leak_all(out))
}
