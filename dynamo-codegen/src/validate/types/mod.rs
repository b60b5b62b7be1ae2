//! Fields: their type expressions ([`expr`]), per-type options (`values`,
//! `format`, `rust`, `stored`), `validate` rules ([`rules`]), defaults
//! ([`default`]), and nested types with their cycle check ([`nested`]).

mod default;
mod expr;
mod nested;
mod rules;
mod union;

use std::{
    collections::{BTreeMap, BTreeSet},
    ops::Range,
};

use quote::ToTokens as _;

pub(crate) use self::nested::{NestedInfo, nested_types, type_name, unused_nested};
pub(crate) use self::union::unions;
use self::{
    default::{ValueCx, default},
    expr::{TypeExpr, parse_type, resolve},
    rules::validation,
};
use super::{Cx, inner_span};
use crate::{
    ir::{
        self, CustomType, DateTimeFormat, EnumDef, EnumId, EnumValue, FieldType, KeyType, Owner,
        Validation,
    },
    load::{RawField, Sp, span_or},
};

/// Checks a field's default (once every nested type's fields are known)
/// and stores it; `false` when it does not fit.
pub(crate) fn field_default(
    cx: &mut Cx<'_>,
    nested: &NestedInfo,
    enums: &[EnumDef],
    raw: &Sp<RawField>,
    field: &mut ir::Field,
) -> bool {
    let vcx = ValueCx {
        field: &field.name,
        nested,
        enums,
    };
    match default(cx, &vcx, raw, &field.ty) {
        Some(d) => {
            field.default = d;
            true
        }
        None => false,
    }
}

/// The scalar type names.
const SCALARS: [&str; 19] = [
    "string", "bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "number",
    "bytes", "datetime", "date", "uuid", "json", "enum",
];

/// Where a field is declared: its owner, and the nested types in scope.
pub(crate) struct FieldCx<'a> {
    /// The item or nested type.
    pub owner: Owner,
    /// Nested types in scope.
    pub nested: &'a NestedInfo,
    /// Names whose sections did not parse.
    pub broken: &'a BTreeSet<String>,
}

/// Two fields must not share an attribute.
pub(crate) fn duplicate_attributes(
    cx: &mut Cx<'_>,
    raw: &[(&Sp<String>, &Sp<RawField>)],
    fields: &[Option<ir::Field>],
) {
    let mut attrs: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, f) in fields.iter().enumerate() {
        let Some(f) = f else { continue };
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
    enums: &mut Vec<EnumDef>,
) -> Option<ir::Field> {
    let errors_before = cx.errors();
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
        if f.contains('%') {
            return datetime_pattern(cx, f);
        }
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
        (Some(v), Some(ty)) => validation(cx, v, ty, &fcx.nested.type_name(ty), name.get()),
        _ => Some(Validation::default()),
    };
    let renamed_values = renamed_values(
        cx,
        name,
        raw,
        ty.as_ref().and_then(|ty| match ty {
            FieldType::Enum(id) => enums.get(id.0),
            _ => None,
        }),
    );
    if let Some(encrypted) = raw.encrypted.as_ref().filter(|e| *e.get()) {
        let problem = match (&ty, fcx.owner) {
            (_, Owner::Nested(_)) => Some((
                "is in a nested type",
                "encrypt the item's field holding the value instead: make it `string` or `bytes`",
            )),
            _ if raw.default.is_some() => Some((
                "has a default",
                "a default is what stored items without the attribute read as, in the clear: give encrypted values from the app, or make the field optional",
            )),
            (Some(FieldType::String | FieldType::Bytes), _) | (None, _) => None,
            (Some(_), _) => Some((
                "is neither `string` nor `bytes`",
                "encrypted values are text or bytes: store others as their text in a `string` field",
            )),
        };
        if let Some((what, help)) = problem {
            let d = cx
                .error(
                    "dynamo::encrypted",
                    encrypted.span(),
                    format!("encrypted field `{}` {what}", name.get()),
                    "encrypted",
                )
                .help(help);
            cx.push(d);
        }
    }
    if let (Some(computed), Owner::Nested(_)) = (&raw.computed, fcx.owner) {
        let d = cx
            .error(
                "dynamo::computed",
                computed.span(),
                format!("field `{}` of a nested type is computed", name.get()),
                "computed",
            )
            .help("computed fields belong to item types, which render them at every write");
        cx.push(d);
    }
    (cx.errors() == errors_before).then_some(())?;
    Some(ir::Field {
        renamed_values,
        name: name.get().clone(),
        span: name.span(),
        attribute,
        ty: ty?,
        optional: raw.optional.as_ref().is_some_and(|o| *o.get()),
        default: None,
        doc: raw.doc.as_ref().map(|d| d.get().clone()),
        validate: validate?,
        read_only: raw.read_only.as_ref().is_some_and(|r| *r.get()),
        unique: raw.unique.as_ref().is_some_and(|u| *u.get()),
        computed: None,
        encrypted: raw.encrypted.as_ref().is_some_and(|e| *e.get()),
    })
}

/// `renamed_values` of an enum field: each old value is not a value any
/// more, and maps to one that is.
fn renamed_values(
    cx: &mut Cx<'_>,
    name: &Sp<String>,
    raw: &Sp<RawField>,
    def: Option<&EnumDef>,
) -> Vec<(String, String)> {
    let Some(map) = &raw.renamed_values else {
        return Vec::new();
    };
    let Some(def) = def else {
        let d = cx
            .error(
                "dynamo::field_option",
                map.span(),
                "`renamed_values` applies only to enum fields",
                format!("field `{}` is `{}`", name.get(), raw.ty.get()),
            )
            .help("remove `renamed_values`, or change the field's type");
        cx.push(d);
        return Vec::new();
    };
    let mut out = Vec::new();
    for (old, new) in map.iter() {
        if def.values.iter().any(|v| v.value == **old.get()) {
            let d = cx
                .error(
                    "dynamo::renamed_values",
                    old.span(),
                    format!("`{}` is still a value of `{}`", old.get(), name.get()),
                    "still a value",
                )
                .help("map only values that `values` no longer lists");
            cx.push(d);
        } else if !def.values.iter().any(|v| v.value == **new.get()) {
            let names: Vec<&str> = def.values.iter().map(|v| v.value.as_str()).collect();
            cx.unknown_name("dynamo::renamed_values", new, "value", &names);
        } else {
            out.push((old.get().clone(), new.get().clone()));
        }
    }
    out
}

/// A field's type before its options complete it: `enum` and `custom`
/// take their definition from `values`, `rust` and `stored`.
pub(super) enum Base {
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
    enums: &mut Vec<EnumDef>,
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
            enums.push(def);
            Some(FieldType::Enum(EnumId(enums.len() - 1)))
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
            let path = syn::parse_str::<syn::Path>(rust.get()).ok();
            if path.is_none() {
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
            Some(FieldType::Custom(CustomType {
                path: rust.get().clone(),
                tokens: path?.into_token_stream(),
                stored: stored_ty?,
            }))
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
    owner: Owner,
    field: &Sp<String>,
    values: &Sp<Vec<Sp<String>>>,
) -> Option<EnumDef> {
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
    let mut out: Vec<EnumValue> = Vec::new();
    for value in values.iter() {
        if let Some(first) = out.iter().find(|v| v.value == *value.get()) {
            let d = cx
                .error(
                    "dynamo::enum_value",
                    value.span(),
                    format!("enum value {:?} is listed twice", value.get()),
                    "again",
                )
                .related(cx.file, first.span.clone(), "first listed here")
                .help("list each value once");
            cx.push(d);
            continue;
        }
        out.push(EnumValue {
            value: value.get().clone(),
            span: value.span(),
        });
    }
    (cx.errors() == errors_before).then(|| EnumDef {
        owner,
        field: field.get().clone(),
        span: field.span(),
        values: out,
    })
}

/// A `strftime` pattern of a datetime field: it must write every datetime
/// and read back what it wrote (at its precision), so it needs a date, a
/// time and an offset.
fn datetime_pattern(cx: &mut Cx<'_>, f: &Sp<String>) -> Option<DateTimeFormat> {
    use jiff::{Timestamp, fmt::strtime, tz::TimeZone};
    let pattern = f.get().as_str();
    let samples = [
        "2024-02-01T09:30:00Z",
        "1999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
    ];
    let problem = samples.iter().find_map(|sample| {
        let t: Timestamp = sample.parse().ok()?;
        let text = match strtime::format(pattern, &t.to_zoned(TimeZone::UTC)) {
            Ok(text) => text,
            Err(e) => return Some(format!("it does not format {sample}: {e}")),
        };
        match strtime::parse(pattern, &text).and_then(|b| b.to_timestamp()) {
            Ok(back) if back == t => None,
            Ok(back) => Some(format!(
                "{sample} is written as `{text}` and reads back as {back}"
            )),
            Err(e) => Some(format!(
                "`{text}` (written for {sample}) does not read back: {e}"
            )),
        }
    });
    match problem {
        None => Some(DateTimeFormat::Pattern(Box::leak(
            pattern.to_owned().into_boxed_str(),
        ))),
        Some(problem) => {
            let d = cx
                .error(
                    "dynamo::datetime_format",
                    f.span(),
                    format!("datetime pattern `{pattern}` does not round-trip: {problem}"),
                    "not a complete datetime pattern",
                )
                .help("a pattern needs the date, the time and an offset, e.g. PynamoDB's `%Y-%m-%dT%H:%M:%S.%6f%z`");
            cx.push(d);
            None
        }
    }
}
