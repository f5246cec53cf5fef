//! The native ceiling: policy.md §1–§5 hand-written in Rust over the engine's own
//! validated `Household` and `Derived` (policy.md §0 is `jiuzhu_core::household::derive`,
//! the same function the engine runs). Parameters are read from the pack with
//! `ParamStore::resolve`, once per household (`native`), or once per
//! (region, area, date) and reused (`native, cached params`).
//!
//! It prints (1) the agreement with the engine on status, category and amount of every
//! program for N synthetic households (default 2,000), with the first disagreements, and
//! (2) single-thread timings per household: native, engine `evaluate_household`
//! (both from an already validated `Household`), and the engine JSON text → JSON text.
//!
//! `cargo run --release --manifest-path bench/native/Cargo.toml -- [N] [--json]`
//!
//! With `--many FILE`, it times the core's `evaluate_many` instead (see [`many`]); with
//! `--one FILE`, the core's calls for one household, `evaluate_value` and `evaluate_json`
//! (see [`one`]): the references the bindings are read against (bench/bindings.py,
//! bench/bindings.mjs).

use jiuzhu_core::date::{days_before, months_before};
use jiuzhu_core::household::{
    derive, Area, DeriveParams, Derived, EmploymentStatus, Household, Relation, Sex, StudentLevel, VehicleKind,
    WorkCapacity,
};
use jiuzhu_core::money::round2;
use jiuzhu_core::params::region_chain;
use jiuzhu_core::{parse_date, Date, Decimal, Engine, Options, ParamStore};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;


#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// ---------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------

/// Every parameter the five programs and the derivation read, for one household.
#[derive(Debug, Clone)]
struct P {
    derive: DeriveParams,
    standard: Decimal,
    marginal_multiplier: Decimal,
    severe_max_grade: i64,
    asset_limit_months: i64,
    vehicle_value_limit: Decimal,
    max_homes: i64,
    phase_out_months: i64,
    living_multiplier: Decimal,
    refusal_limit: i64,
    rate_severe: Decimal,
    rate_illness: Decimal,
    rate_elderly: Decimal,
    rate_minor: Decimal,
    elderly_age: i64,
    minor_age: i64,
    min_payment: Decimal,
    // temporary
    max_grants: i64,
    event_window_days: i64,
    emergency_months: i64,
    review_months: i64,
    expenditure_months: i64,
    expenditure_cap_months: i64,
    disposable_income: Option<Decimal>,
    // medical
    annual_cap: Decimal,
    catastrophic_share: Decimal,
    deductible_marginal: Decimal,
    deductible_catastrophic: Decimal,
    ratio_tekun: Decimal,
    ratio_dibao: Decimal,
    ratio_marginal: Decimal,
    ratio_catastrophic: Decimal,
    // student
    preschool_grant: Decimal,
    boarding_primary: Decimal,
    boarding_junior: Decimal,
    day_primary: Decimal,
    day_junior: Decimal,
    grant_senior_high: Decimal,
    grant_vocational: Decimal,
    college_tier1: Decimal,
    college_tier2: Decimal,
    grant_masters: Decimal,
    grant_doctoral: Decimal,
    // employment
    older_female: i64,
    older_male: i64,
    long_term_months: i64,
    social_insurance_subsidy: Option<Decimal>,
}

fn resolve_params(store: &ParamStore, region: &str, as_of: Date, area: Area) -> P {
    let chain = region_chain(region);
    let get = |n: &str| store.resolve(n, &chain, as_of, area).unwrap_or_else(|| panic!("parameter {n} for {region} on {as_of}"));
    let d = |n: &str| get(n).value.as_decimal().unwrap_or_else(|| panic!("{n} is not a decimal"));
    let i = |n: &str| get(n).value.as_integer().unwrap_or_else(|| panic!("{n} is not an integer"));
    let od = |n: &str| store.resolve(n, &chain, as_of, area).and_then(|r| r.value.as_decimal());
    P {
        derive: DeriveParams {
            excluded_kinds: get("income.excluded_kinds").value.as_list().expect("a list").to_vec(),
            work_cost_deduction: d("income.work_cost_deduction"),
            retirement_age_male: i("labor.retirement_age.male"),
            retirement_age_female: i("labor.retirement_age.female"),
        },
        standard: d("subsistence.standard"),
        marginal_multiplier: d("marginal.multiplier"),
        severe_max_grade: i("subsistence.severe_disability_max_grade"),
        asset_limit_months: i("subsistence.asset_limit_months"),
        vehicle_value_limit: d("subsistence.vehicle_value_limit"),
        max_homes: i("subsistence.max_homes"),
        phase_out_months: i("subsistence.phase_out_months"),
        living_multiplier: d("tekun.living_multiplier"),
        refusal_limit: i("subsistence.refusal_limit"),
        rate_severe: d("subsistence.supplement.severe_disability"),
        rate_illness: d("subsistence.supplement.serious_illness"),
        rate_elderly: d("subsistence.supplement.elderly"),
        rate_minor: d("subsistence.supplement.minor"),
        elderly_age: i("subsistence.elderly_age"),
        minor_age: i("subsistence.minor_age"),
        min_payment: d("subsistence.min_payment"),
        max_grants: i("temporary.max_grants_12m"),
        event_window_days: i("temporary.event_window_days"),
        emergency_months: i("temporary.emergency_months"),
        review_months: i("temporary.review_months"),
        expenditure_months: i("temporary.expenditure_months"),
        expenditure_cap_months: i("temporary.expenditure_cap_months"),
        disposable_income: od("region.disposable_income"),
        annual_cap: d("medical.annual_cap"),
        catastrophic_share: d("medical.catastrophic_share"),
        deductible_marginal: d("medical.deductible_share.marginal"),
        deductible_catastrophic: d("medical.deductible_share.catastrophic"),
        ratio_tekun: d("medical.ratio.tekun"),
        ratio_dibao: d("medical.ratio.dibao"),
        ratio_marginal: d("medical.ratio.marginal"),
        ratio_catastrophic: d("medical.ratio.catastrophic"),
        preschool_grant: d("student.preschool_grant"),
        boarding_primary: d("student.boarding.primary"),
        boarding_junior: d("student.boarding.junior"),
        day_primary: d("student.day.primary"),
        day_junior: d("student.day.junior"),
        grant_senior_high: d("student.grant.senior_high"),
        grant_vocational: d("student.grant.vocational"),
        college_tier1: d("student.grant.college.tier1"),
        college_tier2: d("student.grant.college.tier2"),
        grant_masters: d("student.grant.masters"),
        grant_doctoral: d("student.grant.doctoral"),
        older_female: i("employment.older_age.female"),
        older_male: i("employment.older_age.male"),
        long_term_months: i("employment.long_term_unemployed_months"),
        social_insurance_subsidy: od("employment.social_insurance_subsidy"),
    }
}

// ---------------------------------------------------------------------------------------
// The programs
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Eligible,
    Ineligible,
    Review,
}
impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Eligible => "eligible",
            Status::Ineligible => "ineligible",
            Status::Review => "review",
        }
    }
    fn positive(amount: Decimal) -> Status {
        if amount > Decimal::ZERO { Status::Eligible } else { Status::Ineligible }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    None,
    Tekun,
    Dibao,
    PhaseOut,
    SingleMember,
    Marginal,
}
impl Category {
    fn as_str(self) -> &'static str {
        match self {
            Category::None => "none",
            Category::Tekun => "tekun",
            Category::Dibao => "dibao",
            Category::PhaseOut => "phase_out",
            Category::SingleMember => "single_member",
            Category::Marginal => "marginal",
        }
    }
    fn assisted(self) -> bool {
        matches!(self, Category::Tekun | Category::Dibao | Category::PhaseOut | Category::SingleMember)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Outcome {
    status: Status,
    amount: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
struct Native {
    subsistence: Outcome,
    category: Category,
    temporary: Outcome,
    medical: Outcome,
    student: Outcome,
    employment: Outcome,
}

fn dec(i: i64) -> Decimal {
    Decimal::from(i)
}

fn severe(grade: Option<u8>, max: i64) -> bool {
    grade.is_some_and(|g| i64::from(g) <= max)
}

struct Sub {
    outcome: Outcome,
    category: Category,
    assets_ok: bool,
    covered: Vec<usize>,
}

/// policy.md §1
fn subsistence(h: &Household, d: &Derived, p: &P) -> Sub {
    let s = p.standard;
    let n = dec(d.size as i64);
    let income = d.subsistence_income;
    let pc = d.per_capita_income;
    let marginal_line = p.marginal_multiplier * s;

    let residence_ok = h.members.iter().find(|m| m.relation == Relation::Head).is_some_and(|m| m.local_hukou);

    let a = &h.assets;
    let fin_pc = (a.deposits.0 + a.securities.0) / n;
    let assets_ok = fin_pc <= dec(p.asset_limit_months) * s
        && !a
            .vehicles
            .iter()
            .any(|v| matches!(v.kind, VehicleKind::Car | VehicleKind::Commercial) && v.value.0 > p.vehicle_value_limit)
        && i64::from(a.homes) <= p.max_homes
        && !a.business_registered;

    let mut any_work = false;
    let mut any_support = false;
    let mut any_earnings = false;
    let mut any_severe = false;
    for (m, dm) in h.members.iter().zip(&d.members) {
        any_work |= matches!(dm.work_capacity, WorkCapacity::Full | WorkCapacity::Partial);
        any_support |= dm.has_support_income;
        any_earnings |= dm.has_wage_income || dm.has_business_income;
        any_severe |= severe(m.disability_grade, p.severe_max_grade) || m.serious_illness;
    }

    let hist = &h.history;
    let exit = hist.subsistence_exit_income_since.map(|x| x.0);
    let window_start = months_before(d.as_of, p.phase_out_months as u32).expect("a date");
    let exit_in_window = exit.is_some_and(|e| e >= window_start && e <= d.as_of);
    let phase_out = pc >= s && hist.subsistence_since.is_some() && any_earnings && (exit.is_none() || exit_in_window);

    let mut covered = Vec::new();
    let (status, category, amount) = if !residence_ok || !assets_ok {
        (Status::Ineligible, Category::None, Decimal::ZERO)
    } else if !any_work && !any_support && pc < s {
        let amount = round2((p.living_multiplier * s * n - income).max(Decimal::ZERO));
        (Status::positive(amount), Category::Tekun, amount)
    } else if pc < s {
        let sanctioned: Vec<bool> = h
            .members
            .iter()
            .zip(&d.members)
            .map(|(m, dm)| {
                dm.working_age
                    && dm.work_capacity == WorkCapacity::Full
                    && i64::from(m.employment.as_ref().map_or(0, |e| e.refused_offers)) >= p.refusal_limit
            })
            .collect();
        let entitled = d.size as i64 - sanctioned.iter().filter(|&&x| x).count() as i64;
        let gap = s * n - income;
        let base = gap * dec(entitled) / n;
        let mut supplements = Decimal::ZERO;
        for ((m, dm), &sanc) in h.members.iter().zip(&d.members).zip(&sanctioned) {
            if sanc {
                continue;
            }
            let mut rate = Decimal::ZERO;
            if severe(m.disability_grade, p.severe_max_grade) && p.rate_severe > rate {
                rate = p.rate_severe;
            }
            if m.serious_illness && p.rate_illness > rate {
                rate = p.rate_illness;
            }
            if dm.age >= p.elderly_age && p.rate_elderly > rate {
                rate = p.rate_elderly;
            }
            if dm.age < p.minor_age && p.rate_minor > rate {
                rate = p.rate_minor;
            }
            supplements += rate * s;
        }
        if entitled == 0 {
            (Status::Ineligible, Category::Dibao, Decimal::ZERO)
        } else {
            let mut amount = round2(base + supplements);
            if amount > Decimal::ZERO && amount < p.min_payment {
                amount = p.min_payment;
            }
            (Status::Eligible, Category::Dibao, amount)
        }
    } else if phase_out {
        match (exit, hist.subsistence_last_amount) {
            (Some(_), Some(last)) => (Status::Eligible, Category::PhaseOut, last.0),
            (_, last) => (Status::Review, Category::PhaseOut, last.map_or(Decimal::ZERO, |x| x.0)),
        }
    } else if pc < marginal_line && any_severe {
        let mut total = Decimal::ZERO;
        for (i, (m, dm)) in h.members.iter().zip(&d.members).enumerate() {
            if severe(m.disability_grade, p.severe_max_grade) || m.serious_illness {
                total += (s - dm.counted_income).max(Decimal::ZERO);
                covered.push(i);
            }
        }
        let amount = round2(total);
        (Status::positive(amount), Category::SingleMember, amount)
    } else if pc < marginal_line {
        (Status::Ineligible, Category::Marginal, Decimal::ZERO)
    } else {
        (Status::Ineligible, Category::None, Decimal::ZERO)
    };
    Sub { outcome: Outcome { status, amount: round2(amount) }, category, assets_ok, covered }
}

/// policy.md §2
fn temporary(h: &Household, d: &Derived, p: &P, sub: &Sub) -> Outcome {
    if i64::from(h.history.temporary_aid_grants_12m) >= p.max_grants {
        return Outcome { status: Status::Ineligible, amount: Decimal::ZERO };
    }
    let s = p.standard;
    let n = dec(d.size as i64);
    let window_start = days_before(d.as_of, p.event_window_days as u64).expect("a date");
    let mut uncovered = Decimal::ZERO;
    for e in &h.events {
        if e.date.0 >= window_start && e.date.0 <= d.as_of {
            uncovered += (e.loss.0 - e.compensation.0).max(Decimal::ZERO);
        }
    }
    let emergency_cap = dec(p.emergency_months) * s * n;
    let review_line = dec(p.review_months) * s * n;
    let emergency = if uncovered > Decimal::ZERO { uncovered.min(emergency_cap) } else { Decimal::ZERO };
    let case_by_case = uncovered > review_line;

    let x = &h.expenses;
    let rigid = x.medical.0 + x.education.0 + x.other.0;
    let a = if sub.outcome.status == Status::Eligible { sub.outcome.amount } else { Decimal::ZERO };
    let gap = rigid.min(s * n - (d.counted_income + a - rigid));
    let mut applies = false;
    if sub.assets_ok && gap > Decimal::ZERO {
        let line = p.disposable_income.expect("region.disposable_income") / dec(12);
        applies = d.per_capita_income < line;
    }
    let cap = dec(p.expenditure_cap_months) * s * n;
    let expenditure = if applies { (gap * dec(p.expenditure_months)).min(cap) } else { Decimal::ZERO };
    let amount = round2(emergency + expenditure);
    let status = if case_by_case {
        Status::Review
    } else if emergency + expenditure > Decimal::ZERO {
        Status::Eligible
    } else {
        Status::Ineligible
    };
    Outcome { status, amount }
}

/// policy.md §3
fn medical(h: &Household, d: &Derived, p: &P, sub: &Sub) -> Outcome {
    let cost = |md: &jiuzhu_core::household::Medical| {
        (md.in_scope_cost.0 - md.basic_insurance_paid.0 - md.critical_illness_paid.0 - md.other_paid.0).max(Decimal::ZERO)
    };
    let household_self_paid: Decimal = h.members.iter().filter_map(|m| m.medical.as_ref()).map(cost).sum();
    let catastrophic = household_self_paid > p.catastrophic_share * dec(12) * d.counted_income;
    let mut total = Decimal::ZERO;
    for (i, m) in h.members.iter().enumerate() {
        let Some(md) = &m.medical else { continue };
        let (deductible, ratio) = match sub.category {
            Category::Tekun => (Decimal::ZERO, p.ratio_tekun),
            Category::Dibao | Category::PhaseOut => (Decimal::ZERO, p.ratio_dibao),
            Category::SingleMember if sub.covered.contains(&i) => (Decimal::ZERO, p.ratio_dibao),
            Category::SingleMember | Category::Marginal => {
                (p.deductible_marginal * p.disposable_income.expect("region.disposable_income"), p.ratio_marginal)
            }
            Category::None if catastrophic => {
                (p.deductible_catastrophic * p.disposable_income.expect("region.disposable_income"), p.ratio_catastrophic)
            }
            Category::None => continue,
        };
        let cap_remaining = (p.annual_cap - md.aid_received.0).max(Decimal::ZERO);
        total += round2(cap_remaining.min((cost(md) - deductible).max(Decimal::ZERO) * ratio));
    }
    Outcome { status: Status::positive(total), amount: round2(total) }
}

/// policy.md §4
fn student(h: &Household, p: &P, sub: &Sub) -> Outcome {
    let assisted = sub.category.assisted();
    let mut total = Decimal::ZERO;
    for m in &h.members {
        let Some(st) = &m.student else { continue };
        let priority = assisted || m.orphan || m.disability_grade.is_some();
        let difficult = priority || sub.category == Category::Marginal;
        let z = Decimal::ZERO;
        let tuition = st.tuition_per_year.0;
        let (grant, waiver) = match st.level {
            StudentLevel::Preschool => (if difficult { p.preschool_grant } else { z }, z),
            StudentLevel::Primary => {
                (if !difficult { z } else if st.boarding { p.boarding_primary } else { p.day_primary }, z)
            }
            StudentLevel::JuniorSecondary => {
                (if !difficult { z } else if st.boarding { p.boarding_junior } else { p.day_junior }, z)
            }
            StudentLevel::SeniorHigh => {
                (if difficult { p.grant_senior_high } else { z }, if priority { tuition } else { z })
            }
            StudentLevel::SecondaryVocational => (if difficult { p.grant_vocational } else { z }, tuition),
            StudentLevel::JuniorCollege | StudentLevel::Undergraduate => {
                (if priority { p.college_tier1 } else if difficult { p.college_tier2 } else { z }, z)
            }
            StudentLevel::Masters => (p.grant_masters, z),
            StudentLevel::Doctoral => (p.grant_doctoral, z),
        };
        total += round2(grant + waiver);
    }
    Outcome { status: Status::positive(total), amount: round2(total) }
}

/// policy.md §5
fn employment(h: &Household, d: &Derived, p: &P, sub: &Sub) -> Outcome {
    let able = |dm: &jiuzhu_core::household::DerivedMember| {
        dm.working_age && matches!(dm.work_capacity, WorkCapacity::Full | WorkCapacity::Partial)
    };
    let status_of = |m: &jiuzhu_core::household::Member| m.employment.as_ref().map(|e| e.status);
    let mut any_able = false;
    let mut any_able_working = false;
    for (m, dm) in h.members.iter().zip(&d.members) {
        if able(dm) {
            any_able = true;
            any_able_working |= matches!(status_of(m), Some(EmploymentStatus::Employed | EmploymentStatus::Flexible));
        }
    }
    let zero_employment = any_able && !any_able_working;
    let mut candidates = 0;
    let mut total = Decimal::ZERO;
    for (m, dm) in h.members.iter().zip(&d.members) {
        let st = status_of(m);
        if !(able(dm) && matches!(st, Some(EmploymentStatus::Unemployed | EmploymentStatus::Flexible))) {
            continue;
        }
        candidates += 1;
        let older = match m.sex {
            Sex::Female => p.older_female,
            Sex::Male => p.older_male,
        };
        let months = i64::from(m.employment.as_ref().map_or(0, |e| e.registered_unemployed_months));
        let in_group = dm.age >= older
            || m.disability_grade.is_some()
            || sub.category.assisted()
            || sub.category == Category::Marginal
            || zero_employment
            || months >= p.long_term_months;
        if in_group && st == Some(EmploymentStatus::Flexible) {
            total += p.social_insurance_subsidy.expect("employment.social_insurance_subsidy");
        }
    }
    let status = if candidates > 0 { Status::Eligible } else { Status::Ineligible };
    Outcome { status, amount: round2(total) }
}

fn as_of(h: &Household, opts: &Options) -> Date {
    opts.as_of.or(h.as_of.map(|d| d.0)).or(opts.default_as_of).expect("a date")
}

fn programs(h: &Household, d: &Derived, p: &P) -> Native {
    let sub = subsistence(h, d, p);
    Native {
        temporary: temporary(h, d, p, &sub),
        medical: medical(h, d, p, &sub),
        student: student(h, p, &sub),
        employment: employment(h, d, p, &sub),
        subsistence: sub.outcome,
        category: sub.category,
    }
}

/// One household: parameters, derivation (policy.md §0), the five programs.
fn native(store: &ParamStore, h: &Household, opts: &Options) -> Native {
    let as_of = as_of(h, opts);
    let p = resolve_params(store, &h.region, as_of, h.area);
    let d = derive(h, as_of, &p.derive);
    programs(h, &d, &p)
}

/// The same with parameters resolved once per (region, area, date).
fn native_cached(cache: &mut HashMap<(String, Area, Date), Arc<P>>, store: &ParamStore, h: &Household, opts: &Options) -> Native {
    let as_of = as_of(h, opts);
    let p = match cache.get(&(h.region.clone(), h.area, as_of)) {
        Some(p) => p.clone(),
        None => {
            let p = Arc::new(resolve_params(store, &h.region, as_of, h.area));
            cache.insert((h.region.clone(), h.area, as_of), p.clone());
            p
        }
    };
    let d = derive(h, as_of, &p.derive);
    programs(h, &d, &p)
}

// ---------------------------------------------------------------------------------------
// Agreement and timing
// ---------------------------------------------------------------------------------------

fn best_of<F: FnMut()>(reps: usize, mut f: F) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// `--many FILE [MESSAGES]`: the core's own `Engine::evaluate_many` on FILE's households,
/// one thread, the assessments kept until all are made and then dropped: what Python's
/// `evaluate_many(lines, threads=1)` does, in Rust, with Rust objects out. Prints µs per
/// household of one pass, after a pass to warm up. bench/bindings.py runs it between its
/// own rounds (`CORE=many`). With `values` (`--many FILE 1 values`), the households are
/// parsed `serde_json::Value`s beforehand instead of texts: what `evaluate_many` of
/// Python dicts does (`CORE=many DICTS=1`).
fn many(path: &str, messages: bool, values: bool) {
    let text = std::fs::read_to_string(path).expect("the households file");
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    if values {
        let parsed: Vec<_> =
            lines.iter().map(|l| jiuzhu_core::household::parse_household_text(l).expect("valid JSON")).collect();
        return many_of(&parsed, messages);
    }
    many_of(&lines, messages)
}

fn many_of<T: jiuzhu_core::batch::HouseholdInput + Sync>(households: &[T], messages: bool) {
    let engine = Engine::new().expect("the embedded pack");
    let opts = Options { messages, ..Options::default() };
    let pass = || {
        let t = Instant::now();
        let out = engine.evaluate_many(black_box(households), &opts, Some(1));
        assert!(out.iter().all(Result::is_ok), "every household evaluates");
        drop(black_box(out));
        t.elapsed().as_secs_f64()
    };
    pass();
    println!("{:.3}", pass() / households.len() as f64 * 1e6);
}

/// `--one FILE [MESSAGES]`: the core's calls for one household, in a loop over FILE's
/// households on one thread, each result dropped before the next: `Engine::evaluate_value`
/// (a parsed `serde_json::Value` in, an `Assessment` out: what the wasm package's
/// `evaluate(object)` does, in Rust) and `Engine::evaluate_json` (JSON text in and out:
/// its `evaluateJson(text)`). Prints µs per household of each, best of 5 passes after one
/// to warm up: `objects_us text_us`. bench/bindings.mjs runs it between its own rounds
/// (`CORE=native`).
fn one(path: &str, messages: bool) {
    let text = std::fs::read_to_string(path).expect("the households file");
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let values: Vec<_> =
        lines.iter().map(|l| jiuzhu_core::household::parse_household_text(l).expect("valid JSON")).collect();
    let engine = Engine::new().expect("the embedded pack");
    let opts = Options { messages, ..Options::default() };
    let objects = || {
        for v in &values {
            drop(black_box(engine.evaluate_value(black_box(v), &opts).expect("evaluates")));
        }
    };
    let texts = || {
        for l in &lines {
            drop(black_box(engine.evaluate_json(black_box(*l), &opts).expect("evaluates")));
        }
    };
    objects();
    texts();
    let n = lines.len() as f64;
    let (o, t) = (best_of(5, objects), best_of(5, texts));
    println!("{:.3} {:.3}", o / n * 1e6, t / n * 1e6);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--many") {
        let values = args.get(3).map(String::as_str) == Some("values");
        return many(args.get(1).expect("--many FILE"), args.get(2).map(String::as_str) != Some("0"), values);
    }
    if args.first().map(String::as_str) == Some("--one") {
        return one(args.get(1).expect("--one FILE"), args.get(2).map(String::as_str) != Some("0"));
    }
    let n: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(2000);
    let date = parse_date("2025-03-01").expect("a date");
    let engine = Engine::new().expect("the embedded pack");
    let opts = Options { default_as_of: Some(date), ..Options::default() };
    let store = engine.parameters();
    let lines: Vec<String> = jiuzhu_core::synth::synth(&engine, n, 42, None, date).expect("synth").collect();
    let households: Vec<Household> = lines
        .iter()
        .map(|l| {
            let v = jiuzhu_core::household::parse_household_text(l).expect("valid JSON");
            engine.read(&v, &opts).expect("a valid household")
        })
        .collect();

    // 1. Agreement.
    let mut agree = 0usize;
    let mut shown = 0;
    let mut mix: std::collections::BTreeMap<String, usize> = Default::default();
    let mut by_program: HashMap<&str, usize> = HashMap::new();
    for (h, line) in households.iter().zip(&lines) {
        let a = engine.evaluate_household(h, &opts).expect("the engine evaluates");
        let nat = native(store, h, &opts);
        let mine = [
            ("subsistence", nat.subsistence, Some(nat.category.as_str())),
            ("temporary", nat.temporary, None),
            ("medical", nat.medical, None),
            ("student", nat.student, None),
            ("employment", nat.employment, None),
        ];
        let mut ok = true;
        *mix.entry(format!("subsistence:{}", nat.category.as_str())).or_default() += 1;
        for (id, o, _) in &mine {
            if o.status != Status::Ineligible {
                *mix.entry(format!("{id}:{}", o.status.as_str())).or_default() += 1;
            }
        }
        for (id, o, cat) in mine {
            let r = &a.programs[id];
            let same = r.status == o.status.as_str() && r.amount.0 == o.amount && r.category.as_deref() == cat;
            if !same {
                ok = false;
                *by_program.entry(id).or_default() += 1;
                if shown < 5 {
                    shown += 1;
                    eprintln!(
                        "DISAGREE {} {id}: engine {} {:?} {} / native {} {:?} {}\n  {line}",
                        a.household_id,
                        r.status,
                        r.category,
                        r.amount.0,
                        o.status.as_str(),
                        cat,
                        o.amount
                    );
                }
            }
        }
        agree += ok as usize;
    }
    println!("agreement: {agree}/{n} households agree on status, category and amount of all 5 programs");
    println!("coverage of the sample: {mix:?}");
    if !by_program.is_empty() {
        println!("disagreements by program: {by_program:?}");
    }

    // 2. Timing, one thread, best of 5 passes over the population.
    let reps = 5;
    let t_native = best_of(reps, || {
        for h in &households {
            black_box(native(store, black_box(h), &opts));
        }
    });
    let mut cache = HashMap::new();
    let t_cached = best_of(reps, || {
        for h in &households {
            black_box(native_cached(&mut cache, store, black_box(h), &opts));
        }
    });
    let t_engine = best_of(reps, || {
        for h in &households {
            black_box(engine.evaluate_household(black_box(h), &opts).expect("evaluates"));
        }
    });
    let t_full = best_of(reps, || {
        for l in &lines {
            black_box(engine.evaluate_str(black_box(l), &opts).expect("evaluates").to_json());
        }
    });
    // The engine doing the native code's job: the five programs on a validated household,
    // their outcomes not rendered (no messages, no JSON).
    let t_decide = best_of(reps, || {
        for h in &households {
            black_box(engine.decide_household(black_box(h), &opts).expect("decides"));
        }
    });
    // What `jiuzhu batch` does per line: JSON text in, the assessment's JSON text out.
    let mut buf = Vec::with_capacity(8192);
    let t_json = best_of(reps, || {
        for l in &lines {
            buf.clear();
            engine.evaluate_json_into(black_box(l.as_str()), &opts, &mut buf).expect("evaluates");
            black_box(&buf);
        }
    });
    let us = |t: f64| t / n as f64 * 1e6;
    println!("per household, one thread, {n} synthetic households (seed 42, as_of 2025-03-01), best of {reps}:");
    println!("  native (params resolved per household)  {:>9.2} µs", us(t_native));
    println!("  native (params cached)                  {:>9.2} µs", us(t_cached));
    println!("  engine evaluate_household               {:>9.2} µs", us(t_engine));
    println!("  engine JSON text -> JSON text           {:>9.2} µs", us(t_full));
    println!("  engine decide (programs, not rendered)  {:>9.2} µs", us(t_decide));
    println!("  engine JSON -> JSON as batch writes it  {:>9.2} µs", us(t_json));
    println!("ratio engine evaluate_household / native          {:>7.1}x", t_engine / t_native);
    println!("ratio engine evaluate_household / native (cached) {:>7.1}x", t_engine / t_cached);
    println!("ratio engine JSON->JSON / native                  {:>7.1}x", t_full / t_native);
    println!("ratio engine decide / native                      {:>7.1}x", t_decide / t_native);
    println!("ratio engine JSON->JSON as batch / native         {:>7.1}x", t_json / t_native);
    if args.iter().any(|a| a == "--json") {
        println!(
            "{{\"n\":{n},\"agree\":{agree},\"native_us\":{:.3},\"native_cached_us\":{:.3},\"engine_us\":{:.3},\"full_us\":{:.3},\"decide_us\":{:.3},\"batch_json_us\":{:.3}}}",
            us(t_native),
            us(t_cached),
            us(t_engine),
            us(t_full),
            us(t_decide),
            us(t_json)
        );
    }
}
