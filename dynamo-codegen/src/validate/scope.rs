//! What the parts of one table file are validated against: the table
//! (its keys and options) and, for templates, an item type's fields.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use crate::{
    diagnostics::SourceFile,
    ir::{self, KeyType, Span, TableDef},
};

/// What items, types and collections need to know about their table.
pub(crate) struct TableCx<'a> {
    /// The table's definition (indexes, type attribute and separator
    /// included).
    pub def: &'a TableDef,
    /// Names of item and nested types whose sections did not parse.
    pub broken: &'a BTreeSet<String>,
}

impl TableCx<'_> {
    /// Every key attribute of the table and its indexes, with its type and
    /// whether it is a sort key anywhere.
    pub fn key_attributes(&self) -> Vec<(String, KeyType, bool)> {
        let mut out: Vec<(String, KeyType, bool)> = Vec::new();
        let mut add = |k: &ir::KeyAttributeDef, sort: bool| {
            if let Some(e) = out.iter_mut().find(|e| e.0 == k.name) {
                e.2 |= sort;
            } else {
                out.push((k.name.to_string(), k.ty, sort));
            }
        };
        add(&self.def.partition_key, false);
        if let Some(sk) = &self.def.sort_key {
            add(sk, true);
        }
        for index in self.def.indexes.iter() {
            for pk in index.partition_key.iter() {
                add(pk, false);
            }
            for sk in index.sort_key.iter() {
                add(sk, true);
            }
        }
        out
    }

    /// Whether `attribute` is the table's own partition or sort key.
    pub fn is_table_key(&self, attribute: &str) -> bool {
        self.def.key().any(|k| k.name == attribute)
    }
}

/// An item's fields as templates see them: what migrations' backfill
/// templates and collections resolve against.
#[derive(Debug, Clone)]
pub(crate) struct FieldScope {
    /// The schema file.
    pub file: Arc<SourceFile>,
    /// Field names as written (added fields included).
    pub names: Vec<String>,
    /// Each field's type as the schema writes it (empty where invalid).
    pub type_names: Vec<String>,
    /// The resolved fields (`None` where a field was invalid).
    pub fields: Vec<Option<ir::Field>>,
    /// Each enum field's stored values (empty for other fields).
    pub enum_values: Vec<Vec<String>>,
    /// Where each field is declared (for an added field, the option).
    pub spans: Vec<Span>,
    /// Where each field says `optional = true`.
    pub optional_spans: Vec<Option<Span>>,
    /// Where each key attribute's template (or plain key field) is.
    pub key_spans: BTreeMap<String, Span>,
    /// The item's name span.
    pub name_span: Span,
}

/// A key attribute a template fills.
pub(crate) struct KeyTarget<'a> {
    /// The attribute.
    pub name: &'a str,
    /// Its type.
    pub ty: KeyType,
    /// Whether it is a sort key of the table or some index.
    pub sort: bool,
}
