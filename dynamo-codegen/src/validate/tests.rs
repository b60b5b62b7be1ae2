//! Unit tests of the validator over small inline schemas; the fixtures in
//! `tests/fixtures` cover every rule's rendered diagnostic.

use std::sync::Arc;

use super::*;
use crate::{
    ir::{FieldId, FieldType, IndexId, KeyValue, TemplatePart},
    load,
};

fn check(text: &str) -> (ir::Schema, Diagnostics) {
    let mut diagnostics = Diagnostics::default();
    let source = Arc::new(SourceFile {
        name: "t.toml".into(),
        text: text.into(),
    });
    let loaded = Loaded {
        files: load::parse(source, "t.toml".into(), &mut diagnostics)
            .into_iter()
            .collect(),
        migrations: Vec::new(),
    };
    let schema = validate(&loaded, &mut diagnostics);
    (schema, diagnostics)
}

const HEAD: &str = "[table]\nname = \"shop\"\npartition_key = \"pk\"\nsort_key = \"sk\"\n";

fn codes(d: &Diagnostics) -> Vec<&'static str> {
    d.iter().map(|d| d.code).collect()
}

#[test]
fn resolves_templates_in_schema_order() {
    let (schema, d) = check(&format!(
        "{HEAD}[item.Order.keys]\npk = \"C#{{customer_id}}\"\nsk = \"O#{{n:010}}#{{id}}\"\n\
         [item.Order.fields]\nid = \"string\"\ncustomer_id = \"string\"\nn = \"u32\"\n"
    ));
    assert!(!d.has_errors(), "{}", d.render());
    let item = &schema.tables[0].items[0];
    let names: Vec<_> = item.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["id", "customer_id", "n"]);
    let sort_key = item.table_access().sort.unwrap();
    let KeyValue::Template(sort) = item.key(sort_key) else {
        panic!("no sort template")
    };
    assert_eq!(
        sort.parts,
        vec![
            TemplatePart::Literal("O#".into()),
            TemplatePart::Field {
                field: FieldId(2),
                width: Some(10),
                case: None,
            },
            TemplatePart::Literal("#".into()),
            TemplatePart::Field {
                field: FieldId(0),
                width: None,
                case: None,
            },
        ]
    );
    assert_eq!(item.key_fields(), vec![FieldId(1), FieldId(2), FieldId(0)]);
    // Conditions per field of the sort template, in order: the width
    // makes `n` sort as a number, and `id` ends the key.
    let fields: Vec<(usize, bool)> = item
        .table_access()
        .sort_fields
        .iter()
        .map(|c| (c.earlier.len() + 1, c.ranged))
        .collect();
    assert_eq!(fields, [(1, true), (2, true)]);
}

#[test]
fn reports_every_error_of_a_file() {
    let (schema, d) = check(&format!(
        "{HEAD}[item.Order.keys]\npk = \"C#{{customer}}\"\nsk = \"O#{{n}}\"\n\
         [item.Order.fields]\ncustomer_id = \"string\"\nn = \"u32\"\nnote = \"strng\"\n"
    ));
    assert_eq!(
        codes(&d),
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

#[test]
fn options_add_fields_and_indexes_collect_members() {
    let (schema, d) = check(
        "[table]\nname = \"shop\"\npartition_key = \"pk\"\nsort_key = \"sk\"\nttl = \"expires_at\"\n\
         [index.gsi1]\npartition_key = \"gsi1pk\"\nsort_key = \"gsi1sk\"\n\
         [index.by_created]\nlocal = true\nsort_key = \"lsi1sk\"\n\
         [item.Session]\ntimestamps = true\nversion = \"rev\"\nexpires_after = \"2h\"\n\
         [item.Session.keys]\npk = \"S#{id}\"\nsk = \"S\"\ngsi1pk = \"U#{user}\"\ngsi1sk = \"{created_at}\"\n\
         [item.Session.fields]\nid = \"uuid\"\nuser = \"string\"\n",
    );
    assert!(!d.has_errors(), "{}", d.render());
    let item = &schema.tables[0].items[0];
    let names: Vec<_> = item.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "user",
            "created_at",
            "updated_at",
            "rev",
            "expires_at"
        ]
    );
    assert_eq!(item.expires_after, Some(7200));
    assert_eq!(item.ttl, Some(FieldId(5)));
    assert_eq!(item.fields[4].ty, FieldType::Int(ir::IntType::U64));
    let indexes: Vec<_> = item.accesses.iter().map(|a| a.index).collect();
    assert_eq!(
        indexes,
        [None, Some(IndexId(0))],
        "not in the local index: no lsi1sk"
    );
    // Kept fields have no update actions; the index key is rewritten
    // from `user`.
    let updated: Vec<_> = item
        .updates
        .iter()
        .map(|u| item.field(u.field).name.as_str())
        .collect();
    assert_eq!(updated, ["user", "expires_at"]);
    assert_eq!(item.updates[0].rewrites.len(), 1);
    assert!(item.updates[0].keyed());
    assert!(!item.updates[1].keyed());
}

#[test]
fn plain_keys_keep_their_type() {
    let (schema, d) = check(
        "[table]\nname = \"users\"\npartition_key = { name = \"id\", type = \"N\" }\n\
         [item.User.fields]\nid = \"u64\"\nuserName = \"string\"\n",
    );
    assert!(!d.has_errors(), "{}", d.render());
    let item = &schema.tables[0].items[0];
    assert_eq!(
        item.key(item.table_access().partition),
        &KeyValue::Field {
            attribute: "id".into(),
            field: FieldId(0)
        }
    );
    assert_eq!(item.fields[1].attribute, "userName");
}

#[test]
fn keys_that_can_collide_are_reported() {
    let (_, d) = check(&format!(
        "{HEAD}[item.A.keys]\npk = \"X#{{id}}\"\nsk = \"{{id}}\"\n[item.A.fields]\nid = \"string\"\n\
         [item.B.keys]\npk = \"X#{{id}}\"\nsk = \"B#{{id}}\"\n[item.B.fields]\nid = \"string\"\n\
         [item.C.keys]\npk = \"X#{{id}}\"\nsk = \"C#{{id}}\"\n[item.C.fields]\nid = \"string\"\n"
    ));
    // A's sort key can be anything, so it can equal B's and C's; B and C
    // differ by their literal prefixes.
    assert_eq!(
        codes(&d),
        ["dynamo::key_collision", "dynamo::key_collision"]
    );
}

#[test]
fn expiry_durations_are_bounded() {
    let item = |after: &str| {
        format!(
            "[table]\nname = \"shop\"\npartition_key = \"pk\"\nttl = \"exp\"\n\
             [item.A]\nexpires_after = \"{after}\"\n[item.A.keys]\npk = \"A#{{id}}\"\n\
             [item.A.fields]\nid = \"string\"\n"
        )
    };
    let (schema, d) = check(&item("52000w"));
    assert!(!d.has_errors(), "{}", d.render());
    assert_eq!(
        schema.tables[0].items[0].expires_after,
        Some(52_000 * 604_800)
    );
    // Fits u64 but not a datetime: every new item would have expired at once.
    for too_long in ["10000000w", "99999999999999999w"] {
        let (_, d) = check(&item(too_long));
        assert_eq!(codes(&d), ["dynamo::expires_after"], "{too_long}");
    }
}
