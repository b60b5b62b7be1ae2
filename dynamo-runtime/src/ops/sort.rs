//! Sort-key conditions of queries, typed by the field they compare: a
//! generated query's `<field>()` returns a [`SortOn`], whose methods are
//! the conditions the key allows on that field.

use std::marker::PhantomData;

use crate::{IntoValue, KeyError, SortKeyCondition};

/// A comparison of one field of a sort key with values of the field's
/// type: what [`SortOn`] builds, and key templates and plain key fields
/// turn into a [`SortKeyCondition`].
#[derive(Debug, Clone, PartialEq)]
pub enum Compare<T> {
    /// Equal (for a field before the end of the key: every key that
    /// continues with it).
    Equal(T),
    /// Text beginning with a prefix.
    BeginsWith(String),
    /// Less than.
    Lt(T),
    /// At most.
    Le(T),
    /// Greater than.
    Gt(T),
    /// At least.
    Ge(T),
    /// Between two values, both included.
    Between(T, T),
}

impl<T: crate::KeyPart> Compare<T> {
    /// The comparison with its values as key parts, for the untyped
    /// template code (compiled once, not per value type).
    pub(crate) fn as_dyn(&self) -> Compare<&dyn crate::KeyPart> {
        match self {
            Compare::Equal(v) => Compare::Equal(v),
            Compare::BeginsWith(p) => Compare::BeginsWith(p.clone()),
            Compare::Lt(v) => Compare::Lt(v),
            Compare::Le(v) => Compare::Le(v),
            Compare::Gt(v) => Compare::Gt(v),
            Compare::Ge(v) => Compare::Ge(v),
            Compare::Between(low, high) => Compare::Between(low, high),
        }
    }
}

/// A sort-key field whose text order is not its value order (text of
/// varying width before the end of the key): [`SortOn`] offers equality
/// only (and `begins_with` for text).
#[derive(Debug, Clone, Copy)]
pub struct Exact;

/// A sort-key field whose text order is its value order (it ends the key,
/// or renders at a fixed width): [`SortOn`] offers ranges too.
#[derive(Debug, Clone, Copy)]
pub struct Ranged;

/// The order marker of a sort-key field that allows ranges: [`Ranged`].
#[diagnostic::on_unimplemented(
    message = "no range conditions on this sort-key field: the key's text order is not its value order",
    label = "ranges need a field that ends the key or renders at a fixed width",
    note = "a field of varying width before the end of the key sorts as text, not by value; \
            `eq` and `begins_with` work, or give the field a fixed width (`{{field:05}}`)"
)]
pub trait Ranges {}

impl Ranges for Ranged {}

/// What a [`SortOn`] hands its condition back to: a generated query
/// (`query_options!` implements it).
#[doc(hidden)]
pub trait SortKeyed: Sized {
    /// The query once it has its sort-key condition: the same type, or
    /// (a multi-attribute key, which takes one condition read left to
    /// right) a type without further sort-key methods.
    type Sorted;

    /// The query with the sort-key condition.
    fn with_sort_key(self, condition: Result<SortKeyCondition, KeyError>) -> Self::Sorted;
}

/// The sort-key conditions on one field of a query's sort key, the fields
/// before it in the key equal to values given already: what a generated
/// query's `<field>()` method returns, e.g.
/// `Order::query("c-1").placed_on().begins_with("2024-02")`. Each
/// condition returns the query. `T` is the field's type; `R` ([`Ranged`]
/// or [`Exact`]) says whether the key's text order allows ranges on it.
#[must_use = "choose a condition: `eq`, `begins_with`, `lt`, ..."]
pub struct SortOn<Q, T, R = Ranged> {
    query: Q,
    condition: Box<dyn FnOnce(Compare<T>) -> Result<SortKeyCondition, KeyError>>,
    order: PhantomData<R>,
}

impl<Q, T, R> std::fmt::Debug for SortOn<Q, T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SortOn").finish_non_exhaustive()
    }
}

impl<Q: SortKeyed, T, R> SortOn<Q, T, R> {
    /// Conditions on a field of `query`'s sort key, each turned into the
    /// key's condition by `condition`.
    #[doc(hidden)]
    pub fn new(
        query: Q,
        condition: impl FnOnce(Compare<T>) -> Result<SortKeyCondition, KeyError> + 'static,
    ) -> Self {
        SortOn {
            query,
            condition: Box::new(condition),
            order: PhantomData,
        }
    }

    fn apply(self, compare: Compare<T>) -> Q::Sorted {
        let condition = (self.condition)(compare);
        self.query.with_sort_key(condition)
    }

    /// Only items whose field equals `value`.
    pub fn eq(self, value: impl IntoValue<T>) -> Q::Sorted {
        self.apply(Compare::Equal(value.into_value()))
    }
}

impl<Q: SortKeyed, R> SortOn<Q, String, R> {
    /// Only items whose field begins with `prefix`.
    pub fn begins_with(self, prefix: impl Into<String>) -> Q::Sorted {
        self.apply(Compare::BeginsWith(prefix.into()))
    }
}

impl<Q: SortKeyed, T, R> SortOn<Q, T, R> {
    /// Only items whose field is less than `value`.
    pub fn lt(self, value: impl IntoValue<T>) -> Q::Sorted
    where
        R: Ranges,
    {
        self.apply(Compare::Lt(value.into_value()))
    }

    /// Only items whose field is at most `value`.
    pub fn le(self, value: impl IntoValue<T>) -> Q::Sorted
    where
        R: Ranges,
    {
        self.apply(Compare::Le(value.into_value()))
    }

    /// Only items whose field is greater than `value`.
    pub fn gt(self, value: impl IntoValue<T>) -> Q::Sorted
    where
        R: Ranges,
    {
        self.apply(Compare::Gt(value.into_value()))
    }

    /// Only items whose field is at least `value`.
    pub fn ge(self, value: impl IntoValue<T>) -> Q::Sorted
    where
        R: Ranges,
    {
        self.apply(Compare::Ge(value.into_value()))
    }

    /// Only items whose field is between `low` and `high`, both included.
    pub fn between(self, low: impl IntoValue<T>, high: impl IntoValue<T>) -> Q::Sorted
    where
        R: Ranges,
    {
        self.apply(Compare::Between(low.into_value(), high.into_value()))
    }
}
