//! Rhai, sandboxed: the engine every program runs in, the helpers rule authors get,
//! and the reading of what a script returns.
//!
//! The sandbox: no module imports (no resolver), no `eval`, no print or debug output,
//! no clock (`no_time`), no floating point (`no_float`: fractional literals are exact
//! decimals), and the limits of `pack.toml` on operations, call depth, expression
//! depth and the size of strings, arrays and maps. A script that breaks a limit fails
//! with an error naming its program; it cannot hang or exhaust memory.

pub mod convert;
pub mod fast;
pub mod session;
pub mod value;

use crate::date::{days_before, format_date, months_before, parse_date};
use crate::error::{Error, PackProblem};
use crate::money::round2;
use crate::pack::Limits;
use rhai::packages::Package;
use rhai::{Dynamic, EvalAltResult, Map, Position, Scope, AST, INT};
use std::rc::Rc;
use value::{Owned, Str, Val, ValMap};
use rust_decimal::Decimal;

/// Variables every script sees; declared at compile time so that strict-variable mode
/// catches a misspelt name when the pack is loaded, not when a household hits it.
pub const SCRIPT_VARIABLES: &[&str] = &["household", "results"];

/// Builds the sandboxed Rhai engine with the helper functions.
pub fn sandbox(limits: &Limits) -> rhai::Engine {
    let mut e = rhai::Engine::new_raw();
    e.register_global_module(rhai::packages::StandardPackage::new().as_shared_module());
    e.set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(limits.max_expr_depth, limits.max_function_expr_depth)
        .set_max_string_size(limits.max_string_size)
        .set_max_array_size(limits.max_array_size)
        .set_max_map_size(limits.max_map_size)
        .set_max_modules(0)
        .set_max_variables(1_000)
        .set_max_functions(1_000)
        .set_strict_variables(true)
        .set_fail_on_invalid_map_property(true);
    e.disable_symbol("eval");
    e.on_print(|_| {});
    e.on_debug(|_, _, _| {});

    e.register_fn("param", session::script_param);
    e.register_fn("step", session::script_step);
    e.register_fn("round2", |x: Decimal| round2(x));
    e.register_fn("round2", |x: INT| Decimal::from(x).round_dp(2));
    e.register_fn("reason", |code: &str| reason(code, Map::new()));
    e.register_fn("reason", reason);
    e.register_fn("months_before", |date: &str, n: INT| -> Result<String, Box<EvalAltResult>> {
        let d = parse_date(date).ok_or_else(|| format!("months_before: not a date {date:?}"))?;
        let n = u32::try_from(n).map_err(|_| format!("months_before: bad month count {n}"))?;
        months_before(d, n).map(format_date).ok_or_else(|| "months_before: date out of range".into())
    });
    e.register_fn("days_before", |date: &str, n: INT| -> Result<String, Box<EvalAltResult>> {
        let d = parse_date(date).ok_or_else(|| format!("days_before: not a date {date:?}"))?;
        let n = u64::try_from(n).map_err(|_| format!("days_before: bad day count {n}"))?;
        days_before(d, n).map(format_date).ok_or_else(|| "days_before: date out of range".into())
    });
    e
}

fn reason(code: &str, values: Map) -> Map {
    let mut m = Map::new();
    m.insert("code".into(), code.into());
    m.insert("values".into(), Dynamic::from_map(values));
    m
}

/// A scope with placeholders for the script variables, for compiling. They are plain
/// variables, not constants: the optimizer would fold a constant placeholder's fields
/// into the compiled script.
pub fn compile_scope() -> Scope<'static> {
    let mut scope = Scope::new();
    for v in SCRIPT_VARIABLES {
        scope.push_dynamic(*v, Dynamic::UNIT);
    }
    scope
}

/// Compiles one script; the problem names the file and line.
pub fn compile(engine: &rhai::Engine, file: &str, source: &str) -> Result<AST, PackProblem> {
    engine.compile_with_scope(&compile_scope(), source).map_err(|e| PackProblem {
        file: file.to_string(),
        line: e.position().line(),
        message: e.err_type().to_string(),
    })
}

/// Turns a Rhai runtime error into a rule error naming the program, file and limit.
pub fn rule_error(program: &str, file: &str, err: &EvalAltResult) -> Error {
    let line = match err.position() {
        Position::NONE => None,
        p => p.line(),
    };
    let message = match err {
        EvalAltResult::ErrorTooManyOperations(_) => "exceeded the operations limit (limits.max_operations in pack.toml)".to_string(),
        EvalAltResult::ErrorStackOverflow(_) => "exceeded the call depth limit (limits.max_call_levels in pack.toml)".to_string(),
        EvalAltResult::ErrorDataTooLarge(what, _) => format!("{what} exceeded its size limit (limits in pack.toml)"),
        EvalAltResult::ErrorTooManyModules(_) => "module imports are not allowed in rule scripts".to_string(),
        EvalAltResult::ErrorModuleNotFound(m, _) => format!("module imports are not allowed in rule scripts (import {m:?})"),
        other => {
            let mut s = other.to_string();
            if let Some(i) = s.rfind(" (line ") {
                s.truncate(i);
            }
            s
        }
    };
    Error::Rule { program: program.to_string(), file: file.to_string(), line, message }
}

/// The status of a program's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Eligible,
    Ineligible,
    Review,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Eligible => "eligible",
            Status::Ineligible => "ineligible",
            Status::Review => "review",
        }
    }
}

/// The period of a program's amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Monthly,
    OneOff,
    Annual,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Monthly => "monthly",
            Period::OneOff => "one_off",
            Period::Annual => "annual",
        }
    }
}

/// A reason as the script gave it, before its message is rendered.
#[derive(Debug, Clone)]
pub struct RawReason {
    pub code: Str,
    pub values: ValMap,
    pub basis: Option<Str>,
}

/// What a program decided, read from the script's return value.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    pub category: Option<Str>,
    /// Rounded to cents.
    pub amount: Decimal,
    pub period: Period,
    pub reasons: Vec<RawReason>,
    /// member id → breakdown, in the order the script gave (re-ordered by the engine).
    pub members: Vec<(Str, Val)>,
    pub details: ValMap,
}

impl Outcome {
    /// The value later programs see in `results.<id>`.
    pub fn to_val(&self) -> Val {
        let mut members_map = ValMap::with_capacity(self.members.len());
        for (k, v) in &self.members {
            members_map.insert(k.clone(), v.clone());
        }
        Val::map(ValMap::from_sorted(vec![
            (Str::Static("amount"), Val::Dec(self.amount)),
            (Str::Static("category"), self.category.clone().map(Val::Str).unwrap_or(Val::Unit)),
            (Str::Static("details"), Val::map(self.details.clone())),
            (Str::Static("members"), Val::map(members_map)),
            (Str::Static("period"), Val::str(self.period.as_str())),
            (Str::Static("status"), Val::str(self.status.as_str())),
        ]))
    }
}

/// The outcomes of one household's programs, owning every value in them, so that a
/// finished decision can move to another thread (`Engine::decide_many` decides on
/// worker threads and renders on the caller's).
///
/// Values count their references without atomics ([`value`]), which is only sound
/// while all the handles to a string, array or map stay on one thread. [`Outcomes::new`]
/// copies any part also held elsewhere ([`value::unshare`]), so afterwards every handle
/// to every part is inside these outcomes, and a move takes them all along. Nothing
/// takes a new handle after that: outside the crate no `Outcomes` can be reached (a
/// decision's are a crate-private field, and there is no other way to one), and inside
/// it they are read through shared references only by rendering, which borrows and
/// never clones a value out.
pub struct Outcomes(Vec<Outcome>);

// SAFETY: see above: every `Rc` reachable from the outcomes is unique when they are
// made, and no code keeps a clone of one afterwards, so moving the outcomes moves every
// handle. Not `Sync`: two threads never read them at once (no `&Outcomes` is shared).
unsafe impl Send for Outcomes {}

impl Outcomes {
    pub(crate) fn new(mut list: Vec<Outcome>) -> Outcomes {
        for o in &mut list {
            o.unshare();
        }
        Outcomes(list)
    }
}

impl std::ops::Deref for Outcomes {
    type Target = [Outcome];
    fn deref(&self) -> &[Outcome] {
        &self.0
    }
}

impl Outcome {
    /// Copies every part of this outcome that something else also holds.
    fn unshare(&mut self) {
        if let Some(c) = &mut self.category {
            value::unshare_str(c);
        }
        for r in &mut self.reasons {
            value::unshare_str(&mut r.code);
            r.values.unshare();
            if let Some(b) = &mut r.basis {
                value::unshare_str(b);
            }
        }
        for (k, v) in &mut self.members {
            value::unshare_str(k);
            value::unshare(v);
        }
        self.details.unshare();
    }
}

/// Reads a script's return value; the message says what is wrong with it.
pub fn read_outcome(v: Val) -> Result<Outcome, String> {
    let type_name = v.type_name();
    let Owned::Map(m) = v.into_owned() else {
        return Err(format!(
            "the script must end with a result map #{{ status: ..., amount: ..., period: ..., reasons: [...] }}, it returned {type_name}"
        ));
    };
    let m = Rc::unwrap_or_clone(m);
    // One pass: each allowed key to its slot; the first unknown key (keys are sorted) is
    // reported after the checks of the known ones, as it always was.
    let mut slots: [Option<Val>; 7] = Default::default();
    let mut unknown: Option<String> = None;
    for (k, v) in m.into_entries() {
        let i = match k.as_str() {
            "status" => 0,
            "period" => 1,
            "category" => 2,
            "amount" => 3,
            "reasons" => 4,
            "members" => 5,
            "details" => 6,
            other => {
                unknown.get_or_insert_with(|| other.to_string());
                continue;
            }
        };
        slots[i] = Some(v);
    }
    let [status, period, category, amount, reasons, members, details] = slots;
    let text = |v: Option<Val>, key: &str| -> Result<Option<Str>, String> {
        match v.map(Val::into_owned) {
            None | Some(Owned::Unit) => Ok(None),
            Some(Owned::Str(s)) => Ok(Some(s)),
            Some(x) => Err(format!("`{key}` must be a string, found {}", x.type_name())),
        }
    };
    let status = match text(status, "status")?.as_deref() {
        Some("eligible") => Status::Eligible,
        Some("ineligible") => Status::Ineligible,
        Some("review") => Status::Review,
        Some(other) => return Err(format!("status {other:?} is not eligible, ineligible or review")),
        None => return Err("the result has no `status`".into()),
    };
    let period = match text(period, "period")?.as_deref() {
        Some("monthly") => Period::Monthly,
        Some("one_off") => Period::OneOff,
        Some("annual") => Period::Annual,
        Some(other) => return Err(format!("period {other:?} is not monthly, one_off or annual")),
        None => return Err("the result has no `period`".into()),
    };
    let category = text(category, "category")?;
    let amount = match amount.map(Val::into_owned) {
        None => Decimal::ZERO,
        Some(Owned::Dec(d)) => d,
        Some(Owned::Int(i)) => Decimal::from(i),
        Some(a) => return Err(format!("`amount` must be a number, found {}", a.type_name())),
    };
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(format!("`amount` is negative ({amount})"));
    }
    let reasons = match reasons.map(Val::into_owned) {
        None => return Err("the result has no `reasons`".into()),
        Some(Owned::Array(arr)) => {
            let arr = Rc::unwrap_or_clone(arr);
            arr.into_iter().map(read_reason).collect::<Result<Vec<_>, _>>()?
        }
        Some(r) => return Err(format!("`reasons` must be an array, found {}", r.type_name())),
    };
    if reasons.is_empty() {
        return Err("the result must give at least one reason".into());
    }
    let members = match members.map(Val::into_owned) {
        None | Some(Owned::Unit) => Vec::new(),
        Some(Owned::Map(map)) => {
            let map = Rc::unwrap_or_clone(map);
            map.into_entries()
        }
        Some(x) => return Err(format!("`members` must be a map of member id to values, found {}", x.type_name())),
    };
    let details = match details.map(Val::into_owned) {
        None | Some(Owned::Unit) => ValMap::default(),
        Some(Owned::Map(map)) => Rc::unwrap_or_clone(map),
        Some(x) => return Err(format!("`details` must be a map, found {}", x.type_name())),
    };
    if let Some(k) = unknown {
        return Err(format!("unknown key `{k}` in the result (allowed: status, category, amount, period, reasons, members, details)"));
    }
    Ok(Outcome { status, category, amount: round2(amount), period, reasons, members, details })
}

fn read_reason(r: Val) -> Result<RawReason, String> {
    let t = r.type_name();
    let Owned::Map(m) = r.into_owned() else { return Err(format!("a reason must be made with reason(code, values), found {t}")) };
    // One pass over the entries (a reason made by `reason()` has exactly `code` and
    // `values`), rather than a search and a removal per key.
    let (mut code, mut values, mut basis) = (None, None, None);
    for (k, v) in Rc::unwrap_or_clone(m).into_entries() {
        match k.as_str() {
            "code" => code = Some(v),
            "values" => values = Some(v),
            "basis" => basis = Some(v),
            _ => {}
        }
    }
    let code = match code.map(Val::into_owned) {
        Some(Owned::Str(s)) => s,
        _ => return Err("a reason has no string `code`".into()),
    };
    let values = match values.map(Val::into_owned) {
        None => ValMap::default(),
        Some(Owned::Map(v)) => Rc::unwrap_or_clone(v),
        Some(_) => return Err("a reason's `values` must be a map".into()),
    };
    let basis = match basis.map(Val::into_owned) {
        Some(Owned::Str(s)) => Some(s),
        _ => None,
    };
    Ok(RawReason { code, values, basis })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared_count(v: &Val) -> usize {
        // 1 for a value without a count
        v.strong_count().max(1)
    }

    #[test]
    fn outcomes_own_every_part_even_what_a_script_shared() {
        // A script may put one map into two reasons and keep a member's id text in many
        // places: the outcomes must hold their own copies before they cross threads.
        let long_id = "a member id longer than a short text";
        let values = ValMap::from_sorted(vec![(Str::Static("member"), Val::string(long_id))]);
        let id = Str::new(long_id);
        let kept = Val::map(values.clone());
        let outcome = Outcome {
            status: Status::Eligible,
            category: Some(id.clone()),
            amount: Decimal::ONE,
            period: Period::Monthly,
            reasons: vec![
                RawReason { code: Str::Static("A"), values: values.clone(), basis: None },
                RawReason { code: Str::Static("B"), values, basis: Some(id.clone()) },
            ],
            members: vec![(id.clone(), kept.clone())],
            details: ValMap::default(),
        };
        let outcomes = Outcomes::new(vec![outcome.clone(), outcome]);
        for o in outcomes.iter() {
            let Some(c) = &o.category else { panic!("a category") };
            assert!(matches!(c.kind(), value::StrKind::Shared(_)), "a shared text");
            assert_eq!(c.strong_count(), 1);
            for r in &o.reasons {
                for (_, v) in r.values.iter() {
                    assert_eq!(shared_count(v), 1);
                }
            }
            assert_eq!(shared_count(&o.members[0].1), 1);
        }
        // What stayed outside is untouched, and no longer shares anything with them.
        assert_eq!(shared_count(&kept), 1);
        assert_eq!(kept.to_json(), serde_json::json!({ "member": long_id }));
    }

    #[test]
    fn decisions_can_be_sent_to_another_thread() {
        fn is_send<T: Send>() {}
        is_send::<crate::render::Decision<'static>>();
        is_send::<Outcomes>();
    }
}
