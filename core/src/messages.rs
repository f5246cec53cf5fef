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
