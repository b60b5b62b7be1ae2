//! Item state: the item types as the stored data knows them (folded from
//! `define_item`, `drop_item` and `rename_item` steps), their difference to
//! the schemas' item types, and the data steps that make stored items
//! readable by the new ones, or why no step can.

use std::{collections::BTreeMap, ops::Range, sync::Arc};

use super::plan::{Change, Difference, Options};
use crate::{
    diagnostics::SourceFile,
    ir::{
        self, DateTimeFormat, DefaultValue, Edit, FieldDef, FieldType, IndexKind, ItemDef,
        KeyValue, Literal, Rewrite, Step, StoredTemplate, TableDef, Value,
    },
};

/// The item types each table's migrations record, by table and name. A
/// table the migrations create but record no item type of is absent: its
/// items are not tracked yet, and the next migration records a baseline.
pub fn state(migrations: &[ir::Migration]) -> BTreeMap<String, BTreeMap<String, ItemDef>> {
    let mut out: BTreeMap<String, BTreeMap<String, ItemDef>> = BTreeMap::new();
    for step in migrations.iter().flat_map(|m| &m.steps) {
        match step {
            Step::CreateTable(def) => {
                out.remove(&*def.name);
            }
            Step::DeleteTable { table } => {
                out.remove(&**table);
            }
            Step::DefineItem(item) => {
                out.entry(item.table.to_string())
                    .or_default()
                    .insert(item.name.to_string(), item.clone());
            }
            Step::DropItem { table, item } => {
                if let Some(items) = out.get_mut(&**table) {
                    items.remove(&**item);
                }
            }
            Step::Rewrite(Rewrite {
                table,
                item,
                edit: Edit::RenameItem { to },
                ..
            }) => {
                if let Some(items) = out.get_mut(&**table)
                    && let Some(mut def) = items.remove(&**item)
                {
                    def.name = to.clone();
                    items.insert(to.to_string(), def);
                }
            }
            _ => {}
        }
    }
    out
}

/// A default as TOML text, as `define_item` records it.
fn value_toml(table: &ir::Table, value: &Value) -> toml::Value {
    match value {
        Value::String(s) | Value::Number(s) => toml::Value::String(s.clone()),
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Int(i) => toml::Value::Integer(*i),
        Value::Float(_, f) => toml::Value::Float(*f),
        Value::Bytes(b) => toml::Value::Array(
            b.iter()
                .map(|b| toml::Value::Integer(i64::from(*b)))
                .collect(),
        ),
        Value::DateTime { second, nanosecond } => toml::Value::String(
            jiff::Timestamp::new(*second, *nanosecond)
                .map(|t| t.to_string())
                .unwrap_or_default(),
        ),
        Value::Date { year, month, day } => {
            toml::Value::String(format!("{year:04}-{month:02}-{day:02}"))
        }
        Value::Uuid(u) => {
            let hex = format!("{u:032x}");
            toml::Value::String(format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            ))
        }
        Value::Json(j) => toml::Value::String(j.to_string()),
        Value::Enum(id, i) => toml::Value::String(table.enum_def(*id).values[*i].value.clone()),
        Value::Set(v) | Value::List(v) => {
            toml::Value::Array(v.iter().map(|v| value_toml(table, v)).collect())
        }
        Value::Map(m) => toml::Value::Table(
            m.iter()
                .map(|(k, v)| (k.clone(), value_toml(table, v)))
                .collect(),
        ),
        Value::Nested(id, values) => {
            let nested = table.nested(*id);
            toml::Value::Table(
                nested
                    .fields
                    .iter()
                    .zip(values)
                    .filter_map(|(f, v)| Some((f.name.clone(), value_toml(table, v.as_ref()?))))
                    .collect(),
            )
        }
    }
}

/// The schema's item type as a `define_item` step records it: fields by
/// name, keys by attribute.
pub fn item_def(table: &ir::Table, item: &ir::Item) -> ItemDef {
    let mut fields: Vec<FieldDef> = item
        .fields
        .iter()
        .map(|f| FieldDef {
            name: f.name.clone().into(),
            attribute: f.attribute.clone().into(),
            ty: f
                .ty
                .schema_name(&|id| table.nested(id).name.as_str())
                .into(),
            optional: f.optional,
            default: f.default.as_ref().map(|d| {
                match d {
                    DefaultValue::Now => "\"now\"".to_owned(),
                    DefaultValue::NewUuid => "\"new\"".to_owned(),
                    DefaultValue::NewUuidV7 => "\"v7\"".to_owned(),
                    DefaultValue::NewUlid => "\"ulid\"".to_owned(),
                    DefaultValue::Value(v) => value_toml(table, v).to_string(),
                }
                .into()
            }),
            values: match &f.ty {
                FieldType::Enum(id) => table
                    .enum_def(*id)
                    .values
                    .iter()
                    .map(|v| v.value.clone().into())
                    .collect::<Vec<_>>()
                    .into(),
                _ => Vec::new().into(),
            },
            // Sealed values are stored as binary, whatever the type: a
            // storage format of their own.
            format: if f.encrypted {
                Some("encrypted".into())
            } else {
                format(table, &f.ty)
            },
            computed: f.computed.as_ref().map(|t| t.text.clone().into()),
        })
        .collect();
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    let mut keys: Vec<StoredTemplate> = item
        .keys
        .iter()
        .map(|k| match k {
            KeyValue::Template(t) => StoredTemplate {
                attribute: t.attribute.clone().into(),
                text: t.text.clone().into(),
            },
            KeyValue::Field { attribute, field } => StoredTemplate {
                attribute: attribute.clone().into(),
                text: format!("{{{}}}", item.field(*field).name).into(),
            },
        })
        .collect();
    keys.sort_by(|a, b| a.attribute.cmp(&b.attribute));
    ItemDef {
        table: table.def.name.clone(),
        name: item.name.clone().into(),
        fields: fields.into(),
        keys: keys.into(),
    }
}

/// How a field is stored beyond its type name: a datetime's format, a
/// custom type's Rust path and storage, a union's tag attribute and tags
/// (`union kind: login, note`, sorted).
fn format(table: &ir::Table, ty: &FieldType) -> Option<dynamo_runtime::model::Text> {
    match ty {
        FieldType::DateTime(DateTimeFormat::Rfc3339) => None,
        FieldType::DateTime(f) => Some(
            DateTimeFormat::ALL
                .iter()
                .find(|(_, x)| x == f)
                .map_or_else(
                    || match f {
                        DateTimeFormat::Pattern(p) => (*p).to_owned(),
                        _ => String::new(),
                    },
                    |(n, _)| (*n).to_owned(),
                )
                .into(),
        ),
        FieldType::Custom(c) => Some(format!("{} as {}", c.path, c.stored.name()).into()),
        FieldType::Union(id, _) => {
            let union = table.union(*id);
            let mut tags: Vec<&str> = union.variants.iter().map(|v| v.tag.as_str()).collect();
            tags.sort_unstable();
            Some(format!("union {}: {}", union.tag, tags.join(", ")).into())
        }
        FieldType::Set(t) | FieldType::List(t) | FieldType::Map(t) => format(table, t),
        _ => None,
    }
}

/// The tag attribute and tags of a union's recorded format.
fn union_tags(format: Option<&str>) -> Option<(&str, Vec<&str>)> {
    let (tag, tags) = format?.strip_prefix("union ")?.split_once(": ")?;
    Some((tag, tags.split(", ").collect()))
}

/// Whether every value stored as type `old` reads as type `new`.
pub fn widens(old: &str, new: &str) -> bool {
    if old == new {
        return true;
    }
    for wrapper in ["set<", "list<", "map<"] {
        if let (Some(o), Some(n)) = (old.strip_prefix(wrapper), new.strip_prefix(wrapper)) {
            return widens(o.trim_end_matches('>'), n.trim_end_matches('>'))
                && o.ends_with('>')
                && n.ends_with('>');
        }
    }
    let int = |t: &str| ir::IntType::ALL.into_iter().find(|i| i.name() == t);
    match (int(old), int(new)) {
        (Some(o), Some(n)) => {
            let (olo, ohi) = o.range();
            let (nlo, nhi) = n.range();
            nlo <= olo && ohi <= nhi
        }
        // Integers and f32s read exactly as exact decimals; f32 as f64.
        (Some(o), None) => new == "number" || (new == "f64" && o.digits() <= 15),
        (None, None) => old == "f32" && (new == "f64" || new == "number"),
        (None, Some(_)) => false,
    }
}

/// Where a difference is, in a schema file.
#[derive(Debug, Clone)]
pub struct At {
    /// The schema file.
    pub file: Arc<SourceFile>,
    /// The text the difference is about.
    pub span: Range<usize>,
}

impl At {
    /// `span` of `table`'s schema file.
    fn of(table: &ir::Table, span: Range<usize>) -> Option<At> {
        Some(At {
            file: Arc::clone(&table.source.0),
            span,
        })
    }
}

impl PartialEq for At {
    fn eq(&self, other: &At) -> bool {
        self.file.name == other.file.name && self.span == other.span
    }
}

/// The differences between the schema's item types of `table` and the
/// recorded ones (`have`: `None` when the table records none yet, and gets
/// a baseline), with the steps that make stored items match, planned with
/// `options`. `state_def` is the table as the migrations build it: keys
/// of indexes it lacks (or has with other keys) are backfilled by the
/// table's own differences.
pub fn differences(
    table: &ir::Table,
    have: Option<&BTreeMap<String, ItemDef>>,
    state_def: Option<&TableDef>,
    options: &Options,
    out: &mut Vec<Difference>,
) {
    let name = table.def.name.to_string();
    let at = |span: Range<usize>| At::of(table, span);
    let Some(have) = have else {
        // A baseline: the stored items are taken to be what the schema
        // says (as before item state existed).
        for item in &table.items {
            out.push(Difference {
                table: name.clone(),
                what: format!(
                    "item type `{}` of `{name}` is not recorded in the migrations",
                    item.name
                ),
                change: Change::Steps(vec![Step::DefineItem(item_def(table, item))]),
                at: at(item.span.clone()),
            });
        }
        return;
    };
    // Indexes the table-level differences add or re-create (with their
    // backfills), so their keys need no backfill here.
    let fresh: Vec<&str> = table
        .def
        .indexes
        .iter()
        .filter(|i| {
            state_def
                .and_then(|d| d.indexes.iter().find(|x| x.name == i.name))
                .is_none_or(|x| x.partition_key != i.partition_key || x.sort_key != i.sort_key)
        })
        .map(|i| &*i.name)
        .collect();
    let wanted: Vec<ItemDef> = table.items.iter().map(|i| item_def(table, i)).collect();
    let mut renamed: BTreeMap<&str, &str> = BTreeMap::new();
    for (item, want) in table.items.iter().zip(&wanted) {
        if have.contains_key(&*want.name) {
            continue;
        }
        // One recorded type, gone from the schema, with the same fields:
        // the type was renamed.
        let candidates: Vec<&ItemDef> = have
            .values()
            .filter(|h| {
                !table.items.iter().any(|i| *i.name == *h.name)
                    && h.fields == want.fields
                    && !renamed.contains_key(&*h.name)
            })
            .collect();
        if let [old] = candidates[..] {
            renamed.insert(&old.name, &want.name);
            let mut steps = Vec::new();
            if table.def.has_type_attribute() {
                steps.push(Step::Rewrite(Rewrite {
                    table: table.def.name.clone(),
                    item: old.name.clone(),
                    type_attribute: table.def.type_attribute.clone(),
                    edit: Edit::RenameItem {
                        to: want.name.clone(),
                    },
                }));
            }
            out.push(Difference {
                table: name.clone(),
                what: format!(
                    "item type `{}` of `{name}` is `{}` in the migrations (renamed: the same fields)",
                    want.name, old.name
                ),
                change: Change::Steps(steps),
                at: at(item.span.clone()),
            });
            let mut old = old.clone();
            old.name = want.name.clone();
            item_differences(table, item, &old, want, &fresh, options, out);
            continue;
        }
        out.push(Difference {
            table: name.clone(),
            what: format!(
                "item type `{}` of `{name}` is in the schema but not in the migrations",
                want.name
            ),
            change: Change::Steps(vec![Step::DefineItem(want.clone())]),
            at: at(item.span.clone()),
        });
    }
    for old in have.values() {
        if table.items.iter().any(|i| *i.name == *old.name) || renamed.contains_key(&*old.name) {
            continue;
        }
        out.push(Difference {
            table: name.clone(),
            what: format!(
                "item type `{}` of `{name}` is in the migrations but not in the schema (its stored \
                 items are left alone)",
                old.name
            ),
            change: Change::Steps(vec![Step::DropItem {
                table: table.def.name.clone(),
                item: old.name.clone(),
            }]),
            at: at(table.span.clone()),
        });
    }
    for (item, want) in table.items.iter().zip(&wanted) {
        if let Some(old) = have.get(&*want.name) {
            item_differences(table, item, old, want, &fresh, options, out);
        }
    }
}

/// The differences of one item type, then its `define_item` when any.
fn item_differences(
    table: &ir::Table,
    item: &ir::Item,
    old: &ItemDef,
    want: &ItemDef,
    fresh: &[&str],
    options: &Options,
    out: &mut Vec<Difference>,
) {
    let before = out.len();
    let transform = options.transforms.get(&*want.name);
    let name = table.def.name.to_string();
    let at = |span: Range<usize>| At::of(table, span);
    let rewrite = |edit: Edit| {
        Step::Rewrite(Rewrite {
            table: table.def.name.clone(),
            item: want.name.clone(),
            type_attribute: table.def.type_attribute.clone(),
            edit,
        })
    };
    let it = &want.name;
    let mut diff = |span: Range<usize>, what: String, change: Change| {
        out.push(Difference {
            table: name.clone(),
            what,
            change,
            at: at(span),
        });
    };
    // Computed fields new, changed or stored elsewhere: stored items get
    // the value rendered (reads render a missing one meanwhile).
    let recompute: Vec<&ir::Template> = item
        .fields
        .iter()
        .filter_map(|f| {
            let t = f.computed.as_ref()?;
            let stored = old.field(&f.name).filter(|o| o.attribute == *f.attribute);
            let same = stored.is_some_and(|o| o.computed.as_deref() == Some(t.text.as_str()));
            (!same).then_some(t)
        })
        .collect();
    if !recompute.is_empty() {
        diff(
            item.span.clone(),
            format!(
                "the computed fields of `{it}` are new or changed: {}",
                recompute
                    .iter()
                    .map(|t| format!("{} = \"{}\"", t.attribute, t.text))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Change::Steps(vec![Step::Backfill(ir::backfill(
                (
                    &table.def.name,
                    &table.def.type_attribute,
                    &table.def.key_separator,
                ),
                it,
                (&[], &recompute),
                |id| Some(item.field(id)),
            ))]),
        );
    }
    for f in &item.fields {
        let new = want.field(&f.name).expect("every field is in the def");
        let span = f.span.clone();
        if f.computed.is_some() {
            continue;
        }
        // The same stored attribute under another field name: a Rust
        // rename only.
        let same_attribute = || {
            old.fields
                .iter()
                .find(|o| o.attribute == new.attribute && want.field(&o.name).is_none())
        };
        let Some(prev) = old.field(&f.name).or_else(same_attribute) else {
            let literal = matches!(f.default, Some(DefaultValue::Value(_)));
            let change = if f.optional || literal {
                let written = match &f.default {
                    Some(DefaultValue::Value(v)) if options.write_defaults => literal_of(table, v),
                    _ => None,
                };
                Change::Steps(
                    written
                        .map(|value| {
                            rewrite(Edit::WriteDefault {
                                attribute: new.attribute.clone(),
                                value,
                            })
                        })
                        .into_iter()
                        .collect(),
                )
            } else {
                Change::Refused(format!(
                    "stored `{it}` items lack `{}`, and a required field without a literal \
                     default cannot be read from them: give it a `default`, make it `optional`, \
                     or compute it with `migration new NAME --transform {it}=path::to::function`",
                    f.name
                ))
            };
            diff(
                span,
                format!(
                    "field `{}` of `{it}` is new ({})",
                    f.name,
                    if f.optional {
                        "optional: stored items read as `None`"
                    } else if literal {
                        "stored items read its default; a `write_default` step can store it"
                    } else {
                        "required"
                    }
                ),
                change,
            );
            continue;
        };
        if prev.name != new.name {
            diff(
                span.clone(),
                format!(
                    "field `{}` of `{it}` was `{}` (same attribute)",
                    new.name, prev.name
                ),
                Change::Steps(vec![]),
            );
        }
        if prev.attribute != new.attribute {
            diff(
                span.clone(),
                format!(
                    "field `{}` of `{it}` is stored as `{}`, not `{}`",
                    new.name, new.attribute, prev.attribute
                ),
                Change::Steps(vec![rewrite(Edit::RenameAttribute {
                    from: prev.attribute.clone(),
                    to: new.attribute.clone(),
                })]),
            );
        }
        if prev.ty != new.ty || prev.format != new.format {
            let shown = |f: &FieldDef| {
                let format = f.format.as_deref().map(|f| format!(" ({f})"));
                format!("`{}`{}", f.ty, format.unwrap_or_default())
            };
            let unions = union_tags(prev.format.as_deref()).zip(union_tags(new.format.as_deref()));
            let change = if let (true, Some(((old_tag, old), (new_tag, now)))) =
                (prev.ty == new.ty, unions)
            {
                let gone: Vec<&str> = old.iter().filter(|t| !now.contains(t)).copied().collect();
                if old_tag != new_tag {
                    Change::Refused(format!(
                        "stored values of `{}` name their variant in `{old_tag}`, not `{new_tag}`: \
                         keep the union's `tag`, or convert them with `migration new NAME \
                         --transform {it}=path::to::function`",
                        new.name
                    ))
                } else if gone.is_empty() {
                    // New variants only: every stored value still reads.
                    Change::Steps(vec![])
                } else {
                    Change::Refused(format!(
                        "stored values of `{}` may be the variant(s) {} the union no longer has, \
                         and would not read: keep them, or convert the stored values with \
                         `migration new NAME --transform {it}=path::to::function`",
                        new.name,
                        gone.iter()
                            .map(|t| format!("`{t}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            } else if prev.format == new.format && widens(&prev.ty, &new.ty) {
                Change::Steps(vec![])
            } else {
                Change::Refused(format!(
                    "stored values of `{}` are {}, which do not read as {}: only widening \
                     changes are planned (u32 to u64, i32 to i64, f32 to f64, an integer to \
                     `number`). Convert the stored values with `migration new NAME --transform \
                     {it}=path::to::function`, or add a field with the new type instead",
                    new.name,
                    shown(prev),
                    shown(new),
                ))
            };
            diff(
                span.clone(),
                format!(
                    "field `{}` of `{it}` is {} in the schema but {} in the migrations",
                    new.name,
                    shown(new),
                    shown(prev)
                ),
                change,
            );
        }
        if prev.optional && !new.optional {
            let literal = matches!(f.default, Some(DefaultValue::Value(_)));
            diff(
                span.clone(),
                format!("field `{}` of `{it}` is no longer optional", new.name),
                if literal {
                    Change::Steps(vec![])
                } else {
                    Change::Refused(format!(
                        "stored `{it}` items may lack `{}`: give it a literal `default` (read for \
                         a missing value), or keep it optional",
                        new.name
                    ))
                },
            );
        }
        let removed: Vec<&str> = prev
            .values
            .iter()
            .filter(|v| !new.values.contains(v))
            .map(|v| &**v)
            .collect();
        if prev.ty == "enum" && new.ty == "enum" && !removed.is_empty() {
            let unmapped: Vec<&str> = removed
                .iter()
                .copied()
                .filter(|v| !f.renamed_values.iter().any(|(o, _)| o == v))
                .collect();
            let change = if unmapped.is_empty() {
                Change::Steps(vec![rewrite(Edit::MapValues {
                    attribute: new.attribute.clone(),
                    map: f
                        .renamed_values
                        .iter()
                        .filter(|(o, _)| removed.contains(&o.as_str()))
                        .map(|(o, n)| (o.clone().into(), n.clone().into()))
                        .collect::<Vec<_>>()
                        .into(),
                })])
            } else {
                Change::Refused(format!(
                    "stored `{it}` items may hold {}, which no longer read: map each to a value \
                     that stays, e.g. `renamed_values = {{ {} = \"{}\" }}` on the field",
                    unmapped
                        .iter()
                        .map(|v| format!("`{v}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    unmapped[0],
                    new.values.first().map_or("…", |v| &**v),
                ))
            };
            diff(
                span.clone(),
                format!(
                    "enum field `{}` of `{it}` lost value{} {}",
                    new.name,
                    if removed.len() == 1 { "" } else { "s" },
                    removed
                        .iter()
                        .map(|v| format!("`{v}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                change,
            );
        } else if prev.values != new.values || prev.default != new.default {
            diff(
                span,
                format!(
                    "field `{}` of `{it}` has other values or another default",
                    new.name
                ),
                Change::Steps(vec![]),
            );
        }
    }
    for prev in old.fields.iter() {
        let kept = want.field(&prev.name).is_some()
            || want
                .fields
                .iter()
                .any(|n| n.attribute == prev.attribute && old.field(&n.name).is_none());
        if !kept {
            let removed = options.remove_attributes.then(|| {
                rewrite(Edit::RemoveAttribute {
                    attribute: prev.attribute.clone(),
                })
            });
            diff(
                item.span.clone(),
                format!(
                    "field `{}` of `{it}` is no longer in the schema ({})",
                    prev.name,
                    if removed.is_some() {
                        "stored values are removed"
                    } else {
                        "stored values are left alone; `--remove-attributes` removes them"
                    }
                ),
                Change::Steps(removed.into_iter().collect()),
            );
        }
    }
    key_differences(table, item, old, want, fresh, &mut diff, &rewrite);
    if let Some(function) = transform
        && out.len() > before
    {
        // The function makes the new shape: one step replaces the
        // declarative ones, and no change is refused.
        let what: Vec<String> = out.drain(before..).map(|d| d.what).collect();
        out.push(Difference {
            table: name.clone(),
            what: format!("`{it}` is transformed by `{function}`: {}", what.join("; ")),
            change: Change::Steps(vec![rewrite(Edit::Transform {
                function: function.clone().into(),
                mark: "".into(),
            })]),
            at: at(item.span.clone()),
        });
    }
    if out.len() > before || old.keys != want.keys {
        // Anything else (a default, an order) is state only.
        if out.len() == before {
            out.push(Difference {
                table: name.clone(),
                what: format!("item type `{it}` of `{name}` differs from its record"),
                change: Change::Steps(vec![]),
                at: at(item.span.clone()),
            });
        }
        if let Some(last) = out.last_mut()
            && let Change::Steps(steps) = &mut last.change
        {
            steps.push(Step::DefineItem(want.clone()));
        }
    } else if old != want {
        out.push(Difference {
            table: name.clone(),
            what: format!("item type `{it}` of `{name}` differs from its record"),
            change: Change::Steps(vec![Step::DefineItem(want.clone())]),
            at: at(item.span.clone()),
        });
    }
}

/// A default as a value `write_default` can store: a scalar stored as
/// text, number or boolean.
fn literal_of(table: &ir::Table, value: &Value) -> Option<Literal> {
    Some(match value {
        Value::String(s) => Literal::Text(s.clone().into()),
        Value::Bool(b) => Literal::Bool(*b),
        Value::Int(i) => Literal::Number(i.to_string().into()),
        Value::Float(_, f) if f.is_finite() => Literal::Number(f.to_string().into()),
        Value::Number(n) => Literal::Number(n.clone().into()),
        Value::Enum(id, i) => Literal::Text(table.enum_def(*id).values[*i].value.clone().into()),
        Value::Date { year, month, day } => {
            Literal::Text(format!("{year:04}-{month:02}-{day:02}").into())
        }
        Value::Uuid(_) => match value_toml(table, value) {
            toml::Value::String(s) => Literal::Text(s.into()),
            _ => return None,
        },
        _ => return None,
    })
}

/// Key templates: a changed table key moves the items; an index key that
/// is new or changed is backfilled; one the item no longer fills is
/// removed, so the item leaves the index.
fn key_differences(
    table: &ir::Table,
    item: &ir::Item,
    old: &ItemDef,
    want: &ItemDef,
    fresh: &[&str],
    diff: &mut impl FnMut(Range<usize>, String, Change),
    rewrite: &impl Fn(Edit) -> Step,
) {
    let it = &want.name;
    let def = &table.def;
    let table_keys: Vec<&str> = std::iter::once(&*def.partition_key.name)
        .chain(def.sort_key.as_ref().map(|k| &*k.name))
        .collect();
    let changed = |attribute: &str| {
        old.key(attribute).map(|t| &t.text) != want.key(attribute).map(|t| &t.text)
    };
    let in_fresh_index = |attribute: &str| {
        def.indexes
            .iter()
            .any(|i| fresh.contains(&&*i.name) && i.key().any(|k| k.name == attribute))
    };
    let templates = |attributes: &[&str]| -> Vec<&ir::Template> {
        item.keys
            .iter()
            .filter_map(|k| match k {
                KeyValue::Template(t) if attributes.contains(&t.attribute.as_str()) => Some(t),
                _ => None,
            })
            .collect()
    };
    let backfill = |templates: &[&ir::Template]| {
        ir::backfill(
            (&def.name, &def.type_attribute, &def.key_separator),
            it,
            (templates, &[]),
            |id| Some(item.field(id)),
        )
    };
    if table_keys.iter().any(|k| changed(k)) {
        let plain = item
            .keys
            .iter()
            .any(|k| matches!(k, KeyValue::Field { attribute, .. } if table_keys.contains(&attribute.as_str())));
        let change = if plain {
            Change::Refused(
                "a plain-field table key cannot be rewritten by a template: keep the key, or \
                 copy the items in a migration of your own"
                    .to_owned(),
            )
        } else {
            Change::Steps(vec![rewrite(Edit::RewriteKeys(backfill(&templates(
                &table_keys,
            ))))])
        };
        diff(
            item.span.clone(),
            format!(
                "the table key of `{it}` is {} in the schema but {} in the migrations",
                keys_text(want, &table_keys),
                keys_text(old, &table_keys)
            ),
            change,
        );
    }
    let mut index_keys: Vec<&str> = Vec::new();
    for i in def.indexes.iter() {
        index_keys.extend(i.key().map(|k| &*k.name));
    }
    index_keys.retain(|a| !table_keys.contains(a));
    let mut fill: Vec<&str> = Vec::new();
    let mut remove: Vec<&str> = Vec::new();
    for attribute in index_keys {
        if !changed(attribute) || in_fresh_index(attribute) || fill.contains(&attribute) {
            continue;
        }
        match want.key(attribute) {
            Some(_) => fill.push(attribute),
            None => remove.push(attribute),
        }
    }
    let fill_templates = templates(&fill);
    if !fill_templates.is_empty() {
        diff(
            item.span.clone(),
            format!(
                "the index keys of `{it}` are new or changed: {}",
                fill_templates
                    .iter()
                    .map(|t| format!("{} = \"{}\"", t.attribute, t.text))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Change::Steps(vec![Step::Backfill(backfill(&fill_templates))]),
        );
    }
    // Plain-field index keys hold the field itself: nothing to fill.
    for attribute in remove {
        let local = def
            .indexes
            .iter()
            .any(|i| i.kind == IndexKind::Local && i.sort_key.iter().any(|k| k.name == attribute));
        diff(
            item.span.clone(),
            format!("`{it}` no longer fills index key `{attribute}`"),
            if local {
                Change::Refused("a local index's sort key stays with the item".to_owned())
            } else {
                Change::Steps(vec![rewrite(Edit::RemoveAttribute {
                    attribute: attribute.to_owned().into(),
                })])
            },
        );
    }
}

fn keys_text(def: &ItemDef, attributes: &[&str]) -> String {
    attributes
        .iter()
        .map(|a| format!("{a} = \"{}\"", def.key(a).map_or("", |t| &*t.text)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `widens` against the runtime's own decoding: a widening reads every
/// stored value of the old type back as the same value; a change it calls
/// no widening loses some value.
#[cfg(all(test, feature = "cli"))]
mod widening_properties {
    use dynamo_runtime::{Attribute, AttributeValue};
    use proptest::prelude::*;

    use super::widens;
    use crate::ir::IntType;

    /// `text`, stored as N, read as integer type `ty`.
    fn read(ty: IntType, text: &str) -> Option<i128> {
        fn as_<T: Attribute + Into<i128>>(text: &str) -> Option<i128> {
            T::from_attribute(AttributeValue::N(text.to_owned()))
                .ok()
                .map(Into::into)
        }
        match ty {
            IntType::I8 => as_::<i8>(text),
            IntType::I16 => as_::<i16>(text),
            IntType::I32 => as_::<i32>(text),
            IntType::I64 => as_::<i64>(text),
            IntType::U8 => as_::<u8>(text),
            IntType::U16 => as_::<u16>(text),
            IntType::U32 => as_::<u32>(text),
            IntType::U64 => as_::<u64>(text),
        }
    }

    fn pairs() -> impl Strategy<Value = (IntType, IntType, f64)> {
        (
            proptest::sample::select(IntType::ALL.to_vec()),
            proptest::sample::select(IntType::ALL.to_vec()),
            0.0..=1.0f64,
        )
    }

    proptest! {
        #[test]
        fn a_widened_integer_reads_back_every_stored_value((old, new, at) in pairs()) {
            let (lo, hi) = old.range();
            // A value anywhere in the old type's range, ends included.
            let span = (hi - lo) as f64;
            let value = (lo + (span * at) as i128).clamp(lo, hi);
            let text = value.to_string();
            if widens(old.name(), new.name()) {
                prop_assert_eq!(read(new, &text), Some(value));
            }
            let ends_fit = [lo, hi].iter().all(|v| read(new, &v.to_string()) == Some(*v));
            prop_assert_eq!(widens(old.name(), new.name()), ends_fit || old == new);
            prop_assert!(widens(old.name(), "number"));
        }

        #[test]
        fn an_f32_reads_back_as_f64(value in any::<f32>().prop_filter("finite", |v| v.is_finite())) {
            prop_assert!(widens("f32", "f64"));
            let stored = value.to_attribute();
            let read = f64::from_attribute(stored).unwrap();
            prop_assert_eq!(read as f32, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::widens;

    #[test]
    fn widening() {
        assert!(widens("u32", "u64"));
        assert!(widens("i32", "i64"));
        assert!(widens("u32", "i64"));
        assert!(widens("f32", "f64"));
        assert!(widens("u64", "number"));
        assert!(widens("list<u8>", "list<u16>"));
        assert!(!widens("u64", "u32"));
        assert!(!widens("i32", "u64"));
        assert!(!widens("f64", "f32"));
        assert!(!widens("string", "u32"));
        assert!(!widens("u64", "f64"));
        assert!(!widens("list<u8>", "set<u16>"));
    }
}
