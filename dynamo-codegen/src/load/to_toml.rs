//! Writing schema and migration files: the model turned into the raw
//! structs the loader reads files into, serialized by `toml`. What
//! `migration new` and `pull` write is, by construction, what the loader
//! reads back.

use std::collections::BTreeMap;

use super::{
    RawAddIndex, RawAttributeRef, RawBackfill, RawBilling, RawCreateTable, RawDefineItem, RawIndex,
    RawIndexKey, RawIndexRef, RawItemRef, RawKeyAttribute, RawMapValues, RawMigration,
    RawProjection, RawRenameAttribute, RawRenameItem, RawSchema, RawStateField, RawStep, RawTable,
    RawTableRef, RawThroughput, RawTransform, RawTypeAttribute, RawUpdateBilling,
    RawUpdateProtection, RawUpdateStream, RawUpdateTtl, RawWriteDefault, Sp, StateField,
};
use crate::ir::{Backfill, Edit, ItemDef, Literal};
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

/// An index key as files write it: one attribute, or the list of a
/// multi-attribute key; `None` for no attribute.
fn index_key(keys: &[KeyAttributeDef]) -> Option<Sp<RawIndexKey>> {
    match keys {
        [] => None,
        [one] => Some(sp(RawIndexKey::One(key(one).get().clone()))),
        many => Some(sp(RawIndexKey::Many(many.iter().map(key).collect()))),
    }
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
        partition_key: (!local).then(|| index_key(&index.partition_key)).flatten(),
        sort_key: index_key(&index.sort_key),
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
            point_in_time_recovery: def.point_in_time_recovery.then(|| sp(true)),
            deletion_protection: def.deletion_protection.then(|| sp(true)),
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
        Step::UpdateProtection {
            table,
            point_in_time_recovery,
            deletion_protection,
        } => RawStep::UpdateProtection(RawUpdateProtection {
            table: text(table),
            point_in_time_recovery: point_in_time_recovery.map(sp),
            deletion_protection: deletion_protection.map(sp),
        }),
        Step::Backfill(b) => RawStep::Backfill(backfill(b)),
        Step::DefineItem(item) => RawStep::DefineItem(define_item(item)),
        Step::DropItem { table, item } => RawStep::DropItem(RawItemRef {
            table: text(table),
            item: text(item),
        }),
        Step::Rewrite(r) => {
            let (table, item) = (text(&r.table), text(&r.item));
            match &r.edit {
                Edit::RenameAttribute { from, to } => {
                    RawStep::RenameAttribute(RawRenameAttribute {
                        table,
                        item,
                        from: text(from),
                        to: text(to),
                    })
                }
                Edit::MapValues { attribute, map } => RawStep::MapValues(RawMapValues {
                    table,
                    item,
                    attribute: text(attribute),
                    map: sp(map.iter().map(|(o, n)| (text(o), text(n))).collect()),
                }),
                Edit::WriteDefault { attribute, value } => RawStep::WriteDefault(RawWriteDefault {
                    table,
                    item,
                    attribute: text(attribute),
                    value: sp(match value {
                        Literal::Text(t) => toml::Value::String(t.to_string()),
                        Literal::Bool(b) => toml::Value::Boolean(*b),
                        Literal::Number(n) => n
                            .parse::<i64>()
                            .map(toml::Value::Integer)
                            .or_else(|_| n.parse::<f64>().map(toml::Value::Float))
                            .unwrap_or_else(|_| toml::Value::String(n.to_string())),
                    }),
                }),
                Edit::RemoveAttribute { attribute } => RawStep::RemoveAttribute(RawAttributeRef {
                    table,
                    item,
                    attribute: text(attribute),
                }),
                Edit::RenameItem { to } => RawStep::RenameItem(RawRenameItem {
                    table,
                    from: item,
                    to: text(to),
                }),
                Edit::RewriteKeys(b) => RawStep::RewriteKeys(backfill(b)),
                Edit::Transform { function, .. } => RawStep::Transform(RawTransform {
                    table,
                    item,
                    function: text(function),
                }),
            }
        }
    }
}

fn backfill(b: &Backfill) -> RawBackfill {
    let templates = |list: &[dynamo_runtime::model::Template]| {
        sp(list
            .iter()
            .map(|t| (text(&t.attribute), text(&t.text)))
            .collect())
    };
    RawBackfill {
        table: text(&b.table),
        item: text(&b.item),
        set: templates(&b.set),
        computed: (!b.computed.is_empty()).then(|| templates(&b.computed)),
    }
}

/// A TOML value from its text (`"free"`, `3`, `[]`).
pub(crate) fn toml_value(text: &str) -> Option<toml::Value> {
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
}

fn define_item(item: &ItemDef) -> RawDefineItem {
    RawDefineItem {
        table: text(&item.table),
        item: text(&item.name),
        keys: item
            .keys
            .iter()
            .map(|k| (text(&k.attribute), text(&k.text)))
            .collect(),
        fields: item
            .fields
            .iter()
            .map(|f| {
                let field = RawStateField {
                    ty: text(&f.ty),
                    attribute: (f.attribute != f.name).then(|| text(&f.attribute)),
                    optional: f.optional.then(|| sp(true)),
                    default: f.default.as_deref().and_then(toml_value).map(sp),
                    values: (!f.values.is_empty())
                        .then(|| sp(f.values.iter().map(|v| text(v)).collect())),
                    format: f.format.as_deref().map(text),
                    computed: f.computed.as_deref().map(text),
                };
                (text(&f.name), sp(StateField(field)))
            })
            .collect(),
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
            point_in_time_recovery: def.point_in_time_recovery.then(|| sp(true)),
            deletion_protection: def.deletion_protection.then(|| sp(true)),
            type_attribute: match &*def.type_attribute {
                "" => Some(sp(RawTypeAttribute::Enabled(false))),
                TableDef::TYPE_ATTRIBUTE => None,
                name => Some(sp(RawTypeAttribute::Name(name.to_owned()))),
            },
            key_separator: (def.key_separator != TableDef::KEY_SEPARATOR)
                .then(|| text(&def.key_separator)),
            keep_unmodeled: None,
            serde: None,
            json_schema: None,
            attributes: None,
        })),
        index: indexes(def),
        ..RawSchema::default()
    })
}
