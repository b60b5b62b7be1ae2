//! A seeded generator of random schema folders, covering every feature of
//! the schema language, with names drawn from a pool made to meet each
//! other and Rust: keywords (raw or not), DynamoDB reserved words,
//! camelCase, trailing and leading underscores, digits, names generated
//! methods take for their own parameters, and names that concatenate into
//! each other (item `Order` with index `by_status` next to item
//! `OrderByStatus`).
//!
//! Most schemas it writes are valid; some are not (two names that meet,
//! two keys that may collide): those must be rejected with a diagnostic.
//! The build script generates code for every seed and this crate compiles
//! all of it under `#![deny(warnings)]` and clippy.
//!
//! Plain Rust, no dependencies: the build script includes this file.

use std::fmt::Write as _;

/// A deterministic pseudo-random sequence (SplitMix64): the same seed
/// gives the same schema on every platform.
pub struct Rng(u64);

impl Rng {
    /// The sequence of `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

/// Field names: plain ones first, then the ones made to meet something.
const FIELD_NAMES: &[&str] = &[
    "id",
    "name",
    "email",
    "total",
    "count",
    "note",
    "title",
    "amount",
    "created",
    "label",
    "userId",
    "orderId",
    "createdAt",
    "displayName",
    "XMLHttp",
    "v2",
    "a1b2",
    "id_",
    "total_",
    "_hidden",
    "self_",
    "type",
    "fn",
    "match",
    "self",
    "super",
    "crate",
    "Self",
    "async",
    "await",
    "dyn",
    "gen",
    "try",
    "yield",
    "box",
    "ref",
    "move",
    "loop",
    "impl",
    "where",
    "static",
    "union",
    "status",
    "date",
    "data",
    "key",
    "value",
    "comment",
    "size",
    "table",
    "index",
    "set",
    "get",
    "query",
    "new",
    "update",
    "put",
    "delete",
    "scan",
    "keys",
    "item",
    "raw",
    "init",
    "by",
    "items",
    "low",
    "high",
    "prefix",
    "db",
    "from_row",
    "to",
    "is",
    "as",
    "from",
    "into",
    "user_id",
    "order_id",
    "a",
    "b",
    "c",
    "b_c",
    "placed_on",
    "seq",
];

/// Item and nested type names.
const TYPE_NAMES: &[&str] = &[
    "Order",
    "Customer",
    "Product",
    "Line",
    "Account",
    "Event",
    "Session",
    "Note",
    "OrderBy",
    "OrderByStatus",
    "OrderGsi1",
    "A",
    "Ab",
    "AbCde",
    "Self",
    "API",
    "ID",
    "V2",
    "Item",
    "Key",
    "Query",
    "Update",
    "Fields",
    "Table",
    "Type",
    "Dyn",
    "Token",
    "OrderKey",
    "NewOrder",
    "Any",
    "AnyItem",
];

/// Index names (valid DynamoDB names, some meeting others once made Rust).
const INDEX_NAMES: &[&str] = &[
    "gsi1",
    "gsi2",
    "by_status",
    "by-status",
    "byStatus",
    "status",
    "cde_f",
    "f__",
    "type",
    "self",
    "v2.index",
    "by_email",
    "lines",
    "recent",
    "GSI1",
    "idx",
    "key",
    "___",
];

/// Enum values.
const ENUM_VALUES: &[&str] = &[
    "placed",
    "shipped",
    "in-progress",
    "in_progress",
    "free",
    "pro",
    "A",
    "b",
    "x y",
    "v2",
    "self",
    "Self",
    "type",
    "None",
    "Some",
    "as_str",
    "done",
];

/// Table names.
const TABLE_NAMES: &[&str] = &[
    "shop",
    "orders-prod",
    "events.v1",
    "catalog",
    "self",
    "type",
    "main_table",
    "t2024",
    "migrations-table",
];

/// A field type, as the generator knows it.
#[derive(Clone, Debug, PartialEq)]
enum Ty {
    String,
    Bool,
    Int(&'static str),
    Float(&'static str),
    Number,
    Bytes,
    DateTime(&'static str),
    Date,
    Uuid,
    Json,
    Enum(Vec<&'static str>),
    Set(Box<Ty>),
    List(Box<Ty>),
    Map(Box<Ty>),
    Nested(String),
    Union(String),
    Custom,
}

impl Ty {
    /// The type text and the options it needs.
    fn toml(&self) -> (String, String) {
        match self {
            Ty::String => ("string".into(), String::new()),
            Ty::Bool => ("bool".into(), String::new()),
            Ty::Int(t) | Ty::Float(t) => ((*t).into(), String::new()),
            Ty::Number => ("number".into(), String::new()),
            Ty::Bytes => ("bytes".into(), String::new()),
            Ty::DateTime(format) => (
                "datetime".into(),
                if format.is_empty() {
                    String::new()
                } else {
                    format!(", format = \"{format}\"")
                },
            ),
            Ty::Date => ("date".into(), String::new()),
            Ty::Uuid => ("uuid".into(), String::new()),
            Ty::Json => ("json".into(), String::new()),
            Ty::Enum(values) => (
                "enum".into(),
                format!(
                    ", values = [{}]",
                    values
                        .iter()
                        .map(|v| format!("\"{v}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            Ty::Set(t) => (format!("set<{}>", t.toml().0), t.toml().1),
            Ty::List(t) => (format!("list<{}>", t.toml().0), t.toml().1),
            Ty::Map(t) => (format!("map<{}>", t.toml().0), t.toml().1),
            Ty::Nested(name) | Ty::Union(name) => (name.clone(), String::new()),
            Ty::Custom => (
                "custom".into(),
                ", rust = \"crate::custom::Money\", stored = \"S\"".into(),
            ),
        }
    }

    /// A default value, as TOML.
    fn default(&self, rng: &mut Rng) -> Option<String> {
        Some(match self {
            Ty::String if rng.chance(30) => "\"ulid\"".into(),
            Ty::String => "\"x\"".into(),
            Ty::Bool => "true".into(),
            Ty::Int(t) if t.starts_with('u') => rng.below(100).to_string(),
            Ty::Int(_) => format!("-{}", rng.below(100)),
            Ty::Float(_) => "0.5".into(),
            Ty::Number => "\"12.50\"".into(),
            Ty::Bytes => "[1, 2, 255]".into(),
            Ty::DateTime(_) if rng.chance(50) => "\"now\"".into(),
            Ty::DateTime(_) => "2024-05-01T09:30:00Z".into(),
            Ty::Date => "2024-12-01".into(),
            Ty::Uuid if rng.chance(30) => "\"new\"".into(),
            Ty::Uuid if rng.chance(40) => "\"v7\"".into(),
            Ty::Uuid => "\"67e55044-10b1-426f-9247-bb680e5fe0c8\"".into(),
            Ty::Json => "{ a = [1, 2], b = { ok = true } }".into(),
            Ty::Enum(values) => format!("\"{}\"", values[0]),
            Ty::Set(_) | Ty::List(_) => "[]".into(),
            Ty::Map(_) => "{}".into(),
            Ty::Nested(_) | Ty::Union(_) | Ty::Custom => return None,
        })
    }

    /// `validate = {...}` rules that apply.
    fn rules(&self, rng: &mut Rng) -> Option<&'static str> {
        match self {
            Ty::Int(t) if t.starts_with('u') => Some("{ min = 0, max = 99999 }"),
            Ty::Int(_) => Some("{ min = -10, max = 10 }"),
            Ty::Float(_) => Some("{ min = 0.0, max = 10.5 }"),
            Ty::String if rng.chance(50) => Some("{ pattern = '^[a-z0-9]+$' }"),
            Ty::String | Ty::Bytes | Ty::List(_) | Ty::Set(_) | Ty::Map(_) => {
                Some("{ min_len = 0, max_len = 64 }")
            }
            _ => None,
        }
    }
}

/// A field being written.
struct Field {
    name: String,
    ty: Ty,
    optional: bool,
}

fn scalar(rng: &mut Rng, nested: &[String], depth: usize) -> Ty {
    match rng.below(17) {
        0..=2 => Ty::String,
        3 => Ty::Bool,
        4 => Ty::Int(rng.pick(&["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"])),
        5 => Ty::Float(rng.pick(&["f32", "f64"])),
        6 => Ty::Number,
        7 => Ty::Bytes,
        8 => Ty::DateTime(rng.pick(&["", "rfc3339", "epoch_seconds", "epoch_millis"])),
        9 => Ty::Date,
        10 => Ty::Uuid,
        11 => Ty::Json,
        12 if depth == 0 => {
            let n = 1 + rng.below(3);
            let mut values: Vec<&'static str> = Vec::new();
            while values.len() < n {
                let v = rng.pick(ENUM_VALUES);
                if !values.contains(&v) {
                    values.push(v);
                }
            }
            Ty::Enum(values)
        }
        13 if depth < 2 => Ty::Set(Box::new(rng.pick(&[
            Ty::String,
            Ty::Int("u32"),
            Ty::Number,
            Ty::Bytes,
        ]))),
        14 if depth < 2 => Ty::List(Box::new(scalar(rng, nested, depth + 1))),
        15 if depth < 2 => Ty::Map(Box::new(scalar(rng, nested, depth + 1))),
        16 if !nested.is_empty() => Ty::Nested(rng.pick(nested)),
        _ if depth == 0 && rng.chance(30) => Ty::Custom,
        _ => Ty::Int("u32"),
    }
}

/// The TOML of a field.
fn field_toml(rng: &mut Rng, f: &Field) -> String {
    let (ty, options) = f.ty.toml();
    let mut out = format!("{{ type = \"{ty}\"{options}");
    if f.optional {
        out.push_str(", optional = true");
    }
    if rng.chance(25)
        && let Some(d) = f.ty.default(rng)
    {
        let _ = write!(out, ", default = {d}");
    }
    if rng.chance(20)
        && let Some(rules) = f.ty.rules(rng)
    {
        let _ = write!(out, ", validate = {rules}");
    }
    if rng.chance(10) {
        out.push_str(", doc = \"A field.\"");
    }
    out.push_str(" }");
    out
}

/// A quoted TOML key.
fn key(name: &str) -> String {
    format!("\"{name}\"")
}

/// A key attribute of the table or an index.
#[derive(Clone)]
struct KeyAttr {
    name: String,
    /// `S`, `N` or `B`.
    ty: &'static str,
}

impl Index {
    fn multi(&self) -> bool {
        !self.more_pk.is_empty() || !self.more_sk.is_empty()
    }

    /// `partition_key = ...` and `sort_key = ...` lines (lists for a
    /// multi-attribute key).
    fn key_lines(&self) -> String {
        let list = |first: &KeyAttr, more: &[KeyAttr]| {
            if more.is_empty() {
                first.toml()
            } else {
                let all: Vec<String> = std::iter::once(first)
                    .chain(more)
                    .map(KeyAttr::toml)
                    .collect();
                format!("[{}]", all.join(", "))
            }
        };
        let mut out = String::new();
        if !self.local {
            out.push_str(&format!(
                "partition_key = {}\n",
                list(&self.pk, &self.more_pk)
            ));
        }
        if let Some(sk) = &self.sk {
            out.push_str(&format!("sort_key = {}\n", list(sk, &self.more_sk)));
        }
        out
    }

    /// Every attribute of a multi-attribute key, in order.
    fn attributes(&self) -> Vec<KeyAttr> {
        std::iter::once(self.pk.clone())
            .chain(self.more_pk.iter().cloned())
            .chain(self.sk.iter().cloned())
            .chain(self.more_sk.iter().cloned())
            .collect()
    }
}

impl KeyAttr {
    fn toml(&self) -> String {
        if self.ty == "S" {
            format!("\"{}\"", self.name)
        } else {
            format!("{{ name = \"{}\", type = \"{}\" }}", self.name, self.ty)
        }
    }
}

struct Index {
    name: &'static str,
    local: bool,
    pk: KeyAttr,
    sk: Option<KeyAttr>,
    /// A multi-attribute key (global indexes): the partition key's and the
    /// sort key's further attributes, each a plain field.
    more_pk: Vec<KeyAttr>,
    more_sk: Vec<KeyAttr>,
    /// 0: all, 1: keys only, 2: include the first item's other fields.
    projection: usize,
}

/// The files of one schema folder: the table file, then migrations.
pub struct Files {
    /// `(file name, text)` of the table file.
    pub table: (String, String),
    /// `(file name, text)` of each migration.
    pub migrations: Vec<(String, String)>,
}

/// The schema folder of `seed`.
pub fn schema(seed: u64) -> Files {
    let mut rng = Rng::new(seed);
    let table_name = rng.pick(TABLE_NAMES);
    let pk_ty = rng.pick(&["S", "S", "S", "S", "N", "B"]);
    let pk = KeyAttr {
        name: "pk".into(),
        ty: pk_ty,
    };
    let has_sk = pk_ty != "S" || rng.chance(80);
    let sk = has_sk.then(|| KeyAttr {
        name: "sk".into(),
        ty: rng.pick(&["S", "S", "S", "N"]),
    });
    let provisioned = rng.chance(20);
    let ttl = rng.chance(25).then_some("expires_at");
    let separator = rng.pick(&["#", "#", "#", "|", "::"]);
    let mut text = String::new();
    let _ = writeln!(text, "# seed {seed}\n[table]\nname = \"{table_name}\"");
    let _ = writeln!(text, "partition_key = {}", pk.toml());
    if let Some(sk) = &sk {
        let _ = writeln!(text, "sort_key = {}", sk.toml());
    }
    if provisioned {
        text.push_str("billing = { read = 5, write = 5 }\n");
    }
    if let Some(ttl) = ttl {
        let _ = writeln!(text, "ttl = \"{ttl}\"");
    }
    if rng.chance(20) {
        text.push_str("stream = \"new_and_old_images\"\n");
    }
    if rng.chance(15) {
        text.push_str("type_attribute = \"kind\"\n");
    }
    if separator != "#" {
        let _ = writeln!(text, "key_separator = \"{separator}\"");
    }

    // Indexes: global ones with their own keys, local ones (with a table
    // sort key) with a sort key.
    let mut indexes: Vec<Index> = Vec::new();
    for n in 0..rng.below(4) {
        let name = rng.pick(INDEX_NAMES);
        if indexes.iter().any(|i| i.name == name) {
            continue;
        }
        let local = sk.is_some() && rng.chance(25);
        let ty = rng.pick(&["S", "S", "S", "N"]);
        let index = Index {
            name,
            local,
            pk: if local {
                pk.clone()
            } else {
                KeyAttr {
                    name: format!("ix{n}pk"),
                    ty,
                }
            },
            sk: (local || rng.chance(70)).then(|| KeyAttr {
                name: format!("ix{n}sk"),
                ty: rng.pick(&["S", "S", "N"]),
            }),
            projection: rng.below(4).min(2),
            more_pk: Vec::new(),
            more_sk: Vec::new(),
        };
        let mut index = index;
        if !local && rng.chance(30) {
            // A multi-attribute key: up to four attributes each.
            let types = ["S", "S", "N", "B"];
            index.more_pk = (0..rng.below(4))
                .map(|j| KeyAttr {
                    name: format!("ix{n}pk{j}"),
                    ty: rng.pick(&types),
                })
                .collect();
            if index.sk.is_some() {
                index.more_sk = (0..rng.below(4))
                    .map(|j| KeyAttr {
                        name: format!("ix{n}sk{j}"),
                        ty: rng.pick(&types),
                    })
                    .collect();
            }
        }
        indexes.push(index);
    }

    // Nested types and item types are written after the indexes, whose
    // include projections name their attributes.
    let table_head = std::mem::take(&mut text);
    let mut nested: Vec<String> = Vec::new();
    for _ in 0..rng.below(3) {
        let name = rng.pick(TYPE_NAMES).to_owned();
        if nested.contains(&name) {
            continue;
        }
        let _ = writeln!(text, "\n[type.{}]", key(&name));
        let mut used: Vec<&str> = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let field = rng.pick(FIELD_NAMES);
            if used.contains(&field) {
                continue;
            }
            used.push(field);
            let f = Field {
                name: field.to_owned(),
                ty: scalar(&mut rng, &nested, 1),
                optional: rng.chance(30),
            };
            let _ = writeln!(text, "{} = {}", key(field), field_toml(&mut rng, &f));
        }
        if rng.chance(30) {
            // A recursive type, through a list.
            let _ = writeln!(text, "children = \"list<{name}>\"");
        }
        nested.push(name);
    }
    // A tagged union of some of the nested types, which an item uses.
    let union = (!nested.is_empty() && rng.chance(50)).then(|| {
        let mut variants: Vec<String> = Vec::new();
        for (i, n) in nested.iter().enumerate() {
            if i == 0 || rng.chance(60) {
                variants.push(format!("{} = {}", key(&format!("v{i}")), key(n)));
            }
        }
        let tag = if rng.chance(50) {
            "\ntag = \"variant_tag\""
        } else {
            "\ntag = \"_\""
        };
        let _ = writeln!(
            text,
            "\n[union.\"Choice\"]{tag}\nvariants = {{ {} }}",
            variants.join(", ")
        );
        "Choice".to_owned()
    });

    // Item types. Each has literal key prefixes of its own, so that two
    // item types' keys cannot collide; with `shared`, all of them share
    // one partition template (a collection reads them together).
    let plain_pk = pk.ty != "S";
    let plain_sk = sk.as_ref().is_some_and(|k| k.ty != "S");
    let max_items = if (plain_pk && (sk.is_none() || plain_sk)) || (sk.is_none() && rng.chance(50))
    {
        1
    } else {
        1 + rng.below(4)
    };
    let shared = !plain_pk && sk.as_ref().is_some_and(|k| k.ty == "S") && rng.chance(40);
    // Each item type's name and its non-key attributes.
    let mut items: Vec<(String, Vec<String>)> = Vec::new();
    // Index key templates items fill, for backfills: (item, attribute,
    // template).
    let mut backfills: Vec<(String, String, String)> = Vec::new();
    for n in 0..max_items {
        let name = rng.pick(TYPE_NAMES).to_owned();
        if items.iter().any(|(i, _)| *i == name) || nested.contains(&name) {
            continue;
        }
        let prefix = ["IA", "IB", "IC", "ID", "IE"][n];
        let mut fields: Vec<Field> = Vec::new();
        let mut key_names: Vec<String> = Vec::new();
        let add = |rng: &mut Rng, fields: &mut Vec<Field>, ty: Option<Ty>, optional: bool| {
            for _ in 0..8 {
                let name = rng.pick(FIELD_NAMES);
                if fields.iter().any(|f| f.name == name) {
                    continue;
                }
                let ty = ty.clone().unwrap_or_else(|| scalar(rng, &nested, 0));
                fields.push(Field {
                    name: name.to_owned(),
                    ty,
                    optional,
                });
                return Some(fields.len() - 1);
            }
            None
        };
        // Key fields first: required and template-friendly.
        let mut keys: Vec<(String, String)> = Vec::new();
        let template_ty = |rng: &mut Rng, sort: bool| -> Ty {
            match rng.below(7) {
                0 => Ty::Uuid,
                1 => Ty::Date,
                2 => Ty::Int(rng.pick(&["u16", "u32", "u64", "i32"])),
                3 => Ty::Enum(vec!["placed", "shipped"]),
                4 if !sort => Ty::Bool,
                5 => Ty::DateTime(""),
                _ => Ty::String,
            }
        };
        let plain_ty = |k: &KeyAttr| match k.ty {
            "N" => Ty::Int("u64"),
            "B" => Ty::Bytes,
            _ => Ty::String,
        };
        let render = |fields: &Vec<Field>, ids: &[usize], literal: &str, sep: &str| -> String {
            let mut out = literal.to_owned();
            for (n, &i) in ids.iter().enumerate() {
                if n > 0 {
                    out.push_str(sep);
                }
                let f = &fields[i];
                match f.ty {
                    Ty::Int(t) => {
                        let width = match t {
                            "u16" => 5,
                            "u32" => 10,
                            "i32" => 11,
                            _ => 20,
                        };
                        let _ = write!(out, "{{{}:0{width}}}", f.name);
                    }
                    _ => {
                        let _ = write!(out, "{{{}}}", f.name);
                    }
                }
            }
            out
        };
        // Table partition key.
        if plain_pk {
            fields.push(Field {
                name: "pk".to_owned(),
                ty: plain_ty(&pk),
                optional: false,
            });
            key_names.push("pk".to_owned());
        } else {
            let ty = if shared {
                Ty::String
            } else {
                template_ty(&mut rng, false)
            };
            if let Some(i) = add(&mut rng, &mut fields, Some(ty), false) {
                let literal = if shared {
                    "C#".to_owned()
                } else {
                    format!("{prefix}#")
                };
                keys.push(("pk".into(), render(&fields, &[i], &literal, separator)));
            }
        }
        // Table sort key.
        if let Some(sk) = &sk {
            if sk.ty != "S" {
                fields.push(Field {
                    name: "sk".to_owned(),
                    ty: plain_ty(sk),
                    optional: false,
                });
                key_names.push("sk".to_owned());
            } else if rng.chance(30) {
                keys.push(("sk".into(), prefix.to_owned()));
            } else {
                let mut ids = Vec::new();
                for _ in 0..1 + rng.below(3) {
                    let ty = template_ty(&mut rng, true);
                    if let Some(i) = add(&mut rng, &mut fields, Some(ty), false) {
                        ids.push(i);
                    }
                }
                keys.push((
                    "sk".into(),
                    render(&fields, &ids, &format!("{prefix}{separator}"), separator),
                ));
            }
        }
        // Index keys, for some indexes.
        for (ix, index) in indexes.iter().enumerate() {
            if !rng.chance(50) {
                continue;
            }
            let index_prefix = format!("X{ix}{prefix}");
            if index.multi() {
                // Every attribute a plain field; an optional one makes the
                // index sparse.
                let sparse = rng.chance(30);
                for (j, attr) in index.attributes().iter().enumerate() {
                    fields.push(Field {
                        name: attr.name.clone(),
                        ty: plain_ty(attr),
                        optional: sparse && j == 0,
                    });
                    key_names.push(attr.name.clone());
                }
                continue;
            }
            if !index.local {
                if index.pk.ty == "S" {
                    let ty = template_ty(&mut rng, false);
                    if let Some(i) = add(&mut rng, &mut fields, Some(ty), false) {
                        keys.push((
                            index.pk.name.clone(),
                            render(&fields, &[i], &format!("{index_prefix}#"), separator),
                        ));
                    }
                } else {
                    // A plain key: a field stored under the attribute;
                    // optional makes the index sparse.
                    let optional = index.sk.is_none() && rng.chance(50);
                    fields.push(Field {
                        name: index.pk.name.clone(),
                        ty: plain_ty(&index.pk),
                        optional,
                    });
                    key_names.push(index.pk.name.clone());
                }
            }
            if let Some(isk) = &index.sk {
                if isk.ty == "S" {
                    if rng.chance(30) {
                        keys.push((isk.name.clone(), index_prefix.clone()));
                    } else {
                        let ty = template_ty(&mut rng, true);
                        if let Some(i) = add(&mut rng, &mut fields, Some(ty), false) {
                            keys.push((
                                isk.name.clone(),
                                render(
                                    &fields,
                                    &[i],
                                    &format!("{index_prefix}{separator}"),
                                    separator,
                                ),
                            ));
                        }
                    }
                } else {
                    fields.push(Field {
                        name: isk.name.clone(),
                        ty: plain_ty(isk),
                        optional: false,
                    });
                    key_names.push(isk.name.clone());
                }
            }
        }
        // The union, alone, optional, in a list or in a map.
        if let Some(u) = &union
            && (n == 0 || rng.chance(40))
        {
            let one = Ty::Union(u.clone());
            let ty = match rng.below(4) {
                0 => Ty::List(Box::new(one)),
                1 => Ty::Map(Box::new(one)),
                _ => one,
            };
            let optional = rng.chance(50);
            add(&mut rng, &mut fields, Some(ty), optional);
        }
        // Other fields.
        for _ in 0..rng.below(7) {
            let optional = rng.chance(35);
            add(&mut rng, &mut fields, None, optional);
        }
        if rng.chance(15) {
            add(&mut rng, &mut fields, Some(Ty::Custom), true);
        }

        let _ = writeln!(text, "\n[item.{}]", key(&name));
        if rng.chance(20) {
            text.push_str("doc = \"An item type.\"\n");
        }
        if rng.chance(15) {
            text.push_str("timestamps = true\n");
        }
        if rng.chance(15) {
            text.push_str("version = \"rev\"\n");
        }
        if ttl.is_some() && rng.chance(50) {
            text.push_str("expires_after = \"30d\"\n");
        }
        let _ = writeln!(text, "\n[item.{}.keys]", key(&name));
        for (attr, template) in &keys {
            let _ = writeln!(text, "{} = \"{template}\"", key(attr));
        }
        let _ = writeln!(text, "\n[item.{}.fields]", key(&name));
        let in_keys: Vec<String> = keys
            .iter()
            .flat_map(|(_, t)| {
                t.split('{')
                    .skip(1)
                    .map(|p| p.split([':', '}']).next().unwrap_or("").to_owned())
            })
            .chain(key_names.iter().cloned())
            .collect();
        let mut encrypted: Vec<String> = Vec::new();
        for f in &fields {
            let mut toml = field_toml(&mut rng, f);
            let sealable = matches!(f.ty, Ty::String | Ty::Bytes)
                && !in_keys.contains(&f.name)
                && !toml.contains("default");
            if sealable && rng.chance(15) {
                // Sealed at rest: nothing compares it.
                toml.insert_str(toml.len() - 2, ", encrypted = true");
                encrypted.push(f.name.clone());
                let _ = writeln!(text, "{} = {}", key(&f.name), toml);
                continue;
            }
            if rng.chance(8) && f.name != "rev" && f.name != "updated_at" {
                // Set when the item is created, never changed.
                toml.insert_str(toml.len() - 2, ", read_only = true");
            }
            if matches!(f.ty, Ty::String) && rng.chance(5) {
                // Refused on tables whose keys are not text.
                toml.insert_str(toml.len() - 2, ", unique = true");
            }
            let _ = writeln!(text, "{} = {}", key(&f.name), toml);
        }
        // Computed fields: strings rendered from other fields, in any
        // case, with any text between (separators and spaces included).
        let sources: Vec<&Field> = fields
            .iter()
            .filter(|f| !["rev", "created_at", "updated_at"].contains(&f.name.as_str()))
            .filter(|f| !encrypted.contains(&f.name))
            .filter(|f| {
                matches!(
                    f.ty,
                    Ty::String
                        | Ty::Bool
                        | Ty::Int(_)
                        | Ty::Float(_)
                        | Ty::Number
                        | Ty::DateTime(_)
                        | Ty::Date
                        | Ty::Uuid
                        | Ty::Enum(_)
                )
            })
            .collect();
        if !sources.is_empty() && rng.chance(30) {
            for c in 0..1 + rng.below(2) {
                let mut template = String::new();
                for _ in 0..1 + rng.below(3) {
                    let f = sources[rng.below(sources.len())];
                    let spec = match (&f.ty, rng.below(3)) {
                        (Ty::Int(_), 0) => ":06",
                        (_, 1) => ":lower",
                        (_, 2) => ":upper",
                        _ => "",
                    };
                    template.push_str(rng.pick(&["", " ", "#", "-", "{{x}} "]));
                    let _ = write!(template, "{{{}{spec}}}", f.name);
                }
                let _ = writeln!(
                    text,
                    "{} = {{ type = \"string\", computed = \"{template}\" }}",
                    key(&format!("computed_{c}"))
                );
            }
        }
        for (attr, template) in &keys {
            if attr != "pk" && attr != "sk" && !template.is_empty() {
                backfills.push((name.clone(), attr.clone(), template.clone()));
            }
        }
        let template_fields: Vec<&str> = keys
            .iter()
            .flat_map(|(_, t)| {
                t.split('{')
                    .skip(1)
                    .map(|p| p.split([':', '}']).next().unwrap_or(""))
            })
            .collect();
        let others: Vec<String> = fields
            .iter()
            .map(|f| f.name.clone())
            .filter(|n| !key_names.contains(n) && !template_fields.contains(&n.as_str()))
            .collect();
        items.push((name, others));
    }

    // A collection over the items sharing a partition template.
    if shared && items.len() >= 2 && rng.chance(70) {
        let name = rng.pick(&["customer_orders", "everything", "type", "self_", "a_b"]);
        let listed = items
            .iter()
            .map(|(n, _)| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(text, "\n[collection.{name}]\nitems = [{listed}]");
    }

    // The indexes, now that the attributes include projections name exist.
    let mut index_text = String::new();
    let included: Vec<String> = items
        .first()
        .map(|(_, others)| others.iter().take(2).cloned().collect())
        .unwrap_or_default();
    let projection = |index: &Index| match index.projection {
        1 => Some("\"keys_only\"".to_owned()),
        2 if !included.is_empty() => Some(format!(
            "[{}]",
            included
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => None,
    };
    for index in &indexes {
        let _ = writeln!(index_text, "\n[index.{}]", key(index.name));
        if index.local {
            index_text.push_str("local = true\n");
        }
        index_text.push_str(&index.key_lines());
        if let Some(p) = projection(index) {
            let _ = writeln!(index_text, "projection = {p}");
        }
    }
    let text = format!("{table_head}{index_text}{text}");

    // The migration creating the table.
    let mut migration = format!(
        "description = \"create\"\n\n[[step]]\nop = \"create_table\"\ntable = \"{table_name}\"\n\
         partition_key = {}\n",
        pk.toml()
    );
    if let Some(sk) = &sk {
        let _ = writeln!(migration, "sort_key = {}", sk.toml());
    }
    if provisioned {
        migration.push_str("billing = { read = 5, write = 5 }\n");
    }
    if let Some(ttl) = ttl {
        let _ = writeln!(migration, "ttl = \"{ttl}\"");
    }
    for index in &indexes {
        let _ = writeln!(migration, "\n[step.index.{}]", key(index.name));
        if index.local {
            migration.push_str("local = true\n");
        }
        migration.push_str(&index.key_lines());
        if let Some(p) = projection(index) {
            let _ = writeln!(migration, "projection = {p}");
        }
    }
    let mut migrations = vec![("0001_create.toml".to_owned(), migration)];
    // Later steps: a backfill of an index key, and table option changes.
    let mut later = String::from("description = \"later\"\n");
    if let Some((item, attr, template)) = backfills.first().filter(|_| rng.chance(60)) {
        let _ = write!(
            later,
            "\n[[step]]\nop = \"backfill\"\ntable = \"{table_name}\"\nitem = \"{item}\"\nset = {{ {} = \"{template}\" }}\n",
            key(attr)
        );
    }
    if rng.chance(20) {
        let _ = write!(
            later,
            "\n[[step]]\nop = \"update_stream\"\ntable = \"{table_name}\"\nstream = \"keys_only\"\n"
        );
    }
    if rng.chance(20) {
        let _ = write!(
            later,
            "\n[[step]]\nop = \"update_billing\"\ntable = \"{table_name}\"\nbilling = \"on_demand\"\n"
        );
    }
    if later.contains("[[step]]") {
        migrations.push(("0002_later.toml".to_owned(), later));
    }
    Files {
        table: (
            format!("{}.toml", table_name.replace(['.', '-'], "_")),
            text,
        ),
        migrations,
    }
}
