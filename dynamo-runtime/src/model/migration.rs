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
    /// Write rendered attributes onto the existing items of one type.
    Backfill(Backfill),
}

impl Step {
    /// Every step's `op`, as migration files write it.
    pub const OPS: [&'static str; 8] = [
        "create_table",
        "delete_table",
        "add_index",
        "remove_index",
        "update_ttl",
        "update_stream",
        "update_billing",
        "backfill",
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
            | Step::Backfill(Backfill { table, .. }) => table,
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
            Step::Backfill(_) => Step::OPS[7],
        }
    }
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
}

impl Backfill {
    /// The stored field a template names.
    pub fn field(&self, name: &str) -> Option<&TemplateField> {
        self.fields.iter().find(|f| f.name == name)
    }
}
