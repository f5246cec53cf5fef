//! The state of one evaluation that helper functions need: the parameter lookup bound
//! to the household's region, area and date, and the audit trace.
//!
//! Rhai native functions cannot see the caller's scope, and the Rhai engine is shared
//! by every thread, so the state travels in a thread-local slot that is filled for the
//! duration of one evaluation and emptied afterwards (see [`Session::enter`]).

use crate::assessment::TraceEntry;
use crate::date::{format_date, Date};
use crate::error::Error;
use crate::household::{Area, DeriveParams};
use crate::params::{lookup, Overrides, ParamStore, ParamValue, Resolved};
use super::value::{Frozen, Val};
use rhai::{Dynamic, EvalAltResult};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};

/// Every parameter of a pack resolved for one region, area and date: what all the
/// households of that place and day share. Built once and kept by the engine's
/// [`Resolutions`], so an evaluation reads parameters without resolving them.
pub struct Resolution {
    /// The household's region first, then those above it ([`crate::params::region_chain`]).
    chain: Vec<String>,
    as_of: Date,
    area: Area,
    /// Sorted by name; the names interned, as the compiled rules' are, so that a
    /// search hint is confirmed by address.
    entries: Vec<(&'static str, Result<(Resolved, Frozen), Error>)>,
    /// The parameters of the derived figures (policy.md §0), made by the first household
    /// evaluated without a trace (a traced one reads them itself, to record them).
    pub derive: std::sync::OnceLock<Result<DeriveParams, Error>>,
}

impl Resolution {
    fn build(store: &ParamStore, overrides: &Overrides, region: &str, as_of: Date, area: Area) -> Resolution {
        let chain = crate::params::region_chain(region);
        let mut entries: Vec<_> = store
            .parameters()
            .into_iter()
            .map(|p| {
                let r = lookup(store, overrides, &p.name, &chain, as_of, area).map(|r| {
                    let v = frozen_of(&r.value);
                    (r, v)
                });
                (super::value::intern(&p.name), r)
            })
            .collect();
        entries.sort_by(|a: &(&str, _), b| a.0.cmp(b.0));
        Resolution { chain, as_of, area, entries, derive: Default::default() }
    }

    /// The entry of `name`; `hint` remembers where the last search found it (the same
    /// call site asks for the same name every time).
    #[inline]
    fn get(&self, name: &str, hint: &AtomicU32) -> Option<&Result<(Resolved, Frozen), Error>> {
        let h = hint.load(Ordering::Relaxed) as usize;
        if let Some((n, e)) = self.entries.get(h) {
            if (std::ptr::eq(n.as_ptr(), name.as_ptr()) && n.len() == name.len()) || *n == name {
                return Some(e);
            }
        }
        let i = self.entries.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
        hint.store(i as u32, Ordering::Relaxed);
        Some(&self.entries[i].1)
    }
}

fn value_of(p: &ParamValue) -> Val {
    match p {
        ParamValue::Decimal(d) => Val::Dec(*d),
        ParamValue::Integer(i) => Val::Int(*i),
        ParamValue::List(l) => Val::array(l.iter().cloned().map(Val::from).collect()),
    }
}

/// [`value_of`], kept in the resolution that every thread reads.
fn frozen_of(p: &ParamValue) -> Frozen {
    Frozen::new(&value_of(p))
}

/// The resolutions an engine has made, by region, area and date (bounded: cleared when
/// it holds [`Resolutions::MAX`] of them).
#[derive(Default)]
pub struct Resolutions {
    by_region: RwLock<HashMap<String, Vec<(Area, Date, Arc<Resolution>)>>>,
}

impl Resolutions {
    pub const MAX: usize = 4096;

    pub fn get(&self, store: &ParamStore, overrides: &Overrides, region: &str, as_of: Date, area: Area) -> Arc<Resolution> {
        let find = |m: &HashMap<String, Vec<(Area, Date, Arc<Resolution>)>>| {
            m.get(region)?.iter().find(|(a, d, _)| *a == area && *d == as_of).map(|(_, _, r)| r.clone())
        };
        if let Some(r) = find(&self.by_region.read().unwrap_or_else(|e| e.into_inner())) {
            return r;
        }
        let r = Arc::new(Resolution::build(store, overrides, region, as_of, area));
        let mut m = self.by_region.write().unwrap_or_else(|e| e.into_inner());
        if m.values().map(Vec::len).sum::<usize>() >= Self::MAX {
            m.clear();
        }
        m.entry(region.to_string()).or_default().push((area, as_of, r.clone()));
        r
    }
}

pub struct Session {
    store: Arc<ParamStore>,
    overrides: Arc<Overrides>,
    res: Arc<Resolution>,
    /// Parameters already in the trace (only kept when tracing).
    traced: Vec<String>,
    /// `Some` when the caller asked for a trace.
    pub trace: Option<Vec<TraceEntry>>,
    /// The program running now (for the trace).
    pub program: String,
    /// A parameter error raised inside a script: reported as such, not as a rule error.
    pub error: Option<Error>,
    /// The compiled evaluator's variable slots, kept from one program to the next.
    pub slots: Vec<Val>,
}

thread_local! {
    static CURRENT: RefCell<Option<Session>> = const { RefCell::new(None) };
    /// The sessions of this thread's last households, by place and day, kept for its
    /// next ones (at most [`MAX_SPARES`]).
    static SPARES: RefCell<Vec<Session>> = const { RefCell::new(Vec::new()) };
}

/// Sessions a thread keeps: more than the places and days of a usual batch (a region's
/// districts, urban and rural, one date).
const MAX_SPARES: usize = 32;

impl Session {
    pub fn new(store: Arc<ParamStore>, overrides: Arc<Overrides>, res: Arc<Resolution>, trace: bool) -> Self {
        Session { store, overrides, res, traced: Vec::new(), trace: trace.then(Vec::new), program: String::new(), error: None, slots: Vec::new() }
    }

    /// A session this thread kept ([`Session::keep`]) for the same parameters (the same
    /// `Arc`s), place and day, emptied for a new household; else `None`.
    ///
    /// Why: a new session clones three `Arc`s that every thread shares and reads the
    /// engine's [`Resolutions`] under a lock. Each of those writes a counter, and when
    /// two cores evaluate at once the counters' cache lines go back and forth between
    /// them: in a two-thread batch that made `decide` about twice as slow as on one
    /// thread, some 4 % of the whole (docs/performance.md, sixteenth session).
    pub fn reuse(store: &Arc<ParamStore>, overrides: &Arc<Overrides>, region: &str, as_of: Date, area: Area, trace: bool) -> Option<Session> {
        let found = SPARES.try_with(|c| {
            let mut spares = c.borrow_mut();
            let i = spares.iter().rposition(|s| {
                Arc::ptr_eq(&s.store, store)
                    && Arc::ptr_eq(&s.overrides, overrides)
                    && s.res.as_of == as_of
                    && s.res.area == area
                    && s.res.chain.first().is_some_and(|r| r == region)
            })?;
            Some(spares.swap_remove(i))
        });
        let mut s = found.ok().flatten()?;
        s.traced.clear();
        s.trace = trace.then(Vec::new);
        s.program.clear();
        s.error = None;
        s.slots.clear();
        Some(s)
    }

    /// Keeps this session for the thread's next households (see [`Session::reuse`]). The
    /// thread holds on to [`MAX_SPARES`] at most (when full, the first of its list is let
    /// go), and with them their engines' parameters.
    pub fn keep(self) {
        let _ = SPARES.try_with(|c| {
            let mut spares = c.borrow_mut();
            if spares.len() == MAX_SPARES {
                spares.remove(0);
            }
            spares.push(self);
        });
    }

    /// A new session on the same parameters, place and day.
    pub fn fresh(&self, trace: bool) -> Session {
        Session::new(self.store.clone(), self.overrides.clone(), self.res.clone(), trace)
    }

    /// The parameters of the place and day this session evaluates for.
    pub fn resolution(&self) -> &Resolution {
        &self.res
    }

    fn record(&mut self, name: &str, r: &Resolved) {
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
    }

    /// Resolves a parameter (recording it in the trace).
    pub fn resolve(&mut self, name: &str) -> Result<Resolved, Error> {
        let r = match self.res.get(name, &AtomicU32::new(0)) {
            Some(Ok((r, _))) => r.clone(),
            Some(Err(e)) => return Err(e.clone()),
            None => {
                let res = &self.res;
                lookup(&self.store, &self.overrides, name, &res.chain, res.as_of, res.area)?
            }
        };
        self.record(name, &r);
        Ok(r)
    }

    /// A parameter's value for the rules (in the trace the first time it is read).
    pub fn param_val(&mut self, name: &str) -> Result<Val, Error> {
        self.param_hinted(name, &AtomicU32::new(0))
    }

    /// [`Session::param_val`] with a search hint kept by the caller.
    pub fn param_hinted(&mut self, name: &str, hint: &AtomicU32) -> Result<Val, Error> {
        let (r, v) = match self.res.get(name, hint) {
            Some(Ok((r, v))) => {
                if self.trace.is_none() {
                    return Ok(v.thaw());
                }
                (r.clone(), v.thaw())
            }
            Some(Err(e)) => return Err(e.clone()),
            // A name the pack does not declare: lookup names the problem (or an override
            // supplies it).
            None => {
                let res = &self.res;
                let r = lookup(&self.store, &self.overrides, name, &res.chain, res.as_of, res.area)?;
                let v = value_of(&r.value);
                (r, v)
            }
        };
        if !self.traced.iter().any(|t| t == name) {
            self.traced.push(name.to_string());
            self.record(name, &r);
        }
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
