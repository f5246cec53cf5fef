//! UTF-8 → UTF-16, for handing the assessment to JavaScript: a JS string is UTF-16, and
//! decoding UTF-16 on the JS side is a copy, much cheaper than a UTF-8 decoder.

/// Writes the UTF-16 code units of the UTF-8 text `bytes` at the start of `out` (grown
/// as needed, never shrunk: no clearing per call) and returns how many there are. Total:
/// bytes that are not well-formed UTF-8 give some code units but never a panic (the
/// caller's JSON is UTF-8, so this is not checked again).
pub fn utf8_to_utf16(bytes: &[u8], out: &mut Vec<u16>) -> usize {
    // A UTF-8 text never has more UTF-16 units than bytes.
    if out.len() < bytes.len() {
        out.resize(bytes.len(), 0);
    }
    let dst = &mut out[..];
    let n = bytes.len();
    let (mut i, mut j) = (0, 0);
    while i < n {
        // ASCII, eight bytes a step (the JSON around the messages is ASCII); within a run
        // of other characters (a Chinese message) go straight to decoding them.
        if bytes[i] < 0x80 {
            while i + 8 <= n {
                let src: &[u8; 8] = bytes[i..i + 8].try_into().expect("8 bytes");
                if u64::from_le_bytes(*src) & 0x8080_8080_8080_8080 != 0 {
                    break;
                }
                for (d, s) in dst[j..j + 8].iter_mut().zip(src) {
                    *d = *s as u16;
                }
                i += 8;
                j += 8;
            }
            if i >= n {
                break;
            }
        }
        let b = bytes[i];
        let at = |k: usize| bytes.get(i + k).map_or(0, |c| (c & 0x3F) as u32);
        let (c, len) = if b < 0x80 {
            (b as u32, 1)
        } else if b < 0xE0 {
            (((b as u32 & 0x1F) << 6) | at(1), 2)
        } else if b < 0xF0 {
            (((b as u32 & 0x0F) << 12) | (at(1) << 6) | at(2), 3)
        } else {
            (((b as u32 & 0x07) << 18) | (at(1) << 12) | (at(2) << 6) | at(3), 4)
        };
        i += len;
        if c < 0x1_0000 {
            dst[j] = c as u16;
            j += 1;
        } else if j + 1 < dst.len() {
            // Four bytes give two units: there is room (j + 2 <= i).
            let c = c - 0x1_0000;
            dst[j] = 0xD800 | (c >> 10) as u16;
            dst[j + 1] = 0xDC00 | (c & 0x3FF) as u16;
            j += 2;
        } else {
            break; // a truncated sequence at the end (not UTF-8)
        }
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) {
        let mut out = vec![7u16; 3];
        let n = utf8_to_utf16(s.as_bytes(), &mut out);
        assert_eq!(out[..n], s.encode_utf16().collect::<Vec<_>>(), "{s:?}");
        assert_eq!(String::from_utf16(&out[..n]).unwrap(), s);
        // again into a longer buffer: only the first n units count
        let mut long = vec![7u16; s.len() + 10];
        assert_eq!(utf8_to_utf16(s.as_bytes(), &mut long), n);
        assert_eq!(long[..n], out[..n]);
    }

    #[test]
    fn ascii_and_empty() {
        check("");
        check("{\"amount\":\"2245.00\"}");
        check("\u{0}\u{7f}");
    }

    #[test]
    fn chinese_and_two_byte() {
        check("符合条件：特困供养，《社会救助暂行办法》");
        check("é ß ¥1,385.00 \u{80} \u{7ff} \u{800} \u{ffff} \u{fffd}");
        check("{\"message\":\"家庭人均收入 750.00 元\"}");
    }

    #[test]
    fn four_byte_chars_become_surrogate_pairs() {
        check("😀");
        check("a𠮷b\u{10000}\u{10ffff}");
        let mut out = Vec::new();
        let n = utf8_to_utf16("𠮷".as_bytes(), &mut out);
        assert_eq!(out[..n], [0xD842, 0xDFB7]);
    }

    #[test]
    fn not_utf8_never_panics() {
        let mut out = Vec::new();
        for bad in [&b"\xff"[..], b"\xe4\xb8", b"\xf0\x9f", b"ab\xf0", b"\xf0", b"\x80\x80\x80\x80\xf4\x8f\xbf\xbf\xf7"] {
            let n = utf8_to_utf16(bad, &mut out);
            assert!(n <= bad.len());
        }
    }

    #[test]
    fn every_scalar_value() {
        let all: String = (0..=0x10FFFFu32).filter_map(char::from_u32).collect();
        check(&all);
    }
}
