//! Migrations beyond validation: what the executor needs from them
//! ([`resolve`]), the table state they build and its difference to the
//! schemas ([`plan`]).

pub mod plan;
pub mod resolve;
#[cfg(feature = "cli")]
pub mod runtime;
