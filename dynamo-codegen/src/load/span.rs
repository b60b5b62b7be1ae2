//! Values with the byte ranges they were read from.

use std::{
    borrow::Borrow,
    collections::BTreeMap,
    fmt,
    ops::{Deref, Range},
};

use serde::{Deserialize, Serialize};
use toml::Spanned;

#[cfg(feature = "json-schema")]
use schemars::JsonSchema;

/// A value with the byte range it was read from.
///
/// A thin wrapper over [`toml::Spanned`] that compares by value, derefs to
/// the value and describes itself in the JSON Schema as the value does.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Sp<T>(pub Spanned<T>);

impl<T> Sp<T> {
    /// A value at `span`.
    pub fn new(span: Range<usize>, value: T) -> Self {
        Sp(Spanned::new(span, value))
    }

    /// The byte range of the value in its file.
    pub fn span(&self) -> Range<usize> {
        self.0.span()
    }

    /// The value.
    pub fn get(&self) -> &T {
        self.0.get_ref()
    }
}

impl<T: Default> Default for Sp<T> {
    fn default() -> Self {
        Sp::new(0..0, T::default())
    }
}

impl<T> Deref for Sp<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0.get_ref()
    }
}

impl<T: fmt::Debug> fmt::Debug for Sp<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.get_ref().fmt(f)
    }
}

impl Borrow<str> for Sp<String> {
    fn borrow(&self) -> &str {
        self.0.get_ref()
    }
}

#[cfg(feature = "json-schema")]
impl<T: JsonSchema> JsonSchema for Sp<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// A shorthand string's span is unknown inside its visitor (the enclosing
/// `Sp` holds it); this gives the inner span, or `outer` for shorthands.
pub fn span_or<T>(inner: &Sp<T>, outer: Range<usize>) -> Range<usize> {
    if inner.span().is_empty() {
        outer
    } else {
        inner.span()
    }
}

/// A map from a name as written (with its span) to a section.
pub type Named<T> = BTreeMap<Sp<String>, Sp<T>>;
