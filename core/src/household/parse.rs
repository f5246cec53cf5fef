//! JSON → [`Household`], collecting *every* problem with its JSON path instead of
//! stopping at the first (a caseworker fixes a record in one go, not one error a run).
//!
//! Parsing walks a `serde_json::Value` built with `arbitrary_precision`, so a JSON number
//! arrives here as its original text and money is converted exactly.

use super::model::*;
use crate::date::{age_on, format_date, parse_date, Date};
use crate::error::FieldError;
use crate::money::parse_amount;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Limits on the shape of a household; beyond them a record is refused, not evaluated.
pub const MAX_MEMBERS: usize = 30;
pub const MAX_LIST: usize = 100;
pub const MAX_ID_CHARS: usize = 64;
pub const MAX_AGE: i64 = 130;
/// Refuse documents nested deeper than any valid household could be.
const MAX_JSON_DEPTH: usize = 64;
/// Refuse documents larger than any valid household could be (30 members × 100 incomes
/// of reasonable text is far below this).
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// Parses JSON text into a JSON value with exact numbers, refusing empty, oversized and
/// absurdly nested documents before the parser sees them.
pub fn parse_household_text(text: &str) -> Result<Value, Vec<FieldError>> {
    if text.trim().is_empty() {
        return Err(vec![err("", "empty input: expected a JSON object")]);
    }
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(vec![err("", format!("document of {} bytes is too large (at most {MAX_DOCUMENT_BYTES})", text.len()))]);
    }
    let depth = json_depth(text);
    if depth > MAX_JSON_DEPTH {
        return Err(vec![err("", format!("JSON nested {depth} levels deep (at most {MAX_JSON_DEPTH})"))]);
    }
    serde_json::from_str::<Value>(text).map_err(|e| {
        vec![err("", format!("not valid JSON: {e}"))]
    })
}

/// Nesting depth of brackets outside strings; a cheap guard before the real parser,
/// whose own recursion limit answers with a less helpful message.
fn json_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_str, mut esc) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn err(path: &str, message: impl Into<String>) -> FieldError {
    FieldError { path: path.to_string(), message: message.into() }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Collects errors while walking the document.
struct Reader {
    errors: Vec<FieldError>,
}

/// One JSON object being read: checks unknown fields up front, then hands out fields.
struct Obj<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

impl Reader {
    fn push(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(err(path, message));
    }

    fn object<'a>(&mut self, path: &str, v: &'a Value, known: &[&str]) -> Option<Obj<'a>> {
        let Value::Object(map) = v else {
            self.push(path, format!("expected an object, found {}", describe(v)));
            return None;
        };
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                let hint = closest(key, known).map(|k| format!(" (did you mean `{k}`?)")).unwrap_or_default();
                self.push(&join(path, key), format!("unknown field{hint}"));
            }
        }
        Some(Obj { path: path.to_string(), map })
    }

    fn string(&mut self, path: &str, v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            other => {
                self.push(path, format!("expected a string, found {}", describe(other)));
                None
            }
        }
    }

    fn boolean(&mut self, path: &str, v: &Value) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            other => {
                self.push(path, format!("expected true or false, found {}", describe(other)));
                None
            }
        }
    }

    fn count(&mut self, path: &str, v: &Value, max: u64) -> Option<u32> {
        let Value::Number(n) = v else {
            self.push(path, format!("expected a whole number, found {}", describe(v)));
            return None;
        };
        match n.to_string().parse::<u64>() {
            Ok(x) if x <= max => Some(x as u32),
            Ok(_) => {
                self.push(path, format!("{n} is too large (at most {max})"));
                None
            }
            Err(_) => {
                self.push(path, format!("expected a whole number not below 0, found {n}"));
                None
            }
        }
    }

    fn amount(&mut self, path: &str, v: &Value) -> Option<Amount> {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => {
                self.push(path, format!("expected an amount (a decimal string such as \"1800.50\"), found {}", describe(other)));
                return None;
            }
        };
        match parse_amount(&text) {
            Ok(d) => Some(Amount(d)),
            Err(m) => {
                self.push(path, m);
                None
            }
        }
    }

    fn date(&mut self, path: &str, v: &Value) -> Option<Date> {
        let s = self.string(path, v)?;
        let d = parse_date(&s);
        if d.is_none() {
            self.push(path, format!("not a calendar date YYYY-MM-DD: {s:?}"));
        }
        d
    }

    fn word<T>(&mut self, path: &str, v: &Value, parse: fn(&str) -> Option<T>, names: &[&str]) -> Option<T> {
        let s = self.string(path, v)?;
        let t = parse(&s);
        if t.is_none() {
            self.push(path, format!("unknown value {s:?} (expected one of: {})", names.join(", ")));
        }
        t
    }

    fn array<'a>(&mut self, path: &str, v: &'a Value, max: usize) -> Option<&'a Vec<Value>> {
        match v {
            Value::Array(a) if a.len() <= max => Some(a),
            Value::Array(a) => {
                self.push(path, format!("{} entries, at most {max} allowed", a.len()));
                None
            }
            other => {
                self.push(path, format!("expected an array, found {}", describe(other)));
                None
            }
        }
    }
}

impl<'a> Obj<'a> {
    fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }
    /// The field, treating an explicit `null` as absent.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }
    fn required(&self, r: &mut Reader, key: &str) -> Option<&'a Value> {
        let v = self.get(key);
        if v.is_none() {
            r.push(&self.path(key), "required field is missing");
        }
        v
    }
}

/// The known field name nearest to a misspelt one (edit distance ≤ 2).
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    if let Some(k) = known.iter().find(|k| key.len() >= 4 && (k.starts_with(key) || key.starts_with(**k))) {
        return Some(k);
    }
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

const HOUSEHOLD_FIELDS: &[&str] = &["id", "region", "area", "as_of", "members", "assets", "events", "expenses", "history"];
const MEMBER_FIELDS: &[&str] = &[
    "id", "relation", "birth_date", "sex", "local_hukou", "disability_grade", "serious_illness",
    "work_capacity", "employment", "student", "orphan", "incomes", "medical",
];

/// The household's own `as_of`, read leniently: used to settle the assessment date
/// before the full validation (which reports a malformed date with its path).
pub fn peek_as_of(v: &Value) -> Option<Date> {
    v.get("as_of").and_then(Value::as_str).and_then(parse_date)
}

/// Reads and validates a household. `as_of` is the settled assessment date.
pub fn read_household(v: &Value, as_of: Date) -> Result<Household, Vec<FieldError>> {
    let mut r = Reader { errors: Vec::new() };
    let h = read(&mut r, v, as_of);
    match h {
        Some(h) if r.errors.is_empty() => Ok(h),
        _ => {
            if r.errors.is_empty() {
                r.push("", "invalid household");
            }
            Err(r.errors)
        }
    }
}

fn read(r: &mut Reader, v: &Value, as_of: Date) -> Option<Household> {
    let o = r.object("", v, HOUSEHOLD_FIELDS)?;
    let id = o.required(r, "id").and_then(|v| r.string("id", v));
    if let Some(id) = &id {
        let n = id.chars().count();
        if n == 0 || n > MAX_ID_CHARS {
            r.push("id", format!("must be 1 to {MAX_ID_CHARS} characters, found {n}"));
        }
    }
    let region = o.required(r, "region").and_then(|v| r.string("region", v));
    if let Some(code) = &region {
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            r.push("region", format!("not a 6-digit administrative division code: {code:?}"));
        }
    }
    let area = match o.get("area") {
        Some(v) => r.word("area", v, Area::parse, Area::NAMES),
        None => Some(Area::Urban),
    };
    let own_as_of = o.get("as_of").and_then(|v| r.date("as_of", v));

    let members = o.required(r, "members").and_then(|v| r.array("members", v, MAX_MEMBERS));
    let members: Option<Vec<Member>> = members.map(|list| {
        if list.is_empty() {
            r.push("members", "at least one member is required");
        }
        let read: Vec<Option<Member>> =
            list.iter().enumerate().map(|(i, m)| read_member(r, &format!("members[{i}]"), m, as_of)).collect();
        read.into_iter().flatten().collect()
    });
    if let (Some(ms), Some(list)) = (&members, o.get("members").and_then(Value::as_array)) {
        if ms.len() == list.len() && !ms.is_empty() {
            check_members(r, ms);
        }
    }

    let assets = o.get("assets").and_then(|v| read_assets(r, v)).unwrap_or_default();
    let events = o
        .get("events")
        .and_then(|v| r.array("events", v, MAX_LIST))
        .map(|list| {
            list.iter()
                .enumerate()
                .filter_map(|(i, e)| read_event(r, &format!("events[{i}]"), e, as_of))
                .collect()
        })
        .unwrap_or_default();
    let expenses = o.get("expenses").and_then(|v| read_expenses(r, v)).unwrap_or_default();
    let history = o.get("history").and_then(|v| read_history(r, v)).unwrap_or_default();

    Some(Household {
        id: id?,
        region: region?,
        area: area?,
        as_of: own_as_of.map(IsoDate),
        members: members?,
        assets,
        events,
        expenses,
        history,
    })
}

fn check_members(r: &mut Reader, members: &[Member]) {
    let mut seen = HashSet::new();
    for (i, m) in members.iter().enumerate() {
        if !seen.insert(m.id.as_str()) {
            r.push(&format!("members[{i}].id"), format!("duplicate member id {:?}", m.id));
        }
    }
    let heads = members.iter().filter(|m| m.relation == Relation::Head).count();
    if heads != 1 {
        r.push("members", format!("exactly one member must have relation \"head\", found {heads}"));
    }
}

fn read_member(r: &mut Reader, path: &str, v: &Value, as_of: Date) -> Option<Member> {
    let o = r.object(path, v, MEMBER_FIELDS)?;
    let p = |k: &str| join(path, k);
    let id = o.required(r, "id").and_then(|v| r.string(&p("id"), v));
    if let Some(id) = &id {
        let n = id.chars().count();
        if n == 0 || n > MAX_ID_CHARS {
            r.push(&p("id"), format!("must be 1 to {MAX_ID_CHARS} characters, found {n}"));
        }
    }
    let relation = o.required(r, "relation").and_then(|v| r.word(&p("relation"), v, Relation::parse, Relation::NAMES));
    let birth = o.required(r, "birth_date").and_then(|v| r.date(&p("birth_date"), v));
    if let Some(b) = birth {
        if b > as_of {
            r.push(&p("birth_date"), format!("{} is after the assessment date {}", format_date(b), format_date(as_of)));
        } else if as_of != Date::MAX && age_on(b, as_of) > MAX_AGE {
            r.push(&p("birth_date"), format!("{} makes the member older than {MAX_AGE} on {}", format_date(b), format_date(as_of)));
        }
    }
    let sex = o.required(r, "sex").and_then(|v| r.word(&p("sex"), v, Sex::parse, Sex::NAMES));
    let local_hukou = o.get("local_hukou").map(|v| r.boolean(&p("local_hukou"), v)).unwrap_or(Some(true));
    let disability_grade = match o.get("disability_grade") {
        None => Some(None),
        Some(v) => match r.count(&p("disability_grade"), v, u64::MAX) {
            Some(g @ 1..=4) => Some(Some(g as u8)),
            Some(g) => {
                r.push(&p("disability_grade"), format!("grade {g} is not 1 to 4"));
                None
            }
            None => None,
        },
    };
    let serious_illness = o.get("serious_illness").map(|v| r.boolean(&p("serious_illness"), v)).unwrap_or(Some(false));
    let work_capacity = match o.get("work_capacity") {
        None => Some(None),
        Some(v) => r.word(&p("work_capacity"), v, WorkCapacity::parse, WorkCapacity::NAMES).map(Some),
    };
    let employment = match o.get("employment") {
        None => Some(None),
        Some(v) => read_employment(r, &p("employment"), v).map(Some),
    };
    let student = match o.get("student") {
        None => Some(None),
        Some(v) => read_student(r, &p("student"), v).map(Some),
    };
    let orphan = o.get("orphan").map(|v| r.boolean(&p("orphan"), v)).unwrap_or(Some(false));
    let incomes = match o.get("incomes") {
        None => Some(Vec::new()),
        Some(v) => r.array(&p("incomes"), v, MAX_LIST).map(|list| {
            list.iter()
                .enumerate()
                .filter_map(|(i, x)| read_income(r, &format!("{path}.incomes[{i}]"), x))
                .collect::<Vec<_>>()
        }),
    };
    let medical = match o.get("medical") {
        None => Some(None),
        Some(v) => read_medical(r, &p("medical"), v).map(Some),
    };
    Some(Member {
        id: id?,
        relation: relation?,
        birth_date: IsoDate(birth?),
        sex: sex?,
        local_hukou: local_hukou?,
        disability_grade: disability_grade?,
        serious_illness: serious_illness?,
        work_capacity: work_capacity?,
        employment: employment?,
        student: student?,
        orphan: orphan?,
        incomes: incomes?,
        medical: medical?,
    })
}

fn read_employment(r: &mut Reader, path: &str, v: &Value) -> Option<Employment> {
    let o = r.object(path, v, &["status", "registered_unemployed_months", "refused_offers"])?;
    let status = o
        .required(r, "status")
        .and_then(|v| r.word(&o.path("status"), v, EmploymentStatus::parse, EmploymentStatus::NAMES));
    let months = o.get("registered_unemployed_months").map(|v| r.count(&o.path("registered_unemployed_months"), v, 1200)).unwrap_or(Some(0));
    let refused = o.get("refused_offers").map(|v| r.count(&o.path("refused_offers"), v, 1000)).unwrap_or(Some(0));
    Some(Employment { status: status?, registered_unemployed_months: months?, refused_offers: refused? })
}

fn read_student(r: &mut Reader, path: &str, v: &Value) -> Option<Student> {
    let o = r.object(path, v, &["level", "boarding", "tuition_per_year"])?;
    let level = o.required(r, "level").and_then(|v| r.word(&o.path("level"), v, StudentLevel::parse, StudentLevel::NAMES));
    let boarding = o.get("boarding").map(|v| r.boolean(&o.path("boarding"), v)).unwrap_or(Some(false));
    let tuition = o.get("tuition_per_year").map(|v| r.amount(&o.path("tuition_per_year"), v)).unwrap_or(Some(Amount::default()));
    Some(Student { level: level?, boarding: boarding?, tuition_per_year: tuition? })
}

fn read_income(r: &mut Reader, path: &str, v: &Value) -> Option<Income> {
    let o = r.object(path, v, &["kind", "monthly"])?;
    let kind = o.required(r, "kind").and_then(|v| r.word(&o.path("kind"), v, IncomeKind::parse, IncomeKind::NAMES));
    let monthly = o.required(r, "monthly").and_then(|v| r.amount(&o.path("monthly"), v));
    Some(Income { kind: kind?, monthly: monthly? })
}

/// An optional amount field defaulting to zero.
fn amount_or_zero(r: &mut Reader, o: &Obj, key: &str) -> Option<Amount> {
    match o.get(key) {
        None => Some(Amount::default()),
        Some(v) => r.amount(&o.path(key), v),
    }
}

fn read_medical(r: &mut Reader, path: &str, v: &Value) -> Option<Medical> {
    const F: &[&str] = &["in_scope_cost", "basic_insurance_paid", "critical_illness_paid", "other_paid", "aid_received"];
    let o = r.object(path, v, F)?;
    let vals: Vec<Option<Amount>> = F.iter().map(|k| amount_or_zero(r, &o, k)).collect();
    Some(Medical {
        in_scope_cost: vals[0]?,
        basic_insurance_paid: vals[1]?,
        critical_illness_paid: vals[2]?,
        other_paid: vals[3]?,
        aid_received: vals[4]?,
    })
}

fn read_assets(r: &mut Reader, v: &Value) -> Option<Assets> {
    let o = r.object("assets", v, &["deposits", "securities", "vehicles", "homes", "business_registered"])?;
    let deposits = amount_or_zero(r, &o, "deposits");
    let securities = amount_or_zero(r, &o, "securities");
    let vehicles = match o.get("vehicles") {
        None => Some(Vec::new()),
        Some(v) => r.array("assets.vehicles", v, MAX_LIST).map(|list| {
            list.iter()
                .enumerate()
                .filter_map(|(i, x)| {
                    let path = format!("assets.vehicles[{i}]");
                    let o = r.object(&path, x, &["kind", "value"])?;
                    let kind = o.required(r, "kind").and_then(|v| r.word(&o.path("kind"), v, VehicleKind::parse, VehicleKind::NAMES));
                    let value = o.required(r, "value").and_then(|v| r.amount(&o.path("value"), v));
                    Some(Vehicle { kind: kind?, value: value? })
                })
                .collect::<Vec<_>>()
        }),
    };
    let homes = o.get("homes").map(|v| r.count("assets.homes", v, 1000)).unwrap_or(Some(0));
    let business = o.get("business_registered").map(|v| r.boolean("assets.business_registered", v)).unwrap_or(Some(false));
    Some(Assets { deposits: deposits?, securities: securities?, vehicles: vehicles?, homes: homes?, business_registered: business? })
}

fn read_event(r: &mut Reader, path: &str, v: &Value, as_of: Date) -> Option<Event> {
    let o = r.object(path, v, &["kind", "date", "loss", "compensation"])?;
    let kind = o.required(r, "kind").and_then(|v| r.word(&o.path("kind"), v, EventKind::parse, EventKind::NAMES));
    let date = o.required(r, "date").and_then(|v| r.date(&o.path("date"), v));
    if let Some(d) = date {
        if d > as_of {
            r.push(&o.path("date"), format!("{} is after the assessment date {}", format_date(d), format_date(as_of)));
        }
    }
    let loss = o.required(r, "loss").and_then(|v| r.amount(&o.path("loss"), v));
    let compensation = amount_or_zero(r, &o, "compensation");
    Some(Event { kind: kind?, date: IsoDate(date?), loss: loss?, compensation: compensation? })
}

fn read_expenses(r: &mut Reader, v: &Value) -> Option<Expenses> {
    let o = r.object("expenses", v, &["medical", "education", "other"])?;
    let medical = amount_or_zero(r, &o, "medical");
    let education = amount_or_zero(r, &o, "education");
    let other = amount_or_zero(r, &o, "other");
    Some(Expenses { medical: medical?, education: education?, other: other? })
}

fn read_history(r: &mut Reader, v: &Value) -> Option<History> {
    let o = r.object(
        "history",
        v,
        &["subsistence_since", "subsistence_last_amount", "subsistence_exit_income_since", "temporary_aid_grants_12m"],
    )?;
    let opt_date = |r: &mut Reader, key: &str| match o.get(key) {
        None => Some(None),
        Some(v) => r.date(&o.path(key), v).map(|d| Some(IsoDate(d))),
    };
    let since = opt_date(r, "subsistence_since");
    let exit = opt_date(r, "subsistence_exit_income_since");
    let last = match o.get("subsistence_last_amount") {
        None => Some(None),
        Some(v) => r.amount(&o.path("subsistence_last_amount"), v).map(Some),
    };
    let grants = o.get("temporary_aid_grants_12m").map(|v| r.count(&o.path("temporary_aid_grants_12m"), v, 1000)).unwrap_or(Some(0));
    Some(History {
        subsistence_since: since?,
        subsistence_last_amount: last?,
        subsistence_exit_income_since: exit?,
        temporary_aid_grants_12m: grants?,
    })
}
