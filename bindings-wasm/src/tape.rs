//! The assessment as a tape of 32-bit words, from which js/fast.js builds the object that
//! `Engine.evaluate` returns.
//!
//! Why: V8's `JSON.parse` of an assessment (≈ 3,800 characters, ≈ 150 values) takes
//! ≈ 15 µs, more than half of what the engine itself takes in wasm. From a tape a small
//! JavaScript loop builds the same objects in ≈ 4 µs: it does not look at characters,
//! every text is a slice of the assessment's UTF-16 text (which the text path has
//! already), and every key is an index into a table of key strings kept on both sides, so
//! V8 does not hash the keys again (an assessment has ≈ 100 keys from a few dozen names).
//!
//! The tape is made from the JSON text the engine wrote (its UTF-16 form), so the object
//! is the one `JSON.parse` gives by construction: the same values in the same order.
//! What the scan does not expect (it never happens with the engine's output) makes it
//! give up, and js/fast.js falls back to `JSON.parse`.
//!
//! Words, each value starting with its op:
//!
//! | op | then | JavaScript value |
//! |---|---|---|
//! | `NULL`, `TRUE`, `FALSE` | | `null`, `true`, `false` |
//! | `INT` | the number | an integer of at most nine digits |
//! | `NUM` | start, end | `Number(text.slice(start, end))`: any other number |
//! | `STR` | start, end | `text.slice(start, end)`: a text without escapes |
//! | `ESC` | start, end | `JSON.parse(text.slice(start, end))`: a text with escapes, quotes included |
//! | `ARR` | n, then n values | an array |
//! | `OBJ` | n, then n pairs of a key and a value | an object |
//!
//! A key is one word: an id `≥ 0` of a key the JavaScript side already has; or `KEY_NEW`,
//! id, start, end: the key `text.slice(start, end)`, to be remembered as that id; or
//! `KEY_TEXT`, start, end (a key not kept: `__proto__`, or the table is full); or
//! `KEY_ESC`, start, end (a key with escapes, quotes included, for `JSON.parse`). Offsets
//! are in UTF-16 units of the text.

pub const NULL: i32 = 0;
pub const TRUE: i32 = 1;
pub const FALSE: i32 = 2;
pub const INT: i32 = 3;
pub const NUM: i32 = 4;
pub const STR: i32 = 5;
pub const ESC: i32 = 6;
pub const ARR: i32 = 7;
pub const OBJ: i32 = 8;

pub const KEY_NEW: i32 = -1;
pub const KEY_TEXT: i32 = -2;
pub const KEY_ESC: i32 = -3;

/// Deeper than this (the engine's output is never near it), the scan gives up: the
/// JavaScript that reads the tape is recursive.
const MAX_DEPTH: usize = 200;

/// The key strings met so far, with their ids (the JavaScript side holds the same strings
/// at the same ids). An open-addressed table: a lookup hashes the length and the first and
/// last four units and compares the key once.
pub struct Keys {
    /// All keys' units, one after another.
    text: Vec<u16>,
    /// Where each key is in `text`, by id.
    spans: Vec<(u32, u32)>,
    /// `id + 1` of the key hashed there, 0 for none.
    slots: Vec<u32>,
    /// The stack of `build`, kept to be reused.
    stack: Vec<Open>,
    /// The key that came after (parent key, previous key) last time, by a hash of the
    /// pair: assessments have the same keys in the same order, so most keys are found by
    /// one comparison, without looking for their end or hashing them.
    next: Vec<Next>,
}

/// In `Keys::next`: after key `previous` (`NONE`: first) in an object under key `parent`
/// (`NONE`: the top), key `id`.
#[derive(Clone, Copy)]
struct Next {
    parent: u32,
    previous: u32,
    id: u32,
}

const NEXT_SLOTS: usize = 4096;
const NONE: u32 = u32::MAX;

/// Beyond this many keys (an assessment has a few dozen names), new keys go as text.
const MAX_KEYS: usize = 4096;
const SLOTS: usize = 2 * MAX_KEYS;

impl Default for Keys {
    fn default() -> Self {
        let none = Next { parent: NONE, previous: NONE, id: NONE };
        Keys { text: Vec::new(), spans: Vec::new(), slots: vec![0; SLOTS], stack: Vec::new(), next: vec![none; NEXT_SLOTS] }
    }
}

impl Keys {
    /// The id of `key`, given one if it is new; `None` when the table is full.
    fn id(&mut self, key: &[u16]) -> Option<u32> {
        let mut slot = hash(key) & (SLOTS - 1);
        loop {
            let held = self.slots[slot];
            if held == 0 {
                break;
            }
            let (a, b) = self.spans[held as usize - 1];
            if same(&self.text[a as usize..b as usize], key) {
                return Some(held - 1);
            }
            slot = (slot + 1) & (SLOTS - 1);
        }
        if self.spans.len() >= MAX_KEYS {
            return None;
        }
        let id = self.spans.len() as u32;
        let a = self.text.len() as u32;
        self.text.extend_from_slice(key);
        self.spans.push((a, self.text.len() as u32));
        self.slots[slot] = id + 1;
        Some(id)
    }

    fn key(&self, id: u32) -> &[u16] {
        let (a, b) = self.spans[id as usize];
        &self.text[a as usize..b as usize]
    }

    fn next_slot(parent: u32, previous: u32) -> usize {
        let h = (parent as u64) << 32 | previous as u64;
        (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize & (NEXT_SLOTS - 1)
    }

    /// The key expected after `previous` in an object under `parent`, or `NONE`.
    fn predict(&self, parent: u32, previous: u32) -> u32 {
        let next = self.next[Self::next_slot(parent, previous)];
        if next.parent == parent && next.previous == previous { next.id } else { NONE }
    }

    fn remember(&mut self, parent: u32, previous: u32, id: u32) {
        self.next[Self::next_slot(parent, previous)] = Next { parent, previous, id };
    }
}

/// `a == b` for keys: four units a step, without a call to `memcmp`.
#[inline(always)]
fn same(a: &[u16], b: &[u16]) -> bool {
    let n = a.len();
    if b.len() != n {
        return false;
    }
    // SAFETY: k + 4 <= n: four units (eight bytes) inside both slices.
    let four = |s: &[u16], k: usize| unsafe { (s.as_ptr().add(k) as *const u64).read_unaligned() };
    let mut k = 0;
    while k + 4 <= n {
        if four(a, k) != four(b, k) {
            return false;
        }
        k += 4;
    }
    a[k..].iter().zip(&b[k..]).all(|(x, y)| x == y)
}

/// The length and the first and last four units, mixed (keys differ early or late).
fn hash(key: &[u16]) -> usize {
    let n = key.len();
    let four = |k: &[u16]| k.iter().take(4).fold(0u64, |h, &u| (h << 16) | u as u64);
    let head = four(key);
    let tail = four(&key[n.saturating_sub(4)..]);
    let h = (head ^ tail.rotate_left(29) ^ (n as u64) << 58).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 40) as usize
}

/// Writes the tape of the JSON text `s` (UTF-16 units) into `out` and returns its length
/// in words, or 0 if the scan gave up (then `out` holds nothing of use). Keys with an id
/// below `known` are written as ids; others (new to the JavaScript side) with their text.
pub fn build(s: &[u16], known: u32, keys: &mut Keys, out: &mut Vec<i32>) -> usize {
    out.clear();
    // At most three words a unit (`-` would be a number of three words); room for all of
    // them up front, so that writing a word never grows the vector.
    out.reserve(3 * s.len() + 8);
    let mut stack = std::mem::take(&mut keys.stack);
    stack.clear();
    let done = scan(s, known, keys, out, &mut stack);
    keys.stack = stack;
    if done.is_some() { out.len() } else { 0 }
}

/// An object or array being read: where its count goes, the count so far, the key it is
/// the value of (`NONE`: the top, or a key not kept), and for an object its last key.
struct Open {
    count_at: usize,
    n: i32,
    parent: u32,
    previous: u32,
    object: bool,
}

const QUOTE: u16 = b'"' as u16;
const BACKSLASH: u16 = b'\\' as u16;

/// The scan of `build`, one loop over the text with an explicit stack (no recursion, and
/// the position and output length stay in locals): a value, then the closing brackets and
/// the separator after it. With wasm SIMD, for the search for the end of each text.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
fn scan(s: &[u16], known: u32, keys: &mut Keys, out: &mut Vec<i32>, stack: &mut Vec<Open>) -> Option<()> {
    let unit = |i: usize| -> Option<u8> { u8::try_from(*s.get(i)?).ok() };
    let mut i = 0;
    // The key whose value comes next.
    let mut parent = NONE;
    loop {
        match unit(i)? {
            open @ (b'{' | b'[') => {
                i += 1;
                out.extend_from_slice(&[if open == b'{' { OBJ } else { ARR }, 0]);
                let close = if open == b'{' { b'}' } else { b']' };
                if unit(i)? == close {
                    i += 1;
                } else {
                    if stack.len() >= MAX_DEPTH {
                        return None;
                    }
                    let object = open == b'{';
                    let mut top = Open { count_at: out.len() - 1, n: 0, parent, previous: NONE, object };
                    if object {
                        top.previous = key(s, &mut i, known, keys, out, parent, NONE)?;
                        parent = top.previous;
                    }
                    stack.push(top);
                    continue;
                }
            }
            b'"' => {
                let (a, b, escaped) = string(s, i)?;
                i = b + 1;
                out.extend_from_slice(&if escaped { [ESC, a as i32 - 1, b as i32 + 1] } else { [STR, a as i32, b as i32] });
            }
            b't' => i = literal(s, i, b"true", TRUE, out)?,
            b'f' => i = literal(s, i, b"false", FALSE, out)?,
            b'n' => i = literal(s, i, b"null", NULL, out)?,
            b'-' | b'0'..=b'9' => i = number(s, i, out),
            _ => return None,
        }
        // A value is complete: close what it completes, then go on to the next one.
        loop {
            let Some(top) = stack.last_mut() else {
                return (i == s.len()).then_some(());
            };
            top.n += 1;
            match unit(i)? {
                b',' => {
                    i += 1;
                    if top.object {
                        top.previous = key(s, &mut i, known, keys, out, top.parent, top.previous)?;
                        parent = top.previous;
                    } else {
                        parent = top.parent;
                    }
                    break;
                }
                b'}' | b']' if (unit(i)? == b'}') == top.object => {
                    i += 1;
                    out[top.count_at] = top.n;
                    stack.pop();
                }
                _ => return None,
            }
        }
    }
}

/// The key at `i` (a member of an object under `parent`, after the key `previous`) and
/// its colon: its words written, `i` moved past the colon; its id, `NONE` if not kept.
#[inline(always)]
fn key(s: &[u16], i: &mut usize, known: u32, keys: &mut Keys, out: &mut Vec<i32>, parent: u32, previous: u32) -> Option<u32> {
    if s.get(*i) != Some(&QUOTE) {
        return None;
    }
    let predicted = keys.predict(parent, previous);
    let id = 'found: {
        if predicted != NONE {
            // The key expected here, if the text has it and then its closing quote (a key
            // kept has no backslash, so the text's key is exactly that).
            let key = keys.key(predicted);
            let (a, b) = (*i + 1, *i + 1 + key.len());
            if s.get(b) == Some(&QUOTE) && same(&s[a..b], key) {
                *i = b + 1;
                key_word(out, known, predicted, a, b);
                break 'found predicted;
            }
        }
        let (a, b, escaped) = string(s, *i)?;
        *i = b + 1;
        let key = &s[a..b];
        let (a32, b32) = (a as i32, b as i32);
        if escaped {
            out.extend_from_slice(&[KEY_ESC, a32 - 1, b32 + 1]);
        } else if key.iter().copied().eq("__proto__".bytes().map(u16::from)) {
            // `o[k] = v` would set the prototype: JavaScript defines it as JSON.parse does.
            out.extend_from_slice(&[KEY_TEXT, a32, b32]);
        } else if let Some(id) = keys.id(key) {
            keys.remember(parent, previous, id);
            key_word(out, known, id, a, b);
            break 'found id;
        } else {
            out.extend_from_slice(&[KEY_TEXT, a32, b32]);
        }
        NONE
    };
    if s.get(*i) != Some(&(b':' as u16)) {
        return None;
    }
    *i += 1;
    Some(id)
}

/// The words of the key `id` at `a..b`: its id, with its text if JavaScript has not got
/// it yet.
#[inline(always)]
fn key_word(out: &mut Vec<i32>, known: u32, id: u32, a: usize, b: usize) {
    if id < known {
        out.push(id as i32);
    } else {
        out.extend_from_slice(&[KEY_NEW, id as i32, a as i32, b as i32]);
    }
}

/// The text whose opening quote is at `i`: its content as `start..end` (the closing quote
/// is at `end`), and whether it has escapes.
#[inline(always)]
fn string(s: &[u16], i: usize) -> Option<(usize, usize, bool)> {
    let start = i + 1;
    let mut j = quote_or_backslash(s, start);
    let mut escaped = false;
    while *s.get(j)? != QUOTE {
        // A backslash: skip it and the unit after it (`\"` and `\\` included; the four
        // digits of `\uXXXX` need no skipping).
        escaped = true;
        j = quote_or_backslash(s, j + 2);
    }
    Some((start, j, escaped))
}

/// `true`, `false` or `null` at `i`: its op written; the index after it.
#[inline(always)]
fn literal(s: &[u16], i: usize, word: &[u8], op: i32, out: &mut Vec<i32>) -> Option<usize> {
    let found = s.get(i..i + word.len())?;
    if !found.iter().zip(word).all(|(&u, &b)| u == b as u16) {
        return None;
    }
    out.push(op);
    Some(i + word.len())
}

/// The number at `i`: at most nine digits as the number itself, anything else as text;
/// the index after it.
#[inline(always)]
fn number(s: &[u16], i: usize, out: &mut Vec<i32>) -> usize {
    let is_number_unit = |u: u16| matches!(u8::try_from(u), Ok(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'));
    let end = i + s[i..].iter().take_while(|&&u| is_number_unit(u)).count();
    let text = &s[i..end];
    let (negative, digits) = match text.split_first() {
        Some((&u, rest)) if u == b'-' as u16 => (true, rest),
        _ => (false, text),
    };
    let plain_digits = digits.iter().all(|&u| (b'0' as u16..=b'9' as u16).contains(&u));
    // Canonical: no leading zero, and not -0 (an integer word cannot be minus zero).
    let canonical = plain_digits && !digits.is_empty() && digits.len() <= 9 && (digits[0] != b'0' as u16 || (digits.len() == 1 && !negative));
    if canonical {
        let magnitude = digits.iter().fold(0i32, |n, &u| n * 10 + (u - b'0' as u16) as i32);
        out.extend_from_slice(&[INT, if negative { -magnitude } else { magnitude }]);
    } else {
        out.extend_from_slice(&[NUM, i as i32, end as i32]);
    }
    end
}

/// The index of the first `"` or `\` in `s` from `from`, or `s.len()` if none.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
#[inline]
fn quote_or_backslash(s: &[u16], from: usize) -> usize {
    #[cfg(target_arch = "wasm32")]
    let mut i = simd::skip_plain(s, from);
    #[cfg(not(target_arch = "wasm32"))]
    let mut i = from;
    while i < s.len() && s[i] != QUOTE && s[i] != BACKSLASH {
        i += 1;
    }
    i
}

/// Wasm SIMD for these functions only, as in `text.rs`.
#[cfg(target_arch = "wasm32")]
mod simd {
    use std::arch::wasm32::*;

    /// From `from`, past whole steps of eight units with neither `"` nor `\`.
    #[target_feature(enable = "simd128")]
    #[inline]
    pub fn skip_plain(s: &[u16], from: usize) -> usize {
        let (quote, backslash) = (u16x8_splat(super::QUOTE), u16x8_splat(super::BACKSLASH));
        let mut i = from;
        while i + 8 <= s.len() {
            // SAFETY: i + 8 <= len: eight units inside `s` (v128_load needs no alignment).
            let x = unsafe { v128_load(s.as_ptr().add(i) as *const v128) };
            let hit = i16x8_bitmask(v128_or(u16x8_eq(x, quote), u16x8_eq(x, backslash)));
            if hit != 0 {
                return i + hit.trailing_zeros() as usize;
            }
            i += 8;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    fn tape(s: &str, known: u32, keys: &mut Keys) -> Vec<i32> {
        let mut out = Vec::new();
        let n = build(&units(s), known, keys, &mut out);
        out.truncate(n);
        out
    }

    #[test]
    fn values_and_keys() {
        let mut keys = Keys::default();
        let s = r#"{"a":1,"b":[true,false,null,-12,"x"],"a":{}}"#;
        assert_eq!(tape(s, 0, &mut keys), vec![OBJ, 3, KEY_NEW, 0, 2, 3, INT, 1, KEY_NEW, 1, 8, 9, ARR, 5, TRUE, FALSE, NULL, INT, -12, STR, 33, 34, KEY_NEW, 0, 38, 39, OBJ, 0]);
        // The same keys once the JavaScript side has them: ids only.
        assert_eq!(tape(s, 2, &mut keys)[..3], [OBJ, 3, 0]);
    }

    #[test]
    fn numbers_beyond_nine_digits_or_not_integers_go_as_text() {
        let mut keys = Keys::default();
        assert_eq!(tape("123456789", 0, &mut keys), vec![INT, 123456789]);
        assert_eq!(tape("-0", 0, &mut keys), vec![NUM, 0, 2]);
        assert_eq!(tape("0", 0, &mut keys), vec![INT, 0]);
        assert_eq!(tape("1234567890", 0, &mut keys), vec![NUM, 0, 10]);
        assert_eq!(tape("[1.5,2e3]", 0, &mut keys), vec![ARR, 2, NUM, 1, 4, NUM, 5, 8]);
    }

    #[test]
    fn escapes_and_proto_keys() {
        let mut keys = Keys::default();
        let s = r#"{"__proto__":"a\"b\\","k\n":"家"}"#;
        assert_eq!(tape(s, 0, &mut keys), vec![OBJ, 2, KEY_TEXT, 2, 11, ESC, 13, 21, KEY_ESC, 22, 27, STR, 29, 30]);
    }

    #[test]
    fn what_is_not_json_gives_up() {
        let mut keys = Keys::default();
        for s in ["", "{", "[1,", r#"{"a" 1}"#, "tru", "[1]x", r#""abc"#, r#""a\"#] {
            assert_eq!(tape(s, 0, &mut keys), Vec::<i32>::new(), "{s}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
        assert!(tape(&deep, 0, &mut keys).is_empty());
    }

    #[test]
    fn a_full_table_sends_keys_as_text() {
        let mut keys = Keys::default();
        for i in 0..MAX_KEYS {
            assert_eq!(keys.id(&units(&format!("key{i}"))), Some(i as u32));
        }
        assert_eq!(keys.id(&units("key7")), Some(7));
        assert_eq!(tape(r#"{"other":0}"#, MAX_KEYS as u32, &mut keys), vec![OBJ, 1, KEY_TEXT, 2, 7, INT, 0]);
    }
}
