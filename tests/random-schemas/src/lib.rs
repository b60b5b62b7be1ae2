//! Code generated from seeded random schemas (see `build.rs` and
//! `src/generator.rs`), compiled together: a schema that `dynamo-codegen check`
//! accepts must generate code that compiles warning-free, and clippy-clean
//! (`cargo clippy --workspace --all-targets -- -D warnings` covers this
//! crate). `DYNAMO_RANDOM_SCHEMAS=N` compiles N of them (default 120).

#![deny(warnings)]

pub mod generator;

include!(concat!(env!("OUT_DIR"), "/schemas.rs"));

/// The custom type random schemas name (`crate::custom::Money`).
pub mod custom {
    use dynamo_runtime::{Attribute, AttributeValue, DecodeErrorKind};

    /// An amount with its currency, stored as text.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Money(pub String);

    impl Attribute for Money {
        const DYNAMO_TYPE: &'static str = "S";

        fn to_attribute(&self) -> AttributeValue {
            AttributeValue::S(self.0.clone())
        }

        fn from_attribute(value: AttributeValue) -> Result<Self, DecodeErrorKind> {
            String::from_attribute(value).map(Money)
        }
    }
}
