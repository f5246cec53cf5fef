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
    /// In the asked language; `None` (and no `message` key in the JSON) when the caller
    /// asked for none ([`crate::Options::messages`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
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
    /// Written by hand ([`crate::json`]), byte for byte what `serde_json::to_writer` gives
    /// for the derived `Serialize` (tests compare the two).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        use crate::json::{write_int, write_object, write_str};
        let money = |out: &mut Vec<u8>, m: &Money| crate::money::write_json(out, m.0);
        out.extend_from_slice(b"{\"household_id\":");
        write_str(out, &self.household_id);
        out.extend_from_slice(b",\"as_of\":");
        write_str(out, &self.as_of);
        out.extend_from_slice(b",\"region\":");
        write_str(out, &self.region);
        out.extend_from_slice(b",\"rule_pack\":{\"name\":");
        write_str(out, &self.rule_pack.name);
        out.extend_from_slice(b",\"version\":");
        write_str(out, &self.rule_pack.version);
        out.extend_from_slice(b",\"digest\":");
        write_str(out, &self.rule_pack.digest);
        let d = &self.derived;
        out.extend_from_slice(b"},\"derived\":{\"size\":");
        write_int(out, d.size as i64);
        out.extend_from_slice(b",\"counted_income\":");
        money(out, &d.counted_income);
        out.extend_from_slice(b",\"rigid_medical_deduction\":");
        money(out, &d.rigid_medical_deduction);
        out.extend_from_slice(b",\"subsistence_income\":");
        money(out, &d.subsistence_income);
        out.extend_from_slice(b",\"per_capita_income\":");
        money(out, &d.per_capita_income);
        out.extend_from_slice(b",\"members\":{");
        for (i, (id, m)) in d.members.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, id);
            out.extend_from_slice(b":{\"age\":");
            write_int(out, m.age);
            out.extend_from_slice(b",\"work_capacity\":");
            write_str(out, m.work_capacity);
            out.extend_from_slice(if m.working_age { b",\"working_age\":true" } else { b",\"working_age\":false" });
            out.extend_from_slice(b",\"counted_income\":");
            money(out, &m.counted_income);
            out.push(b'}');
        }
        out.extend_from_slice(b"}},\"programs\":{");
        for (i, (id, p)) in self.programs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, id);
            out.extend_from_slice(b":{\"status\":");
            write_str(out, p.status);
            if let Some(c) = &p.category {
                out.extend_from_slice(b",\"category\":");
                write_str(out, c);
            }
            out.extend_from_slice(b",\"amount\":");
            money(out, &p.amount);
            out.extend_from_slice(b",\"period\":");
            write_str(out, p.period);
            if !p.members.is_empty() {
                out.extend_from_slice(b",\"members\":");
                write_object(out, p.members.iter());
            }
            out.extend_from_slice(b",\"reasons\":[");
            for (j, r) in p.reasons.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"code\":");
                write_str(out, &r.code);
                if let Some(m) = &r.message {
                    out.extend_from_slice(b",\"message\":");
                    write_str(out, m);
                }
                out.extend_from_slice(b",\"basis\":");
                write_str(out, &r.basis);
                out.extend_from_slice(b",\"values\":");
                write_object(out, r.values.iter());
                out.push(b'}');
            }
            out.push(b']');
            if !p.details.is_empty() {
                out.extend_from_slice(b",\"details\":");
                write_object(out, p.details.iter());
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"},\"totals\":{\"monthly\":");
        money(out, &self.totals.monthly);
        out.extend_from_slice(b",\"one_off\":");
        money(out, &self.totals.one_off);
        out.extend_from_slice(b",\"annual\":");
        money(out, &self.totals.annual);
        out.push(b'}');
        if let Some(trace) = &self.trace {
            // Rare (asked for) and tagged: serde's own output.
            out.extend_from_slice(b",\"trace\":");
            serde_json::to_writer(&mut *out, trace).expect("a trace always serializes");
        }
        out.push(b'}');
    }
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("an assessment always serializes")
    }
}
