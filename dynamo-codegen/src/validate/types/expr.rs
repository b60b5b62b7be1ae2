//! Type expressions such as `list<map<u32>>`: parsing them, and resolving
//! their names to field types.

use std::ops::Range;

use super::{FieldCx, SCALARS};
use crate::{
    diagnostics::did_you_mean,
    ir::{DateTimeFormat, FieldType, FloatType, IntType, Owner},
    load::Sp,
    validate::{Cx, inner_span},
};

/// A parsed type expression, with spans relative to the type text.
#[derive(Debug)]
pub(super) enum TypeExpr {
    Name(String, Range<usize>),
    Generic(&'static str, Box<TypeExpr>, Range<usize>),
}

pub(super) type TypeError = (String, Range<usize>, &'static str);

pub(super) fn parse_type(text: &str, offset: usize) -> Result<TypeExpr, TypeError> {
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

pub(super) fn resolve(
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
            if let Some(id) = fcx.nested.id(name) {
                // A nested type that did not parse was reported already.
                return (!fcx.broken.contains(name)).then_some(FieldType::Nested(id));
            }
            if let Some(id) = fcx.nested.union_id(name) {
                if let Owner::Nested(_) = fcx.owner {
                    let d = cx
                        .error(
                            "dynamo::union",
                            span,
                            format!("union `{name}` in a nested type"),
                            "a union",
                        )
                        .help("unions are fields of item types (alone, optional, or in a list or map): hold the union in the item's field");
                    cx.push(d);
                    return None;
                }
                return (!fcx.broken.contains(name)).then(|| FieldType::Union(id, name.clone()));
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
                .chain(fcx.nested.names());
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
                                format!("a set cannot hold `{}`", fcx.nested.type_name(&element)),
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
}
