//! Stage 3: the resolved model. Validation produces it; emitters and the
//! migration planner accept only it. Everything here is checked: names are
//! usable, types resolve, templates resolve to fields, every item fills its
//! table's key attributes, and defaults fit their fields.

use std::collections::BTreeMap;

/// Every table and migration of a schema folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The tables, ordered by file name.
    pub tables: Vec<Table>,
    /// The migrations, ordered by number.
    pub migrations: Vec<Migration>,
}

/// One table file: the DynamoDB table and what is stored in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The table as DynamoDB sees it (what migrations create).
    pub def: TableDef,
    /// The schema file, relative to the schema folder, e.g. `shop.toml`.
    pub file: String,
    /// The attribute naming each item's type.
    pub type_attribute: String,
    /// The separator checked in multi-field key templates.
    pub key_separator: String,
    /// The item types, in schema order.
    pub items: Vec<Item>,
    /// Nested types (`[type.Name]`), in schema order.
    pub types: Vec<NestedType>,
    /// Enums of enum fields, in order of their fields.
    pub enums: Vec<EnumDef>,
    /// Collections, in schema order.
    pub collections: Vec<Collection>,
}

impl Table {
    /// The index named `name`.
    pub fn index(&self, name: &str) -> Option<&Index> {
        self.def.indexes.iter().find(|i| i.name == name)
    }
}

/// The physical table: what CreateTable and UpdateTable deal with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    /// The logical table name (the runtime adds the namespace).
    pub name: String,
    /// The partition key attribute.
    pub partition_key: KeyAttribute,
    /// The sort key attribute, if any.
    pub sort_key: Option<KeyAttribute>,
    /// On-demand or provisioned.
    pub billing: Billing,
    /// The TTL attribute, if TTL is on.
    pub ttl: Option<String>,
    /// The stream view, if streams are on.
    pub stream: Option<StreamView>,
    /// Secondary indexes, in schema order.
    pub indexes: Vec<Index>,
}

/// A key attribute of a table or index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAttribute {
    /// The attribute name.
    pub name: String,
    /// Its DynamoDB type.
    pub ty: KeyType,
}

/// The DynamoDB type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

/// Capacity mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billing {
    /// Pay per request.
    OnDemand,
    /// Provisioned capacity.
    Provisioned(Throughput),
}

/// Provisioned read and write capacity units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throughput {
    /// Read capacity units.
    pub read: u64,
    /// Write capacity units.
    pub write: u64,
}

/// What a DynamoDB stream record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamView {
    /// Only the key attributes.
    KeysOnly,
    /// The item after the change.
    NewImage,
    /// The item before the change.
    OldImage,
    /// Both.
    NewAndOldImages,
}

impl StreamView {
    /// Every view with its schema name.
    pub const ALL: [(&'static str, StreamView); 4] = [
        ("keys_only", StreamView::KeysOnly),
        ("new_image", StreamView::NewImage),
        ("old_image", StreamView::OldImage),
        ("new_and_old_images", StreamView::NewAndOldImages),
    ];

    /// The view's schema name.
    pub fn name(self) -> &'static str {
        match self {
            StreamView::KeysOnly => "keys_only",
            StreamView::NewImage => "new_image",
            StreamView::OldImage => "old_image",
            StreamView::NewAndOldImages => "new_and_old_images",
        }
    }
}

/// A secondary index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The index name.
    pub name: String,
    /// Global or local.
    pub kind: IndexKind,
    /// The partition key (for a local index, the table's).
    pub partition_key: KeyAttribute,
    /// The sort key (always present on a local index).
    pub sort_key: Option<KeyAttribute>,
    /// The attributes the index stores.
    pub projection: Projection,
    /// Capacity of a global index on a provisioned table.
    pub throughput: Option<Throughput>,
}

/// Global or local secondary index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// Its own partition key; eventually consistent reads only.
    Global,
    /// The table's partition key; consistent reads allowed; created with the table.
    Local,
}

/// The attributes an index stores besides its keys and the table's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    /// Every attribute.
    All,
    /// Key attributes only.
    KeysOnly,
    /// The keys and these attributes (sorted).
    Include(Vec<String>),
}

/// An item type.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The type name (UpperCamelCase), also stored in the type attribute.
    pub name: String,
    /// Rustdoc.
    pub doc: Option<String>,
    /// The fields: declared ones in schema order, then the ones options add.
    pub fields: Vec<Field>,
    /// How the table's partition key is filled.
    pub partition: KeyValue,
    /// How the table's sort key is filled, when the table has one.
    pub sort: Option<KeyValue>,
    /// The indexes the item is in (it fills their keys), in schema order.
    pub indexes: Vec<ItemIndex>,
    /// `timestamps = true`: the created and updated fields.
    pub timestamps: Option<Timestamps>,
    /// The version field (index into `fields`).
    pub version: Option<usize>,
    /// The field holding the table's ttl attribute, if the item has one.
    pub ttl: Option<usize>,
    /// `expires_after`, in seconds.
    pub expires_after: Option<u64>,
}

impl Item {
    /// The indexes (into `fields`) of the fields the table's key uses, in
    /// order of first use: the fields of the generated key struct.
    pub fn key_fields(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for value in std::iter::once(&self.partition).chain(&self.sort) {
            for field in value.fields() {
                if !out.contains(&field) {
                    out.push(field);
                }
            }
        }
        out
    }

    /// The item's keys for `index`, if it is in it.
    pub fn index(&self, name: &str) -> Option<&ItemIndex> {
        self.indexes.iter().find(|i| i.index == name)
    }
}

/// Fields kept by `timestamps = true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamps {
    /// `created_at`: set by the write that creates the item.
    pub created: usize,
    /// `updated_at`: set by every write.
    pub updated: usize,
}

/// An index an item type is in, with how it fills the index's keys.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemIndex {
    /// The index name.
    pub index: String,
    /// The index's partition key value.
    pub partition: KeyValue,
    /// The index's sort key value, when the index has one.
    pub sort: Option<KeyValue>,
}

/// How an item fills one key attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyValue {
    /// A template rendering a string.
    Template(Template),
    /// A field stored under the key attribute's name with its own type.
    Field {
        /// The key attribute.
        attribute: String,
        /// Index into the item's fields.
        field: usize,
    },
}

impl KeyValue {
    /// The key attribute it fills.
    pub fn attribute(&self) -> &str {
        match self {
            KeyValue::Template(t) => &t.attribute,
            KeyValue::Field { attribute, .. } => attribute,
        }
    }

    /// The fields used, in order (with repeats).
    pub fn fields(&self) -> Vec<usize> {
        match self {
            KeyValue::Template(t) => t.fields().collect(),
            KeyValue::Field { field, .. } => vec![*field],
        }
    }
}

/// A field of an item type or nested type.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The name as written in the schema (what templates refer to).
    pub name: String,
    /// The Rust field name (snake_case; a keyword becomes a raw identifier when emitted).
    pub rust_name: String,
    /// The attribute it is stored as.
    pub attribute: String,
    /// Its type.
    pub ty: FieldType,
    /// Whether the field may be absent.
    pub optional: bool,
    /// The value a constructor fills in.
    pub default: Option<DefaultValue>,
    /// Rustdoc.
    pub doc: Option<String>,
    /// Checks run before every write.
    pub validate: Validation,
}

/// The types a field can have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// `string`: String, stored as S.
    String,
    /// `bool`: stored as BOOL.
    Bool,
    /// An integer, stored as N.
    Int(IntType),
    /// A float, stored as N.
    Float(FloatType),
    /// `number`: an exact decimal of up to 38 digits, stored as N.
    Number,
    /// `bytes`: `Vec<u8>`, stored as B.
    Bytes,
    /// `datetime`: a UTC date-time.
    DateTime(DateTimeFormat),
    /// `date`: a calendar date, stored as S (YYYY-MM-DD).
    Date,
    /// `uuid`, stored as S.
    Uuid,
    /// `json`: any document, stored natively.
    Json,
    /// An enum (name of a [`EnumDef`] of the table), stored as S.
    Enum(String),
    /// `set<T>`: stored as SS, NS or BS; an empty set is an absent attribute.
    Set(Box<FieldType>),
    /// `list<T>`, stored as L.
    List(Box<FieldType>),
    /// `map<T>`: string keys, stored as M.
    Map(Box<FieldType>),
    /// A `[type.Name]` of the table, stored as M.
    Nested(String),
    /// A user type implementing the runtime's attribute trait.
    Custom {
        /// The Rust path, e.g. `crate::money::Money`.
        rust: String,
        /// How it is stored.
        stored: KeyType,
    },
}

impl FieldType {
    /// Whether the type is an integer.
    pub fn is_integer(&self) -> bool {
        matches!(self, FieldType::Int(_))
    }

    /// Whether the type is numeric (stored as N and compared as a number).
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            FieldType::Int(_) | FieldType::Float(_) | FieldType::Number
        )
    }

    /// The key type a plain key field of this type is stored as, if it can be one.
    pub fn key_type(&self) -> Option<KeyType> {
        match self {
            FieldType::String
            | FieldType::Enum(_)
            | FieldType::Uuid
            | FieldType::Date
            | FieldType::DateTime(DateTimeFormat::Rfc3339) => Some(KeyType::S),
            FieldType::Int(_)
            | FieldType::Number
            | FieldType::DateTime(DateTimeFormat::EpochSeconds | DateTimeFormat::EpochMillis) => {
                Some(KeyType::N)
            }
            FieldType::Bytes => Some(KeyType::B),
            FieldType::Custom { stored, .. } => Some(*stored),
            _ => None,
        }
    }

    /// The type as written in a schema file.
    pub fn schema_name(&self) -> String {
        match self {
            FieldType::String => "string".into(),
            FieldType::Bool => "bool".into(),
            FieldType::Int(t) => t.name().into(),
            FieldType::Float(FloatType::F32) => "f32".into(),
            FieldType::Float(FloatType::F64) => "f64".into(),
            FieldType::Number => "number".into(),
            FieldType::Bytes => "bytes".into(),
            FieldType::DateTime(_) => "datetime".into(),
            FieldType::Date => "date".into(),
            FieldType::Uuid => "uuid".into(),
            FieldType::Json => "json".into(),
            FieldType::Enum(_) => "enum".into(),
            FieldType::Set(t) => format!("set<{}>", t.schema_name()),
            FieldType::List(t) => format!("list<{}>", t.schema_name()),
            FieldType::Map(t) => format!("map<{}>", t.schema_name()),
            FieldType::Nested(name) => name.clone(),
            FieldType::Custom { .. } => "custom".into(),
        }
    }
}

/// Integer types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntType {
    /// `i8`
    I8,
    /// `i16`
    I16,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `u8`
    U8,
    /// `u16`
    U16,
    /// `u32`
    U32,
    /// `u64`
    U64,
}

impl IntType {
    /// Every integer type with its name.
    pub const ALL: [IntType; 8] = [
        IntType::I8,
        IntType::I16,
        IntType::I32,
        IntType::I64,
        IntType::U8,
        IntType::U16,
        IntType::U32,
        IntType::U64,
    ];

    /// The schema and Rust name.
    pub fn name(self) -> &'static str {
        match self {
            IntType::I8 => "i8",
            IntType::I16 => "i16",
            IntType::I32 => "i32",
            IntType::I64 => "i64",
            IntType::U8 => "u8",
            IntType::U16 => "u16",
            IntType::U32 => "u32",
            IntType::U64 => "u64",
        }
    }

    /// Whether negative values exist.
    pub fn signed(self) -> bool {
        matches!(
            self,
            IntType::I8 | IntType::I16 | IntType::I32 | IntType::I64
        )
    }

    /// The smallest and largest value.
    pub fn range(self) -> (i128, i128) {
        match self {
            IntType::I8 => (i8::MIN.into(), i8::MAX.into()),
            IntType::I16 => (i16::MIN.into(), i16::MAX.into()),
            IntType::I32 => (i32::MIN.into(), i32::MAX.into()),
            IntType::I64 => (i64::MIN.into(), i64::MAX.into()),
            IntType::U8 => (0, u8::MAX.into()),
            IntType::U16 => (0, u16::MAX.into()),
            IntType::U32 => (0, u32::MAX.into()),
            IntType::U64 => (0, u64::MAX.into()),
        }
    }

    /// The most decimal digits a value has (without sign).
    pub fn digits(self) -> usize {
        let (min, max) = self.range();
        max.max(-min).to_string().len()
    }
}

/// Float types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatType {
    /// `f32`
    F32,
    /// `f64`
    F64,
}

/// How a datetime is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateTimeFormat {
    /// S: RFC 3339 in UTC with fixed fractional digits (sorts as time).
    Rfc3339,
    /// N: seconds since the Unix epoch (what TTL needs).
    EpochSeconds,
    /// N: milliseconds since the Unix epoch.
    EpochMillis,
}

impl DateTimeFormat {
    /// Every format with its schema name.
    pub const ALL: [(&'static str, DateTimeFormat); 3] = [
        ("rfc3339", DateTimeFormat::Rfc3339),
        ("epoch_seconds", DateTimeFormat::EpochSeconds),
        ("epoch_millis", DateTimeFormat::EpochMillis),
    ];
}

/// A default value, checked against its field's type.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// `"now"`: the current time, for datetimes.
    Now,
    /// `"new"`: a new random (v4) uuid.
    NewUuid,
    /// A literal.
    Value(Value),
}

/// A literal value of a field type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string, enum value, uuid, or number/date/datetime text.
    String(String),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A list or set.
    List(Vec<Value>),
    /// A map or nested type.
    Map(BTreeMap<String, Value>),
    /// A JSON document.
    Json(serde_json::Value),
}

/// Checks on a field's value, run before every write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Validation {
    /// Smallest value (numbers).
    pub min: Option<f64>,
    /// Largest value (numbers).
    pub max: Option<f64>,
    /// Smallest length.
    pub min_len: Option<u64>,
    /// Largest length.
    pub max_len: Option<u64>,
    /// A regex a string must match.
    pub pattern: Option<String>,
}

impl Validation {
    /// Whether there is nothing to check.
    pub fn is_empty(&self) -> bool {
        *self == Validation::default()
    }
}

/// A `[type.Name]`.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedType {
    /// The Rust type name.
    pub name: String,
    /// Its fields, in schema order.
    pub fields: Vec<Field>,
}

/// The enum of an enum field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumDef {
    /// The Rust type name: owner and field, e.g. `CustomerTier`.
    pub name: String,
    /// The values, in schema order.
    pub values: Vec<EnumValue>,
}

/// One value of an enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumValue {
    /// As stored, e.g. `in-progress`.
    pub value: String,
    /// The Rust variant, e.g. `InProgress`.
    pub variant: String,
}

/// A collection: item types read together.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    /// The name (snake_case).
    pub name: String,
    /// The Rust enum name (UpperCamelCase).
    pub rust_name: String,
    /// Rustdoc.
    pub doc: Option<String>,
    /// `None` for the table's own key, or an index name.
    pub index: Option<String>,
    /// The item types (names), in the order listed.
    pub items: Vec<String>,
}

/// A key template such as `ORDER#{created}#{order_id}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The key attribute it fills.
    pub attribute: String,
    /// The template text as written.
    pub text: String,
    /// Literal text and field references, in order.
    pub parts: Vec<TemplatePart>,
}

impl Template {
    /// The fields referenced, in order (with repeats).
    pub fn fields(&self) -> impl Iterator<Item = usize> + '_ {
        self.parts.iter().filter_map(|p| match p {
            TemplatePart::Field { field, .. } => Some(*field),
            TemplatePart::Literal(_) => None,
        })
    }

    /// The number of field references.
    pub fn field_count(&self) -> usize {
        self.fields().count()
    }
}

/// A piece of a key template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text (braces already unescaped).
    Literal(String),
    /// A field's value.
    Field {
        /// Index into the item's fields.
        field: usize,
        /// Zero-padded width, for integers.
        width: Option<usize>,
    },
}

/// One migration file.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    /// The number from the file name.
    pub number: u32,
    /// The file name, e.g. `0002_orders_by_status.toml`.
    pub file: String,
    /// What it does.
    pub description: Option<String>,
    /// The file's text, from which the executor computes its checksum.
    pub text: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// A migration step.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Create a table with its indexes.
    CreateTable(TableDef),
    /// Delete a table.
    DeleteTable {
        /// The logical table name.
        table: String,
    },
    /// Add a global index.
    AddIndex {
        /// The logical table name.
        table: String,
        /// The index.
        index: Index,
    },
    /// Remove an index.
    RemoveIndex {
        /// The logical table name.
        table: String,
        /// The index name.
        index: String,
    },
    /// Turn TTL on or off.
    UpdateTtl {
        /// The logical table name.
        table: String,
        /// The TTL attribute.
        attribute: String,
        /// On or off.
        enabled: bool,
    },
    /// Change the stream view, or turn streams off (`None`).
    UpdateStream {
        /// The logical table name.
        table: String,
        /// The new view.
        stream: Option<StreamView>,
    },
    /// Change the billing mode.
    UpdateBilling {
        /// The logical table name.
        table: String,
        /// The new billing.
        billing: Billing,
    },
    /// Write rendered attributes onto existing items of one type.
    Backfill {
        /// The logical table name.
        table: String,
        /// The item type (in the table's schema file).
        item: String,
        /// Templates over the item's fields (their `attribute` is the target).
        set: Vec<Template>,
    },
}

impl Migration {
    /// SHA-256 of the file's text, in hex: what the tracking table records,
    /// so that an applied migration whose file changed is refused.
    pub fn checksum(&self) -> String {
        use sha2::Digest as _;
        sha2::Sha256::digest(self.text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl Step {
    /// The step's `op`, as migration files write it.
    pub fn op(&self) -> &'static str {
        match self {
            Step::CreateTable(_) => "create_table",
            Step::DeleteTable { .. } => "delete_table",
            Step::AddIndex { .. } => "add_index",
            Step::RemoveIndex { .. } => "remove_index",
            Step::UpdateTtl { .. } => "update_ttl",
            Step::UpdateStream { .. } => "update_stream",
            Step::UpdateBilling { .. } => "update_billing",
            Step::Backfill { .. } => "backfill",
        }
    }

    /// The table the step works on.
    pub fn table(&self) -> &str {
        match self {
            Step::CreateTable(def) => &def.name,
            Step::DeleteTable { table }
            | Step::AddIndex { table, .. }
            | Step::RemoveIndex { table, .. }
            | Step::UpdateTtl { table, .. }
            | Step::UpdateStream { table, .. }
            | Step::UpdateBilling { table, .. }
            | Step::Backfill { table, .. } => table,
        }
    }
}
