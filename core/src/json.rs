//! Compact JSON written by hand: the output of every assessment.
//!
//! Why: writing an assessment through serde was a sixth of a batch's time, most of it
//! escaping the Chinese text of reasons one byte at a time. This writer produces exactly
//! the bytes `serde_json::to_writer` produces for the same data (tests compare the two),
//! but scans strings sixteen bytes at a time and writes the fixed keys as ready-made bytes.

use serde_json::Value;

/// Appends `s` as a JSON string (quotes included), escaped as serde_json escapes:
/// `"`, `\` and the control characters below U+0020; nothing else.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    write_escaped(out, s);
    out.push(b'"');
}

/// Appends `s` escaped as in [`write_str`], without the quotes (a part of a string).
#[inline]
pub fn write_escaped(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    // Most texts of an assessment are short (codes, words, ids, keys): one test of the
    // whole text, then one copy, inlined where they are written; the scan (and the
    // registers it saves on entry) only for the others.
    if b.len() <= SHORT && !short_needs_escape(b) {
        put(out, b);
    } else {
        write_escaped_scan(out, b);
    }
}

#[inline(never)]
fn write_escaped_scan(out: &mut Vec<u8>, b: &[u8]) {
    let mut start = 0; // the first byte not yet copied
    while let Some(j) = find_escape(b, start) {
        put(out, &b[start..j]);
        push_escape(out, b[j]);
        start = j + 1;
    }
    put(out, &b[start..]);
}

/// `out.extend_from_slice(b)`, with the short slices of an assessment (keys, words,
/// figures: most are under 16 bytes) copied by a few word moves instead of a call to
/// the C library's `memcpy`, which cost more than the copy.
#[inline]
pub(crate) fn put(out: &mut Vec<u8>, b: &[u8]) {
    let n = b.len();
    if n > 16 {
        out.extend_from_slice(b);
        return;
    }
    out.reserve(16);
    let len = out.len();
    // SAFETY: `reserve(16)` leaves at least 16 bytes of spare capacity after `len`, and
    // `n <= 16`. Each branch reads only inside `b` (two possibly overlapping pieces that
    // together cover it) and writes only inside `out[len..len + n]`, which is then
    // initialised, so `set_len(len + n)` is sound.
    unsafe {
        let src = b.as_ptr();
        let dst = out.as_mut_ptr().add(len);
        if n >= 8 {
            let head = std::ptr::read_unaligned(src as *const u64);
            let tail = std::ptr::read_unaligned(src.add(n - 8) as *const u64);
            std::ptr::write_unaligned(dst as *mut u64, head);
            std::ptr::write_unaligned(dst.add(n - 8) as *mut u64, tail);
        } else if n >= 4 {
            let head = std::ptr::read_unaligned(src as *const u32);
            let tail = std::ptr::read_unaligned(src.add(n - 4) as *const u32);
            std::ptr::write_unaligned(dst as *mut u32, head);
            std::ptr::write_unaligned(dst.add(n - 4) as *mut u32, tail);
        } else if n > 0 {
            // 1 to 3 bytes: first, middle and last (the same byte when n is 1)
            *dst = *src;
            *dst.add(n / 2) = *src.add(n / 2);
            *dst.add(n - 1) = *src.add(n - 1);
        }
        out.set_len(len + n);
    }
}

/// Whether two byte strings are the same: by words that may overlap, for the short
/// texts compared most (names of fields, member ids), rather than a call to the C
/// library's `memcmp`, which cost more than the comparison.
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes"));
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            if word(a, at) != word(b, at) {
                return false;
            }
            at += 8;
        }
        word(a, n - 8) == word(b, n - 8)
    } else if n >= 4 {
        half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
    } else {
        // 0 to 3 bytes: the first, middle and last cover them
        n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1])
    }
}

/// The first byte at or after `from` that needs escaping. Sixteen bytes per step with
/// SSE2 (part of every x86-64 CPU), eight with a word's bit tricks elsewhere; the text of
/// reasons rarely has any, so the scan is what costs. Inlined always: the household
/// reader calls it for every string, and a call cost more than a short scan.
#[inline(always)]
pub(crate) fn find_escape(b: &[u8], from: usize) -> Option<usize> {
    #[allow(unused_mut)] // advanced by the SSE2 loop, which other targets do not have
    let mut i = from;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: every load reads 16 bytes inside `b` (i + 16 <= len); SSE2 is in the
        // x86-64 baseline, so the instructions exist.
        unsafe {
            // One bit per byte of the sixteen at `p` that needs escaping.
            #[inline(always)]
            unsafe fn hits(p: *const u8) -> u32 {
                let x = _mm_loadu_si128(p as *const __m128i);
                // x <= 0x1F (unsigned): min(x, 0x1F) == x
                let low = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x);
                let quote = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'"' as i8));
                let backslash = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'\\' as i8));
                _mm_movemask_epi8(_mm_or_si128(low, _mm_or_si128(quote, backslash))) as u32
            }
            while i + 16 <= b.len() {
                let mask = hits(b.as_ptr().add(i));
                if mask != 0 {
                    return Some(i + mask.trailing_zeros() as usize);
                }
                i += 16;
            }
            // The last few bytes: the sixteen that end the slice, those before `i`
            // (scanned above) masked out.
            if i < b.len() && b.len() >= 16 {
                let end = b.len() - 16;
                let mask = hits(b.as_ptr().add(end)) >> (i - end);
                return (mask != 0).then(|| i + mask.trailing_zeros() as usize);
            }
        }
    }
    find_escape_words(b, i)
}

/// [`find_escape`] eight bytes at a time, without SIMD (other targets, and the tail).
#[inline]
fn find_escape_words(b: &[u8], from: usize) -> Option<usize> {
    let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    let mut i = from;
    while i + 8 <= b.len() && !needs_escape(word(i)) {
        i += 8;
    }
    // The last few bytes, when the loop ran out (it did not stop at a word with one):
    // if the word that ends the slice has none, neither have they.
    if b.len() - i < 8 && b.len() >= 8 && !needs_escape(word(b.len() - 8)) {
        return None;
    }
    b[i..].iter().position(|&c| NEEDS_ESCAPE[c as usize]).map(|p| p + i)
}

/// Whether any byte of a text of at most 32 bytes needs escaping. Words that may
/// overlap cover it (for fewer than eight bytes, pieces of it repeated fill the word):
/// a byte tested twice changes nothing to "any?", and every byte tested is the text's.
#[inline(always)]
fn short_needs_escape(b: &[u8]) -> bool {
    let n = b.len();
    debug_assert!(n <= SHORT);
    let word = |at: usize| escape_bits(u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes")));
    let half = |at: usize| u64::from(u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes")));
    let bits = if n > 16 {
        word(0) | word(8) | word(16.min(n - 8)) | word(n - 8)
    } else if n >= 8 {
        word(0) | word(n - 8)
    } else if n >= 4 {
        escape_bits(half(0) | half(n - 4) << 32)
    } else if n > 0 {
        // 1 to 3 bytes: the first, middle and last cover them
        let w = u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16;
        escape_bits((w | w << 24) | (w | w << 24) << 48)
    } else {
        0
    };
    bits != 0
}

/// The longest text [`short_needs_escape`] tests at once.
const SHORT: usize = 32;

/// Per byte value: whether JSON text needs it escaped.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Whether any of the eight bytes is below 0x20, `"` or `\` (exact: the classic
/// "has a zero byte" test, which never misses and, for the question "any?", never
/// invents one).
#[inline]
fn needs_escape(w: u64) -> bool {
    escape_bits(w) != 0
}

/// [`needs_escape`] as bits: the high bit of some byte is set when any byte needs it.
#[inline]
fn escape_bits(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let q = w ^ (ONES * b'"' as u64);
    let quote = q.wrapping_sub(ONES) & !q & HIGH;
    let s = w ^ (ONES * b'\\' as u64);
    let backslash = s.wrapping_sub(ONES) & !s & HIGH;
    control | quote | backslash
}

/// The letter after the backslash, or `u` for `\u00XX`; `None`: copied as is.
#[inline]
fn escape(b: u8) -> Option<u8> {
    Some(match b {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x09 => b't',
        0x0A => b'n',
        0x0C => b'f',
        0x0D => b'r',
        0x00..=0x1F => b'u',
        _ => return None,
    })
}

fn push_escape(out: &mut Vec<u8>, byte: u8) {
    let esc = escape(byte).unwrap_or(b'u');
    const HEX: &[u8; 16] = b"0123456789abcdef";
    if esc == b'u' {
        out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(byte >> 4) as usize], HEX[(byte & 0xF) as usize]]);
    } else {
        out.extend_from_slice(&[b'\\', esc]);
    }
}

/// Text the engine wrote itself in ASCII (digits, signs, separators of dates and money),
/// as a `str` without validating it again: `str::from_utf8` on every date and figure
/// of an assessment was a measurable share of writing it.
#[inline]
pub(crate) fn ascii_str(b: &[u8]) -> &str {
    if b.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(b) }
    } else {
        // Not reached by the callers (they write ASCII only); kept total rather than
        // trusting them.
        std::str::from_utf8(b).unwrap_or("")
    }
}

/// Appends an integer.
pub fn write_int(out: &mut Vec<u8>, n: i64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut u = n.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    put(out, &buf[at..]);
}

/// Appends a JSON value as `serde_json` writes it compactly (objects in the map's order).
pub fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // Exact numbers (the `arbitrary_precision` feature): the text as parsed or made.
        Value::Number(n) => out.extend_from_slice(n.as_str().as_bytes()),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, x);
            }
            out.push(b']');
        }
        Value::Object(m) => write_object(out, m.iter()),
    }
}

/// Appends `{"k":v,…}` from entries in the order given.
pub fn write_object<'a, K: AsRef<str> + 'a>(out: &mut Vec<u8>, entries: impl Iterator<Item = (K, &'a Value)>) {
    out.push(b'{');
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k.as_ref());
        out.push(b':');
        write_value(out, v);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde(s: &str) -> Vec<u8> {
        serde_json::to_vec(s).unwrap()
    }

    /// `put` appends exactly the bytes `extend_from_slice` does, for every length around
    /// its word sizes, onto buffers of every fill (so the spare room varies too).
    #[test]
    fn put_is_extend_from_slice() {
        let src: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for fill in 0..20 {
            for n in 0..=src.len() {
                let mut a = vec![b'#'; fill];
                a.shrink_to_fit();
                let mut b = a.clone();
                put(&mut a, &src[..n]);
                b.extend_from_slice(&src[..n]);
                assert_eq!(a, b, "fill {fill}, {n} bytes");
            }
        }
    }

    /// Texts up to 40 bytes with one byte to escape (or none) at every position, and
    /// every kind of byte there: written exactly as serde_json writes them (the short
    /// texts' test of the whole text, and the scans' last bytes).
    #[test]
    fn short_texts_with_an_escape_anywhere() {
        let specials: &[u8] = b"\"\\\x00\x01\x08\x0a\x1f\x20\x7e\x7f";
        for n in 0..=40 {
            for at in 0..=n {
                for &c in specials {
                    let mut b = vec![b'a'; n];
                    if at < n {
                        b[at] = c;
                    }
                    let text = String::from_utf8(b).unwrap();
                    let mut out = Vec::new();
                    write_str(&mut out, &text);
                    assert_eq!(out, serde(&text), "{text:?}");
                    let slow = text.bytes().position(|c| escape(c).is_some());
                    assert_eq!(short_needs_escape(&text.as_bytes()[..n.min(SHORT)]), slow.is_some_and(|p| p < SHORT), "{text:?}");
                    for from in 0..=n {
                        let slow = text.as_bytes()[from..].iter().position(|&c| escape(c).is_some()).map(|p| p + from);
                        assert_eq!(find_escape(text.as_bytes(), from), slow, "{text:?} from {from}");
                        assert_eq!(find_escape_words(text.as_bytes(), from), slow, "{text:?} from {from}");
                    }
                }
            }
        }
    }

    /// `same_bytes` answers as `==` for every length, with the texts differing at each
    /// place or not at all.
    #[test]
    fn same_bytes_is_equality() {
        for n in 0..=40 {
            let a: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same_bytes(&a, &a.clone()), "{n} bytes");
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_bytes(&a, &b), "{n} bytes, differing at {at}");
            }
            assert!(!same_bytes(&a, &a[..n.saturating_sub(1)]) || n == 0);
        }
    }

    /// The SIMD scan and the portable one find the same first byte, from every start.
    #[test]
    fn both_scans_agree() {
        let texts = ["", "a\"b", "家庭人均收入 1,234.00 元，低于标准\n", "0123456789abcdef\\0123456789abcdef\u{1f}x", "\u{7f}\u{80}ÿ"];
        for t in texts {
            let b = t.as_bytes();
            for from in 0..=b.len() {
                assert_eq!(find_escape(b, from), find_escape_words(b, from), "{t:?} from {from}");
                let slow = b[from..].iter().position(|&c| escape(c).is_some()).map(|p| p + from);
                assert_eq!(find_escape(b, from), slow, "{t:?} from {from}");
            }
        }
    }

    /// The same, on texts of every length up to 40 with a byte to escape at every
    /// position, next to the bytes the word test can flag falsely after one (0x23 after
    /// `"`, 0x5D after `\`, a space after a control character), from every start.
    #[test]
    fn scans_agree_at_every_length_and_position() {
        let fillers = [b'a', 0x23, 0x5D, b' '];
        let hits = [b'"', b'\\', 0x00, 0x1F];
        let mut seed = 12345u64;
        for len in 0..=40usize {
            for p in 0..=len {
                for (h, &hit) in hits.iter().enumerate() {
                    let mut b: Vec<u8> = (0..len).map(|k| fillers[(k + h) % fillers.len()]).collect();
                    if p < len {
                        b[p] = hit;
                    }
                    // sometimes a second one further on
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    if len > 0 && seed >> 62 == 0 {
                        let q = (seed >> 32) as usize % len;
                        b[q] = hits[(seed >> 20) as usize % hits.len()];
                    }
                    for from in 0..=len {
                        let slow = b[from..].iter().position(|&c| escape(c).is_some()).map(|x| x + from);
                        assert_eq!(find_escape(&b, from), slow, "{b:?} from {from}");
                        assert_eq!(find_escape_words(&b, from), slow, "{b:?} from {from} (words)");
                    }
                }
            }
        }
    }

    #[test]
    fn strings_escape_as_serde_json_does() {
        let mut samples: Vec<String> = vec![
            String::new(),
            "a".into(),
            "\"".into(),
            "\\".into(),
            "家庭人均收入 1,234.00 元，低于标准".into(),
            "tab\there, newline\n, cr\r, ff\x0c, bs\x08, nul\0, unit sep\x1f, del\x7f".into(),
            "12345678\"12345678\\1234567\n".into(),
            "«guillemets» and emoji 😀 and quote\" at the end\"".into(),
        ];
        // Every byte value that can appear in a str, at every offset of a word.
        for c in (0u32..0x80).chain([0xA9, 0x4E2D, 0x1F600]) {
            let ch = char::from_u32(c).unwrap();
            for pad in 0..17 {
                samples.push(format!("{}{}{}", "x".repeat(pad), ch, "中".repeat(pad % 5)));
            }
        }
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..5_000 {
            let mut s = String::new();
            for _ in 0..(seed % 40) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push(match seed % 6 {
                    0 => char::from((seed >> 8) as u8 & 0x7f),
                    1 => '"',
                    2 => '\\',
                    3 => '元',
                    _ => char::from(b'a' + (seed >> 16) as u8 % 26),
                });
            }
            samples.push(s);
        }
        for s in &samples {
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(out, serde(s), "{s:?}");
        }
    }

    #[test]
    fn integers_and_values_match_serde_json() {
        for n in [0i64, 1, -1, 9, 10, -10, 123_456_789, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            write_int(&mut out, n);
            assert_eq!(out, serde_json::to_vec(&n).unwrap());
        }
        let v: Value = serde_json::from_str(
            r#"{"b":[1,-2.50,"x\"y",null,true,false,{"z":{}},[]],"a":"中文\n","n":12345678901234567890123,"e":1e-7}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        write_value(&mut out, &v);
        assert_eq!(out, serde_json::to_vec(&v).unwrap());
    }
}
