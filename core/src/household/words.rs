//! A household as words: the form the WebAssembly package's JavaScript writes of a
//! household object, read by the same field readers as JSON text ([`super::fast`]).
//!
//! Why: in the browser, `JSON.stringify` of the household and then reading that text
//! again took a third of an `evaluate(object)` call. A walk in JavaScript that writes
//! 32-bit words (and the strings' UTF-8 bytes) straight into wasm memory costs less than
//! the text, and reading words needs no scanning.
//!
//! Like the fast reader, this path only answers for a valid household, and then with
//! the very `Household` that the JSON text of the same object gives; at anything else it
//! gives up (`None`) and the caller takes the text path, which reports every problem.
//!
//! The words (each an `i32`; `a`, `b` are byte offsets into the strings' UTF-8 text):
//!
//! | words | value |
//! |---|---|
//! | `0` | `null` |
//! | `1` / `2` | `true` / `false` |
//! | `3 v` | a number that is an integer `v` (as `JSON.stringify` writes it: `-0` is `0`) |
//! | `4 a b` | any other finite number, its text `String(x)` (what `JSON.stringify` writes) |
//! | `5 a b` | a string |
//! | `8 n` then `n` values | an array |
//! | `9 n` then `n` × (field, value) | an object; a field is its position in [`FIELDS`] |

use super::fast::{amount_of, household, plain_number, settled, Field, Source};
use super::model::{Amount, Household};
use crate::date::Date;
use rust_decimal::Decimal;

// The ops, numbered as in the assessment's tape that the wasm package writes the other
// way (its sink adds names, 6 and 7, and a few more), so that one table describes both.
pub const NULL: i32 = 0;
pub const TRUE: i32 = 1;
pub const FALSE: i32 = 2;
pub const INT: i32 = 3;
pub const NUM: i32 = 4;
pub const STR: i32 = 5;
pub const ARR: i32 = 8;
pub const OBJ: i32 = 9;

/// Every field name of the household form (interfaces: household.md), at every level. A
/// key not here cannot be valid, so the JavaScript walker gives up on it; a test checks
/// this list against the household's JSON schema.
pub const FIELDS: &[&str] = &[
    "aid_received",
    "area",
    "as_of",
    "assets",
    "basic_insurance_paid",
    "birth_date",
    "boarding",
    "business_registered",
    "compensation",
    "critical_illness_paid",
    "date",
    "deposits",
    "disability_grade",
    "education",
    "employment",
    "events",
    "expenses",
    "history",
    "homes",
    "id",
    "in_scope_cost",
    "incomes",
    "kind",
    "level",
    "local_hukou",
    "loss",
    "medical",
    "members",
    "monthly",
    "orphan",
    "other",
    "other_paid",
    "refused_offers",
    "region",
    "registered_unemployed_months",
    "relation",
    "securities",
    "serious_illness",
    "sex",
    "status",
    "student",
    "subsistence_exit_income_since",
    "subsistence_last_amount",
    "subsistence_since",
    "temporary_aid_grants_12m",
    "tuition_per_year",
    "value",
    "vehicles",
    "work_capacity",
];

/// Reads a valid household from `words` (all of them) and `text` (the strings' bytes),
/// or `None` to take the text path; `settle` as in [`super::read_household_fast`].
pub fn read_household_words(
    words: &[i32],
    text: &str,
    settle: impl FnOnce(Option<Date>) -> Option<Date>,
) -> Option<Household> {
    let mut w = Words { w: words, s: text, i: 0 };
    let h = household(&mut w)?;
    if w.i != words.len() {
        return None;
    }
    settled(h, settle)
}

struct Words<'a> {
    w: &'a [i32],
    s: &'a str,
    i: usize,
}

impl<'a> Words<'a> {
    #[inline]
    fn next(&mut self) -> Option<i32> {
        let v = *self.w.get(self.i)?;
        self.i += 1;
        Some(v)
    }

    /// `a b`: the text between them.
    #[inline]
    fn text(&mut self) -> Option<&'a str> {
        let a = self.next()? as u32 as usize;
        let b = self.next()? as u32 as usize;
        self.s.get(a..b)
    }

    /// A number's text in the plain forms the JSON reader takes (`0`, `123`, `123.45`);
    /// `String(x)` gives others (`1e+21`, `-5.5`) that it gives up on, and so does this.
    fn number(&mut self) -> Option<&'a str> {
        self.text().filter(|t| plain_number(t))
    }
}

impl<'a> Source<'a> for Words<'a> {
    #[inline]
    fn null(&mut self) -> bool {
        let null = self.w.get(self.i) == Some(&NULL);
        self.i += usize::from(null);
        null
    }

    #[inline]
    fn str(&mut self) -> Option<&'a str> {
        (self.next()? == STR).then_some(())?;
        self.text()
    }

    fn boolean(&mut self) -> Option<bool> {
        match self.next()? {
            TRUE => Some(true),
            FALSE => Some(false),
            _ => None,
        }
    }

    fn amount(&mut self) -> Option<Amount> {
        let text = match self.next()? {
            // `v` yuan: what `plain_amount` makes of its digits (a sign gives up there).
            INT => {
                let v = self.next()?;
                return (v >= 0).then(|| Amount(Decimal::new(i64::from(v) * 100, 2)));
            }
            NUM => self.number()?,
            STR => self.text()?,
            _ => return None,
        };
        amount_of(text)
    }

    fn count(&mut self, max: u64) -> Option<u32> {
        let n: u64 = match self.next()? {
            INT => u64::try_from(self.next()?).ok()?,
            NUM => self.number()?.parse().ok()?,
            _ => return None,
        };
        (n <= max).then_some(n as u32)
    }

    #[inline]
    fn object(&mut self, _order: &[Field], mut field: impl FnMut(&mut Self, Field) -> Option<()>) -> Option<()> {
        (self.next()? == OBJ).then_some(())?;
        let n = self.next()?;
        for _ in 0..n {
            // The key is a field's position already.
            let key = Field::try_from(self.next()?).ok().filter(|&k| usize::from(k) < FIELDS.len())?;
            field(self, key)?;
        }
        Some(())
    }

    #[inline]
    fn array(&mut self, max: usize, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        (self.next()? == ARR).then_some(())?;
        let n = usize::try_from(self.next()?).ok()?;
        if n > max {
            return None;
        }
        for _ in 0..n {
            item(self)?;
        }
        Some(())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::{Engine, Options};
    use serde_json::Value;

    /// What the JavaScript walker writes of `v`: integers that fit 32 bits as `INT`,
    /// other numbers as their text. `None` where it gives up (a key not in [`FIELDS`]).
    fn encode(v: &Value, words: &mut Vec<i32>, text: &mut String) -> Option<()> {
        let mut put = |s: &str, words: &mut Vec<i32>| {
            words.extend([text.len() as i32, (text.len() + s.len()) as i32]);
            text.push_str(s);
        };
        match v {
            Value::Null => words.push(NULL),
            Value::Bool(b) => words.push(if *b { TRUE } else { FALSE }),
            Value::Number(n) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
                Some(i) => words.extend([INT, i]),
                None => {
                    words.push(NUM);
                    put(&n.to_string(), words);
                }
            },
            Value::String(s) => {
                words.push(STR);
                put(s, words);
            }
            Value::Array(items) => {
                words.extend([ARR, items.len() as i32]);
                for x in items {
                    encode(x, words, text)?;
                }
            }
            Value::Object(m) => {
                words.extend([OBJ, m.len() as i32]);
                for (k, x) in m {
                    words.push(FIELDS.iter().position(|f| f == k)? as i32);
                    encode(x, words, text)?;
                }
            }
        }
        Some(())
    }

    /// Decimal-looking strings as the numbers a form would give (`"1800.50"` → 1800.5).
    pub(in crate::household) fn as_numbers(v: &mut Value) {
        match v {
            Value::String(s)
                if !s.is_empty()
                    && s.bytes().all(|c| c.is_ascii_digit() || c == b'.')
                    && s.matches('.').count() <= 1 =>
            {
                if let Ok(d) = s.parse::<Decimal>() {
                    *v = serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::Null);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(as_numbers),
            // Ids and region codes stay texts (as numbers they are invalid).
            Value::Object(m) => m
                .iter_mut()
                .filter(|(k, _)| *k != "id" && *k != "region")
                .for_each(|(_, x)| as_numbers(x)),
            _ => {}
        }
    }

    /// The words reader against the fast text reader on the JSON text of the same value.
    fn same_as_text(engine: &Engine, v: &Value, opts: &Options) -> bool {
        let (mut words, mut text) = (Vec::new(), String::new());
        let from_words =
            encode(v, &mut words, &mut text).and_then(|()| engine.read_words(&words, &text, opts));
        let from_text = engine.read_fast(&v.to_string(), opts);
        let show = |h: &Option<Household>| {
            h.as_ref()
                .map(|h| serde_json::to_string(h).expect("serializes"))
        };
        assert_eq!(show(&from_words), show(&from_text), "{v}");
        from_words.is_some()
    }

    pub(in crate::household) fn opts() -> Options {
        Options {
            default_as_of: crate::parse_date("2025-03-01"),
            ..Options::default()
        }
    }

    /// Checks a fast reader (`same`: it reads `v` and the text reader reads `v`'s text,
    /// asserts that both give the same, and answers whether it read) on 400 synthetic
    /// households, with their amounts as strings and as numbers: every one reads.
    pub(in crate::household) fn synthetic_households_read(same: impl Fn(&Engine, &Value, &Options) -> bool) {
        let engine = Engine::new().expect("default pack");
        let date = crate::parse_date("2025-03-01").unwrap();
        let mut read = 0;
        for line in crate::synth::synth(&engine, 400, 11, None, date).expect("synth") {
            let mut v: Value = serde_json::from_str(&line).expect("JSON");
            read += usize::from(same(&engine, &v, &opts()));
            as_numbers(&mut v);
            read += usize::from(same(&engine, &v, &opts()));
        }
        assert_eq!(
            read, 800,
            "every synthetic household reads, with amounts as strings and as numbers"
        );
    }

    #[test]
    fn synthetic_households_read_as_their_text_reads() {
        synthetic_households_read(same_as_text);
    }

    /// A valid household, and edits of its text each of which the fast readers give up
    /// on (a sign, an exponent, a text for an amount, a word or a date out of its range,
    /// a missing or empty id, a region too short).
    pub(in crate::household) const GIVE_UP: (&str, &[(&str, &str)]) = (
        r#"{"id":"h","region":"110105","as_of":"2025-03-01","members":[{"id":"m","relation":"head","birth_date":"1980-05-01","sex":"female","incomes":[{"kind":"wage","monthly":1800.5}]}],"assets":{"deposits":1000}}"#,
        &[
            ("1800.5", "-1800.5"),
            ("1800.5", "1e21"),
            ("1800.5", "\"abc\""),
            ("1000}", "-1}"),
            ("\"head\"", "\"boss\""),
            ("\"1980-05-01\"", "\"2030-05-01\""),
            ("\"female\"", "null"),
            (r#""id":"h","#, ""),
            (r#""id":"m","#, r#""id":"","#),
            ("110105", "11010"),
        ],
    );

    /// Checks a fast reader (`same` as in [`synthetic_households_read`]) on
    /// [`GIVE_UP`]: it reads the household, and gives up on each edit and on each of
    /// `more`. Returns the engine and the household's value for further checks.
    pub(in crate::household) fn gives_up_on_edits(
        same: impl Fn(&Engine, &Value, &Options) -> bool,
        more: &[(&str, &str)],
    ) -> (Engine, Value) {
        let engine = Engine::new().expect("default pack");
        let base = GIVE_UP.0;
        let v: Value = serde_json::from_str(base).unwrap();
        assert!(same(&engine, &v, &opts()));
        for &(from, to) in GIVE_UP.1.iter().chain(more) {
            let bad: Value = serde_json::from_str(&base.replace(from, to)).unwrap();
            assert!(!same(&engine, &bad, &opts()), "{from} -> {to}");
        }
        (engine, v)
    }

    #[test]
    fn it_gives_up_where_the_text_reader_does() {
        let (engine, v) = gives_up_on_edits(same_as_text, &[]);
        // Words the walker would never write: a field out of range, a wrong op, words left over.
        let (mut words, mut text) = (Vec::new(), String::new());
        encode(&v, &mut words, &mut text).unwrap();
        assert!(engine.read_words(&words, &text, &opts()).is_some());
        let mut longer = words.clone();
        longer.push(NULL);
        assert!(engine.read_words(&longer, &text, &opts()).is_none());
        assert!(engine
            .read_words(&words[..words.len() - 1], &text, &opts())
            .is_none());
        let mut field = words.clone();
        field[2] = FIELDS.len() as i32;
        assert!(engine.read_words(&field, &text, &opts()).is_none());
        let mut op = words.clone();
        op[0] = ARR;
        assert!(engine.read_words(&op, &text, &opts()).is_none());
        assert!(engine
            .read_words(&words, &text[..text.len() - 1], &opts())
            .is_none());
    }

    #[test]
    fn fields_are_the_household_schemas_property_names() {
        fn names(v: &Value, out: &mut std::collections::BTreeSet<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::Object(props)) = m.get("properties") {
                        out.extend(props.keys().cloned());
                    }
                    m.values().for_each(|x| names(x, out));
                }
                Value::Array(items) => items.iter().for_each(|x| names(x, out)),
                _ => {}
            }
        }
        let schema = serde_json::to_value(schemars::schema_for!(Household)).unwrap();
        let mut from_schema = std::collections::BTreeSet::new();
        names(&schema, &mut from_schema);
        let ours: std::collections::BTreeSet<String> =
            FIELDS.iter().map(|f| f.to_string()).collect();
        assert_eq!(ours, from_schema);
        assert!(FIELDS.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    }
}
