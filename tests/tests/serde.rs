//! Generated types with serde on (`serde = true` in the field_types
//! fixture's table): every field type goes to JSON in the shape a JSON
//! reader expects and comes back as the same value.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;

use dynamo_runtime::{Bytes, Date, Json, Number, Timestamp, Uuid};
use dynamo_tests::fixtures::field_types::catalog;
use proptest::prelude::*;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// A product with every field set, none left to its default's randomness
/// (`created` and `id` are fixed), so its JSON is a stable snapshot.
fn product() -> catalog::Product {
    let mut p = dynamo_tests::product();
    p.version_tag = catalog::ProductVersionTag::InReview;
    p.created = at("2024-03-01T10:00:00Z");
    p.id = "0b5c3f2e-8a61-4f4b-9d7e-2f1c9a3e4b5d".parse().unwrap();
    p.seen_ms = Some(at("2024-02-03T04:05:06.789Z"));
    p.sizes = Some(BTreeSet::from([3, 1]));
    p.display_name = Some("Desk lamp".into());
    p.price = "12345678901234567890.123456789".parse().unwrap();
    p
}

#[test]
fn an_item_goes_to_json_in_the_shapes_a_reader_expects() {
    let p = product();
    let json = serde_json::to_value(&p).unwrap();
    // Schema field names (not Rust's), enums as their stored text,
    // datetimes RFC 3339, dates ISO 8601, exact numbers as text, bytes
    // base64, sets as arrays, no `unmodeled`.
    assert_eq!(json["displayName"], "Desk lamp");
    assert!(json.get("display_name").is_none());
    assert_eq!(json["version_tag"], "in-review");
    assert_eq!(json["created"], "2024-03-01T10:00:00Z");
    assert_eq!(json["seen_ms"], "2024-02-03T04:05:06.789Z");
    assert_eq!(json["on_sale_from"], "2024-12-01");
    assert_eq!(json["price"], "12345678901234567890.123456789");
    assert_eq!(json["large"], -9_000_000_000i64);
    assert_eq!(json["thumbnail"], "iVBORw==");
    assert_eq!(json["checksums"], serde_json::json!(["AQI=", "/w=="]));
    assert_eq!(json["sizes"], serde_json::json!([1, 3]));
    assert_eq!(json["dimensions"]["unit"], "cm");
    assert_eq!(json["attributes"]["nested"]["ok"], true);
    assert!(json.get("unmodeled").is_none());
    insta::assert_snapshot!("product_json", serde_json::to_string_pretty(&json).unwrap());
    let back: catalog::Product = serde_json::from_value(json).unwrap();
    assert_eq!(back, p);
}

#[test]
fn a_shop_order_as_json() {
    use dynamo_tests::shop::{NewOrder, Order, OrderStatus};
    let mut order = Order::new(NewOrder {
        customer_id: "c-100".into(),
        order_id: "o-7".into(),
        placed_on: "2024-02-14".into(),
        total_cents: 4250,
        item_count: 3,
    });
    order.weight_kg = Some(1.2);
    order.status = OrderStatus::Shipped;
    order.tags = BTreeSet::from(["gift".to_owned()]);
    let json = serde_json::to_string_pretty(&order).unwrap();
    insta::assert_snapshot!("shop_order_json", json);
    assert_eq!(serde_json::from_str::<Order>(&json).unwrap(), order);
}

#[test]
fn keys_enums_and_nested_types_round_trip() {
    let key = product().key();
    let json = serde_json::to_string(&key).unwrap();
    assert_eq!(
        serde_json::from_str::<catalog::ProductKey>(&json).unwrap(),
        key
    );
    let tag: catalog::ProductVersionTag = serde_json::from_str("\"in-review\"").unwrap();
    assert_eq!(tag, catalog::ProductVersionTag::InReview);
    let err = serde_json::from_str::<catalog::ProductVersionTag>("\"InReview\"").unwrap_err();
    assert!(err.to_string().contains("in-review"), "{err}");
    let d: catalog::Dimensions =
        serde_json::from_str(r#"{"width": 1, "height": 2, "depth": null, "unit": "in"}"#).unwrap();
    assert_eq!(d.unit, catalog::DimensionsUnit::In);
    // A number may also arrive as a JSON number; it is read exactly.
    let n: Number = serde_json::from_str("19.5").unwrap();
    assert_eq!(n, "19.5".parse().unwrap());
    assert!(serde_json::from_str::<Bytes>("\"not base64!\"").is_err());
}

/// With `json_schema = true` (the field_types fixture), an item type's
/// JSON Schema describes exactly the JSON serde writes for it.
#[test]
fn an_item_type_exports_the_json_schema_of_its_json() {
    let schema = serde_json::to_value(schemars::schema_for!(catalog::Product)).unwrap();
    let json = serde_json::to_value(product()).unwrap();
    let properties = schema["properties"].as_object().unwrap();
    let written: BTreeSet<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let described: BTreeSet<&str> = properties.keys().map(String::as_str).collect();
    assert_eq!(
        written, described,
        "the schema names every JSON key, and only those"
    );
    for required in schema["required"].as_array().unwrap() {
        assert!(written.contains(required.as_str().unwrap()), "{required}");
    }
    // Optional fields are not required; the shapes are the serde JSON's.
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert!(!required.contains(&"displayName") && required.contains(&"sku"));
    assert_eq!(properties["created"]["format"], "date-time");
    assert_eq!(properties["on_sale_from"]["format"], "date");
    assert_eq!(properties["id"]["format"], "uuid");
    // `validate` rules are in the schema too.
    assert_eq!(
        (
            &properties["sku"]["minLength"],
            &properties["sku"]["maxLength"],
            &properties["sku"]["pattern"]
        ),
        (
            &serde_json::json!(3),
            &serde_json::json!(32),
            &serde_json::json!("^[A-Z0-9-]+$")
        )
    );
    assert_eq!(properties["medium"]["minimum"], -10);
    assert_eq!(properties["medium"]["maximum"], 10);
    assert_eq!(properties["tags"]["maxItems"], 10);
    let def = |name: &str| {
        let reference = properties[name]["$ref"].as_str().unwrap_or_default();
        schema["$defs"][reference.trim_start_matches("#/$defs/")].clone()
    };
    assert_eq!(def("thumbnail")["contentEncoding"], "base64");
    assert_eq!(def("price")["type"], "string");
    // An enum: one documented constant per stored text.
    let tag = def("version_tag");
    let values: Vec<&str> = tag["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["const"].as_str())
        .collect();
    assert_eq!(values, ["draft", "live", "in-review"]);
    insta::assert_snapshot!(
        "product_json_schema",
        serde_json::to_string_pretty(&schema).unwrap()
    );
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (-62_167_219_200_000_000_000i128..253_402_300_800_000_000_000)
        .prop_map(|ns| Timestamp::from_nanosecond(ns).unwrap())
}

fn number() -> impl Strategy<Value = Number> {
    // Up to 38 significant digits, signed, with a decimal point anywhere.
    ("-?[1-9][0-9]{0,19}", "[0-9]{0,18}").prop_map(|(int, frac)| {
        let text = if frac.is_empty() {
            int
        } else {
            format!("{int}.{frac}")
        };
        text.parse().unwrap()
    })
}

proptest! {
    /// Whatever values the fields hold (finite floats: JSON has no NaN),
    /// the item reads back from its JSON as the same value.
    #[test]
    fn every_field_type_round_trips_through_json(
        (tiny, small, medium, large) in (any::<i8>(), any::<Option<i16>>(), any::<i32>(), any::<i64>()),
        (byte, short, released, count) in (any::<u8>(), any::<u16>(), any::<u32>(), any::<u64>()),
        (ratio, weight) in (any::<f32>().prop_filter("finite", |f| f.is_finite()), -1e300f64..1e300),
        price in number(),
        (thumbnail, checksums) in (any::<Vec<u8>>(), proptest::collection::btree_set(any::<Vec<u8>>(), 0..4)),
        (created, launched, history) in (timestamp(), proptest::option::of(timestamp()), proptest::collection::vec(timestamp(), 0..3)),
        (day, id) in ((0i16..=9999, 1i8..=12, 1i8..=28), any::<u128>()),
        (sku, display_name, labels) in ("\\PC{0,12}", proptest::option::of("\\PC{0,12}"), proptest::collection::btree_map("\\PC{0,6}", "\\PC{0,6}", 0..3)),
        tags in proptest::collection::btree_set("\\PC{0,6}", 0..4),
        matrix in proptest::collection::vec(proptest::collection::vec(any::<i32>(), 0..3), 0..3),
        json in proptest::collection::btree_map("[a-z]{1,5}", any::<i64>(), 0..3),
    ) {
        let mut p = product();
        (p.tiny, p.small, p.medium, p.large) = (tiny, small, medium, large);
        (p.byte, p.short, p.released, p.count) = (byte, short, released, count);
        (p.ratio, p.weight, p.price) = (ratio, weight, price);
        p.thumbnail = Bytes::from(thumbnail);
        p.checksums = checksums.into_iter().map(Bytes::from).collect();
        (p.created, p.launched, p.history) = (created, launched, history);
        p.on_sale_from = Date::new(day.0, day.1, day.2).unwrap();
        p.id = Uuid::from_u128(id);
        (p.sku, p.display_name, p.labels, p.tags, p.matrix) = (sku, display_name, labels, tags, matrix);
        p.attributes = Json::from(serde_json::Map::from_iter(
            json.into_iter().map(|(k, v)| (k, Json::from(v))),
        ));
        let text = serde_json::to_string(&p).unwrap();
        let back: catalog::Product = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back, p);
    }
}
