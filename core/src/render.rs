//! Rendering a decision: the programs' outcomes → the assessment of interfaces.md §1.
//!
//! A [`Decision`] (what the programs decided, with the household it is about) renders two
//! ways that give the same result:
//!
//! * [`Decision::into_assessment`]: the [`Assessment`] value of the Rust API, Python and
//!   wasm (messages in the asked language, reason values as JSON values);
//! * [`Decision::write_json`]: the compact JSON text of that assessment written straight
//!   into a buffer, without building it. `batch` and the JSON doors take this way: building
//!   the JSON values of every reason and dropping them again cost more than writing them.
//!
//! Both go through the same helpers (which member breakdown comes first, which message
//! and basis a reason gets); tests compare `write_json` with `into_assessment().to_json()`
//! byte for byte.

use crate::assessment::{Assessment, DerivedMemberOut, DerivedOut, ProgramResult, Reason, Totals, TraceEntry};
use crate::household::Derived;
use crate::json::{write_int, write_str};
use crate::messages::{Fill, Template};
use crate::money::{self, Money};
use crate::script::value::Val;
use crate::script::{Outcome, RawReason};
use crate::{date, Date, Engine, Household};
use rust_decimal::Decimal;

/// What the programs decided on one household, before rendering.
pub(crate) struct Decision<'a> {
    pub engine: &'a Engine,
    pub h: &'a Household,
    pub as_of: Date,
    /// The language of messages (one of the pack's) and its position among them.
    pub lang: &'a str,
    pub lang_index: usize,
    pub derived: Derived,
    /// In the pack's run order.
    pub outcomes: Vec<Outcome>,
    /// Sums of eligible amounts: monthly, one-off, annual.
    pub totals: [Decimal; 3],
    pub trace: Option<Vec<TraceEntry>>,
}

impl Decision<'_> {
    /// The assessment as a value.
    pub fn into_assessment(self) -> Assessment {
        let pack = &*self.engine.pack;
        let programs = pack
            .programs
            .iter()
            .zip(&self.outcomes)
            .map(|(p, o)| (p.id.clone(), self.program(o)))
            .collect();
        let (h, d) = (self.h, &self.derived);
        Assessment {
            household_id: h.id.clone(),
            as_of: date::format_date(self.as_of),
            region: h.region.clone(),
            rule_pack: pack.info.clone(),
            derived: DerivedOut {
                size: d.size,
                counted_income: Money(d.counted_income),
                rigid_medical_deduction: Money(d.rigid_medical_deduction),
                subsistence_income: Money(d.subsistence_income),
                per_capita_income: Money(d.per_capita_income),
                members: h
                    .members
                    .iter()
                    .zip(&d.members)
                    .map(|(m, dm)| {
                        let out = DerivedMemberOut {
                            age: dm.age,
                            work_capacity: dm.work_capacity.as_str(),
                            working_age: dm.working_age,
                            counted_income: Money(dm.counted_income),
                        };
                        (m.id.clone(), out)
                    })
                    .collect(),
            },
            programs,
            totals: Totals { monthly: Money(self.totals[0]), one_off: Money(self.totals[1]), annual: Money(self.totals[2]) },
            trace: self.trace,
        }
    }

    fn program(&self, o: &Outcome) -> ProgramResult {
        let reasons = o
            .reasons
            .iter()
            .map(|r| {
                let entry = self.entry(r);
                let mut message = String::new();
                self.message_into(&mut message, r, entry);
                let values = r.values.iter().map(|(k, v)| (k.as_str().to_string(), v.to_json())).collect();
                Reason { code: r.code.clone(), message, basis: basis(r, entry).to_string(), values }
            })
            .collect();
        ProgramResult {
            status: o.status.as_str(),
            category: o.category.clone(),
            amount: Money(o.amount),
            period: o.period.as_str(),
            members: member_order(self.h, o).map(|(id, v)| (id.to_string(), v.to_json())).collect(),
            reasons,
            details: o.details.iter().map(|(k, v)| (k.as_str().to_string(), v.to_json())).collect(),
        }
    }

    /// Each program's id and outcome, in run order.
    pub fn programs(&self) -> impl Iterator<Item = (&str, &Outcome)> {
        self.engine.pack.programs.iter().map(|p| p.id.as_str()).zip(&self.outcomes)
    }

    /// The message template of a reason: in the asked language, else the pack's first.
    fn entry(&self, r: &RawReason) -> Option<&Template> {
        self.engine.pack.templates.get(&r.code, self.lang_index)
    }

    /// The message of a reason (its code when the catalog has none), appended to `out`.
    fn message_into(&self, out: &mut String, r: &RawReason, entry: Option<&Template>) {
        match entry {
            Some(t) => self.engine.pack.templates.render_into(out, t, self.lang_index, self.lang, |name| fill(r.values.get(name))),
            None => out.push_str(&r.code),
        }
    }

    /// Appends the compact JSON of [`Decision::into_assessment`] to `out`: the bytes of
    /// `into_assessment().to_json()`, without building the assessment.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let pack = &*self.engine.pack;
        let (h, d) = (self.h, &self.derived);
        out.extend_from_slice(b"{\"household_id\":");
        write_str(out, &h.id);
        out.extend_from_slice(b",\"as_of\":");
        write_str(out, &date::format_date(self.as_of));
        out.extend_from_slice(b",\"region\":");
        write_str(out, &h.region);
        out.extend_from_slice(b",\"rule_pack\":{\"name\":");
        write_str(out, &pack.info.name);
        out.extend_from_slice(b",\"version\":");
        write_str(out, &pack.info.version);
        out.extend_from_slice(b",\"digest\":");
        write_str(out, &pack.info.digest);
        out.extend_from_slice(b"},\"derived\":{\"size\":");
        write_int(out, d.size as i64);
        out.extend_from_slice(b",\"counted_income\":");
        money::write_json(out, d.counted_income);
        out.extend_from_slice(b",\"rigid_medical_deduction\":");
        money::write_json(out, d.rigid_medical_deduction);
        out.extend_from_slice(b",\"subsistence_income\":");
        money::write_json(out, d.subsistence_income);
        out.extend_from_slice(b",\"per_capita_income\":");
        money::write_json(out, d.per_capita_income);
        out.extend_from_slice(b",\"members\":{");
        // An id given twice keeps its first entry, as a map does.
        let mut first = true;
        for (i, (m, dm)) in h.members.iter().zip(&d.members).enumerate() {
            if h.members[..i].iter().any(|x| x.id == m.id) {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            // A later member with the same id replaces the values (IndexMap::insert).
            let dm = h.members.iter().zip(&d.members).rev().find(|(x, _)| x.id == m.id).map_or(dm, |(_, dm)| dm);
            write_str(out, &m.id);
            out.extend_from_slice(b":{\"age\":");
            write_int(out, dm.age);
            out.extend_from_slice(b",\"work_capacity\":");
            write_str(out, dm.work_capacity.as_str());
            out.extend_from_slice(if dm.working_age { b",\"working_age\":true" } else { b",\"working_age\":false" });
            out.extend_from_slice(b",\"counted_income\":");
            money::write_json(out, dm.counted_income);
            out.push(b'}');
        }
        out.extend_from_slice(b"}},\"programs\":{");
        let mut message = String::new();
        for (i, (p, o)) in pack.programs.iter().zip(&self.outcomes).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, &p.id);
            out.extend_from_slice(b":{\"status\":");
            write_str(out, o.status.as_str());
            if let Some(c) = &o.category {
                out.extend_from_slice(b",\"category\":");
                write_str(out, c);
            }
            out.extend_from_slice(b",\"amount\":");
            money::write_json(out, o.amount);
            out.extend_from_slice(b",\"period\":");
            write_str(out, o.period.as_str());
            let mut members = member_order(h, o).peekable();
            if members.peek().is_some() {
                out.extend_from_slice(b",\"members\":{");
                for (j, (id, v)) in members.enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    write_str(out, id);
                    out.push(b':');
                    write_val(out, v);
                }
                out.push(b'}');
            }
            out.extend_from_slice(b",\"reasons\":[");
            for (j, r) in o.reasons.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                let entry = self.entry(r);
                out.extend_from_slice(b"{\"code\":");
                write_str(out, &r.code);
                out.extend_from_slice(b",\"message\":");
                message.clear();
                self.message_into(&mut message, r, entry);
                write_str(out, &message);
                out.extend_from_slice(b",\"basis\":");
                write_str(out, basis(r, entry));
                out.extend_from_slice(b",\"values\":");
                write_map(out, r.values.iter().map(|(k, v)| (k.as_str(), v)));
                out.push(b'}');
            }
            out.push(b']');
            if !o.details.is_empty() {
                out.extend_from_slice(b",\"details\":");
                write_map(out, o.details.iter().map(|(k, v)| (k.as_str(), v)));
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"},\"totals\":{\"monthly\":");
        money::write_json(out, self.totals[0]);
        out.extend_from_slice(b",\"one_off\":");
        money::write_json(out, self.totals[1]);
        out.extend_from_slice(b",\"annual\":");
        money::write_json(out, self.totals[2]);
        out.push(b'}');
        if let Some(trace) = &self.trace {
            out.extend_from_slice(b",\"trace\":");
            serde_json::to_writer(&mut *out, trace).expect("a trace always serializes");
        }
        out.push(b'}');
    }
}

/// A reason's legal basis: the script's own, else the catalog's, else empty.
fn basis<'r>(r: &'r RawReason, entry: Option<&'r Template>) -> &'r str {
    r.basis.as_deref().or(entry.map(|e| e.basis.as_str())).unwrap_or("")
}

/// Per-member breakdowns in the household's member order, then any other ids in the
/// script's order; an id given twice keeps its first breakdown.
fn member_order<'o>(h: &'o Household, o: &'o Outcome) -> impl Iterator<Item = (&'o str, &'o Val)> {
    let known = h.members.iter().enumerate().filter_map(move |(i, m)| {
        if h.members[..i].iter().any(|x| x.id == m.id) {
            return None;
        }
        o.members.iter().find(|(id, _)| *id == m.id).map(|(id, v)| (id.as_str(), v))
    });
    let others = o.members.iter().enumerate().filter_map(move |(i, (id, v))| {
        let seen = h.members.iter().any(|m| m.id == *id) || o.members[..i].iter().any(|(x, _)| x == id);
        (!seen).then_some((id.as_str(), v))
    });
    known.chain(others)
}

/// A value filling a message placeholder.
fn fill(v: Option<&Val>) -> Option<Fill<'_>> {
    Some(match v? {
        Val::Dec(d) => Fill::Decimal(*d),
        Val::Int(i) => Fill::Int(*i),
        Val::Bool(b) => Fill::Bool(*b),
        Val::Str(s) => Fill::Text(std::borrow::Cow::Borrowed(s.as_str())),
        Val::Array(a) => Fill::List(a.iter().map(|x| x.to_string()).collect()),
        other => Fill::Text(std::borrow::Cow::Owned(other.to_string())),
    })
}

/// Appends [`Val::to_json`]'s JSON text (decimals as strings with two places).
fn write_val(out: &mut Vec<u8>, v: &Val) {
    match v {
        Val::Unit => out.extend_from_slice(b"null"),
        Val::Bool(true) => out.extend_from_slice(b"true"),
        Val::Bool(false) => out.extend_from_slice(b"false"),
        Val::Int(i) => write_int(out, *i),
        Val::Dec(d) => money::write_json(out, *d),
        Val::Str(s) => write_str(out, s),
        Val::Array(items) => {
            out.push(b'[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_val(out, x);
            }
            out.push(b']');
        }
        Val::Map(m) => write_map(out, m.iter().map(|(k, v)| (k.as_str(), v))),
    }
}

/// A map's entries (sorted by key, as a JSON object from [`Val::to_json`] keeps them).
fn write_map<'v>(out: &mut Vec<u8>, entries: impl Iterator<Item = (&'v str, &'v Val)>) {
    out.push(b'{');
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        write_val(out, v);
    }
    out.push(b'}');
}
