//! Stage 1: read schema and migration files and parse them into raw structs
//! that mirror the TOML, with spans for every value diagnostics may point
//! at. Nothing is checked here beyond TOML syntax and the shape of each
//! section; [`crate::validate`] does the rest.
//!
//! Each top-level section (`[table]`, every `[index.X]`, `[item.X]`,
//! `[type.X]`, `[collection.X]` and every migration `[[step]]`) is
//! deserialized on its own, so one malformed section does not hide the
//! problems of the others.
//!
//! The raw structs double as the source of the JSON Schema of the format
//! (feature `json-schema`): their doc comments are what editors show.

use std::{
    borrow::Borrow,
    collections::{BTreeMap, BTreeSet},
    fmt,
    ops::{Deref, Range},
    path::{Path, PathBuf},
    sync::Arc,
};

use serde::{
    Deserialize, Deserializer,
    de::{self, MapAccess, SeqAccess, value::MapAccessDeserializer},
};
use toml::{
    Spanned,
    de::{DeTable, DeValue, ValueDeserializer},
};

use crate::{
    Error,
    diagnostics::{Diagnostic, Diagnostics, SourceFile, did_you_mean},
};

#[cfg(feature = "json-schema")]
use schemars::JsonSchema;

/// A value with the byte range it was read from.
///
/// A thin wrapper over [`toml::Spanned`] that compares by value, derefs to
/// the value and describes itself in the JSON Schema as the value does.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(transparent)]
pub struct Sp<T>(pub Spanned<T>);

impl<T> Sp<T> {
    /// A value at `span`.
    pub fn new(span: Range<usize>, value: T) -> Self {
        Sp(Spanned::new(span, value))
    }

    /// The byte range of the value in its file.
    pub fn span(&self) -> Range<usize> {
        self.0.span()
    }

    /// The value.
    pub fn get(&self) -> &T {
        self.0.get_ref()
    }
}

impl<T: Default> Default for Sp<T> {
    fn default() -> Self {
        Sp::new(0..0, T::default())
    }
}

impl<T> Deref for Sp<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0.get_ref()
    }
}

impl<T: fmt::Debug> fmt::Debug for Sp<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.get_ref().fmt(f)
    }
}

impl Borrow<str> for Sp<String> {
    fn borrow(&self) -> &str {
        self.0.get_ref()
    }
}

#[cfg(feature = "json-schema")]
impl<T: JsonSchema> JsonSchema for Sp<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// A shorthand string's span is unknown inside its visitor (the enclosing
/// `Sp` holds it); this gives the inner span, or `outer` for shorthands.
pub fn span_or<T>(inner: &Sp<T>, outer: Range<usize>) -> Range<usize> {
    if inner.span().is_empty() {
        outer
    } else {
        inner.span()
    }
}

/// A map from a name as written (with its span) to a section.
pub type Named<T> = BTreeMap<Sp<String>, Sp<T>>;

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
    /// Collections: item types read together in one query, by name (snake_case).
    #[serde(default)]
    pub collection: Named<RawCollection>,
}

/// `[table]`
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawTable {
    /// Logical table name, 3 to 255 of `a-z A-Z 0-9 _ - .`; the runtime adds the namespace prefix.
    pub name: Sp<String>,
    /// The partition key attribute: `"pk"` or `{ name = "pk", type = "S" }`.
    pub partition_key: Sp<RawKeyAttribute>,
    /// The sort key attribute, if the table has one.
    pub sort_key: Option<Sp<RawKeyAttribute>>,
    /// `"on_demand"` (the default) or provisioned `{ read = 5, write = 5 }`.
    pub billing: Option<Sp<RawBilling>>,
    /// The TTL attribute: items expire at the epoch seconds it holds.
    pub ttl: Option<Sp<String>>,
    /// DynamoDB Streams view: `keys_only`, `new_image`, `old_image` or `new_and_old_images`.
    #[cfg_attr(feature = "json-schema", schemars(extend("enum" = ["keys_only", "new_image", "old_image", "new_and_old_images"])))]
    pub stream: Option<Sp<String>>,
    /// The attribute holding each item's type name (default `_type`).
    pub type_attribute: Option<Sp<String>>,
    /// The separator of multi-field key templates (default `#`).
    pub key_separator: Option<Sp<String>>,
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

/// Billing: `"on_demand"` or `{ read = 5, write = 5 }`.
#[derive(Debug)]
pub enum RawBilling {
    /// A mode name (only `on_demand` is valid).
    Mode(Sp<String>),
    /// Provisioned capacity units.
    Provisioned(RawThroughput),
}

/// Provisioned read and write capacity units.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawThroughput {
    /// Read capacity units (at least 1).
    pub read: Sp<i64>,
    /// Write capacity units (at least 1).
    pub write: Sp<i64>,
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
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawIndex {
    /// `true` for a local secondary index (it shares the table's partition key).
    pub local: Option<Sp<bool>>,
    /// The index's partition key attribute (global indexes).
    pub partition_key: Option<Sp<RawKeyAttribute>>,
    /// The index's sort key attribute (required for local indexes).
    pub sort_key: Option<Sp<RawKeyAttribute>>,
    /// `"all"` (the default), `"keys_only"`, or a list of attributes to include.
    pub projection: Option<Sp<RawProjection>>,
    /// Read capacity units of a global index on a provisioned table.
    pub read: Option<Sp<i64>>,
    /// Write capacity units of a global index on a provisioned table.
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
    /// The default: a TOML value of the field's type; `"now"` for datetimes, `"new"` for uuids.
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

/// One migration file.
#[derive(Debug, Default)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[cfg_attr(
    feature = "json-schema",
    schemars(title = "dynamo-codegen migration", deny_unknown_fields)
)]
pub struct RawMigration {
    /// What the migration does, for `migrate status`.
    pub description: Option<Sp<String>>,
    /// The steps, applied in order.
    pub step: Vec<Sp<RawStep>>,
}

/// A migration step; `op` names its kind.
#[derive(Debug)]
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
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawCreateTable {
    /// The logical table name.
    pub table: Sp<String>,
    /// The partition key attribute.
    pub partition_key: Sp<RawKeyAttribute>,
    /// The sort key attribute.
    pub sort_key: Option<Sp<RawKeyAttribute>>,
    /// `"on_demand"` (the default) or `{ read = 5, write = 5 }`.
    pub billing: Option<Sp<RawBilling>>,
    /// The TTL attribute.
    pub ttl: Option<Sp<String>>,
    /// The stream view.
    #[cfg_attr(feature = "json-schema", schemars(extend("enum" = ["keys_only", "new_image", "old_image", "new_and_old_images"])))]
    pub stream: Option<Sp<String>>,
    /// Indexes created with the table (local indexes can only be created here).
    #[serde(default)]
    pub index: Named<RawIndex>,
}

/// `op = "delete_table"`
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawTableRef {
    /// The logical table name.
    pub table: Sp<String>,
}

/// `op = "add_index"`
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawAddIndex {
    /// The logical table name.
    pub table: Sp<String>,
    /// The new index's name.
    pub index: Sp<String>,
    /// Not allowed: local indexes are created with their table.
    pub local: Option<Sp<bool>>,
    /// The index's partition key attribute.
    pub partition_key: Option<Sp<RawKeyAttribute>>,
    /// The index's sort key attribute.
    pub sort_key: Option<Sp<RawKeyAttribute>>,
    /// `"all"` (the default), `"keys_only"`, or attributes to include.
    pub projection: Option<Sp<RawProjection>>,
    /// Read capacity units (provisioned tables).
    pub read: Option<Sp<i64>>,
    /// Write capacity units (provisioned tables).
    pub write: Option<Sp<i64>>,
}

/// `op = "remove_index"`
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawIndexRef {
    /// The logical table name.
    pub table: Sp<String>,
    /// The index to remove.
    pub index: Sp<String>,
}

/// `op = "update_ttl"`
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawUpdateTtl {
    /// The logical table name.
    pub table: Sp<String>,
    /// The TTL attribute.
    pub attribute: Sp<String>,
    /// `true` (the default) turns TTL on, `false` off.
    pub enabled: Option<Sp<bool>>,
}

/// `op = "update_stream"`
#[derive(Debug, Deserialize)]
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
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawUpdateBilling {
    /// The logical table name.
    pub table: Sp<String>,
    /// `"on_demand"` or `{ read = 5, write = 5 }`.
    pub billing: Sp<RawBilling>,
}

/// `op = "backfill"`
#[derive(Debug, Deserialize)]
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

/// The step kinds, as `op` names them.
pub const STEP_KINDS: [&str; 8] = [
    "create_table",
    "delete_table",
    "add_index",
    "remove_index",
    "update_ttl",
    "update_stream",
    "update_billing",
    "backfill",
];

/// Deserializes `"name"` with `short` or a table `T` with `long`.
fn string_or_table<'de, T, R, D>(
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

/// One parsed table file.
#[derive(Debug)]
pub struct RawFile {
    /// The file, for diagnostics.
    pub source: Arc<SourceFile>,
    /// The file name relative to the schema folder, e.g. `shop.toml`.
    pub relative_name: String,
    /// The sections that parsed.
    pub schema: RawSchema,
    /// Names of item and nested types whose section did not parse (already
    /// reported): references to them are not reported again.
    pub broken: BTreeSet<String>,
}

/// One parsed migration file.
#[derive(Debug)]
pub struct RawMigrationFile {
    /// The file, for diagnostics.
    pub source: Arc<SourceFile>,
    /// The file name, e.g. `0001_create_shop.toml`.
    pub file_name: String,
    /// The steps that parsed.
    pub migration: RawMigration,
    /// Whether some step did not parse (already reported).
    pub broken: bool,
}

/// Everything read from a schema folder.
#[derive(Debug, Default)]
pub struct Loaded {
    /// `*.toml` table files, by file name.
    pub files: Vec<RawFile>,
    /// `migrations/*.toml`, by file name.
    pub migrations: Vec<RawMigrationFile>,
}

/// The `*.toml` files directly inside `dir`, sorted by name; an absent
/// folder has none when `optional`.
pub fn toml_files(dir: &Path, optional: bool) -> Result<Vec<PathBuf>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if optional && e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Io {
                path: dir.to_owned(),
                source,
            });
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| Error::Io {
                path: dir.to_owned(),
                source,
            })?
            .path();
        if path.is_file() && path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Every file a run over `dir` reads: the table files, then the migrations.
pub fn schema_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files = toml_files(dir, false)?;
    files.extend(toml_files(&dir.join("migrations"), true)?);
    Ok(files)
}

fn read(path: &Path, dir: &Path) -> Result<(Arc<SourceFile>, String), Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let relative = path
        .strip_prefix(dir)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    let source = Arc::new(SourceFile {
        name: path.display().to_string(),
        text,
    });
    Ok((source, relative))
}

/// Reads and parses every table and migration file of `dir`. Problems go to
/// `diagnostics`; what parsed is returned.
pub fn load_dir(dir: &Path, diagnostics: &mut Diagnostics) -> Result<Loaded, Error> {
    let mut loaded = Loaded::default();
    for path in toml_files(dir, false)? {
        let (source, relative_name) = read(&path, dir)?;
        if let Some(file) = parse(source, relative_name, diagnostics) {
            loaded.files.push(file);
        }
    }
    let migrations = dir.join("migrations");
    for path in toml_files(&migrations, true)? {
        let (source, file_name) = read(&path, &migrations)?;
        if let Some(file) = parse_migration(source, file_name, diagnostics) {
            loaded.migrations.push(file);
        }
    }
    Ok(loaded)
}

/// The top-level tables of a file, or `None` after reporting syntax errors.
fn document<'a>(source: &'a Arc<SourceFile>, diagnostics: &mut Diagnostics) -> Option<DeTable<'a>> {
    let (root, errors) = DeTable::parse_recoverable(&source.text);
    if errors.is_empty() {
        return Some(root.into_inner());
    }
    for error in &errors {
        diagnostics.push(toml_diagnostic(source, error));
    }
    None
}

/// Deserializes one section, reporting a shape error.
fn section<T: for<'de> Deserialize<'de>>(
    source: &Arc<SourceFile>,
    value: Spanned<DeValue<'_>>,
    diagnostics: &mut Diagnostics,
) -> Option<Sp<T>> {
    match Sp::<T>::deserialize(ValueDeserializer::from(value)) {
        Ok(v) => Some(v),
        Err(error) => {
            diagnostics.push(toml_diagnostic(source, &error));
            None
        }
    }
}

/// Deserializes every entry of a `[kind.Name]` table separately.
fn sections<T: for<'de> Deserialize<'de>>(
    source: &Arc<SourceFile>,
    kind: &str,
    value: Spanned<DeValue<'_>>,
    out: &mut Named<T>,
    broken: &mut BTreeSet<String>,
    diagnostics: &mut Diagnostics,
) {
    let span = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        let d = Diagnostic::error(
            "dynamo::toml",
            source,
            span,
            format!("`{kind}` must be a table of named sections"),
            "not a table",
        )
        .help(format!("write `[{kind}.Name]` headers"));
        diagnostics.push(d);
        return;
    };
    for (name, value) in table {
        let key = Sp::new(name.span(), name.get_ref().to_string());
        match section(source, value, diagnostics) {
            Some(v) => {
                out.insert(key, v);
            }
            None => {
                broken.insert(key.get().clone());
            }
        }
    }
}

fn unknown_key(
    source: &Arc<SourceFile>,
    span: Range<usize>,
    unknown: &str,
    expected: &[&str],
) -> Diagnostic {
    let list = expected
        .iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Diagnostic::error(
        "dynamo::unknown_key",
        source,
        span,
        format!("unknown key `{unknown}`"),
        "not a key of this table",
    )
    .help(match did_you_mean(unknown, expected.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? The keys allowed here are {list}"),
        None => format!("the keys allowed here are {list}"),
    })
}

/// Parses one table file's text. Returns `None` when nothing usable parsed.
pub fn parse(
    source: Arc<SourceFile>,
    relative_name: String,
    diagnostics: &mut Diagnostics,
) -> Option<RawFile> {
    let mut schema = RawSchema::default();
    let mut broken = BTreeSet::new();
    {
        let root = document(&source, diagnostics)?;
        for (key, value) in root {
            let s = &source;
            match key.get_ref().as_ref() {
                "table" => schema.table = section(s, value, diagnostics),
                "index" => sections(
                    s,
                    "index",
                    value,
                    &mut schema.index,
                    &mut broken,
                    diagnostics,
                ),
                "item" => sections(s, "item", value, &mut schema.item, &mut broken, diagnostics),
                "type" => sections(
                    s,
                    "type",
                    value,
                    &mut schema.types,
                    &mut broken,
                    diagnostics,
                ),
                "collection" => sections(
                    s,
                    "collection",
                    value,
                    &mut schema.collection,
                    &mut broken,
                    diagnostics,
                ),
                other => diagnostics.push(unknown_key(
                    s,
                    key.span(),
                    other,
                    &["table", "index", "item", "type", "collection"],
                )),
            }
        }
    }
    if schema.table.is_none() && !diagnostics.has_errors_in(&source) {
        let d = Diagnostic::error(
            "dynamo::missing_table",
            &source,
            0..0,
            format!("`{relative_name}` has no `[table]` section"),
            "every schema file describes one table",
        )
        .help("start the file with `[table]`, `name = \"...\"` and `partition_key = \"pk\"`");
        diagnostics.push(d);
    }
    schema.table.as_ref()?;
    Some(RawFile {
        source,
        relative_name,
        schema,
        broken,
    })
}

/// Parses one migration file's text.
pub fn parse_migration(
    source: Arc<SourceFile>,
    file_name: String,
    diagnostics: &mut Diagnostics,
) -> Option<RawMigrationFile> {
    let mut migration = RawMigration::default();
    let mut broken = false;
    {
        let root = document(&source, diagnostics)?;
        for (key, value) in root {
            match key.get_ref().as_ref() {
                "description" => {
                    migration.description = section(&source, value, diagnostics);
                    broken |= migration.description.is_none();
                }
                "step" => {
                    let span = value.span();
                    let DeValue::Array(steps) = value.into_inner() else {
                        let d = Diagnostic::error(
                            "dynamo::toml",
                            &source,
                            span,
                            "`step` must be an array of tables",
                            "not `[[step]]` tables",
                        )
                        .help("write each step as a `[[step]]` table with an `op`");
                        diagnostics.push(d);
                        broken = true;
                        continue;
                    };
                    for step in steps.iter().cloned() {
                        match parse_step(&source, step, diagnostics) {
                            Some(step) => migration.step.push(step),
                            None => broken = true,
                        }
                    }
                }
                other => {
                    diagnostics.push(unknown_key(
                        &source,
                        key.span(),
                        other,
                        &["description", "step"],
                    ));
                    broken = true;
                }
            }
        }
    }
    Some(RawMigrationFile {
        source,
        file_name,
        migration,
        broken,
    })
}

fn parse_step(
    source: &Arc<SourceFile>,
    step: Spanned<DeValue<'_>>,
    diagnostics: &mut Diagnostics,
) -> Option<Sp<RawStep>> {
    let span = step.span();
    let DeValue::Table(mut table) = step.into_inner() else {
        let d = Diagnostic::error(
            "dynamo::toml",
            source,
            span,
            "a step must be a table",
            "not a table",
        )
        .help("write each step as a `[[step]]` table with an `op`");
        diagnostics.push(d);
        return None;
    };
    let Some((_, op)) = table.remove_entry("op") else {
        let d = Diagnostic::error(
            "dynamo::missing_key",
            source,
            span.start..span.start + "[[step]]".len().min(span.len()),
            "step has no `op`",
            "this step",
        )
        .help(format!(
            "add `op = \"...\"`, one of {}",
            STEP_KINDS.map(|k| format!("`{k}`")).join(", ")
        ));
        diagnostics.push(d);
        return None;
    };
    let op_span = op.span();
    let Some(kind) = op.get_ref().as_str() else {
        let d = Diagnostic::error(
            "dynamo::step_kind",
            source,
            op_span,
            "`op` must be a string",
            "not a string",
        )
        .help(format!(
            "one of {}",
            STEP_KINDS.map(|k| format!("`{k}`")).join(", ")
        ));
        diagnostics.push(d);
        return None;
    };
    let rest = Spanned::new(span.clone(), DeValue::Table(table));
    let s = source;
    let step = match kind {
        "create_table" => RawStep::CreateTable(section(s, rest, diagnostics)?.0.into_inner()),
        "delete_table" => RawStep::DeleteTable(section(s, rest, diagnostics)?.0.into_inner()),
        "add_index" => RawStep::AddIndex(section(s, rest, diagnostics)?.0.into_inner()),
        "remove_index" => RawStep::RemoveIndex(section(s, rest, diagnostics)?.0.into_inner()),
        "update_ttl" => RawStep::UpdateTtl(section(s, rest, diagnostics)?.0.into_inner()),
        "update_stream" => RawStep::UpdateStream(section(s, rest, diagnostics)?.0.into_inner()),
        "update_billing" => RawStep::UpdateBilling(section(s, rest, diagnostics)?.0.into_inner()),
        "backfill" => RawStep::Backfill(section(s, rest, diagnostics)?.0.into_inner()),
        other => {
            let list = STEP_KINDS.map(|k| format!("`{k}`")).join(", ");
            let d = Diagnostic::error(
                "dynamo::step_kind",
                source,
                op_span,
                format!("unknown step kind `{other}`"),
                "not a step kind",
            )
            .help(match did_you_mean(other, STEP_KINDS) {
                Some(k) => format!("did you mean `{k}`? The step kinds are {list}"),
                None => format!("the step kinds are {list}"),
            });
            diagnostics.push(d);
            return None;
        }
    };
    Some(Sp::new(span, step))
}

/// Turns a TOML or serde error into a diagnostic, with "did you mean" for
/// unknown keys.
fn toml_diagnostic(source: &Arc<SourceFile>, error: &toml::de::Error) -> Diagnostic {
    let span = error.span().unwrap_or(0..0);
    let message = error.message().trim_end().to_owned();
    if let Some((unknown, expected)) = parse_unknown_field(&message) {
        if expected.is_empty() {
            return Diagnostic::error(
                "dynamo::unknown_key",
                source,
                span,
                format!("unknown key `{unknown}`"),
                "not a key of this table",
            )
            .help("no keys are allowed here");
        }
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        return unknown_key(source, span, &unknown, &expected);
    }
    if let Some(missing) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        return Diagnostic::error(
            "dynamo::missing_key",
            source,
            span,
            format!("missing key `{missing}`"),
            format!("this table needs `{missing}`"),
        )
        .help(format!(
            "add `{missing} = ...` to this table (see docs/schema.md)"
        ));
    }
    if message.starts_with("invalid type:") {
        let expected = message.split_once(", expected ").map(|(_, e)| e.to_owned());
        let help = match (key_before(&source.text, span.start), expected) {
            (Some(key), Some(expected)) => {
                format!("`{key}` takes {expected}; docs/schema.md lists every key and its value")
            }
            _ => "docs/schema.md lists every key and the type of its value".to_owned(),
        };
        return Diagnostic::error(
            "dynamo::value_type",
            source,
            span,
            message,
            "wrong kind of value",
        )
        .help(help);
    }
    Diagnostic::error("dynamo::toml", source, span, message, "here")
        .help("schema files are TOML 1.0; docs/schema.md lists every key and the type of its value")
}

/// The key of `key = value` (also inside an inline table) when `value`
/// starts at `at`.
fn key_before(text: &str, at: usize) -> Option<&str> {
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let (key_part, rest) = text.get(line_start..at)?.rsplit_once('=')?;
    let key = key_part.rsplit([',', '{']).next()?.trim().trim_matches('"');
    (rest.trim().is_empty() && !key.is_empty() && !key.contains(['[', ' '])).then_some(key)
}

/// Splits serde's "unknown field `x`, expected one of `a`, `b`" (or
/// "expected `a`", or "there are no fields") into its names.
fn parse_unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some((unknown.to_owned(), expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> (Option<RawFile>, Diagnostics) {
        let mut diagnostics = Diagnostics::default();
        let source = Arc::new(SourceFile {
            name: "t.toml".into(),
            text: text.into(),
        });
        (
            parse(source, "t.toml".into(), &mut diagnostics),
            diagnostics,
        )
    }

    #[test]
    fn parses_shorthand_and_tables() {
        let (file, d) = load(
            r#"
            [table]
            name = "shop"
            partition_key = "pk"
            sort_key = { name = "sk", type = "S" }
            billing = { read = 5, write = 2 }
            [index.gsi1]
            partition_key = "gsi1pk"
            projection = ["email"]
            [item.A.keys]
            pk = "A#{id}"
            [item.A.fields]
            id = "string"
            n = { type = "u32", optional = true, default = 3 }
            at = { type = "datetime", default = 2024-01-02T03:04:05Z }
            tags = { type = "list<string>", default = ["a", "b"] }
            "#,
        );
        assert!(!d.has_errors(), "{}", d.render());
        let file = file.unwrap();
        let table = file.schema.table.as_ref().unwrap();
        assert_eq!(table.partition_key.name.get(), "pk");
        let sk = table.sort_key.as_ref().unwrap();
        assert_eq!(sk.ty.as_ref().unwrap().get(), "S");
        assert!(matches!(
            table.billing.as_deref(),
            Some(RawBilling::Provisioned(_))
        ));
        let item = file.schema.item.values().next().unwrap();
        assert_eq!(item.fields.len(), 4);
        let at = item.fields.get("at").unwrap();
        assert!(matches!(at.default.as_deref(), Some(RawValue::Datetime(_))));
        let tags = item.fields.get("tags").unwrap();
        let Some(RawValue::Array(elements)) = tags.default.as_deref() else {
            panic!("not an array");
        };
        assert_eq!(&file.source.text[elements[1].span()], "\"b\"");
    }

    #[test]
    fn unknown_key_suggests_the_closest() {
        let (file, d) = load("[table]\nnmae = \"shop\"\npartition_key = \"pk\"\n");
        assert!(file.is_none());
        let diag = d.iter().next().unwrap();
        assert_eq!(diag.code, "dynamo::unknown_key");
        assert_eq!(&diag.file.text[diag.span.clone()], "nmae");
        assert!(
            diag.help
                .as_deref()
                .unwrap()
                .starts_with("did you mean `name`?")
        );
    }

    #[test]
    fn a_broken_section_does_not_hide_the_others() {
        let (file, d) = load(
            "[table]\nname = \"shop\"\npartition_key = \"pk\"\n\
             [item.A]\nkyes = 1\n[item.B.fields]\nid = { type = \"string\", optinal = true }\n\
             [item.C.fields]\nid = \"string\"\n",
        );
        let codes: Vec<_> = d.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["dynamo::unknown_key", "dynamo::unknown_key"]);
        let file = file.unwrap();
        assert_eq!(file.schema.item.len(), 1);
        assert_eq!(
            file.broken.iter().map(String::as_str).collect::<Vec<_>>(),
            ["A", "B"]
        );
    }

    #[test]
    fn wrong_kinds_of_values_name_their_key() {
        let text = "[item.A.fields]\nid = { type = \"string\", optional = \"yes\" }\n";
        assert_eq!(
            key_before(text, text.find("\"yes").unwrap()),
            Some("optional")
        );
        assert_eq!(key_before("name = 42", 7), Some("name"));
        assert_eq!(key_before("[table]", 3), None);
    }

    #[test]
    fn syntax_errors_are_located() {
        let (_, d) = load("[table\nname = 1");
        let diag = d.iter().next().unwrap();
        assert_eq!(diag.code, "dynamo::toml");
        assert!(diag.span.start <= 7);
    }

    #[test]
    fn migration_steps_by_kind() {
        let mut d = Diagnostics::default();
        let source = Arc::new(SourceFile {
            name: "m.toml".into(),
            text: "description = \"x\"\n[[step]]\nop = \"delete_table\"\ntable = \"a\"\n\
                   [[step]]\nop = \"drop_table\"\ntable = \"a\"\n[[step]]\nop = \"add_index\"\n"
                .into(),
        });
        let m = parse_migration(source, "0001_x.toml".into(), &mut d).unwrap();
        assert_eq!(m.migration.step.len(), 1);
        assert!(m.broken);
        let codes: Vec<_> = d.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["dynamo::step_kind", "dynamo::missing_key"]);
        assert!(
            d.iter()
                .next()
                .unwrap()
                .help
                .as_deref()
                .unwrap()
                .contains("`delete_table`")
        );
    }
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
