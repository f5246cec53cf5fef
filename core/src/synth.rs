//! A deterministic synthetic population, for demos, benchmarks and tests.
//!
//! [`synth`] yields households of the input schema as JSON lines. The same engine
//! parameters, count, seed, region and date give the same bytes on every platform and
//! in wasm: the generator is a self-contained SplitMix64 ([`SplitMix64`]) driven with
//! integer arithmetic only, and money is exact [`Decimal`]. Household `i` depends only on
//! the seed and `i`, so a population of 100 is the first 100 lines of one of 1000.
//!
//! The mix, by design (per household unless said otherwise):
//! * sizes 1–6; couples, single parents, grandparents raising grandchildren, siblings;
//!   ages 0–95; about 15 % of persons with a disability grade, some seriously ill;
//! * income placed relative to the local subsistence standard `S` (read from the
//!   engine's parameters for the household's region, area and date, overrides
//!   included): about 20 % below `S`, about 15 % in the marginal band `[S, 1.5 S)`,
//!   1.5 % exactly at `S` and 1.5 % exactly at the marginal line (per-capita income
//!   equal to the line to the cent, after the work-cost deduction, the excluded income
//!   kinds and the rigid medical deduction — mirrored from policy.md §0), the rest above;
//! * students at every level, medical records, rigid expenses, hardship events around
//!   the edges of the temporary-aid window, cars, second homes, deposits over (and
//!   exactly at) the asset limit, refusals of job offers at the sanction limit,
//!   households on dibao and phase-out histories around the phase-out window;
//! * regions 110000, 110105, 110108, 310000, 310115, 440100, 440106, 410100 and 410102
//!   (those the pack covers), three quarters urban — or one region when asked.
//!
//! Every household validates: birth and event dates not after `as_of`, exactly one
//! head, unique member ids.

use crate::date::Date;
use crate::household::*;
use crate::params::{self, region_chain, ParamValue};
use crate::{Engine, Error, Result};
use chrono::{Days, Months};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// The default seed of `jiuzhu synth`.
pub const DEFAULT_SEED: u64 = 42;
/// The default assessment date of `jiuzhu synth`.
pub const DEFAULT_AS_OF: &str = "2025-03-01";
/// The regions of a population when no region is asked (those the pack covers are used).
pub const REGIONS: &[&str] = &[
    "110000", "110105", "110108", "310000", "310115", "440100", "440106", "410100", "410102",
];

// ---------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and identical everywhere.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0), by multiply-and-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi` (`lo` when `hi < lo`).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// An index drawn with the given weights (0 when they are all zero).
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut x = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The generator state of household `index`: independent of every other household.
fn household_seed(seed: u64, index: u64) -> u64 {
    let mut r = SplitMix64::new(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
    r.next_u64()
}

// ---------------------------------------------------------------------------------------
// What the generator needs to know of the pack
// ---------------------------------------------------------------------------------------

/// The parameters of one region and area on the date.
#[derive(Debug, Clone)]
struct Local {
    /// `S`
    standard: Decimal,
    /// `marginal.multiplier × S`
    marginal_line: Decimal,
    work_cost: Decimal,
    excluded: Vec<IncomeKind>,
    asset_months: Decimal,
    retire_male: i64,
    retire_female: i64,
    refusal_limit: i64,
    event_window: i64,
    phase_out_months: i64,
}

#[derive(Debug, Clone)]
struct Place {
    code: String,
    urban: Local,
    rural: Local,
}

fn local(engine: &Engine, code: &str, as_of: Date, area: Area) -> Result<Local> {
    let chain = region_chain(code);
    let get = |name: &str| {
        params::lookup(
            engine.parameters(),
            engine.overrides(),
            name,
            &chain,
            as_of,
            area,
        )
        .ok()
        .map(|r| r.value)
    };
    let dec = |name: &str, default: i64| {
        get(name)
            .and_then(|v| v.as_decimal())
            .unwrap_or(Decimal::from(default))
    };
    let int = |name: &str, default: i64| get(name).and_then(|v| v.as_integer()).unwrap_or(default);
    let standard = params::lookup(
        engine.parameters(),
        engine.overrides(),
        "subsistence.standard",
        &chain,
        as_of,
        area,
    )?
    .value
    .as_decimal()
    .ok_or_else(|| Error::Parameter("parameter `subsistence.standard` must be a decimal".into()))?;
    let excluded = match get("income.excluded_kinds") {
        Some(ParamValue::List(l)) => l.iter().filter_map(|k| IncomeKind::parse(k)).collect(),
        _ => Vec::new(),
    };
    Ok(Local {
        standard,
        marginal_line: dec("marginal.multiplier", 1) * standard,
        work_cost: dec("income.work_cost_deduction", 0),
        excluded,
        asset_months: dec("subsistence.asset_limit_months", 24),
        retire_male: int("labor.retirement_age.male", 60),
        retire_female: int("labor.retirement_age.female", 55),
        refusal_limit: int("subsistence.refusal_limit", 3),
        event_window: int("temporary.event_window_days", 90),
        phase_out_months: int("subsistence.phase_out_months", 6),
    })
}

fn place(engine: &Engine, code: &str, as_of: Date) -> Result<Place> {
    Ok(Place {
        code: code.to_string(),
        urban: local(engine, code, as_of, Area::Urban)?,
        rural: local(engine, code, as_of, Area::Rural)?,
    })
}

// ---------------------------------------------------------------------------------------
// The population
// ---------------------------------------------------------------------------------------

/// `n` synthetic households as JSON lines (see the module documentation). `region`:
/// only that region (it must be covered by the pack on `as_of`); `None`: the regions
/// of [`REGIONS`] the pack covers.
pub fn synth(
    engine: &Engine,
    n: usize,
    seed: u64,
    region: Option<&str>,
    as_of: Date,
) -> Result<Synth> {
    let places = match region {
        Some(code) => {
            if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::Usage(format!(
                    "region {code:?} is not a 6-digit administrative division code"
                )));
            }
            let known = || {
                engine
                    .regions()
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            match place(engine, code, as_of) {
                Ok(p) => vec![p],
                Err(e) => {
                    return Err(Error::Usage(format!(
                        "cannot make households for region {code} on {}: {e} (the pack has parameters for: {})",
                        crate::date::format_date(as_of),
                        known()
                    )))
                }
            }
        }
        None => {
            let mut places: Vec<Place> = REGIONS
                .iter()
                .filter_map(|c| place(engine, c, as_of).ok())
                .collect();
            if places.is_empty() {
                places = engine
                    .regions()
                    .iter()
                    .filter_map(|c| place(engine, c, as_of).ok())
                    .collect();
            }
            if places.is_empty() {
                return Err(Error::Usage(format!(
                    "no region of the pack has a subsistence standard on {}",
                    crate::date::format_date(as_of)
                )));
            }
            places
        }
    };
    Ok(Synth {
        places,
        as_of,
        seed,
        n,
        next: 0,
    })
}

/// The iterator [`synth`] returns: one compact JSON household per item (no newline).
#[derive(Debug, Clone)]
pub struct Synth {
    places: Vec<Place>,
    as_of: Date,
    seed: u64,
    n: usize,
    next: usize,
}

impl Iterator for Synth {
    type Item = String;
    fn next(&mut self) -> Option<String> {
        if self.next >= self.n {
            return None;
        }
        let h = self.household(self.next);
        self.next += 1;
        Some(serde_json::to_string(&h).expect("a household always serializes"))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.n - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Synth {}

/// Where a household's per-capita income is placed, relative to `S` and the marginal line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Band {
    Below,
    Marginal,
    AtStandard,
    AtMarginalLine,
    Above,
}

struct Person {
    relation: Relation,
    age: i64,
    sex: Sex,
    orphan: bool,
}

/// What kind of counted income a member has, if any.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    None,
    Earned(IncomeKind),
    Unearned(IncomeKind),
}

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

fn yuan(y: i64) -> Amount {
    Amount(cents(y * 100))
}

/// Whole cents of a non-negative decimal, rounded down.
fn to_cents(d: Decimal) -> i64 {
    (d * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, RoundingStrategy::ToZero)
        .to_i64()
        .unwrap_or(0)
        .max(0)
}

/// The decimal as an amount when it is a whole number of cents.
fn exact_amount(d: Decimal) -> Option<Amount> {
    let n = d.normalize();
    (n.scale() <= 2 && !n.is_sign_negative()).then(|| {
        let mut v = n;
        v.rescale(2);
        Amount(v)
    })
}

fn sub_months(d: Date, m: i64) -> Date {
    d.checked_sub_months(Months::new(m.clamp(0, 12_000) as u32))
        .unwrap_or(d)
}

fn sub_days(d: Date, n: i64) -> Date {
    d.checked_sub_days(Days::new(n.max(0) as u64)).unwrap_or(d)
}

impl Synth {
    /// Household `index` (0-based) of the population.
    pub fn household(&self, index: usize) -> Household {
        let mut r = SplitMix64::new(household_seed(self.seed, index as u64));
        let place = if self.places.len() == 1 {
            &self.places[0]
        } else {
            r.pick(&self.places)
        };
        let area = if r.chance(250) {
            Area::Rural
        } else {
            Area::Urban
        };
        let loc = match area {
            Area::Urban => &place.urban,
            Area::Rural => &place.rural,
        };
        let band = [
            Band::Below,
            Band::Marginal,
            Band::AtStandard,
            Band::AtMarginalLine,
            Band::Above,
        ][r.weighted(&[200, 150, 15, 15, 620])];
        let poor = matches!(band, Band::Below);
        // Households near the line hold few assets; those above it more.
        let modest = !matches!(band, Band::Above);
        let size = 1 + r.weighted(&[20, 25, 25, 15, 10, 5]);
        let people = compose(&mut r, size, poor);
        let as_of = self.as_of;

        // Members, without incomes yet.
        let mut members: Vec<Member> = Vec::with_capacity(size);
        let mut slots: Vec<Slot> = Vec::with_capacity(size);
        for (i, p) in people.iter().enumerate() {
            let (m, slot) = self.member(&mut r, loc, i, p, poor);
            members.push(m);
            slots.push(slot);
        }
        let n = members.len() as i64;
        let medical_need = members
            .iter()
            .any(|m| m.disability_grade.is_some() || m.serious_illness);
        let has_student = members.iter().any(|m| m.student.is_some());

        // Rigid expenses (the medical one is deducted from income when there is a need).
        let expenses = Expenses {
            medical: if medical_need && r.chance(600) {
                yuan(r.range(100, 2000))
            } else if r.chance(150) {
                yuan(r.range(50, 800))
            } else {
                yuan(0)
            },
            education: if has_student && r.chance(500) {
                yuan(r.range(100, 1500))
            } else {
                yuan(0)
            },
            other: if r.chance(100) {
                yuan(r.range(50, 1000))
            } else {
                yuan(0)
            },
        };

        // Counted income I_sub, placed in the band, then I before the rigid medical deduction.
        let nd = Decimal::from(n);
        let (s, line) = (loc.standard, loc.marginal_line);
        let i_sub = match band {
            Band::Below => {
                let u = if r.chance(120) { 0 } else { r.range(1, 999) };
                cents(to_cents(s * nd * Decimal::from(u) / Decimal::from(1000)))
            }
            Band::Marginal => cents(to_cents(
                s * nd
                    + (line - s).max(Decimal::ZERO) * nd * Decimal::from(r.range(1, 999))
                        / Decimal::from(1000),
            )),
            Band::AtStandard => s * nd,
            Band::AtMarginalLine => exact_amount(line * nd).map(|a| a.0).unwrap_or(s * nd),
            Band::Above => {
                let x = r.below(8000) as i64;
                cents(to_cents(
                    line * nd + s * nd * Decimal::from(1 + x * x / 4000) / Decimal::from(1000),
                ))
            }
        };
        let deduction = if medical_need {
            expenses.medical.0
        } else {
            Decimal::ZERO
        };
        let mut total = to_cents(i_sub + deduction);
        if i_sub.is_zero() && !deduction.is_zero() {
            // Any income up to the deduction leaves I_sub at zero.
            total = r.range(0, to_cents(deduction));
        }

        // Somebody must receive it.
        if total > 0 && slots.iter().all(|s| *s == Slot::None) {
            let head_old = people[0].age >= retirement(loc, people[0].sex);
            slots[0] = if head_old {
                Slot::Unearned(IncomeKind::Pension)
            } else {
                Slot::Unearned(
                    [
                        IncomeKind::Transfer,
                        IncomeKind::Property,
                        IncomeKind::Support,
                        IncomeKind::Other,
                    ][r.weighted(&[40, 25, 20, 15])],
                )
            };
        }
        let shares = split(
            &mut r,
            total,
            slots.iter().filter(|s| **s != Slot::None).count(),
        );
        let mut shares = shares.into_iter();
        let work_cost = to_cents(loc.work_cost);
        for (m, slot) in members.iter_mut().zip(&slots) {
            let share = match slot {
                Slot::None => continue,
                _ => shares.next().unwrap_or(0),
            };
            match *slot {
                Slot::Earned(kind) if share > 0 => m.incomes.push(Income {
                    kind,
                    monthly: Amount(cents(share + work_cost)),
                }),
                // Earnings within the work-cost deduction count as nothing.
                Slot::Earned(kind) if work_cost > 0 && r.chance(250) => m.incomes.push(Income {
                    kind,
                    monthly: Amount(cents(r.range(1, work_cost))),
                }),
                Slot::Unearned(kind) if share > 0 => m.incomes.push(Income {
                    kind,
                    monthly: Amount(cents(share)),
                }),
                _ => {}
            }
        }

        // History: on dibao already, or leaving it (phase-out around its window).
        let earning = members.iter().any(|m| {
            m.incomes.iter().any(|i| {
                matches!(i.kind, IncomeKind::Wage | IncomeKind::Business)
                    && i.monthly.0 > Decimal::ZERO
            })
        });
        let mut history = History {
            temporary_aid_grants_12m: [0, 1, 2, 3][r.weighted(&[850, 90, 40, 20])],
            ..Default::default()
        };
        let last_amount = |r: &mut SplitMix64| {
            r.chance(850).then(|| {
                Amount(cents(
                    to_cents(s * nd * Decimal::from(r.range(10, 100)) / Decimal::from(100))
                        .max(5000),
                ))
            })
        };
        if poor && r.chance(350) {
            history.subsistence_since = Some(IsoDate(sub_months(as_of, r.range(1, 96))));
            history.subsistence_last_amount = last_amount(&mut r);
            if r.chance(500) {
                if let Some(k) = loc
                    .excluded
                    .iter()
                    .find(|k| **k == IncomeKind::SocialAssistance)
                {
                    members[0].incomes.push(Income {
                        kind: *k,
                        monthly: yuan(r.range(50, 500)),
                    });
                }
            }
        } else if !poor && earning && r.chance(150) {
            history.subsistence_since = Some(IsoDate(sub_months(as_of, r.range(12, 72))));
            let window = loc.phase_out_months;
            let exit = match r.weighted(&[15, 15, 20, 20, 10, 10, 10]) {
                0 => as_of,
                1 => sub_months(as_of, r.range(1, (window - 1).max(1))),
                2 => sub_months(as_of, window),
                3 => sub_days(sub_months(as_of, window), 1),
                4 => sub_months(as_of, window)
                    .checked_add_days(Days::new(1))
                    .unwrap_or(as_of)
                    .min(as_of),
                5 => sub_months(as_of, window + 1),
                _ => sub_months(as_of, window + r.range(2, 12)),
            };
            history.subsistence_exit_income_since = (!r.chance(80)).then_some(IsoDate(exit));
            history.subsistence_last_amount = last_amount(&mut r);
        }

        // Income kinds that do not count (they change nothing in I).
        if !loc.excluded.is_empty() && r.chance(100) {
            let who = r.below(members.len() as u64) as usize;
            let kind = *r.pick(&loc.excluded);
            members[who].incomes.push(Income {
                kind,
                monthly: yuan(r.range(50, 800)),
            });
        }

        let assets = self.assets(&mut r, loc, n, modest, medical_need);
        let events = self.events(&mut r, loc);

        Household {
            id: format!("SYN-{}-{:07}", self.seed, index + 1),
            region: place.code.clone(),
            area,
            as_of: Some(IsoDate(as_of)),
            members,
            assets,
            events,
            expenses,
            history,
        }
    }

    fn member(
        &self,
        r: &mut SplitMix64,
        loc: &Local,
        i: usize,
        p: &Person,
        poor: bool,
    ) -> (Member, Slot) {
        let as_of = self.as_of;
        let age = p.age;
        let retire = retirement(loc, p.sex);
        let birth = {
            let back = if r.chance(30) { 0 } else { r.range(0, 364) };
            sub_days(sub_months(as_of, age * 12), back)
        };
        let disability_grade = r
            .chance(150)
            .then(|| [1u8, 2, 3, 4][r.weighted(&[20, 25, 30, 25])]);
        let serious_illness = r.chance(match age {
            a if a >= 60 => 100,
            a if a >= 18 => 40,
            _ => 15,
        });
        let work_capacity = r.chance(40).then(|| {
            *r.pick(&[
                WorkCapacity::Full,
                WorkCapacity::Partial,
                WorkCapacity::None,
            ])
        });
        let capacity = work_capacity.unwrap_or(match disability_grade {
            Some(1 | 2) => WorkCapacity::None,
            _ if serious_illness || age < 16 || age >= retire => WorkCapacity::None,
            Some(_) => WorkCapacity::Partial,
            None => WorkCapacity::Full,
        });
        let student = student_for(r, age);
        let working_age = (16..retire).contains(&age);
        let status = if student.is_some() || age < 16 {
            r.chance(500).then_some(EmploymentStatus::NotInLaborForce)
        } else if working_age {
            let weights: &[u64] = match (capacity, poor) {
                (WorkCapacity::None, _) => &[0, 10, 30, 60],
                (_, true) => &[25, 25, 35, 15],
                (_, false) => &[65, 15, 10, 10],
            };
            Some(
                [
                    EmploymentStatus::Employed,
                    EmploymentStatus::Flexible,
                    EmploymentStatus::Unemployed,
                    EmploymentStatus::NotInLaborForce,
                ][r.weighted(weights)],
            )
        } else {
            Some(
                [
                    EmploymentStatus::Retired,
                    EmploymentStatus::NotInLaborForce,
                    EmploymentStatus::Flexible,
                ][r.weighted(&[80, 12, 8])],
            )
        };
        let employment = status.map(|status| {
            let (mut months, mut refused) = (0, 0);
            if status == EmploymentStatus::Unemployed {
                months = if r.chance(100) {
                    12
                } else {
                    r.range(0, 36) as u32
                };
            }
            if matches!(
                status,
                EmploymentStatus::Unemployed | EmploymentStatus::Flexible
            ) && capacity == WorkCapacity::Full
            {
                let limit = loc.refusal_limit.max(1);
                refused = [0, 1, limit - 1, limit, limit + 1][r.weighted(&[880, 40, 30, 35, 15])]
                    .clamp(0, 100) as u32;
            }
            Employment {
                status,
                registered_unemployed_months: months,
                refused_offers: refused,
            }
        });
        let slot = match status {
            Some(EmploymentStatus::Employed) => Slot::Earned(IncomeKind::Wage),
            Some(EmploymentStatus::Flexible) => Slot::Earned(if r.chance(500) {
                IncomeKind::Business
            } else {
                IncomeKind::Wage
            }),
            Some(EmploymentStatus::Retired) => Slot::Unearned(IncomeKind::Pension),
            _ if age >= retire && r.chance(600) => Slot::Unearned(IncomeKind::Pension),
            _ if age >= 18 && disability_grade.is_some() && r.chance(300) => {
                Slot::Unearned(IncomeKind::Transfer)
            }
            _ => Slot::None,
        };
        let medical = r
            .chance(
                80 + if age >= 60 { 120 } else { 0 }
                    + if disability_grade.is_some() || serious_illness {
                        400
                    } else {
                        0
                    },
            )
            .then(|| {
                let cost = match r.weighted(&[50, 35, 15]) {
                    0 => r.range(50_000, 500_000),
                    1 => r.range(500_000, 5_000_000),
                    _ => r.range(5_000_000, 40_000_000),
                };
                let basic = cost * r.range(50, 75) / 100;
                let critical = if cost > 3_000_000 {
                    (cost - basic) * r.range(0, 40) / 100
                } else {
                    0
                };
                let other = if r.chance(200) {
                    (cost - basic - critical) * r.range(0, 30) / 100
                } else {
                    0
                };
                let aid = match r.weighted(&[850, 130, 20]) {
                    0 => 0,
                    1 => r.range(0, 2_000_000),
                    _ => 6_000_000,
                };
                Medical {
                    in_scope_cost: Amount(cents(cost)),
                    basic_insurance_paid: Amount(cents(basic)),
                    critical_illness_paid: Amount(cents(critical)),
                    other_paid: Amount(cents(other)),
                    aid_received: Amount(cents(aid)),
                }
            });
        let member = Member {
            id: format!("m{}", i + 1),
            relation: p.relation,
            birth_date: IsoDate(birth),
            sex: p.sex,
            local_hukou: r.chance(if i == 0 { 950 } else { 970 }),
            disability_grade,
            serious_illness,
            work_capacity,
            employment,
            student,
            orphan: p.orphan,
            incomes: Vec::new(),
            medical,
        };
        (member, slot)
    }

    fn assets(
        &self,
        r: &mut SplitMix64,
        loc: &Local,
        n: i64,
        modest: bool,
        disabled: bool,
    ) -> Assets {
        let limit = to_cents(loc.asset_months * loc.standard * Decimal::from(n));
        let deposits = match r.weighted(if modest {
            &[960, 30, 10]
        } else {
            &[880, 110, 10]
        }) {
            0 => r.range(0, if modest { limit / 4 } else { limit }),
            1 => limit + r.range(1, limit.max(1)),
            _ => limit,
        };
        let securities = if !modest && r.chance(100) {
            r.range(0, limit / 2)
        } else {
            0
        };
        let mut vehicles = Vec::new();
        let (car, commercial) = if modest { (30, 5) } else { (300, 30) };
        if r.chance(car) {
            vehicles.push(Vehicle {
                kind: VehicleKind::Car,
                value: yuan(r.range(10_000, 250_000)),
            });
        }
        if r.chance(5) {
            vehicles.push(Vehicle {
                kind: VehicleKind::Car,
                value: yuan(0),
            });
        }
        if r.chance(commercial) {
            vehicles.push(Vehicle {
                kind: VehicleKind::Commercial,
                value: yuan(r.range(30_000, 300_000)),
            });
        }
        if r.chance(90) {
            vehicles.push(Vehicle {
                kind: VehicleKind::Motorcycle,
                value: yuan(r.range(1_000, 15_000)),
            });
        }
        if disabled && r.chance(250) {
            vehicles.push(Vehicle {
                kind: VehicleKind::DisabilityVehicle,
                value: yuan(r.range(2_000, 20_000)),
            });
        }
        Assets {
            deposits: Amount(cents(deposits)),
            securities: Amount(cents(securities)),
            vehicles,
            homes: if modest {
                [0, 1, 2][r.weighted(&[25, 72, 3])]
            } else {
                [0, 1, 2, 3][r.weighted(&[12, 78, 8, 2])]
            },
            business_registered: r.chance(if modest { 10 } else { 50 }),
        }
    }

    fn events(&self, r: &mut SplitMix64, loc: &Local) -> Vec<Event> {
        if !r.chance(120) {
            return Vec::new();
        }
        let w = loc.event_window.max(1);
        let count = if r.chance(850) { 1 } else { 2 };
        (0..count)
            .map(|_| {
                let back = [0, 1, w - 1, w, w + 1, w + 2][..]
                    .get(r.weighted(&[8, 8, 8, 10, 10, 6, 50]))
                    .copied()
                    .unwrap_or_else(|| r.range(0, 2 * w));
                let loss = r.range(50_000, 30_000_000);
                let compensation = match r.weighted(&[50, 38, 6, 6]) {
                    0 => 0,
                    1 => loss * r.range(1, 90) / 100,
                    2 => loss,
                    _ => loss + r.range(100, 500_000),
                };
                Event {
                    kind: *r.pick(&[
                        EventKind::Fire,
                        EventKind::Flood,
                        EventKind::NaturalDisaster,
                        EventKind::TrafficAccident,
                        EventKind::Accident,
                        EventKind::SuddenIllness,
                        EventKind::Death,
                        EventKind::Other,
                    ]),
                    date: IsoDate(sub_days(self.as_of, back)),
                    loss: Amount(cents(loss)),
                    compensation: Amount(cents(compensation)),
                }
            })
            .collect()
    }
}

fn retirement(loc: &Local, sex: Sex) -> i64 {
    match sex {
        Sex::Male => loc.retire_male,
        Sex::Female => loc.retire_female,
    }
}

fn other_sex(s: Sex) -> Sex {
    match s {
        Sex::Male => Sex::Female,
        Sex::Female => Sex::Male,
    }
}

/// Who lives in the household: the head first.
fn compose(r: &mut SplitMix64, size: usize, poor: bool) -> Vec<Person> {
    let sex = |r: &mut SplitMix64| {
        if r.chance(500) {
            Sex::Male
        } else {
            Sex::Female
        }
    };
    let person = |relation, age: i64, sex| Person {
        relation,
        age: age.clamp(0, 95),
        sex,
        orphan: false,
    };
    let mut people = Vec::with_capacity(size);
    if size == 1 {
        let age = match r.weighted(if poor { &[10, 35, 55] } else { &[15, 40, 45] }) {
            0 => r.range(18, 29),
            1 => r.range(30, 59),
            _ => r.range(60, 95),
        };
        let s = sex(r);
        people.push(person(Relation::Head, age, s));
        return people;
    }
    match r.weighted(&[75, 12, 8, 5]) {
        // A couple with children, maybe parents or grandchildren.
        0 => {
            let age = r.range(22, 90);
            let s = sex(r);
            people.push(person(Relation::Head, age, s));
            people.push(person(
                Relation::Spouse,
                (age + r.range(-6, 6)).max(18),
                other_sex(s),
            ));
            let mut parents = 0;
            while people.len() < size {
                if age <= 62 && parents < 2 && r.chance(150) {
                    parents += 1;
                    let s = sex(r);
                    people.push(person(Relation::Parent, age + r.range(22, 35), s));
                } else if age >= 60 && r.chance(300) {
                    let s = sex(r);
                    people.push(person(Relation::Grandchild, r.range(0, 17), s));
                } else {
                    let s = sex(r);
                    people.push(person(
                        Relation::Child,
                        r.range(0, (age - 18).clamp(0, 35)),
                        s,
                    ));
                }
            }
        }
        // A single parent.
        1 => {
            let age = r.range(20, 60);
            let s = sex(r);
            people.push(person(Relation::Head, age, s));
            while people.len() < size {
                let s = sex(r);
                people.push(person(
                    Relation::Child,
                    r.range(0, (age - 16).clamp(0, 25)),
                    s,
                ));
            }
        }
        // Grandparents raising grandchildren.
        2 => {
            let age = r.range(55, 85);
            let s = sex(r);
            people.push(person(Relation::Head, age, s));
            if size >= 3 && r.chance(500) {
                people.push(person(
                    Relation::Spouse,
                    (age + r.range(-5, 5)).max(50),
                    other_sex(s),
                ));
            }
            while people.len() < size {
                let s = sex(r);
                let mut p = person(Relation::Grandchild, r.range(0, 17), s);
                p.orphan = r.chance(400);
                people.push(p);
            }
        }
        // Siblings and others.
        _ => {
            let age = r.range(18, 80);
            let s = sex(r);
            people.push(person(Relation::Head, age, s));
            while people.len() < size {
                let relation = if r.chance(700) {
                    Relation::Sibling
                } else {
                    Relation::Other
                };
                let s = sex(r);
                people.push(person(relation, r.range(18, 90), s));
            }
        }
    }
    for p in people.iter_mut() {
        if p.relation == Relation::Child && p.age < 18 && r.chance(5) {
            p.orphan = true;
        }
    }
    people
}

fn student_for(r: &mut SplitMix64, age: i64) -> Option<Student> {
    use StudentLevel as L;
    let (rate, levels, weights, tuition): (u64, &[L], &[u64], (i64, i64)) = match age {
        3..=5 => (800, &[L::Preschool], &[1], (0, 8_000)),
        6..=11 => (980, &[L::Primary], &[1], (0, 0)),
        12..=14 => (970, &[L::JuniorSecondary], &[1], (0, 0)),
        15..=17 => (
            850,
            &[L::SeniorHigh, L::SecondaryVocational],
            &[60, 40],
            (800, 5_000),
        ),
        18..=21 => (
            450,
            &[L::JuniorCollege, L::Undergraduate],
            &[35, 65],
            (4_000, 9_000),
        ),
        22..=24 => (
            150,
            &[L::Undergraduate, L::Masters],
            &[30, 70],
            (5_000, 12_000),
        ),
        25..=30 => (150, &[L::Masters, L::Doctoral], &[40, 60], (8_000, 12_000)),
        _ => return None,
    };
    if !r.chance(rate) {
        return None;
    }
    let level = levels[r.weighted(weights)];
    let boarding = r.chance(match level {
        L::Preschool => 50,
        L::Primary => 250,
        L::JuniorSecondary => 350,
        _ => 600,
    });
    let tuition = if tuition.1 == 0 || (level == L::Preschool && r.chance(500)) {
        0
    } else {
        r.range(tuition.0 / 100, tuition.1 / 100) * 100
    };
    Some(Student {
        level,
        boarding,
        tuition_per_year: yuan(tuition),
    })
}

/// `total` cents in `k` random shares (the first takes the rounding rest).
fn split(r: &mut SplitMix64, total: i64, k: usize) -> Vec<i64> {
    if k == 0 {
        return Vec::new();
    }
    let weights: Vec<i64> = (0..k).map(|_| r.range(1, 100)).collect();
    let sum: i64 = weights.iter().sum();
    let mut shares: Vec<i64> = weights
        .iter()
        .map(|w| ((i128::from(total) * i128::from(*w)) / i128::from(sum)) as i64)
        .collect();
    let rest = total - shares.iter().sum::<i64>();
    shares[0] += rest;
    shares
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // First outputs of SplitMix64 seeded with 0 (the published reference sequence).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn helpers_stay_in_range() {
        let mut r = SplitMix64::new(7);
        for _ in 0..10_000 {
            let x = r.range(-3, 5);
            assert!((-3..=5).contains(&x));
            assert!(r.below(10) < 10);
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.range(4, 4), 4);
        let shares = split(&mut r, 100_001, 3);
        assert_eq!(shares.iter().sum::<i64>(), 100_001);
    }
}
