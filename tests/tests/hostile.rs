//! Hostile input and hostile rules: every malformed household is refused with a path,
//! quickly and without a panic; every runaway script is stopped by a limit.

mod common;
use common::*;
use jiuzhu_core::{Error, Options};
use serde_json::json;
use std::time::{Duration, Instant};

/// (name, document, text the error must contain)
fn malformed() -> Vec<(&'static str, String, &'static str)> {
    let base = base_household();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut h = base.clone();
        f(&mut h);
        h.to_string()
    };
    let many_members: Vec<_> = (0..100_000)
        .map(|i| json!({"id": format!("m{i}"), "relation": "other", "birth_date": "1990-01-01", "sex": "male"}))
        .collect();
    vec![
        ("empty file", String::new(), "empty input"),
        ("whitespace", "  \n ".into(), "empty input"),
        ("truncated", base.to_string()[..40].to_string(), "not valid JSON"),
        ("trailing garbage", format!("{} x", base), "not valid JSON"),
        ("array", "[]".into(), "expected an object"),
        ("string", "\"household\"".into(), "expected an object"),
        ("number", "42".into(), "expected an object"),
        ("null", "null".into(), "expected an object"),
        ("nesting 100000 deep", format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)), "levels deep"),
        ("object nesting", format!("{}1{}", "{\"a\":".repeat(5_000), "}".repeat(5_000)), "levels deep"),
        ("10 MB string", with(&|h| h["id"] = json!("x".repeat(10 * 1024 * 1024))), "id: must be 1 to 64 characters"),
        ("20 MB document", with(&|h| h["id"] = json!("x".repeat(20 * 1024 * 1024))), "too large"),
        ("2 MB id", with(&|h| h["id"] = json!("x".repeat(2 * 1024 * 1024))), "id: must be 1 to 64 characters"),
        ("100000 members", json!({"id": "x", "region": "110000", "as_of": "2025-03-01", "members": many_members}).to_string(), "members: 100000 entries, at most 30 allowed"),
        ("1e30 amount", with(&|h| h["members"][0]["incomes"][0]["monthly"] = json!(1e30)), "too large"),
        ("huge integer amount", base.to_string().replace("\"1500.00\"", "123456789012345678901234567890"), "too large"),
        ("NaN string", with(&|h| h["members"][0]["incomes"][0]["monthly"] = json!("NaN")), "not a decimal"),
        ("NaN bare", base.to_string().replace("\"1500.00\"", "NaN"), "not valid JSON"),
        ("Infinity bare", base.to_string().replace("\"1500.00\"", "Infinity"), "not valid JSON"),
        ("negative", with(&|h| h["members"][0]["incomes"][0]["monthly"] = json!("-0.01")), "negative amount"),
        ("three decimals", with(&|h| h["members"][0]["incomes"][0]["monthly"] = json!("0.001")), "more than 2 decimal places"),
        ("amount as bool", with(&|h| h["members"][0]["incomes"][0]["monthly"] = json!(true)), "expected an amount"),
        ("amount as object", with(&|h| h["members"][0]["incomes"][0]["monthly"] = json!({})), "expected an amount"),
        ("members as object", with(&|h| h["members"] = json!({})), "members: expected an array"),
        ("member as string", with(&|h| h["members"][1] = json!("m2")), "members[1]: expected an object"),
        ("id as number", with(&|h| h["id"] = json!(7)), "id: expected a string"),
        ("missing id", with(&|h| { h.as_object_mut().unwrap().remove("id"); }), "id: required"),
        ("missing region", with(&|h| { h.as_object_mut().unwrap().remove("region"); }), "region: required"),
        ("region letters", with(&|h| h["region"] = json!("abcdef")), "region: not a 6-digit"),
        ("unknown region", with(&|h| h["region"] = json!("120000")), "region 120000"),
        ("unknown top field", with(&|h| h["foo"] = json!(1)), "foo: unknown field"),
        ("typo field", with(&|h| h["members"][0]["disabilty_grade"] = json!(1)), "disabilty_grade: unknown field"),
        ("bad date", with(&|h| h["as_of"] = json!("2025-13-01")), "as_of: not a calendar date"),
        ("date as number", with(&|h| h["as_of"] = json!(20250301)), "as_of: expected a string"),
        ("future birth", with(&|h| h["members"][1]["birth_date"] = json!("2030-01-01")), "after the assessment date"),
        ("ancient birth", with(&|h| h["members"][1]["birth_date"] = json!("1800-01-01")), "older than 130"),
        ("no head", with(&|h| h["members"][0]["relation"] = json!("spouse")), "exactly one member"),
        ("two heads", with(&|h| h["members"][1]["relation"] = json!("head")), "exactly one member"),
        ("duplicate ids", with(&|h| h["members"][1]["id"] = json!("m1")), "duplicate member id"),
        ("grade 9", with(&|h| h["members"][0]["disability_grade"] = json!(9)), "grade 9"),
        ("grade -1", with(&|h| h["members"][0]["disability_grade"] = json!(-1)), "disability_grade"),
        ("grade fraction", with(&|h| h["members"][0]["disability_grade"] = json!(1.5)), "disability_grade"),
        ("huge refusals", with(&|h| h["members"][0]["employment"]["refused_offers"] = json!(1u64 << 60)), "too large"),
        ("unknown level", with(&|h| h["members"][1]["student"] = json!({"level": "phd"})), "student.level"),
        ("future event", with(&|h| h["events"] = json!([{"kind": "fire", "date": "2026-01-01", "loss": "1"}])), "events[0].date"),
        ("many events", with(&|h| h["events"] = json!(vec![json!({"kind": "fire", "date": "2025-01-01", "loss": "1"}); 101])), "events: 101 entries"),
        ("vehicles not array", with(&|h| h["assets"] = json!({"vehicles": 3})), "assets.vehicles: expected an array"),
        ("homes negative", with(&|h| h["assets"] = json!({"homes": -1})), "assets.homes"),
        ("history bad date", with(&|h| h["history"] = json!({"subsistence_since": "yesterday"})), "history.subsistence_since"),
        ("empty members", with(&|h| h["members"] = json!([])), "at least one member"),
    ]
}

#[test]
fn at_least_40_malformed_households_are_refused_quickly_with_a_path() {
    let e = engine();
    let cases = malformed();
    assert!(cases.len() >= 40);
    for (name, text, expected) in cases {
        let start = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.evaluate_str(&text, &Options::default())));
        let took = start.elapsed();
        let err = match result {
            Ok(Err(err)) => err,
            Ok(Ok(_)) => panic!("{name}: evaluated, expected an error"),
            Err(_) => panic!("{name}: panicked"),
        };
        assert!(matches!(err, Error::Validation(_)), "{name}: {err:?}");
        assert!(err.to_string().contains(expected), "{name}: expected {expected:?} in {err}");
        assert!(took < Duration::from_secs(1), "{name}: took {took:?}");
    }
}

#[test]
fn invalid_utf8_is_refused_by_the_reader() {
    // the library takes &str; the doors decode first. The CLI's reader names the byte.
    let bytes = b"{\"id\": \"\xff\xfe\"}".to_vec();
    assert!(String::from_utf8(bytes).is_err());
}

fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb / 1024)
}

#[test]
fn hostile_rules_are_stopped_by_a_limit_within_memory() {
    let attacks = [
        ("infinite loop", "loop { }", "operations"),
        ("unbounded recursion", "fn f(x) { f(x + 1) } f(0)", "call depth"),
        ("exponential string", r#"let s = "ab"; loop { s += s; }"#, "size limit"),
        ("array growth", "let a = [1]; loop { a += a; }", "size limit"),
        ("array of arrays", "let a = []; let b = []; for i in 0..5000 { b.push(i); } loop { a.push(b); }", "limit"),
        ("map growth", r#"let m = #{}; let i = 0; loop { m[i.to_string()] = i; i += 1; }"#, "limit"),
        ("blob growth", "let b = blob(10); loop { b += b; }", "limit"),
        ("string repeat", r#"let s = "x"; s.pad(100000000, "y"); s"#, "limit"),
    ];
    for (name, script, words) in attacks {
        let engine = pack_with_script("student", script).unwrap();
        let start = Instant::now();
        let err = evaluate(&engine, &base_household()).expect_err(name);
        let took = start.elapsed();
        assert!(took < Duration::from_secs(2), "{name}: took {took:?}");
        let text = err.to_string();
        assert!(matches!(err, Error::Rule { ref program, .. } if program == "student"), "{name}: {err:?}");
        assert!(text.contains(words), "{name}: {text}");
    }
    if let Some(mb) = peak_rss_mb() {
        assert!(mb < 200, "peak RSS {mb} MB");
    }
}

#[test]
fn eval_and_import_are_refused() {
    for (script, words) in [(r#"eval("40 + 2")"#, "eval"), (r#"import "/etc/passwd" as p; 1"#, "")] {
        let msg = match pack_with_script("student", script) {
            Err(e) => e.to_string(),
            Ok(engine) => evaluate(&engine, &base_household()).unwrap_err().to_string(),
        };
        assert!(msg.contains("student") && msg.contains(words), "{script}: {msg}");
    }
}
