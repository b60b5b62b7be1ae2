//! Stored data stays correct, readable and whole, against DynamoDB Local,
//! with other writers (the raw SDK, as boto3 or PynamoDB would write)
//! sharing the table: empty sets, bounded updates, signed sort keys, index
//! keys rewritten from stored values, rows that do not decode.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::AttributeValue;
use dynamo_runtime::{Attributes, Date, Db, Error, Item, Timestamp, ValidationRule};
use dynamo_tests::local_db;
use futures_util::StreamExt;

mod ledger {
    pub use dynamo_tests::fixtures::integrity::ledger::*;
}

async fn ledger_db(test: &str) -> Db {
    let db = local_db(test).await;
    assert!(ledger::TABLE.create(&db).await.unwrap());
    db
}

fn account(id: &str, seats: u32) -> ledger::Account {
    ledger::Account::new(ledger::NewAccount {
        id: id.into(),
        region: "eu".into(),
        opened: Date::constant(2024, 5, 1),
        seats,
    })
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Writes `item` into `table` as another program would, bypassing every
/// check.
async fn raw_put_into(db: &Db, table: &dynamo_runtime::TableDef, item: Attributes) {
    db.client()
        .put_item()
        .table_name(db.table_name(table))
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

/// Writes `item` into the ledger table, bypassing every check.
async fn raw_put(db: &Db, item: Attributes) {
    raw_put_into(db, &ledger::TABLE, item).await;
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn n(text: &str) -> AttributeValue {
    AttributeValue::N(text.to_owned())
}

async fn stored(db: &Db, id: &str) -> ledger::Account {
    ledger::Account::get(ledger::AccountKey { id: id.into() })
        .consistent()
        .send(db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn empty_sets_are_stored_anywhere_and_read_back_empty() {
    let db = ledger_db("empty_sets").await;
    let mut a = account("a1", 1);
    a.groups = vec![BTreeSet::new(), set(&["x"]), BTreeSet::new()];
    a.labels = BTreeMap::from([
        ("none".to_owned(), BTreeSet::new()),
        ("some".to_owned(), BTreeSet::from([1, 2])),
    ]);
    a.limits = Some(ledger::Limits {
        daily: 10,
        codes: BTreeSet::new(),
    });
    a.put().send(&db).await.unwrap();
    let mut expected = a.clone();
    expected.version = 1;
    assert_eq!(stored(&db, "a1").await, expected);

    // Setting a set field to the empty set removes the attribute.
    let updated = ledger::Account::update(a.key())
        .add_items(|f| f.tags, ["t1", "t2"])
        .send(&db)
        .await
        .unwrap();
    assert_eq!(updated.tags, set(&["t1", "t2"]));
    let updated = ledger::Account::update(a.key())
        .set(|f| f.tags, BTreeSet::new())
        .set(|f| f.groups, vec![BTreeSet::new()])
        .set(
            |f| f.labels,
            BTreeMap::from([("e".to_owned(), BTreeSet::new())]),
        )
        .send(&db)
        .await
        .unwrap();
    assert!(updated.tags.is_empty());
    assert_eq!(updated.groups, vec![BTreeSet::new()]);
    assert_eq!(updated.labels["e"], BTreeSet::new());
    assert_eq!(stored(&db, "a1").await, updated);
}

#[tokio::test]
async fn bounded_number_updates_write_nothing_out_of_range() {
    let db = ledger_db("bounded").await;
    let a = account("a1", 5);
    a.put().send(&db).await.unwrap();
    let key = || ledger::AccountKey { id: "a1".into() };
    let rule = |e: Error| match e {
        Error::Validation(v) => (v.field, v.rule),
        other => panic!("not a validation error: {other}"),
    };

    // Below a u32's 0: refused by the stored value, nothing written.
    let err = ledger::Account::update(key())
        .decrement(|f| f.seats, 10)
        .send(&db)
        .await
        .unwrap_err();
    assert_eq!(rule(err), ("seats", ValidationRule::Min(0.0)));
    // Past u32::MAX.
    let err = ledger::Account::update(key())
        .increment(|f| f.seats, u32::MAX - 2)
        .send(&db)
        .await
        .unwrap_err();
    assert_eq!(
        rule(err),
        ("seats", ValidationRule::Max(f64::from(u32::MAX)))
    );
    // Past `validate.max` of an i32, with ADD.
    let err = ledger::Account::update(key())
        .add(|f| f.credit, 101)
        .send(&db)
        .await
        .unwrap_err();
    assert_eq!(rule(err), ("credit", ValidationRule::Max(100.0)));
    let err = ledger::Account::update(key())
        .decrement(|f| f.credit, 101)
        .send(&db)
        .await
        .unwrap_err();
    assert_eq!(rule(err), ("credit", ValidationRule::Min(-100.0)));
    // A u8 past 255.
    let err = ledger::Account::update(key())
        .increment(|f| f.level, 200)
        .increment(|f| f.level, 56)
        .send(&db)
        .await;
    assert!(err.is_err(), "two actions on one attribute are refused");
    let err = ledger::Account::update(key())
        .increment(|f| f.level, 255)
        .send(&db)
        .await;
    assert!(err.is_ok(), "0 + 255 fits a u8");
    let err = ledger::Account::update(key())
        .increment(|f| f.level, 1)
        .send(&db)
        .await
        .unwrap_err();
    assert_eq!(rule(err), ("level", ValidationRule::Max(255.0)));
    // `max_len = 3` on a list grown by append and prepend.
    ledger::Account::update(key())
        .append(|f| f.notes, ["a", "b"])
        .send(&db)
        .await
        .unwrap();
    let err = ledger::Account::update(key())
        .prepend(|f| f.notes, ["c", "d"])
        .send(&db)
        .await
        .unwrap_err();
    assert_eq!(rule(err), ("notes", ValidationRule::MaxLen(3)));
    // A nested type's rules, set through an update.
    let err = ledger::Account::update(key())
        .set(
            |f| f.limits,
            ledger::Limits {
                daily: 5000,
                codes: BTreeSet::new(),
            },
        )
        .send(&db)
        .await
        .unwrap_err();
    assert_eq!(rule(err), ("daily", ValidationRule::Max(1000.0)));

    // Within range, everything applies; nothing above was written, and
    // the item reads back.
    let after = ledger::Account::update(key())
        .decrement(|f| f.seats, 5)
        .add(|f| f.credit, 100)
        .send(&db)
        .await
        .unwrap();
    assert_eq!((after.seats, after.credit, after.level), (0, 100, 255));
    assert_eq!(after.notes, ["a", "b"]);
    assert_eq!(stored(&db, "a1").await, after);
}

#[tokio::test]
async fn an_index_key_is_rewritten_only_from_stored_values() {
    let db = ledger_db("partners").await;
    account("a1", 1).put().send(&db).await.unwrap();
    let key = || ledger::AccountKey { id: "a1".into() };
    // A stale region would file the item under `us#pro`.
    let err = ledger::Account::update(key())
        .set_tier(ledger::AccountTier::Pro, "us")
        .send(&db)
        .await
        .unwrap_err();
    match &err {
        Error::StaleKeyField { field, stored, .. } => {
            assert_eq!(*field, "region");
            assert_eq!(stored.as_deref(), Some(&s("eu")));
        }
        other => panic!("{other}"),
    }
    let in_us = ledger::Account::query_by_tier("us", ledger::AccountTier::Pro)
        .all(&db)
        .await
        .unwrap();
    assert!(in_us.is_empty(), "nothing was written");
    ledger::Account::update(key())
        .set_tier(ledger::AccountTier::Pro, "eu")
        .send(&db)
        .await
        .unwrap();
    let in_eu = ledger::Account::query_by_tier("eu", ledger::AccountTier::Pro)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(in_eu.len(), 1);
}

fn reading(delta: i32) -> ledger::Reading {
    ledger::Reading::new(ledger::NewReading {
        sensor: "s1".into(),
        delta,
        at: Timestamp::UNIX_EPOCH,
    })
}

#[tokio::test]
async fn signed_integers_sort_by_value_in_keys() {
    let db = ledger_db("signed").await;
    let mut deltas = vec![-5, -10, 0, 3, i32::MIN, i32::MAX, -1, 10, -100_000];
    let readings: Vec<_> = deltas.iter().map(|d| reading(*d)).collect();
    ledger::Reading::batch_put(&readings)
        .send(&db)
        .await
        .unwrap();
    deltas.sort();
    let q = || ledger::Reading::query("s1");
    let got = |r: Vec<ledger::Reading>| r.into_iter().map(|r| r.delta).collect::<Vec<_>>();
    assert_eq!(got(q().all(&db).await.unwrap()), deltas);
    assert_eq!(
        got(q().delta().lt(0).all(&db).await.unwrap()),
        [i32::MIN, -100_000, -10, -5, -1]
    );
    assert_eq!(
        got(q().delta().between(-10, 3).all(&db).await.unwrap()),
        [-10, -5, -1, 0, 3]
    );
    assert_eq!(
        got(q().delta().ge(-1).limit(2).all(&db).await.unwrap()),
        [-1, 0]
    );
    assert_eq!(
        got(q().descending().delta().gt(-6).all(&db).await.unwrap()),
        [i32::MAX, 10, 3, 0, -1, -5]
    );
}

#[tokio::test]
async fn a_row_that_does_not_decode_is_an_error_in_its_place() {
    let db = ledger_db("bad_row").await;
    let readings: Vec<_> = [1, 2, 3].iter().map(|d| reading(*d)).collect();
    ledger::Reading::batch_put(&readings)
        .send(&db)
        .await
        .unwrap();
    // Another writer stores `delta` as text, between readings 1 and 2.
    let mut between = reading(1);
    between.at = "1970-01-01T00:00:00.5Z".parse().unwrap();
    let mut raw = between.encode().unwrap();
    raw.insert("delta".into(), s("one and a half"));
    raw_put(&db, raw).await;

    let q = ledger::Reading::query("s1");
    // A strict read fails on it.
    let err = q.all(&db).await.unwrap_err();
    assert!(
        matches!(&err, Error::Decode(e) if e.attribute == "delta"),
        "{err}"
    );
    assert!(q.send(&db).await.is_err());
    // The stream yields every good row and the bad one's error in place.
    let rows: Vec<_> = q.stream(&db).collect().await;
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].as_ref().unwrap().delta, 1);
    assert!(rows[1].is_err());
    assert_eq!(rows[2].as_ref().unwrap().delta, 2);
    assert_eq!(rows[3].as_ref().unwrap().delta, 3);
    // A lenient page has the good items, the error, and a cursor past
    // both.
    let page = ledger::Reading::query("s1")
        .lenient()
        .limit(2)
        .send(&db)
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|r| r.delta).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(page.errors.len(), 1);
    let rest = ledger::Reading::query("s1")
        .lenient()
        .after(page.cursor.unwrap())
        .send(&db)
        .await
        .unwrap();
    assert_eq!(rest.items.iter().map(|r| r.delta).collect::<Vec<_>>(), [3]);
    assert!(rest.errors.is_empty());
    // A count reads no item, so it counts the bad row too.
    assert_eq!(q.count(&db).await.unwrap(), 4);
    // A scan, the same.
    let scanned: Vec<_> = ledger::Reading::scan().stream(&db).collect().await;
    assert_eq!(scanned.iter().filter(|r| r.is_err()).count(), 1);
    assert_eq!(scanned.len(), 4);
    let page = ledger::Reading::scan().lenient().send(&db).await.unwrap();
    assert_eq!((page.items.len(), page.errors.len()), (3, 1));
}

#[tokio::test]
async fn limit_zero_reads_nothing() {
    let db = ledger_db("limit_zero").await;
    let readings: Vec<_> = [1, 2, 3].iter().map(|d| reading(*d)).collect();
    ledger::Reading::batch_put(&readings)
        .send(&db)
        .await
        .unwrap();
    let page = ledger::Reading::query("s1")
        .limit(0)
        .send(&db)
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert!(page.cursor.is_none());
    let first = ledger::Reading::query("s1")
        .limit(1)
        .send(&db)
        .await
        .unwrap();
    let cursor = first.cursor.unwrap();
    let page = ledger::Reading::query("s1")
        .after(cursor.clone())
        .limit(0)
        .send(&db)
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.cursor, Some(cursor), "paging resumes where it was");
    assert!(
        ledger::Reading::query("s1")
            .limit(0)
            .all(&db)
            .await
            .unwrap()
            .is_empty()
    );
    let page = ledger::Reading::scan().limit(0).send(&db).await.unwrap();
    assert!(page.items.is_empty());
}

#[tokio::test]
async fn a_version_at_its_largest_value_is_never_wrapped() {
    let db = ledger_db("version_max").await;
    let mut a = account("a1", 1);
    a.put().send(&db).await.unwrap();
    // Another writer (or 4 billion writes) left the version at u32::MAX.
    let mut raw = a.encode().unwrap();
    raw.insert("version".into(), n(&u32::MAX.to_string()));
    raw_put(&db, raw).await;
    let err = ledger::Account::update(a.key())
        .set(|f| f.seats, 2)
        .send(&db)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation(v) if v.field == "version"),
        "{err}"
    );
    let read = stored(&db, "a1").await;
    assert_eq!(read.version, u32::MAX);
    a = read;
    let err = a.put().send(&db).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
    assert_eq!(stored(&db, "a1").await.version, u32::MAX);
}

mod legacy {
    pub use dynamo_tests::fixtures::legacy::legacy_users::*;
}

/// Writes an item of the legacy table as its own program does: no type
/// attribute, and attributes this schema does not model.
async fn legacy_put(db: &Db, id: &str, team: &str) {
    let item = [
        ("user_id", s(id)),
        ("joined", s("2024-01-01")),
        ("email", s(&format!("{id}@example.com"))),
        ("team", s(team)),
        ("team_pk", s(&format!("TEAM#{team}"))),
        ("team_sk", s(&format!("2024-01-01#{id}"))),
        ("signed_up", s("2024-02-01T09:30:00.250000+0000")),
        ("legacy_flags", n("7")),
    ];
    let item = item.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    raw_put_into(db, &legacy::TABLE, item).await;
}

#[tokio::test]
async fn a_table_without_a_type_attribute_is_read_and_written() {
    let db = local_db("legacy").await;
    assert!(legacy::TABLE.create(&db).await.unwrap());
    legacy_put(&db, "u1", "red").await;
    legacy_put(&db, "u2", "red").await;
    let key = legacy::UserKey {
        user_id: "u1".into(),
        joined: "2024-01-01".into(),
    };
    let user = legacy::User::get(key.clone())
        .send(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.email, "u1@example.com");
    assert_eq!(legacy::User::query("u1").all(&db).await.unwrap().len(), 1);
    assert_eq!(legacy::User::query("u1").count(&db).await.unwrap(), 1);
    let by_email = legacy::User::query_by_email("u2@example.com")
        .all(&db)
        .await
        .unwrap();
    assert_eq!(by_email.len(), 1);
    let team = legacy::User::query_by_team("red").all(&db).await.unwrap();
    assert_eq!(team.len(), 2);
    assert_eq!(legacy::User::scan().count(&db).await.unwrap(), 2);
    // An update and a put write no type attribute; with `keep_unmodeled =
    // false`, a put drops what the schema does not model.
    let updated = legacy::User::update(key.clone())
        .set(|f| f.name, "Ann")
        .send(&db)
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Ann"));
    updated.put().send(&db).await.unwrap();
    let raw = db
        .client()
        .get_item()
        .table_name(db.table_name(&legacy::TABLE))
        .set_key(Some(dynamo_runtime::Key::encode_key(&key).unwrap()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(!raw.contains_key("_type"));
    assert!(
        !raw.contains_key("legacy_flags"),
        "keep_unmodeled = false drops it"
    );
    assert_eq!(raw["name"], s("Ann"));
}

#[tokio::test]
async fn a_put_keeps_the_attributes_another_writer_stored() {
    let db = ledger_db("unmodeled").await;
    let a = account("a1", 1);
    a.put().send(&db).await.unwrap();
    let mut raw = a.encode().unwrap();
    raw.insert("version".into(), n("1"));
    raw.insert("crm_id".into(), s("CRM-7"));
    raw.insert(
        "audit".into(),
        AttributeValue::M([("by".to_owned(), s("ops"))].into()),
    );
    raw_put(&db, raw).await;

    let mut read = stored(&db, "a1").await;
    assert_eq!(read.unmodeled.attributes()["crm_id"], s("CRM-7"));
    assert!(
        !read.unmodeled.attributes().contains_key("pk"),
        "keys are the schema's"
    );
    assert!(!read.unmodeled.attributes().contains_key("tier_pk"));
    read.seats = 9;
    read.put().send(&db).await.unwrap();
    let again = stored(&db, "a1").await;
    assert_eq!(again.seats, 9);
    assert_eq!(again.unmodeled.attributes()["crm_id"], s("CRM-7"));
    assert_eq!(again.unmodeled.attributes().len(), 2);
}

#[tokio::test]
async fn an_item_stored_under_another_key_than_its_fields_is_an_error() {
    let db = ledger_db("key_mismatch").await;
    // Another writer's bug: item `a2`'s fields under `a1`'s key.
    let mut raw = account("a2", 1).encode().unwrap();
    raw.insert("pk".into(), s("ACCOUNT#a1"));
    raw.insert("version".into(), n("1"));
    raw_put(&db, raw).await;
    let err = ledger::Account::get(ledger::AccountKey { id: "a1".into() })
        .send(&db)
        .await
        .unwrap_err();
    match &err {
        Error::Decode(e) => {
            assert_eq!(e.attribute, "pk");
            assert!(
                matches!(
                    &e.kind,
                    dynamo_runtime::DecodeErrorKind::KeyMismatch { stored, rendered }
                        if stored == "ACCOUNT#a1" && rendered == "ACCOUNT#a2"
                ),
                "{err}"
            );
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn an_index_row_of_the_only_item_type_that_does_not_parse_is_an_error() {
    let db = ledger_db("unparsable").await;
    account("a1", 1).put().send(&db).await.unwrap();
    // Another writer stores a `region_sk` (`{opened}#{id}`) whose date
    // does not parse: the only item type of the index cannot read it.
    let mut raw = account("a2", 1).encode().unwrap();
    raw.insert("region_sk".into(), s("not-a-date#a2"));
    raw.insert("version".into(), n("1"));
    raw_put(&db, raw).await;
    let err = ledger::Account::query_by_region("eu")
        .all(&db)
        .await
        .unwrap_err();
    match &err {
        Error::Decode(e) => {
            assert_eq!(e.attribute, "region_sk");
            assert!(
                matches!(
                    &e.kind,
                    dynamo_runtime::DecodeErrorKind::UnparsableKey { value, .. } if value == "not-a-date#a2"
                ),
                "{err}"
            );
        }
        other => panic!("{other}"),
    }
    let rows: Vec<_> = ledger::Account::query_by_region("eu")
        .stream(&db)
        .collect()
        .await;
    assert_eq!(rows.len(), 2, "the good row and the bad row's error");
}

/// The Python with PynamoDB that `scripts/test` installs.
fn pynamodb(db: &Db, args: &[&str]) -> String {
    let python = std::env::var("DYNAMO_PYTHON").unwrap_or_else(|_| {
        panic!(
            "DYNAMO_PYTHON is not set: run `scripts/test`, which installs PynamoDB in a virtual \
             environment and sets it to that environment's python"
        )
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/pynamodb_users.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(std::env::var(dynamo_tests::ENDPOINT_ENV).unwrap())
        .arg(db.table_name(&legacy::TABLE))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pynamodb_users.py {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// PynamoDB and the generated code share a table: each reads what the
/// other writes, datetimes in PynamoDB's text format included.
#[tokio::test]
async fn pynamodb_and_generated_code_share_a_table() {
    let db = local_db("pynamodb").await;
    assert!(legacy::TABLE.create(&db).await.unwrap());
    pynamodb(&db, &["write", "p1"]);
    let key = legacy::UserKey {
        user_id: "p1".into(),
        joined: "2024-01-01".into(),
    };
    let user = legacy::User::get(key.clone())
        .send(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        user.signed_up,
        "2024-02-01T09:30:00.25Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(user.team, "blue");
    let team = legacy::User::query_by_team("blue").all(&db).await.unwrap();
    assert_eq!(team.len(), 1);
    // Written back by Rust with a later datetime and a name: PynamoDB
    // reads both.
    let mut user = legacy::User::get(key).send(&db).await.unwrap().unwrap();
    user.name = Some("Pat".into());
    user.signed_up = "2025-06-30T23:59:59.000001Z".parse().unwrap();
    user.put().send(&db).await.unwrap();
    let read: String = pynamodb(&db, &["read", "p1"]);
    assert_eq!(
        read.trim(),
        r#"{"name": "Pat", "signed_up": "2025-06-30T23:59:59.000001+00:00", "legacy_flags": null}"#,
        "keep_unmodeled = false: the put dropped legacy_flags"
    );
}

/// An item stored before fields with defaults were added reads as their
/// defaults, instead of failing to decode.
#[tokio::test]
async fn an_item_stored_before_defaulted_fields_existed_reads_their_defaults() {
    let db = ledger_db("defaults").await;
    let a = account("a1", 3);
    let mut raw = a.encode().unwrap();
    for added in ["tier", "credit", "level", "notes", "groups", "labels"] {
        raw.remove(added);
    }
    raw.insert("tier_pk".into(), s("eu#free"));
    raw.insert("version".into(), n("1"));
    raw_put(&db, raw).await;
    let read = stored(&db, "a1").await;
    assert_eq!(read.tier, ledger::AccountTier::Free);
    assert_eq!((read.credit, read.level), (0, 0));
    assert!(read.notes.is_empty() && read.groups.is_empty() && read.labels.is_empty());
    assert!(read.unmodeled.is_empty());
    // A required field without a default is still a decode error.
    let mut raw = account("a2", 3).encode().unwrap();
    raw.remove("seats");
    raw.insert("version".into(), n("1"));
    raw_put(&db, raw).await;
    let err = ledger::Account::get(ledger::AccountKey { id: "a2".into() })
        .send(&db)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode(e) if e.attribute == "seats"),
        "{err}"
    );
}
