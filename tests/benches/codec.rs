//! Encode and decode of a twelve-field item (`tests/fixtures/valid/benchmark`):
//! generated code against `serde_dynamo` and against hand-written
//! `AttributeValue` code producing the same attribute map (keys and type
//! attribute included). Results: BENCHMARKS.md.

#![allow(missing_docs, clippy::unwrap_used)]

use std::{collections::HashMap, hint::black_box};

use aws_sdk_dynamodb::types::AttributeValue;
use criterion::{Criterion, criterion_group, criterion_main};
use dynamo_runtime::Item;
use dynamo_tests::fixtures::benchmark::accounts::Account;

/// The same item for serde_dynamo.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct SerdeAccount {
    pk: String,
    sk: String,
    #[serde(rename = "_type")]
    item_type: String,
    id: String,
    name: String,
    email: String,
    age: u32,
    balance: i64,
    score: f64,
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    nickname: Option<String>,
    logins: u64,
    tags: Vec<String>,
    city: String,
    zip: u16,
}

fn account() -> Account {
    Account {
        id: "a-1029384756".into(),
        name: "Ann Example".into(),
        email: "ann@example.com".into(),
        age: 41,
        balance: -123_456_789,
        score: 0.875,
        active: true,
        nickname: Some("annie".into()),
        logins: 98_765,
        tags: vec!["vip".into(), "beta".into(), "newsletter".into()],
        city: "Berlin".into(),
        zip: 10115,
        unmodeled: Default::default(),
    }
}

fn serde_account(a: &Account) -> SerdeAccount {
    SerdeAccount {
        pk: format!("ACCOUNT#{}", a.id),
        sk: "PROFILE".into(),
        item_type: "Account".into(),
        id: a.id.clone(),
        name: a.name.clone(),
        email: a.email.clone(),
        age: a.age,
        balance: a.balance,
        score: a.score,
        active: a.active,
        nickname: a.nickname.clone(),
        logins: a.logins,
        tags: a.tags.clone(),
        city: a.city.clone(),
        zip: a.zip,
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn hand_encode(a: &Account) -> HashMap<String, AttributeValue> {
    let mut m = HashMap::with_capacity(15);
    m.insert(
        "pk".to_owned(),
        AttributeValue::S(format!("ACCOUNT#{}", a.id)),
    );
    m.insert("sk".to_owned(), s("PROFILE"));
    m.insert("_type".to_owned(), s("Account"));
    m.insert("id".to_owned(), s(&a.id));
    m.insert("name".to_owned(), s(&a.name));
    m.insert("email".to_owned(), s(&a.email));
    m.insert("age".to_owned(), n(a.age));
    m.insert("balance".to_owned(), n(a.balance));
    m.insert("score".to_owned(), n(a.score));
    m.insert("active".to_owned(), AttributeValue::Bool(a.active));
    if let Some(nick) = &a.nickname {
        m.insert("nickname".to_owned(), s(nick));
    }
    m.insert("logins".to_owned(), n(a.logins));
    m.insert(
        "tags".to_owned(),
        AttributeValue::L(a.tags.iter().map(|t| s(t)).collect()),
    );
    m.insert("city".to_owned(), s(&a.city));
    m.insert("zip".to_owned(), n(a.zip));
    m
}

fn take_s(m: &mut HashMap<String, AttributeValue>, k: &str) -> Option<String> {
    match m.remove(k)? {
        AttributeValue::S(s) => Some(s),
        _ => None,
    }
}

fn take_n<T: std::str::FromStr>(m: &mut HashMap<String, AttributeValue>, k: &str) -> Option<T> {
    match m.remove(k)? {
        AttributeValue::N(n) => n.parse().ok(),
        _ => None,
    }
}

fn hand_decode(mut m: HashMap<String, AttributeValue>) -> Option<Account> {
    if take_s(&mut m, "_type")? != "Account" {
        return None;
    }
    Some(Account {
        id: take_s(&mut m, "id")?,
        name: take_s(&mut m, "name")?,
        email: take_s(&mut m, "email")?,
        age: take_n(&mut m, "age")?,
        balance: take_n(&mut m, "balance")?,
        score: take_n(&mut m, "score")?,
        active: match m.remove("active")? {
            AttributeValue::Bool(b) => b,
            _ => return None,
        },
        nickname: take_s(&mut m, "nickname"),
        logins: take_n(&mut m, "logins")?,
        tags: match m.remove("tags")? {
            AttributeValue::L(items) => items
                .into_iter()
                .map(|v| match v {
                    AttributeValue::S(s) => Some(s),
                    _ => None,
                })
                .collect::<Option<_>>()?,
            _ => return None,
        },
        city: take_s(&mut m, "city")?,
        zip: take_n(&mut m, "zip")?,
        unmodeled: Default::default(),
    })
}

fn bench(c: &mut Criterion) {
    let a = account();
    let sa = serde_account(&a);
    let item = a.encode().unwrap();
    // All three build the same attribute map.
    assert_eq!(hand_encode(&a), item);
    let serde_item: HashMap<String, AttributeValue> = serde_dynamo::to_item(&sa).unwrap();
    assert_eq!(serde_item, item);
    assert_eq!(hand_decode(item.clone()).unwrap(), a);
    assert_eq!(Account::decode(item.clone()).unwrap(), a);

    let mut g = c.benchmark_group("encode");
    g.bench_function("generated", |b| b.iter(|| black_box(&a).encode().unwrap()));
    g.bench_function("hand_written", |b| b.iter(|| hand_encode(black_box(&a))));
    g.bench_function("serde_dynamo", |b| {
        b.iter(|| {
            let m: HashMap<String, AttributeValue> = serde_dynamo::to_item(black_box(&sa)).unwrap();
            m
        })
    });
    g.finish();

    let mut g = c.benchmark_group("decode");
    g.bench_function("generated", |b| {
        b.iter_batched(
            || item.clone(),
            |i| Account::decode(i).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("hand_written", |b| {
        b.iter_batched(
            || item.clone(),
            |i| hand_decode(i).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("serde_dynamo", |b| {
        b.iter_batched(
            || item.clone(),
            |i| serde_dynamo::from_item::<_, SerdeAccount>(i).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
