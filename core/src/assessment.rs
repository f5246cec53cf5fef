//! The assessment: what every door returns (interfaces.md §1).

use crate::money::Money;
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Assessment {
    pub household_id: String,
    pub as_of: String,
    pub region: String,
    pub rule_pack: PackInfo,
    pub derived: DerivedOut,
    /// In run order (dependencies first, then the order of pack.toml).
    pub programs: IndexMap<String, ProgramResult>,
    pub totals: Totals,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<TraceEntry>>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PackInfo {
    pub name: String,
    pub version: String,
    pub digest: String,
}

/// The figures of policy.md §0, as reported.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DerivedOut {
    pub size: usize,
    pub counted_income: Money,
    pub rigid_medical_deduction: Money,
    pub subsistence_income: Money,
    pub per_capita_income: Money,
    pub members: IndexMap<String, DerivedMemberOut>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DerivedMemberOut {
    pub age: i64,
    pub work_capacity: &'static str,
    pub working_age: bool,
    pub counted_income: Money,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProgramResult {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub amount: Money,
    pub period: &'static str,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub members: IndexMap<String, Value>,
    pub reasons: Vec<Reason>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub details: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Reason {
    pub code: String,
    pub message: String,
    pub basis: String,
    pub values: Map<String, Value>,
}

/// Sums of the amounts of `eligible` programs, by period (a `review` amount is only a proposal).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Totals {
    pub monthly: Money,
    pub one_off: Money,
    pub annual: Money,
}

/// One line of the audit trace: enough to replay a decision.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TraceEntry {
    /// A parameter read: its value, the region code it resolved at, its effective date and source.
    Parameter {
        #[serde(skip_serializing_if = "Option::is_none")]
        program: Option<String>,
        name: String,
        region: String,
        value: String,
        from: Option<String>,
        source: String,
    },
    /// An intermediate figure a script recorded with `step(label, value)`.
    Step { program: String, label: String, value: Value },
    /// A program's result.
    Result { program: String, status: &'static str, category: Option<String>, amount: Money },
}

impl Assessment {
    /// Compact JSON, the form `evaluate` and `batch` print.
    pub fn to_json(&self) -> String {
        // One allocation of about the right size (the last assessment's on this thread)
        // instead of a buffer doubled from 128 bytes a handful of times.
        thread_local! {
            static LAST_LEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
        }
        let hint = LAST_LEN.with(|l| l.get());
        let mut out = Vec::with_capacity(hint + hint / 8 + 256);
        self.write_json(&mut out);
        LAST_LEN.with(|l| l.set(out.len()));
        String::from_utf8(out).expect("JSON is UTF-8")
    }

    /// Appends [`Assessment::to_json`] to `out` (no line ending): with a buffer kept from
    /// one assessment to the next, nothing is allocated for the text.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        serde_json::to_writer(out, self).expect("an assessment always serializes")
    }
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("an assessment always serializes")
    }
}
