//! The raw structs of a migration file, mirroring its TOML.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    schema::{RawBilling, RawIndex, RawIndexKey, RawKeyAttribute, RawProjection},
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
    /// Turn point-in-time recovery and deletion protection on or off.
    UpdateProtection(RawUpdateProtection),
    /// Write attributes, rendered from templates, onto existing items of one type.
    Backfill(RawBackfill),
    /// Record an item type as its items are stored from here on (no data changes).
    DefineItem(RawDefineItem),
    /// Record that an item type is no longer written (its items are left alone).
    DropItem(RawItemRef),
    /// Move each stored item's value of one attribute to another attribute name.
    RenameAttribute(RawRenameAttribute),
    /// Replace stored text values of one attribute (enum values renamed or removed).
    MapValues(RawMapValues),
    /// Write a value to the stored items that lack an attribute.
    WriteDefault(RawWriteDefault),
    /// Remove an attribute from every stored item of one type.
    RemoveAttribute(RawAttributeRef),
    /// Rewrite the type attribute of every stored item of one type.
    RenameItem(RawRenameItem),
    /// Move every stored item of one type to the table key its new templates render.
    RewriteKeys(RawBackfill),
    /// Replace every stored item of one type with what a function of the app returns for it.
    Transform(RawTransform),
}

/// `op = "transform"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawTransform {
    /// The logical table name.
    pub table: Sp<String>,
    /// The item type whose items are transformed.
    pub item: Sp<String>,
    /// The Rust path of the app's function, e.g. `crate::upgrades::order_v2`: it takes the item as the migrations recorded it before this step (`migrations::before_NNNN::<table>::<Item>`) and returns the item type of the schema, or `Result<_, E: Display>`.
    pub function: Sp<String>,
}

/// `op = "define_item"`: an item type as the stored data knows it.
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawDefineItem {
    /// The logical table name.
    pub table: Sp<String>,
    /// The item type, as stored in the type attribute.
    pub item: Sp<String>,
    /// Key attribute to template, e.g. `pk = "CUSTOMER#{id}"`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<Sp<String>, Sp<String>>,
    /// The fields: name to type, or `{ type, attribute, optional, default, values, format }`.
    #[serde(default)]
    pub fields: Named<StateField>,
}

/// A field of a `define_item` step: its type name (`"string"`), or a
/// [`RawStateField`] table.
#[derive(Debug, Default)]
pub struct StateField(pub RawStateField);

impl<'de> Deserialize<'de> for StateField {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::schema::string_or_table::<RawStateField, _, _>(
            deserializer,
            r#"a type name, or a table like { type = "string", optional = true }"#,
            |ty| {
                StateField(RawStateField {
                    ty: Sp::new(0..0, ty),
                    ..RawStateField::default()
                })
            },
            StateField,
        )
    }
}

impl Serialize for StateField {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let f = &self.0;
        let shorthand = f.attribute.is_none()
            && f.optional.is_none()
            && f.default.is_none()
            && f.values.is_none()
            && f.format.is_none()
            && f.computed.is_none();
        if shorthand {
            f.ty.serialize(serializer)
        } else {
            f.serialize(serializer)
        }
    }
}

#[cfg(feature = "json-schema")]
impl JsonSchema for StateField {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StateField".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let table = generator.subschema_for::<RawStateField>();
        schemars::json_schema!({
            "description": "A field as stored: its type name, or `{ type, attribute, optional, default, values, format }`.",
            "anyOf": [{ "type": "string" }, table]
        })
    }
}

/// A field of a `define_item` step, as a table.
#[derive(Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawStateField {
    /// The type as a schema writes it.
    #[serde(rename = "type")]
    pub ty: Sp<String>,
    /// The attribute name, when not the field name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<Sp<String>>,
    /// Whether the field may be absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional: Option<Sp<bool>>,
    /// The default, as a TOML value.
    #[cfg_attr(feature = "json-schema", schemars(with = "serde_json::Value"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Sp<toml::Value>>,
    /// An enum's values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Sp<Vec<Sp<String>>>>,
    /// A datetime's storage format, or a custom field's Rust type and storage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<Sp<String>>,
    /// A computed field's template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed: Option<Sp<String>>,
}

/// `op = "drop_item"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawItemRef {
    /// The logical table name.
    pub table: Sp<String>,
    /// The item type.
    pub item: Sp<String>,
}

/// `op = "rename_attribute"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawRenameAttribute {
    /// The logical table name.
    pub table: Sp<String>,
    /// The item type whose items are rewritten.
    pub item: Sp<String>,
    /// The old attribute name.
    pub from: Sp<String>,
    /// The new attribute name.
    pub to: Sp<String>,
}

/// `op = "map_values"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawMapValues {
    /// The logical table name.
    pub table: Sp<String>,
    /// The item type whose items are rewritten.
    pub item: Sp<String>,
    /// The attribute holding the values.
    pub attribute: Sp<String>,
    /// Old value to new value, e.g. `{ shipped = "sent" }`.
    pub map: Sp<BTreeMap<Sp<String>, Sp<String>>>,
}

/// `op = "write_default"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawWriteDefault {
    /// The logical table name.
    pub table: Sp<String>,
    /// The item type whose items are rewritten.
    pub item: Sp<String>,
    /// The attribute to write where it is absent.
    pub attribute: Sp<String>,
    /// A string, number or boolean.
    #[cfg_attr(feature = "json-schema", schemars(with = "serde_json::Value"))]
    pub value: Sp<toml::Value>,
}

/// `op = "remove_attribute"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawAttributeRef {
    /// The logical table name.
    pub table: Sp<String>,
    /// The item type whose items are rewritten.
    pub item: Sp<String>,
    /// The attribute to remove.
    pub attribute: Sp<String>,
}

/// `op = "rename_item"`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawRenameItem {
    /// The logical table name.
    pub table: Sp<String>,
    /// The old item type name.
    pub from: Sp<String>,
    /// The new item type name.
    pub to: Sp<String>,
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
    /// Point-in-time recovery on (default off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point_in_time_recovery: Option<Sp<bool>>,
    /// Deletion protection on (default off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<Sp<bool>>,
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
    /// The index's partition key: an attribute, or a list of up to four.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<Sp<RawIndexKey>>,
    /// The index's sort key: an attribute, or a list of up to four.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<Sp<RawIndexKey>>,
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

/// `op = "update_protection"`: each option given is turned on or off;
/// one left out stays as it is.
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawUpdateProtection {
    /// The logical table name.
    pub table: Sp<String>,
    /// Point-in-time recovery on (`true`) or off (`false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point_in_time_recovery: Option<Sp<bool>>,
    /// Deletion protection on (`true`) or off (`false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<Sp<bool>>,
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
    #[serde(default, skip_serializing_if = "no_set")]
    pub set: Sp<BTreeMap<Sp<String>, Sp<String>>>,
    /// Computed attributes: attribute to template over the item's fields, with case modifiers and without key rules, e.g. `name_lower = "{name:lower}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computed: Option<Sp<BTreeMap<Sp<String>, Sp<String>>>>,
}

fn no_set(set: &Sp<BTreeMap<Sp<String>, Sp<String>>>) -> bool {
    set.is_empty()
}
