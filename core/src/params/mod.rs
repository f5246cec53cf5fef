//! The parameter store: every number a rule uses, by region code, effective date and
//! (optionally) area, each with its source. Resolution (interfaces.md §2):
//! the region chain `110105 → 110100 → 110000 → 000000`, the first code with a value in
//! force wins, and within a code the latest `from` not after `as_of`.
//!
//! Overrides (reforms, `--set`) sit above the files: a regional override on the chain
//! beats a global one, which beats the files.

use crate::date::{format_date, parse_date, Date};
use crate::error::{Error, PackProblem};
use crate::household::Area;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

pub const NATIONAL: &str = "000000";

/// A parameter's value: the three kinds a pack may use.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Decimal(Decimal),
    Integer(i64),
    List(Vec<String>),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Decimal(d) => write!(f, "{d}"),
            ParamValue::Integer(i) => write!(f, "{i}"),
            ParamValue::List(l) => write!(f, "{}", l.join(",")),
        }
    }
}

impl ParamValue {
    fn kind(&self) -> &'static str {
        match self {
            ParamValue::Decimal(_) => "decimal",
            ParamValue::Integer(_) => "integer",
            ParamValue::List(_) => "list",
        }
    }
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            ParamValue::Decimal(d) => Some(*d),
            ParamValue::Integer(i) => Some(Decimal::from(*i)),
            ParamValue::List(_) => None,
        }
    }
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            ParamValue::Integer(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_list(&self) -> Option<&[String]> {
        match self {
            ParamValue::List(l) => Some(l),
            _ => None,
        }
    }
    /// Parses override text in the kind of an existing value.
    fn parse_like(&self, text: &str) -> Option<ParamValue> {
        match self {
            ParamValue::Decimal(_) => crate::money::parse_decimal_text(text).map(ParamValue::Decimal),
            ParamValue::Integer(_) => text.parse().ok().map(ParamValue::Integer),
            ParamValue::List(_) => Some(ParamValue::List(
                text.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            )),
        }
    }
}

#[derive(Debug, Clone)]
enum ByArea {
    All(ParamValue),
    Split { urban: ParamValue, rural: ParamValue },
}

#[derive(Debug, Clone)]
struct Entry {
    from: Date,
    value: ByArea,
    source: Arc<str>,
}

/// A parameter with its dated values per region code.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub description: Option<String>,
    pub unit: Option<String>,
    pub illustrative: Option<String>,
    /// The file it came from, relative to the pack.
    pub file: String,
    /// region code → entries sorted by `from`.
    by_region: BTreeMap<String, Vec<Entry>>,
}

/// One resolved value and where it came from: what the audit trace records.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub value: ParamValue,
    /// The region code whose value applied (`override` entries say so in `source`).
    pub region: String,
    /// The effective date of the value (`None` for an override).
    pub from: Option<Date>,
    pub source: Arc<str>,
}

/// The parameters of a pack.
#[derive(Debug, Clone, Default)]
pub struct ParamStore {
    params: HashMap<String, Parameter>,
}

/// Region codes from the most specific to the national default:
/// `110105 → [110105, 110100, 110000, 000000]`.
pub fn region_chain(code: &str) -> Vec<String> {
    let mut chain = Vec::new();
    in_region_chain(code, |c| {
        chain.push(c.to_string());
        false
    });
    chain
}

/// Whether `found` holds for a code of [`region_chain`]`(code)`, asked in its order and
/// stopping at the first yes; the codes are made on the stack (the engine checks every
/// household's region this way).
pub fn in_region_chain(code: &str, mut found: impl FnMut(&str) -> bool) -> bool {
    if found(code) {
        return true;
    }
    let Ok(mut last) = <[u8; 6]>::try_from(code.as_bytes()) else { return false };
    if !code.is_ascii() {
        return false;
    }
    for keep in [4, 2, 0] {
        let mut c = *b"000000";
        c[..keep].copy_from_slice(&code.as_bytes()[..keep]);
        if c != last {
            last = c;
            if std::str::from_utf8(&c).is_ok_and(&mut found) {
                return true;
            }
        }
    }
    false
}

impl ParamStore {
    /// Loads parameters from TOML files `(relative path, text)`; collects every problem.
    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, Vec<PackProblem>> {
        let mut store = ParamStore::default();
        let mut problems = Vec::new();
        for (file, text) in files {
            match text.parse::<toml::Table>() {
                Ok(table) => store.load_table(file, text, &table, "", &mut problems),
                Err(e) => problems.push(PackProblem {
                    file: file.to_string(),
                    line: e.span().map(|s| line_of(text, s.start)),
                    message: e.message().to_string(),
                }),
            }
        }
        if problems.is_empty() { Ok(store) } else { Err(problems) }
    }

    fn load_table(&mut self, file: &str, text: &str, table: &toml::Table, prefix: &str, problems: &mut Vec<PackProblem>) {
        let is_param = table.keys().any(|k| is_region_code(k));
        if !is_param {
            for (k, v) in table {
                let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                match v {
                    toml::Value::Table(t) => self.load_table(file, text, t, &name, problems),
                    _ => problems.push(PackProblem {
                        file: file.into(),
                        line: find_line(text, k),
                        message: format!("`{name}` is neither a parameter table nor a group of them"),
                    }),
                }
            }
            return;
        }
        let line = find_line(text, prefix);
        let mut problem = |m: String| problems.push(PackProblem { file: file.into(), line, message: format!("parameter `{prefix}`: {m}") });
        let text_field = |k: &str| table.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let default_source = text_field("source");
        let mut param = Parameter {
            name: prefix.to_string(),
            description: text_field("description"),
            unit: text_field("unit"),
            illustrative: text_field("illustrative"),
            file: file.to_string(),
            by_region: BTreeMap::new(),
        };
        for (key, v) in table {
            if matches!(key.as_str(), "source" | "description" | "unit" | "illustrative") {
                if !v.is_str() {
                    problem(format!("`{key}` must be a string"));
                }
                continue;
            }
            if !is_region_code(key) {
                problem(format!("unknown key `{key}` (expected a 6-digit region code, source, description, unit or illustrative)"));
                continue;
            }
            let Some(list) = v.as_array() else {
                problem(format!("region {key}: expected an array of {{ from = \"YYYY-MM-DD\", value = ... }}"));
                continue;
            };
            let mut entries = Vec::new();
            for (i, e) in list.iter().enumerate() {
                match parse_entry(e, default_source.as_deref()) {
                    Ok(entry) => entries.push(entry),
                    Err(m) => problem(format!("region {key}, entry {}: {m}", i + 1)),
                }
            }
            entries.sort_by_key(|e| e.from);
            if entries.windows(2).any(|w| w[0].from == w[1].from) {
                problem(format!("region {key}: two values from the same date"));
            }
            param.by_region.insert(key.clone(), entries);
        }
        if self.params.contains_key(prefix) {
            problem("defined twice".into());
        }
        self.params.insert(prefix.to_string(), param);
    }

    pub fn get(&self, name: &str) -> Option<&Parameter> {
        self.params.get(name)
    }

    /// All parameters, sorted by name.
    pub fn parameters(&self) -> Vec<&Parameter> {
        let mut v: Vec<&Parameter> = self.params.values().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Region codes (other than the national default) that have a value of `name`.
    pub fn regions_with(&self, name: &str) -> BTreeSet<String> {
        self.params
            .get(name)
            .map(|p| p.by_region.keys().filter(|k| k.as_str() != NATIONAL).cloned().collect())
            .unwrap_or_default()
    }

    /// Resolves a parameter from the files (no overrides).
    pub fn resolve(&self, name: &str, chain: &[String], as_of: Date, area: Area) -> Option<Resolved> {
        let param = self.params.get(name)?;
        for code in chain {
            let Some(entries) = param.by_region.get(code) else { continue };
            if let Some(e) = entries.iter().rev().find(|e| e.from <= as_of) {
                let value = match &e.value {
                    ByArea::All(v) => v.clone(),
                    ByArea::Split { urban, rural } => match area {
                        Area::Urban => urban.clone(),
                        Area::Rural => rural.clone(),
                    },
                };
                return Some(Resolved { value, region: code.clone(), from: Some(e.from), source: e.source.clone() });
            }
        }
        None
    }
}

fn parse_entry(e: &toml::Value, default_source: Option<&str>) -> Result<Entry, String> {
    let t = e.as_table().ok_or("expected a table { from = ..., value = ... }")?;
    for k in t.keys() {
        if !matches!(k.as_str(), "from" | "value" | "urban" | "rural" | "source" | "note") {
            return Err(format!("unknown key `{k}`"));
        }
    }
    let from = t.get("from").and_then(|v| v.as_str()).ok_or("missing `from` date")?;
    let from = parse_date(from).ok_or_else(|| format!("`from` is not a date YYYY-MM-DD: {from:?}"))?;
    let value = match (t.get("value"), t.get("urban"), t.get("rural")) {
        (Some(v), None, None) => ByArea::All(parse_value(v)?),
        (None, Some(u), Some(r)) => {
            let (u, r) = (parse_value(u)?, parse_value(r)?);
            if u.kind() != r.kind() {
                return Err("urban and rural values of different kinds".into());
            }
            ByArea::Split { urban: u, rural: r }
        }
        _ => return Err("give either `value`, or both `urban` and `rural`".into()),
    };
    let source = t.get("source").and_then(|v| v.as_str()).or(default_source).ok_or("no source (on the value or the parameter)")?;
    Ok(Entry { from, value, source: Arc::from(source) })
}

fn parse_value(v: &toml::Value) -> Result<ParamValue, String> {
    match v {
        toml::Value::String(s) => crate::money::parse_decimal_text(s)
            .map(ParamValue::Decimal)
            .ok_or_else(|| format!("{s:?} is not a decimal")),
        toml::Value::Integer(i) => Ok(ParamValue::Integer(*i)),
        toml::Value::Array(items) => items
            .iter()
            .map(|x| x.as_str().map(str::to_string).ok_or_else(|| "a list must hold strings only".to_string()))
            .collect::<Result<Vec<_>, _>>()
            .map(ParamValue::List),
        toml::Value::Float(f) => Err(format!("{f} is a floating-point number: write decimals as strings (\"{f}\") so they stay exact")),
        other => Err(format!("unsupported value {other}")),
    }
}

fn is_region_code(k: &str) -> bool {
    k.len() == 6 && k.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line of a parameter's `[name]` header (or a line mentioning the key).
fn find_line(text: &str, name: &str) -> Option<usize> {
    let header = format!("[{name}]");
    text.lines()
        .position(|l| l.trim() == header)
        .or_else(|| text.lines().position(|l| l.contains(name)))
        .map(|i| i + 1)
}

/// Parameter overrides for a reform: `name=value` for every region or
/// `CODE:name=value` for a region and the codes below it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// (region code or None for every region, parameter name, value)
    entries: Vec<(Option<String>, String, ParamValue)>,
}

impl Overrides {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The overrides as `[REGION:]NAME=VALUE` texts, in the order they were added:
    /// `add_text` of each on the same store rebuilds them (bindings pickle them so).
    pub fn to_texts(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|(region, name, value)| match region {
                Some(code) => format!("{code}:{name}={value}"),
                None => format!("{name}={value}"),
            })
            .collect()
    }

    /// Adds `[CODE:]name=value`, typed like the parameter already in `store`.
    pub fn add_text(&mut self, store: &ParamStore, spec: &str) -> Result<(), Error> {
        let (lhs, value) = spec
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("override {spec:?}: expected [REGION:]PARAM=VALUE")))?;
        self.add(store, lhs.trim(), value.trim())
    }

    /// Adds one override; `target` is `name` or `CODE:name`.
    pub fn add(&mut self, store: &ParamStore, target: &str, value: &str) -> Result<(), Error> {
        let (region, name) = match target.split_once(':') {
            Some((code, name)) => {
                if !is_region_code(code) {
                    return Err(Error::Usage(format!("override {target:?}: {code:?} is not a 6-digit region code")));
                }
                (Some(code.to_string()), name)
            }
            None => (None, target),
        };
        let param = store
            .get(name)
            .ok_or_else(|| Error::Usage(format!("override {target:?}: the pack has no parameter `{name}`")))?;
        let sample = param
            .by_region
            .values()
            .flatten()
            .map(|e| match &e.value {
                ByArea::All(v) | ByArea::Split { urban: v, .. } => v,
            })
            .next()
            .ok_or_else(|| Error::Usage(format!("override {target:?}: parameter `{name}` has no values")))?;
        let parsed = sample
            .parse_like(value)
            .ok_or_else(|| Error::Usage(format!("override {target:?}: {value:?} is not a valid {} value", sample.kind())))?;
        self.entries.retain(|(r, n, _)| !(r == &region && n == name));
        self.entries.push((region, name.to_string(), parsed));
        Ok(())
    }

    /// The override that applies on this chain, most specific region first.
    pub fn resolve(&self, name: &str, chain: &[String]) -> Option<Resolved> {
        if self.entries.is_empty() {
            return None;
        }
        for code in chain {
            if let Some((_, _, v)) = self.entries.iter().find(|(r, n, _)| n == name && r.as_deref() == Some(code.as_str())) {
                return Some(Resolved { value: v.clone(), region: code.clone(), from: None, source: Arc::from("override") });
            }
        }
        self.entries.iter().find(|(r, n, _)| n == name && r.is_none()).map(|(_, _, v)| Resolved {
            value: v.clone(),
            region: "*".into(),
            from: None,
            source: Arc::from("override"),
        })
    }
}

/// Resolves through overrides, then the store; the error names parameter, region and date.
pub fn lookup(store: &ParamStore, overrides: &Overrides, name: &str, chain: &[String], as_of: Date, area: Area) -> Result<Resolved, Error> {
    if let Some(r) = overrides.resolve(name, chain) {
        return Ok(r);
    }
    store.resolve(name, chain, as_of, area).ok_or_else(|| {
        let region = chain.first().map(String::as_str).unwrap_or("?");
        if store.get(name).is_none() {
            Error::Parameter(format!("unknown parameter `{name}` (region {region}, date {})", format_date(as_of)))
        } else {
            Error::Parameter(format!(
                "parameter `{name}` has no value for region {region} (looked at {}) on {}",
                chain.join(" → "),
                format_date(as_of)
            ))
        }
    })
}
