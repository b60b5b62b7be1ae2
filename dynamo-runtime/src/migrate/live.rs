//! What a table looks like now (DescribeTable, DescribeTimeToLive), and the
//! calls a step still needs given that: the reason a crashed run resumes
//! where it stopped.

use aws_sdk_dynamodb::types::{
    BillingMode, IndexStatus, KeyType as SdkKeyType, PointInTimeRecoveryStatus, ProjectionType,
    ScalarAttributeType, TableDescription, TimeToLiveStatus,
};

use super::{MigrateError, Step, call::Call};
use crate::Operation;
use crate::{
    Billing, Db, Error, IndexDef, IndexKind, KeyAttributeDef, KeyType, Result, StreamView,
    TableDef, Throughput,
};

/// A table as DynamoDB describes it (DescribeTable and
/// DescribeTimeToLive).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LiveTable {
    /// `ACTIVE`, `CREATING`, `UPDATING`, ...
    pub status: String,
    /// Key attribute names, partition key first.
    pub keys: Vec<String>,
    /// The types of the key attributes of the table and its indexes.
    pub key_types: Vec<(String, KeyType)>,
    /// Global, then local indexes.
    pub indexes: Vec<LiveIndex>,
    /// The capacity mode.
    pub billing: Billing,
    /// The stream view, when the stream is on.
    pub stream: Option<StreamView>,
    /// The TTL attribute, when TTL is on (or being turned on).
    pub ttl: Option<String>,
    /// DynamoDB's estimate of the item count (updated every ~6 hours on AWS).
    pub item_count: Option<u64>,
    /// DynamoDB's estimate of the table's size in bytes (updated like the
    /// item count).
    pub size_bytes: Option<u64>,
    /// The most read and write request units per second an on-demand
    /// table may use, when its owner set them (`OnDemandThroughput`).
    pub on_demand_max: Option<Throughput>,
    /// Whether DynamoDB refuses to delete the table.
    pub deletion_protection: bool,
    /// Whether point-in-time recovery is on; `None` until
    /// [`read_point_in_time_recovery`](Self::read_point_in_time_recovery)
    /// (only steps about it read it, so a run needs no
    /// `DescribeContinuousBackups` permission otherwise), or when the
    /// endpoint has no continuous backups (DynamoDB Local).
    pub point_in_time_recovery: Option<bool>,
    /// Whether the endpoint answered that it has no continuous backups.
    pub(crate) no_backups: bool,
}

/// A secondary index as DynamoDB describes it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LiveIndex {
    /// Its name.
    pub name: String,
    /// Global (or local).
    pub global: bool,
    /// `ACTIVE`, `CREATING`, `DELETING`, ...
    pub status: String,
    /// Whether a new global index is still being filled.
    pub backfilling: bool,
    /// Key attribute names, partition key first.
    pub keys: Vec<String>,
    /// How many of `keys` are the partition key's (more than one: a
    /// multi-attribute key).
    pub partition_attributes: usize,
    /// What it stores.
    pub projection: LiveProjection,
    /// Its capacity on a provisioned table.
    pub throughput: Option<Throughput>,
}

/// An index's projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveProjection {
    /// Every attribute.
    All,
    /// Keys only.
    KeysOnly,
    /// Keys and these attributes.
    Include(Vec<String>),
}

fn live_projection(p: Option<&aws_sdk_dynamodb::types::Projection>) -> LiveProjection {
    match p.and_then(|p| p.projection_type()) {
        Some(ProjectionType::KeysOnly) => LiveProjection::KeysOnly,
        Some(ProjectionType::Include) => LiveProjection::Include(
            p.map(|p| p.non_key_attributes().to_vec())
                .unwrap_or_default(),
        ),
        _ => LiveProjection::All,
    }
}

fn throughput(read: Option<i64>, write: Option<i64>) -> Option<Throughput> {
    let units = |n: Option<i64>| n.unwrap_or(0).max(0).unsigned_abs();
    (units(read) > 0 || units(write) > 0).then(|| Throughput {
        read: units(read),
        write: units(write),
    })
}

fn key_names(keys: &[aws_sdk_dynamodb::types::KeySchemaElement]) -> Vec<String> {
    let mut keys: Vec<_> = keys.iter().collect();
    keys.sort_by_key(|k| *k.key_type() != SdkKeyType::Hash);
    keys.iter().map(|k| k.attribute_name().to_owned()).collect()
}

fn hash_count(keys: &[aws_sdk_dynamodb::types::KeySchemaElement]) -> usize {
    keys.iter()
        .filter(|k| *k.key_type() == SdkKeyType::Hash)
        .count()
}

fn def_keys<'k>(keys: impl Iterator<Item = &'k KeyAttributeDef>) -> Vec<String> {
    keys.map(|k| k.name.to_string()).collect()
}

impl LiveTable {
    /// Describes `table` (a physical name); `None` when it does not exist.
    pub async fn describe(db: &Db, table: &str) -> Result<Option<LiveTable>> {
        let out = match db.client().describe_table().table_name(table).send().await {
            Ok(out) => out,
            Err(e) => {
                return match aws_sdk_dynamodb::Error::from(e) {
                    aws_sdk_dynamodb::Error::ResourceNotFoundException(_) => Ok(None),
                    e => Err(Error::service(Operation::DescribeTable, table, e)),
                };
            }
        };
        let Some(t) = out.table() else {
            return Ok(None);
        };
        let ttl = match db
            .client()
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
        {
            Ok(out) => out.time_to_live_description().and_then(|d| {
                matches!(
                    d.time_to_live_status(),
                    Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
                )
                .then(|| d.attribute_name().map(str::to_owned))
                .flatten()
            }),
            Err(e) => match aws_sdk_dynamodb::Error::from(e) {
                aws_sdk_dynamodb::Error::ResourceNotFoundException(_) => return Ok(None),
                e => return Err(Error::service(Operation::DescribeTimeToLive, table, e)),
            },
        };
        Ok(Some(LiveTable::from_description(t, ttl)))
    }

    /// Reads whether point-in-time recovery is on (DescribeContinuousBackups)
    /// into [`point_in_time_recovery`](Self::point_in_time_recovery); an
    /// endpoint without continuous backups leaves it `None`.
    pub async fn read_point_in_time_recovery(&mut self, db: &Db, table: &str) -> Result<()> {
        let out = db
            .client()
            .describe_continuous_backups()
            .table_name(table)
            .send()
            .await;
        match out {
            Ok(out) => {
                self.point_in_time_recovery = Some(
                    out.continuous_backups_description()
                        .and_then(|d| d.point_in_time_recovery_description())
                        .and_then(|d| d.point_in_time_recovery_status())
                        .is_some_and(|s| *s == PointInTimeRecoveryStatus::Enabled),
                );
                Ok(())
            }
            Err(e) => {
                use aws_sdk_dynamodb::error::ProvideErrorMetadata;
                if e.code() == Some("UnknownOperationException") {
                    self.no_backups = true;
                    return Ok(());
                }
                Err(Error::service(
                    Operation::DescribeContinuousBackups,
                    table,
                    e,
                ))
            }
        }
    }

    fn from_description(t: &TableDescription, ttl: Option<String>) -> LiveTable {
        let mut indexes: Vec<LiveIndex> = t
            .global_secondary_indexes()
            .iter()
            .map(|i| LiveIndex {
                name: i.index_name().unwrap_or_default().to_owned(),
                global: true,
                status: i
                    .index_status()
                    .map_or("ACTIVE", IndexStatus::as_str)
                    .to_owned(),
                backfilling: i.backfilling() == Some(true),
                keys: key_names(i.key_schema()),
                partition_attributes: hash_count(i.key_schema()),
                projection: live_projection(i.projection()),
                throughput: i
                    .provisioned_throughput()
                    .and_then(|p| throughput(p.read_capacity_units(), p.write_capacity_units())),
            })
            .collect();
        indexes.extend(t.local_secondary_indexes().iter().map(|i| LiveIndex {
            name: i.index_name().unwrap_or_default().to_owned(),
            global: false,
            status: "ACTIVE".to_owned(),
            backfilling: false,
            keys: key_names(i.key_schema()),
            partition_attributes: hash_count(i.key_schema()),
            projection: live_projection(i.projection()),
            throughput: None,
        }));
        let on_demand = t
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .is_some_and(|m| *m == BillingMode::PayPerRequest);
        let billing = match t
            .provisioned_throughput()
            .and_then(|p| throughput(p.read_capacity_units(), p.write_capacity_units()))
        {
            Some(t) if !on_demand => Billing::Provisioned(t),
            _ => Billing::OnDemand,
        };
        let key_types = t
            .attribute_definitions()
            .iter()
            .map(|d| {
                let ty = match d.attribute_type() {
                    ScalarAttributeType::N => KeyType::N,
                    ScalarAttributeType::B => KeyType::B,
                    _ => KeyType::S,
                };
                (d.attribute_name().to_owned(), ty)
            })
            .collect();
        let stream = t
            .stream_specification()
            .filter(|s| s.stream_enabled())
            .and_then(|s| s.stream_view_type())
            .and_then(StreamView::from_sdk);
        LiveTable {
            status: t.table_status().map_or("ACTIVE", |s| s.as_str()).to_owned(),
            keys: key_names(t.key_schema()),
            key_types,
            indexes,
            billing,
            stream,
            ttl,
            item_count: t.item_count().and_then(|n| u64::try_from(n).ok()),
            size_bytes: t.table_size_bytes().and_then(|n| u64::try_from(n).ok()),
            on_demand_max: t
                .on_demand_throughput()
                .and_then(|o| throughput(o.max_read_request_units(), o.max_write_request_units())),
            deletion_protection: t.deletion_protection_enabled() == Some(true),
            point_in_time_recovery: None,
            no_backups: false,
        }
    }

    /// The table as a CreateTable of `def` leaves it.
    fn from_def(def: &TableDef) -> LiveTable {
        LiveTable {
            status: "ACTIVE".to_owned(),
            keys: def_keys(def.key()),
            key_types: Vec::new(),
            indexes: def.indexes.iter().map(LiveIndex::from_def).collect(),
            billing: def.billing,
            stream: def.stream,
            ttl: None,
            item_count: Some(0),
            size_bytes: Some(0),
            on_demand_max: None,
            deletion_protection: def.deletion_protection,
            point_in_time_recovery: Some(false),
            no_backups: false,
        }
    }

    /// The index named `name`.
    pub fn index(&self, name: &str) -> Option<&LiveIndex> {
        self.indexes.iter().find(|i| i.name == name)
    }

    /// What is not ACTIVE yet, e.g. `index by_status: CREATING
    /// (backfilling)`; `None` when everything is.
    pub fn not_ready(&self) -> Option<String> {
        if self.status != "ACTIVE" {
            return Some(self.status.clone());
        }
        self.indexes
            .iter()
            .find(|i| i.status != "ACTIVE" || i.backfilling)
            .map(|i| {
                format!(
                    "index {}: {}{}",
                    i.name,
                    i.status,
                    if i.backfilling { " (backfilling)" } else { "" }
                )
            })
    }
}

impl LiveIndex {
    fn from_def(index: &IndexDef) -> LiveIndex {
        LiveIndex {
            name: index.name.to_string(),
            global: index.kind == IndexKind::Global,
            status: "ACTIVE".to_owned(),
            backfilling: false,
            keys: def_keys(index.key()),
            partition_attributes: index.partition_key.len(),
            projection: match &index.projection {
                crate::Projection::All => LiveProjection::All,
                crate::Projection::KeysOnly => LiveProjection::KeysOnly,
                crate::Projection::Include(names) => {
                    LiveProjection::Include(names.iter().map(|n| n.to_string()).collect())
                }
            },
            throughput: index.throughput,
        }
    }
}

fn conflict(table: &str, problem: String) -> Error {
    MigrateError::Conflict {
        table: table.to_owned(),
        problem,
    }
    .into()
}

fn missing(table: &str, step: &Step) -> Error {
    conflict(
        table,
        format!(
            "does not exist, so step {} cannot run: did an earlier migration create it under \
             another namespace?",
            step.op()
        ),
    )
}

/// The calls `step` still needs on `table` (physical name), given its live
/// state. A backfill is always planned: it is resumable and writes nothing
/// an item already has.
pub(crate) fn plan(step: &Step, live: Option<&LiveTable>, table: &str) -> Result<Vec<Call>> {
    let table_owned = table.to_owned();
    let mut calls = Vec::new();
    match step {
        Step::CreateTable(def) => {
            let want = def_keys(def.key());
            match live {
                None => calls.push(Call::CreateTable {
                    table: table_owned.clone(),
                    def: def.clone(),
                }),
                Some(t) if t.keys != want => {
                    return Err(conflict(
                        table,
                        format!(
                            "already exists with key ({}), but the step creates it with key ({}): \
                             a key schema cannot change; delete the table or use another name",
                            t.keys.join(", "),
                            want.join(", ")
                        ),
                    ));
                }
                Some(_) => {}
            }
            if let Some(attribute) = &def.ttl
                && live.and_then(|t| t.ttl.as_deref()) != Some(&**attribute)
            {
                calls.push(Call::UpdateTtl {
                    table: table_owned.clone(),
                    attribute: attribute.to_string(),
                    enabled: true,
                });
            }
            if def.deletion_protection && live.is_some_and(|t| !t.deletion_protection) {
                calls.push(Call::DeletionProtection {
                    table: table_owned.clone(),
                    enabled: true,
                });
            }
            if def.point_in_time_recovery {
                calls.extend(match live {
                    Some(t) => pitr_call(t, &table_owned, true),
                    None => Some(Call::PointInTimeRecovery {
                        table: table_owned.clone(),
                        enabled: true,
                    }),
                });
            }
        }
        Step::DeleteTable { .. } => {
            if live.is_some() {
                calls.push(Call::DeleteTable { table: table_owned });
            }
        }
        Step::AddIndex {
            index,
            type_attribute,
            ..
        } => {
            let t = live.ok_or_else(|| missing(table, step))?;
            let want = def_keys(index.key());
            match t.index(&index.name) {
                Some(i) if i.keys != want => {
                    return Err(conflict(
                        table,
                        format!(
                            "already has an index `{}` with key ({}), but the step adds it with \
                             key ({}): remove the index first",
                            index.name,
                            i.keys.join(", "),
                            want.join(", ")
                        ),
                    ));
                }
                Some(_) => {}
                None => calls.push(Call::CreateIndex {
                    table: table_owned,
                    index: index.clone(),
                    type_attribute: type_attribute.to_string(),
                    throughput: match t.billing {
                        Billing::OnDemand => None,
                        Billing::Provisioned(table) => Some(index.throughput.unwrap_or(table)),
                    },
                }),
            }
        }
        Step::RemoveIndex { index, .. } => {
            let t = live.ok_or_else(|| missing(table, step))?;
            if let Some(i) = t.index(index) {
                if !i.global {
                    return Err(conflict(
                        table,
                        format!(
                            "cannot remove local index `{index}`: local indexes live as long as \
                             their table"
                        ),
                    ));
                }
                if i.status != "DELETING" {
                    calls.push(Call::DeleteIndex {
                        table: table_owned,
                        index: index.to_string(),
                    });
                }
            }
        }
        Step::UpdateTtl {
            attribute, enabled, ..
        } => {
            let t = live.ok_or_else(|| missing(table, step))?;
            match (t.ttl.as_deref(), *enabled) {
                (Some(current), true) if current == attribute => {}
                (Some(current), true) => {
                    // TTL is on for another attribute: DynamoDB needs it off
                    // first.
                    calls.push(Call::UpdateTtl {
                        table: table_owned.clone(),
                        attribute: current.to_owned(),
                        enabled: false,
                    });
                    calls.push(Call::UpdateTtl {
                        table: table_owned,
                        attribute: attribute.to_string(),
                        enabled: true,
                    });
                }
                (None, true) => calls.push(Call::UpdateTtl {
                    table: table_owned,
                    attribute: attribute.to_string(),
                    enabled: true,
                }),
                (Some(current), false) => calls.push(Call::UpdateTtl {
                    table: table_owned,
                    attribute: current.to_owned(),
                    enabled: false,
                }),
                (None, false) => {}
            }
        }
        Step::UpdateStream { stream, .. } => {
            let t = live.ok_or_else(|| missing(table, step))?;
            if t.stream != *stream {
                // A stream's view cannot change in place: off, then on.
                if t.stream.is_some() {
                    calls.push(Call::UpdateStream {
                        table: table_owned.clone(),
                        stream: None,
                    });
                }
                if stream.is_some() {
                    calls.push(Call::UpdateStream {
                        table: table_owned,
                        stream: *stream,
                    });
                }
            }
        }
        Step::UpdateProtection {
            point_in_time_recovery,
            deletion_protection,
            ..
        } => {
            let t = live.ok_or_else(|| missing(table, step))?;
            if let Some(enabled) = *deletion_protection
                && t.deletion_protection != enabled
            {
                calls.push(Call::DeletionProtection {
                    table: table_owned.clone(),
                    enabled,
                });
            }
            if let Some(enabled) = *point_in_time_recovery {
                calls.extend(pitr_call(t, &table_owned, enabled));
            }
        }
        Step::UpdateBilling { billing, .. } => {
            let t = live.ok_or_else(|| missing(table, step))?;
            if t.billing != *billing {
                calls.push(Call::UpdateBilling {
                    table: table_owned,
                    billing: *billing,
                    indexes: t
                        .indexes
                        .iter()
                        .filter(|i| i.global)
                        .map(|i| i.name.clone())
                        .collect(),
                });
            }
        }
        Step::Backfill(backfill) => {
            if live.is_none() {
                return Err(missing(table, step));
            }
            calls.push(Call::Backfill {
                table: table_owned,
                backfill: backfill.clone(),
            });
        }
        Step::Rewrite(rewrite) => {
            if live.is_none() {
                return Err(missing(table, step));
            }
            calls.push(Call::Rewrite {
                table: table_owned,
                rewrite: rewrite.clone(),
            });
        }
        Step::DefineItem(_) | Step::DropItem { .. } => {}
    }
    Ok(calls)
}

/// The call turning point-in-time recovery on or off, unless it already
/// is; on an endpoint without continuous backups (DynamoDB Local), a call
/// that says so rather than one that would fail.
fn pitr_call(t: &LiveTable, table: &str, enabled: bool) -> Option<Call> {
    match t.point_in_time_recovery {
        Some(now) if now == enabled => None,
        // Not read: the call is idempotent, and an endpoint without it
        // says so when it is sent.
        Some(_) | None if !t.no_backups => Some(Call::PointInTimeRecovery {
            table: table.to_owned(),
            enabled,
        }),
        _ => enabled.then(|| Call::Unsupported {
            table: table.to_owned(),
            what: "point-in-time recovery (the endpoint has no continuous backups, as \
                   DynamoDB Local has none; DynamoDB itself turns it on)",
        }),
    }
}

/// Whether planning `step` needs the table's point-in-time recovery
/// ([`LiveTable::read_point_in_time_recovery`]).
pub(crate) fn reads_backups(step: &Step) -> bool {
    match step {
        Step::CreateTable(def) => def.point_in_time_recovery,
        Step::UpdateProtection {
            point_in_time_recovery,
            ..
        } => point_in_time_recovery.is_some(),
        _ => false,
    }
}

/// Reads the point-in-time recovery of `live` when `step` needs it and it
/// was not read (or simulated) yet.
pub(crate) async fn prepare(
    step: &Step,
    live: Option<&mut LiveTable>,
    db: &Db,
    table: &str,
) -> Result<()> {
    if let Some(t) = live
        && reads_backups(step)
        && t.point_in_time_recovery.is_none()
        && !t.no_backups
    {
        t.read_point_in_time_recovery(db, table).await?;
    }
    Ok(())
}

/// Applies `call`'s effect to a simulated table, for dry runs.
pub(crate) fn simulate(live: &mut Option<LiveTable>, call: &Call) {
    match call {
        Call::CreateTable { def, .. } => *live = Some(LiveTable::from_def(def)),
        Call::DeleteTable { .. } => *live = None,
        Call::Backfill { .. } | Call::Rewrite { .. } | Call::Unsupported { .. } => {}
        other => {
            let Some(t) = live else { return };
            match other {
                Call::CreateIndex { index, .. } => t.indexes.push(LiveIndex::from_def(index)),
                Call::DeleteIndex { index, .. } => t.indexes.retain(|i| &i.name != index),
                Call::UpdateTtl {
                    attribute, enabled, ..
                } => t.ttl = enabled.then(|| attribute.clone()),
                Call::UpdateStream { stream, .. } => t.stream = *stream,
                Call::UpdateBilling { billing, .. } => t.billing = *billing,
                Call::DeletionProtection { enabled, .. } => t.deletion_protection = *enabled,
                Call::PointInTimeRecovery { enabled, .. } => {
                    t.point_in_time_recovery = Some(*enabled)
                }
                Call::CreateTable { .. }
                | Call::Unsupported { .. }
                | Call::DeleteTable { .. }
                | Call::Backfill { .. }
                | Call::Rewrite { .. } => {}
            }
        }
    }
}
