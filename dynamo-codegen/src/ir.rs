//! Stage 3: the resolved model. Validation produces it; emitters accept only
//! it. Everything here is checked: names are usable, templates resolve to
//! fields, and every item fills its table's key attributes.

/// Every table of a schema folder, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The tables, ordered by file name.
    pub tables: Vec<Table>,
}

/// One table and the item types stored in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The logical table name (the runtime adds the namespace).
    pub name: String,
    /// The schema file, relative to the schema folder, e.g. `shop.toml`.
    pub file: String,
    /// The partition key attribute.
    pub partition_key: KeyAttribute,
    /// The sort key attribute, if any.
    pub sort_key: Option<KeyAttribute>,
    /// The attribute naming each item's type.
    pub type_attribute: String,
    /// The separator checked in multi-field key templates.
    pub key_separator: String,
    /// The item types, in schema order.
    pub items: Vec<Item>,
}

/// A key attribute of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAttribute {
    /// The attribute name.
    pub name: String,
    /// Its DynamoDB type.
    pub ty: KeyType,
}

/// The DynamoDB type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

/// An item type.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The type name (UpperCamelCase), also stored in the type attribute.
    pub name: String,
    /// The fields, in schema order.
    pub fields: Vec<Field>,
    /// The template of the table's partition key.
    pub partition: Template,
    /// The template of the table's sort key, when the table has one.
    pub sort: Option<Template>,
}

impl Item {
    /// The indexes (into `fields`) of the fields the key templates use, in
    /// order of first use: the fields of the generated key struct.
    pub fn key_fields(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for template in std::iter::once(&self.partition).chain(&self.sort) {
            for field in template.fields() {
                if !out.contains(&field) {
                    out.push(field);
                }
            }
        }
        out
    }
}

/// A field of an item type.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The Rust field name (snake_case).
    pub name: String,
    /// The attribute it is stored as.
    pub attribute: String,
    /// Its type.
    pub ty: FieldType,
    /// Whether the field may be absent.
    pub optional: bool,
}

/// The types a field can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// `string`: String, stored as S.
    String,
    /// `bool`: stored as BOOL.
    Bool,
    /// `i32`, stored as N.
    I32,
    /// `i64`, stored as N.
    I64,
    /// `u32`, stored as N.
    U32,
    /// `u64`, stored as N.
    U64,
    /// `f64`, stored as N.
    F64,
}

impl FieldType {
    /// Every supported type with its schema name.
    pub const ALL: [(&'static str, FieldType); 7] = [
        ("string", FieldType::String),
        ("bool", FieldType::Bool),
        ("i32", FieldType::I32),
        ("i64", FieldType::I64),
        ("u32", FieldType::U32),
        ("u64", FieldType::U64),
        ("f64", FieldType::F64),
    ];

    /// The name used in schema files.
    pub fn schema_name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("?", |(name, _)| name)
    }

    /// Whether the type is an integer.
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            FieldType::I32 | FieldType::I64 | FieldType::U32 | FieldType::U64
        )
    }
}

/// A key template such as `ORDER#{created}#{order_id}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The key attribute it fills.
    pub attribute: String,
    /// The template text as written.
    pub text: String,
    /// Literal text and field references, in order.
    pub parts: Vec<TemplatePart>,
}

impl Template {
    /// The fields referenced, in order (with repeats).
    pub fn fields(&self) -> impl Iterator<Item = usize> + '_ {
        self.parts.iter().filter_map(|p| match p {
            TemplatePart::Field { field, .. } => Some(*field),
            TemplatePart::Literal(_) => None,
        })
    }

    /// The number of field references.
    pub fn field_count(&self) -> usize {
        self.fields().count()
    }
}

/// A piece of a key template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text (braces already unescaped).
    Literal(String),
    /// A field's value.
    Field {
        /// Index into the item's fields.
        field: usize,
        /// Zero-padded width, for integers.
        width: Option<usize>,
    },
}
