//! The raw structs of a table file, mirroring its TOML.

use std::{collections::BTreeMap, fmt};

use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::{self, MapAccess, SeqAccess, value::MapAccessDeserializer},
    ser::SerializeMap,
};

use super::span::{Named, Sp};

#[cfg(feature = "json-schema")]
use schemars::JsonSchema;

/// One table file: one DynamoDB table and the item types stored in it.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[cfg_attr(
    feature = "json-schema",
    schemars(title = "dynamo-codegen table schema")
)]
#[serde(deny_unknown_fields)]
pub struct RawSchema {
    /// The DynamoDB table: its name, key attributes and options.
    pub table: Option<Sp<RawTable>>,
    /// Secondary indexes, by index name: global unless `local = true`.
    #[serde(default)]
    pub index: Named<RawIndex>,
    /// Item types stored in the table, by Rust type name (UpperCamelCase).
    #[serde(default)]
    pub item: Named<RawItem>,
    /// Nested types (stored as maps), by Rust type name: field name to field.
    #[serde(default, rename = "type")]
    pub types: Named<Named<RawField>>,
    /// Tagged unions, by Rust type name: a value that is one of several nested types, stored as a map whose tag attribute names the variant.
    #[serde(default)]
    pub union: Named<RawUnion>,
    /// Collections: item types read together in one query, by name (snake_case).
    #[serde(default)]
    pub collection: Named<RawCollection>,
}

// `pull` writes a table file back: its `[table]` and `[index.X]` sections.
// Item types, nested types and collections are the user's to write, so
// only those two are serialized.
impl Serialize for RawSchema {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(table) = &self.table {
            map.serialize_entry("table", table)?;
        }
        if !self.index.is_empty() {
            map.serialize_entry("index", &self.index)?;
        }
        map.end()
    }
}

/// `[table]`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawTable {
    /// Logical table name, 3 to 255 of `a-z A-Z 0-9 _ - .`; the runtime adds the namespace prefix.
    pub name: Sp<String>,
    /// The partition key attribute: `"pk"` or `{ name = "pk", type = "S" }`.
    pub partition_key: Sp<RawKeyAttribute>,
    /// The sort key attribute, if the table has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<Sp<RawKeyAttribute>>,
    /// `"on_demand"` (the default) or provisioned `{ read = 5, write = 5 }`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing: Option<Sp<RawBilling>>,
    /// The TTL attribute: items expire at the epoch seconds it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Sp<String>>,
    /// DynamoDB Streams view: `keys_only`, `new_image`, `old_image` or `new_and_old_images`.
    #[cfg_attr(feature = "json-schema", schemars(extend("enum" = ["keys_only", "new_image", "old_image", "new_and_old_images"])))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<Sp<String>>,
    /// Point-in-time recovery (continuous backups, restore to any second
    /// of the last 35 days); default `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point_in_time_recovery: Option<Sp<bool>>,
    /// Deletion protection: DynamoDB refuses to delete the table until it
    /// is turned off; default `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<Sp<bool>>,
    /// The attribute holding each item's type name (default `_type`), or
    /// `false` for a table of one item type whose items carry none (a
    /// plain or legacy table another program writes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_attribute: Option<Sp<RawTypeAttribute>>,
    /// The separator of multi-field key templates (default `#`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_separator: Option<Sp<String>>,
    /// Whether items keep the attributes their type does not model and a
    /// `put` writes them back (default `true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_unmodeled: Option<Sp<bool>>,
    /// Whether the generated items, keys, enums and nested types derive
    /// serde's `Serialize` and `Deserialize` (default `false`; needs the
    /// runtime's `serde` feature).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serde: Option<Sp<bool>>,
    /// Whether the generated types also derive schemars' `JsonSchema`, the
    /// JSON Schema of their serde JSON, e.g. for API docs (default
    /// `false`; implies `serde`; needs the runtime's `json-schema`
    /// feature).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<Sp<bool>>,
    /// Rust attributes added to the generated types, by kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Sp<RawAttributes>>,
}

/// `[table.attributes]`: Rust attributes (`"#[derive(PartialOrd, Ord)]"`)
/// added to generated types, by kind; `all` goes to every kind. Each must
/// parse, and a derive may not repeat one the generated code has.
#[derive(Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawAttributes {
    /// Every kind below.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all: Vec<Sp<String>>,
    /// Item structs (`Order`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Sp<String>>,
    /// Key structs (`OrderKey`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<Sp<String>>,
    /// The fields of new items (`NewOrder`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new: Vec<Sp<String>>,
    /// Nested types (`[type.X]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nested: Vec<Sp<String>>,
    /// Enums of enum fields (`OrderStatus`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enums: Vec<Sp<String>>,
    /// Index projections (`OrderByStatusProjection`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projections: Vec<Sp<String>>,
    /// Enums with a variant per item type: collections, `AnyItem`, `AnyKey`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unions: Vec<Sp<String>>,
}

/// `type_attribute`: an attribute name, or `false` for none.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(untagged)]
pub enum RawTypeAttribute {
    /// The attribute's name.
    Name(String),
    /// `false`: items carry no type attribute (`true` is the default name).
    Enabled(bool),
}

/// A key attribute: `"pk"` or `{ name = "pk", type = "S" }`.
#[derive(Debug, Clone)]
pub struct RawKeyAttribute {
    /// The attribute name.
    pub name: Sp<String>,
    /// `S`, `N` or `B`; `None` means the default, `S`.
    pub ty: Option<Sp<String>>,
}

/// The table form of [`RawKeyAttribute`].
#[derive(Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
struct KeyAttributeTable {
    /// The attribute name.
    name: Sp<String>,
    /// `S` (string, the default), `N` (number) or `B` (binary).
    #[serde(rename = "type")]
    #[cfg_attr(feature = "json-schema", schemars(extend("enum" = ["S", "N", "B"])))]
    ty: Option<Sp<String>>,
}

impl<'de> Deserialize<'de> for RawKeyAttribute {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        string_or_table::<KeyAttributeTable, _, _>(
            deserializer,
            r#"an attribute name, or a table like { name = "pk", type = "S" }"#,
            |name| RawKeyAttribute {
                name: Sp::new(0..0, name),
                ty: None,
            },
            |t| RawKeyAttribute {
                name: t.name,
                ty: t.ty,
            },
        )
    }
}

/// An index's partition or sort key: one attribute (`"gsi1pk"` or
/// `{ name = "gsi1pk", type = "S" }`), or a list of up to four (a
/// multi-attribute key of a global index).
#[derive(Debug, Clone)]
pub enum RawIndexKey {
    /// One attribute.
    One(RawKeyAttribute),
    /// The attributes of a multi-attribute key, in order.
    Many(Vec<Sp<RawKeyAttribute>>),
}

impl<'de> Deserialize<'de> for RawIndexKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = RawIndexKey;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    r#"an attribute name, a table like { name = "pk", type = "S" }, or a list of up to four of them"#,
                )
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
                Ok(RawIndexKey::One(RawKeyAttribute {
                    name: Sp::new(0..0, name.to_owned()),
                    ty: None,
                }))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let t = KeyAttributeTable::deserialize(MapAccessDeserializer::new(map))?;
                Ok(RawIndexKey::One(RawKeyAttribute {
                    name: t.name,
                    ty: t.ty,
                }))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = seq.next_element()? {
                    keys.push(key);
                }
                Ok(RawIndexKey::Many(keys))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Serialize for RawIndexKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RawIndexKey::One(key) => key.serialize(serializer),
            RawIndexKey::Many(keys) => keys.serialize(serializer),
        }
    }
}

/// Billing: `"on_demand"` or `{ read = 5, write = 5 }`.
#[derive(Debug)]
pub enum RawBilling {
    /// A mode name (only `on_demand` is valid).
    Mode(Sp<String>),
    /// Provisioned capacity units.
    Provisioned(RawThroughput),
}

/// Provisioned read and write capacity units.
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawThroughput {
    /// Read capacity units (at least 1).
    pub read: Sp<i64>,
    /// Write capacity units (at least 1).
    pub write: Sp<i64>,
}

impl Serialize for RawKeyAttribute {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.ty.as_ref().map(|t| t.get().as_str()) {
            None | Some("S") => self.name.serialize(serializer),
            Some(ty) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("name", self.name.get())?;
                map.serialize_entry("type", ty)?;
                map.end()
            }
        }
    }
}

impl Serialize for RawBilling {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RawBilling::Mode(mode) => mode.serialize(serializer),
            RawBilling::Provisioned(t) => t.serialize(serializer),
        }
    }
}

impl Serialize for RawProjection {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RawProjection::Name(name) => name.serialize(serializer),
            RawProjection::Include(names) => names.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for RawBilling {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        string_or_table::<RawThroughput, _, _>(
            deserializer,
            r#""on_demand", or provisioned capacity like { read = 5, write = 5 }"#,
            |mode| RawBilling::Mode(Sp::new(0..0, mode)),
            RawBilling::Provisioned,
        )
    }
}

/// `[index.name]`
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawIndex {
    /// `true` for a local secondary index (it shares the table's partition key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<Sp<bool>>,
    /// The index's partition key (global indexes): an attribute, or a
    /// list of up to four (a multi-attribute key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<Sp<RawIndexKey>>,
    /// The index's sort key (required for local indexes): an attribute,
    /// or a list of up to four (a multi-attribute key of a global index).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<Sp<RawIndexKey>>,
    /// `"all"` (the default), `"keys_only"`, or a list of attributes to include.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection: Option<Sp<RawProjection>>,
    /// Read capacity units of a global index on a provisioned table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<Sp<i64>>,
    /// Write capacity units of a global index on a provisioned table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write: Option<Sp<i64>>,
}

/// An index projection: `"all"`, `"keys_only"` or `["a", "b"]`.
#[derive(Debug, Clone)]
pub enum RawProjection {
    /// A projection name.
    Name(Sp<String>),
    /// Attributes to include besides the keys.
    Include(Vec<Sp<String>>),
}

impl<'de> Deserialize<'de> for RawProjection {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = RawProjection;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#""all", "keys_only", or a list of attribute names"#)
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
                Ok(RawProjection::Name(Sp::new(0..0, name.to_owned())))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element()? {
                    names.push(name);
                }
                Ok(RawProjection::Include(names))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `[item.Name]`
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawItem {
    /// Rustdoc of the generated struct.
    pub doc: Option<Sp<String>>,
    /// Keep `created_at` and `updated_at` (datetime) on every write.
    pub timestamps: Option<Sp<bool>>,
    /// The field used for optimistic locking (an unsigned integer).
    pub version: Option<Sp<String>>,
    /// Fill the table's ttl attribute of a new item: `"90s"`, `"30m"`, `"12h"`, `"30d"`, `"2w"`.
    pub expires_after: Option<Sp<String>>,
    /// Key templates: key attribute (table's or an index's) to template, e.g. `pk = "CUSTOMER#{id}"`.
    pub keys: Option<Sp<BTreeMap<Sp<String>, Sp<String>>>>,
    /// The fields: name to type, e.g. `id = "string"`.
    #[serde(default)]
    pub fields: Named<RawField>,
    /// Rust attributes added to the item's struct only (see
    /// `[table.attributes]` for every item type, keys and more).
    pub attributes: Option<Sp<Vec<Sp<String>>>>,
    /// `hooks = true`: the app implements `dynamo_runtime::ItemHooks` for
    /// the type, called before every write of an item and after every read.
    pub hooks: Option<Sp<bool>>,
}

/// `[union.Name]`: a tagged union of nested types (DynamoDB-Toolbox's
/// `anyOf` with a discriminator, PynamoDB's polymorphic maps).
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawUnion {
    /// Rustdoc of the generated enum.
    pub doc: Option<Sp<String>>,
    /// The attribute of the stored map that names the variant (default `type`).
    pub tag: Option<Sp<String>>,
    /// The variants: the stored tag to the nested type it holds, e.g. `{ card = "Card", transfer = "BankTransfer" }`. Each tag makes an UpperCamelCase variant name.
    pub variants: Sp<BTreeMap<Sp<String>, Sp<String>>>,
}

/// A field: `"string"` or `{ type = "string", optional = true, ... }`.
#[derive(Debug, Default)]
pub struct RawField {
    /// The type; an empty span means the shorthand string.
    pub ty: Sp<String>,
    /// `optional = true`: `Option<T>`, stored as an absent attribute.
    pub optional: Option<Sp<bool>>,
    /// The default value.
    pub default: Option<Sp<RawValue>>,
    /// The attribute name, when not the field name.
    pub attribute: Option<Sp<String>>,
    /// Rustdoc of the field.
    pub doc: Option<Sp<String>>,
    /// Checks run before every write.
    pub validate: Option<Sp<RawValidate>>,
    /// Enum values (`type = "enum"`).
    pub values: Option<Sp<Vec<Sp<String>>>>,
    /// Storage format of a datetime.
    pub format: Option<Sp<String>>,
    /// The Rust type of a custom field.
    pub rust: Option<Sp<String>>,
    /// How a custom field is stored: `S`, `N` or `B`.
    pub stored: Option<Sp<String>>,
    /// Enum values no longer in `values`, each mapped to the value stored
    /// items get instead: `{ shipped = "sent" }`.
    pub renamed_values: Option<Sp<BTreeMap<Sp<String>, Sp<String>>>>,
    /// `read_only = true`: set when the item is created, never changed.
    pub read_only: Option<Sp<bool>>,
    /// `unique = true`: no two items of the type have one value.
    pub unique: Option<Sp<bool>>,
    /// `computed = "{name:lower}"`: rendered from other fields at every
    /// write.
    pub computed: Option<Sp<String>>,
    /// `encrypted = true`: stored sealed with the app's keyring.
    pub encrypted: Option<Sp<bool>>,
}

/// The table form of [`RawField`].
#[derive(Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
struct FieldTable {
    /// `string`, `bool`, `i8`…`u64`, `f32`, `f64`, `number`, `bytes`, `datetime`, `date`, `uuid`, `json`, `enum`, `set<T>`, `list<T>`, `map<T>`, a `[type.Name]`, or `custom`.
    #[serde(rename = "type")]
    ty: Sp<String>,
    /// `Option<T>`: `None` is stored as an absent attribute.
    optional: Option<Sp<bool>>,
    /// The default: a TOML value of the field's type; `"now"` for datetimes; `"new"` (v4, random) or `"v7"` (time-ordered) for uuids; `"ulid"` for strings (a new ULID).
    default: Option<Sp<RawValue>>,
    /// The attribute name in DynamoDB, when not the field name.
    attribute: Option<Sp<String>>,
    /// Rustdoc of the generated field.
    doc: Option<Sp<String>>,
    /// Checks run before every write.
    validate: Option<Sp<RawValidate>>,
    /// The values of an enum field.
    values: Option<Sp<Vec<Sp<String>>>>,
    /// Datetime storage: `rfc3339` (S, the default), `epoch_seconds` or `epoch_millis` (N).
    #[cfg_attr(feature = "json-schema", schemars(extend("enum" = ["rfc3339", "epoch_seconds", "epoch_millis"])))]
    format: Option<Sp<String>>,
    /// The Rust type of a custom field, e.g. `crate::money::Money`.
    rust: Option<Sp<String>>,
    /// How a custom field is stored: `S`, `N` or `B`.
    #[cfg_attr(feature = "json-schema", schemars(extend("enum" = ["S", "N", "B"])))]
    stored: Option<Sp<String>>,
    /// Enum values no longer in `values`, each mapped to the value stored items get instead, e.g. `{ shipped = "sent" }`: the next migration rewrites them, and reads map them meanwhile.
    renamed_values: Option<Sp<BTreeMap<Sp<String>, Sp<String>>>>,
    /// Set when the item is created and never changed after (ElectroDB's `readOnly`): updates have no action for it, and a put that would change a stored item's value fails.
    read_only: Option<Sp<bool>>,
    /// No two items of the type have one value (OneTable's `unique`): puts and deletes keep a marker item per value in the same transaction, and a duplicate fails with `Error::Unique`; updates cannot change it.
    unique: Option<Sp<bool>>,
    /// A string rendered from other fields of the item at every write (DynamoDB-Toolbox's `link`, ElectroDB's `watch`), by a template like a key's: `{field}`, `{field:lower}`, `{field:upper}`, `{n:08}`. Puts render it, updates that set one of its fields take the others and render it again; it has no setter of its own.
    computed: Option<Sp<String>>,
    /// Stored encrypted (OneTable's `crypt`): AES-256-GCM with the key the app installs (`dynamo_runtime::Keyring`), the key's id stored with the value for rotation, decrypted on read. `string` and `bytes` fields of item types; never part of a key, a computed template or a condition.
    encrypted: Option<Sp<bool>>,
}

impl<'de> Deserialize<'de> for RawField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        string_or_table::<FieldTable, _, _>(
            deserializer,
            r#"a type name, or a table like { type = "string", optional = true }"#,
            |ty| RawField {
                ty: Sp::new(0..0, ty),
                ..RawField::default()
            },
            |t| RawField {
                ty: t.ty,
                optional: t.optional,
                default: t.default,
                attribute: t.attribute,
                doc: t.doc,
                validate: t.validate,
                values: t.values,
                format: t.format,
                rust: t.rust,
                stored: t.stored,
                renamed_values: t.renamed_values,
                read_only: t.read_only,
                unique: t.unique,
                computed: t.computed,
                encrypted: t.encrypted,
            },
        )
    }
}

/// `validate = { ... }` of a field.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawValidate {
    /// The smallest allowed value (numbers).
    pub min: Option<Sp<RawValue>>,
    /// The largest allowed value (numbers).
    pub max: Option<Sp<RawValue>>,
    /// The smallest length: characters of a string, bytes, elements of a list, set or map.
    pub min_len: Option<Sp<i64>>,
    /// The largest length.
    pub max_len: Option<Sp<i64>>,
    /// A regular expression a string must match (Rust `regex` syntax).
    pub pattern: Option<Sp<String>>,
}

/// Any TOML value, with spans down to every element.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    /// A string.
    String(String),
    /// An integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A TOML date, time or date-time.
    Datetime(toml::value::Datetime),
    /// An array.
    Array(Vec<Sp<RawValue>>),
    /// A table.
    Table(BTreeMap<String, Sp<RawValue>>),
}

impl RawValue {
    /// The TOML name of the value's type, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            RawValue::String(_) => "a string",
            RawValue::Integer(_) => "an integer",
            RawValue::Float(_) => "a float",
            RawValue::Bool(_) => "a boolean",
            RawValue::Datetime(_) => "a datetime",
            RawValue::Array(_) => "an array",
            RawValue::Table(_) => "a table",
        }
    }
}

/// The key under which toml hands a datetime to a visitor.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = RawValue;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a TOML value")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawValue::String(v.to_owned()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(RawValue::Integer(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map(RawValue::Integer)
                    .map_err(|_| E::custom("integer out of range"))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(RawValue::Float(v))
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(RawValue::Bool(v))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(RawValue::Array(out))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == TOML_DATETIME_KEY {
                        let text: String = map.next_value()?;
                        return text
                            .parse()
                            .map(RawValue::Datetime)
                            .map_err(de::Error::custom);
                    }
                    let value: Sp<RawValue> = map.next_value()?;
                    out.insert(key, value);
                }
                Ok(RawValue::Table(out))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `[collection.name]`
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawCollection {
    /// Rustdoc of the generated enum.
    pub doc: Option<Sp<String>>,
    /// `"table"` (the default) for the table's own key, or an index name.
    pub index: Option<Sp<String>>,
    /// The item types read together; they share one partition template on the index.
    pub items: Sp<Vec<Sp<String>>>,
}

/// Deserializes `"name"` with `short` or a table `T` with `long`.
pub(super) fn string_or_table<'de, T, R, D>(
    deserializer: D,
    expecting: &'static str,
    short: impl FnOnce(String) -> R,
    long: impl FnOnce(T) -> R,
) -> Result<R, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    struct Visitor<S, L, T> {
        expecting: &'static str,
        short: S,
        long: L,
        table: std::marker::PhantomData<T>,
    }
    impl<'de, T, R, S, L> de::Visitor<'de> for Visitor<S, L, T>
    where
        T: Deserialize<'de>,
        S: FnOnce(String) -> R,
        L: FnOnce(T) -> R,
    {
        type Value = R;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.expecting)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<R, E> {
            Ok((self.short)(v.to_owned()))
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<R, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map)).map(self.long)
        }
    }
    deserializer.deserialize_any(Visitor {
        expecting,
        short,
        long,
        table: std::marker::PhantomData,
    })
}

/// JSON Schema descriptions of the string-or-table values, which serde
/// reads with hand-written visitors.
#[cfg(feature = "json-schema")]
mod json_schema {
    use std::borrow::Cow;

    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

    use super::{FieldTable, KeyAttributeTable, RawThroughput};

    impl JsonSchema for super::RawKeyAttribute {
        fn schema_name() -> Cow<'static, str> {
            "KeyAttribute".into()
        }

        fn json_schema(generator: &mut SchemaGenerator) -> Schema {
            let table = generator.subschema_for::<KeyAttributeTable>();
            json_schema!({
                "description": "A key attribute: its name (type S), or `{ name, type }`.",
                "anyOf": [{ "type": "string", "minLength": 1, "maxLength": 255 }, table]
            })
        }
    }

    impl JsonSchema for super::RawIndexKey {
        fn schema_name() -> Cow<'static, str> {
            "IndexKey".into()
        }

        fn json_schema(generator: &mut SchemaGenerator) -> Schema {
            let one = generator.subschema_for::<super::RawKeyAttribute>();
            json_schema!({
                "description": "An index key: one attribute, or a list of up to four (a multi-attribute key of a global index; each a field of the item types, queried left to right).",
                "anyOf": [one, { "type": "array", "items": one, "minItems": 1, "maxItems": 4 }]
            })
        }
    }

    impl JsonSchema for super::RawBilling {
        fn schema_name() -> Cow<'static, str> {
            "Billing".into()
        }

        fn json_schema(generator: &mut SchemaGenerator) -> Schema {
            let provisioned = generator.subschema_for::<RawThroughput>();
            json_schema!({
                "description": "`\"on_demand\"` (the default) or provisioned `{ read, write }` capacity units.",
                "anyOf": [{ "type": "string", "enum": ["on_demand"] }, provisioned]
            })
        }
    }

    impl JsonSchema for super::RawProjection {
        fn schema_name() -> Cow<'static, str> {
            "Projection".into()
        }

        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "What the index stores besides keys: `\"all\"` (the default), `\"keys_only\"`, or the attributes to include.",
                "anyOf": [
                    { "type": "string", "enum": ["all", "keys_only"] },
                    { "type": "array", "items": { "type": "string" }, "minItems": 1 }
                ]
            })
        }
    }

    impl JsonSchema for super::RawField {
        fn schema_name() -> Cow<'static, str> {
            "Field".into()
        }

        fn json_schema(generator: &mut SchemaGenerator) -> Schema {
            let table = generator.subschema_for::<FieldTable>();
            json_schema!({
                "description": "A field: its type (`\"string\"`, `\"u32\"`, `\"list<string>\"`, a `[type.Name]`, ...), or a table with `type` and options.",
                "anyOf": [{ "type": "string" }, table]
            })
        }
    }

    impl JsonSchema for super::RawValue {
        fn schema_name() -> Cow<'static, str> {
            "Value".into()
        }

        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({ "description": "A TOML value of the field's type." })
        }
    }
}
