//! Tables and indexes as DynamoDB sees them.

use super::{List, Text, text};

/// The type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyType {
    /// A string (`S`).
    S,
    /// A number (`N`).
    N,
    /// Binary (`B`).
    B,
}

impl KeyType {
    /// Every key type.
    pub const ALL: [KeyType; 3] = [KeyType::S, KeyType::N, KeyType::B];

    /// The type's name in schema files and DynamoDB: `S`, `N` or `B`.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }
}

/// A key attribute of a table or index: its name and type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyAttributeDef {
    /// The attribute name, e.g. `pk`.
    pub name: Text,
    /// The attribute type.
    pub ty: KeyType,
}

impl KeyAttributeDef {
    /// A key attribute named `name` of type `ty` (generated statics).
    pub const fn new(name: &'static str, ty: KeyType) -> Self {
        KeyAttributeDef {
            name: text(name),
            ty,
        }
    }
}

/// A table as the schema describes it. The generator emits one per table as
/// `TABLE` in the table's module; migrations create and change it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableDef {
    /// The logical table name; `Db::table_name` adds the namespace.
    pub name: Text,
    /// The partition key attribute.
    pub partition_key: KeyAttributeDef,
    /// The sort key attribute, when the table has one.
    pub sort_key: Option<KeyAttributeDef>,
    /// The attribute that holds each item's type name (default `_type`).
    pub type_attribute: Text,
    /// The text between two fields of a key template (default `#`): a field
    /// value containing it is refused, so two keys cannot collide.
    pub key_separator: Text,
    /// On-demand or provisioned.
    pub billing: Billing,
    /// The TTL attribute, when the table has one.
    pub ttl: Option<Text>,
    /// The stream view, when the table has a stream.
    pub stream: Option<StreamView>,
    /// The secondary indexes, in schema order.
    pub indexes: List<IndexDef>,
    /// Point-in-time recovery (continuous backups): the table can be
    /// restored to any second of the last 35 days.
    pub point_in_time_recovery: bool,
    /// Deletion protection: DynamoDB refuses `DeleteTable` until it is
    /// turned off.
    pub deletion_protection: bool,
}

impl TableDef {
    /// Whether items carry a type attribute (`type_attribute = false` in
    /// the schema is an empty name: a table of one item type).
    pub fn has_type_attribute(&self) -> bool {
        !self.type_attribute.is_empty()
    }

    /// The default type attribute.
    pub const TYPE_ATTRIBUTE: &'static str = "_type";
    /// The default key separator.
    pub const KEY_SEPARATOR: &'static str = "#";

    /// The index named `name`.
    pub fn index(&self, name: &str) -> Option<&IndexDef> {
        self.indexes.iter().find(|i| i.name == name)
    }

    /// The table's key attributes: partition key, then sort key.
    pub fn key(&self) -> impl Iterator<Item = &KeyAttributeDef> {
        std::iter::once(&self.partition_key).chain(&self.sort_key)
    }
}

/// How a table or index pays for throughput.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Billing {
    /// Pay per request.
    OnDemand,
    /// Provisioned read and write capacity units.
    Provisioned(Throughput),
}

/// Provisioned capacity units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Throughput {
    /// Read capacity units.
    pub read: u64,
    /// Write capacity units.
    pub write: u64,
}

/// What a table's stream records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// Every view.
    pub const ALL: [StreamView; 4] = [
        StreamView::KeysOnly,
        StreamView::NewImage,
        StreamView::OldImage,
        StreamView::NewAndOldImages,
    ];

    /// The view's name in schema files, e.g. `new_image`.
    pub fn name(self) -> &'static str {
        match self {
            StreamView::KeysOnly => "keys_only",
            StreamView::NewImage => "new_image",
            StreamView::OldImage => "old_image",
            StreamView::NewAndOldImages => "new_and_old_images",
        }
    }

    /// The view named `name` in schema files.
    pub fn from_name(name: &str) -> Option<StreamView> {
        StreamView::ALL.into_iter().find(|v| v.name() == name)
    }
}

/// Global or local.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexKind {
    /// A global secondary index: its own partition key, eventually consistent.
    Global,
    /// A local secondary index: the table's partition key, another sort key.
    Local,
}

/// The attributes an index stores.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Projection {
    /// Every attribute.
    All,
    /// The table's and the index's key attributes.
    KeysOnly,
    /// The keys and these attributes (sorted).
    Include(List<Text>),
}

/// A secondary index as the schema describes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexDef {
    /// The index name.
    pub name: Text,
    /// Global or local.
    pub kind: IndexKind,
    /// The partition key attributes, in order: one (a local index: the
    /// table's), or up to four for a global index with a multi-attribute
    /// key.
    pub partition_key: List<KeyAttributeDef>,
    /// The sort key attributes, in order: none, one (a local index always
    /// has one), or up to four for a global index with a multi-attribute
    /// key.
    pub sort_key: List<KeyAttributeDef>,
    /// What the index stores.
    pub projection: Projection,
    /// Provisioned capacity of a global index on a provisioned table.
    pub throughput: Option<Throughput>,
}

impl IndexDef {
    /// The index's key attributes: partition key, then sort key.
    pub fn key(&self) -> impl Iterator<Item = &KeyAttributeDef> {
        self.partition_key.iter().chain(self.sort_key.iter())
    }

    /// Whether a key has more than one attribute (multi-attribute keys:
    /// global indexes only, up to four attributes each).
    pub fn is_multi_attribute(&self) -> bool {
        self.partition_key.len() > 1 || self.sort_key.len() > 1
    }

    /// Whether the index holds whole items.
    pub fn stores_items(&self) -> bool {
        self.projection == Projection::All
    }

    /// Whether DynamoDB allows strongly consistent reads of the index.
    pub fn consistent_reads(&self) -> bool {
        self.kind == IndexKind::Local
    }
}
