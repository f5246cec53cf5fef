//! The compiled evaluator against the Rhai interpreter: the same households, the same
//! bytes out (assessments, traces, errors). The interpreter is the reference.

mod common;

use common::*;
use jiuzhu_core::{parse_date, Engine, Options};

/// Both ways; the assessment JSON or the error text.
fn both(engine: &Engine, text: &str, opts: &Options) -> (String, String) {
    let run = |e: &Engine| match e.evaluate_str(text, opts) {
        Ok(a) => a.to_json(),
        Err(err) => format!("error: {err}"),
    };
    (run(engine), run(&engine.interpreted()))
}

fn options() -> Vec<Options> {
    vec![
        Options::default(),
        Options { trace: true, ..Options::default() },
        Options { lang: Some("en".into()), ..Options::default() },
        // dates where some parameters are not in force yet (errors must agree too)
        Options { as_of: parse_date("2023-09-01"), trace: true, ..Options::default() },
    ]
}

#[test]
fn every_program_of_the_default_pack_is_compiled() {
    assert_eq!(engine().interpreted_programs(), Vec::<(&str, &str)>::new());
}

#[test]
fn synthetic_population_gives_identical_bytes() {
    let engine = engine();
    let mut compared = 0;
    for (seed, as_of) in [(1u64, "2025-03-01"), (7, "2024-06-30"), (42, "2025-03-01")] {
        let households = jiuzhu_core::synth::synth(&engine, 700, seed, None, parse_date(as_of).unwrap()).unwrap();
        for (i, h) in households.enumerate() {
            let opts = &options()[i % 4];
            let (fast, slow) = both(&engine, &h, opts);
            assert_eq!(fast, slow, "seed {seed}, household {i}, options {opts:?}");
            // and the compiled evaluator did it alone, without falling back to Rhai
            // (except where both ways end in the same parameter error)
            if !fast.starts_with("error:") {
                let strict = engine.compiled_strict().evaluate_str(&h, opts).unwrap().to_json();
                assert_eq!(strict, fast);
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 2100);
}

#[test]
fn conformance_corpus_and_examples_give_identical_bytes() {
    let engine = engine();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/conformance/households.jsonl");
    let mut texts: Vec<String> = std::fs::read_to_string(dir).unwrap().lines().map(str::to_string).collect();
    for f in ["household", "tekun", "students", "temporary-review"] {
        texts.push(std::fs::read_to_string(format!("{}/../examples/{f}.json", env!("CARGO_MANIFEST_DIR"))).unwrap());
    }
    assert!(texts.len() >= 48);
    for (i, h) in texts.iter().enumerate() {
        for opts in options() {
            let (fast, slow) = both(&engine, h, &opts);
            assert_eq!(fast, slow, "household {i}, options {opts:?}");
        }
    }
}

/// A student script computing `expr` into `details.v` (and `details.w` for a second
/// value), so each snippet's value shows in the output.
fn snippet(body: &str) -> String {
    format!(
        r#"{body}
#{{ status: "ineligible", amount: 0, period: "annual", reasons: [reason("STU_NO_STUDENT")], details: #{{ v: v }} }}"#
    )
}

#[test]
fn language_snippets_agree_with_the_interpreter() {
    let cases = [
        // numbers: integer division, decimals and integers mixed, scale kept
        "let v = [7 / 2, 7 % 3, -7 / 2, 1.5 * 2, 2 * 1.50, 10 / 4.0, 3 - 0.25, 0.1 + 0.2];",
        "let v = [max(1, 2), max(1.0, 2), max(2, 1.00), min(0.0, -1), min(3, 3.0), max(0.0, 0)];",
        "let v = [round2(1.005), round2(-1.005), round2(2), round2(1 / 3.0)];",
        // comparisons across types: never equal, never ordered, no error
        r#"let v = [() == (), () != (), 1 == 1.0, 2 > 1.5, "a" < "b", "a" == 1, () < 1, true > false, [1] != ()];"#,
        // strings
        r#"let v = "medical.ratio." + "dibao"; v += "!"; v = [v, () + "x", "x" + (), "abc".len(), "甲乙".len()];"#,
        // in: arrays, maps, strings
        r#"let v = ["a" in ["a", "b"], 1 in [1.0], "k" in #{k: 1}, "z" in #{k: 1}, "bc" in "abc", 2 in [1, "2"]];"#,
        // maps: index and property writes insert, reads of a copy do not write through
        r#"let m = #{b: 1}; let c = m; m.a = 2; m["c"] = 3; c.b = 9; let v = [m, c, m.len()];"#,
        // arrays: push, +=, copies are independent
        "let a = [1]; let b = a; a.push(2); a += [3, 4]; b += b; let v = [a, b, a.len()];",
        // the household is read, never written through
        "let ms = household.members; ms[0].age = 5; let v = [ms[0].age, household.members[0].age != 5];",
        // loops, continue, break, counters, shadowing, blocks, if as a value
        "let v = []; for (x, i) in [5, 6, 7, 8] { if x == 6 { continue; } if i == 3 { break; } v.push(x * i); } let x = 1; { let x = 2; v.push(x); } v.push(x); v.push(if x > 0 { \"pos\" } else { \"neg\" });",
        "let v = 0; let i = 0; while i < 10 { i += 1; v += i; } let j = 0; loop { j += 1; if j > 3 { break; } } v = [v, j];",
        // ?? and switch-free coalescing; results of dependencies
        "let v = [() ?? 3, 4 ?? 5, results.subsistence.category, results.subsistence.amount, results.subsistence.details.assets_ok];",
        // parameters: decimals, integers, lists; dates
        r#"let v = [param("subsistence.standard"), param("subsistence.refusal_limit"), param("income.excluded_kinds"), months_before(household.as_of, 6), days_before(household.as_of, 1)];"#,
        "let v = step(\"a figure\", 1.5); v = [v];",
        // errors: overflow, division by zero, type errors, missing property, bad index
        "let v = 9223372036854775807 + 1;",
        "let v = 1 / 0;",
        "let v = 1.0 / 0;",
        "let v = 79228162514264337593543950335.0 * 10;",
        r#"let v = 1 + "a";"#,
        "let v = household.no_such_field;",
        "let v = household.members[99];",
        "let v = !1;",
        "let c = 1; let v = if c { 2 } else { 3 };",
        r#"let v = param("no.such.parameter");"#,
        r#"let v = param(1);"#,
        "let v = [1] == [1];",
        "const C = [1]; C.push(2); let v = C;",
        "household.size = 3; let v = 1;",
        // data-size limits reached only through shared data (the same array pushed many
        // times): the compiled run gives up, Rhai decides (error, or fine under the limit)
        "let b = []; let i = 0; while i < 600 { b.push(i); i += 1; } let a = []; let j = 0; while j < 40 { a.push(b); j += 1; } let v = a.len();",
        "let b = []; let i = 0; while i < 600 { b.push(i); i += 1; } let a = []; let j = 0; while j < 10 { a.push(b); j += 1; } let v = a.len();",
        r#"let s = "abcdefghij"; let i = 0; while i < 13 { s += s; i += 1; } let v = s.len();"#,
        // map literals: keys out of order, values evaluated in the source's order (the
        // trace shows it), shared and in-place texts; an entry that fails after others
        // were made (the compiled run gives up cleanly, Rhai gives the error)
        r#"let v = #{ z: step("first", 1), a: step("second", 2), m: [household.members[0].id, "a text longer than fifteen bytes"] };"#,
        r#"let t = "a text longer than fifteen bytes"; let m = [t, t]; let v = #{ z: m, y: t, a: 1 / 0 };"#,
        r#"let m = [1, 2]; let v = #{ z: m, b: #{ k: m }, a: m.len() + "x" };"#,
        // a program that ends early, and blocks whose value is their last statement's
        r#"let v = { let a = 2; if a > 1 { a * 10 } else { 0 } }; if v == 20 { return #{ status: "ineligible", amount: 0, period: "annual", reasons: [reason("STU_NO_STUDENT")], details: #{ v: "returned", w: v } }; }"#,
        r#"let v = 0; for x in [1, 2, 3] { if x == 2 { return #{ status: "review", amount: 0, period: "annual", reasons: [reason("STU_NO_STUDENT")], details: #{ v: x } }; } v += x; }"#,
        // constructs outside the compiled subset run interpreted
        "fn double(x) { x * 2 } let v = double(21);",
        r#"let v = switch 2 { 1 => "one", 2 => "two", _ => "many" };"#,
        r#"let v = `size ${household.size}`;"#,
        "let v = [1, 2, 3].map(|x| x * 2);",
        "let v = 'c';",
        "let v = 0; for i in 0..5 { v += i; }",
        "let v = #{}; for i in 0..3000 { v[`k${i}`] = i; }",
    ];
    for body in cases {
        let script = snippet(body);
        let engine = pack_with_script("student", &script).unwrap_or_else(|e| panic!("{body}: {e}"));
        for h in [base_household().to_string(), std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/students.json")).unwrap()] {
            let (fast, slow) = both(&engine, &h, &Options { trace: true, ..Options::default() });
            assert_eq!(fast, slow, "snippet: {body}");
        }
    }
}

/// A script whose result is the value of its last `if` (a statement, not an expression):
/// the branch taken gives the program's value, as Rhai gives it.
#[test]
fn a_script_ending_in_an_if_gives_the_value_of_the_branch_taken() {
    let result = |v: &str| format!(r#"#{{ status: "ineligible", amount: 0, period: "annual", reasons: [reason("STU_NO_STUDENT")], details: #{{ v: "{v}" }} }}"#);
    let script = format!("let n = household.members.len();\nif n > 1 {{ {} }} else {{ {} }}", result("many"), result("one"));
    let engine = pack_with_script("student", &script).unwrap();
    assert_eq!(engine.interpreted_programs(), Vec::<(&str, &str)>::new(), "compiled");
    let mut single = base_household();
    single["members"].as_array_mut().unwrap().truncate(1);
    for (h, want) in [(base_household().to_string(), "many"), (single.to_string(), "one")] {
        let (fast, slow) = both(&engine, &h, &Options::default());
        assert_eq!(fast, slow);
        let strict = engine.compiled_strict().evaluate_str(&h, &Options::default()).unwrap().to_json();
        assert_eq!(strict, slow, "the compiled evaluator alone");
        let a: serde_json::Value = serde_json::from_str(&fast).unwrap();
        assert_eq!(a["programs"]["student"]["details"]["v"], want, "{fast}");
    }
}

/// A variable read once in the script's final map is moved into the result, never when
/// it is read again (directly, or inside a block of that expression that runs after the
/// move): the compiled evaluator alone gives Rhai's answer.
#[test]
fn the_final_map_moves_a_variable_only_at_its_last_read() {
    let result = |details: &str| {
        format!(
            r#"let r = [1, 2]; let t = "a text longer than fifteen bytes"; let n = household.members.len();
#{{ status: "ineligible", amount: 0, period: "annual", reasons: [reason("STU_NO_STUDENT")], details: {details} }}"#
        )
    };
    let cases = [
        ("#{ v: r, w: t }", serde_json::json!({ "v": [1, 2], "w": "a text longer than fifteen bytes" })),
        ("#{ v: r, w: r }", serde_json::json!({ "v": [1, 2], "w": [1, 2] })),
        ("#{ v: r, w: if n > 0 { r.len() } else { 0 } }", serde_json::json!({ "v": [1, 2], "w": 2 })),
        ("#{ v: [r, t], w: { let x = 0; for i in r { x += i; } x } }", serde_json::json!({ "v": [[1, 2], "a text longer than fifteen bytes"], "w": 3 })),
        ("#{ v: t, w: [r, n] }", serde_json::json!({ "v": "a text longer than fifteen bytes", "w": [[1, 2], 2] })),
    ];
    for (details, want) in cases {
        let engine = pack_with_script("student", &result(details)).unwrap();
        let h = base_household().to_string();
        let (fast, slow) = both(&engine, &h, &Options::default());
        assert_eq!(fast, slow, "{details}");
        let strict = engine.compiled_strict().evaluate_str(&h, &Options::default()).unwrap_or_else(|e| panic!("{details}: {e}")).to_json();
        assert_eq!(strict, slow, "{details}: the compiled evaluator alone");
        let a: serde_json::Value = serde_json::from_str(&fast).unwrap();
        assert_eq!(a["programs"]["student"]["details"], want, "{details}");
    }
}

/// `return` from inside a loop and an `if`, compiled (not handed to Rhai).
#[test]
fn a_return_inside_a_loop_ends_the_program_with_its_value() {
    let script = r#"let total = 0;
for m in household.members {
    if m.id == "m2" {
        return #{ status: "review", amount: 0, period: "annual", reasons: [reason("STU_NO_STUDENT")], details: #{ v: m.id, w: total } };
    }
    total += 1;
}
#{ status: "ineligible", amount: 0, period: "annual", reasons: [reason("STU_NO_STUDENT")], details: #{ v: "none", w: total } }"#;
    let engine = pack_with_script("student", script).unwrap();
    let mut single = base_household();
    single["members"].as_array_mut().unwrap().truncate(1);
    for (h, want) in [(base_household().to_string(), ("m2", 1)), (single.to_string(), ("none", 1))] {
        let (fast, slow) = both(&engine, &h, &Options::default());
        assert_eq!(fast, slow);
        let strict = engine.compiled_strict().evaluate_str(&h, &Options::default()).unwrap().to_json();
        assert_eq!(strict, slow, "the compiled evaluator alone");
        let a: serde_json::Value = serde_json::from_str(&fast).unwrap();
        assert_eq!(a["programs"]["student"]["details"]["v"], want.0, "{fast}");
        assert_eq!(a["programs"]["student"]["details"]["w"], want.1, "{fast}");
    }
}

#[test]
fn snippets_outside_the_subset_are_named() {
    let engine = pack_with_script("student", &snippet("fn double(x) { x * 2 } let v = double(21);")).unwrap();
    let interpreted = engine.interpreted_programs();
    assert_eq!(interpreted.len(), 1);
    assert_eq!(interpreted[0].0, "student");
    assert!(interpreted[0].1.contains("functions"), "{interpreted:?}");
}

#[test]
fn every_rule_pack_case_passes_both_ways() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../rules"));
    let engine = Engine::from_dir(dir).unwrap();
    for (how, e) in [("interpreted", engine.interpreted()), ("compiled only", engine.compiled_strict())] {
        let report = jiuzhu_core::testing::run_pack_tests(&e, dir);
        assert_eq!(report.failed(), 0, "{how}");
        assert_eq!(report.passed(), 213, "{how}");
    }
}
