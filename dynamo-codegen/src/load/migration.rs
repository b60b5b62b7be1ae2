//! The raw structs of a migration file, mirroring its TOML.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    schema::{RawBilling, RawIndex, RawKeyAttribute, RawProjection},
    span::{Named, Sp},
};

#[cfg(feature = "json-schema")]
use schemars::JsonSchema;

/// One migration file.
#[derive(Debug, Default, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[cfg_attr(
    feature = "json-schema",
    schemars(title = "dynamo-codegen migration", deny_unknown_fields)
)]
pub struct RawMigration {
    /// What the migration does, for `migrate status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Sp<String>>,
    /// The steps, applied in order.
    pub step: Vec<Sp<RawStep>>,
}

/// A migration step; `op` names its kind.
#[derive(Debug, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[cfg_attr(
    feature = "json-schema",
    schemars(tag = "op", rename_all = "snake_case")
)]
pub enum RawStep {
    /// Create a table with its indexes, billing, ttl and stream.
    CreateTable(RawCreateTable),
    /// Delete a table and all its items.
    DeleteTable(RawTableRef),
    /// Add a global secondary index.
    AddIndex(RawAddIndex),
    /// Remove a secondary index.
    RemoveIndex(RawIndexRef),
    /// Turn time to live on or off.
    UpdateTtl(RawUpdateTtl),
    /// Turn DynamoDB Streams on, off, or change its view.
    UpdateStream(RawUpdateStream),
    /// Switch between on-demand and provisioned billing.
    UpdateBilling(RawUpdateBilling),
    /// Write attributes, rendered from templates, onto existing items of one type.
    Backfill(RawBackfill),
}

/// `op = "create_table"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawCreateTable {
    /// The logical table name.
    pub table: Sp<String>,
    /// The partition key attribute.
    pub partition_key: Sp<RawKeyAttribute>,
    /// The sort key attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<Sp<RawKeyAttribute>>,
    /// `"on_demand"` (the default) or `{ read = 5, write = 5 }`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing: Option<Sp<RawBilling>>,
    /// The TTL attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Sp<String>>,
    /// The stream view.
    #[cfg_attr(feature = "json-schema", schemars(extend("enum" = ["keys_only", "new_image", "old_image", "new_and_old_images"])))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<Sp<String>>,
    /// Indexes created with the table (local indexes can only be created here).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub index: Named<RawIndex>,
}

/// `op = "delete_table"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawTableRef {
    /// The logical table name.
    pub table: Sp<String>,
}

/// `op = "add_index"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawAddIndex {
    /// The logical table name.
    pub table: Sp<String>,
    /// The new index's name.
    pub index: Sp<String>,
    /// Not allowed: local indexes are created with their table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<Sp<bool>>,
    /// The index's partition key attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<Sp<RawKeyAttribute>>,
    /// The index's sort key attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<Sp<RawKeyAttribute>>,
    /// `"all"` (the default), `"keys_only"`, or attributes to include.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection: Option<Sp<RawProjection>>,
    /// Read capacity units (provisioned tables).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<Sp<i64>>,
    /// Write capacity units (provisioned tables).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write: Option<Sp<i64>>,
}

/// `op = "remove_index"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawIndexRef {
    /// The logical table name.
    pub table: Sp<String>,
    /// The index to remove.
    pub index: Sp<String>,
}

/// `op = "update_ttl"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawUpdateTtl {
    /// The logical table name.
    pub table: Sp<String>,
    /// The TTL attribute.
    pub attribute: Sp<String>,
    /// `true` (the default) turns TTL on, `false` off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Sp<bool>>,
}

/// `op = "update_stream"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawUpdateStream {
    /// The logical table name.
    pub table: Sp<String>,
    /// `keys_only`, `new_image`, `old_image`, `new_and_old_images`, or `disabled`.
    #[cfg_attr(feature = "json-schema", schemars(extend("enum" = ["keys_only", "new_image", "old_image", "new_and_old_images", "disabled"])))]
    pub stream: Sp<String>,
}

/// `op = "update_billing"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawUpdateBilling {
    /// The logical table name.
    pub table: Sp<String>,
    /// `"on_demand"` or `{ read = 5, write = 5 }`.
    pub billing: Sp<RawBilling>,
}

/// `op = "backfill"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawBackfill {
    /// The logical table name.
    pub table: Sp<String>,
    /// The item type whose items get the attributes.
    pub item: Sp<String>,
    /// Attribute to key template over the item's fields, e.g. `gsi2pk = "STATUS#{status}"`.
    pub set: Sp<BTreeMap<Sp<String>, Sp<String>>>,
}
