//! The table and migration model, shared by the generator, the generated
//! code, the migration executor and the command line.
//!
//! Generated code holds it as static data (borrowed text); the generator and
//! the command line build it from schema files (owned text). [`Text`] and
//! [`List`] are copy-on-write so that both are the same types, and nothing
//! here needs the AWS SDK: `dynamo-codegen` uses this module with the
//! runtime's `client` feature off.

mod migration;
mod table;
pub mod template;

use std::borrow::Cow;

pub use migration::{Backfill, Edit, FieldDef, ItemDef, Literal, Migration, Rewrite, Step};
pub use table::{
    Billing, IndexDef, IndexKind, KeyAttributeDef, KeyType, Projection, StreamView, TableDef,
    Throughput,
};
pub use template::{FieldFormat, Template, TemplateField};

/// Text of the model: borrowed in generated statics, owned when read from
/// files.
pub type Text = Cow<'static, str>;

/// A list of the model: borrowed in generated statics, owned when read from
/// files. (Write a borrowed one as `Cow::Borrowed(&[...])`: the type alias'
/// variant would not extend the array's lifetime in a `const`.)
pub type List<T> = Cow<'static, [T]>;

/// Borrowed [`Text`], for generated statics.
pub const fn text(text: &'static str) -> Text {
    Cow::Borrowed(text)
}
