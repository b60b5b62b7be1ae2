//! Typed conditions and filters, and the placeholders they render to.
//!
//! Generated code gives each item type a fields struct of [`Path`]s, one per
//! field, typed by the field's Rust type; conditions are built from those
//! paths, so a value of the wrong type does not compile:
//!
//! ```text
//! Customer::update(key).set(|f| f.name, "Ann").when(|f| f.tier.eq(Tier::Pro).and(f.age.ge(18u8)))
//! ```
//!
//! Every attribute name and value becomes a placeholder (`#n0`, `:v0`), so
//! reserved words such as `name` or `status` are safe as attribute names.

use std::{collections::HashMap, fmt, marker::PhantomData, ops};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::{Bytes, Date, DecodeErrorKind, Number, Timestamp, Uuid};

/// The placeholders of one request: attribute names and values.
#[derive(Debug, Default, Clone)]
pub struct Expr {
    names: HashMap<String, String>,
    aliases: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    /// An empty set of placeholders.
    pub fn new() -> Self {
        Expr::default()
    }

    /// The placeholder of attribute `name` (one per attribute).
    pub fn name(&mut self, name: &str) -> String {
        if let Some(alias) = self.aliases.get(name) {
            return alias.clone();
        }
        let alias = format!("#n{}", self.aliases.len());
        self.aliases.insert(name.to_owned(), alias.clone());
        self.names.insert(alias.clone(), name.to_owned());
        alias
    }

    /// A new placeholder holding `value`.
    pub fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// The name map, `None` when empty (DynamoDB rejects empty maps).
    pub fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    /// The value map, `None` when empty.
    pub fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// An untyped condition tree; [`Condition`] is its typed face.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `a <op> :v`
    Compare(&'static str, Op, AttributeValue),
    /// `a BETWEEN :lo AND :hi`
    Between(&'static str, AttributeValue, AttributeValue),
    /// `begins_with(a, :v)`
    BeginsWith(&'static str, AttributeValue),
    /// `contains(a, :v)`
    Contains(&'static str, AttributeValue),
    /// `attribute_exists(a)`
    Exists(&'static str),
    /// `attribute_not_exists(a)`
    NotExists(&'static str),
    /// `size(a) <op> :n`
    Size(&'static str, Op, u64),
    /// `a IN (:v0, :v1, ...)`; an empty list is false.
    In(&'static str, Vec<AttributeValue>),
    /// Both.
    And(Box<Node>, Box<Node>),
    /// Either.
    Or(Box<Node>, Box<Node>),
    /// Not.
    Not(Box<Node>),
}

impl Node {
    /// Renders the condition, adding its placeholders to `expr`.
    pub fn render(&self, expr: &mut Expr) -> String {
        match self {
            Node::Compare(a, op, v) => {
                format!("{} {} {}", expr.name(a), op.text(), expr.value(v.clone()))
            }
            Node::Between(a, lo, hi) => format!(
                "{} BETWEEN {} AND {}",
                expr.name(a),
                expr.value(lo.clone()),
                expr.value(hi.clone())
            ),
            Node::BeginsWith(a, v) => {
                format!("begins_with({}, {})", expr.name(a), expr.value(v.clone()))
            }
            Node::Contains(a, v) => {
                format!("contains({}, {})", expr.name(a), expr.value(v.clone()))
            }
            Node::Exists(a) => format!("attribute_exists({})", expr.name(a)),
            Node::NotExists(a) => format!("attribute_not_exists({})", expr.name(a)),
            Node::Size(a, op, n) => format!(
                "size({}) {} {}",
                expr.name(a),
                op.text(),
                expr.value(AttributeValue::N(n.to_string()))
            ),
            Node::In(a, values) if values.is_empty() => {
                // `IN ()` is invalid; an empty list matches nothing.
                format!(
                    "attribute_not_exists({0}) AND attribute_exists({0})",
                    expr.name(a)
                )
            }
            Node::In(a, values) => {
                let name = expr.name(a);
                let values: Vec<String> = values.iter().map(|v| expr.value(v.clone())).collect();
                format!("{name} IN ({})", values.join(", "))
            }
            Node::And(a, b) => format!("({}) AND ({})", a.render(expr), b.render(expr)),
            Node::Or(a, b) => format!("({}) OR ({})", a.render(expr), b.render(expr)),
            Node::Not(a) => format!("NOT ({})", a.render(expr)),
        }
    }
}

/// A condition on items of type `I`: combine with [`and`](Self::and),
/// [`or`](Self::or) and `!`.
#[derive(Debug, PartialEq)]
#[must_use]
pub struct Condition<I> {
    node: Node,
    item: PhantomData<fn() -> I>,
}

impl<I> Clone for Condition<I> {
    fn clone(&self) -> Self {
        Condition::new(self.node.clone())
    }
}

impl<I> Condition<I> {
    /// The untyped tree.
    pub fn node(&self) -> &Node {
        &self.node
    }

    fn new(node: Node) -> Self {
        Condition {
            node,
            item: PhantomData,
        }
    }

    /// Both conditions hold.
    pub fn and(self, other: Condition<I>) -> Self {
        Condition::new(Node::And(Box::new(self.node), Box::new(other.node)))
    }

    /// At least one condition holds.
    pub fn or(self, other: Condition<I>) -> Self {
        Condition::new(Node::Or(Box::new(self.node), Box::new(other.node)))
    }

    /// The untyped tree.
    pub fn into_node(self) -> Node {
        self.node
    }
}

impl<I> ops::Not for Condition<I> {
    type Output = Condition<I>;

    /// The condition does not hold.
    fn not(self) -> Self {
        Condition::new(Node::Not(Box::new(self.node)))
    }
}

/// A value for a field of type `T`: the `T` itself, or text for a
/// `String` field. Unlike `Into`, integer literals infer the field's type.
pub trait IntoValue<T> {
    /// The value.
    fn into_value(self) -> T;
}

impl<T> IntoValue<T> for T {
    fn into_value(self) -> T {
        self
    }
}

impl IntoValue<String> for &str {
    fn into_value(self) -> String {
        self.to_owned()
    }
}

impl IntoValue<String> for &String {
    fn into_value(self) -> String {
        self.clone()
    }
}

/// Types whose stored order is their value order: they offer `<`, `<=`,
/// `>`, `>=` and `between`.
pub trait Ordered {}

macro_rules! ordered {
    ($($ty:ty),*) => {$( impl Ordered for $ty {} )*};
}

ordered!(
    i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, String, Number, Bytes, Timestamp, Date, Uuid
);

/// Types whose values can contain an `E`: text contains text, sets and
/// lists contain elements.
pub trait Contains<E> {}

impl Contains<String> for String {}
impl<E> Contains<E> for std::collections::BTreeSet<E> {}
impl<E> Contains<E> for Vec<E> {}

/// What the generic update actions ([`Update::set`](crate::Update::set)
/// and the others) may do with a field: the third parameter of a
/// [`Path`]. A [`Fixed`] field they do not change at all.
#[diagnostic::on_unimplemented(
    message = "this field cannot be changed by the update's generic actions",
    label = "the field's path is `{Self}`",
    note = "key fields would move the item, read-only fields are set once, writes keep \
            timestamps and versions, and computed fields follow their fields; a field an index \
            key or a computed field is built from has its own `set_<field>`, which renders \
            them again"
)]
pub trait Updatable: sealed::Sealed {}

/// A field the generic update actions do not change: a table key field (the
/// item would move), a field writes keep (timestamps, version), or a field
/// an index key is built from (its generated `set_<field>` rewrites that
/// key too).
#[derive(Debug, Clone, Copy)]
pub struct Fixed;

/// A required field updates can set, and change by its type's actions.
#[derive(Debug, Clone, Copy)]
pub struct Settable;

/// An optional field: [`Settable`], and updates can also remove it.
#[derive(Debug, Clone, Copy)]
pub struct Optional;

impl Updatable for Settable {}
impl Updatable for Optional {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Settable {}
    impl Sealed for super::Optional {}
}

/// A check of a new value against rules (a field's `validate` rules, a
/// nested type's).
pub type Check<T> = fn(&T) -> Result<(), crate::ValidationError>;

/// A field of item type `I` holding a `T`, for conditions and updates;
/// `A` ([`Fixed`], [`Settable`], [`Optional`]) says what updates may do
/// with it. Generated code builds one per field.
#[derive(Debug)]
pub struct Path<I, T, A = Fixed> {
    attribute: &'static str,
    encode: fn(&T) -> AttributeValue,
    decode: fn(AttributeValue) -> Result<T, DecodeErrorKind>,
    limits: Option<&'static crate::validate::Limits>,
    rules: Option<Check<T>>,
    nested: Option<Check<T>>,
    item: PhantomData<fn() -> (I, T)>,
    change: PhantomData<A>,
}

impl<I, T, A> Clone for Path<I, T, A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I, T, A> Copy for Path<I, T, A> {}

impl<I, T: crate::Attribute, A> Path<I, T, A> {
    /// The path of the field stored as `attribute`, converted by its type's
    /// [`Attribute`](crate::Attribute) implementation.
    pub const fn new(attribute: &'static str) -> Self {
        Path::with_codec(attribute, T::to_attribute, T::from_attribute)
    }
}

impl<I, T, A> Path<I, T, A> {
    /// The path of the field stored as `attribute`, encoded by `encode`
    /// and decoded by `decode` (e.g. a datetime as epoch seconds).
    pub const fn with_codec(
        attribute: &'static str,
        encode: fn(&T) -> AttributeValue,
        decode: fn(AttributeValue) -> Result<T, DecodeErrorKind>,
    ) -> Self {
        Path {
            attribute,
            encode,
            decode,
            limits: None,
            rules: None,
            nested: None,
            item: PhantomData,
            change: PhantomData,
        }
    }

    /// The path with the field's `validate` rules that updates check on
    /// the stored value (bounds of numbers, lengths).
    pub const fn limits(mut self, limits: &'static crate::validate::Limits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// The path with the field's `validate` rules, which updates check on
    /// every new value before sending.
    pub const fn rules(mut self, check: Check<T>) -> Self {
        self.rules = Some(check);
        self
    }

    /// The path with the rules of the nested type the field holds (in a
    /// list or map too), which updates check on every new value and on
    /// appended items.
    pub const fn nested(mut self, check: Check<T>) -> Self {
        self.nested = Some(check);
        self
    }

    /// Checks a new value of the whole field: its rules, then its nested
    /// type's.
    pub(crate) fn check(&self, value: &T) -> Result<(), crate::ValidationError> {
        self.rules.map_or(Ok(()), |check| check(value))?;
        self.check_nested(value)
    }

    /// Checks values added to the field (items appended to a list) against
    /// its nested type's rules.
    pub(crate) fn check_nested(&self, value: &T) -> Result<(), crate::ValidationError> {
        self.nested.map_or(Ok(()), |check| check(value))
    }

    /// The field's rules updates check on the stored value, if any.
    pub(crate) fn field_limits(&self) -> Option<&'static crate::validate::Limits> {
        self.limits
    }

    /// Encodes a value of the field.
    pub fn encode(&self, value: &T) -> AttributeValue {
        (self.encode)(value)
    }

    /// The field as a plain key attribute (stored under the key
    /// attribute's name with its own type), with value `value`.
    pub fn key(&self, value: &T) -> crate::key::RenderedKey {
        crate::key::RenderedKey::plain(self.attribute, self.encode(value))
    }

    /// The field as a plain sort key, for queries.
    pub fn sort_key(&self) -> crate::key::SortKey {
        crate::key::SortKey::plain(self.attribute)
    }

    /// The condition `compare` on the field as a plain sort key, for a
    /// query's [`SortOn`](crate::SortOn).
    pub fn sort_compare(
        &self,
        compare: crate::Compare<T>,
    ) -> Result<crate::SortKeyCondition, crate::KeyError> {
        use crate::{Compare, SortKeyCondition as C};
        let e = |v: &T| self.encode(v);
        Ok(match compare {
            Compare::Equal(v) => C::Equal(e(&v)),
            Compare::BeginsWith(prefix) => C::BeginsWith(prefix),
            Compare::Lt(v) => C::lt(e(&v)),
            Compare::Le(v) => C::le(e(&v)),
            Compare::Gt(v) => C::gt(e(&v)),
            Compare::Ge(v) => C::ge(e(&v)),
            Compare::Between(low, high) => C::between(e(&low), e(&high)),
        })
    }

    /// The condition `compare` on the field as the next attribute of a
    /// multi-attribute sort key, the leading attributes equal to `equal`
    /// (the earlier fields' keys), for a query's [`SortOn`](crate::SortOn).
    pub fn sort_compare_after<const N: usize>(
        &self,
        equal: [crate::key::RenderedKey; N],
        compare: crate::Compare<T>,
    ) -> Result<crate::SortKeyCondition, crate::KeyError> {
        let mut values = Vec::with_capacity(N);
        for key in equal {
            let (attribute, value) = key.into_parts();
            values.push((attribute, value?));
        }
        Ok(crate::SortKeyCondition::Then {
            equal: values,
            attribute: self.attribute,
            condition: Box::new(self.sort_compare(compare)?),
        })
    }

    /// Decodes a stored value of the field.
    pub fn decode(&self, value: AttributeValue) -> Result<T, DecodeErrorKind> {
        (self.decode)(value)
    }

    /// The attribute name.
    pub fn attribute(&self) -> &'static str {
        self.attribute
    }

    fn compare(self, op: Op, value: T) -> Condition<I> {
        Condition::new(Node::Compare(self.attribute, op, (self.encode)(&value)))
    }

    /// The field equals `value`.
    pub fn eq(self, value: impl IntoValue<T>) -> Condition<I> {
        self.compare(Op::Eq, value.into_value())
    }

    /// The field differs from `value` (or is absent).
    pub fn ne(self, value: impl IntoValue<T>) -> Condition<I> {
        self.compare(Op::Ne, value.into_value())
    }

    /// The field equals one of `values`.
    pub fn is_in<V: IntoValue<T>>(self, values: impl IntoIterator<Item = V>) -> Condition<I> {
        let values = values
            .into_iter()
            .map(|v| (self.encode)(&v.into_value()))
            .collect();
        Condition::new(Node::In(self.attribute, values))
    }

    /// The attribute is stored.
    pub fn exists(self) -> Condition<I> {
        Condition::new(Node::Exists(self.attribute))
    }

    /// The attribute is not stored.
    pub fn not_exists(self) -> Condition<I> {
        Condition::new(Node::NotExists(self.attribute))
    }

    /// The size of the attribute: characters of text, bytes of binary data,
    /// elements of a set, list or map.
    pub fn size(self) -> Size<I> {
        Size {
            attribute: self.attribute,
            item: PhantomData,
        }
    }
}

impl<I, T: Ordered, A> Path<I, T, A> {
    /// The field is less than `value`.
    pub fn lt(self, value: impl IntoValue<T>) -> Condition<I> {
        self.compare(Op::Lt, value.into_value())
    }

    /// The field is at most `value`.
    pub fn le(self, value: impl IntoValue<T>) -> Condition<I> {
        self.compare(Op::Le, value.into_value())
    }

    /// The field is greater than `value`.
    pub fn gt(self, value: impl IntoValue<T>) -> Condition<I> {
        self.compare(Op::Gt, value.into_value())
    }

    /// The field is at least `value`.
    pub fn ge(self, value: impl IntoValue<T>) -> Condition<I> {
        self.compare(Op::Ge, value.into_value())
    }

    /// `low <= field <= high`.
    pub fn between(self, low: impl IntoValue<T>, high: impl IntoValue<T>) -> Condition<I> {
        Condition::new(Node::Between(
            self.attribute,
            (self.encode)(&low.into_value()),
            (self.encode)(&high.into_value()),
        ))
    }
}

impl<I, A> Path<I, String, A> {
    /// The field as a plain key attribute with text `value`.
    pub fn key_text(&self, value: &str) -> crate::key::RenderedKey {
        crate::key::RenderedKey::plain(self.attribute, AttributeValue::S(value.to_owned()))
    }

    /// The text starts with `prefix`.
    pub fn begins_with(self, prefix: impl Into<String>) -> Condition<I> {
        Condition::new(Node::BeginsWith(
            self.attribute,
            AttributeValue::S(prefix.into()),
        ))
    }
}

impl<I, T, A> Path<I, T, A> {
    /// Text contains a substring; a set or list contains an element.
    pub fn contains<E: crate::Attribute>(self, value: impl IntoValue<E>) -> Condition<I>
    where
        T: Contains<E>,
    {
        Condition::new(Node::Contains(
            self.attribute,
            value.into_value().to_attribute(),
        ))
    }
}

/// The size of a field, for conditions: `f.tags.size().le(10)`.
#[derive(Debug, Clone, Copy)]
pub struct Size<I> {
    attribute: &'static str,
    item: PhantomData<fn() -> I>,
}

impl<I> Size<I> {
    fn compare(self, op: Op, n: u64) -> Condition<I> {
        Condition::new(Node::Size(self.attribute, op, n))
    }

    /// The size is `n`.
    pub fn eq(self, n: u64) -> Condition<I> {
        self.compare(Op::Eq, n)
    }

    /// The size is not `n`.
    pub fn ne(self, n: u64) -> Condition<I> {
        self.compare(Op::Ne, n)
    }

    /// The size is less than `n`.
    pub fn lt(self, n: u64) -> Condition<I> {
        self.compare(Op::Lt, n)
    }

    /// The size is at most `n`.
    pub fn le(self, n: u64) -> Condition<I> {
        self.compare(Op::Le, n)
    }

    /// The size is greater than `n`.
    pub fn gt(self, n: u64) -> Condition<I> {
        self.compare(Op::Gt, n)
    }

    /// The size is at least `n`.
    pub fn ge(self, n: u64) -> Condition<I> {
        self.compare(Op::Ge, n)
    }
}

/// The path of an encrypted field (`encrypted = true`): it names the
/// attribute for existence conditions, but compares nothing. A sealed
/// value is different bytes at every write (a fresh nonce), so a
/// comparison with a value, a prefix or a size could never hold as the
/// plaintext would; the compiler refuses them (no such method). Updates
/// set such a field through its generated `set_<field>`, which seals the
/// value.
pub struct EncryptedPath<I, T> {
    attribute: &'static str,
    rules: Option<Check<T>>,
    item: PhantomData<fn() -> (I, T)>,
}

impl<I, T> Clone for EncryptedPath<I, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I, T> Copy for EncryptedPath<I, T> {}

impl<I, T> fmt::Debug for EncryptedPath<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptedPath({})", self.attribute)
    }
}

impl<I, T> EncryptedPath<I, T> {
    /// The path of the encrypted field stored as `attribute`.
    #[doc(hidden)]
    pub const fn new(attribute: &'static str) -> Self {
        EncryptedPath {
            attribute,
            rules: None,
            item: PhantomData,
        }
    }

    /// The path with the field's `validate` rules, which its setter checks
    /// on the plain value.
    #[doc(hidden)]
    pub const fn rules(mut self, check: Check<T>) -> Self {
        self.rules = Some(check);
        self
    }

    /// The attribute the sealed value is stored in.
    pub fn attribute(&self) -> &'static str {
        self.attribute
    }

    /// Checks the field's rules on a plain value.
    pub(crate) fn check(&self, value: &T) -> Result<(), crate::ValidationError> {
        self.rules.map_or(Ok(()), |check| check(value))
    }

    /// The attribute is stored.
    pub fn exists(self) -> Condition<I> {
        Condition::new(Node::Exists(self.attribute))
    }

    /// The attribute is not stored.
    pub fn not_exists(self) -> Condition<I> {
        Condition::new(Node::NotExists(self.attribute))
    }
}

/// What a comparison on an encrypted field would need, and never has: the
/// methods below exist only to say why they do not compile.
#[diagnostic::on_unimplemented(
    message = "an encrypted field cannot be compared in a condition or filter",
    label = "`{Self}` is sealed at rest",
    note = "a sealed value is different bytes at every write (a fresh nonce), so DynamoDB cannot \
            compare it with a value; use `exists()` or `not_exists()`, or compare another field"
)]
pub trait Comparable: sealed::Sealed {}

macro_rules! refused_comparisons {
    ($($(#[$doc:meta])* $name:ident($($arg:ident),*);)*) => {
        impl<I, T> EncryptedPath<I, T> {
            $(
                $(#[$doc])*
                pub fn $name<V>(self, $($arg: V),*) -> Condition<I>
                where
                    Self: Comparable,
                {
                    let _ = ($($arg,)*);
                    self.exists()
                }
            )*
        }
    };
}

refused_comparisons! {
    /// Refused: see [`Comparable`].
    eq(value);
    /// Refused: see [`Comparable`].
    ne(value);
    /// Refused: see [`Comparable`].
    lt(value);
    /// Refused: see [`Comparable`].
    le(value);
    /// Refused: see [`Comparable`].
    gt(value);
    /// Refused: see [`Comparable`].
    ge(value);
    /// Refused: see [`Comparable`].
    between(low, high);
    /// Refused: see [`Comparable`].
    begins_with(prefix);
    /// Refused: see [`Comparable`].
    contains(value);
}

#[cfg(test)]
mod tests {
    use super::*;
    struct Shop;

    #[test]
    fn renders_with_placeholders_only() {
        let name: Path<Shop, String> = Path::new("name");
        let total: Path<Shop, u64> = Path::new("total");
        let tags: Path<Shop, std::collections::BTreeSet<String>> = Path::new("tags");
        let c = name
            .eq("Ann")
            .and(total.between(1, 10).or(!tags.contains("vip")))
            .and(tags.size().le(3));
        let mut expr = Expr::new();
        let text = c.into_node().render(&mut expr);
        assert_eq!(
            text,
            "((#n0 = :v0) AND ((#n1 BETWEEN :v1 AND :v2) OR (NOT (contains(#n2, :v3))))) AND (size(#n2) <= :v4)"
        );
        assert_eq!(expr.names().unwrap()["#n0"], "name");
        assert_eq!(
            expr.values().unwrap()[":v3"],
            AttributeValue::S("vip".into())
        );
    }
}
