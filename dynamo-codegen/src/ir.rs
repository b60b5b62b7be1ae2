//! Stage 3: the resolved model. Validation produces it; the names pass,
//! the emitters and the migration planner accept only it.
//!
//! Everything here is checked: types resolve, templates resolve to fields,
//! every item fills its table's key attributes, defaults fit their fields
//! and are parsed into typed values. References between parts are typed
//! ids (an [`IndexId`] into the table's indexes, a [`FieldId`] into an item's
//! fields, ...), so a lookup cannot fail. The facts emitters need (how an
//! item type can be queried, which update actions each field has, whether
//! a type has exact equality) are computed once, here, by validation.
//! Rust names are not here: the [names pass](crate::names) decides them.
//!
//! Tables, indexes and migration steps are the runtime's own
//! [model](dynamo_runtime::model), shared with the generated code and the
//! migration executor.

use std::{collections::BTreeMap, fmt, ops::Range, sync::Arc};

pub use dynamo_runtime::model::{
    Backfill, Billing, Edit, FieldDef, FieldFormat, IndexDef, IndexKind, ItemDef, KeyAttributeDef,
    KeyType, Literal, Projection, Rewrite, Step, StreamView, TableDef, Template as StoredTemplate,
    TemplateField, Throughput, template::Case,
};
use proc_macro2::TokenStream;

use crate::diagnostics::SourceFile;

/// A byte range in a table's schema file.
pub type Span = Range<usize>;

/// Every table and migration of a schema folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The tables, ordered by file name.
    pub tables: Vec<Table>,
    /// The migrations, ordered by number.
    pub migrations: Vec<Migration>,
}

/// The schema file a table was read from (for diagnostics of later
/// passes); shown and compared by name.
#[derive(Clone)]
pub struct Source(pub Arc<SourceFile>);

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Source({:?})", self.0.name)
    }
}

impl PartialEq for Source {
    fn eq(&self, other: &Source) -> bool {
        self.0.name == other.0.name
    }
}

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident),*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub usize);
    )*};
}

ids!(
    /// An index of a table: a position in its `def.indexes`.
    IndexId,
    /// An item type of a table.
    ItemId,
    /// A nested type of a table.
    NestedId,
    /// A tagged union of a table.
    UnionId,
    /// An enum of a table.
    EnumId,
    /// A field of an item or nested type.
    FieldId,
    /// A key attribute an item type fills: a position in its `keys`.
    KeyId,
    /// A way to query an item type: a position in its `accesses`.
    AccessId
);

/// One table file: the DynamoDB table and what is stored in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The table as DynamoDB sees it (what migrations create), with its
    /// type attribute and key separator.
    pub def: TableDef,
    /// The schema file, relative to the schema folder, e.g. `shop.toml`.
    pub file: String,
    /// The schema file itself.
    pub source: Source,
    /// The table's name in the file.
    pub span: Span,
    /// Each index's name in the file, by [`IndexId`].
    pub index_spans: Vec<Span>,
    /// The item types, in schema order.
    pub items: Vec<Item>,
    /// Nested types (`[type.Name]`), in schema order.
    pub nested: Vec<NestedType>,
    /// Tagged unions (`[union.Name]`), in schema order.
    pub unions: Vec<UnionType>,
    /// Enums of enum fields, in order of their fields.
    pub enums: Vec<EnumDef>,
    /// Collections, in schema order.
    pub collections: Vec<Collection>,
    /// Whether items keep the attributes their type does not model.
    pub keep_unmodeled: bool,
    /// Whether generated types derive serde's traits (`serde = true`, or
    /// the `Builder`'s `serde`).
    pub serde: bool,
    /// Whether generated types derive schemars' `JsonSchema` too
    /// (`json_schema = true`, or the `Builder`'s `json_schema`); implies
    /// `serde`.
    pub json_schema: bool,
    /// Rust attributes the schema (or the `Builder`) adds to generated
    /// types, by kind.
    pub attributes: TypeAttributes,
}

/// A kind of generated type, which `[table.attributes]` and
/// `Builder::type_attribute` add attributes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeKind {
    /// Every kind below.
    All,
    /// Item structs (`Order`).
    Items,
    /// Key structs (`OrderKey`).
    Keys,
    /// The fields of new items (`NewOrder`).
    New,
    /// Nested types.
    Nested,
    /// Enums of enum fields (`OrderStatus`).
    Enums,
    /// Index projections (`OrderByStatusProjection`).
    Projections,
    /// Enums with a variant per item type: collections, `AnyItem`, `AnyKey`.
    Unions,
}

impl TypeKind {
    /// Every kind, `All` first.
    pub const EACH: [TypeKind; 8] = [
        TypeKind::All,
        TypeKind::Items,
        TypeKind::Keys,
        TypeKind::New,
        TypeKind::Nested,
        TypeKind::Enums,
        TypeKind::Projections,
        TypeKind::Unions,
    ];
}

/// Rust attributes (checked to parse) added to generated types, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeAttributes {
    /// On item structs.
    pub items: Vec<String>,
    /// On key structs.
    pub keys: Vec<String>,
    /// On `New` structs.
    pub new: Vec<String>,
    /// On nested types.
    pub nested: Vec<String>,
    /// On enums of enum fields.
    pub enums: Vec<String>,
    /// On projections.
    pub projections: Vec<String>,
    /// On collections, `AnyItem` and `AnyKey`.
    pub unions: Vec<String>,
}

impl TypeAttributes {
    /// The attributes of `kind`; `All` adds to every kind.
    pub fn of_mut(&mut self, kind: TypeKind) -> &mut Vec<String> {
        match kind {
            TypeKind::Items | TypeKind::All => &mut self.items,
            TypeKind::Keys => &mut self.keys,
            TypeKind::New => &mut self.new,
            TypeKind::Nested => &mut self.nested,
            TypeKind::Enums => &mut self.enums,
            TypeKind::Projections => &mut self.projections,
            TypeKind::Unions => &mut self.unions,
        }
    }

    /// Adds `attribute` to `kind` (to every kind for `All`).
    pub fn add(&mut self, kind: TypeKind, attribute: &str) {
        if kind == TypeKind::All {
            for kind in &TypeKind::EACH[1..] {
                self.of_mut(*kind).push(attribute.to_owned());
            }
        } else {
            self.of_mut(kind).push(attribute.to_owned());
        }
    }
}

impl Table {
    /// Whether the generated code decodes the table's stream records into
    /// its item types (`AnyItem`): it has a stream and item types.
    pub fn decodes_stream(&self) -> bool {
        self.def.stream.is_some() && !self.items.is_empty()
    }

    /// The index `id`.
    pub fn index_def(&self, id: IndexId) -> &IndexDef {
        &self.def.indexes[id.0]
    }

    /// The item type `id`.
    pub fn item(&self, id: ItemId) -> &Item {
        &self.items[id.0]
    }

    /// The nested type `id`.
    pub fn nested(&self, id: NestedId) -> &NestedType {
        &self.nested[id.0]
    }

    /// The union `id`.
    pub fn union(&self, id: UnionId) -> &UnionType {
        &self.unions[id.0]
    }

    /// The enum `id`.
    pub fn enum_def(&self, id: EnumId) -> &EnumDef {
        &self.enums[id.0]
    }

    /// Whether values of `ty` have exact equality (`Eq` and `Hash`): no
    /// floats, JSON or custom types anywhere in them.
    pub fn exact(&self, ty: &FieldType) -> bool {
        match ty {
            FieldType::Float(_) | FieldType::Json | FieldType::Custom(_) => false,
            FieldType::Set(t) | FieldType::List(t) | FieldType::Map(t) => self.exact(t),
            FieldType::Nested(id) => self.nested(*id).exact,
            FieldType::Union(id, _) => self.union(*id).exact,
            _ => true,
        }
    }
}

/// An item type.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The type name (UpperCamelCase), also stored in the type attribute.
    pub name: String,
    /// Where the name is in the file.
    pub span: Span,
    /// Rustdoc.
    pub doc: Option<String>,
    /// The fields: declared ones in schema order, then the ones options add.
    pub fields: Vec<Field>,
    /// Every key attribute the item fills, each once: the table's keys,
    /// then the keys of each index it is in.
    pub keys: Vec<KeyValue>,
    /// How the item type is read: its table access first, then one per
    /// index it is in, in schema order.
    pub accesses: Vec<Access>,
    /// The update action of each field an update can change.
    pub updates: Vec<FieldUpdate>,
    /// `timestamps = true`: the created and updated fields.
    pub timestamps: Option<Timestamps>,
    /// The version field.
    pub version: Option<VersionField>,
    /// The field holding the table's ttl attribute, if the item has one.
    pub ttl: Option<FieldId>,
    /// `expires_after`, in seconds (at most 1,000 years, so an `i64`).
    pub expires_after: Option<u64>,
    /// What the migrations changed in stored items, so that items not yet
    /// rewritten still read.
    pub previous: Previous,
    /// Rust attributes the schema adds to this item's struct.
    pub attributes: Vec<String>,
    /// `hooks = true`: writes and reads call the app's `ItemHooks`.
    pub hooks: bool,
}

/// Names and values stored items may still have from before a data step
/// of the migrations reached them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Previous {
    /// Type names before `rename_item` steps.
    pub names: Vec<String>,
    /// `(attribute, previous attribute)` from `rename_attribute` steps.
    pub attributes: Vec<(String, String)>,
    /// `(attribute, old, new)` from `map_values` steps.
    pub values: Vec<(String, String, String)>,
    /// The mark of the last `transform` step of the type, which every item
    /// the generated code writes carries.
    pub mark: Option<String>,
    /// The table key templates before the last `rewrite_keys` step that
    /// changed them (each renders from fields of the key struct), so that
    /// reads find items the step has not moved yet.
    pub keys: Vec<Template>,
}

impl Item {
    /// The field `id`.
    pub fn field(&self, id: FieldId) -> &Field {
        &self.fields[id.0]
    }

    /// The key attribute `id`.
    pub fn key(&self, id: KeyId) -> &KeyValue {
        &self.keys[id.0]
    }

    /// The access `id`.
    pub fn access(&self, id: AccessId) -> &Access {
        &self.accesses[id.0]
    }

    /// The access by the table's own key.
    pub fn table_access(&self) -> &Access {
        &self.accesses[0]
    }

    /// The fields of the table's key, each once, in order of first use:
    /// the fields of the generated key struct.
    pub fn key_fields(&self) -> Vec<FieldId> {
        let access = self.table_access();
        let mut out = Vec::new();
        for key in std::iter::once(access.partition).chain(access.sort) {
            for field in self.key(key).fields() {
                if !out.contains(&field) {
                    out.push(field);
                }
            }
        }
        out
    }

    /// What the generic update actions may do with a field.
    pub fn change(&self, id: FieldId) -> Change {
        match self.updates.iter().find(|u| u.field == id) {
            Some(u) if !u.keyed() && u.remove => Change::Optional,
            Some(u) if !u.keyed() => Change::Settable,
            _ => Change::Fixed,
        }
    }

    /// Whether writes keep the field (timestamps, version).
    pub fn is_managed(&self, id: FieldId) -> bool {
        self.timestamps
            .is_some_and(|t| t.created == id || t.updated == id)
            || self.version.is_some_and(|v| v.field == id)
    }

    /// The fields the constructor takes: neither optional, defaulted, kept
    /// by writes nor a ttl that `expires_after` fills.
    pub fn required_fields(&self) -> Vec<FieldId> {
        (0..self.fields.len())
            .map(FieldId)
            .filter(|&id| {
                let f = self.field(id);
                let expires = self.ttl == Some(id) && self.expires_after.is_some();
                !f.optional
                    && f.default.is_none()
                    && f.computed.is_none()
                    && !self.is_managed(id)
                    && !expires
            })
            .collect()
    }
}

/// Fields kept by `timestamps = true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamps {
    /// `created_at`: set by the write that creates the item.
    pub created: FieldId,
    /// `updated_at`: set by every write.
    pub updated: FieldId,
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
        /// The field.
        field: FieldId,
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

    /// The fields used, each once, in order of first use.
    pub fn fields(&self) -> Vec<FieldId> {
        match self {
            KeyValue::Template(t) => t.fields(),
            KeyValue::Field { field, .. } => vec![*field],
        }
    }
}

/// One way to query an item type: by the table's key or an index's.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    /// `None` for the table.
    pub index: Option<IndexId>,
    /// The partition key (a multi-attribute key's first attribute).
    pub partition: KeyId,
    /// The other attributes of a multi-attribute partition key, in order.
    pub more_partition: Vec<KeyId>,
    /// The sort key, when the table or index has one (a multi-attribute
    /// key's first attribute).
    pub sort: Option<KeyId>,
    /// Whether the index's key has several attributes: each is a plain
    /// field, queried left to right (`sort_fields` are the attributes in
    /// order, each after the earlier ones equal).
    pub multi_attribute: bool,
    /// Whether rows are whole items (the table, or an index projecting
    /// all attributes); otherwise they are projections.
    pub whole_items: bool,
    /// Whether strongly consistent reads are allowed (the table and local
    /// indexes).
    pub consistent: bool,
    /// The fields of the projection, for an index that does not store
    /// whole items: key fields, then included attributes, in field order.
    pub projected: Vec<Projected>,
    /// The fields of the sort key that queries can compare, in order (none
    /// without a sort key): a plain sort key's own field; each field of a
    /// template, the earlier ones equal.
    pub sort_fields: Vec<SortField>,
}

/// A field of a projection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Projected {
    /// The field.
    pub field: FieldId,
    /// Whether it is read back out of a key attribute (else it is an
    /// included attribute, which may be absent).
    pub key: bool,
}

/// The sort-key conditions on one field of a sort key: a query's
/// `<field>()` method, returning the runtime's `SortOn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortField {
    /// The fields before `field`, in template order, which the keys must
    /// equal (none for a plain sort key).
    pub earlier: Vec<FieldId>,
    /// The field compared: equality, and `begins_with` for text.
    pub field: FieldId,
    /// Whether ranges (`lt` ... `between`) are allowed: the key's text
    /// order is the field's value order (it ends the key, renders at a
    /// fixed width, or is the plain sort key).
    pub ranged: bool,
}

/// The version field of an item type (`version = "field"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionField {
    /// The field.
    pub field: FieldId,
    /// Its type: an unsigned integer.
    pub ty: IntType,
}

/// What an update can do to one field (never a key field or a field kept
/// by writes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldUpdate {
    /// The field.
    pub field: FieldId,
    /// Index keys built from the field, rewritten when it is set (and
    /// removed with it): the field has its own `set_<field>` (and
    /// `remove_<field>`), not the generic update actions.
    pub rewrites: Vec<KeyId>,
    /// The other non-key fields those index keys use: `set` takes them too.
    pub partners: Vec<FieldId>,
    /// The field is optional: updates can remove it.
    pub remove: bool,
    /// Computed fields rendered from the field, rendered again when it is
    /// set (and removed with it).
    pub recomputes: Vec<FieldId>,
    /// The field is encrypted: its own setter seals the value.
    pub sealed: bool,
}

impl FieldUpdate {
    /// Whether index keys or computed fields are built from the field: it
    /// has its own setter.
    pub fn keyed(&self) -> bool {
        !self.rewrites.is_empty() || !self.recomputes.is_empty() || self.sealed
    }
}

/// What the generic update actions may do with a field: the marker of its
/// typed path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing: a key field, a field writes keep, or one index keys are
    /// built from (it has its own setter).
    Fixed,
    /// Set it, and apply its type's actions.
    Settable,
    /// Also remove it.
    Optional,
}

/// A field of an item type or nested type.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The name as written in the schema (what templates refer to).
    pub name: String,
    /// Where it is declared (for an added field, the option that adds it).
    pub span: Span,
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
    /// Enum values the field no longer has, each with the value that
    /// replaces it (`renamed_values`).
    pub renamed_values: Vec<(String, String)>,
    /// `read_only = true`: set when the item is created, never changed.
    pub read_only: bool,
    /// `unique = true`: no two items of the type have one value.
    pub unique: bool,
    /// `computed = "template"`: the value is rendered from other fields at
    /// every write (the template's attribute is the field's).
    pub computed: Option<Template>,
    /// `encrypted = true`: stored sealed with the app's keyring.
    pub encrypted: bool,
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
    /// `bytes`: stored as B.
    Bytes,
    /// `datetime`: a UTC date-time.
    DateTime(DateTimeFormat),
    /// `date`: a calendar date, stored as S (YYYY-MM-DD).
    Date,
    /// `uuid`, stored as S.
    Uuid,
    /// `json`: any document, stored natively.
    Json,
    /// An enum of the table, stored as S.
    Enum(EnumId),
    /// `set<T>`: stored as SS, NS or BS; an empty set is an absent attribute.
    Set(Box<FieldType>),
    /// `list<T>`, stored as L.
    List(Box<FieldType>),
    /// `map<T>`: string keys, stored as M.
    Map(Box<FieldType>),
    /// A `[type.Name]` of the table, stored as M.
    Nested(NestedId),
    /// A `[union.Name]` of the table (with its name, for messages), stored
    /// as M with a tag attribute.
    Union(UnionId, String),
    /// A user type implementing the runtime's attribute trait.
    Custom(CustomType),
}

/// A `custom` field's type: a Rust path, parsed once.
#[derive(Clone)]
pub struct CustomType {
    /// The path as written, e.g. `crate::money::Money`.
    pub path: String,
    /// The path's tokens.
    pub tokens: TokenStream,
    /// How it is stored.
    pub stored: KeyType,
}

impl fmt::Debug for CustomType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomType")
            .field("path", &self.path)
            .field("stored", &self.stored)
            .finish()
    }
}

impl PartialEq for CustomType {
    fn eq(&self, other: &CustomType) -> bool {
        self.path == other.path && self.stored == other.stored
    }
}

impl Eq for CustomType {}

impl FieldType {
    /// Whether values have a `validate` method checking the rules inside
    /// them (nested types and unions).
    pub fn validates_inside(&self) -> bool {
        matches!(self, FieldType::Nested(_) | FieldType::Union(..))
    }

    /// The type of a set's or list's elements; any other type is its own.
    pub fn element(&self) -> &FieldType {
        match self {
            FieldType::Set(element) | FieldType::List(element) => element,
            other => other,
        }
    }

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

    /// Whether values are `Copy`, so functions take them by value.
    pub fn is_copy(&self) -> bool {
        matches!(
            self,
            FieldType::Bool
                | FieldType::Int(_)
                | FieldType::Float(_)
                | FieldType::DateTime(_)
                | FieldType::Date
                | FieldType::Uuid
                | FieldType::Enum(_)
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
            FieldType::Custom(c) => Some(c.stored),
            _ => None,
        }
    }

    /// How a value of this type is stored, for templates over stored items
    /// (backfills). Only types a template accepts are asked.
    pub fn format(&self) -> FieldFormat {
        match self {
            FieldType::Bool => FieldFormat::Bool,
            FieldType::Int(t) if t.signed() => FieldFormat::Signed,
            FieldType::Int(_) => FieldFormat::Unsigned,
            FieldType::Float(_) => FieldFormat::Float,
            FieldType::Number => FieldFormat::Number,
            FieldType::DateTime(DateTimeFormat::Rfc3339) => FieldFormat::Timestamp,
            FieldType::DateTime(DateTimeFormat::EpochSeconds) => FieldFormat::EpochSeconds,
            FieldType::DateTime(DateTimeFormat::EpochMillis) => FieldFormat::EpochMillis,
            _ => FieldFormat::Text,
        }
    }

    /// Whether the type can be part of a key template.
    pub fn in_templates(&self) -> bool {
        matches!(
            self,
            FieldType::String
                | FieldType::Bool
                | FieldType::Int(_)
                | FieldType::Float(_)
                | FieldType::Number
                | FieldType::DateTime(
                    DateTimeFormat::Rfc3339
                        | DateTimeFormat::EpochSeconds
                        | DateTimeFormat::EpochMillis
                )
                | FieldType::Date
                | FieldType::Uuid
                | FieldType::Enum(_)
        )
    }

    /// The type as written in a schema file; `nested` names nested types.
    pub fn schema_name<'a>(&self, nested: &impl Fn(NestedId) -> &'a str) -> String {
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
            FieldType::Set(t) => format!("set<{}>", t.schema_name(nested)),
            FieldType::List(t) => format!("list<{}>", t.schema_name(nested)),
            FieldType::Map(t) => format!("map<{}>", t.schema_name(nested)),
            FieldType::Nested(id) => nested(*id).to_owned(),
            FieldType::Union(_, name) => name.clone(),
            FieldType::Custom(_) => "custom".into(),
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
    /// Every integer type.
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
    /// S: text in a `strftime` pattern (a `format` with `%`), in UTC, for
    /// tables other programs write (PynamoDB's
    /// `%Y-%m-%dT%H:%M:%S.%6f%z`). Not a key value: its text order need
    /// not be time order. The pattern is leaked once per field, so the
    /// format stays `Copy`.
    Pattern(&'static str),
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
    /// `"v7"`: a new time-ordered (v7) uuid.
    NewUuidV7,
    /// `"ulid"`: a new ULID, for strings.
    NewUlid,
    /// A literal.
    Value(Value),
}

/// A literal value, parsed for its field's type: each variant says how to
/// write it in Rust, so emitters need not look at the type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    String(String),
    /// A boolean.
    Bool(bool),
    /// An integer (of the field's integer type).
    Int(i64),
    /// A float of the given type.
    Float(FloatType, f64),
    /// An exact decimal, as text.
    Number(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A datetime: seconds and nanoseconds since the Unix epoch.
    DateTime {
        /// Seconds.
        second: i64,
        /// Nanoseconds.
        nanosecond: i32,
    },
    /// A calendar date.
    Date {
        /// Year.
        year: i16,
        /// Month, 1–12.
        month: i8,
        /// Day, 1–31.
        day: i8,
    },
    /// A uuid.
    Uuid(u128),
    /// A JSON document.
    Json(serde_json::Value),
    /// A value of an enum, by position.
    Enum(EnumId, usize),
    /// A set's elements, each once.
    Set(Vec<Value>),
    /// A list's elements.
    List(Vec<Value>),
    /// A map's entries.
    Map(BTreeMap<String, Value>),
    /// A nested type's fields, in field order: the given values, `None`
    /// for a field left out (which takes its own default, or is an
    /// optional `None`).
    Nested(NestedId, Vec<Option<Value>>),
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
    /// The type name (UpperCamelCase).
    pub name: String,
    /// Where the name is in the file.
    pub span: Span,
    /// Its fields, in schema order.
    pub fields: Vec<Field>,
    /// Whether its values have exact equality (no float, JSON or custom
    /// type anywhere inside, through other nested types too).
    pub exact: bool,
}

/// A `[union.Name]`: a value that is one of several nested types.
#[derive(Debug, Clone, PartialEq)]
pub struct UnionType {
    /// The type name (UpperCamelCase).
    pub name: String,
    /// Where the name is in the file.
    pub span: Span,
    /// Rustdoc.
    pub doc: Option<String>,
    /// The attribute of the stored map that names the variant.
    pub tag: String,
    /// The variants, in schema order.
    pub variants: Vec<Variant>,
    /// Whether its values have exact equality (every variant's type has).
    pub exact: bool,
}

/// A variant of a union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The stored tag, e.g. `card`.
    pub tag: String,
    /// The nested type it holds.
    pub nested: NestedId,
}

/// Who declares an enum field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// An item type.
    Item(ItemId),
    /// A nested type.
    Nested(NestedId),
}

/// The enum of an enum field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumDef {
    /// The type that declares the field.
    pub owner: Owner,
    /// The field's name, as written.
    pub field: String,
    /// Where the field is declared.
    pub span: Span,
    /// The values, in schema order.
    pub values: Vec<EnumValue>,
}

/// One value of an enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumValue {
    /// As stored, e.g. `in-progress`.
    pub value: String,
    /// Where it is written.
    pub span: Span,
}

/// A collection: item types read together.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    /// The name (snake_case).
    pub name: String,
    /// Where the name is in the file.
    pub span: Span,
    /// Rustdoc.
    pub doc: Option<String>,
    /// `None` for the table's own key, or an index.
    pub index: Option<IndexId>,
    /// The item types, in the order listed.
    pub items: Vec<ItemId>,
    /// The first item type and its access on the collection's index: its
    /// partition key renders the partition (validation checked that every
    /// item type's renders alike).
    pub partition: (ItemId, AccessId),
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
    /// The fields referenced, each once, in order of first use (the order
    /// rendering takes their values in).
    pub fn fields(&self) -> Vec<FieldId> {
        let mut out = Vec::new();
        for part in &self.parts {
            if let TemplatePart::Field { field, .. } = part
                && !out.contains(field)
            {
                out.push(*field);
            }
        }
        out
    }

    /// The number of field references (repeats counted).
    pub fn field_count(&self) -> usize {
        self.parts
            .iter()
            .filter(|p| matches!(p, TemplatePart::Field { .. }))
            .count()
    }
}

/// A piece of a key template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text (braces already unescaped).
    Literal(String),
    /// A field's value.
    Field {
        /// The field.
        field: FieldId,
        /// Zero-padded width, for integers.
        width: Option<usize>,
        /// The case a computed attribute writes the value in.
        case: Option<Case>,
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
    /// The item type each `transform` step reads, as the migrations
    /// recorded it before the step.
    pub transforms: Vec<TransformShape>,
}

/// What a `transform` step's function takes.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformShape {
    /// The step's index in its migration.
    pub step: usize,
    /// The function's Rust path.
    pub function: String,
    /// The item type before the step.
    pub old: ItemDef,
    /// The table's key attributes (partition, sort) and their types.
    pub table_key: (KeyAttributeDef, Option<KeyAttributeDef>),
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

    /// The migration as the runtime's executor takes it.
    pub fn to_model(&self) -> dynamo_runtime::model::Migration {
        dynamo_runtime::model::Migration {
            number: self.number,
            name: self.file.clone().into(),
            description: self.description.clone().map(Into::into),
            checksum: self.checksum().into(),
            steps: self.steps.clone().into(),
        }
    }
}

/// A backfill step as the executor takes it: `templates` to write onto the
/// stored items of type `item` in `table` (whose schema has these type
/// attribute and key separator), and the stored fields they read (by
/// `field`, with their attributes and formats as the schema declares them;
/// a field `field` does not know is left out).
pub fn backfill<'f>(
    (table, type_attribute, separator): (&str, &str, &str),
    item: &str,
    (templates, computed): (&[&Template], &[&Template]),
    field: impl Fn(FieldId) -> Option<&'f Field>,
) -> Backfill {
    let stored = |templates: &[&Template]| {
        templates
            .iter()
            .map(|t| StoredTemplate {
                attribute: t.attribute.clone().into(),
                text: t.text.clone().into(),
            })
            .collect::<Vec<_>>()
            .into()
    };
    let mut fields: Vec<TemplateField> = Vec::new();
    let every = templates.iter().chain(computed);
    for f in every.flat_map(|t| t.fields()).filter_map(&field) {
        if !fields.iter().any(|x| x.name == f.name) {
            fields.push(TemplateField {
                name: f.name.clone().into(),
                attribute: f.attribute.clone().into(),
                format: f.ty.format(),
            });
        }
    }
    Backfill {
        table: table.to_owned().into(),
        item: item.to_owned().into(),
        type_attribute: type_attribute.to_owned().into(),
        separator: separator.to_owned().into(),
        fields: fields.into(),
        set: stored(templates),
        computed: stored(computed),
    }
}
