//! The shared definitions of policy.md §0, computed once per household in Rust so that
//! every program reads the same figures (and no script can define "income" its own way).

use super::model::*;
use crate::date::{age_on, Date};
use rust_decimal::Decimal;

/// The parameters the derivation itself needs, resolved for the household.
#[derive(Debug, Clone)]
pub struct DeriveParams {
    /// `income.excluded_kinds`: income kinds not counted (民发〔2021〕57号).
    pub excluded_kinds: Vec<String>,
    /// `income.work_cost_deduction`: per member with wage or business income.
    pub work_cost_deduction: Decimal,
    /// `labor.retirement_age.male` / `.female`.
    pub retirement_age_male: i64,
    pub retirement_age_female: i64,
}

#[derive(Debug, Clone)]
pub struct DerivedMember {
    pub age: i64,
    pub work_capacity: WorkCapacity,
    pub working_age: bool,
    pub counted_income: Decimal,
    pub has_wage_income: bool,
    pub has_business_income: bool,
    pub has_support_income: bool,
}

#[derive(Debug, Clone)]
pub struct Derived {
    pub as_of: Date,
    /// `n`
    pub size: usize,
    /// `I`: sum of members' counted income.
    pub counted_income: Decimal,
    /// The rigid medical spending deducted (the household's `expenses.medical` when some
    /// member is disabled or seriously ill, else 0).
    pub rigid_medical_deduction: Decimal,
    /// `I_sub = max(0, I - deduction)`.
    pub subsistence_income: Decimal,
    /// `p = I_sub / n`, unrounded.
    pub per_capita_income: Decimal,
    pub members: Vec<DerivedMember>,
}

fn has_kind(m: &Member, kind: IncomeKind) -> bool {
    m.incomes.iter().any(|i| i.kind == kind && i.monthly.0 > Decimal::ZERO)
}

pub fn derive(h: &Household, as_of: Date, p: &DeriveParams) -> Derived {
    let members: Vec<DerivedMember> = h
        .members
        .iter()
        .map(|m| {
            let age = age_on(m.birth_date.0, as_of);
            let retirement = match m.sex {
                Sex::Male => p.retirement_age_male,
                Sex::Female => p.retirement_age_female,
            };
            let work_capacity = m.work_capacity.unwrap_or_else(|| match m.disability_grade {
                Some(1 | 2) => WorkCapacity::None,
                _ if m.serious_illness || age < 16 || age >= retirement => WorkCapacity::None,
                Some(3 | 4) => WorkCapacity::Partial,
                _ => WorkCapacity::Full,
            });
            let has_wage_income = has_kind(m, IncomeKind::Wage);
            let has_business_income = has_kind(m, IncomeKind::Business);
            let gross: Decimal = m
                .incomes
                .iter()
                .filter(|i| !p.excluded_kinds.iter().any(|k| k == i.kind.as_str()))
                .map(|i| i.monthly.0)
                .sum();
            let deduction = if has_wage_income || has_business_income { p.work_cost_deduction } else { Decimal::ZERO };
            DerivedMember {
                age,
                work_capacity,
                working_age: (16..retirement).contains(&age),
                counted_income: (gross - deduction).max(Decimal::ZERO),
                has_wage_income,
                has_business_income,
                has_support_income: has_kind(m, IncomeKind::Support),
            }
        })
        .collect();
    let counted_income: Decimal = members.iter().map(|m| m.counted_income).sum();
    let medical_need = h.members.iter().any(|m| m.disability_grade.is_some() || m.serious_illness);
    let rigid_medical_deduction = if medical_need { h.expenses.medical.0 } else { Decimal::ZERO };
    let subsistence_income = (counted_income - rigid_medical_deduction).max(Decimal::ZERO);
    let size = h.members.len();
    Derived {
        as_of,
        size,
        counted_income,
        rigid_medical_deduction,
        subsistence_income,
        per_capita_income: subsistence_income / Decimal::from(size.max(1)),
        members,
    }
}
