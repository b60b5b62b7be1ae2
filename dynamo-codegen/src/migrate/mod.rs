//! Migrations beyond validation: the table state they build, its
//! difference to the schemas, and the next migration written from that
//! difference ([`plan`]).

pub mod items;
pub mod plan;
