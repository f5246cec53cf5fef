//! Between Rust values and Rhai values: the household (with its derived figures) as the
//! map a script reads, and script values back to JSON for the assessment.

use crate::date::format_date;
use crate::household::*;
use crate::money::format2;
use rhai::{Array, Dynamic, Map};
use rust_decimal::Decimal;

fn dec(d: Decimal) -> Dynamic {
    Dynamic::from_decimal(d)
}
fn s(x: &str) -> Dynamic {
    Dynamic::from(x.to_string())
}
fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Dynamic) -> Dynamic {
    v.map(f).unwrap_or(Dynamic::UNIT)
}
fn map<const N: usize>(pairs: [(&str, Dynamic); N]) -> Dynamic {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.into(), v);
    }
    Dynamic::from_map(m)
}

/// The `household` variable of every script (see docs/rule-authoring.md).
pub fn household_value(h: &Household, d: &Derived) -> Dynamic {
    let members: Array = h.members.iter().zip(&d.members).map(|(m, dm)| member_value(m, dm)).collect();
    let a = &h.assets;
    let vehicles: Array = a
        .vehicles
        .iter()
        .map(|v| map([("kind", s(v.kind.as_str())), ("value", dec(v.value.0))]))
        .collect();
    let events: Array = h
        .events
        .iter()
        .map(|e| {
            map([
                ("kind", s(e.kind.as_str())),
                ("date", s(&format_date(e.date.0))),
                ("loss", dec(e.loss.0)),
                ("compensation", dec(e.compensation.0)),
            ])
        })
        .collect();
    let hist = &h.history;
    map([
        ("id", s(&h.id)),
        ("region", s(&h.region)),
        ("area", s(h.area.as_str())),
        ("as_of", s(&format_date(d.as_of))),
        ("size", Dynamic::from_int(d.size as i64)),
        ("counted_income", dec(d.counted_income)),
        ("rigid_medical_deduction", dec(d.rigid_medical_deduction)),
        ("subsistence_income", dec(d.subsistence_income)),
        ("per_capita_income", dec(d.per_capita_income)),
        ("members", Dynamic::from_array(members)),
        (
            "assets",
            map([
                ("deposits", dec(a.deposits.0)),
                ("securities", dec(a.securities.0)),
                ("vehicles", Dynamic::from_array(vehicles)),
                ("homes", Dynamic::from_int(a.homes as i64)),
                ("business_registered", Dynamic::from_bool(a.business_registered)),
            ]),
        ),
        ("events", Dynamic::from_array(events)),
        (
            "expenses",
            map([
                ("medical", dec(h.expenses.medical.0)),
                ("education", dec(h.expenses.education.0)),
                ("other", dec(h.expenses.other.0)),
            ]),
        ),
        (
            "history",
            map([
                ("subsistence_since", opt(hist.subsistence_since, |x| s(&format_date(x.0)))),
                ("subsistence_last_amount", opt(hist.subsistence_last_amount, |x| dec(x.0))),
                ("subsistence_exit_income_since", opt(hist.subsistence_exit_income_since, |x| s(&format_date(x.0)))),
                ("temporary_aid_grants_12m", Dynamic::from_int(hist.temporary_aid_grants_12m as i64)),
            ]),
        ),
    ])
}

fn member_value(m: &Member, d: &DerivedMember) -> Dynamic {
    let incomes: Array = m
        .incomes
        .iter()
        .map(|i| map([("kind", s(i.kind.as_str())), ("monthly", dec(i.monthly.0))]))
        .collect();
    let emp = m.employment.as_ref();
    map([
        ("id", s(&m.id)),
        ("relation", s(m.relation.as_str())),
        ("birth_date", s(&format_date(m.birth_date.0))),
        ("sex", s(m.sex.as_str())),
        ("age", Dynamic::from_int(d.age)),
        ("local_hukou", Dynamic::from_bool(m.local_hukou)),
        ("disability_grade", opt(m.disability_grade, |g| Dynamic::from_int(g as i64))),
        ("serious_illness", Dynamic::from_bool(m.serious_illness)),
        ("work_capacity", s(d.work_capacity.as_str())),
        ("working_age", Dynamic::from_bool(d.working_age)),
        ("employment_status", opt(emp, |e| s(e.status.as_str()))),
        ("registered_unemployed_months", Dynamic::from_int(emp.map_or(0, |e| e.registered_unemployed_months) as i64)),
        ("refused_offers", Dynamic::from_int(emp.map_or(0, |e| e.refused_offers) as i64)),
        (
            "student",
            opt(m.student.as_ref(), |st| {
                map([
                    ("level", s(st.level.as_str())),
                    ("boarding", Dynamic::from_bool(st.boarding)),
                    ("tuition_per_year", dec(st.tuition_per_year.0)),
                ])
            }),
        ),
        ("orphan", Dynamic::from_bool(m.orphan)),
        ("incomes", Dynamic::from_array(incomes)),
        ("counted_income", dec(d.counted_income)),
        ("has_wage_income", Dynamic::from_bool(d.has_wage_income)),
        ("has_business_income", Dynamic::from_bool(d.has_business_income)),
        ("has_support_income", Dynamic::from_bool(d.has_support_income)),
        (
            "medical",
            opt(m.medical.as_ref(), |md| {
                map([
                    ("in_scope_cost", dec(md.in_scope_cost.0)),
                    ("basic_insurance_paid", dec(md.basic_insurance_paid.0)),
                    ("critical_illness_paid", dec(md.critical_illness_paid.0)),
                    ("other_paid", dec(md.other_paid.0)),
                    ("aid_received", dec(md.aid_received.0)),
                ])
            }),
        ),
    ])
}

/// A script value as JSON: decimals become strings with two places (every money
/// figure in an output is rounded once, half away from zero), maps keep sorted keys.
pub fn to_json(v: &Dynamic) -> serde_json::Value {
    use serde_json::Value;
    if v.is_unit() {
        return Value::Null;
    }
    if let Ok(b) = v.as_bool() {
        return Value::Bool(b);
    }
    if let Ok(i) = v.as_int() {
        return Value::from(i);
    }
    if let Ok(d) = v.as_decimal() {
        return Value::String(format2(d));
    }
    if v.is_string() {
        return Value::String(v.clone().into_string().unwrap_or_default());
    }
    if v.is_array() {
        let arr = v.read_lock::<Array>().map(|a| a.iter().map(to_json).collect()).unwrap_or_default();
        return Value::Array(arr);
    }
    if v.is_map() {
        let obj = v
            .read_lock::<Map>()
            .map(|m| m.iter().map(|(k, x)| (k.to_string(), to_json(x))).collect())
            .unwrap_or_default();
        return Value::Object(obj);
    }
    if v.is_char() {
        return Value::String(v.to_string());
    }
    Value::String(v.type_name().to_string())
}
