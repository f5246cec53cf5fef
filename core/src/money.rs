//! Exact money. Amounts are `rust_decimal::Decimal` from the JSON text to the output;
//! nothing on a money path ever passes through binary floating point.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Serialize, Serializer};

/// The largest amount a household may state: one trillion yuan. Far above any real
/// figure, far below where Decimal arithmetic in a rule could overflow.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0); // 10^12

/// `round2` of the policy: half away from zero, to 0.01 yuan.
pub fn round2(x: Decimal) -> Decimal {
    let r = x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    if r.is_zero() {
        Decimal::ZERO.round_dp(2)
    } else {
        r
    }
}

/// The decimal as a string with exactly two places, after `round2`.
pub fn format2(x: Decimal) -> String {
    let mut out = String::with_capacity(16);
    write2(&mut out, x, false);
    out
}

/// Like [`format2`], with thousands separators (`1,620.00`), for messages.
pub fn format_grouped(x: Decimal) -> String {
    let mut out = String::with_capacity(20);
    write2(&mut out, x, true);
    out
}

/// Writes `round2(x)` with two places, optionally grouping thousands. Money is
/// formatted on every line of output, so this avoids `Decimal`'s general formatter.
pub fn write2(out: &mut impl std::fmt::Write, x: Decimal, grouped: bool) {
    // Writing into a String or a StackText of 64 bytes cannot fail.
    let _ = try_write2(out, x, grouped);
}

fn try_write2(out: &mut impl std::fmt::Write, x: Decimal, grouped: bool) -> std::fmt::Result {
    // Two places or fewer (nearly every figure): nothing to round.
    let mut r = if x.scale() <= 2 { x } else { round2(x) };
    r.rescale(2);
    // 64-bit cents (nearly every figure): the writer of the JSON figures.
    if r.scale() == 2 {
        if let Ok(c) = i64::try_from(r.mantissa()) {
            let mut buf = [0u8; 32];
            let at = cents_into(c, grouped, &mut buf, 32);
            return out.write_str(crate::json::ascii_str(&buf[at..]));
        }
    }
    // Beyond (over 9×10^16 yuan, or too large to carry two places):
    // Decimal's own formatter, which writes the places the scale holds.
    let plain = r.to_string();
    out.write_str(&if grouped { group_plain(&plain) } else { plain })
}

/// Thousands separators in a plain decimal text (`-1234.5` → `-1,234.5`; `.00` added
/// when it has no fraction).
fn group_plain(plain: &str) -> String {
    let (sign, rest) = match plain.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", plain),
    };
    let (int, frac) = rest.split_once('.').unwrap_or((rest, "00"));
    let mut g = String::with_capacity(int.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            g.push(',');
        }
        g.push(ch);
    }
    format!("{sign}{g}.{frac}")
}

/// Parses a money amount from the text of a JSON number or string: exact, at most two
/// decimal places (trailing zeros beyond are fine), not negative, not above
/// [`MAX_AMOUNT`]. The error message is the part after the JSON path.
pub fn parse_amount(text: &str) -> Result<Decimal, String> {
    let value = parse_decimal_text(text).ok_or_else(|| {
        if looks_numeric(text) {
            format!("amount {text:?} is too large (at most 1000000000000)")
        } else {
            format!("not a decimal amount {text:?}")
        }
    })?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(format!("negative amount {text:?}"));
    }
    if value.normalize().scale() > 2 {
        return Err(format!("more than 2 decimal places in {text:?}"));
    }
    if value > MAX_AMOUNT {
        return Err(format!("amount {text:?} is too large (at most 1000000000000)"));
    }
    let mut v = value.normalize();
    v.rescale(2);
    Ok(v)
}

/// A JSON-style number (`-1.5e+30`) whatever its size.
fn looks_numeric(t: &str) -> bool {
    let t = t.strip_prefix('-').unwrap_or(t);
    let (mant, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mant_ok = match mant.split_once('.') {
        Some((a, b)) => digits(a) && digits(b),
        None => digits(mant),
    };
    mant_ok && exp.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
}

/// A plain decimal (`-12.5`, `1e3`); `None` for anything else, NaN and infinities included.
pub fn parse_decimal_text(text: &str) -> Option<Decimal> {
    let t = text.trim();
    if t.is_empty() || t.len() > 64 || t != text {
        return None;
    }
    let ok_chars = t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    if !ok_chars {
        return None;
    }
    if t.contains(['e', 'E']) {
        Decimal::from_scientific(t).ok()
    } else {
        Decimal::from_str_exact(t).ok()
    }
}

/// A money figure in output: serialized as a string with two places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Money(pub Decimal);

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // `format2` without its String: formatted on the stack (at most 32 bytes:
        // sign, 29 digits, point, or Decimal's own text for the largest values).
        let mut buf = StackText::default();
        if try_write2(&mut buf, self.0, false).is_ok() {
            s.serialize_str(buf.as_str())
        } else {
            s.serialize_str(&format2(self.0))
        }
    }
}

/// Appends `"x"` with two places (what `Money`'s serialization gives in JSON; the text
/// has only digits, `-` and `.`, so needs no escaping).
pub(crate) fn write_json(out: &mut Vec<u8>, x: Decimal) {
    if let Some(c) = cents(x) {
        let mut buf = [0u8; 32];
        buf[31] = b'"';
        let at = cents_into(c, false, &mut buf, 31) - 1;
        buf[at] = b'"';
        crate::json::put(out, &buf[at..]);
        return;
    }
    let mut buf = StackText::default();
    out.push(b'"');
    if try_write2(&mut buf, x, false).is_ok() {
        out.extend_from_slice(buf.as_str().as_bytes());
    } else {
        out.extend_from_slice(format2(x).as_bytes());
    }
    out.push(b'"');
}

/// The text of `x` with two places (`-1234.50`, as [`format2`] writes it, ASCII) made in
/// `buf` from its cents, when they fit 64 bits (every real figure); `None` for the
/// others, which [`write2`] writes.
#[inline]
pub fn cents_text(x: Decimal, buf: &mut [u8; 32]) -> Option<&[u8]> {
    let at = cents_into(cents(x)?, false, buf, 32);
    Some(&buf[at..])
}

/// Appends `x` as [`format_grouped`] writes it (`-1,234.50`), for the figures of messages.
pub(crate) fn write_grouped(out: &mut Vec<u8>, x: Decimal) {
    match cents(x) {
        Some(c) => {
            let mut buf = [0u8; 32];
            let at = cents_into(c, true, &mut buf, 32);
            crate::json::put(out, &buf[at..]);
        }
        None => out.extend_from_slice(format_grouped(x).as_bytes()),
    }
}

/// The cents of `x` when it has two places or fewer and fits 64 bits (every real
/// figure): then its text comes from the cents directly, with no rounding to do.
#[inline]
fn cents(x: Decimal) -> Option<i64> {
    let scale = x.scale();
    if scale > 2 {
        return None;
    }
    i64::try_from(x.mantissa()).ok().and_then(|m| m.checked_mul(if scale == 2 { 1 } else if scale == 1 { 10 } else { 100 }))
}

/// Writes `c` cents (`-1234.50`, or `-1,234.50` grouped) to end just before
/// `buf[end]`; returns where it starts. A zero is never negative (`-0.00` is `0.00`).
#[inline(always)]
fn cents_into(c: i64, grouped: bool, buf: &mut [u8; 32], end: usize) -> usize {
    let u = c.unsigned_abs();
    let frac = (u % 100) as usize;
    let mut at = end - 3;
    buf[at..end].copy_from_slice(&[b'.', PAIRS[2 * frac], PAIRS[2 * frac + 1]]);
    let int = u / 100;
    at = if grouped { grouped_digits(int, buf, at) } else { digits(int, buf, at) };
    if c < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    at
}

/// Writes `int` to end just before `buf[end]`, two digits a step (one division by 100
/// instead of two by 10); returns where it starts.
#[inline(always)]
fn digits(mut int: u64, buf: &mut [u8; 32], end: usize) -> usize {
    let mut at = end;
    while int >= 100 {
        let pair = (int % 100) as usize;
        int /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[2 * pair..2 * pair + 2]);
    }
    if int >= 10 {
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[2 * int as usize..2 * int as usize + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + int as u8;
    }
    at
}

/// Writes `int` with a comma every three digits to end just before `buf[end]`; returns
/// where it starts.
#[inline(always)]
fn grouped_digits(mut int: u64, buf: &mut [u8; 32], end: usize) -> usize {
    let mut at = end;
    let mut written = 0;
    loop {
        if written > 0 && written % 3 == 0 {
            at -= 1;
            buf[at] = b',';
        }
        at -= 1;
        buf[at] = b'0' + (int % 10) as u8;
        written += 1;
        int /= 10;
        if int == 0 {
            break;
        }
    }
    at
}

/// "00", "01", … "99": the digits of each number below 100.
static PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// A small text buffer on the stack (for [`Money`]'s serialization, and a number's text
/// in the value reader).
pub(crate) struct StackText {
    buf: [u8; 64],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        StackText { buf: [0; 64], len: 0 }
    }
}

impl StackText {
    pub(crate) fn as_str(&self) -> &str {
        // Only whole `str`s are ever written in.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    /// The formatter of earlier versions, kept as the reference.
    fn reference(x: Decimal, grouped: bool) -> String {
        let mut r = round2(x);
        r.rescale(2);
        let plain = r.to_string();
        if grouped { group_plain(&plain) } else { plain }
    }

    #[test]
    fn fast_formatting_matches_the_reference() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut values: Vec<Decimal> = ["0", "-0", "0.001", "-0.005", "0.005", "999.995", "1000", "-1234567.891", "79228162514264337593543950335", "-7922816251426433759354395033.5", "1e-20", "123456789012345678901234.56", "-99999999999999999999.999", "18446744073709551615.995", "184467440737095516.15", "5", "-5", "9.99", "10", "99.99", "100", "-100.01", "1000.5", "12345.67"]
            .iter()
            .map(|t| t.parse().unwrap_or_else(|_| Decimal::from_scientific(t).unwrap()))
            .collect();
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let scale = (seed % 8) as u32;
            let m = (seed >> 8) as i64 % 10_000_000_000_000;
            values.push(Decimal::new(if seed % 3 == 0 { -m } else { m }, scale));
        }
        for v in values {
            let mut json = Vec::new();
            write_json(&mut json, v);
            assert_eq!(String::from_utf8(json).unwrap(), format!("\"{}\"", reference(v, false)), "{v}");
            assert_eq!(format2(v), reference(v, false), "{v}");
            assert_eq!(format_grouped(v), reference(v, true), "{v}");
            let mut grouped = Vec::new();
            write_grouped(&mut grouped, v);
            assert_eq!(String::from_utf8(grouped).unwrap(), reference(v, true), "{v}");
        }
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(format2(d("0.125")), "0.13");
        assert_eq!(format2(d("0.135")), "0.14");
        assert_eq!(format2(d("2.665")), "2.67"); // banker's would give 2.66
        assert_eq!(format2(d("-0.125")), "-0.13");
        assert_eq!(format2(d("-0.001")), "0.00");
        assert_eq!(format2(d("7")), "7.00");
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(format_grouped(d("1620")), "1,620.00");
        assert_eq!(format_grouped(d("999.5")), "999.50");
        assert_eq!(format_grouped(d("1234567.891")), "1,234,567.89");
        assert_eq!(format_grouped(d("-1000")), "-1,000.00");
    }

    #[test]
    fn parses_amounts_exactly() {
        assert_eq!(parse_amount("1800.50").unwrap().to_string(), "1800.50");
        assert_eq!(parse_amount("0.1").unwrap().to_string(), "0.10");
        assert_eq!(parse_amount("1e3").unwrap().to_string(), "1000.00");
        assert_eq!(parse_amount("1.500").unwrap().to_string(), "1.50");
        assert_eq!(parse_amount("-5").unwrap_err(), "negative amount \"-5\"");
        assert!(parse_amount("1.005").unwrap_err().contains("more than 2 decimal places"));
        assert!(parse_amount("NaN").unwrap_err().contains("not a decimal"));
        assert!(parse_amount("inf").unwrap_err().contains("not a decimal"));
        assert!(parse_amount("1e30").unwrap_err().contains("too large"));
        assert!(parse_amount("123456789012345678901234567890").unwrap_err().contains("too large"));
        assert!(parse_amount(" 5").is_err());
        assert!(parse_amount("").is_err());
        assert!(parse_amount("12abc").is_err());
        assert_eq!(MAX_AMOUNT.to_string(), "1000000000000");
    }
}
