//! JSON → Python objects, money as `decimal.Decimal`.
//!
//! The assessment is walked field by field, giving the keys (in their order) of its JSON
//! form, the very shape the CLI prints. Money fields (program amounts, totals, the
//! derived figures, a trace result's amount, the costs and changes of a comparison) are
//! `Decimal`s; in the free-form parts a program writes (a reason's `values`, a program's
//! `members` and `details`, a trace step's `value`) every decimal string — the core
//! writes a Rhai decimal as text with two places — is a `Decimal` too. Integers stay
//! `int`; no value ever passes through `float`.
//!
//! Every dict and list made here is taken out of the cyclic collector's sight once it
//! is whole ([`untracked`]): the collector would otherwise walk all of a result's
//! containers at each collection while the result lives (the first comes with the
//! caller's next few hundred allocations), which cost more than a third of the call.

use crate::input::decimal_type;
use jiuzhu_core::compare::Comparison;
use jiuzhu_core::money::{format2, Money};
use jiuzhu_core::render::{Decision, Sink, Text};
use jiuzhu_core::{Decimal, TraceEntry};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use serde_json::Value;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A small, fast hash for the caches below (short texts and decimals of one process;
/// no adversary can choose them to collide in a way that matters: a slow lookup at
/// worst).
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    /// Only the length and the first and last 16 bytes: the texts hashed here are short
    /// words or long sentences of the pack (a legal basis, a message), and hashing all
    /// of a long one cost more than the rest of its lookup. Texts alike at both ends
    /// share a hash (a longer probe, still an exact comparison).
    fn write(&mut self, bytes: &[u8]) {
        let n = bytes.len();
        self.write_u64(n as u64);
        let word = |b: &[u8]| {
            let mut w = [0u8; 8];
            w[..b.len()].copy_from_slice(b);
            u64::from_le_bytes(w)
        };
        if n <= 16 {
            self.write_u64(word(&bytes[..n.min(8)]));
            if n > 8 {
                self.write_u64(word(&bytes[8..]));
            }
        } else {
            let ends = [&bytes[..8], &bytes[8..16], &bytes[n - 16..n - 8], &bytes[n - 8..]];
            for e in ends {
                self.write_u64(word(e));
            }
        }
    }
    fn write_u8(&mut self, x: u8) {
        self.write_u64(x as u64);
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u128(&mut self, x: u128) {
        self.write_u64(x as u64);
        self.write_u64((x >> 64) as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// The containers made here: types whose objects the collector tracks (the only ones
/// [`untracked`] may be given; an object of any other type has no collector header).
pub trait Container {}
impl Container for PyDict {}
impl Container for PyList {}

/// `c`, whole, no longer tracked by Python's cyclic garbage collector: no collection
/// walks it again.
///
/// Why this is sound. The collector only frees what it finds in a cycle among tracked
/// objects; a reference held by an untracked object counts as one from outside, so what
/// such an object holds is never freed while it holds it: untracking cannot free anything
/// early, whatever is done with the object later. Its one risk is a leak: a reference
/// cycle that goes through an untracked container is never found. Ours hold none when
/// made: their values are texts, numbers, `Decimal`s, `None` and containers made here,
/// each placed once (a tree). A caller may build one afterwards. A dict into which a
/// container is put is tracked again (CPython's `MAINTAIN_TRACKING`, the rule that lets
/// a new dict start untracked), so `d["x"] = {"back": d}` is still collected; a list is
/// never tracked again, and a dict that is only passed through is not either: a cycle
/// made by `a["programs"]["medical"]["up"] = a` or by `reasons.append(reasons)` leaks
/// that result's objects. Making a back-reference into a result is rare, and what it
/// costs is one result's memory; the walks cost every caller, at every call.
///
/// Lists too: an assessment has about 19 dicts the collector tracks (those holding a
/// container; CPython already leaves the others alone) and 8 lists (a list is always
/// tracked). Left tracked, the lists alone still cost a full collection 2.4–4.7 µs a
/// household (10,000 households, Python 3.11; the dicts and lists before, 14–20). The
/// leak a list adds over a dict (a cycle whose only result container is that list,
/// closed by appending to it) is of the same rare kind.
///
/// The outer list of `evaluate_many` stays tracked (a caller appends to it): only
/// what is made here, and given to no one yet, is untracked.
pub fn untracked<T: Container>(c: Bound<'_, T>) -> Bound<'_, T> {
    // SAFETY: a live object (the Bound holds a reference) with the GIL held; untracking
    // an untracked object (a dict of plain values starts so) is a no-op.
    unsafe { pyo3::ffi::PyObject_GC_UnTrack(c.as_ptr().cast()) };
    c
}

/// A `Decimal` just made, untracked if its type is one the collector tracks (from
/// Python 3.13 on, when `decimal`'s types became heap types: 8 of them an assessment,
/// walked by every collection as the containers were). A `Decimal` holds nothing but
/// its type and is immutable: it can never be in a cycle, so untracking it cannot even
/// leak.
fn settled(d: Bound<'_, PyAny>) -> Bound<'_, PyAny> {
    // SAFETY: a live object with the GIL held; its type's flags say whether it has the
    // collector's header, which untracking touches (a `Decimal` of 3.12 has none).
    unsafe {
        let t = pyo3::ffi::Py_TYPE(d.as_ptr());
        if pyo3::ffi::PyType_GetFlags(t) & pyo3::ffi::Py_TPFLAGS_HAVE_GC != 0 {
            pyo3::ffi::PyObject_GC_UnTrack(d.as_ptr().cast());
        }
    }
    d
}

/// The largest scale [`Out::figure`] makes (the core writes two places; a script's
/// figure may have more).
const MAX_SCALE: usize = 12;

/// The digits (as one integer) and the scale of a decimal text `-?digits.digits` of at
/// most 18 digits; `None` for anything else, and for a negative zero (`-0.00` is a
/// `Decimal` of its own, which a product of `0` cannot give).
pub fn digits_and_scale(s: &str) -> Option<(i64, usize)> {
    let (neg, t) = match s.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, s),
    };
    let (a, b) = t.split_once('.')?;
    if a.is_empty() || b.is_empty() || a.len() + b.len() > 18 {
        return None;
    }
    let mut m: i64 = 0;
    for c in a.bytes().chain(b.bytes()) {
        if !c.is_ascii_digit() {
            return None;
        }
        m = m * 10 + i64::from(c - b'0');
    }
    if neg && m == 0 {
        return None;
    }
    Some((if neg { -m } else { m }, b.len()))
}

/// Whether products of [`Out::figure`] are exact in the current decimal context: a
/// precision of 19 digits or more and exponent limits well beyond ±(19 + [`MAX_SCALE`]),
/// with no clamping to a small `Emax` (see [`Out::figure`]).
fn context_is_exact(decimal: &Bound<'_, PyAny>) -> PyResult<bool> {
    let module = decimal.py().import(intern!(decimal.py(), "decimal"))?;
    let ctx = module.getattr(intern!(decimal.py(), "getcontext"))?.call0()?;
    let int = |name: &str| -> PyResult<i64> { ctx.getattr(name)?.extract() };
    let (prec, emin, emax) = (int("prec")?, int("Emin")?, int("Emax")?);
    let room = 19 + MAX_SCALE as i64;
    Ok(prec >= 19 && emin <= -room && emax >= prec + room)
}

/// `-?digits.digits` (the form the core gives every decimal it writes).
pub fn is_decimal_text(s: &str) -> bool {
    let t = s.strip_prefix('-').unwrap_or(s);
    match t.split_once('.') {
        Some((a, b)) => !a.is_empty() && !b.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit()),
        None => false,
    }
}

/// The Python objects of one conversion (one call), with the caches that let repeated
/// values share one object ([`Tables`], which outlive the call).
pub struct Out<'py> {
    py: Python<'py>,
    decimal: Bound<'py, PyAny>,
    /// Whether the caller's decimal context multiplies figures exactly (see
    /// [`Out::figure`]); asked once per call, when the first figure is made.
    exact: Option<bool>,
    t: Tables,
}

/// The caches of [`Out`]: Python objects already made, held without the GIL's lifetime so
/// that an engine keeps them from one call to the next (`Core`'s `tables`). A call of
/// `evaluate` made every key, word and legal basis of an assessment anew, a third of its
/// instructions; with the tables kept, one household costs about what it does inside
/// `evaluate_many`. Everything held is immutable (`str`, `Decimal`), so sharing it
/// between results of different calls is as safe as within one. No household's own text
/// is kept (its id, member ids, what scripts report: [`Out::data_text`] shares those
/// within one call); figures are (amounts without their household).
pub struct Tables {
    /// `Decimal("1")`, `Decimal("0.1")`, `Decimal("0.01")`…, by scale, made when first
    /// needed: a figure is the unit of its scale times its digits (see [`Out::figure`]).
    units: Vec<Option<Py<PyAny>>>,
    /// Decimals already made (they are immutable, so one object may serve many places:
    /// "0.00" alone is most of an assessment's figures).
    made: FxMap<String, Py<PyAny>>,
    /// Money already made, by its cents (the mantissa at two places, which alone gives
    /// its text: a negative zero is written "0.00"). Direct-mapped: a slot holds the last
    /// amount that fell on it. An amount mostly repeats within one household (an income
    /// is also a total, a per-capita figure…) and a few (0.00, a standard) in all, so a
    /// small table that stays in the cache serves nearly as well as a map of every
    /// amount, and faster. Each slot owns a reference, so what it holds lives whatever
    /// happens to the outputs.
    money_made: Vec<Option<(i64, Py<PyAny>)>>,
    /// The pack's and the output's words already made (keys, codes, legal bases, the
    /// pack's digest, statuses, category words): see [`Out::text`].
    words: TextCache,
    /// The households' texts of the call under way ([`Out::data_text`]; emptied when it
    /// ends, its table kept).
    data: TextCache,
    /// The UTF-16 code units of the last non-ASCII text made (see [`Out::new_text`]).
    units16: Vec<u16>,
    /// The shape's keys made so far, in the order first met: never removed, so that a
    /// sink can refer to one by its position (without a reference count to keep).
    key_strs: Vec<Py<PyString>>,
    /// Where each key is in `key_strs`, by the address and length of the core's
    /// `'static` text (a direct-mapped table; address 0: an empty slot).
    key_slots: Box<[(usize, usize, u32)]>,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            units: Vec::new(),
            made: FxMap::default(),
            money_made: (0..MONEY_SLOTS).map(|_| None).collect(),
            words: TextCache::default(),
            data: TextCache::default(),
            units16: Vec::new(),
            key_strs: Vec::new(),
            key_slots: vec![(0, 0, 0); KEY_SLOTS].into_boxed_slice(),
        }
    }
}

/// Texts already made: those of up to [`SHORT`] bytes (most words and keys) first in a
/// direct-mapped table, compared in place as three words (no hashing of a String's heap
/// bytes, no call to memcmp); longer ones in a map.
pub struct TextCache {
    short: Box<[ShortSlot]>,
    long: FxMap<String, Py<PyString>>,
}

impl Default for TextCache {
    fn default() -> Self {
        TextCache { short: (0..SHORT_SLOTS).map(|_| None).collect(), long: FxMap::default() }
    }
}

impl TextCache {
    fn get<'py>(&mut self, py: Python<'py>, s: &str) -> Bound<'py, PyString> {
        if s.len() <= SHORT {
            let w = short_words(s.as_bytes());
            let slot = short_slot(&w, s.len());
            if let Some((b, n, t)) = &self.short[slot] {
                if *n as usize == s.len() && *b == w {
                    return t.bind(py).clone();
                }
            }
            let t = self.in_map(py, s);
            self.short[slot] = Some((w, s.len() as u8, t.clone().unbind()));
            return t;
        }
        self.in_map(py, s)
    }

    /// [`TextCache::get`] for texts kept only for one call: a longer text is made anew,
    /// and the map holds only short texts whose slot another took. A text met for the
    /// first time (most of them, in a call of one household) then costs no entry in the
    /// map, whose filling cost more than it saved there; in a call of many households,
    /// those that share a slot are still made once.
    fn get_short<'py>(&mut self, py: Python<'py>, s: &str) -> Bound<'py, PyString> {
        if s.len() > SHORT {
            return PyString::new(py, s);
        }
        let w = short_words(s.as_bytes());
        let slot = short_slot(&w, s.len());
        match &self.short[slot] {
            Some((b, n, t)) if *n as usize == s.len() && *b == w => t.bind(py).clone(),
            Some(_) => self.in_map(py, s),
            None => {
                let t = PyString::new(py, s);
                self.short[slot] = Some((w, s.len() as u8, t.clone().unbind()));
                t
            }
        }
    }

    /// Forgets every text (the tables' memory is kept).
    fn clear(&mut self) {
        for slot in self.short.iter_mut().filter(|s| s.is_some()) {
            *slot = None;
        }
        self.long.clear();
    }

    fn in_map<'py>(&mut self, py: Python<'py>, s: &str) -> Bound<'py, PyString> {
        if let Some(t) = self.long.get(s) {
            return t.bind(py).clone();
        }
        let t = PyString::new(py, s);
        keep(&mut self.long, s.to_string(), t.clone().unbind());
        t
    }
}

/// Slots of the key table (a power of two; the shape has about forty keys).
const KEY_SLOTS: usize = 256;

/// How many distinct texts (or decimal texts) a map keeps; when full it starts again
/// (the values that repeat come back at once) rather than stop keeping new ones.
const MADE_MAX: usize = 1 << 16;

/// A slot of the short-text table: the text's words (see [`short_words`]), its length,
/// its str.
type ShortSlot = Option<([u64; 3], u8, Py<PyString>)>;

/// The longest text of the short-text table, and its slots (a power of two).
const SHORT: usize = 24;
const SHORT_SLOTS: usize = 512;

/// Slots of the money cache (a power of two): 16 KiB, which stay in the L1 cache (a
/// larger table missed it on most lookups, for few more hits).
const MONEY_SLOTS: usize = 1024;

/// Puts `v` in a bounded cache (see [`MADE_MAX`]).
fn keep<K: std::hash::Hash + Eq, V>(map: &mut FxMap<K, V>, k: K, v: V) {
    if map.len() >= MADE_MAX {
        map.clear();
    }
    map.insert(k, v);
}

/// The bytes of a text of up to [`SHORT`] bytes as three words, read where they are
/// (copying them into a zeroed buffer first cost two library calls). Shorter texts are
/// read in overlapping pieces; with the length, the words give back every byte, so two
/// texts of one length are equal exactly when their words are.
fn short_words(b: &[u8]) -> [u64; 3] {
    let n = b.len();
    let w8 = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
    let w4 = |i: usize| u64::from(u32::from_le_bytes(b[i..i + 4].try_into().unwrap_or_default()));
    match n {
        0 => [0; 3],
        1..=3 => [u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16, 0, 0],
        4..=7 => [w4(0) | w4(n - 4) << 32, 0, 0],
        8..=16 => [w8(0), w8(n - 8), 0],
        _ => [w8(0), w8(8), w8(n - 8)],
    }
}

/// The slot of a short text's words in a [`TextCache`].
fn short_slot(w: &[u64; 3], len: usize) -> usize {
    let h = (w[0] ^ w[1].rotate_left(21) ^ w[2].rotate_left(42) ^ len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> (64 - SHORT_SLOTS.trailing_zeros())) as usize
}

/// `s` as UTF-16 code units in `out`, if every character is in the Basic Multilingual
/// Plane (one unit each); `false` (and `out` unspecified) at the first that is not.
#[cfg_attr(not(unix), allow(dead_code))]
fn bmp_units(s: &str, out: &mut Vec<u16>) -> bool {
    let b = s.as_bytes();
    // At most one unit a byte; filled in place, then cut to the units written.
    out.clear();
    out.resize(b.len(), 0);
    let (mut i, mut n) = (0, 0);
    while i < b.len() {
        let c = b[i];
        let (unit, width) = if c < 0x80 {
            (u16::from(c), 1)
        } else if c < 0xE0 {
            ((u16::from(c & 0x1F) << 6) | u16::from(b[i + 1] & 0x3F), 2)
        } else if c < 0xF0 {
            ((u16::from(c & 0x0F) << 12) | (u16::from(b[i + 1] & 0x3F) << 6) | u16::from(b[i + 2] & 0x3F), 3)
        } else {
            return false; // four bytes: beyond the BMP
        };
        out[n] = unit;
        n += 1;
        i += width;
    }
    out.truncate(n);
    true
}

/// The text format2 writes for these cents (`-1234.50`), in `buf`. In 64 bits: a
/// division of `i128` is a library call, several times the cost.
fn cents_text(cents: i64, buf: &mut [u8; 24]) -> &str {
    let mut n = cents.unsigned_abs();
    let mut i = buf.len();
    for k in 0.. {
        if k == 2 {
            i -= 1;
            buf[i] = b'.';
        }
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 && k >= 2 {
            break;
        }
    }
    if cents < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    std::str::from_utf8(&buf[i..]).unwrap_or_default()
}

impl<'py> Out<'py> {
    /// An `Out` with the tables of calls before.
    pub fn with(py: Python<'py>, t: Tables) -> PyResult<Self> {
        Ok(Out { py, decimal: decimal_type(py)?.clone().into_any(), exact: None, t })
    }

    /// The tables, for the next call, without this call's household texts.
    pub fn into_tables(mut self) -> Tables {
        self.t.data.clear();
        self.t
    }

    /// The position in `key_strs` of one of the shape's keys. A `'static` text is never
    /// freed, so the same address and length are the same text: found without hashing
    /// or comparing it.
    pub fn key(&mut self, k: &'static str) -> u32 {
        let at = k.as_ptr() as usize;
        let slot = ((at as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - KEY_SLOTS.trailing_zeros())) as usize;
        let (a, n, i) = self.t.key_slots[slot];
        if a == at && n == k.len() {
            return i;
        }
        // A key whose slot another took: found again among those made (a short scan, on
        // a miss only), so that the table of keys does not grow with every collision.
        let s = self.text(k);
        let i = match self.t.key_strs.iter().position(|x| x.is(&s)) {
            Some(i) => i as u32,
            None => {
                self.t.key_strs.push(s.unbind());
                self.t.key_strs.len() as u32 - 1
            }
        };
        self.t.key_slots[slot] = (at, k.len(), i);
        i
    }

    /// A dict of these keys and values, in their order (a key given twice keeps its first
    /// place and takes its last value, as one insert after another does).
    pub fn dict_of(&self, keys: &[Key<'py>], vals: &[Bound<'py, PyAny>]) -> PyResult<Bound<'py, PyDict>> {
        if keys.len() != vals.len() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err("a value without its key"));
        }
        let d = PyDict::new(self.py);
        for (k, v) in keys.iter().zip(vals) {
            let k = match k {
                Key::Shape(i) => self.t.key_strs[*i as usize].bind(self.py),
                Key::Data(s) => s,
            };
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// A Python str for a word of the pack or the output (a key, a code, a status, a
    /// legal basis…), likely to repeat: one object serves every place, in this call and
    /// the next ([`Tables`]).
    pub fn text(&mut self, s: &str) -> Bound<'py, PyString> {
        self.t.words.get(self.py, s)
    }

    /// A Python str for a text of the households (a member id, a text a script
    /// reported, a key of its maps): shared within this call only, so that no
    /// household's identifiers stay in the engine's tables once the call returns.
    pub fn data_text(&mut self, s: &str) -> Bound<'py, PyString> {
        self.t.data.get_short(self.py, s)
    }

    /// A new Python str. A non-ASCII text (a message with its figures: Chinese and
    /// digits) is given to Python as UTF-16 code units of the Basic Multilingual Plane
    /// (what CPython keeps such a text as), decoded here from UTF-8 in one loop; Python
    /// then finds the widest unit and copies them. Its own UTF-8 decoder took several
    /// times as long on such mixed text, and code points (`PyUnicode_FromWideChar`,
    /// the way before) cost a four-byte copy and a second narrowing loop. Not on
    /// Windows, whose Python does not export the function to an abi3 module: there,
    /// Python's decoder.
    pub fn new_text(&mut self, s: &str) -> PyResult<Bound<'py, PyString>> {
        if s.is_ascii() {
            return Ok(PyString::new(self.py, s));
        }
        #[cfg(unix)]
        if bmp_units(s, &mut self.t.units16) {
            extern "C" {
                // cpython/unicodeobject.h, 3.3 on; not in the limited API, but exported
                // by every CPython on Linux and macOS (as `input::text_of`'s function).
                fn PyUnicode_FromKindAndData(kind: std::ffi::c_int, buffer: *const std::ffi::c_void, size: pyo3::ffi::Py_ssize_t) -> *mut pyo3::ffi::PyObject;
            }
            const PYUNICODE_2BYTE_KIND: std::ffi::c_int = 2;
            let units = &self.t.units16;
            // SAFETY: `units` holds `units.len()` UTF-16 code units of the BMP, none a
            // surrogate (they come from a &str); the new reference is owned (or null
            // with the error set).
            unsafe {
                let p = PyUnicode_FromKindAndData(PYUNICODE_2BYTE_KIND, units.as_ptr().cast(), units.len() as pyo3::ffi::Py_ssize_t);
                return Ok(Bound::from_owned_ptr_or_err(self.py, p)?.cast_into_unchecked());
            }
        }
        // A character beyond the BMP (an emoji in an id: rare): Python's UTF-8 decoder.
        Ok(PyString::new(self.py, s))
    }

    pub fn decimal(&mut self, text: &str) -> PyResult<Bound<'py, PyAny>> {
        if let Some(d) = self.t.made.get(text) {
            return Ok(d.bind(self.py).clone());
        }
        let d = match digits_and_scale(text) {
            Some((m, k)) => self.figure(m, k)?,
            None => None,
        };
        let d = match d {
            Some(d) => d,
            None => settled(self.decimal.call1((text,))?),
        };
        keep(&mut self.t.made, text.to_string(), d.clone().unbind());
        Ok(d)
    }

    /// `Decimal` of `digits × 10^-scale`, as the product of the scale's unit (a
    /// `Decimal` kept, `0.01` for money) and the digits as a Python `int`; `None` where
    /// the caller's decimal context might not give it exactly (then the text is parsed).
    ///
    /// Why. `Decimal("1234.50")` goes through the type's call: an argument tuple, the
    /// keyword parser, an ASCII copy of the text and the text parser, about 1,250
    /// instructions (callgrind, Python 3.11) and half the time of the conversion's
    /// `Decimal`s; a product of a `Decimal` and an `int` is one number-protocol call.
    /// Both give the same object: coefficient `digits`, exponent `-scale` (the product's
    /// exponent is the sum of the factors'), so `str()` and `repr()` are the same text.
    ///
    /// A product is computed in the thread's current context, while the constructor is
    /// exact in any context; so the product is used only when that context cannot round
    /// or clamp it: a precision of at least 19 digits (every `i64`), and exponent limits
    /// far from these figures. Python's own default (28 digits, ±999,999) qualifies;
    /// `BasicContext` (9 digits) does not. Nothing runs Python code between the check
    /// and the products of one call (the GIL is held throughout the conversion).
    pub fn figure(&mut self, digits: i64, scale: usize) -> PyResult<Option<Bound<'py, PyAny>>> {
        if scale > MAX_SCALE {
            return Ok(None);
        }
        let exact = match self.exact {
            Some(e) => e,
            None => {
                let e = context_is_exact(&self.decimal)?;
                self.exact = Some(e);
                e
            }
        };
        if !exact {
            return Ok(None);
        }
        if self.t.units.len() <= scale {
            self.t.units.resize_with(scale + 1, || None);
        }
        let unit = match &self.t.units[scale] {
            Some(u) => u,
            None => {
                let text = if scale == 0 { "1".to_string() } else { format!("0.{}1", "0".repeat(scale - 1)) };
                let u = self.decimal.call1((text,))?;
                self.t.units[scale].insert(u.unbind())
            }
        };
        Ok(Some(settled(unit.bind(self.py).mul(digits)?)))
    }

    pub fn string(&mut self, s: &str) -> PyResult<Bound<'py, PyAny>> {
        if is_decimal_text(s) {
            self.decimal(s)
        } else {
            Ok(self.data_text(s).into_any())
        }
    }

    /// A free-form JSON value (what a program writes): decimal strings become `Decimal`s.
    pub fn value(&mut self, v: &Value) -> PyResult<Bound<'py, PyAny>> {
        Ok(match v {
            Value::Null => self.py.None().into_bound(self.py),
            Value::Bool(b) => b.into_pyobject(self.py)?.to_owned().into_any(),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    i.into_pyobject(self.py)?.into_any()
                } else if let Some(u) = n.as_u64() {
                    u.into_pyobject(self.py)?.into_any()
                } else {
                    let text = n.to_string();
                    if text.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
                        self.py.import("builtins")?.getattr("int")?.call1((text,))?
                    } else {
                        self.decimal(&text)?
                    }
                }
            }
            Value::String(s) => self.string(s)?,
            Value::Array(items) => {
                let list = PyList::empty(self.py);
                for item in items {
                    list.append(self.value(item)?)?;
                }
                untracked(list).into_any()
            }
            Value::Object(map) => {
                let dict = PyDict::new(self.py);
                for (k, item) in map {
                    dict.set_item(self.data_text(k), self.value(item)?)?;
                }
                untracked(dict).into_any()
            }
        })
    }

    pub fn dict(&self) -> Bound<'py, PyDict> {
        PyDict::new(self.py)
    }

    /// A money figure as a Decimal (one object for an amount that repeats).
    pub fn money(&mut self, m: &Money) -> PyResult<Bound<'py, PyAny>> {
        // The cents of round2: two places or fewer (nearly every figure) need no rounding.
        let r = if m.0.scale() <= 2 { m.0 } else { jiuzhu_core::money::round2(m.0) };
        let cents = r.mantissa() * [100, 10, 1][r.scale().min(2) as usize];
        // Beyond 64 bits of cents (92 quadrillion yuan): format2's own text.
        let Ok(key) = i64::try_from(cents) else { return self.decimal(&format2(m.0)) };
        let slot = ((key as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - MONEY_SLOTS.trailing_zeros())) as usize;
        if let Some((c, d)) = &self.t.money_made[slot] {
            if *c == key {
                return Ok(d.bind(self.py).clone());
            }
        }
        let d = match self.figure(key, 2)? {
            Some(d) => d,
            None => settled(self.decimal.call1((PyString::new(self.py, cents_text(key, &mut [0; 24])),))?),
        };
        self.t.money_made[slot] = Some((key, d.clone().unbind()));
        Ok(d)
    }

    pub fn trace_entry(&mut self, e: &TraceEntry) -> PyResult<Bound<'py, PyDict>> {
        let d = self.dict();
        match e {
            TraceEntry::Parameter { program, name, region, value, from, source } => {
                d.set_item(intern!(self.py, "kind"), "parameter")?;
                if let Some(p) = program {
                    d.set_item(intern!(self.py, "program"), p)?;
                }
                d.set_item(intern!(self.py, "name"), name)?;
                d.set_item(intern!(self.py, "region"), region)?;
                // The parameter's value as the pack states it (a text: a number, a list…).
                d.set_item(intern!(self.py, "value"), value)?;
                d.set_item(intern!(self.py, "from"), from)?;
                d.set_item(intern!(self.py, "source"), source)?;
            }
            TraceEntry::Step { program, label, value } => {
                d.set_item(intern!(self.py, "kind"), "step")?;
                d.set_item(intern!(self.py, "program"), program)?;
                d.set_item(intern!(self.py, "label"), label)?;
                d.set_item(intern!(self.py, "value"), self.value(value)?)?;
            }
            TraceEntry::Result { program, status, category, amount } => {
                d.set_item(intern!(self.py, "kind"), "result")?;
                d.set_item(intern!(self.py, "program"), program)?;
                d.set_item(intern!(self.py, "status"), *status)?;
                d.set_item(intern!(self.py, "category"), category)?;
                d.set_item(intern!(self.py, "amount"), self.money(amount)?)?;
            }
        }
        Ok(untracked(d))
    }

    /// A comparison as a dict with the shape of `jiuzhu compare`'s JSON: counts `int`,
    /// money `Decimal`, programs in the comparison's order.
    pub fn comparison(&mut self, c: &Comparison) -> PyResult<Bound<'py, PyDict>> {
        let d = self.dict();
        d.set_item(intern!(self.py, "households"), c.households)?;
        d.set_item(intern!(self.py, "errors"), c.errors)?;
        let programs = self.dict();
        for (id, p) in &c.programs {
            let pd = self.dict();
            let recipients = self.dict();
            recipients.set_item(intern!(self.py, "baseline"), p.recipients.baseline)?;
            recipients.set_item(intern!(self.py, "reform"), p.recipients.reform)?;
            pd.set_item(intern!(self.py, "recipients"), untracked(recipients))?;
            let cost = self.dict();
            cost.set_item(intern!(self.py, "baseline"), self.money(&p.cost.baseline)?)?;
            cost.set_item(intern!(self.py, "reform"), self.money(&p.cost.reform)?)?;
            pd.set_item(intern!(self.py, "cost"), untracked(cost))?;
            pd.set_item(intern!(self.py, "gainers"), p.gainers)?;
            pd.set_item(intern!(self.py, "losers"), p.losers)?;
            pd.set_item(intern!(self.py, "unchanged"), p.unchanged)?;
            programs.set_item(id, untracked(pd))?;
        }
        d.set_item(intern!(self.py, "programs"), untracked(programs))?;
        let top = PyList::empty(self.py);
        for ch in &c.top_changes {
            let cd = self.dict();
            cd.set_item(intern!(self.py, "household_id"), &ch.household_id)?;
            cd.set_item(intern!(self.py, "program"), &ch.program)?;
            cd.set_item(intern!(self.py, "baseline"), self.money(&ch.baseline)?)?;
            cd.set_item(intern!(self.py, "reform"), self.money(&ch.reform)?)?;
            cd.set_item(intern!(self.py, "change"), self.money(&ch.change)?)?;
            top.append(untracked(cd))?;
        }
        d.set_item(intern!(self.py, "top_changes"), untracked(top))?;
        Ok(untracked(d))
    }
}

/// An assessment's dict built from the core's rendering events ([`Decision::emit`]): the
/// keys, their order and their omissions those of its JSON (`jiuzhu evaluate`), money as
/// `Decimal`, a script's decimal-looking texts as `Decimal`s too.
///
/// A container's values are gathered first and the dict or list is made when it closes,
/// from all of them at once: a list at its exact size, a dict in one loop. Placing each
/// value as it came (which container, which pending key) cost more than the dict itself.
pub struct PySink<'a, 'py> {
    out: &'a mut Out<'py>,
    /// The values of the open dicts and lists, outermost first.
    vals: Vec<Bound<'py, PyAny>>,
    /// The keys of the open dicts' values, in the same order as those values.
    keys: Vec<Key<'py>>,
    /// The open dicts and lists, innermost last.
    open: Vec<Open>,
    error: Option<PyErr>,
}

/// A key of a dict being made: one of the shape's (its position in [`Out`]'s table of
/// them) or a text of the data.
pub enum Key<'py> {
    Shape(u32),
    Data(Bound<'py, PyString>),
}

/// An open container: a dict or a list, and where its values (and keys) start.
#[derive(Clone, Copy)]
struct Open {
    dict: bool,
    vals: usize,
    keys: usize,
}

impl<'a, 'py> PySink<'a, 'py> {
    /// The assessment of `d` as a dict.
    pub fn assessment(out: &'a mut Out<'py>, d: &Decision<'_>) -> PyResult<Bound<'py, PyAny>> {
        let mut sink = PySink { out, vals: Vec::with_capacity(64), keys: Vec::with_capacity(64), open: Vec::with_capacity(8), error: None };
        d.emit(&mut sink);
        if let Some(e) = sink.error {
            return Err(e);
        }
        match (sink.open.is_empty(), sink.vals.len(), sink.vals.pop()) {
            (true, 1, Some(v)) => Ok(v),
            _ => Err(pyo3::exceptions::PyRuntimeError::new_err("the assessment was not written whole")),
        }
    }

    fn fail(&mut self, e: PyErr) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    fn put(&mut self, v: PyResult<Bound<'py, PyAny>>) {
        match v {
            Ok(v) => self.vals.push(v),
            Err(e) => self.fail(e),
        }
    }

    fn open(&mut self, dict: bool) {
        self.open.push(Open { dict, vals: self.vals.len(), keys: self.keys.len() });
    }

    /// Makes the innermost container from its values and puts it in its parent.
    fn close(&mut self, dict: bool) {
        let Some(o) = self.open.pop().filter(|o| o.dict == dict) else {
            return self.fail(pyo3::exceptions::PyRuntimeError::new_err("a container closed that was not open"));
        };
        let made = if self.error.is_some() {
            Ok(self.out.py.None().into_bound(self.out.py))
        } else if dict {
            self.out.dict_of(&self.keys[o.keys..], &self.vals[o.vals..]).map(|d| untracked(d).into_any())
        } else if self.keys.len() != o.keys {
            Err(pyo3::exceptions::PyRuntimeError::new_err("a key in a list"))
        } else {
            PyList::new(self.out.py, self.vals.drain(o.vals..)).map(|l| untracked(l).into_any())
        };
        self.keys.truncate(o.keys);
        self.vals.truncate(o.vals);
        self.put(made);
    }
}

impl Sink for PySink<'_, '_> {
    fn open_map(&mut self) {
        self.open(true);
    }
    fn close_map(&mut self) {
        self.close(true);
    }
    fn open_list(&mut self) {
        self.open(false);
    }
    fn close_list(&mut self) {
        self.close(false);
    }
    fn key(&mut self, k: &'static str) {
        let k = self.out.key(k);
        self.keys.push(Key::Shape(k));
    }
    fn data_key(&mut self, k: &str) {
        let k = self.out.data_text(k);
        self.keys.push(Key::Data(k));
    }
    fn text(&mut self, s: &str, kind: Text) {
        let v = match kind {
            Text::Word => Ok(self.out.text(s).into_any()),
            Text::Unique => self.out.new_text(s).map(Bound::into_any),
            Text::Free => self.out.string(s),
        };
        self.put(v);
    }
    fn money(&mut self, d: Decimal) {
        let v = self.out.money(&Money(d));
        self.put(v);
    }
    fn int(&mut self, i: i64) {
        let v = i.into_pyobject(self.out.py).map(|x| x.into_any());
        self.put(Ok(v.unwrap_or_else(|never| match never {})));
    }
    fn bool(&mut self, b: bool) {
        let v = b.into_pyobject(self.out.py).map(|x| x.to_owned().into_any());
        self.put(Ok(v.unwrap_or_else(|never| match never {})));
    }
    fn null(&mut self) {
        self.put(Ok(self.out.py.None().into_bound(self.out.py)));
    }
    fn trace(&mut self, trace: &[TraceEntry]) {
        let list = PyList::empty(self.out.py);
        let filled = trace.iter().try_for_each(|e| list.append(self.out.trace_entry(e)?));
        self.put(filled.map(|()| untracked(list).into_any()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bmp_units_are_utf16_of_the_basic_plane() {
        let mut units = Vec::new();
        for s in ["", "plain", "é", "中", "家庭人均金融资产 77,341.85 元", "\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}", "a\u{0}b"] {
            assert!(bmp_units(s, &mut units), "{s:?}");
            assert_eq!(units, s.encode_utf16().collect::<Vec<_>>(), "{s:?}");
        }
        for s in ["😀", "家庭-😀", "\u{10000}", "𝔘 ok"] {
            assert!(!bmp_units(s, &mut units), "{s:?}");
        }
    }

    #[test]
    fn cents_as_format2_writes_them() {
        for (c, t) in [(0, "0.00"), (5, "0.05"), (-5, "-0.05"), (100, "1.00"), (-123456, "-1234.56"), (709549, "7095.49")] {
            assert_eq!(cents_text(c, &mut [0; 24]), t);
            assert_eq!(format2(Decimal::new(c, 2)), t);
        }
        for big in [i64::MAX, i64::MIN, i64::MIN + 1] {
            assert_eq!(cents_text(big, &mut [0; 24]), format2(Decimal::new(big, 2)));
        }
    }

    #[test]
    fn short_words_tell_texts_apart() {
        // Every text of up to SHORT bytes over a small alphabet: equal words, equal texts.
        let mut seen = std::collections::HashMap::new();
        let alphabet = [b'a', b'b', 0xe4];
        for n in 0..=SHORT {
            for k in 0..64usize {
                let text: Vec<u8> = (0..n).map(|i| alphabet[(k >> (i % 6) ^ i) % 3]).collect();
                let key = (n, short_words(&text));
                if let Some(other) = seen.insert(key, text.clone()) {
                    assert_eq!(other, text);
                }
            }
        }
        for n in 0..=SHORT {
            let a: Vec<u8> = (0..n as u8).collect();
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 1;
                assert_ne!(short_words(&a), short_words(&b), "{n} {i}");
            }
        }
    }

    #[test]
    fn digits_and_scale_of_decimal_texts() {
        let cases = [("0.00", Some((0, 2))), ("2245.00", Some((224500, 2))), ("-145.05", Some((-14505, 2))), ("0012.5", Some((125, 1))), ("3.141592653589", Some((3141592653589, 12)))];
        for (text, want) in cases {
            assert_eq!(digits_and_scale(text), want, "{text}");
        }
        // a negative zero, too many digits, and what is not a decimal text: parsed by Python
        for text in ["-0.00", "-0.0", "1234567890.123456789", "12", "1.", ".5", "1e3", "1.2.3", "-", "１.00"] {
            assert_eq!(digits_and_scale(text), None, "{text}");
        }
        // 18 digits fit an i64 whatever they are
        assert_eq!(digits_and_scale("999999999999999.999"), Some((999_999_999_999_999_999, 3)));
        assert_eq!(digits_and_scale("-999999999999999.999"), Some((-999_999_999_999_999_999, 3)));
    }

    #[test]
    fn decimal_text() {
        for yes in ["0.00", "2245.00", "-145.00", "0.10"] {
            assert!(is_decimal_text(yes), "{yes}");
        }
        for no in ["", "110105", "2025-03-01", "1.", ".5", "-", "1.2.3", "1e3", "dibao", "sha256:ab.cd"] {
            assert!(!is_decimal_text(no), "{no}");
        }
    }
}
