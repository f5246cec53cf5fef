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
            // Sixteen bytes a step with wasm SIMD (build.sh builds with +simd128): the
            // high bits say whether all are ASCII, and widening makes the units.
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            while i + 16 <= n {
                use std::arch::wasm32::*;
                // SAFETY: i + 16 <= n reads inside `bytes`; j <= i, so j + 16 <= n <= dst.len().
                let x = unsafe { v128_load(bytes.as_ptr().add(i) as *const v128) };
                if u8x16_bitmask(x) != 0 {
                    break;
                }
                unsafe {
                    let d = dst.as_mut_ptr().add(j) as *mut v128;
                    v128_store(d, u16x8_extend_low_u8x16(x));
                    v128_store(d.add(1), u16x8_extend_high_u8x16(x));
                }
                i += 16;
                j += 16;
            }
            while i + 8 <= n {
                let src: &[u8; 8] = bytes[i..i + 8].try_into().expect("8 bytes");
                let x = u64::from_le_bytes(*src);
                if x & 0x8080_8080_8080_8080 != 0 {
                    break;
                }
                // Each byte to a 16-bit lane, four lanes a word.
                let spread = |w: u64| {
                    let w = (w | (w << 16)) & 0x0000_FFFF_0000_FFFF;
                    (w | (w << 8)) & 0x00FF_00FF_00FF_00FF
                };
                let (lo, hi) = (spread(x & 0xFFFF_FFFF), spread(x >> 32));
                let d: &mut [u16; 8] = (&mut dst[j..j + 8]).try_into().expect("8 units");
                *d = [lo as u16, (lo >> 16) as u16, (lo >> 32) as u16, (lo >> 48) as u16, hi as u16, (hi >> 16) as u16, (hi >> 32) as u16, (hi >> 48) as u16];
                i += 8;
                j += 8;
            }
            if i >= n {
                break;
            }
        }
        let b = bytes[i];
        let low = |c: u8| (c & 0x3F) as u32;
        // A sequence cut short by the end of the text (not UTF-8) ends the conversion.
        let (c, len) = match b {
            0..=0x7F => (b as u32, 1),
            0x80..=0xDF => match bytes.get(i..i + 2) {
                Some(&[_, b1]) => (((b as u32 & 0x1F) << 6) | low(b1), 2),
                _ => break,
            },
            0xE0..=0xEF => match bytes.get(i..i + 3) {
                Some(&[_, b1, b2]) => (((b as u32 & 0x0F) << 12) | (low(b1) << 6) | low(b2), 3),
                _ => break,
            },
            _ => match bytes.get(i..i + 4) {
                Some(&[_, b1, b2, b3]) => (((b as u32 & 0x07) << 18) | (low(b1) << 12) | (low(b2) << 6) | low(b3), 4),
                _ => break,
            },
        };
        i += len;
        if c < 0x1_0000 {
            dst[j] = c as u16;
            j += 1;
        } else {
            // Four bytes give two units: there is room (j + 2 <= i <= n).
            let c = c - 0x1_0000;
            dst[j] = 0xD800 | (c >> 10) as u16;
            dst[j + 1] = 0xDC00 | (c & 0x3FF) as u16;
            j += 2;
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
