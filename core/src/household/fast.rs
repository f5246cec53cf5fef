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
use super::words::FIELDS;
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

/// A field of the household form: its position in [`FIELDS`] (the words' key table).
pub(crate) type Field = u8;

/// The position of `name` in [`FIELDS`], found when compiling (a name not there fails
/// the build).
const fn field(name: &str) -> Field {
    let mut i = 0;
    while i < FIELDS.len() {
        let (a, b) = (FIELDS[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i as Field;
            }
        }
        i += 1;
    }
    panic!("not a field of the household form")
}

/// The fields, by name.
mod f {
    use super::{field, Field};
    pub const AID_RECEIVED: Field = field("aid_received");
    pub const AREA: Field = field("area");
    pub const AS_OF: Field = field("as_of");
    pub const ASSETS: Field = field("assets");
    pub const BASIC_INSURANCE_PAID: Field = field("basic_insurance_paid");
    pub const BIRTH_DATE: Field = field("birth_date");
    pub const BOARDING: Field = field("boarding");
    pub const BUSINESS_REGISTERED: Field = field("business_registered");
    pub const COMPENSATION: Field = field("compensation");
    pub const CRITICAL_ILLNESS_PAID: Field = field("critical_illness_paid");
    pub const DATE: Field = field("date");
    pub const DEPOSITS: Field = field("deposits");
    pub const DISABILITY_GRADE: Field = field("disability_grade");
    pub const EDUCATION: Field = field("education");
    pub const EMPLOYMENT: Field = field("employment");
    pub const EVENTS: Field = field("events");
    pub const EXPENSES: Field = field("expenses");
    pub const HISTORY: Field = field("history");
    pub const HOMES: Field = field("homes");
    pub const ID: Field = field("id");
    pub const IN_SCOPE_COST: Field = field("in_scope_cost");
    pub const INCOMES: Field = field("incomes");
    pub const KIND: Field = field("kind");
    pub const LEVEL: Field = field("level");
    pub const LOCAL_HUKOU: Field = field("local_hukou");
    pub const LOSS: Field = field("loss");
    pub const MEDICAL: Field = field("medical");
    pub const MEMBERS: Field = field("members");
    pub const MONTHLY: Field = field("monthly");
    pub const ORPHAN: Field = field("orphan");
    pub const OTHER: Field = field("other");
    pub const OTHER_PAID: Field = field("other_paid");
    pub const REFUSED_OFFERS: Field = field("refused_offers");
    pub const REGION: Field = field("region");
    pub const REGISTERED_UNEMPLOYED_MONTHS: Field = field("registered_unemployed_months");
    pub const RELATION: Field = field("relation");
    pub const SECURITIES: Field = field("securities");
    pub const SERIOUS_ILLNESS: Field = field("serious_illness");
    pub const SEX: Field = field("sex");
    pub const STATUS: Field = field("status");
    pub const STUDENT: Field = field("student");
    pub const SUBSISTENCE_EXIT_INCOME_SINCE: Field = field("subsistence_exit_income_since");
    pub const SUBSISTENCE_LAST_AMOUNT: Field = field("subsistence_last_amount");
    pub const SUBSISTENCE_SINCE: Field = field("subsistence_since");
    pub const TEMPORARY_AID_GRANTS_12M: Field = field("temporary_aid_grants_12m");
    pub const TUITION_PER_YEAR: Field = field("tuition_per_year");
    pub const VALUE: Field = field("value");
    pub const VEHICLES: Field = field("vehicles");
    pub const WORK_CAPACITY: Field = field("work_capacity");
}

/// Each object's fields in the order of the form (household.md), which writers keep.
mod order {
    use super::{f, Field};
    pub const HOUSEHOLD: &[Field] = &[f::ID, f::REGION, f::AREA, f::AS_OF, f::MEMBERS, f::ASSETS, f::EVENTS, f::EXPENSES, f::HISTORY];
    pub const MEMBER: &[Field] = &[f::ID, f::RELATION, f::BIRTH_DATE, f::SEX, f::LOCAL_HUKOU, f::DISABILITY_GRADE, f::SERIOUS_ILLNESS, f::WORK_CAPACITY, f::EMPLOYMENT, f::STUDENT, f::ORPHAN, f::INCOMES, f::MEDICAL];
    pub const EMPLOYMENT: &[Field] = &[f::STATUS, f::REGISTERED_UNEMPLOYED_MONTHS, f::REFUSED_OFFERS];
    pub const STUDENT: &[Field] = &[f::LEVEL, f::BOARDING, f::TUITION_PER_YEAR];
    pub const INCOME: &[Field] = &[f::KIND, f::MONTHLY];
    pub const MEDICAL: &[Field] = &[f::IN_SCOPE_COST, f::BASIC_INSURANCE_PAID, f::CRITICAL_ILLNESS_PAID, f::OTHER_PAID, f::AID_RECEIVED];
    pub const ASSETS: &[Field] = &[f::DEPOSITS, f::SECURITIES, f::VEHICLES, f::HOMES, f::BUSINESS_REGISTERED];
    pub const VEHICLE: &[Field] = &[f::KIND, f::VALUE];
    pub const EVENT: &[Field] = &[f::KIND, f::DATE, f::LOSS, f::COMPENSATION];
    pub const EXPENSES: &[Field] = &[f::MEDICAL, f::EDUCATION, f::OTHER];
    pub const HISTORY: &[Field] = &[f::SUBSISTENCE_SINCE, f::SUBSISTENCE_LAST_AMOUNT, f::SUBSISTENCE_EXIT_INCOME_SINCE, f::TEMPORARY_AID_GRANTS_12M];
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
    /// The members of an object: `field(source, key)` reads each value. `order` is the
    /// form's usual order of the object's fields (a source may use it to expect them).
    fn object(&mut self, order: &[Field], field: impl FnMut(&mut Self, Field) -> Option<()>) -> Option<()>;
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

    /// A string's text, the opening quote read.
    #[inline]
    fn str_body(&mut self) -> Option<&'a str> {
        let start = self.i;
        let end = string_stop(self.b, start)?;
        if self.b[end] != b'"' {
            return None;
        }
        self.i = end + 1;
        // Both ends sit next to an ASCII quote, so they are character boundaries.
        self.s.get(start..end)
    }

    /// An object's key, as a field of the form (any other key gives up). Documents
    /// mostly give an object's fields in the form's order: the field `order[*next]` is
    /// tried first by comparing its name with the text in place, which spares scanning
    /// the key and searching for it; `*next` then moves past the key found.
    #[inline(always)]
    fn key(&mut self, order: &[Field], next: &mut usize) -> Option<Field> {
        self.eat(b'"')?;
        if let Some(&k) = order.get(*next) {
            let name = FIELDS[usize::from(k)].as_bytes();
            if let Some(text) = self.b.get(self.i..self.i + name.len() + 1) {
                if text[name.len()] == b'"' && crate::json::same_bytes(&text[..name.len()], name) {
                    self.i += name.len() + 1;
                    *next += 1;
                    return Some(k);
                }
            }
        }
        let text = self.str_body()?;
        let k = Field::try_from(FIELDS.binary_search(&text).ok()?).ok()?;
        *next = order.iter().position(|&x| x == k).map_or(order.len(), |p| p + 1);
        Some(k)
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
        self.str_body()
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
    fn object(&mut self, order: &[Field], mut field: impl FnMut(&mut Self, Field) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        let mut next = 0;
        loop {
            let key = self.key(order, &mut next)?;
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
    c.object(order::HOUSEHOLD, |c, key| {
        match key {
            f::ID => {
                once(&mut seen, 0)?;
                id = Some(valid_id(c.str()?)?);
            }
            f::REGION => {
                once(&mut seen, 1)?;
                let code = c.str()?;
                if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                region = Some(code.to_string());
            }
            f::AREA => {
                once(&mut seen, 2)?;
                area = opt(c, |c| c.word(Area::parse))?;
            }
            f::AS_OF => {
                once(&mut seen, 3)?;
                as_of = opt(c, C::date)?;
            }
            f::MEMBERS => {
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
            f::ASSETS => {
                once(&mut seen, 5)?;
                assets = opt(c, read_assets)?;
            }
            f::EVENTS => {
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
            f::EXPENSES => {
                once(&mut seen, 7)?;
                expenses = opt(c, read_expenses)?;
            }
            f::HISTORY => {
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
    c.object(order::MEMBER, |c, key| {
        match key {
            f::ID => {
                once(&mut seen, 0)?;
                id = Some(valid_id(c.str()?)?);
            }
            f::RELATION => {
                once(&mut seen, 1)?;
                relation = Some(c.word(Relation::parse)?);
            }
            f::BIRTH_DATE => {
                once(&mut seen, 2)?;
                birth = Some(c.date()?);
            }
            f::SEX => {
                once(&mut seen, 3)?;
                sex = Some(c.word(Sex::parse)?);
            }
            f::LOCAL_HUKOU => {
                once(&mut seen, 4)?;
                local_hukou = opt(c, C::boolean)?;
            }
            f::DISABILITY_GRADE => {
                once(&mut seen, 5)?;
                disability_grade = opt(c, |c| match c.count(u64::MAX)? {
                    g @ 1..=4 => Some(g as u8),
                    _ => None,
                })?;
            }
            f::SERIOUS_ILLNESS => {
                once(&mut seen, 6)?;
                serious_illness = opt(c, C::boolean)?;
            }
            f::WORK_CAPACITY => {
                once(&mut seen, 7)?;
                work_capacity = opt(c, |c| c.word(WorkCapacity::parse))?;
            }
            f::EMPLOYMENT => {
                once(&mut seen, 8)?;
                employment = opt(c, read_employment)?;
            }
            f::STUDENT => {
                once(&mut seen, 9)?;
                student = opt(c, read_student)?;
            }
            f::ORPHAN => {
                once(&mut seen, 10)?;
                orphan = opt(c, C::boolean)?;
            }
            f::INCOMES => {
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
            f::MEDICAL => {
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
    c.object(order::EMPLOYMENT, |c, key| {
        match key {
            f::STATUS => {
                once(&mut seen, 0)?;
                status = Some(c.word(EmploymentStatus::parse)?);
            }
            f::REGISTERED_UNEMPLOYED_MONTHS => {
                once(&mut seen, 1)?;
                months = opt(c, |c| c.count(1200))?;
            }
            f::REFUSED_OFFERS => {
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
    c.object(order::STUDENT, |c, key| {
        match key {
            f::LEVEL => {
                once(&mut seen, 0)?;
                level = Some(c.word(StudentLevel::parse)?);
            }
            f::BOARDING => {
                once(&mut seen, 1)?;
                boarding = opt(c, C::boolean)?;
            }
            f::TUITION_PER_YEAR => {
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
    c.object(order::INCOME, |c, key| {
        match key {
            f::KIND => {
                once(&mut seen, 0)?;
                kind = Some(c.word(IncomeKind::parse)?);
            }
            f::MONTHLY => {
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
    c.object(order::MEDICAL, |c, key| {
        let k = match key {
            f::IN_SCOPE_COST => 0,
            f::BASIC_INSURANCE_PAID => 1,
            f::CRITICAL_ILLNESS_PAID => 2,
            f::OTHER_PAID => 3,
            f::AID_RECEIVED => 4,
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
    c.object(order::ASSETS, |c, key| {
        match key {
            f::DEPOSITS => {
                once(&mut seen, 0)?;
                deposits = opt(c, C::amount)?;
            }
            f::SECURITIES => {
                once(&mut seen, 1)?;
                securities = opt(c, C::amount)?;
            }
            f::VEHICLES => {
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
            f::HOMES => {
                once(&mut seen, 3)?;
                homes = opt(c, |c| c.count(1000))?;
            }
            f::BUSINESS_REGISTERED => {
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
    c.object(order::VEHICLE, |c, key| {
        match key {
            f::KIND => {
                once(&mut seen, 0)?;
                kind = Some(c.word(VehicleKind::parse)?);
            }
            f::VALUE => {
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
    c.object(order::EVENT, |c, key| {
        match key {
            f::KIND => {
                once(&mut seen, 0)?;
                kind = Some(c.word(EventKind::parse)?);
            }
            f::DATE => {
                once(&mut seen, 1)?;
                date = Some(c.date()?);
            }
            f::LOSS => {
                once(&mut seen, 2)?;
                loss = Some(c.amount()?);
            }
            f::COMPENSATION => {
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
    c.object(order::EXPENSES, |c, key| {
        let k = match key {
            f::MEDICAL => 0,
            f::EDUCATION => 1,
            f::OTHER => 2,
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
    c.object(order::HISTORY, |c, key| {
        match key {
            f::SUBSISTENCE_SINCE => {
                once(&mut seen, 0)?;
                since = opt(c, C::date)?;
            }
            f::SUBSISTENCE_LAST_AMOUNT => {
                once(&mut seen, 1)?;
                last = opt(c, C::amount)?;
            }
            f::SUBSISTENCE_EXIT_INCOME_SINCE => {
                once(&mut seen, 2)?;
                exit = opt(c, C::date)?;
            }
            f::TEMPORARY_AID_GRANTS_12M => {
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
