//! Stage 2: check the raw structs and resolve them into the IR. Every rule
//! reports its own diagnostic (a stable `dynamo::` code, the offending span
//! with a label, a help line, related spans where two places conflict);
//! validation goes on after an error so that one run reports every problem
//! it can.
//!
//! One submodule per concept: `table` (table options), `index`,
//! `types` (field types, options, defaults, nested types), `item` (item
//! types and their options), `keys` (templates, plain keys, collisions),
//! `facts` (what generated code is made of), `collection`,
//! `migration`. `scope` holds what they are checked against; this
//! module runs them in order over each table file.

pub(crate) mod attributes;
mod collection;
mod computed;
mod facts;
mod index;
mod item;
mod keys;
mod migration;
mod scope;
mod table;
mod types;

use std::{collections::BTreeMap, ops::Range, sync::Arc};

use crate::{
    diagnostics::{Diagnostic, Diagnostics, SourceFile, did_you_mean},
    ir,
    load::{Loaded, RawFile, Sp},
};

use scope::{FieldScope, TableCx};

/// Validates everything loaded from a schema folder. Problems go to
/// `diagnostics`; the returned schema holds what was valid.
pub fn validate(loaded: &Loaded, diagnostics: &mut Diagnostics) -> ir::Schema {
    let mut tables = Vec::new();
    let mut scopes = BTreeMap::new();
    let mut seen: BTreeMap<String, (Arc<SourceFile>, Range<usize>)> = BTreeMap::new();
    for file in &loaded.files {
        let mut cx = Cx::new(&file.source, diagnostics);
        let Some((table, item_scopes)) = table_file(&mut cx, file) else {
            continue;
        };
        let name_span = name_span(file);
        if let Some((first_file, first_span)) = seen.get(&*table.def.name) {
            let d = cx
                .error(
                    "dynamo::duplicate_table",
                    name_span,
                    format!("table `{}` is defined twice", table.def.name),
                    "defined again here",
                )
                .related(first_file, first_span.clone(), "first defined here")
                .help("one file describes one table: merge the item types into one file");
            cx.push(d);
            continue;
        }
        seen.insert(
            table.def.name.to_string(),
            (Arc::clone(&file.source), name_span),
        );
        scopes.insert(table.def.name.to_string(), item_scopes);
        tables.push(table);
    }
    let migrations = migration::migrations(&loaded.migrations, &tables, &scopes, diagnostics);
    previous(&mut tables, &migrations);
    ir::Schema { tables, migrations }
}

/// `text` as a template of `item`'s fields, or `None` when it names a
/// field the item does not have.
fn key_template(item: &ir::Item, attribute: &str, text: &str) -> Option<ir::Template> {
    use dynamo_runtime::model::template::{Piece, pieces};
    let mut parts = Vec::new();
    for piece in pieces(text) {
        let (_, piece) = piece.ok()?;
        parts.push(match piece {
            Piece::Literal(l) => ir::TemplatePart::Literal(l.to_owned()),
            Piece::Field { name, width, case } => ir::TemplatePart::Field {
                field: ir::FieldId(item.fields.iter().position(|f| f.name == name)?),
                width,
                case,
            },
        });
    }
    Some(ir::Template {
        attribute: attribute.to_owned(),
        text: text.to_owned(),
        parts,
    })
}

/// Fills each item type's [`ir::Previous`] from the data steps of the
/// migrations, in order (a rename followed by more changes under the new
/// name is followed through).
fn previous(tables: &mut [ir::Table], migrations: &[ir::Migration]) {
    use ir::{Edit, Step};
    // The item types as recorded so far, for the templates a key rewrite
    // replaces.
    let mut recorded: BTreeMap<(String, String), ir::ItemDef> = BTreeMap::new();
    for step in migrations.iter().flat_map(|m| &m.steps) {
        if let Step::DefineItem(def) = step {
            recorded.insert((def.table.to_string(), def.name.to_string()), def.clone());
        }
        let Step::Rewrite(r) = step else { continue };
        if let Edit::RenameItem { to } = &r.edit
            && let Some(mut def) = recorded.remove(&(r.table.to_string(), r.item.to_string()))
        {
            def.name = to.clone();
            recorded.insert((r.table.to_string(), to.to_string()), def);
        }
        let Some(table) = tables.iter_mut().find(|t| t.def.name == r.table) else {
            continue;
        };
        if let Edit::RenameItem { to } = &r.edit {
            // Names the old type had before go along too.
            let mut names = vec![r.item.to_string()];
            if let Some(old) = table.items.iter().find(|i| *i.name == *r.item) {
                names.extend(old.previous.names.iter().cloned());
            }
            if let Some(item) = table.items.iter_mut().find(|i| *i.name == **to) {
                for name in names {
                    if !item.previous.names.contains(&name) && name != item.name {
                        item.previous.names.push(name);
                    }
                }
            }
            continue;
        }
        let Some(item) = table
            .items
            .iter_mut()
            .find(|i| *i.name == *r.item || i.previous.names.iter().any(|n| *n == *r.item))
        else {
            continue;
        };
        match &r.edit {
            Edit::RenameAttribute { from, to } => {
                let pair = (to.to_string(), from.to_string());
                // Only while the item type still stores the new name.
                if item.fields.iter().any(|f| f.attribute == pair.0)
                    && !item.previous.attributes.contains(&pair)
                {
                    item.previous.attributes.push(pair);
                }
            }
            Edit::MapValues { attribute, map } => {
                for (old, new) in map.iter() {
                    let triple = (attribute.to_string(), old.to_string(), new.to_string());
                    if !item.previous.values.contains(&triple) {
                        item.previous.values.push(triple);
                    }
                }
            }
            Edit::Transform { mark, .. } => item.previous.mark = Some(mark.to_string()),
            Edit::RewriteKeys(b) => {
                let Some(def) = recorded.get(&(r.table.to_string(), r.item.to_string())) else {
                    continue;
                };
                let key_fields = item.key_fields();
                let mut previous = Vec::new();
                for t in b.set.iter() {
                    let Some(old) = def.key(&t.attribute) else {
                        continue;
                    };
                    if old.text == t.text {
                        continue;
                    }
                    match key_template(item, &t.attribute, &old.text) {
                        Some(template)
                            if template.fields().iter().all(|f| key_fields.contains(f)) =>
                        {
                            previous.push(template);
                        }
                        // Not renderable from the key: no fallback read.
                        _ => {
                            previous.clear();
                            break;
                        }
                    }
                }
                if !previous.is_empty() {
                    item.previous.keys = previous;
                }
            }
            _ => {}
        }
    }
}

/// Validates one table file: the table, its indexes, nested types, item
/// types and collections.
fn table_file(
    cx: &mut Cx<'_>,
    file: &RawFile,
) -> Option<(ir::Table, BTreeMap<String, FieldScope>)> {
    let errors_before = cx.errors();
    let raw = file.schema.table.as_ref()?;
    let mut def = table::table(cx, raw)?;
    let mut raw_indexes: Vec<_> = file.schema.index.iter().collect();
    raw_indexes.sort_by_key(|(name, _)| name.span().start);
    let indexes = index::indexes(
        cx,
        &raw_indexes,
        &def.partition_key,
        def.sort_key.as_ref(),
        def.billing,
        &raw.name,
    );
    table::key_attribute_types(
        cx,
        &def.partition_key,
        def.sort_key.as_ref(),
        &indexes,
        &raw_indexes,
        &def.type_attribute,
        raw.name.span(),
    );
    let index_spans = indexes
        .iter()
        .map(|i| {
            raw_indexes
                .iter()
                .find(|(n, _)| *n.get() == i.name)
                .map_or(raw.name.span(), |(n, _)| n.span())
        })
        .collect();
    def.indexes = indexes.into();
    let tcx = TableCx {
        def: &def,
        broken: &file.broken,
    };
    let (nested, mut enums, nested_info) =
        types::nested_types(cx, &tcx, &file.schema.types, &file.schema.union);
    let unions = types::unions(cx, &file.schema.union, &nested, &nested_info);
    let (items, scopes) = item::items(cx, &tcx, file, &nested_info, &mut enums);
    types::unused_nested(cx, &file.schema);
    table::projections(cx, &def, &raw_indexes, &scopes, &def.type_attribute);
    let collections = collection::collections(cx, &tcx, &file.schema.collection, &items, &scopes);

    if def.type_attribute.is_empty() && file.schema.item.len() > 1 {
        let mut names = file.schema.item.keys().collect::<Vec<_>>();
        names.sort_by_key(|n| n.span().start);
        let d = cx
            .error(
                "dynamo::untyped_table",
                names[1].span(),
                format!(
                    "table `{}` has no type attribute, so it holds one item type, but `{}` is a second",
                    raw.name.get(),
                    names[1].get()
                ),
                "a second item type",
            )
            .related(cx.file, names[0].span(), "the first")
            .help("items without a type attribute cannot be told apart: keep one item type, or remove `type_attribute = false`");
        cx.push(d);
    }
    if file.schema.item.is_empty() && file.broken.is_empty() {
        let d = cx
            .error(
                "dynamo::no_items",
                raw.name.span(),
                format!("table `{}` has no item types", raw.name.get()),
                "no `[item.Name]` for this table",
            )
            .warning()
            .help(
                "add an item type, e.g. `[item.Customer.keys]` with a template per key attribute",
            );
        cx.push(d);
    }
    if cx.errors() != errors_before || !file.broken.is_empty() {
        return None;
    }
    let json_schema = raw.json_schema.as_ref().is_some_and(|s| *s.get());
    let attributes = attributes::table_attributes(cx, raw.attributes.as_ref());
    let table = ir::Table {
        def,
        file: file.relative_name.clone(),
        source: ir::Source(Arc::clone(cx.file)),
        span: raw.name.span(),
        index_spans,
        items: items.into_iter().collect::<Option<_>>()?,
        nested: nested.into_iter().collect::<Option<_>>()?,
        unions: unions.into_iter().collect::<Option<_>>()?,
        enums,
        collections,
        keep_unmodeled: raw.keep_unmodeled.as_ref().is_none_or(|k| *k.get()),
        serde: raw.serde.as_ref().is_some_and(|s| *s.get()) || json_schema,
        json_schema,
        attributes,
    };
    Some((table, scopes))
}

fn name_span(file: &RawFile) -> Range<usize> {
    file.schema.table.as_ref().map_or(0..0, |t| t.name.span())
}

/// The state of validating one file.
pub(crate) struct Cx<'a> {
    pub(crate) file: &'a Arc<SourceFile>,
    diagnostics: &'a mut Diagnostics,
}

impl<'a> Cx<'a> {
    pub(crate) fn new(file: &'a Arc<SourceFile>, diagnostics: &'a mut Diagnostics) -> Self {
        Cx { file, diagnostics }
    }

    /// A new error in this file.
    pub(crate) fn error(
        &self,
        code: &'static str,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::error(code, self.file, span, message, label)
    }

    /// Records a diagnostic.
    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// The number of errors so far (to tell whether a part was valid).
    pub(crate) fn errors(&self) -> usize {
        self.diagnostics.error_count()
    }

    /// Reports `name` not being one of `allowed`, with "did you mean".
    pub(crate) fn unknown_name(
        &mut self,
        code: &'static str,
        name: &Sp<String>,
        what: &str,
        allowed: &[&str],
    ) {
        let list = if allowed.is_empty() {
            "there are none".to_owned()
        } else {
            format!(
                "they are {}",
                allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let help = match did_you_mean(name, allowed.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? {}", capitalize(&list)),
            None => capitalize(&list),
        };
        let d = self
            .error(
                code,
                name.span(),
                format!("unknown {what} `{}`", name.get()),
                format!(
                    "not {} {what}",
                    if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    }
                ),
            )
            .help(help);
        self.push(d);
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The file span of `inner` (a range within a string value's text), or the
/// whole value when the string was written with escapes.
pub(crate) fn inner_span(
    file: &SourceFile,
    value: &Sp<String>,
    inner: Range<usize>,
) -> Range<usize> {
    let outer = value.span();
    let Some(raw) = file.text.get(outer.clone()) else {
        return outer;
    };
    let quote = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        3
    } else {
        1
    };
    let unescaped =
        raw.len() >= 2 * quote && raw.get(quote..raw.len() - quote) == Some(value.get().as_str());
    if unescaped {
        outer.start + quote + inner.start..outer.start + quote + inner.end
    } else {
        outer
    }
}

/// Whether `name` is a valid DynamoDB table or index name.
pub(crate) fn check_resource_name(cx: &mut Cx<'_>, name: &Sp<String>, what: &str) -> bool {
    let text = name.get();
    let bad_char = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')));
    let problem = if !(3..=255).contains(&text.len()) {
        format!("has {} characters", text.len())
    } else if let Some(c) = bad_char {
        format!("contains {c:?}")
    } else {
        return true;
    };
    let d = cx
        .error(
            "dynamo::resource_name",
            name.span(),
            format!("invalid {what} name `{text}`: it {problem}"),
            format!("not a valid DynamoDB {what} name"),
        )
        .help(format!(
            "{what} names have 3 to 255 characters: letters, digits, `_`, `-` and `.`"
        ));
    cx.push(d);
    false
}

#[cfg(test)]
mod tests;
