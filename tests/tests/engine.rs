//! The machinery: parameter resolution, the sandbox, determinism, extension by a pack,
//! and the audit trace.

mod common;
use common::*;
use jiuzhu_core::params::{region_chain, Overrides};
use jiuzhu_core::{parse_date, Engine, Error, Options, ParamStore, ParamValue};
use serde_json::json;
use std::time::{Duration, Instant};

const PARAMS: &str = r#"
[demo.standard]
source = "test file"
"000000" = [ { from = "2020-01-01", value = "100.00" } ]
"110000" = [ { from = "2023-09-01", value = "1395.00" }, { from = "2024-09-01", value = "1450.00", source = "notice 2024" } ]
"110100" = [ { from = "2025-01-01", value = "1500.00" } ]
"410100" = [ { from = "2024-07-01", urban = "760.00", rural = "610.00" } ]

[demo.months]
source = "test file"
"000000" = [ { from = "2020-01-01", value = 6 } ]

[demo.kinds]
source = "test file"
"000000" = [ { from = "2020-01-01", value = ["award", "special_care"] } ]
"#;

fn store() -> ParamStore {
    ParamStore::from_files([("parameters/demo.toml", PARAMS)]).unwrap()
}

fn resolve(region: &str, date: &str, area: jiuzhu_core::household::Area) -> Option<(ParamValue, String, Option<String>)> {
    store()
        .resolve("demo.standard", &region_chain(region), parse_date(date).unwrap(), area)
        .map(|r| (r.value, r.region, r.from.map(|d| d.to_string())))
}

#[test]
fn region_chain_goes_up_to_the_national_default() {
    assert_eq!(region_chain("110105"), ["110105", "110100", "110000", "000000"]);
    assert_eq!(region_chain("110100"), ["110100", "110000", "000000"]);
    assert_eq!(region_chain("110000"), ["110000", "000000"]);
    assert_eq!(region_chain("410102"), ["410102", "410100", "410000", "000000"]);
}

#[test]
fn resolution_takes_the_nearest_region_with_a_value_in_force() {
    use jiuzhu_core::household::Area::Urban;
    let d = |s: &str| ParamValue::Decimal(s.parse().unwrap());
    // 110105 has nothing itself; 110100 starts only in 2025, so 2024 falls through to 110000
    assert_eq!(resolve("110105", "2024-10-01", Urban), Some((d("1450.00"), "110000".into(), Some("2024-09-01".into()))));
    assert_eq!(resolve("110105", "2025-01-01", Urban), Some((d("1500.00"), "110100".into(), Some("2025-01-01".into()))));
    // latest `from` not after as_of, both sides of the boundary
    assert_eq!(resolve("110000", "2024-08-31", Urban).unwrap().0, d("1395.00"));
    assert_eq!(resolve("110000", "2024-09-01", Urban).unwrap().0, d("1450.00"));
    // before every regional value: the national default
    assert_eq!(resolve("110000", "2023-08-31", Urban), Some((d("100.00"), "000000".into(), Some("2020-01-01".into()))));
    // before every value at all: nothing
    assert_eq!(resolve("110000", "2019-12-31", Urban), None);
}

#[test]
fn area_split_values() {
    use jiuzhu_core::household::Area::*;
    assert_eq!(resolve("410102", "2025-01-01", Urban).unwrap().0, ParamValue::Decimal("760.00".parse().unwrap()));
    assert_eq!(resolve("410102", "2025-01-01", Rural).unwrap().0, ParamValue::Decimal("610.00".parse().unwrap()));
}

#[test]
fn value_kinds_and_sources() {
    use jiuzhu_core::household::Area::Urban;
    let s = store();
    let chain = region_chain("110000");
    let date = parse_date("2025-01-01").unwrap();
    assert_eq!(s.resolve("demo.months", &chain, date, Urban).unwrap().value, ParamValue::Integer(6));
    assert_eq!(
        s.resolve("demo.kinds", &chain, date, Urban).unwrap().value,
        ParamValue::List(vec!["award".into(), "special_care".into()])
    );
    assert_eq!(&*s.resolve("demo.standard", &chain, date, Urban).unwrap().source, "notice 2024");
    assert_eq!(&*s.resolve("demo.standard", &chain, parse_date("2024-01-01").unwrap(), Urban).unwrap().source, "test file");
}

#[test]
fn bad_parameter_files_are_reported_with_file_and_line() {
    let bad = "[x.y]\n\"000000\" = [ { from = \"2020-01-01\", value = 1.5 } ]\n";
    let problems = ParamStore::from_files([("parameters/bad.toml", bad)]).unwrap_err();
    assert_eq!(problems[0].file, "parameters/bad.toml");
    assert_eq!(problems[0].line, Some(1));
    assert!(problems[0].message.contains("floating-point"), "{}", problems[0].message);
    let no_source = "[x.y]\n\"000000\" = [ { from = \"2020-01-01\", value = \"1\" } ]\n";
    let problems = ParamStore::from_files([("parameters/bad.toml", no_source)]).unwrap_err();
    assert!(problems[0].message.contains("no source"), "{}", problems[0].message);
}

#[test]
fn an_unresolved_parameter_names_parameter_region_and_date() {
    let script = r#"let x = param("housing.rent_cap"); #{ status: "ineligible", amount: 0, period: "monthly", reasons: [reason("X")] }"#;
    let e = pack_with_script("employment", script).unwrap();
    let err = evaluate(&e, &base_household()).unwrap_err();
    assert!(matches!(err, Error::Parameter(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("housing.rent_cap") && text.contains("110000") && text.contains("2025-03-01"), "{text}");
}

#[test]
fn overrides_beat_files_and_regional_overrides_beat_global_ones() {
    let base = engine();
    let reform = base.with_parameters(["subsistence.standard=1500", "110000:subsistence.standard=1600"]).unwrap();
    let a = evaluate(&reform, &base_household()).unwrap();
    // one adult: 1500 - 300 = 1200 counted; n = 2; S = 1600 (regional override); base = 2 × 1600 - 1200 = 2000
    // + minor supplement 0.10 × 1600 = 160 → 2160.00
    assert_eq!(a.programs["subsistence"].amount.0.to_string(), "2160.00");
    let mut sh = base_household();
    sh["region"] = json!("310000");
    let a = evaluate(&reform, &sh).unwrap();
    // Shanghai gets the global override 1500: 3000 - 1200 + 150 = 1950.00
    assert_eq!(a.programs["subsistence"].amount.0.to_string(), "1950.00");
    let err = base.with_parameters(["no.such=1"]).unwrap_err();
    assert!(err.to_string().contains("no parameter `no.such`"));
    let err = base.with_parameters(["subsistence.standard=abc"]).unwrap_err();
    assert!(err.to_string().contains("not a valid decimal"));
    let mut o = Overrides::default();
    assert!(o.add_text(base.parameters(), "11:subsistence.standard=1").is_err());
}

#[test]
fn households_in_turn_each_get_their_own_place_day_and_parameters() {
    // A thread keeps the sessions of its last households (parameters resolved for a
    // place and day) for its next ones: engines, regions, areas, dates and traces taken
    // in turn must never lend one household's to another.
    let today = engine();
    let reform = today.with_parameters(["subsistence.standard=1500", "110000:subsistence.standard=1600"]).unwrap();
    // (region, area, as_of, S today, amount today, S reform, amount reform). One adult
    // counts 1500 - 300 = 1200; two people; amount = 2 × S - 1200 + 0.10 × S (the minor).
    let cases = [
        ("110105", "urban", "2025-03-01", "1450.00", "1845.00", "1600", "2160.00"),
        ("310000", "urban", "2025-03-01", "1510.00", "1971.00", "1500", "1950.00"),
        ("310000", "urban", "2025-08-01", "1550.00", "2055.00", "1500", "1950.00"),
        ("410102", "urban", "2025-03-01", "760.00", "396.00", "1500", "1950.00"),
        ("410102", "rural", "2025-03-01", "610.00", "81.00", "1500", "1950.00"),
    ];
    for round in 0..3 {
        for (i, (region, area, as_of, s_today, a_today, s_reform, a_reform)) in cases.iter().enumerate() {
            let mut h = base_household();
            h["region"] = json!(region);
            h["area"] = json!(area);
            h["as_of"] = json!(as_of);
            for (e, s, amount) in [(&today, s_today, a_today), (&reform, s_reform, a_reform)] {
                let trace = (round + i) % 2 == 0;
                let a = e.evaluate_str(&h.to_string(), &Options { trace, ..Options::default() }).unwrap();
                let what = format!("round {round}, {region} {area} {as_of}, S {s}");
                assert_eq!(a.programs["subsistence"].amount.0.to_string(), *amount, "{what}");
                let json: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
                if !trace {
                    assert!(json.get("trace").is_none(), "{what}");
                    continue;
                }
                let params: Vec<&serde_json::Value> = json["trace"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|t| t["kind"] == "parameter" && t["name"] == "subsistence.standard")
                    .collect();
                // Read once per evaluation, in every traced one.
                assert_eq!(params.len(), 1, "{what}");
                assert_eq!(params[0]["value"], **s, "{what}");
            }
        }
    }
}

fn assert_stopped(program: &str, script: &str, limit_words: &str) {
    let engine = pack_with_script(program, script).unwrap();
    let start = Instant::now();
    let err = evaluate(&engine, &base_household()).unwrap_err();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}");
    match &err {
        Error::Rule { program: p, message, .. } => {
            assert_eq!(p, program);
            assert!(message.contains(limit_words), "{message}");
        }
        other => panic!("expected a rule error, got {other:?}"),
    }
}

#[test]
fn sandbox_stops_an_infinite_loop() {
    assert_stopped("temporary", "loop { }", "operations limit");
}

#[test]
fn sandbox_stops_runaway_recursion() {
    assert_stopped("medical", "fn f(x) { f(x + 1) } f(0)", "call depth");
}

#[test]
fn sandbox_stops_string_growth() {
    assert_stopped("student", r#"let s = "xx"; loop { s += s; }"#, "size limit");
}

#[test]
fn sandbox_stops_array_growth() {
    assert_stopped("employment", "let a = []; loop { a.push(1); }", "size limit");
    assert_stopped("employment", "let a = [1, 2, 3, 4]; loop { a += a; }", "size limit");
}

#[test]
fn sandbox_stops_map_growth() {
    assert_stopped("employment", r#"let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; }"#, "limit");
}

#[test]
fn sandbox_has_no_eval_no_imports_and_no_clock() {
    for (script, words) in [
        (r#"eval("1")"#, "eval"),
        (r#"import "os" as os; 1"#, ""),
        ("timestamp()", "timestamp"),
    ] {
        let files = pack_with(&[("programs/student.rhai", script)]);
        let err = match Engine::from_files(files) {
            Err(e) => e.to_string(),
            Ok(e) => evaluate(&e, &base_household()).unwrap_err().to_string(),
        };
        assert!(err.contains("student") && err.contains(words), "{script}: {err}");
    }
}

#[test]
fn deep_expression_nesting_is_refused_at_load() {
    let script = format!("{}1{}", "(".repeat(500), ")".repeat(500));
    let err = pack_with_script("student", &script).unwrap_err().to_string();
    assert!(err.contains("programs/student.rhai:1"), "{err}");
}

#[test]
fn compile_errors_name_file_and_line() {
    let err = pack_with_script("temporary", "let a = 1;\nlet b = ;\n").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("programs/temporary.rhai:2"), "{text}");
    let err = pack_with_script("temporary", "let a = 1;\nundefined_thing + 1\n").unwrap_err();
    assert!(err.to_string().contains("programs/temporary.rhai:2"), "{err}");
}

#[test]
fn a_bad_result_is_a_rule_error_naming_the_program() {
    let e = pack_with_script("student", r#"#{ status: "maybe", amount: 0, period: "annual", reasons: [reason("X")] }"#).unwrap();
    let err = evaluate(&e, &base_household()).unwrap_err().to_string();
    assert!(err.contains("`student`") && err.contains("\"maybe\""), "{err}");
    let e = pack_with_script("student", r#"#{ status: "eligible", amount: 0, period: "annual", reasons: [] }"#).unwrap();
    let err = evaluate(&e, &base_household()).unwrap_err().to_string();
    assert!(err.contains("at least one reason"), "{err}");
}

#[test]
fn same_input_gives_identical_bytes() {
    let h = base_household().to_string();
    let opts = Options { trace: true, ..Options::default() };
    let one = engine().evaluate_str(&h, &opts).unwrap().to_json();
    let two = engine().evaluate_str(&h, &opts).unwrap().to_json();
    assert_eq!(one, two);
    for f in ["household", "tekun", "students", "temporary-review"] {
        let text = std::fs::read_to_string(format!("{}/../examples/{f}.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let e = engine();
        let first = e.evaluate_str(&text, &opts).unwrap().to_json();
        for _ in 0..3 {
            assert_eq!(e.evaluate_str(&text, &opts).unwrap().to_json(), first);
        }
    }
}

#[test]
fn the_digest_covers_rules_and_parameters() {
    let base = engine().pack_info().digest.clone();
    assert!(base.starts_with("sha256:") && base.len() == 7 + 64);
    let changed = Engine::from_files(pack_with(&[("programs/student.rhai", "// a comment\n#{ status: \"ineligible\", amount: 0, period: \"annual\", reasons: [reason(\"STU_NO_STUDENT\")] }")])).unwrap();
    assert_ne!(changed.pack_info().digest, base);
    assert_eq!(engine().pack_info().digest, base);
}

#[test]
fn a_sixth_program_is_one_script_and_one_line() {
    let mut files = pack_with(&[(
        "programs/housing.rhai",
        r#"
        // 住房救助: a flat rent subsidy for dibao households (a test program)
        let sub = results.subsistence;
        if sub.category == "dibao" && sub.status == "eligible" {
            #{ status: "eligible", amount: param("housing.rent_subsidy") * household.size, period: "monthly",
               reasons: [reason("HOUSING_RENT", #{ size: household.size })] }
        } else {
            #{ status: "ineligible", amount: 0, period: "monthly", reasons: [reason("HOUSING_NONE")] }
        }
        "#,
    ), (
        "parameters/housing.toml",
        "[housing.rent_subsidy]\nsource = \"test\"\n\"000000\" = [ { from = \"2020-01-01\", value = \"100.00\" } ]\n",
    )]);
    let manifest = files.files["pack.toml"].clone();
    let line = "  { id = \"housing\", depends_on = [\"subsistence\"] },\n";
    let pos = manifest.find("programs = [").expect("pack.toml lists programs inline") ;
    let insert_at = pos + manifest[pos..].find('\n').unwrap() + 1;
    let patched = format!("{}{}{}", &manifest[..insert_at], line, &manifest[insert_at..]);
    files.files.insert("pack.toml".into(), patched);
    let e = Engine::from_files(files).unwrap();
    assert!(e.program_ids().contains(&"housing"));
    let a = evaluate(&e, &base_household()).unwrap();
    let housing = &a.programs["housing"];
    // the base household is dibao (p = 1200 / 2 = 600 < 1450): 2 × 100.00
    assert_eq!(housing.status, "eligible");
    assert_eq!(housing.amount.0.to_string(), "200.00");
    assert_eq!(housing.reasons[0].code, "HOUSING_RENT");
    // totals include it: subsistence 2 × 1450 − 1200 + 145 = 1845.00, plus 200.00
    assert_eq!(a.totals.monthly.0.to_string(), "2045.00");
}

#[test]
fn trace_records_parameters_and_results_only_when_asked() {
    let e = engine();
    let h = base_household().to_string();
    let plain = e.evaluate_str(&h, &Options::default()).unwrap();
    assert!(plain.trace.is_none());
    assert!(!plain.to_json().contains("\"trace\""));
    let traced = e.evaluate_str(&h, &Options { trace: true, ..Options::default() }).unwrap();
    let json: serde_json::Value = serde_json::from_str(&traced.to_json()).unwrap();
    let trace = json["trace"].as_array().unwrap();
    let standard = trace
        .iter()
        .find(|t| t["kind"] == "parameter" && t["name"] == "subsistence.standard")
        .expect("the standard is traced");
    assert_eq!(standard["region"], "110000");
    assert_eq!(standard["value"], "1450.00");
    assert_eq!(standard["from"], "2024-09-01");
    assert!(standard["source"].as_str().unwrap().len() > 3);
    let results: Vec<&str> = trace.iter().filter(|t| t["kind"] == "result").map(|t| t["program"].as_str().unwrap()).collect();
    assert_eq!(results, ["subsistence", "temporary", "medical", "student", "employment"]);
    assert!(trace.iter().any(|t| t["kind"] == "parameter" && t["name"] == "income.work_cost_deduction"));
}

#[test]
fn english_messages_and_unknown_language() {
    let e = engine();
    let h = base_household().to_string();
    let en = e.evaluate_str(&h, &Options { lang: Some("en".into()), ..Options::default() }).unwrap();
    let zh = e.evaluate_str(&h, &Options::default()).unwrap();
    let (m_en, m_zh) = (&en.programs["subsistence"].reasons[0], &zh.programs["subsistence"].reasons[0]);
    assert_eq!(m_en.code, m_zh.code);
    let (m_en, m_zh) = (m_en.message.as_deref().unwrap(), m_zh.message.as_deref().unwrap());
    assert!(!m_en.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{m_en}");
    assert!(!m_zh.is_ascii());
    let (r_en, r_zh) = (&en.programs["subsistence"].reasons[0], &zh.programs["subsistence"].reasons[0]);
    assert!(!r_zh.basis.is_empty() && !r_en.basis.is_empty());
    let err = e.evaluate_str(&h, &Options { lang: Some("fr".into()), ..Options::default() }).unwrap_err();
    assert!(err.to_string().contains("\"fr\""));
}

#[test]
fn caller_date_overrides_the_household_and_fills_a_missing_one() {
    let e = engine();
    let mut h = base_household();
    let d = |s: &str| Some(parse_date(s).unwrap());
    let a = e.evaluate_str(&h.to_string(), &Options { as_of: d("2024-08-31"), ..Options::default() }).unwrap();
    assert_eq!(a.as_of, "2024-08-31");
    h.as_object_mut().unwrap().remove("as_of");
    let a = e.evaluate_str(&h.to_string(), &Options { default_as_of: d("2023-10-01"), ..Options::default() }).unwrap();
    assert_eq!(a.as_of, "2023-10-01");
}

#[test]
fn overrides_read_back_as_texts_that_rebuild_them() {
    let e = engine();
    let reform = e.with_parameters(["subsistence.standard=1500", "110000:medical.annual_cap=80000"]).unwrap();
    let texts = reform.overrides().to_texts();
    assert_eq!(texts, ["subsistence.standard=1500", "110000:medical.annual_cap=80000"]);
    let rebuilt = e.with_parameters(texts.iter().map(String::as_str)).unwrap();
    assert_eq!(rebuilt.overrides(), reform.overrides());
}

/// `Assessment::to_json` is written by hand for speed; it must give exactly serde's bytes
/// for the derived `Serialize`: on synthetic households in both languages, with the trace,
/// and on an assessment whose every text needs escaping.
#[test]
fn hand_written_json_is_serde_json_byte_for_byte() {
    let engine = engine();
    let date = parse_date("2025-03-01").unwrap();
    let households: Vec<String> = jiuzhu_core::synth::synth(&engine, 300, 5, None, date).unwrap().collect();
    for (i, h) in households.iter().enumerate() {
        let opts = Options { lang: Some(if i % 2 == 0 { "zh" } else { "en" }.into()), trace: i % 3 == 0, messages: i % 4 != 1, ..Options::default() };
        let a = engine.evaluate_str(h, &opts).unwrap();
        assert_eq!(a.to_json(), serde_json::to_string(&a).unwrap());
    }
    let mut a = engine.evaluate_str(&households[0], &Options::default()).unwrap();
    let odd = "q\"b\\s/\u{0}\u{1f}\t\n\r\u{8}\u{c}\u{7f} 中文 😀 12345678\"";
    a.household_id = odd.into();
    a.region = odd.repeat(3);
    a.rule_pack.digest = String::new();
    for p in a.programs.values_mut() {
        p.category = Some(odd.into());
        p.members.insert(odd.into(), json!({"x": [1, -2.5, odd, null, true, {}], odd: 12345678901234567890u64}));
        p.details.insert(odd.into(), json!([[], {"k": false}]));
        for (i, r) in p.reasons.iter_mut().enumerate() {
            // one without its message (as with `messages: false`), the others longer
            if i == 1 {
                r.message = None;
            } else if let Some(m) = &mut r.message {
                m.push_str(odd);
            }
            r.basis = odd.into();
            r.values.insert(odd.into(), json!(odd));
        }
    }
    let members = a.derived.members.clone();
    for (id, m) in members {
        a.derived.members.insert(format!("{id}{odd}"), m);
    }
    assert_eq!(a.to_json(), serde_json::to_string(&a).unwrap());
}

/// `batch` and `Engine::evaluate_json` write the assessment as they render it, without
/// building it: the same bytes as `evaluate_str(..).to_json()`, on synthetic households
/// (both languages, with and without trace) and on a script whose result has every odd
/// shape (unknown member ids, nested values, texts to escape, a code without a message).
#[test]
fn assessment_written_while_rendered_is_the_built_one() {
    let engine = engine();
    let date = parse_date("2025-03-01").unwrap();
    let households: Vec<String> = jiuzhu_core::synth::synth(&engine, 400, 17, None, date).unwrap().collect();
    for (i, h) in households.iter().enumerate() {
        let opts = Options { lang: Some(if i % 2 == 0 { "zh" } else { "en" }.into()), trace: i % 5 == 0, messages: i % 3 != 2, ..Options::default() };
        let built = engine.evaluate_str(h, &opts).unwrap().to_json();
        assert_eq!(engine.evaluate_json(h.as_str(), &opts).unwrap(), built);
        let value: serde_json::Value = serde_json::from_str(h).unwrap();
        assert_eq!(engine.evaluate_json(&value, &opts).unwrap(), built);
    }
    let script = r#"
        let ids = [];
        for m in household.members { ids.push(m.id); }
        let odd = "q\"b\\s\t\n 中文";
        #{
            status: "review", amount: 12.345, period: "monthly", category: odd,
            reasons: [
                reason("EMP_NO_CANDIDATE", #{ text: odd, n: -7, d: 1.005, u: (), list: [1, 2.5, odd, [true, false]], nested: #{ z: 1, a: #{} } }),
                reason("NOT_IN_THE_CATALOG", #{ x: 1 }),
            ],
            members: #{ zz: #{ amount: 1.5 }, m1: #{ amount: 2, note: odd }, aa: [odd] },
            details: #{ ids: ids, odd: odd, none: () },
        }
    "#;
    let engine = pack_with_script("employment", script).unwrap();
    for h in households.iter().take(50) {
        for (lang, messages) in [("zh", true), ("en", true), ("zh", false)] {
            let opts = Options { lang: Some(lang.into()), messages, ..Options::default() };
            let built = engine.evaluate_str(h, &opts).unwrap().to_json();
            assert!(built.contains("NOT_IN_THE_CATALOG"), "{built}");
            assert_eq!(built.contains("\"message\""), messages, "{built}");
            assert_eq!(engine.evaluate_json(h.as_str(), &opts).unwrap(), built);
        }
    }
    // Errors are the same too, and nothing is written.
    let mut out = b"kept".to_vec();
    let bad = engine.evaluate_json_into("{\"id\": 5}", &Options::default(), &mut out).unwrap_err();
    assert_eq!(bad.to_string(), engine.evaluate_str("{\"id\": 5}", &Options::default()).unwrap_err().to_string());
    assert_eq!(out, b"kept");
}

/// `messages: false` leaves out each reason's `message` and nothing else: the same
/// assessment as with messages, less that one key, in both languages and both writers.
#[test]
fn without_messages_only_the_message_is_left_out() {
    let engine = engine();
    let date = parse_date("2025-03-01").unwrap();
    let households: Vec<String> = jiuzhu_core::synth::synth(&engine, 200, 23, None, date).unwrap().collect();
    let mut reasons = 0;
    for (i, h) in households.iter().enumerate() {
        let lang = if i % 2 == 0 { "zh" } else { "en" };
        let with = Options { lang: Some(lang.into()), trace: i % 7 == 0, ..Options::default() };
        let without = Options { messages: false, ..with.clone() };
        let full = engine.evaluate_str(h, &with).unwrap();
        let bare = engine.evaluate_str(h, &without).unwrap();
        // the JSON written while rendering is the built one's
        let written = engine.evaluate_json(h.as_str(), &without).unwrap();
        assert_eq!(written, bare.to_json());
        assert!(!written.contains("\"message\""), "{written}");
        let mut expected = full.clone();
        for p in expected.programs.values_mut() {
            for r in &mut p.reasons {
                assert!(r.message.as_deref().is_some_and(|m| !m.is_empty()));
                r.message = None;
                reasons += 1;
            }
        }
        assert_eq!(bare, expected);
        // each reason keeps code, basis and values (their order is the built one's, above)
        let v: serde_json::Value = serde_json::from_str(&written).unwrap();
        for p in v["programs"].as_object().unwrap().values() {
            for r in p["reasons"].as_array().unwrap() {
                let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
                assert_eq!(keys, ["basis", "code", "values"]);
                assert!(!r["basis"].as_str().unwrap().is_empty());
            }
        }
    }
    assert!(reasons > 500, "{reasons}");
    // the default writes them
    assert!(Options::default().messages);
}
