//! The values rules compute with, outside Rhai's own `Dynamic`.
//!
//! [`Val`] is what the compiled evaluator ([`super::fast`]) works on and what an
//! [`Outcome`](super::Outcome) keeps. It has the same meaning as the Rhai value it
//! stands for (unit, bool, integer, decimal, string, array, map) and the same by-value
//! semantics, but arrays and maps are shared behind a reference count and copied only
//! when written (copy on write): a script line such as `let members = household.members;`
//! costs a count, not a deep copy of every member.
//!
//! Strings are either `'static` (words of the household model, map keys and literals of
//! the compiled rules, interned once) or shared strings made during one evaluation.
//!
//! Why the counts are not atomic ([`Rc`]): a household is evaluated on one thread, and
//! its values are made, read and dropped there; an atomic count cost every clone and
//! drop a locked instruction, some 360 a household, about 9 % of a batch's time
//! (docs/performance.md). What a value must be shared between threads as is kept in a
//! form without counts: [`Plain`] (the constants of compiled rules) and [`Frozen`]
//! (constant arrays and maps, parameter values), made into values where they are used.
//! A finished decision crosses threads whole: see [`unshare`].

use crate::money::format2;
use rhai::{Array, Dynamic, ImmutableString, Map as RhaiMap};
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;
use std::rc::Rc;
use std::sync::{Mutex, OnceLock};

/// A string value or map key.
#[derive(Clone)]
pub enum Str {
    Static(&'static str),
    /// A text of up to [`Short::MAX`] bytes made at run time, kept in place: member ids,
    /// dates, short words a script builds. No allocation and no count to keep.
    Short(Short),
    Shared(Rc<str>),
}

/// The bytes of a short text, in place (see [`Str::Short`]).
///
/// Aligned as a word, so that a value holding one is copied by aligned moves: with the
/// bytes at odd offsets (22 of them beside the length), every copy of a value was
/// written in pieces that its next read could not take from the store buffer, and a
/// batch took a quarter longer.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
pub struct Short {
    len: u8,
    bytes: [u8; Short::MAX],
}

impl Short {
    /// As many bytes as fit beside the length in 16 aligned bytes.
    pub const MAX: usize = 15;

    #[inline]
    fn new(s: &str) -> Option<Short> {
        let n = s.len();
        if n > Short::MAX {
            return None;
        }
        let mut bytes = [0u8; Short::MAX];
        bytes[..n].copy_from_slice(s.as_bytes());
        Some(Short { len: n as u8, bytes })
    }

    #[inline]
    fn as_str(&self) -> &str {
        // SAFETY: `bytes[..len]` is a copy of a whole `&str` (`Short::new`), so valid
        // UTF-8, and `len <= MAX`; neither field changes afterwards.
        unsafe { std::str::from_utf8_unchecked(self.bytes.get_unchecked(..self.len as usize)) }
    }
}

impl Str {
    #[inline]
    pub fn as_str(&self) -> &str {
        match self {
            Str::Static(s) => s,
            Str::Short(s) => s.as_str(),
            Str::Shared(s) => s,
        }
    }
    /// A text made at run time: in place when short, else shared.
    #[inline]
    pub fn new(s: &str) -> Str {
        match Short::new(s) {
            Some(short) => Str::Short(short),
            None => Str::Shared(Rc::from(s)),
        }
    }
}

impl std::ops::Deref for Str {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Str {
    #[inline]
    fn eq(&self, other: &Str) -> bool {
        let (a, b) = (self.as_str().as_bytes(), other.as_str().as_bytes());
        a.len() == b.len() && (std::ptr::eq(a.as_ptr(), b.as_ptr()) || (a.first() == b.first() && a == b))
    }
}
impl Eq for Str {}
impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Str) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Str {
    fn cmp(&self, other: &Str) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}
impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}
impl From<&'static str> for Str {
    fn from(s: &'static str) -> Str {
        Str::Static(s)
    }
}
impl From<String> for Str {
    fn from(s: String) -> Str {
        match Short::new(&s) {
            Some(short) => Str::Short(short),
            None => Str::Shared(Rc::from(s)),
        }
    }
}

/// A `'static` copy of `s`, shared by every compiled pack that uses the same text. Used
/// for the literals and map keys of compiled rules: a bounded set (the distinct texts of
/// the packs loaded by this process), so keeping them for the process's life is fine.
pub fn intern(s: &str) -> &'static str {
    static TABLE: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    // Seeded with the words of the household model, so that a literal "full" in a rule
    // and the household's work_capacity "full" are the same address.
    let mut t = TABLE
        .get_or_init(|| Mutex::new(crate::household::model::all_words().collect()))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(x) = t.get(s) {
        return x;
    }
    let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
    t.insert(leaked);
    leaked
}

/// A map: entries sorted by key (the order Rhai's `BTreeMap` gives), found by binary
/// search. The maps of rules are small (a member has 25 fields).
#[derive(Clone, Default, Debug)]
pub struct ValMap {
    entries: Vec<(Str, Val)>,
}

impl ValMap {
    pub fn with_capacity(n: usize) -> ValMap {
        ValMap { entries: Vec::with_capacity(n) }
    }
    /// Builds from entries already sorted by key, without duplicates.
    pub fn from_sorted(entries: Vec<(Str, Val)>) -> ValMap {
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        ValMap { entries }
    }
    #[inline]
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }
    #[inline]
    pub fn get(&self, key: &str) -> Option<&Val> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }
    /// [`ValMap::get`] of an interned key ([`intern`]): the maps of compiled rules have
    /// interned keys, found here by address before any text is compared.
    #[inline]
    pub fn get_interned(&self, key: &'static str) -> Option<&Val> {
        let same = |k: &Str| matches!(k, Str::Static(s) if std::ptr::eq(s.as_ptr(), key.as_ptr()) && s.len() == key.len());
        match self.entries.iter().find(|(k, _)| same(k)) {
            Some((_, v)) => Some(v),
            None => self.get(key),
        }
    }
    /// The value at position `i` if its key is `key`.
    #[inline]
    pub fn get_at(&self, i: usize, key: &str) -> Option<&Val> {
        match self.entries.get(i) {
            Some((k, v)) if k.as_str() == key => Some(v),
            _ => None,
        }
    }
    /// The entry at position `i`.
    #[inline]
    pub fn entry_at(&self, i: usize) -> Option<(&Str, &Val)> {
        self.entries.get(i).map(|(k, v)| (k, v))
    }
    /// Where `key` is, and its value.
    pub fn position(&self, key: &str) -> Option<(usize, &Val)> {
        self.find(key).ok().map(|i| (i, &self.entries[i].1))
    }
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Val> {
        match self.find(key) {
            Ok(i) => Some(&mut self.entries[i].1),
            Err(_) => None,
        }
    }
    /// The value at `key`, inserting `()` first when the key is new.
    pub fn entry(&mut self, key: Str) -> &mut Val {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key, Val::Unit));
                i
            }
        };
        &mut self.entries[i].1
    }
    pub fn insert(&mut self, key: Str, value: Val) {
        *self.entry(key) = value;
    }
    pub fn remove(&mut self, key: &str) -> Option<Val> {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&Str, &Val)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
    pub fn keys(&self) -> impl Iterator<Item = &Str> {
        self.entries.iter().map(|(k, _)| k)
    }
    pub fn into_entries(self) -> Vec<(Str, Val)> {
        self.entries
    }
    /// [`unshare`] of every key and value.
    pub fn unshare(&mut self) {
        for (k, v) in &mut self.entries {
            unshare_str(k);
            unshare(v);
        }
    }
}

/// A value of a rule.
#[derive(Debug, Default)]
pub enum Val {
    #[default]
    Unit,
    Bool(bool),
    Int(i64),
    Dec(Decimal),
    Str(Str),
    Array(Rc<Vec<Val>>),
    Map(Rc<ValMap>),
}

/// A copy of all the bytes, with the count of a shared part raised. The same result as
/// a derived `clone`, which writes the copy field by field (a tag byte, then the
/// payload): the evaluator moves a value on as soon as it is made, in two wide loads
/// that a store buffer holding narrower pieces cannot serve, and each such stall cost
/// more than the copy (docs/performance.md, seventh session).
impl Clone for Val {
    #[inline]
    fn clone(&self) -> Val {
        match self {
            Val::Str(Str::Shared(s)) => std::mem::forget(Rc::clone(s)),
            Val::Array(a) => std::mem::forget(Rc::clone(a)),
            Val::Map(m) => std::mem::forget(Rc::clone(m)),
            Val::Unit | Val::Bool(_) | Val::Int(_) | Val::Dec(_) | Val::Str(Str::Static(_) | Str::Short(_)) => {}
        }
        // SAFETY: a bitwise copy of a `Val` is a valid `Val`; the one reference it holds
        // to a shared part (if any) was counted just above and is released when the copy
        // drops, exactly as the clone of that `Rc` would be. The other variants are
        // plain data (`Copy` fields), whose copy is their clone.
        unsafe { std::ptr::read(self) }
    }
}

impl Val {
    pub fn str(s: &'static str) -> Val {
        Val::Str(Str::Static(s))
    }
    pub fn string(s: &str) -> Val {
        Val::Str(Str::new(s))
    }
    /// A date as rules see it: its `YYYY-MM-DD` text (one allocation, the shared string).
    pub fn date(d: crate::date::Date) -> Val {
        Val::string(&crate::date::date_str(d, &mut [0; 10]))
    }
    pub fn map(m: ValMap) -> Val {
        Val::Map(Rc::new(m))
    }
    pub fn array(a: Vec<Val>) -> Val {
        Val::Array(Rc::new(a))
    }
    pub fn is_unit(&self) -> bool {
        matches!(self, Val::Unit)
    }
    /// Rhai's name of the type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Unit => "()",
            Val::Bool(_) => "bool",
            Val::Int(_) => "i64",
            Val::Dec(_) => "decimal",
            Val::Str(_) => "string",
            Val::Array(_) => "array",
            Val::Map(_) => "map",
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// From a Rhai value: `text` makes its strings and map keys, `other` what a value of
    /// a type rules do not use (char, blob, custom types…) becomes — `None` fails the
    /// whole conversion.
    pub fn from_dynamic_with(d: &Dynamic, text: &impl Fn(&str) -> Str, other: &impl Fn(&Dynamic) -> Option<Val>) -> Option<Val> {
        if d.is_unit() {
            return Some(Val::Unit);
        }
        if let Ok(b) = d.as_bool() {
            return Some(Val::Bool(b));
        }
        if let Ok(i) = d.as_int() {
            return Some(Val::Int(i));
        }
        if let Ok(x) = d.as_decimal() {
            return Some(Val::Dec(x));
        }
        if let Some(s) = d.read_lock::<ImmutableString>() {
            return Some(Val::Str(text(s.as_str())));
        }
        if let Some(a) = d.read_lock::<Array>() {
            return a.iter().map(|x| Val::from_dynamic_with(x, text, other)).collect::<Option<Vec<_>>>().map(Val::array);
        }
        if let Some(m) = d.read_lock::<RhaiMap>() {
            let entries = m
                .iter()
                .map(|(k, v)| Some((text(k.as_str()), Val::from_dynamic_with(v, text, other)?)))
                .collect::<Option<Vec<_>>>()?;
            return Some(Val::map(ValMap::from_sorted(entries)));
        }
        other(d)
    }

    /// From any Rhai value a script may return: a `char` as its text, a value of any
    /// other type rules do not use as its type name.
    pub fn from_dynamic_lossy(d: &Dynamic) -> Val {
        let other = |d: &Dynamic| Some(if d.is_char() { Val::string(&d.to_string()) } else { Val::str(d.type_name()) });
        Val::from_dynamic_with(d, &Str::new, &other).unwrap_or_default()
    }

    /// The Rhai value (for the interpreted path).
    pub fn to_dynamic(&self) -> Dynamic {
        match self {
            Val::Unit => Dynamic::UNIT,
            Val::Bool(b) => Dynamic::from_bool(*b),
            Val::Int(i) => Dynamic::from_int(*i),
            Val::Dec(d) => Dynamic::from_decimal(*d),
            Val::Str(s) => Dynamic::from(s.as_str().to_string()),
            Val::Array(a) => Dynamic::from_array(a.iter().map(Val::to_dynamic).collect()),
            Val::Map(m) => {
                let mut out = RhaiMap::new();
                for (k, v) in m.iter() {
                    out.insert(k.as_str().into(), v.to_dynamic());
                }
                Dynamic::from_map(out)
            }
        }
    }

    /// As JSON: decimals become strings with two places (every money figure in an
    /// output is rounded once, half away from zero), maps keep sorted keys.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Val::Unit => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::from(*i),
            Val::Dec(d) => Value::String(format2(*d)),
            Val::Str(s) => Value::String(s.as_str().to_string()),
            Val::Array(a) => Value::Array(a.iter().map(Val::to_json).collect()),
            Val::Map(m) => Value::Object(m.iter().map(|(k, v)| (k.as_str().to_string(), v.to_json())).collect()),
        }
    }
}

impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Str(Str::from(s))
    }
}

/// As Rhai prints the value (`to_string`).
impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Unit => Ok(()),
            Val::Bool(b) => write!(f, "{b}"),
            Val::Int(i) => write!(f, "{i}"),
            Val::Dec(d) => write!(f, "{d}"),
            Val::Str(s) => f.write_str(s),
            Val::Array(_) | Val::Map(_) => write!(f, "{}", self.to_dynamic()),
        }
    }
}

/// A value with no reference count in it: unit, a bool, an integer, a decimal or a
/// `'static` or short text. Plain data, so it can be shared between threads (the constants of
/// compiled rules, read by every thread's evaluation).
#[derive(Clone, Debug)]
pub struct Plain(Val);

// SAFETY: `Plain::new` admits only values without an `Rc` anywhere in them, and the
// value is never handed out mutably; reading or cloning it touches no shared count.
unsafe impl Send for Plain {}
unsafe impl Sync for Plain {}

impl Plain {
    /// `None` for strings made at run time, arrays and maps.
    pub fn new(v: Val) -> Option<Plain> {
        match v {
            Val::Unit | Val::Bool(_) | Val::Int(_) | Val::Dec(_) | Val::Str(Str::Static(_) | Str::Short(_)) => Some(Plain(v)),
            Val::Str(Str::Shared(_)) | Val::Array(_) | Val::Map(_) => None,
        }
    }
    #[inline]
    pub fn get(&self) -> &Val {
        &self.0
    }
}

/// A value kept for many evaluations, on any thread: [`Frozen::thaw`] makes it a
/// [`Val`] of the evaluation at hand (arrays, maps and run-time strings are built
/// afresh, so no count is ever shared by two threads).
#[derive(Clone, Debug)]
pub enum Frozen {
    Plain(Plain),
    Text(Box<str>),
    Array(Vec<Frozen>),
    /// Keys are texts (`Plain` static ones or `Text`), sorted as [`ValMap`] keeps them.
    Map(Vec<(Frozen, Frozen)>),
}

impl Frozen {
    pub fn new(v: &Val) -> Frozen {
        match v {
            Val::Str(Str::Shared(s)) => Frozen::Text(Box::from(&**s)),
            Val::Array(a) => Frozen::Array(a.iter().map(Frozen::new).collect()),
            Val::Map(m) => Frozen::Map(m.iter().map(|(k, v)| (Frozen::new(&Val::Str(k.clone())), Frozen::new(v))).collect()),
            other => Frozen::Plain(Plain::new(other.clone()).expect("the other values are plain")),
        }
    }

    pub fn thaw(&self) -> Val {
        match self {
            Frozen::Plain(p) => p.get().clone(),
            Frozen::Text(t) => Val::string(t),
            Frozen::Array(a) => Val::array(a.iter().map(Frozen::thaw).collect()),
            Frozen::Map(m) => Val::map(ValMap::from_sorted(
                m.iter()
                    .map(|(k, v)| {
                        let Val::Str(k) = k.thaw() else { unreachable!("map keys are texts") };
                        (k, v.thaw())
                    })
                    .collect(),
            )),
        }
    }
}

/// Makes every count in `v` unique: a string, array or map also held elsewhere is
/// copied. Afterwards `v` owns all it reaches, and moving it to another thread moves
/// every handle to its parts with it (what lets a finished decision, whose values were
/// made on one thread, be sent: see `render::Decision`). Values of one evaluation are
/// seldom shared by then (the evaluation's variables are gone), so this is a walk.
pub fn unshare(v: &mut Val) {
    match v {
        Val::Str(s) => unshare_str(s),
        Val::Array(a) => Rc::make_mut(a).iter_mut().for_each(unshare),
        Val::Map(m) => Rc::make_mut(m).unshare(),
        Val::Unit | Val::Bool(_) | Val::Int(_) | Val::Dec(_) => {}
    }
}

/// [`unshare`] of a string.
pub fn unshare_str(s: &mut Str) {
    if let Str::Shared(rc) = s {
        if Rc::get_mut(rc).is_none() {
            *s = Str::new(rc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether every count reachable from `v` is one.
    fn unique(v: &Val) -> bool {
        match v {
            Val::Str(Str::Shared(s)) => Rc::strong_count(s) == 1,
            Val::Array(a) => Rc::strong_count(a) == 1 && a.iter().all(unique),
            Val::Map(m) => {
                Rc::strong_count(m) == 1
                    && m.iter().all(|(k, v)| !matches!(k, Str::Shared(s) if Rc::strong_count(s) != 1) && unique(v))
            }
            _ => true,
        }
    }

    fn sample() -> Val {
        let id = Val::string("a member id longer than a short text");
        let member = Val::map(ValMap::from_sorted(vec![(Str::Static("age"), Val::Int(30)), (Str::Static("id"), id.clone())]));
        let list = Val::array(vec![member.clone(), member.clone(), id]);
        Val::map(ValMap::from_sorted(vec![
            (Str::new("a key longer than twenty-two bytes"), Val::Dec(Decimal::new(12345, 2))),
            (Str::Static("list"), list.clone()),
            (Str::Static("same"), list),
        ]))
    }

    #[test]
    fn unshare_copies_what_is_held_elsewhere_and_keeps_the_value() {
        let original = sample();
        let mut v = original.clone();
        assert!(!unique(&v));
        unshare(&mut v);
        assert!(unique(&v), "every count is one after unshare");
        assert_eq!(v.to_json(), original.to_json());
        // The original still sees its own data, and nothing of it is reachable from `v`.
        let Val::Map(m) = &original else { unreachable!() };
        assert_eq!(m.get("a key longer than twenty-two bytes").map(|x| x.to_string()), Some("123.45".to_string()));
    }

    #[test]
    fn unshare_leaves_a_value_that_owns_its_parts_as_it_is() {
        let mut v = Val::array(vec![Val::string("a text longer than twenty-two bytes"), Val::map(ValMap::from_sorted(vec![(Str::Static("k"), Val::Int(1))]))]);
        let before = match &v {
            Val::Array(a) => Rc::as_ptr(a),
            _ => unreachable!(),
        };
        unshare(&mut v);
        let Val::Array(a) = &v else { unreachable!() };
        assert_eq!(Rc::as_ptr(a), before, "nothing copied");
    }

    #[test]
    fn frozen_values_thaw_into_fresh_equal_values() {
        let v = sample();
        let frozen = Frozen::new(&v);
        let (a, b) = (frozen.thaw(), frozen.thaw());
        assert_eq!(a.to_json(), v.to_json());
        assert!(unique(&a) && unique(&b), "each thaw builds its own parts");
        let (Val::Map(x), Val::Map(y)) = (&a, &b) else { unreachable!() };
        assert!(!Rc::ptr_eq(x, y));
    }

    #[test]
    fn plain_takes_only_values_without_counts() {
        assert!(Plain::new(Val::Int(3)).is_some());
        assert!(Plain::new(Val::str("word")).is_some());
        assert!(Plain::new(Val::Dec(Decimal::ONE)).is_some());
        assert!(Plain::new(Val::string("short")).is_some(), "a short text is kept in place");
        assert!(Plain::new(Val::string("made at run time, and long")).is_none());
        assert!(Plain::new(Val::array(vec![])).is_none());
        assert!(Plain::new(Val::map(ValMap::default())).is_none());
    }
}

#[cfg(test)]
mod short_tests {
    use super::*;

    #[test]
    fn texts_up_to_the_limit_are_kept_in_place_and_read_back_whole() {
        for text in ["", "m1", "2025-03-01", "一二三四五", "abcdefghijklmno", "é", "x\u{1F600}y"] {
            let s = Str::new(text);
            assert!(matches!(s, Str::Short(_)), "{text:?} in place");
            assert_eq!(s.as_str(), text);
            assert_eq!(Str::from(text.to_string()).as_str(), text);
        }
        for text in ["abcdefghijklmnop", "一二三四五六"] {
            let s = Str::new(text);
            assert!(matches!(s, Str::Shared(_)), "{text:?} shared: over {} bytes", Short::MAX);
            assert_eq!(s.as_str(), text);
        }
        assert_eq!(std::mem::size_of::<Str>(), 24);
        assert_eq!(std::mem::size_of::<Val>(), 24);
    }

    #[test]
    fn equal_texts_are_equal_however_they_are_kept() {
        let long = "a text that is longer than twenty-two bytes";
        assert_eq!(Str::new(long), Str::Static(intern(long)));
        assert_eq!(Str::new("full"), Str::Static("full"));
        assert!(Str::new("a") < Str::Static("b"));
    }
}
