//! A household given as a parsed `serde_json::Value`, read by the same field readers as
//! JSON text ([`super::fast`]), walking the value itself.
//!
//! Why: `Engine::read` used to write the value out as text and read that text fast. The
//! writing cost ≈ 2 µs a household, and `serde_json`'s maps (sorted, without its
//! `preserve_order` feature) give their keys in an order the text reader's guess of the
//! next key always misses. A Rust caller holding a `Value` (a web handler's body) paid
//! ≈ 31–33 µs a household for `evaluate_many` against ≈ 23 µs for the same text
//! (docs/performance.md, seventeenth session).
//!
//! It answers exactly as the text path on the value's own JSON text does: `Some` with
//! the very same `Household` where that text reads fast, `None` (take the full reader)
//! wherever it gives up — a string that its JSON form would escape, a number outside the
//! plain forms, an unknown key, any validation problem. A test checks this on synthetic
//! households and on every give-up case of the words reader.

use super::fast::{amount_of, household, plain_number, settled, Field, Source};
use super::model::{Amount, Household};
use super::words::FIELDS;
use crate::date::Date;
use crate::money::StackText;
use serde_json::{Number, Value};

/// Reads a valid household from `v`, or `None` to take the full reader; `settle` as in
/// [`super::read_household_fast`].
pub fn read_household_value(v: &Value, settle: impl FnOnce(Option<Date>) -> Option<Date>) -> Option<Household> {
    let h = household(&mut Walk { cur: v })?;
    settled(h, settle)
}

/// The value the field readers are at: each reader of an object or an array points it
/// at a member before handing it on, so there is nothing to consume.
struct Walk<'a> {
    cur: &'a Value,
}

/// A number's text, as its JSON form writes it (`arbitrary_precision` keeps the text it
/// was read from), written into `buf` on the stack, when that is a plain form the text
/// reader takes (`0`, `123`, `123.45`). A text longer than `buf` (64 bytes) gives up,
/// which is always safe (the full reader answers); no valid amount or count is that long.
fn plain<'b>(n: &Number, buf: &'b mut StackText) -> Option<&'b str> {
    use std::fmt::Write;
    write!(buf, "{n}").ok()?;
    Some(buf.as_str()).filter(|t| plain_number(t))
}

/// The field named `k`: looked for first among the object's own fields (`order`, a few),
/// by length and then bytes, then in all of [`FIELDS`]. `serde_json` gives an object's
/// keys sorted, so guessing the next one from the form's order (as the text reader
/// does) would miss; a binary search of every key cost a tenth of the read.
#[inline]
fn field_named(order: &[Field], k: &str) -> Option<Field> {
    let b = k.as_bytes();
    for &f in order {
        if crate::json::same_bytes(FIELDS[usize::from(f)].as_bytes(), b) {
            return Some(f);
        }
    }
    Field::try_from(FIELDS.binary_search(&k).ok()?).ok()
}

impl<'a> Source<'a> for Walk<'a> {
    #[inline]
    fn null(&mut self) -> bool {
        self.cur.is_null()
    }

    /// A string its JSON form writes without escapes (the text reader gives up on those).
    #[inline]
    fn str(&mut self) -> Option<&'a str> {
        let cur: &'a Value = self.cur;
        match cur {
            Value::String(s) if crate::json::find_escape(s.as_bytes(), 0).is_none() => Some(s),
            _ => None,
        }
    }

    fn boolean(&mut self) -> Option<bool> {
        self.cur.as_bool()
    }

    fn amount(&mut self) -> Option<Amount> {
        match self.cur {
            Value::Number(n) => amount_of(plain(n, &mut StackText::default())?),
            Value::String(_) => amount_of(self.str()?),
            _ => None,
        }
    }

    fn count(&mut self, max: u64) -> Option<u32> {
        let Value::Number(n) = self.cur else { return None };
        let n: u64 = plain(n, &mut StackText::default())?.parse().ok()?;
        (n <= max).then_some(n as u32)
    }

    fn object(&mut self, order: &[Field], mut field: impl FnMut(&mut Self, Field) -> Option<()>) -> Option<()> {
        let cur: &'a Value = self.cur;
        let Value::Object(m) = cur else { return None };
        for (k, v) in m {
            let key = field_named(order, k)?;
            self.cur = v;
            field(self, key)?;
        }
        Some(())
    }

    fn array(&mut self, max: usize, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        let cur: &'a Value = self.cur;
        let Value::Array(items) = cur else { return None };
        if items.len() > max {
            return None;
        }
        for x in items {
            self.cur = x;
            item(self)?;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::words::tests::{gives_up_on_edits, opts, synthetic_households_read, GIVE_UP};
    use crate::{Engine, Options};
    use serde_json::Value;

    /// The value reader against the fast text reader on the JSON text of the same value.
    fn same_as_text(engine: &Engine, v: &Value, opts: &Options) -> bool {
        let from_value = super::read_household_value(v, |own| engine.settle_date(own, opts).ok());
        let from_text = engine.read_fast(&v.to_string(), opts);
        let show = |h: &Option<super::Household>| h.as_ref().map(|h| serde_json::to_string(h).expect("serializes"));
        assert_eq!(show(&from_value), show(&from_text), "{v}");
        from_value.is_some()
    }

    #[test]
    fn synthetic_households_read_as_their_text_reads() {
        synthetic_households_read(same_as_text);
    }

    #[test]
    fn it_gives_up_where_the_text_reader_does() {
        let own = [
            // texts that the JSON form escapes, and numbers outside the plain forms
            (r#""id":"h""#, r#""id":"h\"1""#),
            (r#""id":"h""#, r#""id":"h\\1""#),
            (r#""id":"h""#, r#""id":"h\n1""#),
            ("1000}", "0.5e3}"),
            ("1000}", "1000.00e0}"),
            // a count that is not a whole number, an unknown key, not an object
            (r#""assets":{"#, r#""assets":{"homes":1.5,"#),
            (r#""assets":{"#, r#""assets":{"yachts":1,"#),
            (r#""members":[{"#, r#""members":[3,{"#),
        ];
        let (engine, _) = gives_up_on_edits(same_as_text, &own);
        let base = GIVE_UP.0;
        // Whatever the text reader answers on these, the value reader answers the same.
        for (from, to) in [
            (r#""id":"h""#, r#""id":"户/1""#),
            ("1000}", "1000.0}"),
            ("1000}", "1000.125}"),
            ("1000}", "0}"),
            (r#""assets":{"#, r#""assets":{"homes":2,"vehicles":[],"#),
        ] {
            let edited: Value = serde_json::from_str(&base.replace(from, to)).unwrap();
            same_as_text(&engine, &edited, &opts());
        }
        for not_a_household in ["[]", "3", "null", r#""h""#] {
            assert!(!same_as_text(&engine, &serde_json::from_str(not_a_household).unwrap(), &opts()));
        }
    }

    #[test]
    fn the_engine_reads_a_value_as_its_text() {
        // Through the public calls: the same household, the same errors.
        let engine = Engine::new().expect("default pack");
        let date = crate::parse_date("2025-03-01").unwrap();
        for line in crate::synth::synth(&engine, 50, 5, None, date).expect("synth") {
            let v: Value = serde_json::from_str(&line).unwrap();
            let (a, b) = (engine.read(&v, &opts()).unwrap(), engine.read_str(&line, &opts()).unwrap());
            assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        }
        let bad: Value = serde_json::from_str(&GIVE_UP.0.replace("\"head\"", "\"boss\"")).unwrap();
        let (a, b) = (engine.read(&bad, &opts()).unwrap_err(), engine.read_str(&bad.to_string(), &opts()).unwrap_err());
        assert_eq!(a.to_string(), b.to_string());
    }
}
