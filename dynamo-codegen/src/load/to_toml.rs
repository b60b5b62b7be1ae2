//! Writing schema and migration files: the model turned into the raw
//! structs the loader reads files into, serialized by `toml`. What
//! `migration new` and `pull` write is, by construction, what the loader
//! reads back.

use std::collections::BTreeMap;

use super::{
    RawAddIndex, RawBackfill, RawBilling, RawCreateTable, RawIndex, RawIndexRef, RawKeyAttribute,
    RawMigration, RawProjection, RawSchema, RawStep, RawTable, RawTableRef, RawThroughput,
    RawTypeAttribute, RawUpdateBilling, RawUpdateStream, RawUpdateTtl, Sp,
};
use crate::{
    Error,
    ir::{
        Billing, IndexDef, IndexKind, KeyAttributeDef, KeyType, Projection, Step, StreamView,
        TableDef,
    },
};

fn sp<T>(value: T) -> Sp<T> {
    Sp::new(0..0, value)
}

fn text(value: &str) -> Sp<String> {
    sp(value.to_owned())
}

fn key(key: &KeyAttributeDef) -> Sp<RawKeyAttribute> {
    sp(RawKeyAttribute {
        name: text(&key.name),
        ty: (key.ty != KeyType::S).then(|| text(key.ty.name())),
    })
}

/// Billing as files write it; on demand (the default) is left out.
fn billing(billing: &Billing) -> Option<Sp<RawBilling>> {
    match billing {
        Billing::OnDemand => None,
        Billing::Provisioned(t) => Some(sp(RawBilling::Provisioned(RawThroughput {
            read: sp(i64::try_from(t.read).unwrap_or(i64::MAX)),
            write: sp(i64::try_from(t.write).unwrap_or(i64::MAX)),
        }))),
    }
}

/// A projection, written out even when it is the default (`all`): a
/// migration under review says what the index stores.
fn projection(projection: &Projection) -> Option<Sp<RawProjection>> {
    Some(sp(match projection {
        Projection::All => RawProjection::Name(text("all")),
        Projection::KeysOnly => RawProjection::Name(text("keys_only")),
        Projection::Include(names) => {
            RawProjection::Include(names.iter().map(|n| text(n)).collect())
        }
    }))
}

fn index(index: &IndexDef) -> RawIndex {
    let local = index.kind == IndexKind::Local;
    let (read, write) = match index.throughput {
        Some(t) => (
            Some(sp(i64::try_from(t.read).unwrap_or(i64::MAX))),
            Some(sp(i64::try_from(t.write).unwrap_or(i64::MAX))),
        ),
        None => (None, None),
    };
    RawIndex {
        local: local.then(|| sp(true)),
        partition_key: (!local).then(|| key(&index.partition_key)),
        sort_key: index.sort_key.as_ref().map(key),
        projection: projection(&index.projection),
        read,
        write,
    }
}

fn indexes(def: &TableDef) -> BTreeMap<Sp<String>, Sp<RawIndex>> {
    def.indexes
        .iter()
        .map(|i| (text(&i.name), sp(index(i))))
        .collect()
}

fn step(step: &Step) -> RawStep {
    match step {
        Step::CreateTable(def) => RawStep::CreateTable(RawCreateTable {
            table: text(&def.name),
            partition_key: key(&def.partition_key),
            sort_key: def.sort_key.as_ref().map(key),
            billing: billing(&def.billing),
            ttl: def.ttl.as_deref().map(text),
            stream: def.stream.map(|s| text(s.name())),
            index: indexes(def),
        }),
        Step::DeleteTable { table } => RawStep::DeleteTable(RawTableRef { table: text(table) }),
        Step::AddIndex {
            table,
            index: i,
            type_attribute: _,
        } => {
            let raw = index(i);
            RawStep::AddIndex(RawAddIndex {
                table: text(table),
                index: text(&i.name),
                local: None,
                partition_key: raw.partition_key,
                sort_key: raw.sort_key,
                projection: raw.projection,
                read: raw.read,
                write: raw.write,
            })
        }
        Step::RemoveIndex { table, index } => RawStep::RemoveIndex(RawIndexRef {
            table: text(table),
            index: text(index),
        }),
        Step::UpdateTtl {
            table,
            attribute,
            enabled,
        } => RawStep::UpdateTtl(RawUpdateTtl {
            table: text(table),
            attribute: text(attribute),
            enabled: (!enabled).then(|| sp(false)),
        }),
        Step::UpdateStream { table, stream } => RawStep::UpdateStream(RawUpdateStream {
            table: text(table),
            stream: text(stream.map_or("disabled", StreamView::name)),
        }),
        Step::UpdateBilling { table, billing: b } => RawStep::UpdateBilling(RawUpdateBilling {
            table: text(table),
            billing: billing(b).unwrap_or_else(|| sp(RawBilling::Mode(text("on_demand")))),
        }),
        Step::Backfill(b) => RawStep::Backfill(RawBackfill {
            table: text(&b.table),
            item: text(&b.item),
            set: sp(b
                .set
                .iter()
                .map(|t| (text(&t.attribute), text(&t.text)))
                .collect()),
        }),
    }
}

fn write<T: serde::Serialize>(raw: &T) -> Result<String, Error> {
    toml::to_string(raw).map_err(|e| Error::Internal(format!("cannot write TOML: {e}")))
}

/// The text of a migration file with `description` and `steps`.
pub fn migration(description: &str, steps: &[Step]) -> Result<String, Error> {
    write(&RawMigration {
        description: Some(text(description)),
        step: steps.iter().map(|s| sp(self::step(s))).collect(),
    })
}

/// The text of a schema file holding `def`'s `[table]` and `[index.X]`
/// sections (item types are the user's to add).
pub fn table(def: &TableDef) -> Result<String, Error> {
    write(&RawSchema {
        table: Some(sp(RawTable {
            name: text(&def.name),
            partition_key: key(&def.partition_key),
            sort_key: def.sort_key.as_ref().map(key),
            billing: billing(&def.billing),
            ttl: def.ttl.as_deref().map(text),
            stream: def.stream.map(|s| text(s.name())),
            type_attribute: match &*def.type_attribute {
                "" => Some(sp(RawTypeAttribute::Enabled(false))),
                TableDef::TYPE_ATTRIBUTE => None,
                name => Some(sp(RawTypeAttribute::Name(name.to_owned()))),
            },
            key_separator: (def.key_separator != TableDef::KEY_SEPARATOR)
                .then(|| text(&def.key_separator)),
            keep_unmodeled: None,
        })),
        index: indexes(def),
        ..RawSchema::default()
    })
}
