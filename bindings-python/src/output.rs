//! JSON → Python objects, money as `decimal.Decimal`.
//!
//! The assessment is walked field by field, giving the keys (in their order) of its JSON
//! form, the very shape the CLI prints. Money fields (program amounts, totals, the
//! derived figures, a trace result's amount, the costs and changes of a comparison) are
//! `Decimal`s; in the free-form parts a program writes (a reason's `values`, a program's
//! `members` and `details`, a trace step's `value`) every decimal string — the core
//! writes a Rhai decimal as text with two places — is a `Decimal` too. Integers stay
//! `int`; no value ever passes through `float`.

use crate::input::decimal_type;
use jiuzhu_core::assessment::{DerivedOut, ProgramResult};
use jiuzhu_core::compare::Comparison;
use jiuzhu_core::money::{format2, Money};
use jiuzhu_core::{Assessment, TraceEntry};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A small, fast hash for the caches below (short texts and decimals of one process;
/// no adversary can choose them to collide in a way that matters: a slow lookup at
/// worst).
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// `-?digits.digits` (the form the core gives every decimal it writes).
pub fn is_decimal_text(s: &str) -> bool {
    let t = s.strip_prefix('-').unwrap_or(s);
    match t.split_once('.') {
        Some((a, b)) => !a.is_empty() && !b.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit()),
        None => false,
    }
}

pub struct Out<'py> {
    py: Python<'py>,
    decimal: Bound<'py, PyAny>,
    /// Decimals already made (they are immutable, so one object may serve many places:
    /// "0.00" alone is most of an assessment's figures).
    made: RefCell<FxMap<String, Bound<'py, PyAny>>>,
    /// Money already made, by value (rounded to cents).
    money_made: RefCell<FxMap<(u128, bool), Bound<'py, PyAny>>>,
    /// Texts already made, for those that repeat from one household to the next (keys,
    /// codes, legal bases, the pack's digest, member ids, category words).
    texts: RefCell<FxMap<String, Bound<'py, PyString>>>,
}

/// How many distinct decimals one conversion keeps for reuse.
const MADE_MAX: usize = 4096;

impl<'py> Out<'py> {
    pub fn new(py: Python<'py>) -> PyResult<Self> {
        Ok(Out { py, decimal: decimal_type(py)?.clone().into_any(), made: RefCell::default(), money_made: RefCell::default(), texts: RefCell::default() })
    }

    /// A Python str for a text that is likely to repeat (one object serves every place).
    fn text(&self, s: &str) -> Bound<'py, PyString> {
        if let Some(t) = self.texts.borrow().get(s) {
            return t.clone();
        }
        let t = PyString::new(self.py, s);
        let mut texts = self.texts.borrow_mut();
        if texts.len() < MADE_MAX {
            texts.insert(s.to_string(), t.clone());
        }
        t
    }

    pub fn decimal(&self, text: &str) -> PyResult<Bound<'py, PyAny>> {
        if let Some(d) = self.made.borrow().get(text) {
            return Ok(d.clone());
        }
        let d = self.decimal.call1((text,))?;
        let mut made = self.made.borrow_mut();
        if made.len() < MADE_MAX {
            made.insert(text.to_string(), d.clone());
        }
        Ok(d)
    }

    fn string(&self, s: &str) -> PyResult<Bound<'py, PyAny>> {
        if is_decimal_text(s) {
            self.decimal(s)
        } else {
            Ok(self.text(s).into_any())
        }
    }

    /// A free-form JSON value (what a program writes): decimal strings become `Decimal`s.
    pub fn value(&self, v: &Value) -> PyResult<Bound<'py, PyAny>> {
        Ok(match v {
            Value::Null => self.py.None().into_bound(self.py),
            Value::Bool(b) => b.into_pyobject(self.py)?.to_owned().into_any(),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    i.into_pyobject(self.py)?.into_any()
                } else if let Some(u) = n.as_u64() {
                    u.into_pyobject(self.py)?.into_any()
                } else {
                    let text = n.to_string();
                    if text.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
                        self.py.import("builtins")?.getattr("int")?.call1((text,))?
                    } else {
                        self.decimal(&text)?
                    }
                }
            }
            Value::String(s) => self.string(s)?,
            Value::Array(items) => {
                let list = PyList::empty(self.py);
                for item in items {
                    list.append(self.value(item)?)?;
                }
                list.into_any()
            }
            Value::Object(map) => {
                let dict = PyDict::new(self.py);
                for (k, item) in map {
                    dict.set_item(self.text(k), self.value(item)?)?;
                }
                dict.into_any()
            }
        })
    }

    fn dict(&self) -> Bound<'py, PyDict> {
        PyDict::new(self.py)
    }

    fn money(&self, m: &Money) -> PyResult<Bound<'py, PyAny>> {
        // keyed by the cents (the value format2 writes), without making the text
        let mut r = jiuzhu_core::money::round2(m.0);
        r.rescale(2);
        if r.scale() != 2 {
            return self.decimal(&format2(m.0));
        }
        let key = (r.mantissa().unsigned_abs(), r.mantissa() < 0);
        if let Some(d) = self.money_made.borrow().get(&key) {
            return Ok(d.clone());
        }
        let d = self.decimal(&format2(m.0))?;
        let mut made = self.money_made.borrow_mut();
        if made.len() < MADE_MAX {
            made.insert(key, d.clone());
        }
        Ok(d)
    }

    fn free_map(&self, m: &serde_json::Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
        let d = self.dict();
        for (k, v) in m {
            d.set_item(self.text(k), self.value(v)?)?;
        }
        Ok(d)
    }

    /// An assessment as a dict: the keys, their order and their omissions those of its
    /// JSON (`jiuzhu evaluate`), money as `Decimal`.
    pub fn assessment(&self, a: &Assessment) -> PyResult<Bound<'py, PyDict>> {
        let d = self.dict();
        d.set_item(intern!(self.py, "household_id"), &a.household_id)?;
        d.set_item(intern!(self.py, "as_of"), self.text(&a.as_of))?;
        d.set_item(intern!(self.py, "region"), self.text(&a.region))?;
        let pack = self.dict();
        pack.set_item(intern!(self.py, "name"), self.text(&a.rule_pack.name))?;
        pack.set_item(intern!(self.py, "version"), self.text(&a.rule_pack.version))?;
        pack.set_item(intern!(self.py, "digest"), self.text(&a.rule_pack.digest))?;
        d.set_item(intern!(self.py, "rule_pack"), pack)?;
        d.set_item(intern!(self.py, "derived"), self.derived(&a.derived)?)?;
        let programs = self.dict();
        for (id, p) in &a.programs {
            programs.set_item(self.text(id), self.program(p)?)?;
        }
        d.set_item(intern!(self.py, "programs"), programs)?;
        let totals = self.dict();
        totals.set_item(intern!(self.py, "monthly"), self.money(&a.totals.monthly)?)?;
        totals.set_item(intern!(self.py, "one_off"), self.money(&a.totals.one_off)?)?;
        totals.set_item(intern!(self.py, "annual"), self.money(&a.totals.annual)?)?;
        d.set_item(intern!(self.py, "totals"), totals)?;
        if let Some(trace) = &a.trace {
            let list = PyList::empty(self.py);
            for e in trace {
                list.append(self.trace_entry(e)?)?;
            }
            d.set_item(intern!(self.py, "trace"), list)?;
        }
        Ok(d)
    }

    fn derived(&self, x: &DerivedOut) -> PyResult<Bound<'py, PyDict>> {
        let d = self.dict();
        d.set_item(intern!(self.py, "size"), x.size)?;
        d.set_item(intern!(self.py, "counted_income"), self.money(&x.counted_income)?)?;
        d.set_item(intern!(self.py, "rigid_medical_deduction"), self.money(&x.rigid_medical_deduction)?)?;
        d.set_item(intern!(self.py, "subsistence_income"), self.money(&x.subsistence_income)?)?;
        d.set_item(intern!(self.py, "per_capita_income"), self.money(&x.per_capita_income)?)?;
        let members = self.dict();
        for (id, m) in &x.members {
            let md = self.dict();
            md.set_item(intern!(self.py, "age"), m.age)?;
            md.set_item(intern!(self.py, "work_capacity"), m.work_capacity)?;
            md.set_item(intern!(self.py, "working_age"), m.working_age)?;
            md.set_item(intern!(self.py, "counted_income"), self.money(&m.counted_income)?)?;
            members.set_item(self.text(id), md)?;
        }
        d.set_item(intern!(self.py, "members"), members)?;
        Ok(d)
    }

    fn program(&self, p: &ProgramResult) -> PyResult<Bound<'py, PyDict>> {
        let d = self.dict();
        d.set_item(intern!(self.py, "status"), p.status)?;
        if let Some(c) = &p.category {
            d.set_item(intern!(self.py, "category"), self.text(c))?;
        }
        d.set_item(intern!(self.py, "amount"), self.money(&p.amount)?)?;
        d.set_item(intern!(self.py, "period"), p.period)?;
        if !p.members.is_empty() {
            let members = self.dict();
            for (id, v) in &p.members {
                members.set_item(self.text(id), self.value(v)?)?;
            }
            d.set_item(intern!(self.py, "members"), members)?;
        }
        let reasons = PyList::empty(self.py);
        for r in &p.reasons {
            let rd = self.dict();
            rd.set_item(intern!(self.py, "code"), self.text(&r.code))?;
            rd.set_item(intern!(self.py, "message"), &r.message)?;
            rd.set_item(intern!(self.py, "basis"), self.text(&r.basis))?;
            rd.set_item(intern!(self.py, "values"), self.free_map(&r.values)?)?;
            reasons.append(rd)?;
        }
        d.set_item(intern!(self.py, "reasons"), reasons)?;
        if !p.details.is_empty() {
            d.set_item(intern!(self.py, "details"), self.free_map(&p.details)?)?;
        }
        Ok(d)
    }

    fn trace_entry(&self, e: &TraceEntry) -> PyResult<Bound<'py, PyDict>> {
        let d = self.dict();
        match e {
            TraceEntry::Parameter { program, name, region, value, from, source } => {
                d.set_item(intern!(self.py, "kind"), "parameter")?;
                if let Some(p) = program {
                    d.set_item(intern!(self.py, "program"), p)?;
                }
                d.set_item(intern!(self.py, "name"), name)?;
                d.set_item(intern!(self.py, "region"), region)?;
                // The parameter's value as the pack states it (a text: a number, a list…).
                d.set_item(intern!(self.py, "value"), value)?;
                d.set_item(intern!(self.py, "from"), from)?;
                d.set_item(intern!(self.py, "source"), source)?;
            }
            TraceEntry::Step { program, label, value } => {
                d.set_item(intern!(self.py, "kind"), "step")?;
                d.set_item(intern!(self.py, "program"), program)?;
                d.set_item(intern!(self.py, "label"), label)?;
                d.set_item(intern!(self.py, "value"), self.value(value)?)?;
            }
            TraceEntry::Result { program, status, category, amount } => {
                d.set_item(intern!(self.py, "kind"), "result")?;
                d.set_item(intern!(self.py, "program"), program)?;
                d.set_item(intern!(self.py, "status"), *status)?;
                d.set_item(intern!(self.py, "category"), category)?;
                d.set_item(intern!(self.py, "amount"), self.money(amount)?)?;
            }
        }
        Ok(d)
    }

    /// A comparison as a dict with the shape of `jiuzhu compare`'s JSON: counts `int`,
    /// money `Decimal`, programs in the comparison's order.
    pub fn comparison(&self, c: &Comparison) -> PyResult<Bound<'py, PyDict>> {
        let d = self.dict();
        d.set_item(intern!(self.py, "households"), c.households)?;
        d.set_item(intern!(self.py, "errors"), c.errors)?;
        let programs = self.dict();
        for (id, p) in &c.programs {
            let pd = self.dict();
            let recipients = self.dict();
            recipients.set_item(intern!(self.py, "baseline"), p.recipients.baseline)?;
            recipients.set_item(intern!(self.py, "reform"), p.recipients.reform)?;
            pd.set_item(intern!(self.py, "recipients"), recipients)?;
            let cost = self.dict();
            cost.set_item(intern!(self.py, "baseline"), self.money(&p.cost.baseline)?)?;
            cost.set_item(intern!(self.py, "reform"), self.money(&p.cost.reform)?)?;
            pd.set_item(intern!(self.py, "cost"), cost)?;
            pd.set_item(intern!(self.py, "gainers"), p.gainers)?;
            pd.set_item(intern!(self.py, "losers"), p.losers)?;
            pd.set_item(intern!(self.py, "unchanged"), p.unchanged)?;
            programs.set_item(id, pd)?;
        }
        d.set_item(intern!(self.py, "programs"), programs)?;
        let top = PyList::empty(self.py);
        for ch in &c.top_changes {
            let cd = self.dict();
            cd.set_item(intern!(self.py, "household_id"), &ch.household_id)?;
            cd.set_item(intern!(self.py, "program"), &ch.program)?;
            cd.set_item(intern!(self.py, "baseline"), self.money(&ch.baseline)?)?;
            cd.set_item(intern!(self.py, "reform"), self.money(&ch.reform)?)?;
            cd.set_item(intern!(self.py, "change"), self.money(&ch.change)?)?;
            top.append(cd)?;
        }
        d.set_item(intern!(self.py, "top_changes"), top)?;
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text() {
        for yes in ["0.00", "2245.00", "-145.00", "0.10"] {
            assert!(is_decimal_text(yes), "{yes}");
        }
        for no in ["", "110105", "2025-03-01", "1.", ".5", "-", "1.2.3", "1e3", "dibao", "sha256:ab.cd"] {
            assert!(!is_decimal_text(no), "{no}");
        }
    }
}
