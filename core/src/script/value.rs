//! The values rules compute with, outside Rhai's own `Dynamic`.
//!
//! [`Val`] is what the compiled evaluator ([`super::fast`]) works on and what an
//! [`Outcome`](super::Outcome) keeps. It has the same meaning as the Rhai value it
//! stands for (unit, bool, integer, decimal, string, array, map) and the same by-value
//! semantics, but arrays and maps are shared behind a reference count and copied only
//! when written (copy on write): a script line such as `let members = household.members;`
//! costs a count, not a deep copy of every member.
//!
//! Strings are `'static` (words of the household model, map keys and literals of the
//! compiled rules, interned once), short texts kept in place (member ids, dates), or
//! shared strings made during one evaluation.
//!
//! Why the counts are not atomic ([`Rc`]): a household is evaluated on one thread, and
//! its values are made, read and dropped there; an atomic count cost every clone and
//! drop a locked instruction, some 360 a household, about 9 % of a batch's time
//! (docs/performance.md). What a value must be shared between threads as is kept in a
//! form without counts: [`Plain`] (the constants of compiled rules) and [`Frozen`]
//! (constant arrays and maps, parameter values), made into values where they are used.
//! A finished decision crosses threads whole: see [`unshare`].
//!
//! Why a value is two words, encoded by hand ([`Val`]'s layout): the evaluator hands a
//! value back from almost every node. An enum of 24 bytes (or even 16) is returned
//! through memory: the callee writes it in pieces (a tag byte, then the payload) and the
//! caller reads it back at once in wide loads, which the store buffer cannot serve from
//! narrower stores, so each return waited for the stores to reach the cache (about a
//! tenth of a batch; docs/performance.md, "value in two words"). A struct of two
//! integers is handed back in two registers, and moved as two words. [`Val::view`]
//! gives the value as an enum of borrowed parts, for `match`.

use crate::money::format2;
use rhai::{Array, Dynamic, ImmutableString, Map as RhaiMap};
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::num::NonZeroU64;
use std::rc::Rc;
use std::sync::{Mutex, OnceLock};

// The in-place bytes of a short text are read where they lie in the two words.
#[cfg(not(target_endian = "little"))]
compile_error!("value.rs encodes short texts for little-endian targets");

// What a value is: the low byte of its first word (never zero, the niche that makes
// `Result<Val, Bail>` and `Option<Val>` two words as well).
const UNIT: u8 = 1;
const BOOL: u8 = 2;
const INT: u8 = 3;
const DEC: u8 = 4;
/// `&'static str`: length in the first word above the tag, address in the second.
const STATIC: u8 = 5;
/// Up to [`Str::SHORT_MAX`] bytes in place: length in byte 1, the bytes from byte 2 on.
const SHORT: u8 = 6;
/// `Rc<str>`: length above the tag, the address `Rc::into_raw` gave in the second word.
const SHARED: u8 = 7;
/// `Rc<Vec<Val>>` and `Rc<ValMap>`: the address `Rc::into_raw` gave in the second word.
const ARRAY: u8 = 8;
const MAP: u8 = 9;

#[inline(always)]
const fn head(tag: u8, rest: u64) -> NonZeroU64 {
    // SAFETY: every tag above is non-zero, and it is the low byte.
    unsafe { NonZeroU64::new_unchecked(tag as u64 | rest << 8) }
}

#[inline(always)]
fn addr<T: ?Sized>(p: *const T) -> u64 {
    p as *const u8 as usize as u64
}

/// A string value or map key: a `'static` text (words of the household model, map keys
/// and literals of the compiled rules, interned once), a short text kept in place, or a
/// shared text made during one evaluation. Encoded as a [`Val`] holding a string is, so
/// that a value's text is borrowed from it as a `&Str` ([`ValRef::Str`]).
#[repr(C)]
pub struct Str {
    head: NonZeroU64,
    word: u64,
    /// The count of a shared text is not atomic: not `Send`, not `Sync`.
    _rc: PhantomData<Rc<str>>,
}

/// How a [`Str`] is kept.
pub enum StrKind<'a> {
    Static(&'static str),
    Short(&'a str),
    Shared(&'a str),
}

impl Str {
    /// As many bytes as fit in place beside the tag and the length.
    pub const SHORT_MAX: usize = 14;

    /// A `'static` text. (Named as the variant it replaces.)
    #[allow(non_snake_case)]
    #[inline]
    pub fn Static(s: &'static str) -> Str {
        debug_assert!((s.len() as u64) < 1 << 56);
        Str { head: head(STATIC, s.len() as u64), word: addr(s.as_ptr()), _rc: PhantomData }
    }

    #[inline(always)]
    fn tag(&self) -> u8 {
        self.head.get() as u8
    }

    #[inline]
    fn short(s: &str) -> Option<Str> {
        let n = s.len();
        if n > Str::SHORT_MAX {
            return None;
        }
        let mut b = [0u8; 16];
        b[0] = SHORT;
        b[1] = n as u8;
        b[2..2 + n].copy_from_slice(s.as_bytes());
        let (h, w) = b.split_at(8);
        let h = u64::from_le_bytes(h.try_into().expect("8 bytes"));
        // SAFETY: the low byte is `SHORT`, not zero.
        Some(Str { head: unsafe { NonZeroU64::new_unchecked(h) }, word: u64::from_le_bytes(w.try_into().expect("8 bytes")), _rc: PhantomData })
    }

    fn shared(rc: Rc<str>) -> Str {
        let len = rc.len() as u64;
        assert!(len < 1 << 56, "a text of 2^56 bytes");
        Str { head: head(SHARED, len), word: addr(Rc::into_raw(rc)), _rc: PhantomData }
    }

    /// The address of a shared text's `Rc` (what `Rc::into_raw` gave).
    #[inline(always)]
    fn rc_ptr(&self) -> *const str {
        debug_assert_eq!(self.tag(), SHARED);
        std::ptr::slice_from_raw_parts(self.word as usize as *const u8, (self.head.get() >> 8) as usize) as *const str
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        let h = self.head.get();
        // SAFETY: a short text's bytes are at offsets 2.. of the two words (little
        // endian, `#[repr(C)]`), a copy of a whole `&str` of `len <= 14` bytes
        // (`Str::short`); a static or shared text is at the address in the second word,
        // of the length above the tag, alive while `self` is (static, or counted).
        unsafe {
            let (p, len) = if h as u8 == SHORT {
                ((self as *const Str as *const u8).add(2), (h >> 8) as u8 as usize)
            } else {
                (self.word as usize as *const u8, (h >> 8) as usize)
            };
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(p, len))
        }
    }

    /// How the text is kept.
    pub fn kind(&self) -> StrKind<'_> {
        match self.tag() {
            // SAFETY: a static text's address and length, from `Str::Static`.
            STATIC => StrKind::Static(unsafe { &*(self.as_str() as *const str) }),
            SHORT => StrKind::Short(self.as_str()),
            _ => StrKind::Shared(self.as_str()),
        }
    }

    /// The text, when it is `'static`.
    #[inline]
    pub fn as_static(&self) -> Option<&'static str> {
        match self.kind() {
            StrKind::Static(s) => Some(s),
            _ => None,
        }
    }

    /// The count of a shared text (0 for the others).
    pub fn strong_count(&self) -> usize {
        if self.tag() != SHARED {
            return 0;
        }
        // SAFETY: the `Rc` this text holds, borrowed (not dropped: `ManuallyDrop`).
        unsafe { Rc::strong_count(&ManuallyDrop::new(Rc::from_raw(self.rc_ptr()))) }
    }

    /// A text made at run time: in place when short, else shared.
    #[inline]
    pub fn new(s: &str) -> Str {
        match Str::short(s) {
            Some(short) => short,
            None => Str::shared(Rc::from(s)),
        }
    }
}

impl Clone for Str {
    #[inline]
    fn clone(&self) -> Str {
        if self.tag() == SHARED {
            // SAFETY: `rc_ptr` is a live `Rc<str>` (held by `self`); the copy below
            // holds the reference counted here, released when it drops.
            unsafe { Rc::increment_strong_count(self.rc_ptr()) }
        }
        Str { head: self.head, word: self.word, _rc: PhantomData }
    }
}

impl Drop for Str {
    #[inline]
    fn drop(&mut self) {
        if self.tag() == SHARED {
            // SAFETY: the reference this text holds, released once.
            unsafe { drop(Rc::from_raw(self.rc_ptr())) }
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
        // (`Rc<str>` copies the bytes from a `String` as from a `&str`.)
        Str::new(&s)
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
        let same = |k: &Str| matches!(k.as_static(), Some(s) if std::ptr::eq(s.as_ptr(), key.as_ptr()) && s.len() == key.len());
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

/// A value of a rule: unit, a bool, an integer, a decimal, a text, an array or a map,
/// in two words (see the module's notes). Read it with [`Val::view`] (borrowed parts) or
/// [`Val::into_owned`]; make it with the functions named as the kinds (`Val::Int(3)`).
///
/// The first word holds the kind (its low byte, never zero) and what fits beside it; the
/// second the payload:
///
/// | kind | first word (above the tag) | second word |
/// |---|---|---|
/// | unit | 0 | 0 |
/// | bool, integer | 0 | the value |
/// | decimal | flags (scale, sign) in bits 16–31, `hi` in bits 32–63 | `lo`, `mid` |
/// | static text, shared text | length | address |
/// | short text | length (byte 1), bytes 2–7 | bytes 8–15 |
/// | array, map | 0 | address (`Rc::into_raw`) |
///
/// Arrays and maps are shared behind a (non-atomic) count and copied when written;
/// moving a value moves its two words, dropping it releases its count.
#[repr(C)]
pub struct Val {
    head: NonZeroU64,
    word: u64,
    /// Counts are not atomic: not `Send`, not `Sync`.
    _rc: PhantomData<Rc<()>>,
}

/// A value's parts, borrowed ([`Val::view`]).
#[derive(Debug, Clone, Copy)]
pub enum ValRef<'a> {
    Unit,
    Bool(bool),
    Int(i64),
    Dec(Decimal),
    Str(&'a Str),
    Array(&'a Vec<Val>),
    Map(&'a ValMap),
}

/// A value's parts, owned ([`Val::into_owned`]): what the value was as an enum.
pub enum Owned {
    Unit,
    Bool(bool),
    Int(i64),
    Dec(Decimal),
    Str(Str),
    Array(Rc<Vec<Val>>),
    Map(Rc<ValMap>),
}

#[allow(non_upper_case_globals, non_snake_case)]
impl Val {
    pub const Unit: Val = Val { head: head(UNIT, 0), word: 0, _rc: PhantomData };

    #[inline(always)]
    pub fn Bool(b: bool) -> Val {
        Val { head: head(BOOL, 0), word: b as u64, _rc: PhantomData }
    }
    #[inline(always)]
    pub fn Int(i: i64) -> Val {
        Val { head: head(INT, 0), word: i as u64, _rc: PhantomData }
    }
    #[inline]
    pub fn Dec(d: Decimal) -> Val {
        let b = d.serialize();
        let w = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as u64;
        let (flags, lo, mid, hi) = (w(0), w(4), w(8), w(12));
        // Only the scale (bits 16–23, at most 28) and the sign (bit 31) of the flags are
        // used: the tag's byte is free, and `decimal` reads them back where they are.
        debug_assert_eq!(flags & 0x7F00_FFFF, 0);
        // SAFETY: the low byte is `DEC`, not zero.
        Val { head: unsafe { NonZeroU64::new_unchecked(DEC as u64 | flags | hi << 32) }, word: lo | mid << 32, _rc: PhantomData }
    }
    #[inline(always)]
    pub fn Str(s: Str) -> Val {
        let s = ManuallyDrop::new(s);
        // A text is encoded as a value holding it is: its words, and its count, move.
        Val { head: s.head, word: s.word, _rc: PhantomData }
    }
    #[inline]
    pub fn Array(a: Rc<Vec<Val>>) -> Val {
        Val { head: head(ARRAY, 0), word: addr(Rc::into_raw(a)), _rc: PhantomData }
    }
    #[inline]
    pub fn Map(m: Rc<ValMap>) -> Val {
        Val { head: head(MAP, 0), word: addr(Rc::into_raw(m)), _rc: PhantomData }
    }
}

impl Owned {
    /// Rhai's name of the type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Owned::Unit => "()",
            Owned::Bool(_) => "bool",
            Owned::Int(_) => "i64",
            Owned::Dec(_) => "decimal",
            Owned::Str(_) => "string",
            Owned::Array(_) => "array",
            Owned::Map(_) => "map",
        }
    }
}

impl Val {
    #[inline(always)]
    fn tag(&self) -> u8 {
        self.head.get() as u8
    }

    #[inline(always)]
    fn decimal(&self) -> Decimal {
        let (h, w) = (self.head.get(), self.word);
        let (lo, mid, hi) = (w as u32, (w >> 32) as u32, (h >> 32) as u32);
        let (negative, scale) = (h >> 31 & 1 != 0, (h >> 16) as u32 & 0xFF);
        // (`from_parts`, small enough to be inlined, where `Decimal::deserialize` is not.)
        let mut d = Decimal::from_parts(lo, mid, hi, negative, scale);
        if negative && lo | mid | hi == 0 {
            // `from_parts` makes a negative zero positive: kept as it was.
            d.set_sign_negative(true);
        }
        d
    }

    /// The address in `word` of an array's or map's `Rc` (what `Rc::into_raw` gave).
    #[inline(always)]
    fn rc_ptr<T>(&self) -> *const T {
        self.word as usize as *const T
    }

    /// The text a value of a text kind is.
    ///
    /// # Safety
    /// The tag is `STATIC`, `SHORT` or `SHARED`: such a value is a `Str` of the same
    /// layout (`#[repr(C)]`, same fields and encoding).
    #[inline(always)]
    unsafe fn text_unchecked(&self) -> &Str {
        debug_assert!(matches!(self.tag(), STATIC | SHORT | SHARED));
        &*(self as *const Val as *const Str)
    }

    /// The value's parts, borrowed: what a `match` looks at.
    #[inline(always)]
    pub fn view(&self) -> ValRef<'_> {
        // SAFETY (each arm): the words are as the constructor of the tag wrote them. A
        // text is a `Str` of the same layout (`#[repr(C)]`, same fields and encoding);
        // an array's or map's address is a live `Rc`'s (this value holds a count), so
        // the borrow lasts while `self` does.
        unsafe {
            match self.tag() {
                UNIT => ValRef::Unit,
                BOOL => ValRef::Bool(self.word != 0),
                INT => ValRef::Int(self.word as i64),
                DEC => ValRef::Dec(self.decimal()),
                STATIC | SHORT | SHARED => ValRef::Str(self.text_unchecked()),
                ARRAY => ValRef::Array(&*self.rc_ptr::<Vec<Val>>()),
                MAP => ValRef::Map(&*self.rc_ptr::<ValMap>()),
                _ => std::hint::unreachable_unchecked(),
            }
        }
    }

    /// The value's parts, owned (its count moves into the `Rc` or `Str`).
    #[inline]
    pub fn into_owned(self) -> Owned {
        let v = ManuallyDrop::new(self);
        // SAFETY: as in `view`; the reference `v` held moves into the result, and `v`
        // is not dropped.
        unsafe {
            match v.tag() {
                UNIT => Owned::Unit,
                BOOL => Owned::Bool(v.word != 0),
                INT => Owned::Int(v.word as i64),
                DEC => Owned::Dec(v.decimal()),
                STATIC | SHORT | SHARED => Owned::Str(Str { head: v.head, word: v.word, _rc: PhantomData }),
                ARRAY => Owned::Array(Rc::from_raw(v.rc_ptr())),
                MAP => Owned::Map(Rc::from_raw(v.rc_ptr())),
                _ => std::hint::unreachable_unchecked(),
            }
        }
    }

    /// The text, mutably (for [`unshare_str`]).
    pub fn str_mut(&mut self) -> Option<&mut Str> {
        match self.tag() {
            // SAFETY: a value holding a text is a `Str` of the same layout, and any `Str`
            // written through the borrow is a value holding a text.
            STATIC | SHORT | SHARED => Some(unsafe { &mut *(self as *mut Val as *mut Str) }),
            _ => None,
        }
    }

    /// An array's elements, mutably: copied first if the array is also held elsewhere
    /// (`Rc::make_mut`).
    #[inline]
    pub fn array_mut(&mut self) -> Option<&mut Vec<Val>> {
        // SAFETY: an array's `Rc` holds a `Vec<Val>`.
        unsafe { self.make_mut(ARRAY) }
    }

    /// A map, mutably: copied first if it is also held elsewhere (see [`Val::array_mut`]).
    #[inline]
    pub fn map_mut(&mut self) -> Option<&mut ValMap> {
        // SAFETY: a map's `Rc` holds a `ValMap`.
        unsafe { self.make_mut(MAP) }
    }

    /// `Rc::make_mut` on the container this value holds, if its tag is `tag`.
    ///
    /// # Safety
    /// A value of tag `tag` holds an `Rc<T>`.
    #[inline(always)]
    unsafe fn make_mut<T: Clone>(&mut self, tag: u8) -> Option<&mut T> {
        if self.tag() != tag {
            return None;
        }
        // The `Rc` this value holds, taken out for `make_mut` (which may replace it with
        // a copy, releasing this value's count of the original) and put back;
        // `ManuallyDrop` so that it is not released twice. The borrow is of the now
        // unique allocation this value holds, for as long as `self` is borrowed.
        let mut rc = ManuallyDrop::new(Rc::from_raw(self.rc_ptr::<T>()));
        let p: *mut T = Rc::make_mut(&mut rc);
        self.word = addr(Rc::into_raw(ManuallyDrop::into_inner(rc)));
        Some(&mut *p)
    }

    /// The count of an array, a map or a shared text (0 for the others).
    #[inline]
    pub fn strong_count(&self) -> usize {
        // SAFETY: the `Rc` this value holds, borrowed (not dropped: `ManuallyDrop`).
        unsafe {
            match self.tag() {
                ARRAY => Rc::strong_count(&ManuallyDrop::new(Rc::from_raw(self.rc_ptr::<Vec<Val>>()))),
                MAP => Rc::strong_count(&ManuallyDrop::new(Rc::from_raw(self.rc_ptr::<ValMap>()))),
                SHARED => self.text_unchecked().strong_count(),
                _ => 0,
            }
        }
    }

    /// Whether the value holds no count (unit, bool, integer, decimal, a static or short
    /// text): plain data.
    #[inline]
    fn is_plain(&self) -> bool {
        !matches!(self.tag(), SHARED | ARRAY | MAP)
    }
}

impl Drop for Val {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the reference this value holds, released once (a shared text by
        // `Str`'s own `drop`).
        unsafe {
            match self.tag() {
                SHARED => std::ptr::drop_in_place(self as *mut Val as *mut Str),
                ARRAY => drop(Rc::from_raw(self.rc_ptr::<Vec<Val>>())),
                MAP => drop(Rc::from_raw(self.rc_ptr::<ValMap>())),
                _ => {}
            }
        }
    }
}

/// The two words, with the count of a shared part raised.
impl Clone for Val {
    #[inline]
    fn clone(&self) -> Val {
        // SAFETY: the address is a live `Rc` (held by `self`); the copy below holds the
        // reference counted here, released when it drops.
        unsafe {
            match self.tag() {
                SHARED => Rc::increment_strong_count(self.text_unchecked().rc_ptr()),
                ARRAY => Rc::increment_strong_count(self.rc_ptr::<Vec<Val>>()),
                MAP => Rc::increment_strong_count(self.rc_ptr::<ValMap>()),
                _ => {}
            }
        }
        Val { head: self.head, word: self.word, _rc: PhantomData }
    }
}

impl Default for Val {
    #[inline]
    fn default() -> Val {
        Val::Unit
    }
}

impl fmt::Debug for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.view(), f)
    }
}

impl Val {
    pub fn str(s: &'static str) -> Val {
        Val::Str(Str::Static(s))
    }
    pub fn string(s: &str) -> Val {
        Val::Str(Str::new(s))
    }
    /// A date as rules see it: its `YYYY-MM-DD` text (kept in place: ten bytes).
    pub fn date(d: crate::date::Date) -> Val {
        Val::string(&crate::date::date_str(d, &mut [0; 10]))
    }
    pub fn map(m: ValMap) -> Val {
        Val::Map(Rc::new(m))
    }
    pub fn array(a: Vec<Val>) -> Val {
        Val::Array(Rc::new(a))
    }
    #[inline]
    pub fn is_unit(&self) -> bool {
        self.tag() == UNIT
    }
    /// Rhai's name of the type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.view() {
            ValRef::Unit => "()",
            ValRef::Bool(_) => "bool",
            ValRef::Int(_) => "i64",
            ValRef::Dec(_) => "decimal",
            ValRef::Str(_) => "string",
            ValRef::Array(_) => "array",
            ValRef::Map(_) => "map",
        }
    }
    /// Whether two values are of the same kind (a text however kept).
    #[inline]
    pub fn same_kind(&self, other: &Val) -> bool {
        let kind = |t: u8| if matches!(t, STATIC | SHORT | SHARED) { STATIC } else { t };
        kind(self.tag()) == kind(other.tag())
    }
    pub fn as_str(&self) -> Option<&str> {
        match self.view() {
            ValRef::Str(s) => Some(s.as_str()),
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
        match self.view() {
            ValRef::Unit => Dynamic::UNIT,
            ValRef::Bool(b) => Dynamic::from_bool(b),
            ValRef::Int(i) => Dynamic::from_int(i),
            ValRef::Dec(d) => Dynamic::from_decimal(d),
            ValRef::Str(s) => Dynamic::from(s.as_str().to_string()),
            ValRef::Array(a) => Dynamic::from_array(a.iter().map(Val::to_dynamic).collect()),
            ValRef::Map(m) => {
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
        match self.view() {
            ValRef::Unit => Value::Null,
            ValRef::Bool(b) => Value::Bool(b),
            ValRef::Int(i) => Value::from(i),
            ValRef::Dec(d) => Value::String(format2(d)),
            ValRef::Str(s) => Value::String(s.as_str().to_string()),
            ValRef::Array(a) => Value::Array(a.iter().map(Val::to_json).collect()),
            ValRef::Map(m) => Value::Object(m.iter().map(|(k, v)| (k.as_str().to_string(), v.to_json())).collect()),
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
        match self.view() {
            ValRef::Unit => Ok(()),
            ValRef::Bool(b) => write!(f, "{b}"),
            ValRef::Int(i) => write!(f, "{i}"),
            ValRef::Dec(d) => write!(f, "{d}"),
            ValRef::Str(s) => f.write_str(s),
            ValRef::Array(_) | ValRef::Map(_) => write!(f, "{}", self.to_dynamic()),
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
        v.is_plain().then_some(Plain(v))
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
        match v.view() {
            ValRef::Str(s) if matches!(s.kind(), StrKind::Shared(_)) => Frozen::Text(Box::from(s.as_str())),
            ValRef::Array(a) => Frozen::Array(a.iter().map(Frozen::new).collect()),
            ValRef::Map(m) => Frozen::Map(m.iter().map(|(k, v)| (Frozen::new(&Val::Str(k.clone())), Frozen::new(v))).collect()),
            _ => Frozen::Plain(Plain::new(v.clone()).expect("the other values are plain")),
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
                        let Owned::Str(k) = k.thaw().into_owned() else { unreachable!("map keys are texts") };
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
    if let Some(s) = v.str_mut() {
        unshare_str(s);
    } else if let Some(a) = v.array_mut() {
        a.iter_mut().for_each(unshare);
    } else if let Some(m) = v.map_mut() {
        m.unshare();
    }
}

/// [`unshare`] of a string.
pub fn unshare_str(s: &mut Str) {
    if s.strong_count() > 1 {
        *s = Str::new(s.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether every count reachable from `v` is one.
    fn unique(v: &Val) -> bool {
        match v.view() {
            ValRef::Str(_) => v.strong_count() <= 1,
            ValRef::Array(a) => v.strong_count() == 1 && a.iter().all(unique),
            ValRef::Map(m) => v.strong_count() == 1 && m.iter().all(|(k, v)| k.strong_count() <= 1 && unique(v)),
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
        let ValRef::Map(m) = original.view() else { unreachable!() };
        assert_eq!(m.get("a key longer than twenty-two bytes").map(|x| x.to_string()), Some("123.45".to_string()));
    }

    #[test]
    fn unshare_leaves_a_value_that_owns_its_parts_as_it_is() {
        let mut v = Val::array(vec![Val::string("a text longer than twenty-two bytes"), Val::map(ValMap::from_sorted(vec![(Str::Static("k"), Val::Int(1))]))]);
        let before = match v.view() {
            ValRef::Array(a) => a as *const Vec<Val>,
            _ => unreachable!(),
        };
        unshare(&mut v);
        let ValRef::Array(a) = v.view() else { unreachable!() };
        assert_eq!(a as *const Vec<Val>, before, "nothing copied");
    }

    #[test]
    fn frozen_values_thaw_into_fresh_equal_values() {
        let v = sample();
        let frozen = Frozen::new(&v);
        let (a, b) = (frozen.thaw(), frozen.thaw());
        assert_eq!(a.to_json(), v.to_json());
        assert!(unique(&a) && unique(&b), "each thaw builds its own parts");
        let (ValRef::Map(x), ValRef::Map(y)) = (a.view(), b.view()) else { unreachable!() };
        assert!(!std::ptr::eq(x, y));
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
        for text in ["", "m1", "2025-03-01", "一二三四", "abcdefghijklmn", "é", "x\u{1F600}y"] {
            let s = Str::new(text);
            assert!(matches!(s.kind(), StrKind::Short(_)), "{text:?} in place");
            assert_eq!(s.as_str(), text);
            assert_eq!(Str::from(text.to_string()).as_str(), text);
        }
        for text in ["abcdefghijklmno", "一二三四五"] {
            let s = Str::new(text);
            assert!(matches!(s.kind(), StrKind::Shared(_)), "{text:?} shared: over {} bytes", Str::SHORT_MAX);
            assert_eq!(s.as_str(), text);
        }
        assert_eq!(std::mem::size_of::<Str>(), 16);
        assert_eq!(std::mem::size_of::<Val>(), 16);
        assert_eq!(std::mem::size_of::<Option<Val>>(), 16);
    }

    #[test]
    fn decimals_come_back_bit_for_bit() {
        let mut cases = vec![
            Decimal::ZERO,
            -Decimal::ZERO,
            Decimal::ONE,
            Decimal::NEGATIVE_ONE,
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(12345, 2),
            Decimal::new(-1, 28),
            Decimal::from_parts(u32::MAX, u32::MAX, u32::MAX, true, 28),
            Decimal::from_parts(0, 0, 0, false, 28),
            Decimal::from_parts(1, 2, 3, false, 7),
        ];
        let mut neg_zero_scaled = Decimal::new(0, 5);
        neg_zero_scaled.set_sign_negative(true);
        cases.push(neg_zero_scaled);
        for d in cases {
            let v = Val::Dec(d);
            let ValRef::Dec(back) = v.view() else { panic!("a decimal") };
            assert_eq!(back.serialize(), d.serialize(), "{d:?}");
            let Owned::Dec(owned) = v.clone().into_owned() else { panic!("a decimal") };
            assert_eq!(owned.serialize(), d.serialize());
            assert_eq!(v.to_string(), d.to_string());
        }
    }

    #[test]
    fn values_read_back_as_made_and_counts_follow_clones() {
        assert!(matches!(Val::Unit.view(), ValRef::Unit));
        assert!(matches!(Val::Bool(true).view(), ValRef::Bool(true)));
        assert!(matches!(Val::Bool(false).view(), ValRef::Bool(false)));
        for i in [0, 1, -1, i64::MIN, i64::MAX] {
            assert!(matches!(Val::Int(i).view(), ValRef::Int(j) if j == i));
        }
        let long = Val::string("a text longer than fourteen bytes");
        assert_eq!(long.strong_count(), 1);
        let copies = vec![long.clone(), long.clone()];
        assert_eq!(long.strong_count(), 3);
        drop(copies);
        assert_eq!(long.strong_count(), 1);
        let Owned::Str(s) = long.into_owned() else { panic!("a text") };
        assert_eq!(s.as_str(), "a text longer than fourteen bytes");
        assert_eq!(s.strong_count(), 1);

        let mut a = Val::array(vec![Val::Int(1), Val::string("x")]);
        let b = a.clone();
        assert_eq!(a.strong_count(), 2);
        a.array_mut().expect("an array").push(Val::Int(2));
        assert_eq!((a.strong_count(), b.strong_count()), (1, 1), "copied on write");
        assert_eq!(a.to_json(), serde_json::json!([1, "x", 2]));
        assert_eq!(b.to_json(), serde_json::json!([1, "x"]));
        assert!(a.map_mut().is_none() && a.str_mut().is_none());

        let mut m = Val::map(ValMap::default());
        m.map_mut().expect("a map").insert(Str::Static("k"), a);
        assert_eq!(m.to_json(), serde_json::json!({ "k": [1, "x", 2] }));
        let Owned::Map(rc) = m.into_owned() else { panic!("a map") };
        assert_eq!(Rc::strong_count(&rc), 1);
    }

    #[test]
    fn equal_texts_are_equal_however_they_are_kept() {
        let long = "a text that is longer than twenty-two bytes";
        assert_eq!(Str::new(long), Str::Static(intern(long)));
        assert_eq!(Str::new("full"), Str::Static("full"));
        assert!(Str::new("a") < Str::Static("b"));
    }
}
