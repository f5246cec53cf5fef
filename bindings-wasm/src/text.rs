//! UTF-8 → UTF-16, for handing the assessment to JavaScript: a JS string is UTF-16, and
//! decoding UTF-16 on the JS side is a copy, much cheaper than a UTF-8 decoder.

/// Replaces `out` with the UTF-16 code units of `s`.
pub fn utf8_to_utf16(s: &str, out: &mut Vec<u16>) {
    let bytes = s.as_bytes();
    out.clear();
    // A UTF-8 text never has more UTF-16 units than bytes.
    out.resize(bytes.len(), 0);
    let dst = &mut out[..];
    let (mut i, mut j) = (0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            dst[j] = b as u16;
            i += 1;
            j += 1;
            continue;
        }
        // `s` is valid UTF-8: the continuation bytes are there and well formed.
        if b < 0xE0 {
            dst[j] = ((b as u16 & 0x1F) << 6) | (bytes[i + 1] as u16 & 0x3F);
            i += 2;
            j += 1;
        } else if b < 0xF0 {
            dst[j] = ((b as u16 & 0x0F) << 12) | ((bytes[i + 1] as u16 & 0x3F) << 6) | (bytes[i + 2] as u16 & 0x3F);
            i += 3;
            j += 1;
        } else {
            let c = ((b as u32 & 0x07) << 18)
                | ((bytes[i + 1] as u32 & 0x3F) << 12)
                | ((bytes[i + 2] as u32 & 0x3F) << 6)
                | (bytes[i + 3] as u32 & 0x3F);
            let c = c - 0x1_0000;
            dst[j] = 0xD800 | (c >> 10) as u16;
            dst[j + 1] = 0xDC00 | (c & 0x3FF) as u16;
            i += 4;
            j += 2;
        }
    }
    out.truncate(j);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) {
        let mut out = vec![7u16; 3];
        utf8_to_utf16(s, &mut out);
        assert_eq!(out, s.encode_utf16().collect::<Vec<_>>(), "{s:?}");
        assert_eq!(String::from_utf16(&out).unwrap(), s);
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
        utf8_to_utf16("𠮷", &mut out);
        assert_eq!(out, [0xD842, 0xDFB7]);
    }

    #[test]
    fn every_scalar_value() {
        let all: String = (0..=0x10FFFFu32).filter_map(char::from_u32).collect();
        check(&all);
    }
}
