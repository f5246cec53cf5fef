//! The fast household reader (`household::read_household_fast`, used by
//! `Engine::read_str` and `Engine::evaluate_str`) against the full path
//! (`parse_household_text` + `Engine::read`): the same `Household` on every valid
//! household, and the same final result (value or error list, byte for byte) on
//! thousands of mutated ones.

mod common;

use jiuzhu_core::{household, parse_date, Engine, Error, Household, Options};
use serde_json::{json, Value};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root")
}

/// The full path, as `evaluate_str` was before the fast path.
fn slow_read(engine: &Engine, text: &str, opts: &Options) -> Result<Household, Error> {
    let v = household::parse_household_text(text).map_err(Error::Validation)?;
    engine.read_full(&v, opts)
}

fn fast_read(text: &str, opts: &Options) -> Option<Household> {
    household::read_household_fast(text, |own| opts.as_of.or(own).or(opts.default_as_of))
}

fn option_sets() -> Vec<Options> {
    vec![
        Options::default(),
        Options { default_as_of: parse_date("2025-03-01"), ..Options::default() },
        Options { as_of: parse_date("2025-06-30"), ..Options::default() },
        // Early enough that some birth and event dates fall after it.
        Options { as_of: parse_date("2012-01-01"), ..Options::default() },
    ]
}

/// Checks one text under one set of options; true when the fast path answered.
fn check(engine: &Engine, text: &str, opts: &Options) -> bool {
    let slow = slow_read(engine, text, opts);
    let new = engine.read_str(text, opts);
    assert_eq!(format!("{new:?}"), format!("{slow:?}"), "read_str differs from the full path on {text}");
    // a value goes through the fast reader too (written as text first): the same answer
    if let Ok(v) = household::parse_household_text(text) {
        let from_value = engine.read(&v, opts);
        assert_eq!(format!("{from_value:?}"), format!("{slow:?}"), "read(value) differs from the full path on {text}");
    }
    match fast_read(text, opts) {
        None => false,
        Some(h) => {
            match &slow {
                Ok(s) => assert_eq!(format!("{h:?}"), format!("{s:?}"), "fast household differs on {text}"),
                // The fast reader leaves the pack's regions to the engine.
                Err(Error::Validation(e)) => {
                    assert!(e.len() == 1 && e[0].path == "region", "fast path accepted a household the full path refuses: {e:?} on {text}")
                }
                Err(e) => panic!("fast path accepted a household the full path refuses: {e:?} on {text}"),
            }
            true
        }
    }
}

/// `evaluate_str` (fast path) against parse + `evaluate_value` (full path).
fn check_evaluate(engine: &Engine, text: &str, opts: &Options) {
    let old = household::parse_household_text(text)
        .map_err(Error::Validation)
        .and_then(|v| engine.evaluate_value(&v, opts))
        .map(|a| a.to_json());
    let new = engine.evaluate_str(text, opts).map(|a| a.to_json());
    assert_eq!(format!("{new:?}"), format!("{old:?}"), "evaluate_str differs on {text}");
}

fn synth_lines(engine: &Engine, n: usize, seed: u64) -> Vec<String> {
    let date = parse_date("2025-03-01").unwrap();
    jiuzhu_core::synth::synth(engine, n, seed, None, date).expect("synth").collect()
}

fn corpus_examples() -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
}

fn corpus_conformance() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("tests/conformance/households.jsonl")).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect()
}

/// Every rule-pack case household (as compact JSON) with the case's own `as_of`.
fn corpus_pack_cases() -> Vec<(String, Option<String>)> {
    let dir = root().join("rules/tests");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        if !f.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            continue;
        }
        let doc: Value = serde_norway::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            let as_of = case.get("as_of").and_then(Value::as_str).map(str::to_string);
            if let Some(h) = case.get("household") {
                out.push((h.to_string(), as_of));
            } else if let Some(file) = case.get("household_file").and_then(Value::as_str) {
                out.push((std::fs::read_to_string(dir.join(file)).unwrap(), as_of));
            }
        }
    }
    assert!(out.len() > 20, "found {} pack cases", out.len());
    out
}

#[test]
fn synth_households_read_identically_and_take_the_fast_path() {
    let engine = common::engine();
    let opts = Options { default_as_of: parse_date("2025-03-01"), ..Options::default() };
    let mut n = 0;
    for seed in [1u64, 7, 42, 2024] {
        for line in synth_lines(&engine, 2500, seed) {
            assert!(slow_read(&engine, &line, &opts).is_ok(), "synth household refused: {line}");
            assert!(check(&engine, &line, &opts), "fast path gave up on a valid synth household: {line}");
            n += 1;
        }
    }
    assert_eq!(n, 10_000);
    // A smaller sample under every set of options, and through evaluation.
    for line in synth_lines(&engine, 300, 99) {
        for o in option_sets() {
            check(&engine, &line, &o);
            check_evaluate(&engine, &line, &o);
        }
    }
}

#[test]
fn corpus_households_read_identically() {
    let engine = common::engine();
    let mut texts = corpus_examples();
    texts.extend(corpus_conformance());
    let mut fast = 0;
    for text in &texts {
        for o in option_sets() {
            fast += usize::from(check(&engine, text, &o));
            check_evaluate(&engine, text, &o);
        }
        // With the households' own dates (the default options), every one is valid and fast.
        assert!(check(&engine, text, &Options::default()), "fast path gave up on {text}");
    }
    assert!(fast >= texts.len());
    // Pretty-printed and with odd whitespace: still the fast path, still identical.
    for text in &texts {
        let v: Value = serde_json::from_str(text).unwrap();
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        assert!(check(&engine, &pretty, &Options::default()));
        let spaced = format!(" \r\n\t{}\n\n ", text.replace(',', " ,\t").replace(':', "\r\n: "));
        assert!(check(&engine, &spaced, &Options::default()), "{spaced}");
    }
}

#[test]
fn rule_pack_case_households_read_identically() {
    let engine = common::engine();
    let mut fast = 0;
    let cases = corpus_pack_cases();
    for (text, as_of) in &cases {
        let mut sets = option_sets();
        if let Some(d) = as_of {
            sets.push(Options { as_of: parse_date(d), ..Options::default() });
        }
        for o in &sets {
            fast += usize::from(check(&engine, text, o));
            check_evaluate(&engine, text, o);
        }
    }
    assert!(fast > cases.len(), "the fast path answered {fast} times");
}

/// Every JSON path to a value inside `v`, objects and arrays included.
fn paths(v: &Value, at: Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let mut p = at.clone();
                p.push(PathStep::Key(k.clone()));
                out.push(p.clone());
                paths(x, p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let mut p = at.clone();
                p.push(PathStep::Index(i));
                out.push(p.clone());
                paths(x, p, out);
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn at_mut<'v>(v: &'v mut Value, path: &[PathStep]) -> &'v mut Value {
    path.iter().fold(v, |v, s| match s {
        PathStep::Key(k) => &mut v[k.as_str()],
        PathStep::Index(i) => &mut v[*i],
    })
}

fn parent_and_last<'v>(v: &'v mut Value, path: &[PathStep]) -> (&'v mut Value, PathStep) {
    let (last, init) = path.split_last().unwrap();
    (at_mut(v, init), last.clone())
}

fn replacements() -> Vec<Value> {
    let n = |s: &str| Value::Number(serde_json::from_str(s).unwrap());
    vec![
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(1),
        json!(4),
        json!(5),
        n("-1"),
        n("1.5"),
        n("1800.50"),
        n("1800.555"),
        n("0.10"),
        n("1e3"),
        n("12345678901234567890123"),
        n("4294967297"),
        n("1000000000000.01"),
        json!(""),
        json!("x"),
        json!("1800.555"),
        json!("1800.5"),
        json!(" 12.00"),
        json!("-0.00"),
        json!("1e3"),
        json!("2024-02-30"),
        json!("2025-03-01"),
        json!("1890-01-01"),
        json!("2030-01-01"),
        json!("张三·李四"),
        json!("a\"b\\c\u{1}"),
        json!("head"),
        json!("m1"),
        json!("110000"),
        json!("x".repeat(65)),
        json!([]),
        json!({}),
        json!([{}]),
    ]
}

/// Value-level mutations of one household: each field dropped, replaced, misspelt.
fn value_mutations(text: &str) -> Vec<String> {
    let base: Value = serde_json::from_str(text).unwrap();
    let mut all = Vec::new();
    paths(&base, Vec::new(), &mut all);
    let reps = replacements();
    let mut out = Vec::new();
    for p in &all {
        // Dropped.
        let mut v = base.clone();
        let (parent, last) = parent_and_last(&mut v, p);
        match (parent, last) {
            (Value::Object(m), PathStep::Key(k)) => {
                let x = m.remove(&k).unwrap();
                out.push(v.to_string());
                // Misspelt, and an extra field beside the real one.
                let mut w = base.clone();
                if let (Value::Object(m), _) = parent_and_last(&mut w, p) {
                    m.remove(&k);
                    m.insert(format!("{k}s"), x.clone());
                }
                out.push(w.to_string());
                let mut w = base.clone();
                if let (Value::Object(m), _) = parent_and_last(&mut w, p) {
                    m.insert("extra".into(), json!(1));
                }
                out.push(w.to_string());
            }
            (Value::Array(a), PathStep::Index(i)) => {
                a.remove(i);
                out.push(v.to_string());
                // Duplicated (a second head, a repeated member id, one entry too many…).
                let mut w = base.clone();
                if let (Value::Array(a), PathStep::Index(i)) = parent_and_last(&mut w, p) {
                    let x = a[i].clone();
                    a.push(x);
                }
                out.push(w.to_string());
            }
            _ => unreachable!(),
        }
        // Replaced.
        for r in &reps {
            let mut v = base.clone();
            *at_mut(&mut v, p) = r.clone();
            out.push(v.to_string());
        }
    }
    // Whole-document shapes.
    for r in &reps {
        out.push(r.to_string());
    }
    // Too many members / list entries.
    let mut v = base.clone();
    if let Some(ms) = v["members"].as_array_mut() {
        let m = ms[0].clone();
        for i in 0..31 {
            let mut x = m.clone();
            x["id"] = json!(format!("extra{i}"));
            x["relation"] = json!("child");
            ms.push(x);
        }
    }
    out.push(v.to_string());
    out
}

/// Text-level mutations the value level cannot express: duplicate keys, escapes,
/// number spellings, whitespace, broken JSON.
fn text_mutations(text: &str) -> Vec<String> {
    let compact = serde_json::from_str::<Value>(text).unwrap().to_string();
    let mut out = vec![
        compact.replacen('{', "{\"id\":\"dup\",", 1),
        compact.replacen('{', "{\"region\":\"110000\",", 1),
        compact.replacen("\"relation\"", "\"relation\":\"head\",\"relation\"", 1),
        compact.replacen("\"relation\"", "\"relation\":null,\"relation\"", 1),
        compact.replacen("\"monthly\"", "\"monthly\":\"1.00\",\"monthly\"", 1),
        compact.replacen("\"id\":\"", "\"id\":\"\\u0041", 1),
        compact.replacen("\"id\":\"", "\"id\":\"\\\"", 1),
        compact.replacen("\"id\":\"", "\"id\":\"\\n", 1),
        compact.replacen("\"id\":\"", "\"id\":\"\t", 1),
        compact.replacen("\"id\":\"", "\"id\":\"é中\u{7f}", 1),
        compact.replacen("\"id\"", "\"i\\u0064\"", 1),
        compact.replacen("\"head\"", "\"h\\u0065ad\"", 1),
        compact.replacen("\"members\"", "\"m\\u0065mbers\"", 1),
        compact.replacen(":", " : ", 3),
        format!("\u{feff}{compact}"),
        format!("{compact}x"),
        format!("{compact}{{}}"),
        format!("{compact},"),
        format!("[{compact}]"),
        format!("{compact}\u{a0}"),
        format!("\u{a0}{compact}"),
        compact.replacen('}', ",}", 1),
        compact.replacen(']', ",]", 1),
        compact.replacen(",", ",,", 1),
        compact.replace("true", "True"),
        compact.replace("false", "fals"),
        compact.replace("null", "nul"),
        compact.replace("null", "nullx"),
        String::new(),
        "   ".into(),
        "{".repeat(70),
        "[".repeat(70) + "]".repeat(70).as_str(),
    ];
    // Amount and count spellings: as numbers, signed, with exponents and leading zeros.
    for (from, to) in [
        ("\"1500.00\"", "1500.00"),
        ("\"1500.00\"", "1500"),
        ("\"1500.00\"", "1500.0"),
        ("\"1500.00\"", "1500.000"),
        ("\"1500.00\"", "1500.001"),
        ("\"1500.00\"", "-1500"),
        ("\"1500.00\"", "-0"),
        ("\"1500.00\"", "01500"),
        ("\"1500.00\"", "1.5e3"),
        ("\"1500.00\"", "1.5E+3"),
        ("\"1500.00\"", "15000e-1"),
        ("\"1500.00\"", "1500."),
        ("\"1500.00\"", ".5"),
        ("\"1500.00\"", "+1500"),
        ("\"1500.00\"", "99999999999999999999999999999999"),
        ("\"1500.00\"", "\"1500.00 \""),
        ("\"1500.00\"", "\"+1500\""),
        ("\"1500.00\"", "\"1,500\""),
        ("\"1500.00\"", "\"１５００\""),
        ("\"1500.00\"", "\"1500\\u002e00\""),
        ("\"0.00\"", "0"),
        ("\"0.00\"", "0.0"),
        ("\"0.00\"", "0.000"),
        ("\"0.00\"", "00"),
        ("\"0.00\"", "-0.0"),
        (":0,", ":0.0,"),
        (":0,", ":-0,"),
        (":0,", ":00,"),
        (":0,", ":0e0,"),
        (":0,", ":1E1,"),
        (":0,", ":\"0\","),
        (":0}", ":1001}"),
        (":0}", ":1000}"),
        (":0}", ":1.0}"),
        ("null", "1"),
        ("null", "2.0"),
        ("null", "4294967297"),
        ("null", "18446744073709551616"),
    ] {
        for t in [&compact, &text.to_string()] {
            if t.contains(from) {
                out.push(t.replacen(from, to, 1));
                out.push(t.replace(from, to));
            }
        }
    }
    // Truncations.
    let b = compact.len();
    for cut in [1, 2, b / 7, b / 3, b / 2, b - 2, b - 1] {
        if compact.is_char_boundary(cut) {
            out.push(compact[..cut].to_string());
        }
    }
    out
}

#[test]
fn mutated_households_give_identical_results() {
    let engine = common::engine();
    let mut bases = corpus_examples();
    bases.extend(corpus_conformance().into_iter().step_by(10));
    bases.push(common::base_household().to_string());
    bases.extend(synth_lines(&engine, 4, 5));
    let sets = option_sets();
    let (mut total, mut fast) = (0usize, 0usize);
    for base in &bases {
        let mut texts = value_mutations(base);
        texts.extend(text_mutations(base));
        for (i, t) in texts.iter().enumerate() {
            // Every set of options on a sample, the default ones on all.
            let chosen: &[Options] = if i % 5 == 0 { &sets } else { &sets[..1] };
            for o in chosen {
                total += 1;
                fast += usize::from(check(&engine, t, o));
                if i % 11 == 0 {
                    check_evaluate(&engine, t, o);
                }
            }
        }
    }
    eprintln!("{total} mutated households checked, {fast} through the fast path");
    // Both paths were exercised.
    assert!(total > 10_000, "{total} mutated households");
    assert!(fast > 500 && fast < total / 2, "fast path answered {fast} of {total}");
}

#[test]
fn money_stays_exact_on_the_fast_path() {
    let mut v = common::base_household();
    v["members"][0]["incomes"][0]["monthly"] = Value::Number(serde_json::from_str("1800.5").unwrap());
    v["members"][0]["medical"] = json!({ "in_scope_cost": "99999999999.99", "other_paid": 0.1 });
    let h = fast_read(&v.to_string(), &Options::default()).expect("fast path");
    assert_eq!(h.members[0].incomes[0].monthly.0.to_string(), "1800.50");
    let m = h.members[0].medical.as_ref().unwrap();
    assert_eq!(m.in_scope_cost.0.to_string(), "99999999999.99");
    assert_eq!(m.other_paid.0.to_string(), "0.10");
}

/// The batch doors: `evaluate_line` and `evaluate_many` over text against the old route
/// (parse to a value, `id_of`, `evaluate_value`), valid and mutated lines alike.
#[test]
fn batch_doors_give_identical_results() {
    use jiuzhu_core::batch::{evaluate_line, id_of, Line};
    let engine = common::engine();
    let opts = Options { default_as_of: parse_date("2025-03-01"), ..Options::default() };
    let mut lines = synth_lines(&engine, 200, 3);
    lines.extend(corpus_conformance());
    let base = common::base_household().to_string();
    lines.extend(text_mutations(&base));
    lines.extend(value_mutations(&base).into_iter().step_by(7));
    // Regions the pack does not cover, a date given by no one.
    lines.push(base.replace("110000", "990000"));
    lines.push(base.replace("\"as_of\":\"2025-03-01\",", ""));
    let old = |text: &str| -> (Option<String>, Result<String, String>) {
        match household::parse_household_text(text) {
            Err(e) => (None, Err(format!("{:?}", Error::Validation(e)))),
            Ok(v) => (id_of(&v), engine.evaluate_value(&v, &opts).map(|a| a.to_json()).map_err(|e| format!("{e:?}"))),
        }
    };
    for (i, text) in lines.iter().enumerate() {
        let line = Line { number: i as u64 + 1, text: Ok(text.clone()) };
        let (id, r) = evaluate_line(&engine, &line, &opts);
        let new = (id, r.map(|a| a.to_json()).map_err(|e| format!("{e:?}")));
        assert_eq!(new, old(text), "evaluate_line differs on {text}");
    }
    let many: Vec<_> = engine
        .evaluate_many(&lines, &opts, Some(1))
        .into_iter()
        .map(|r| r.map(|a| a.to_json()).map_err(|e| format!("{e:?}")))
        .collect();
    for (text, got) in lines.iter().zip(many) {
        assert_eq!(got, old(text).1, "evaluate_many differs on {text}");
    }
}

/// `compare` over texts (the fast reader) and over parsed values (the full path) agree,
/// bad households included.
#[test]
fn compare_over_text_equals_compare_over_values() {
    let engine = jiuzhu_core::Engine::new().unwrap();
    let reform = engine.with_parameters(["subsistence.standard=1500"]).unwrap();
    let date = jiuzhu_core::parse_date("2025-03-01").unwrap();
    let mut texts: Vec<String> = jiuzhu_core::synth::synth(&engine, 400, 11, None, date).unwrap().collect();
    texts.push(r#"{"id":"X","region":"999999","members":[]}"#.to_string());
    texts.push(r#"{"id":"Y","region":"110000","members":[{"id":"m1"}]}"#.to_string());
    let values: Vec<serde_json::Value> = texts.iter().filter_map(|t| jiuzhu_core::household::parse_household_text(t).ok()).collect();
    let opts = jiuzhu_core::Options::default();
    let a = jiuzhu_core::compare::compare(&engine, &reform, &texts, &opts);
    let b = jiuzhu_core::compare::compare(&engine, &reform, &values, &opts);
    assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    assert_eq!(a.households, 400);
    assert_eq!(a.errors, 2);
}
