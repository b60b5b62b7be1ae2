//! What the benchmarks share (`tests/benches`): the benchmark items, and
//! hand-written `AttributeValue` code for them, the yardstick generated
//! code is measured against. It builds the same attribute maps as the
//! generated code (keys and type attribute included).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::fixtures::benchmark::accounts::{Account, Event, Parcel, Shipment, ShipmentStatus};

/// An item map.
pub type Map = HashMap<String, AttributeValue>;

/// The benchmark account (twelve fields).
pub fn account() -> Account {
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

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// An `Account` as a hand-written item map.
pub fn hand_encode(a: &Account) -> Map {
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

fn take_s(m: &mut Map, k: &str) -> Option<String> {
    match m.remove(k)? {
        AttributeValue::S(s) => Some(s),
        _ => None,
    }
}

fn take_n<T: std::str::FromStr>(m: &mut Map, k: &str) -> Option<T> {
    match m.remove(k)? {
        AttributeValue::N(n) => n.parse().ok(),
        _ => None,
    }
}

/// An `Account` from a hand-written item map.
/// An `Account` from a hand-written item map.
pub fn hand_decode(mut m: Map) -> Option<Account> {
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

/// Event `n` of `account`.
pub fn event(account: &str, n: u32) -> Event {
    Event {
        account: account.to_owned(),
        at: format!("2026-11-30T10:{:02}:{:02}.{n:06}Z", n / 60 % 60, n % 60),
        kind: "deposit".to_owned(),
        amount: i64::from(n) * 100 - 5_000,
        note: "monthly transfer from savings".to_owned(),
        unmodeled: Default::default(),
    }
}

/// An `Event` as a hand-written item map.
pub fn hand_encode_event(e: &Event) -> Map {
    let mut m = HashMap::with_capacity(8);
    m.insert(
        "pk".to_owned(),
        AttributeValue::S(format!("ACCOUNT#{}", e.account)),
    );
    m.insert(
        "sk".to_owned(),
        AttributeValue::S(format!("EVENT#{}", e.at)),
    );
    m.insert("_type".to_owned(), s("Event"));
    m.insert("account".to_owned(), s(&e.account));
    m.insert("at".to_owned(), s(&e.at));
    m.insert("kind".to_owned(), s(&e.kind));
    m.insert("amount".to_owned(), n(e.amount));
    m.insert("note".to_owned(), s(&e.note));
    m
}

/// An `Event` from a hand-written item map.
pub fn hand_decode_event(mut m: Map) -> Option<Event> {
    if take_s(&mut m, "_type")? != "Event" {
        return None;
    }
    Some(Event {
        account: take_s(&mut m, "account")?,
        at: take_s(&mut m, "at")?,
        kind: take_s(&mut m, "kind")?,
        amount: take_n(&mut m, "amount")?,
        note: take_s(&mut m, "note")?,
        unmodeled: Default::default(),
    })
}

/// The benchmark shipment: uuid, datetime, enum, set and a list of three
/// nested parcels.
pub fn shipment() -> Shipment {
    Shipment {
        id: "67e55044-10b1-426f-9247-bb680e5fe0c8"
            .parse()
            .expect("a uuid"),
        created: "2026-11-30T10:15:30.123456789Z"
            .parse()
            .expect("a timestamp"),
        status: ShipmentStatus::Shipped,
        labels: ["fragile", "express", "gift"].map(str::to_owned).into(),
        parcels: (1..=3)
            .map(|i| Parcel {
                sku: format!("SKU-{i:04}"),
                weight: 1.25 * f64::from(i),
                count: i * 2,
            })
            .collect(),
        note: Some("leave at the door".to_owned()),
        unmodeled: Default::default(),
    }
}

fn status_text(status: &ShipmentStatus) -> &'static str {
    match status {
        ShipmentStatus::Pending => "pending",
        ShipmentStatus::Shipped => "shipped",
        ShipmentStatus::Delivered => "delivered",
    }
}

/// A `Shipment` as a hand-written item map.
pub fn hand_encode_shipment(x: &Shipment) -> Map {
    let id = x.id.hyphenated().to_string();
    let mut m = HashMap::with_capacity(9);
    m.insert("pk".to_owned(), AttributeValue::S(format!("SHIPMENT#{id}")));
    m.insert("sk".to_owned(), s("SHIPMENT"));
    m.insert("_type".to_owned(), s("Shipment"));
    m.insert("id".to_owned(), AttributeValue::S(id));
    m.insert(
        "created".to_owned(),
        AttributeValue::S(format!("{:.9}", x.created)),
    );
    m.insert("status".to_owned(), s(status_text(&x.status)));
    if !x.labels.is_empty() {
        m.insert(
            "labels".to_owned(),
            AttributeValue::Ss(x.labels.iter().cloned().collect()),
        );
    }
    m.insert(
        "parcels".to_owned(),
        AttributeValue::L(
            x.parcels
                .iter()
                .map(|p| {
                    AttributeValue::M(HashMap::from([
                        ("sku".to_owned(), s(&p.sku)),
                        ("weight".to_owned(), n(p.weight)),
                        ("count".to_owned(), n(p.count)),
                    ]))
                })
                .collect(),
        ),
    );
    if let Some(note) = &x.note {
        m.insert("note".to_owned(), s(note));
    }
    m
}

/// A `Shipment` from a hand-written item map.
pub fn hand_decode_shipment(mut m: Map) -> Option<Shipment> {
    if take_s(&mut m, "_type")? != "Shipment" {
        return None;
    }
    let parcels = match m.remove("parcels")? {
        AttributeValue::L(items) => items
            .into_iter()
            .map(|v| match v {
                AttributeValue::M(mut p) => Some(Parcel {
                    sku: take_s(&mut p, "sku")?,
                    weight: take_n(&mut p, "weight")?,
                    count: take_n(&mut p, "count")?,
                }),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?,
        _ => return None,
    };
    Some(Shipment {
        id: take_s(&mut m, "id")?.parse().ok()?,
        created: take_s(&mut m, "created")?.parse().ok()?,
        status: match take_s(&mut m, "status")?.as_str() {
            "pending" => ShipmentStatus::Pending,
            "shipped" => ShipmentStatus::Shipped,
            "delivered" => ShipmentStatus::Delivered,
            _ => return None,
        },
        labels: match m.remove("labels") {
            Some(AttributeValue::Ss(labels)) => labels.into_iter().collect(),
            None => Default::default(),
            _ => return None,
        },
        parcels,
        note: take_s(&mut m, "note"),
        unmodeled: Default::default(),
    })
}
