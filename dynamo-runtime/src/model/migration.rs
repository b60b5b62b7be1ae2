//! Migrations: numbered files of steps, each applied once.

use super::{Billing, IndexDef, List, StreamView, TableDef, Template, TemplateField, Text};

/// One migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The number from the file name; migrations apply in this order.
    pub number: u32,
    /// The file name, e.g. `0002_orders_by_status.toml`.
    pub name: Text,
    /// The file's `description`.
    pub description: Option<Text>,
    /// SHA-256 of the file's text, in hex: an applied migration whose file
    /// changed is refused.
    pub checksum: Text,
    /// The steps, in order.
    pub steps: List<Step>,
}

/// A migration step: what it states is all it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create a table with its indexes, billing, stream and TTL.
    CreateTable(TableDef),
    /// Delete a table and every item in it.
    DeleteTable {
        /// The logical table name.
        table: Text,
    },
    /// Add a global secondary index.
    AddIndex {
        /// The logical table name.
        table: Text,
        /// The index.
        index: IndexDef,
        /// The table's type attribute, projected by include indexes.
        type_attribute: Text,
    },
    /// Remove a global secondary index.
    RemoveIndex {
        /// The logical table name.
        table: Text,
        /// The index name.
        index: Text,
    },
    /// Turn TTL on or off.
    UpdateTtl {
        /// The logical table name.
        table: Text,
        /// The TTL attribute.
        attribute: Text,
        /// On or off.
        enabled: bool,
    },
    /// Change the stream view, or turn the stream off (`None`).
    UpdateStream {
        /// The logical table name.
        table: Text,
        /// The new view.
        stream: Option<StreamView>,
    },
    /// Change the billing mode or provisioned capacity.
    UpdateBilling {
        /// The logical table name.
        table: Text,
        /// The new billing.
        billing: Billing,
    },
    /// Turn point-in-time recovery and deletion protection on or off.
    UpdateProtection {
        /// The logical table name.
        table: Text,
        /// Point-in-time recovery on or off; `None` leaves it as it is.
        point_in_time_recovery: Option<bool>,
        /// Deletion protection on or off; `None` leaves it as it is.
        deletion_protection: Option<bool>,
    },
    /// Write rendered attributes onto the existing items of one type.
    Backfill(Backfill),
    /// Record an item type as its stored items are written from here on
    /// (state only: nothing is sent to DynamoDB).
    DefineItem(ItemDef),
    /// Record that no item type of this name is written any more (state
    /// only; stored items are left alone).
    DropItem {
        /// The logical table name.
        table: Text,
        /// The item type.
        item: Text,
    },
    /// Rewrite the stored items of one type.
    Rewrite(Rewrite),
}

impl Step {
    /// Every step's `op`, as migration files write it.
    pub const OPS: [&'static str; 18] = [
        "create_table",
        "delete_table",
        "add_index",
        "remove_index",
        "update_ttl",
        "update_stream",
        "update_billing",
        "update_protection",
        "backfill",
        "define_item",
        "drop_item",
        "rename_attribute",
        "map_values",
        "write_default",
        "remove_attribute",
        "rename_item",
        "rewrite_keys",
        "transform",
    ];

    /// The logical table the step works on.
    pub fn table(&self) -> &str {
        match self {
            Step::CreateTable(def) => &def.name,
            Step::DeleteTable { table }
            | Step::AddIndex { table, .. }
            | Step::RemoveIndex { table, .. }
            | Step::UpdateTtl { table, .. }
            | Step::UpdateStream { table, .. }
            | Step::UpdateBilling { table, .. }
            | Step::UpdateProtection { table, .. }
            | Step::Backfill(Backfill { table, .. })
            | Step::DropItem { table, .. }
            | Step::DefineItem(ItemDef { table, .. })
            | Step::Rewrite(Rewrite { table, .. }) => table,
        }
    }

    /// The step's `op` as written in migration files.
    pub fn op(&self) -> &'static str {
        match self {
            Step::CreateTable(_) => Step::OPS[0],
            Step::DeleteTable { .. } => Step::OPS[1],
            Step::AddIndex { .. } => Step::OPS[2],
            Step::RemoveIndex { .. } => Step::OPS[3],
            Step::UpdateTtl { .. } => Step::OPS[4],
            Step::UpdateStream { .. } => Step::OPS[5],
            Step::UpdateBilling { .. } => Step::OPS[6],
            Step::UpdateProtection { .. } => Step::OPS[7],
            Step::Backfill(_) => Step::OPS[8],
            Step::DefineItem(_) => Step::OPS[9],
            Step::DropItem { .. } => Step::OPS[10],
            Step::Rewrite(r) => r.edit_name(),
        }
    }

    /// Whether the step only records item state (nothing to send).
    pub fn is_state_only(&self) -> bool {
        matches!(self, Step::DefineItem(_) | Step::DropItem { .. })
    }
}

/// An item type as its stored items are written: what a `define_item`
/// step records, so that folding the migrations gives the item types the
/// stored data knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDef {
    /// The logical table name.
    pub table: Text,
    /// The item type, as stored in the type attribute.
    pub name: Text,
    /// The fields, in schema order.
    pub fields: List<FieldDef>,
    /// The key attributes the item fills (the table's and its indexes'),
    /// each with its template (`{field}` for a plain key).
    pub keys: List<Template>,
}

impl ItemDef {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The template of key attribute `attribute`.
    pub fn key(&self, attribute: &str) -> Option<&Template> {
        self.keys.iter().find(|k| k.attribute == attribute)
    }
}

/// A field of an [`ItemDef`], as the schema writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    /// The field's name.
    pub name: Text,
    /// The attribute it is stored in.
    pub attribute: Text,
    /// The type as the schema writes it: `u32`, `enum`, `list<string>`, a
    /// nested type's name.
    pub ty: Text,
    /// Whether the field may be absent.
    pub optional: bool,
    /// The default as a TOML value (`"now"`/`"new"` included).
    pub default: Option<Text>,
    /// An enum's values.
    pub values: List<Text>,
    /// A datetime's storage format, or a custom field's Rust type and
    /// storage (`crate::Money as S`).
    pub format: Option<Text>,
    /// A computed field's template.
    pub computed: Option<Text>,
}

/// A data step: rewrites the stored items of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// The logical table name.
    pub table: Text,
    /// The item type whose items are rewritten, as stored in the type
    /// attribute (for `rename_item`, the old name).
    pub item: Text,
    /// The table's type attribute (empty: the table holds one item type).
    pub type_attribute: Text,
    /// What changes in each item.
    pub edit: Edit,
}

impl Rewrite {
    /// The step's `op`, e.g. `rename_attribute`.
    pub fn edit_name(&self) -> &'static str {
        match self.edit {
            Edit::RenameAttribute { .. } => "rename_attribute",
            Edit::MapValues { .. } => "map_values",
            Edit::WriteDefault { .. } => "write_default",
            Edit::RemoveAttribute { .. } => "remove_attribute",
            Edit::RenameItem { .. } => "rename_item",
            Edit::RewriteKeys(_) => "rewrite_keys",
            Edit::Transform { .. } => "transform",
        }
    }
}

/// What a [`Rewrite`] changes in each stored item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Move the value of attribute `from` to `to`.
    RenameAttribute {
        /// The old attribute name.
        from: Text,
        /// The new attribute name.
        to: Text,
    },
    /// Replace stored text values of `attribute`: each `(old, new)`.
    MapValues {
        /// The attribute.
        attribute: Text,
        /// Old value to new value.
        map: List<(Text, Text)>,
    },
    /// Write `value` to the items that lack `attribute`.
    WriteDefault {
        /// The attribute.
        attribute: Text,
        /// The value.
        value: Literal,
    },
    /// Remove `attribute` from every item.
    RemoveAttribute {
        /// The attribute.
        attribute: Text,
    },
    /// Rewrite the type attribute to `to`.
    RenameItem {
        /// The new item type name.
        to: Text,
    },
    /// Move each item to the table key its `set` templates render from its
    /// stored fields: the copy and the deletion of the old item are one
    /// transaction, conditional on the old item being unchanged.
    RewriteKeys(Backfill),
    /// Replace each item with what a function of the app returns for it:
    /// the generated code decodes the item as the type was (from the
    /// migrations' item state), calls the function, and encodes the new
    /// item. Each rewritten item carries `mark` in [`Edit::TRANSFORM_MARK`],
    /// so a resumed step never transforms an item twice.
    Transform {
        /// The function's Rust path, e.g. `crate::upgrades::order_v2`.
        function: Text,
        /// `NNNN.S`: the migration number and step index.
        mark: Text,
    },
}

impl Edit {
    /// The attribute a transformed item (and every item the generated code
    /// of a transformed type writes) carries its transform's mark in.
    pub const TRANSFORM_MARK: &'static str = "_transform";
}

/// A scalar value a data step writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// Text (`S`).
    Text(Text),
    /// A number (`N`), in DynamoDB's text form.
    Number(Text),
    /// A boolean (`BOOL`).
    Bool(bool),
}

/// A backfill: for each item of `item` in `table`, render `set` from the
/// item's stored fields (as generated code renders keys) and write the
/// results with a conditional update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfill {
    /// The logical table name.
    pub table: Text,
    /// The item type, as stored in the type attribute.
    pub item: Text,
    /// The table's type attribute.
    pub type_attribute: Text,
    /// The table's key separator, checked in values of multi-field
    /// templates.
    pub separator: Text,
    /// The fields the templates read.
    pub fields: List<TemplateField>,
    /// The attributes to write.
    pub set: List<Template>,
    /// Computed attributes to write (`computed = { ... }`): rendered with
    /// their case modifiers and without the key rules (a value may be
    /// empty or hold the separator), as generated code renders them.
    pub computed: List<Template>,
}

impl Backfill {
    /// Every template: the key-like ones, then the computed ones.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.set.iter().chain(self.computed.iter())
    }

    /// The stored field a template names.
    pub fn field(&self, name: &str) -> Option<&TemplateField> {
        self.fields.iter().find(|f| f.name == name)
    }
}
