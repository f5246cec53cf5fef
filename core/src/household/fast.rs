//! The fast path: JSON text → validated [`Household`] in one pass over the bytes, with
//! no intermediate `serde_json::Value` (issue 7, performance).
//!
//! It only ever answers for a household that the full path (`parse_household_text` +
//! `read_household`) would accept, and then with the very same `Household`. At anything
//! unusual — any validation problem, an unknown or repeated field, an escape in a string,
//! a number outside the plain `123` / `123.45` forms, any JSON error — it gives up
//! (`None`) and the caller runs the full path, which produces every error with its path
//! and hints. So errors, their order and their wording cannot differ between the paths.
//!
//! Money stays exact: an amount's text (string or number) goes through the same
//! [`parse_amount`] as in the full path.

use super::model::*;
use super::parse::{MAX_AGE, MAX_DOCUMENT_BYTES, MAX_ID_CHARS, MAX_LIST, MAX_MEMBERS};
use crate::date::{age_on, parse_date, Date};
use crate::money::parse_amount;
use rust_decimal::Decimal;

/// Reads a valid household from JSON text, or `None` to fall back to the full path.
///
/// `settle` turns the household's own `as_of` (if any) into the assessment date, as
/// `Engine::read` does (the caller's date first); `None` there also means "fall back".
/// The region is *not* checked against a rule pack here (the engine does that after).
pub fn read_household_fast(text: &str, settle: impl FnOnce(Option<Date>) -> Option<Date>) -> Option<Household> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return None;
    }
    let mut c = Cur { s: text, b: text.as_bytes(), i: 0 };
    let h = household(&mut c)?;
    // Only JSON whitespace may follow the document.
    if c.peek().is_some() {
        return None;
    }
    settled(h, settle)
}

/// The checks of the full path that need the whole household and its date.
pub(super) fn settled(h: Household, settle: impl FnOnce(Option<Date>) -> Option<Date>) -> Option<Household> {
    check_members(&h.members)?;
    let as_of = settle(h.as_of.map(|d| d.0))?;
    for m in &h.members {
        let b = m.birth_date.0;
        if b > as_of || (as_of != Date::MAX && age_on(b, as_of) > MAX_AGE) {
            return None;
        }
    }
    if h.events.iter().any(|e| e.date.0 > as_of) {
        return None;
    }
    Some(h)
}

/// What the field readers below read a household from: JSON text ([`Cur`]), or the
/// words a JavaScript walker wrote of an object ([`super::words`]). Every method
/// answers `None` to mean "give up" (the caller then takes the full path), so a source
/// needs only to read what a valid household holds, as the JSON text of it would give.
pub(crate) trait Source<'a> {
    /// Consumes a `null` if one comes next (an explicit null is an absent field).
    fn null(&mut self) -> bool;
    /// A string, borrowed from the source.
    fn str(&mut self) -> Option<&'a str>;
    fn boolean(&mut self) -> Option<bool>;
    /// An amount given as a string or as a number, exactly as [`parse_amount`] reads it.
    fn amount(&mut self) -> Option<Amount>;
    /// A whole number not above `max`, converted as the full path does.
    fn count(&mut self, max: u64) -> Option<u32>;
    /// The members of an object: `field(source, key)` reads each value.
    fn object(&mut self, field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()>;
    /// The items of an array of at most `max` items, each read by `item`.
    fn array(&mut self, max: usize, item: impl FnMut(&mut Self) -> Option<()>) -> Option<()>;

    #[inline]
    fn date(&mut self) -> Option<Date> {
        parse_date(self.str()?)
    }

    #[inline]
    fn word<T>(&mut self, parse: fn(&str) -> Option<T>) -> Option<T> {
        parse(self.str()?)
    }
}

/// A cursor over the document; every method answers `None` to mean "give up".
struct Cur<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    /// The next byte after JSON whitespace (not consumed).
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        // Compact JSON (every line of a batch): the next byte is the token.
        match self.b.get(self.i) {
            Some(&c) if c > b' ' => return Some(c),
            None => return None,
            _ => {}
        }
        // Indentation of pretty-printed JSON: eight spaces at a time.
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
            if chunk != b"        " {
                break;
            }
            self.i += 8;
        }
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.i += 1;
            } else {
                return Some(c);
            }
        }
        None
    }

    #[inline]
    fn eat(&mut self, want: u8) -> Option<()> {
        if self.peek()? == want {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// A literal (`true`, `false`, `null`) at the cursor.
    #[inline]
    fn literal(&mut self, word: &[u8]) -> bool {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    /// A number of the plain forms `0`, `123`, `123.45` (no sign, no exponent), as text.
    fn number(&mut self) -> Option<&'a str> {
        let start = self.i;
        let b = self.b;
        match b.get(self.i)? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                while matches!(b.get(self.i), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
            }
            _ => return None,
        }
        if b.get(self.i) == Some(&b'.') {
            self.i += 1;
            let frac = self.i;
            while matches!(b.get(self.i), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            if self.i == frac {
                return None;
            }
        }
        // A number must end at a delimiter (the caller checks which one); an exponent,
        // a second sign or a leading zero followed by digits all stop here.
        if matches!(b.get(self.i), Some(b'0'..=b'9' | b'e' | b'E' | b'+' | b'-' | b'.')) {
            return None;
        }
        self.s.get(start..self.i)
    }
}

impl<'a> Source<'a> for Cur<'a> {
    /// Consumes a `null` if one comes next (an explicit null is an absent field).
    #[inline]
    fn null(&mut self) -> bool {
        self.peek() == Some(b'n') && self.literal(b"null")
    }

    /// A string without escapes or control characters, borrowed from the text.
    #[inline]
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let end = string_stop(self.b, start)?;
        if self.b[end] != b'"' {
            return None;
        }
        self.i = end + 1;
        // Both ends sit next to an ASCII quote, so they are character boundaries.
        self.s.get(start..end)
    }

    #[inline]
    fn boolean(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' if self.literal(b"true") => Some(true),
            b'f' if self.literal(b"false") => Some(false),
            _ => None,
        }
    }

    fn amount(&mut self) -> Option<Amount> {
        let text = match self.peek()? {
            b'"' => self.str()?,
            b'0'..=b'9' => self.number()?,
            _ => return None,
        };
        amount_of(text)
    }

    /// A whole number not above `max`, converted as the full path does.
    fn count(&mut self, max: u64) -> Option<u32> {
        self.peek()?;
        let n: u64 = self.number()?.parse().ok()?;
        (n <= max).then_some(n as u32)
    }

    /// The members of an object: `field(cursor, key)` reads each value.
    #[inline]
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let key = self.str()?;
            self.eat(b':')?;
            self.peek()?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The items of an array of at most `max` items, each read by `item`.
    #[inline]
    fn array(&mut self, max: usize, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        let mut n = 0usize;
        loop {
            n += 1;
            if n > max {
                return None;
            }
            self.peek()?;
            item(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// The position of the first `"`, `\\` or control character at or after `i` (sixteen
/// bytes at a time, see [`crate::json::find_escape`]).
#[inline]
fn string_stop(b: &[u8], i: usize) -> Option<usize> {
    // The bytes a JSON writer escapes are the ones that end a plain run here.
    crate::json::find_escape(b, i)
}

/// An amount in the plain forms `123`, `123.4`, `123.45` (at most 13 integer digits):
/// the very value [`parse_amount`] gives (scale 2), without its general parser. `None`
/// for anything else, which then goes to [`parse_amount`].
#[inline]
fn plain_amount(t: &str) -> Option<Decimal> {
    let b = t.as_bytes();
    let (int, frac) = match b.iter().position(|&c| c == b'.') {
        Some(p) => (&b[..p], &b[p + 1..]),
        None => (b, &b[b.len()..]),
    };
    if int.is_empty() || int.len() > 13 || frac.len() > 2 || (frac.is_empty() && int.len() != b.len()) {
        return None;
    }
    let mut m: i64 = 0;
    for &c in int {
        if !c.is_ascii_digit() {
            return None;
        }
        m = m * 10 + i64::from(c - b'0');
    }
    let mut cents = 0;
    for (k, &c) in frac.iter().enumerate() {
        if !c.is_ascii_digit() {
            return None;
        }
        cents += i64::from(c - b'0') * if k == 0 { 10 } else { 1 };
    }
    m = m * 100 + cents;
    // At most 1,000,000,000,000 yuan, as `parse_amount` requires.
    (m <= 100_000_000_000_000).then(|| Decimal::new(m, 2))
}

/// An amount's text (a string's, or a number's in a plain form) as the full path reads it.
#[inline]
pub(super) fn amount_of(text: &str) -> Option<Amount> {
    plain_amount(text).or_else(|| parse_amount(text).ok()).map(Amount)
}

/// Whether `text` is a number in the plain forms [`Cur::number`] reads (`0`,
/// `123`, `123.45`: no sign, no exponent, no leading zero).
pub(super) fn plain_number(text: &str) -> bool {
    let mut c = Cur { s: text, b: text.as_bytes(), i: 0 };
    c.number().is_some_and(|n| n.len() == text.len())
}

/// Marks field `bit` as seen; a repeated field gives up.
#[inline]
fn once(seen: &mut u32, bit: u32) -> Option<()> {
    if *seen & (1 << bit) != 0 {
        return None;
    }
    *seen |= 1 << bit;
    Some(())
}

fn valid_id(id: &str) -> Option<String> {
    let n = id.chars().count();
    (n != 0 && n <= MAX_ID_CHARS).then(|| id.to_string())
}

/// An optional field's value: `None` for null, else `read`.
#[inline(always)]
fn opt<'a, C: Source<'a>, T>(c: &mut C, read: impl FnOnce(&mut C) -> Option<T>) -> Option<Option<T>> {
    if c.null() { Some(None) } else { read(c).map(Some) }
}

pub(super) fn household<'a, C: Source<'a>>(c: &mut C) -> Option<Household> {
    let mut seen = 0u32;
    let (mut id, mut region, mut area, mut as_of, mut members) = (None, None, None, None, None);
    let (mut assets, mut events, mut expenses, mut history) = (None, None, None, None);
    c.object(|c, key| {
        match key {
            "id" => {
                once(&mut seen, 0)?;
                id = Some(valid_id(c.str()?)?);
            }
            "region" => {
                once(&mut seen, 1)?;
                let code = c.str()?;
                if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                region = Some(code.to_string());
            }
            "area" => {
                once(&mut seen, 2)?;
                area = opt(c, |c| c.word(Area::parse))?;
            }
            "as_of" => {
                once(&mut seen, 3)?;
                as_of = opt(c, C::date)?;
            }
            "members" => {
                once(&mut seen, 4)?;
                let mut list = Vec::with_capacity(4);
                c.array(MAX_MEMBERS, |c| {
                    list.push(member(c)?);
                    Some(())
                })?;
                if list.is_empty() {
                    return None;
                }
                members = Some(list);
            }
            "assets" => {
                once(&mut seen, 5)?;
                assets = opt(c, read_assets)?;
            }
            "events" => {
                once(&mut seen, 6)?;
                events = opt(c, |c| {
                    let mut list = Vec::with_capacity(4);
                    c.array(MAX_LIST, |c| {
                        list.push(event(c)?);
                        Some(())
                    })?;
                    Some(list)
                })?;
            }
            "expenses" => {
                once(&mut seen, 7)?;
                expenses = opt(c, read_expenses)?;
            }
            "history" => {
                once(&mut seen, 8)?;
                history = opt(c, read_history)?;
            }
            _ => return None,
        }
        Some(())
    })?;
    Some(Household {
        id: id?,
        region: region?,
        area: area.unwrap_or(Area::Urban),
        as_of: as_of.map(IsoDate),
        members: members?,
        assets: assets.unwrap_or_default(),
        events: events.unwrap_or_default(),
        expenses: expenses.unwrap_or_default(),
        history: history.unwrap_or_default(),
    })
}

/// Unique member ids and exactly one head, as the full path requires.
fn check_members(members: &[Member]) -> Option<()> {
    let heads = members.iter().filter(|m| m.relation == Relation::Head).count();
    if heads != 1 {
        return None;
    }
    for (i, m) in members.iter().enumerate() {
        if members[..i].iter().any(|o| o.id == m.id) {
            return None;
        }
    }
    Some(())
}

fn member<'a, C: Source<'a>>(c: &mut C) -> Option<Member> {
    let mut seen = 0u32;
    let (mut id, mut relation, mut birth, mut sex) = (None, None, None, None);
    let (mut local_hukou, mut disability_grade, mut serious_illness, mut work_capacity) = (None, None, None, None);
    let (mut employment, mut student, mut orphan, mut incomes, mut medical) = (None, None, None, None, None);
    c.object(|c, key| {
        match key {
            "id" => {
                once(&mut seen, 0)?;
                id = Some(valid_id(c.str()?)?);
            }
            "relation" => {
                once(&mut seen, 1)?;
                relation = Some(c.word(Relation::parse)?);
            }
            "birth_date" => {
                once(&mut seen, 2)?;
                birth = Some(c.date()?);
            }
            "sex" => {
                once(&mut seen, 3)?;
                sex = Some(c.word(Sex::parse)?);
            }
            "local_hukou" => {
                once(&mut seen, 4)?;
                local_hukou = opt(c, C::boolean)?;
            }
            "disability_grade" => {
                once(&mut seen, 5)?;
                disability_grade = opt(c, |c| match c.count(u64::MAX)? {
                    g @ 1..=4 => Some(g as u8),
                    _ => None,
                })?;
            }
            "serious_illness" => {
                once(&mut seen, 6)?;
                serious_illness = opt(c, C::boolean)?;
            }
            "work_capacity" => {
                once(&mut seen, 7)?;
                work_capacity = opt(c, |c| c.word(WorkCapacity::parse))?;
            }
            "employment" => {
                once(&mut seen, 8)?;
                employment = opt(c, read_employment)?;
            }
            "student" => {
                once(&mut seen, 9)?;
                student = opt(c, read_student)?;
            }
            "orphan" => {
                once(&mut seen, 10)?;
                orphan = opt(c, C::boolean)?;
            }
            "incomes" => {
                once(&mut seen, 11)?;
                incomes = opt(c, |c| {
                    let mut list = Vec::with_capacity(4);
                    c.array(MAX_LIST, |c| {
                        list.push(income(c)?);
                        Some(())
                    })?;
                    Some(list)
                })?;
            }
            "medical" => {
                once(&mut seen, 12)?;
                medical = opt(c, read_medical)?;
            }
            _ => return None,
        }
        Some(())
    })?;
    Some(Member {
        id: id?,
        relation: relation?,
        birth_date: IsoDate(birth?),
        sex: sex?,
        local_hukou: local_hukou.unwrap_or(true),
        disability_grade,
        serious_illness: serious_illness.unwrap_or(false),
        work_capacity,
        employment,
        student,
        orphan: orphan.unwrap_or(false),
        incomes: incomes.unwrap_or_default(),
        medical,
    })
}

fn read_employment<'a, C: Source<'a>>(c: &mut C) -> Option<Employment> {
    let mut seen = 0u32;
    let (mut status, mut months, mut refused) = (None, None, None);
    c.object(|c, key| {
        match key {
            "status" => {
                once(&mut seen, 0)?;
                status = Some(c.word(EmploymentStatus::parse)?);
            }
            "registered_unemployed_months" => {
                once(&mut seen, 1)?;
                months = opt(c, |c| c.count(1200))?;
            }
            "refused_offers" => {
                once(&mut seen, 2)?;
                refused = opt(c, |c| c.count(1000))?;
            }
            _ => return None,
        }
        Some(())
    })?;
    Some(Employment {
        status: status?,
        registered_unemployed_months: months.unwrap_or(0),
        refused_offers: refused.unwrap_or(0),
    })
}

fn read_student<'a, C: Source<'a>>(c: &mut C) -> Option<Student> {
    let mut seen = 0u32;
    let (mut level, mut boarding, mut tuition) = (None, None, None);
    c.object(|c, key| {
        match key {
            "level" => {
                once(&mut seen, 0)?;
                level = Some(c.word(StudentLevel::parse)?);
            }
            "boarding" => {
                once(&mut seen, 1)?;
                boarding = opt(c, C::boolean)?;
            }
            "tuition_per_year" => {
                once(&mut seen, 2)?;
                tuition = opt(c, C::amount)?;
            }
            _ => return None,
        }
        Some(())
    })?;
    Some(Student { level: level?, boarding: boarding.unwrap_or(false), tuition_per_year: tuition.unwrap_or_default() })
}

fn income<'a, C: Source<'a>>(c: &mut C) -> Option<Income> {
    let mut seen = 0u32;
    let (mut kind, mut monthly) = (None, None);
    c.object(|c, key| {
        match key {
            "kind" => {
                once(&mut seen, 0)?;
                kind = Some(c.word(IncomeKind::parse)?);
            }
            "monthly" => {
                once(&mut seen, 1)?;
                monthly = Some(c.amount()?);
            }
            _ => return None,
        }
        Some(())
    })?;
    Some(Income { kind: kind?, monthly: monthly? })
}

fn read_medical<'a, C: Source<'a>>(c: &mut C) -> Option<Medical> {
    let mut seen = 0u32;
    let mut v: [Option<Amount>; 5] = [None; 5];
    c.object(|c, key| {
        let k = match key {
            "in_scope_cost" => 0,
            "basic_insurance_paid" => 1,
            "critical_illness_paid" => 2,
            "other_paid" => 3,
            "aid_received" => 4,
            _ => return None,
        };
        once(&mut seen, k as u32)?;
        v[k] = opt(c, C::amount)?;
        Some(())
    })?;
    let [a, b, cc, d, e] = v.map(Option::unwrap_or_default);
    Some(Medical { in_scope_cost: a, basic_insurance_paid: b, critical_illness_paid: cc, other_paid: d, aid_received: e })
}

fn read_assets<'a, C: Source<'a>>(c: &mut C) -> Option<Assets> {
    let mut seen = 0u32;
    let (mut deposits, mut securities, mut vehicles, mut homes, mut business) = (None, None, None, None, None);
    c.object(|c, key| {
        match key {
            "deposits" => {
                once(&mut seen, 0)?;
                deposits = opt(c, C::amount)?;
            }
            "securities" => {
                once(&mut seen, 1)?;
                securities = opt(c, C::amount)?;
            }
            "vehicles" => {
                once(&mut seen, 2)?;
                vehicles = opt(c, |c| {
                    let mut list = Vec::with_capacity(4);
                    c.array(MAX_LIST, |c| {
                        list.push(vehicle(c)?);
                        Some(())
                    })?;
                    Some(list)
                })?;
            }
            "homes" => {
                once(&mut seen, 3)?;
                homes = opt(c, |c| c.count(1000))?;
            }
            "business_registered" => {
                once(&mut seen, 4)?;
                business = opt(c, C::boolean)?;
            }
            _ => return None,
        }
        Some(())
    })?;
    Some(Assets {
        deposits: deposits.unwrap_or_default(),
        securities: securities.unwrap_or_default(),
        vehicles: vehicles.unwrap_or_default(),
        homes: homes.unwrap_or(0),
        business_registered: business.unwrap_or(false),
    })
}

fn vehicle<'a, C: Source<'a>>(c: &mut C) -> Option<Vehicle> {
    let mut seen = 0u32;
    let (mut kind, mut value) = (None, None);
    c.object(|c, key| {
        match key {
            "kind" => {
                once(&mut seen, 0)?;
                kind = Some(c.word(VehicleKind::parse)?);
            }
            "value" => {
                once(&mut seen, 1)?;
                value = Some(c.amount()?);
            }
            _ => return None,
        }
        Some(())
    })?;
    Some(Vehicle { kind: kind?, value: value? })
}

fn event<'a, C: Source<'a>>(c: &mut C) -> Option<Event> {
    let mut seen = 0u32;
    let (mut kind, mut date, mut loss, mut compensation) = (None, None, None, None);
    c.object(|c, key| {
        match key {
            "kind" => {
                once(&mut seen, 0)?;
                kind = Some(c.word(EventKind::parse)?);
            }
            "date" => {
                once(&mut seen, 1)?;
                date = Some(c.date()?);
            }
            "loss" => {
                once(&mut seen, 2)?;
                loss = Some(c.amount()?);
            }
            "compensation" => {
                once(&mut seen, 3)?;
                compensation = opt(c, C::amount)?;
            }
            _ => return None,
        }
        Some(())
    })?;
    Some(Event { kind: kind?, date: IsoDate(date?), loss: loss?, compensation: compensation.unwrap_or_default() })
}

fn read_expenses<'a, C: Source<'a>>(c: &mut C) -> Option<Expenses> {
    let mut seen = 0u32;
    let mut v: [Option<Amount>; 3] = [None; 3];
    c.object(|c, key| {
        let k = match key {
            "medical" => 0,
            "education" => 1,
            "other" => 2,
            _ => return None,
        };
        once(&mut seen, k as u32)?;
        v[k] = opt(c, C::amount)?;
        Some(())
    })?;
    let [medical, education, other] = v.map(Option::unwrap_or_default);
    Some(Expenses { medical, education, other })
}

fn read_history<'a, C: Source<'a>>(c: &mut C) -> Option<History> {
    let mut seen = 0u32;
    let (mut since, mut last, mut exit, mut grants) = (None, None, None, None);
    c.object(|c, key| {
        match key {
            "subsistence_since" => {
                once(&mut seen, 0)?;
                since = opt(c, C::date)?;
            }
            "subsistence_last_amount" => {
                once(&mut seen, 1)?;
                last = opt(c, C::amount)?;
            }
            "subsistence_exit_income_since" => {
                once(&mut seen, 2)?;
                exit = opt(c, C::date)?;
            }
            "temporary_aid_grants_12m" => {
                once(&mut seen, 3)?;
                grants = opt(c, |c| c.count(1000))?;
            }
            _ => return None,
        }
        Some(())
    })?;
    Some(History {
        subsistence_since: since.map(IsoDate),
        subsistence_last_amount: last,
        subsistence_exit_income_since: exit.map(IsoDate),
        temporary_aid_grants_12m: grants.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_amounts_are_exactly_parse_amount() {
        let mut texts: Vec<String> = Vec::new();
        for int in ["0", "00", "007", "1", "9", "10", "1800", "123456789", "999999999999", "1000000000000", "1000000000001", "9999999999999", "10000000000000"] {
            for frac in ["", ".", ".0", ".5", ".05", ".50", ".99", ".00", ".001", ".000", ".x"] {
                texts.push(format!("{int}{frac}"));
            }
        }
        texts.extend(["", ".5", "1e3", "-1", "+1", " 1", "1 ", "1,5", "１"].map(String::from));
        let mut fast = 0;
        for t in &texts {
            if let Some(d) = plain_amount(t) {
                fast += 1;
                let full = parse_amount(t).unwrap_or_else(|e| panic!("{t}: plain {d}, full {e}"));
                assert_eq!(d.serialize(), full.serialize(), "{t}");
                assert_eq!(format!("{d:?}"), format!("{full:?}"), "{t}");
            }
        }
        assert!(fast > 50, "{fast}");
    }

    #[test]
    fn string_stop_finds_the_first_quote_backslash_or_control() {
        let naive = |b: &[u8], i: usize| b[i..].iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).map(|p| i + p);
        let alphabet: &[u8] = b"ab\"\\\x01\x1f\x20\x7f\xe4\xb8\xad\x80\xff";
        let mut seed = 7u64;
        for len in 0..40 {
            for _ in 0..200 {
                let text: Vec<u8> = (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        let r = (seed >> 33) as usize;
                        if r % 3 == 0 { alphabet[r % alphabet.len()] } else { b'a' + (r % 26) as u8 }
                    })
                    .collect();
                for i in 0..=len {
                    assert_eq!(string_stop(&text, i), naive(&text, i), "{text:?} from {i}");
                }
            }
        }
    }
}
