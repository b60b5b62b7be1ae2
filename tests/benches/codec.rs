//! Encode and decode of a twelve-field item (`tests/fixtures/valid/benchmark`):
//! generated code against `serde_dynamo` and against hand-written
//! `AttributeValue` code producing the same attribute map (keys and type
//! attribute included). Results: BENCHMARKS.md.

#![allow(missing_docs, clippy::unwrap_used)]

use std::{collections::HashMap, hint::black_box};

use aws_sdk_dynamodb::types::AttributeValue;
use criterion::{Criterion, criterion_group, criterion_main};
use dynamo_runtime::Item;
use dynamo_tests::{
    bench::{
        account, hand_decode, hand_decode_shipment, hand_encode, hand_encode_shipment, shipment,
    },
    fixtures::benchmark::accounts::{Account, Shipment},
};

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

/// The shipment for serde_dynamo: uuid and datetime as ready-made text,
/// so serde_dynamo formats and parses neither (a conservative yardstick),
/// and labels as a list (serde_dynamo writes no sets).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct SerdeShipment {
    pk: String,
    sk: String,
    #[serde(rename = "_type")]
    item_type: String,
    id: String,
    created: String,
    status: String,
    labels: Vec<String>,
    parcels: Vec<SerdeParcel>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct SerdeParcel {
    sku: String,
    weight: f64,
    count: u32,
}

fn serde_shipment(x: &Shipment) -> SerdeShipment {
    let id = x.id.hyphenated().to_string();
    SerdeShipment {
        pk: format!("SHIPMENT#{id}"),
        sk: "SHIPMENT".into(),
        item_type: "Shipment".into(),
        id,
        created: format!("{:.9}", x.created),
        status: "shipped".into(),
        labels: x.labels.iter().cloned().collect(),
        parcels: x
            .parcels
            .iter()
            .map(|p| SerdeParcel {
                sku: p.sku.clone(),
                weight: p.weight,
                count: p.count,
            })
            .collect(),
        note: x.note.clone(),
    }
}

fn bench_shipment(c: &mut Criterion) {
    let x = shipment();
    let sx = serde_shipment(&x);
    let item = x.encode().unwrap();
    assert_eq!(hand_encode_shipment(&x), item);
    assert_eq!(hand_decode_shipment(item.clone()).unwrap(), x);
    assert_eq!(Shipment::decode(item.clone()).unwrap(), x);
    let serde_item: HashMap<String, AttributeValue> = serde_dynamo::to_item(&sx).unwrap();
    assert_eq!(serde_item.len(), item.len());

    let mut g = c.benchmark_group("encode_nested");
    g.bench_function("generated", |b| b.iter(|| black_box(&x).encode().unwrap()));
    g.bench_function("hand_written", |b| {
        b.iter(|| hand_encode_shipment(black_box(&x)))
    });
    g.bench_function("serde_dynamo", |b| {
        b.iter(|| {
            let m: HashMap<String, AttributeValue> = serde_dynamo::to_item(black_box(&sx)).unwrap();
            m
        })
    });
    g.finish();

    let mut g = c.benchmark_group("decode_nested");
    g.bench_function("generated", |b| {
        b.iter_batched(
            || item.clone(),
            |i| Shipment::decode(i).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("hand_written", |b| {
        b.iter_batched(
            || item.clone(),
            |i| hand_decode_shipment(i).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("serde_dynamo", |b| {
        b.iter_batched(
            || serde_item.clone(),
            |i| serde_dynamo::from_item::<_, SerdeShipment>(i).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
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

criterion_group!(benches, bench, bench_shipment);
criterion_main!(benches);
