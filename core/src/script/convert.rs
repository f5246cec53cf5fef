//! The household (with its derived figures) as the map a script reads.

use super::value::{Str, Val, ValMap};
use crate::household::*;
use rust_decimal::Decimal;

fn dec(d: Decimal) -> Val {
    Val::Dec(d)
}
fn word(x: &'static str) -> Val {
    Val::str(x)
}
fn text(x: &str) -> Val {
    Val::string(x)
}
fn int(i: i64) -> Val {
    Val::Int(i)
}
fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Val) -> Val {
    v.map(f).unwrap_or(Val::Unit)
}
/// A map from entries written in key order (checked in debug builds and by a test).
fn map<const N: usize>(pairs: [(&'static str, Val); N]) -> Val {
    Val::map(ValMap::from_sorted(pairs.into_iter().map(|(k, v)| (Str::Static(k), v)).collect()))
}

/// The `household` variable of every script. Keys are written in sorted order.
pub fn household_val(h: &Household, d: &Derived) -> Val {
    let members: Vec<Val> = h.members.iter().zip(&d.members).map(|(m, dm)| member_val(m, dm)).collect();
    let a = &h.assets;
    let vehicles: Vec<Val> = a.vehicles.iter().map(|v| map([("kind", word(v.kind.as_str())), ("value", dec(v.value.0))])).collect();
    let events: Vec<Val> = h
        .events
        .iter()
        .map(|e| {
            map([
                ("compensation", dec(e.compensation.0)),
                ("date", Val::date(e.date.0)),
                ("kind", word(e.kind.as_str())),
                ("loss", dec(e.loss.0)),
            ])
        })
        .collect();
    let hist = &h.history;
    map([
        ("area", word(h.area.as_str())),
        ("as_of", Val::date(d.as_of)),
        (
            "assets",
            map([
                ("business_registered", Val::Bool(a.business_registered)),
                ("deposits", dec(a.deposits.0)),
                ("homes", int(a.homes as i64)),
                ("securities", dec(a.securities.0)),
                ("vehicles", Val::array(vehicles)),
            ]),
        ),
        ("counted_income", dec(d.counted_income)),
        ("events", Val::array(events)),
        (
            "expenses",
            map([
                ("education", dec(h.expenses.education.0)),
                ("medical", dec(h.expenses.medical.0)),
                ("other", dec(h.expenses.other.0)),
            ]),
        ),
        (
            "history",
            map([
                ("subsistence_exit_income_since", opt(hist.subsistence_exit_income_since, |x| Val::date(x.0))),
                ("subsistence_last_amount", opt(hist.subsistence_last_amount, |x| dec(x.0))),
                ("subsistence_since", opt(hist.subsistence_since, |x| Val::date(x.0))),
                ("temporary_aid_grants_12m", int(hist.temporary_aid_grants_12m as i64)),
            ]),
        ),
        ("id", text(&h.id)),
        ("members", Val::array(members)),
        ("per_capita_income", dec(d.per_capita_income)),
        ("region", text(&h.region)),
        ("rigid_medical_deduction", dec(d.rigid_medical_deduction)),
        ("size", int(d.size as i64)),
        ("subsistence_income", dec(d.subsistence_income)),
    ])
}

fn member_val(m: &Member, d: &DerivedMember) -> Val {
    let incomes: Vec<Val> = m.incomes.iter().map(|i| map([("kind", word(i.kind.as_str())), ("monthly", dec(i.monthly.0))])).collect();
    let emp = m.employment.as_ref();
    map([
        ("age", int(d.age)),
        ("birth_date", Val::date(m.birth_date.0)),
        ("counted_income", dec(d.counted_income)),
        ("disability_grade", opt(m.disability_grade, |g| int(g as i64))),
        ("employment_status", opt(emp, |e| word(e.status.as_str()))),
        ("has_business_income", Val::Bool(d.has_business_income)),
        ("has_support_income", Val::Bool(d.has_support_income)),
        ("has_wage_income", Val::Bool(d.has_wage_income)),
        ("id", text(&m.id)),
        ("incomes", Val::array(incomes)),
        ("local_hukou", Val::Bool(m.local_hukou)),
        (
            "medical",
            opt(m.medical.as_ref(), |md| {
                map([
                    ("aid_received", dec(md.aid_received.0)),
                    ("basic_insurance_paid", dec(md.basic_insurance_paid.0)),
                    ("critical_illness_paid", dec(md.critical_illness_paid.0)),
                    ("in_scope_cost", dec(md.in_scope_cost.0)),
                    ("other_paid", dec(md.other_paid.0)),
                ])
            }),
        ),
        ("orphan", Val::Bool(m.orphan)),
        ("refused_offers", int(emp.map_or(0, |e| e.refused_offers) as i64)),
        ("registered_unemployed_months", int(emp.map_or(0, |e| e.registered_unemployed_months) as i64)),
        ("relation", word(m.relation.as_str())),
        ("serious_illness", Val::Bool(m.serious_illness)),
        ("sex", word(m.sex.as_str())),
        (
            "student",
            opt(m.student.as_ref(), |st| {
                map([
                    ("boarding", Val::Bool(st.boarding)),
                    ("level", word(st.level.as_str())),
                    ("tuition_per_year", dec(st.tuition_per_year.0)),
                ])
            }),
        ),
        ("work_capacity", word(d.work_capacity.as_str())),
        ("working_age", Val::Bool(d.working_age)),
    ])
}
