//! The state migrations build, its difference to the schemas, and the next
//! migration written from that difference.
//!
//! The planner keeps to what DynamoDB accepts: one index created or deleted
//! per step; an index whose keys or projection changed is removed and then
//! added; a new index on a table whose items exist is followed by a
//! backfill of the key attributes its item types fill; local indexes and
//! key schemas cannot change after creation, so such a change is refused
//! with what to do instead.

use std::collections::BTreeMap;

use crate::ir::{
    self, Billing, Edit, IndexDef, IndexKind, KeyAttributeDef, KeyValue, Rewrite, Step, StreamView,
    TableDef,
};

/// The tables as applying every migration, in order, leaves them.
pub fn state(migrations: &[ir::Migration]) -> BTreeMap<String, TableDef> {
    let mut tables: BTreeMap<String, TableDef> = BTreeMap::new();
    for step in migrations.iter().flat_map(|m| &m.steps) {
        match step {
            Step::CreateTable(def) => {
                tables.insert(def.name.to_string(), def.clone());
            }
            Step::DeleteTable { table } => {
                tables.remove(&**table);
            }
            other => {
                let Some(t) = tables.get_mut(other.table()) else {
                    continue;
                };
                match other {
                    Step::AddIndex { index, .. } => t.indexes.to_mut().push(index.clone()),
                    Step::RemoveIndex { index, .. } => {
                        t.indexes.to_mut().retain(|i| i.name != *index)
                    }
                    Step::UpdateTtl {
                        attribute, enabled, ..
                    } => {
                        if *enabled {
                            t.ttl = Some(attribute.clone());
                        } else if t.ttl.as_ref() == Some(attribute) {
                            t.ttl = None;
                        }
                    }
                    Step::UpdateStream { stream, .. } => t.stream = *stream,
                    Step::UpdateProtection {
                        point_in_time_recovery,
                        deletion_protection,
                        ..
                    } => {
                        if let Some(on) = point_in_time_recovery {
                            t.point_in_time_recovery = *on;
                        }
                        if let Some(on) = deletion_protection {
                            t.deletion_protection = *on;
                        }
                    }
                    Step::UpdateBilling { billing, .. } => {
                        // As the executor does: a provisioned table gives
                        // each global index the table's capacity.
                        t.billing = *billing;
                        for index in t.indexes.to_mut() {
                            if index.kind == IndexKind::Global {
                                index.throughput = match billing {
                                    Billing::OnDemand => None,
                                    Billing::Provisioned(capacity) => Some(*capacity),
                                };
                            }
                        }
                    }
                    Step::CreateTable(_)
                    | Step::DeleteTable { .. }
                    | Step::Backfill(_)
                    | Step::DefineItem(_)
                    | Step::DropItem { .. }
                    | Step::Rewrite(_) => {}
                }
            }
        }
    }
    tables
}

/// One difference between the schemas and the migrations' state.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// The table.
    pub table: String,
    /// What differs, e.g. `index by_status is in the schema but not in the migrations`.
    pub what: String,
    /// The steps that make the state match, or why no steps can.
    pub change: Change,
    /// Where in a schema file the difference is, when it is about an item
    /// type.
    pub at: Option<super::items::At>,
}

/// How a [`Difference`] is resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// These steps, in order.
    Steps(Vec<Step>),
    /// No migration can: why, and what to do instead.
    Refused(String),
}

fn key_text(key: &KeyAttributeDef) -> String {
    format!("{} {:?}", key.name, key.ty)
}

fn keys_text(pk: &KeyAttributeDef, sk: Option<&KeyAttributeDef>) -> String {
    std::iter::once(pk)
        .chain(sk)
        .map(key_text)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `migration new` plans beyond what is needed: the opt-in data
/// steps, and the transforms that replace declarative ones.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Write the literal default of each new field to the stored items
    /// (`write_default`), instead of reading it for a missing attribute.
    pub write_defaults: bool,
    /// Remove the attribute of each removed field from the stored items
    /// (`remove_attribute`).
    pub remove_attributes: bool,
    /// Item type to the Rust path of a function of the app: the item
    /// type's change is one `transform` step (any change, widening or not).
    pub transforms: BTreeMap<String, String>,
}

/// The differences between the schemas' tables and what the migrations
/// build, in table order: removed tables, then each schema table.
pub fn diff(schema: &ir::Schema) -> Vec<Difference> {
    diff_with(schema, &Options::default())
}

/// [`diff`], planned with `options`.
pub fn diff_with(schema: &ir::Schema, options: &Options) -> Vec<Difference> {
    let state = state(&schema.migrations);
    let items = super::items::state(&schema.migrations);
    let none = BTreeMap::new();
    let mut out = Vec::new();
    for (name, have) in &state {
        if !schema.tables.iter().any(|t| t.def.name == **name) {
            // A protected table is deleted only by turning the protection
            // off first, in the same reviewed migration.
            let mut steps = Vec::new();
            if have.deletion_protection {
                steps.push(Step::UpdateProtection {
                    table: name.clone().into(),
                    point_in_time_recovery: None,
                    deletion_protection: Some(false),
                });
            }
            steps.push(Step::DeleteTable {
                table: name.clone().into(),
            });
            out.push(Difference {
                at: None,
                table: name.clone(),
                what: format!(
                    "table `{name}` is created by the migrations but no schema file describes it"
                ),
                change: Change::Steps(steps),
            });
        }
    }
    for table in &schema.tables {
        let want = &table.def;
        let name = &want.name.to_string();
        let Some(have) = state.get(name) else {
            out.push(Difference {
                at: None,
                table: name.clone(),
                what: format!("table `{name}` is in the schemas but no migration creates it"),
                change: Change::Steps(vec![Step::CreateTable(want.clone())]),
            });
            super::items::differences(table, Some(&none), None, options, &mut out);
            continue;
        };
        if have.partition_key != want.partition_key || have.sort_key != want.sort_key {
            out.push(Difference {
                at: None,
                table: name.clone(),
                what: format!(
                    "the key of table `{name}` is ({}) in the schema but ({}) in the migrations",
                    keys_text(&want.partition_key, want.sort_key.as_ref()),
                    keys_text(&have.partition_key, have.sort_key.as_ref()),
                ),
                change: Change::Refused(format!(
                    "DynamoDB cannot change a table's key schema. Create a new table with the new \
                     key (a new name in the schema, `create_table`), copy the items over, then \
                     `delete_table` `{name}`; or undo the key change"
                )),
            });
            continue;
        }
        index_differences(table, have, &mut out);
        if have.billing != want.billing {
            out.push(Difference {
                at: None,
                table: name.clone(),
                what: format!(
                    "billing of `{name}` is {} in the schema but {} in the migrations",
                    billing_text(&want.billing),
                    billing_text(&have.billing)
                ),
                change: Change::Steps(vec![Step::UpdateBilling {
                    table: name.clone().into(),
                    billing: want.billing,
                }]),
            });
        }
        if have.ttl != want.ttl {
            let mut steps = Vec::new();
            if let Some(old) = &have.ttl {
                steps.push(Step::UpdateTtl {
                    table: name.clone().into(),
                    attribute: old.clone(),
                    enabled: false,
                });
            }
            if let Some(new) = &want.ttl {
                steps.push(Step::UpdateTtl {
                    table: name.clone().into(),
                    attribute: new.clone(),
                    enabled: true,
                });
            }
            out.push(Difference {
                at: None,
                table: name.clone(),
                what: format!(
                    "ttl of `{name}` is {} in the schema but {} in the migrations",
                    option_text(want.ttl.as_deref()),
                    option_text(have.ttl.as_deref())
                ),
                change: Change::Steps(steps),
            });
        }
        if have.stream != want.stream {
            out.push(Difference {
                at: None,
                table: name.clone(),
                what: format!(
                    "stream of `{name}` is {} in the schema but {} in the migrations",
                    option_text(want.stream.map(StreamView::name)),
                    option_text(have.stream.map(StreamView::name))
                ),
                change: Change::Steps(vec![Step::UpdateStream {
                    table: name.clone().into(),
                    stream: want.stream,
                }]),
            });
        }
        let pitr = (have.point_in_time_recovery != want.point_in_time_recovery)
            .then_some(want.point_in_time_recovery);
        let protection = (have.deletion_protection != want.deletion_protection)
            .then_some(want.deletion_protection);
        if pitr.is_some() || protection.is_some() {
            let on = |on: bool| if on { "on" } else { "off" };
            let mut what = Vec::new();
            if let Some(want) = pitr {
                what.push(format!(
                    "point-in-time recovery of `{name}` is {} in the schema but {} in the migrations",
                    on(want),
                    on(!want)
                ));
            }
            if let Some(want) = protection {
                what.push(format!(
                    "deletion protection of `{name}` is {} in the schema but {} in the migrations",
                    on(want),
                    on(!want)
                ));
            }
            out.push(Difference {
                at: None,
                table: name.clone(),
                what: what.join("; "),
                change: Change::Steps(vec![Step::UpdateProtection {
                    table: name.clone().into(),
                    point_in_time_recovery: pitr,
                    deletion_protection: protection,
                }]),
            });
        }
        super::items::differences(table, items.get(name), Some(have), options, &mut out);
    }
    out
}

/// The differences located in a schema file (item types), as diagnostics:
/// a change no migration can make is `dynamo::item_change`, with what to
/// do instead; one the next migration makes is `dynamo::migration_drift`.
pub fn drift(differences: &[Difference]) -> crate::diagnostics::Diagnostics {
    use crate::diagnostics::Diagnostic;
    let mut out = crate::diagnostics::Diagnostics::default();
    for d in differences {
        let Some(at) = &d.at else { continue };
        out.push(match &d.change {
            Change::Refused(why) => Diagnostic::error(
                "dynamo::item_change",
                &at.file,
                at.span.clone(),
                d.what.clone(),
                "no migration can make this change",
            )
            .help(why.clone()),
            Change::Steps(steps) => Diagnostic::error(
                "dynamo::migration_drift",
                &at.file,
                at.span.clone(),
                d.what.clone(),
                "not in the migrations",
            )
            .help(if steps.iter().any(|s| !s.is_state_only()) {
                format!(
                    "`dynamo-codegen migration new NAME` writes the steps: {}",
                    steps
                        .iter()
                        .filter(|s| !s.is_state_only())
                        .map(|s| s.op())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                "`dynamo-codegen migration new NAME` records it; stored items need no change"
                    .to_owned()
            }),
        });
    }
    out
}

fn option_text(value: Option<&str>) -> String {
    value.map_or("off".to_owned(), |v| format!("`{v}`"))
}

fn billing_text(billing: &Billing) -> String {
    match billing {
        Billing::OnDemand => "on demand".to_owned(),
        Billing::Provisioned(t) => format!("{} read / {} write units", t.read, t.write),
    }
}

/// Whether two indexes store the same thing under the same keys.
fn same_shape(a: &IndexDef, b: &IndexDef) -> bool {
    a.kind == b.kind
        && a.partition_key == b.partition_key
        && a.sort_key == b.sort_key
        && a.projection == b.projection
}

fn index_differences(table: &ir::Table, have: &TableDef, out: &mut Vec<Difference>) {
    let name = &table.def.name.to_string();
    let local_refusal = |index: &str| {
        Change::Refused(format!(
            "local index `{index}` can only be created with its table: create a new table with \
             the index and copy the items, or make it a global index"
        ))
    };
    for old in have.indexes.iter() {
        match table.def.index(&old.name) {
            None => out.push(Difference {
                at: None,
                table: name.clone(),
                what: format!(
                    "index `{}` of `{name}` is in the migrations but not in the schema",
                    old.name
                ),
                change: if old.kind == IndexKind::Local {
                    local_refusal(&old.name)
                } else {
                    Change::Steps(vec![Step::RemoveIndex {
                        table: name.clone().into(),
                        index: old.name.clone(),
                    }])
                },
            }),
            Some(new) if !same_shape(old, new) => {
                let keys_changed =
                    old.partition_key != new.partition_key || old.sort_key != new.sort_key;
                out.push(Difference {
                at: None,
                    table: name.clone(),
                    what: format!(
                        "index `{}` of `{name}` has {} in the schema than in the migrations",
                        old.name,
                        if keys_changed {
                            "other keys"
                        } else {
                            "another projection"
                        }
                    ),
                    change: if old.kind == IndexKind::Local || new.kind == IndexKind::Local {
                        local_refusal(&old.name)
                    } else {
                        let mut steps = vec![Step::RemoveIndex {
                            table: name.clone().into(),
                            index: old.name.clone(),
                        }];
                        steps.push(Step::AddIndex {
                            table: name.clone().into(),
                            index: new.clone(),
                            type_attribute: table.def.type_attribute.clone(),
                        });
                        if keys_changed {
                            steps.extend(backfills(table, new));
                        }
                        Change::Steps(steps)
                    },
                });
            }
            Some(new) if old.throughput != new.throughput => out.push(Difference {
                at: None,
                table: name.clone(),
                what: format!(
                    "index `{}` of `{name}` has other capacity in the schema than in the migrations",
                    old.name
                ),
                change: Change::Refused(
                    "no migration step changes an index's capacity: set it in the AWS console or \
                     with `aws dynamodb update-table`, or remove and add the index"
                        .to_owned(),
                ),
            }),
            Some(_) => {}
        }
    }
    for new in table.def.indexes.iter() {
        if have.indexes.iter().any(|i| i.name == new.name) {
            continue;
        }
        let mut steps = vec![Step::AddIndex {
            table: name.clone().into(),
            index: new.clone(),
            type_attribute: table.def.type_attribute.clone(),
        }];
        steps.extend(backfills(table, new));
        out.push(Difference {
            at: None,
            table: name.clone(),
            what: format!(
                "index `{}` of `{name}` is in the schema but not in the migrations",
                new.name
            ),
            change: if new.kind == IndexKind::Local {
                local_refusal(&new.name)
            } else {
                Change::Steps(steps)
            },
        });
    }
}

/// A backfill per item type that fills `index`'s keys from templates: the
/// items written before the index existed lack those attributes.
fn backfills(table: &ir::Table, index: &IndexDef) -> Vec<Step> {
    table
        .items
        .iter()
        .filter_map(|item| {
            let access = item.accesses.iter().find(|a| {
                a.index
                    .is_some_and(|i| table.index_def(i).name == index.name)
            })?;
            let templates: Vec<&ir::Template> = std::iter::once(access.partition)
                .chain(access.sort)
                .filter_map(|k| match item.key(k) {
                    KeyValue::Template(t) => Some(t),
                    KeyValue::Field { .. } => None,
                })
                .collect();
            (!templates.is_empty()).then(|| {
                Step::Backfill(ir::backfill(
                    (
                        &table.def.name,
                        &table.def.type_attribute,
                        &table.def.key_separator,
                    ),
                    &item.name,
                    (&templates, &[]),
                    |id| Some(item.field(id)),
                ))
            })
        })
        .collect()
}

/// The steps of every difference, in an order DynamoDB accepts: table
/// deletions, creations, then per table index removals, index additions
/// with their backfills, billing, ttl and stream. Refused differences are
/// returned instead when there are any.
pub fn steps(differences: &[Difference]) -> Result<Vec<Step>, Vec<&Difference>> {
    let refused: Vec<&Difference> = differences
        .iter()
        .filter(|d| matches!(d.change, Change::Refused(_)))
        .collect();
    if !refused.is_empty() {
        return Err(refused);
    }
    let rank = |s: &Step| match s {
        // Before a deletion: deletion protection is turned off first.
        Step::DeleteTable { .. } | Step::UpdateProtection { .. } => 0,
        Step::CreateTable(_) => 1,
        Step::RemoveIndex { .. } => 2,
        Step::UpdateBilling { .. } => 3,
        // Stored items first take their new type name and attribute names
        // and values, then their index keys, and move to new table keys
        // last (a move copies what the earlier steps wrote).
        Step::Rewrite(Rewrite {
            edit: Edit::RenameItem { .. },
            ..
        }) => 4,
        Step::Rewrite(Rewrite {
            edit: Edit::RenameAttribute { .. },
            ..
        }) => 5,
        Step::Rewrite(Rewrite {
            edit: Edit::MapValues { .. } | Edit::WriteDefault { .. },
            ..
        }) => 6,
        Step::AddIndex { .. } | Step::Backfill(_) => 7,
        Step::Rewrite(Rewrite {
            edit: Edit::RemoveAttribute { .. },
            ..
        }) => 8,
        Step::Rewrite(Rewrite {
            edit: Edit::RewriteKeys(_) | Edit::Transform { .. },
            ..
        }) => 9,
        Step::DefineItem(_) | Step::DropItem { .. } => 10,
        Step::UpdateTtl { .. } => 11,
        Step::UpdateStream { .. } => 12,
    };
    let mut steps: Vec<Step> = differences
        .iter()
        .flat_map(|d| match &d.change {
            Change::Steps(steps) => steps.clone(),
            Change::Refused(_) => Vec::new(),
        })
        .collect();
    // Stable: an index's add stays before its backfills, a ttl's disable
    // before its enable.
    steps.sort_by_key(|s| rank(s));
    Ok(steps)
}

/// `0003_orders_by_status.toml` for migration `number` named `name`
/// (a snake_case name is made from any text).
pub fn file_name(number: u32, name: &str) -> String {
    let mut snake = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            snake.push(c.to_ascii_lowercase());
        } else if !snake.ends_with('_') && !snake.is_empty() {
            snake.push('_');
        }
    }
    let snake = snake.trim_end_matches('_');
    format!(
        "{number:04}_{}.toml",
        if snake.is_empty() { "migration" } else { snake }
    )
}

/// The text of a migration file with `description` and `steps`, written
/// through the same structs the loader reads it into.
pub fn migration_toml(description: &str, steps: &[Step]) -> Result<String, crate::Error> {
    crate::load::to_toml::migration(description, steps)
}
