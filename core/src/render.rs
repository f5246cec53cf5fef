//! Rendering a decision: the programs' outcomes → the assessment of interfaces.md §1.
//!
//! A [`Decision`] (what the programs decided, with the household it is about) renders
//! either as the [`Assessment`] value ([`Decision::into_assessment`]) or, without building
//! that value, as a stream of events into a [`Sink`] ([`Decision::emit`]): the keys and
//! values of the assessment's JSON form, in order. The JSON text of `batch`,
//! `evaluate_json` and wasm is one sink ([`Decision::write_json`]); the Python binding
//! builds its dicts with another. Building the JSON values of every reason only to drop
//! them again cost more than writing them.
//!
//! Both ways go through the same helpers (which member breakdown comes first, which message
//! and basis a reason gets); tests compare `write_json` with `into_assessment().to_json()`
//! byte for byte.

use crate::assessment::{Assessment, DerivedMemberOut, DerivedOut, ProgramResult, Reason, Totals, TraceEntry};
use crate::household::Derived;
use crate::json::{write_int, write_str};
use std::borrow::Cow;
use crate::messages::{Fill, Template};
use crate::money::{self, Money};
use crate::script::value::{Val, ValRef};
use crate::script::{Outcome, Outcomes, RawReason};
use crate::{date, Date, Engine, Household};
use rust_decimal::Decimal;

/// What the programs decided on one household, before rendering (see the module
/// documentation); made by [`Engine::decide_input`] and [`Engine::decide_many`].
///
/// `O` holds the outcomes: [`Outcomes`] (the default, what the engine hands out), which
/// can move to another thread; inside the crate, a decision rendered on the thread that
/// made it keeps them as a plain `Vec` and skips making them sole owners of their parts.
pub struct Decision<'a, O = Outcomes> {
    pub(crate) engine: &'a Engine,
    pub(crate) h: Cow<'a, Household>,
    pub(crate) as_of: Date,
    /// The language of messages (one of the pack's) and its position among them.
    pub(crate) lang: &'a str,
    pub(crate) lang_index: usize,
    /// Whether reasons get their `message` ([`crate::Options::messages`]).
    pub(crate) messages: bool,
    pub(crate) derived: Derived,
    /// In the pack's run order.
    pub(crate) outcomes: O,
    /// Sums of eligible amounts: monthly, one-off, annual.
    pub(crate) totals: [Decimal; 3],
    pub(crate) trace: Option<Vec<TraceEntry>>,
}

/// What a [`Decision`] is written into: the events of the assessment's JSON form, in its
/// order. Maps and lists open and close; inside a map each value follows its key.
pub trait Sink {
    fn open_map(&mut self);
    fn close_map(&mut self);
    fn open_list(&mut self);
    fn close_list(&mut self);
    /// A key of the assessment's own shape (`"status"`, `"reasons"`…).
    fn key(&mut self, k: &'static str);
    /// A key that is data: a program or member id, the name of a value a script reported.
    fn data_key(&mut self, k: &str);
    /// A text, and how it is used (see [`Text`]).
    fn text(&mut self, s: &str, kind: Text);
    /// A money figure (written with two places).
    fn money(&mut self, d: Decimal);
    fn int(&mut self, i: i64);
    fn bool(&mut self, b: bool);
    fn null(&mut self);
    /// The audit trace (only when asked for), as a list.
    fn trace(&mut self, trace: &[TraceEntry]);
    /// For a sink that writes JSON text: the buffer to append the next value to, already
    /// separated from the one before (texts whose JSON form is ready are copied in); the
    /// caller then writes exactly one value there. `None` (the default): every value
    /// comes as an event.
    fn json_value(&mut self) -> Option<&mut Vec<u8>> {
        None
    }
}

/// What a text is, for sinks that treat texts differently (the JSON sink does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// A word of the output's vocabulary, likely to repeat (a status, a code, a basis, a
    /// region, a message without figures).
    Word,
    /// A text of this household alone (its id, a message with its figures).
    Unique,
    /// A text value a script reported (in `values`, `members`, `details`): in Python, a
    /// decimal-looking one becomes a `Decimal`, as every decimal a script reports.
    Free,
}

/// One program's result without its reasons ([`Decision::results`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramSummary<'d> {
    /// The program's id (`subsistence`, …).
    pub id: &'d str,
    /// `eligible`, `ineligible` or `needs_review`.
    pub status: &'static str,
    pub category: Option<&'d str>,
    pub amount: Money,
}

impl<'a> Decision<'a, Vec<Outcome>> {
    /// The same decision, movable to another thread.
    pub(crate) fn shareable(self) -> Decision<'a> {
        let Decision { engine, h, as_of, lang, lang_index, messages, derived, outcomes, totals, trace } = self;
        Decision { engine, h, as_of, lang, lang_index, messages, derived, outcomes: Outcomes::new(outcomes), totals, trace }
    }
}

impl<O: std::ops::Deref<Target = [Outcome]>> Decision<'_, O> {
    /// The assessment as a value.
    pub fn into_assessment(self) -> Assessment {
        let pack = &*self.engine.pack;
        let programs = pack
            .programs
            .iter()
            .zip(self.outcomes.iter())
            .map(|(p, o)| (p.id.clone(), self.program(o)))
            .collect();
        let totals = self.totals();
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
            totals,
            trace: self.trace,
        }
    }

    fn program(&self, o: &Outcome) -> ProgramResult {
        let reasons = o
            .reasons
            .iter()
            .map(|r| {
                let entry = self.entry(r);
                let message = self.messages.then(|| {
                    let mut message = String::new();
                    self.message_into(&mut message, r, entry);
                    message
                });
                let values = r.values.iter().map(|(k, v)| (k.as_str().to_string(), v.to_json())).collect();
                Reason { code: r.code.to_string(), message, basis: basis(r, entry).to_string(), values }
            })
            .collect();
        ProgramResult {
            status: o.status.as_str(),
            category: o.category.as_deref().map(str::to_string),
            amount: Money(o.amount),
            period: o.period.as_str(),
            members: member_order(&self.h, o).map(|(id, v)| (id.to_string(), v.to_json())).collect(),
            reasons,
            details: o.details.iter().map(|(k, v)| (k.as_str().to_string(), v.to_json())).collect(),
        }
    }

    /// The household's id.
    pub fn household_id(&self) -> &str {
        &self.h.id
    }

    /// Each program's status, category and amount, in run order: what a flat table
    /// (Python's `evaluate_frame`) shows, read without rendering reasons, breakdowns or
    /// messages. The same figures as [`Decision::into_assessment`]'s.
    pub fn results(&self) -> impl Iterator<Item = ProgramSummary<'_>> {
        self.programs().map(|(id, o)| ProgramSummary { id, status: o.status.as_str(), category: o.category.as_deref(), amount: Money(o.amount) })
    }

    /// The sums of eligible amounts: monthly, one-off, annual (the assessment's `totals`).
    pub fn totals(&self) -> Totals {
        Totals { monthly: Money(self.totals[0]), one_off: Money(self.totals[1]), annual: Money(self.totals[2]) }
    }

    /// Each program's id and outcome, in run order.
    pub(crate) fn programs(&self) -> impl Iterator<Item = (&str, &Outcome)> {
        self.engine.pack.programs.iter().map(|p| p.id.as_str()).zip(self.outcomes.iter())
    }

    /// The message template of a reason: in the asked language, else the pack's first.
    fn entry(&self, r: &RawReason) -> Option<&Template> {
        self.engine.pack.templates.get(&r.code, self.lang_index)
    }

    /// The message of a reason (its code when the catalog has none), appended to `out`.
    fn message_into(&self, out: &mut String, r: &RawReason, entry: Option<&Template>) {
        match entry {
            Some(t) => self.engine.pack.templates.render_into(out, t, self.lang_index, self.lang, |name| fill(r.values.get_interned(name))),
            None => out.push_str(&r.code),
        }
    }

    /// Appends the compact JSON of [`Decision::into_assessment`] to `out`: the bytes of
    /// `into_assessment().to_json()`, without building the assessment.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        self.emit(&mut JsonSink { out, comma: false });
    }

    /// Writes the assessment into `sink`, event by event.
    pub fn emit(&self, sink: &mut impl Sink) {
        let pack = &*self.engine.pack;
        let (h, d) = (&*self.h, &self.derived);
        sink.open_map();
        sink.key("household_id");
        sink.text(&h.id, Text::Unique);
        sink.key("as_of");
        sink.text(&date::date_str(self.as_of, &mut [0; 10]), Text::Word);
        sink.key("region");
        sink.text(&h.region, Text::Word);
        sink.key("rule_pack");
        sink.open_map();
        for (k, v) in [("name", &pack.info.name), ("version", &pack.info.version), ("digest", &pack.info.digest)] {
            sink.key(k);
            sink.text(v, Text::Word);
        }
        sink.close_map();
        sink.key("derived");
        sink.open_map();
        sink.key("size");
        sink.int(d.size as i64);
        for (k, v) in [
            ("counted_income", d.counted_income),
            ("rigid_medical_deduction", d.rigid_medical_deduction),
            ("subsistence_income", d.subsistence_income),
            ("per_capita_income", d.per_capita_income),
        ] {
            sink.key(k);
            sink.money(v);
        }
        sink.key("members");
        sink.open_map();
        for (i, m) in h.members.iter().enumerate() {
            // An id given twice keeps its place and takes its last figures (a map's insert).
            if h.members[..i].iter().any(|x| same_id(&x.id, &m.id)) {
                continue;
            }
            let dm = h.members.iter().zip(&d.members).rev().find(|(x, _)| same_id(&x.id, &m.id)).map(|(_, dm)| dm);
            let Some(dm) = dm else { continue };
            sink.data_key(&m.id);
            sink.open_map();
            sink.key("age");
            sink.int(dm.age);
            sink.key("work_capacity");
            sink.text(dm.work_capacity.as_str(), Text::Word);
            sink.key("working_age");
            sink.bool(dm.working_age);
            sink.key("counted_income");
            sink.money(dm.counted_income);
            sink.close_map();
        }
        sink.close_map();
        sink.close_map();
        sink.key("programs");
        sink.open_map();
        let mut message = String::new();
        for (p, o) in pack.programs.iter().zip(self.outcomes.iter()) {
            sink.data_key(&p.id);
            sink.open_map();
            sink.key("status");
            sink.text(o.status.as_str(), Text::Word);
            if let Some(c) = &o.category {
                sink.key("category");
                sink.text(c, Text::Word);
            }
            sink.key("amount");
            sink.money(o.amount);
            sink.key("period");
            sink.text(o.period.as_str(), Text::Word);
            let mut members = member_order(h, o).peekable();
            if members.peek().is_some() {
                sink.key("members");
                sink.open_map();
                for (id, v) in members {
                    sink.data_key(id);
                    emit_val(sink, v);
                }
                sink.close_map();
            }
            sink.key("reasons");
            sink.open_list();
            for r in &o.reasons {
                let entry = self.entry(r);
                sink.open_map();
                sink.key("code");
                sink.text(&r.code, Text::Word);
                if self.messages {
                    sink.key("message");
                    let prepared = entry.is_some_and(|t| {
                        write_json_value(sink, |out| {
                            pack.templates.render_json_into(out, t, self.lang_index, self.lang, |name| fill(r.values.get_interned(name)))
                        })
                    });
                    if !prepared {
                        message.clear();
                        self.message_into(&mut message, r, entry);
                        sink.text(&message, if entry.is_none_or(Template::is_fixed) { Text::Word } else { Text::Unique });
                    }
                }
                sink.key("basis");
                let catalog_basis = entry.filter(|_| r.basis.is_none());
                if !catalog_basis.is_some_and(|t| write_json_value(sink, |out| out.extend_from_slice(&t.basis_json))) {
                    sink.text(basis(r, entry), Text::Word);
                }
                sink.key("values");
                emit_map(sink, r.values.iter().map(|(k, v)| (k.as_str(), v)));
                sink.close_map();
            }
            sink.close_list();
            if !o.details.is_empty() {
                sink.key("details");
                emit_map(sink, o.details.iter().map(|(k, v)| (k.as_str(), v)));
            }
            sink.close_map();
        }
        sink.close_map();
        sink.key("totals");
        sink.open_map();
        for (k, v) in [("monthly", self.totals[0]), ("one_off", self.totals[1]), ("annual", self.totals[2])] {
            sink.key(k);
            sink.money(v);
        }
        sink.close_map();
        if let Some(trace) = &self.trace {
            sink.key("trace");
            sink.trace(trace);
        }
        sink.close_map();
    }
}

/// Compact JSON, byte for byte what serde_json writes for the [`Assessment`].
struct JsonSink<'o> {
    out: &'o mut Vec<u8>,
    /// A value was just completed: the next key or list item needs a comma.
    comma: bool,
}

impl JsonSink<'_> {
    #[inline]
    fn item(&mut self) {
        if self.comma {
            self.out.push(b',');
        }
        self.comma = true;
    }
}

impl Sink for JsonSink<'_> {
    fn open_map(&mut self) {
        self.item();
        self.out.push(b'{');
        self.comma = false;
    }
    fn close_map(&mut self) {
        self.out.push(b'}');
        self.comma = true;
    }
    fn open_list(&mut self) {
        self.item();
        self.out.push(b'[');
        self.comma = false;
    }
    fn close_list(&mut self) {
        self.out.push(b']');
        self.comma = true;
    }
    fn key(&mut self, k: &'static str) {
        // The keys of the shape are plain words: nothing to escape.
        self.item();
        self.out.push(b'"');
        crate::json::put(self.out, k.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.comma = false;
    }
    fn data_key(&mut self, k: &str) {
        self.item();
        write_str(self.out, k);
        self.out.push(b':');
        self.comma = false;
    }
    fn text(&mut self, s: &str, _: Text) {
        self.item();
        write_str(self.out, s);
    }
    fn money(&mut self, d: Decimal) {
        self.item();
        money::write_json(self.out, d);
    }
    fn int(&mut self, i: i64) {
        self.item();
        write_int(self.out, i);
    }
    fn bool(&mut self, b: bool) {
        self.item();
        self.out.extend_from_slice(if b { b"true" } else { b"false" });
    }
    fn null(&mut self) {
        self.item();
        self.out.extend_from_slice(b"null");
    }
    fn trace(&mut self, trace: &[TraceEntry]) {
        // Rare (asked for) and tagged: serde's own output.
        self.item();
        serde_json::to_writer(&mut *self.out, trace).expect("a trace always serializes");
    }
    fn json_value(&mut self) -> Option<&mut Vec<u8>> {
        self.item();
        Some(self.out)
    }
}

/// Writes the next value as ready JSON when `sink` takes JSON text (see
/// [`Sink::json_value`], which starts a value: so it is asked only when one will be
/// written); `false` when the sink wants events instead.
fn write_json_value(sink: &mut impl Sink, write: impl FnOnce(&mut Vec<u8>)) -> bool {
    match sink.json_value() {
        Some(out) => {
            write(out);
            true
        }
        None => false,
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
        if h.members[..i].iter().any(|x| same_id(&x.id, &m.id)) {
            return None;
        }
        o.members.iter().find(|(id, _)| same_id(id.as_str(), &m.id)).map(|(id, v)| (id.as_str(), v))
    });
    let others = o.members.iter().enumerate().filter_map(move |(i, (id, v))| {
        let seen = h.members.iter().any(|m| same_id(&m.id, id.as_str())) || o.members[..i].iter().any(|(x, _)| same_id(x.as_str(), id.as_str()));
        (!seen).then_some((id.as_str(), v))
    });
    known.chain(others)
}

/// Whether two member ids are the same (short texts: compared in place).
#[inline]
fn same_id(a: &str, b: &str) -> bool {
    crate::json::same_bytes(a.as_bytes(), b.as_bytes())
}

/// A value filling a message placeholder.
fn fill(v: Option<&Val>) -> Option<Fill<'_>> {
    let v = v?;
    Some(match v.view() {
        ValRef::Dec(d) => Fill::Decimal(d),
        ValRef::Int(i) => Fill::Int(i),
        ValRef::Bool(b) => Fill::Bool(b),
        ValRef::Str(s) => Fill::Text(std::borrow::Cow::Borrowed(s.as_str())),
        ValRef::Array(a) => Fill::List(a.iter().map(|x| x.to_string()).collect()),
        _ => Fill::Text(std::borrow::Cow::Owned(v.to_string())),
    })
}

/// A script's value, as [`Val::to_json`] gives it (decimals as money, two places).
pub(crate) fn emit_val(sink: &mut impl Sink, v: &Val) {
    match v.view() {
        ValRef::Unit => sink.null(),
        ValRef::Bool(b) => sink.bool(b),
        ValRef::Int(i) => sink.int(i),
        ValRef::Dec(d) => sink.money(d),
        ValRef::Str(s) => sink.text(s, Text::Free),
        ValRef::Array(items) => {
            sink.open_list();
            for x in items.iter() {
                emit_val(sink, x);
            }
            sink.close_list();
        }
        ValRef::Map(m) => emit_map(sink, m.iter().map(|(k, v)| (k.as_str(), v))),
    }
}

/// A map's entries (sorted by key, as the JSON object of [`Val::to_json`] keeps them).
fn emit_map<'v>(sink: &mut impl Sink, entries: impl Iterator<Item = (&'v str, &'v Val)>) {
    sink.open_map();
    for (k, v) in entries {
        sink.data_key(k);
        emit_val(sink, v);
    }
    sink.close_map();
}
