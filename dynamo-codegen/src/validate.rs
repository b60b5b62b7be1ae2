//! Stage 2: check the raw structs and resolve them into the IR. Every rule
//! reports its own diagnostic; validation goes on after an error so that
//! one run reports every problem it can.

use std::{collections::BTreeMap, ops::Range, sync::Arc};

use heck::{ToSnakeCase, ToUpperCamelCase};
use toml::Spanned;

use crate::{
    diagnostics::{Diagnostic, Diagnostics, SourceFile, did_you_mean},
    ir::{self, FieldType, KeyType, TemplatePart},
    load::{RawField, RawFile, RawItem, RawKeyAttribute, span_or},
    naming, template,
};

/// The default type attribute and key separator (options come with the
/// full schema language).
const TYPE_ATTRIBUTE: &str = "_type";
const KEY_SEPARATOR: &str = "#";

/// Types of the schema language this generator does not support yet.
const PLANNED_TYPES: [&str; 13] = [
    "i8", "i16", "u8", "u16", "f32", "number", "bytes", "datetime", "date", "uuid", "json", "enum",
    "custom",
];

/// Validates every parsed file into one schema. Problems go to
/// `diagnostics`; the returned schema holds what was valid.
pub fn validate(files: &[RawFile], diagnostics: &mut Diagnostics) -> ir::Schema {
    let mut tables = Vec::new();
    let mut seen: BTreeMap<String, (Arc<SourceFile>, Range<usize>)> = BTreeMap::new();
    for file in files {
        let mut cx = Cx {
            file: &file.source,
            diagnostics,
        };
        let Some(table) = cx.table(file) else {
            continue;
        };
        let name_span = file.schema.table.get_ref().name.span();
        if let Some((first_file, first_span)) = seen.get(&table.name) {
            let d = cx
                .error(
                    "dynamo::duplicate_table",
                    name_span,
                    format!("table `{}` is defined twice", table.name),
                    "defined again here",
                )
                .related(first_file, first_span.clone(), "first defined here")
                .help("one file describes one table: merge the item types into one file");
            cx.diagnostics.push(d);
            continue;
        }
        seen.insert(table.name.clone(), (Arc::clone(&file.source), name_span));
        tables.push(table);
    }
    ir::Schema { tables }
}

/// The state of validating one file.
struct Cx<'a> {
    file: &'a Arc<SourceFile>,
    diagnostics: &'a mut Diagnostics,
}

/// What items need to know about their table.
struct TableKeys<'a> {
    name: &'a str,
    partition_key: &'a ir::KeyAttribute,
    sort_key: Option<&'a ir::KeyAttribute>,
}

impl Cx<'_> {
    fn error(
        &self,
        code: &'static str,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::error(code, self.file, span, message, label)
    }

    fn errors(&self) -> usize {
        self.diagnostics.error_count()
    }

    fn table(&mut self, file: &RawFile) -> Option<ir::Table> {
        let errors_before = self.errors();
        let raw = file.schema.table.get_ref();
        self.table_name(&raw.name);
        let partition_key = self.key_attribute(&raw.partition_key);
        let sort_key = raw.sort_key.as_ref().and_then(|k| self.key_attribute(k));
        if let (Some(pk), Some(sk), Some(raw_sk)) = (&partition_key, &sort_key, &raw.sort_key)
            && pk.name == sk.name
        {
            let d = self
                .error(
                    "dynamo::key_attribute",
                    span_or(&raw_sk.get_ref().name, raw_sk.span()),
                    format!("the sort key `{}` is also the partition key", sk.name),
                    "same name as the partition key",
                )
                .help("give the sort key its own attribute name, e.g. `sk`");
            self.diagnostics.push(d);
        }
        let partition_key = partition_key?;
        let keys = TableKeys {
            name: raw.name.get_ref(),
            partition_key: &partition_key,
            sort_key: sort_key.as_ref(),
        };

        let mut raw_items: Vec<_> = file.schema.item.iter().collect();
        raw_items.sort_by_key(|(name, _)| name.span().start);
        let mut items = Vec::new();
        let mut type_names: BTreeMap<String, Range<usize>> = BTreeMap::new();
        for (name, item) in raw_items {
            for generated in naming::generated_type_names(name.get_ref()) {
                if let Some(first) = type_names.get(&generated) {
                    let d = self
                        .error(
                            "dynamo::type_name_clash",
                            name.span(),
                            format!("item type `{}` generates the type `{generated}`, which another item type also generates", name.get_ref()),
                            format!("generates `{generated}`"),
                        )
                        .related(self.file, first.clone(), format!("also generates `{generated}`"))
                        .help("rename one of the item types");
                    self.diagnostics.push(d);
                } else {
                    type_names.insert(generated, name.span());
                }
            }
            if let Some(item) = self.item(&keys, name, item) {
                items.push(item);
            }
        }
        if items.is_empty() && file.schema.item.is_empty() {
            let d = self
                .error(
                    "dynamo::no_items",
                    raw.name.span(),
                    format!("table `{}` has no item types", raw.name.get_ref()),
                    "no `[item.Name]` for this table",
                )
                .warning()
                .help("add an item type, e.g. `[item.Customer.keys]` with a template per key attribute");
            self.diagnostics.push(d);
        }
        (self.errors() == errors_before).then(|| ir::Table {
            name: raw.name.get_ref().clone(),
            file: file.relative_name.clone(),
            partition_key,
            sort_key,
            type_attribute: TYPE_ATTRIBUTE.to_owned(),
            key_separator: KEY_SEPARATOR.to_owned(),
            items,
        })
    }

    fn table_name(&mut self, name: &Spanned<String>) {
        let text = name.get_ref();
        let bad_char = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')));
        let problem = if !(3..=255).contains(&text.len()) {
            format!("has {} characters", text.len())
        } else if let Some(c) = bad_char {
            format!("contains {c:?}")
        } else {
            return;
        };
        let d = self
            .error(
                "dynamo::table_name",
                name.span(),
                format!("invalid table name `{text}`: it {problem}"),
                "not a valid DynamoDB table name",
            )
            .help("table names have 3 to 255 characters: letters, digits, `_`, `-` and `.`");
        self.diagnostics.push(d);
    }

    fn key_attribute(&mut self, raw: &Spanned<RawKeyAttribute>) -> Option<ir::KeyAttribute> {
        let attr = raw.get_ref();
        let name = attr.name.get_ref();
        if name.is_empty() {
            let d = self
                .error(
                    "dynamo::key_attribute",
                    span_or(&attr.name, raw.span()),
                    "empty key attribute name",
                    "empty",
                )
                .help("name the attribute, e.g. `pk`");
            self.diagnostics.push(d);
            return None;
        }
        let ty = match attr.ty.as_ref().map(|t| (t.get_ref().as_str(), t.span())) {
            None | Some(("S", _)) => KeyType::S,
            Some(("N", _)) => KeyType::N,
            Some(("B", _)) => KeyType::B,
            Some((other, span)) => {
                let d = self
                    .error(
                        "dynamo::key_type",
                        span,
                        format!("unknown key attribute type `{other}`"),
                        "not S, N or B",
                    )
                    .help(match other.to_ascii_uppercase().as_str() {
                        "S" | "N" | "B" => {
                            format!("types are upper case: `{}`", other.to_ascii_uppercase())
                        }
                        _ => "key attributes are strings (`S`), numbers (`N`) or binary (`B`)"
                            .to_owned(),
                    });
                self.diagnostics.push(d);
                return None;
            }
        };
        Some(ir::KeyAttribute {
            name: name.clone(),
            ty,
        })
    }

    fn item(
        &mut self,
        table: &TableKeys<'_>,
        name: &Spanned<String>,
        raw: &Spanned<RawItem>,
    ) -> Option<ir::Item> {
        let errors_before = self.errors();
        let item_name = name.get_ref();
        if !naming::is_type_ident(item_name) {
            let suggestion = item_name.to_upper_camel_case();
            let d = self
                .error(
                    "dynamo::item_name",
                    name.span(),
                    format!("item type name `{item_name}` is not UpperCamelCase"),
                    "becomes a Rust type name",
                )
                .help(if naming::is_type_ident(&suggestion) {
                    format!("rename it to `{suggestion}`")
                } else {
                    "use letters and digits, starting with an upper-case letter".to_owned()
                });
            self.diagnostics.push(d);
        } else if naming::RESERVED_TYPE_NAMES.contains(&item_name.as_str()) {
            let d = self
                .error(
                    "dynamo::item_name",
                    name.span(),
                    format!("item type name `{item_name}` would shadow Rust's `{item_name}`"),
                    "reserved",
                )
                .help(format!("pick another name, e.g. `{item_name}Item`"));
            self.diagnostics.push(d);
        }

        let raw = raw.get_ref();
        let mut raw_fields: Vec<_> = raw.fields.iter().collect();
        raw_fields.sort_by_key(|(name, _)| name.span().start);
        let fields: Vec<Option<ir::Field>> = raw_fields
            .iter()
            .map(|(name, field)| self.field(table, name, field))
            .collect();
        let names: Vec<&Spanned<String>> = raw_fields.iter().map(|(name, _)| *name).collect();

        let mut partition = None;
        let mut sort = None;
        let mut raw_keys: Vec<_> = raw.keys.get_ref().iter().collect();
        raw_keys.sort_by_key(|(attr, _)| attr.span().start);
        for (attr, text) in raw_keys {
            let (slot, key, is_sort) = if attr.get_ref() == &table.partition_key.name {
                (&mut partition, table.partition_key, false)
            } else if table.sort_key.is_some_and(|k| &k.name == attr.get_ref()) {
                (&mut sort, table.sort_key?, true)
            } else {
                let key_names: Vec<&str> = std::iter::once(table.partition_key.name.as_str())
                    .chain(table.sort_key.map(|k| k.name.as_str()))
                    .collect();
                let listed = key_names
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(" and ");
                let mut d = self.error(
                    "dynamo::unknown_key_attribute",
                    attr.span(),
                    format!(
                        "table `{}` has no key attribute `{}`",
                        table.name,
                        attr.get_ref()
                    ),
                    "not a key attribute of the table",
                );
                d = d.help(
                    match did_you_mean(attr.get_ref(), key_names.iter().copied()) {
                        Some(s) => {
                            format!("did you mean `{s}`? The table's key attributes are {listed}")
                        }
                        None => format!("the table's key attributes are {listed}"),
                    },
                );
                self.diagnostics.push(d);
                continue;
            };
            *slot = self.template(key, is_sort, text, &names, &fields, &raw_fields);
        }

        let keys_span = raw.keys.span();
        if partition.is_none()
            && !raw
                .keys
                .get_ref()
                .contains_key(table.partition_key.name.as_str())
        {
            let pk = &table.partition_key.name;
            let d = self
                .error(
                    "dynamo::missing_key_template",
                    name.span(),
                    format!("item type `{item_name}` does not fill the partition key `{pk}`"),
                    format!("needs a template for `{pk}`"),
                )
                .related(self.file, keys_span.clone(), "its keys")
                .help(format!(
                    "add `{pk} = \"{}#{{id}}\"` to `[item.{item_name}.keys]`",
                    item_name.to_snake_case().to_uppercase()
                ));
            self.diagnostics.push(d);
        }
        if let Some(sk) = table.sort_key
            && sort.is_none()
            && !raw.keys.get_ref().contains_key(sk.name.as_str())
        {
            let d = self
                .error(
                    "dynamo::missing_key_template",
                    name.span(),
                    format!(
                        "item type `{item_name}` does not fill the sort key `{}`",
                        sk.name
                    ),
                    format!("needs a template for `{}`", sk.name),
                )
                .related(self.file, keys_span, "its keys")
                .help(format!(
                    "every item of table `{}` has a sort key: add e.g. `{} = \"{}\"`",
                    table.name,
                    sk.name,
                    item_name.to_snake_case().to_uppercase()
                ));
            self.diagnostics.push(d);
        }

        if self.errors() != errors_before {
            return None;
        }
        Some(ir::Item {
            name: item_name.clone(),
            fields: fields.into_iter().collect::<Option<Vec<_>>>()?,
            partition: partition?,
            sort,
        })
    }

    fn field(
        &mut self,
        table: &TableKeys<'_>,
        name: &Spanned<String>,
        raw: &Spanned<RawField>,
    ) -> Option<ir::Field> {
        let field_name = name.get_ref();
        let mut ok = true;
        if !naming::is_snake_ident(field_name) {
            let suggestion = field_name.to_snake_case();
            let d = self
                .error(
                    "dynamo::field_name",
                    name.span(),
                    format!("field name `{field_name}` is not snake_case"),
                    "becomes a Rust field name",
                )
                .help(if naming::is_snake_ident(&suggestion) {
                    format!("rename it to `{suggestion}`")
                } else {
                    "use lower-case letters, digits and `_`, not starting with a digit".to_owned()
                });
            self.diagnostics.push(d);
            ok = false;
        }
        let field = raw.get_ref();
        let ty_span = span_or(&field.ty, raw.span());
        let ty_name = field.ty.get_ref().as_str();
        let ty = FieldType::ALL
            .iter()
            .find(|(n, _)| *n == ty_name)
            .map(|(_, t)| *t);
        if ty.is_none() {
            let supported = FieldType::ALL
                .iter()
                .map(|(n, _)| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let planned = PLANNED_TYPES.contains(&ty_name)
                || ["set<", "list<", "map<"]
                    .iter()
                    .any(|p| ty_name.starts_with(p));
            let d = if planned {
                self.error(
                    "dynamo::unsupported_type",
                    ty_span,
                    format!("field type `{ty_name}` is not supported by this version of dynamo-codegen yet"),
                    "not supported yet",
                )
                .help(format!("the supported types are {supported}"))
            } else {
                let names = FieldType::ALL.iter().map(|(n, _)| *n).chain(PLANNED_TYPES);
                self.error(
                    "dynamo::unknown_type",
                    ty_span,
                    format!("unknown field type `{ty_name}`"),
                    "not a field type",
                )
                .help(match did_you_mean(ty_name, names) {
                    Some(s) => format!("did you mean `{s}`? The supported types are {supported}"),
                    None => format!("the supported types are {supported}"),
                })
            };
            self.diagnostics.push(d);
        }
        let attribute = field_name.clone();
        let clashes_with = if attribute == table.partition_key.name {
            Some("the table's partition key")
        } else if table.sort_key.is_some_and(|k| k.name == attribute) {
            Some("the table's sort key")
        } else if attribute == TYPE_ATTRIBUTE {
            Some("the table's type attribute")
        } else {
            None
        };
        if let Some(what) = clashes_with {
            let d = self
                .error(
                    "dynamo::attribute_clash",
                    name.span(),
                    format!("field `{field_name}` is stored as attribute `{attribute}`, which is {what}"),
                    format!("clashes with {what}"),
                )
                .help("rename the field: key attributes are filled from the templates in `[item.Name.keys]`");
            self.diagnostics.push(d);
            ok = false;
        }
        Some(ir::Field {
            name: field_name.clone(),
            attribute,
            ty: ty?,
            optional: field.optional.as_ref().is_some_and(|o| *o.get_ref()),
        })
        .filter(|_| ok)
    }

    /// Validates one key template and resolves its placeholders.
    fn template(
        &mut self,
        key: &ir::KeyAttribute,
        is_sort: bool,
        text: &Spanned<String>,
        names: &[&Spanned<String>],
        fields: &[Option<ir::Field>],
        raw_fields: &[(&Spanned<String>, &Spanned<RawField>)],
    ) -> Option<ir::Template> {
        let value = text.get_ref();
        let errors_before = self.errors();
        if value.is_empty() {
            let d = self
                .error(
                    "dynamo::empty_key",
                    text.span(),
                    "empty key template",
                    "renders an empty key",
                )
                .help(
                    "DynamoDB does not allow empty key values: write literal text or a `{field}`",
                );
            self.diagnostics.push(d);
            return None;
        }
        if key.ty != KeyType::S {
            let d = self
                .error(
                    "dynamo::key_type_mismatch",
                    text.span(),
                    format!(
                        "key attribute `{}` has type {:?}, but a template renders a string",
                        key.name, key.ty
                    ),
                    "renders a string (S)",
                )
                .help(format!(
                    "declare `{}` with type \"S\" in `[table]`",
                    key.name
                ));
            self.diagnostics.push(d);
            return None;
        }
        let pieces = match template::parse(value) {
            Ok(pieces) => pieces,
            Err(e) => {
                let d = self
                    .error(
                        "dynamo::template",
                        inner_span(self.file, text, e.span),
                        e.message,
                        "here",
                    )
                    .help(e.help);
                self.diagnostics.push(d);
                return None;
            }
        };
        let mut parts = Vec::new();
        for piece in pieces {
            match piece {
                template::Piece::Literal(s) => parts.push(TemplatePart::Literal(s)),
                template::Piece::Placeholder { name, span, width } => {
                    let span = inner_span(self.file, text, span);
                    let Some(index) = names.iter().position(|n| n.get_ref() == &name) else {
                        let d = self
                            .error(
                                "dynamo::unknown_template_field",
                                span,
                                format!("key template names unknown field `{name}`"),
                                "no such field",
                            )
                            .help(
                                match did_you_mean(&name, names.iter().map(|n| n.get_ref().as_str())) {
                                    Some(s) => format!("did you mean `{s}`?"),
                                    None => format!("declare it in the item's fields, e.g. `{name} = \"string\"`"),
                                },
                            );
                        self.diagnostics.push(d);
                        continue;
                    };
                    // A field that failed validation was reported already.
                    let Some(field) = &fields[index] else {
                        continue;
                    };
                    let def_span = raw_fields[index].0.span();
                    if field.optional {
                        let optional_span = raw_fields[index]
                            .1
                            .get_ref()
                            .optional
                            .as_ref()
                            .map_or(def_span.clone(), Spanned::span);
                        let d = self
                            .error(
                                "dynamo::optional_key_field",
                                span.clone(),
                                format!("key field `{name}` is optional"),
                                "used in a key",
                            )
                            .related(self.file, optional_span, "declared optional here")
                            .help("every item needs its key: make the field required");
                        self.diagnostics.push(d);
                    }
                    if width.is_some() && !field.ty.is_integer() {
                        let d = self
                            .error(
                                "dynamo::template_width",
                                span.clone(),
                                format!(
                                    "width on field `{name}` of type {}",
                                    field.ty.schema_name()
                                ),
                                "only integers take a width",
                            )
                            .related(self.file, def_span.clone(), "declared here")
                            .help(format!("write `{{{name}}}`"));
                        self.diagnostics.push(d);
                    }
                    if is_sort && field.ty.is_integer() && width.is_none() {
                        let d = self
                            .error(
                                "dynamo::sort_key_width",
                                span.clone(),
                                format!(
                                    "integer field `{name}` in a sort key template needs a width"
                                ),
                                "sorts as text: \"10\" < \"9\"",
                            )
                            .help(format!("pad it to a fixed width, e.g. `{{{name}:010}}`"));
                        self.diagnostics.push(d);
                    }
                    if is_sort && field.ty == FieldType::F64 {
                        let d = self
                            .error(
                                "dynamo::float_in_sort_key",
                                span,
                                format!("float field `{name}` in a sort key template"),
                                "floats do not sort as text",
                            )
                            .help("use an integer field with a width, e.g. cents as `u64` with `{amount:012}`");
                        self.diagnostics.push(d);
                    }
                    parts.push(TemplatePart::Field {
                        field: index,
                        width,
                    });
                }
            }
        }
        (self.errors() == errors_before).then(|| ir::Template {
            attribute: key.name.clone(),
            text: value.clone(),
            parts,
        })
    }
}

/// The file span of `inner` (a range within a string value's text), or the
/// whole value when the string was written with escapes.
fn inner_span(file: &SourceFile, value: &Spanned<String>, inner: Range<usize>) -> Range<usize> {
    let outer = value.span();
    let raw = &file.text[outer.clone()];
    let quote = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        3
    } else {
        1
    };
    let unescaped = raw.len() >= 2 * quote
        && raw.get(quote..raw.len() - quote) == Some(value.get_ref().as_str());
    if unescaped {
        outer.start + quote + inner.start..outer.start + quote + inner.end
    } else {
        outer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load;

    fn check(text: &str) -> (ir::Schema, Diagnostics) {
        let mut diagnostics = Diagnostics::default();
        let source = Arc::new(SourceFile {
            name: "t.toml".into(),
            text: text.into(),
        });
        let files: Vec<_> = load::parse(source, "t.toml".into(), &mut diagnostics)
            .into_iter()
            .collect();
        let schema = validate(&files, &mut diagnostics);
        (schema, diagnostics)
    }

    const HEAD: &str = "[table]\nname = \"shop\"\npartition_key = \"pk\"\nsort_key = \"sk\"\n";

    #[test]
    fn resolves_templates_in_schema_order() {
        let (schema, d) = check(&format!(
            "{HEAD}[item.Order.keys]\npk = \"C#{{customer_id}}\"\nsk = \"O#{{n:04}}#{{id}}\"\n\
             [item.Order.fields]\nid = \"string\"\ncustomer_id = \"string\"\nn = \"u32\"\n"
        ));
        assert!(!d.has_errors(), "{}", d.render());
        let item = &schema.tables[0].items[0];
        let names: Vec<_> = item.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["id", "customer_id", "n"]);
        assert_eq!(
            item.sort.as_ref().unwrap().parts,
            vec![
                TemplatePart::Literal("O#".into()),
                TemplatePart::Field {
                    field: 2,
                    width: Some(4)
                },
                TemplatePart::Literal("#".into()),
                TemplatePart::Field {
                    field: 0,
                    width: None
                },
            ]
        );
        assert_eq!(item.key_fields(), vec![1, 2, 0]);
    }

    #[test]
    fn reports_every_error_of_a_file() {
        let (schema, d) = check(&format!(
            "{HEAD}[item.Order.keys]\npk = \"C#{{customer}}\"\nsk = \"O#{{n}}\"\n\
             [item.Order.fields]\ncustomer_id = \"string\"\nn = \"u32\"\nnote = \"strng\"\n"
        ));
        let codes: Vec<_> = d.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                "dynamo::unknown_type",
                "dynamo::unknown_template_field",
                "dynamo::sort_key_width"
            ]
        );
        assert!(schema.tables.is_empty());
        let unknown = d.iter().nth(1).unwrap();
        assert_eq!(&unknown.file.text[unknown.span.clone()], "customer");
        assert_eq!(unknown.help.as_deref(), Some("did you mean `customer_id`?"));
    }

    #[test]
    fn a_table_without_items_is_only_a_warning() {
        let (schema, d) = check(HEAD);
        assert!(!d.has_errors());
        assert_eq!(d.warnings().count(), 1);
        assert_eq!(schema.tables.len(), 1);
    }
}
