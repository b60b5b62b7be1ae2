//! `pull TABLE --sample N` on tables with items: the shop (several item
//! types, written through generated code), the catalog (every field type)
//! and a single-entity table another program wrote without a type
//! attribute. Each pulled schema checks, is snapshotted, and is compiled
//! in a fresh crate outside the workspace whose program reads every
//! sampled item back through the generated types.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::HashMap;
use std::path::Path;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use dynamo_runtime::{Db, Item};
use dynamo_tests::{
    against_local, build_outside, customer, fixtures, local_db, repo_root as repo,
    shop::{NewOrder, NewProduct, Order, OrderStatus, Product},
    stdout_of as ok,
};

fn endpoint() -> String {
    std::env::var(dynamo_tests::ENDPOINT_ENV).unwrap()
}

/// `pull TABLE --sample 100 --out -`: the schema text, and what the CLI
/// said (warnings, or why the schema does not check).
fn pull(db: &Db, table: &str) -> (String, String) {
    let out = dynamo_tests::cli_at(env!("CARGO_BIN_EXE_cli"), db, &endpoint(), Path::new("."))
        .args(["pull", table, "--sample", "100", "--out", "-"])
        .output()
        .unwrap();
    let text = ok(&out, "pull --sample");
    (text, String::from_utf8_lossy(&out.stderr).into_owned())
}

async fn write_shop(db: &Db) -> usize {
    assert!(dynamo_tests::shop::TABLE.create(db).await.unwrap());
    let mut ann = customer("c1");
    ann.name = Some("Ann".into());
    ann.put().send(db).await.unwrap();
    customer("c2").put().send(db).await.unwrap();
    for (customer, day, id, status) in [
        ("c1", "2024-02-01", "o-1", OrderStatus::Placed),
        ("c1", "2024-02-14", "o-2", OrderStatus::Shipped),
        ("c2", "2024-03-09", "o-3", OrderStatus::Delivered),
    ] {
        let mut order = Order::new(NewOrder {
            customer_id: customer.into(),
            order_id: id.into(),
            placed_on: day.into(),
            total_cents: 1999,
            item_count: 2,
        });
        order.status = status;
        order.weight_kg = (id != "o-3").then_some(1.25);
        order.tags = ["gift".to_owned()]
            .into_iter()
            .take(usize::from(id == "o-2"))
            .collect();
        order.put().send(db).await.unwrap();
    }
    Product::new(NewProduct {
        sku: "lamp".into(),
        name: "Desk lamp".into(),
        price_cents: 2500,
        stock: 7,
    })
    .put()
    .send(db)
    .await
    .unwrap();
    6
}

async fn write_catalog(db: &Db) -> usize {
    let catalog = &fixtures::field_types::catalog::TABLE;
    assert!(catalog.create(db).await.unwrap());
    for (sku, released) in [("LAMP-1", 42), ("LAMP-2", 7), ("DESK-9", 100_000)] {
        let mut p = dynamo_tests::product();
        p.sku = sku.into();
        p.released = released;
        p.display_name = (released > 10).then(|| format!("{sku} display"));
        p.put().send(db).await.unwrap();
    }
    3
}

/// A table another program wrote: no type attribute, a plain key, a
/// datetime not in the runtime's form, a map, an optional attribute.
async fn write_users(db: &Db) -> usize {
    let name = db.physical_name("users");
    db.client()
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("user_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("user_id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let s = |t: &str| AttributeValue::S(t.into());
    let n = |t: &str| AttributeValue::N(t.into());
    for (id, age, nickname) in [
        ("u1", "42", Some("annie")),
        ("u2", "7", None),
        ("u3", "64", None),
    ] {
        let mut item = HashMap::from([
            ("user_id".to_owned(), s(id)),
            ("name".to_owned(), s(&format!("user {id}"))),
            ("age".to_owned(), n(age)),
            ("joined".to_owned(), s("2024-01-02T03:04:05Z")),
            ("active".to_owned(), AttributeValue::Bool(true)),
            (
                "emails".to_owned(),
                AttributeValue::Ss(vec![format!("{id}@example.com")]),
            ),
            (
                "address".to_owned(),
                AttributeValue::M(HashMap::from([
                    ("city".to_owned(), s("Berlin")),
                    ("zip".to_owned(), s("10115")),
                ])),
            ),
            ("first-login".to_owned(), s("2024-01-02")),
        ]);
        if let Some(nick) = nickname {
            item.insert("nickname".into(), s(nick));
        }
        db.client()
            .put_item()
            .table_name(&name)
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }
    3
}

#[tokio::test]
async fn pulled_schemas_compile_and_read_the_sampled_items_back() {
    let db = local_db("pull_sample").await;
    let counts = [
        ("shop", write_shop(&db).await),
        ("catalog", write_catalog(&db).await),
        ("users", write_users(&db).await),
    ];
    let crate_dir = tempfile::tempdir().unwrap();
    let dir = crate_dir.path();
    std::fs::create_dir_all(dir.join("schemas")).unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    for (table, _) in counts {
        let (text, said) = pull(&db, table);
        assert!(
            !said.contains("does not check"),
            "the pulled `{table}` schema checks:\n{said}\n{text}"
        );
        insta::assert_snapshot!(format!("pulled_{table}"), text);
        std::fs::write(dir.join("schemas").join(format!("{table}.toml")), &text).unwrap();
    }

    // A crate outside the workspace that reads every item of each table
    // through the types generated from the pulled schemas.
    let manifest = format!(
        r#"[package]
name = "pulled"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
dynamo-runtime = {{ path = {runtime:?} }}
tokio = {{ version = "1", features = ["macros", "rt-multi-thread"] }}

[build-dependencies]
dynamo-codegen = {{ path = {codegen:?}, default-features = false }}
"#,
        runtime = repo().join("dynamo-runtime"),
        codegen = repo().join("dynamo-codegen"),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(
        dir.join("build.rs"),
        "fn main() {\n    dynamo_codegen::Builder::new().schema_dir(\"schemas\").compile().unwrap_or_else(|e| panic!(\"{e:?}\"));\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "//! Pulled.\ndynamo_runtime::include_schema!();\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        r#"//! Reads every item of the pulled tables through the generated types.
use pulled::{catalog, shop, users};

#[tokio::main]
async fn main() -> Result<(), dynamo_runtime::Error> {
    let db = dynamo_runtime::Db::from_env().await?;
    let shop = shop::Customer::scan().all(&db).await?.len()
        + shop::Order::scan().all(&db).await?.len()
        + shop::Product::scan().all(&db).await?.len();
    let catalog = catalog::Product::scan().all(&db).await?;
    let users = users::User::scan().all(&db).await?;
    let nicknames = users.iter().filter(|u| u.nickname.is_some()).count();
    println!("shop {shop}");
    println!("catalog {}", catalog.len());
    println!("users {} ({nicknames} with a nickname)", users.len());
    Ok(())
}
"#,
    )
    .unwrap();
    let program = build_outside(dir, "pulled");
    let run = against_local(&program, db.namespace().unwrap())
        .output()
        .unwrap();
    let stdout = ok(&run, "reading the items back");
    assert_eq!(
        stdout,
        format!(
            "shop {}\ncatalog {}\nusers {} (1 with a nickname)\n",
            counts[0].1, counts[1].1, counts[2].1
        )
    );
}

/// What the inference decides for the shop, checked line by line (the
/// snapshots pin the rest).
#[tokio::test]
async fn the_shop_pulls_with_its_item_types_and_key_templates() {
    let db = local_db("pull_shop").await;
    write_shop(&db).await;
    let (text, _) = pull(&db, "shop");
    for line in [
        "[item.Customer.keys]",
        "pk = \"CUSTOMER#{id}\"",
        "sk = \"PROFILE\"",
        "gsi1pk = \"EMAIL#{email}\"",
        "sk = \"ORDER#{placed_on}#{order_id}\"",
        "gsi2pk = \"STATUS#{status}\"",
        "gsi2sk = \"{placed_on}#{order_id}\"",
        "placed_on = \"date\"",
        "tags = { type = \"set<string>\", default = [] }",
        "weight_kg = { type = \"f64\", optional = true }",
        "sk = \"PRODUCT\"",
    ] {
        assert!(text.lines().any(|l| l == line), "`{line}` in:\n{text}");
    }
    // The product's version is a plain number; the type attribute is the
    // default, so `[table]` does not name it.
    assert!(!text.contains("type_attribute"), "{text}");
    let _ = Product::TYPE_NAME;
}
