//! The household: `model` (typed profile) → `parse` (JSON with every error and its path)
//! → `derive` (ages, capacities, counted incomes: policy.md §0).

pub mod derive;
pub mod fast;
pub mod model;
pub mod parse;
pub mod value;
pub mod words;

pub use derive::{derive, DeriveParams, Derived, DerivedMember};
pub use fast::read_household_fast;
pub use model::*;
pub use parse::{parse_household_text, peek_as_of, read_household};
pub use value::read_household_value;
pub use words::read_household_words;
