//! The assessment as a tape of 32-bit words and one UTF-16 text, from which js/fast.js
//! builds the object that `Engine.evaluate` returns.
//!
//! Why: V8's `JSON.parse` of an assessment (≈ 3,800 characters, ≈ 150 values) takes
//! ≈ 15 µs, more than half of what the engine itself takes in wasm. The core renders an
//! assessment as a stream of events (`jiuzhu_core::render::Sink`), the very events its
//! JSON text is written from (the core's tests check that the two agree byte for byte),
//! so this sink writes the object's values straight from them: no JSON text is written,
//! converted to UTF-16 and scanned again, and the JavaScript loop that reads the words
//! never looks at characters. Texts go as UTF-16 into one buffer that JavaScript decodes
//! once and slices. A text that repeats (every key, and the words of the output's
//! vocabulary: statuses, codes, legal bases, messages without figures) has an id in a
//! table of names kept on both sides, so JavaScript makes its string once, and V8 does
//! not hash a key again (an assessment has ≈ 100 keys from a few dozen names).
//!
//! Words, each value starting with one whose low four bits are its op and whose high
//! bits (`>> 4`) its argument:
//!
//! | op | argument, then | JavaScript value |
//! |---|---|---|
//! | `NULL`, `TRUE`, `FALSE` | | `null`, `true`, `false` |
//! | `INT` | the number | an integer of 28 bits |
//! | `NUM` | n | `Number` of the next n units of text: a larger integer |
//! | `STR` | n | the next n units of text |
//! | `NAME` | id | the name `id`, which JavaScript has |
//! | `NAME_NEW` | id, then n | the next n units of text, to be remembered as name `id` |
//! | `ARR` | values, then `END` | an array |
//! | `OBJ` | pairs of a key and a value, then `KEY_END` | an object |
//! | `JSON` | n | `JSON.parse` of the next n units of text (the trace) |
//!
//! A key is one word: an id `≥ 0` of a name JavaScript has; or `KEY_NEW`, id, n: the next
//! n units of text, to be remembered as name `id`; or `KEY_TEXT`, n: a key not kept
//! (`__proto__`, or the table is full). Texts are read in order: each takes the units
//! after the one before.
//!
//! Events carry no counts (an object's size is known only when it closes), hence the end
//! words. What the tape cannot hold (deeper than `MAX_DEPTH`, a text of 2^27 units) makes
//! `write` give up, and the caller sends the JSON text for `JSON.parse` instead.

use crate::text;
use jiuzhu_core::money;
use jiuzhu_core::render::{Decision, Sink, Text};
use jiuzhu_core::script::Outcome;
use jiuzhu_core::{Decimal, TraceEntry};

// The ops of values that a household's words have too (jiuzhu_core::household::words,
// written by js/fast.js the other way), and those of the tape alone.
pub use jiuzhu_core::household::words::{ARR, FALSE, INT, NULL, NUM, OBJ, STR, TRUE};
pub const NAME: i32 = 6;
pub const NAME_NEW: i32 = 7;
pub const JSON: i32 = 10;
pub const END: i32 = 11;

pub const KEY_END: i32 = -1;
pub const KEY_NEW: i32 = -2;
pub const KEY_TEXT: i32 = -3;

/// Words before the tape proper, filled by the caller (the text's address and length,
/// and whether there is a tape: see `Engine.__evaluateBufferObject`).
pub const HEADER: usize = 3;

/// What fits in an argument (28 bits, signed for `INT`).
const ARG: i64 = 1 << 27;

/// Deeper than this (the engine's output is never near it), `write` gives up: the
/// JavaScript that reads the tape is recursive.
const MAX_DEPTH: usize = 200;

/// Beyond this many names (an assessment has a few dozen keys and words), new ones go as
/// text.
const MAX_NAMES: usize = 4096;
/// Words (values) take new ids only below this many names: the rest are kept for keys,
/// which a household's own words (its dates, its region) would otherwise crowd out.
const MAX_WORDS: usize = MAX_NAMES / 2;
const SLOTS: usize = 2 * MAX_NAMES;
/// The cache of `Sink::key`'s names by address.
const STATIC_SLOTS: usize = 256;

/// The names met so far, with their ids (the JavaScript side holds the same strings at
/// the same ids). An open-addressed table: a lookup hashes the length and the first and
/// last eight bytes and compares the name once. Before that, the name that came after
/// the previous one last time is tried: assessments have the same names in the same
/// order, so most are found by one comparison, without hashing (the keys of the
/// assessment's shape, `&'static str`, by their address alone).
pub struct Names {
    /// All names' bytes, one after another.
    bytes: Vec<u8>,
    /// Where each name is in `bytes`, by id.
    spans: Vec<(u32, u32)>,
    /// `id + 1` of the name hashed there, 0 for none.
    slots: Vec<u32>,
    /// (address, length, `id + 1`) of a `&'static str` key, by its address; a cache
    /// (a newcomer takes the place).
    statics: Vec<(usize, usize, u32)>,
    /// By `id + 1` of a name (0: the start of a tape), the id of the name that came after
    /// it last time (`NONE`: none yet).
    next: Vec<u32>,
    /// The address of a `&'static str` by its id, 0 for a name not met as one.
    static_at: Vec<usize>,
    /// `id + 1` of the last name given (0: none yet in this tape).
    last: u32,
}

const NONE: u32 = u32::MAX;

impl Default for Names {
    fn default() -> Self {
        Names {
            bytes: Vec::new(),
            spans: Vec::new(),
            slots: vec![0; SLOTS],
            statics: vec![(0, 0, 0); STATIC_SLOTS],
            next: vec![NONE; MAX_NAMES + 1],
            static_at: Vec::new(),
            last: 0,
        }
    }
}

impl Names {
    /// [`Names::id`], trying first the name that came next last time.
    #[inline]
    fn find(&mut self, name: &[u8], limit: usize) -> Option<u32> {
        let p = self.next[self.last as usize];
        if p != NONE {
            let (a, b) = self.spans[p as usize];
            if same(&self.bytes[a as usize..b as usize], name) {
                self.last = p + 1;
                return Some(p);
            }
        }
        let id = self.id(name, limit);
        self.follow(id);
        id
    }

    /// `id` came after the last name (`None`: a text not kept, which breaks the chain).
    #[inline]
    fn follow(&mut self, id: Option<u32>) {
        match id {
            Some(id) => {
                self.next[self.last as usize] = id;
                self.last = id + 1;
            }
            None => self.last = 0,
        }
    }

    /// [`Names::find`] of a name that never changes: by its address.
    #[inline]
    fn find_static(&mut self, name: &'static str) -> Option<u32> {
        let p = self.next[self.last as usize];
        if p != NONE && self.static_at[p as usize] == name.as_ptr() as usize && self.spans[p as usize].1 - self.spans[p as usize].0 == name.len() as u32 {
            self.last = p + 1;
            return Some(p);
        }
        let id = self.static_id(name);
        self.follow(id);
        id
    }

    /// The id of `name`, given one if it is new; `None` when the table holds `limit` names
    /// and this is not one of them.
    fn id(&mut self, name: &[u8], limit: usize) -> Option<u32> {
        let mut slot = hash(name) & (SLOTS - 1);
        loop {
            let held = self.slots[slot];
            if held == 0 {
                break;
            }
            let (a, b) = self.spans[held as usize - 1];
            if &self.bytes[a as usize..b as usize] == name {
                return Some(held - 1);
            }
            slot = (slot + 1) & (SLOTS - 1);
        }
        if self.spans.len() >= limit {
            return None;
        }
        let id = self.spans.len() as u32;
        let a = self.bytes.len() as u32;
        self.bytes.extend_from_slice(name);
        self.spans.push((a, self.bytes.len() as u32));
        self.static_at.push(0);
        self.slots[slot] = id + 1;
        Some(id)
    }

    /// [`Names::id`] of a name that never changes, found by its address.
    #[inline]
    fn static_id(&mut self, name: &'static str) -> Option<u32> {
        let at = name.as_ptr() as usize;
        let slot = (at.wrapping_mul(0x9E37_79B9) >> 8) & (STATIC_SLOTS - 1);
        let (held_at, held_len, id) = self.statics[slot];
        if held_at == at && held_len == name.len() && id != 0 {
            return Some(id - 1);
        }
        let id = self.id(name.as_bytes(), MAX_NAMES)?;
        self.statics[slot] = (at, name.len(), id + 1);
        self.static_at[id as usize] = at;
        Some(id)
    }
}

/// `a == b`: eight bytes a step, without a call to `memcmp`.
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if b.len() != n {
        return false;
    }
    let mut k = 0;
    while k + 8 <= n {
        if eight(a, k) != eight(b, k) {
            return false;
        }
        k += 8;
    }
    a[k..] == b[k..]
}

/// The eight bytes of `s` at `k` (`k + 8 <= s.len()`).
#[inline(always)]
fn eight(s: &[u8], k: usize) -> u64 {
    u64::from_le_bytes(s[k..k + 8].try_into().expect("eight bytes"))
}

/// The length and the first and last eight bytes, mixed (names differ early or late).
fn hash(name: &[u8]) -> usize {
    let n = name.len();
    let (head, tail) = if n >= 8 {
        (eight(name, 0), eight(name, n - 8))
    } else {
        let w = name.iter().fold(0u64, |w, &c| w << 8 | c as u64);
        (w, 0)
    };
    let h = (head ^ tail.rotate_left(29) ^ (n as u64) << 56).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 40) as usize
}

/// The tape's words and names, kept between calls.
#[derive(Default)]
pub struct Tape {
    /// `HEADER` words, then the last assessment's tape.
    pub words: Vec<i32>,
    names: Names,
    /// The trace's JSON text, on its way to UTF-16.
    scratch: Vec<u8>,
}

impl Tape {
    /// Writes the tape of `decision` after the header, and its texts as UTF-16 at the
    /// start of `text` (grown as needed, never shrunk); returns how many units of text, or
    /// `None` if it gave up (then neither holds anything of use). Names with an id below
    /// `known` (those JavaScript holds) go as ids.
    pub fn write(&mut self, decision: &Decision<'_, impl std::ops::Deref<Target = [Outcome]>>, known: u32, text: &mut Vec<u16>) -> Option<usize> {
        self.words.clear();
        self.words.extend_from_slice(&[0; HEADER]);
        self.names.last = 0;
        let mut sink = TapeSink { words: &mut self.words, text, at: 0, names: &mut self.names, known, depth: 0, failed: false, scratch: &mut self.scratch };
        decision.emit(&mut sink);
        (!sink.failed && sink.depth == 0).then_some(sink.at)
    }

    /// The capacity of its buffers, in bytes (the caller gives back what a huge
    /// assessment made grow).
    pub fn capacity(&self) -> usize {
        self.words.capacity() * 4 + self.scratch.capacity()
    }

    pub fn shrink(&mut self) {
        self.words = Vec::new();
        self.scratch = Vec::new();
    }
}

struct TapeSink<'a> {
    words: &'a mut Vec<i32>,
    /// The texts' units: `at` of them written (the rest is room).
    text: &'a mut Vec<u16>,
    at: usize,
    names: &'a mut Names,
    /// Names below this id are held by JavaScript: those it had, and those sent with their
    /// text earlier in this tape (it reads the tape in order).
    known: u32,
    depth: usize,
    failed: bool,
    scratch: &'a mut Vec<u8>,
}

impl TapeSink<'_> {
    /// Appends `s` to the text; its length in units.
    #[inline]
    fn put(&mut self, s: &str) -> usize {
        let need = self.at + s.len();
        if self.text.len() < need {
            let room = need.max(2 * self.text.len()).max(4096);
            self.text.resize(room, 0);
        }
        let dst = &mut self.text[self.at..];
        let b = s.as_bytes();
        // Most texts are short words and figures: ASCII straight across.
        let n = if b.len() <= 16 && b.is_ascii() {
            for (d, &c) in dst.iter_mut().zip(b) {
                *d = c as u16;
            }
            b.len()
        } else {
            text::utf8_into(b, dst)
        };
        self.at += n;
        if n as i64 >= ARG {
            self.failed = true;
        }
        n
    }

    #[inline]
    fn op(&mut self, op: i32, arg: usize) {
        self.words.push((arg as i32) << 4 | op);
    }

    /// A name JavaScript may hold: its id, with its text if JavaScript has not got it.
    /// Whether it goes as a key or a value is in the words given.
    #[inline]
    fn name(&mut self, id: u32, s: &str, is_key: bool) {
        if id < self.known {
            self.words.push(if is_key { id as i32 } else { (id as i32) << 4 | NAME });
            return;
        }
        if id == self.known {
            self.known += 1;
        }
        let n = self.put(s) as i32;
        if is_key {
            self.words.extend_from_slice(&[KEY_NEW, id as i32, n]);
        } else {
            self.words.extend_from_slice(&[(id as i32) << 4 | NAME_NEW, n]);
        }
    }

    fn key_of(&mut self, id: Option<u32>, k: &str) {
        match id {
            Some(id) => self.name(id, k, true),
            None => {
                let n = self.put(k) as i32;
                self.words.extend_from_slice(&[KEY_TEXT, n]);
            }
        }
    }

    #[inline]
    fn open(&mut self, op: i32) {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.failed = true;
        }
        self.words.push(op);
    }

    #[inline]
    fn close(&mut self, end: i32) {
        self.depth = self.depth.wrapping_sub(1);
        self.words.push(end);
    }
}

/// `fmt::Write` into the sink's text (money's formatter writes there).
struct Put<'s, 'a>(&'s mut TapeSink<'a>);

impl std::fmt::Write for Put<'_, '_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.put(s);
        Ok(())
    }
}

impl Sink for TapeSink<'_> {
    fn open_map(&mut self) {
        self.open(OBJ);
    }
    fn close_map(&mut self) {
        self.close(KEY_END);
    }
    fn open_list(&mut self) {
        self.open(ARR);
    }
    fn close_list(&mut self) {
        self.close(END);
    }
    fn key(&mut self, k: &'static str) {
        let id = self.names.find_static(k);
        self.key_of(id, k);
    }
    fn data_key(&mut self, k: &str) {
        // `o[k] = v` would set the prototype: JavaScript defines it as JSON.parse does.
        let id = if k == "__proto__" { None } else { self.names.find(k.as_bytes(), MAX_NAMES) };
        self.key_of(id, k);
    }
    fn text(&mut self, s: &str, kind: Text) {
        if kind == Text::Word {
            if let Some(id) = self.names.find(s.as_bytes(), MAX_WORDS) {
                return self.name(id, s, false);
            }
        }
        let n = self.put(s);
        self.op(STR, n);
    }
    fn money(&mut self, d: Decimal) {
        if d.is_zero() {
            // Most figures of an assessment (a zero is never negative): one string.
            if let Some(id) = self.names.find_static("0.00") {
                return self.name(id, "0.00", false);
            }
        }
        // The JSON sink's figures, two places exactly: from the cents when they fit 64
        // bits (every real figure), else `money::write2`.
        let mut buf = [0u8; 32];
        let a = self.at;
        match money::cents_text(d, &mut buf) {
            Some(ascii) => {
                if self.text.len() < a + ascii.len() {
                    let room = (a + ascii.len()).max(2 * self.text.len()).max(4096);
                    self.text.resize(room, 0);
                }
                for (u, &c) in self.text[a..].iter_mut().zip(ascii) {
                    *u = c as u16;
                }
                self.at += ascii.len();
            }
            None => money::write2(&mut Put(self), d, false),
        }
        let n = self.at - a;
        self.op(STR, n);
    }
    fn int(&mut self, i: i64) {
        if (-ARG..ARG).contains(&i) {
            self.words.push((i as i32) << 4 | INT);
        } else {
            // Rare (no count of an assessment comes near 2^27): its text, for Number().
            let n = self.put(&i.to_string());
            self.op(NUM, n);
        }
    }
    fn bool(&mut self, b: bool) {
        self.words.push(if b { TRUE } else { FALSE });
    }
    fn null(&mut self) {
        self.words.push(NULL);
    }
    fn trace(&mut self, trace: &[TraceEntry]) {
        // Rare (asked for) and tagged: serde's own JSON, parsed by JavaScript.
        let mut json = std::mem::take(self.scratch);
        json.clear();
        if serde_json::to_writer(&mut json, trace).is_err() {
            self.failed = true;
        }
        // serde_json writes UTF-8.
        let n = self.put(std::str::from_utf8(&json).unwrap_or("null"));
        *self.scratch = json;
        self.op(JSON, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a tape back as JSON text (the values of what JavaScript builds), with the
    /// names it learnt.
    struct Reader<'t> {
        words: &'t [i32],
        text: &'t [u16],
        p: usize,
        t: usize,
        names: &'t mut Vec<Option<String>>,
    }

    impl Reader<'_> {
        fn take(&mut self, n: i32) -> String {
            let s = String::from_utf16(&self.text[self.t..self.t + n as usize]).unwrap();
            self.t += n as usize;
            s
        }
        fn learn(&mut self, id: i32, s: &str) {
            let id = id as usize;
            if self.names.len() <= id {
                self.names.resize(id + 1, None);
            }
            self.names[id] = Some(s.to_string());
        }
        fn next(&mut self) -> i32 {
            self.p += 1;
            self.words[self.p - 1]
        }
        fn value(&mut self) -> serde_json::Value {
            use serde_json::Value;
            let w = self.next();
            let arg = w >> 4;
            match w & 15 {
                NULL => Value::Null,
                TRUE => Value::Bool(true),
                FALSE => Value::Bool(false),
                INT => arg.into(),
                NUM => self.take(arg).parse::<i64>().unwrap().into(),
                STR => self.take(arg).into(),
                NAME => self.names[arg as usize].clone().expect("a name JavaScript has").into(),
                NAME_NEW => {
                    let n = self.next();
                    let s = self.take(n);
                    self.learn(arg, &s);
                    s.into()
                }
                ARR => {
                    let mut items = Vec::new();
                    while self.words[self.p] != END {
                        items.push(self.value());
                    }
                    self.p += 1;
                    Value::Array(items)
                }
                OBJ => {
                    let mut o = serde_json::Map::new();
                    loop {
                        let k = self.next();
                        let key = match k {
                            KEY_END => break,
                            KEY_NEW => {
                                let id = self.next();
                                let n = self.next();
                                let s = self.take(n);
                                self.learn(id, &s);
                                s
                            }
                            KEY_TEXT => {
                                let n = self.next();
                                self.take(n)
                            }
                            id => self.names[id as usize].clone().expect("a key JavaScript has"),
                        };
                        let v = self.value();
                        o.insert(key, v);
                    }
                    Value::Object(o)
                }
                JSON => serde_json::from_str(&self.take(arg)).unwrap(),
                op => panic!("op {op}"),
            }
        }
    }

    fn engine() -> jiuzhu_core::Engine {
        jiuzhu_core::Engine::new().expect("the embedded pack loads")
    }

    fn example(name: &str) -> String {
        std::fs::read_to_string(format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"))).expect("example exists")
    }

    /// The tape of `household`, read back, and the JSON text's value; `known` as given.
    fn both(e: &jiuzhu_core::Engine, tape: &mut Tape, household: &str, opts: &jiuzhu_core::Options, names: &mut Vec<Option<String>>) -> (serde_json::Value, serde_json::Value) {
        let d = e.decide_input(household, opts).unwrap();
        let mut text = Vec::new();
        let known = names.iter().take_while(|n| n.is_some()).count() as u32;
        let units = tape.write(&d, known, &mut text).expect("a tape");
        let mut r = Reader { words: &tape.words, text: &text[..units], p: HEADER, t: 0, names };
        let got = r.value();
        assert_eq!((r.p, r.t), (tape.words.len(), units), "read to the end");
        let json = e.evaluate_json(household, opts).unwrap();
        (got, serde_json::from_str(&json).unwrap())
    }

    #[test]
    fn the_tape_holds_the_json_texts_values() {
        let e = engine();
        let mut tape = Tape::default();
        let mut names = Vec::new();
        for ex in ["household.json", "tekun.json", "temporary-review.json"] {
            for opts in [
                jiuzhu_core::Options::default(),
                jiuzhu_core::Options { trace: true, lang: Some("en".into()), ..Default::default() },
                jiuzhu_core::Options { messages: false, ..Default::default() },
            ] {
                let (got, want) = both(&e, &mut tape, &example(ex), &opts, &mut names);
                assert_eq!(got, want, "{ex} {opts:?}");
            }
        }
        // Names JavaScript has go as ids alone: no text but the household's own.
        let before = names.len();
        let (got, want) = both(&e, &mut tape, &example("household.json"), &Default::default(), &mut names);
        assert_eq!((got, names.len()), (want, before));
        assert!(!tape.words.contains(&KEY_NEW));
    }

    #[test]
    fn special_member_ids() {
        let e = engine();
        let mut tape = Tape::default();
        let mut names = Vec::new();
        let base: serde_json::Value = serde_json::from_str(&example("household.json")).unwrap();
        let ids = ["__proto__", "toString", "constructor", "0", "4294967295", "a\"b", "k\\n", "tab\t", "家庭成员", "😀", &"x".repeat(60)];
        for id in ids {
            let mut h = base.clone();
            h["members"][1]["id"] = id.into();
            let (got, want) = both(&e, &mut tape, &h.to_string(), &Default::default(), &mut names);
            assert_eq!(got, want, "{id:?}");
            assert!(got["derived"]["members"].get(id).is_some(), "{id:?}");
        }
        // `__proto__` never gets an id (JavaScript must define it).
        assert!(!names.iter().any(|n| n.as_deref() == Some("__proto__")));
    }

    #[test]
    fn forgotten_names_are_sent_again() {
        let e = engine();
        let mut tape = Tape::default();
        let mut names = Vec::new();
        let h = example("household.json");
        both(&e, &mut tape, &h, &Default::default(), &mut names);
        let learnt = names.len();
        assert!(learnt > 40, "{learnt}");
        let mut forgot = Vec::new();
        let (got, want) = both(&e, &mut tape, &h, &Default::default(), &mut forgot);
        assert_eq!((got, forgot.len()), (want, learnt));
    }

    #[test]
    fn words_leave_room_for_keys() {
        let mut names = Names::default();
        for i in 0..MAX_WORDS {
            assert_eq!(names.find(format!("2025-01-{i}").as_bytes(), MAX_WORDS), Some(i as u32));
        }
        assert_eq!(names.find(b"2030-01-01", MAX_WORDS), None);
        assert_eq!(names.find(b"2025-01-7", MAX_WORDS), Some(7));
        assert_eq!(names.find(b"a key", MAX_NAMES), Some(MAX_WORDS as u32));
    }

    #[test]
    fn a_full_table_sends_names_as_text() {
        let mut names = Names::default();
        for i in 0..MAX_NAMES {
            assert_eq!(names.id(format!("key{i}").as_bytes(), MAX_NAMES), Some(i as u32));
        }
        assert_eq!(names.id(b"key7", MAX_NAMES), Some(7));
        assert_eq!(names.id(b"other", MAX_NAMES), None);
        let e = engine();
        let mut tape = Tape { names, ..Default::default() };
        let mut text = Vec::new();
        let d = e.decide_input(example("household.json").as_str(), &Default::default()).unwrap();
        let units = tape.write(&d, MAX_NAMES as u32, &mut text).unwrap();
        assert!(tape.words.contains(&KEY_TEXT) && units > 0);
        assert!(!tape.words.contains(&KEY_NEW));
    }

    #[test]
    fn money_as_the_json_sink_writes_it() {
        use std::str::FromStr;
        let mut tape = Tape::default();
        tape.words.extend_from_slice(&[0; HEADER]);
        let mut text = Vec::new();
        let mut sink = TapeSink { words: &mut tape.words, text: &mut text, at: 0, names: &mut tape.names, known: 0, depth: 0, failed: false, scratch: &mut tape.scratch };
        let figures = ["0", "-0.00", "0.000", "1", "-1.5", "2245.00", "0.005", "-0.004", "1234567.891", "92233720368547758.07", "79228162514264337593543950335", "-7922816251426433759354395.0335"];
        let figures: Vec<Decimal> = figures.iter().map(|f| Decimal::from_str(f).unwrap()).collect();
        sink.open_list();
        for &d in &figures {
            sink.money(d);
        }
        sink.close_list();
        let units = sink.at;
        let mut names = Vec::new();
        let got = Reader { words: &tape.words, text: &text[..units], p: HEADER, t: 0, names: &mut names }.value();
        let want: Vec<String> = figures.iter().map(|&d| money::format2(d)).collect();
        assert_eq!(got, serde_json::json!(want));
        // the three zeros: the name "0.00", its text sent once
        assert_eq!(tape.words.iter().filter(|&&w| w & 15 == NAME || w & 15 == NAME_NEW).count(), 3);
    }

    #[test]
    fn integers_beyond_28_bits_go_as_text() {
        let mut tape = Tape::default();
        let mut text = vec![0u16; 64];
        let mut sink = TapeSink { words: &mut tape.words, text: &mut text, at: 0, names: &mut tape.names, known: 0, depth: 0, failed: false, scratch: &mut tape.scratch };
        for i in [0, -1, ARG - 1, -ARG, ARG, -ARG - 1, i64::MIN] {
            sink.int(i);
        }
        let n = sink.at;
        assert_eq!(tape.words[..4], [INT, -1 << 4 | INT, ((ARG - 1) as i32) << 4 | INT, (-ARG as i32) << 4 | INT]);
        assert_eq!(tape.words[4..], [9 << 4 | NUM, 10 << 4 | NUM, 20 << 4 | NUM]);
        assert_eq!(String::from_utf16(&text[..n]).unwrap(), "134217728-134217729-9223372036854775808");
    }

    #[test]
    fn too_deep_gives_up() {
        let mut tape = Tape::default();
        let mut text = Vec::new();
        let mut sink = TapeSink { words: &mut tape.words, text: &mut text, at: 0, names: &mut tape.names, known: 0, depth: 0, failed: false, scratch: &mut tape.scratch };
        for _ in 0..=MAX_DEPTH {
            sink.open_list();
        }
        assert!(sink.failed);
    }
}
