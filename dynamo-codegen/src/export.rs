//! `export cloudformation|terraform`: the tables of a schema folder as
//! infrastructure code, exactly as `migrate` creates them (key schema,
//! attribute definitions, billing, indexes and projections, TTL, stream,
//! point-in-time recovery, deletion protection),
//! with the namespace as a parameter (CloudFormation) or a variable
//! (Terraform). Output is deterministic: tables and indexes in schema
//! order, object keys sorted.

use std::fmt::Write as _;

use heck::ToUpperCamelCase;
use serde_json::{Value, json};

use crate::ir::{Billing, IndexDef, IndexKind, KeyType, Projection, StreamView, TableDef};

/// An infrastructure-as-code format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A CloudFormation template, as JSON.
    CloudFormationJson,
    /// A CloudFormation template, as YAML.
    CloudFormationYaml,
    /// Terraform (HCL) `aws_dynamodb_table` resources.
    Terraform,
}

/// The tables as `format`.
pub fn export(tables: &[&TableDef], format: Format) -> String {
    match format {
        Format::CloudFormationJson => {
            let mut text =
                serde_json::to_string_pretty(&cloudformation(tables)).unwrap_or_default();
            text.push('\n');
            text
        }
        Format::CloudFormationYaml => yaml(&cloudformation(tables)),
        Format::Terraform => terraform(tables),
    }
}

/// The attribute definitions DynamoDB needs: each key attribute of the
/// table and its indexes once, in order of first use.
fn attributes(table: &TableDef) -> Vec<(&str, KeyType)> {
    let mut out: Vec<(&str, KeyType)> = Vec::new();
    let keys = std::iter::once(&table.partition_key)
        .chain(table.sort_key.as_ref())
        .chain(table.indexes.iter().flat_map(IndexDef::key));
    for key in keys {
        if !out.iter().any(|(name, _)| *name == &*key.name) {
            out.push((&key.name, key.ty));
        }
    }
    out
}

fn stream_view(view: StreamView) -> String {
    view.name().to_uppercase()
}

/// An index's projection: its type, and for an include list the names
/// with the table's type attribute (as `migrate` creates it, so that
/// queries can filter item types).
fn projection<'a>(index: &'a IndexDef, table: &'a TableDef) -> (&'static str, Vec<&'a str>) {
    match &index.projection {
        Projection::All => ("ALL", Vec::new()),
        Projection::KeysOnly => ("KEYS_ONLY", Vec::new()),
        Projection::Include(names) => {
            let mut names: Vec<&str> = names.iter().map(|n| &**n).collect();
            if table.has_type_attribute() && !names.contains(&&*table.type_attribute) {
                names.push(&table.type_attribute);
            }
            ("INCLUDE", names)
        }
    }
}

/// A global index's capacity on a provisioned table: its own, else the
/// table's (as `migrate` creates it); none on demand or for a local index.
fn gsi_throughput(index: &IndexDef, table: &TableDef) -> Option<crate::ir::Throughput> {
    match (index.kind, table.billing) {
        (IndexKind::Global, Billing::Provisioned(t)) => Some(index.throughput.unwrap_or(t)),
        _ => None,
    }
}

/// The resource name of a table: letters and digits, e.g. `ShopTable`.
fn logical_id(table: &TableDef) -> String {
    let name: String = table
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    format!("{}Table", name.to_upper_camel_case())
}

fn cloudformation(tables: &[&TableDef]) -> Value {
    let mut resources = serde_json::Map::new();
    let mut outputs = serde_json::Map::new();
    for table in tables {
        let key_schema = |partition: &[&str], sort: &[&str]| {
            let hash = partition
                .iter()
                .map(|k| json!({"AttributeName": k, "KeyType": "HASH"}));
            let range = sort
                .iter()
                .map(|k| json!({"AttributeName": k, "KeyType": "RANGE"}));
            Value::Array(hash.chain(range).collect())
        };
        let throughput =
            |read: u64, write: u64| json!({"ReadCapacityUnits": read, "WriteCapacityUnits": write});
        let mut properties = serde_json::Map::new();
        properties.insert(
            "TableName".into(),
            json!({"Fn::If": ["HasNamespace", {"Fn::Sub": format!("${{Namespace}}_{}", table.name)}, &*table.name]}),
        );
        properties.insert(
            "AttributeDefinitions".into(),
            attributes(table)
                .into_iter()
                .map(|(name, ty)| json!({"AttributeName": name, "AttributeType": ty.name()}))
                .collect(),
        );
        properties.insert(
            "KeySchema".into(),
            key_schema(
                &[&table.partition_key.name],
                &table.sort_key.iter().map(|k| &*k.name).collect::<Vec<_>>(),
            ),
        );
        match table.billing {
            Billing::OnDemand => {
                properties.insert("BillingMode".into(), json!("PAY_PER_REQUEST"));
            }
            Billing::Provisioned(t) => {
                properties.insert("BillingMode".into(), json!("PROVISIONED"));
                properties.insert("ProvisionedThroughput".into(), throughput(t.read, t.write));
            }
        }
        let index = |index: &IndexDef| {
            let (kind, names) = projection(index, table);
            let mut projection = serde_json::Map::new();
            projection.insert("ProjectionType".into(), json!(kind));
            if !names.is_empty() {
                projection.insert("NonKeyAttributes".into(), json!(names));
            }
            let mut out = serde_json::Map::new();
            out.insert("IndexName".into(), json!(&*index.name));
            out.insert(
                "KeySchema".into(),
                key_schema(
                    &index
                        .partition_key
                        .iter()
                        .map(|k| &*k.name)
                        .collect::<Vec<_>>(),
                    &index.sort_key.iter().map(|k| &*k.name).collect::<Vec<_>>(),
                ),
            );
            out.insert("Projection".into(), Value::Object(projection));
            if let Some(t) = gsi_throughput(index, table) {
                out.insert("ProvisionedThroughput".into(), throughput(t.read, t.write));
            }
            Value::Object(out)
        };
        let global: Vec<Value> = table
            .indexes
            .iter()
            .filter(|i| i.kind == IndexKind::Global)
            .map(index)
            .collect();
        let local: Vec<Value> = table
            .indexes
            .iter()
            .filter(|i| i.kind == IndexKind::Local)
            .map(index)
            .collect();
        if !global.is_empty() {
            properties.insert("GlobalSecondaryIndexes".into(), Value::Array(global));
        }
        if !local.is_empty() {
            properties.insert("LocalSecondaryIndexes".into(), Value::Array(local));
        }
        if let Some(ttl) = &table.ttl {
            properties.insert(
                "TimeToLiveSpecification".into(),
                json!({"AttributeName": &**ttl, "Enabled": true}),
            );
        }
        if let Some(view) = table.stream {
            properties.insert(
                "StreamSpecification".into(),
                json!({"StreamViewType": stream_view(view)}),
            );
        }
        if table.point_in_time_recovery {
            properties.insert(
                "PointInTimeRecoverySpecification".into(),
                json!({"PointInTimeRecoveryEnabled": true}),
            );
        }
        if table.deletion_protection {
            properties.insert("DeletionProtectionEnabled".into(), Value::Bool(true));
        }
        let id = logical_id(table);
        resources.insert(
            id.clone(),
            json!({"Type": "AWS::DynamoDB::Table", "Properties": Value::Object(properties)}),
        );
        outputs.insert(
            format!("{id}Name"),
            json!({"Description": format!("The physical name of table `{}`.", table.name), "Value": {"Ref": &id}}),
        );
        if table.stream.is_some() {
            outputs.insert(
                format!("{id}StreamArn"),
                json!({"Description": format!("The stream of table `{}`.", table.name), "Value": {"Fn::GetAtt": [&id, "StreamArn"]}}),
            );
        }
    }
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "DynamoDB tables of the dynamo-codegen schemas (generated by `dynamo-codegen export`; do not edit by hand).",
        "Parameters": {
            "Namespace": {
                "Type": "String",
                "Default": "",
                "AllowedPattern": "^[a-zA-Z0-9_.-]*$",
                "Description": "Prefix of every table name, as the app's namespace (DYNAMO_NAMESPACE): `dev` makes `dev_shop`. Empty: no prefix."
            }
        },
        "Conditions": {
            "HasNamespace": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Namespace"}, ""]}]}
        },
        "Resources": Value::Object(resources),
        "Outputs": Value::Object(outputs),
    })
}

/// YAML of a JSON value: block maps and lists, strings double-quoted with
/// JSON's escapes (which YAML reads the same).
fn yaml(value: &Value) -> String {
    fn scalar(value: &Value) -> String {
        match value {
            Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
            other => other.to_string(),
        }
    }
    fn write(out: &mut String, value: &Value, indent: usize) {
        let pad = " ".repeat(indent);
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    let key = scalar(&Value::String(key.clone()));
                    match v {
                        Value::Object(m) if !m.is_empty() => {
                            let _ = writeln!(out, "{pad}{key}:");
                            write(out, v, indent + 2);
                        }
                        Value::Array(a) if !a.is_empty() => {
                            let _ = writeln!(out, "{pad}{key}:");
                            write(out, v, indent + 2);
                        }
                        Value::Object(_) => {
                            let _ = writeln!(out, "{pad}{key}: {{}}");
                        }
                        Value::Array(_) => {
                            let _ = writeln!(out, "{pad}{key}: []");
                        }
                        scalar_value => {
                            let _ = writeln!(out, "{pad}{key}: {}", scalar(scalar_value));
                        }
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(m) if !m.is_empty() => {
                            // The first entry on the dash's line, the rest under it.
                            let mut inner = String::new();
                            write(&mut inner, item, indent + 2);
                            let inner = inner.trim_start();
                            let _ = write!(out, "{pad}- {inner}");
                        }
                        Value::Array(a) if !a.is_empty() => {
                            let _ = writeln!(out, "{pad}-");
                            write(out, item, indent + 2);
                        }
                        other => {
                            let _ = writeln!(out, "{pad}- {}", scalar(other));
                        }
                    }
                }
            }
            other => {
                let _ = writeln!(out, "{pad}{}", scalar(other));
            }
        }
    }
    let mut out = String::new();
    write(&mut out, value, 0);
    out
}

/// A Terraform string literal.
fn hcl(text: &str) -> String {
    // HCL strings take JSON's escapes; `${` and `%{` start templates.
    serde_json::to_string(text)
        .unwrap_or_default()
        .replace("${", "$${")
        .replace("%{", "%%{")
}

fn terraform(tables: &[&TableDef]) -> String {
    let mut out = String::from(
        "# DynamoDB tables of the dynamo-codegen schemas (generated by\n\
         # `dynamo-codegen export terraform`; do not edit by hand).\n\n\
         variable \"namespace\" {\n  \
           type        = string\n  \
           default     = \"\"\n  \
           description = \"Prefix of every table name, as the app's namespace (DYNAMO_NAMESPACE): `dev` makes `dev_shop`. Empty: no prefix.\"\n\
         }\n\n\
         locals {\n  \
           table_prefix = var.namespace == \"\" ? \"\" : \"${var.namespace}_\"\n\
         }\n",
    );
    for table in tables {
        let id =
            logical_id(table)
                .trim_end_matches("Table")
                .chars()
                .fold(String::new(), |mut s, c| {
                    if c.is_ascii_uppercase() && !s.is_empty() {
                        s.push('_');
                    }
                    s.push(c.to_ascii_lowercase());
                    s
                });
        let _ = writeln!(out, "\nresource \"aws_dynamodb_table\" \"{id}\" {{");
        let _ = writeln!(
            out,
            "  name         = \"${{local.table_prefix}}{}\"",
            hcl(&table.name).trim_matches('"')
        );
        match table.billing {
            Billing::OnDemand => {
                let _ = writeln!(out, "  billing_mode = \"PAY_PER_REQUEST\"");
            }
            Billing::Provisioned(t) => {
                let _ = writeln!(out, "  billing_mode = \"PROVISIONED\"");
                let _ = writeln!(out, "  read_capacity  = {}", t.read);
                let _ = writeln!(out, "  write_capacity = {}", t.write);
            }
        }
        let _ = writeln!(out, "  hash_key     = {}", hcl(&table.partition_key.name));
        if let Some(sort) = &table.sort_key {
            let _ = writeln!(out, "  range_key    = {}", hcl(&sort.name));
        }
        for (name, ty) in attributes(table) {
            let _ = writeln!(
                out,
                "\n  attribute {{\n    name = {}\n    type = \"{}\"\n  }}",
                hcl(name),
                ty.name()
            );
        }
        for index in table.indexes.iter() {
            let (kind, names) = projection(index, table);
            let block = match index.kind {
                IndexKind::Global => "global_secondary_index",
                IndexKind::Local => "local_secondary_index",
            };
            let _ = writeln!(out, "\n  {block} {{");
            let _ = writeln!(out, "    name            = {}", hcl(&index.name));
            if index.is_multi_attribute() {
                // Multi-attribute keys: `key_schema` blocks, in order (AWS
                // provider 6.x; `hash_key`/`range_key` take one attribute).
                let hash = index.partition_key.iter().map(|k| (k, "HASH"));
                let range = index.sort_key.iter().map(|k| (k, "RANGE"));
                for (key, kind) in hash.chain(range) {
                    let _ = writeln!(
                        out,
                        "    key_schema {{\n      attribute_name = {}\n      key_type       = \"{kind}\"\n    }}",
                        hcl(&key.name)
                    );
                }
            } else {
                if index.kind == IndexKind::Global
                    && let Some(partition) = index.partition_key.first()
                {
                    let _ = writeln!(out, "    hash_key        = {}", hcl(&partition.name));
                }
                if let Some(sort) = index.sort_key.first() {
                    let _ = writeln!(out, "    range_key       = {}", hcl(&sort.name));
                }
            }
            let _ = writeln!(out, "    projection_type = \"{kind}\"");
            if !names.is_empty() {
                let names: Vec<String> = names.iter().map(|n| hcl(n)).collect();
                let _ = writeln!(out, "    non_key_attributes = [{}]", names.join(", "));
            }
            if let Some(t) = gsi_throughput(index, table) {
                let _ = writeln!(out, "    read_capacity   = {}", t.read);
                let _ = writeln!(out, "    write_capacity  = {}", t.write);
            }
            let _ = writeln!(out, "  }}");
        }
        if let Some(ttl) = &table.ttl {
            let _ = writeln!(
                out,
                "\n  ttl {{\n    attribute_name = {}\n    enabled        = true\n  }}",
                hcl(ttl)
            );
        }
        if let Some(view) = table.stream {
            let _ = writeln!(
                out,
                "\n  stream_enabled   = true\n  stream_view_type = \"{}\"",
                stream_view(view)
            );
        }
        if table.point_in_time_recovery {
            let _ = writeln!(
                out,
                "\n  point_in_time_recovery {{\n    enabled = true\n  }}"
            );
        }
        if table.deletion_protection {
            let _ = writeln!(out, "\n  deletion_protection_enabled = true");
        }
        let _ = writeln!(out, "}}");
    }
    out
}

/// The tables of the schema folder `dir` (checked as `check` does) as
/// `format`: the library call behind `dynamo-codegen export`.
pub fn export_schemas(dir: &std::path::Path, format: Format) -> Result<String, crate::Error> {
    let checked = crate::check(dir)?;
    let tables: Vec<&TableDef> = checked.schema.tables.iter().map(|t| &t.def).collect();
    Ok(export(&tables, format))
}
