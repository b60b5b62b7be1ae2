//! What the benchmarks share (`tests/benches`): the benchmark items, and
//! hand-written `AttributeValue` code for them, the yardstick generated
//! code is measured against. It builds the same attribute maps as the
//! generated code (keys and type attribute included).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::fixtures::benchmark::accounts::{Account, Event};

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
