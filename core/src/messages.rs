//! Reason messages: per language, per reason code, a template and the legal basis.
//! A template names the reason's values: `{per_capita_income}`.

use crate::error::PackProblem;
use crate::money::write2;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageEntry {
    pub message: String,
    #[serde(default)]
    pub basis: String,
}

/// language → code → entry, plus per language the words that translate the values a
/// script reports as identifiers (`minor` → 未成年人) when they fill a message.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub by_lang: HashMap<String, HashMap<String, MessageEntry>>,
    pub words: HashMap<String, HashMap<String, String>>,
}

/// The table of value words in a messages file.
pub const WORDS_TABLE: &str = "_words";

#[derive(Deserialize)]
struct MessagesFile {
    #[serde(rename = "_words", default)]
    words: HashMap<String, String>,
    #[serde(flatten)]
    codes: HashMap<String, MessageEntry>,
}

/// A value to fill into a template.
pub enum Fill<'a> {
    Decimal(Decimal),
    Int(i64),
    Text(std::borrow::Cow<'a, str>),
    List(Vec<String>),
    Bool(bool),
}

impl Catalog {
    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, Vec<PackProblem>> {
        let mut cat = Catalog::default();
        let mut problems = Vec::new();
        for (file, text) in files {
            let lang = file.trim_start_matches("messages/").trim_end_matches(".toml").to_string();
            match toml::from_str::<MessagesFile>(text) {
                Ok(m) => {
                    cat.words.insert(lang.clone(), m.words);
                    cat.by_lang.insert(lang, m.codes);
                }
                Err(e) => problems.push(PackProblem {
                    file: file.into(),
                    line: e.span().map(|s| crate::params::line_of(text, s.start)),
                    message: e.message().to_string(),
                }),
            }
        }
        if problems.is_empty() { Ok(cat) } else { Err(problems) }
    }

    pub fn entry(&self, lang: &str, code: &str) -> Option<&MessageEntry> {
        self.by_lang.get(lang).and_then(|m| m.get(code))
    }
}

/// Placeholders `{name}` in a template, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Fills a template; an unknown placeholder stays as written, so a gap is visible.
/// Text values found in `words` are translated.
pub fn render<'a>(template: &str, lang: &str, words: Option<&HashMap<String, String>>, value: impl Fn(&str) -> Option<Fill<'a>>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    render_into(&mut out, template, lang, words, value);
    out
}

/// [`render`], appending to `out` (a buffer kept from one message to the next).
pub fn render_into<'a>(
    out: &mut String,
    template: &str,
    lang: &str,
    words: Option<&HashMap<String, String>>,
    value: impl Fn(&str) -> Option<Fill<'a>>,
) {
    let word = |t: &'_ str| -> String { words.and_then(|w| w.get(t)).cloned().unwrap_or_else(|| t.to_string()) };
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return;
        };
        let name = &after[..end];
        match value(name) {
            Some(Fill::Decimal(d)) => write2(out, d, true),
            Some(Fill::Int(i)) => {
                use std::fmt::Write;
                let _ = write!(out, "{i}");
            }
            Some(Fill::Text(t)) => out.push_str(words.and_then(|w| w.get(t.as_ref())).map_or(t.as_ref(), String::as_str)),
            Some(Fill::Bool(b)) => out.push_str(if b { "true" } else { "false" }),
            Some(Fill::List(l)) => {
                let items: Vec<String> = l.iter().map(|x| word(x)).collect();
                out.push_str(&items.join(if lang == "zh" { "、" } else { ", " }))
            }
            None => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
}

/// The catalog made ready for rendering, once per pack: for each reason code, per
/// language of the pack (in the pack's order), the template split at its placeholders and
/// the basis; found by a cheap hash of the code. [`Templates::render_into`] gives exactly
/// what [`render_into`] gives on the raw template.
#[derive(Debug, Default)]
pub(crate) struct Templates {
    by_code: HashMap<String, Vec<Option<Template>>, Fnv>,
    /// Per language of the pack: the words that translate text values.
    words: Vec<HashMap<String, String, Fnv>>,
}

#[derive(Debug)]
pub(crate) struct Template {
    parts: Vec<Part>,
    pub basis: String,
    /// `basis` as a JSON string, quotes included.
    pub basis_json: Box<[u8]>,
}

#[derive(Debug)]
enum Part {
    /// Literal text, and the same escaped for the inside of a JSON string.
    Text(String, Box<[u8]>),
    /// A placeholder's name, interned (as the keys of compiled rules' maps are).
    Hole(&'static str),
}

impl Template {
    /// Whether the template has no placeholder (its message is the same every time).
    pub fn is_fixed(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(..)))
    }
}

impl Templates {
    pub fn new(catalog: &Catalog, languages: &[String]) -> Templates {
        let mut by_code: HashMap<String, Vec<Option<Template>>, Fnv> = HashMap::default();
        for (i, lang) in languages.iter().enumerate() {
            for (code, entry) in catalog.by_lang.get(lang).into_iter().flatten() {
                let slots = by_code.entry(code.clone()).or_insert_with(|| (0..languages.len()).map(|_| None).collect());
                let mut basis_json = Vec::new();
                crate::json::write_str(&mut basis_json, &entry.basis);
                slots[i] = Some(Template { parts: split(&entry.message), basis: entry.basis.clone(), basis_json: basis_json.into() });
            }
        }
        let words = languages
            .iter()
            .map(|l| catalog.words.get(l).map(|w| w.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default())
            .collect();
        Templates { by_code, words }
    }

    /// The template of `code` in language number `lang`, else in the first language.
    pub fn get(&self, code: &str, lang: usize) -> Option<&Template> {
        let slots = self.by_code.get(code)?;
        slots.get(lang).and_then(Option::as_ref).or_else(|| slots.first().and_then(Option::as_ref))
    }

    /// Fills `t` (see [`render_into`]) in language number `lang` (named `lang_name`).
    pub fn render_into<'a>(&self, out: &mut String, t: &Template, lang: usize, lang_name: &str, value: impl Fn(&'static str) -> Option<Fill<'a>>) {
        self.fill(out, t, lang, lang_name, value)
    }

    /// [`Templates::render_into`] as a JSON string (quotes included) appended to `out`:
    /// the literal parts were escaped once, when the pack loaded; only the figures and
    /// words filled in are escaped here.
    pub fn render_json_into<'a>(&self, out: &mut Vec<u8>, t: &Template, lang: usize, lang_name: &str, value: impl Fn(&'static str) -> Option<Fill<'a>>) {
        out.push(b'"');
        self.fill(&mut JsonText(out), t, lang, lang_name, value);
        out.push(b'"');
    }

    /// `value` is asked for each placeholder by its interned name.
    fn fill<'a>(&self, out: &mut impl MessageOut, t: &Template, lang: usize, lang_name: &str, value: impl Fn(&'static str) -> Option<Fill<'a>>) {
        let words = self.words.get(lang);
        let word = |t: &str| -> String { words.and_then(|w| w.get(t)).cloned().unwrap_or_else(|| t.to_string()) };
        for part in &t.parts {
            match part {
                Part::Text(text, json) => out.literal(text, json),
                Part::Hole(name) => match value(name) {
                    Some(Fill::Decimal(d)) => out.decimal(d),
                    Some(Fill::Int(i)) => out.int(i),
                    Some(Fill::Text(t)) => out.piece(words.and_then(|w| w.get(t.as_ref())).map_or(t.as_ref(), String::as_str)),
                    Some(Fill::Bool(b)) => out.piece(if b { "true" } else { "false" }),
                    Some(Fill::List(l)) => {
                        let items: Vec<String> = l.iter().map(|x| word(x)).collect();
                        out.piece(&items.join(if lang_name == "zh" { "、" } else { ", " }))
                    }
                    None => {
                        out.piece("{");
                        out.piece(name);
                        out.piece("}");
                    }
                },
            }
        }
    }
}

/// Where a message is filled: plain text, or the inside of a JSON string.
trait MessageOut {
    /// A literal part of the template, as text and as escaped JSON.
    fn literal(&mut self, text: &str, json: &[u8]);
    /// A filled-in text.
    fn piece(&mut self, s: &str);
    /// A figure, grouped with two places.
    fn decimal(&mut self, d: Decimal);
    fn int(&mut self, i: i64);
}

impl MessageOut for String {
    fn literal(&mut self, text: &str, _: &[u8]) {
        self.push_str(text);
    }
    fn piece(&mut self, s: &str) {
        self.push_str(s);
    }
    fn decimal(&mut self, d: Decimal) {
        write2(self, d, true);
    }
    fn int(&mut self, i: i64) {
        use std::fmt::Write;
        let _ = write!(self, "{i}");
    }
}

/// The inside of a JSON string being written.
struct JsonText<'o>(&'o mut Vec<u8>);

impl MessageOut for JsonText<'_> {
    fn literal(&mut self, _: &str, json: &[u8]) {
        self.0.extend_from_slice(json);
    }
    fn piece(&mut self, s: &str) {
        crate::json::write_escaped(self.0, s);
    }
    fn decimal(&mut self, d: Decimal) {
        // Digits, `,`, `.` and `-`: nothing to escape.
        crate::money::write_grouped(self.0, d);
    }
    fn int(&mut self, i: i64) {
        crate::json::write_int(self.0, i);
    }
}

/// A template's literal text and placeholders, split as [`render_into`] reads it (a `{`
/// without its `}` is text).
fn split(template: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        if start > 0 {
            parts.push(text_part(&rest[..start]));
        }
        parts.push(Part::Hole(crate::script::value::intern(&after[..end])));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(text_part(rest));
    }
    parts
}

fn text_part(text: &str) -> Part {
    let mut json = Vec::new();
    crate::json::write_escaped(&mut json, text);
    Part::Text(text.to_string(), json.into())
}

/// FNV-1a: the tables hashed are the pack's (codes and words), fixed once loaded; only
/// look-ups see other text, and a look-up cannot be made slow by choosing keys, so
/// SipHash's protection against floods buys nothing here.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Fnv;

impl std::hash::BuildHasher for Fnv {
    type Hasher = FnvHasher;
    fn build_hasher(&self) -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

pub(crate) struct FnvHasher(u64);

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The split templates fill exactly as the raw ones, odd braces included.
    #[test]
    fn split_templates_render_as_raw_ones() {
        let templates = [
            "", "plain", "{a}", "x{a}y{b}z", "{a}{b}", "{}", "{", "}", "a{b", "a}b{c}", "{a{b}c}", "{unknown} 元",
            "家庭人均收入 {n} 元，低于 {d} 元（{t}；{l}）", "{x}{", "tail {a} {",
        ];
        let mut catalog = Catalog::default();
        let mut zh = HashMap::new();
        for (i, t) in templates.iter().enumerate() {
            zh.insert(format!("C{i}"), MessageEntry { message: t.to_string(), basis: format!("b{i}") });
        }
        catalog.by_lang.insert("zh".into(), zh);
        catalog.words.insert("zh".into(), HashMap::from([("minor".to_string(), "未成年人".to_string())]));
        let compiled = Templates::new(&catalog, &["zh".to_string(), "en".to_string()]);
        let value = |name: &str| -> Option<Fill<'static>> {
            Some(match name {
                "a" => Fill::Int(-42),
                "b" => Fill::Text("minor".into()),
                "d" => Fill::Decimal(Decimal::new(123456789, 3)),
                "n" => Fill::Bool(true),
                "l" | "x" => Fill::List(vec!["minor".into(), "adult".into()]),
                "t" => Fill::Text("其他".into()),
                _ => return None,
            })
        };
        for (i, t) in templates.iter().enumerate() {
            let raw = render(t, "zh", catalog.words.get("zh"), value);
            // Asked in English, found in Chinese (the first language).
            for lang in [0, 1] {
                let entry = compiled.get(&format!("C{i}"), lang).expect("entry");
                assert_eq!(entry.basis, format!("b{i}"));
                let mut out = String::new();
                compiled.render_into(&mut out, entry, 0, "zh", value);
                assert_eq!(out, raw, "{t:?}");
            }
        }
        assert!(compiled.get("NOPE", 0).is_none());
    }
}
