//! Fields: type expressions (`list<map<u32>>`), per-type options (`values`,
//! `format`, `rust`, `stored`), `validate`, defaults, and nested types with
//! their cycle check.

use std::{
    collections::{BTreeMap, BTreeSet},
    ops::Range,
};

use heck::ToUpperCamelCase;

use super::{Cx, inner_span, table::TableCx};
use crate::{
    diagnostics::did_you_mean,
    ir::{self, DateTimeFormat, DefaultValue, FieldType, FloatType, IntType, KeyType, Value},
    load::{Named, RawField, RawValidate, RawValue, Sp, span_or},
    naming,
};

/// Enums found so far, each with the span of the field that defines it.
pub(crate) type Enums = Vec<(ir::EnumDef, Range<usize>)>;

/// The scalar type names.
const SCALARS: [&str; 19] = [
    "string", "bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "number",
    "bytes", "datetime", "date", "uuid", "json", "enum",
];

/// What default checks need to know about nested types: each field's
/// name, type, and whether it may be left out of a default table.
#[derive(Default)]
pub(crate) struct NestedInfo {
    /// Nested type names, including ones whose section did not parse.
    pub names: Vec<String>,
    /// Fields of each valid nested type.
    pub fields: BTreeMap<String, Vec<(String, FieldType, bool)>>,
}

/// Where a field is declared: its owner's Rust name (for enum names) and
/// the nested types in scope.
pub(crate) struct FieldCx<'a> {
    /// The item or nested type.
    pub owner: &'a str,
    /// Nested types in scope.
    pub nested: &'a NestedInfo,
    /// Names whose sections did not parse.
    pub broken: &'a BTreeSet<String>,
}

/// A nested type's name, its raw fields in schema order, and its fields
/// when all are valid.
type Resolved<'a> = (
    &'a Sp<String>,
    Vec<(&'a Sp<String>, &'a Sp<RawField>)>,
    Option<Vec<ir::Field>>,
);

/// Validates `[type.X]` sections.
pub(crate) fn nested_types(
    cx: &mut Cx<'_>,
    tcx: &TableCx<'_>,
    raw: &Named<Named<RawField>>,
) -> (Vec<ir::NestedType>, Enums, NestedInfo) {
    let mut info = NestedInfo {
        names: raw
            .keys()
            .map(|k| k.get().clone())
            .chain(tcx.broken.iter().cloned())
            .collect(),
        fields: BTreeMap::new(),
    };
    let mut enums = Enums::new();
    let mut ordered: Vec<_> = raw.iter().collect();
    ordered.sort_by_key(|(name, _)| name.span().start);
    let mut resolved: Vec<Resolved<'_>> = Vec::new();
    for (name, fields) in &ordered {
        let ok_name = type_name(cx, name, "nested type");
        let mut raw_fields: Vec<_> = fields.iter().collect();
        raw_fields.sort_by_key(|(n, _)| n.span().start);
        if raw_fields.is_empty() {
            let d = cx
                .error(
                    "dynamo::empty_type",
                    name.span(),
                    format!("nested type `{}` has no fields", name.get()),
                    "no fields",
                )
                .help(format!(
                    "add fields under `[type.{}]`, e.g. `sku = \"string\"`",
                    name.get()
                ));
            cx.push(d);
        }
        let fcx = FieldCx {
            owner: name.get(),
            nested: &info,
            broken: tcx.broken,
        };
        let out: Vec<Option<ir::Field>> = raw_fields
            .iter()
            .map(|(n, f)| field(cx, &fcx, n, f, &mut enums))
            .collect();
        duplicate_names(cx, &raw_fields, &out);
        let out: Option<Vec<ir::Field>> = out.into_iter().collect();
        let out = out.filter(|_| ok_name);
        resolved.push((name, raw_fields, out));
    }
    for (name, _, fields) in &resolved {
        if let Some(fields) = fields {
            info.fields.insert(
                name.get().clone(),
                fields
                    .iter()
                    .map(|f| (f.name.clone(), f.ty.clone(), f.optional))
                    .collect(),
            );
        }
    }
    // Fields with a default may be left out of a default table.
    for (name, raw_fields, _) in &resolved {
        if let Some(entries) = info.fields.get_mut(name.get().as_str()) {
            for (entry, (_, raw)) in entries.iter_mut().zip(raw_fields) {
                entry.2 |= raw.default.is_some();
            }
        }
    }
    let mut out = Vec::new();
    for (name, raw_fields, fields) in resolved {
        let Some(mut fields) = fields else { continue };
        let mut ok = true;
        for (f, (_, raw)) in fields.iter_mut().zip(&raw_fields) {
            match default(cx, raw, f, &info, &enums) {
                Some(d) => f.default = d,
                None => ok = false,
            }
        }
        if ok {
            out.push(ir::NestedType {
                name: name.get().clone(),
                fields,
            });
        }
    }
    cycles(cx, &ordered, &out);
    (out, enums, info)
}

/// Checks an item or nested type name.
pub(crate) fn type_name(cx: &mut Cx<'_>, name: &Sp<String>, what: &str) -> bool {
    let text = name.get();
    if !naming::is_type_ident(text) {
        let suggestion = text.to_upper_camel_case();
        let d = cx
            .error(
                "dynamo::type_name",
                name.span(),
                format!("{what} name `{text}` is not UpperCamelCase"),
                "becomes a Rust type name",
            )
            .help(if naming::is_type_ident(&suggestion) {
                format!("rename it to `{suggestion}`")
            } else {
                "use letters and digits, starting with an upper-case letter".to_owned()
            });
        cx.push(d);
        return false;
    }
    if naming::RESERVED_TYPE_NAMES.contains(&text.as_str()) {
        let d = cx
            .error(
                "dynamo::type_name",
                name.span(),
                format!("{what} name `{text}` would shadow Rust's `{text}`"),
                "reserved",
            )
            .help(format!("pick another name, e.g. `{text}Item`"));
        cx.push(d);
        return false;
    }
    true
}

/// Two fields must not share a Rust name or an attribute.
pub(crate) fn duplicate_names(
    cx: &mut Cx<'_>,
    raw: &[(&Sp<String>, &Sp<RawField>)],
    fields: &[Option<ir::Field>],
) {
    let mut rust: BTreeMap<&str, usize> = BTreeMap::new();
    let mut attrs: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, f) in fields.iter().enumerate() {
        let Some(f) = f else { continue };
        if let Some(&first) = rust.get(f.rust_name.as_str()) {
            let d = cx
                .error(
                    "dynamo::duplicate_field",
                    raw[i].0.span(),
                    format!(
                        "fields `{}` and `{}` both become the Rust field `{}`",
                        raw[first].0.get(),
                        f.name,
                        f.rust_name
                    ),
                    format!("becomes `{}`", f.rust_name),
                )
                .related(
                    cx.file,
                    raw[first].0.span(),
                    format!("also becomes `{}`", f.rust_name),
                )
                .help(
                    "rename one of them; use `attribute = \"...\"` to keep a stored attribute name",
                );
            cx.push(d);
        } else {
            rust.insert(&f.rust_name, i);
        }
        if let Some(&first) = attrs.get(f.attribute.as_str()) {
            let span = raw[i]
                .1
                .attribute
                .as_ref()
                .map_or(raw[i].0.span(), Sp::span);
            let d = cx
                .error(
                    "dynamo::duplicate_attribute",
                    span,
                    format!(
                        "fields `{}` and `{}` are both stored as attribute `{}`",
                        raw[first].0.get(),
                        f.name,
                        f.attribute
                    ),
                    format!("stored as `{}`", f.attribute),
                )
                .related(
                    cx.file,
                    raw[first].0.span(),
                    format!("also stored as `{}`", f.attribute),
                )
                .help("give each field its own attribute");
            cx.push(d);
        } else {
            attrs.insert(&f.attribute, i);
        }
    }
}

/// Resolves one field's name, type and options (not its default).
pub(crate) fn field(
    cx: &mut Cx<'_>,
    fcx: &FieldCx<'_>,
    name: &Sp<String>,
    raw: &Sp<RawField>,
    enums: &mut Enums,
) -> Option<ir::Field> {
    let errors_before = cx.errors();
    let rust_name = naming::field_name(name.get());
    if rust_name.is_none() {
        let d = cx
            .error(
                "dynamo::field_name",
                name.span(),
                format!("field name `{}` cannot become a Rust field name", name.get()),
                "not usable as an identifier",
            )
            .help("use ASCII letters, digits and `_`, not starting with a digit; keep the stored name with `attribute = \"...\"`");
        cx.push(d);
    }
    let attribute = match &raw.attribute {
        Some(a) if a.is_empty() => {
            let d = cx
                .error("dynamo::attribute_name", a.span(), "empty attribute name", "empty")
                .help("DynamoDB attribute names have at least one character; remove `attribute` to use the field name");
            cx.push(d);
            name.get().clone()
        }
        Some(a) => a.get().clone(),
        None => name.get().clone(),
    };
    let format = raw.format.as_ref().and_then(|f| {
        let found = DateTimeFormat::ALL
            .iter()
            .find(|(n, _)| n == f.get())
            .map(|(_, t)| *t);
        if found.is_none() {
            let names: Vec<&str> = DateTimeFormat::ALL.iter().map(|(n, _)| *n).collect();
            cx.unknown_name("dynamo::datetime_format", f, "datetime format", &names);
        }
        found
    });
    let ty_sp = Sp::new(span_or(&raw.ty, raw.span()), raw.ty.get().clone());
    let ty = match parse_type(ty_sp.get(), 0) {
        Ok(TypeExpr::Name(n, _)) if n == "enum" => Some(Base::Enum),
        Ok(TypeExpr::Name(n, _)) if n == "custom" => Some(Base::Custom),
        Ok(expr) => resolve(
            cx,
            fcx,
            &ty_sp,
            &expr,
            format.unwrap_or(DateTimeFormat::Rfc3339),
        )
        .map(Base::Type),
        Err((message, span, help)) => {
            let d = cx
                .error(
                    "dynamo::type_syntax",
                    inner_span(cx.file, &ty_sp, span),
                    message,
                    "here",
                )
                .help(help);
            cx.push(d);
            None
        }
    };
    let ty = ty.and_then(|ty| options(cx, fcx, name, raw, &ty_sp, ty, enums));
    let validate = match (&raw.validate, &ty) {
        (Some(v), Some(ty)) => validation(cx, v, ty, name.get()),
        _ => Some(ir::Validation::default()),
    };
    (cx.errors() == errors_before).then_some(())?;
    Some(ir::Field {
        name: name.get().clone(),
        rust_name: rust_name?,
        attribute,
        ty: ty?,
        optional: raw.optional.as_ref().is_some_and(|o| *o.get()),
        default: None,
        doc: raw.doc.as_ref().map(|d| d.get().clone()),
        validate: validate?,
    })
}

/// A parsed type expression, with spans relative to the type text.
#[derive(Debug)]
enum TypeExpr {
    Name(String, Range<usize>),
    Generic(&'static str, Box<TypeExpr>, Range<usize>),
}

type TypeError = (String, Range<usize>, &'static str);

fn parse_type(text: &str, offset: usize) -> Result<TypeExpr, TypeError> {
    let trimmed_start = text.len() - text.trim_start().len();
    let body = text.trim();
    let start = offset + trimmed_start;
    let span = start..start + body.len();
    let Some(open) = body.find('<') else {
        if body.contains('>') || body.contains(',') {
            return Err((
                format!("unexpected text in type `{body}`"),
                span,
                "write a type name, or `set<T>`, `list<T>` or `map<T>`",
            ));
        }
        if body.is_empty() {
            return Err((
                "empty type".into(),
                span,
                "write a type name such as `string`",
            ));
        }
        return Ok(TypeExpr::Name(body.to_owned(), span));
    };
    let Some(inner) = body.strip_suffix('>').map(|b| &b[open + 1..]) else {
        return Err((
            format!("unclosed `<` in type `{body}`"),
            start + open..span.end,
            "close it with `>`, e.g. `list<string>`",
        ));
    };
    let head = body[..open].trim();
    let kind = match head {
        "set" => "set",
        "list" => "list",
        "map" => "map",
        other => {
            return Err((
                format!("`{other}` takes no type parameter"),
                start..start + open,
                "only `set<T>`, `list<T>` and `map<T>` take a type parameter",
            ));
        }
    };
    let inner_offset = start + open + 1;
    let inner_expr = if kind == "map" && inner.contains(',') {
        let (key, value) = inner.split_once(',').unwrap_or((inner, ""));
        if key.trim() != "string" {
            return Err((
                format!("map keys are strings, not `{}`", key.trim()),
                inner_offset..inner_offset + key.len(),
                "write `map<T>` (keys are always strings)",
            ));
        }
        parse_type(value, inner_offset + key.len() + 1)?
    } else {
        parse_type(inner, inner_offset)?
    };
    Ok(TypeExpr::Generic(kind, Box::new(inner_expr), span))
}

fn scalar(name: &str, format: DateTimeFormat) -> Option<FieldType> {
    Some(match name {
        "string" => FieldType::String,
        "bool" => FieldType::Bool,
        "f32" => FieldType::Float(FloatType::F32),
        "f64" => FieldType::Float(FloatType::F64),
        "number" => FieldType::Number,
        "bytes" => FieldType::Bytes,
        "datetime" => FieldType::DateTime(format),
        "date" => FieldType::Date,
        "uuid" => FieldType::Uuid,
        "json" => FieldType::Json,
        other => FieldType::Int(*IntType::ALL.iter().find(|t| t.name() == other)?),
    })
}

fn resolve(
    cx: &mut Cx<'_>,
    fcx: &FieldCx<'_>,
    text: &Sp<String>,
    expr: &TypeExpr,
    format: DateTimeFormat,
) -> Option<FieldType> {
    match expr {
        TypeExpr::Name(name, span) => {
            let span = inner_span(cx.file, text, span.clone());
            if let Some(t) = scalar(name, format) {
                return Some(t);
            }
            if fcx.nested.names.contains(name) {
                // A nested type that did not parse was reported already.
                return (!fcx.broken.contains(name)).then(|| FieldType::Nested(name.clone()));
            }
            // At the top, `field` handles these with the field's options.
            if name == "enum" || name == "custom" {
                let d = cx
                    .error(
                        "dynamo::type_syntax",
                        span,
                        format!("`{name}` cannot be an element type"),
                        "needs the field's options",
                    )
                    .help(if name == "enum" {
                        "an enum takes its `values` from the field: use `list<string>`, or a nested type with an enum field"
                    } else {
                        "a custom type takes `rust` and `stored` from the field: wrap it in a nested type"
                    });
                cx.push(d);
                return None;
            }
            let candidates = SCALARS
                .iter()
                .copied()
                .chain(["custom", "set", "list", "map"])
                .chain(fcx.nested.names.iter().map(String::as_str));
            let suggestion = did_you_mean(name, candidates).map(str::to_owned);
            let d = cx
                .error(
                    "dynamo::unknown_type",
                    span,
                    format!("unknown field type `{name}`"),
                    "not a field type",
                )
                .help(match suggestion {
                    Some(s) => format!("did you mean `{s}`? See docs/schema.md for every field type; `[type.Name]` declares a nested type"),
                    None => "the types are `string`, `bool`, `i8`…`u64`, `f32`, `f64`, `number`, `bytes`, `datetime`, `date`, `uuid`, `json`, `enum`, `set<T>`, `list<T>`, `map<T>`, `custom`, and `[type.Name]` nested types".to_owned(),
                });
            cx.push(d);
            None
        }
        TypeExpr::Generic(kind, inner, span) => {
            let element = resolve(cx, fcx, text, inner, format)?;
            match *kind {
                "set" => {
                    let ok = matches!(
                        element,
                        FieldType::String
                            | FieldType::Int(_)
                            | FieldType::Number
                            | FieldType::Bytes
                    );
                    if !ok {
                        let d = cx
                            .error(
                                "dynamo::set_element",
                                inner_span(cx.file, text, span.clone()),
                                format!("a set cannot hold `{}`", element.schema_name()),
                                "not a set element type",
                            )
                            .help(if element == FieldType::Bool {
                                "DynamoDB sets hold strings, numbers or bytes: use `list<bool>`"
                            } else if matches!(element, FieldType::Float(_)) {
                                "floats have no total order for a set: use `set<number>` (exact decimals) or `list<f64>`"
                            } else {
                                "DynamoDB sets hold strings, numbers or bytes: use `list<T>` for other elements"
                            });
                        cx.push(d);
                        return None;
                    }
                    Some(FieldType::Set(Box::new(element)))
                }
                "list" => Some(FieldType::List(Box::new(element))),
                _ => Some(FieldType::Map(Box::new(element))),
            }
        }
    }
}

/// A field's type before its options complete it: `enum` and `custom`
/// take their definition from `values`, `rust` and `stored`.
enum Base {
    Type(FieldType),
    Enum,
    Custom,
}

/// Checks the options that belong to some types only, and builds enums
/// and custom types from them.
fn options(
    cx: &mut Cx<'_>,
    fcx: &FieldCx<'_>,
    name: &Sp<String>,
    raw: &Sp<RawField>,
    ty_sp: &Sp<String>,
    base: Base,
    enums: &mut Enums,
) -> Option<FieldType> {
    let is_enum = matches!(base, Base::Enum);
    let is_custom = matches!(base, Base::Custom);
    let misplaced = |cx: &mut Cx<'_>, option: &str, span: Range<usize>, belongs: &str| {
        let d = cx
            .error(
                "dynamo::field_option",
                span,
                format!("`{option}` applies only to {belongs} fields"),
                format!("field `{}` is `{}`", name.get(), ty_sp.get()),
            )
            .help(format!("remove `{option}`, or change the field's type"));
        cx.push(d);
    };
    if !is_enum && let Some(v) = &raw.values {
        misplaced(cx, "values", v.span(), "enum");
    }
    if !is_custom {
        for (option, value) in [("rust", &raw.rust), ("stored", &raw.stored)] {
            if let Some(v) = value {
                misplaced(cx, option, v.span(), "custom");
            }
        }
    }
    if let Some(f) = &raw.format
        && !matches!(&base, Base::Type(ty) if contains_datetime(ty))
    {
        misplaced(cx, "format", f.span(), "datetime");
    }
    match base {
        Base::Enum => {
            let Some(values) = &raw.values else {
                let d = cx
                    .error(
                        "dynamo::enum_values",
                        ty_sp.span(),
                        format!("enum field `{}` has no `values`", name.get()),
                        "needs `values`",
                    )
                    .help(format!(
                        "write `{} = {{ type = \"enum\", values = [\"a\", \"b\"] }}`",
                        name.get()
                    ));
                cx.push(d);
                return None;
            };
            let def = enum_def(cx, fcx.owner, name, values)?;
            let type_name = def.name.clone();
            enums.push((def, name.span()));
            Some(FieldType::Enum(type_name))
        }
        Base::Custom => {
            let missing: Vec<&str> = [("rust", &raw.rust), ("stored", &raw.stored)]
                .iter()
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| *n)
                .collect();
            if !missing.is_empty() {
                let d = cx
                .error(
                    "dynamo::custom_type",
                    ty_sp.span(),
                    format!("custom field `{}` needs `{}`", name.get(), missing.join("` and `")),
                    "incomplete custom type",
                )
                .help(r#"write e.g. `{ type = "custom", rust = "crate::money::Money", stored = "S" }`; the type implements dynamo_runtime::Attribute"#);
                cx.push(d);
                return None;
            }
            let (rust, stored) = (raw.rust.as_ref()?, raw.stored.as_ref()?);
            let path_ok = syn::parse_str::<syn::Path>(rust.get()).is_ok();
            if !path_ok {
                let d = cx
                    .error(
                        "dynamo::custom_type",
                        rust.span(),
                        format!("`{}` is not a Rust type path", rust.get()),
                        "not a path",
                    )
                    .help("write a path the generated code can name, e.g. `crate::money::Money`");
                cx.push(d);
            }
            let stored_ty = match stored.get().as_str() {
                "S" => Some(KeyType::S),
                "N" => Some(KeyType::N),
                "B" => Some(KeyType::B),
                _ => {
                    cx.unknown_name(
                        "dynamo::custom_type",
                        stored,
                        "storage type",
                        &["S", "N", "B"],
                    );
                    None
                }
            };
            path_ok.then_some(FieldType::Custom {
                rust: rust.get().clone(),
                stored: stored_ty?,
            })
        }
        Base::Type(ty) => Some(ty),
    }
}

fn contains_datetime(ty: &FieldType) -> bool {
    match ty {
        FieldType::DateTime(_) => true,
        FieldType::Set(t) | FieldType::List(t) | FieldType::Map(t) => contains_datetime(t),
        _ => false,
    }
}

fn enum_def(
    cx: &mut Cx<'_>,
    owner: &str,
    field: &Sp<String>,
    values: &Sp<Vec<Sp<String>>>,
) -> Option<ir::EnumDef> {
    let errors_before = cx.errors();
    if values.is_empty() {
        let d = cx
            .error(
                "dynamo::enum_values",
                values.span(),
                "an enum needs at least one value",
                "empty",
            )
            .help("list the values, e.g. `values = [\"free\", \"pro\"]`");
        cx.push(d);
    }
    let mut out: Vec<ir::EnumValue> = Vec::new();
    let mut spans: Vec<Range<usize>> = Vec::new();
    for value in values.iter() {
        let variant = value.to_upper_camel_case();
        if !naming::is_type_ident(&variant) {
            let d = cx
                .error(
                    "dynamo::enum_value",
                    value.span(),
                    format!("enum value {:?} does not make a Rust variant name", value.get()),
                    "no usable identifier",
                )
                .help("enum values need a letter first, e.g. `v1` instead of `1`; values become UpperCamelCase variants");
            cx.push(d);
            continue;
        }
        if let Some(i) = out
            .iter()
            .position(|v| v.variant == variant || v.value == *value.get())
        {
            let d = cx
                .error(
                    "dynamo::enum_value",
                    value.span(),
                    format!(
                        "enum values {:?} and {:?} both become the variant `{variant}`",
                        out[i].value,
                        value.get()
                    ),
                    format!("becomes `{variant}`"),
                )
                .related(
                    cx.file,
                    spans[i].clone(),
                    format!("also becomes `{variant}`"),
                )
                .help("make the values differ in more than case or punctuation");
            cx.push(d);
            continue;
        }
        out.push(ir::EnumValue {
            value: value.get().clone(),
            variant,
        });
        spans.push(value.span());
    }
    let rust_field = naming::field_name(field.get()).unwrap_or_default();
    (cx.errors() == errors_before).then(|| ir::EnumDef {
        name: format!("{owner}{}", rust_field.to_upper_camel_case()),
        values: out,
    })
}

/// `validate = { ... }`.
fn validation(
    cx: &mut Cx<'_>,
    raw: &Sp<RawValidate>,
    ty: &FieldType,
    field: &str,
) -> Option<ir::Validation> {
    let errors_before = cx.errors();
    let numeric = ty.is_numeric();
    let has_len = matches!(
        ty,
        FieldType::String
            | FieldType::Bytes
            | FieldType::List(_)
            | FieldType::Set(_)
            | FieldType::Map(_)
    );
    let ty_name = ty.schema_name();
    let wrong = |cx: &mut Cx<'_>, option: &str, span: Range<usize>, applies: &str| {
        let d = cx
            .error(
                "dynamo::validate",
                span,
                format!("`{option}` does not apply to field `{field}` of type `{ty_name}`"),
                format!("applies to {applies}"),
            )
            .help(format!(
                "remove `{option}`; see the `validate` table in docs/schema.md"
            ));
        cx.push(d);
    };
    let number = |cx: &mut Cx<'_>, v: &Option<Sp<RawValue>>, option: &str| -> Option<f64> {
        let v = v.as_ref()?;
        if !numeric {
            wrong(cx, option, v.span(), "numbers");
            return None;
        }
        match v.get() {
            RawValue::Integer(n) => Some(*n as f64),
            RawValue::Float(f) if !ty.is_integer() => Some(*f),
            other => {
                let d = cx
                    .error(
                        "dynamo::validate",
                        v.span(),
                        format!(
                            "`{option}` is {}, but field `{field}` is `{ty_name}`",
                            other.kind()
                        ),
                        "wrong kind of value",
                    )
                    .help(format!(
                        "write a number of the field's type, e.g. `{option} = 0`"
                    ));
                cx.push(d);
                None
            }
        }
    };
    let min = number(cx, &raw.min, "min");
    let max = number(cx, &raw.max, "max");
    if let (Some(a), Some(b), Some(s)) = (min, max, &raw.min)
        && a > b
    {
        let d = cx
            .error(
                "dynamo::validate",
                s.span(),
                format!("`min` ({a}) is above `max` ({b})"),
                "no value fits",
            )
            .help("swap them");
        cx.push(d);
    }
    let len = |cx: &mut Cx<'_>, v: &Option<Sp<i64>>, option: &str| -> Option<u64> {
        let v = v.as_ref()?;
        if !has_len {
            let d = cx
                .error(
                    "dynamo::validate",
                    v.span(),
                    format!("`{option}` does not apply to field `{field}` of type `{ty_name}`"),
                    "applies to strings, bytes, lists, sets and maps",
                )
                .help(format!("remove `{option}`"));
            cx.push(d);
            return None;
        }
        u64::try_from(*v.get()).ok().or_else(|| {
            let d = cx
                .error(
                    "dynamo::validate",
                    v.span(),
                    format!("negative `{option}`"),
                    "a length is 0 or more",
                )
                .help(format!("write `{option} = 0` or more"));
            cx.push(d);
            None
        })
    };
    let min_len = len(cx, &raw.min_len, "min_len");
    let max_len = len(cx, &raw.max_len, "max_len");
    if let (Some(a), Some(b), Some(s)) = (min_len, max_len, &raw.min_len)
        && a > b
    {
        let d = cx
            .error(
                "dynamo::validate",
                s.span(),
                format!("`min_len` ({a}) is above `max_len` ({b})"),
                "no length fits",
            )
            .help("swap them");
        cx.push(d);
    }
    let pattern = raw.pattern.as_ref().and_then(|p| {
        if *ty != FieldType::String {
            wrong(cx, "pattern", p.span(), "strings");
            return None;
        }
        match regex_syntax::Parser::new().parse(p.get()) {
            Ok(_) => Some(p.get().clone()),
            Err(e) => {
                let (message, span) = regex_error(&e);
                let span = span.map_or(p.span(), |s| inner_span(cx.file, p, s));
                let d = cx
                    .error(
                        "dynamo::pattern",
                        span,
                        format!("invalid pattern for field `{field}`: {message}"),
                        message,
                    )
                    .help("patterns use the Rust `regex` crate's syntax; TOML literal strings ('...') need no escaping");
                cx.push(d);
                None
            }
        }
    });
    (cx.errors() == errors_before).then_some(ir::Validation {
        min,
        max,
        min_len,
        max_len,
        pattern,
    })
}

fn regex_error(e: &regex_syntax::Error) -> (String, Option<Range<usize>>) {
    match e {
        regex_syntax::Error::Parse(e) => (
            e.kind().to_string(),
            Some(e.span().start.offset..e.span().end.offset.max(e.span().start.offset + 1)),
        ),
        regex_syntax::Error::Translate(e) => (
            e.kind().to_string(),
            Some(e.span().start.offset..e.span().end.offset.max(e.span().start.offset + 1)),
        ),
        other => (other.to_string(), None),
    }
}

/// Checks a field's default against its type. `None` means an error was
/// reported; `Some(None)` means no default.
pub(crate) fn default(
    cx: &mut Cx<'_>,
    raw: &Sp<RawField>,
    field: &ir::Field,
    nested: &NestedInfo,
    enums: &Enums,
) -> Option<Option<DefaultValue>> {
    let Some(value) = &raw.default else {
        return Some(None);
    };
    let vcx = ValueCx {
        field: &field.name,
        nested,
        enums,
    };
    match (&field.ty, value.get()) {
        (FieldType::DateTime(_), RawValue::String(s)) if s == "now" => {
            Some(Some(DefaultValue::Now))
        }
        (FieldType::Uuid, RawValue::String(s)) if s == "new" => Some(Some(DefaultValue::NewUuid)),
        _ => value_of(cx, &vcx, value, &field.ty).map(|v| Some(DefaultValue::Value(v))),
    }
}

struct ValueCx<'a> {
    field: &'a str,
    nested: &'a NestedInfo,
    enums: &'a Enums,
}

fn value_of(cx: &mut Cx<'_>, vcx: &ValueCx<'_>, v: &Sp<RawValue>, ty: &FieldType) -> Option<Value> {
    let out = match (ty, v.get()) {
        (FieldType::String, RawValue::String(s)) => Some(Value::String(s.clone())),
        (FieldType::Bool, RawValue::Bool(b)) => Some(Value::Bool(*b)),
        (FieldType::Int(t), RawValue::Integer(n)) => {
            let (lo, hi) = t.range();
            if (lo..=hi).contains(&i128::from(*n)) {
                Some(Value::Int(*n))
            } else {
                let d = cx
                    .error(
                        "dynamo::default",
                        v.span(),
                        format!("default {n} is out of range for `{}`", t.name()),
                        format!("`{}` holds {lo} to {hi}", t.name()),
                    )
                    .help("pick a value in range, or a wider integer type");
                cx.push(d);
                return None;
            }
        }
        (FieldType::Float(_), RawValue::Float(f)) => Some(Value::Float(*f)),
        (FieldType::Float(_), RawValue::Integer(n)) => Some(Value::Float(*n as f64)),
        (FieldType::Number, RawValue::Integer(n)) => Some(Value::String(n.to_string())),
        (FieldType::Number, RawValue::String(s)) if is_decimal(s) => Some(Value::String(s.clone())),
        (FieldType::Bytes, RawValue::Array(items)) => {
            let bytes: Option<Vec<u8>> = items
                .iter()
                .map(|i| match i.get() {
                    RawValue::Integer(n) => u8::try_from(*n).ok(),
                    _ => None,
                })
                .collect();
            bytes.map(Value::Bytes)
        }
        (FieldType::DateTime(_), RawValue::Datetime(dt))
            if dt.date.is_some() && dt.time.is_some() && dt.offset.is_some() =>
        {
            Some(Value::String(dt.to_string()))
        }
        (FieldType::Date, RawValue::Datetime(dt)) if dt.time.is_none() && dt.offset.is_none() => {
            Some(Value::String(dt.to_string()))
        }
        (FieldType::Uuid, RawValue::String(s)) if is_uuid(s) => {
            Some(Value::String(s.to_ascii_lowercase()))
        }
        (FieldType::Json, _) => Some(Value::Json(json(v.get()))),
        (FieldType::Enum(name), RawValue::String(s)) => {
            let def = vcx
                .enums
                .iter()
                .find(|(e, _)| &e.name == name)
                .map(|(e, _)| e)?;
            if def.values.iter().any(|ev| &ev.value == s) {
                Some(Value::String(s.clone()))
            } else {
                let values: Vec<&str> = def.values.iter().map(|ev| ev.value.as_str()).collect();
                let list = values
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let d = cx
                    .error(
                        "dynamo::default",
                        v.span(),
                        format!("default {s:?} is not a value of field `{}`", vcx.field),
                        "not one of the values",
                    )
                    .help(match did_you_mean(s, values.iter().copied()) {
                        Some(m) => format!("did you mean `{m}`? The values are {list}"),
                        None => format!("the values are {list}"),
                    });
                cx.push(d);
                return None;
            }
        }
        (FieldType::Set(element) | FieldType::List(element), RawValue::Array(items)) => {
            let mut out = Vec::new();
            for item in items {
                out.push(value_of(cx, vcx, item, element)?);
            }
            if matches!(ty, FieldType::Set(_)) {
                for (i, item) in out.iter().enumerate() {
                    if out[..i].contains(item) {
                        let d = cx
                            .error(
                                "dynamo::default",
                                items[i].span(),
                                "duplicate value in a set default",
                                "duplicate",
                            )
                            .help("a set holds each value once: remove the duplicate");
                        cx.push(d);
                        return None;
                    }
                }
            }
            Some(Value::List(out))
        }
        (FieldType::Map(element), RawValue::Table(entries)) => {
            let mut out = BTreeMap::new();
            for (k, item) in entries {
                out.insert(k.clone(), value_of(cx, vcx, item, element)?);
            }
            Some(Value::Map(out))
        }
        (FieldType::Nested(name), RawValue::Table(entries)) => {
            let fields = vcx.nested.fields.get(name)?;
            let mut out = BTreeMap::new();
            for (k, item) in entries {
                let Some((_, fty, _)) = fields.iter().find(|(n, _, _)| n == k) else {
                    let names: Vec<&str> = fields.iter().map(|(n, _, _)| n.as_str()).collect();
                    let d = cx
                        .error(
                            "dynamo::default",
                            item.span(),
                            format!("`{name}` has no field `{k}`"),
                            "unknown field",
                        )
                        .help(match did_you_mean(k, names.iter().copied()) {
                            Some(m) => format!("did you mean `{m}`?"),
                            None => format!("its fields are {}", names.join(", ")),
                        });
                    cx.push(d);
                    return None;
                };
                out.insert(k.clone(), value_of(cx, vcx, item, fty)?);
            }
            let missing: Vec<&str> = fields
                .iter()
                .filter(|(n, _, may_omit)| !may_omit && !entries.contains_key(n))
                .map(|(n, _, _)| n.as_str())
                .collect();
            if !missing.is_empty() {
                let d = cx
                    .error(
                        "dynamo::default",
                        v.span(),
                        format!("default of `{name}` leaves out `{}`", missing.join("`, `")),
                        "incomplete",
                    )
                    .help("give every required field of the nested type a value");
                cx.push(d);
                return None;
            }
            Some(Value::Map(out))
        }
        _ => None,
    };
    if out.is_none() {
        let d = cx
            .error(
                "dynamo::default",
                v.span(),
                format!(
                    "default for field `{}` of type `{}` is {}",
                    vcx.field,
                    ty.schema_name(),
                    v.kind()
                ),
                format!("expected {}", expected(ty)),
            )
            .help(format!("write {}", expected(ty)));
        cx.push(d);
    }
    out
}

fn expected(ty: &FieldType) -> String {
    match ty {
        FieldType::String => "a string".into(),
        FieldType::Bool => "`true` or `false`".into(),
        FieldType::Int(t) => {
            let (lo, hi) = t.range();
            format!("an integer from {lo} to {hi}")
        }
        FieldType::Float(_) => "a number".into(),
        FieldType::Number => {
            "an integer, or a decimal in a string such as \"12.50\" (at most 38 digits)".into()
        }
        FieldType::Bytes => "an array of byte values, e.g. `[0, 255]`".into(),
        FieldType::DateTime(_) => {
            "\"now\", or a TOML date-time with an offset, e.g. `2024-01-31T09:00:00Z`".into()
        }
        FieldType::Date => "a TOML date, e.g. `2024-01-31`".into(),
        FieldType::Uuid => "\"new\", or a UUID string".into(),
        FieldType::Json => "any TOML value".into(),
        FieldType::Enum(_) => "one of the enum's values, as a string".into(),
        FieldType::Set(_) | FieldType::List(_) => "an array, e.g. `[]`".into(),
        FieldType::Map(_) => "a table, e.g. `{}`".into(),
        FieldType::Nested(n) => format!("a table with the fields of `{n}`"),
        FieldType::Custom { .. } => {
            "nothing: custom fields take no default; make the field optional".into()
        }
    }
}

fn is_decimal(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = int.len() + frac.len();
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && (1..=38).contains(&digits)
        && !(body.contains('.') && frac.is_empty())
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| {
            if [8, 13, 18, 23].contains(&i) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

fn json(v: &RawValue) -> serde_json::Value {
    match v {
        RawValue::String(s) => serde_json::Value::String(s.clone()),
        RawValue::Integer(n) => serde_json::Value::from(*n),
        RawValue::Float(f) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        RawValue::Bool(b) => serde_json::Value::Bool(*b),
        RawValue::Datetime(d) => serde_json::Value::String(d.to_string()),
        RawValue::Array(items) => {
            serde_json::Value::Array(items.iter().map(|i| json(i.get())).collect())
        }
        RawValue::Table(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), json(v.get())))
                .collect(),
        ),
    }
}

/// A nested type may not contain itself without a list, map, set or
/// optional in between: such a value would be infinitely large.
fn cycles(cx: &mut Cx<'_>, raw: &[(&Sp<String>, &Sp<Named<RawField>>)], types: &[ir::NestedType]) {
    let direct = |name: &str| -> Vec<(String, String)> {
        types
            .iter()
            .find(|t| t.name == name)
            .map(|t| {
                t.fields
                    .iter()
                    .filter(|f| !f.optional)
                    .filter_map(|f| match &f.ty {
                        FieldType::Nested(n) => Some((f.name.clone(), n.clone())),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut reported = BTreeSet::new();
    for t in types {
        // Depth-first search for a path back to `t`.
        let mut stack: Vec<(String, Vec<String>)> = vec![(t.name.clone(), Vec::new())];
        let mut visited = BTreeSet::new();
        while let Some((current, path)) = stack.pop() {
            for (field, target) in direct(&current) {
                let mut path = path.clone();
                path.push(format!("{current}.{field}"));
                if target == t.name {
                    if reported.insert(t.name.clone()) {
                        let first_field = path[0].split_once('.').map_or("", |p| p.1).to_owned();
                        let span = raw
                            .iter()
                            .find(|(n, _)| n.get() == &t.name)
                            .and_then(|(_, fields)| fields.keys().find(|k| *k.get() == first_field))
                            .map_or(0..0, |k| k.span());
                        let d = cx
                            .error(
                                "dynamo::recursive_type",
                                span,
                                format!("nested type `{}` contains itself: {} → {}", t.name, path.join(" → "), t.name),
                                "makes the type infinitely large",
                            )
                            .help("break the cycle with `optional = true`, or a `list<...>` or `map<...>`");
                        cx.push(d);
                    }
                } else if visited.insert(target.clone()) {
                    stack.push((target, path));
                }
            }
        }
    }
}

/// Nested types no field uses (judged by the type text, so that a field
/// with another mistake still counts as a use).
pub(crate) fn unused_nested(cx: &mut Cx<'_>, schema: &crate::load::RawSchema) {
    let mut used = BTreeSet::new();
    let mut note = |owner: Option<&str>, fields: &Named<RawField>| {
        for field in fields.values() {
            for token in field
                .ty
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            {
                if Some(token) != owner {
                    used.insert(token.to_owned());
                }
            }
        }
    };
    for item in schema.item.values() {
        note(None, &item.fields);
    }
    for (name, fields) in &schema.types {
        note(Some(name.get()), fields);
    }
    for name in schema.types.keys() {
        if !used.contains(name.get()) {
            let d = cx
                .error(
                    "dynamo::unused_type",
                    name.span(),
                    format!("nested type `{}` is not used by any field", name.get()),
                    "unused",
                )
                .warning()
                .help(format!(
                    "use it as a field type, e.g. `line = \"{}\"`, or remove it",
                    name.get()
                ));
            cx.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_expressions() {
        assert!(matches!(
            parse_type("list<map<u32>>", 0),
            Ok(TypeExpr::Generic("list", _, _))
        ));
        assert!(matches!(
            parse_type("map<string, u32>", 0),
            Ok(TypeExpr::Generic("map", _, _))
        ));
        assert_eq!(parse_type("map<u32, u32>", 0).unwrap_err().1, 4..7);
        assert_eq!(parse_type("list<string", 0).unwrap_err().1, 4..11);
        assert_eq!(parse_type("vec<string>", 0).unwrap_err().1, 0..3);
        let Ok(TypeExpr::Generic(_, inner, _)) = parse_type("set< strng >", 0) else {
            panic!()
        };
        assert!(matches!(*inner, TypeExpr::Name(ref n, ref s) if n == "strng" && *s == (5..10)));
    }

    #[test]
    fn decimals_and_uuids() {
        assert!(is_decimal("12.50"));
        assert!(is_decimal("-3"));
        assert!(!is_decimal("1."));
        assert!(!is_decimal("1e5"));
        assert!(!is_decimal(&"9".repeat(39)));
        assert!(is_uuid("67e55044-10b1-426f-9247-bb680e5fe0c8"));
        assert!(!is_uuid("67e55044-10b1-426f-9247-bb680e5fe0c"));
    }
}
