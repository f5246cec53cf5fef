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
    utf8_into(bytes, out)
}

/// [`utf8_to_utf16`] into `dst`, which has room for a unit per byte (`dst.len() >=
/// bytes.len()`; less panics).
pub fn utf8_into(bytes: &[u8], dst: &mut [u16]) -> usize {
    let n = bytes.len();
    // With wasm SIMD, sixteen bytes a step while sixteen are left; the rest below.
    #[cfg(target_arch = "wasm32")]
    let (mut i, mut j) = simd::convert(bytes, dst);
    #[cfg(not(target_arch = "wasm32"))]
    let (mut i, mut j) = (0, 0);
    while i < n {
        // ASCII, eight bytes a step (the JSON around the messages is ASCII); within a run
        // of other characters (a Chinese message) go straight to decoding them.
        if bytes[i] < 0x80 {
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
        // A sequence cut short by the end of the text (not UTF-8) ends the conversion.
        let Some((c, len)) = decode(bytes, i) else { break };
        i += len;
        j = push(dst, j, c);
    }
    j
}

/// The character that starts at `bytes[i]` and its length in bytes; `None` when the
/// text ends inside it.
#[inline(always)]
fn decode(bytes: &[u8], i: usize) -> Option<(u32, usize)> {
    let b = bytes[i];
    let low = |c: u8| (c & 0x3F) as u32;
    Some(match b {
        0..=0x7F => (b as u32, 1),
        0x80..=0xDF => match bytes.get(i..i + 2)? {
            &[_, b1] => (((b as u32 & 0x1F) << 6) | low(b1), 2),
            _ => return None,
        },
        0xE0..=0xEF => match bytes.get(i..i + 3)? {
            &[_, b1, b2] => (((b as u32 & 0x0F) << 12) | (low(b1) << 6) | low(b2), 3),
            _ => return None,
        },
        _ => match bytes.get(i..i + 4)? {
            &[_, b1, b2, b3] => (((b as u32 & 0x07) << 18) | (low(b1) << 12) | (low(b2) << 6) | low(b3), 4),
            _ => return None,
        },
    })
}

/// Writes `c` at `dst[j]` as one unit or two (a surrogate pair) and returns the next j.
#[inline(always)]
fn push(dst: &mut [u16], j: usize, c: u32) -> usize {
    if c < 0x1_0000 {
        dst[j] = c as u16;
        j + 1
    } else {
        // Four bytes give two units: there is room (j + 2 <= i <= n).
        let c = c - 0x1_0000;
        dst[j] = 0xD800 | (c >> 10) as u16;
        dst[j + 1] = 0xDC00 | (c & 0x3FF) as u16;
        j + 2
    }
}

/// The length of the ASCII start of `b`.
pub fn ascii_prefix(b: &[u8]) -> usize {
    #[cfg(target_arch = "wasm32")]
    let mut i = simd::ascii_len(b);
    #[cfg(not(target_arch = "wasm32"))]
    let mut i = 0;
    while i + 8 <= b.len() && u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes")) & 0x8080_8080_8080_8080 == 0 {
        i += 8;
    }
    i + b[i..].iter().take_while(|c| c.is_ascii()).count()
}

/// `std::str::from_utf8`, the ASCII start checked first with [`ascii_prefix`] (std's check
/// goes four bytes a step on wasm32; a household's JSON text is mostly ASCII).
pub fn from_utf8(b: &[u8]) -> Result<&str, std::str::Utf8Error> {
    let k = ascii_prefix(b);
    // ASCII bytes are whole characters: b is UTF-8 if the rest is.
    std::str::from_utf8(&b[k..])?;
    // SAFETY: b[..k] is ASCII and b[k..] is UTF-8.
    Ok(unsafe { std::str::from_utf8_unchecked(b) })
}

/// Wasm SIMD (simd128: Node 16.4+, every current browser), enabled for these functions
/// only: built with +simd128 for the whole crate (and the core's SIMD JSON scan), the
/// module ran ≈ 1.5 % slower in Node 20 although it executed 12 % fewer instructions;
/// LLVM then also moves values of 16 bytes and more with v128 loads and stores.
#[cfg(target_arch = "wasm32")]
mod simd {
    use std::arch::wasm32::*;

    /// How many bytes from the start are ASCII, in whole steps of sixteen.
    #[target_feature(enable = "simd128")]
    pub fn ascii_len(b: &[u8]) -> usize {
        let mut i = 0;
        while i + 16 <= b.len() {
            // SAFETY: i + 16 <= len, inside `b`.
            let x = unsafe { v128_load(b.as_ptr().add(i) as *const v128) };
            if u8x16_bitmask(x) != 0 {
                break;
            }
            i += 16;
        }
        i
    }

    /// 32 bytes (`x`, then `y`) widened to 32 units at `d`: ASCII as UTF-16.
    ///
    /// SAFETY: `d` points to 32 writable units (v128_store needs no alignment).
    #[target_feature(enable = "simd128")]
    #[inline]
    unsafe fn widen(d: *mut v128, x: v128, y: v128) {
        unsafe {
            v128_store(d, u16x8_extend_low_u8x16(x));
            v128_store(d.add(1), u16x8_extend_high_u8x16(x));
            v128_store(d.add(2), u16x8_extend_low_u8x16(y));
            v128_store(d.add(3), u16x8_extend_high_u8x16(y));
        }
    }

    /// The units of three-byte characters from their lead, second and third bytes, one
    /// character a 16-bit lane, the continuation bytes already masked to their six bits:
    /// `(lead & 0x0F) << 12 | b1 << 6 | b2`, as `decode` computes it (the shift drops the
    /// lead's high bits out of the lane).
    #[target_feature(enable = "simd128")]
    #[inline]
    fn three_byte_units(lead: v128, b1: v128, b2: v128) -> v128 {
        v128_or(u16x8_shl(lead, 12), v128_or(u16x8_shl(b1, 6), b2))
    }

    /// The start of [`convert`]: thirty-two bytes a step while thirty-two are left, up to
    /// 32 ASCII bytes or ten three-byte characters a step. Each step of sixteen was a chain
    /// of load, bitmask and count that the next step's load waited for; here a step of 32
    /// ASCII bytes or ten characters (the usual ones in an assessment's mixed Chinese and
    /// ASCII) advances by a constant, so along a run the next load need not wait (≈ 1.5 →
    /// 0.8 µs an assessment in Node 20). The same units as [`convert`]'s steps; j <= i
    /// throughout, so stores of up to 32 units at j fit where 32 bytes at i are read.
    #[target_feature(enable = "simd128")]
    fn wide(bytes: &[u8], dst: &mut [u16]) -> (usize, usize) {
        let (mut i, mut j) = (0, 0);
        let even = u16x8_splat(0x00FF);
        let low6 = u16x8_splat(0x3F);
        let top4 = u16x8_splat(0xF0);
        let e0 = u16x8_splat(0xE0);
        while i + 32 <= bytes.len() {
            // SAFETY: i + 32 <= len, inside `bytes`.
            let x = unsafe { v128_load(bytes.as_ptr().add(i) as *const v128) };
            let y = unsafe { v128_load(bytes.as_ptr().add(i + 16) as *const v128) };
            let d = dst[j..j + 32].as_mut_ptr() as *mut v128;
            let high = u8x16_bitmask(x) as u32 | (u8x16_bitmask(y) as u32) << 16;
            if high == 0 {
                // 32 ASCII bytes: a fixed step, so the next load does not wait for this
                // one's bitmask (the branch is predicted along a run of ASCII)
                // SAFETY: d is 32 units of `dst`.
                unsafe { widen(d, x, y) };
                i += 32;
                j += 32;
                continue;
            }
            if high & 1 == 0 {
                // ASCII up to the first byte that is not (fewer than 32)
                let k = high.trailing_zeros() as usize;
                // SAFETY: as above.
                unsafe { widen(d, x, y) };
                i += k;
                j += k;
            } else if bytes[i] & 0xF0 == 0xE0 {
                // Up to eight three-byte characters from bytes 0..24, then (when all eight
                // are) two more from bytes 24..30, decoded as `decode` decodes them. The
                // shuffles put each character's bytes in the low byte of a 16-bit lane; the
                // high bytes (any byte) are masked off.
                let lead = v128_and(u8x16_shuffle::<0, 0, 3, 0, 6, 0, 9, 0, 12, 0, 15, 0, 18, 0, 21, 0>(x, y), even);
                let b1 = v128_and(u8x16_shuffle::<1, 0, 4, 0, 7, 0, 10, 0, 13, 0, 16, 0, 19, 0, 22, 0>(x, y), low6);
                let b2 = v128_and(u8x16_shuffle::<2, 0, 5, 0, 8, 0, 11, 0, 14, 0, 17, 0, 20, 0, 23, 0>(x, y), low6);
                let k = u16x8_bitmask(u16x8_eq(v128_and(lead, top4), e0)).trailing_ones() as usize;
                // SAFETY: as above.
                unsafe { v128_store(d, three_byte_units(lead, b1, b2)) };
                if k < 8 {
                    i += 3 * k;
                    j += k;
                    continue;
                }
                // bytes 24..30 are y's 8..14
                let lead = v128_and(u8x16_shuffle::<8, 0, 11, 0, 8, 0, 8, 0, 8, 0, 8, 0, 8, 0, 8, 0>(y, y), even);
                let b1 = v128_and(u8x16_shuffle::<9, 0, 12, 0, 9, 0, 9, 0, 9, 0, 9, 0, 9, 0, 9, 0>(y, y), low6);
                let b2 = v128_and(u8x16_shuffle::<10, 0, 13, 0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 0>(y, y), low6);
                // at most two: lanes 2-7 repeat lane 0 and are not counted
                let m = u16x8_bitmask(u16x8_eq(v128_and(lead, top4), e0)) & 3;
                // SAFETY: as above (units 8..16 of the 32).
                unsafe { v128_store(d.add(1), three_byte_units(lead, b1, b2)) };
                if m == 3 {
                    // ten characters: a fixed step, as for 32 ASCII bytes
                    i += 30;
                    j += 10;
                    continue;
                }
                let k = m.trailing_ones() as usize;
                i += 24 + 3 * k;
                j += 8 + k;
            } else {
                // Two or four bytes: one character the plain way.
                let Some((c, len)) = super::decode(bytes, i) else { break };
                i += len;
                j = super::push(dst, j, c);
            }
        }
        (i, j)
    }

    /// [`super::utf8_to_utf16`] with SIMD ([`wide`] first, then sixteen bytes a step while
    /// sixteen are left); returns how far it went (i in the bytes, j in the units). j <= i
    /// throughout (a unit per byte at most), so a store of sixteen units at j fits in `dst`
    /// wherever a load of sixteen bytes at i fits in `bytes`; units stored past what a step
    /// counts are overwritten by the next steps or lie past the result.
    #[target_feature(enable = "simd128")]
    pub fn convert(bytes: &[u8], dst: &mut [u16]) -> (usize, usize) {
        let (mut i, mut j) = wide(bytes, dst);
        let zero = u8x16_splat(0);
        let low6 = u16x8_splat(0x3F);
        while i + 16 <= bytes.len() {
            // SAFETY: i + 16 <= len, inside `bytes`.
            let x = unsafe { v128_load(bytes.as_ptr().add(i) as *const v128) };
            let d = dst[j..j + 16].as_mut_ptr() as *mut v128;
            // the high bit of each byte: ASCII bytes have none
            let high = u8x16_bitmask(x);
            if high & 1 == 0 {
                // ASCII up to the first byte that is not: every byte widened to a unit
                let k = high.trailing_zeros() as usize;
                // SAFETY: d is 16 units (32 bytes) of `dst`; v128_store needs no alignment.
                unsafe {
                    v128_store(d, u16x8_extend_low_u8x16(x));
                    v128_store(d.add(1), u16x8_extend_high_u8x16(x));
                }
                i += k;
                j += k;
            } else if bytes[i] & 0xF0 == 0xE0 {
                // Up to five three-byte characters (Chinese text), decoded as `decode`
                // decodes them (which does not check the other two bytes either): the
                // lead, second and third bytes of each in a 16-bit lane (16: a zero byte).
                let lead = u8x16_shuffle::<0, 16, 3, 16, 6, 16, 9, 16, 12, 16, 16, 16, 16, 16, 16, 16>(x, zero);
                let b1 = u8x16_shuffle::<1, 16, 4, 16, 7, 16, 10, 16, 13, 16, 16, 16, 16, 16, 16, 16>(x, zero);
                let b2 = u8x16_shuffle::<2, 16, 5, 16, 8, 16, 11, 16, 14, 16, 16, 16, 16, 16, 16, 16>(x, zero);
                // how many lanes from the first have a three-byte lead (at least the
                // first; lanes 5-7 never)
                let k = u16x8_bitmask(u16x8_eq(v128_and(lead, u16x8_splat(0xF0)), u16x8_splat(0xE0))).trailing_ones() as usize;
                // SAFETY: as above (8 of the 16 units).
                unsafe { v128_store(d, three_byte_units(lead, v128_and(b1, low6), v128_and(b2, low6))) };
                i += 3 * k;
                j += k;
            } else {
                // Two or four bytes: one character the plain way (16 bytes are left, so
                // the text does not end inside it).
                let Some((c, len)) = super::decode(bytes, i) else { break };
                i += len;
                j = super::push(dst, j, c);
            }
        }
        (i, j)
    }
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
    fn ascii_prefix_and_from_utf8() {
        let texts: [&[u8]; 8] = [b"", b"{\"id\":1}", &[b'a'; 40], "家".as_bytes(), b"0123456789abcdef0123\xe5", b"0123456789abcdef\x80", b"ok\xff", b"abcdefghijklmnopqrstuvwxyz\xc3\xa9xyz"];
        for t in texts {
            let k = ascii_prefix(t);
            assert_eq!(k, t.iter().position(|c| !c.is_ascii()).unwrap_or(t.len()), "{t:?}");
            assert_eq!(from_utf8(t).ok(), std::str::from_utf8(t).ok(), "{t:?}");
        }
    }

    #[test]
    fn every_scalar_value() {
        let all: String = (0..=0x10FFFFu32).filter_map(char::from_u32).collect();
        check(&all);
    }
}
