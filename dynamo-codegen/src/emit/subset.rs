//! The part of the IR that code generation covers today, and the gate that
//! names everything else. The schema language (validated in full by
//! `check`) is ahead of the emitters: a schema using a feature listed here
//! is valid, but `generate` stops with a clear list instead of emitting
//! code that silently leaves the feature out.

use crate::ir::{self, Billing, FieldType, KeyValue, Template};

/// An item type whose table keys are templates.
#[derive(Debug)]
pub(crate) struct Item {
    /// The type name.
    pub name: String,
    /// Rustdoc.
    pub doc: Option<String>,
    /// The fields.
    pub fields: Vec<ir::Field>,
    /// The table's partition key template.
    pub partition: Template,
    /// The table's sort key template.
    pub sort: Option<Template>,
    /// The fields of the key struct ([`ir::Item::key_fields`]).
    pub key_fields: Vec<usize>,
}

/// The items of `table` in the covered subset, or what is not covered.
pub(crate) fn lower(table: &ir::Table) -> Result<Vec<Item>, Vec<String>> {
    let mut missing = Vec::new();
    let t = &table.def.name;
    if table.def.billing != Billing::OnDemand {
        missing.push(format!("table `{t}`: provisioned billing"));
    }
    if table.def.ttl.is_some() {
        missing.push(format!("table `{t}`: ttl"));
    }
    if table.def.stream.is_some() {
        missing.push(format!("table `{t}`: stream"));
    }
    for index in &table.def.indexes {
        missing.push(format!("table `{t}`: index `{}`", index.name));
    }
    for nested in &table.types {
        missing.push(format!("table `{t}`: nested type `{}`", nested.name));
    }
    for collection in &table.collections {
        missing.push(format!("table `{t}`: collection `{}`", collection.name));
    }
    let mut items = Vec::new();
    for item in &table.items {
        let i = &item.name;
        let before = missing.len();
        if item.timestamps.is_some() {
            missing.push(format!("item `{i}`: timestamps"));
        }
        if item.version.is_some() {
            missing.push(format!("item `{i}`: version"));
        }
        if item.expires_after.is_some() {
            missing.push(format!("item `{i}`: expires_after"));
        }
        for f in &item.fields {
            let covered = matches!(
                f.ty,
                FieldType::String | FieldType::Bool | FieldType::Int(_) | FieldType::Float(_)
            );
            if !covered {
                missing.push(format!(
                    "item `{i}`: field `{}` of type `{}`",
                    f.name,
                    f.ty.schema_name()
                ));
            }
            if f.default.is_some() {
                missing.push(format!("item `{i}`: default of field `{}`", f.name));
            }
            if !f.validate.is_empty() {
                missing.push(format!("item `{i}`: validate on field `{}`", f.name));
            }
        }
        let template = |v: &KeyValue| match v {
            KeyValue::Template(t) => Some(t.clone()),
            KeyValue::Field { .. } => None,
        };
        let partition = template(&item.partition);
        let sort = item.sort.as_ref().map(template);
        if partition.is_none() || sort.as_ref().is_some_and(Option::is_none) {
            missing.push(format!("item `{i}`: plain key fields"));
        }
        if let (true, Some(partition)) = (missing.len() == before, partition) {
            items.push(Item {
                name: item.name.clone(),
                doc: item.doc.clone(),
                fields: item.fields.clone(),
                partition,
                sort: sort.flatten(),
                key_fields: item.key_fields(),
            });
        }
    }
    if missing.is_empty() {
        Ok(items)
    } else {
        Err(missing)
    }
}
