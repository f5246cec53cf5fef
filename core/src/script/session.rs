//! The state of one evaluation that helper functions need: the parameter lookup bound
//! to the household's region, area and date, and the audit trace.
//!
//! Rhai native functions cannot see the caller's scope, and the Rhai engine is shared
//! by every thread, so the state travels in a thread-local slot that is filled for the
//! duration of one evaluation and emptied afterwards (see [`Session::enter`]).

use crate::assessment::TraceEntry;
use crate::date::{format_date, Date};
use crate::error::Error;
use crate::household::Area;
use crate::params::{lookup, Overrides, ParamStore, ParamValue, Resolved};
use super::value::Val;
use rhai::{Dynamic, EvalAltResult};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

pub struct Session {
    store: Arc<ParamStore>,
    overrides: Arc<Overrides>,
    chain: Vec<String>,
    as_of: Date,
    area: Area,
    cache: HashMap<String, Val>,
    /// `Some` when the caller asked for a trace.
    pub trace: Option<Vec<TraceEntry>>,
    /// The program running now (for the trace).
    pub program: String,
    /// A parameter error raised inside a script: reported as such, not as a rule error.
    pub error: Option<Error>,
}

thread_local! {
    static CURRENT: RefCell<Option<Session>> = const { RefCell::new(None) };
}

impl Session {
    pub fn new(store: Arc<ParamStore>, overrides: Arc<Overrides>, chain: Vec<String>, as_of: Date, area: Area, trace: bool) -> Self {
        Session {
            store,
            overrides,
            chain,
            as_of,
            area,
            cache: HashMap::new(),
            trace: trace.then(Vec::new),
            program: String::new(),
            error: None,
        }
    }

    /// Resolves a parameter (recording it in the trace the first time).
    pub fn resolve(&mut self, name: &str) -> Result<Resolved, Error> {
        let r = lookup(&self.store, &self.overrides, name, &self.chain, self.as_of, self.area)?;
        if let Some(t) = self.trace.as_mut() {
            t.push(TraceEntry::Parameter {
                program: if self.program.is_empty() { None } else { Some(self.program.clone()) },
                name: name.to_string(),
                region: r.region.clone(),
                value: r.value.to_string(),
                from: r.from.map(format_date),
                source: r.source.to_string(),
            });
        }
        Ok(r)
    }

    /// A parameter's value for the rules (resolved once per evaluation).
    pub fn param_val(&mut self, name: &str) -> Result<Val, Error> {
        if let Some(v) = self.cache.get(name) {
            return Ok(v.clone());
        }
        let r = self.resolve(name)?;
        let v = match r.value {
            ParamValue::Decimal(d) => Val::Dec(d),
            ParamValue::Integer(i) => Val::Int(i),
            ParamValue::List(l) => Val::array(l.into_iter().map(Val::from).collect()),
        };
        self.cache.insert(name.to_string(), v.clone());
        Ok(v)
    }

    /// `step("label", value)`: a figure for the audit trace.
    pub fn step_val(&mut self, label: &str, value: &Val) {
        if let Some(t) = self.trace.as_mut() {
            t.push(TraceEntry::Step { program: self.program.clone(), label: label.to_string(), value: value.to_json() });
        }
    }

    /// Runs `f` with this session installed for the helpers, and hands the session back.
    pub fn enter<T>(self, f: impl FnOnce() -> T) -> (T, Session) {
        struct Clear;
        impl Drop for Clear {
            fn drop(&mut self) {
                CURRENT.with(|c| c.borrow_mut().take());
            }
        }
        CURRENT.with(|c| *c.borrow_mut() = Some(self));
        let guard = Clear;
        let out = f();
        let session = CURRENT.with(|c| c.borrow_mut().take()).expect("session present during evaluation");
        drop(guard);
        (out, session)
    }

    pub fn set_program(program: &str) {
        CURRENT.with(|c| {
            if let Some(s) = c.borrow_mut().as_mut() {
                s.program = program.to_string();
            }
        });
    }
}

fn with_session<T>(f: impl FnOnce(&mut Session) -> Result<T, Box<EvalAltResult>>) -> Result<T, Box<EvalAltResult>> {
    CURRENT.with(|c| match c.borrow_mut().as_mut() {
        Some(s) => f(s),
        None => Err("this helper can only be called while a household is evaluated".into()),
    })
}

/// `param("name")` for scripts.
pub fn script_param(name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
    with_session(|s| match s.param_val(name) {
        Ok(v) => Ok(v.to_dynamic()),
        Err(e) => {
            let msg = e.to_string();
            s.error.get_or_insert(e);
            Err(msg.into())
        }
    })
}

/// `step("label", value)` for scripts: a figure for the audit trace.
pub fn script_step(label: &str, value: Dynamic) -> Result<(), Box<EvalAltResult>> {
    with_session(|s| {
        s.step_val(label, &Val::from_dynamic_lossy(&value));
        Ok(())
    })
}

/// Runs `f` on the session of this thread's current evaluation, if any.
pub fn with_current<T>(f: impl FnOnce(&mut Session) -> T) -> Option<T> {
    CURRENT.with(|c| c.borrow_mut().as_mut().map(f))
}
