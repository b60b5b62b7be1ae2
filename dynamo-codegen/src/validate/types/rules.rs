//! `validate = { ... }`: the checks a field's values must pass.

use std::ops::Range;

use crate::{
    ir::{FieldType, Validation},
    load::{RawValidate, RawValue, Sp},
    validate::{Cx, inner_span},
};

/// `validate = { ... }`.
pub(super) fn validation(
    cx: &mut Cx<'_>,
    raw: &Sp<RawValidate>,
    ty: &FieldType,
    ty_name: &str,
    field: &str,
) -> Option<Validation> {
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
    (cx.errors() == errors_before).then_some(Validation {
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
