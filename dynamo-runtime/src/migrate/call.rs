//! The API calls steps make. Each call is built once as the SDK's input;
//! a run sends it, a dry run prints it (in the shape of DynamoDB's JSON
//! API), so what is printed is what would be sent.

use std::fmt;

use aws_sdk_dynamodb::{
    operation::{
        create_table::builders::CreateTableInputBuilder,
        delete_table::{DeleteTableInput, builders::DeleteTableInputBuilder},
        update_continuous_backups::builders::UpdateContinuousBackupsInputBuilder,
        update_table::{UpdateTableInput, builders::UpdateTableInputBuilder},
        update_time_to_live::builders::UpdateTimeToLiveInputBuilder,
    },
    types::{
        AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction,
        DeleteGlobalSecondaryIndexAction, GlobalSecondaryIndexUpdate, KeySchemaElement,
        PointInTimeRecoverySpecification, Projection, ProvisionedThroughput, StreamSpecification,
        UpdateGlobalSecondaryIndexAction,
    },
};
use serde_json::{Map, Value, json};

use super::{Backfill, Edit, Rewrite};
use crate::Operation;
use crate::{
    Billing, Db, Error, IndexDef, KeyAttributeDef, Result, StreamView, TableDef, Throughput,
    table::{stream_specification, ttl_input},
};

/// One call a step makes on a table (by its physical name).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Call {
    CreateTable {
        table: String,
        def: TableDef,
    },
    DeleteTable {
        table: String,
    },
    CreateIndex {
        table: String,
        index: IndexDef,
        type_attribute: String,
        /// Capacity of the index on a provisioned table.
        throughput: Option<Throughput>,
    },
    DeleteIndex {
        table: String,
        index: String,
    },
    UpdateTtl {
        table: String,
        attribute: String,
        enabled: bool,
    },
    UpdateStream {
        table: String,
        stream: Option<StreamView>,
    },
    UpdateBilling {
        table: String,
        billing: Billing,
        /// The global indexes, which need capacity on a provisioned table.
        indexes: Vec<String>,
    },
    /// Deletion protection on or off (UpdateTable).
    DeletionProtection {
        table: String,
        enabled: bool,
    },
    /// Point-in-time recovery on or off (UpdateContinuousBackups).
    PointInTimeRecovery {
        table: String,
        enabled: bool,
    },
    /// No call: a change this endpoint cannot make (reported, not sent).
    Unsupported {
        table: String,
        what: &'static str,
    },
    /// Not one call: a scan and an update per item (run by `backfill`).
    Backfill {
        table: String,
        backfill: Backfill,
    },
    /// Not one call: a scan and a write per item (run by `rewrite`).
    Rewrite {
        table: String,
        rewrite: Rewrite,
    },
}

enum Request {
    Create(CreateTableInputBuilder),
    Delete(DeleteTableInputBuilder),
    Update(UpdateTableInputBuilder),
    Ttl(UpdateTimeToLiveInputBuilder),
    Backups(UpdateContinuousBackupsInputBuilder),
}

fn config(e: impl fmt::Display) -> Error {
    Error::config(e.to_string())
}

fn definition(key: &KeyAttributeDef) -> Result<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(&*key.name)
        .attribute_type(key.ty.to_sdk())
        .build()
        .map_err(config)
}

impl Call {
    pub(crate) fn table(&self) -> &str {
        match self {
            Call::CreateTable { table, .. }
            | Call::DeleteTable { table }
            | Call::CreateIndex { table, .. }
            | Call::DeleteIndex { table, .. }
            | Call::UpdateTtl { table, .. }
            | Call::UpdateStream { table, .. }
            | Call::UpdateBilling { table, .. }
            | Call::DeletionProtection { table, .. }
            | Call::PointInTimeRecovery { table, .. }
            | Call::Unsupported { table, .. }
            | Call::Backfill { table, .. }
            | Call::Rewrite { table, .. } => table,
        }
    }

    fn request(&self) -> Result<Option<Request>> {
        Ok(Some(match self {
            Call::CreateTable { table, def } => Request::Create(def.create_input(table)?),
            Call::DeleteTable { table } => {
                Request::Delete(DeleteTableInput::builder().table_name(table))
            }
            Call::CreateIndex {
                table,
                index,
                type_attribute,
                throughput,
            } => {
                let mut create = CreateGlobalSecondaryIndexAction::builder()
                    .index_name(&*index.name)
                    .set_key_schema(Some(index.key_schema()?))
                    .projection(index.projection(type_attribute));
                if let Some(t) = throughput {
                    create = create.provisioned_throughput(t.to_sdk()?);
                }
                let mut req = UpdateTableInput::builder().table_name(table);
                for key in index.key() {
                    req = req.attribute_definitions(definition(key)?);
                }
                Request::Update(
                    req.global_secondary_index_updates(
                        GlobalSecondaryIndexUpdate::builder()
                            .create(create.build().map_err(config)?)
                            .build(),
                    ),
                )
            }
            Call::DeleteIndex { table, index } => Request::Update(
                UpdateTableInput::builder()
                    .table_name(table)
                    .global_secondary_index_updates(
                        GlobalSecondaryIndexUpdate::builder()
                            .delete(
                                DeleteGlobalSecondaryIndexAction::builder()
                                    .index_name(index)
                                    .build()
                                    .map_err(config)?,
                            )
                            .build(),
                    ),
            ),
            Call::UpdateTtl {
                table,
                attribute,
                enabled,
            } => Request::Ttl(ttl_input(table, attribute, *enabled)?),
            Call::UpdateStream { table, stream } => Request::Update(
                UpdateTableInput::builder()
                    .table_name(table)
                    .stream_specification(stream_specification(*stream)?),
            ),
            Call::UpdateBilling {
                table,
                billing,
                indexes,
            } => {
                let req = UpdateTableInput::builder().table_name(table);
                Request::Update(match billing {
                    Billing::OnDemand => req.billing_mode(BillingMode::PayPerRequest),
                    Billing::Provisioned(t) => {
                        let mut req = req
                            .billing_mode(BillingMode::Provisioned)
                            .provisioned_throughput(t.to_sdk()?);
                        for index in indexes {
                            req = req.global_secondary_index_updates(
                                GlobalSecondaryIndexUpdate::builder()
                                    .update(
                                        UpdateGlobalSecondaryIndexAction::builder()
                                            .index_name(index)
                                            .provisioned_throughput(t.to_sdk()?)
                                            .build()
                                            .map_err(config)?,
                                    )
                                    .build(),
                            );
                        }
                        req
                    }
                })
            }
            Call::DeletionProtection { table, enabled } => Request::Update(
                UpdateTableInput::builder()
                    .table_name(table)
                    .deletion_protection_enabled(*enabled),
            ),
            Call::PointInTimeRecovery { table, enabled } => Request::Backups(
                aws_sdk_dynamodb::operation::update_continuous_backups::UpdateContinuousBackupsInput::builder()
                    .table_name(table)
                    .point_in_time_recovery_specification(
                        PointInTimeRecoverySpecification::builder()
                            .point_in_time_recovery_enabled(*enabled)
                            .build()
                            .map_err(config)?,
                    ),
            ),
            Call::Backfill { .. } | Call::Rewrite { .. } | Call::Unsupported { .. } => {
                return Ok(None);
            }
        }))
    }

    /// Whether the call changes nothing because the endpoint cannot make
    /// the change; it is reported instead.
    pub(crate) fn is_unsupported(&self) -> bool {
        matches!(self, Call::Unsupported { .. })
    }

    /// Sends the call (a backfill is run by its own module). `Ok(false)`:
    /// the endpoint does not know the operation (DynamoDB Local has no
    /// continuous backups), so nothing changed.
    pub(crate) async fn send(&self, db: &Db) -> Result<bool> {
        let table = self.table();
        match self.request()? {
            None => Ok(!self.is_unsupported()),
            Some(Request::Backups(req)) => match req.send_with(db.client()).await {
                Ok(_) => Ok(true),
                Err(e) => {
                    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
                    if e.code() == Some("UnknownOperationException") {
                        return Ok(false);
                    }
                    Err(Error::service(Operation::UpdateContinuousBackups, table, e))
                }
            },
            Some(request) => self.send_request(db, request).await.map(|()| true),
        }
    }

    async fn send_request(&self, db: &Db, request: Request) -> Result<()> {
        let table = self.table();
        match request {
            Request::Create(req) => match req.send_with(db.client()).await {
                Ok(_) => Ok(()),
                Err(e) => match aws_sdk_dynamodb::Error::from(e) {
                    // Another run (or a crashed one) created it: the
                    // caller's wait and the next describe take it from here.
                    aws_sdk_dynamodb::Error::ResourceInUseException(_) => Ok(()),
                    e => Err(Error::service(Operation::CreateTable, table, e)),
                },
            },
            Request::Delete(req) => match req.send_with(db.client()).await {
                Ok(_) => Ok(()),
                Err(e) => match aws_sdk_dynamodb::Error::from(e) {
                    aws_sdk_dynamodb::Error::ResourceNotFoundException(_) => Ok(()),
                    e => Err(Error::service(Operation::DeleteTable, table, e)),
                },
            },
            Request::Update(req) => req
                .send_with(db.client())
                .await
                .map(|_| ())
                .map_err(|e| Error::service(Operation::UpdateTable, table, e)),
            Request::Ttl(req) => req
                .send_with(db.client())
                .await
                .map(|_| ())
                .map_err(|e| Error::service(Operation::UpdateTimeToLive, table, e)),
            Request::Backups(req) => req
                .send_with(db.client())
                .await
                .map(|_| ())
                .map_err(|e| Error::service(Operation::UpdateContinuousBackups, table, e)),
        }
    }
}

/// `Operation {json}`, the request as DynamoDB's JSON API spells it.
impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Call::Backfill { table, backfill } = self {
            return write!(f, "{}", backfill_text(table, backfill));
        }
        if let Call::Rewrite { table, rewrite } = self {
            return write!(f, "{}", rewrite_text(table, rewrite));
        }
        if let Call::Unsupported { table, what } = self {
            return write!(f, "(not sent: {what} on {table})");
        }
        let request = match self.request() {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            Err(e) => return write!(f, "(invalid call: {e})"),
        };
        let (operation, body) = match request {
            Request::Create(req) => ("CreateTable", create_json(&req)),
            Request::Delete(req) => ("DeleteTable", json!({ "TableName": req.get_table_name() })),
            Request::Update(req) => ("UpdateTable", update_json(&req)),
            Request::Backups(req) => (
                "UpdateContinuousBackups",
                json!({
                    "TableName": req.get_table_name(),
                    "PointInTimeRecoverySpecification": {
                        "PointInTimeRecoveryEnabled": req
                            .get_point_in_time_recovery_specification()
                            .as_ref()
                            .map(|s| s.point_in_time_recovery_enabled()),
                    },
                }),
            ),
            Request::Ttl(req) => {
                let spec = req.get_time_to_live_specification().as_ref();
                (
                    "UpdateTimeToLive",
                    json!({
                        "TableName": req.get_table_name(),
                        "TimeToLiveSpecification": {
                            "AttributeName": spec.map(|s| s.attribute_name()),
                            "Enabled": spec.map(|s| s.enabled()),
                        },
                    }),
                )
            }
        };
        write!(f, "{operation} {}", sorted(body))
    }
}

/// `value` with every object's keys in order, whether or not some crate in
/// the build turned on serde_json's `preserve_order`: the text is stable.
fn sorted(mut value: Value) -> Value {
    value.sort_all_objects();
    value
}

fn backfill_text(table: &str, b: &Backfill) -> String {
    let scan = json!({
        "TableName": table,
        "ConsistentRead": true,
        "FilterExpression": "#type = :type",
        "ExpressionAttributeNames": { "#type": &*b.type_attribute },
        "ExpressionAttributeValues": { ":type": { "S": &*b.item } },
    });
    let mut names = Map::new();
    let mut values = Map::new();
    let mut sets = Vec::new();
    for (i, t) in b.templates().enumerate() {
        names.insert(format!("#s{i}"), Value::from(&*t.attribute));
        values.insert(format!(":s{i}"), json!({ "S": format!("<{}>", t.text) }));
        sets.push(format!("#s{i} = :s{i}"));
    }
    let update = json!({
        "TableName": table,
        "Key": "<the item's key>",
        "UpdateExpression": format!("SET {}", sets.join(", ")),
        "ConditionExpression": "<the item still exists, with the type and the field values read>",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    });
    format!(
        "Scan {}\nUpdateItem (for each item read whose attributes differ) {}",
        sorted(scan),
        sorted(update)
    )
}

fn rewrite_text(table: &str, r: &Rewrite) -> String {
    let mut scan = json!({
        "TableName": table,
        "ConsistentRead": true,
    });
    if !r.type_attribute.is_empty() {
        scan["FilterExpression"] = json!("#type = :type");
        scan["ExpressionAttributeNames"] = json!({ "#type": &*r.type_attribute });
        scan["ExpressionAttributeValues"] = json!({ ":type": { "S": &*r.item } });
    }
    let write = match &r.edit {
        Edit::RenameAttribute { from, to } => format!(
            "UpdateItem (for each item with `{from}`) SET `{to}` = the value of `{from}` (unless \
             `{to}` is set), REMOVE `{from}`, on condition that both are as read"
        ),
        Edit::MapValues { attribute, map } => format!(
            "UpdateItem (for each item whose `{attribute}` is {}) SET `{attribute}` = the new \
             value, on condition that it is as read",
            map.iter()
                .map(|(old, new)| format!("\"{old}\" (to \"{new}\")"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        Edit::WriteDefault { attribute, value } => format!(
            "UpdateItem (for each item without `{attribute}`) SET `{attribute}` = {value:?}, on \
             condition that it is still absent"
        ),
        Edit::RemoveAttribute { attribute } => format!(
            "UpdateItem (for each item with `{attribute}`) REMOVE `{attribute}`, on condition \
             that it is as read"
        ),
        Edit::RenameItem { to } => format!(
            "UpdateItem (for each item) SET `{}` = \"{to}\", on condition that it is still \"{}\"",
            r.type_attribute, r.item
        ),
        Edit::RewriteKeys(b) => format!(
            "TransactWriteItems (for each item whose key renders differently from {}) Put the \
             item at its new key (on condition that the key is free) and Delete it at the old \
             key (on condition that it is unchanged)",
            b.set
                .iter()
                .map(|t| format!("{} = \"{}\"", t.attribute, t.text))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Edit::Transform { function, mark } => format!(
            "PutItem (for each item not marked `{mark}` or later in `{}`) the item `{function}` \
             returns for it, marked, on condition that the stored item is unchanged \
             (TransactWriteItems with a Delete of the old item when its key changes)",
            Edit::TRANSFORM_MARK
        ),
    };
    format!("Scan {}\n{write}", sorted(scan))
}

fn keys_json(keys: &[KeySchemaElement]) -> Value {
    keys.iter()
        .map(|k| json!({ "AttributeName": k.attribute_name(), "KeyType": k.key_type().as_str() }))
        .collect()
}

fn definitions_json(defs: &Option<Vec<AttributeDefinition>>) -> Option<Value> {
    defs.as_ref().map(|defs| {
        defs.iter()
            .map(|d| {
                json!({ "AttributeName": d.attribute_name(), "AttributeType": d.attribute_type().as_str() })
            })
            .collect()
    })
}

fn projection_json(p: Option<&Projection>) -> Value {
    let mut out = Map::new();
    if let Some(p) = p {
        if let Some(t) = p.projection_type() {
            out.insert("ProjectionType".into(), t.as_str().into());
        }
        if !p.non_key_attributes().is_empty() {
            out.insert("NonKeyAttributes".into(), p.non_key_attributes().into());
        }
    }
    Value::Object(out)
}

fn throughput_json(t: &ProvisionedThroughput) -> Value {
    json!({
        "ReadCapacityUnits": t.read_capacity_units(),
        "WriteCapacityUnits": t.write_capacity_units(),
    })
}

fn stream_json(s: &StreamSpecification) -> Value {
    let mut out = Map::new();
    out.insert("StreamEnabled".into(), s.stream_enabled().into());
    if let Some(view) = s.stream_view_type() {
        out.insert("StreamViewType".into(), view.as_str().into());
    }
    Value::Object(out)
}

/// Inserts `key` when `value` is present.
fn put(out: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        out.insert(key.to_owned(), value);
    }
}

/// The members CreateTable and UpdateTable requests share.
struct TableMembers<'a> {
    table: &'a Option<String>,
    definitions: &'a Option<Vec<AttributeDefinition>>,
    billing: &'a Option<BillingMode>,
    throughput: &'a Option<ProvisionedThroughput>,
    stream: &'a Option<StreamSpecification>,
    deletion_protection: &'a Option<bool>,
}

fn table_members(out: &mut Map<String, Value>, m: TableMembers<'_>) {
    put(out, "TableName", m.table.clone().map(Value::from));
    put(out, "AttributeDefinitions", definitions_json(m.definitions));
    put(
        out,
        "BillingMode",
        m.billing.as_ref().map(|b| b.as_str().into()),
    );
    put(
        out,
        "ProvisionedThroughput",
        m.throughput.as_ref().map(throughput_json),
    );
    put(
        out,
        "StreamSpecification",
        m.stream.as_ref().map(stream_json),
    );
    put(
        out,
        "DeletionProtectionEnabled",
        m.deletion_protection.map(Value::from),
    );
}

fn create_json(req: &CreateTableInputBuilder) -> Value {
    let mut out = Map::new();
    put(
        &mut out,
        "KeySchema",
        req.get_key_schema().as_deref().map(keys_json),
    );
    put(
        &mut out,
        "GlobalSecondaryIndexes",
        req.get_global_secondary_indexes().as_ref().map(|indexes| {
            indexes
                .iter()
                .map(|i| {
                    let mut index = Map::new();
                    index.insert("IndexName".into(), i.index_name().into());
                    index.insert("KeySchema".into(), keys_json(i.key_schema()));
                    index.insert("Projection".into(), projection_json(i.projection()));
                    put(
                        &mut index,
                        "ProvisionedThroughput",
                        i.provisioned_throughput().map(throughput_json),
                    );
                    Value::Object(index)
                })
                .collect()
        }),
    );
    put(
        &mut out,
        "LocalSecondaryIndexes",
        req.get_local_secondary_indexes().as_ref().map(|indexes| {
            indexes
                .iter()
                .map(|i| {
                    json!({
                        "IndexName": i.index_name(),
                        "KeySchema": keys_json(i.key_schema()),
                        "Projection": projection_json(i.projection()),
                    })
                })
                .collect()
        }),
    );
    table_members(
        &mut out,
        TableMembers {
            table: req.get_table_name(),
            definitions: req.get_attribute_definitions(),
            billing: req.get_billing_mode(),
            throughput: req.get_provisioned_throughput(),
            stream: req.get_stream_specification(),
            deletion_protection: req.get_deletion_protection_enabled(),
        },
    );
    Value::Object(out)
}

fn update_json(req: &UpdateTableInputBuilder) -> Value {
    let mut out = Map::new();
    put(
        &mut out,
        "GlobalSecondaryIndexUpdates",
        req.get_global_secondary_index_updates().as_ref().map(|updates| {
            updates
                .iter()
                .map(|u| {
                    if let Some(c) = u.create() {
                        let mut create = Map::new();
                        create.insert("IndexName".into(), c.index_name().into());
                        create.insert("KeySchema".into(), keys_json(c.key_schema()));
                        create.insert("Projection".into(), projection_json(c.projection()));
                        put(
                            &mut create,
                            "ProvisionedThroughput",
                            c.provisioned_throughput().map(throughput_json),
                        );
                        json!({ "Create": create })
                    } else if let Some(d) = u.delete() {
                        json!({ "Delete": { "IndexName": d.index_name() } })
                    } else if let Some(up) = u.update() {
                        json!({ "Update": {
                            "IndexName": up.index_name(),
                            "ProvisionedThroughput": up.provisioned_throughput().map(throughput_json),
                        } })
                    } else {
                        Value::Null
                    }
                })
                .collect()
        }),
    );
    table_members(
        &mut out,
        TableMembers {
            table: req.get_table_name(),
            definitions: req.get_attribute_definitions(),
            billing: req.get_billing_mode(),
            throughput: req.get_provisioned_throughput(),
            stream: req.get_stream_specification(),
            deletion_protection: req.get_deletion_protection_enabled(),
        },
    );
    Value::Object(out)
}
