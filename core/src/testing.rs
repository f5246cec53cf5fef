//! Rule-pack tests (`tests/*.yaml` in a pack folder): households in, expected statuses,
//! categories, amounts, reason codes and totals out. `jiuzhu test` and the Rust test
//! suite both run them through here.

use crate::{Assessment, Engine, Options};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    /// Free text for readers of the file; not checked.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    household: Option<serde_norway::Value>,
    #[serde(default)]
    household_file: Option<String>,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    expect: Option<Expect>,
    #[serde(default)]
    expect_error: Option<String>,
}

// No deny_unknown_fields here: serde does not support it together with `flatten`;
// every key besides `totals` is a program id, checked against the assessment.
#[derive(Debug, Deserialize, Default)]
struct Expect {
    #[serde(default)]
    totals: Option<BTreeMap<String, String>>,
    #[serde(flatten)]
    programs: BTreeMap<String, ProgramExpect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgramExpect {
    status: Option<String>,
    category: Option<String>,
    amount: Option<String>,
    period: Option<String>,
    codes: Option<Vec<String>>,
    codes_include: Option<Vec<String>>,
    codes_exclude: Option<Vec<String>>,
    members: Option<BTreeMap<String, BTreeMap<String, serde_norway::Value>>>,
}

/// One case's outcome.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub file: String,
    pub name: String,
    /// Empty when the case passed; else one line per mismatch (`path: expected X, got Y`).
    pub failures: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub cases: Vec<CaseResult>,
    /// Files that could not be read or parsed.
    pub broken: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.failures.is_empty()).count()
    }
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed() + self.broken.len()
    }
}

/// Runs every `*.yaml` under `dir/tests` (or `dir` itself when it holds the yaml files).
pub fn run_pack_tests(engine: &Engine, dir: &Path) -> Report {
    let tests_dir = if dir.join("tests").is_dir() { dir.join("tests") } else { dir.to_path_buf() };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&tests_dir)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))).collect())
        .unwrap_or_default();
    files.sort();
    let mut report = Report::default();
    for f in files {
        let shown = f.display().to_string();
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) => {
                report.broken.push(format!("{shown}: {e}"));
                continue;
            }
        };
        let parsed: TestFile = match serde_norway::from_str(&text) {
            Ok(t) => t,
            Err(e) => {
                report.broken.push(format!("{shown}: {e}"));
                continue;
            }
        };
        for case in parsed.cases {
            let failures = run_case(engine, &case, f.parent().unwrap_or(Path::new(".")));
            report.cases.push(CaseResult { file: shown.clone(), name: case.name.clone(), failures });
        }
    }
    report
}

fn run_case(engine: &Engine, case: &Case, base: &Path) -> Vec<String> {
    let household: Value = match (&case.household, &case.household_file) {
        (Some(h), None) => match yaml_to_json(h) {
            Ok(v) => v,
            Err(e) => return vec![format!("household: {e}")],
        },
        (None, Some(file)) => match std::fs::read_to_string(base.join(file)) {
            Ok(text) => match crate::household::parse_household_text(&text) {
                Ok(v) => v,
                Err(e) => return vec![format!("household_file {file}: {}", e.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("; "))],
            },
            Err(e) => return vec![format!("household_file {file}: {e}")],
        },
        _ => return vec!["give exactly one of `household` and `household_file`".into()],
    };
    let mut opts = Options { lang: case.lang.clone(), ..Options::default() };
    if let Some(d) = &case.as_of {
        match crate::parse_date(d) {
            Some(d) => opts.as_of = Some(d),
            None => return vec![format!("as_of: not a date {d:?}")],
        }
    }
    let result = engine.evaluate_value(&household, &opts);
    match (&case.expect_error, result) {
        (Some(want), Err(e)) => {
            let text = e.to_string();
            if text.contains(want.as_str()) { vec![] } else { vec![format!("error: expected text containing {want:?}, got {text:?}")] }
        }
        (Some(want), Ok(_)) => vec![format!("error: expected an error containing {want:?}, but the household evaluated")],
        (None, Err(e)) => vec![format!("evaluation failed: {e}")],
        (None, Ok(a)) => compare(&a, case.expect.as_ref().unwrap_or(&Expect::default())),
    }
}

fn compare(a: &Assessment, expect: &Expect) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |path: String, want: &str, got: &str| {
        if want != got {
            out.push(format!("{path}: expected {want}, got {got}"));
        }
    };
    for (id, e) in &expect.programs {
        let Some(p) = a.programs.get(id) else {
            check(format!("programs.{id}"), "a result", "no such program");
            continue;
        };
        if let Some(s) = &e.status {
            check(format!("{id}.status"), s, p.status);
        }
        if let Some(c) = &e.category {
            check(format!("{id}.category"), c, p.category.as_deref().unwrap_or("(none)"));
        }
        if let Some(x) = &e.amount {
            check(format!("{id}.amount"), &norm_money(x), &crate::money::format2(p.amount.0));
        }
        if let Some(x) = &e.period {
            check(format!("{id}.period"), x, p.period);
        }
        let codes: Vec<&str> = p.reasons.iter().map(|r| r.code.as_str()).collect();
        if let Some(want) = &e.codes {
            check(format!("{id}.codes"), &format!("[{}]", want.join(", ")), &format!("[{}]", codes.join(", ")));
        }
        for want in e.codes_include.iter().flatten() {
            if !codes.contains(&want.as_str()) {
                check(format!("{id}.codes"), &format!("to include {want}"), &format!("[{}]", codes.join(", ")));
            }
        }
        for bad in e.codes_exclude.iter().flatten() {
            if codes.contains(&bad.as_str()) {
                check(format!("{id}.codes"), &format!("not to include {bad}"), &format!("[{}]", codes.join(", ")));
            }
        }
        for (mid, fields) in e.members.iter().flatten() {
            let got = p.members.get(mid);
            for (k, want) in fields {
                let want = yaml_scalar(want);
                let got = got.and_then(|m| m.get(k)).map(json_scalar).unwrap_or_else(|| "(absent)".into());
                let (w, g) = (norm_money(&want), norm_money(&got));
                check(format!("{id}.members.{mid}.{k}"), &w, &g);
            }
        }
    }
    if let Some(t) = &expect.totals {
        for (k, want) in t {
            let got = match k.as_str() {
                "monthly" => a.totals.monthly,
                "one_off" => a.totals.one_off,
                "annual" => a.totals.annual,
                other => {
                    out.push(format!("totals.{other}: unknown period"));
                    continue;
                }
            };
            let g = crate::money::format2(got.0);
            if norm_money(want) != g {
                out.push(format!("totals.{k}: expected {want}, got {g}"));
            }
        }
    }
    out
}

/// "2970" and "2970.00" are the same amount; anything not a number is left as is.
fn norm_money(s: &str) -> String {
    match crate::money::parse_decimal_text(s) {
        Some(d) if s.contains('.') || s.bytes().all(|b| b.is_ascii_digit()) => crate::money::format2(d),
        _ => s.to_string(),
    }
}

fn json_scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn yaml_scalar(v: &serde_norway::Value) -> String {
    match v {
        serde_norway::Value::String(s) => s.clone(),
        serde_norway::Value::Number(n) => n.to_string(),
        serde_norway::Value::Bool(b) => b.to_string(),
        serde_norway::Value::Null => "null".into(),
        other => format!("{other:?}"),
    }
}

/// YAML → JSON for a household. Numbers keep their text so money stays exact.
fn yaml_to_json(v: &serde_norway::Value) -> Result<Value, String> {
    use serde_norway::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => {
            let text = n.to_string();
            serde_json::from_str::<Value>(&text).map_err(|_| format!("number {text} cannot be represented in JSON"))?
        }
        Y::String(s) => Value::String(s.clone()),
        Y::Sequence(items) => Value::Array(items.iter().map(yaml_to_json).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut obj = serde_json::Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s.clone(),
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return Err(format!("unsupported key {other:?}")),
                };
                obj.insert(key, yaml_to_json(v)?);
            }
            Value::Object(obj)
        }
        Y::Tagged(t) => yaml_to_json(&t.value)?,
    })
}
