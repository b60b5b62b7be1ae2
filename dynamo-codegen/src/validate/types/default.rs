//! Defaults: each checked against its field's type and parsed into a typed
//! [`Value`], so that emitters write it without looking at the type.

use std::{collections::BTreeMap, str::FromStr};

use super::NestedInfo;
use crate::{
    diagnostics::did_you_mean,
    ir::{DefaultValue, EnumDef, FieldType, Value},
    load::{RawField, RawValue, Sp},
    validate::Cx,
};

/// What default checks need besides the field: the table's nested types
/// and enums so far.
pub(crate) struct ValueCx<'a> {
    /// The field's name, for messages.
    pub field: &'a str,
    /// Nested types.
    pub nested: &'a NestedInfo,
    /// Enums.
    pub enums: &'a [EnumDef],
}

/// Checks a field's default against its type. `None` means an error was
/// reported; `Some(None)` means no default.
pub(crate) fn default(
    cx: &mut Cx<'_>,
    vcx: &ValueCx<'_>,
    raw: &Sp<RawField>,
    ty: &FieldType,
) -> Option<Option<DefaultValue>> {
    let Some(value) = &raw.default else {
        return Some(None);
    };
    match (ty, value.get()) {
        (FieldType::DateTime(_), RawValue::String(s)) if s == "now" => {
            Some(Some(DefaultValue::Now))
        }
        (FieldType::Uuid, RawValue::String(s)) if s == "new" || s == "v4" => {
            Some(Some(DefaultValue::NewUuid))
        }
        (FieldType::Uuid, RawValue::String(s)) if s == "v7" => Some(Some(DefaultValue::NewUuidV7)),
        (FieldType::String, RawValue::String(s)) if s == "ulid" => {
            Some(Some(DefaultValue::NewUlid))
        }
        _ => value_of(cx, vcx, value, ty).map(|v| Some(DefaultValue::Value(v))),
    }
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
        (FieldType::Float(t), RawValue::Float(f)) => Some(Value::Float(*t, *f)),
        (FieldType::Float(t), RawValue::Integer(n)) => Some(Value::Float(*t, *n as f64)),
        (FieldType::Number, RawValue::Integer(n)) => Some(Value::Number(n.to_string())),
        (FieldType::Number, RawValue::String(s)) if is_decimal(s) => Some(Value::Number(s.clone())),
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
            jiff::Timestamp::from_str(&dt.to_string())
                .ok()
                .map(|t| Value::DateTime {
                    second: t.as_second(),
                    nanosecond: t.subsec_nanosecond(),
                })
        }
        (FieldType::Date, RawValue::Datetime(dt)) if dt.time.is_none() && dt.offset.is_none() => {
            jiff::civil::Date::from_str(&dt.to_string())
                .ok()
                .map(|d| Value::Date {
                    year: d.year(),
                    month: d.month(),
                    day: d.day(),
                })
        }
        (FieldType::Uuid, RawValue::String(s)) if is_uuid(s) => {
            u128::from_str_radix(&s.replace('-', ""), 16)
                .ok()
                .map(Value::Uuid)
        }
        (FieldType::Json, _) => Some(Value::Json(json(v.get()))),
        (FieldType::Enum(id), RawValue::String(s)) => {
            let def = vcx.enums.get(id.0)?;
            if let Some(i) = def.values.iter().position(|ev| &ev.value == s) {
                Some(Value::Enum(*id, i))
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
                Some(Value::Set(out))
            } else {
                Some(Value::List(out))
            }
        }
        (FieldType::Map(element), RawValue::Table(entries)) => {
            let mut out = BTreeMap::new();
            for (k, item) in entries {
                out.insert(k.clone(), value_of(cx, vcx, item, element)?);
            }
            Some(Value::Map(out))
        }
        (FieldType::Nested(id), RawValue::Table(entries)) => {
            let name = vcx.nested.name(*id);
            let fields = vcx.nested.fields(*id)?;
            let mut out: Vec<Option<Value>> = vec![None; fields.len()];
            for (k, item) in entries {
                let Some(i) = fields.iter().position(|f| &f.name == k) else {
                    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
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
                out[i] = Some(value_of(cx, vcx, item, &fields[i].ty)?);
            }
            let missing: Vec<&str> = fields
                .iter()
                .zip(&out)
                .filter(|(f, v)| !f.may_omit && v.is_none())
                .map(|(f, _)| f.name.as_str())
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
            Some(Value::Nested(*id, out))
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
                    vcx.nested.type_name(ty),
                    v.kind()
                ),
                format!("expected {}", expected(vcx, ty)),
            )
            .help(format!("write {}", expected(vcx, ty)));
        cx.push(d);
    }
    out
}

fn expected(vcx: &ValueCx<'_>, ty: &FieldType) -> String {
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
        FieldType::Nested(id) => format!("a table with the fields of `{}`", vcx.nested.name(*id)),
        FieldType::Custom(_) => {
            "nothing: custom fields take no default; make the field optional".into()
        }
        FieldType::Union(_, name) => {
            format!("nothing: union `{name}` takes no default; make the field optional")
        }
    }
}

pub(super) fn is_decimal(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = int.len() + frac.len();
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && (1..=38).contains(&digits)
        && !(body.contains('.') && frac.is_empty())
}

pub(super) fn is_uuid(s: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

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
